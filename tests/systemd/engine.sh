# shellcheck shell=bash
# A real Docker-compatible engine for the systemd suite's docker check, sourced by
# scripts/systemd-check.sh: podman's API service on the host, with its own configuration and
# storage under one directory, and one container labelled com.docker.compose.project=fod-systemd
# from a busybox image built locally (no registry is reachable). The socket's directory is
# bound into the container, where the socket belongs to the container's docker group: what is
# checked is that failoverd@.service reaches it through that group, as on a Docker host.
#
# engine_start DIR GID   start it; the socket is DIR/sock/docker.sock, group GID, mode 0660
# engine_stop            remove the container, stop the service, unmount and remove DIR
#
# Why each podman setting: crun 1.8.1 refuses a hybrid cgroup layout (so runc); podman asks for
# 1048576 open files and raising a hard limit may not be permitted; the host's PID 1 may not be
# systemd (so cgroupfs and a file events log); the container needs no network.

engine_dir=
engine_pid=
# Podman may make these host-wide directories whatever its configuration says; the ones it
# made are removed again.
engine_host_dirs=(/run/containers /var/lib/containers)
engine_made=()

engine_podman() {
  CONTAINERS_CONF="$engine_dir/containers.conf" CONTAINERS_STORAGE_CONF="$engine_dir/storage.conf" \
    podman "$@"
}

engine_start() {
  engine_dir=$1
  local gid=$2 d=$1 a h
  engine_made=()
  for h in "${engine_host_dirs[@]}"; do [[ -e $h ]] || engine_made+=("$h"); done
  mkdir -p "$d/sock" "$d/rootfs/bin" "$d/rootfs/etc"
  cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
static_dir = "$d/static"
volume_path = "$d/volumes"
[network]
network_config_dir = "$d/networks"
EOF
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n' "$d" "$d" \
    >"$d/storage.conf"
  # busybox with a link per applet and a minimal /etc, imported as an image (about 2 MB).
  cp /bin/busybox "$d/rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do
    [[ $a == busybox ]] || ln -s busybox "$d/rootfs/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$d/rootfs/etc/passwd"
  echo 'root:x:0:' >"$d/rootfs/etc/group"
  if ! tar -C "$d/rootfs" -cf "$d/rootfs.tar" . ||
    ! engine_podman import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$d/rootfs.tar" \
      localhost/fod-systemd-busybox >"$d/import.log" 2>&1; then
    echo "systemd-check: podman import failed:" >&2
    tail -5 "$d/import.log" >&2
    return 1
  fi
  # Through env, not the function: $! must be podman itself, for engine_stop to end it.
  env CONTAINERS_CONF="$d/containers.conf" CONTAINERS_STORAGE_CONF="$d/storage.conf" \
    podman system service --time=0 "unix://$d/sock/docker.sock" >"$d/service.log" 2>&1 &
  engine_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -S $d/sock/docker.sock ]] && break
    kill -0 "$engine_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -S $d/sock/docker.sock ]]; then
    echo "systemd-check: podman system service did not make $d/sock/docker.sock:" >&2
    tail -5 "$d/service.log" >&2
    return 1
  fi
  # Docker's own layout: root:docker 0660, in a directory everyone may pass through.
  chgrp "$gid" "$d/sock/docker.sock"
  chmod 0660 "$d/sock/docker.sock"
  chmod 0755 "$d/sock"
  # --init: without it, sleep as PID 1 ignores SIGTERM and removal waits its grace period.
  engine_podman run -d --init --name fod-systemd-c1 --label com.docker.compose.project=fod-systemd \
    localhost/fod-systemd-busybox sleep 100000 >"$d/run.log" 2>&1 || {
    echo "systemd-check: podman run failed:" >&2
    tail -5 "$d/run.log" >&2
    return 1
  }
}

engine_stop() {
  [[ -n $engine_dir ]] || return 0
  engine_podman rm -f -a -t 0 >/dev/null 2>&1 || true
  if [[ -n $engine_pid ]]; then
    kill -TERM "$engine_pid" 2>/dev/null || true
    wait "$engine_pid" 2>/dev/null || true
    engine_pid=
  fi
  # Whatever podman left mounted below its directory (overlay layers, shm), deepest first.
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$engine_dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$engine_dir"
  engine_dir=
  local h
  for h in "${engine_made[@]}"; do rm -rf --one-file-system "$h"; done
  engine_made=()
}

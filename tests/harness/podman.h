// A real Docker-compatible engine for tests: podman's API service on a private socket, with
// private configuration and storage under a temporary directory, and a tiny busybox image
// built locally (no registry is reachable). write_config() in podman.cpp says why each setting
// is there.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/harness.h"

namespace failoverd::e2e {

// One podman engine: the constructor writes the private configuration, imports the image and
// starts `podman system service` on socket_path(), returning once /_ping answers; it throws
// std::runtime_error (after cleaning up) when any step fails. The destructor removes every
// container, stops the service, ends podman's stragglers (conmon, cleanup) by pid, unmounts
// what podman left mounted, removes the directory and the host directories podman created.
//
// The podman CLI finds the private configuration through CONTAINERS_CONF and
// CONTAINERS_STORAGE_CONF, which this class sets in the process environment for its lifetime:
// at most one PodmanEngine may exist at a time. Daemons started meanwhile inherit them too,
// which is harmless (they only talk to socket_path()).
class PodmanEngine {
 public:
  // Why the engine cannot run here (not root, podman/runc/busybox missing), or nullopt.
  // For GTEST_SKIP().
  static std::optional<std::string> unavailable_reason();
  // The local image every container runs.
  static const char* image() { return "localhost/fod-health-busybox"; }

  PodmanEngine();
  ~PodmanEngine();
  PodmanEngine(const PodmanEngine&) = delete;
  PodmanEngine& operator=(const PodmanEngine&) = delete;

  // The Engine API socket (a filesystem path: usable from any network namespace).
  const std::string& socket_path() const { return socket_; }
  // The private directory (configuration, storage, service.log).
  const std::filesystem::path& dir() const { return dir_; }

  // `podman ARGS...` with the private configuration; bounded by `timeout`.
  CommandResult podman(const std::vector<std::string>& args, Ms timeout = 60s) const;

  // `podman run -d --init --name NAME --label L... IMAGE sleep 1000`; returns the container id.
  // Throws on failure. With --init, `podman stop` takes ~0.2 s instead of the 10 s grace period.
  std::string run_container(const std::string& name, const std::vector<std::string>& labels);
  // `podman stop -t TIMEOUT NAME...` (SIGTERM, then SIGKILL after the timeout). Throws on failure.
  void stop_container(const std::vector<std::string>& names, int timeout_s = 2);
  void stop_container(const std::string& name, int timeout_s = 2) {
    stop_container(std::vector<std::string>{name}, timeout_s);
  }
  // `podman start NAME...`. Throws on failure.
  void start_container(const std::vector<std::string>& names);
  void start_container(const std::string& name) { start_container(std::vector<std::string>{name}); }
  // The container's main process as seen from the host (`podman inspect`); throws on failure.
  pid_t container_pid(const std::string& name);
  // SIGKILL of the container's main process from the host: a crash, not a stop.
  void kill_container(const std::string& name);
  // `podman rm -f -a -t 0`: a clean slate between tests sharing one engine.
  void remove_all_containers();

  // Ends the API service (SIGTERM, then SIGKILL after 5 s); the storage stays. Idempotent.
  void stop_service();
  bool service_running();

 private:
  void write_config();
  void build_image();
  void start_service();
  void cleanup();

  std::vector<std::pair<std::string, bool>> preexisting_;
  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<Process> service_;
};

}  // namespace failoverd::e2e

// keepalived.conf samples shared by the import tests (tests/control) and the check of their
// translation against the real config parser.
#pragma once

namespace failoverd::importer::samples {

// The usual two-node setup this project replaces: unicast VRRPv3, a vrrp_script counting the
// compose project's containers, a notify_master script that moves the cloud address.
inline constexpr const char* kTypical = R"(! keepalived.conf of node A
global_defs {
   router_id minitwit-a
   script_user root
   enable_script_security
   vrrp_version 3
}

vrrp_script chk_docker {
    script "/bin/sh -c '[ $(docker ps -q --filter label=com.docker.compose.project=minitwit | wc -l) -ge 10 ]'"
    interval 2
    timeout 1
    fall 3
    rise 2
    weight -20
}

vrrp_instance VI_1 {
    state MASTER
    interface eth1
    virtual_router_id 51
    priority 150
    advert_int 1
    unicast_src_ip 10.114.0.4
    unicast_peer {
        10.114.0.5
    }
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        10.114.0.100/24 dev eth1 label eth1:vip
    }
    track_script {
        chk_docker
    }
    notify_master "/etc/keepalived/master.sh"   # assign the reserved IP
}
)";

// The keepalived peer of the interop tests (tests/harness) and of the capture in
// tests/data/keepalived-vrrp3-unicast.txt: VRID 51, priority 150, unicast 10.200.0.1 ->
// 10.200.0.2, VIP 10.200.0.100/24, a generic notify script.
inline constexpr const char* kLab = R"(global_defs {
  router_id ka1
  vrrp_version 3
  script_user root
  enable_script_security
}

vrrp_instance VI_51 {
  state BACKUP
  interface veth0
  virtual_router_id 51
  priority 150
  advert_int 1
  unicast_src_ip 10.200.0.1
  unicast_peer {
    10.200.0.2
  }
  virtual_ipaddress {
    10.200.0.100/24
  }
  notify /tmp/ka1/notify.sh
}
)";

// Multicast, sub-second adverts, brace on its own line, nopreempt, exec checks with defaults.
inline constexpr const char* kMulticastFast = R"(
vrrp_script chk_haproxy
{
  script "/usr/bin/pgrep -x haproxy"
  weight 10
}

vrrp_instance web
{
  state BACKUP
  interface ens3
  version 3
  virtual_router_id 7
  priority 90
  advert_int 0.25
  nopreempt
  preempt_delay 4.5
  track_interface { ens4 }
  track_script { chk_haproxy }
  virtual_ipaddress {
    192.168.7.10/24
    192.168.7.11
  }
  notify_backup /etc/keepalived/backup.sh
  notify_fault /etc/keepalived/fault.sh
  notify_stop /etc/keepalived/stop.sh
}
)";

}  // namespace failoverd::importer::samples

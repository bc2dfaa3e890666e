// fake_do_api: the fake DigitalOcean API of the tests as a program, for end-to-end tests,
// benchmarks and the README demo. Serves until SIGINT or SIGTERM.
//
//   fake_do_api [--listen 127.0.0.1] [--port 0] [--port-file PATH]
//               [--token TOKEN | --token-file PATH] [--metadata-droplet-id N]
//               [--reserved-ip IP[=DROPLET]]... [--droplet N]... [--delay-ms MS]
//               [--action-polls K] [--instant-actions]
//
// Prints "fake_do_api listening on http://ADDR:PORT" once ready. Faults and state at run
// time: POST /_fake/faults, GET /_fake/state, GET /_fake/requests (see fake_digitalocean.h);
// e.g. POST /_fake/faults {"instant_actions": true} for benchmarks.
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../fake_digitalocean.h"

namespace {

using failoverd::cloud::testing::FakeDigitalOcean;

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "fake_do_api: " << why << "\n"
            << "usage: fake_do_api [--listen ADDR] [--port N] [--port-file PATH]\n"
            << "         [--token TOKEN | --token-file PATH] [--metadata-droplet-id N]\n"
            << "         [--reserved-ip IP[=DROPLET]]... [--droplet N]... [--delay-ms MS]\n"
            << "         [--action-polls K] [--instant-actions]\n";
  std::exit(2);
}

std::uint64_t number(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const unsigned long long v = std::stoull(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  usage(flag + ": not a number: " + text);
}

std::string trimmed_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  FakeDigitalOcean::Options options;
  std::string port_file;
  std::vector<std::pair<std::string, std::optional<std::uint64_t>>> ips;
  std::vector<std::uint64_t> droplets;
  long delay_ms = 0;
  int action_polls = 0;
  bool instant_actions = false;

  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--listen") {
      options.listen_address = value();
    } else if (flag == "--port") {
      const auto p = number(flag, value());
      if (p > 65535) usage("--port out of range");
      options.port = static_cast<std::uint16_t>(p);
    } else if (flag == "--port-file") {
      port_file = value();
    } else if (flag == "--token") {
      options.token = value();
    } else if (flag == "--token-file") {
      options.token = trimmed_file(value());
    } else if (flag == "--metadata-droplet-id") {
      options.metadata_droplet_id = number(flag, value());
    } else if (flag == "--reserved-ip") {
      const std::string v = value();
      const auto eq = v.find('=');
      if (eq == std::string::npos) {
        ips.emplace_back(v, std::nullopt);
      } else {
        ips.emplace_back(v.substr(0, eq), number(flag, v.substr(eq + 1)));
      }
    } else if (flag == "--droplet") {
      droplets.push_back(number(flag, value()));
    } else if (flag == "--delay-ms") {
      delay_ms = static_cast<long>(number(flag, value()));
    } else if (flag == "--action-polls") {
      action_polls = static_cast<int>(number(flag, value()));
    } else if (flag == "--instant-actions") {
      instant_actions = true;
    } else if (flag == "--help" || flag == "-h") {
      usage("help");
    } else {
      usage("unknown option " + flag);
    }
  }

  // Block the stop signals before the server thread starts so only sigwait() sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  try {
    FakeDigitalOcean fake(options);
    for (const auto& [ip, droplet] : ips) fake.add_reserved_ip(ip, droplet);
    for (auto d : droplets) fake.add_droplet(d);
    fake.set_delay(std::chrono::milliseconds(delay_ms));
    fake.set_action_polls(action_polls);
    fake.set_instant_actions(instant_actions);
    if (!port_file.empty()) {
      const std::string tmp = port_file + ".tmp";
      std::ofstream(tmp) << fake.port() << "\n";
      std::rename(tmp.c_str(), port_file.c_str());  // readers never see a half-written file
    }
    std::cout << "fake_do_api listening on " << fake.url() << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    std::cout << "fake_do_api: stopping on signal " << sig << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "fake_do_api: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

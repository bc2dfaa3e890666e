// failoverctl: talks to a running failoverd over its control socket. This file only parses
// the command line; control::run_ctl does the rest.
#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "failoverd/control/ctl.h"
#include "failoverd/util/duration.h"

namespace po = boost::program_options;
namespace control = failoverd::control;

namespace {

constexpr const char* kVersion = FAILOVERD_VERSION;

constexpr const char* kUsage =
    "Usage: failoverctl [--socket PATH] [--instance NAME] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status [--json]                 state, priorities, master, counters and checks\n"
    "  failover [--hold 60s]           this MASTER resigns now (planned switchover) and does\n"
    "                                  not preempt back for the hold (0s..24h)\n"
    "  maintenance on|off              stay BACKUP / rejoin the election\n"
    "  reload                          re-read the configuration\n"
    "  restart                         replace the daemon with the binary on disk, in place:\n"
    "                                  same PID, state kept, no transition (after an upgrade)\n"
    "  checks                          health check results\n"
    "  history                         recent state transitions\n"
    "  wait-healthy [--timeout 300s]   wait until every check passes (exit 0), else exit 1\n"
    "  import-keepalived [--vrrp-instance NAME] [--host NAME] FILE|-\n"
    "                                  print a failoverd config translated from a keepalived.conf\n"
    "                                  (- reads stdin; warnings go to stderr; no daemon needed;\n"
    "                                  --host: the host whose @NAME lines apply, as keepalived -i;\n"
    "                                  default this host's name up to the first '.')\n"
    "\n"
    "Every command takes --json to print the daemon's result as one JSON line.\n"
    "\n"
    "Exit codes: 0 ok, 1 the daemon answered with an error (import-keepalived: the file\n"
    "            cannot be read or translated), 2 usage error, 3 failoverd cannot be reached.\n";

struct UsageError {
  std::string message;
};
struct HelpRequested {};

// Global options end at the first word that is not an option or an option's value.
std::size_t find_command(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--socket" || a == "--instance") {
      ++i;
      continue;
    }
    if (a.empty() || a[0] != '-') return i;
  }
  return args.size();
}

// Parses a command's arguments: the options in `desc` (into `vm`) and any number of operands,
// which are returned. Throws HelpRequested for --help, po::error for bad options.
std::vector<std::string> parse_with_operands(const std::vector<std::string>& rest,
                                             const po::options_description& desc,
                                             po::variables_map& vm) {
  po::options_description hidden;
  hidden.add_options()("operand", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("operand", -1);
  po::store(po::command_line_parser(rest).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) throw HelpRequested{};
  return vm.count("operand") ? vm["operand"].as<std::vector<std::string>>()
                             : std::vector<std::string>{};
}

control::CtlInvocation parse_command(const std::string& command,
                                     const std::vector<std::string>& rest) {
  static constexpr std::array<std::string_view, 8> kKnown = {
      "status", "failover", "maintenance", "reload",
      "checks", "history",  "wait-healthy", "restart"};
  if (std::find(kKnown.begin(), kKnown.end(), command) == kKnown.end())
    throw UsageError{"unknown command \"" + command + "\""};
  control::CtlInvocation inv;
  inv.command = command;
  po::options_description desc;
  // clang-format off
  desc.add_options()
      ("json", "print the result as one JSON line")
      ("help,h", "show the help")
      ("socket", po::value<std::string>())  // also accepted after the command
      ("instance", po::value<std::string>());
  // clang-format on
  std::string timeout_text = "300s";
  if (command == "wait-healthy")
    desc.add_options()("timeout", po::value<std::string>(&timeout_text), "give up after this");
  std::string hold_text;
  if (command == "failover")
    desc.add_options()("hold", po::value<std::string>(&hold_text), "do not preempt back for this");
  po::variables_map vm;
  const std::vector<std::string> operands = parse_with_operands(rest, desc, vm);
  inv.json = vm.count("json") > 0;
  if (vm.count("socket")) inv.socket = vm["socket"].as<std::string>();
  if (vm.count("instance")) inv.instance = vm["instance"].as<std::string>();

  if (command == "maintenance") {
    if (operands.size() != 1 || (operands[0] != "on" && operands[0] != "off"))
      throw UsageError{"maintenance takes one argument: on or off"};
    inv.args = {{"enabled", operands[0] == "on"}};
    return inv;
  }
  if (!operands.empty()) throw UsageError{command + " takes no argument \"" + operands[0] + "\""};
  if (command == "wait-healthy") {
    auto timeout = failoverd::util::parse_duration(timeout_text);
    if (!timeout) throw UsageError{"--timeout: " + timeout.error()};
    inv.wait_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
    return inv;
  }
  if (command == "failover" && vm.count("hold")) {
    auto hold = failoverd::util::parse_duration(hold_text);
    if (!hold) throw UsageError{"--hold: " + hold.error()};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*hold).count();
    if (ms < 0 || ms > control::kMaxFailoverHoldMs)
      throw UsageError{"--hold: " + hold_text + " is out of range 0s..24h (for longer, use "
                       "maintenance on)"};
    inv.args = {{"hold_ms", ms}};
  }
  return inv;
}

// `import-keepalived [--vrrp-instance NAME] [--host NAME] FILE|-`: a local translation, no
// socket.
int run_import_keepalived(const std::vector<std::string>& rest) {
  po::options_description desc;
  std::string vrrp_instance;
  std::string host;
  // clang-format off
  desc.add_options()
      ("help,h", "show the help")
      ("vrrp-instance", po::value<std::string>(&vrrp_instance), "translate this vrrp_instance")
      ("host", po::value<std::string>(&host), "resolve @NAME lines for this host");
  // clang-format on
  po::variables_map vm;
  const std::vector<std::string> operands = parse_with_operands(rest, desc, vm);
  if (operands.size() != 1) {
    throw UsageError{"import-keepalived takes one argument: a keepalived.conf path, or -"};
  }
  std::optional<std::string> name;
  if (vm.count("vrrp-instance")) name = vrrp_instance;
  // keepalived matches the word after '@' against its config id as it is: an empty or blank
  // id could never match, and would silently drop every "@NAME" line.
  if (vm.count("host") && (host.empty() || host.find_first_of(" \t") != std::string::npos)) {
    throw UsageError{"--host: a host name without blanks is needed"};
  }
  const std::optional<std::string> config_id =
      vm.count("host") ? std::optional<std::string>(host) : control::local_config_id();
  return control::run_import_keepalived(operands[0], name, config_id, std::cin, std::cout,
                                        std::cerr);
}

po::options_description global_options() {
  po::options_description global("Options");
  // clang-format off
  global.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("socket", po::value<std::string>()->value_name("PATH"),
       "control socket (default /run/failoverd/NAME.sock)")
      ("instance", po::value<std::string>()->value_name("NAME"),
       "instance name; needed when several are running");
  // clang-format on
  return global;
}

void print_help() {
  std::cout << kUsage << "\n" << global_options();
}

int run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const std::size_t split = find_command(args);
  const std::vector<std::string> global_args(args.begin(), args.begin() + static_cast<long>(split));

  const po::options_description global = global_options();
  po::variables_map vm;
  po::store(po::command_line_parser(global_args).options(global).run(), vm);
  po::notify(vm);
  if (vm.count("help")) throw HelpRequested{};
  if (vm.count("version")) {
    std::cout << "failoverctl " << kVersion << " (control protocol " << control::kProtocolVersion
              << ")\n";
    return control::kExitOk;
  }
  if (split == args.size()) throw UsageError{"no command given"};
  if (args[split] == "import-keepalived") {
    return run_import_keepalived(
        std::vector<std::string>(args.begin() + static_cast<long>(split) + 1, args.end()));
  }

  control::CtlInvocation inv = parse_command(
      args[split],
      std::vector<std::string>(args.begin() + static_cast<long>(split) + 1, args.end()));
  if (!inv.socket && vm.count("socket")) inv.socket = vm["socket"].as<std::string>();
  if (!inv.instance && vm.count("instance")) inv.instance = vm["instance"].as<std::string>();
  return control::run_ctl(inv, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const HelpRequested&) {
    print_help();
    return control::kExitOk;
  } catch (const UsageError& e) {
    std::cerr << "failoverctl: " << e.message << "\nTry 'failoverctl --help'.\n";
  } catch (const po::error& e) {
    std::cerr << "failoverctl: " << e.what() << "\nTry 'failoverctl --help'.\n";
  }
  return control::kExitUsage;
}

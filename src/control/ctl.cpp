#include "failoverd/control/ctl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "failoverd/importer/keepalived_import.h"
#include "failoverd/util/duration.h"
#include "failoverd/util/read_fd.h"

namespace failoverd::control {

using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// "3.609s", "414.063ms", "0ms": short, no trailing zeros.
std::string format_ms(double ms) {
  if (!std::isfinite(ms)) return "?";
  const bool seconds = std::fabs(ms) >= 1000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", seconds ? ms / 1000 : ms);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s + (seconds ? "s" : "ms");
}

// "3d 4h 5m 6s", "42s".
std::string format_uptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e12) return "?";  // no UB cast
  auto left = static_cast<std::uint64_t>(seconds);
  const std::uint64_t days = left / 86400;
  left %= 86400;
  const std::uint64_t hours = left / 3600;
  left %= 3600;
  const std::uint64_t minutes = left / 60;
  left %= 60;
  std::string out;
  const auto part = [&out](std::uint64_t n, const char* unit) {
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + unit;
  };
  if (days) part(days, "d");
  if (days || hours) part(hours, "h");
  if (days || hours || minutes) part(minutes, "m");
  part(left, "s");
  return out;
}

std::string format_duration_ms(std::chrono::milliseconds d) {
  return util::format_duration(std::chrono::duration_cast<util::Duration>(d));
}

void print_error(std::ostream& err, const std::string& message) {
  err << "failoverctl: " << message << "\n";
}

// `--json`: one value on one line; invalid UTF-8 from the daemon is replaced, never thrown.
void print_json_line(std::ostream& out, const json& j) {
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
}

int exit_code_for(const ClientError& e) {
  return e.kind == ClientError::Kind::kDaemonError ? kExitDaemonError : kExitUnreachable;
}

// The daemon's result for `command`; when the call fails, the error is printed and the exit
// code for it returned instead.
util::Expected<json, int> call_daemon(const ControlClient& client, std::string_view command,
                                      const json& args, std::ostream& err) {
  auto result = client.call(command, args);
  if (!result) {
    print_error(err, result.error().message);
    return util::unexpected(exit_code_for(result.error()));
  }
  return std::move(result).value();
}

// Why an answer that did arrive cannot be used.
std::string malformed(const std::string& why) { return "malformed answer from failoverd: " + why; }

// One line per failing check: "containers (3/10 running)".
std::string failing_checks(const Status& status) {
  std::string out;
  for (const auto& c : status.checks) {
    if (c.ok) continue;
    if (!out.empty()) out += ", ";
    out += c.name;
    if (!c.detail.empty()) out += " (" + c.detail + ")";
  }
  return out;
}

// `failoverctl status` and `failoverctl checks`: one status call, printed as the status table
// or just the checks table; with --json the whole result or just its "checks".
int run_status(const ControlClient& client, const CtlInvocation& inv, bool checks_only,
               std::ostream& out, std::ostream& err) {
  auto result = call_daemon(client, "status", json::object(), err);
  if (!result) return result.error();
  if (inv.json) {
    print_json_line(out, checks_only ? (*result)["checks"] : *result);
    return kExitOk;
  }
  auto status = status_from_json(*result);
  if (!status) {
    print_error(err, malformed(status.error()));
    return kExitUnreachable;
  }
  out << (checks_only ? format_checks_table(status->checks) : format_status_table(*status));
  return kExitOk;
}

// Polls status until every check passes. Errors reaching the daemon are retried until the
// deadline: during a rolling update the daemon may be restarting.
int run_wait_healthy(const ControlClient& client, const CtlInvocation& inv, std::ostream& out,
                     std::ostream& err) {
  const auto deadline = Clock::now() + inv.wait_timeout;
  std::string last_problem;
  int last_code = kExitDaemonError;
  for (;;) {
    auto result = client.call("status");
    if (result) {
      auto status = status_from_json(*result);
      if (!status) {
        last_problem = malformed(status.error());
        last_code = kExitUnreachable;
      } else if (const std::string failing = failing_checks(*status); failing.empty()) {
        out << "healthy: " << status->checks.size()
            << (status->checks.size() == 1 ? " check passes" : " checks pass") << "\n";
        return kExitOk;
      } else {
        last_problem = "failing: " + failing;
        last_code = kExitDaemonError;
      }
    } else if (result.error().kind == ClientError::Kind::kDaemonError) {
      print_error(err, result.error().message);
      return kExitDaemonError;
    } else {
      last_problem = result.error().message;
      last_code = kExitUnreachable;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      print_error(
          err, "not healthy after " + format_duration_ms(inv.wait_timeout) + ": " + last_problem);
      return last_code;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(inv.poll_interval, deadline - now));
  }
}

// `failoverctl failover`: the MASTER resigns. VRRP backups are silent, so a healthy peer shows
// only by taking over: poll status until another node is master (exit 0) or this node is
// MASTER again because nobody took over within the daemon's window (exit 1: refused).
int run_failover(const ControlClient& client, const CtlInvocation& inv, std::ostream& out,
                 std::ostream& err) {
  const auto started = Clock::now();
  auto result = call_daemon(client, "failover", inv.args, err);
  if (!result) return result.error();
  const auto window = std::chrono::milliseconds(result->value("window_ms", 0));
  if (!inv.json) out << result->value("message", std::string()) << "\n";
  const auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  };
  const auto report = [&](const std::string& outcome, const std::optional<std::string>& master) {
    if (!inv.json) return;
    print_json_line(out, json{{"outcome", outcome},
                               {"master", master ? json(*master) : json()},
                               {"after_ms", elapsed_ms()},
                               {"window_ms", window.count()}});
  };
  // The window, then time for the new master's first advert and our poll to see it.
  const auto deadline = started + window + std::chrono::seconds(2);
  std::string last_problem = "no answer";
  for (;;) {
    if (auto s = client.call("status")) {
      if (auto st = status_from_json(*s)) {
        if (st->state == "MASTER") {
          report("refused", std::nullopt);
          print_error(err, "refused: no healthy peer took over within " +
                               std::to_string(window.count()) +
                               " ms; this node took the address back and is MASTER again");
          return kExitDaemonError;
        }
        if (st->master) {
          report("taken over", st->master);
          if (!inv.json) {
            out << *st->master << " is MASTER after " << elapsed_ms() << " ms; this node is "
                << st->state << "\n";
          }
          return kExitOk;
        }
        last_problem = "this node is " + st->state + " and no master is known yet";
      } else {
        last_problem = malformed(st.error());
      }
    } else {
      last_problem = s.error().message;
    }
    if (Clock::now() >= deadline) {
      report("unknown", std::nullopt);
      print_error(err, "resigned, but the outcome is unknown after " +
                           std::to_string(elapsed_ms()) + " ms: " + last_problem);
      return kExitDaemonError;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// `failoverctl restart`: the daemon checks the binary on disk against its config and state,
// answers, and execs it. The new process answers status under the same PID once it has
// resumed; a refusal (the new binary's own errors) is printed verbatim and exits 1.
int run_restart(const ControlClient& client, const CtlInvocation& inv, std::ostream& out,
                std::ostream& err) {
  const auto started = Clock::now();
  // The new binary's check runs before the answer: give it its 10 s.
  const ControlClient slow(client.socket_path(), std::max<std::chrono::milliseconds>(
                                                     inv.call_timeout, std::chrono::seconds(15)));
  auto result = call_daemon(slow, "restart", json::object(), err);
  if (!result) return result.error();
  const int pid = result->value("pid", 0);
  const auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  };
  // The new process's uptime starts at its exec, after `started`.
  const auto deadline = started + std::chrono::seconds(15);
  std::string last_problem = "no answer";
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (auto s = client.call("status")) {
      if (auto st = status_from_json(*s)) {
        const double since_start_s =
            std::chrono::duration<double>(Clock::now() - started).count();
        if (st->pid != pid) {
          print_error(err, "restart: the daemon now runs as pid " + std::to_string(st->pid) +
                               ", not " + std::to_string(pid) + " (it was restarted, not in place)");
          return kExitDaemonError;
        }
        if (st->uptime_s <= since_start_s) {
          if (inv.json) {
            print_json_line(out, json{{"pid", pid},
                                      {"state", st->state},
                                      {"binary", result->value("binary", std::string())},
                                      {"after_ms", elapsed_ms()}});
          } else {
            out << "restarted in place: pid " << pid << ", " << st->state << ", in "
                << elapsed_ms() << " ms\n";
          }
          return kExitOk;
        }
        last_problem = "the old process still answers";
      } else {
        last_problem = malformed(st.error());
      }
    } else {
      last_problem = s.error().message;
    }
    if (Clock::now() >= deadline) {
      print_error(err, "restart: no answer from the new process after " +
                           std::to_string(elapsed_ms()) + " ms: " + last_problem);
      return kExitUnreachable;
    }
  }
}

// `failoverctl history`: one line per transition, oldest first, with the claim's outcome.
std::string format_history(const json& history) {
  std::ostringstream o;
  for (const auto& h : history) {
    o << h.value("at", std::string("?")) << "  " << h.value("from", std::string("?")) << " -> "
      << h.value("to", std::string("?")) << "  " << h.value("reason", std::string());
    if (h.contains("claim") && h["claim"].is_string()) {
      o << "  [claim: " << h["claim"].get<std::string>() << "]";
    }
    o << "\n";
  }
  if (history.empty()) o << "no transitions yet\n";
  return o.str();
}

int run_history(const ControlClient& client, const CtlInvocation& inv, std::ostream& out,
                std::ostream& err) {
  auto result = call_daemon(client, "history", json::object(), err);
  if (!result) return result.error();
  if (inv.json) {
    print_json_line(out, *result);
    return kExitOk;
  }
  if (!result->contains("history") || !(*result)["history"].is_array()) {
    print_error(err, malformed("no history array"));
    return kExitUnreachable;
  }
  out << format_history((*result)["history"]);
  return kExitOk;
}

// Commands the daemon answers with a free-form result: a "message" is printed as is, any
// other result as indented JSON.
int run_generic(const ControlClient& client, const CtlInvocation& inv, std::ostream& out,
                std::ostream& err) {
  auto result = call_daemon(client, inv.command, inv.args, err);
  if (!result) return result.error();
  const json& r = *result;
  if (inv.json) {
    print_json_line(out, r);
  } else if (r.is_object() && r.size() == 1 && r.contains("message") && r["message"].is_string()) {
    out << r["message"].get<std::string>() << "\n";
  } else if (!(r.is_object() && r.empty()) && !r.is_null()) {
    out << r.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return kExitOk;
}

}  // namespace

util::Expected<std::filesystem::path, std::string> resolve_socket(
    const std::optional<std::filesystem::path>& socket, const std::optional<std::string>& instance,
    const std::filesystem::path& run_dir) {
  if (socket) {
    if (socket->empty()) return util::unexpected(std::string("--socket must not be empty"));
    return *socket;
  }
  if (instance) {
    if (instance->empty() || instance->find('/') != std::string::npos || *instance == "." ||
        *instance == "..")
      return util::unexpected("invalid instance name \"" + *instance + "\"");
    return run_dir / (*instance + ".sock");
  }
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(run_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".sock") found.push_back(it->path());
  }
  // The directory is 0750 root:failoverd: a user outside the group cannot list it, and a guess
  // of "failoverd.sock" would only end in a permission error about a socket that may not exist.
  if (ec && ec != std::errc::no_such_file_or_directory)
    return util::unexpected("cannot list " + run_dir.string() + " to find the instance: " +
                            ec.message() +
                            (ec == std::errc::permission_denied
                                 ? " (run failoverctl as root or as a member of the group "
                                   "failoverd)"
                                 : ""));
  if (found.size() == 1) return found.front();
  if (found.empty()) return run_dir / (std::string(kDefaultInstance) + ".sock");
  std::sort(found.begin(), found.end());
  std::string names;
  for (const auto& p : found) names += (names.empty() ? "" : ", ") + p.stem().string();
  return util::unexpected("several failoverd instances are running (" + names +
                          "); choose one with --instance NAME");
}

std::string format_checks_table(const std::vector<CheckStatus>& checks) {
  if (checks.empty()) return "checks: none configured\n";
  std::ostringstream o;
  std::size_t name_w = 4;
  std::size_t type_w = 4;
  for (const auto& c : checks) {
    name_w = std::max(name_w, c.name.size());
    type_w = std::max(type_w, c.type.size());
  }
  const auto pad = [](const std::string& text, std::size_t width) {
    return text + std::string(width - std::min(width, text.size()) + 2, ' ');
  };
  o << "  " << pad("NAME", name_w) << pad("TYPE", type_w)
    << "OK    PASSES  FAILS  LAST RUN              DETAIL\n";
  for (const auto& c : checks) {
    char streaks[32];
    std::snprintf(streaks, sizeof streaks, "%-6d  %-5d  ", c.consecutive_passes,
                  c.consecutive_failures);
    o << "  " << pad(c.name, name_w) << pad(c.type, type_w) << (c.ok ? "ok    " : "FAIL  ")
      << streaks << pad(c.last_run.value_or("never"), 20) << c.detail << "\n";
  }
  return o.str();
}

std::string format_status_table(const Status& s) {
  std::ostringstream o;
  o << "failoverd " << s.name << ": " << s.state;
  if (!s.since.empty()) o << " since " << s.since;
  o << " (" << s.transitions << (s.transitions == 1 ? " transition" : " transitions") << ")\n";
  const auto row = [&o](const char* label, const std::string& value) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "  %-14s", label);
    o << buf << value << "\n";
  };
  row("priority",
      std::to_string(s.priority) + " (effective " + std::to_string(s.effective_priority) + ")");
  row("master", s.master ? *s.master : "none known");
  std::string router = "VRID " + std::to_string(s.virtual_router_id);
  if (!s.transport.empty()) router += ", transport " + s.transport;
  if (!s.interface.empty()) router += " on " + s.interface;
  if (s.instant_handover) router += ", instant handover";
  row("router", router);
  row("intervals", "advert " + (s.advert_interval.empty() ? "?" : s.advert_interval) +
                       ", master down " + format_ms(s.master_down_interval_ms) + ", skew " +
                       format_ms(s.skew_time_ms));
  row("adverts", "sent " + std::to_string(s.adverts_sent) + ", received " +
                     std::to_string(s.adverts_received));
  std::string drops;
  for (const auto& [reason, count] : s.drops) {
    if (count == 0) continue;
    drops += (drops.empty() ? "" : ", ") + reason + " " + std::to_string(count);
  }
  row("drops", drops.empty() ? "none" : drops);
  row("maintenance", s.maintenance ? "on (stays BACKUP)" : "off");
  if (s.reserved_ip) {
    const auto& r = *s.reserved_ip;
    std::string text = r.address;
    if (!r.provider.empty()) text += " via " + r.provider;
    if (r.holder) text += ", held by " + *r.holder;
    if (r.last_claim) text += ", last claim " + *r.last_claim;
    row("reserved ip", text);
  } else {
    row("reserved ip", "none");
  }
  row("process", "pid " + std::to_string(s.pid) + ", up " + format_uptime(s.uptime_s));

  if (s.checks.empty()) {
    o << "checks: none configured\n";
    return o.str();
  }
  o << "checks (" << s.checks.size() << "):\n" << format_checks_table(s.checks);
  return o.str();
}

namespace {

// Reads at most one byte past the import limit: enough for the size to be refused. With
// O_NONBLOCK at open a FIFO without a writer does not block the open (and then reads as
// empty); reads block again afterwards, so a pipe from a slow writer is read whole.
util::Expected<std::string, std::string> read_keepalived_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return util::unexpected(std::string(std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return util::unexpected(std::string(std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) {
    return util::unexpected(std::string("is a directory: name the keepalived.conf in it"));
  }
  const auto too_large = [] {
    return "larger than " + std::to_string(importer::kMaxKeepalivedBytes >> 20) +
           " MiB: not a keepalived.conf";
  };
  if (S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) > importer::kMaxKeepalivedBytes) {
    return util::unexpected(too_large());
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return util::unexpected(std::string(std::strerror(errno)));
  }
  auto text = util::read_up_to(fd, importer::kMaxKeepalivedBytes);
  if (!text) return util::unexpected("read error: " + std::string(std::strerror(text.error())));
  if (text->size() > importer::kMaxKeepalivedBytes) return util::unexpected(too_large());
  return std::move(*text);
}

}  // namespace

std::optional<std::string> local_config_id() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return std::nullopt;
  std::string id(name);
  id = id.substr(0, id.find('.'));
  if (id.empty()) return std::nullopt;
  return id;
}

int run_import_keepalived(const std::string& path, const std::optional<std::string>& vrrp_instance,
                          const std::optional<std::string>& host, std::istream& in,
                          std::ostream& out, std::ostream& err) {
  importer::ImportOptions options;
  options.vrrp_instance = vrrp_instance;
  options.host = host;
  options.source_name = path == "-" ? "stdin" : path;
  std::string text;
  if (path == "-") {
    std::istreambuf_iterator<char> it(in);
    const std::istreambuf_iterator<char> end;
    for (; it != end && text.size() <= importer::kMaxKeepalivedBytes; ++it) text += *it;
    if (in.bad()) {
      print_error(err, "stdin: read error");
      return kExitDaemonError;
    }
  } else {
    auto read = read_keepalived_file(path);
    if (!read) {
      print_error(err, path + ": " + read.error());
      return kExitDaemonError;
    }
    text = std::move(*read);
  }
  auto result = importer::import_keepalived(text, options);
  if (!result) {
    print_error(err, options.source_name + ": " + result.error().to_string());
    return kExitDaemonError;
  }
  out << result->config << std::flush;
  if (!out) {
    // A config cut short (a full disk behind "> file") must not look like success.
    print_error(err, "cannot write the output (standard output): the config is incomplete");
    return kExitDaemonError;
  }
  // After the config, so that they are the last thing a terminal shows.
  for (const auto& w : result->warnings) err << "failoverctl: warning: " << w << "\n";
  return kExitOk;
}

int run_ctl(const CtlInvocation& inv, std::ostream& out, std::ostream& err,
            const std::filesystem::path& run_dir) {
  auto path = resolve_socket(inv.socket, inv.instance, run_dir);
  if (!path) {
    print_error(err, path.error());
    return kExitUsage;
  }
  const ControlClient client(*path, inv.call_timeout);
  if (inv.command == "status") return run_status(client, inv, /*checks_only=*/false, out, err);
  if (inv.command == "wait-healthy") return run_wait_healthy(client, inv, out, err);
  if (inv.command == "checks") return run_status(client, inv, /*checks_only=*/true, out, err);
  if (inv.command == "failover") return run_failover(client, inv, out, err);
  if (inv.command == "history") return run_history(client, inv, out, err);
  if (inv.command == "restart") return run_restart(client, inv, out, err);
  return run_generic(client, inv, out, err);
}

}  // namespace failoverd::control

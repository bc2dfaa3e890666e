// The I/O half of the config module: reading the config file and the secret files it names.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "config_internal.h"
#include "failoverd/util/read_fd.h"
#include "failoverd/util/unique_fd.h"
#include "failoverd/config/config.h"

namespace failoverd::config {

namespace {

constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
constexpr std::size_t kMaxSecretBytes = 64 * 1024;

using Fd = util::UniqueFd;

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string size_text(std::size_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// Reads a whole regular file of at most `max_bytes`. With `secret`, refuses a file that group
// or others may access. Errors are reasons without the path ("No such file or directory").
// O_NONBLOCK: opening a FIFO someone put in place of the file must not hang us.
util::Expected<std::string, std::string> read_regular_file(const std::string& path,
                                                           std::size_t max_bytes, bool secret) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return util::unexpected(errno_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return util::unexpected(errno_text(errno));
  if (!S_ISREG(st.st_mode)) return util::unexpected(std::string("is not a regular file"));
  if (secret && (st.st_mode & 077) != 0) {
    const char* how = (st.st_mode & 044) != 0   ? "readable"
                      : (st.st_mode & 022) != 0 ? "writable"
                                                : "accessible";
    return util::unexpected("mode " + mode_text(st.st_mode) + " is " + how +
                            " by group or others; chmod 600 it");
  }
  const std::string too_large = "is larger than " + size_text(max_bytes);
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return util::unexpected(too_large);
  auto content = util::read_up_to(fd.get(), max_bytes, /*wipe=*/secret);
  if (!content) return util::unexpected(errno_text(content.error()));
  if (content->size() > max_bytes) {  // the file grew while we read it
    explicit_bzero(content->data(), content->size());
    return util::unexpected(too_large);
  }
  return std::move(*content);
}

}  // namespace

util::Expected<std::string, std::string> secret_path(const std::string& spec) {
  if (spec.rfind(kCredentialPrefix, 0) != 0) return spec;
  const std::string name = spec.substr(kCredentialPrefix.size());
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || dir[0] == '\0') {
    return util::unexpected(spec + ": no systemd credentials are passed to this process "
                            "($CREDENTIALS_DIRECTORY is not set; the unit needs LoadCredential=" +
                            name + ":/path/to/file)");
  }
  return std::string(dir) + "/" + name;
}

util::Expected<std::string, std::string> read_secret_file(const std::string& spec) {
  auto where = secret_path(spec);
  if (!where) return util::unexpected(where.error());
  const std::string& path = *where;
  auto content = read_regular_file(path, kMaxSecretBytes, /*secret=*/true);
  if (!content) return util::unexpected(spec + ": " + content.error());
  std::string& s = *content;
  const auto end = s.find_last_not_of(" \t\r\n");
  const std::size_t keep = end == std::string::npos ? 0 : end + 1;
  explicit_bzero(s.data() + keep, s.size() - keep);
  s.resize(keep);
  if (s.empty()) return util::unexpected(spec + ": is empty");
  return std::move(s);
}

util::Expected<std::vector<std::uint8_t>, std::string> read_key_file(const std::string& path) {
  auto secret = read_secret_file(path);
  if (!secret) return util::unexpected(secret.error());
  std::string& s = *secret;
  if (s.size() < proto::kMinKeySize) {
    const std::size_t n = s.size();
    explicit_bzero(s.data(), s.size());
    return util::unexpected(path + ": holds " + std::to_string(n) +
                            " bytes; a key needs at least " +
                            std::to_string(proto::kMinKeySize) + " (e.g. openssl rand -base64 32)");
  }
  std::vector<std::uint8_t> key(s.begin(), s.end());
  explicit_bzero(s.data(), s.size());
  return key;
}

Problems check_files(const Config& cfg) {
  Problems problems;
  if (!cfg.vrrp.auth_key_file.empty()) {
    auto key = read_key_file(cfg.vrrp.auth_key_file);
    if (key) {
      explicit_bzero(key->data(), key->size());
    } else {
      problems.push_back({"vrrp", "auth_key_file", key.error()});
    }
  }
  if (!cfg.reserved_ip.token_file.empty()) {
    auto token = read_secret_file(cfg.reserved_ip.token_file);
    if (token) {
      explicit_bzero(token->data(), token->size());
    } else {
      problems.push_back({"reserved_ip", "token_file", token.error()});
    }
  }
  return problems;
}

util::Expected<Config, Problems> load_config(const std::string& path,
                                             const std::vector<std::string>& overrides) {
  auto text = read_regular_file(path, kMaxConfigBytes, /*secret=*/false);
  if (!text) return util::unexpected(Problems{{"", path, text.error()}});
  internal::ParseResult r = internal::parse(*text, overrides);
  for (auto& p : check_files(r.config)) r.problems.push_back(std::move(p));
  if (!r.problems.empty()) return util::unexpected(std::move(r.problems));
  return std::move(r.config);
}

}  // namespace failoverd::config

#include "failoverd/proto/auth_envelope.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace failoverd::proto {
namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'F', 'O', 'v', '1'};
constexpr std::size_t kMacSize = 32;
constexpr std::size_t kSequenceSize = 8;
static_assert(kTrailerSize == kMagic.size() + kSequenceSize + kMacSize);

using Mac = std::array<std::uint8_t, kMacSize>;

// False only if OpenSSL itself fails (e.g. no SHA-256 in a restricted FIPS setup).
bool hmac_sha256(const std::vector<std::uint8_t>& key, std::span<const std::uint8_t> data,
                 Mac& out) {
  unsigned int len = 0;
  const unsigned char* r =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len);
  return r != nullptr && len == kMacSize;
}

}  // namespace

Authenticator::Authenticator(std::vector<std::uint8_t> key) : key_(std::move(key)) {
  // Config loading refuses short keys with a clear message; this is the last line of defence.
  if (key_.size() < kMinKeySize) {
    throw std::invalid_argument("authentication key is " + std::to_string(key_.size()) +
                                " bytes, must be at least " + std::to_string(kMinKeySize));
  }
}

std::vector<std::uint8_t> Authenticator::seal(std::span<const std::uint8_t> vrrp,
                                              std::uint64_t sequence) const {
  std::vector<std::uint8_t> out;
  out.reserve(vrrp.size() + kTrailerSize);
  out.insert(out.end(), vrrp.begin(), vrrp.end());
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(sequence >> shift));
  }
  Mac mac;
  if (!hmac_sha256(key_, out, mac)) throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

util::Expected<Opened, DecodeError> Authenticator::open(
    std::span<const std::uint8_t> datagram) const {
  if (datagram.size() < kTrailerSize) {
    return util::unexpected(DecodeError{
        DropReason::kTruncated, "datagram is " + std::to_string(datagram.size()) +
                                    " bytes, shorter than the " + std::to_string(kTrailerSize) +
                                    "-byte authentication trailer"});
  }
  const std::size_t vrrp_size = datagram.size() - kTrailerSize;
  const auto magic = datagram.subspan(vrrp_size, kMagic.size());
  if (!std::equal(magic.begin(), magic.end(), kMagic.begin())) {
    return util::unexpected(DecodeError{
        DropReason::kBadAuth, "trailer magic is not FOv1 (not a failoverd udp datagram)"});
  }
  const auto signed_part = datagram.first(datagram.size() - kMacSize);
  Mac want;
  if (!hmac_sha256(key_, signed_part, want)) {
    return util::unexpected(DecodeError{DropReason::kBadAuth, "HMAC-SHA256 failed in OpenSSL"});
  }
  if (CRYPTO_memcmp(want.data(), datagram.data() + signed_part.size(), kMacSize) != 0) {
    return util::unexpected(DecodeError{
        DropReason::kBadAuth, "HMAC does not match (wrong key or altered datagram)"});
  }
  std::uint64_t sequence = 0;
  for (std::size_t i = 0; i < kSequenceSize; ++i) {
    sequence = (sequence << 8) | datagram[vrrp_size + kMagic.size() + i];
  }
  return Opened{datagram.first(vrrp_size), sequence};
}

bool ReplayGuard::accept(util::Ipv4 peer, std::uint64_t sequence) {
  auto [it, inserted] = last_.try_emplace(peer, sequence);
  if (inserted) return true;
  if (sequence <= it->second) return false;
  it->second = sequence;
  return true;
}

}  // namespace failoverd::proto

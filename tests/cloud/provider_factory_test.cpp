// provider_maker: each [reserved_ip] provider becomes the right provider object, secrets are
// read (and refused) at once, and the provider itself is made only when the maker is called.
#include "failoverd/cloud/provider_factory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "provider_test_support.h"

namespace failoverd::cloud {
namespace {

class ProviderFactory : public testing::TokenFileTest {
 protected:
  std::string token(mode_t mode) { return write("secret-token-0123456789\n", mode); }

  config::ReservedIpConfig cfg(config::Provider p) {
    config::ReservedIpConfig c;
    c.provider = p;
    c.address = util::Ipv4::parse("203.0.113.10");
    c.token_file = token(0600);
    c.droplet_id = 1;
    c.server_id = 2;
    c.zone_id = "zone";
    c.record = "www.example.com";
    c.command = {"/bin/true"};
    c.api_url = "http://127.0.0.1:9";
    return c;
  }
};

TEST_F(ProviderFactory, EachProviderIsMadeByItsName) {
  for (const auto& [p, name] : std::vector<std::pair<config::Provider, std::string>>{
           {config::Provider::kDigitalOcean, "digitalocean"},
           {config::Provider::kHetzner, "hetzner"},
           {config::Provider::kCloudflare, "cloudflare"},
           {config::Provider::kExec, "exec"}}) {
    auto make = provider_maker(cfg(p), "web", {});
    ASSERT_TRUE(make) << name << ": " << make.error().message;
    auto provider = (*make)();
    ASSERT_NE(provider, nullptr) << name;
    EXPECT_EQ(provider->name(), name);
  }
}

TEST_F(ProviderFactory, AReadableTokenIsRefusedBeforeAnyProviderExists) {
  auto c = cfg(config::Provider::kHetzner);
  c.token_file = token(0644);
  auto make = provider_maker(c, "web", {});
  ASSERT_FALSE(make);
  EXPECT_EQ(make.error().kind, CloudErrorKind::kConfig);
  EXPECT_NE(make.error().message.find(c.token_file), std::string::npos) << make.error().message;
  EXPECT_EQ(make.error().message.find("secret-token"), std::string::npos);
}

TEST_F(ProviderFactory, NoneIsNotAProvider) {
  auto make = provider_maker(cfg(config::Provider::kNone), "web", {});
  ASSERT_FALSE(make);
  EXPECT_EQ(make.error().kind, CloudErrorKind::kConfig);
}

}  // namespace
}  // namespace failoverd::cloud

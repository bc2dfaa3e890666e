// The provider of a [reserved_ip] section. Its secrets are read at once, so a bad token file
// is a start-up error; the provider itself is made later, by the returned function, on the
// thread that will use it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "failoverd/cloud/provider.h"
#include "failoverd/config/config.h"

namespace failoverd::cloud {

using ProviderMaker = std::function<std::unique_ptr<ReservedAddressProvider>()>;

// `log` receives token-free debug lines of every provider step and HTTP exchange, each
// prefixed with the provider's name ("hetzner: ...", "http: ..."). Errors are the options'
// errors (kConfig, naming the file, never its content); provider none is kConfig too.
CloudResult<ProviderMaker> provider_maker(const config::ReservedIpConfig& cfg,
                                          const std::string& instance,
                                          std::function<void(const std::string&)> log);

}  // namespace failoverd::cloud

#pragma once
// Test support: repositories reached through the harness's fault proxy.

#include <chrono>
#include <string>
#include <utility>

#include "sealrun/remote/repository.h"
#include "support/registry.h"

namespace sealrun::test {

// fast_retries keeps backoff short and ignores the machine's docker config.
inline remote::RepositoryOptions fast_retries() {
    remote::RepositoryOptions o;
    o.backoff = std::chrono::milliseconds(10);
    o.max_backoff = std::chrono::milliseconds(1500);
    o.docker_config = "/nonexistent/config.json";
    return o;
}

// via opens repository `name` on the registry behind `proxy`.
inline remote::Repository via(const FaultProxy& proxy, const std::string& name,
                              remote::RepositoryOptions o = fast_retries()) {
    return remote::Repository(remote::Reference::parse(proxy.host() + "/" + name), std::move(o));
}

}  // namespace sealrun::test

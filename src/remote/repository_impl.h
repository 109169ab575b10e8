#pragma once
// Repository internals shared by repository.cpp (manifests, tags,
// referrers) and blobs.cpp (blob transfer).

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote/auth.h"
#include "remote/http.h"
#include "sealrun/remote/repository.h"

namespace sealrun::remote {

struct Repository::Impl {
    Reference ref;
    RepositoryOptions options;
    std::unique_ptr<detail::Http> http;
    std::unique_ptr<detail::Auth> auth;
    std::once_flag base_once;
    std::string base;  // scheme://host[:port]

    Impl(const Reference& r, RepositoryOptions o);

    // ensure_base picks https or http once (loopback registries that do
    // not speak TLS fall back to http).
    const std::string& ensure_base();
    // url returns base + "/v2/" + repository + path.
    std::string url(const std::string& path);
    std::string pull_scope() const { return "repository:" + ref.repository + ":pull"; }
    std::string push_scope() const { return "repository:" + ref.repository + ":pull,push"; }

    // send performs `r` with authentication, same-origin redirects for
    // GET/HEAD (Authorization dropped across origins), and retries of
    // idempotent requests on connection errors, 408, 429 (Retry-After) and
    // 5xx with capped exponential backoff and jitter.
    detail::Response send(detail::Request r, const std::string& scope, bool idempotent);

    // fail throws the Error a non-success response means, with the
    // registry's error code and message when its body holds them.
    [[noreturn]] void fail(const detail::Response& resp, const std::string& op, const std::string& subject) const;

    // retry decides whether an operation begun (or last making progress) at
    // `since` may follow its failed attempt `attempt` (1-based) with another:
    // false once max_attempts are used or the backoff (honouring the
    // response's Retry-After) would end past options.retry_budget; else it
    // sleeps the backoff and returns true.
    bool retry(int attempt, std::chrono::steady_clock::time_point since, const detail::Response* resp) const;
};

// retryable_status says whether a request answered with `status` may be
// tried again: 408, 429 and 5xx.
inline bool retryable_status(long status) { return status == 408 || status == 429 || (status >= 500 && status <= 599); }

// accept_manifests is the Accept header for manifest requests.
inline constexpr const char* accept_manifests =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

}  // namespace sealrun::remote

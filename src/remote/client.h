#pragma once
// The one client routine of the registry transport. Every operation on a
// registry (a manifest request, a streamed blob download, a chunk of an
// upload) is a Call: after each attempt, Call::after decides, in one place,
// whether to authenticate and send again (a 401 from the registry's own
// origin), follow a redirect (GET and HEAD; Authorization is only ever added
// for the registry's origin), wait and retry (connection errors, 408, 429
// with Retry-After, 5xx, within max_attempts and retry_budget), or stop.
// send() is the loop for a request answered whole; BlobStream and chunked
// uploads drive the same Call around their own transfers. Internal.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "remote/auth.h"
#include "remote/http.h"
#include "sealrun/remote/repository.h"

namespace sealrun::remote::detail {

// max_redirects is how many redirects one operation follows.
inline constexpr int max_redirects = 5;

// retryable_status says whether a request answered with `status` may be
// tried again: 408, 429 and 5xx.
inline bool retryable_status(long status) { return status == 408 || status == 429 || (status >= 500 && status <= 599); }

// wait_to_retry decides whether an operation whose run of failures began
// at `since` may follow its failed attempt `attempt` (1-based) with
// another: false once options.max_attempts are used or the backoff
// (capped exponential with jitter, or the response's Retry-After) would end
// past options.retry_budget; else it sleeps the backoff and returns true.
bool wait_to_retry(const RepositoryOptions& options, int attempt, std::chrono::steady_clock::time_point since,
                   const Response* resp);

class Call {
public:
    // Call starts an operation on `url`, authorised for `scope` on the
    // registry's origin `own_origin`. `idempotent` allows retries;
    // `follow_redirects` follows 3xx (GET and HEAD only).
    Call(Auth& auth, const RepositoryOptions& options, std::string own_origin, std::string url, std::string scope,
         bool idempotent, bool follow_redirects);

    // url is where the next attempt goes (redirects move it).
    const std::string& url() const { return url_; }

    // authorize adds the Authorization header when url() is on the
    // registry's own origin, and nothing otherwise.
    void authorize(std::vector<std::string>& headers);

    // begin_attempt marks the start of a streamed attempt, and delivered
    // the bytes it has delivered so far in all: a run of failures is timed
    // from the start of the attempt that began it, or from its failure when
    // that attempt moved a stall window's worth of bytes, and such progress
    // ends the run (a download that breaks after a long healthy stretch
    // gets a whole budget; a drip between failures renews nothing). An
    // operation that never calls them is timed from its construction.
    void begin_attempt();
    void delivered(std::int64_t total);

    enum class Next { resend, done };
    // after decides what follows an answered attempt: resend after a new
    // credential for a 401, after following a redirect, or after waiting
    // out a retryable status; done when `resp` is the answer (success or
    // not). Throws Error(protocol) past max_redirects or for a Location
    // that is not http(s).
    Next after(const Response& resp);

    // retry decides what follows a failed attempt: true (having waited the
    // backoff) when `e` is a network error of an idempotent operation
    // that may be tried again.
    bool retry(const Error& e);

    // wait decides (and waits) whether to retry after a failed attempt,
    // for callers that resume on their own (an upload chunk); `resp` is the
    // failed answer, if any.
    bool wait(const Response* resp);

private:
    std::int64_t healthy() const;

    Auth& auth_;
    const RepositoryOptions& options_;
    std::string own_origin_;
    std::string url_;
    std::string scope_;
    bool idempotent_;
    bool follow_redirects_;
    int auth_rounds_ = 0;
    int redirects_ = 0;
    int failures_ = 0;  // failed attempts in the current run
    std::int64_t delivered_ = 0;
    std::chrono::steady_clock::time_point opened_;  // when the current attempt started
    std::int64_t opened_bytes_ = 0;                 // delivered_ then
    std::chrono::steady_clock::time_point streak_since_;
    std::int64_t streak_bytes_ = 0;
};

// send performs `r` under `call` until Call::after says done, and returns
// that response: the loop every request answered whole goes through.
Response send(Http& http, Call& call, Request r);

}  // namespace sealrun::remote::detail

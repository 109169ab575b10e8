#include "remote/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "remote/url.h"
#include "sealrun/error.h"

namespace sealrun::remote::detail {

bool wait_to_retry(const RepositoryOptions& options, int attempt, std::chrono::steady_clock::time_point since,
                   const Response* resp) {
    if (attempt >= options.max_attempts) return false;
    auto delay = options.backoff * (1 << std::min(attempt - 1, 10));
    if (delay > options.max_backoff) delay = options.max_backoff;
    if (resp != nullptr) {
        if (auto ra = resp->header("retry-after")) {
            try {
                const auto secs = std::stol(*ra);
                if (secs >= 0) delay = std::min<std::chrono::milliseconds>(std::chrono::seconds(secs), options.max_backoff * 6);
            } catch (const std::exception&) {
                // An HTTP-date: keep the computed delay.
            }
        }
    }
    thread_local std::mt19937 rng{std::random_device{}()};
    const auto wait = delay + std::chrono::milliseconds(std::uniform_int_distribution<long>(0, delay.count() / 4 + 1)(rng));
    if (std::chrono::steady_clock::now() + wait - since > options.retry_budget) return false;
    std::this_thread::sleep_for(wait);
    return true;
}

Call::Call(Auth& auth, const RepositoryOptions& options, std::string own_origin, std::string url, std::string scope,
           bool idempotent, bool follow_redirects)
    : auth_(auth),
      options_(options),
      own_origin_(std::move(own_origin)),
      url_(std::move(url)),
      scope_(std::move(scope)),
      idempotent_(idempotent),
      follow_redirects_(follow_redirects),
      opened_(std::chrono::steady_clock::now()) {}

void Call::authorize(std::vector<std::string>& headers) {
    if (origin(url_) != own_origin_) return;  // credentials never leave the registry's origin
    if (auto h = auth_.header(scope_)) headers.push_back(*h);
}

std::int64_t Call::healthy() const {
    // What a transfer at the speed limit moves in one stall window.
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(options_.low_speed_limit) * options_.stall_timeout.count());
}

void Call::begin_attempt() {
    opened_ = std::chrono::steady_clock::now();
    opened_bytes_ = delivered_;
}

void Call::delivered(std::int64_t total) {
    delivered_ = total;
    if (failures_ > 0 && delivered_ - streak_bytes_ >= healthy()) failures_ = 0;  // real progress ends the run
}

bool Call::wait(const Response* resp) {
    if (failures_ == 0) {  // a new run of failures
        const bool progressed = delivered_ - opened_bytes_ >= healthy();
        streak_since_ = progressed ? std::chrono::steady_clock::now() : opened_;
        streak_bytes_ = delivered_;
    }
    return wait_to_retry(options_, ++failures_, streak_since_, resp);
}

bool Call::retry(const Error& e) { return e.code() == Errc::network && idempotent_ && wait(nullptr); }

Call::Next Call::after(const Response& resp) {
    if (resp.status == 401 && auth_rounds_ < 2 && origin(url_) == own_origin_ && auth_.on_unauthorized(resp, scope_)) {
        ++auth_rounds_;
        return Next::resend;
    }
    if (follow_redirects_ && resp.status >= 300 && resp.status < 400) {
        const auto loc = resp.header("location");
        if (!loc) return Next::done;  // the caller's status check reports it
        if (++redirects_ > max_redirects)
            throw Error(Errc::protocol, "follow redirect", url_, "more than " + std::to_string(max_redirects) + " redirects");
        url_ = resolve_url(url_, *loc);  // Authorization is added only for the registry's origin
        return Next::resend;
    }
    if (retryable_status(resp.status) && idempotent_ && wait(&resp)) return Next::resend;
    return Next::done;
}

Response send(Http& http, Call& call, Request r) {
    for (;;) {
        Request req = r;
        req.url = call.url();
        call.authorize(req.headers);
        Response resp;
        try {
            resp = http.perform(req);
        } catch (const Error& e) {
            if (call.retry(e)) continue;
            throw;
        }
        if (call.after(resp) == Call::Next::resend) continue;
        return resp;
    }
}

}  // namespace sealrun::remote::detail

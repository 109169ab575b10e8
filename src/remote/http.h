#pragma once
// A small HTTP/1.1 and HTTP/2 client over libcurl for the registry
// transport. libcurl is confined to src/remote/; its error codes become
// sealrun::Error in engine.cpp (throw_curl) and nowhere else. The engine
// thread and its transfers are engine.h, the queue of body bytes
// body_queue.h, URL helpers url.h; retries, authentication and redirects
// are client.h's. Redirects are never followed
// here: the caller decides what an Authorization header may cross.
//
// Every request of one Http runs on one curl multi handle, driven by one
// engine thread: transfers from many caller threads proceed at once, share
// one connection cache (keep-alive reuse) and, where the server speaks
// HTTP/2, multiplex over one connection. Callers block in perform() or read
// a download through a stream; body bytes cross between the engine and the
// caller through a bounded queue, so receiving, hashing and writing overlap
// while memory stays bounded.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sealrun/content/stream.h"

namespace sealrun::remote::detail {

struct TlsOptions {
    bool insecure = false;  // skip certificate verification
    std::string ca_file;    // extra CA bundle
};

// Deadlines bound every request in time (see RepositoryOptions): a
// connection must be up within `connect_timeout_s`, and a transfer moving
// fewer than `low_speed_limit` bytes/s (either way, headers included) for
// `stall_timeout_s` seconds fails with Error(network). A transfer paused
// because its reader is busy is not stalled.
struct Deadlines {
    long connect_timeout_s = 10;
    long low_speed_limit = 1024;
    long stall_timeout_s = 30;
};

// max_header_bytes caps a response's header section; a longer one fails the
// request with Error(too_large).
inline constexpr std::size_t max_header_bytes = 256 << 10;

struct Response {
    long status = 0;
    long http_version = 0;  // 11 for HTTP/1.1, 20 for HTTP/2
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
    std::string body;                                          // at most Request::max_body bytes
    // header returns the first header `name` (lowercase), if present.
    std::optional<std::string> header(std::string_view name) const;
    // all returns every value of header `name`.
    std::vector<std::string> all(std::string_view name) const;
};

// Body is what a request sends: nothing, bytes, or a stream of known length.
// Bytes must stay valid until perform() returns; a stream is read on the
// calling thread while the engine sends what it has read.
struct Body {
    std::string_view bytes;
    content::ReadStream* stream = nullptr;
    std::int64_t length = 0;
    bool has_body() const { return stream != nullptr || !bytes.empty() || length > 0; }
};

struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    Body body;
    // max_body caps the response body. A success (2xx) body that passes it
    // fails the request with Error(too_large) the moment it does; any other
    // body (only read for an error message) is cut at min(max_body, 64 KiB)
    // and the transfer stopped there, so the status still decides. Streamed
    // downloads (open_get) are bounded by their reader instead.
    std::size_t max_body = 1 << 20;
};

class EasyPool;
class Engine;
struct Job;

class Http {
public:
    explicit Http(TlsOptions tls, Deadlines deadlines = {});
    ~Http();
    Http(const Http&) = delete;
    Http& operator=(const Http&) = delete;

    // perform sends one request and waits for the whole response. Throws
    // Error(network) for transport failures and missed deadlines (with
    // curl's reason), Error(protocol) for a URL curl will not speak (any
    // scheme but http and https), Error(too_large) for a body or header
    // section past its cap. Safe to call from many threads at once.
    Response perform(const Request& request);

    // open_get starts a GET whose body is read pull-style through the
    // returned stream; `on_response` sees status and headers before the
    // first body byte is returned and may throw to refuse the response.
    // It runs on the engine thread. The stream must not outlive the Http.
    std::unique_ptr<content::ReadStream> open_get(const std::string& url, std::vector<std::string> headers,
                                                  std::function<void(const Response&)> on_response);

    // connections_opened counts the connections curl had to open so far
    // (the rest of the requests reused one).
    std::int64_t connections_opened() const;
    // blocks_allocated counts the body-queue blocks allocated so far; the
    // queues reuse drained blocks, so it stays small whatever the sizes.
    std::int64_t blocks_allocated() const { return blocks_allocated_.load(); }

private:
    // prepare makes a transfer of `request` on a pooled easy handle, its
    // body queue keeping at most `spare_limit` bytes of drained blocks.
    std::shared_ptr<Job> prepare(Request request, std::size_t spare_limit);

    TlsOptions tls_;
    Deadlines deadlines_;
    std::atomic<std::int64_t> blocks_allocated_{0};
    std::unique_ptr<EasyPool> pool_;
    std::unique_ptr<Engine> engine_;  // last: stopped before the pool goes
};

}  // namespace sealrun::remote::detail

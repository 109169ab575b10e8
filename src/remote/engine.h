#pragma once
// The curl engine under detail::Http: one curl multi handle driven by one
// thread. Callers hand it transfers (Job), ask it to resume one they fed or
// drained, or to drop one they gave up on; it reports completion through
// the Job. Its callbacks run on the engine thread and never run user code
// besides a download's response check. The one place curl's codes become
// sealrun errors is throw_curl. Internal to src/remote/.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "remote/body_queue.h"
#include "remote/curl.h"
#include "remote/http.h"

namespace sealrun::remote::detail {

// error_body_cap bounds the body of a non-success response (only read for
// an error message).
inline constexpr std::size_t error_body_cap = 64 << 10;

// throw_curl throws the sealrun::Error a failed transfer means: a URL curl
// will not speak is Error(protocol) (the peer's fault, never healed by
// retrying); everything else (refused or reset connections, missed
// deadlines, TLS failures) is Error(network), which may be retried.
[[noreturn]] void throw_curl(CURLcode code, const std::string& reason_text, const std::string& method,
                             const std::string& url);

// Easy is a pooled curl easy handle and its error buffer.
struct Easy {
    CurlEasy handle{curl_easy_init()};
    char errbuf[CURL_ERROR_SIZE] = {};
};

// EasyPool keeps easy handles for reuse and counts the connections their
// transfers opened.
class EasyPool {
public:
    // acquire returns a reset pooled handle or a new one; throws
    // Error(network) when curl cannot make one.
    std::unique_ptr<Easy> acquire();
    void release(std::unique_ptr<Easy> easy);
    std::atomic<std::int64_t> connections{0};

private:
    std::mutex mu_;
    std::vector<std::unique_ptr<Easy>> pool_;
};

// Job is one transfer: the request, its response, and the queue of body
// bytes between the engine thread and the caller's thread. Everything
// below `mu` is shared and guarded by it; the rest belongs to the engine
// while the transfer runs and to the caller once `done` is set.
struct Job {
    Job(Request r, std::size_t spare_limit, std::atomic<std::int64_t>* allocations)
        : request(std::move(r)), queue(spare_limit, allocations) {}

    Request request;
    CurlSlist header_list;
    std::unique_ptr<Easy> easy;
    Response response;
    std::size_t bytes_offset = 0;  // next byte of a bytes body to send
    // Downloads read through a stream: the body goes to `queue` after
    // on_response has accepted the response.
    bool streamed = false;
    bool checked = false;
    std::function<void(const Response&)> on_response;
    std::size_t header_bytes = 0;  // the response's header section so far
    bool cut = false;              // an error body reached its cap: the transfer was stopped on purpose

    std::mutex mu;
    std::condition_variable cv;
    BodyQueue queue;
    bool paused = false;        // the engine paused the transfer for the caller
    bool input_closed = false;  // uploads: the caller queued the whole body
    bool waiting = false;       // the caller sleeps on `cv` for the engine
    bool done = false;
    CURLcode result = CURLE_OK;
    std::string curl_error;
    std::exception_ptr error;  // thrown inside a callback

    // curl's callbacks, on the engine thread.
    static size_t on_header(char* data, size_t size, size_t n, void* self);
    static size_t on_body(char* data, size_t size, size_t n, void* self);
    static size_t on_read(char* out, size_t size, size_t n, void* self);
};

// Engine owns the multi handle and the thread that drives it.
class Engine {
public:
    explicit Engine(EasyPool& pool);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void start(std::shared_ptr<Job> job) { post(adds_, std::move(job)); }
    void resume(std::shared_ptr<Job> job) { post(resumes_, std::move(job)); }
    void drop(std::shared_ptr<Job> job) { post(drops_, std::move(job)); }

private:
    void post(std::vector<std::shared_ptr<Job>>& list, std::shared_ptr<Job> job);
    void run();
    // finish takes a job off the multi handle, returns its easy handle to
    // the pool and tells the caller.
    void finish(std::shared_ptr<Job> j, CURLcode result, bool added);

    EasyPool& pool_;
    CurlMulti multi_;
    std::mutex mu_;
    std::vector<std::shared_ptr<Job>> adds_, resumes_, drops_;
    bool stop_ = false;
    std::unordered_map<Job*, std::shared_ptr<Job>> live_;  // engine thread only
    std::thread thread_;
};

}  // namespace sealrun::remote::detail

#include "remote/http.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <thread>
#include <unordered_map>

#include <curl/curl.h>

#include "sealrun/error.h"
#include "util/handle.h"

namespace sealrun::remote::detail {

namespace {

using CurlEasy = util::Handle<CURL, curl_easy_cleanup>;
using CurlMulti = util::Handle<CURLM, curl_multi_cleanup>;
using CurlSlist = util::Handle<curl_slist, curl_slist_free_all>;
using CurlUrl = util::Handle<CURLU, curl_url_cleanup>;

// Bytes queued between the engine and a caller, per transfer: enough to
// keep both sides busy, small enough that memory does not grow with a blob.
constexpr std::size_t download_queue = 8 << 20;
constexpr std::size_t download_block = 1 << 20;
constexpr std::size_t upload_queue = 4 << 20;
constexpr std::size_t upload_block = 256 << 10;
constexpr std::size_t error_body_cap = 64 << 10;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The one place curl's codes become sealrun errors. A URL curl will not
// speak is the peer's fault and never heals by retrying; everything else
// (refused or reset connections, missed deadlines, TLS failures) is a
// network error the repository may retry.
[[noreturn]] void throw_curl(CURLcode code, const std::string& reason_text, const std::string& method,
                             const std::string& url) {
    const std::string reason = !reason_text.empty() ? reason_text : curl_easy_strerror(code);
    const bool bad_url = code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT;
    throw Error(bad_url ? Errc::protocol : Errc::network, method, url,
                reason + " (curl " + std::to_string(static_cast<int>(code)) + ")");
}

std::string cap_text(std::size_t bytes) {
    if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

CurlSlist make_headers(const std::vector<std::string>& headers) {
    curl_slist* list = nullptr;
    auto append = [&](const char* h) {
        auto* next = curl_slist_append(list, h);
        if (next == nullptr) {
            curl_slist_free_all(list);
            throw std::bad_alloc();
        }
        list = next;
    };
    for (const auto& h : headers) append(h.c_str());
    append("Expect:");  // no "100-continue" round trip before uploads
    return CurlSlist(list);
}

}  // namespace

struct Http::Easy {
    CurlEasy handle{curl_easy_init()};
    char errbuf[CURL_ERROR_SIZE] = {};
};

// Job is one transfer: the request, its response, and the queue of body
// bytes between the engine thread and the caller's thread. Everything
// below `mu` is shared and guarded by it; the rest belongs to the engine
// while the transfer runs and to the caller once `done` is set.
struct Http::Job {
    Request request;
    CurlSlist header_list;
    std::unique_ptr<Easy> easy;
    Response response;
    std::size_t bytes_offset = 0;  // next byte of a bytes body to send
    // Downloads read through a stream: the body goes to `blocks` after
    // on_response has accepted the response.
    bool streamed = false;
    bool checked = false;
    std::function<void(const Response&)> on_response;
    std::size_t header_bytes = 0;  // the response's header section so far
    bool cut = false;              // an error body reached its cap: the transfer was stopped on purpose

    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::vector<std::byte>> blocks;  // body bytes in flight, either direction
    std::vector<std::vector<std::byte>> spare;  // drained blocks, reused
    std::size_t spare_bytes = 0;                // capacity held in `spare`
    std::size_t spare_limit = 0;                // a full queue's worth: blocks are only allocated
                                                // when none is spare, so this costs no extra memory
    std::size_t held = 0;                       // bytes in `blocks`
    std::size_t front_pos = 0;                  // uploads: the engine's position in blocks.front()
    bool paused = false;                        // the engine paused the transfer for the caller
    bool input_closed = false;                  // uploads: the caller queued the whole body
    bool waiting = false;                       // the caller sleeps on `cv` for the engine
    bool done = false;
    CURLcode result = CURLE_OK;
    std::string curl_error;
    std::exception_ptr error;  // thrown inside a callback
    std::atomic<std::int64_t>* allocations = nullptr;  // the Http's count of blocks allocated

    // give_back keeps a drained block for reuse, up to `spare_limit` bytes
    // of them. New blocks are made only when none is spare, so the blocks
    // alive never outnumber the most ever in flight at once.
    void give_back(std::vector<std::byte> b) {
        if (b.capacity() == 0 || spare_bytes + b.capacity() > spare_limit) return;
        spare_bytes += b.capacity();
        spare.push_back(std::move(b));
    }

    // take_spare returns a block of `size` bytes with room for `capacity`,
    // reusing a drained one when it can.
    std::vector<std::byte> take_spare(std::size_t size, std::size_t capacity) {
        std::vector<std::byte> b;
        if (!spare.empty()) {
            b = std::move(spare.back());
            spare.pop_back();
            spare_bytes -= b.capacity();
        }
        if (b.capacity() < capacity) {
            ++*allocations;
            b.reserve(capacity);
        }
        b.resize(size);
        return b;
    }

    // ---- engine-thread callbacks
    static size_t on_header(char* data, size_t size, size_t n, void* self) {
        auto* j = static_cast<Job*>(self);
        const std::string_view line(data, size * n);
        j->header_bytes += line.size();
        if (j->header_bytes > max_header_bytes) {  // an endless header section: stop receiving it
            std::lock_guard lock(j->mu);
            j->error = std::make_exception_ptr(Error(Errc::too_large, j->request.method, j->request.url,
                                                     "response headers exceed " + cap_text(max_header_bytes)));
            return 0;  // aborts the transfer
        }
        if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue)
            j->header_bytes = line.size();
            j->response.headers.clear();
            const auto sp = line.find(' ');
            if (sp != std::string_view::npos)
                j->response.status = std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
            return size * n;
        }
        const auto colon = line.find(':');
        if (colon != std::string_view::npos)
            j->response.headers.emplace_back(lower(std::string(line.substr(0, colon))), trim(line.substr(colon + 1)));
        return size * n;
    }

    static size_t on_body(char* data, size_t size, size_t n, void* self) {
        auto* j = static_cast<Job*>(self);
        const auto len = size * n;
        auto& resp = j->response;
        const bool success = resp.status >= 200 && resp.status < 300;
        if (!j->streamed || !success) {  // kept whole, capped: an error body is only for the message
            const auto cap = success ? j->request.max_body : std::min(j->request.max_body, error_body_cap);
            const auto room = cap - std::min(cap, resp.body.size());
            resp.body.append(data, std::min(room, len));
            if (len <= room) return len;
            // Past the cap: stop the transfer now rather than receive (and
            // drop) whatever the peer keeps sending.
            if (success) {
                std::lock_guard lock(j->mu);
                j->error = std::make_exception_ptr(Error(Errc::too_large, j->request.method, j->request.url,
                                                         "response body exceeds " + cap_text(cap)));
            } else {
                j->cut = true;  // the status decides the error; the message needs no more
            }
            return CURL_WRITEFUNC_ERROR;
        }
        if (!j->checked) {
            j->checked = true;
            try {
                j->on_response(resp);
            } catch (...) {
                std::lock_guard lock(j->mu);
                j->error = std::current_exception();
                return 0;  // aborts the transfer
            }
        }
        bool wake = false;
        {
            std::lock_guard lock(j->mu);
            if (j->held >= download_queue) {
                j->paused = true;
                return CURL_WRITEFUNC_PAUSE;  // curl hands these bytes again after unpausing
            }
            // Coalesce into large blocks: the reader gets big reads, so it
            // hashes and writes in few large steps.
            if (j->blocks.empty() || j->blocks.back().capacity() - j->blocks.back().size() < len) {
                auto block = j->take_spare(0, std::max(len, download_block));
                j->blocks.push_back(std::move(block));
            }
            auto& back = j->blocks.back();
            const auto* bytes = reinterpret_cast<const std::byte*>(data);
            back.insert(back.end(), bytes, bytes + len);
            j->held += len;
            wake = j->waiting;
        }
        if (wake) j->cv.notify_all();
        return len;
    }

    static size_t on_read(char* out, size_t size, size_t n, void* self) {
        auto* j = static_cast<Job*>(self);
        const auto want = size * n;
        const auto& body = j->request.body;
        if (body.stream == nullptr) {
            const auto k = std::min(body.bytes.size() - j->bytes_offset, want);
            if (k > 0) std::memcpy(out, body.bytes.data() + j->bytes_offset, k);
            j->bytes_offset += k;
            return k;
        }
        std::size_t k = 0;
        bool wake = false;
        {
            std::lock_guard lock(j->mu);
            while (k < want && !j->blocks.empty()) {
                auto& front = j->blocks.front();
                const auto m = std::min(want - k, front.size() - j->front_pos);
                std::memcpy(out + k, front.data() + j->front_pos, m);
                k += m;
                j->front_pos += m;
                j->held -= m;
                if (j->front_pos == front.size()) {
                    j->give_back(std::move(front));
                    j->blocks.pop_front();
                    j->front_pos = 0;
                }
            }
            if (k == 0 && !j->input_closed) {
                j->paused = true;
                return CURL_READFUNC_PAUSE;
            }
            wake = j->waiting;
        }
        if (wake) j->cv.notify_all();
        return k;  // 0 once the caller closed its input: the end of the body
    }
};

// Engine owns the multi handle and the thread that drives it. Callers hand
// it jobs, and ask it to resume a job they fed or drained, or to drop one
// they gave up on; it reports completion through the job.
class Http::Engine {
public:
    explicit Engine(Http& http) : http_(http), multi_(curl_multi_init()) {
        if (!multi_) throw Error(Errc::network, "http", "", "curl_multi_init failed");
        curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, 32L);
        thread_ = std::thread([this] { run(); });
    }

    ~Engine() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        curl_multi_wakeup(multi_.get());
        thread_.join();
    }

    void start(std::shared_ptr<Job> job) { post(adds_, std::move(job)); }
    void resume(std::shared_ptr<Job> job) { post(resumes_, std::move(job)); }
    void drop(std::shared_ptr<Job> job) { post(drops_, std::move(job)); }

private:
    void post(std::vector<std::shared_ptr<Job>>& list, std::shared_ptr<Job> job) {
        {
            std::lock_guard lock(mu_);
            list.push_back(std::move(job));
        }
        curl_multi_wakeup(multi_.get());
    }

    void run() {
        for (;;) {
            std::vector<std::shared_ptr<Job>> adds, resumes, drops;
            bool stop = false;
            {
                std::lock_guard lock(mu_);
                adds.swap(adds_);
                resumes.swap(resumes_);
                drops.swap(drops_);
                stop = stop_;
            }
            for (auto& j : adds) {
                if (curl_multi_add_handle(multi_.get(), j->easy->handle.get()) != CURLM_OK) {
                    finish(j, CURLE_FAILED_INIT, false);
                    continue;
                }
                live_.emplace(j.get(), j);
            }
            for (auto& j : drops)
                if (live_.contains(j.get())) finish(j, CURLE_ABORTED_BY_CALLBACK, true);
            for (auto& j : resumes) {
                if (!live_.contains(j.get())) continue;
                curl_easy_pause(j->easy->handle.get(), CURLPAUSE_CONT);  // may call back at once
            }
            if (stop) {
                while (!live_.empty()) finish(live_.begin()->second, CURLE_ABORTED_BY_CALLBACK, true);
                return;
            }
            int running = 0;
            curl_multi_perform(multi_.get(), &running);
            int queued = 0;
            while (CURLMsg* m = curl_multi_info_read(multi_.get(), &queued)) {
                if (m->msg != CURLMSG_DONE) continue;
                Job* raw = nullptr;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &raw);
                const auto result = m->data.result;
                if (auto it = live_.find(raw); it != live_.end()) finish(it->second, result, true);
            }
            curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
        }
    }

    // finish takes a job off the multi handle, returns its easy handle to
    // the pool and tells the caller.
    void finish(std::shared_ptr<Job> j, CURLcode result, bool added) {
        CURL* h = j->easy->handle.get();
        long status = 0, version = 0, connects = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        http_.connections_ += connects;
        if (added) curl_multi_remove_handle(multi_.get(), h);
        live_.erase(j.get());
        {
            std::lock_guard lock(j->mu);
            if (status != 0) j->response.status = status;
            j->response.http_version = version == CURL_HTTP_VERSION_2_0 ? 20
                                       : version == CURL_HTTP_VERSION_1_0 ? 10
                                       : version == CURL_HTTP_VERSION_1_1 ? 11
                                                                          : 0;
            // An error body cut at its cap ends the transfer early on purpose.
            j->result = result == CURLE_WRITE_ERROR && j->cut ? CURLE_OK : result;
            j->curl_error = j->easy->errbuf;
            j->done = true;
        }
        http_.release(std::move(j->easy));
        j->cv.notify_all();
    }

    Http& http_;
    CurlMulti multi_;
    std::mutex mu_;
    std::vector<std::shared_ptr<Job>> adds_, resumes_, drops_;
    bool stop_ = false;
    std::unordered_map<Job*, std::shared_ptr<Job>> live_;  // engine thread only
    std::thread thread_;
};

Http::Http(TlsOptions tls, Deadlines deadlines) : tls_(std::move(tls)), deadlines_(deadlines) {
    global_init();
    engine_ = std::make_unique<Engine>(*this);
}

Http::~Http() = default;

std::unique_ptr<Http::Easy> Http::acquire() {
    {
        std::lock_guard lock(mu_);
        if (!pool_.empty()) {
            auto e = std::move(pool_.back());
            pool_.pop_back();
            curl_easy_reset(e->handle.get());
            return e;
        }
    }
    auto e = std::make_unique<Easy>();
    if (!e->handle) throw Error(Errc::network, "http", "", "curl_easy_init failed");
    return e;
}

void Http::release(std::unique_ptr<Easy> easy) {
    std::lock_guard lock(mu_);
    pool_.push_back(std::move(easy));
}

std::shared_ptr<Http::Job> Http::prepare(Request r) {
    auto job = std::make_shared<Job>();
    job->allocations = &blocks_allocated_;
    job->request = std::move(r);
    job->header_list = make_headers(job->request.headers);
    job->easy = acquire();
    const auto& req = job->request;
    CURL* h = job->easy->handle.get();
    job->easy->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_PRIVATE, job.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, job->easy->errbuf);
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, job->header_list.get());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);  // prefer a stream on a live HTTP/2 connection
    // A stalled transfer is a failure, not a hang: headers that never come,
    // a drip-fed body and a body that stops mid-way all fall under the speed
    // limit (curl averages over the last seconds, so a byte now and then
    // does not count as progress). Paused transfers are not checked.
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, std::max(deadlines_.connect_timeout_s, 1L));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, std::max(deadlines_.low_speed_limit, 1L));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(deadlines_.stall_timeout_s, 1L));
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls_.insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls_.insecure ? 0L : 2L);
    if (!tls_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls_.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Job::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, job.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Job::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, job.get());
    if (req.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (req.body.has_body() || req.method == "PUT" || req.method == "PATCH" || req.method == "POST") {
        const auto len = req.body.stream != nullptr ? req.body.length : static_cast<std::int64_t>(req.body.bytes.size());
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &Job::on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, job.get());
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(len));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    return job;
}

Response Http::perform(const Request& request) {
    auto job = prepare(request);
    job->spare_limit = upload_queue + upload_block;
    engine_->start(job);
    std::exception_ptr input_error;
    if (auto* stream = request.body.stream) {
        // Read (and hash) the body here while the engine sends what is queued.
        try {
            for (;;) {
                std::vector<std::byte> block;
                {
                    std::lock_guard lock(job->mu);
                    block = job->take_spare(upload_block, upload_block);
                }
                const auto n = content::read_fully(*stream, block);  // whole blocks: fewer, reused
                block.resize(n);
                std::unique_lock lock(job->mu);
                if (n == 0) {
                    job->input_closed = true;
                } else {
                    job->waiting = true;
                    job->cv.wait(lock, [&] { return job->done || job->held < upload_queue; });
                    job->waiting = false;
                    if (job->done) break;  // the server answered before taking the whole body
                    job->held += n;
                    job->blocks.push_back(std::move(block));
                }
                const bool wake = std::exchange(job->paused, false);
                lock.unlock();
                if (wake) engine_->resume(job);
                if (n == 0) break;
            }
        } catch (...) {
            input_error = std::current_exception();
            engine_->drop(job);
        }
    }
    std::unique_lock lock(job->mu);
    job->cv.wait(lock, [&] { return job->done; });
    if (input_error) std::rethrow_exception(input_error);
    if (job->error) std::rethrow_exception(job->error);
    if (job->result != CURLE_OK) throw_curl(job->result, job->curl_error, request.method, request.url);
    return std::move(job->response);
}

// PullStream reads one GET's body from the engine's queue; the engine
// pauses the transfer while the queue is full and the reader resumes it.
class PullStream final : public content::ReadStream {
public:
    PullStream(Http& http, std::shared_ptr<Http::Job> job) : http_(http), job_(std::move(job)) {}

    ~PullStream() override {
        bool running = false;
        {
            std::lock_guard lock(job_->mu);
            running = !job_->done;
        }
        if (running) http_.engine_->drop(job_);
    }

    std::size_t read(std::span<std::byte> out) override {
        std::size_t got = 0;
        for (;;) {
            if (const auto n = std::min(out.size() - got, current_.size() - pos_); n > 0) {
                std::memcpy(out.data() + got, current_.data() + pos_, n);
                pos_ += n;
                got += n;
            }
            if (got == out.size()) return got;
            std::unique_lock lock(job_->mu);
            job_->give_back(std::move(current_));
            current_.clear();
            pos_ = 0;
            if (job_->blocks.empty()) {
                if (got > 0) return got;  // what is here now; do not wait for more
                job_->waiting = true;
                job_->cv.wait(lock, [&] { return job_->done || !job_->blocks.empty(); });
                job_->waiting = false;
            }
            if (job_->blocks.empty()) {  // done, and everything delivered
                lock.unlock();
                finish();
                return 0;
            }
            current_ = std::move(job_->blocks.front());
            job_->blocks.pop_front();
            job_->held -= current_.size();
            const bool wake = job_->paused && job_->held <= download_queue / 2 && std::exchange(job_->paused, false);
            lock.unlock();
            if (wake) http_.engine_->resume(job_);
        }
    }

private:
    void finish() {  // called with the job done
        auto& j = *job_;
        if (j.error) std::rethrow_exception(j.error);
        if (j.result != CURLE_OK) throw_curl(j.result, j.curl_error, "GET", j.request.url);
        if (!j.checked) {  // no body bytes arrived: still let the caller judge the response
            j.checked = true;
            j.on_response(j.response);
        }
    }

    Http& http_;
    std::shared_ptr<Http::Job> job_;
    std::vector<std::byte> current_;
    std::size_t pos_ = 0;
};

std::unique_ptr<content::ReadStream> Http::open_get(const std::string& url, std::vector<std::string> headers,
                                                    std::function<void(const Response&)> on_response) {
    auto job = prepare(Request{.url = url, .headers = std::move(headers)});
    job->streamed = true;
    job->spare_limit = download_queue + download_block;
    job->on_response = std::move(on_response);
    auto stream = std::make_unique<PullStream>(*this, job);
    engine_->start(std::move(job));
    return stream;
}
std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return std::nullopt;
}

std::vector<std::string> Response::all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers)
        if (k == name) out.push_back(v);
    return out;
}

std::string resolve_url(const std::string& base, const std::string& location) {
    global_init();
    CurlUrl u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK)
        throw Error(Errc::protocol, "resolve url", base, "not a URL");
    // A relative URL set on a handle that holds one resolves against it.
    if (curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK)
        throw Error(Errc::protocol, "resolve url", location.substr(0, 300), "not a URL reference");
    char* out = nullptr;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &out, 0) != CURLUE_OK || out == nullptr)
        throw Error(Errc::protocol, "resolve url", location.substr(0, 300), "has no scheme");
    const auto scheme = lower(out);
    curl_free(out);
    out = nullptr;
    if (scheme != "http" && scheme != "https")
        throw Error(Errc::protocol, "resolve url", location.substr(0, 300),
                    "leads to an unsupported scheme (only http and https are followed)");
    if (curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK || out == nullptr)
        throw Error(Errc::protocol, "resolve url", location.substr(0, 300), "cannot be resolved");
    std::string s(out);
    curl_free(out);
    return s;
}

std::string origin(const std::string& url) {
    global_init();
    CurlUrl u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
    auto part = [&](CURLUPart p, unsigned flags) {
        char* out = nullptr;
        std::string s;
        if (curl_url_get(u.get(), p, &out, flags) == CURLUE_OK && out != nullptr) s = out;
        curl_free(out);
        return s;
    };
    return lower(part(CURLUPART_SCHEME, 0)) + "://" + lower(part(CURLUPART_HOST, 0)) + ":" +
           part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

std::string url_escape(std::string_view s) {
    global_init();
    char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
    std::string out = e != nullptr ? e : "";
    curl_free(e);
    return out;
}

}  // namespace sealrun::remote::detail

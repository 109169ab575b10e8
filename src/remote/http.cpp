// The Http front of the transport: a request becomes a transfer on a
// pooled easy handle (every curl option is set here), perform() feeds an
// upload's body and waits, open_get() hands back a download as a stream.
#include "remote/http.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include "remote/engine.h"
#include "sealrun/error.h"

namespace sealrun::remote::detail {

namespace {

CurlSlist make_headers(const std::vector<std::string>& headers) {
    CurlSlist list;
    auto append = [&](const char* h) {
        auto* head = curl_slist_append(list.get(), h);
        if (head == nullptr) throw std::bad_alloc();  // `list` still owns what it held
        (void)list.release();  // the same head, or the first node of an empty list
        list.reset(head);
    };
    for (const auto& h : headers) append(h.c_str());
    append("Expect:");  // no "100-continue" round trip before uploads
    return list;
}

}  // namespace

Http::Http(TlsOptions tls, Deadlines deadlines)
    : tls_(std::move(tls)), deadlines_(deadlines), pool_(std::make_unique<EasyPool>()) {
    global_init();
    engine_ = std::make_unique<Engine>(*pool_);
}

Http::~Http() = default;

std::int64_t Http::connections_opened() const { return pool_->connections.load(); }

std::shared_ptr<Job> Http::prepare(Request r, std::size_t spare_limit) {
    auto job = std::make_shared<Job>(std::move(r), spare_limit, &blocks_allocated_);
    job->header_list = make_headers(job->request.headers);
    job->easy = pool_->acquire();
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
    auto job = prepare(request, upload_queue + upload_block);
    engine_->start(job);
    std::exception_ptr input_error;
    if (auto* stream = request.body.stream) {
        // Read (and hash) the body here while the engine sends what is queued.
        try {
            for (;;) {
                std::vector<std::byte> block;
                {
                    std::lock_guard lock(job->mu);
                    block = job->queue.take_spare(upload_block, upload_block);
                }
                const auto n = content::read_fully(*stream, block);  // whole blocks: fewer, reused
                block.resize(n);
                std::unique_lock lock(job->mu);
                if (n == 0) {
                    job->input_closed = true;
                } else {
                    job->waiting = true;
                    job->cv.wait(lock, [&] { return job->done || job->queue.held() < upload_queue; });
                    job->waiting = false;
                    if (job->done) break;  // the server answered before taking the whole body
                    job->queue.push(std::move(block));
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
    PullStream(Engine& engine, std::shared_ptr<Job> job) : engine_(engine), job_(std::move(job)) {}

    ~PullStream() override {
        bool running = false;
        {
            std::lock_guard lock(job_->mu);
            running = !job_->done;
        }
        if (running) engine_.drop(job_);
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
            job_->queue.give_back(std::move(current_));
            current_.clear();
            pos_ = 0;
            if (job_->queue.empty()) {
                if (got > 0) return got;  // what is here now; do not wait for more
                job_->waiting = true;
                job_->cv.wait(lock, [&] { return job_->done || !job_->queue.empty(); });
                job_->waiting = false;
            }
            if (job_->queue.empty()) {  // done, and everything delivered
                lock.unlock();
                finish();
                return 0;
            }
            current_ = job_->queue.pop();
            const bool wake = job_->paused && job_->queue.held() <= download_queue / 2 && std::exchange(job_->paused, false);
            lock.unlock();
            if (wake) engine_.resume(job_);
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

    Engine& engine_;
    std::shared_ptr<Job> job_;
    std::vector<std::byte> current_;
    std::size_t pos_ = 0;
};

std::unique_ptr<content::ReadStream> Http::open_get(const std::string& url, std::vector<std::string> headers,
                                                    std::function<void(const Response&)> on_response) {
    auto job = prepare(Request{.url = url, .headers = std::move(headers)}, download_queue + download_block);
    job->streamed = true;
    job->on_response = std::move(on_response);
    auto stream = std::make_unique<PullStream>(*engine_, job);
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

}  // namespace sealrun::remote::detail

// The curl engine: transfers' callbacks, the multi handle's thread, the
// pool of easy handles, and the one translation of curl's codes.
#include "remote/engine.h"

#include <algorithm>
#include <cstring>

#include "remote/url.h"
#include "sealrun/error.h"

namespace sealrun::remote::detail {

namespace {

std::string cap_text(std::size_t bytes) {
    if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

}  // namespace

// The one place curl's codes become sealrun errors.
[[noreturn]] void throw_curl(CURLcode code, const std::string& reason_text, const std::string& method,
                             const std::string& url) {
    const std::string reason = !reason_text.empty() ? reason_text : curl_easy_strerror(code);
    const bool bad_url = code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT;
    throw Error(bad_url ? Errc::protocol : Errc::network, method, url,
                reason + " (curl " + std::to_string(static_cast<int>(code)) + ")");
}

std::unique_ptr<Easy> EasyPool::acquire() {
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

void EasyPool::release(std::unique_ptr<Easy> easy) {
    std::lock_guard lock(mu_);
    pool_.push_back(std::move(easy));
}

// ---- curl's callbacks, on the engine thread

size_t Job::on_header(char* data, size_t size, size_t n, void* self) {
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
        j->response.headers.emplace_back(lowercase(std::string(line.substr(0, colon))), trim(line.substr(colon + 1)));
    return size * n;
}

size_t Job::on_body(char* data, size_t size, size_t n, void* self) {
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
        if (j->queue.held() >= download_queue) {
            j->paused = true;
            return CURL_WRITEFUNC_PAUSE;  // curl hands these bytes again after unpausing
        }
        // Coalesce into large blocks: the reader gets big reads, so it
        // hashes and writes in few large steps.
        j->queue.append(std::as_bytes(std::span(data, len)), download_block);
        wake = j->waiting;
    }
    if (wake) j->cv.notify_all();
    return len;
}

size_t Job::on_read(char* out, size_t size, size_t n, void* self) {
    auto* j = static_cast<Job*>(self);
    const auto want = size * n;
    const auto& body = j->request.body;
    if (body.stream == nullptr) {
        const auto k = std::min(body.bytes.size() - j->bytes_offset, want);
        if (k > 0) std::memcpy(out, body.bytes.data() + j->bytes_offset, k);
        j->bytes_offset += k;
        return k;
    }
    bool wake = false;
    std::size_t k = 0;
    {
        std::lock_guard lock(j->mu);
        k = j->queue.copy_out(std::as_writable_bytes(std::span(out, want)));
        if (k == 0 && !j->input_closed) {
            j->paused = true;
            return CURL_READFUNC_PAUSE;
        }
        wake = j->waiting;
    }
    if (wake) j->cv.notify_all();
    return k;  // 0 once the caller closed its input: the end of the body
}

// ---- the engine

Engine::Engine(EasyPool& pool) : pool_(pool), multi_(curl_multi_init()) {
    if (!multi_) throw Error(Errc::network, "http", "", "curl_multi_init failed");
    curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, 32L);
    thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    curl_multi_wakeup(multi_.get());
    thread_.join();
}

void Engine::post(std::vector<std::shared_ptr<Job>>& list, std::shared_ptr<Job> job) {
    {
        std::lock_guard lock(mu_);
        list.push_back(std::move(job));
    }
    curl_multi_wakeup(multi_.get());
}

void Engine::run() {
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

void Engine::finish(std::shared_ptr<Job> j, CURLcode result, bool added) {
    CURL* h = j->easy->handle.get();
    long status = 0, version = 0, connects = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    pool_.connections += connects;
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
    pool_.release(std::move(j->easy));
    j->cv.notify_all();
}

}  // namespace sealrun::remote::detail

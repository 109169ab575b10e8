#include "remote/http.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include <curl/curl.h>

#include "sealrun/error.h"
#include "util/handle.h"

namespace sealrun::remote::detail {

namespace {

using CurlEasy = util::Handle<CURL, curl_easy_cleanup>;
using CurlMulti = util::Handle<CURLM, curl_multi_cleanup>;
using CurlSlist = util::Handle<curl_slist, curl_slist_free_all>;
using CurlUrl = util::Handle<CURLU, curl_url_cleanup>;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The one place curl's codes become sealrun errors.
[[noreturn]] void throw_curl(CURLcode code, const char* errbuf, const std::string& method, const std::string& url) {
    std::string reason = (errbuf != nullptr && errbuf[0] != '\0') ? errbuf : curl_easy_strerror(code);
    throw Error(Errc::network, method, url, reason + " (curl " + std::to_string(static_cast<int>(code)) + ")");
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
    for (const auto& h : headers) {
        auto* next = curl_slist_append(list, h.c_str());
        if (next == nullptr) {
            curl_slist_free_all(list);
            throw std::bad_alloc();
        }
        list = next;
    }
    // No "Expect: 100-continue" round trip before uploads.
    auto* next = curl_slist_append(list, "Expect:");
    if (next == nullptr) {
        curl_slist_free_all(list);
        throw std::bad_alloc();
    }
    return CurlSlist(next);
}

// Transfer is the per-request state curl's callbacks write into.
struct Transfer {
    Response response;
    const Request* request = nullptr;
    std::size_t body_offset = 0;  // for bytes bodies
    std::exception_ptr error;
    bool headers_done = false;

    static size_t on_header(char* data, size_t size, size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        const std::string_view line(data, size * n);
        if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue)
            t->response.headers.clear();
            const auto sp = line.find(' ');
            if (sp != std::string_view::npos)
                t->response.status = std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
            return size * n;
        }
        const auto colon = line.find(':');
        if (colon != std::string_view::npos)
            t->response.headers.emplace_back(lower(std::string(line.substr(0, colon))), trim(line.substr(colon + 1)));
        return size * n;
    }

    static size_t on_body(char* data, size_t size, size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        const auto len = size * n;
        try {
            if (t->request->sink && t->response.status >= 200 && t->response.status < 300) {
                t->request->sink(data, len);
            } else {
                const auto room = t->request->max_body - std::min(t->request->max_body, t->response.body.size());
                t->response.body.append(data, std::min(room, len));  // error bodies are capped, not fatal
            }
        } catch (...) {
            t->error = std::current_exception();
            return 0;  // aborts the transfer
        }
        return len;
    }

    static size_t on_read(char* out, size_t size, size_t n, void* self) {
        auto* t = static_cast<Transfer*>(self);
        const auto want = size * n;
        const auto& body = t->request->body;
        if (body.stream == nullptr) {
            const auto left = body.bytes.size() - t->body_offset;
            const auto k = std::min(left, want);
            std::memcpy(out, body.bytes.data() + t->body_offset, k);
            t->body_offset += k;
            return k;
        }
        try {
            return body.stream->read(std::as_writable_bytes(std::span(out, want)));
        } catch (...) {
            t->error = std::current_exception();
            return CURL_READFUNC_ABORT;
        }
    }
};

}  // namespace

struct Http::Easy {
    CurlEasy handle{curl_easy_init()};
    char errbuf[CURL_ERROR_SIZE] = {};
};

Http::Http(TlsOptions tls) : tls_(std::move(tls)) { global_init(); }
Http::~Http() = default;

std::unique_ptr<Http::Easy> Http::acquire() {
    {
        std::lock_guard lock(mu_);
        if (!pool_.empty()) {
            auto e = std::move(pool_.back());
            pool_.pop_back();
            curl_easy_reset(e->handle.get());  // keeps live connections and TLS sessions
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

namespace {

void setup(CURL* h, char* errbuf, const TlsOptions& tls, const Request& r, Transfer& t, curl_slist* headers) {
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled transfer (under 1 byte/s for 60 s) is a failure, not a hang.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.insecure ? 0L : 2L);
    if (!tls.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    if (r.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (r.body.has_body() || r.method == "PUT" || r.method == "PATCH" || r.method == "POST") {
        const auto len = r.body.stream != nullptr ? r.body.length : static_cast<std::int64_t>(r.body.bytes.size());
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &Transfer::on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &t);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(len));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
}

}  // namespace

Response Http::perform(const Request& request) {
    auto easy = acquire();
    struct Lease {  // the handle goes back to the pool whatever happens
        Http& http;
        std::unique_ptr<Easy>& easy;
        ~Lease() { http.release(std::move(easy)); }
    } lease{*this, easy};
    Transfer t;
    t.request = &request;
    auto headers = make_headers(request.headers);
    setup(easy->handle.get(), easy->errbuf, tls_, request, t, headers.get());
    const auto code = curl_easy_perform(easy->handle.get());
    if (t.error) std::rethrow_exception(t.error);
    if (code != CURLE_OK) throw_curl(code, easy->errbuf, request.method, request.url);
    long status = 0;
    curl_easy_getinfo(easy->handle.get(), CURLINFO_RESPONSE_CODE, &status);
    t.response.status = status;
    return std::move(t.response);
}

// PullStream drives one GET with the multi interface, pausing the transfer
// while the reader is behind, so a blob streams with bounded memory.
class PullStream final : public content::ReadStream {
public:
    PullStream(Http& http, std::unique_ptr<Http::Easy> easy, const TlsOptions& tls, std::string url,
               std::vector<std::string> headers, std::function<void(const Response&)> on_response)
        : http_(http), easy_(std::move(easy)), url_(std::move(url)), on_response_(std::move(on_response)),
          multi_(curl_multi_init()) {
        request_.url = url_;
        request_.headers = std::move(headers);
        headers_ = make_headers(request_.headers);
        transfer_.request = &request_;
        setup(easy_->handle.get(), easy_->errbuf, tls, request_, transfer_, headers_.get());
        curl_easy_setopt(easy_->handle.get(), CURLOPT_WRITEFUNCTION, &PullStream::on_body);
        curl_easy_setopt(easy_->handle.get(), CURLOPT_WRITEDATA, this);
        if (!multi_ || curl_multi_add_handle(multi_.get(), easy_->handle.get()) != CURLM_OK)
            throw Error(Errc::network, "GET", url_, "cannot start transfer");
    }

    ~PullStream() override {
        curl_multi_remove_handle(multi_.get(), easy_->handle.get());
        http_.release(std::move(easy_));
    }

    std::size_t read(std::span<std::byte> out) override {
        while (pos_ == buf_.size()) {
            buf_.clear();
            pos_ = 0;
            if (done_) {
                finish();
                return 0;
            }
            if (paused_) {
                paused_ = false;
                curl_easy_pause(easy_->handle.get(), CURLPAUSE_CONT);
            }
            int running = 0;
            curl_multi_perform(multi_.get(), &running);
            if (error_) std::rethrow_exception(error_);
            int queued = 0;
            while (CURLMsg* m = curl_multi_info_read(multi_.get(), &queued)) {
                if (m->msg == CURLMSG_DONE) {
                    done_ = true;
                    result_ = m->data.result;
                }
            }
            if (!done_ && buf_.empty() && !paused_) curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
        }
        const auto n = std::min(out.size(), buf_.size() - pos_);
        std::memcpy(out.data(), buf_.data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    static constexpr std::size_t high_water = 4 << 20;

    static size_t on_body(char* data, size_t size, size_t n, void* self) {
        auto* p = static_cast<PullStream*>(self);
        const auto len = size * n;
        auto& resp = p->transfer_.response;
        if (resp.status < 200 || resp.status >= 300) {  // an error body: keep some for the message
            const auto room = std::size_t{64 * 1024} - std::min<std::size_t>(64 * 1024, resp.body.size());
            resp.body.append(data, std::min(room, len));
            return len;
        }
        if (!p->checked_) {
            try {
                p->checked_ = true;
                p->on_response_(resp);
            } catch (...) {
                p->error_ = std::current_exception();
                return 0;
            }
        }
        if (p->buf_.size() - p->pos_ >= high_water) {
            p->paused_ = true;
            return CURL_WRITEFUNC_PAUSE;  // curl hands these bytes again after unpausing
        }
        p->buf_.append(data, len);
        return len;
    }

    void finish() {
        if (error_) std::rethrow_exception(error_);
        if (result_ != CURLE_OK) throw_curl(result_, easy_->errbuf, "GET", url_);
        if (!checked_) {  // no body bytes reached the reader: still let the caller judge the response
            checked_ = true;
            on_response_(transfer_.response);
        }
    }

    Http& http_;
    std::unique_ptr<Http::Easy> easy_;
    std::string url_;
    std::function<void(const Response&)> on_response_;
    CurlMulti multi_;
    Request request_;
    CurlSlist headers_;
    Transfer transfer_;
    std::string buf_;
    std::size_t pos_ = 0;
    bool paused_ = false;
    bool done_ = false;
    bool checked_ = false;
    CURLcode result_ = CURLE_OK;
    std::exception_ptr error_;
};

std::unique_ptr<content::ReadStream> Http::open_get(const std::string& url, std::vector<std::string> headers,
                                                    std::function<void(const Response&)> on_response) {
    return std::make_unique<PullStream>(*this, acquire(), tls_, url, std::move(headers), std::move(on_response));
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

// Registry repository: fetching and pushing content. Blobs stream both
// ways with bounded memory; every byte is verified against its digest.
#include <algorithm>
#include <cstring>
#include <functional>
#include <future>
#include <optional>

#include "remote/repository_impl.h"
#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::remote {

using detail::Request;
using detail::Response;

namespace {

// Refused is raised inside a download's response check for any answer
// but the one expected (200, or 206 for a resumed download); BlobStream
// hands it to its Call.
struct Refused {
    Response response;
};

// BlobStream downloads one blob pull-style under one detail::Call: a
// connection that drops mid-way is resumed with a Range request from the
// last byte delivered; a redirect to blob storage is followed without our
// Authorization; a 401 authenticates; retries keep the Call's budget.
class BlobStream final : public content::ReadStream {
public:
    BlobStream(Repository::Impl& repo, oci::Descriptor desc)
        : repo_(repo),
          desc_(std::move(desc)),
          call_(repo_.call(repo_.url("/blobs/" + desc_.digest.str()), repo_.pull_scope(), true, true)) {}

    std::size_t read(std::span<std::byte> out) override {
        for (;;) {
            try {
                if (!inner_) open();
                const auto n = inner_->read(out);
                delivered_ += static_cast<std::int64_t>(n);
                call_.delivered(delivered_);
                return n;
            } catch (const Refused& r) {
                inner_.reset();
                if (call_.after(r.response) == detail::Call::Next::done) repo_.fail(r.response, "fetch", desc_.digest.str());
            } catch (const Error& e) {
                inner_.reset();
                if (!call_.retry(e)) throw;
                // then resume where the bytes stopped
            }
        }
    }

private:
    void open() {
        std::vector<std::string> headers;
        call_.authorize(headers);
        if (delivered_ > 0) headers.push_back("Range: bytes=" + std::to_string(delivered_) + "-");
        const auto from = delivered_;
        call_.begin_attempt();
        inner_ = repo_.http->open_get(call_.url(), std::move(headers), [from](const Response& resp) {
            if (from > 0 && resp.status == 206) return;
            if (from == 0 && resp.status == 200) return;
            if (from > 0 && resp.status == 200)
                throw Error(Errc::protocol, "fetch", "", "registry ignored the Range request of a resumed download");
            throw Refused{resp};
        });
    }

    Repository::Impl& repo_;
    oci::Descriptor desc_;
    detail::Call call_;
    std::unique_ptr<content::ReadStream> inner_;
    std::int64_t delivered_ = 0;
};

std::string with_digest(const std::string& location, const oci::Digest& d) {
    return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + detail::url_escape(d.str());
}

// send_chunk PATCHes `bytes` as the upload's range starting at `offset`.
// After a failure it asks the upload how much it holds and resends the
// rest; `location` follows the registry's answers.
void send_chunk(Repository::Impl& m, std::string& location, const std::string& scope, const std::string& subject,
                std::span<const std::byte> bytes, std::int64_t offset) {
    const auto n = bytes.size();
    // The chunk's retries, timed from its start; each PATCH itself is sent
    // once (authenticated by send), and a failed one resumes from the
    // upload's status rather than being repeated blindly.
    auto call = m.call(location, scope, true, false);
    std::size_t sent = 0;
    while (sent < n) {
        const auto first = offset + static_cast<std::int64_t>(sent);
        const auto last = offset + static_cast<std::int64_t>(n) - 1;
        Request patch{.method = "PATCH", .url = location,
                      .headers = {"Content-Type: application/octet-stream",
                                  "Content-Range: " + std::to_string(first) + "-" + std::to_string(last)}};
        patch.body.bytes = std::string_view(reinterpret_cast<const char*>(bytes.data()) + sent, n - sent);
        std::optional<Response> resp;
        try {
            resp = m.send(patch, scope, false);
        } catch (const Error& e) {
            if (!call.retry(e)) throw;
        }
        if (resp && resp->status == 202) {
            if (auto l = resp->header("location")) location = detail::resolve_url(location, *l);
            return;
        }
        if (resp && (!detail::retryable_status(resp->status) || !call.wait(&*resp)))
            m.fail(*resp, "upload chunk", subject);
        // Ask the upload how much it holds, and resend from there.
        const auto status = m.send(Request{.url = location}, scope, true);
        if (status.status == 404)  // Docker Distribution drops a session whose chunk broke off mid-body
            throw Error(Errc::network, "upload chunk", subject,
                        "the registry lost the upload session after an interrupted chunk; the blob must be sent again");
        if (status.status != 204) m.fail(status, "upload status", subject);
        if (auto l = status.header("location")) location = detail::resolve_url(location, *l);
        std::int64_t held = 0;
        if (auto range = status.header("range")) {
            const auto dash = range->find('-');
            // "0-0" is what Docker Distribution says for an empty upload too.
            if (dash != std::string::npos && *range != "0-0") held = std::stoll(range->substr(dash + 1)) + 1;
        }
        if (held < offset || held > last + 1)
            throw Error(Errc::protocol, "upload chunk", subject,
                        "upload holds " + std::to_string(held) + " bytes, outside the chunk being resent");
        sent = static_cast<std::size_t>(held - offset);
    }
}

}  // namespace

std::unique_ptr<content::ReadStream> Repository::open_blob(const oci::Descriptor& desc) {
    auto& m = *impl_;
    if (oci::is_node_type(desc.media_type)) {
        if (desc.size > static_cast<std::int64_t>(oci::max_manifest_size))
            throw Error(Errc::too_large, "fetch", desc.digest.str(), "manifest exceeds 4 MiB");
        Request r{.url = m.url("/manifests/" + desc.digest.str()), .headers = {accept_manifests}};
        r.max_body = oci::max_manifest_size;
        const auto resp = m.send(r, m.pull_scope(), true);
        if (resp.status != 200) m.fail(resp, "fetch", desc.digest.str());
        return std::make_unique<content::BytesStream>(resp.body);
    }
    return std::make_unique<BlobStream>(m, desc);
}

namespace {

// probe_from_self asks the registry to mount `digest` into the repository
// from the repository itself: 201 when it holds the blob already, 202 with
// an upload session when it does not (as for any mount it declines).
Response probe_from_self(Repository::Impl& m, const oci::Digest& digest) {
    return m.mount_request(digest, m.ref.repository);
}

// upload sends the verified blob `desc` into the session `started` opened:
// one PUT up to monolithic_limit, chunked PATCHes above it. A PUT that
// fails but whose blob the registry has afterwards (a retried PUT whose
// first try had landed) succeeds.
void upload(Repository& repo, Repository::Impl& m, const oci::Descriptor& desc, content::ReadStream& verified,
            const Response& started) {
    const auto subject = desc.digest.str();
    const std::string scope = m.push_scope();
    const auto start_url = m.url("/blobs/uploads/");
    auto loc = started.header("location");
    if (!loc) throw Error(Errc::protocol, "start upload", subject, "202 without a Location");
    // The Location may point at another origin (blob storage); send()
    // attaches Authorization only to the registry's own origin.
    std::string location = detail::resolve_url(start_url, *loc);

    if (static_cast<std::size_t>(desc.size) <= m.options.monolithic_limit) {
        // Small: the whole blob in one PUT, held in memory so it can be resent.
        const auto bytes = content::read_to_string(verified, m.options.monolithic_limit, subject);
        Request put{.method = "PUT", .url = with_digest(location, desc.digest),
                    .headers = {"Content-Type: application/octet-stream"}};
        put.body.bytes = bytes;
        const auto resp = m.send(put, scope, true);
        if (resp.status == 201) return;
        if (repo.exists(desc)) return;
        m.fail(resp, "push blob", subject);
    }

    // Large: chunked PATCHes, each chunk kept until the registry has it, so
    // a failed PATCH resumes from what the upload's status says it holds.
    // The next chunk is read (and hashed) while this one is on the wire.
    std::size_t chunk = m.options.chunk_size;
    if (auto min = started.header("oci-chunk-min-length")) {
        try {
            chunk = std::max<std::size_t>(chunk, std::stoull(*min));
        } catch (const std::exception&) {
        }
    }
    std::vector<std::byte> buf(chunk), ahead(chunk);
    std::int64_t offset = 0;
    for (auto n = content::read_fully(verified, buf); n > 0;) {
        auto next = std::async(std::launch::async, [&] { return content::read_fully(verified, ahead); });
        send_chunk(m, location, scope, subject, std::span(buf).first(n), offset);
        offset += static_cast<std::int64_t>(n);
        n = next.get();  // rethrows a read or digest failure before the upload is finished
        std::swap(buf, ahead);
    }
    Request put{.method = "PUT", .url = with_digest(location, desc.digest)};
    const auto resp = m.send(put, scope, false);
    if (resp.status != 201) {
        if (repo.exists(desc)) return;
        m.fail(resp, "finish upload", subject);
    }
}

}  // namespace

std::optional<Response> Repository::Impl::start_upload(const oci::Descriptor& desc, bool probe, bool& present) {
    const auto subject = desc.digest.str();
    present = false;
    for (const auto& from : options.mount_from) {
        auto started = mount_request(desc.digest, from);
        if (started.status == 201) return std::nullopt;  // mounted: no bytes to send
        if (started.status == 202) return started;
    }
    if (probe) {
        auto started = probe_from_self(*this, desc.digest);
        if (started.status == 201) {
            present = true;
            return std::nullopt;
        }
        if (started.status == 202) return started;
        // A registry that refuses the mount parameters outright (rather
        // than ignoring them, as the distribution spec asks) gets a plain
        // upload; its errors surface there.
    }
    auto started = send(Request{.method = "POST", .url = url("/blobs/uploads/")}, push_scope(), true);
    if (started.status != 202) fail(started, "start upload", subject);
    return started;
}

void Repository::push(const oci::Descriptor& desc, content::ReadStream& content) {
    auto& m = *impl_;
    if (oci::is_node_type(desc.media_type)) {
        m.put_manifest(desc, m.verified_manifest(desc, content), desc.digest.str(), "push manifest");
        return;
    }
    std::optional<content::VerifyingStream> verifier;
    auto& verified = content::verify_once(content, desc, verifier);
    bool present = false;
    const auto started = m.start_upload(desc, false, present);
    if (started) upload(*this, m, desc, verified, *started);
}

bool Repository::push_absent(const oci::Descriptor& desc, const std::function<std::unique_ptr<content::ReadStream>()>& open) {
    auto& m = *impl_;
    // A manifest is asked for (HEAD); a blob up to monolithic_limit is
    // probed by the request that starts its upload; a larger one is asked
    // for first too, so a registry that ignores mounts (202 whatever it
    // holds) never has a large blob sent to it twice.
    const bool probe = !oci::is_node_type(desc.media_type) && static_cast<std::size_t>(desc.size) <= m.options.monolithic_limit;
    if (!probe) {
        if (exists(desc)) return false;
        const auto in = open();
        push(desc, *in);
        return true;
    }
    bool present = false;
    const auto started = m.start_upload(desc, true, present);
    if (!started) return !present;
    auto in = open();
    std::optional<content::VerifyingStream> verifier;
    upload(*this, m, desc, content::verify_once(*in, desc, verifier), *started);
    return true;
}

bool Repository::mount(const oci::Descriptor& desc, content::ReadOnlyTarget& source) {
    auto* other = dynamic_cast<Repository*>(&source);
    if (other == nullptr || other == this || oci::is_node_type(desc.media_type)) return false;
    auto& m = *impl_;
    auto& from = *other->impl_;
    if (from.ref.repository == m.ref.repository || !m.reached_like(from)) return false;
    const auto subject = desc.digest.str();
    const auto resp = m.mount_request(desc.digest, from.ref.repository);
    if (resp.status == 201) return true;
    if (resp.status != 202) m.fail(resp, "mount blob", subject);
    m.cancel_upload(resp, subject);  // the registry started an upload instead: leave none behind
    return false;
}

Response Repository::Impl::mount_request(const oci::Digest& digest, const std::string& from) {
    // Push scope here covers pulling from here (a probe from the repository itself).
    const auto scope = from == ref.repository ? push_scope() : push_scope() + " repository:" + from + ":pull";
    return send(Request{.method = "POST", .url = url("/blobs/uploads/?mount=" + detail::url_escape(digest.str()) +
                                                     "&from=" + detail::url_escape(from))},
                scope, false);
}

void Repository::Impl::cancel_upload(const Response& started, const std::string& subject) {
    const auto loc = started.header("location");
    if (!loc) throw Error(Errc::protocol, "mount blob", subject, "202 without a Location");
    const auto resp = send(Request{.method = "DELETE", .url = detail::resolve_url(url("/blobs/uploads/"), *loc)},
                           push_scope(), true);
    if (resp.status != 204 && resp.status != 200 && resp.status != 202 && resp.status != 404)
        fail(resp, "cancel upload", subject);
}

bool Repository::Impl::reached_like(Impl& other) {
    auto lower = [](std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    // Compared without a request first: another registry or identity is
    // refused before anything is sent to either.
    if (lower(ref.registry) != lower(other.ref.registry) || options.plain_http != other.options.plain_http ||
        auth->credentials() != other.auth->credentials() || auth->docker_config() != other.auth->docker_config())
        return false;
    return detail::origin(ensure_base()) == detail::origin(other.ensure_base());
}

}  // namespace sealrun::remote

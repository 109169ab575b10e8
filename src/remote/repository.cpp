// Registry repository: connection, authentication, retries, errors,
// manifests, tags and referrers (distribution-spec v1.1).
#include <algorithm>

#include "remote/repository_impl.h"
#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::remote {

using detail::Request;
using detail::Response;

namespace {

constexpr int max_pages = 1000;  // of a tag list or a referrers list
constexpr std::size_t max_tag_page = 16 << 20;  // one page of a tag list

std::string strip_params(std::string mt) {
    if (const auto semi = mt.find(';'); semi != std::string::npos) mt.resize(semi);
    while (!mt.empty() && mt.back() == ' ') mt.pop_back();
    return mt;
}

// head_descriptor reads a manifest HEAD's answer, or nullopt when its
// headers do not make a usable descriptor (then the manifest is fetched).
std::optional<oci::Descriptor> head_descriptor(const Response& resp) {
    const auto content_type = strip_params(resp.header("content-type").value_or(""));
    const auto digest = resp.header("docker-content-digest");
    const auto length = resp.header("content-length");
    if (!digest || !length || !oci::is_node_type(content_type)) return std::nullopt;
    try {
        const auto size = std::stoll(*length);
        if (size < 0 || static_cast<std::size_t>(size) > oci::max_manifest_size) return std::nullopt;
        return oci::Descriptor{.media_type = content_type, .digest = oci::Digest::parse(*digest), .size = size};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// next_page returns the URL of the page after `page` that `resp`'s Link
// header names (rel="next", resolved against `page`), or "" after the last;
// throws Error(protocol) for a link off the registry's origin `own`.
std::string next_page(const Response& resp, const std::string& page, const std::string& own, const std::string& op,
                      const std::string& subject) {
    const auto link = resp.header("link");
    const auto target = link ? detail::next_link(*link) : std::nullopt;
    if (!target) return {};
    auto next = detail::resolve_url(page, *target);
    if (detail::origin(next) != own) throw Error(Errc::protocol, op, subject, "pagination link leaves the registry");
    return next;
}

}  // namespace

Repository::Impl::Impl(const Reference& r, RepositoryOptions o) : ref(r), options(std::move(o)) {
    if (ref.registry.empty() || ref.repository.empty())
        throw Error(Errc::invalid_input, "open repository", ref.str(), "needs a registry and a repository");
    http = std::make_unique<detail::Http>(detail::TlsOptions{options.insecure, options.ca_file},
                                          detail::Deadlines{.connect_timeout_s = static_cast<long>(options.connect_timeout.count()),
                                                            .low_speed_limit = static_cast<long>(options.low_speed_limit),
                                                            .stall_timeout_s = static_cast<long>(options.stall_timeout.count())});
    auto creds = options.credentials ? options.credentials : detail::docker_credentials(ref.registry, options.docker_config);
    // The registry's origin is the one connected to, after any plain-HTTP fallback.
    auth = std::make_unique<detail::Auth>(*http, [this] { return ensure_base(); }, std::move(creds),
                                          options.docker_config, options.plain_http);
}

const std::string& Repository::Impl::ensure_base() {
    std::call_once(base_once, [&] {
        if (options.plain_http) {
            base = "http://" + ref.registry;
            return;
        }
        base = "https://" + ref.registry;
        if (!ref.is_loopback()) return;
        // Like docker: a loopback registry that does not speak TLS is
        // reached over plain HTTP. Only a registry's own answer on http
        // (200 or 401 on /v2/) counts: a TLS server answers plain HTTP with
        // 400, so a certificate problem never downgrades the connection.
        try {
            Request ping;
            ping.url = base + "/v2/";
            (void)http->perform(ping);
        } catch (const Error&) {
            Request ping;
            ping.url = "http://" + ref.registry + "/v2/";
            try {
                const auto resp = http->perform(ping);
                if (resp.status == 200 || resp.status == 401) base = "http://" + ref.registry;
            } catch (const Error&) {
                // Neither answers: keep https and let the real request report it.
            }
        }
    });
    return base;
}

std::string Repository::Impl::url(const std::string& path) { return ensure_base() + "/v2/" + ref.repository + path; }

detail::Call Repository::Impl::call(std::string target, const std::string& scope, bool idempotent, bool follow_redirects) {
    return detail::Call(*auth, options, detail::origin(ensure_base()), std::move(target), scope, idempotent, follow_redirects);
}

Response Repository::Impl::send(Request r, const std::string& scope, bool idempotent) {
    auto c = call(r.url, scope, idempotent, r.method == "GET" || r.method == "HEAD");
    return detail::send(*http, c, std::move(r));
}

void Repository::Impl::fail(const Response& resp, const std::string& op, const std::string& subject) const {
    std::string reason = "HTTP " + std::to_string(resp.status);
    try {
        const auto j = oci::parse_json_strict(resp.body, "error body", 1 << 20);
        if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
            std::string codes;
            for (const auto& e : j["errors"]) {
                if (!e.is_object()) continue;
                if (!codes.empty()) codes += "; ";
                codes += e.value("code", "UNKNOWN") + ": " + e.value("message", "");
            }
            if (!codes.empty()) reason += " " + codes;
        }
    } catch (const Error&) {
        // Not JSON: the status says enough; bodies may hold anything.
    }
    Errc code = Errc::protocol;
    switch (resp.status) {
    case 401: code = Errc::unauthorized; break;
    case 403: code = Errc::denied; break;
    case 404: code = Errc::not_found; break;
    case 408: case 429: code = Errc::network; break;
    default:
        if (resp.status >= 500) code = Errc::network;
    }
    throw Error(code, op, subject, reason);
}

Repository::Repository(const Reference& reference, RepositoryOptions options)
    : impl_(std::make_unique<Impl>(reference, std::move(options))) {}

Repository::~Repository() = default;

std::string Repository::base_url() const { return impl_->ensure_base(); }

void Repository::ping() {
    auto& m = *impl_;
    const auto resp = m.send(Request{.url = m.ensure_base() + "/v2/"}, "", true);
    if (resp.status != 200) m.fail(resp, "login", m.ref.registry);
}

namespace {

// reference_subject names `ref` in `m`'s repository for errors; checks a tag's grammar.
std::string reference_subject(Repository::Impl& m, const std::string& ref) {
    const bool by_digest = oci::is_digest_reference(ref);
    if (!by_digest) oci::check_tag(ref);
    return m.ref.registry + "/" + m.ref.repository + (by_digest ? "@" : ":") + ref;
}

// check_answered_digest refuses an answer by digest that names other content.
void check_answered_digest(const std::string& ref, const oci::Descriptor& d, const std::string& subject) {
    if (oci::is_digest_reference(ref) && d.digest != oci::Digest::parse(ref))
        throw Error(Errc::digest_mismatch, "resolve", subject, "registry answered with " + d.digest.str());
}

}  // namespace

std::pair<oci::Descriptor, std::string> Repository::Impl::get_manifest(const std::string& ref, const std::string& subject) {
    Request r{.url = url("/manifests/" + ref), .headers = {accept_manifests}};
    r.max_body = oci::max_manifest_size;
    auto resp = send(r, pull_scope(), true);
    if (resp.status == 404) throw Error(Errc::not_found, "resolve", subject, "no such manifest");
    if (resp.status != 200) fail(resp, "resolve", subject);
    auto mt = strip_params(resp.header("content-type").value_or(""));
    if (!oci::is_node_type(mt)) {
        const auto doc = oci::parse_json_strict(resp.body, subject);
        mt = doc.is_object() ? doc.value("mediaType", "") : "";
    }
    if (!oci::is_node_type(mt)) throw Error(Errc::protocol, "resolve", subject, "response is neither a manifest nor an index");
    auto d = oci::Descriptor::for_bytes(mt, resp.body);
    // The GET's own header must name what it sent (by digest, the content
    // is checked against the reference too).
    if (const auto said = resp.header("docker-content-digest"); said && *said != d.digest.str())
        throw Error(Errc::digest_mismatch, "resolve", subject,
                    "Docker-Content-Digest disagrees with the content, which hashes to " + d.digest.str());
    check_answered_digest(ref, d, subject);
    return {std::move(d), std::move(resp.body)};
}

oci::Descriptor Repository::resolve(std::string_view reference) {
    auto& m = *impl_;
    const std::string ref(reference);
    const auto subject = reference_subject(m, ref);
    Request r{.method = "HEAD", .url = m.url("/manifests/" + ref), .headers = {accept_manifests}};
    auto resp = m.send(r, m.pull_scope(), true);
    if (resp.status == 404) throw Error(Errc::not_found, "resolve", subject, "no such manifest");
    // No usable HEAD: GET the manifest (up to the one manifest cap) and
    // learn everything from it.
    auto d = resp.status == 200 ? head_descriptor(resp) : std::nullopt;
    if (!d) return m.get_manifest(ref, subject).first;
    check_answered_digest(ref, *d, subject);
    return *d;
}

std::pair<oci::Descriptor, std::string> Repository::read_reference(std::string_view reference) {
    const std::string ref(reference);
    return impl_->get_manifest(ref, reference_subject(*impl_, ref));
}

bool Repository::exists(const oci::Descriptor& desc) {
    auto& m = *impl_;
    const bool node = oci::is_node_type(desc.media_type);
    Request r{.method = "HEAD", .url = m.url((node ? "/manifests/" : "/blobs/") + desc.digest.str())};
    if (node) r.headers.push_back(accept_manifests);
    const auto resp = m.send(r, m.pull_scope(), true);
    if (resp.status == 404) return false;
    if (resp.status != 200) m.fail(resp, "check", desc.digest.str());
    // A name alone is not content: what the registry holds under it must
    // also be as long as the descriptor says, or it does not count (a copy
    // then sends it again).
    const auto length = resp.header("content-length");
    if (!length) return true;  // nothing to compare (a registry may omit it)
    try {
        return std::stoll(*length) == desc.size;
    } catch (const std::exception&) {
        return false;
    }
}

void Repository::tag(const oci::Descriptor& desc, std::string_view reference) {
    oci::check_tag(reference);
    const auto bytes = content::read_all(*this, desc, oci::max_manifest_size);
    impl_->put_manifest(desc, bytes, std::string(reference), "tag");
}

void Repository::push_reference(const oci::Descriptor& desc, content::ReadStream& content, std::string_view reference) {
    oci::check_tag(reference);
    if (!oci::is_node_type(desc.media_type))
        throw Error(Errc::invalid_input, "push", desc.digest.str(), "only a manifest or an index can be pushed under a tag");
    const auto bytes = impl_->verified_manifest(desc, content);
    impl_->put_manifest(desc, bytes, std::string(reference), "push manifest");
}

std::string Repository::Impl::verified_manifest(const oci::Descriptor& desc, content::ReadStream& content) const {
    const auto subject = desc.digest.str();
    if (desc.size > static_cast<std::int64_t>(oci::max_manifest_size))
        throw Error(Errc::too_large, "push manifest", subject, "manifest exceeds 4 MiB");
    if (content::already_verified(content, desc)) return content::read_to_string(content, oci::max_manifest_size, subject);
    content::VerifyingStream verified(content, desc);
    return content::read_to_string(verified, oci::max_manifest_size, subject);
}

void Repository::Impl::put_manifest(const oci::Descriptor& desc, std::string_view bytes, const std::string& reference,
                                    const std::string& op) {
    Request r{.method = "PUT", .url = url("/manifests/" + reference), .headers = {"Content-Type: " + desc.media_type}};
    r.body.bytes = bytes;
    const auto resp = send(r, push_scope(), true);
    if (resp.status != 201 && resp.status != 200) fail(resp, op, reference);
    if (auto d = resp.header("docker-content-digest"); d && *d != desc.digest.str())
        throw Error(Errc::digest_mismatch, op, reference, "registry stored it as " + *d + ", not " + desc.digest.str());
}

std::vector<std::string> Repository::tags() {
    auto& m = *impl_;
    std::vector<std::string> out;
    std::string next = m.url("/tags/list?n=" + std::to_string(m.options.tag_page_size));
    const auto own = detail::origin(next);
    for (int page = 0; !next.empty(); ++page) {
        if (page >= max_pages) throw Error(Errc::protocol, "list tags", m.ref.repository, "more than 1000 pages");
        const auto resp = m.send(Request{.url = next, .max_body = max_tag_page}, m.pull_scope(), true);
        if (resp.status == 404) break;  // a repository with no tags yet
        if (resp.status != 200) m.fail(resp, "list tags", m.ref.repository);
        const auto j = oci::parse_json_strict(resp.body, "tag list", max_tag_page);
        if (j.contains("tags") && j["tags"].is_array())
            for (const auto& t : j["tags"])
                if (t.is_string()) out.push_back(t.get<std::string>());
        next = next_page(resp, next, own, "list tags", m.ref.repository);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void Repository::remove(const oci::Descriptor& desc) {
    auto& m = *impl_;
    const bool node = oci::is_node_type(desc.media_type);
    const auto resp = m.send(Request{.method = "DELETE", .url = m.url((node ? "/manifests/" : "/blobs/") + desc.digest.str())},
                             "repository:" + m.ref.repository + ":delete", true);
    if (resp.status != 202 && resp.status != 200) m.fail(resp, "delete", desc.digest.str());
}

std::vector<oci::Descriptor> Repository::referrers(const oci::Descriptor& subject) {
    auto& m = *impl_;
    const auto what = subject.digest.str();
    Request r{.url = m.url("/referrers/" + what),
              .headers = {"Accept: application/vnd.oci.image.index.v1+json"},
              .max_body = oci::max_manifest_size};
    const auto own = detail::origin(r.url);
    auto resp = m.send(r, m.pull_scope(), true);
    if (resp.status == 404) {  // no referrers API: the tag schema fallback
        const auto tag = std::string(subject.digest.algorithm()) + "-" + std::string(subject.digest.encoded());
        r.url = m.url("/manifests/" + tag);
        r.headers = {accept_manifests};
        resp = m.send(r, m.pull_scope(), true);
        if (resp.status == 404) return {};
        if (resp.status != 200) m.fail(resp, "list referrers", what);
        return oci::ImageIndex::parse(resp.body).manifests;
    }
    // The referrers API may page its answer through Link headers, as tag lists do.
    std::vector<oci::Descriptor> out;
    for (int page = 1;; ++page) {
        if (resp.status != 200) m.fail(resp, "list referrers", what);
        for (auto& d : oci::ImageIndex::parse(resp.body).manifests) out.push_back(std::move(d));
        r.url = next_page(resp, r.url, own, "list referrers", what);
        if (r.url.empty()) return out;
        if (page >= max_pages) throw Error(Errc::protocol, "list referrers", what, "more than 1000 pages");
        resp = m.send(r, m.pull_scope(), true);
    }
}

}  // namespace sealrun::remote

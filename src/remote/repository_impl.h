#pragma once
// Repository internals shared by repository.cpp (manifests, tags,
// referrers) and blobs.cpp (blob transfer).

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "remote/auth.h"
#include "remote/client.h"
#include "remote/http.h"
#include "remote/url.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/remote/repository.h"

namespace sealrun::remote {

struct Repository::Impl {
    Reference ref;
    RepositoryOptions options;
    std::unique_ptr<detail::Http> http;
    std::unique_ptr<detail::Auth> auth;
    std::once_flag base_once;
    std::string base;  // scheme://host[:port]

    Impl(const Reference& r, RepositoryOptions o);

    // ensure_base picks https or http once (loopback registries that do
    // not speak TLS fall back to http).
    const std::string& ensure_base();
    // url returns base + "/v2/" + repository + path.
    std::string url(const std::string& path);
    std::string pull_scope() const { return "repository:" + ref.repository + ":pull"; }
    std::string push_scope() const { return "repository:" + ref.repository + ":pull,push"; }

    // call starts a detail::Call (the one client routine) on `url` for
    // `scope`: redirects followed for GET and HEAD, retries if `idempotent`.
    detail::Call call(std::string url, const std::string& scope, bool idempotent, bool follow_redirects);

    // send performs `r` through detail::send: authentication, same-origin
    // Authorization across redirects of GET/HEAD, and retries of idempotent
    // requests on connection errors, 408, 429 (Retry-After) and 5xx with
    // capped exponential backoff and jitter, within the retry budget.
    detail::Response send(detail::Request r, const std::string& scope, bool idempotent);

    // fail throws the Error a non-success response means, with the
    // registry's error code and message when its body holds them.
    [[noreturn]] void fail(const detail::Response& resp, const std::string& op, const std::string& subject) const;

    // verified_manifest reads the manifest or index `content` whole (at most
    // oci::max_manifest_size), verified against `desc` unless it already is
    // (content::already_verified): nothing is sent before it is known good.
    std::string verified_manifest(const oci::Descriptor& desc, content::ReadStream& content) const;
    // put_manifest PUTs verified `bytes` of `desc` under `reference` (its
    // digest or a tag) and checks the registry's Docker-Content-Digest.
    void put_manifest(const oci::Descriptor& desc, std::string_view bytes, const std::string& reference,
                      const std::string& op);
    // get_manifest GETs the manifest or index `ref` (a tag or digest; at
    // most oci::max_manifest_size) and returns its descriptor, learnt from
    // the bytes (media type from Content-Type or the document), and the
    // bytes. Throws Error(not_found) for a 404, Error(digest_mismatch) when
    // Docker-Content-Digest or a digest `ref` disagrees with the bytes.
    std::pair<oci::Descriptor, std::string> get_manifest(const std::string& ref, const std::string& subject);
    // mount_request asks the registry to mount blob `digest` from the
    // repository `from` (push scope here, pull scope there): 201 mounted,
    // 202 an upload session started instead. Never retried (a retried POST
    // would leave sessions behind).
    detail::Response mount_request(const oci::Digest& digest, const std::string& from);
    // start_upload opens an upload session for the blob `desc`, or finds
    // none is needed: mounted from a repository of options.mount_from that
    // has it (nullopt), or, when `probe`, found here by asking to mount it
    // from this very repository (nullopt, `present` set). Otherwise a plain
    // POST; throws when the registry refuses it.
    std::optional<detail::Response> start_upload(const oci::Descriptor& desc, bool probe, bool& present);
    // cancel_upload deletes the upload session a 202 `started` opened.
    void cancel_upload(const detail::Response& started, const std::string& subject);
    // reached_like reports whether `other` is reached at the same origin
    // with the same credentials and docker config: what a mount needs.
    bool reached_like(Impl& other);
};

// accept_manifests is the Accept header for manifest requests.
inline constexpr const char* accept_manifests =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

}  // namespace sealrun::remote

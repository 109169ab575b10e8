#pragma once
/// A repository in an OCI registry as a content::Target (distribution-spec
/// v1.1), over libcurl. Push and pull are content::copy() between the local
/// store and a Repository.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/content/target.h"
#include "sealrun/remote/credentials.h"
#include "sealrun/remote/reference.h"

namespace sealrun::remote {

/// RepositoryOptions tunes a Repository; the zero value is the safe default.
struct RepositoryOptions {
    /// Speak plain HTTP. Loopback registries (localhost, 127.0.0.0/8, ::1)
    /// fall back to it by themselves when they do not speak TLS.
    bool plain_http = false;
    /// Skip TLS certificate verification.
    bool insecure = false;
    /// A CA bundle to trust besides the system's.
    std::string ca_file;
    /// Credentials to use; when empty they come from docker's config.json.
    std::optional<Credentials> credentials;
    /// docker's config.json to read; empty means $DOCKER_CONFIG/config.json
    /// or ~/.docker/config.json.
    std::string docker_config;
    /// Attempts of an idempotent step before giving up (connection errors,
    /// 408, 429, 5xx), with capped exponential backoff and jitter.
    int max_attempts = 5;
    /// First backoff delay; doubles per attempt up to max_backoff.
    std::chrono::milliseconds backoff{200};
    /// max_backoff caps one backoff delay (and, times six, a Retry-After).
    std::chrono::milliseconds max_backoff{5000};
    /// retry_budget bounds the time one operation spends retrying: no new
    /// attempt starts once this much time has passed since the operation
    /// began (for a download: since it last received a byte), nor when its
    /// backoff (or the registry's Retry-After) would end past it. With the
    /// defaults a registry that stalls fails a step within about a minute
    /// (two stalled attempts), at worst retry_budget + connect_timeout +
    /// stall_timeout (85 s).
    std::chrono::seconds retry_budget{45};
    /// connect_timeout bounds connecting (TCP and TLS) to the registry.
    std::chrono::seconds connect_timeout{10};
    /// stall_timeout and low_speed_limit make a request that moves fewer
    /// than low_speed_limit bytes per second for stall_timeout fail with
    /// Error(network): headers that never come, a drip-fed body, a transfer
    /// that stops mid-way. (Whole seconds; at least 1.)
    std::chrono::seconds stall_timeout{30};
    /// low_speed_limit is the bytes per second below which a transfer counts as stalled.
    std::size_t low_speed_limit = 1024;
    /// Blobs up to this size upload in one POST + PUT; larger ones in
    /// chunks (at least the registry's OCI-Chunk-Min-Length).
    std::size_t monolithic_limit = 4 << 20;
    /// Chunk size of large uploads (held in memory, one chunk per upload).
    std::size_t chunk_size = 16 << 20;
    /// Tags asked for per page when listing (the registry may send fewer).
    std::size_t tag_page_size = 1000;
    /// Repositories in the same registry to try mounting blobs from
    /// before uploading them.
    std::vector<std::string> mount_from;
};

/// Repository is one repository of a registry, as a Target: resolve tags and
/// digests, fetch and push manifests and blobs (verified), tag, list tags,
/// delete, and list referrers. Its abilities: ReferencePusher (a root PUT
/// once under its tag), Mounter (a blob taken from another repository of the
/// same registry), AbsentPusher (a blob's existence learnt from the request
/// that starts its upload), ReferenceReader (a tag resolved and read in one
/// GET), Deleter and ClosedUnderReference. Thread-safe: the copy
/// engine moves several blobs at once over pooled connections.
class Repository final : public content::Target,
                         public content::Deleter,
                         public content::ReferencePusher,
                         public content::Mounter,
                         public content::AbsentPusher,
                         public content::ReferenceReader,
                         public content::ClosedUnderReference {
public:
    /// Repository addresses `reference.registry` / `reference.repository`
    /// (its tag or digest is ignored). Throws Error(invalid_input) for a
    /// reference without a registry or repository.
    explicit Repository(const Reference& reference, RepositoryOptions options = {});
    /// ~Repository stops the transport's engine thread; streams opened by
    /// fetch() must be gone first.
    ~Repository() override;

    /// resolve HEADs `/manifests/<reference>` (a tag or a digest), or GETs
    /// the manifest (at most oci::max_manifest_size) when the HEAD's headers
    /// do not make a descriptor. Throws Error(not_found) for an unknown
    /// reference, Error(invalid_input) for a malformed tag and
    /// Error(digest_mismatch) when the registry answers with other content.
    oci::Descriptor resolve(std::string_view reference) override;
    /// exists HEADs the blob or manifest; it counts as present only when the
    /// registry's Content-Length (if it sends one) equals `desc.size`.
    bool exists(const oci::Descriptor& desc) override;
    /// push PUTs a manifest or index by digest, or uploads a blob (one POST
    /// and PUT up to monolithic_limit, chunked PATCHes above it, resumed from
    /// the upload's status after a failure), verified as it streams; tries
    /// RepositoryOptions::mount_from first.
    void push(const oci::Descriptor& desc, content::ReadStream& content) override;
    /// tag fetches the stored manifest `desc` (verified) and PUTs it under
    /// `reference`. Throws Error(invalid_input) for a malformed tag.
    void tag(const oci::Descriptor& desc, std::string_view reference) override;
    /// tags lists every tag, following the registry's Link pagination
    /// (tag_page_size per page, at most 1000 pages, never off its origin).
    std::vector<std::string> tags() override;
    /// remove DELETEs the manifest or blob `desc` (the registry must allow
    /// deletes). Throws Error(not_found) when it is absent.
    void remove(const oci::Descriptor& desc) override;

    /// push_reference PUTs the manifest or index `content` once, to
    /// `/v2/NAME/manifests/<reference>`: the bytes are read whole (at most
    /// oci::max_manifest_size) and verified against `desc` before a byte is
    /// sent, and the registry's Docker-Content-Digest must name `desc`.
    /// Throws Error(invalid_input) for a malformed tag or a `desc` that is
    /// not a manifest or index (before any request), Error(digest_mismatch)
    /// or Error(size_mismatch) for content that is not `desc` (nothing sent)
    /// or a registry that stored other bytes, and the registry's errors.
    void push_reference(const oci::Descriptor& desc, content::ReadStream& content, std::string_view reference) override;

    /// mount takes the blob `desc` from `source` without moving its bytes
    /// (`POST /v2/NAME/blobs/uploads/?mount=DIGEST&from=OTHER`, with push
    /// scope here and pull scope there). Returns false without a request
    /// when `source` is not a Repository, is this repository, is on another
    /// registry (scheme, host and port) or is reached with other
    /// credentials or another docker config, and for a manifest or index;
    /// returns false after cancelling the upload the registry started
    /// instead (202); true when the registry mounted it (201). Throws the
    /// registry's and the transport's errors.
    bool mount(const oci::Descriptor& desc, content::ReadOnlyTarget& source) override;

    /// push_absent stores a blob up to monolithic_limit unless the
    /// repository has it, learning which from the request that starts the
    /// upload: `POST /v2/NAME/blobs/uploads/?mount=DIGEST&from=NAME` (this
    /// repository as its own mount source) is answered 201 for a blob it
    /// holds and 202 with an upload session for one it lacks, so a new blob
    /// costs the POST and PUT of an upload and a present one one request,
    /// with no HEAD before either. RepositoryOptions::mount_from is tried
    /// first. Manifests and larger blobs are checked with exists() first (a
    /// registry that ignores mounts then re-sends only small blobs).
    bool push_absent(const oci::Descriptor& desc,
                     const std::function<std::unique_ptr<content::ReadStream>()>& open) override;

    /// read_reference GETs the manifest or index `reference` names (one
    /// request where resolve() and fetch() are two) and returns its
    /// descriptor, learnt from the bytes as resolve()'s fallback learns it,
    /// and the bytes (Docker-Content-Digest, when sent, must agree).
    std::pair<oci::Descriptor, std::string> read_reference(std::string_view reference) override;

    /// referrers returns the manifests whose subject is `subject`, through
    /// the referrers API or, where the registry lacks it (404), the
    /// tag-schema fallback `<alg>-<encoded>`.
    std::vector<oci::Descriptor> referrers(const oci::Descriptor& subject);

    /// ping checks that the registry answers the API base `/v2/` with these
    /// credentials (what `login` verifies). Throws Error(unauthorized) when
    /// they are refused.
    void ping();

    /// base_url returns "scheme://host[:port]" the repository is reached at.
    std::string base_url() const;

    /// Impl is the connection, authentication and transport state (src/remote/repository_impl.h).
    struct Impl;

protected:
    /// open_blob GETs a manifest whole (at most oci::max_manifest_size) or
    /// streams a blob, resuming a broken download with a Range request;
    /// fetch() verifies what it returns.
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& desc) override;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sealrun::remote

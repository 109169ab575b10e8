#pragma once
/// The one seam every storage backend implements (after oras-go's
/// content.Storage + Target): a content-addressed store that can also name
/// content with tags.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sealrun/content/stream.h"
#include "sealrun/error.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/tag.h"  // the tag grammar every target applies

namespace sealrun::content {

/// ReadOnlyTarget is content that can be read: a sealed archive opened in
/// place, a layout opened read-only, a registry repository without push
/// rights. Readers (SealedExperiment::open, validate(), a copy's source)
/// ask for no more. Implementations are safe to call from several threads
/// at once (the copy engine does).
///
/// Verification lives in the seam, not in each backend (as libgit2's odb
/// verifies above its backends): fetch() is not virtual; it verifies the
/// size and digest of whatever the backend's open_blob() returns.
class ReadOnlyTarget {
public:
    virtual ~ReadOnlyTarget() = default;

    /// resolve returns the descriptor a tag or a digest string names;
    /// throws Error(not_found) when it names nothing here.
    virtual oci::Descriptor resolve(std::string_view reference) = 0;

    /// exists reports whether the content `desc` names is stored here.
    virtual bool exists(const oci::Descriptor& desc) = 0;

    /// fetch opens the content `desc` names as a stream that verifies size
    /// and digest as it is read (see VerifyingStream): its last read throws
    /// Error(digest_mismatch) or Error(size_mismatch) instead of reporting
    /// the end of content that is not what `desc` names. Content embedded
    /// in the descriptor (`desc.data`) is served from it, verified the same
    /// way, without asking the backend. Throws Error(not_found) when the
    /// content is absent. The stream is the seam's VerifyingStream, so a
    /// push it is handed to does not hash the bytes again
    /// (already_verified).
    std::unique_ptr<VerifyingStream> fetch(const oci::Descriptor& desc);

    /// tags returns every tag, sorted.
    virtual std::vector<std::string> tags() = 0;

protected:
    /// open_blob returns the stored bytes `desc` names, unverified (fetch
    /// verifies them); throws Error(not_found) when they are absent. A
    /// backend may refuse early (a stored size that differs from
    /// `desc.size`: Error(size_mismatch)).
    virtual std::unique_ptr<ReadStream> open_blob(const oci::Descriptor& desc) = 0;
};

/// Target is a content-addressed store with tags that can also be written:
/// the local OCI layout, a memory store, a registry repository.
class Target : public ReadOnlyTarget {
public:
    /// push stores `content` under `desc`, verifying size and digest while it
    /// streams; content that fails verification is never visible afterwards.
    /// Pushing content that is already there succeeds. Implementations read
    /// `content` through verify_once(): a stream the seam already verifies
    /// (what fetch() returns) is hashed once, by that stream, any other
    /// stream by a VerifyingStream the push puts around it.
    virtual void push(const oci::Descriptor& desc, ReadStream& content) = 0;

    /// tag points `reference` at the stored manifest or index `desc`,
    /// replacing what it pointed at before. Throws Error(not_found) when
    /// `desc` is not stored and Error(invalid_input) for a malformed tag.
    virtual void tag(const oci::Descriptor& desc, std::string_view reference) = 0;
};

/// Deleter is the optional ability to remove content; the CLI's `rm` asks
/// for it with dynamic_cast.
class Deleter {
public:
    virtual ~Deleter() = default;
    /// remove deletes the content `desc` names and every tag pointing at it;
    /// throws Error(not_found) when it is absent.
    virtual void remove(const oci::Descriptor& desc) = 0;
};

/// ReferenceReader is the optional ability to resolve a reference and read
/// the manifest or index it names in one step (a registry's `GET
/// /manifests/TAG`, where resolve() and a fetch are a HEAD and a GET).
/// read_reference() asks for it with dynamic_cast.
class ReferenceReader {
public:
    virtual ~ReferenceReader() = default;
    /// read_reference returns what resolve(`reference`) returns and the
    /// manifest or index's bytes, which hash to its digest (at most
    /// oci::max_manifest_size). Throws Error(not_found) as resolve() does.
    virtual std::pair<oci::Descriptor, std::string> read_reference(std::string_view reference) = 0;
};

/// ReferencePusher is the optional ability to store a manifest or index and
/// point a tag at it in one step (a registry's `PUT /v2/NAME/manifests/TAG`),
/// so copy() sends a root once instead of pushing it by digest and tagging
/// it afterwards. copy() asks for it with dynamic_cast.
class ReferencePusher {
public:
    virtual ~ReferencePusher() = default;
    /// push_reference stores `content` (a manifest or index, verified
    /// against `desc` as push() verifies) and points the tag `reference` at
    /// it, replacing what it named before (TagPolicy::replace: a caller that
    /// must keep a tag checks it first). Throws Error(invalid_input) for a
    /// malformed tag and whatever push() throws.
    virtual void push_reference(const oci::Descriptor& desc, ReadStream& content, std::string_view reference) = 0;
};

/// Mounter is the optional ability to take a blob from another repository of
/// the same registry without moving its bytes (the distribution spec's
/// cross-repository blob mount). copy() asks for it with dynamic_cast
/// before it streams a blob.
class Mounter {
public:
    virtual ~Mounter() = default;
    /// mount makes the blob `desc` stored here from `source`; returns true
    /// when it is stored afterwards, false (having stored nothing and left
    /// no upload behind) when `source` is not a repository of the same
    /// registry reached with the same credentials, or the registry declined
    /// (the caller then copies the bytes). Throws on transport errors.
    virtual bool mount(const oci::Descriptor& desc, ReadOnlyTarget& source) = 0;
};

/// AbsentPusher is the optional ability to store a blob unless it is there,
/// finding out in the request that would start its upload (a registry asked
/// to mount the blob from the same repository answers 201 when it has it,
/// and opens an upload session when it does not). copy() uses it instead of
/// exists() followed by push(): one request for a blob already stored, and
/// none spent asking for one that is not.
class AbsentPusher {
public:
    virtual ~AbsentPusher() = default;
    /// push_absent stores the blob `desc` from the stream `open` returns,
    /// verified as push() verifies, unless it is stored already; returns
    /// false, having called nothing, when it was. Throws what push() throws.
    virtual bool push_absent(const oci::Descriptor& desc,
                             const std::function<std::unique_ptr<ReadStream>()>& open) = 0;
};

/// ClosedUnderReference is the optional ability of a target that stores a
/// manifest or index only once everything it references is stored (a
/// registry refuses a manifest naming unknown blobs), so copy() may trust a
/// node it finds there for the whole graph below it. A target without it (a
/// layout whose blobs a user can empty) has the graph below a present node
/// checked blob by blob.
class ClosedUnderReference {
public:
    virtual ~ClosedUnderReference() = default;
};

/// TagPolicy says what tagging does when the tag already names other content.
enum class TagPolicy {
    /// Refuse with Error(already_exists) unless the tag is new or already
    /// names the same digest: an archive never loses a tag silently.
    keep,
    /// Move the tag (the CLI's --force, a library option's `force`).
    replace,
};

/// ConditionalTagger is the optional ability to apply a TagPolicy
/// atomically (the local layout decides under its index lock); tag_with()
/// asks for it with dynamic_cast.
class ConditionalTagger {
public:
    virtual ~ConditionalTagger() = default;
    /// tag points `reference` at `desc` under `policy`; throws
    /// Error(already_exists) when `policy` is keep and the tag names another
    /// digest, and whatever Target::tag throws.
    virtual void tag(const oci::Descriptor& desc, std::string_view reference, TagPolicy policy) = 0;
};

/// tag_with points `reference` at `desc` in `target` under `policy`: through
/// ConditionalTagger when the target has it, otherwise by resolving the tag
/// first (not atomic against another writer of that target). Throws
/// Error(already_exists) naming the digest the tag keeps.
void tag_with(Target& target, const oci::Descriptor& desc, std::string_view reference, TagPolicy policy);

/// tag_exists is the one Error(already_exists) for a tag that names
/// `current` and may not be moved; its message names --force.
Error tag_exists(std::string_view reference, const oci::Digest& current);

/// read_all returns the whole verified content of `desc` from `target`.
/// It is the one way sealrun reads a blob whole; throws Error(too_large)
/// before fetching anything when `desc.size` exceeds `max_size`.
std::string read_all(ReadOnlyTarget& target, const oci::Descriptor& desc, std::size_t max_size);

/// read_reference resolves `reference` in `target` and reads the manifest
/// or index it names whole (at most `max_size`, verified): in one request
/// from a ReferenceReader, otherwise resolve() then read_all().
std::pair<oci::Descriptor, std::string> read_reference(ReadOnlyTarget& target, std::string_view reference,
                                                       std::size_t max_size);

/// push_bytes pushes `bytes` under `desc`.
void push_bytes(Target& target, const oci::Descriptor& desc, std::string bytes);

}  // namespace sealrun::content

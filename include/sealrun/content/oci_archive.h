#pragma once
/// oci-archive: an OCI image layout packed into one tar file (what skopeo's
/// `oci-archive:` transport reads and writes), read in place and written as
/// a stream, never unpacked.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "sealrun/content/target.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::content {

namespace detail {
struct ArchiveAccess;
}

/// OciArchiveOptions tunes OciArchive; its zero value is the default.
struct OciArchiveOptions {
    /// max_members bounds how many tar headers are read when the archive is
    /// opened (its time and the memory of its index); past it the archive is
    /// refused with Error(too_large).
    std::size_t max_members = 1000000;
    /// name is how error messages name the archive; the path when empty.
    std::string name;
};

/// OciArchive is a ReadOnlyTarget over an oci-archive file, read in place:
/// opening it reads the tar's headers once into an index of where each
/// layout file's bytes are (`oci-layout`, `index.json`,
/// `blobs/<alg>/<encoded>` of a well-formed digest; other members are
/// skipped, never read), and a fetch reads a blob's byte range with pread
/// (the seam verifies it). Tags are index.json's
/// `org.opencontainers.image.ref.name` annotations, as in OciLayout.
///
/// Only uncompressed tars (ustar, pax, GNU) of regular files and folders
/// are read: see the constructor for what is refused. Nothing is ever
/// written. Thread-safe: the file is read with pread only.
class OciArchive final : public ReadOnlyTarget {
public:
    /// OciArchive opens and indexes the oci-archive `file`, which must be a
    /// regular file (a FIFO or device is refused, not waited on). Throws
    /// Error(not_found) when it is absent; Error(unsupported) when it is
    /// compressed (gzip, zstd, xz, bzip2, lz4: decompress it first);
    /// Error(invalid_input) naming the member for what is not an
    /// oci-archive: no index.json, an oci-layout of another version, an
    /// index.json that does not parse (or is larger than the 4 MiB
    /// manifest cap: Error(too_large)), a link, device, FIFO or sparse
    /// member, a member declaring more bytes than the rest of the file
    /// holds, an absolute name or one with '..', a layout file that appears
    /// twice (duplicates are refused, not "last wins"), a bad header;
    /// Error(too_large) past `options.max_members` headers.
    explicit OciArchive(const std::filesystem::path& file, OciArchiveOptions options = {});
    ~OciArchive() override;
    OciArchive(const OciArchive&) = delete;
    OciArchive& operator=(const OciArchive&) = delete;

    /// resolve returns what the tag or digest `reference` names (OciLayout's
    /// rule: an index.json entry, else a stored manifest or index of that
    /// digest); throws Error(not_found) naming the archive.
    oci::Descriptor resolve(std::string_view reference) override;
    /// exists reports whether the archive holds a blob of `desc.digest`
    /// with `desc.size` bytes.
    bool exists(const oci::Descriptor& desc) override;
    /// tags returns the ref names of index.json's entries, sorted.
    std::vector<std::string> tags() override;
    /// index returns the archive's index.json.
    const oci::ImageIndex& index() const noexcept;

protected:
    /// open_blob returns a stream over the blob's bytes in the archive;
    /// throws Error(not_found) when it holds none, Error(size_mismatch) when
    /// its size is not `desc.size`.
    std::unique_ptr<ReadStream> open_blob(const oci::Descriptor& desc) override;

private:
    friend struct detail::ArchiveAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// OciArchiveWriter is a Target that writes a new oci-archive as one tar
/// stream, without a scratch copy: each push appends a member (the header
/// first, since the descriptor gives the size, then the bytes as they are
/// verified), tags collect index.json entries, and commit() appends
/// `index.json` and the end of the archive and renames the file over
/// `file`. Until then the file is a temporary one beside `file` (unnamed
/// where the file system allows it, see util::TempFile): a failed or killed
/// writer leaves nothing, and `file` keeps what it held.
///
/// Pushes may come from several threads (copy() moves four blobs at once):
/// appends are serialised; a blob of at most 1 MiB is read and verified
/// before it waits for its turn, a larger one streams through a 1 MiB
/// buffer while it holds the file, so memory does not grow with blob size.
/// A blob already written (or carried over) is not written again. A push
/// whose bytes fail verification is cut off the file again: the archive
/// never holds a member that is not what its name says.
class OciArchiveWriter final : public Target, public ConditionalTagger {
public:
    /// OciArchiveWriter starts the archive commit() will put at `file`.
    /// When `base` is given (usually the archive now at `file`), its blobs
    /// are copied in first, byte for byte from its index (no unpacking),
    /// and its index.json entries kept, so the new archive adds to it.
    /// `name` is how errors name the archive (`file` when empty). Throws
    /// Error(io) when the temporary file cannot be made or written.
    explicit OciArchiveWriter(const std::filesystem::path& file, OciArchive* base = nullptr, std::string name = {});
    ~OciArchiveWriter() override;
    OciArchiveWriter(const OciArchiveWriter&) = delete;
    OciArchiveWriter& operator=(const OciArchiveWriter&) = delete;

    /// resolve follows OciArchive::resolve over what was written so far.
    oci::Descriptor resolve(std::string_view reference) override;
    /// exists reports whether a blob of `desc.digest` and `desc.size` bytes
    /// was written or carried over.
    bool exists(const oci::Descriptor& desc) override;
    /// tags returns the tags index.json will hold, sorted.
    std::vector<std::string> tags() override;
    /// push appends `content` as the member blobs/<alg>/<encoded> unless it
    /// is there; throws Error(digest_mismatch) or Error(size_mismatch)
    /// (having removed what it appended) and Error(denied) after commit().
    void push(const oci::Descriptor& desc, ReadStream& content) override;
    /// tag points `reference` at `desc` (TagPolicy::replace).
    void tag(const oci::Descriptor& desc, std::string_view reference) override;
    /// tag points `reference` at the stored `desc` under `policy`; throws
    /// Error(not_found) when `desc` was not written, Error(already_exists)
    /// (see tag_exists) when `policy` is keep and the tag names another
    /// digest, Error(invalid_input) for a malformed tag.
    void tag(const oci::Descriptor& desc, std::string_view reference, TagPolicy policy) override;

    /// commit appends `index.json` and the end-of-archive blocks, fsyncs
    /// the file and renames it over `file` (then fsyncs its folder). Throws
    /// Error(too_large) when index.json would pass the 4 MiB manifest cap
    /// (nothing is replaced then), Error(io).
    void commit();

protected:
    /// open_blob reads a written or carried-over blob back from the file.
    std::unique_ptr<ReadStream> open_blob(const oci::Descriptor& desc) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sealrun::content

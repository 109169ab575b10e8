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

/// export_archive packs the OCI layout directory `layout` into the tar file
/// `archive` (replaced atomically): oci-layout, index.json and blobs/, in a
/// deterministic order, nothing else. Throws Error(io) or
/// Error(invalid_input) when `layout` is not a layout.
void export_archive(const std::filesystem::path& layout, const std::filesystem::path& archive);

/// import_archive unpacks the tar file `archive` (a regular file: a FIFO or
/// device is refused) into the directory `layout` (created; must be empty or
/// absent). Only what a layout holds is written: oci-layout, index.json and
/// blobs/<alg>/<encoded> named by a well-formed digest; other entries are
/// skipped unwritten. Entries must be regular files or directories with safe
/// relative names (no absolute names, no '..', no links), never sparse; the
/// bytes written never exceed the archive's own size (a declared size past
/// what is left of it is refused before a byte is written); at most
/// 1,000,000 entries. Throws Error(invalid_input) naming the offending entry.
void import_archive(const std::filesystem::path& archive, const std::filesystem::path& layout);

}  // namespace sealrun::content

#pragma once
// ArchiveAccess: what the oci-archive writer reads of an OciArchive it
// carries over (its index of members and its file), without a public API.
// Internal to the content layer.

#include <memory>
#include <string>

#include "content/tar_format.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/content/stream.h"
#include "util/fs.h"

namespace sealrun::content::detail {

/// ArchiveAccess opens an OciArchive's internals to the writer.
struct ArchiveAccess {
    /// members returns the archive's index of layout files.
    static const TarIndex& members(const OciArchive& archive);
    /// file returns the archive's open file, read with pread only.
    static const util::Fd& file(const OciArchive& archive);
};

/// open_member returns a stream over `member`'s bytes in `fd` (read with
/// pread, so streams over one file may be read from several threads);
/// errors name `archive`. A file that ends early is Error(size_mismatch).
std::unique_ptr<ReadStream> open_member(std::shared_ptr<const util::Fd> fd, const std::string& archive,
                                        TarMember member);

}  // namespace sealrun::content::detail

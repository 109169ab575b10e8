#pragma once
/// oci-archive: an OCI image layout packed into one tar file (what skopeo's
/// `oci-archive:` transport reads and writes), made and read with
/// libarchive, streaming.

#include <filesystem>

namespace sealrun::content {

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

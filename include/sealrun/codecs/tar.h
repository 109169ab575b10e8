#pragma once
/// The directory codec: a directory tree as an uncompressed tar layer,
/// application/vnd.oci.image.layer.v1.tar (libarchive).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sealrun::codecs {

/// TreeEntry is one file, directory or symbolic link of a DirectoryTree.
struct TreeEntry {
    /// Type is what an entry is: a regular file, a directory or a symbolic link.
    enum class Type { file, directory, symlink };
    /// type is the kind of entry.
    Type type = Type::file;
    /// Relative '/'-separated path without '.' or '..' components.
    std::string path;
    /// Permission bits (e.g. 0644).
    std::uint32_t mode = 0644;
    /// A file's bytes, or a symlink's target.
    std::string content;
    friend bool operator==(const TreeEntry&, const TreeEntry&) = default;
};

/// TarLimits caps what reading a tree accepts; the zero value is not
/// meaningful, use the defaults.
struct TarLimits {
    /// max_total_bytes caps the sum of the files' sizes (4 GiB).
    std::uint64_t max_total_bytes = std::uint64_t{4} << 30;
    /// max_entries caps the number of entries.
    std::uint64_t max_entries = 100000;
};

/// DirectoryTree is a directory held in memory, entries sorted by path.
///
/// Every tree is safe by construction: no absolute path, no '..' component,
/// no symlink whose target leaves the tree, no device or FIFO.
struct DirectoryTree {
    /// entries are the tree's files, directories and links.
    std::vector<TreeEntry> entries;

    /// read packs the directory `dir` (symlinks are kept as links, never
    /// followed). Throws Error(invalid_input) for a symlink that points
    /// outside `dir` or a special file, Error(too_large) past `limits`.
    static DirectoryTree read(const std::filesystem::path& dir, const TarLimits& limits = {});

    /// write creates the tree under `dest` (created when missing). Existing
    /// files are kept unless `overwrite`; nothing is ever written outside
    /// `dest` or through a symlink. Throws Error(already_exists) for a file
    /// that exists when not overwriting.
    void write(const std::filesystem::path& dest, bool overwrite = false) const;

    friend bool operator==(const DirectoryTree&, const DirectoryTree&) = default;
};

/// TarCodec writes deterministic tars (sorted entries, zero times and
/// owners) and reads POSIX/GNU/pax tars, refusing absolute names, '..'
/// components, links that leave the tree and special files, within
/// TarLimits (Error(invalid_input) / Error(too_large)).
struct TarCodec {
    /// value_type is what decode returns: a DirectoryTree.
    using value_type = DirectoryTree;
    /// media_type is the OCI tar layer type.
    static constexpr std::string_view media_type = "application/vnd.oci.image.layer.v1.tar";
    /// encode returns `tree` as a deterministic tar; Error(invalid_input) for an
    /// unsafe entry.
    static std::string encode(const DirectoryTree& tree);
    /// decode reads a tar within the default TarLimits.
    static DirectoryTree decode(std::string_view bytes) { return decode(bytes, TarLimits{}); }
    /// decode reads a tar within `limits`; Error(invalid_input) for an unsafe or
    /// malformed entry, Error(too_large) past a limit.
    static DirectoryTree decode(std::string_view bytes, const TarLimits& limits);
};

}  // namespace sealrun::codecs

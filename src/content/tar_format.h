#pragma once
// The tar format as an oci-archive uses it (POSIX.1-2001 pax over ustar, and
// GNU tar's ustar variant, POSIX.1-2008 "pax"): an index of where each layout
// file's bytes are, read from the headers alone, and the headers sealrun
// writes. Internal to the content layer.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sealrun::content::detail {

/// tar_block is the tar record size: headers are one block, data is padded
/// to a whole number of them.
inline constexpr std::uint64_t tar_block = 512;

/// TarMember is where a regular file's bytes lie in the tar: `size` bytes
/// from `offset`.
struct TarMember {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
};

/// TarIndex is what index_tar learns from an archive's headers.
struct TarIndex {
    /// members maps each layout name (see is_layout_file) to its bytes.
    std::map<std::string, TarMember> members;
    /// headers counts every header read (pax and GNU long-name headers
    /// included), as max_headers bounds them.
    std::size_t headers = 0;
};

/// is_layout_file reports whether the normalized name `rel` is a file an
/// OCI image layout holds: `oci-layout`, `index.json` or
/// `blobs/<alg>/<encoded>` of a well-formed digest. Nothing else in an
/// archive is indexed, read or carried over.
bool is_layout_file(std::string_view rel);

/// blob_name returns `blobs/<alg>/<encoded>` for `digest_text` ("alg:hex").
std::string blob_name(std::string_view digest_text);

/// index_tar reads the headers of the uncompressed tar in `fd` (a regular
/// file of `file_size` bytes, read with pread only: the offset is not used)
/// and indexes its layout files, stopping at the end-of-archive block (or
/// the end of the file). Regular files and folders only: a link, device or
/// FIFO member, a sparse member, a member declaring more bytes than the rest
/// of the file holds, a name that is absolute or holds '..', a layout name
/// that appears twice, a bad header checksum, a pax record that does not
/// parse, or more than `max_headers` headers are refused with
/// Error(invalid_input) (Error(too_large) for the count) naming `name` and
/// the member; a compressed file is Error(unsupported) saying so. Reads
/// nothing but headers and pax/GNU name records (each capped at 1 MiB).
TarIndex index_tar(int fd, std::uint64_t file_size, std::string_view name, std::size_t max_headers);

/// tar_file_header returns the header block(s) of a regular file `name` of
/// `size` bytes (a pax header first when the name or size does not fit
/// ustar), mode 0644, owner 0, mtime 0: what sealrun writes is the same for
/// the same content.
std::string tar_file_header(std::string_view name, std::uint64_t size);

/// tar_dir_header returns the header block of a folder `name` (mode 0755).
std::string tar_dir_header(std::string_view name);

/// tar_padding returns how many zero bytes follow `size` bytes of data.
inline std::uint64_t tar_padding(std::uint64_t size) { return (tar_block - size % tar_block) % tar_block; }

}  // namespace sealrun::content::detail

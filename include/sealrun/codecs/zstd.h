#pragma once
/// zstd: the one place sealrun compresses and decompresses `+zstd`
/// attachments (docs/FORMAT.md "Compressed attachments"), in memory and
/// streaming. Every form writes or reads one zstd frame through libarchive's
/// zstd filter, so sealing a file and encoding a value give the same bytes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sealrun/content/stream.h"

namespace sealrun {

/// zstd_suffix is the structured-syntax suffix of a compressed
/// attachment's media type (`application/json+zstd`).
inline constexpr std::string_view zstd_suffix = "+zstd";

/// zstd_compress returns `bytes` as one zstd frame. Throws Error(io) when
/// libarchive fails.
std::string zstd_compress(std::string_view bytes);

/// zstd_compress_stream writes what `in` holds, as one zstd frame, to the
/// open file descriptor `fd` (not closed), streaming: memory stays bounded
/// whatever the size. `what` names the input in errors; throws Error(io),
/// and whatever `in` throws.
void zstd_compress_stream(content::ReadStream& in, int fd, std::string_view what);

/// zstd_decompress inverts zstd_compress; throws Error(invalid_input) on
/// input that is not zstd or is corrupt and Error(too_large) past
/// `max_size` bytes of output.
std::string zstd_decompress(std::string_view bytes, std::size_t max_size);

/// ZstdReadStream is the one streaming zstd decompressor: it reads zstd
/// frames from `inner` as it is read and yields the decompressed bytes,
/// holding a bounded buffer (plus the frame's window, at most what zstd
/// allows by default) whatever the size. It reads `inner` to its end before
/// reporting its own end, so a VerifyingStream under it has checked every
/// byte by then. read() throws Error(invalid_input) for input that is not
/// zstd or is corrupt, Error(too_large) once more than `max_size` bytes come
/// out, and whatever `inner` throws. Not thread-safe.
class ZstdReadStream final : public content::ReadStream {
public:
    /// ZstdReadStream borrows `inner`, which must outlive it.
    explicit ZstdReadStream(content::ReadStream& inner, std::size_t max_size = SIZE_MAX);
    /// ZstdReadStream takes ownership of `inner`.
    explicit ZstdReadStream(std::unique_ptr<content::ReadStream> inner, std::size_t max_size = SIZE_MAX);
    /// ~ZstdReadStream releases the decompressor (and `inner` when owned).
    ~ZstdReadStream() override;
    /// read fills `buffer` with decompressed bytes; 0 only at the end.
    std::size_t read(std::span<std::byte> buffer) override;
    /// produced returns how many decompressed bytes were read so far.
    std::uint64_t produced() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sealrun

#pragma once
/// Byte streams: how content moves between targets without being held whole.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sealrun/oci/descriptor.h"

namespace sealrun::content {

/// ReadStream is a pull-style source of bytes. Not thread-safe.
class ReadStream {
public:
    virtual ~ReadStream() = default;
    /// read fills at most `buffer.size()` bytes and returns how many; it
    /// returns 0 only at the end of the stream. Throws Error on failure.
    virtual std::size_t read(std::span<std::byte> buffer) = 0;
};

/// BytesStream reads from a byte string it owns.
class BytesStream final : public ReadStream {
public:
    /// BytesStream takes ownership of `bytes`.
    explicit BytesStream(std::string bytes) : bytes_(std::move(bytes)) {}
    /// read copies out the next bytes of the string.
    std::size_t read(std::span<std::byte> buffer) override;

private:
    std::string bytes_;
    std::size_t pos_ = 0;
};

/// VerifyingStream passes `inner`'s bytes through while checking them
/// against `expected`: a stream that runs longer than the descriptor's size
/// fails at once, and one that ends short or hashes differently fails on the
/// read that reaches its end. No caller can see the end of a stream whose
/// content was wrong. Throws Error(size_mismatch) or Error(digest_mismatch)
/// naming the digest; Error(unsupported) at construction for a digest
/// algorithm sealrun cannot compute.
class VerifyingStream final : public ReadStream {
public:
    /// VerifyingStream takes ownership of `inner`.
    VerifyingStream(std::unique_ptr<ReadStream> inner, oci::Descriptor expected);
    /// VerifyingStream borrows `inner`, which must outlive it.
    VerifyingStream(ReadStream& inner, oci::Descriptor expected);
    ~VerifyingStream() override;
    /// read passes the next bytes of `inner` on (see the class comment).
    std::size_t read(std::span<std::byte> buffer) override;

    /// verifies reports whether reading this stream to its end proves its
    /// content is exactly `desc`: it checks `desc`'s digest and size and
    /// nothing has been read from it yet.
    bool verifies(const oci::Descriptor& desc) const noexcept {
        return seen_ == 0 && !done_ && expected_.digest == desc.digest && expected_.size == desc.size;
    }

    /// on_progress calls `report` after every read that passed bytes on,
    /// with how many have passed so far (before they are verified whole);
    /// how the copy engine reports progress without a stream around this
    /// one, which would hide it from already_verified().
    void on_progress(std::function<void(std::uint64_t)> report) { progress_ = std::move(report); }

private:
    std::unique_ptr<ReadStream> owned_;
    ReadStream* inner_;
    oci::Descriptor expected_;
    oci::Hasher hasher_;
    std::int64_t seen_ = 0;
    bool done_ = false;
    std::function<void(std::uint64_t)> progress_;
};

/// already_verified reports whether `stream` verifies itself against
/// `desc` as it is read: it is a VerifyingStream (the seam's own type, as
/// ReadOnlyTarget::fetch returns; no other stream can claim it) for `desc`
/// that nothing has read yet. A push given such a stream relies on it
/// instead of hashing the same bytes again (see verify_once), and must
/// then read it until read() returns 0 before its content becomes visible:
/// that last read is the one that fails for wrong content.
inline bool already_verified(const ReadStream& stream, const oci::Descriptor& desc) noexcept {
    const auto* v = dynamic_cast<const VerifyingStream*>(&stream);
    return v != nullptr && v->verifies(desc);
}

/// verify_once returns the stream a push reads what it stores from:
/// `content` itself when already_verified(content, desc), otherwise a
/// VerifyingStream over it constructed in `holder` (which must outlive the
/// reading). Either way the stream throws Error(size_mismatch) or
/// Error(digest_mismatch) on the read that would end content that is not
/// `desc`, so every byte is hashed once on its way in.
ReadStream& verify_once(ReadStream& content, const oci::Descriptor& desc, std::optional<VerifyingStream>& holder);

/// default_chunk_size is the buffer size streams are copied with (1 MiB).
inline constexpr std::size_t default_chunk_size = std::size_t{1} << 20;

/// drain reads `stream` to its end, discarding the bytes.
void drain(ReadStream& stream);

/// read_fully fills `buffer` from `stream` until it is full or the stream
/// ends, and returns how many bytes it holds.
std::size_t read_fully(ReadStream& stream, std::span<std::byte> buffer);

/// read_to_string drains `stream` into a string; throws Error(too_large)
/// naming `what` once more than `max_size` bytes arrive.
std::string read_to_string(ReadStream& stream, std::size_t max_size, std::string_view what);

}  // namespace sealrun::content

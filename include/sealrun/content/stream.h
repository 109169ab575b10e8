#pragma once
/// Byte streams: how content moves between targets without being held whole.

#include <cstddef>
#include <cstdint>
#include <memory>
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

    /// verified_whole returns the descriptor this stream verifies all of its
    /// content against, when it does so and nothing has been read from it
    /// yet; a pusher may then skip hashing the same bytes a second time.
    virtual const oci::Descriptor* verified_whole() const noexcept { return nullptr; }
};

/// already_verified reports whether reading `stream` to its end proves the
/// content is exactly `desc` (see ReadStream::verified_whole).
inline bool already_verified(const ReadStream& stream, const oci::Descriptor& desc) noexcept {
    const auto* v = stream.verified_whole();
    return v != nullptr && v->digest == desc.digest && v->size == desc.size;
}

/// BytesStream reads from a byte string it owns.
class BytesStream final : public ReadStream {
public:
    /// BytesStream takes ownership of `bytes`.
    explicit BytesStream(std::string bytes) : bytes_(std::move(bytes)) {}
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
    std::size_t read(std::span<std::byte> buffer) override;
    const oci::Descriptor* verified_whole() const noexcept override {
        return seen_ == 0 && !done_ ? &expected_ : nullptr;
    }

private:
    std::unique_ptr<ReadStream> owned_;
    ReadStream* inner_;
    oci::Descriptor expected_;
    oci::Hasher hasher_;
    std::int64_t seen_ = 0;
    bool done_ = false;
};

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

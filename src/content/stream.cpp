#include "sealrun/content/stream.h"

#include <algorithm>
#include <cstring>

#include "sealrun/error.h"

namespace sealrun::content {

std::size_t BytesStream::read(std::span<std::byte> buffer) {
    const std::size_t n = std::min(buffer.size(), bytes_.size() - pos_);
    std::memcpy(buffer.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
}

VerifyingStream::VerifyingStream(std::unique_ptr<ReadStream> inner, oci::Descriptor expected)
    : owned_(std::move(inner)), inner_(owned_.get()), expected_(std::move(expected)),
      hasher_(expected_.digest.algorithm()) {}

VerifyingStream::VerifyingStream(ReadStream& inner, oci::Descriptor expected)
    : inner_(&inner), expected_(std::move(expected)), hasher_(expected_.digest.algorithm()) {}

VerifyingStream::~VerifyingStream() = default;

std::size_t VerifyingStream::read(std::span<std::byte> buffer) {
    if (done_) return 0;
    if (buffer.empty()) throw Error(Errc::invalid_input, "read", expected_.digest.str(), "empty read buffer");
    const auto& d = expected_.digest.str();
    if (const auto left = expected_.size - seen_; left > 0) {
        const auto want = std::min(buffer.size(), static_cast<std::size_t>(left));
        const auto n = inner_->read(buffer.first(want));
        if (n == 0)
            throw Error(Errc::size_mismatch, "verify", d,
                        "content ended after " + std::to_string(seen_) + " of " + std::to_string(expected_.size) +
                            " bytes");
        hasher_.update(buffer.first(n));
        seen_ += static_cast<std::int64_t>(n);
        if (progress_) progress_(static_cast<std::uint64_t>(seen_));
        return n;
    }
    // All promised bytes are in: the end of the stream is reported only once
    // no trailing byte follows and the digest matches.
    std::byte probe{};
    if (inner_->read(std::span(&probe, 1)) != 0)
        throw Error(Errc::size_mismatch, "verify", d,
                    "content is longer than its descriptor's size " + std::to_string(expected_.size));
    done_ = true;
    if (const auto got = hasher_.finish(); got != expected_.digest)
        throw Error(Errc::digest_mismatch, "verify", d, "digest mismatch: content hashes to " + got.str());
    return 0;
}

ReadStream& verify_once(ReadStream& content, const oci::Descriptor& desc, std::optional<VerifyingStream>& holder) {
    if (already_verified(content, desc)) return content;
    return holder.emplace(content, desc);
}

void drain(ReadStream& stream) {
    std::byte buf[64 * 1024];
    while (stream.read(buf) != 0) {
    }
}

std::size_t read_fully(ReadStream& stream, std::span<std::byte> buffer) {
    std::size_t got = 0;
    while (got < buffer.size()) {
        const auto n = stream.read(buffer.subspan(got));
        if (n == 0) break;
        got += n;
    }
    return got;
}

std::string read_to_string(ReadStream& stream, std::size_t max_size, std::string_view what) {
    std::string out;
    std::byte buf[64 * 1024];
    for (;;) {
        const auto n = stream.read(buf);
        if (n == 0) return out;
        if (out.size() + n > max_size)
            throw Error(Errc::too_large, "read", std::string(what),
                        "content exceeds the limit of " + std::to_string(max_size) + " bytes");
        out.append(reinterpret_cast<const char*>(buf), n);
    }
}

}  // namespace sealrun::content

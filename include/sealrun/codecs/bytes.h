#pragma once
/// The raw-bytes codec: application/octet-stream, sealrun::codecs::Bytes.

#include <string>
#include <string_view>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// Bytes is an uninterpreted byte string (a distinct type from text, so
/// the registry can tell them apart).
struct Bytes {
    /// data holds the bytes.
    std::string data;
    friend bool operator==(const Bytes&, const Bytes&) = default;
};

/// BytesCodec carries bytes unchanged.
struct BytesCodec {
    /// value_type is what decode returns: the bytes as they are.
    using value_type = Bytes;
    /// media_type is application/octet-stream.
    static constexpr std::string_view media_type = "application/octet-stream";
    /// encode returns the bytes unchanged.
    static std::string encode(const Bytes& b) { return b.data; }
    /// decode returns the bytes unchanged; it never throws.
    static Bytes decode(std::string_view bytes) { return Bytes{std::string(bytes)}; }
    /// check accepts any bytes, as decode does, reading them as a stream.
    static std::string check(content::ReadStream& in) {
        content::drain(in);
        return {};
    }
};

}  // namespace sealrun::codecs

#pragma once
/// The text codec: every extension without a codec of its own (.txt, .log,
/// .sh, …), text/plain, std::string.

#include <string>
#include <string_view>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// TextCodec stores text as its bytes, unchanged. Decoding does not demand
/// UTF-8: logs hold what programs printed. It is also the codec of every
/// other text/ type (CodecRegistry::by_media_type).
struct TextCodec {
    /// value_type is what decode returns: the text.
    using value_type = std::string;
    /// media_type is text/plain.
    static constexpr std::string_view media_type = "text/plain";
    /// encode returns the text's bytes unchanged.
    static std::string encode(const std::string& text) { return text; }
    /// decode returns the bytes as text unchanged (check() reports non-UTF-8).
    static std::string decode(std::string_view bytes) { return std::string(bytes); }
    /// check reads the stream to its end with bounded memory and throws
    /// nothing decode would not; it returns where the bytes stop being
    /// text (not well-formed UTF-8, or a NUL byte), which validate() reports
    /// as a warning (a failure with --strict), or "" for text.
    static std::string check(content::ReadStream& in);
};

}  // namespace sealrun::codecs

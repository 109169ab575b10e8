#pragma once
/// The text codec: every extension without a codec of its own (.txt, .log,
/// .sh, …), text/plain, std::string.

#include <string>
#include <string_view>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// TextCodec stores text as its bytes, unchanged. Decoding does not demand
/// UTF-8: logs hold what programs printed.
struct TextCodec {
    using value_type = std::string;
    static constexpr std::string_view media_type = "text/plain";
    static std::string encode(const std::string& text) { return text; }
    static std::string decode(std::string_view bytes) { return std::string(bytes); }
    /// check accepts any bytes, as decode does, reading them as a stream.
    static std::string check(content::ReadStream& in) {
        content::drain(in);
        return {};
    }
};

}  // namespace sealrun::codecs

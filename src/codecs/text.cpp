#include "sealrun/codecs/text.h"

#include <vector>

#include "codecs/media_types.h"

namespace sealrun::codecs {

std::string TextCodec::check(content::ReadStream& in) {
    media::TextCheck text;
    std::vector<std::byte> buf(content::default_chunk_size);
    while (const auto n = in.read(buf)) text.update(std::string_view(reinterpret_cast<const char*>(buf.data()), n));
    return text.finish() ? std::string() : "not UTF-8 text: " + text.problem();
}

}  // namespace sealrun::codecs

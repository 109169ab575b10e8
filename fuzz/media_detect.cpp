// Media type detection (src/codecs/media_types.h) over untrusted bytes: libmagic on
// the first 64 KiB, the streaming UTF-8 text check, and the mime.types
// parser. Input: NAME \n@@@\n CONTENT \n@@@\n MIME.TYPES TEXT (fuzz/common.h).
#include "common.h"
#include "codecs/media_types.h"
#include "sealrun/oci/media_type.h"

namespace media = sealrun::media;
namespace oci = sealrun::oci;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = fuzz::split(fuzz::bytes(data, size));
    const std::string name = parts[0];
    const std::string content = parts.size() > 1 ? parts[1] : std::string();
    const std::string mime = parts.size() > 2 ? parts[2] : std::string();

    // The chosen type is a media type, and a text/ type only for text.
    std::string type;
    fuzz::guarded([&] { type = media::detect_bytes(sealrun::CodecRegistry::global(), name, content); });
    FUZZ_EXPECT(oci::is_media_type(type), "detect returned \"" + type + "\"");
    const bool text = media::is_text(content);
    if (media::is_text_type(type)) FUZZ_EXPECT(text, "a text type for bytes that are not text: " + type);

    const auto sniffed = media::sniff(content);
    FUZZ_EXPECT(sniffed.empty() || oci::is_media_type(sniffed), "sniff returned \"" + sniffed + "\"");

    // The text check gives the same answer however the bytes are cut.
    for (std::size_t cut : {std::size_t{1}, std::size_t{2}, std::size_t{3}, content.size() / 2}) {
        if (cut == 0) continue;
        media::TextCheck t;
        for (std::size_t at = 0; at < content.size(); at += cut) t.update(std::string_view(content).substr(at, cut));
        FUZZ_EXPECT(t.finish() == text, "chunked and whole text checks disagree");
    }

    // Every mapping the parser keeps is a listed, valid media type.
    const auto db = media::MimeTypes::parse(mime);
    for (std::size_t i = 0; i < mime.size(); ++i) {
        if (mime[i] == ' ' || mime[i] == '\t' || mime[i] == '\n') continue;
        std::size_t j = i;
        while (j < mime.size() && mime[j] != ' ' && mime[j] != '\t' && mime[j] != '\n') ++j;
        const auto word = std::string_view(mime).substr(i, j - i);
        if (const auto t = db.by_extension(word)) {
            FUZZ_EXPECT(oci::is_media_type(*t) && db.knows(*t), "a mapping to \"" + std::string(*t) + "\"");
        }
        i = j;
    }
    return 0;
}

// Media type validation: the predicate, the problem text and the throwing
// check agree, and accepted names obey RFC 6838's restricted-name shape.
#include "common.h"
#include "sealrun/oci/media_type.h"

namespace oci = sealrun::oci;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::bytes(data, size);
    const bool ok = oci::is_media_type(text);
    const bool checked = fuzz::guarded([&] { oci::check_media_type(text, "fuzz"); });
    FUZZ_EXPECT(ok == checked, "is_media_type and check_media_type disagree");
    if (ok) {
        const auto slash = text.find('/');
        FUZZ_EXPECT(slash != std::string_view::npos && slash > 0 && slash + 1 < text.size(), "accepted without type/subtype");
        FUZZ_EXPECT(slash <= 127 && text.size() - slash - 1 <= 127, "accepted a side over 127 characters");
        FUZZ_EXPECT(text.find('/', slash + 1) == std::string_view::npos, "accepted a second '/'");
        for (char c : text) FUZZ_EXPECT(c > ' ' && c < 0x7f && c != ';', "accepted a control, space, parameter or non-ASCII");
    }
    if (oci::is_manifest_type(text) || oci::is_index_type(text)) FUZZ_EXPECT(ok, "a manifest or index type is not a media type");
    return 0;
}

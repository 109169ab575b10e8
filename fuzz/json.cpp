// parse_json_strict (and the JSON codec, which is the same reader without a
// size cap): refuses cleanly or yields a document whose canonical form
// reads back to the same value.
#include <limits>

#include "common.h"
#include "sealrun/codecs/json.h"
#include "sealrun/oci/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::bytes(data, size);
    nlohmann::json doc;
    if (!fuzz::guarded([&] { doc = sealrun::oci::parse_json_strict(text, "fuzz"); })) return 0;
    std::string canonical;
    if (!fuzz::guarded([&] { canonical = sealrun::oci::canonical_json(doc); })) return 0;
    nlohmann::json again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = sealrun::codecs::JsonCodec::decode(canonical); }),
                "canonical form does not parse: " + canonical.substr(0, 200));
    FUZZ_EXPECT(sealrun::oci::canonical_json(again) == canonical, "canonical form is not stable: " + canonical.substr(0, 200));
    return 0;
}

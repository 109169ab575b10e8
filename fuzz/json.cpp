// parse_json_strict (and the JSON codec, which is the same reader without a
// size cap): refuses cleanly or yields a document whose canonical form
// reads back to the same value; parse_json_strict_split agrees with it.
#include <limits>
#include <string>
#include <vector>

#include "common.h"
#include "sealrun/codecs/json.h"
#include "sealrun/oci/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::bytes(data, size);
    nlohmann::json doc;
    const bool whole = fuzz::guarded([&] { doc = sealrun::oci::parse_json_strict(text, "fuzz"); });
    // parse_json_strict_split (an index's entries one at a time) gives the
    // same verdict, and its elements put back are the same document.
    nlohmann::json split;
    std::vector<nlohmann::json> elements;
    const bool parts = fuzz::guarded([&] {
        split = sealrun::oci::parse_json_strict_split(text, "fuzz", "manifests",
                                                      [&](nlohmann::json&& e, std::size_t) { elements.push_back(std::move(e)); });
    });
    FUZZ_EXPECT(parts == whole, std::string("parse_json_strict_split ") + (parts ? "accepts" : "refuses") + " what parse_json_strict does not");
    if (!whole) return 0;
    if (!elements.empty()) split["manifests"] = std::move(elements);
    FUZZ_EXPECT(split == doc, "parse_json_strict_split's parts are not the document: " + std::string(text.substr(0, 200)));
    std::string canonical;
    if (!fuzz::guarded([&] { canonical = sealrun::oci::canonical_json(doc); })) return 0;
    nlohmann::json again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = sealrun::codecs::JsonCodec::decode(canonical); }),
                "canonical form does not parse: " + canonical.substr(0, 200));
    FUZZ_EXPECT(sealrun::oci::canonical_json(again) == canonical, "canonical form is not stable: " + canonical.substr(0, 200));
    return 0;
}

// The JSON-lines codec: refuses cleanly, or its records encode to lines that
// decode to the same records.
#include "common.h"
#include "sealrun/codecs/jsonl.h"
#include "sealrun/oci/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using sealrun::codecs::JsonLinesCodec;
    std::vector<nlohmann::json> records;
    if (!fuzz::guarded([&] { records = JsonLinesCodec::decode(fuzz::bytes(data, size)); })) return 0;
    std::string encoded;
    if (!fuzz::guarded([&] { encoded = JsonLinesCodec::encode(records); })) return 0;
    std::vector<nlohmann::json> again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = JsonLinesCodec::decode(encoded); }), "encoded records do not decode");
    FUZZ_EXPECT(JsonLinesCodec::encode(again) == encoded, "encoding is not stable");
    return 0;
}

// Descriptor::from_json over strictly parsed JSON: refuses cleanly, or
// round-trips through to_json.
#include "common.h"
#include "sealrun/oci/descriptor.h"
#include "sealrun/oci/json.h"

namespace oci = sealrun::oci;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nlohmann::json doc;
    if (!fuzz::guarded([&] { doc = oci::parse_json_strict(fuzz::bytes(data, size), "fuzz"); })) return 0;
    oci::Descriptor d;
    if (!fuzz::guarded([&] { d = oci::Descriptor::from_json(doc, "descriptor"); })) return 0;
    FUZZ_EXPECT(d.size >= 0, "negative size");
    FUZZ_EXPECT(!d.data || static_cast<std::int64_t>(d.data->size()) == d.size, "data disagrees with size");
    nlohmann::json j;
    if (!fuzz::guarded([&] { j = d.to_json(); })) return 0;
    oci::Descriptor again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = oci::Descriptor::from_json(j, "descriptor"); }), "to_json does not read back: " + j.dump().substr(0, 300));
    FUZZ_EXPECT(again.same_content(d) && again.data == d.data && again.annotations == d.annotations && again.urls == d.urls,
                "descriptor does not round-trip");
    return 0;
}

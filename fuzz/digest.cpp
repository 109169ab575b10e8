// Digest::parse: refuses cleanly, or keeps the text as it was, split at the
// first colon; verifiable digests have the registered length.
#include "common.h"
#include "sealrun/oci/digest.h"

namespace oci = sealrun::oci;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::bytes(data, size);
    oci::Digest d;
    if (!fuzz::guarded([&] { d = oci::Digest::parse(text); })) return 0;
    FUZZ_EXPECT(d.str() == text, "digest text changed");
    FUZZ_EXPECT(std::string(d.algorithm()) + ":" + std::string(d.encoded()) == text, "algorithm/encoded split is lossy");
    FUZZ_EXPECT(d.algorithm().find(':') == std::string_view::npos, "algorithm holds a colon");
    if (d.verifiable()) {
        oci::Hasher h(d.algorithm());
        auto self = h.finish();
        FUZZ_EXPECT(self.encoded().size() == d.encoded().size(), "verifiable digest of the wrong length");
    }
    return 0;
}

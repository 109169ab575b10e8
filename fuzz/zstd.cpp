// zstd_decompress (what every "+zstd" attachment goes through) refuses
// cleanly, stays within its output cap, and round-trips what it accepts.
#include "common.h"
#include "sealrun/codecs/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t cap = 16 << 20;
    std::string plain;
    if (!fuzz::guarded([&] { plain = sealrun::zstd_decompress(fuzz::bytes(data, size), cap); })) return 0;
    FUZZ_EXPECT(plain.size() <= cap, "output past the cap");
    std::string again;
    FUZZ_EXPECT(fuzz::guarded([&] { again = sealrun::zstd_decompress(sealrun::zstd_compress(plain), cap); }) && again == plain,
                "zstd does not round-trip");
    return 0;
}

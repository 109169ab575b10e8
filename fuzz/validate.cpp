// validate() over a graph of fuzz-made documents (see graph.h): it never
// throws, whatever it is given, and reports a bad archive as failed checks.
#include "graph.h"
#include "sealrun/validate/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sealrun::content::MemoryTarget target;
    if (!fuzz::build(fuzz::bytes(data, size), target)) return 0;
    sealrun::ValidationReport report;
    FUZZ_EXPECT(fuzz::guarded([&] { report = sealrun::validate(target, "fuzz", {.max_blob_read = 16 << 20}); }),
                "validate threw");
    FUZZ_EXPECT(fuzz::guarded([&] { (void)sealrun::to_text(report); }), "to_text threw");
    return 0;
}

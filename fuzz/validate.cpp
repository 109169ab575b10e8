// validate() over a graph of fuzz-made documents (see graph.h): it never
// throws, whatever it is given, and reports a bad archive as failed checks.
// The rulebook's property is an oracle too (tests/validate/agreement_test.cpp):
// whatever the reader refuses (SealedExperiment::open, every run, every
// attachment getter, trace()), validate() does not call a valid experiment.
#include "graph.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"

namespace {

// blob reads one attachment; more than max_attachment_read decompressed
// bytes (a zstd bomb validate() only warns about) is no refusal.
template <class View>
void blob(const View& v, const std::string& name) {
    try {
        (void)v.get_blob(name);
    } catch (const sealrun::Error& e) {
        if (e.code() != sealrun::Errc::too_large) throw;
    }
}

// reader_reads_all reads everything the views give; false when one refused.
bool reader_reads_all(sealrun::content::MemoryTarget& target) {
    return fuzz::guarded([&] {
        const auto e = sealrun::SealedExperiment::open(target, "fuzz");
        for (const auto id : e.run_ids()) {
            const auto r = e.run(id);
            (void)r.trace();
            for (const auto& name : r.attachment_names()) blob(r, name);
        }
        for (const auto& name : e.attachment_names()) blob(e, name);
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sealrun::content::MemoryTarget target;
    if (!fuzz::build(fuzz::bytes(data, size), target)) return 0;
    sealrun::ValidationReport report;
    FUZZ_EXPECT(fuzz::guarded([&] { report = sealrun::validate(target, "fuzz", {.max_blob_read = 16 << 20}); }),
                "validate threw");
    FUZZ_EXPECT(fuzz::guarded([&] { (void)sealrun::to_text(report); }), "to_text threw");
    const bool valid_experiment = report.ok() && report.kind == "experiment";
    FUZZ_EXPECT(!valid_experiment || reader_reads_all(target), "the reader refused an experiment validate() passed");
    return 0;
}

// collect() over hostile contributions and a hostile previous experiment
// (sealrun/experiment/collect.h). The input is documents separated by
// "\n@@@\n", with "$D<j>"/"$S<j>" naming later ones (graph.h). Document 0
// is the previous experiment, an image index tagged "v1"; every later
// document that mentions "layers" is pushed as an image manifest and tagged
// "contrib.x.w.<k>" (its own index k), the others as blobs. Every refusal
// is a sealrun::Error; an index collect tags opens with one run per run
// collect reports.
#include "graph.h"
#include "sealrun/experiment/collect.h"
#include "sealrun/experiment/sealed.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace oci = sealrun::oci;
    sealrun::content::MemoryTarget target;
    auto docs = fuzz::split(fuzz::bytes(data, size));
    if (docs.size() > 64) return 0;
    std::vector<oci::Descriptor> descs(docs.size());
    for (std::size_t k = docs.size(); k-- > 0;) {
        docs[k] = fuzz::fill(docs[k], descs, k + 1);
        const bool manifest = k > 0 && docs[k].find("\"layers\"") != std::string::npos;
        const auto type = k == 0 ? oci::media_types::image_index
                                 : manifest ? oci::media_types::image_manifest : oci::media_types::octet_stream;
        descs[k] = oci::Descriptor::for_bytes(std::string(type), docs[k]);
        sealrun::content::push_bytes(target, descs[k], docs[k]);
        if (manifest) fuzz::guarded([&] { target.tag(descs[k], "contrib.x.w." + std::to_string(k)); });
    }
    fuzz::guarded([&] { target.tag(descs[0], "v1"); });
    std::optional<sealrun::CollectReport> r;
    if (!fuzz::guarded([&] { r.emplace(sealrun::collect(target, "x", "v1", {.concurrency = 2, .force = size % 2 == 0})); }))
        return 0;
    std::optional<sealrun::SealedExperiment> e;
    FUZZ_EXPECT(fuzz::guarded([&] { e.emplace(sealrun::SealedExperiment::open(target, "v1")); }),
                "collect tagged an index that does not open");
    FUZZ_EXPECT(e->run_ids().size() == r->runs.size(), "the index holds other runs than collect reported");
    for (const auto& run : r->runs) FUZZ_EXPECT(run.run_id >= 0, "a negative run id");
    return 0;
}

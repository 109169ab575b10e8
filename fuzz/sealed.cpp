// The sealed reader (docs/FORMAT.md): SealedExperiment::open over a graph of
// fuzz-made documents (see graph.h), then every run, its trace and
// attachments, the parameter table and the experiment attachments. Every
// refusal is a sealrun::Error.
#include "graph.h"
#include "sealrun/experiment/sealed.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sealrun::content::MemoryTarget target;
    if (!fuzz::build(fuzz::bytes(data, size), target)) return 0;
    std::optional<sealrun::SealedExperiment> e;
    if (!fuzz::guarded([&] { e.emplace(sealrun::SealedExperiment::open(target, "fuzz")); })) return 0;
    FUZZ_EXPECT(!e->name().empty(), "experiment without a name");
    // A paged index takes its ids from the summary or the pages: they may refuse.
    std::vector<std::int64_t> ids;
    fuzz::guarded([&] { ids = e->run_ids(); });
    for (auto id : ids) {
        std::optional<sealrun::SealedRun> r;
        if (!fuzz::guarded([&] { r.emplace(e->run(id)); })) continue;
        FUZZ_EXPECT(r->run_id() == id, "run opened under another id");
        fuzz::guarded([&] { (void)r->trace(); });
        for (const auto& name : r->attachment_names()) fuzz::guarded([&] { (void)r->get_attachment(name); });
    }
    fuzz::guarded([&] { (void)e->parameters(); });
    fuzz::guarded([&] {
        for (const auto& name : e->attachment_names()) fuzz::guarded([&] { (void)e->get_attachment(name); });
    });
    return 0;
}

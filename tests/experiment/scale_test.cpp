// Sealing at scale: 10,000 runs. Bounds are asserted by counting blobs
// written and read, never by timing.
#include <doctest/doctest.h>

#include <atomic>

#include "sealrun/content/memory.h"
#include "sealrun/oci/json.h"
#include "sealrun/experiment/sealed.h"
#include "support/experiment.h"
#include "support/forwarding.h"
#include "support/tmpdir.h"

using namespace sealrun;

using test::CountingTarget;

TEST_CASE("scale: 10,000 runs seal without duplicates, under the manifest limit, and open one run cheaply") {
    constexpr int runs = 10000;
    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "big-sweep", test::fixed_options());
    for (int i = 0; i < runs; ++i) {
        Run& r = exp.run();
        r.log_parameter("seed", i);
        r.save_file("shared.txt", "the same bytes in every run\n");
        r.save_file("result.json", {{"seed", i}});
        r.finish();
    }
    content::MemoryTarget mem;
    CountingTarget counting(mem);
    const auto root = exp.commit(counting, "big");
    // Per run: manifest, config, result.json; once: shared.txt, the index and the summary (3 blobs).
    // + the summary document, its manifest and the empty config blob.
    CHECK(counting.pushes == 3 * runs + 5);
    CHECK(mem.blob_count() == static_cast<std::size_t>(3 * runs + 5));
    CHECK(root.size < static_cast<std::int64_t>(oci::max_manifest_size));

    CountingTarget reader(mem);
    const auto sealed = SealedExperiment::open(reader, "big");
    CHECK(reader.fetches == 1);  // the index
    const auto run = sealed.run(7777);
    CHECK(reader.fetches == 3);  // + that run's manifest and config, nothing else
    CHECK(std::get<std::int64_t>(run.parameters().at("seed")) == 7777);
    CHECK(run.get_json("result.json")["seed"] == 7777);
    CHECK(reader.fetches == 4);  // an attachment is fetched only when asked for
    CHECK(sealed.run_ids().size() == static_cast<std::size_t>(runs));
}

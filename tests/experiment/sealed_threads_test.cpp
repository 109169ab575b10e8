// A sealed view over a read-only target, shared by threads: the views read
// through content::ReadOnlyTarget (nothing that writes), and one
// SealedExperiment used from several threads at once opens its
// experiment-level attachments once, for all of them.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

#include "sealrun/content/memory.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/tmpdir.h"

using namespace sealrun;

namespace {

// SlowReader is a read-only view of a MemoryTarget that counts the fetches
// of one digest and makes each of them slow, so threads that would race to
// open the same manifest all arrive while the first is still reading.
class SlowReader final : public content::ReadOnlyTarget {
public:
    SlowReader(content::MemoryTarget& inner, oci::Digest watched) : inner_(inner), watched_(std::move(watched)) {}
    oci::Descriptor resolve(std::string_view reference) override { return inner_.resolve(reference); }
    bool exists(const oci::Descriptor& desc) override { return inner_.exists(desc); }
    std::vector<std::string> tags() override { return inner_.tags(); }
    std::atomic<int> watched_fetches{0};

protected:
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& desc) override {
        if (desc.digest == watched_) {
            ++watched_fetches;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return inner_.fetch(desc);
    }

private:
    content::MemoryTarget& inner_;
    oci::Digest watched_;
};

}  // namespace

TEST_CASE("sealed: one view shared by threads opens the experiment attachments once") {
    test::TempDir dir;
    content::MemoryTarget store;
    test::commit_two_runs(dir, store);
    // The experiment-attachments manifest, the one document attachments() reads.
    const auto index = oci::ImageIndex::parse(content::read_all(store, store.resolve("v1"), oci::max_manifest_size));
    oci::Digest manifest;
    for (const auto& e : index.manifests)
        if (e.annotations.at(std::string(format::keys::part)) == format::part_attachments) manifest = e.digest;
    SlowReader reader(store, manifest);

    const auto view = SealedExperiment::open(reader, "v1");  // a ReadOnlyTarget is all it asks for
    CHECK(reader.watched_fetches == 0);                      // opened on first use, not before
    constexpr int threads = 8;
    std::latch start(threads);
    std::vector<const Attachments*> seen(threads, nullptr);
    std::vector<std::string> bytes(threads);
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([&, i] {
            start.arrive_and_wait();  // all ask at once
            seen[i] = &view.attachments();
            bytes[i] = view.get_blob("sweep.json");
        });
    for (auto& t : pool) t.join();
    CHECK(reader.watched_fetches == 1);
    for (int i = 0; i < threads; ++i) {
        CAPTURE(i);
        CHECK(seen[i] == seen[0]);
        CHECK(bytes[i] == R"({"lrs":[0.1,2.5]})");
    }
    // A copy of the view shares what it opened.
    const auto copy = view;
    CHECK(&copy.attachments() == seen[0]);
    CHECK(reader.watched_fetches == 1);
    // validate() reads a ReadOnlyTarget too.
    CHECK(validate(reader, "v1").ok());
}

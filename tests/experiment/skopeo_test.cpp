// Sealed experiments survive a client nobody here wrote: skopeo 1.9 copies
// an index by rewriting it without OCI 1.1 artifactType fields.
#include <doctest/doctest.h>

#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/experiment/sealed.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;

namespace {

void check_same_experiment(const SealedExperiment& a, const SealedExperiment& b) {
    CHECK(a.name() == b.name());
    CHECK(a.status() == b.status());
    REQUIRE(a.run_ids() == b.run_ids());
    for (auto id : a.run_ids()) {
        const auto ra = a.run(id);
        const auto rb = b.run(id);
        CHECK(ra.manifest().digest == rb.manifest().digest);
        CHECK(ra.status() == rb.status());
        REQUIRE(ra.attachment_names() == rb.attachment_names());
        for (const auto& n : ra.attachment_names()) CHECK(ra.get_blob(n) == rb.get_blob(n));
    }
    CHECK(a.attachment_names() == b.attachment_names());
}

}  // namespace

TEST_CASE("skopeo: an experiment copied by skopeo opens, with run manifests byte for byte") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::TempDir dir;
    test::commit_two_runs_in_place(dir);
    const auto r = test::run({"skopeo", "--insecure-policy", "copy", "--all", "oci:" + (dir / "storage").string() + ":v1",
                              "oci:" + (dir / "copy").string() + ":v1"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    content::OciLayout ours(dir / "storage"), theirs(dir / "copy");
    const auto copied_index = oci::ImageIndex::parse(content::read_all(theirs, theirs.resolve("v1"), oci::max_manifest_size));
    // What skopeo 1.9 does to an index (the reason the format keeps its
    // type in annotations too); run manifests keep every byte.
    CHECK(copied_index.annotations.at(std::string(format::keys::artifact_type)) == format::experiment_artifact_type);
    const auto a = SealedExperiment::open(ours, "v1");
    const auto b = SealedExperiment::open(theirs, "v1");
    check_same_experiment(a, b);
}

TEST_CASE("skopeo: an index stripped of every artifactType still opens") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    auto index = oci::ImageIndex::parse(content::read_all(t, t.resolve("v1"), oci::max_manifest_size));
    index.artifact_type.reset();
    for (auto& m : index.manifests) m.artifact_type.reset();
    const auto bytes = index.serialize();
    CHECK_FALSE(test::contains(bytes, "artifactType"));
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, d, bytes);
    t.tag(d, "stripped");
    check_same_experiment(SealedExperiment::open(t, "v1"), SealedExperiment::open(t, "stripped"));
}

// Experiment::commit never moves an existing tag to other content unless
// SealOptions::force says so.
#include <doctest/doctest.h>

#include "sealrun/content/oci_layout.h"
#include "sealrun/validate/validate.h"
#include "support/expect.h"
#include "support/experiment.h"
#include "support/tmpdir.h"

using namespace sealrun;

TEST_CASE("commit: a tag naming another experiment is refused unless force, re-sealing the same is fine") {
    test::TempDir dir, first, second, third;
    content::OciLayout layout(dir / "layout");
    const auto v1 = test::commit_two_runs(first, layout);
    CHECK(test::commit_two_runs(third, layout).digest == v1.digest);  // the same content again: idempotent
    const auto e = test::thrown([&] { test::commit_two_runs(second, layout, {}, "another-sweep"); });
    CHECK(e.code == Errc::already_exists);
    CHECK(test::contains(e.message, "--force"));
    CHECK(layout.resolve("v1").digest == v1.digest);
    CHECK(validate(layout, "v1").ok());
    const auto moved = test::commit_two_runs(second, layout, {.force = true}, "another-sweep");
    CHECK(moved.digest != v1.digest);
    CHECK(layout.resolve("v1").digest == moved.digest);
}

TEST_CASE("commit: sealing into the store's own layout keeps an existing tag too") {
    test::TempDir dir;
    const auto v1 = test::commit_two_runs_in_place(dir);
    CHECK(test::errc_of([&] { test::commit_two_runs_in_place(dir, "renamed"); }) == Errc::already_exists);
    CHECK(content::OciLayout(dir / "storage").resolve("v1").digest == v1.digest);
}

// Crafted layouts: symbolic links out of the layout and FIFOs where files
// should be cost a clear error, never a read outside, never a hang.
#include <doctest/doctest.h>

#include <functional>

#include <sys/stat.h>
#include <unistd.h>

#include "sealrun/content/oci_layout.h"
#include "sealrun/validate/validate.h"
#include "support/expect.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;
namespace fs = std::filesystem;

namespace {

// error_code_within runs `fn` in a child process that SIGALRM kills after 10
// seconds (so a test that would block fails instead of hanging) and returns
// the Errc it threw, -1 when it threw nothing, or 128+signal.
int error_code_within(const std::function<void()>& fn) {
    return test::in_processes(1, [&](int) {
        ::alarm(10);
        try {
            fn();
        } catch (const Error& e) {
            return static_cast<int>(e.code());
        }
        return 100;
    })[0];
}

constexpr int invalid = static_cast<int>(Errc::invalid_input);

}  // namespace

TEST_CASE("hostile layout: a blob that is a symbolic link out of the layout is refused, revealing nothing") {
    test::TempDir dir;
    const std::string secret = "root:x:0:0:root:/root:/bin/bash\n";
    test::write_file(dir / "outside/passwd", secret);
    const auto store = dir / "store";
    content::OciLayout layout(store, {.skip_fsync = true});
    const auto s = test::push_sample(layout, "link", 1, "v1");

    // The right digest: the link's target hashes to its name.
    const auto right = oci::Descriptor::for_bytes("application/octet-stream", secret);
    fs::create_symlink(dir / "outside/passwd", layout.blob_path(right.digest));
    CHECK_FALSE(layout.exists(right));
    auto e = test::thrown([&] { (void)content::read_all(layout, right, 1 << 20); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, layout.blob_path(right.digest).string()));
    CHECK(test::contains(e.message, "symbolic link"));

    // A layer of a tagged manifest swapped for a link: a wrong digest, and
    // still nothing about the outside file (its size, its hash) is told.
    const auto layer = layout.blob_path(s.layers[0].digest);
    fs::remove(layer);
    fs::create_symlink(dir / "outside/passwd", layer);
    e = test::thrown([&] { (void)content::read_all(layout, s.layers[0], 1 << 20); });
    CHECK(e.code == Errc::invalid_input);
    CHECK_FALSE(test::contains(e.message, right.digest.str()));
    CHECK_FALSE(test::contains(e.message, std::string(right.digest.encoded())));
    CHECK_FALSE(test::contains(e.message, std::to_string(secret.size())));
    const auto report = validate(layout, "v1");
    CHECK_FALSE(report.ok());

    // gc neither follows nor deletes through a link; a new push replaces it.
    (void)layout.gc({.grace = std::chrono::seconds(0)});
    CHECK(test::read_file(dir / "outside/passwd") == secret);
    content::push_bytes(layout, s.layers[0], s.layer_bytes[0]);
    CHECK(fs::is_regular_file(fs::symlink_status(layer)));
    CHECK(validate(layout, "v1").ok());
    CHECK(test::read_file(dir / "outside/passwd") == secret);
}

TEST_CASE("hostile layout: blobs/ or blobs/sha256 as a symbolic link out of the layout is refused") {
    test::TempDir dir;
    const auto store = dir / "store";
    const auto s = [&] {
        content::OciLayout w(store, {.skip_fsync = true});
        return test::push_sample(w, "dirs", 1, "v1");
    }();
    for (const std::string which : {"blobs/sha256", "blobs"}) {
        CAPTURE(which);
        const auto outside = dir / ("outside-" + std::to_string(which.size()));
        fs::rename(store / which, outside);
        fs::create_directory_symlink(outside, store / which);
        content::OciLayout layout(store, {.read_only = true});
        CHECK(errc_of([&] { (void)layout.exists(s.layers[0]); }) == Errc::invalid_input);
        const auto e = test::thrown([&] { (void)layout.fetch(s.layers[0]); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, (store / which).string()));
        // A writer refuses to open it at all, so neither push nor gc ever
        // writes or sweeps through the link.
        CHECK(errc_of([&] { content::OciLayout w(store, {.skip_fsync = true}); }) == Errc::invalid_input);
        fs::remove(store / which);
        fs::rename(outside, store / which);
        CHECK(content::OciLayout(store, {.read_only = true}).exists(s.layers[0]));
    }
}

TEST_CASE("hostile layout: a FIFO at a blob, index.json or oci-layout fails at once instead of blocking") {
    test::TempDir dir;
    const auto store = dir / "store";
    const auto s = [&] {
        content::OciLayout w(store, {.skip_fsync = true});
        return test::push_sample(w, "fifo", 1, "v1");
    }();
    const auto blob = store / "blobs/sha256" / std::string(s.layers[0].digest.encoded());
    fs::remove(blob);
    REQUIRE(::mkfifo(blob.c_str(), 0644) == 0);
    CHECK(error_code_within([&] { (void)content::OciLayout(store, {.read_only = true}).fetch(s.layers[0]); }) == invalid);
    CHECK(error_code_within([&] {
              content::OciLayout l(store, {.read_only = true});
              if (!validate(l, "v1").ok()) throw Error(Errc::invalid_input, "validate", "v1", "invalid");
          }) == invalid);
    CHECK(error_code_within([&] { (void)content::OciLayout(store).gc({.grace = std::chrono::seconds(0)}); }) == 100);

    fs::rename(store / "index.json", dir / "index.json");
    REQUIRE(::mkfifo((store / "index.json").c_str(), 0644) == 0);
    CHECK(error_code_within([&] { (void)content::OciLayout(store, {.read_only = true}).tags(); }) == invalid);
    CHECK(error_code_within([&] { (void)content::OciLayout(store).tags(); }) == invalid);
    fs::remove(store / "index.json");
    fs::rename(dir / "index.json", store / "index.json");

    fs::remove(store / "oci-layout");
    REQUIRE(::mkfifo((store / "oci-layout").c_str(), 0644) == 0);
    CHECK(error_code_within([&] { content::OciLayout l(store, {.read_only = true}); }) == invalid);
    CHECK(error_code_within([&] { content::OciLayout l(store); }) == invalid);
}

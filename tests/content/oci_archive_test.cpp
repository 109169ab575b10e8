#include <doctest/doctest.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/sample.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;
namespace fs = std::filesystem;

TEST_CASE("oci-archive: what sealrun exports, skopeo reads, and the other way round") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::TempDir dir;
    test::Sample s = [&] {
        content::OciLayout layout(dir / "ours");
        return test::push_sample(layout, "archive", 3, "v1");
    }();
    content::export_archive(dir / "ours", dir / "ours.tar");
    const auto r = test::run({"skopeo", "--insecure-policy", "copy", "oci-archive:" + (dir / "ours.tar").string() + ":v1",
                              "oci:" + (dir / "via-skopeo").string() + ":v1"});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    content::OciLayout via(dir / "via-skopeo");
    CHECK(content::read_all(via, via.resolve("v1"), oci::max_manifest_size) == s.manifest_bytes);

    const auto w = test::run({"skopeo", "--insecure-policy", "copy", "oci:" + (dir / "ours").string() + ":v1",
                              "oci-archive:" + (dir / "theirs.tar").string() + ":v1"});
    INFO(w.output);
    REQUIRE(w.exit_code == 0);
    content::import_archive(dir / "theirs.tar", dir / "imported");
    content::OciLayout imported(dir / "imported");
    content::OciLayout copy(dir / "copy");
    content::copy(imported, "v1", copy, "");  // verified on the way
    CHECK(content::read_all(copy, s.layers[2], 1024) == s.layer_bytes[2]);
}

TEST_CASE("oci-archive: exports are deterministic") {
    test::TempDir dir;
    {
        content::OciLayout layout(dir / "l");
        test::push_sample(layout, "det", 2, "v1");
    }
    content::export_archive(dir / "l", dir / "a.tar");
    content::export_archive(dir / "l", dir / "b.tar");
    CHECK(test::read_file(dir / "a.tar") == test::read_file(dir / "b.tar"));
    CHECK(errc_of([&] { content::export_archive(dir / "not-a-layout", dir / "c.tar"); }) == Errc::invalid_input);
}

TEST_CASE("oci-archive: hostile archives are refused and write nothing outside") {
    test::TempDir dir;
    const std::string script = R"(
import io, sys, tarfile
out, kind, name = sys.argv[1:4]
with tarfile.open(out, "w") as t:
    info = tarfile.TarInfo(name)
    if kind == "file":
        data = b"x"; info.size = 1; t.addfile(info, io.BytesIO(data))
    else:
        info.type = tarfile.SYMTYPE; info.linkname = "/etc"; t.addfile(info)
)";
    int i = 0;
    for (const auto& [kind, name] : std::vector<std::pair<std::string, std::string>>{
             {"file", "../escape"}, {"file", "/abs"}, {"symlink", "blobs"}}) {
        CAPTURE(name);
        const auto tar = dir / ("h" + std::to_string(i++) + ".tar");
        REQUIRE(test::run({"python3", "-c", script, tar.string(), kind, name}).exit_code == 0);
        CHECK(errc_of([&] { content::import_archive(tar, dir / ("out" + std::to_string(i))); }) == Errc::invalid_input);
    }
    CHECK_FALSE(fs::exists(dir.path().parent_path() / "escape"));
    fs::create_directories(dir / "full");
    test::write_file(dir / "full/x", "x");
    CHECK(errc_of([&] { content::import_archive(dir / "h0.tar", dir / "full"); }) == Errc::already_exists);
}

#include <doctest/doctest.h>

#include <chrono>

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

namespace {

// tree_bytes sums the sizes of the regular files under `dir`.
std::uintmax_t tree_bytes(const fs::path& dir) {
    std::uintmax_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) total += e.file_size();
    return total;
}

const std::string blob_name = "blobs/sha256/" + std::string(64, 'a');

}  // namespace

TEST_CASE("oci-archive: a sparse entry is refused before anything big is written") {
    test::TempDir dir;
    for (const std::string format : {"gnu", "pax"}) {
        CAPTURE(format);
        const auto src = dir / ("src-" + format);
        fs::create_directories(src / "blobs/sha256");
        // 4 GiB of holes: the tar holding it is a few KiB.
        REQUIRE(test::run({"truncate", "-s", "4G", (src / blob_name).string()}).exit_code == 0);
        test::write_file(src / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
        test::write_file(src / "index.json", R"({"schemaVersion":2,"manifests":[]})");
        const auto tar = dir / (format + ".tar");
        const auto r = test::run({"tar", "-C", src.string(), "--sparse", "--format=" + format, "-cf", tar.string(),
                                  "oci-layout", "index.json", blob_name});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        REQUIRE(fs::file_size(tar) < 1 << 20);
        const auto out = dir / ("out-" + format);
        const auto start = std::chrono::steady_clock::now();
        const auto e = test::thrown([&] { content::import_archive(tar, out); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, blob_name));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
        CHECK(tree_bytes(out) < 1 << 20);
    }
}

TEST_CASE("oci-archive: a declared size past the archive's end is refused before a byte is written") {
    test::TempDir dir;
    const auto tar = dir / "huge.tar";
    // A header declaring 1 TiB followed by one block of data and the end.
    const std::string script = R"(
import sys, tarfile
out, name = sys.argv[1:3]
info = tarfile.TarInfo(name); info.size = 1 << 40
with open(out, "wb") as f:
    f.write(info.tobuf(format=tarfile.GNU_FORMAT)); f.write(b"x" * 512); f.write(b"\0" * 1024)
)";
    REQUIRE(test::run({"python3", "-c", script, tar.string(), blob_name}).exit_code == 0);
    const auto e = test::thrown([&] { content::import_archive(tar, dir / "out"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, blob_name));
    CHECK(test::contains(e.message, std::to_string(1ull << 40)));
    CHECK_FALSE(fs::exists(dir / "out" / blob_name));
}

TEST_CASE("oci-archive: entries a layout does not hold are never written") {
    test::TempDir dir;
    const auto tar = dir / "extra.tar";
    const std::string script = R"(
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, "w") as t:
    for name, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                       ("index.json", b'{"schemaVersion":2,"manifests":[]}'),
                       ("etc/junk", b"junk"), ("blobs/sha256/not-a-digest", b"x"),
                       ("blobs/sha256/a/b", b"x"), ("manifest.json", b"[]")]:
        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
)";
    REQUIRE(test::run({"python3", "-c", script, tar.string()}).exit_code == 0);
    content::import_archive(tar, dir / "out");
    CHECK(fs::exists(dir / "out/index.json"));
    CHECK(fs::exists(dir / "out/oci-layout"));
    CHECK_FALSE(fs::exists(dir / "out/etc"));
    CHECK_FALSE(fs::exists(dir / "out/manifest.json"));
    CHECK_FALSE(fs::exists(dir / "out/blobs/sha256/not-a-digest"));
    CHECK_FALSE(fs::exists(dir / "out/blobs/sha256/a"));
}

TEST_CASE("oci-archive: a FIFO is refused at once instead of blocking") {
    test::TempDir dir;
    REQUIRE(test::run({"mkfifo", (dir / "fifo.tar").string()}).exit_code == 0);
    CHECK(errc_of([&] { content::import_archive(dir / "fifo.tar", dir / "out"); }) == Errc::invalid_input);
}

// OciArchive: an oci-archive read in place, from its tar headers' index (the writer is in archive_writer_test.cpp).
#include <doctest/doctest.h>

#include <chrono>

#include <sys/stat.h>

#include "content/archive_test_support.h"
#include "sealrun/content/copy.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// listing names every entry under `dir`, to show a reader wrote nothing.
std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(dir)) names.push_back(e.path().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("oci-archive reader: tags, resolve, exists and fetch from the tar's index, for every tar format") {
    for (const std::string format : {"pax", "gnu", "ustar"}) {
        CAPTURE(format);
        test::TempDir dir;
        auto files = test::layout_files("read-" + format, 3, "v1");
        // A folder, a member a layout does not hold and a name in blobs/ that is no digest: skipped.
        files.members.insert(files.members.begin(), {"blobs/", "", "dir"});
        files.members.push_back({"etc/junk", "junk"});
        files.members.push_back({"blobs/sha256/not-a-digest", "x"});
        files.members.push_back({"./manifest.json", "[]"});
        test::write_tar(dir / "a.tar", files.members, format);
        const auto before = listing(dir.path());

        content::OciArchive archive(dir / "a.tar");
        CHECK(archive.tags() == std::vector<std::string>{"v1"});
        const auto root = archive.resolve("v1");
        CHECK(root.digest == files.sample.manifest.digest);
        CHECK(root.annotations.count(std::string(oci::annotations::ref_name)) == 0);
        CHECK(archive.resolve(root.digest.str()).digest == root.digest);
        CHECK(content::read_all(archive, root, oci::max_manifest_size) == files.sample.manifest_bytes);
        CHECK(content::read_all(archive, files.sample.layers[2], 1024) == files.sample.layer_bytes[2]);
        CHECK(archive.exists(files.sample.layers[0]));
        auto wrong_size = files.sample.layers[0];
        ++wrong_size.size;
        CHECK_FALSE(archive.exists(wrong_size));
        CHECK(test::errc_of([&] { archive.fetch(wrong_size); }) == Errc::size_mismatch);
        const auto absent = oci::Descriptor::for_bytes("text/plain", "absent");
        CHECK_FALSE(archive.exists(absent));
        CHECK(test::errc_of([&] { archive.fetch(absent); }) == Errc::not_found);
        const auto missing = test::thrown([&] { archive.resolve("v2"); });
        CHECK(missing.code == Errc::not_found);
        CHECK(test::contains(missing.message, (dir / "a.tar").string()));

        CHECK(listing(dir.path()) == before);  // reading wrote nothing

        // Copied out, every byte verified on the way.
        content::OciLayout out(dir / "out");
        content::copy(archive, "v1", out, "");
        CHECK(content::read_all(out, files.sample.layers[1], 1024) == files.sample.layer_bytes[1]);
    }
}

TEST_CASE("oci-archive reader: an untagged manifest resolves by digest; a long name comes from its pax header") {
    test::TempDir dir;
    auto files = test::layout_files("untagged", 1, "v1");
    files.members[1].bytes = oci::ImageIndex{}.serialize();  // index.json names nothing
    const auto digest512 = std::string(128, 'a');
    files.members.push_back({"blobs/sha512/" + digest512, "not really"});
    test::write_tar(dir / "a.tar", files.members, "pax");
    content::OciArchive archive(dir / "a.tar", {.name = "my.tar"});
    CHECK(archive.tags().empty());
    const auto root = archive.resolve(files.sample.manifest.digest.str());
    CHECK(root.media_type == oci::media_types::image_manifest);
    CHECK(root.artifact_type == files.sample.manifest.artifact_type);
    // The 141-character name is indexed: it is there with its size.
    CHECK(archive.exists({.media_type = "text/plain", .digest = oci::Digest::parse("sha512:" + digest512), .size = 10}));
    // Errors name the archive as the caller named it.
    CHECK(test::contains(test::thrown([&] { archive.resolve("nope"); }).message, "my.tar"));
}

TEST_CASE("oci-archive reader: what skopeo and OMMX write is read in place") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required (apt-get install skopeo)");
    test::TempDir dir;
    const auto s = [&] {
        content::OciLayout layout(dir / "ours");
        return test::push_sample(layout, "skopeo-read", 3, "v1");
    }();
    const auto w = test::run({"skopeo", "--insecure-policy", "copy", "oci:" + (dir / "ours").string() + ":v1",
                              "oci-archive:" + (dir / "theirs.tar").string() + ":v1"});
    INFO(w.output);
    REQUIRE(w.exit_code == 0);
    content::OciArchive theirs(dir / "theirs.tar");
    content::OciLayout copy(dir / "copy");
    content::copy(theirs, "v1", copy, "");  // verified on the way
    CHECK(content::read_all(copy, s.layers[2], 1024) == s.layer_bytes[2]);

    // OMMX writes GNU tar headers and no oci-layout file; its ref name is a full reference.
    const auto fixture = fs::path(SEALRUN_SOURCE_DIR) / "../shared/fixtures/ommx/random_lp_instance.ommx";
    REQUIRE(fs::exists(fixture));
    content::OciArchive ommx(fixture);
    REQUIRE(ommx.tags().size() == 1);
    const auto root = ommx.resolve(ommx.tags()[0]);
    for (const auto& d : oci::successors(root, content::read_all(ommx, root, oci::max_manifest_size)))
        CHECK(content::read_all(ommx, d, 1 << 20).size() == static_cast<std::size_t>(d.size));
}

TEST_CASE("oci-archive reader: hostile archives are refused by name, without hanging or writing") {
    test::TempDir dir;
    const auto files = test::layout_files("hostile", 1, "v1");
    const auto blob = files.members.back();
    struct Case {
        std::string what;
        std::vector<test::TarMember> extra;
        std::string names;
    };
    const std::vector<Case> cases = {
        {"a name climbing out", {{"../escape", "x"}}, "../escape"},
        {"an absolute name", {{"/abs", "x"}}, "/abs"},
        {"a symlink named like the blobs folder", {{"blobs", "", "symlink"}}, "blobs"},
        {"a symlink named like a blob", {{"blobs/sha256/" + std::string(64, 'b'), "", "symlink"}}, "blobs/sha256/bbbb"},
        {"a hard link named like a blob", {{"blobs/sha256/" + std::string(64, 'c'), "", "hardlink"}}, "blobs/sha256/cccc"},
        {"a FIFO member", {{"blobs/sha256/" + std::string(64, 'd'), "", "fifo"}}, "blobs/sha256/dddd"},
        {"a blob twice", {blob}, blob.name},
        {"index.json twice", {{"index.json", oci::ImageIndex{}.serialize()}}, "index.json"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        auto members = files.members;
        members.insert(members.end(), c.extra.begin(), c.extra.end());
        const auto tar = dir / "h.tar";
        test::write_tar(tar, members);
        const auto e = test::thrown([&] { content::OciArchive a(tar); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, c.names));
        CHECK(test::contains(e.message, tar.string()));
    }
    CHECK_FALSE(fs::exists(dir.path().parent_path() / "escape"));

    // No index.json, an index.json past the manifest cap, an oci-layout of another version.
    test::write_tar(dir / "empty.tar", {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"}});
    CHECK(test::contains(test::thrown([&] { content::OciArchive a(dir / "empty.tar"); }).message, "no index.json"));
    test::write_tar(dir / "big.tar", {{"index.json", std::string(oci::max_manifest_size + 1, ' ')}});
    CHECK(test::errc_of([&] { content::OciArchive a(dir / "big.tar"); }) == Errc::too_large);
    auto v2 = files.members;
    v2[0].bytes = R"({"imageLayoutVersion":"2.0.0"})";
    test::write_tar(dir / "v2.tar", v2);
    CHECK(test::errc_of([&] { content::OciArchive a(dir / "v2.tar"); }) == Errc::invalid_input);
    // Not a tar at all, and a missing file.
    test::write_file(dir / "text.tar", std::string(2048, 'x'));
    CHECK(test::errc_of([&] { content::OciArchive a(dir / "text.tar"); }) == Errc::invalid_input);
    CHECK(test::errc_of([&] { content::OciArchive a(dir / "absent.tar"); }) == Errc::not_found);
}

TEST_CASE("oci-archive reader: a compressed archive is refused, saying to decompress it") {
    test::TempDir dir;
    test::write_tar(dir / "a.tar", test::layout_files("gz", 1, "v1").members);
    for (const auto& [tool, ext] : std::vector<std::pair<std::string, std::string>>{{"gzip", ".gz"}, {"zstd", ".zst"}}) {
        if (!test::have_program(tool)) continue;
        CAPTURE(tool);
        REQUIRE(test::run({tool, "-k", "-q", (dir / "a.tar").string()}).exit_code == 0);
        const auto e = test::thrown([&] { content::OciArchive a(dir / ("a.tar" + ext)); });
        CHECK(e.code == Errc::unsupported);
        CHECK(test::contains(e.message, "decompress"));
    }
}

TEST_CASE("oci-archive reader: a size past the end, a sparse member, a FIFO and too many members fail fast") {
    test::TempDir dir;
    const std::string name = "blobs/sha256/" + std::string(64, 'a');
    // A header declaring 1 TiB followed by one block of data and the end.
    const std::string script = R"(
import sys, tarfile
out, name = sys.argv[1:3]
info = tarfile.TarInfo(name); info.size = 1 << 40
with open(out, "wb") as f:
    f.write(info.tobuf(format=tarfile.GNU_FORMAT)); f.write(b"x" * 512); f.write(b"\0" * 1024)
)";
    REQUIRE(test::run({"python3", "-c", script, (dir / "huge.tar").string(), name}).exit_code == 0);
    auto e = test::thrown([&] { content::OciArchive a(dir / "huge.tar"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, name));
    CHECK(test::contains(e.message, std::to_string(1ull << 40)));
    // It says what happened and where: a cut file, not a puzzle of sizes.
    CHECK(test::contains(e.message, "is truncated"));
    CHECK(test::contains(e.message, "would start at byte 512, but the file ends at byte 2048"));

    for (const std::string format : {"gnu", "pax"}) {
        CAPTURE(format);
        const auto src = dir / ("src-" + format);
        fs::create_directories(src / "blobs/sha256");
        REQUIRE(test::run({"truncate", "-s", "4G", (src / name).string()}).exit_code == 0);  // 4 GiB of holes
        test::write_file(src / "index.json", R"({"schemaVersion":2,"manifests":[]})");
        const auto tar = dir / (format + ".tar");
        REQUIRE(test::run({"tar", "-C", src.string(), "--sparse", "--format=" + format, "-cf", tar.string(), "index.json", name})
                    .exit_code == 0);
        REQUIRE(fs::file_size(tar) < 1 << 20);
        const auto start = std::chrono::steady_clock::now();
        e = test::thrown([&] { content::OciArchive a(tar); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "sparse"));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    }

    REQUIRE(::mkfifo((dir / "fifo.tar").c_str(), 0600) == 0);
    CHECK(test::errc_of([&] { content::OciArchive a(dir / "fifo.tar"); }) == Errc::invalid_input);

    std::vector<test::TarMember> many = test::layout_files("many", 1, "v1").members;
    for (int i = 0; i < 50; ++i) many.push_back({"junk/" + std::to_string(i), ""});
    test::write_tar(dir / "many.tar", many);
    CHECK(test::errc_of([&] { content::OciArchive a(dir / "many.tar", {.max_members = 40}); }) == Errc::too_large);
    CHECK(content::OciArchive(dir / "many.tar", {.max_members = 60}).tags().size() == 1);
}

TEST_CASE("oci-archive reader: a blob whose bytes were changed fails verification when read") {
    test::TempDir dir;
    auto files = test::layout_files("tamper", 1, "v1");
    std::string bytes = files.members[3].bytes;
    bytes[0] ^= 1;
    files.members[3].bytes = bytes;  // the layer: same size, other content
    test::write_tar(dir / "a.tar", files.members);
    content::OciArchive archive(dir / "a.tar");
    CHECK(archive.exists(files.sample.layers[0]));  // a size check, as in a layout
    CHECK(test::errc_of([&] { content::read_all(archive, files.sample.layers[0], 1024); }) == Errc::digest_mismatch);
}

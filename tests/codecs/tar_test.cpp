#include <doctest/doctest.h>

#include <sys/stat.h>

#include "sealrun/codecs/tar.h"
#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
using codecs::DirectoryTree;
using codecs::TarCodec;
using codecs::TreeEntry;
using test::errc_of;
namespace fs = std::filesystem;

namespace {

// hostile_tar writes a tar with Python's tarfile (a tar writer nobody here
// wrote) holding one entry of `kind` ("file", "symlink", "hardlink") named
// `name` with link target `target`, after one ordinary file "ok.txt".
std::string hostile_tar(const test::TempDir& dir, const std::string& kind, const std::string& name,
                        const std::string& target = "") {
    const auto out = (dir / "hostile.tar").string();
    const std::string script = R"(
import io, sys, tarfile
out, kind, name, target = sys.argv[1:5]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    ok = tarfile.TarInfo("ok.txt"); data = b"fine\n"; ok.size = len(data)
    t.addfile(ok, io.BytesIO(data))
    info = tarfile.TarInfo(name)
    if kind == "file":
        data = b"evil\n"; info.size = len(data); t.addfile(info, io.BytesIO(data))
    elif kind == "symlink":
        info.type = tarfile.SYMTYPE; info.linkname = target; t.addfile(info)
    elif kind == "hardlink":
        info.type = tarfile.LNKTYPE; info.linkname = target; t.addfile(info)
    elif kind == "fifo":
        info.type = tarfile.FIFOTYPE; t.addfile(info)
)";
    const auto r = test::run({"python3", "-c", script, out, kind, name, target});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return test::read_file(out);
}

DirectoryTree sample_tree() {
    DirectoryTree t;
    t.entries = {
        {TreeEntry::Type::directory, "plots", 0755, ""},
        {TreeEntry::Type::file, "plots/curve.json", 0644, "[1,2,3]"},
        {TreeEntry::Type::file, "run.sh", 0755, "#!/bin/sh\necho hi\n"},
        {TreeEntry::Type::symlink, "plots/latest", 0777, "curve.json"},
        {TreeEntry::Type::file, "empty", 0600, ""},
    };
    return t;
}

}  // namespace

TEST_CASE("tar: a tree round-trips and encodes deterministically") {
    const auto tree = sample_tree();
    const auto a = TarCodec::encode(tree);
    DirectoryTree shuffled = tree;
    std::reverse(shuffled.entries.begin(), shuffled.entries.end());
    CHECK(TarCodec::encode(shuffled) == a);  // order of entries does not matter
    auto back = TarCodec::decode(a);
    auto expected = tree;
    std::sort(expected.entries.begin(), expected.entries.end(), [](auto& x, auto& y) { return x.path < y.path; });
    CHECK(back == expected);
}

TEST_CASE("tar: system tar lists what sealrun writes") {
    test::TempDir dir;
    test::write_file(dir / "t.tar", TarCodec::encode(sample_tree()));
    const auto r = test::run({"tar", "-tf", (dir / "t.tar").string()});
    REQUIRE(r.exit_code == 0);
    CHECK(test::contains(r.output, "plots/curve.json"));
    CHECK(test::contains(r.output, "run.sh"));
}

TEST_CASE("tar: a directory on disk packs and unpacks, links kept as links") {
    test::TempDir dir;
    const auto src = dir / "src";
    test::write_file(src / "a/b.txt", "bee");
    test::write_file(src / "top.json", "{}");
    fs::create_symlink("a/b.txt", src / "link");
    fs::permissions(src / "top.json", fs::perms(0600));
    const auto tree = DirectoryTree::read(src);
    REQUIRE(tree.entries.size() == 4);  // a, a/b.txt, link, top.json
    const auto dest = dir / "dest";
    TarCodec::decode(TarCodec::encode(tree)).write(dest);
    CHECK(test::read_file(dest / "a/b.txt") == "bee");
    CHECK(fs::is_symlink(dest / "link"));
    CHECK(fs::read_symlink(dest / "link") == "a/b.txt");
    CHECK((fs::status(dest / "top.json").permissions() & fs::perms::all) == fs::perms(0600));
    // Existing files are kept unless overwrite is asked for.
    test::write_file(dest / "a/b.txt", "changed");
    CHECK(errc_of([&] { tree.write(dest); }) == Errc::already_exists);
    CHECK(test::read_file(dest / "a/b.txt") == "changed");
    tree.write(dest, true);
    CHECK(test::read_file(dest / "a/b.txt") == "bee");
}

TEST_CASE("tar: a symlink pointing outside the directory is refused when packing") {
    test::TempDir dir;
    test::write_file(dir / "src/ok", "x");
    fs::create_symlink("/etc/passwd", dir / "src/abs");
    CHECK(errc_of([&] { DirectoryTree::read(dir / "src"); }) == Errc::invalid_input);
    fs::remove(dir / "src/abs");
    fs::create_symlink("../../outside", dir / "src/rel");
    CHECK(errc_of([&] { DirectoryTree::read(dir / "src"); }) == Errc::invalid_input);
}

TEST_CASE("tar: hostile archives are refused and write nothing") {
    test::TempDir dir;
    struct Case {
        const char* kind;
        const char* name;
        const char* target;
    };
    const Case cases[] = {
        {"file", "../escape.txt", ""},
        {"file", "a/../../escape.txt", ""},
        {"file", "/tmp/absolute.txt", ""},
        {"symlink", "link", "/etc/passwd"},
        {"symlink", "sub/link", "../../outside"},
        {"hardlink", "hard", "../outside"},
        {"hardlink", "hard", "/etc/passwd"},
        {"hardlink", "hard", "not-in-archive"},
        {"fifo", "pipe", ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CAPTURE(c.target);
        const auto bytes = hostile_tar(dir, c.kind, c.name, c.target);
        const auto e = test::thrown([&] { (void)TarCodec::decode(bytes); });
        CHECK(e.code == Errc::invalid_input);
    }
    CHECK_FALSE(fs::exists(dir.path().parent_path() / "escape.txt"));
}

TEST_CASE("tar: a hardlink to an earlier file of the tree becomes a copy") {
    test::TempDir dir;
    const auto bytes = hostile_tar(dir, "hardlink", "copy.txt", "ok.txt");
    const auto tree = TarCodec::decode(bytes);
    REQUIRE(tree.entries.size() == 2);
    CHECK(tree.entries[0].path == "copy.txt");
    CHECK(tree.entries[0].content == "fine\n");
}

TEST_CASE("tar: entry count and total size are capped") {
    DirectoryTree many;
    for (int i = 0; i < 20; ++i) many.entries.push_back({TreeEntry::Type::file, "f" + std::to_string(i), 0644, "0123456789"});
    const auto bytes = TarCodec::encode(many);
    CHECK(errc_of([&] { TarCodec::decode(bytes, {.max_total_bytes = 1 << 20, .max_entries = 19}); }) == Errc::too_large);
    CHECK(errc_of([&] { TarCodec::decode(bytes, {.max_total_bytes = 199, .max_entries = 100}); }) == Errc::too_large);
    CHECK(TarCodec::decode(bytes, {.max_total_bytes = 200, .max_entries = 20}).entries.size() == 20);
}

TEST_CASE("tar: writing never follows a symlink already in the destination") {
    test::TempDir dir;
    fs::create_directories(dir / "outside");
    fs::create_directories(dir / "dest");
    fs::create_directory_symlink(dir / "outside", dir / "dest/sub");
    DirectoryTree t;
    t.entries = {{TreeEntry::Type::file, "sub/x.txt", 0644, "x"}};
    CHECK(errc_of([&] { t.write(dir / "dest", true); }) == Errc::invalid_input);
    CHECK_FALSE(fs::exists(dir / "outside/x.txt"));
}

TEST_CASE("tar: garbage is not a tar") {
    CHECK(errc_of([] { TarCodec::decode(std::string(1024, 'z')); }) == Errc::invalid_input);
}

TEST_CASE("tar: found by fuzzing: a declared size past the tar's end is refused before allocating, modes keep permission bits only") {
    const std::string corpus = std::string(SEALRUN_SOURCE_DIR) + "/fuzz/corpus/tar/";
    // 1.5 KB declaring a 3 GiB file: decode used to allocate all of it first.
    const auto liar = test::read_file(corpus + "regress-declared-size-3gib");
    REQUIRE(liar.size() < 4096);
    CHECK(test::errc_of([&] { (void)codecs::TarCodec::decode(liar); }) == Errc::invalid_input);
    // Mode bits beyond 07777 in the header: the tree round-trips.
    const auto tree = codecs::TarCodec::decode(test::read_file(corpus + "regress-mode-high-bits"));
    for (const auto& e : tree.entries) CHECK((e.mode & ~07777u) == 0);
    CHECK(codecs::TarCodec::decode(codecs::TarCodec::encode(tree)) == tree);
}

// A directory tree written where the file system refuses a path: a
// sealrun::Error naming the path, never a std::filesystem::filesystem_error.
#include <doctest/doctest.h>

#include "sealrun/codecs/tar.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using codecs::DirectoryTree;

TEST_CASE("tar: writing an entry whose name is too long is Error(io) naming it") {
    test::TempDir dir;
    const std::string too_long(300, 't');
    DirectoryTree tree;
    tree.entries.push_back({.type = codecs::TreeEntry::Type::file, .path = too_long, .content = "x"});
    const auto e = test::thrown([&] { tree.write(dir / "out", false); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, too_long));
}

TEST_CASE("tar: writing below a file is Error(io) naming the folder it needed") {
    test::TempDir dir;
    test::write_file(dir / "out", "a file");
    DirectoryTree tree;
    tree.entries.push_back({.type = codecs::TreeEntry::Type::file, .path = "a/b.txt", .content = "x"});
    const auto e = test::thrown([&] { tree.write(dir / "out", true); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, (dir / "out").string()));
}

// What a record does when the file system refuses a path: a sealrun::Error
// naming the path, never a std::filesystem::filesystem_error. The cases fail
// for root too (a name longer than NAME_MAX, a file where a folder belongs).
#include <doctest/doctest.h>

#include "sealrun/records/record.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// too_long is one path component longer than any file system allows (ENAMETOOLONG).
const std::string too_long(300, 'n');

}  // namespace

TEST_CASE("records: a name too long for the file system is Error(io) naming it") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.5}});
    r.materialize();
    auto e = test::thrown([&] { r.save_file(too_long + "/result.json", nlohmann::json{{"loss", 1}}); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, too_long));
    e = test::thrown([&] { (void)r.load_file<nlohmann::json>(too_long + ".json"); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, too_long));
    e = test::thrown([&] { r.append_jsonl(too_long + "/log.jsonl", nlohmann::json{{"step", 0}}); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, too_long));
}

TEST_CASE("records: a store under a name too long is Error(io) from the first look, not filesystem_error") {
    test::TempDir dir;
    RecordStore store(dir / too_long / "storage");
    const auto e = test::thrown([&] { Record r(store, "train", {{"lr", 0.5}}); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, too_long));
}

TEST_CASE("records: a file where the records folder belongs is Error(io) naming it") {
    test::TempDir dir;
    test::write_file(dir / "storage/records", "not a folder");
    RecordStore store(dir / "storage");
    auto e = test::thrown([&] { (void)store.identities(); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, (dir / "storage/records").string()));
    Record r(store, "train", {{"lr", 0.5}});
    e = test::thrown([&] { r.materialize(); });
    CHECK(e.code == Errc::io);
    CHECK(test::contains(e.message, (dir / "storage/records").string()));
}

// Names a record keeps for sealrun's own files (path.h reserved_record_name,
// docs/RECORDS.md "Reserved names"): a user's file of such a name is refused
// when it is saved, never dropped when the record is sealed; sealrun's own
// temporary files (a writer that crashed) are never sealed.
#include <doctest/doctest.h>

#include "sealrun/codecs/tar.h"
#include "sealrun/content/memory.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/path.h"
#include "sealrun/records/record.h"
#include "sealrun/experiment/sealed.h"
#include "support/expect.h"
#include "support/experiment.h"
#include "support/tmpdir.h"

using namespace sealrun;
namespace fs = std::filesystem;

TEST_CASE("reserved names: one rule, in path.h") {
    for (const char* name : {"model.json", ".sealrun-tmp-x", ".sealrun-tmp-x.txt", "sub/.sealrun-tmp-abc",
                             ".sealrun-trace.json", ".sealrun-anything/r.json", "a/.sealrun-/b"}) {
        CAPTURE(name);
        CHECK_FALSE(reserved_record_name(name).empty());
    }
    for (const char* name : {"trace.json", "sub/model.json", ".tmp-notes.txt", ".sealrun", "x.sealrun-tmp-y",
                             "sealrun-tmp-x", ".sealrunrc"}) {
        CAPTURE(name);
        CHECK(reserved_record_name(name).empty());
    }
}

TEST_CASE("reserved names: save_file, import_file and append_jsonl refuse them, naming the file") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    test::write_file(dir / "source.txt", "user bytes");
    for (const bool materialized : {false, true}) {
        CAPTURE(materialized);
        Record r(store, "reserved", {{"materialized", materialized}});
        if (materialized) r.materialize();
        for (const char* name : {".sealrun-tmp-notes.txt", "sub/.sealrun-tmp-1.txt", ".sealrun-trace.json", "model.json"}) {
            CAPTURE(name);
            auto e = test::thrown([&] { r.save_file(name, std::string("user bytes")); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, name));
            CHECK(test::contains(e.message, "save_file"));
            e = test::thrown([&] { r.import_file(name, dir / "source.txt"); });
            CHECK(e.code == Errc::invalid_input);
            CHECK(test::contains(e.message, name));
        }
        CHECK(test::errc_of([&] { r.append_jsonl(".sealrun-tmp-log.jsonl", {{"a", 1}}); }) == Errc::invalid_input);
        // A directory tree holding a reserved name is refused whole.
        codecs::DirectoryTree tree{{{.path = "ok.txt", .content = "a"}, {.path = ".sealrun-tmp-z", .content = "b"}}};
        const auto e = test::thrown([&] { r.save_file("tree", tree); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "tree/.sealrun-tmp-z"));
        r.materialize();
        CHECK(r.files().empty());  // nothing of it was written
    }
}

TEST_CASE("reserved names: a crashed writer's temporary file is never sealed; look-alike user names are") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "crash", test::fixed_options());
    Run& r = exp.run();
    r.save_file("result.json", {{"loss", 0.5}});
    r.save_file(".tmp-notes.txt", "mine");
    r.save_file("sealrun-tmp-x.txt", "mine too");
    // What a writer killed between creating its temporary file and renaming
    // it leaves where O_TMPFILE is not available: a named temporary file.
    const auto run_dir = r.local_directory();
    test::write_file(run_dir / ".sealrun-tmp-AbC123", "half a result");
    test::write_file(run_dir / "plots/.sealrun-tmp-XyZ789", "half a plot");
    r.finish();
    CHECK(r.files() == std::vector<std::string>{".tmp-notes.txt", "result.json", "sealrun-tmp-x.txt"});
    content::MemoryTarget t;
    exp.commit(t, "v1");
    const auto run = SealedExperiment::open(t, "v1").run(0);
    CHECK(run.attachment_names() == std::vector<std::string>{".tmp-notes.txt", "result.json", "sealrun-tmp-x.txt"});
}

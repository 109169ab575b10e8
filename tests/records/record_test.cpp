#include <doctest/doctest.h>

#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "sealrun/codecs/npy.h"
#include "sealrun/codecs/pickle.h"
#include "sealrun/codecs/tar.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/oci/json.h"
#include "sealrun/records/record.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;
namespace fs = std::filesystem;

namespace {

nlohmann::json model_of(Record& r) {
    return oci::parse_json_strict(test::read_file(r.local_directory() / "model.json"), "model.json");
}

// The seed's `class Optimize(Interface)` with `__call__`, in C++.
class Optimize : public Record {
public:
    Optimize(RecordStore& store, nlohmann::json config) : Record(store, "optimize", std::move(config)) {}
    int runs = 0;
    bool fail = false;
    double loss() const { return load_file<nlohmann::json>("result.json")->at("loss").get<double>(); }

protected:
    void body() override {
        ++runs;
        if (fail) throw std::runtime_error("diverged");
        const double lr = config().at("lr").get<double>();
        save_file("result.json", {{"loss", lr / 10}});
        save_file({"plots", "curve.jsonl"}, std::vector<nlohmann::json>{{{"step", 0}}, {{"step", 1}}});
    }
};

}  // namespace

TEST_CASE("records: the extension picks the codec, on disk and back") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.5}});
    r.materialize();
    const auto arr = codecs::NdArray::from_values<double>({2}, std::vector<double>{1.5, -2.0});
    r.save_file("result.json", {{"loss", 0.1}, {"acc", 0.9}});
    r.save_file("curve.jsonl", std::vector<nlohmann::json>{{{"s", 0}}, {{"s", 1}}});
    r.save_file("weights.npy", arr);
    r.save_file("model.p", codecs::Pickle{"\x80\x04pickled"});
    r.save_file("notes.txt", "plain text");
    r.save_file("run.sh", std::string("#!/bin/sh\n"));
    const auto d = r.local_directory();
    CHECK(test::read_file(d / "result.json") == R"({"acc":0.9,"loss":0.1})");
    CHECK(test::read_file(d / "curve.jsonl") == "{\"s\":0}\n{\"s\":1}\n");
    CHECK(test::read_file(d / "notes.txt") == "plain text");
    CHECK(test::read_file(d / "weights.npy").starts_with("\x93NUMPY"));
    CHECK(r.load_file<nlohmann::json>("result.json")->at("loss") == 0.1);
    CHECK(r.load_file<std::vector<nlohmann::json>>("curve.jsonl")->size() == 2);
    CHECK(r.load_file<codecs::NdArray>("weights.npy")->values<double>() == std::vector<double>{1.5, -2.0});
    CHECK(r.load_file<codecs::Pickle>("model.p")->data == "\x80\x04pickled");
    CHECK(r.load_file<std::string>("run.sh") == "#!/bin/sh\n");
}

TEST_CASE("records: a list of segments joins like a path and folders are created") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.5}});
    r.save_file({"plots", "deep", "curve.json"}, {{"x", 1}});
    r.materialize();
    CHECK(fs::exists(r.local_directory("plots") / "deep" / "curve.json"));
    CHECK(r.load_file<nlohmann::json>("plots/deep/curve.json") == nlohmann::json{{"x", 1}});
}

TEST_CASE("records: escaping paths, the reserved model.json and wrong types are refused") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.5}});
    r.materialize();
    CHECK(errc_of([&] { r.save_file("/etc/evil.txt", "x"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.save_file("../evil.txt", "x"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.save_file("a/../../evil.txt", "x"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.save_file({"plots", "/abs.txt"}, "x"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.save_file({"..", "evil.txt"}, "x"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.save_file("model.json", {{"kind", "forged"}}); }) == Errc::invalid_input);
    const auto e = test::thrown([&] { r.save_file("result.json", std::string("not a json value")); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "application/json"));
    CHECK_FALSE(fs::exists(dir / "storage/records/evil.txt"));
    CHECK_FALSE(fs::exists(dir / "evil.txt"));
    CHECK(model_of(r)["kind"] == "train");
}

TEST_CASE("records: a symlink inside the record never carries a save outside") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.5}});
    fs::create_directories(dir / "outside");
    fs::create_directory_symlink(dir / "outside", r.local_directory() / "link");
    CHECK(errc_of([&] { r.save_file("link/x.txt", "x"); }) == Errc::invalid_input);
    CHECK(errc_of([&] { r.append_jsonl("link/log.jsonl", {{"a", 1}}); }) == Errc::invalid_input);
    CHECK(fs::is_empty(dir / "outside"));
}

TEST_CASE("records: a missing file gives the default, a corrupt one an error naming it") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.5}});
    CHECK_FALSE(r.load_file<nlohmann::json>("absent.json").has_value());
    CHECK(r.load_file<nlohmann::json>("absent.json", {{"d", 1}}) == nlohmann::json{{"d", 1}});
    test::write_file(r.local_directory() / "broken.json", "{\"loss\": ");
    const auto e = test::thrown([&] { (void)r.load_file<nlohmann::json>("broken.json", {}); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "broken.json"));
    test::write_file(r.local_directory() / "broken.npy", "\x93NUMPY\x01\x00garbage");
    CHECK(errc_of([&] { (void)r.load_file<codecs::NdArray>("broken.npy"); }) == Errc::invalid_input);
    r.save_file("ok.json", {{"a", 1}});
    CHECK(errc_of([&] { (void)r.load_file<std::string>("ok.json"); }) == Errc::invalid_input);  // wrong type asked
}

TEST_CASE("records: files saved before materializing are buffered, then flushed in order") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.1}});
    r.save_file("result.json", {{"v", 1}});
    r.save_file("other.txt", "o");
    r.save_file("result.json", {{"v", 2}});
    r.append_jsonl("log.jsonl", {{"i", 0}});
    r.append_jsonl("log.jsonl", {{"i", 1}});
    CHECK_FALSE(r.materialized());
    CHECK_FALSE(fs::exists(dir / "storage"));  // nothing on disk yet
    CHECK(r.load_file<nlohmann::json>("result.json") == nlohmann::json{{"v", 2}});
    r.materialize();
    CHECK(test::read_file(r.local_directory() / "result.json") == R"({"v":2})");
    CHECK(test::read_file(r.local_directory() / "other.txt") == "o");
    r.append_jsonl("log.jsonl", {{"i", 2}});
    CHECK(r.load_file<std::vector<nlohmann::json>>("log.jsonl")->size() == 3);
}

TEST_CASE("records: directory trees save as folders and load back") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.1}});
    codecs::DirectoryTree t;
    t.entries = {{codecs::TreeEntry::Type::file, "a.txt", 0644, "A"}, {codecs::TreeEntry::Type::file, "sub/b.txt", 0644, "B"}};
    r.save_file("bundle", t);
    CHECK(test::read_file(r.local_directory("bundle/sub/b.txt")) == "B");
    const auto back = r.load_file<codecs::DirectoryTree>("bundle");
    REQUIRE(back.has_value());
    CHECK(back->entries.size() == 3);  // a.txt, sub, sub/b.txt
}

TEST_CASE("records: markers live in memory only") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record r(store, "train", {{"lr", 0.1}});
    r.mark("promising");
    r.mark("score", 7);
    CHECK(r.marker("promising") == true);
    CHECK(r.marker("score") == 7);
    CHECK(r.marker("missing", false) == false);
    CHECK(r.marker("missing").is_null());
    r.materialize();
    CHECK_FALSE(test::contains(test::read_file(r.local_directory() / "model.json"), "promising"));
    Record again(store, "train", {{"lr", 0.1}});
    CHECK(again.marker("promising").is_null());
}

TEST_CASE("records: identity follows kind and config, and finds the existing record") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Record a(store, "train", {{"lr", 0.1}, {"epochs", 3}});
    Record b(store, "train", nlohmann::json::parse(R"({"epochs":3,"lr":0.1})"));
    Record c(store, "train", {{"lr", 0.2}, {"epochs", 3}});
    Record d(store, "eval", {{"lr", 0.1}, {"epochs", 3}});
    CHECK(a.identity() == b.identity());
    CHECK(a.identity() != c.identity());
    CHECK(a.identity() != d.identity());
    CHECK(a.identity().size() == 64);
    a.save_file("x.txt", "from a");
    a.materialize();
    Record found(store, "train", {{"epochs", 3}, {"lr", 0.1}});
    CHECK(found.materialized());
    CHECK(found.load_file<std::string>("x.txt") == "from a");
    c.materialize();
    d.materialize();
    CHECK(store.identities().size() == 3);
    CHECK(store.identities("train").size() == 2);
    const auto m = model_of(a);
    CHECK(m["kind"] == "train");
    CHECK(m["config"] == a.config());
    CHECK(m["identity"] == a.identity());
    CHECK(m["version"] == 1);
    CHECK(m["created"].get<std::string>().size() == 20);
}

TEST_CASE("records: launch runs the body once, cached(false) recomputes") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Optimize opt(store, {{"lr", 0.5}});
    CHECK_FALSE(opt.cached());
    opt.launch();
    CHECK(opt.cached());
    CHECK(opt.status() == "finished");
    CHECK(opt.loss() == doctest::Approx(0.05));
    opt.launch();
    CHECK(opt.runs == 1);
    Optimize same(store, {{"lr", 0.5}});
    same.launch();
    CHECK(same.runs == 0);  // another object, same record: already cached
    CHECK(same.cached());
    opt.cached(false);
    CHECK_FALSE(same.cached());
    opt.launch();
    CHECK(opt.runs == 2);
    CHECK(fs::exists(opt.local_directory("plots") / "curve.jsonl"));
}

TEST_CASE("records: a body that throws leaves the record failed and not cached") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Optimize opt(store, {{"lr", 0.5}});
    opt.fail = true;
    CHECK_THROWS_WITH_AS(opt.launch(), "diverged", std::runtime_error);
    CHECK_FALSE(opt.cached());
    CHECK(opt.status() == "failed");
    CHECK(model_of(opt)["reason"] == "diverged");
    opt.fail = false;
    opt.launch();
    CHECK(opt.cached());
    CHECK(opt.runs == 2);
    CHECK_FALSE(model_of(opt).contains("reason"));
}

TEST_CASE("records: two processes launching the same record end with one record and all files") {
    test::TempDir dir;
    struct Slow : Record {
        using Record::Record;
        void body() override {
            append_jsonl("body-runs.jsonl", {{"pid", ::getpid()}});
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
    };
    const auto codes = test::in_processes(2, [&](int p) {
        RecordStore store(dir / "storage");
        Slow r(store, "sweep", {{"seed", 1}});
        r.save_file("from-" + std::to_string(p) + ".txt", "process " + std::to_string(p));
        r.launch();
        return r.cached() ? 0 : 2;
    });
    CHECK(codes == std::vector<int>{0, 0});
    RecordStore store(dir / "storage");
    CHECK(store.identities().size() == 1);
    Record r(store, "sweep", {{"seed", 1}});
    CHECK(r.load_file<std::vector<nlohmann::json>>("body-runs.jsonl")->size() == 1);
    CHECK(r.load_file<std::string>("from-0.txt") == "process 0");
    CHECK(r.load_file<std::string>("from-1.txt") == "process 1");
}

TEST_CASE("records: collect removes sealed records no live root names, and stale temporary files") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "sweep");
    exp.run([](Run& r) { r.save_file("result.json", {{"loss", 0.1}}); });
    const auto root = exp.commit("v1");
    const auto run_dir = exp.runs()[0]->local_directory();
    CHECK(model_of(*exp.runs()[0]).at("sealed") == nlohmann::json::array({root.digest.str()}));
    // Never sealed: a launched record stays whatever the store holds.
    Optimize opt(store, {{"lr", 0.5}});
    opt.launch();
    const auto opt_dir = opt.local_directory();
    // Temporary files a dead writer left: an old one goes, a fresh one stays.
    test::write_file(opt_dir / ".sealrun-tmp-old", std::string(1000, 'x'));
    test::write_file(opt_dir / ".sealrun-tmp-fresh", "x");
    REQUIRE(test::run({"touch", "-d", "3 hours ago", (opt_dir / ".sealrun-tmp-old").string()}).exit_code == 0);

    // Still tagged: nothing sealed goes.
    auto r = store.collect([&] { return std::set<std::string>{root.digest.str()}; });
    CHECK(r.records_removed == 0);
    CHECK(r.temps_removed == 1);
    CHECK(fs::exists(run_dir / "result.json"));
    CHECK_FALSE(fs::exists(opt_dir / ".sealrun-tmp-old"));
    CHECK(fs::exists(opt_dir / ".sealrun-tmp-fresh"));

    // A record sealed after collect started is kept even when its root is not listed yet.
    Experiment later(store, "later");
    later.run([](Run& run) { run.save_file("x.json", {{"a", 1}}); });
    r = store.collect([&] {
        later.commit("v2");
        return std::set<std::string>{};
    });
    CHECK(r.records_removed == 2);  // the run and the experiment-attachments record of v1
    CHECK_FALSE(fs::exists(run_dir));
    CHECK(fs::exists(later.runs()[0]->local_directory() / "x.json"));
    CHECK(fs::exists(opt_dir / "result.json"));
    CHECK(store.identities("sealrun.run").size() == 1);
}

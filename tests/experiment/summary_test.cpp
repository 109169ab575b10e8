// The experiment summary and the paged run list (docs/FORMAT.md): what the
// writer puts in the index, what readers take from it, how few requests
// that costs, and what they refuse.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include <malloc.h>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/validate/validate.h"
#include "experiment/index_writer.h"
#include "experiment/summary.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/forwarding.h"
#include "support/registry.h"
#include "support/remote.h"
#include "support/tmpdir.h"

using namespace sealrun;
using nlohmann::json;

namespace {

using test::CountingTarget;

const std::vector<std::string> chosen = {"result.json:loss", "result.json:/metrics/acc", "result.json:list",
                                         "result.json:/none", "missing.json:loss"};

// record runs `n` runs: seed = i, lr = 0.1 * i; every third run fails; run i
// saves result.json with a loss, a nested acc and a list, except run 1.
void record(Experiment& exp, int n) {
    for (int i = 0; i < n; ++i) {
        Run& r = exp.run();
        r.log_parameter("seed", i);
        r.log_parameter("lr", 0.1 * i);
        if (i != 1) r.save_file("result.json", json{{"loss", 1.0 / (i + 1)}, {"metrics", {{"acc", i}}}, {"list", {1, 2}}});
        if (i % 3 == 2) r.fail("diverged at step " + std::to_string(i));
        else r.finish();
    }
}

oci::ImageIndex read_index(content::Target& t, std::string_view ref) {
    return oci::ImageIndex::parse(content::read_all(t, t.resolve(ref), oci::max_manifest_size));
}

// put_index pushes `index` and tags it `ref`.
oci::Descriptor put_index(content::Target& t, const oci::ImageIndex& index, std::string_view ref) {
    const auto bytes = index.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    if (!t.exists(d)) content::push_bytes(t, d, bytes);
    content::tag_with(t, d, ref, content::TagPolicy::replace);
    return d;
}

std::optional<std::size_t> entry_of(const oci::ImageIndex& index, std::string_view part) {
    for (std::size_t i = 0; i < index.manifests.size(); ++i)
        if (index.manifests[i].annotations.count(std::string(format::keys::part)) &&
            index.manifests[i].annotations.at(std::string(format::keys::part)) == part)
            return i;
    return std::nullopt;
}

// summary_json reads the summary document of the index `ref` names.
json summary_json(content::Target& t, std::string_view ref, std::string* bytes = nullptr) {
    const auto index = read_index(t, ref);
    const auto& entry = index.manifests.at(*entry_of(index, format::part_summary));
    const auto m = oci::ImageManifest::parse(content::read_all(t, entry, oci::max_manifest_size));
    auto raw = content::read_all(t, m.layers.at(0), format::max_summary_size);
    if (bytes != nullptr) *bytes = raw;
    return json::parse(raw);
}

// with_summary writes `doc` as the summary of the index `ref` names, tagged `out`.
void with_summary(content::Target& t, std::string_view ref, const json& doc, std::string_view out) {
    auto index = read_index(t, ref);
    const auto bytes = oci::canonical_json(doc);
    const auto blob = oci::Descriptor::for_bytes(std::string(format::summary_type), bytes);
    content::push_bytes(t, blob, bytes);
    auto empty = oci::empty_descriptor();
    empty.data.reset();
    oci::ImageManifest m{.artifact_type = std::string(format::summary_artifact_type)};
    m.config = empty;
    m.layers.push_back(blob);
    const auto mb = m.serialize();
    auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
    content::push_bytes(t, md, mb);
    auto& entry = index.manifests.at(*entry_of(index, format::part_summary));
    entry.digest = md.digest;
    entry.size = md.size;
    put_index(t, index, out);
}

std::string failures(const ValidationReport& r) {
    std::string out;
    for (const auto& c : r.checks)
        if (!c.passed) out += c.name + " " + c.subject + ": " + c.message + "\n";
    return out;
}

}  // namespace

TEST_CASE("summary: every index carries one, with the chosen scalar values, in canonical bytes") {
    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "sum", test::fixed_options());
    record(exp, 4);
    content::MemoryTarget mem;
    exp.commit(mem, "v1", {.summary_values = chosen});

    const auto index = read_index(mem, "v1");
    CHECK(index.annotations.at(std::string(format::keys::experiment_runs)) == "4");
    REQUIRE(entry_of(index, format::part_summary) == index.manifests.size() - 1);  // after the runs (no attachments)
    CHECK(index.manifests.back().artifact_type == std::string(format::summary_artifact_type));

    std::string bytes;
    const auto doc = summary_json(mem, "v1", &bytes);
    CHECK(bytes == oci::canonical_json(doc));  // canonical
    CHECK(doc["version"] == 1);
    CHECK(doc["experiment"] == "sum");
    CHECK(doc["values"] == json(chosen));
    REQUIRE(doc["runs"].size() == 4);
    const auto& r0 = doc["runs"][0];
    CHECK(r0["run_id"] == 0);
    CHECK(r0["status"] == "finished");
    CHECK(r0["reason"].is_null());
    CHECK(r0["parameters"] == json{{"lr", 0.0}, {"seed", 0}});
    // Scalars only: the list, the absent pointer and the missing file are left out.
    CHECK(r0["values"] == json{{"result.json:loss", 1.0}, {"result.json:/metrics/acc", 0}});
    CHECK(r0["manifest"] == index.manifests[0].digest.str());
    CHECK_FALSE(r0.contains("worker"));
    CHECK(doc["runs"][1]["values"] == json::object());  // run 1 saved no result.json
    CHECK(doc["runs"][2]["status"] == "failed");
    CHECK(doc["runs"][2]["reason"] == "diverged at step 2");

    // Read back through the public type, in O(1) requests.
    CountingTarget counting(mem);
    const auto sealed = SealedExperiment::open(counting, "v1");
    CHECK(counting.fetches == 1);
    const auto* s = sealed.summary();
    REQUIRE(s != nullptr);
    CHECK(counting.fetches == 3);  // + the summary manifest and its document
    CHECK(s->values == chosen);
    CHECK(std::get<double>(s->find(3)->values.at("result.json:loss")) == doctest::Approx(0.25));
    CHECK(std::get<std::int64_t>(s->find(3)->values.at("result.json:/metrics/acc")) == 3);
    CHECK(s->find(2)->reason == "diverged at step 2");
    CHECK(s->find(9) == nullptr);
    const auto table = sealed.parameters();
    CHECK(counting.fetches == 3);  // from the summary, no run opened
    CHECK(table.columns == std::vector<std::string>{"lr", "seed"});
    CHECK(table.run_ids == std::vector<std::int64_t>{0, 1, 2, 3});
    CHECK(table.rows[3][1] == 3);
    // The same table as opening every run gives.
    for (std::size_t i = 0; i < table.run_ids.size(); ++i) {
        const auto run = sealed.run(table.run_ids[i]);
        CHECK(parameter_to_json(run.parameters().at("seed")) == table.rows[i][1]);
    }
    CHECK(validate(mem, "v1").ok());

    // Same content, same bytes: the summary is part of the reproducible root.
    Experiment again(store, "sum", test::fixed_options("fedcba9876543210"));
    record(again, 4);
    content::MemoryTarget mem2;
    CHECK(again.commit(mem2, "v1", {.summary_values = chosen}).digest == mem.resolve("v1").digest);
}

TEST_CASE("summary: value specs and picks") {
    CHECK_THROWS_AS(detail::parse_value_spec("result.json"), Error);
    CHECK_THROWS_AS(detail::parse_value_spec(":loss"), Error);
    CHECK_THROWS_AS(detail::parse_value_spec("result.json:"), Error);
    CHECK_THROWS_AS(detail::parse_value_spec("result.json:/a~2"), Error);  // not a JSON pointer
    const auto spec = detail::parse_value_spec("r.json:/a/0/b");
    CHECK(spec.file == "r.json");
    CHECK(spec.pointer);
    CHECK(detail::pick_value(json{{"a", {{{"b", "x"}}}}}, spec) == Parameter(std::string("x")));
    CHECK_FALSE(detail::pick_value(json{{"a", {{"b", "x"}}}}, spec));  // "0" into an object: none
    CHECK_FALSE(detail::pick_value(json{{"loss", nullptr}}, detail::parse_value_spec("r:loss")));
    CHECK_FALSE(detail::pick_value(json{{"loss", json::array()}}, detail::parse_value_spec("r:loss")));
    CHECK_FALSE(detail::pick_value(json::array(), detail::parse_value_spec("r:loss")));
    CHECK(detail::pick_value(json{{"ok", true}}, detail::parse_value_spec("r:ok")) == Parameter(true));
    // A value spec that is not FILE:KEY fails the commit before anything is pushed.
    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "bad-spec", test::fixed_options());
    record(exp, 1);
    content::MemoryTarget mem;
    CountingTarget counting(mem);
    CHECK(test::errc_of([&] { exp.commit(counting, "v1", {.summary_values = {"no-colon"}}); }) == Errc::invalid_input);
    CHECK(counting.pushes == 0);
    CHECK(test::errc_of([&] { exp.commit("v1", {.summary_values = {"result.json:"}}); }) == Errc::invalid_input);
    std::size_t blobs = 0;  // into the store's layout: no blob either
    if (std::filesystem::exists(store.root() / "blobs"))
        for (const auto& e : std::filesystem::recursive_directory_iterator(store.root() / "blobs")) blobs += e.is_regular_file();
    CHECK(blobs == 0);
}

TEST_CASE("summary: an older index without one opens by the slow path and validates") {
    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "old", test::fixed_options());
    record(exp, 3);
    content::MemoryTarget mem;
    exp.commit(mem, "v1");
    // The index as sealrun wrote it before summaries: no summary entry, no run count.
    auto index = read_index(mem, "v1");
    index.manifests.erase(index.manifests.begin() + static_cast<std::ptrdiff_t>(*entry_of(index, format::part_summary)));
    index.annotations.erase(std::string(format::keys::experiment_runs));
    put_index(mem, index, "old");
    CountingTarget counting(mem);
    const auto sealed = SealedExperiment::open(counting, "old");
    CHECK(sealed.summary() == nullptr);
    CHECK(sealed.run_ids() == std::vector<std::int64_t>{0, 1, 2});
    CHECK(counting.fetches == 1);
    const auto table = sealed.parameters();
    CHECK(counting.fetches == 1 + 2 * 3);  // every run's manifest and config
    CHECK(table.rows[2][1] == 2);
    const auto report = validate(mem, "old");
    CHECK_MESSAGE(report.ok(), failures(report));
}

TEST_CASE("pages: 50 runs at 7 a page seal, push to a registry, open in few requests, validate and pull back") {
    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "paged", test::fixed_options());
    record(exp, 50);
    exp.attachments().save_file("notes.txt", "shared");
    exp.commit("v1", {.summary_values = chosen, .runs_per_page = 7});
    content::OciLayout layout(dir / "storage");

    const auto index = read_index(layout, "v1");
    CHECK(index.annotations.at(std::string(format::keys::experiment_runs)) == "50");
    REQUIRE(index.manifests.size() == 8 + 2);  // 8 pages, the attachments, the summary
    CHECK(index.manifests[0].annotations.at(std::string(format::keys::page_first)) == "0");
    CHECK(index.manifests[0].annotations.at(std::string(format::keys::page_last)) == "6");
    CHECK(index.manifests[7].annotations.at(std::string(format::keys::page_first)) == "49");
    CHECK(index.manifests[8].annotations.at(std::string(format::keys::part)) == "attachments");
    CHECK(index.manifests[9].annotations.at(std::string(format::keys::part)) == "summary");
    const auto page = oci::ImageIndex::parse(content::read_all(layout, index.manifests[3], oci::max_manifest_size));
    CHECK(page.artifact_type == std::string(format::page_artifact_type));
    CHECK(page.manifests.size() == 7);
    CHECK(page.manifests[0].annotations.at(std::string(format::keys::run_id)) == "21");
    auto report = validate(layout, "v1");
    CHECK_MESSAGE(report.ok(), failures(report));

    test::Registry registry;
    test::FaultProxy proxy(registry);
    auto repo = test::via(proxy, "lab/paged");
    content::copy(layout, "v1", repo, "v1");  // the copy engine follows the pages
    proxy.reset_stats();
    {
        const auto sealed = SealedExperiment::open(repo, "v1");
        CHECK(sealed.run_count() == 50);
        CHECK(sealed.run_ids().size() == 50);
        const auto table = sealed.parameters();
        CHECK(table.rows.size() == 50);
        CHECK(sealed.summary()->find(49)->status == "finished");
        const auto requests = proxy.stats().count();
        INFO(proxy.stats().raw.dump());
        CHECK(requests <= 5);  // resolve, index, summary manifest and document: whatever the run count
        const auto run = sealed.run(33);  // its page, then its manifest and config
        CHECK(std::get<std::int64_t>(run.parameters().at("seed")) == 33);
        CHECK(run.get_json("result.json")["metrics"]["acc"] == 33);
        CHECK_THROWS_AS(sealed.run(50), Error);
    }
    report = validate(repo, "v1");
    CHECK_MESSAGE(report.ok(), failures(report));

    test::TempDir back;
    content::OciLayout pulled(back / "layout");
    content::copy(repo, "v1", pulled, "v1");
    const auto again = SealedExperiment::open(pulled, "v1");
    CHECK(again.run(48).get_json("result.json")["loss"] == doctest::Approx(1.0 / 49));
    CHECK(again.get_blob("notes.txt") == "shared");
    report = validate(pulled, "v1");
    CHECK_MESSAGE(report.ok(), failures(report));

    // An older paged archive without a summary: ids from every page.
    auto old = read_index(layout, "v1");
    old.manifests.pop_back();
    put_index(layout, old, "no-summary");
    CountingTarget counting(layout);
    const auto slow = SealedExperiment::open(counting, "no-summary");
    CHECK(slow.run_ids().size() == 50);
    CHECK(counting.fetches == 1 + 8);
}

TEST_CASE("hostile: a summary or page that lies is refused, by the reader or by validate") {
    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "lies", test::fixed_options());
    record(exp, 20);
    exp.commit("v1", {.summary_values = chosen, .runs_per_page = 7});
    content::OciLayout layout(dir / "storage");
    const auto good = summary_json(layout, "v1");

    SUBCASE("a row whose status disagrees with its run: validate fails, naming it") {
        auto doc = good;
        doc["runs"][4]["status"] = "failed";
        with_summary(layout, "v1", doc, "bad");
        CHECK(SealedExperiment::open(layout, "bad").summary() != nullptr);  // a cache: the reader cannot tell
        const auto report = validate(layout, "bad");
        CHECK_FALSE(report.ok());
        CHECK(failures(report).find("run 4: the summary says status failed, the run finished") != std::string::npos);
    }
    SUBCASE("a row whose parameters disagree: validate fails") {
        auto doc = good;
        doc["runs"][3]["parameters"]["seed"] = 99;
        with_summary(layout, "v1", doc, "bad");
        const auto report = validate(layout, "bad");
        CHECK(failures(report).find("run 3: the summary has parameter \"seed\" = 99, the run 3") != std::string::npos);
    }
    SUBCASE("a row naming a worker its run does not: validate fails, naming both") {
        auto doc = good;
        doc["runs"][5]["worker"] = "node-17";
        with_summary(layout, "v1", doc, "bad");
        CHECK(SealedExperiment::open(layout, "bad").summary()->find(5)->worker == "node-17");
        const auto report = validate(layout, "bad");
        CHECK_FALSE(report.ok());
        CHECK(failures(report).find("run 5: the summary says worker \"node-17\", the run null") != std::string::npos);
        // The honest summary passes the worker check.
        CHECK_MESSAGE(validate(layout, "v1").ok(), failures(validate(layout, "v1")));
    }
    SUBCASE("a summary that lists a run twice or out of order is refused") {
        auto doc = good;
        doc["runs"][3]["run_id"] = 2;
        with_summary(layout, "v1", doc, "bad");
        CHECK_THROWS_WITH_AS(SealedExperiment::open(layout, "bad").summary(), doctest::Contains("ascending"), Error);
        CHECK_FALSE(validate(layout, "bad").ok());
    }
    SUBCASE("a summary with fewer rows than the run count is refused") {
        auto doc = good;
        doc["runs"].erase(19);
        with_summary(layout, "v1", doc, "bad");
        CHECK_THROWS_WITH_AS(SealedExperiment::open(layout, "bad").run_ids(), doctest::Contains("lists 19 runs, the index 20"), Error);
        CHECK_FALSE(validate(layout, "bad").ok());
    }
    SUBCASE("a root whose run count lies about the pages") {
        auto index = read_index(layout, "v1");
        index.annotations[std::string(format::keys::experiment_runs)] = "21";
        index.manifests.pop_back();  // without the summary: the count is checked against the pages
        put_index(layout, index, "bad");
        CHECK_THROWS_WITH_AS(SealedExperiment::open(layout, "bad").run_ids(), doctest::Contains("pages hold 20"), Error);
        CHECK_FALSE(validate(layout, "bad").ok());
    }
    SUBCASE("a page repeating another page's run id is refused") {
        auto index = read_index(layout, "v1");
        auto page = oci::ImageIndex::parse(content::read_all(layout, index.manifests[1], oci::max_manifest_size));
        page.manifests[0].annotations[std::string(format::keys::run_id)] = "3";  // page 0 holds run 3
        const auto bytes = page.serialize();
        const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
        content::push_bytes(layout, d, bytes);
        index.manifests[1].digest = d.digest;
        index.manifests[1].size = d.size;
        put_index(layout, index, "bad");
        const auto sealed = SealedExperiment::open(layout, "bad");
        CHECK_THROWS_WITH_AS(sealed.run(8), doctest::Contains("outside the page's range"), Error);
        const auto report = validate(layout, "bad");
        CHECK(failures(report).find("outside the page's range") != std::string::npos);
    }
    SUBCASE("overlapping page ranges are refused at open") {
        auto index = read_index(layout, "v1");
        index.manifests[1].annotations[std::string(format::keys::page_first)] = "6";
        put_index(layout, index, "bad");
        CHECK_THROWS_WITH_AS(SealedExperiment::open(layout, "bad"), doctest::Contains("overlap"), Error);
    }
    SUBCASE("a summary document past 256 MiB is refused before it is read") {
        content::MemoryTarget mem;  // it holds a graph with a blob missing
        content::copy(layout, "v1", mem, "v1");
        auto index = read_index(mem, "v1");
        auto& entry = index.manifests.back();
        auto m = oci::ImageManifest::parse(content::read_all(mem, entry, oci::max_manifest_size));
        m.layers[0].size = std::int64_t{300} << 20;
        const auto mb = m.serialize();
        const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), mb);
        content::push_bytes(mem, md, mb);
        entry.digest = md.digest;
        entry.size = md.size;
        put_index(mem, index, "bad");
        try {
            (void)SealedExperiment::open(mem, "bad").summary();
            FAIL("no error");
        } catch (const Error& e) {
            CHECK(e.code() == Errc::too_large);
        }
    }
}

TEST_CASE("limits: an index that cannot fit is refused before anything is pushed") {
    detail::IndexParts parts{.name = "huge"};
    CHECK_NOTHROW(detail::check_index_fits(parts, 100000));  // 10 pages of 10,000
    parts.runs_per_page = 20000;
    try {
        detail::check_index_fits(parts, 20000);  // one index of 20,000 run entries
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::too_large);
    }
    parts.runs_per_page = 1;
    CHECK_THROWS_AS(detail::check_index_fits(parts, 100000), Error);  // 100,000 page entries in the root
    parts.runs_per_page = 0;
    CHECK_THROWS_AS(detail::check_index_fits(parts, 1), Error);

    test::TempDir dir;
    RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
    Experiment exp(store, "zero", test::fixed_options());
    record(exp, 2);
    content::MemoryTarget mem;
    CountingTarget counting(mem);
    CHECK_THROWS_AS(exp.commit(counting, "v1", {.runs_per_page = 0}), Error);
    CHECK(counting.pushes == 0);
}

TEST_CASE("scale: a 100,000-run paged index is written and read through its summary") {
    // SEALRUN_SUMMARY_RUNS makes it smaller (a debug build at -O0 is slow).
    const char* env = std::getenv("SEALRUN_SUMMARY_RUNS");
    const int n = env != nullptr ? std::atoi(env) : 100000;
    detail::IndexParts parts{.name = "sweep-100k"};
    std::vector<detail::RunEntry> runs;
    runs.reserve(n);
    for (int i = 0; i < n; ++i) {
        const auto body = "run " + std::to_string(i);
        json config = {{"reason", nullptr}, {"parameters", {{"seed", i}, {"lr", 0.001 * i}}}};
        runs.push_back(detail::RunEntry{
            .manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), body),
            .run_id = n - 1 - i, .status = "finished", .config = std::move(config)});
    }
    content::MemoryTarget mem;
    const auto start = std::chrono::steady_clock::now();
    const auto root = detail::write_experiment_index(mem, parts, std::move(runs));
    content::tag_with(mem, root, "v1", content::TagPolicy::replace);
    CountingTarget counting(mem);
    const auto sealed = SealedExperiment::open(counting, "v1");
    const auto ids = sealed.run_ids();
    const auto table = sealed.parameters();
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE(n << " runs: index, pages and summary written, opened, ids and parameters read in " << seconds << " s");
    CHECK(counting.fetches == 3);  // index, summary manifest, summary document
    CHECK(ids.size() == static_cast<std::size_t>(n));
    CHECK(ids.back() == n - 1);
    CHECK(table.rows.size() == static_cast<std::size_t>(n));
    CHECK(table.rows[n - 1][1] == n - 1 - (n - 1));  // run n-1 was the first entry: seed 0
    CHECK(root.size < static_cast<std::int64_t>(oci::max_manifest_size));
    const auto index = read_index(mem, "v1");
    CHECK(index.manifests.size() == (n > 10000 ? static_cast<std::size_t>((n + 9999) / 10000) : static_cast<std::size_t>(n)) + 1);
}

#include "support/heap_count.h"  // this binary's operator new and delete

namespace {

// SinkTarget keeps nothing: it counts the bytes pushed into it and drops them.
class SinkTarget final : public content::Target {
public:
    oci::Descriptor resolve(std::string_view r) override { throw Error(Errc::not_found, "resolve", std::string(r), "a sink"); }
    bool exists(const oci::Descriptor&) override { return false; }
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& d) override {
        throw Error(Errc::not_found, "fetch", d.digest.str(), "a sink");
    }
    void push(const oci::Descriptor& d, content::ReadStream& in) override {
        std::vector<std::byte> buf(1 << 16);
        std::size_t size = 0;
        while (const auto n = in.read(buf)) size += n;
        bytes += size;
        if (d.media_type == format::summary_type) summary = size;
        else if (d.media_type == oci::media_types::image_index) largest_index = std::max(largest_index, size);
    }
    void tag(const oci::Descriptor&, std::string_view) override {}
    std::vector<std::string> tags() override { return {}; }
    std::size_t bytes = 0;
    std::size_t summary = 0;        // the summary document's size
    std::size_t largest_index = 0;  // the largest page or root
};

}  // namespace

TEST_CASE("memory: the index writer holds the summary and one page, never every run (issue 15)") {
#ifndef SEALRUN_COUNT_HEAP
    MESSAGE("a sanitizer build: the heap is not counted");
#else
    // Runs made one at a time and handed to the writer (as commit and
    // collect do): at its peak it holds the summary's bytes and the page
    // being filled, never every run's entry or every page (30 pages of
    // 1,000 here), nor a JSON tree of them (several times their bytes).
    for (const int n : {2000, 30000}) {
        CAPTURE(n);
        SinkTarget sink;
        heap::live = 0;
        heap::peak = 0;
        heap::counting = true;
        {
            detail::IndexWriter index(sink, detail::IndexParts{.name = "held", .runs_per_page = 1000}, n);
            for (int i = 0; i < n; ++i)
                index.add(detail::RunEntry{
                    .manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), "run " + std::to_string(i)),
                    .run_id = i, .status = i % 3 == 2 ? "failed" : "finished",
                    .config = {{"reason", i % 3 == 2 ? json("it broke") : json(nullptr)}, {"parameters", {{"seed", i}, {"lr", 0.5}}}}});
            (void)index.finish();
        }
        heap::counting = false;
        const auto peak = static_cast<std::size_t>(heap::peak.load());
        MESSAGE(n << " runs: " << sink.bytes << " bytes written (summary " << sink.summary << ", largest index "
                  << sink.largest_index << "), " << peak << " bytes held at the peak");
        CHECK(sink.summary > 0);
        // The summary grows by doubling (twice its bytes at worst), the page
        // being filled is held as entries and as bytes; the rest is small.
        CHECK(peak < 2 * sink.summary + 3 * sink.largest_index + (std::size_t{1} << 20));
        if (n == 30000) CHECK(peak < sink.bytes);  // less than what was written: not every page
    }
#endif
}

TEST_CASE("memory: an experiment that lets closed runs go records and seals in memory flat in N but for the summary (issue 15)") {
#ifndef SEALRUN_COUNT_HEAP
    MESSAGE("a sanitizer build: the heap is not counted");
#else
    // `sealrun seal` of many directories: each run closed is let go
    // (keep_closed_runs false), commit seals it from its record. What the
    // experiment holds after N runs grows by a pointer's worth a run; at
    // commit's peak, by the summary's bytes and one page besides.
    std::int64_t held[2] = {0, 0};
    int i = 0;
    for (const int n : {200, 2000}) {
        CAPTURE(n);
        test::TempDir dir;
        RecordStore store(dir / "storage", CodecRegistry::global(), {.skip_fsync = true});
        auto options = test::fixed_options();
        options.keep_closed_runs = false;
        SinkTarget sink;
        heap::live = 0;
        heap::peak = 0;
        heap::counting = true;
        std::int64_t before_commit = 0, peak = 0;
        {
            Experiment exp(store, "flat", options);
            for (int r = 0; r < n; ++r)
                exp.run([&](Run& run) {
                    run.log_parameter("seed", r);
                    run.save_file("result.json", {{"loss", 1.0 / (r + 1)}});
                });
            before_commit = heap::live.load();
            heap::peak = before_commit;
            (void)exp.commit(sink, "v1", {.summary_values = {"result.json:loss"}, .runs_per_page = 500});
            peak = heap::peak.load();
        }
        heap::counting = false;
        held[i++] = before_commit;
        MESSAGE(n << " runs: " << before_commit << " bytes held before commit, " << peak << " at its peak; summary "
                  << sink.summary << ", largest index " << sink.largest_index);
        CHECK(sink.summary > 0);
        CHECK(peak - before_commit < static_cast<std::int64_t>(2 * sink.summary + 3 * sink.largest_index + (std::size_t{1} << 20)));
    }
    // 1,800 runs more: at most 64 bytes each (a Run kept is about 1 KiB).
    CHECK(held[1] - held[0] < 1800 * 64);
#endif
}

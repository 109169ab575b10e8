#include <doctest/doctest.h>

#include "sealrun/codecs/npy.h"
#include "sealrun/content/memory.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/experiment/sealed.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/memory.h"
#include "support/tmpdir.h"

using namespace sealrun;
using test::errc_of;
namespace fs = std::filesystem;

namespace {

// A hand-built run manifest: `names` are written both as attachment-table
// keys and as layer titles, so a test can make them hostile.
oci::Descriptor push_run(content::Target& t, const std::vector<std::pair<std::string, std::string>>& files,
                         nlohmann::json table_override = nullptr, std::string media_type = "text/plain") {
    oci::ImageManifest m{.artifact_type = std::string(format::run_artifact_type)};
    nlohmann::json table = nlohmann::json::object();
    for (const auto& [name, bytes] : files) {
        auto d = oci::Descriptor::for_bytes(media_type, bytes);
        content::push_bytes(t, d, bytes);
        d.annotations.emplace(oci::annotations::title, name);
        table[name] = m.layers.size();
        m.layers.push_back(d);
    }
    const nlohmann::json config = {{"version", 1},  {"experiment", "x"}, {"run_id", 0}, {"status", "finished"},
                                   {"parameters", nlohmann::json::object()}, {"solves", nlohmann::json::array()},
                                   {"attachments", table_override.is_null() ? table : table_override}};
    const auto cbytes = oci::canonical_json(config);
    m.config = oci::Descriptor::for_bytes(std::string(format::run_config_type), cbytes);
    content::push_bytes(t, m.config, cbytes);
    const auto bytes = m.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(t, d, bytes);
    return d;
}

std::size_t count_files(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) ++n;
    return n;
}

}  // namespace

TEST_CASE("sealed: an experiment round-trips through the local store") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "gd-sweep", test::fixed_options());
    test::record_two_runs(exp);
    const auto root = exp.commit("v1");

    content::OciLayout layout(dir / "storage");
    const auto sealed = SealedExperiment::open(layout, "v1");
    CHECK(sealed.descriptor().digest == root.digest);
    CHECK(sealed.name() == "gd-sweep");
    CHECK(sealed.status() == "failed");  // one run failed
    CHECK(sealed.run_ids() == std::vector<std::int64_t>{0, 1});

    const auto r0 = sealed.run(0);
    CHECK(r0.run_id() == 0);
    CHECK(r0.status() == "finished");
    CHECK(r0.attachment_names() == std::vector<std::string>{"input.json", "plots/curve.jsonl", "result.json"});
    CHECK(r0.attachment_media_type("result.json") == "application/json");
    CHECK(r0.attachment_media_type("plots/curve.jsonl") == "application/jsonl");
    CHECK(r0.get_json("result.json") == nlohmann::json{{"loss", 0.25}});
    CHECK(r0.get_blob("result.json") == R"({"loss":0.25})");
    const auto curve = r0.get_attachment("plots/curve.jsonl");
    CHECK(curve.media_type() == "application/jsonl");
    CHECK(curve.as<std::vector<nlohmann::json>>().size() == 1);
    CHECK(std::get<double>(r0.parameters().at("lr")) == 0.1);
    CHECK(std::get<std::int64_t>(r0.parameters().at("steps")) == 3);
    REQUIRE(r0.solves().size() == 1);
    CHECK(r0.solves()[0].output == "result.json");
    CHECK(r0.solves()[0].adapter == "gd");
    CHECK_FALSE(r0.trace().has_value());

    const auto r1 = sealed.run(1);
    CHECK(r1.status() == "failed");
    CHECK(r1.reason() == "diverged");
    CHECK(r1.get_attachment("log.txt").as<std::string>() == "loss exploded at step 2\n");
    CHECK(std::get<std::string>(r1.parameters().at("note")) == "diverged");

    CHECK(sealed.attachment_names() == std::vector<std::string>{"sweep.json"});
    CHECK(sealed.get_json("sweep.json")["lrs"][1] == 2.5);
    const auto table = sealed.parameters();
    CHECK(table.columns == std::vector<std::string>{"lr", "note", "steps"});
    CHECK(table.rows[0][2] == 3);
    CHECK(table.rows[1][2].is_null());
    CHECK(errc_of([&] { (void)sealed.run(2); }) == Errc::not_found);
}

TEST_CASE("sealed: sealing is deterministic and equal attachments are stored once") {
    test::TempDir dir;
    content::MemoryTarget a, b;
    oci::Digest first;
    for (auto* target : {&a, &b}) {
        RecordStore store(dir / ("s" + std::to_string(target == &a)));
        Experiment exp(store, "gd-sweep", test::fixed_options());
        test::record_two_runs(exp);
        const auto root = exp.commit(*target, "v1");
        if (target == &a) first = root.digest;
        else CHECK(root.digest == first);
        CHECK(exp.commit(*target, "again").digest == root.digest);
    }
    RecordStore store(dir / "dedupe");
    Experiment exp(store, "dedupe", test::fixed_options());
    for (int i = 0; i < 5; ++i)
        exp.run([&](Run& r) {
            r.save_file("same.txt", "identical bytes");
            r.log_parameter("i", i);
        });
    content::MemoryTarget t;
    exp.commit(t, "d");
    // 5 manifests + 5 configs + 1 shared layer + 1 index + the summary
    // (its document, its manifest and the empty config blob).
    CHECK(t.blob_count() == 15);
}

TEST_CASE("sealed: a codec whose media type differs is refused before decoding") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t, {}, "x");
    const auto run = SealedExperiment::open(t, "v1").run(0);
    const auto e = test::thrown([&] { (void)run.get_with_codec<codecs::NpyCodec>("result.json"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "application/vnd.numpy"));
    CHECK(run.get_with_codec<codecs::JsonCodec>("result.json")["loss"] == 0.25);
    CHECK(errc_of([&] { (void)run.get_blob("absent"); }) == Errc::not_found);
}

TEST_CASE("sealed: write_attachment puts files where asked and keeps what exists") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t, {}, "x");
    const auto run = SealedExperiment::open(t, "v1").run(0);
    fs::create_directories(dir / "out");
    const auto p = run.write_attachment("plots/curve.jsonl", dir / "out");
    CHECK(p == dir / "out/plots/curve.jsonl");
    CHECK(test::read_file(p) == run.get_blob("plots/curve.jsonl"));
    CHECK(errc_of([&] { run.write_attachment("plots/curve.jsonl", dir / "out"); }) == Errc::already_exists);
    test::write_file(dir / "named.json", "old");
    CHECK(errc_of([&] { run.write_attachment("result.json", dir / "named.json"); }) == Errc::already_exists);
    CHECK(test::read_file(dir / "named.json") == "old");
    run.write_attachment("result.json", dir / "named.json", true);
    CHECK(test::read_file(dir / "named.json") == R"({"loss":0.25})");
}

TEST_CASE("sealed: compressed attachments read back as their logical type") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "x", test::fixed_options());
    exp.run([](Run& r) { r.save_file("big.json", nlohmann::json(std::vector<int>(5000, 7))); });
    content::MemoryTarget t;
    exp.commit(t, "z", {.compress = true});
    const auto run = SealedExperiment::open(t, "z").run(0);
    CHECK(run.attachment_media_type("big.json") == "application/json");  // the logical type, as OMMX
    CHECK(run.attachment_compression("big.json") == "zstd");
    CHECK(run.attachments().descriptor("big.json").media_type == "application/json+zstd");
    CHECK(run.get_attachment("big.json").media_type() == "application/json");
    CHECK(run.get_json("big.json").size() == 5000);
    CHECK(run.attachments().descriptor("big.json").size < 1000);
    fs::create_directories(dir / "out");
    run.write_attachment("big.json", dir / "out");
    CHECK(test::read_file(dir / "out/big.json") == run.get_blob("big.json"));
}

TEST_CASE("sealed: hostile attachment names are refused when opening") {
    content::MemoryTarget t;
    for (const char* name : {"../../escape", "/etc/passwd", "a/../../b", "./result.json", ""}) {
        CAPTURE(name);
        const auto d = push_run(t, {{name, "x"}});
        const auto e = test::thrown([&] { (void)SealedRun::open(t, d); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "config.attachments"));
    }
}

TEST_CASE("sealed: a config naming a layer out of range or twice is refused") {
    content::MemoryTarget t;
    const auto d = push_run(t, {{"a.txt", "a"}}, {{"a.txt", 3}});
    CHECK(test::contains(test::thrown([&] { (void)SealedRun::open(t, d); }).message, "out of range"));
    const auto twice = push_run(t, {{"a.txt", "a"}}, {{"a.txt", 0}, {"b.txt", 0}});
    CHECK(errc_of([&] { (void)SealedRun::open(t, twice); }) == Errc::invalid_input);
    const auto mistitled = push_run(t, {{"a.txt", "a"}}, {{"b.txt", 0}});
    CHECK(test::contains(test::thrown([&] { (void)SealedRun::open(t, mistitled); }).message, "title"));
}

TEST_CASE("sealed: a layer with no codec opens, reads as bytes and refuses decoding") {
    content::MemoryTarget t;
    const auto d = push_run(t, {{"weights.bin", "\x01\x02"}}, nullptr, "application/x-unknown-format");
    const auto run = SealedRun::open(t, d);
    CHECK(run.get_blob("weights.bin") == "\x01\x02");
    CHECK(errc_of([&] { (void)run.get_attachment("weights.bin"); }) == Errc::unsupported);
}

TEST_CASE("sealed: a blob that does not match its digest is detected and writes nothing") {
    test::TempDir dir;
    test::commit_two_runs_in_place(dir, "x");
    content::OciLayout layout(dir / "storage");
    const auto run = SealedExperiment::open(layout, "v1").run(0);
    const auto& d = run.attachments().descriptor("result.json");
    auto bytes = test::read_file(layout.blob_path(d.digest));
    bytes[2] ^= 0x01;
    test::write_file(layout.blob_path(d.digest), bytes);
    CHECK(errc_of([&] { (void)run.get_blob("result.json"); }) == Errc::digest_mismatch);
    CHECK(errc_of([&] { (void)run.get_json("result.json"); }) == Errc::digest_mismatch);
    fs::create_directories(dir / "out");
    CHECK(errc_of([&] { run.write_attachment("result.json", dir / "out"); }) == Errc::digest_mismatch);
    CHECK(count_files(dir / "out") == 0);
}

TEST_CASE("sealed: things that are not experiments or runs are refused") {
    content::MemoryTarget t;
    const auto run = push_run(t, {{"a.txt", "a"}});
    t.tag(run, "a-run");
    CHECK(errc_of([&] { (void)SealedExperiment::open(t, "a-run"); }) == Errc::invalid_input);
    oci::ImageIndex plain;
    plain.manifests.push_back(run);
    const auto bytes = plain.serialize();
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, d, bytes);
    t.tag(d, "plain-index");
    const auto e = test::thrown([&] { (void)SealedExperiment::open(t, "plain-index"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "not a sealed experiment"));
}

TEST_CASE("sealed: run ids must be canonical decimal numbers") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t, {}, "x");
    for (const char* bad : {" 1", "+1", "01", "-1", "1x", ""}) {
        CAPTURE(bad);
        auto index = oci::ImageIndex::parse(content::read_all(t, t.resolve("v1"), oci::max_manifest_size));
        index.manifests[1].annotations[std::string(format::keys::run_id)] = bad;
        const auto bytes = index.serialize();
        const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
        content::push_bytes(t, d, bytes);
        t.tag(d, "bad");
        CHECK(errc_of([&] { (void)SealedExperiment::open(t, "bad"); }) == Errc::invalid_input);
    }
}

TEST_CASE("write_attachment decompresses a +zstd attachment as a stream: more than 1 GiB out, bounded memory") {
    test::TempDir dir;
    content::MemoryTarget t;
    // Concatenated zstd frames decompress to their concatenation: 1.125 GiB
    // from a blob of a few KiB.
    const std::string frame = zstd_compress(std::string(std::size_t{16} << 20, 'x'));
    std::string blob;
    for (int i = 0; i < 72; ++i) blob += frame;
    const std::uint64_t logical = std::uint64_t{72} << 24;
    auto layer = oci::Descriptor::for_bytes("text/plain+zstd", blob);
    content::push_bytes(t, layer, blob);
    layer.annotations.emplace(oci::annotations::title, "big.log");
    const nlohmann::json config = {{"version", 1}, {"run_id", 0}, {"status", "finished"}, {"attachments", {{"big.log", 0}}}};
    const auto config_bytes = oci::canonical_json(config);
    oci::ImageManifest m{.artifact_type = std::string(format::run_artifact_type)};
    m.config = oci::Descriptor::for_bytes(std::string(format::run_config_type), config_bytes);
    content::push_bytes(t, m.config, config_bytes);
    m.layers.push_back(layer);
    const auto bytes = m.serialize();
    const auto md = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(t, md, bytes);
    const auto run = SealedRun::open(t, md);

    const auto out = dir / "big.log";
    const auto measured = test::in_child([&] {
        run.write_attachment("big.log", out);
        return std::string("written");
    });
    INFO(measured.result, "\npeak growth KiB: ", measured.growth_kib, ", seconds: ", measured.seconds);
    CHECK(measured.result == "written");
    CHECK(fs::file_size(out) == logical);
    CHECK(measured.growth_kib < 128 * 1024);
    // get_blob still refuses more than max_attachment_read in memory.
    CHECK(errc_of([&] { (void)run.get_blob("big.log"); }) == Errc::too_large);
}

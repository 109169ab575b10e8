// OMMX archives as read-only views (docs/FORMAT.md "OMMX interop"): the
// generic artifact view over the real fixture OMMX wrote, and OMMX 3
// experiments built here from OMMX's format facts (manifest, config JSON,
// the MessagePack run-parameter table) opened as SealedExperiment.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sealrun/content/memory.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/experiment/ommx_artifact.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"
#include "build_paths.h"
#include "support/expect.h"
#include "support/tmpdir.h"

namespace sealrun {
namespace {

using test::thrown;
using test::has;

// push_blob stores `bytes` under `media_type` and returns its descriptor.
oci::Descriptor push_blob(content::Target& t, const std::string& media_type, const std::string& bytes) {
    auto d = oci::Descriptor::for_bytes(media_type, bytes);
    content::push_bytes(t, d, bytes);
    return d;
}

// manifest_json is an image manifest as OMMX writes one.
nlohmann::json manifest_json(const std::optional<std::string>& artifact_type, const oci::Descriptor& config,
                             const std::vector<oci::Descriptor>& layers,
                             const std::map<std::string, std::string>& annotations = {}) {
    nlohmann::json m{{"schemaVersion", 2}, {"mediaType", oci::media_types::image_manifest}, {"config", config.to_json()}};
    if (artifact_type) m["artifactType"] = *artifact_type;
    m["layers"] = nlohmann::json::array();
    for (const auto& l : layers) m["layers"].push_back(l.to_json());
    if (!annotations.empty()) m["annotations"] = annotations;
    return m;
}

// push_manifest stores `manifest` and tags it `tag`.
oci::Descriptor push_manifest(content::Target& t, const nlohmann::json& manifest, const std::string& tag) {
    const auto bytes = oci::canonical_json(manifest);
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(t, d, bytes);
    t.tag(d, tag);
    return d;
}

const std::filesystem::path fixture = std::filesystem::path(SEALRUN_SOURCE_DIR) / "../shared/fixtures/ommx/random_lp_instance.ommx";
constexpr std::string_view fixture_ref = "ghcr.io/jij-inc/ommx/random_lp_instance:e69fb91";

}  // namespace

TEST_CASE("ommx artifact: the real fixture opens by its full ref name, its one layer by index and by digest") {
    content::OciArchive archive(fixture);
    CHECK(archive.tags() == std::vector<std::string>{std::string(fixture_ref)});
    const auto a = OmmxArtifact::open(archive, fixture_ref);
    CHECK(a.annotations().at("org.opencontainers.image.source") == "https://github.com/Jij-Inc/ommx");
    REQUIRE(a.layer_count() == 1);
    CHECK(a.attachment_names() == std::vector<std::string>{"0"});
    const auto& layer = a.layer(0);
    CHECK(layer.media_type == ommx::media_types::instance);
    CHECK(layer.size == 754);
    CHECK(a.attachment_media_type("0") == ommx::media_types::instance);
    CHECK(a.layer_annotations("0").at("org.ommx.v1.instance.title") == "random_lp");
    CHECK(a.layer_annotations("0").count("org.ommx.v1.instance.created") == 1);
    // The digest names the same layer wherever a name is taken.
    const auto digest = layer.digest.str();
    CHECK(a.layer_index(digest) == 0);
    CHECK(a.layer_annotations(digest) == a.layer_annotations("0"));
    const auto bytes = a.get_blob("0");
    CHECK(bytes.size() == 754);
    CHECK(oci::Descriptor::for_bytes("x", bytes).digest == layer.digest);
    CHECK(a.get_blob(digest) == bytes);
    // The manifest's own digest opens it too, with the same layers.
    const auto by_digest = OmmxArtifact::open(archive, a.descriptor().digest.str());
    CHECK(by_digest.layers().size() == 1);
    CHECK(by_digest.layer(0).digest == layer.digest);
}

TEST_CASE("ommx artifact: a layer index or digest the manifest lacks is not_found naming it") {
    content::OciArchive archive(fixture);
    const auto a = OmmxArtifact::open(archive, fixture_ref);
    for (const std::string bad : {"1", "01", "-0", "+0", "x", "18446744073709551616"}) {
        CAPTURE(bad);
        const auto e = thrown([&] { (void)a.get_blob(bad); });
        CHECK(e.code == Errc::not_found);
        CHECK(has(e.message, "get layer " + bad + ":"));
    }
    CHECK(thrown([&] { (void)a.get_blob(""); }).code == Errc::not_found);
    const std::string missing = "sha256:" + std::string(64, 'a');
    const auto e = thrown([&] { (void)a.attachment_media_type(missing); });
    CHECK(e.code == Errc::not_found);
    CHECK(has(e.message, missing));
    CHECK(thrown([&] { (void)a.layer(std::size_t{1}); }).code == Errc::not_found);
}

TEST_CASE("ommx artifact: write_attachment streams a layer, named by index inside a directory") {
    content::OciArchive archive(fixture);
    const auto a = OmmxArtifact::open(archive, fixture_ref);
    test::TempDir dir;
    const auto written = a.write_attachment(a.layer(0).digest.str(), dir.path());
    CHECK(written == dir.path() / "0");
    std::ifstream in(written, std::ios::binary);
    const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(got == a.get_blob("0"));
}

TEST_CASE("ommx artifact: what is not a generic OMMX artifact is refused saying why") {
    content::MemoryTarget t;
    const auto payload = push_blob(t, std::string(ommx::media_types::instance), "\x08\x01");
    const auto check = [&](const nlohmann::json& manifest, const std::string& why) {
        const auto d = push_manifest(t, manifest, "m");
        const auto e = thrown([&] { (void)OmmxArtifact::open(t, "m"); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(has(e.message, "open m: is not an OMMX artifact ("));
        CHECK(has(e.message, why));
        (void)d;
    };
    const auto empty = push_blob(t, std::string(oci::media_types::empty), "{}");
    check(manifest_json(std::nullopt, empty, {payload}), "no artifactType");
    check(manifest_json("application/vnd.sealrun.run.v1", empty, {payload}), "application/vnd.sealrun.run.v1");
    check(manifest_json(std::string(ommx::archive::experiment), empty, {payload}), "open it as a sealed experiment");
    const auto json_config = push_blob(t, "application/json", "{}");
    check(manifest_json(std::string(ommx::archive::artifact), json_config, {payload}), "config media type application/json");
    // OMMX's older v1 config is accepted as the empty one is.
    const auto v1_config = push_blob(t, std::string(ommx::archive::config), "{}");
    push_manifest(t, manifest_json(std::string(ommx::archive::artifact), v1_config, {payload}), "old");
    CHECK(OmmxArtifact::open(t, "old").layer_count() == 1);
    // An index is not an artifact either.
    const auto index = nlohmann::json{{"schemaVersion", 2},
                                      {"mediaType", oci::media_types::image_index},
                                      {"manifests", nlohmann::json::array()}};
    const auto bytes = oci::canonical_json(index);
    const auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, d, bytes);
    t.tag(d, "idx");
    CHECK(has(thrown([&] { (void)OmmxArtifact::open(t, "idx"); }).message, "is not an OMMX artifact ("));
}

}  // namespace sealrun

// ---- OMMX 3 experiments -------------------------------------------------

#define MSGPACK_NO_BOOST
#include <msgpack.hpp>

#include "sealrun/validate/validate.h"
#include "experiment/ommx_experiment.h"
#include "support/memory.h"
#include "support/experiment.h"
#include "sealrun/experiment/format.h"

namespace sealrun {
namespace {

// protoc_encode encodes the text-format `text` as `message` with protoc and
// the project's schema (proto/ommx/v1).
std::string protoc_encode(const std::string& message, const std::string& proto, const std::string& text) {
    test::TempDir dir;
    {
        std::ofstream(dir / "in.txt") << text;
    }
    const auto r = test::run({"sh", "-c",
                              "protoc --encode=" + message + " -I " + SEALRUN_SOURCE_DIR + "/proto " + proto + " < " +
                                  (dir / "in.txt").string() + " > " + (dir / "out.bin").string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    std::ifstream in(dir / "out.bin", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// OmmxExperimentBuilder lays out an OMMX 3 experiment as OMMX's commit does:
// one image manifest whose layers are every attachment, solve and sampling
// payload and the run-parameter table, referenced by index from the config.
struct OmmxExperimentBuilder {
    content::MemoryTarget t;
    std::vector<oci::Descriptor> layers;
    std::string instance = protoc_encode("ommx.v1.Instance", "ommx/v1/instance.proto", "sense: SENSE_MAXIMIZE\n");
    std::string solution = protoc_encode("ommx.v1.Solution", "ommx/v1/solution.proto", "objective: 1.5\n");

    std::size_t add(const std::string& media_type, const std::string& bytes) {
        layers.push_back(push_blob(t, media_type, bytes));
        return layers.size() - 1;
    }
    oci::Descriptor push(const nlohmann::json& config, const std::string& tag = "exp",
                         std::string config_type = std::string(ommx::archive::experiment_config)) {
        const auto c = push_blob(t, config_type, config.dump());
        return push_manifest(t, manifest_json(std::string(ommx::archive::experiment), c, layers, {{"org.example.k", "v"}}), tag);
    }
};

// pack packs `fill`'s writes into MessagePack bytes.
template <class F>
std::string pack(F fill) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    fill(pk);
    return std::string(buf.data(), buf.size());
}

// run_parameters is the table OMMX writes for two runs.
std::string run_parameters() {
    return pack([](auto& pk) {
        pk.pack_map(1);
        pk.pack(std::string("columns"));
        pk.pack_map(4);
        const auto column = [&](const std::string& name, const std::string& type, auto cells) {
            pk.pack(name);
            pk.pack_map(2);
            pk.pack(std::string("type"));
            pk.pack(type);
            pk.pack(std::string("values"));
            cells();
        };
        column("alpha", "float64", [&] {
            pk.pack_map(2);
            pk.pack(std::uint64_t{0}); pk.pack(0.5);
            pk.pack(std::uint64_t{1}); pk.pack(1.5);
        });
        column("n", "int64", [&] { pk.pack_map(1); pk.pack(std::uint64_t{0}); pk.pack(std::int64_t{-3}); });
        column("flag", "bool", [&] { pk.pack_map(1); pk.pack(std::uint64_t{1}); pk.pack(true); });
        column("label", "string", [&] { pk.pack_map(1); pk.pack(std::uint64_t{0}); pk.pack(std::string("x")); });
    });
}

// standard fills `b` with a two-run experiment and returns its config.
nlohmann::json standard(OmmxExperimentBuilder& b, const std::string& parameters = run_parameters()) {
    const auto notes = b.add("application/json", R"({"a":1})");
    const auto problem = b.add(std::string(ommx::media_types::instance), b.instance);
    const auto in0 = b.add(std::string(ommx::media_types::instance), b.instance);
    const auto out0 = b.add(std::string(ommx::media_types::solution), b.solution);
    const auto in1 = b.add(std::string(ommx::media_types::instance_v2), "");
    const auto out1 = b.add(std::string(ommx::media_types::sample_set), "");
    const auto table = b.add(std::string(ommx::archive::run_parameters), parameters);
    return {{"status", "finished"},
            {"attachments", {{"entries", {{"notes.json", notes}}}}},
            {"runs",
             {{{"run_id", 0},
               {"status", "finished"},
               {"attachments", {{"entries", {{"problem", problem}}}}},
               {"solves",
                {{{"solve_id", 0}, {"status", "finished"}, {"input", in0}, {"output", out0}, {"adapter", "highs"},
                  {"adapter_options", R"({"time_limit":10})"}},
                 {{"solve_id", 1}, {"status", "failed"}, {"input", problem}, {"adapter", "highs"}}}}},
              {{"run_id", 1},
               {"status", "failed"},
               {"outcome", {{"reason", "boom"}}},
               {"attachments", {{"entries", nlohmann::json::object()}}},
               {"samplings", {{{"sampling_id", 0}, {"input", in1}, {"output", out1}, {"adapter", "openjij"}}}}}}},
            {"run_parameters", table}};
}

}  // namespace

TEST_CASE("ommx experiment: opens as a SealedExperiment with runs, solves, samplings, parameters and attachments") {
    OmmxExperimentBuilder b;
    b.push(standard(b));
    const auto e = SealedExperiment::open(b.t, "exp");
    CHECK(e.status() == "finished");
    CHECK(e.name() == "exp");
    CHECK(e.annotations().at("org.example.k") == "v");
    CHECK(e.run_ids() == std::vector<std::int64_t>{0, 1});
    CHECK(e.attachment_names() == std::vector<std::string>{"notes.json"});
    CHECK(e.get_json("notes.json") == nlohmann::json{{"a", 1}});

    const auto r0 = e.run(0);
    CHECK(r0.status() == "finished");
    CHECK(r0.reason().empty());
    CHECK(r0.attachment_names() ==
          std::vector<std::string>{"problem", "solve-0-input.instance", "solve-0-output.solution"});
    REQUIRE(r0.solves().size() == 2);
    CHECK(r0.solves()[0].input == "solve-0-input.instance");
    CHECK(r0.solves()[0].output == "solve-0-output.solution");
    CHECK(r0.solves()[0].adapter == "highs");
    CHECK(r0.solves()[0].adapter_options == nlohmann::json{{"time_limit", 10}});
    // A layer in the run's own table keeps the run's name for it.
    CHECK(r0.solves()[1].input == "problem");
    CHECK(r0.solves()[1].status == "failed");
    CHECK(!r0.solves()[1].output);
    CHECK(std::get<double>(r0.parameters().at("alpha")) == 0.5);
    CHECK(std::get<std::int64_t>(r0.parameters().at("n")) == -3);
    CHECK(std::get<std::string>(r0.parameters().at("label")) == "x");
    CHECK(r0.parameters().count("flag") == 0);
    CHECK(r0.get_blob("solve-0-input.instance") == b.instance);
    CHECK(r0.attachment_media_type("solve-0-output.solution") == ommx::media_types::solution);
    CHECK(r0.config().at("run_id") == 0);

    const auto r1 = e.run(1);
    CHECK(r1.status() == "failed");
    CHECK(r1.reason() == "boom");
    REQUIRE(r1.samplings().size() == 1);
    CHECK(r1.samplings()[0].input == "sampling-0-input.instance");
    CHECK(r1.samplings()[0].output == "sampling-0-output.sample-set");
    CHECK(r1.samplings()[0].adapter == "openjij");
    CHECK(std::get<bool>(r1.parameters().at("flag")) == true);
    CHECK(std::get<double>(r1.parameters().at("alpha")) == 1.5);
    CHECK(thrown([&] { (void)e.run(2); }).code == Errc::not_found);

    const auto table = e.parameters();
    CHECK(table.columns == std::vector<std::string>{"alpha", "flag", "label", "n"});
    CHECK(table.run_ids == std::vector<std::int64_t>{0, 1});
}

TEST_CASE("ommx experiment: the typed getters decode its OMMX payloads") {
    OmmxExperimentBuilder b;
    b.push(standard(b));
    const auto r0 = SealedExperiment::open(b.t, "exp").run(0);
    CHECK(r0.get_instance("problem").sense() == ommx::Sense::maximize);
    CHECK(r0.get_solution("solve-0-output.solution").objective() == 1.5);
    CHECK(thrown([&] { (void)r0.get_solution("problem"); }).code == Errc::invalid_input);
}

TEST_CASE("ommx experiment: a manifest that is not one is refused exactly as before") {
    content::MemoryTarget t;
    const auto payload = push_blob(t, "application/json", "{}");
    const auto empty = push_blob(t, std::string(oci::media_types::empty), "{}");
    push_manifest(t, manifest_json(std::string("application/vnd.example"), empty, {payload}), "m");
    const auto e = thrown([&] { (void)SealedExperiment::open(t, "m"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(e.message == "open m: is not a sealed experiment (application/vnd.oci.image.manifest.v1+json, not an experiment index)");
    // A generic OMMX artifact is no experiment either.
    push_manifest(t, manifest_json(std::string(ommx::archive::artifact), empty, {payload}), "a");
    CHECK(has(thrown([&] { (void)SealedExperiment::open(t, "a"); }).message, "is not a sealed experiment ("));
}

TEST_CASE("ommx experiment: hostile configs are invalid_input naming the problem, and nothing is written") {
    const auto refused = [](const std::function<void(nlohmann::json&)>& edit, const std::string& why) {
        OmmxExperimentBuilder b;
        auto config = standard(b);
        edit(config);
        b.push(config);
        const auto blobs = b.t.blob_count();
        const auto tags = b.t.tags();
        const auto e = thrown([&] { (void)SealedExperiment::open(b.t, "exp"); });
        CHECK(e.code == Errc::invalid_input);
        CHECK_MESSAGE(has(e.message, why), e.message);
        CHECK(has(e.message, "open exp:"));
        CHECK(b.t.blob_count() == blobs);
        CHECK(b.t.tags() == tags);
    };
    refused([](auto& c) { c["runs"][0]["solves"][0]["input"] = 99; }, "$.runs[0].solves[0].input: layer 99 is out of range");
    refused([](auto& c) { c["run_parameters"] = 4294967296; }, "$.run_parameters: must be a layer index");
    refused([](auto& c) { c["runs"][1]["run_id"] = 0; }, "$.runs[1]: repeats run id 0");
    refused([](auto& c) { c["runs"][0]["solves"][1]["solve_id"] = 0; }, "repeats solve id 0");
    refused([](auto& c) { c["runs"][0]["solves"][0]["output"] = 1; }, "not an OMMX Solution");
    refused([](auto& c) { c["runs"][0]["solves"][0].erase("output"); }, "is finished but has no output");
    refused([](auto& c) { c["runs"][0]["status"] = "running"; }, "unknown status \"running\"");
    refused([](auto& c) { c["status"] = "finished"; c["outcome"] = {{"reason", "x"}}; }, "cannot have an outcome");
    refused([](auto& c) { c["run_parameters"] = 0; }, "not the run-parameter table");
    refused([](auto& c) { c["runs"][0]["run_id"] = -1; }, "$.runs[0].run_id: must be an integer");
    refused([](auto& c) { c.erase("runs"); }, "has no \"runs\"");
    refused([](auto& c) { c["runs"][0]["attachments"]["entries"]["x"] = "0"; }, "must be a layer index");
    // Names reach file systems (write_attachment, convert): unsafe ones are refused as in a sealrun run.
    refused([](auto& c) { c["runs"][0]["attachments"]["entries"]["../../evil"] = 0; }, "is not a safe attachment name");
    refused([](auto& c) { c["attachments"]["entries"]["/etc/passwd"] = 0; }, "is not a safe attachment name");
    refused([](auto& c) { c["runs"][0]["attachments"]["entries"]["a//b"] = 0; }, "not in normal form (\"a/b\")");
}

TEST_CASE("ommx experiment: a config that is not strict JSON, or of another media type, is refused") {
    OmmxExperimentBuilder b;
    const auto config = standard(b);
    auto text = config.dump();
    text.insert(1, R"("status":"finished",)");  // a duplicate key
    const auto c = push_blob(b.t, std::string(ommx::archive::experiment_config), text);
    push_manifest(b.t, manifest_json(std::string(ommx::archive::experiment), c, b.layers), "dup");
    const auto e = thrown([&] { (void)SealedExperiment::open(b.t, "dup"); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(has(e.message, "duplicate"));
    b.push(config, "json", "application/json");
    CHECK(has(thrown([&] { (void)SealedExperiment::open(b.t, "json"); }).message,
              "OMMX experiment config media type is application/json"));
}

TEST_CASE("ommx experiment: a run-parameter layer that is not the table is invalid_input, in bounded memory") {
    const auto refused = [](const std::string& bytes, const std::string& why) {
        OmmxExperimentBuilder b;
        b.push(standard(b, bytes));
        const auto e = thrown([&] { (void)SealedExperiment::open(b.t, "exp"); });
        CHECK(e.code == Errc::invalid_input);
        CHECK_MESSAGE(has(e.message, "run-parameter table: " + why), e.message);
    };
    refused("\xc1", "is not MessagePack");
    refused("", "is not MessagePack");
    refused(run_parameters() + std::string(1, '\0'), "holds more than one MessagePack value");
    refused(pack([](auto& pk) { pk.pack_map(1); pk.pack(std::string("cols")); pk.pack_map(0); }), "the table has an unknown field \"cols\"");
    refused(pack([](auto& pk) { pk.pack_array(0); }), "the table is not a MessagePack map");
    refused(pack([](auto& pk) {
                pk.pack_map(1); pk.pack(std::string("columns"));
                pk.pack_map(1); pk.pack(std::string("c"));
                pk.pack_map(2); pk.pack(std::string("type")); pk.pack(std::string("int64"));
                pk.pack(std::string("values")); pk.pack_map(1); pk.pack(std::uint64_t{0}); pk.pack(0.5);
            }),
            "column \"c\" run 0 is not a int64 value");
    refused(pack([](auto& pk) {
                pk.pack_map(1); pk.pack(std::string("columns"));
                pk.pack_map(1); pk.pack(std::string("c"));
                pk.pack_map(2); pk.pack(std::string("type")); pk.pack(std::string("bool"));
                pk.pack(std::string("values")); pk.pack_map(1); pk.pack(std::uint64_t{7}); pk.pack(true);
            }),
            "names run 7");
    // A map that claims 2^32-1 entries, deep nesting, arrays and bins stop at the limits.
    refused(std::string("\xdf\xff\xff\xff\xff", 5), "is not MessagePack within the reader's limits");
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += std::string("\x81\x00", 2);
    refused(deep + '\x00', "is not MessagePack within the reader's limits");
    refused(std::string(100000, '\x91') + '\x00', "is not MessagePack within the reader's limits");
    refused(std::string("\xc6\x7f\xff\xff\xff", 5), "is not MessagePack within the reader's limits");
}

TEST_CASE("ommx experiment: the largest run-parameter layer decodes in bounded memory") {
    // 8 MiB of maps of one-byte keys and values, the most objects the cap lets in.
    std::string bytes;
    bytes += '\x88';  // a map of 8 entries, each a map of 2^19 entries of 2 bytes: 8 MiB
    for (int m = 0; m < 8; ++m) {
        bytes += static_cast<char>(m);
        bytes += std::string("\xdf\x00\x08\x00\x00", 5);
        for (int i = 0; i < (1 << 19); ++i) bytes += std::string("\x00\x00", 2);
    }
    bytes.resize(std::min(bytes.size(), detail::max_run_parameters_size));
    const auto m = test::in_child([&] {
        try {
            (void)detail::read_ommx_run_parameters(bytes, "x");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    });
    MESSAGE("peak growth KiB: " << m.growth_kib << " for " << bytes.size() << " bytes");
    CHECK(has(m.result, "run-parameter table"));
    CHECK(m.growth_kib < 320 * 1024);
}

}  // namespace sealrun

// ---- validate() on OMMX archives ------------------------------------------

namespace sealrun {
namespace {

// check_of returns the checks named `name`.
std::vector<CheckResult> checks_of(const ValidationReport& r, const std::string& name) {
    std::vector<CheckResult> out;
    for (const auto& c : r.checks)
        if (c.name == name) out.push_back(c);
    return out;
}

}  // namespace

TEST_CASE("validate: the real OMMX artifact passes, its Instance layer decoded") {
    content::OciArchive archive(fixture);
    const auto r = validate(archive, fixture_ref);
    CHECK(r.kind == "ommx-artifact");
    CHECK_MESSAGE(r.ok(), r.checks.back().message);
    const auto codec = checks_of(r, "codec");
    REQUIRE(codec.size() == 1);
    CHECK(codec[0].subject == "layer 0");
    CHECK(codec[0].passed);
    CHECK(!codec[0].warning);
    CHECK(checks_of(r, "artifact-type").at(0).passed);
}

TEST_CASE("validate: a truncated OMMX payload layer is a finding naming the layer") {
    content::MemoryTarget t;
    const auto instance = protoc_encode("ommx.v1.Instance", "ommx/v1/instance.proto",
                                        "description { name: \"a fairly long name to cut\" }\nsense: SENSE_MAXIMIZE\n");
    const auto good = push_blob(t, std::string(ommx::media_types::instance), instance);
    const auto cut = push_blob(t, std::string(ommx::media_types::instance), instance.substr(0, 10));
    const auto wrong = push_blob(t, std::string(ommx::media_types::solution), "\xff\xff\xff");
    const auto empty = push_blob(t, std::string(oci::media_types::empty), "{}");
    push_manifest(t, manifest_json(std::string(ommx::archive::artifact), empty, {good, cut, wrong}), "a");
    const auto r = validate(t, "a");
    CHECK(r.kind == "ommx-artifact");
    CHECK(!r.ok());
    const auto codec = checks_of(r, "codec");
    REQUIRE(codec.size() == 3);
    CHECK(codec[0].passed);
    CHECK(!codec[1].passed);
    CHECK(codec[1].subject == "layer 1");
    CHECK(!codec[2].passed);
    CHECK(codec[2].subject == "layer 2");
}

TEST_CASE("validate: an OMMX artifact with a foreign config is an artifact-type finding") {
    content::MemoryTarget t;
    const auto payload = push_blob(t, std::string(ommx::media_types::instance), "");
    const auto config = push_blob(t, "application/json", "{}");
    push_manifest(t, manifest_json(std::string(ommx::archive::artifact), config, {payload}), "a");
    const auto r = validate(t, "a");
    const auto type = checks_of(r, "artifact-type");
    REQUIRE(type.size() == 1);
    CHECK(!type[0].passed);
    CHECK(has(type[0].message, "is not an OMMX artifact (config media type application/json"));
}

TEST_CASE("validate: an OMMX experiment's config, run parameters and payloads are checked") {
    {
        OmmxExperimentBuilder b;
        b.push(standard(b));
        const auto r = validate(b.t, "exp");
        CHECK(r.kind == "ommx-experiment");
        CHECK(r.ok());
        CHECK(checks_of(r, "experiment-config").at(0).passed);
        CHECK(checks_of(r, "run-parameters").at(0).passed);
        bool named = false;
        for (const auto& c : checks_of(r, "codec")) named = named || c.subject == "run 0: solve-0-output.solution";
        CHECK(named);
    }
    {
        OmmxExperimentBuilder b;
        auto config = standard(b, "\xc1");
        config["runs"][0]["solves"][0]["input"] = 42;
        b.push(config);
        const auto r = validate(b.t, "exp");
        CHECK(!r.ok());
        CHECK(has(checks_of(r, "experiment-config").at(0).message, "layer 42 is out of range"));
    }
    {
        // validate fails what get and convert refuse: an attachment name that would leave its folder.
        OmmxExperimentBuilder b;
        auto config = standard(b);
        config["runs"][0]["attachments"]["entries"]["../../evil"] = 0;
        b.push(config);
        const auto r = validate(b.t, "exp");
        CHECK(!r.ok());
        CHECK(has(checks_of(r, "experiment-config").at(0).message, "is not a safe attachment name"));
    }
    {
        OmmxExperimentBuilder b;
        b.push(standard(b, "\xc1"));
        const auto r = validate(b.t, "exp");
        CHECK(!r.ok());
        CHECK(has(checks_of(r, "run-parameters").at(0).message, "is not MessagePack"));
    }
    {
        OmmxExperimentBuilder b;
        b.instance = b.instance.substr(0, 1);  // a tag without its value
        b.push(standard(b));
        const auto r = validate(b.t, "exp");
        bool found = false;
        for (const auto& c : checks_of(r, "codec")) found = found || (c.subject == "run 0: problem" && !c.passed);
        CHECK(found);
    }
}

TEST_CASE("validate: a truncated OMMX Instance attachment of a sealrun run is a codec finding") {
    content::MemoryTarget t;
    const auto instance = protoc_encode("ommx.v1.Instance", "ommx/v1/instance.proto", "sense: SENSE_MINIMIZE\n");
    auto layer = push_blob(t, std::string(ommx::media_types::instance), instance.substr(0, 1));
    layer.annotations[std::string(oci::annotations::title)] = "model.instance";
    const auto config = push_blob(t, std::string(format::run_config_type),
                                  oci::canonical_json(test::minimal_run_config({{"model.instance", 0}})));
    push_manifest(t, manifest_json(std::string(format::run_artifact_type), config, {layer},
                                   {{std::string(format::keys::run_id), "0"}, {std::string(format::keys::run_status), "finished"}}),
                  "run");
    const auto r = validate(t, "run");
    CHECK(r.kind == "run");
    const auto codec = checks_of(r, "codec");
    REQUIRE(codec.size() == 1);
    CHECK(codec[0].subject == "run 0: model.instance");
    CHECK(!codec[0].passed);
}

}  // namespace sealrun

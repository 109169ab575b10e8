// The command line on OMMX archives, as a user types it: the built CLI in a
// scratch working directory, the real OMMX fixture copied in and named by a
// relative path (`sealrun import random_lp_instance.ommx`), a real registry
// and skopeo on the other side.
#include <doctest/doctest.h>

#include <map>

#include "content/archive_test_support.h"
#include "sealrun/codecs/ommx.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/oci/json.h"
#include "support/cli.h"
#include "support/expect.h"
#include "support/registry.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

const fs::path fixture = fs::path(SEALRUN_SOURCE_DIR) / "../shared/fixtures/ommx/random_lp_instance.ommx";
constexpr const char* fixture_ref = "ghcr.io/jij-inc/ommx/random_lp_instance:e69fb91";
constexpr const char* fixture_tag = "random_lp_instance-e69fb91";

// User is a scratch working directory holding a copy of the fixture.
struct User {
    test::TempDir dir;
    User() {
        REQUIRE_MESSAGE(fs::exists(fixture), "the OMMX fixture is missing: ", fixture.string());
        fs::copy_file(fixture, dir / "random_lp_instance.ommx");
    }
    test::RunResult operator()(const std::vector<std::string>& args) const { return test::cli_in(dir.path(), args); }
    // json runs a command that must succeed and parses its stdout.
    nlohmann::json json(std::vector<std::string> args) const {
        args.insert(args.begin(), "--json");
        const auto r = test::cli_in(dir.path(), args, true);
        INFO(args[1], ": ", r.output);
        REQUIRE(r.exit_code == 0);
        return nlohmann::json::parse(r.output);
    }
    // out runs a command that must succeed and returns its stdout.
    std::string out(const std::vector<std::string>& args) const {
        const auto r = test::cli_in(dir.path(), args, true);
        INFO(args[0], ": ", r.output);
        REQUIRE(r.exit_code == 0);
        return r.output;
    }
};

// snapshot maps every file under `dir` to its bytes ({} when absent).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        out[e.path().lexically_relative(dir).string()] = e.is_regular_file() ? test::read_file(e.path()) : "<dir>";
    return out;
}

// fixture_members returns the fixture's tar members by name (tar's own reading).
std::map<std::string, std::string> fixture_members(const test::TempDir& scratch) {
    const auto into = scratch / "unpacked";
    fs::create_directories(into);
    const auto r = test::run({"tar", "-xf", fixture.string(), "-C", into.string()});
    REQUIRE(r.exit_code == 0);
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(into))
        if (e.is_regular_file()) out[e.path().lexically_relative(into).string()] = test::read_file(e.path());
    return out;
}

// index_with is an index.json of the fixture's manifest entry with `ref_names`
// (none: an entry without a ref name; several: one entry each).
std::string index_with(const std::map<std::string, std::string>& members, const std::vector<std::string>& ref_names) {
    auto index = nlohmann::json::parse(members.at("index.json"));
    auto entry = index["manifests"][0];
    entry.erase("annotations");
    index["manifests"] = nlohmann::json::array();
    if (ref_names.empty()) index["manifests"].push_back(entry);
    for (const auto& n : ref_names) {
        auto e = entry;
        e["annotations"] = {{"org.opencontainers.image.ref.name", n}};
        index["manifests"].push_back(e);
    }
    return index.dump();
}

// ommx_with writes an .ommx like the fixture (its blobs, in tar's order) whose
// index.json is `index`.
void ommx_with(const fs::path& out, const std::map<std::string, std::string>& members, const std::string& index) {
    std::vector<test::TarMember> tar;
    for (const auto& [name, bytes] : members)
        if (name != "index.json") tar.push_back({name, bytes});
    tar.push_back({"index.json", index});
    test::write_tar(out, tar);
}

std::string manifest_digest() {
    return content::OciArchive(fixture).resolve(fixture_ref).digest.str();
}

}  // namespace

TEST_CASE("ommx cli: import of the real .ommx keeps every byte under REPO-TAG, twice, and --tag") {
    User u;
    const auto imported = u.json({"import", "random_lp_instance.ommx"});
    REQUIRE(imported["tags"].size() == 1);
    CHECK(imported["tags"][0]["tag"] == fixture_tag);
    CHECK(imported["tags"][0]["ref_name"] == fixture_ref);
    CHECK(imported["tags"][0]["digest"] == manifest_digest());
    CHECK(imported["source"] == "random_lp_instance.ommx");
    CHECK(imported["blobs_copied"] == 3);  // manifest, empty config, the Instance layer
    // Every blob of the archive is in the store, byte for byte.
    const auto members = fixture_members(u.dir);
    for (const auto& [name, bytes] : members)
        if (name.starts_with("blobs/")) CHECK(test::read_file(u.dir / "storage" / name) == bytes);
    CHECK(content::OciLayout(u.dir / "storage", {.read_only = true}).tags() == std::vector<std::string>{fixture_tag});

    // Again: idempotent, nothing moved.
    const auto store_before = snapshot(u.dir / "storage");
    const auto again = u.json({"import", "random_lp_instance.ommx"});
    CHECK(again["tags"][0]["tag"] == fixture_tag);
    CHECK(again["blobs_copied"] == 0);
    CHECK(snapshot(u.dir / "storage") == store_before);

    // --tag names it; the same content under a second tag.
    CHECK(u.out({"import", "random_lp_instance.ommx", "--tag", "lp"}) == "lp " + manifest_digest() + "\n");
    CHECK(content::OciLayout(u.dir / "storage", {.read_only = true}).resolve("lp").digest.str() == manifest_digest());
    // A bad --tag is a usage error.
    CHECK(u({"import", "random_lp_instance.ommx", "--tag", "no/slash"}).exit_code == 2);

    // A tag naming other content is refused, nothing written; --force moves it.
    test::write_file(u.dir / "runs/a/result.json", "{}");
    REQUIRE(u({"seal", "runs/a", "--experiment", "x", "--tag", "other"}).exit_code == 0);
    const auto before = snapshot(u.dir / "storage");
    const auto refused = u({"import", "random_lp_instance.ommx", "--tag", "other"});
    CHECK(refused.exit_code == 1);
    CHECK(test::contains(refused.output, "--force"));
    CHECK(snapshot(u.dir / "storage") == before);
    CHECK(u({"import", "random_lp_instance.ommx", "--tag", "other", "--force"}).exit_code == 0);
    CHECK(content::OciLayout(u.dir / "storage", {.read_only = true}).resolve("other").digest.str() == manifest_digest());

    // An OCI directory layout of the same artifact imports the same way.
    REQUIRE(u({"copy", fixture_tag, "oci:layout:" + std::string("v1")}).exit_code == 0);
    const auto from_dir = u.json({"import", "oci:layout", "--tag", "from-dir", "--store", "dirstore"});
    CHECK(from_dir["tags"][0]["digest"] == manifest_digest());
}

TEST_CASE("ommx cli: the import tag of a ref name that is not a tag") {
    User u;
    const auto members = fixture_members(u.dir);
    const auto digest = manifest_digest();
    const auto tag_of = [&](const std::vector<std::string>& refs, const std::string& file) {
        ommx_with(u.dir / file, members, index_with(members, refs));
        const auto j = u.json({"import", file, "--store", "s-" + file});
        std::vector<std::string> tags;
        for (const auto& t : j["tags"]) {
            CHECK(t["digest"] == digest);
            tags.push_back(t["tag"]);
        }
        return tags;
    };
    // A valid tag stays; a full name is REPO-TAG; bytes outside the grammar become '-'.
    CHECK(tag_of({"v1"}, "a.ommx") == std::vector<std::string>{"v1"});
    CHECK(tag_of({"registry.example:5000/team/My Set+x:2024.09"}, "b.ommx") ==
          std::vector<std::string>{"My-Set-x-2024.09"});
    CHECK(tag_of({"ghcr.io/org/repo@" + digest}, "c.ommx") == std::vector<std::string>{"repo-" + digest.substr(7, 12)});
    CHECK(tag_of({"ghcr.io/org/.hidden"}, "d.ommx") == std::vector<std::string>{"hidden"});
    // Too long: the name part is shortened, the tag part kept, 128 bytes in all.
    const auto long_tags = tag_of({"ghcr.io/org/" + std::string(300, 'n') + ":v2"}, "e.ommx");
    REQUIRE(long_tags.size() == 1);
    CHECK(long_tags[0].size() == 128);
    CHECK(long_tags[0].ends_with("n-v2"));
    // No ref name: the file's name and the digest's first 12 hex digits.
    CHECK(tag_of({}, "f.ommx") == std::vector<std::string>{"f-" + digest.substr(7, 12)});
    // Several: each its own tag; REF picks one, which --tag may rename.
    CHECK(tag_of({"ghcr.io/o/a:1", "ghcr.io/o/b:2"}, "g.ommx") == std::vector<std::string>{"a-1", "b-2"});
    CHECK(u({"import", "g.ommx", "--tag", "x", "--store", "s-g2"}).exit_code == 2);  // which one?
    CHECK(u.json({"import", "g.ommx", "ghcr.io/o/b:2", "--tag", "x", "--store", "s-g3"})["tags"][0]["tag"] == "x");
    CHECK(content::OciLayout(u.dir / "s-g3", {.read_only = true}).tags() == std::vector<std::string>{"x"});
    // Two names that clean to the same tag and name the same content: one tag.
    ommx_with(u.dir / "h.ommx", members, index_with(members, {"ghcr.io/o/a:1", "quay.io/p/a:1"}));
    CHECK(u.json({"import", "h.ommx", "--store", "s-h"})["tags"].size() == 2);
    CHECK(content::OciLayout(u.dir / "s-h", {.read_only = true}).tags() == std::vector<std::string>{"a-1"});
}

TEST_CASE("ommx cli: hostile .ommx files are refused with the file's name and nothing written") {
    User u;
    REQUIRE(u({"import", "random_lp_instance.ommx"}).exit_code == 0);
    const auto before = snapshot(u.dir / "storage");
    const auto members = fixture_members(u.dir);
    const auto layer = "blobs/sha256/54ba9752565494599fd3bbea59d99a31a6b536a3a6056e6651effc466d99380a";
    REQUIRE(members.contains(layer));

    test::write_file(u.dir / "text.ommx", "this is not a tar file\n");
    const auto whole = test::read_file(u.dir / "random_lp_instance.ommx");
    test::write_file(u.dir / "truncated.ommx", whole.substr(0, whole.size() / 2));
    auto no_layer = members;
    no_layer.erase(layer);
    ommx_with(u.dir / "no-layer.ommx", no_layer, members.at("index.json"));
    std::vector<test::TarMember> evil = {{"../escape", "x"}};
    for (const auto& [name, bytes] : members) evil.push_back({name, bytes});
    test::write_tar(u.dir / "dotdot.ommx", evil);
    auto bad_layer = members;
    bad_layer[layer] = std::string(bad_layer[layer].size(), 'x');  // same size, other bytes
    ommx_with(u.dir / "bad-layer.ommx", bad_layer, members.at("index.json"));

    for (const auto* file : {"text.ommx", "truncated.ommx", "no-layer.ommx", "dotdot.ommx", "bad-layer.ommx", "absent.ommx"}) {
        for (const auto* store : {"storage", "fresh"}) {
            // The store's verified copy of the layer is what an import uses; only a store without it reads the bad one.
            if (std::string(file) == "bad-layer.ommx" && std::string(store) == "storage") continue;
            const auto r = u({"import", file, "--store", store});
            INFO(file, " into ", store, ": ", r.output);
            CHECK(r.exit_code == 1);
            CHECK(test::contains(r.output, file));
            CHECK(test::line_count(r.output) == 1);
            CHECK(snapshot(u.dir / store) == (std::string(store) == "storage" ? before : std::map<std::string, std::string>{}));
        }
    }
    CHECK_FALSE(fs::exists(u.dir.path().parent_path() / "escape"));
    CHECK_FALSE(fs::exists(u.dir / "escape"));
}

TEST_CASE("ommx cli: copy of the imported artifact to a registry keeps every byte, and pulls back") {
    REQUIRE_MESSAGE(test::have_program("skopeo"), "skopeo is required");
    test::Registry registry;
    User u;
    REQUIRE(u({"import", "random_lp_instance.ommx"}).exit_code == 0);
    const auto remote = "docker://" + registry.host() + "/ommx/random_lp_instance:e69fb91";
    const auto pushed = u.json({"copy", fixture_tag, remote});
    CHECK(pushed["digest"] == manifest_digest());
    // The registry serves the archive's manifest bytes exactly.
    const auto members = fixture_members(u.dir);
    const auto raw = test::run({"skopeo", "--insecure-policy", "inspect", "--raw", "--tls-verify=false", remote});
    INFO(raw.output);
    REQUIRE(raw.exit_code == 0);
    const auto manifest_member = "blobs/sha256/" + manifest_digest().substr(7);
    CHECK(raw.output == members.at(manifest_member));
    // skopeo copies it out of the registry into a layout: the same blobs.
    const auto out = test::run({"skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", remote,
                                "oci:" + (u.dir / "skopeo").string() + ":v1"});
    INFO(out.output);
    REQUIRE(out.exit_code == 0);
    for (const auto& [name, bytes] : members)
        if (name.starts_with("blobs/")) CHECK(test::read_file(u.dir / "skopeo" / name) == bytes);
    // Pulled back into a fresh store: the same digest, the same layer bytes.
    const auto pulled = u.json({"pull", remote, "--store", "pulled"});
    CHECK(pulled["digest"] == manifest_digest());
    CHECK(pulled["tag"] == "e69fb91");
    for (const auto& [name, bytes] : members)
        if (name.starts_with("blobs/")) CHECK(test::read_file(u.dir / "pulled" / name) == bytes);
}

TEST_CASE("ommx cli: show, get (bytes and --decode json), ls and validate on the imported artifact") {
    User u;
    REQUIRE(u({"import", "random_lp_instance.ommx"}).exit_code == 0);
    // What the archive holds, read by the library.
    content::OciArchive archive(fixture);
    const auto manifest = oci::ImageManifest::parse(content::read_all(archive, archive.resolve(fixture_ref), oci::max_manifest_size));
    REQUIRE(manifest.layers.size() == 1);
    const auto& layer = manifest.layers[0];
    const auto layer_bytes = content::read_all(archive, layer, std::size_t{1} << 20);

    const auto shown = u.json({"show", fixture_tag});
    CHECK(shown["kind"] == "ommx-artifact");
    CHECK(shown["digest"] == manifest_digest());
    CHECK(shown["artifact_type"] == "application/org.ommx.v1.artifact");
    REQUIRE(shown["layers"].size() == 1);
    CHECK(shown["layers"][0]["index"] == 0);
    CHECK(shown["layers"][0]["media_type"] == layer.media_type);
    CHECK(shown["layers"][0]["digest"] == layer.digest.str());
    CHECK(shown["layers"][0]["size"] == layer.size);
    CHECK(shown["layers"][0]["annotations"]["org.ommx.v1.instance.title"] == layer.annotations.at("org.ommx.v1.instance.title"));
    const auto text = u.out({"show", fixture_tag});
    CHECK(test::contains(text, "org.ommx.v1.instance.title=" + layer.annotations.at("org.ommx.v1.instance.title")));
    CHECK(u({"show", fixture_tag, "--run", "0"}).exit_code == 2);

    // get: the layer's bytes by index and by digest.
    CHECK(u.out({"get", fixture_tag, "0"}) == layer_bytes);
    CHECK(u.out({"get", fixture_tag, layer.digest.str()}) == layer_bytes);
    CHECK(u({"get", fixture_tag, "1"}).exit_code == 1);
    CHECK(u({"get", fixture_tag, "0", "--run", "0"}).exit_code == 2);
    // --decode json: the Instance as the library renders it, and its parts.
    const auto decoded = nlohmann::json::parse(u.out({"get", fixture_tag, "0", "--decode", "json"}));
    const auto instance = ommx::Instance::decode(layer_bytes);
    CHECK(decoded == instance.to_json());
    CHECK(decoded["decisionVariables"].size() == instance.decision_variables().size());
    CHECK(decoded["constraints"].size() == instance.constraints().size());
    CHECK(u({"get", fixture_tag, "0", "--decode", "yaml"}).exit_code == 2);
    CHECK(u({"get", fixture_tag, "0", "--decode", "json", "-o", "x.json"}).exit_code == 2);

    // ls says what the tag holds.
    const auto listed = u.json({"ls"});
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["tag"] == fixture_tag);
    CHECK(listed[0]["artifact_type"] == "application/org.ommx.v1.artifact");
    CHECK(test::contains(u.out({"ls"}), "OMMX artifact, 1 layer"));

    // validate: 0 for the artifact as OMMX wrote it, 1 once its layer is damaged in the store.
    CHECK(u({"validate", fixture_tag}).exit_code == 0);
    // (the archive in place, by digest: its full ref name does not fit the location grammar's FILE:REF)
    CHECK(u({"validate", "oci-archive:random_lp_instance.ommx:" + manifest_digest()}).exit_code == 0);
    const auto stored = u.dir / "storage/blobs/sha256" / std::string(layer.digest.encoded());
    fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
    test::write_file(stored, std::string(layer_bytes.size(), '\0'));
    CHECK(u({"validate", fixture_tag}).exit_code == 1);
    const auto broken = u({"get", fixture_tag, "0", "--decode", "json"});
    CHECK(broken.exit_code == 1);
    CHECK(test::line_count(broken.output) == 1);
}

TEST_CASE("ommx cli: convert refuses what is not an OMMX experiment, saying what it is, and writes nothing") {
    User u;
    REQUIRE(u({"import", "random_lp_instance.ommx"}).exit_code == 0);
    test::write_file(u.dir / "runs/a/result.json", "{}");
    REQUIRE(u({"seal", "runs/a", "--experiment", "x", "--tag", "sealed"}).exit_code == 0);
    const auto before = snapshot(u.dir / "storage");
    const auto art = u({"convert", fixture_tag, "converted"});
    CHECK(art.exit_code == 1);
    CHECK(test::contains(art.output, "is not an OMMX experiment"));
    CHECK(test::contains(art.output, "application/org.ommx.v1.artifact"));
    const auto sealed = u({"convert", "sealed", "converted"});
    CHECK(sealed.exit_code == 1);
    CHECK(test::contains(sealed.output, "needs no conversion"));
    CHECK(u({"convert", fixture_tag}).exit_code == 2);                 // no destination
    CHECK(u({"convert", fixture_tag, "oci:dir"}).exit_code == 2);      // a destination without a tag
    CHECK(snapshot(u.dir / "storage") == before);
    CHECK_FALSE(fs::exists(u.dir / "dir"));
}

namespace {

// OmmxExperiment lays out, in the OCI layout `dir` tagged "exp", an OMMX 3
// experiment as OMMX's commit does: one image manifest, every payload a
// layer, the config naming them by index, a MessagePack run-parameter table.
struct OmmxExperiment {
    std::string instance, solution, sample_set, notes = R"({"k": 1})", table, config, manifest;
    explicit OmmxExperiment(const fs::path& dir) {
        content::OciLayout layout(dir);
        const auto blob = [&](const std::string& media_type, const std::string& bytes) {
            auto d = oci::Descriptor{.media_type = media_type, .digest = oci::Digest::of(bytes),
                                     .size = static_cast<std::int64_t>(bytes.size())};
            content::BytesStream in(bytes);
            layout.push(d, in);
            return d;
        };
        content::OciArchive archive(fixture);
        const auto m = oci::ImageManifest::parse(content::read_all(archive, archive.resolve(fixture_ref), oci::max_manifest_size));
        instance = content::read_all(archive, m.layers.at(0), std::size_t{1} << 20);
        solution = ommx::Solution::from_json({{"objective", 1.5}}).encode();
        sample_set = ommx::SampleSet::from_json(nlohmann::json::object()).encode();
        // {"columns": {"alpha": {"type": "float64", "values": {0: 0.25}}}}
        table = std::string("\x81\xa7" "columns" "\x81\xa5" "alpha" "\x82\xa4" "type" "\xa7" "float64" "\xa6" "values"
                            "\x81\x00\xcb\x3f\xd0\x00\x00\x00\x00\x00\x00", 48);
        std::vector<oci::Descriptor> layers = {blob("application/org.ommx.v1.instance", instance),
                                               blob("application/org.ommx.v1.solution", solution),
                                               blob("application/org.ommx.v1.sample-set", sample_set),
                                               blob("application/org.ommx.v1.experiment.run-parameters+msgpack", table),
                                               blob("application/json", notes)};
        config = nlohmann::json{
            {"status", "finished"},
            {"attachments", {{"entries", {{"notes.json", 4}}}}},
            {"runs", {{{"run_id", 0}, {"status", "finished"}, {"attachments", {{"entries", {{"problem", 0}}}}},
                       {"solves", {{{"solve_id", 0}, {"status", "finished"}, {"input", 0}, {"output", 1}, {"adapter", "zero"}}}},
                       {"samplings", {{{"sampling_id", 0}, {"status", "finished"}, {"input", 0}, {"output", 2}, {"adapter", "flip"}}}}}}},
            {"run_parameters", 3}}.dump();
        nlohmann::json ls = nlohmann::json::array();
        for (const auto& l : layers) ls.push_back(l.to_json());
        const auto c = blob("application/org.ommx.v1.experiment.config+json", config);
        manifest = nlohmann::json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                  {"artifactType", "application/org.ommx.v1.experiment"},
                                  {"config", c.to_json()}, {"layers", ls}}.dump();
        layout.tag(blob("application/vnd.oci.image.manifest.v1+json", manifest), "exp");
    }
};

}  // namespace

TEST_CASE("ommx cli: convert seals an OMMX experiment as a sealrun experiment with nothing lost, the same digest twice") {
    User u;
    const OmmxExperiment src(u.dir / "layout");
    const auto done = u.json({"convert", "oci:layout:exp", "conv"});
    CHECK(done["runs"] == 1);
    CHECK(done["kept"] == nlohmann::json::array({"ommx-manifest.json", "ommx-config.json", "ommx-run-parameters.msgpack"}));
    CHECK(u.json({"convert", "oci:layout:exp", "conv"})["digest"] == done["digest"]);  // deterministic, idempotent
    CHECK(u({"validate", "conv"}).exit_code == 0);
    const auto run = u.json({"show", "conv", "--run", "0"});
    CHECK(run["status"] == "finished");
    CHECK(run["parameters"] == nlohmann::json{{"alpha", 0.25}});
    REQUIRE(run["solves"].size() == 1);
    CHECK(run["solves"][0]["adapter"] == "zero");
    CHECK(run["solves"][0]["input"] == "problem");
    REQUIRE(run["samplings"].size() == 1);
    CHECK(run["samplings"][0]["adapter"] == "flip");
    // Bytes kept: the run's payloads, the experiment attachment, OMMX's own documents.
    CHECK(u.out({"get", "conv", "--run", "0", "problem"}) == src.instance);
    CHECK(u.out({"get", "conv", "--run", "0", run["solves"][0]["output"].get<std::string>()}) == src.solution);
    CHECK(u.out({"get", "conv", "--run", "0", run["samplings"][0]["output"].get<std::string>()}) == src.sample_set);
    CHECK(u.out({"get", "conv", "notes.json"}) == src.notes);
    CHECK(u.out({"get", "conv", "ommx-config.json"}) == src.config);
    CHECK(u.out({"get", "conv", "ommx-manifest.json"}) == src.manifest);
    CHECK(u.out({"get", "conv", "ommx-run-parameters.msgpack"}) == src.table);
    // The converted problem decodes as the fixture's Instance.
    CHECK(nlohmann::json::parse(u.out({"get", "conv", "--run", "0", "problem", "--decode", "json"})) ==
          ommx::Instance::decode(src.instance).to_json());
}

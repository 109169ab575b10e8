// docs/FORMAT.md's worked example is checked against a fresh commit: every
// marked block byte for byte, the digests and sizes stated under them, the
// pretty-printed versions and the attachment table. Changing the format
// without regenerating the example fails here.
#include <doctest/doctest.h>

#include <cstdlib>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "sealrun/content/memory.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"
#include "support/expect.h"
#include "support/experiment.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// The documents the worked example shows, named as its markers name them.
const std::vector<std::string> known_documents = {
    "index",        "run-0-manifest",       "run-0-config",       "run-1-manifest",
    "run-1-config", "attachments-manifest", "attachments-config", "summary-manifest", "summary-document",
};

// The header of the example's attachment table; its rows follow it.
constexpr std::string_view layer_table_header = "| part | title | mediaType | size | bytes (as a JSON string) |";

struct Written {
    std::string bytes;
    oci::Descriptor desc;
};

struct Sealed {
    std::map<std::string, Written> documents;
    std::vector<std::string> layer_rows;  // as the attachment table shows them
};

// seal_worked_example commits test::record_two_runs as FORMAT.md describes
// and reads every document back by following descriptors from the tag.
Sealed seal_worked_example() {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "gd-sweep", test::fixed_options());
    test::record_two_runs(exp);
    content::MemoryTarget target;
    const auto committed = exp.commit(target, "v1");

    Sealed out;
    auto read = [&](const std::string& name, const oci::Descriptor& d) {
        auto bytes = content::read_all(target, d, oci::max_manifest_size);
        out.documents[name] = Written{bytes, d};
        return bytes;
    };
    const auto root = target.resolve("v1");
    CHECK(root.digest == committed.digest);
    const auto index = oci::ImageIndex::parse(read("index", root));
    for (std::size_t i = 0; i < index.manifests.size(); ++i) {
        const auto& entry = index.manifests[i];
        const auto& ann = entry.annotations;
        std::string key = "entry-" + std::to_string(i);  // not a known name: fails the comparison below
        std::string part_name = key;
        const auto part = ann.find(std::string(format::keys::part));
        const auto id = ann.find(std::string(format::keys::run_id));
        if (part != ann.end() && part->second == format::part_run && id != ann.end()) {
            key = "run-" + id->second;
            part_name = "run " + id->second;
        } else if (part != ann.end() && part->second == format::part_attachments) {
            key = "attachments";
            part_name = "experiment";
        } else if (part != ann.end() && part->second == format::part_summary) {
            // The summary: its manifest and its one layer (the config is the empty blob).
            const auto manifest = oci::ImageManifest::parse(read("summary-manifest", entry));
            CHECK(manifest.config.digest == oci::empty_descriptor().digest);
            REQUIRE(manifest.layers.size() == 1);
            read("summary-document", manifest.layers[0]);
            continue;
        }
        const auto manifest = oci::ImageManifest::parse(read(key + "-manifest", entry));
        read(key + "-config", manifest.config);
        for (const auto& layer : manifest.layers) {
            const auto bytes = content::read_all(target, layer, std::size_t{1} << 20);
            const auto title = layer.annotations.find(std::string(oci::annotations::title));
            out.layer_rows.push_back("| " + part_name + " | `" +
                                     (title == layer.annotations.end() ? std::string("(none)") : title->second) +
                                     "` | `" + layer.media_type + "` | " + std::to_string(layer.size) + " | `" +
                                     nlohmann::json(bytes).dump() + "` |");
        }
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        auto line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(std::move(line));
        start = end + 1;
    }
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) out += (i > 0 ? "\n" : "") + lines[i];
    return out;
}

// Block is one `<!-- example: NAME -->` or `<!-- pretty: NAME -->` marker
// and the ```json block that must follow it.
struct Block {
    std::string kind;  // "example", "pretty", or "malformed" for a marker-like line that breaks the grammar
    std::string name;
    std::size_t line = 0;  // 1-based line of the marker
    bool fenced = false;   // the marker's next line opens a ```json block
    bool closed = false;   // and a ``` line closes it
    std::vector<std::string> body;
    std::string after;  // the first non-empty line after the closing fence
};

std::string format_doc() { return test::read_file(fs::path(SEALRUN_SOURCE_DIR) / "docs" / "FORMAT.md"); }

std::vector<Block> marked_blocks(const std::vector<std::string>& lines) {
    static const std::regex marker(R"(^<!-- (example|pretty): ([A-Za-z0-9._-]+) -->$)");
    std::vector<Block> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        Block b{.line = i + 1};
        if (std::regex_match(lines[i], m, marker)) {
            b.kind = m[1].str();
            b.name = m[2].str();
        } else if (lines[i].starts_with("<!-- example") || lines[i].starts_with("<!-- pretty")) {
            b.kind = "malformed";
            b.name = lines[i];
        } else {
            continue;
        }
        std::size_t j = i + 1;
        if (j < lines.size() && lines[j] == "```json") {
            b.fenced = true;
            for (++j; j < lines.size() && lines[j] != "```"; ++j) b.body.push_back(lines[j]);
            b.closed = j < lines.size();
            for (++j; j < lines.size() && lines[j].empty(); ++j) {
            }
            if (j < lines.size()) b.after = lines[j];
        }
        out.push_back(std::move(b));
    }
    return out;
}

const Block* find_block(const std::vector<Block>& blocks, std::string_view kind, std::string_view name) {
    const auto it = std::find_if(blocks.begin(), blocks.end(), [&](const Block& b) { return b.kind == kind && b.name == name; });
    return it == blocks.end() ? nullptr : &*it;
}

// layer_table returns the rows of the example's attachment table.
std::vector<std::string> layer_table(const std::vector<std::string>& lines) {
    std::vector<std::string> rows;
    const auto header = std::find(lines.begin(), lines.end(), layer_table_header);
    if (header == lines.end()) return rows;
    for (auto it = header + 1; it != lines.end() && it->starts_with("|"); ++it)
        if (!it->starts_with("| ---")) rows.push_back(*it);
    return rows;
}

}  // namespace

TEST_CASE("format: docs/FORMAT.md's worked example is what sealrun writes") {
    const auto sealed = seal_worked_example();
    std::vector<std::string> written_names;
    for (const auto& [name, _] : sealed.documents) written_names.push_back(name);
    auto expected_names = known_documents;
    std::sort(expected_names.begin(), expected_names.end());
    CHECK(written_names == expected_names);

    const auto lines = lines_of(format_doc());
    const auto blocks = marked_blocks(lines);
    static const std::regex stated(R"(^Digest: `(sha256:[0-9a-f]{64})`, ([0-9]+) bytes\.$)");
    for (const auto& [name, written] : sealed.documents) {
        CAPTURE(name);
        // SEALRUN_DUMP_EXAMPLE prints every document, for updating FORMAT.md.
        if (std::getenv("SEALRUN_DUMP_EXAMPLE") != nullptr)
            MESSAGE("example " << name << " " << written.desc.digest.str() << " " << written.bytes.size() << "\n" << written.bytes);
        CHECK(oci::Digest::of(written.bytes) == written.desc.digest);
        CHECK(static_cast<std::int64_t>(written.bytes.size()) == written.desc.size);

        const auto* example = find_block(blocks, "example", name);
        REQUIRE_MESSAGE(example != nullptr, "FORMAT.md has no <!-- example: " << name << " --> block");
        CAPTURE(example->line);
        REQUIRE(example->fenced);
        REQUIRE(example->closed);
        CHECK_MESSAGE(example->body.size() == 1, "an example block holds the document as one line");
        CHECK(joined(example->body) == written.bytes);

        std::smatch m;
        REQUIRE_MESSAGE(std::regex_match(example->after, m, stated),
                        "the example block must be followed by \"Digest: `sha256:…`, N bytes.\", found: "
                            << example->after);
        CHECK(m[1].str() == written.desc.digest.str());
        CHECK(m[2].str() == std::to_string(written.bytes.size()));

        if (const auto* pretty = find_block(blocks, "pretty", name)) {
            CAPTURE(pretty->line);
            REQUIRE(pretty->closed);
            CHECK(oci::canonical_json(oci::parse_json_strict(joined(pretty->body), "pretty " + name)) == written.bytes);
        }
    }
    CHECK(layer_table(lines) == sealed.layer_rows);
}

TEST_CASE("format: every marked block in docs/FORMAT.md is one the test knows") {
    const auto blocks = marked_blocks(lines_of(format_doc()));
    REQUIRE_FALSE(blocks.empty());
    std::map<std::pair<std::string, std::string>, int> seen;
    for (const auto& b : blocks) {
        CAPTURE(b.line);
        CAPTURE(b.name);
        CHECK_MESSAGE(b.kind != "malformed", "a marker is <!-- example: NAME --> or <!-- pretty: NAME -->");
        CHECK_MESSAGE(std::find(known_documents.begin(), known_documents.end(), b.name) != known_documents.end(),
                      "no document of that name is written by the worked example");
        const auto times = ++seen[std::make_pair(b.kind, b.name)];
        CHECK_MESSAGE(times == 1, "marked twice");
        CHECK_MESSAGE(b.fenced, "a marker must be followed by a ```json line");
        CHECK_MESSAGE(b.closed, "the ```json block is never closed");
    }
    for (const auto& name : known_documents) {
        CAPTURE(name);
        const auto times = seen[std::make_pair(std::string("example"), name)];
        CHECK(times == 1);
    }
}

namespace {

oci::Descriptor push_blob(content::Target& t, std::string media_type, const std::string& bytes) {
    auto d = oci::Descriptor::for_bytes(std::move(media_type), bytes);
    if (!t.exists(d)) content::push_bytes(t, d, bytes);
    return d;
}

oci::Descriptor push_manifest(content::Target& t, const oci::ImageManifest& m) {
    const auto bytes = m.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    content::push_bytes(t, d, bytes);
    d.artifact_type = m.artifact_type;
    return d;
}

// push_v1_experiment stores, by hand, what sealrun wrote with config
// version 1: run 0 holds result.json and its trace as the attachment
// trace.json (`trace` names it); the experiment-attachments config is
// version 1 too. `trace` replaces the run config's trace member, `version`
// its version; `compress` stores the attachments "+zstd" (SealOptions::compress
// of version 1 compressed the trace too). Tags "v1".
void push_v1_experiment(content::MemoryTarget& t, const nlohmann::json& trace = "trace.json", int version = 1,
                        bool compress = false) {
    oci::ImageManifest run{.artifact_type = std::string(format::run_artifact_type)};
    for (const auto& [name, bytes] : {std::pair<std::string, std::string>{"result.json", R"({"loss":0.25})"},
                                      {"trace.json", R"({"spans":[{"ms":12,"name":"solve"}]})"}}) {
        auto d = compress ? push_blob(t, "application/json+zstd", zstd_compress(bytes)) : push_blob(t, "application/json", bytes);
        d.annotations.emplace(oci::annotations::title, name);
        run.layers.push_back(d);
    }
    auto config = test::minimal_run_config({{"result.json", 0}, {"trace.json", 1}});
    REQUIRE(config["version"] == 1);
    config["trace"] = trace;
    config["version"] = version;
    run.config = push_blob(t, std::string(format::run_config_type), oci::canonical_json(config));
    run.annotations = {{std::string(format::keys::run_id), "0"}, {std::string(format::keys::run_status), "finished"}};
    auto run_d = push_manifest(t, run);
    run_d.annotations = {{std::string(format::keys::part), std::string(format::part_run)},
                         {std::string(format::keys::run_id), "0"},
                         {std::string(format::keys::run_status), "finished"}};

    oci::ImageManifest shared{.artifact_type = std::string(format::attachments_artifact_type)};
    auto sweep = push_blob(t, "application/json", R"({"lrs":[0.1]})");
    sweep.annotations.emplace(oci::annotations::title, "sweep.json");
    shared.layers.push_back(sweep);
    shared.config = push_blob(t, std::string(format::attachments_config_type),
                              oci::canonical_json({{"version", 1}, {"experiment", "x"}, {"attachments", {{"sweep.json", 0}}}}));
    auto shared_d = push_manifest(t, shared);
    shared_d.annotations = {{std::string(format::keys::part), std::string(format::part_attachments)}};

    oci::ImageIndex index{.artifact_type = std::string(format::experiment_artifact_type)};
    index.manifests = {run_d, shared_d};
    index.annotations = {{std::string(format::keys::artifact_type), std::string(format::experiment_artifact_type)},
                         {std::string(format::keys::experiment_name), "x"},
                         {std::string(format::keys::experiment_status), "finished"}};
    const auto bytes = index.serialize();
    auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, root, bytes);
    t.tag(root, "v1");
}

}  // namespace

TEST_CASE("format: a version-1 archive (the trace an attachment) still opens, and its trace() still works") {
    for (const bool compress : {false, true}) {
        CAPTURE(compress);
        content::MemoryTarget t;
        push_v1_experiment(t, "trace.json", 1, compress);
        const auto exp = SealedExperiment::open(t, "v1");
        const auto run = exp.run(0);
        CHECK(run.config()["version"] == 1);
        REQUIRE(run.trace().has_value());
        CHECK(*run.trace() == nlohmann::json{{"spans", {{{"ms", 12}, {"name", "solve"}}}}});
        REQUIRE(run.trace_descriptor().has_value());
        CHECK(run.trace_descriptor()->digest == run.attachments().descriptor("trace.json").digest);
        // In version 1 the trace is one of the attachments, as it was written.
        CHECK(run.attachment_names() == std::vector<std::string>{"result.json", "trace.json"});
        CHECK(run.get_json("result.json") == nlohmann::json{{"loss", 0.25}});
        CHECK(exp.attachment_names() == std::vector<std::string>{"sweep.json"});
        const auto report = validate(t, "v1");
        std::string failures;
        for (const auto& c : report.checks)
            if (!c.passed || c.warning) failures += c.name + " " + c.subject + ": " + c.message + "\n";
        CHECK_MESSAGE(report.ok(), failures);
    }
}

TEST_CASE("format: a version-1 trace must name an attachment; an unknown config version is refused") {
    content::MemoryTarget t;
    push_v1_experiment(t, "absent.json");
    CHECK(test::errc_of([&] { (void)SealedExperiment::open(t, "v1").run(0); }) == Errc::invalid_input);
    CHECK_FALSE(validate(t, "v1").ok());

    content::MemoryTarget t1;
    push_v1_experiment(t1, 1);  // a version-2 layer index in a version-1 config
    CHECK(test::errc_of([&] { (void)SealedExperiment::open(t1, "v1").run(0); }) == Errc::invalid_input);
    CHECK_FALSE(validate(t1, "v1").ok());

    content::MemoryTarget t3;
    push_v1_experiment(t3, "trace.json", format::config_version + 1);
    const auto e = test::thrown([&] { (void)SealedExperiment::open(t3, "v1").run(0); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "config.version"));
    CHECK_FALSE(validate(t3, "v1").ok());
}

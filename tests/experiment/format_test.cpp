// docs/FORMAT.md's worked example is checked against a fresh commit: every
// marked block byte for byte, the digests and sizes stated under them, the
// pretty-printed versions and the attachment table. Changing the format
// without regenerating the example fails here.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "sealrun/content/memory.h"
#include "sealrun/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "support/experiment.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// The documents the worked example shows, named as its markers name them.
const std::vector<std::string> known_documents = {
    "index",        "run-0-manifest",       "run-0-config",       "run-1-manifest",
    "run-1-config", "attachments-manifest", "attachments-config",
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

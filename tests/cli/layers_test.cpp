// The layers of docs/ARCHITECTURE.md, checked on the source tree: each
// layer includes only the layers below it (docs/CONVENTIONS.md "Layers"),
// public headers never include an internal one, the CLI includes only public
// headers (the Python module too), and a layer's private headers stay inside it.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "support/expect.h"
#include "support/tmpdir.h"
#include "build_paths.h"

using namespace sealrun;
namespace fs = std::filesystem;

namespace {

// below lists, per layer folder, the layers a file of it may include
// besides its own ("base" is error.h, path.h and printable.h).
const std::map<std::string, std::set<std::string>> below = {
    {"base", {"util"}},
    {"util", {"base"}},
    {"oci", {"base", "util"}},
    {"content", {"base", "util", "oci"}},
    {"codecs", {"base", "util", "oci", "content"}},
    {"records", {"base", "util", "oci", "content", "codecs"}},
    // experiment also opens locations: checkpoints copied to one, resume from one.
    {"experiment", {"base", "util", "oci", "content", "codecs", "records", "location"}},
    {"validate", {"base", "util", "oci", "content", "codecs", "records", "experiment"}},
    {"remote", {"base", "util", "oci", "content"}},
    {"location", {"base", "util", "oci", "content", "remote"}},
};

// layer_private are internal headers no other layer may include.
const std::map<std::string, std::string> layer_private = {
    {"oci/reader.h", "oci"},  // the strict field readers behind oci/json.h
};

// layer_of returns the layer of a name relative to src/ or include/sealrun/
// ("oci/json.h" -> "oci", "error.h" -> "base"), or "" for a file of no layer.
std::string layer_of(const std::string& rel) {
    const auto slash = rel.find('/');
    if (slash == std::string::npos) return rel == "error.h" || rel == "path.h" || rel == "printable.h" ||
                                                   rel == "error.cpp" || rel == "path.cpp" || rel == "printable.cpp"
                                               ? "base"
                                               : "";
    const auto top = rel.substr(0, slash);
    return below.contains(top) ? top : "";
}

// Include is one #include of sealrun's own headers: the name as written,
// whether it was spelt "sealrun/...", and its layer.
struct Include {
    std::string name;
    bool is_public;
    std::string layer;
};

std::vector<Include> includes_of(const fs::path& file) {
    static const std::regex include(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
    std::vector<Include> out;
    std::ifstream in(file);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (!std::regex_search(line, m, include)) continue;
        std::string name = m[1];
        const bool is_public = name.starts_with("sealrun/");
        const auto rel = is_public ? name.substr(8) : name;
        const auto layer = layer_of(rel);
        if (!layer.empty() && (is_public || rel.find('/') != std::string::npos)) out.push_back({rel, is_public, layer});
    }
    return out;
}

// violations returns one line per include of `root` (src/, include/sealrun/
// or tools/cli/) that breaks a rule.
std::vector<std::string> violations(const fs::path& root, const std::string& kind) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        const auto ext = it->path().extension();
        if (ext != ".h" && ext != ".cpp") continue;
        const auto rel = it->path().lexically_relative(root).generic_string();
        const bool front = kind == "tools" || kind == "python";  // the CLI and the Python module: public API only
        const auto own = front ? kind : layer_of(rel);
        for (const auto& inc : includes_of(it->path())) {
            const auto where = kind + "/" + rel + " includes " + inc.name;
            if (front && !inc.is_public) out.push_back(where + ": the " + (kind == "tools" ? "CLI" : "Python module") + " uses public headers only");
            if (kind == "include" && !inc.is_public) out.push_back(where + ": a public header includes an internal one");
            if (front || own.empty() || inc.layer == own) {
                if (const auto p = layer_private.find(inc.name); p != layer_private.end() && p->second != own)
                    out.push_back(where + ": private to " + p->second);
                continue;
            }
            if (!below.at(own).contains(inc.layer)) out.push_back(where + ": " + own + " is not above " + inc.layer);
            if (const auto p = layer_private.find(inc.name); p != layer_private.end() && p->second != own)
                out.push_back(where + ": private to " + p->second);
        }
    }
    REQUIRE_FALSE(ec);
    return out;
}

}  // namespace

TEST_CASE("layers: every include runs downhill") {
    const fs::path source = SEALRUN_SOURCE_DIR;
    std::vector<std::string> found;
    for (const auto& [dir, kind] : {std::pair{"src", "src"}, {"include/sealrun", "include"}, {"tools/cli", "tools"},
                              {"python/src", "python"}})
        for (auto& v : violations(source / dir, kind)) found.push_back(std::move(v));
    for (const auto& v : found) FAIL_CHECK(v);
    CHECK(found.empty());
}

TEST_CASE("layers: the check refuses the edges it is there to refuse") {
    test::TempDir tree;
    test::write_file(tree / "src/util/file_stream.h", "#include \"sealrun/content/stream.h\"\n");
    test::write_file(tree / "src/experiment/x.cpp", "#include \"oci/reader.h\"\n#include \"util/fs.h\"\n");
    test::write_file(tree / "src/oci/y.cpp", "#include \"oci/reader.h\"\n#include <nlohmann/json.hpp>\n");
    test::write_file(tree / "include/sealrun/oci/z.h", "#include \"util/fs.h\"\n");
    test::write_file(tree / "tools/cli/w.cpp", "#include \"util/fs.h\"\n#include <sealrun/error.h>\n");
    const auto src = violations(tree / "src", "src");
    REQUIRE(src.size() == 2);
    CHECK(test::contains(src[0] + src[1], "src/util/file_stream.h includes content/stream.h: util is not above content"));
    CHECK(test::contains(src[0] + src[1], "src/experiment/x.cpp includes oci/reader.h: private to oci"));
    const auto inc = violations(tree / "include/sealrun", "include");
    REQUIRE(inc.size() == 1);
    CHECK(test::contains(inc[0], "a public header includes an internal one"));
    const auto tools = violations(tree / "tools/cli", "tools");
    REQUIRE(tools.size() == 1);
    CHECK(test::contains(tools[0], "the CLI uses public headers only"));
}

// sealrun seal: result directories into an experiment in the local store.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <iostream>
#include <vector>

#include <sealrun/experiment/convert.h>
#include <sealrun/experiment/experiment.h>
#include <sealrun/oci/tag.h>
#include <sealrun/oci/json.h>
#include <sealrun/oci/media_type.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

namespace {

// entry_status returns what is at `p` itself (a symbolic link is not
// followed; type not_found when nothing is there). Any other failure (a
// name too long, a folder that cannot be searched) is Error(io) naming `p`:
// the CLI calls only std::filesystem's error_code overloads, as the library
// does (util::entry_status, which tools cannot include).
fs::file_status entry_status(const fs::path& p) {
    std::error_code ec;
    const auto st = fs::symlink_status(p, ec);
    if (ec && st.type() != fs::file_type::not_found) throw Error(Errc::io, "seal", p.string(), ec.message());
    return st;
}

bool is_file(const fs::path& p) { return fs::is_regular_file(entry_status(p)); }

// read_model returns the text of `path` (a model.json), at most 64 MiB.
std::string read_model(const fs::path& path) {
    constexpr std::size_t max_model = std::size_t{64} << 20;
    std::ifstream in(path, std::ios::binary);
    std::string text;
    std::vector<char> buf(1 << 16);
    while (in && text.size() <= max_model) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (!in.eof()) {
        if (text.size() > max_model) throw Error(Errc::too_large, "seal", path.string(), "larger than 64 MiB");
        throw Error(Errc::io, "seal", path.string(), "cannot be read");
    }
    return text;
}

// MediaTypes are the media types the user gave for files of the sealed
// directories: each DIR's model.json "media_types" object ({"NAME": "TYPE"},
// NAME relative to DIR), and --media-type NAME=TYPE for every DIR (which
// wins). A name that matches no file is refused, never silently ignored.
struct MediaTypes {
    std::map<std::string, std::string> flags;  // --media-type

    // from_flags reads every --media-type NAME=TYPE; a malformed one is a usage error.
    static MediaTypes from_flags(const Args& a) {
        MediaTypes m;
        const auto it = a.options.find("--media-type");
        if (it == a.options.end()) return m;
        for (const auto& v : it->second) {
            const auto eq = v.rfind('=');
            if (eq == std::string::npos || eq == 0)
                throw UsageError("--media-type takes NAME=TYPE, not \"" + printable(v) + "\"");
            const auto type = v.substr(eq + 1);
            if (const auto problem = oci::media_type_problem(type); !problem.empty())
                throw UsageError("--media-type " + printable(v) + ": \"" + printable(type) + "\" is not a media type: " + problem);
            m.flags[v.substr(0, eq)] = type;
        }
        return m;
    }

    // for_dir returns the types for `dir`'s files, given its model.json.
    std::map<std::string, std::string> for_dir(const nlohmann::json& model, const std::string& dir) const {
        std::map<std::string, std::string> out;
        const auto where = dir + "/model.json";
        if (const auto t = model.find("media_types"); t != model.end() && !t->is_null()) {
            if (!t->is_object()) throw Error(Errc::invalid_input, "seal", where, "media_types must be an object of NAME: TYPE");
            for (const auto& [name, type] : t->items()) {
                if (!type.is_string())
                    throw Error(Errc::invalid_input, "seal", where, "media_types: the type of \"" + name + "\" must be a string");
                if (const auto problem = oci::media_type_problem(type.get<std::string>()); !problem.empty())
                    throw Error(Errc::invalid_input, "seal", where,
                                "media_types: \"" + type.get<std::string>() + "\" (for \"" + name + "\") is not a media type: " + problem);
                if (!is_file(fs::path(dir) / name))
                    throw Error(Errc::invalid_input, "seal", where, "media_types names \"" + name + "\", which is not a file in " + dir);
                out[name] = type.get<std::string>();
            }
        }
        for (const auto& [name, type] : flags)
            if (is_file(fs::path(dir) / name)) out[name] = type;
        return out;
    }

    // check_names refuses, before anything is recorded, a --media-type NAME
    // that is a file in none of `dirs`.
    void check_names(const std::vector<std::string>& dirs) const {
        for (const auto& [name, _] : flags) {
            bool found = false;
            for (const auto& dir : dirs) found = found || is_file(fs::path(dir) / name);
            if (!found) throw UsageError("--media-type " + printable(name) + "=...: no DIR holds a file of that name");
        }
    }
};

// regular_files lists the files under `dir` as (name relative to `dir`,
// path), sorted by name; a symlink or special file is refused, never
// skipped (seal's one rule for what a directory holds).
std::vector<std::pair<std::string, fs::path>> regular_files(const fs::path& dir) {
    std::vector<std::pair<std::string, fs::path>> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const auto st = entry_status(it->path());
        if (fs::is_directory(st)) continue;
        if (fs::is_symlink(st) || !fs::is_regular_file(st))
            throw Error(Errc::invalid_input, "seal", it->path().string(), "only regular files can be sealed (no links)");
        out.emplace_back(it->path().lexically_relative(dir).generic_string(), it->path());
    }
    if (ec) throw Error(Errc::io, "seal", dir.string(), ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

// model_text reads the optional string `key` of a model.json (`where`).
std::string model_text(const nlohmann::json& model, const char* key, const std::string& where, std::string fallback) {
    const auto it = model.find(key);
    if (it == model.end() || it->is_null()) return fallback;
    if (!it->is_string()) throw Error(Errc::invalid_input, "seal", where, std::string(key) + " must be a string");
    return it->get<std::string>();
}

// attach_files saves every --attach FILE (under its file name) or DIR (its
// files, named relative to DIR) as experiment-level attachments; returns
// the names. Two sources giving one name are refused.
std::vector<std::string> attach_files(Experiment& exp, const Args& a) {
    std::vector<std::string> names;
    const auto it = a.options.find("--attach");
    if (it == a.options.end()) return names;
    std::set<std::string> seen;
    auto add = [&](const std::string& name, const fs::path& path) {
        if (!seen.insert(name).second)
            throw UsageError("--attach: two files would be attached as \"" + printable(name) + "\"");
        exp.attachments().import_file(name, path);
        names.push_back(name);
    };
    for (const auto& given : it->second) {
        const auto st = entry_status(given);
        if (fs::is_directory(st)) {
            for (const auto& [rel, path] : regular_files(given)) add(rel, path);
        } else if (fs::is_regular_file(st)) {
            add(fs::path(given).filename().string(), given);
        } else {
            throw Error(Errc::not_found, "seal --attach", given,
                        fs::exists(st) ? "not a regular file or directory" : "no such file or directory");
        }
    }
    return names;
}

// annotate_from_flags applies every --annotation KEY=VALUE to `exp`.
std::map<std::string, std::string> annotate_from_flags(Experiment& exp, const Args& a) {
    std::map<std::string, std::string> out;
    const auto it = a.options.find("--annotation");
    if (it == a.options.end()) return out;
    for (const auto& v : it->second) {
        const auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) throw UsageError("--annotation takes KEY=VALUE, not \"" + printable(v) + "\"");
        try {
            exp.annotate(v.substr(0, eq), v.substr(eq + 1));
        } catch (const Error& e) {
            throw UsageError("--annotation " + printable(v.substr(0, eq)) + ": " + e.reason());
        }
        out[v.substr(0, eq)] = v.substr(eq + 1);
    }
    return out;
}

// describe_from_model gives the run model.json's "kind" (a string) and
// "config" (an object), which the run config keeps (FORMAT §4.2).
void describe_from_model(Run& run, const nlohmann::json& model, const std::string& where) {
    const auto kind = model_text(model, "kind", where, "");
    nlohmann::json config = nullptr;
    if (const auto c = model.find("config"); c != model.end() && !c->is_null()) {
        if (!c->is_object()) throw Error(Errc::invalid_input, "seal", where, "config must be a JSON object");
        config = *c;
    }
    if (!kind.empty() || !config.is_null()) run.describe(kind, config);
}

}  // namespace

int cmd_seal(const Args& a, const Globals& g) {
    if (a.positional.empty()) throw UsageError("usage: sealrun seal DIR... --experiment NAME --tag TAG");
    const auto name = a.get("--experiment");
    const auto tag = a.get("--tag");
    if (!name || !tag) throw UsageError("seal needs --experiment NAME and --tag TAG");
    const auto media_types = MediaTypes::from_flags(a);
    media_types.check_names(a.positional);
    refuse_file(g.store, true);
    // The records are copies of directories that stay where they are, in
    // the store whose commit syncs its file system before the tag
    // (OciLayout's durability rule): fsyncing each record file first
    // would only wait for the disk twice.
    RecordStore store(g.store, CodecRegistry::global(), {.skip_fsync = true});
    // A run sealed from a directory is done once closed: the experiment
    // lets it go (its record holds it), so memory stays flat however many
    // directories there are.
    Experiment exp(store, *name, {.keep_closed_runs = false});
    const auto annotations = annotate_from_flags(exp, a);
    const auto attached = attach_files(exp, a);
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& dir : a.positional) {
        std::error_code ec;
        const auto st = fs::status(dir, ec);
        if (ec && st.type() != fs::file_type::not_found) throw Error(Errc::io, "seal", dir, ec.message());
        if (!fs::is_directory(st)) throw Error(Errc::not_found, "seal", dir, "not a directory");
        Run& run = exp.run();
        nlohmann::json model = nlohmann::json::object();
        if (fs::exists(entry_status(fs::path(dir) / "model.json"))) {
            model = oci::parse_json_strict(read_model(fs::path(dir) / "model.json"), dir + "/model.json", 64 << 20);
            if (!model.is_object()) throw Error(Errc::invalid_input, "seal", dir + "/model.json", "must be a JSON object");
        }
        if (auto p = model.find("parameters"); p != model.end() && !p->is_null()) {
            if (!p->is_object()) throw Error(Errc::invalid_input, "seal", dir + "/model.json", "parameters must be an object");
            for (const auto& [k, v] : p->items()) run.log_parameter(k, to_parameter(v, dir + "/model.json: " + k));
        }
        describe_from_model(run, model, dir + "/model.json");
        const auto types = media_types.for_dir(model, dir);
        for (const auto& [rel, path] : regular_files(dir)) {
            if (rel == "model.json") continue;
            const auto type = types.find(rel);
            run.import_file(rel, path, type != types.end() ? type->second : std::string());
        }
        const auto status = model_text(model, "status", dir + "/model.json", "finished");
        const auto reason = model_text(model, "reason", dir + "/model.json", "");
        if (status == "finished") run.finish();
        else if (status == "failed") run.fail(reason);
        else if (status == "interrupted") run.interrupt(reason);
        else throw Error(Errc::invalid_input, "seal", dir + "/model.json", "status must be finished, failed or interrupted");
        if (g.json) runs.push_back({{"run_id", run.run_id()}, {"directory", dir}, {"status", status}});  // only printed
    }
    // --summary FILE:KEY: the values the experiment summary carries per run.
    const auto summary = a.options.find("--summary");
    const auto root = exp.commit(*tag, SealOptions{.compress = a.has("--compress"), .force = a.has("--force"),
                                                   .summary_values = summary == a.options.end() ? std::vector<std::string>{}
                                                                                                : summary->second});
    if (g.json)
        std::cout << json_text({{"tag", *tag}, {"digest", root.digest.str()}, {"experiment", *name}, {"runs", runs},
                                {"attachments", attached}, {"annotations", annotations}, {"compressed", a.has("--compress")}})
                  << "\n";
    else if (!g.quiet) std::cout << printable(*tag) << " " << root.digest.str() << "\n";
    return exit_ok;
}

int cmd_convert(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun convert SRC DST [--name NAME] [--compress] [--force]");
    // Grammar errors first, before anything is opened.
    if (parse_location_text(a.positional[0]).reference.empty())
        throw UsageError("the source needs a tag or digest: " + a.positional[0]);
    const auto dst_spec = parse_location_text(a.positional[1]);
    if (dst_spec.reference.empty() || oci::is_digest_reference(dst_spec.reference))
        throw UsageError("the destination needs a tag (sealrun names what it seals by tag): " + a.positional[1]);
    auto src = open_location(a.positional[0], g, false);
    auto dst = open_location(a.positional[1], g, true, a.has("--force"));
    ConvertOptions o;
    if (const auto n = a.get("--name")) o.name = *n;
    o.compress = a.has("--compress");
    o.force = a.has("--force");
    const auto done = convert_experiment(*src.target, src.reference, dst.writable(), dst.reference, o);
    dst.commit();
    if (g.json) {
        std::cout << json_text({{"source", a.positional[0]}, {"destination", a.positional[1]}, {"tag", dst.reference},
                                {"digest", done.root.digest.str()}, {"name", done.name}, {"runs", done.runs},
                                {"attachments", done.attachments}, {"kept", done.kept}})
                  << "\n";
    } else if (!g.quiet) {
        std::cout << printable(dst.reference) << " " << done.root.digest.str() << "\n";
    }
    return exit_ok;
}

}  // namespace sealrun::cli

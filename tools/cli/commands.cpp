// The sealrun commands. Each returns an exit code; errors are thrown and
// reported by main().
#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <sealrun/content/copy.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/error.h>
#include <sealrun/experiment.h>
#include <sealrun/format.h>
#include <sealrun/oci/json.h>
#include <sealrun/oci/manifest.h>
#include <sealrun/printable.h>
#include <sealrun/remote/credentials.h>
#include <sealrun/sealed.h>
#include <sealrun/validate.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/scratch.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

namespace {

void need(const Args& a, std::size_t min, std::size_t max, const char* usage) {
    if (a.positional.size() < min || a.positional.size() > max) throw UsageError(std::string("usage: ") + usage);
}

Parameter to_parameter(const nlohmann::json& v, const std::string& where) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_number_float()) return v.get<double>();
    if (v.is_string()) return v.get<std::string>();
    throw Error(Errc::invalid_input, "seal", where, "parameters must be booleans, numbers or strings");
}

// copy_options reports progress to `p` and applies --force.
content::CopyOptions copy_options(Progress& p, const Args& a) {
    return content::CopyOptions{
        .force = a.has("--force"),
        .on_copied = [&p](const oci::Descriptor&) { p.blob_done(); },
        .on_progress = [&p](const oci::Descriptor& d, std::uint64_t n) { p.bytes(n, d.digest.str()); },
    };
}

std::uint64_t attachment_bytes(const SealedRun& r) {
    std::uint64_t total = 0;
    for (const auto& n : r.attachment_names()) total += static_cast<std::uint64_t>(r.attachments().descriptor(n).size);
    return total;
}

// json_text renders `j` for a terminal: ASCII only (so no raw control or
// bidirectional character), invalid UTF-8 replaced instead of thrown on.
std::string json_text(const nlohmann::json& j) {
    return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

// param_text renders parameters as escaped key=value pairs.
std::string param_text(const std::map<std::string, Parameter>& params) {
    std::string s;
    for (const auto& [k, v] : params) {
        if (!s.empty()) s += " ";
        const auto j = parameter_to_json(v);
        s += printable(k) + "=" + printable(j.is_string() ? j.get<std::string>() : json_text(j));
    }
    return s;
}

}  // namespace

int cmd_seal(const Args& a, const Globals& g) {
    if (a.positional.empty()) throw UsageError("usage: sealrun seal DIR... --experiment NAME --tag TAG");
    const auto name = a.get("--experiment");
    const auto tag = a.get("--tag");
    if (!name || !tag) throw UsageError("seal needs --experiment NAME and --tag TAG");
    RecordStore store(g.store);
    Experiment exp(store, *name);
    for (const auto& dir : a.positional) {
        if (!fs::is_directory(dir)) throw Error(Errc::not_found, "seal", dir, "not a directory");
        Run& run = exp.run();
        nlohmann::json model = nlohmann::json::object();
        if (fs::exists(fs::path(dir) / "model.json")) {
            std::ifstream in(fs::path(dir) / "model.json");
            std::stringstream ss;
            ss << in.rdbuf();
            model = oci::parse_json_strict(ss.str(), dir + "/model.json", 64 << 20);
            if (!model.is_object()) throw Error(Errc::invalid_input, "seal", dir + "/model.json", "must be a JSON object");
        }
        if (auto p = model.find("parameters"); p != model.end() && !p->is_null()) {
            if (!p->is_object()) throw Error(Errc::invalid_input, "seal", dir + "/model.json", "parameters must be an object");
            for (const auto& [k, v] : p->items()) run.log_parameter(k, to_parameter(v, dir + "/model.json: " + k));
        }
        for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
            const auto st = it->symlink_status();
            const auto rel = it->path().lexically_relative(dir).generic_string();
            if (fs::is_directory(st)) continue;
            if (fs::is_symlink(st) || !fs::is_regular_file(st))
                throw Error(Errc::invalid_input, "seal", it->path().string(), "only regular files can be sealed (no links)");
            if (rel == "model.json") continue;
            run.import_file(rel, it->path());
        }
        const auto status = model.value("status", std::string("finished"));
        const auto reason = model.contains("reason") && model["reason"].is_string() ? model["reason"].get<std::string>() : "";
        if (status == "finished") run.finish();
        else if (status == "failed") run.fail(reason);
        else if (status == "interrupted") run.interrupt(reason);
        else throw Error(Errc::invalid_input, "seal", dir + "/model.json", "status must be finished, failed or interrupted");
    }
    const auto root = exp.commit(*tag, SealOptions{.force = a.has("--force")});
    if (!g.quiet) std::cout << printable(*tag) << " " << root.digest.str() << "\n";
    return exit_ok;
}

int cmd_ls(const Args& a, const Globals& g) {
    need(a, 0, 0, "sealrun ls");
    auto reader = open_reader(g.store, true);
    auto& store = *reader;
    const auto tags = store.tags();
    if (g.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& t : tags) out.push_back({{"tag", t}, {"digest", store.resolve(t).digest.str()}});
        std::cout << json_text(out) << "\n";
        return exit_ok;
    }
    for (const auto& t : tags) std::cout << printable(t) << "\t" << store.resolve(t).digest.str() << "\n";
    return exit_ok;
}

int cmd_show(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun show SRC [--json]");
    auto loc = open_location(a.positional[0], g, false);
    if (loc.reference.empty()) throw UsageError("show needs a tag or digest: " + loc.text);
    const auto root = loc.target->resolve(loc.reference);
    const bool json = g.json || a.has("--json");
    if (oci::is_manifest_type(root.media_type)) {
        const auto run = SealedRun::open(*loc.target, root);
        if (json) {
            nlohmann::json atts = nlohmann::json::array();
            for (const auto& n : run.attachment_names()) {
                const auto& d = run.attachments().descriptor(n);
                atts.push_back({{"name", n}, {"media_type", d.media_type}, {"size", d.size}, {"digest", d.digest.str()}});
            }
            std::cout << json_text({{"run_id", run.run_id()}, {"status", run.status()}, {"attachments", atts}}) << "\n";
            return exit_ok;
        }
        std::cout << "run " << run.run_id() << "  " << printable(run.status()) << "\n";
        for (const auto& n : run.attachment_names())
            std::cout << "  " << printable(n) << "\t" << printable(run.attachment_media_type(n)) << "\t"
                      << human_size(static_cast<std::uint64_t>(run.attachments().descriptor(n).size)) << "\n";
        return exit_ok;
    }
    const auto exp = SealedExperiment::open(*loc.target, loc.reference);
    const auto runs = exp.runs();
    if (json) {
        nlohmann::json rs = nlohmann::json::array();
        for (const auto& r : runs) {
            nlohmann::json params = nlohmann::json::object();
            for (const auto& [k, v] : r.parameters()) params[k] = parameter_to_json(v);
            rs.push_back({{"run_id", r.run_id()},
                          {"status", r.status()},
                          {"reason", r.reason()},
                          {"parameters", params},
                          {"attachments", r.attachment_names().size()},
                          {"size", attachment_bytes(r)}});
        }
        std::cout << json_text({{"name", exp.name()}, {"status", exp.status()}, {"digest", root.digest.str()},
                                {"runs", rs}, {"attachments", exp.attachment_names()}})
                  << "\n";
        return exit_ok;
    }
    std::cout << "experiment " << printable(exp.name()) << "  " << printable(exp.status()) << "  " << root.digest.str()
              << "\n";
    std::cout << "RUN\tSTATUS\tFILES\tSIZE\tPARAMETERS\n";
    for (const auto& r : runs)
        std::cout << r.run_id() << "\t" << printable(r.status()) << "\t" << r.attachment_names().size() << "\t"
                  << human_size(attachment_bytes(r)) << "\t" << param_text(r.parameters()) << "\n";
    return exit_ok;
}

int cmd_get(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun get SRC --run ID NAME [-o PATH]");
    const auto id = a.get("--run");
    if (!id) throw UsageError("get needs --run ID");
    std::int64_t run_id = 0;
    try {
        std::size_t used = 0;
        run_id = std::stoll(*id, &used);
        if (used != id->size() || run_id < 0) throw std::invalid_argument("id");
    } catch (const std::exception&) {
        throw UsageError("--run takes a run id, a non-negative integer");
    }
    auto loc = open_location(a.positional[0], g, false);
    const auto exp = SealedExperiment::open(*loc.target, loc.reference);
    const auto run = exp.run(run_id);
    const auto& name = a.positional[1];
    if (auto out = a.get("-o")) {
        fs::path path = *out;
        if (out->ends_with('/')) fs::create_directories(path);
        const auto written = run.write_attachment(name, path, a.has("--overwrite"));
        if (!g.quiet) std::cerr << printable(written.string()) << "\n";
        return exit_ok;
    }
    const auto bytes = run.get_blob(name);  // verified before a byte is written
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return exit_ok;
}

int cmd_copy(const Args& a, const Globals& g) {
    need(a, 1, 2, "sealrun copy SRC [DST]");
    auto src = open_location(a.positional[0], g, false);
    if (src.reference.empty()) throw UsageError("the source needs a tag or digest: " + src.text);
    // One argument: pull into the local store under the source's tag.
    const std::string dst_text = a.positional.size() == 2 ? a.positional[1] : src.reference;
    auto dst = open_location(dst_text, g, true, a.has("--force"));
    std::string dst_ref = dst.reference;
    if (dst_ref.empty() && !content::is_digest_reference(src.reference)) dst_ref = src.reference;
    Progress progress(!g.quiet);
    const auto root = content::copy(*src.target, src.reference, *dst.target, dst_ref, copy_options(progress, a));
    finish_location(dst);
    if (!g.quiet) std::cout << root.digest.str() << "\n";
    return exit_ok;
}

int cmd_tag(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun tag SRC TAG");
    auto loc = open_location(a.positional[0], g, false);
    const auto d = loc.target->resolve(loc.reference);
    if (!loc.layout.empty()) loc.target = open_layout(loc.layout, Access::update, loc.is_local_store);
    content::tag_with(*loc.target, d, a.positional[1], a.has("--force") ? content::TagPolicy::replace : content::TagPolicy::keep);
    finish_location(loc);
    return exit_ok;
}

int cmd_rm(const Args& a, const Globals& g) {
    need(a, 1, 1000, "sealrun rm TAG...");
    auto layout = open_layout(g.store, Access::update, true);
    auto& store = *layout;
    int rc = exit_ok;
    for (const auto& t : a.positional) {
        if (!store.untag(t)) {
            std::cerr << "sealrun: rm " << printable(t) << ": no such tag\n";
            rc = exit_failed;
        }
    }
    return rc;
}

int cmd_gc(const Args& a, const Globals& g) {
    need(a, 0, 0, "sealrun gc [--grace SECONDS]");
    content::GcOptions options;
    if (const auto grace = a.get("--grace")) {
        long s = -1;
        const auto [end, ec] = std::from_chars(grace->data(), grace->data() + grace->size(), s);
        if (ec != std::errc() || end != grace->data() + grace->size() || s < 0)
            throw UsageError("--grace takes whole seconds (0 or more), not \"" + printable(*grace) + "\"");
        options.grace = std::chrono::seconds(s);
    }
    auto layout = open_layout(g.store, Access::update, true);
    auto& store = *layout;
    const auto r = store.gc(options);
    // Records of sealed runs whose root no index entry names any more, then scratch folders of dead processes.
    const auto rec = RecordStore(g.store).collect([&] {
        std::set<std::string> live;
        for (const auto& d : store.index().manifests) live.insert(d.digest.str());
        return live;
    });
    sweep_scratch();
    if (!g.quiet)
        std::cout << "removed " << r.blobs_removed << " blobs, " << human_size(r.bytes_removed) << "; "
                  << rec.records_removed << " sealed records, " << human_size(rec.bytes_removed) << "\n";
    return exit_ok;
}

int cmd_export(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun export SRC FILE.tar");
    auto src = open_location(a.positional[0], g, false);
    Args c;
    c.options = a.options;  // --force
    c.positional = {a.positional[0], "oci-archive:" + a.positional[1] + (src.reference.empty() ? "" : ":" + src.reference)};
    if (content::is_digest_reference(src.reference)) c.positional[1] = "oci-archive:" + a.positional[1];
    return cmd_copy(c, g);
}

int cmd_import(const Args& a, const Globals& g) {
    need(a, 1, 2, "sealrun import FILE.tar [TAG]");
    auto src = open_location("oci-archive:" + a.positional[0], g, false);
    content::OciLayout store(g.store);
    auto tags = src.target->tags();
    if (a.positional.size() == 2) tags = {a.positional[1]};
    if (tags.empty()) throw Error(Errc::not_found, "import", a.positional[0], "the archive holds no tags");
    Progress progress(!g.quiet);
    for (const auto& t : tags) {
        const auto root = content::copy(*src.target, t, store, t, copy_options(progress, a));
        if (!g.quiet) std::cout << printable(t) << " " << root.digest.str() << "\n";
    }
    return exit_ok;
}

int cmd_validate(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun validate SRC [--format text|json|junit] [--strict] [--codec-allow TYPE]");
    const auto fmt = a.get("--format").value_or(g.json ? "json" : "text");
    if (fmt != "text" && fmt != "json" && fmt != "junit") throw UsageError("--format is text, json or junit");
    auto loc = open_location(a.positional[0], g, false);
    ValidationOptions o;
    o.strict = a.has("--strict");
    if (auto it = a.options.find("--codec-allow"); it != a.options.end()) o.codec_allow = it->second;
    const auto report = validate(*loc.target, loc.reference, o);
    if (fmt == "json") std::cout << to_json(report) << "\n";
    else if (fmt == "junit") std::cout << to_junit(report);
    else std::cout << to_text(report);
    return report.ok() ? exit_ok : exit_failed;
}

int cmd_login(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun login HOST -u USER --password-stdin");
    const auto user = a.get("-u");
    if (!user || !a.has("--password-stdin")) throw UsageError("login needs -u USER and --password-stdin");
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) throw UsageError("no password on standard input");
    const auto& host = a.positional[0];
    auto o = remote_options(g);
    o.credentials = remote::Credentials{*user, password, ""};
    remote::Repository(remote::Reference::parse(host + "/sealrun-login"), o).ping();
    remote::store_credentials(host, *o.credentials);
    if (!g.quiet) std::cout << "Login Succeeded\n";
    return exit_ok;
}

int cmd_logout(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun logout HOST");
    const auto& host = a.positional[0];
    if (!remote::erase_credentials(host)) {
        if (!g.quiet) std::cerr << "sealrun: not logged in to " << host << "\n";
        return exit_ok;
    }
    if (!g.quiet) std::cout << "Removed login credentials for " << host << "\n";
    return exit_ok;
}

}  // namespace sealrun::cli

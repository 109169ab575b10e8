// sealrun ls, show and get: reading what was sealed.
#include <iostream>

#include <sealrun/content/oci_layout.h>
#include <sealrun/format.h>
#include <sealrun/oci/manifest.h>
#include <sealrun/sealed.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

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
    need(a, 2, 2, "sealrun get SRC [--run ID] NAME [-o PATH]");
    std::optional<std::int64_t> run_id;
    if (const auto id = a.get("--run")) {
        try {
            std::size_t used = 0;
            run_id = std::stoll(*id, &used);
            if (used != id->size() || *run_id < 0) throw std::invalid_argument("id");
        } catch (const std::exception&) {
            throw UsageError("--run takes a run id, a non-negative integer");
        }
    }
    auto loc = open_location(a.positional[0], g, false);
    if (loc.reference.empty()) throw UsageError("get needs a tag or digest: " + loc.text);
    const auto& name = a.positional[1];
    // SRC names an experiment (NAME is one of its attachments, or of run
    // --run ID) or one run (a run manifest: no --run needed).
    const auto root = loc.target->resolve(loc.reference);
    std::optional<SealedExperiment> exp;
    std::optional<SealedRun> run;
    const Attachments* from = nullptr;
    if (oci::is_manifest_type(root.media_type)) {
        run = SealedRun::open(*loc.target, loc.reference);
        if (run_id && *run_id != run->run_id())
            throw UsageError(loc.text + " is run " + std::to_string(run->run_id()) + " alone, not run " + std::to_string(*run_id));
        from = &run->attachments();
    } else {
        exp = SealedExperiment::open(*loc.target, loc.reference);
        if (run_id) {
            run = exp->run(*run_id);
            from = &run->attachments();
        } else {
            from = &exp->attachments();
            if (!from->contains(name))
                throw Error(Errc::not_found, "get", name,
                            "no experiment-level attachment of that name in " + loc.text +
                                " (pass --run ID for a run's attachment)");
        }
    }
    if (auto out = a.get("-o")) {
        fs::path path = *out;
        if (out->ends_with('/')) fs::create_directories(path);
        else make_parent_dirs(path);
        const auto written = from->write(name, path, a.has("--overwrite"));
        if (!g.quiet) std::cerr << printable(written.string()) << "\n";
        return exit_ok;
    }
    const auto bytes = from->blob(name);  // verified before a byte is written
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return exit_ok;
}

}  // namespace sealrun::cli

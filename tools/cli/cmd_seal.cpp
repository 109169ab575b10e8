// sealrun seal: result directories into an experiment in the local store.
#include <fstream>
#include <iostream>
#include <sstream>

#include <sealrun/experiment.h>
#include <sealrun/oci/json.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

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

}  // namespace sealrun::cli

// sealrun fork, rename, checkpoints and lineage: an experiment's life after
// its first commit (docs/FORMAT.md, checkpoints and lineage). The library
// does the work (Experiment::fork, Experiment::rename); this file parses and
// prints.
#include <iostream>

#include <sealrun/content/oci_layout.h>
#include <sealrun/error.h>
#include <sealrun/experiment/experiment.h>
#include <sealrun/experiment/sealed.h>
#include <sealrun/oci/json.h>
#include <sealrun/oci/manifest.h>
#include <sealrun/records/record.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

namespace {

// refuse_location: fork and rename work in the local store, where the
// records and the new index live; a location is a usage error.
void refuse_location(const std::string& text, const char* command) {
    if (text.starts_with("oci:") || text.starts_with("oci-archive:") || text.find("://") != std::string::npos)
        throw UsageError(std::string(command) + " works on a tag of the local store; pull " + text + " first");
}

SealOptions seal_options(const Args& a) { return SealOptions{.force = a.has("--force")}; }

}  // namespace

int cmd_fork(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun fork SRC NAME --tag TAG");
    const auto& src = a.positional[0];
    refuse_location(src, "fork");
    const auto tag = a.get("--tag");
    if (!tag) throw UsageError("fork needs --tag TAG (the new experiment's tag)");
    RecordStore store(g.store);
    auto child = Experiment::fork(store, src, a.positional[1]);
    const auto parent = *child->subject();
    const auto root = child->commit(*tag, seal_options(a));
    if (g.json) {
        std::cout << json_text({{"tag", *tag}, {"digest", root.digest.str()}, {"name", a.positional[1]},
                                {"parent", {{"source", src}, {"digest", parent.digest.str()}}},
                                {"runs", child->kept_run_ids().size()}})
                  << "\n";
    } else if (!g.quiet) {
        std::cout << *tag << " " << root.digest.str() << " (" << a.positional[1] << ", " << child->kept_run_ids().size()
                  << " runs, parent " << src << " " << parent.digest.str() << ")\n";
    }
    return exit_ok;
}

int cmd_rename(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun rename SRC NAME [--tag TAG]");
    const auto& src = a.positional[0];
    refuse_location(src, "rename");
    const auto tag = a.get("--tag").value_or(src);
    RecordStore store(g.store);
    const auto root = Experiment::rename(store, src, a.positional[1], tag, seal_options(a));
    if (g.json) std::cout << json_text({{"tag", tag}, {"digest", root.digest.str()}, {"name", a.positional[1]}}) << "\n";
    else if (!g.quiet) std::cout << tag << " " << root.digest.str() << " (" << a.positional[1] << ")\n";
    return exit_ok;
}

int cmd_checkpoints(const Args& a, const Globals& g) {
    need(a, 0, 0, "sealrun checkpoints");
    nlohmann::json out = nlohmann::json::array();
    std::error_code ec;
    if (std::filesystem::exists(g.store / "oci-layout", ec)) {
        content::OciLayout layout(g.store, {.read_only = true});
        auto tags = layout.tags();
        std::sort(tags.begin(), tags.end());
        for (const auto& t : tags) {
            if (!t.ends_with(".checkpoint")) continue;
            nlohmann::json row = {{"tag", t}, {"for", t.substr(0, t.size() - std::string_view(".checkpoint").size())}};
            try {
                const auto e = SealedExperiment::open(layout, t);
                row["experiment"] = e.name();
                row["status"] = e.status();
                row["runs"] = e.run_ids().size();
                row["digest"] = e.descriptor().digest.str();
                const auto& ann = e.annotations();
                if (const auto it = ann.find(std::string(format::keys::experiment_reason)); it != ann.end()) row["reason"] = it->second;
            } catch (const Error& err) {
                row["error"] = err.what();
            }
            out.push_back(std::move(row));
        }
    }
    if (g.json) {
        std::cout << json_text(out) << "\n";
        return exit_ok;
    }
    for (const auto& r : out) {
        if (r.contains("error")) {
            std::cout << r["tag"].get<std::string>() << "  (unreadable: " << r["error"].get<std::string>() << ")\n";
            continue;
        }
        std::cout << r["tag"].get<std::string>() << "  " << r["experiment"].get<std::string>() << "  "
                  << r["status"].get<std::string>() << "  " << r["runs"].get<std::size_t>() << " runs";
        if (r.contains("reason")) std::cout << "  (" << r["reason"].get<std::string>() << ")";
        std::cout << "  resume: Experiment::resume(store, \"" << r["for"].get<std::string>() << "\")\n";
    }
    return exit_ok;
}

int cmd_lineage(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun lineage SRC");
    auto loc = open_location(a.positional[0], g, false);
    nlohmann::json chain = nlohmann::json::array();
    auto d = loc.target->resolve(loc.reference);
    // Each index names its parent as OCI subject; the walk stops where a
    // parent is not in SRC's store, and at oci::max_graph_depth.
    for (int depth = 0; depth < oci::max_graph_depth; ++depth) {
        nlohmann::json row = {{"digest", d.digest.str()}};
        std::optional<oci::Descriptor> parent;
        if (!loc.target->exists(d)) {
            row["missing"] = true;
        } else {
            const auto e = SealedExperiment::open(*loc.target, d.digest.str());
            row["experiment"] = e.name();
            row["status"] = e.status();
            row["runs"] = e.run_ids().size();
            parent = oci::ImageIndex::parse(content::read_all(*loc.target, d, oci::max_manifest_size)).subject;
        }
        chain.push_back(std::move(row));
        if (!parent) break;
        d = *parent;
    }
    if (g.json) {
        std::cout << json_text(chain) << "\n";
        return exit_ok;
    }
    for (std::size_t i = 0; i < chain.size(); ++i) {
        const auto& r = chain[i];
        std::cout << (i == 0 ? "" : "parent ") << r["digest"].get<std::string>();
        if (r.contains("missing")) std::cout << "  (not in this store)";
        else std::cout << "  " << r["experiment"].get<std::string>() << "  " << r["status"].get<std::string>() << "  "
                       << r["runs"].get<std::size_t>() << " runs";
        std::cout << "\n";
    }
    return exit_ok;
}

}  // namespace sealrun::cli

// sealrun contribute and collect: many workers, one experiment
// (sealrun/experiment/collect.h, docs/FORMAT.md "Contributions and collect").
#include <iostream>

#include <sealrun/error.h>
#include <sealrun/experiment/collect.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

namespace {

// open_repository opens DST, a location without a tag: contribution and
// experiment tags are chosen by the command.
Location open_repository(const std::string& text, const Globals& g, const char* what) {
    if (!parse_location_text(text).reference.empty())
        throw UsageError(std::string(what) + " takes a repository without a tag or digest: " + text);
    return open_location(text, g, true);
}

}  // namespace

int cmd_contribute(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun contribute SRC DST --worker ID");
    const auto worker = a.get("--worker");
    if (!worker) throw UsageError("contribute needs --worker ID (the worker's own id, e.g. the job's array index)");
    if (parse_location_text(a.positional[0]).reference.empty())
        throw UsageError("the source needs a tag or digest: " + a.positional[0]);
    auto src = open_location(a.positional[0], g, false);
    auto dst = open_repository(a.positional[1], g, "contribute's DST");
    const auto pushed = contribute(*src.target, src.reference, dst.writable(), *worker);
    dst.commit();
    if (g.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& c : pushed)
            list.push_back({{"tag", c.tag}, {"run_id", c.local_run_id}, {"digest", c.manifest.digest.str()}});
        std::cout << json_text({{"worker", *worker}, {"contributions", list}}) << "\n";
    } else {
        for (const auto& c : pushed) std::cout << printable(c.tag) << "\n";
    }
    return exit_ok;
}

int cmd_collect(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun collect DST --experiment NAME --tag TAG");
    const auto name = a.get("--experiment");
    const auto tag = a.get("--tag");
    if (!name) throw UsageError("collect needs --experiment NAME");
    if (!tag) throw UsageError("collect needs --tag TAG (the experiment's tag in DST)");
    auto dst = open_repository(a.positional[0], g, "collect's DST");
    CollectOptions options{.force = a.has("--force")};
    if (a.has("--summary")) options.summary_values = a.options.at("--summary");
    const auto r = collect(dst.writable(), *name, *tag, options);
    dst.commit();
    if (g.json) {
        nlohmann::json skipped = nlohmann::json::array();
        for (const auto& s : r.skipped) skipped.push_back({{"tag", s.tag}, {"reason", s.reason}});
        std::cout << json_text({{"tag", *tag}, {"digest", r.index.digest.str()}, {"runs", r.runs.size()},
                                {"added", r.added}, {"kept", r.kept}, {"contributions", r.contributions},
                                {"skipped", skipped}})
                  << "\n";
    } else {
        for (const auto& s : r.skipped) std::cerr << "skipped " << printable(s.tag) << ": " << printable(s.reason) << "\n";
        if (!g.quiet)
            std::cerr << "collected " << r.runs.size() << " runs (" << r.added << " new, " << r.kept << " kept) from "
                      << r.contributions << " contributions into " << printable(*tag) << "\n";
        std::cout << r.index.digest.str() << "\n";
    }
    return a.has("--strict") && !r.skipped.empty() ? exit_failed : exit_ok;
}

}  // namespace sealrun::cli

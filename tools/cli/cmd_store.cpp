// sealrun tag, rm and gc: managing the local store.
#include <charconv>
#include <iostream>
#include <set>

#include <sealrun/content/oci_layout.h>
#include <sealrun/records/record.h>

#include "cli/scratch.h"
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

int cmd_tag(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun tag SRC TAG");
    auto loc = open_location(a.positional[0], g, false);
    const auto d = loc.target->resolve(loc.reference);
    if (!loc.layout.empty()) loc.target = open_layout(loc.layout, Access::update, loc.is_local_store);
    content::tag_with(*loc.target, d, a.positional[1], a.has("--force") ? content::TagPolicy::replace : content::TagPolicy::keep);
    finish_location(loc);
    if (g.json) std::cout << json_text({{"source", loc.text}, {"tag", a.positional[1]}, {"digest", d.digest.str()}}) << "\n";
    return exit_ok;
}

int cmd_rm(const Args& a, const Globals& g) {
    need(a, 1, 1000, "sealrun rm TAG...");
    auto layout = open_layout(g.store, Access::update, true);
    auto& store = *layout;
    int rc = exit_ok;
    nlohmann::json removed = nlohmann::json::array(), missing = nlohmann::json::array();
    for (const auto& t : a.positional) {
        if (store.untag(t)) {
            removed.push_back(t);
        } else {
            std::cerr << "sealrun: rm " << printable(t) << ": no such tag in " << printable(g.store.string()) << "\n";
            missing.push_back(t);
            rc = exit_failed;
        }
    }
    if (g.json) std::cout << json_text({{"removed", removed}, {"missing", missing}}) << "\n";
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
    if (g.json)
        std::cout << json_text({{"blobs_removed", r.blobs_removed},
                                {"bytes_removed", r.bytes_removed},
                                {"records_removed", rec.records_removed},
                                {"record_bytes_removed", rec.bytes_removed}})
                  << "\n";
    else if (!g.quiet)
        std::cout << "removed " << r.blobs_removed << " blobs, " << human_size(r.bytes_removed) << "; "
                  << rec.records_removed << " sealed records, " << human_size(rec.bytes_removed) << "\n";
    return exit_ok;
}

}  // namespace sealrun::cli

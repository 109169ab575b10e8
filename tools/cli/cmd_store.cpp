// sealrun tag, rm and gc: managing the local store (rm also removes from
// layouts and registries).
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
    content::tag_with(loc.writable(), d, a.positional[1], a.has("--force") ? content::TagPolicy::replace : content::TagPolicy::keep);
    loc.commit();
    if (g.json) std::cout << json_text({{"source", loc.text}, {"tag", a.positional[1]}, {"digest", d.digest.str()}}) << "\n";
    return exit_ok;
}

namespace {

// is_location reports whether `text` names a location (oci:, oci-archive:,
// docker://, another transport) rather than a tag of the local store.
bool is_location(const std::string& text) {
    return text.starts_with("oci:") || text.starts_with("oci-archive:") || text.find("://") != std::string::npos;
}

// delete_remote deletes from a registry the manifest `text`
// (docker://HOST/REPO:TAG or @DIGEST) names, through the Deleter ability:
// the registry removes it with every tag naming it. Returns false when the
// reference names nothing there.
bool delete_remote(const std::string& text, const Globals& g) {
    auto loc = open_location(text, g, false);
    if (loc.reference.empty()) throw UsageError("rm " + text + ": name a tag or digest (docker://HOST/REPO:TAG or @DIGEST)");
    auto* deleter = dynamic_cast<content::Deleter*>(loc.target.get());
    if (deleter == nullptr) throw Error(Errc::unsupported, "rm", text, "this location cannot delete");
    oci::Descriptor d;
    try {
        d = loc.target->resolve(loc.reference);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) return false;
        throw;
    }
    try {
        deleter->remove(d);
    } catch (const Error& e) {
        // Docker Distribution answers 405 UNSUPPORTED unless it was started
        // with deletes enabled.
        if (e.code() != Errc::unsupported && e.reason().find("HTTP 405") == std::string::npos) throw;
        throw Error(Errc::unsupported, "rm", text,
                    e.reason() + " (the registry does not allow deletes; Docker Distribution needs storage.delete.enabled)");
    }
    return true;
}

// untag_layout removes the tag of an oci:DIR:TAG location; returns false
// when there was none. gc frees the blobs in a layout sealrun manages;
// another tool's layout keeps them until its own gc.
bool untag_layout(const std::string& text, const Globals& g) {
    if (!text.starts_with("oci:"))
        throw UsageError("rm " + text + ": rm removes a local tag, oci:DIR:TAG or docker://HOST/REPO:TAG|@DIGEST");
    auto loc = open_location(text, g, false);
    if (loc.reference.empty() || oci::is_digest_reference(loc.reference))
        throw UsageError("rm " + text + ": name the tag to remove (oci:DIR:TAG)");
    return open_layout(loc.layout, Access::update, false)->untag(loc.reference);
}

}  // namespace

int cmd_rm(const Args& a, const Globals& g) {
    need(a, 1, 1000, "sealrun rm TAG|LOCATION...");
    std::unique_ptr<content::OciLayout> store;  // the local store, opened at its first tag
    int rc = exit_ok;
    nlohmann::json removed = nlohmann::json::array(), missing = nlohmann::json::array();
    for (const auto& t : a.positional) {
        bool found = false;
        if (t.starts_with("docker://")) {
            found = delete_remote(t, g);
        } else if (is_location(t)) {
            found = untag_layout(t, g);
        } else {
            if (!store) store = open_layout(g.store, Access::update, true);
            found = store->untag(t);
        }
        if (found) {
            removed.push_back(t);
            continue;
        }
        std::cerr << "sealrun: rm " << printable(t) << ": "
                  << (is_location(t) ? std::string("not found") : "no such tag in " + printable(g.store.string())) << "\n";
        missing.push_back(t);
        rc = exit_failed;
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

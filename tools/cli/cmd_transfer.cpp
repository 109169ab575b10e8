// sealrun copy, push, pull, export and import: moving artifacts between locations.
#include <algorithm>
#include <iostream>

#include <sealrun/content/copy.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

namespace {

// Moved counts what one copy moved, for --json.
struct Moved {
    std::size_t blobs_copied = 0;
    std::size_t blobs_skipped = 0;
    std::uint64_t bytes_copied = 0;
};

// counting adds Moved's counters to `o`'s hooks (the hooks are called one at a time).
content::CopyOptions counting(content::CopyOptions o, Moved& m) {
    o.on_copied = [next = o.on_copied, &m](const oci::Descriptor& d) {
        ++m.blobs_copied;
        m.bytes_copied += static_cast<std::uint64_t>(std::max<std::int64_t>(d.size, 0));
        if (next) next(d);
    };
    o.on_skipped = [next = o.on_skipped, &m](const oci::Descriptor& d) {
        ++m.blobs_skipped;
        if (next) next(d);
    };
    return o;
}

nlohmann::json moved_json(const Moved& m) {
    return {{"blobs_copied", m.blobs_copied}, {"blobs_skipped", m.blobs_skipped}, {"bytes_copied", m.bytes_copied}};
}

}  // namespace

int cmd_copy(const Args& a, const Globals& g) {
    need(a, 1, 2, "sealrun copy SRC [DST]");
    // Grammar errors are usage errors, found before anything is opened.
    if (parse_location_text(a.positional[0]).reference.empty())
        throw UsageError("the source needs a tag or digest: " + a.positional[0]);
    if (a.positional.size() == 2) parse_location_text(a.positional[1]);
    Progress progress(!g.quiet && !g.json);
    Moved moved;
    const auto done = transfer(a.positional[0], a.positional.size() == 2 ? a.positional[1] : "", location_options(g),
                               counting(copy_options(progress, a), moved), a.has("--force"));
    if (g.json) {
        auto j = moved_json(moved);
        j["source"] = a.positional[0];
        j["destination"] = a.positional.size() == 2 ? a.positional[1] : done.tag;
        j["tag"] = done.tag;
        j["digest"] = done.root.digest.str();
        j["media_type"] = done.root.media_type;
        std::cout << json_text(j) << "\n";
    } else if (!g.quiet) {
        if (done.chosen_tag) std::cerr << "tagged " << printable(done.tag) << "\n";  // a name sealrun chose
        std::cout << done.root.digest.str() << "\n";
    }
    return exit_ok;
}

int cmd_export(const Args& a, const Globals& g) {
    need(a, 2, 2, "sealrun export SRC FILE.tar");
    auto src = open_location(a.positional[0], g, false);
    Args c;
    c.options = a.options;  // --force
    c.positional = {a.positional[0], "oci-archive:" + a.positional[1] + (src.reference.empty() ? "" : ":" + src.reference)};
    if (oci::is_digest_reference(src.reference)) c.positional[1] = "oci-archive:" + a.positional[1];
    return cmd_copy(c, g);
}

int cmd_import(const Args& a, const Globals& g) {
    need(a, 1, 2, "sealrun import FILE.tar [TAG]");
    auto src = open_location("oci-archive:" + a.positional[0], g, false);
    auto store = open_layout(g.store, Access::create, true);
    auto tags = src.target->tags();
    if (a.positional.size() == 2) tags = {a.positional[1]};
    if (tags.empty()) throw Error(Errc::not_found, "import", a.positional[0], "the archive holds no tags");
    Progress progress(!g.quiet && !g.json);
    Moved moved;
    nlohmann::json imported = nlohmann::json::array();
    for (const auto& t : tags) {
        const auto local = local_tag(t);
        const auto root = content::copy(*src.target, t, *store, local, counting(copy_options(progress, a), moved));
        imported.push_back({{"tag", local}, {"digest", root.digest.str()}});
        if (!g.quiet && !g.json) std::cout << printable(local) << " " << root.digest.str() << "\n";
    }
    if (g.json) {
        auto j = moved_json(moved);
        j["source"] = a.positional[0];
        j["tags"] = imported;
        std::cout << json_text(j) << "\n";
    }
    return exit_ok;
}

}  // namespace sealrun::cli

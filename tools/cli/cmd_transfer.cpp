// sealrun copy, push, pull, export and import: moving artifacts between locations.
#include <iostream>

#include <sealrun/content/copy.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

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

}  // namespace sealrun::cli

// sealrun copy, push, pull, export and import: moving artifacts between locations.
#include <algorithm>
#include <cctype>
#include <iostream>

#include <sealrun/content/copy.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/error.h>
#include <sealrun/printable.h>
#include <sealrun/remote/reference.h>

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

// default_tag is the tag a copy gives a destination that names none: the
// source's tag, or, for a source named by digest, NAME-HEX where NAME is the
// last component of the source's repository (docker://) or file name (oci:,
// oci-archive:), "sealrun" for the local store, and HEX the digest's first
// 12 hex digits, e.g. "sweep-4b1f2eaf6eef": a digest is never a tag, and an
// untagged copy would be unreachable (gc frees it).
std::string default_tag(const Location& src) {
    if (!oci::is_digest_reference(src.reference)) return src.reference;
    std::string name = "sealrun";
    if (src.text.starts_with("docker://")) {
        const auto repo = remote::Reference::parse(src.text.substr(9)).repository;
        name = repo.substr(repo.rfind('/') + 1);
    } else if (!src.archive.empty() || !src.layout.empty()) {
        const auto stem = (src.archive.empty() ? src.layout : src.archive).stem().string();
        std::string clean;
        for (char c : stem)
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') clean += c;
        if (!clean.empty() && std::isalnum(static_cast<unsigned char>(clean[0])) && !src.is_local_store) name = clean.substr(0, 100);
    }
    const auto colon = src.reference.find(':');
    return name + "-" + src.reference.substr(colon + 1, 12);
}

// local_tag is the local tag for an archive's ref name: the name itself, or
// for a full reference ("ghcr.io/org/repo:v1", as OMMX and other tools write
// org.opencontainers.image.ref.name) its tag part.
std::string local_tag(const std::string& ref_name) {
    if (oci::is_valid_tag(ref_name)) return ref_name;
    const auto slash = ref_name.rfind('/');
    const auto colon = ref_name.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash) &&
        oci::is_valid_tag(ref_name.substr(colon + 1)))
        return ref_name.substr(colon + 1);
    throw Error(Errc::invalid_input, "import", ref_name, "is neither a tag nor a reference ending in one");
}

}  // namespace

int cmd_copy(const Args& a, const Globals& g) {
    need(a, 1, 2, "sealrun copy SRC [DST]");
    auto src = open_location(a.positional[0], g, false);
    if (src.reference.empty()) throw UsageError("the source needs a tag or digest: " + src.text);
    // One argument: into the local store under the source's tag (or a name
    // made from its digest, see default_tag).
    const std::string dst_text = a.positional.size() == 2 ? a.positional[1] : default_tag(src);
    auto dst = open_location(dst_text, g, true, a.has("--force"));
    std::string dst_ref = dst.reference;
    if (dst_ref.empty()) dst_ref = default_tag(src);
    Progress progress(!g.quiet && !g.json);
    Moved moved;
    auto options = counting(copy_options(progress, a), moved);
    // An archive written from local content is the same bytes every time:
    // its members arrive in the walk's order (a registry's blobs still move
    // four at a time).
    if (dst.archive_writer != nullptr && !src.text.starts_with("docker://")) options.concurrency = 1;
    const auto root = content::copy(*src.target, src.reference, dst.writable(), dst_ref, options);
    finish_location(dst);
    if (g.json) {
        auto j = moved_json(moved);
        j["source"] = src.text;
        j["destination"] = dst.text;
        j["tag"] = dst_ref;
        j["digest"] = root.digest.str();
        j["media_type"] = root.media_type;
        std::cout << json_text(j) << "\n";
    } else if (!g.quiet) {
        if (oci::is_digest_reference(src.reference) && (a.positional.size() == 1 || dst.reference.empty()))
            std::cerr << "tagged " << printable(dst_ref) << "\n";  // a name sealrun chose
        std::cout << root.digest.str() << "\n";
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

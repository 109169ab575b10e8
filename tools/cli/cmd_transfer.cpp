// sealrun copy, push, pull, export and import: moving artifacts between locations.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <set>

#include <sealrun/content/copy.h>
#include <sealrun/content/oci_archive.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/oci/manifest.h>
#include <sealrun/oci/media_type.h>
#include <sealrun/oci/tag.h>
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

namespace {

// Entry is one index.json entry of the source an import copies: what it
// names, its ref name ("" when it has none) and the local tag it gets.
struct Entry {
    oci::Descriptor desc;
    std::string ref_name;
    std::string local;
};

// import_entries lists what an import copies: every index.json entry of
// the source (an oci-archive or oci: layout), each with the tag it gets.
std::vector<Entry> import_entries(Location& src, const std::string& stem) {
    std::vector<oci::Descriptor> index;
    if (const auto* archive = dynamic_cast<content::OciArchive*>(src.target.get())) index = archive->index().manifests;
    else if (const auto* layout = dynamic_cast<content::OciLayout*>(src.target.get())) index = layout->index().manifests;
    else
        for (const auto& t : src.target->tags()) index.push_back(src.target->resolve(t));
    std::vector<Entry> out;
    for (auto& d : index) {
        Entry e;
        if (const auto it = d.annotations.find(std::string(oci::annotations::ref_name)); it != d.annotations.end())
            e.ref_name = it->second;
        e.local = import_tag(e.ref_name, stem, d.digest);
        e.desc = std::move(d);
        out.push_back(std::move(e));
    }
    return out;
}

// preflight checks, before the store is opened for writing, what would make
// an import stop half-way: every node of each entry's graph must read
// (verified, at most oci::max_manifest_size) and parse, every blob must be
// present with its size and, unless the store has it already, hash to its
// digest (streamed: bounded memory), and a local tag naming other content
// needs --force. The copy verifies every byte again as it moves it.
void preflight(Location& src, const std::vector<Entry>& entries, const fs::path& store_dir, bool force,
               const std::string& file) {
    std::error_code ec;
    std::unique_ptr<content::Target> store;
    if (fs::exists(store_dir / "index.json", ec)) store = open_reader(store_dir, true);
    // A blob the store lacks is read through once here, verified, so bytes
    // that do not match their digest stop the import before it writes.
    const auto verify = [&](const oci::Descriptor& blob) {
        if (store && store->exists(blob)) return;  // the copy skips it
        try {
            auto in = src.target->fetch(blob);
            std::vector<std::byte> buf(std::size_t{1} << 16);
            while (in->read(buf) > 0) {
            }
        } catch (const Error& err) {
            throw Error(err.code(), "import", file, err.reason() + " (" + blob.digest.str() + "); nothing was imported");
        }
    };
    std::set<std::string> seen;
    for (const auto& e : entries) {
        std::vector<std::pair<oci::Descriptor, int>> todo{{e.desc, 0}};
        while (!todo.empty()) {
            auto [node, depth] = std::move(todo.back());
            todo.pop_back();
            if (!seen.insert(node.digest.str()).second) continue;
            if (depth > oci::max_graph_depth)
                throw Error(Errc::invalid_input, "import", file, "its graph is deeper than " +
                                                                    std::to_string(oci::max_graph_depth) + " levels");
            if (!oci::is_node_type(node.media_type)) {
                if (!src.target->exists(node))
                    throw Error(Errc::not_found, "import", file,
                                "blob " + node.digest.str() + " (" + printable(node.media_type) + ", " +
                                    std::to_string(node.size) + " bytes) that " +
                                    (e.ref_name.empty() ? e.desc.digest.str() : printable(e.ref_name)) +
                                    " needs is missing; nothing was imported");
                verify(node);
                continue;
            }
            std::string bytes;
            try {
                bytes = content::read_all(*src.target, node, oci::max_manifest_size);
            } catch (const Error& err) {
                throw Error(err.code(), "import", file, err.reason() + " (" + node.digest.str() + "); nothing was imported");
            }
            for (auto& child : oci::successors(node, bytes)) todo.emplace_back(std::move(child), depth + 1);
        }
    }
    if (force || !store) return;
    for (const auto& e : entries) {
        std::optional<oci::Descriptor> have;
        try {
            have = store->resolve(e.local);
        } catch (const Error& err) {
            if (err.code() != Errc::not_found) throw;
        }
        if (have && have->digest != e.desc.digest)
            throw Error(Errc::already_exists, "import", e.local,
                        "the local tag already names other content (" + have->digest.str() +
                            "); pass --force to move it, or --tag TAG for another name; nothing was imported");
    }
}

}  // namespace

int cmd_import(const Args& a, const Globals& g) {
    need(a, 1, 2, "sealrun import FILE.tar|FILE.ommx|oci:DIR [REF] [--tag TAG]");
    // A FILE is an oci-archive; oci:DIR and oci-archive:FILE are taken as typed.
    const auto& what = a.positional[0];
    const bool typed = what.starts_with("oci:") || what.starts_with("oci-archive:");
    auto src = open_location(typed ? what : "oci-archive:" + what, g, false);
    const auto spec = parse_location_text(typed ? what : "oci-archive:" + what);
    const auto stem = spec.path.filename().string() == "." || spec.path.filename().empty()
                          ? spec.path.parent_path().filename().string()
                          : spec.path.stem().string();
    auto entries = import_entries(src, stem);
    // REF (a ref name as the archive spells it, a tag, or a digest) picks one
    // entry; oci:DIR:REF and oci-archive:FILE:REF do too.
    std::string pick = a.positional.size() == 2 ? a.positional[1] : src.reference;
    if (!pick.empty()) {
        std::erase_if(entries, [&](const Entry& e) {
            return e.ref_name != pick && e.local != pick && e.desc.digest.str() != pick;
        });
        if (entries.empty()) throw Error(Errc::not_found, "import", what, "holds no entry named " + printable(pick));
    }
    if (entries.empty()) throw Error(Errc::not_found, "import", what, "holds nothing to import (index.json is empty)");
    if (const auto t = a.get("--tag")) {
        if (entries.size() > 1)
            throw UsageError("--tag names one import, but " + what + " holds " + std::to_string(entries.size()) +
                             " entries: name one after the file (sealrun import FILE REF --tag TAG)");
        if (!oci::is_valid_tag(*t)) throw UsageError("--tag is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}): " + *t);
        entries.front().local = *t;
    }
    // Two entries that would share a local tag while naming different content.
    for (std::size_t i = 0; i < entries.size(); ++i)
        for (std::size_t j = i + 1; j < entries.size(); ++j)
            if (entries[i].local == entries[j].local && entries[i].desc.digest != entries[j].desc.digest)
                throw Error(Errc::invalid_input, "import", what,
                            "\"" + printable(entries[i].ref_name) + "\" and \"" + printable(entries[j].ref_name) +
                                "\" would both be tagged " + entries[i].local +
                                ": import one at a time (sealrun import FILE REF --tag TAG)");
    preflight(src, entries, g.store, a.has("--force"), what);
    auto store = open_layout(g.store, Access::create, true);
    Progress progress(!g.quiet && !g.json);
    Moved moved;
    nlohmann::json imported = nlohmann::json::array();
    for (const auto& e : entries) {
        const auto source_ref = e.ref_name.empty() ? e.desc.digest.str() : e.ref_name;
        const auto root = content::copy(*src.target, source_ref, *store, e.local, counting(copy_options(progress, a), moved));
        nlohmann::json row = {{"tag", e.local}, {"digest", root.digest.str()}};
        row["ref_name"] = e.ref_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.ref_name);
        imported.push_back(std::move(row));
        if (!g.quiet && !g.json) std::cout << printable(e.local) << " " << root.digest.str() << "\n";
    }
    if (g.json) {
        auto j = moved_json(moved);
        j["source"] = what;
        j["tags"] = imported;
        std::cout << json_text(j) << "\n";
    }
    return exit_ok;
}

}  // namespace sealrun::cli

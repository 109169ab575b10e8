#include "sealrun/location/location.h"

#include <cctype>
#include <cstdlib>

#include "sealrun/content/memory.h"
#include "sealrun/error.h"
#include "sealrun/oci/tag.h"
#include "sealrun/remote/reference.h"

namespace sealrun {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view docker_prefix = "docker://";
constexpr std::string_view layout_prefix = "oci:";
constexpr std::string_view archive_prefix = "oci-archive:";

// split_tag splits "PATH[:TAG]" at the first colon after the last slash.
std::pair<std::string, std::string> split_tag(std::string_view s) {
    const auto slash = s.rfind('/');
    const auto colon = s.find(':', slash == std::string_view::npos ? 0 : slash);
    if (colon == std::string_view::npos) return {std::string(s), ""};
    return {std::string(s.substr(0, colon)), std::string(s.substr(colon + 1))};
}

// existing_archive opens the file `file` that an oci-archive destination
// names, so that a copy adds to it. A file that is not an oci-archive
// (another tar, a compressed one, anything else) is never replaced silently:
// Error(already_exists) naming --force, unless `force` (then nullptr: the
// copy starts a new archive).
std::unique_ptr<content::OciArchive> existing_archive(const fs::path& file, bool force) {
    std::string why;
    try {
        return std::make_unique<content::OciArchive>(file, content::OciArchiveOptions{.name = file.string()});
    } catch (const Error& e) {
        if (e.code() != Errc::invalid_input && e.code() != Errc::unsupported && e.code() != Errc::too_large) throw;
        why = e.what();
    }
    if (!force)
        throw Error(Errc::already_exists, "write", file.string(),
                    "exists and is not an oci-archive (" + why + "); pass --force to replace it");
    return nullptr;
}

}  // namespace

LocationSpec parse_location(std::string_view text) {
    LocationSpec spec;
    spec.text = std::string(text);
    if (text.starts_with(docker_prefix)) {
        spec.transport = Transport::docker;
        spec.reference = remote::Reference::parse(text.substr(docker_prefix.size())).reference();
        return spec;
    }
    if (text.starts_with(layout_prefix) || text.starts_with(archive_prefix)) {
        const bool layout = text.starts_with(layout_prefix);
        auto [path, tag] = split_tag(text.substr(layout ? layout_prefix.size() : archive_prefix.size()));
        if (path.empty())
            throw Error(Errc::invalid_input, "parse location", spec.text,
                        layout ? "oci: needs a directory: oci:DIR[:TAG]" : "oci-archive: needs a file: oci-archive:FILE[:TAG]");
        spec.transport = layout ? Transport::oci_layout : Transport::oci_archive;
        spec.path = path;
        spec.reference = tag;
        return spec;
    }
    if (text.find("://") != std::string_view::npos)
        throw Error(Errc::invalid_input, "parse location", spec.text, "unknown transport (oci:, oci-archive:, docker://)");
    // A bare word names the local store; one that can be neither a tag nor a
    // digest is a mistyped transport ("oci-achive:x.tar") or a registry
    // reference without docker://, never a tag to look for.
    if (!text.empty() && !oci::is_valid_tag(text) && !oci::is_digest_reference(text))
        throw Error(Errc::invalid_input, "parse location", spec.text,
                    "is neither a tag or digest in the local store nor a location (oci:DIR[:TAG], "
                    "oci-archive:FILE[:TAG], docker://HOST/REPO[:TAG|@DIGEST])");
    spec.reference = std::string(text);
    return spec;
}

fs::path default_store() {
    if (const char* s = std::getenv("SEALRUN_STORE"); s != nullptr && *s != '\0') return s;
    return "storage";
}

Location::~Location() = default;
Location::Location(Location&&) noexcept = default;
Location& Location::operator=(Location&&) noexcept = default;

content::Target& Location::writable() {
    if (!archive.empty() && archive_writer == nullptr) {
        // An archive read in place is rewritten to be changed (`tag`): its
        // members are carried into a new one that replaces it.
        auto writer = std::make_unique<content::OciArchiveWriter>(
            archive, dynamic_cast<content::OciArchive*>(target.get()), archive.string());
        archive_writer = writer.get();
        target = std::move(writer);
    }
    if (auto* t = dynamic_cast<content::Target*>(target.get())) return *t;
    throw Error(Errc::denied, "write", text, "was opened for reading");
}

void Location::commit() {
    if (archive_writer != nullptr) archive_writer->commit();
}

Location open_location(const LocationSpec& spec, const LocationOptions& options, bool for_writing, bool force) {
    const auto resolved = [&](const fs::path& p) { return options.base.empty() || p.is_absolute() ? p : options.base / p; };
    Location loc;
    loc.text = spec.text;
    loc.transport = spec.transport;
    loc.reference = spec.reference;
    switch (spec.transport) {
    case Transport::docker:
        loc.target = std::make_unique<remote::Repository>(
            remote::Reference::parse(std::string_view(spec.text).substr(docker_prefix.size())), options.remote);
        return loc;
    case Transport::oci_layout:
        loc.layout = resolved(spec.path);
        loc.target = for_writing ? open_layout(loc.layout, Access::create, false, spec.path.string())
                                 : open_reader(loc.layout, false, spec.path.string());
        return loc;
    case Transport::oci_archive: {
        loc.archive = spec.path;
        const auto name = spec.path.string();
        if (!for_writing) {  // read in place: nothing is unpacked or written
            loc.target = std::make_unique<content::OciArchive>(spec.path, content::OciArchiveOptions{.name = name});
            return loc;
        }
        make_parent_dirs(loc.archive);
        std::error_code ec;
        std::unique_ptr<content::OciArchive> base;
        if (fs::exists(fs::symlink_status(loc.archive, ec))) base = existing_archive(loc.archive, force);
        // The new archive streams into a temporary file that commit() renames over FILE.
        auto writer = std::make_unique<content::OciArchiveWriter>(loc.archive, base.get(), name);
        loc.archive_writer = writer.get();
        loc.target = std::move(writer);
        return loc;
    }
    case Transport::store:
        break;
    }
    const auto store = options.store.empty() ? default_store() : options.store;
    loc.layout = resolved(store);
    loc.target = for_writing ? open_layout(loc.layout, Access::create, true, store.string())
                             : open_reader(loc.layout, true, store.string());
    loc.is_local_store = true;
    return loc;
}

Location open_location(std::string_view text, const LocationOptions& options, bool for_writing, bool force) {
    return open_location(parse_location(text), options, for_writing, force);
}

void refuse_file(const fs::path& dir, bool store, const std::string& name) {
    std::error_code ec;
    const auto st = fs::status(dir, ec);
    if (fs::exists(st) && !fs::is_directory(st))
        throw Error(Errc::invalid_input, "open", name.empty() ? dir.string() : name,
                    store ? "is a file, not a sealrun store (--store DIR or $SEALRUN_STORE chooses it)"
                          : "is a file, not an OCI layout directory");
}

std::unique_ptr<content::OciLayout> open_layout(const fs::path& dir, Access access, bool store, const std::string& name) {
    refuse_file(dir, store, name);
    if (access == Access::create) return std::make_unique<content::OciLayout>(dir, content::OciLayoutOptions{.name = name});
    std::unique_ptr<content::OciLayout> layout;
    try {
        layout = std::make_unique<content::OciLayout>(dir, content::OciLayoutOptions{.read_only = true, .name = name});
    } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        throw Error(Errc::not_found, "open", name.empty() ? dir.string() : name,
                    store ? "no sealrun store here (--store DIR or $SEALRUN_STORE chooses it)" : "not an OCI layout");
    }
    if (access == Access::update) layout = std::make_unique<content::OciLayout>(dir, content::OciLayoutOptions{.name = name});
    return layout;
}

std::unique_ptr<content::Target> open_reader(const fs::path& dir, bool store, const std::string& name) {
    try {
        return open_layout(dir, Access::read, store, name);
    } catch (const Error& e) {
        // `seal` writes records before the layout: such a store is empty, not missing.
        std::error_code ec;
        if (e.code() != Errc::not_found || !store || !fs::is_directory(fs::symlink_status(dir / "records", ec))) throw;
        return std::make_unique<content::MemoryTarget>();
    }
}

void make_parent_dirs(const fs::path& path) {
    const auto parent = path.parent_path();
    std::error_code ec;
    if (parent.empty() || fs::is_directory(parent, ec)) return;
    fs::create_directories(parent, ec);
    if (ec) throw Error(Errc::io, "create directory", parent.string(), ec.message());
}

std::string default_tag(const Location& src) {
    if (!oci::is_digest_reference(src.reference)) return src.reference;
    std::string name = "sealrun";
    if (src.transport == Transport::docker) {
        const auto repo = remote::Reference::parse(std::string_view(src.text).substr(docker_prefix.size())).repository;
        name = repo.substr(repo.rfind('/') + 1);
    } else if (!src.is_local_store && (!src.archive.empty() || !src.layout.empty())) {
        const auto stem = (src.archive.empty() ? src.layout : src.archive).stem().string();
        std::string clean;
        for (char c : stem)
            if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') clean += c;
        if (!clean.empty() && std::isalnum(static_cast<unsigned char>(clean[0]))) name = clean.substr(0, 100);
    }
    const auto colon = src.reference.find(':');
    return name + "-" + src.reference.substr(colon + 1, 12);
}

namespace {

// clean_tag_part keeps the characters of the OCI tag grammar
// ([A-Za-z0-9_][A-Za-z0-9._-]*) in `s`, replacing every other byte by '-'
// and dropping leading '.' and '-'.
std::string clean_tag_part(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
        if (out.empty() && (c == '.' || c == '-' || !ok)) continue;
        out += ok ? c : '-';
    }
    return out;
}

// joined is NAME-SUFFIX within the 128 bytes of a tag: NAME is shortened,
// SUFFIX (a tag or digest part, the distinctive one) kept.
std::string joined(std::string name, const std::string& suffix) {
    if (suffix.empty()) return name.substr(0, 128);
    if (name.empty()) return suffix.substr(0, 128);
    const std::size_t room = suffix.size() + 1 >= 128 ? 0 : 128 - suffix.size() - 1;
    name = name.substr(0, room);
    while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
    return name.empty() ? suffix.substr(0, 128) : name + "-" + suffix;
}

}  // namespace

std::string import_tag(const std::string& ref_name, const std::string& file_stem, const oci::Digest& digest) {
    if (oci::is_valid_tag(ref_name)) return ref_name;
    const auto hex12 = digest.str().substr(digest.str().find(':') + 1, 12);
    std::string name, suffix;
    if (!ref_name.empty()) {
        std::string_view ref = ref_name;
        if (const auto at = ref.find('@'); at != std::string_view::npos) {
            const auto d = ref.substr(at + 1);
            suffix = clean_tag_part(d.substr(d.find(':') == std::string_view::npos ? 0 : d.find(':') + 1).substr(0, 12));
            ref = ref.substr(0, at);
        }
        const auto slash = ref.rfind('/');
        auto base = slash == std::string_view::npos ? ref : ref.substr(slash + 1);
        if (const auto colon = base.rfind(':'); colon != std::string_view::npos) {
            if (suffix.empty()) suffix = clean_tag_part(base.substr(colon + 1));
            base = base.substr(0, colon);
        }
        name = clean_tag_part(base);
        if (auto t = joined(name, suffix); oci::is_valid_tag(t)) return t;
    }
    // No ref name, or nothing of it survives: the file's name and the digest.
    name = clean_tag_part(file_stem);
    auto t = joined(name.empty() ? "import" : name, hex12);
    return oci::is_valid_tag(t) ? t : "import-" + hex12;
}

Transferred transfer(std::string_view source, std::string_view destination, const LocationOptions& options,
                     content::CopyOptions copy_options, bool force) {
    auto src = open_location(source, options, false);
    if (src.reference.empty())
        throw Error(Errc::invalid_input, "copy", src.text, "the source needs a tag or digest");
    Transferred out;
    // No destination: into the local store under the source's tag (or a
    // name made from its digest, see default_tag).
    const std::string dst_text = destination.empty() ? default_tag(src) : std::string(destination);
    auto dst = open_location(dst_text, options, true, force);
    out.tag = dst.reference.empty() ? default_tag(src) : dst.reference;
    out.chosen_tag = oci::is_digest_reference(src.reference) && (destination.empty() || dst.reference.empty());
    // An archive written from local content is the same bytes every time:
    // its members arrive in the walk's order (a registry's blobs still move
    // several at a time).
    if (dst.archive_writer != nullptr && src.transport != Transport::docker) copy_options.concurrency = 1;
    copy_options.force = copy_options.force || force;
    out.root = content::copy(*src.target, src.reference, dst.writable(), out.tag, copy_options);
    dst.commit();
    return out;
}

}  // namespace sealrun

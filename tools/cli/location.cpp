#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

#include <unistd.h>

#include <sealrun/content/oci_archive.h>
#include <sealrun/content/memory.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/error.h>

#include "cli/cli.h"

namespace sealrun::cli {

namespace fs = std::filesystem;

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

Location::~Location() = default;
Location::Location(Location&&) noexcept = default;

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

remote::RepositoryOptions remote_options(const Globals& g) {
    remote::RepositoryOptions o;
    o.plain_http = g.plain_http;
    o.insecure = g.insecure;
    o.ca_file = g.ca_file;
    if (g.timeout_s > 0) {  // the stall deadline, and a retry budget in proportion (30 s -> 45 s)
        o.stall_timeout = std::chrono::seconds(g.timeout_s);
        o.retry_budget = std::chrono::seconds(g.timeout_s + g.timeout_s / 2);
    }
    return o;
}

namespace {

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

// split_tag splits "PATH[:TAG]" at the last colon after the last slash.
std::pair<std::string, std::string> split_tag(const std::string& s) {
    const auto slash = s.rfind('/');
    const auto colon = s.find(':', slash == std::string::npos ? 0 : slash);
    if (colon == std::string::npos) return {s, ""};
    return {s.substr(0, colon), s.substr(colon + 1)};
}

}  // namespace

Location open_location(const std::string& text, const Globals& g, bool for_writing, bool force) {
    Location loc;
    loc.text = text;
    if (text.starts_with("docker://")) {
        const auto ref = remote::Reference::parse(text.substr(9));
        loc.target = std::make_unique<remote::Repository>(ref, remote_options(g));
        loc.reference = ref.reference();
        return loc;
    }
    if (text.starts_with("oci:")) {
        auto [dir, tag] = split_tag(text.substr(4));
        if (dir.empty()) throw UsageError("oci: needs a directory: oci:DIR[:TAG]");
        loc.layout = dir;
        loc.target = for_writing ? open_layout(loc.layout, Access::create, false) : open_reader(loc.layout, false);
        loc.reference = tag;
        return loc;
    }
    if (text.starts_with("oci-archive:")) {
        auto [file, tag] = split_tag(text.substr(12));
        if (file.empty()) throw UsageError("oci-archive: needs a file: oci-archive:FILE[:TAG]");
        loc.archive = file;
        loc.reference = tag;
        if (!for_writing) {  // read in place: nothing is unpacked or written
            loc.target = std::make_unique<content::OciArchive>(file, content::OciArchiveOptions{.name = file});
            return loc;
        }
        make_parent_dirs(loc.archive);
        std::error_code ec;
        std::unique_ptr<content::OciArchive> base;
        if (fs::exists(fs::symlink_status(loc.archive, ec))) base = existing_archive(loc.archive, force);
        // The new archive streams into a temporary file that finish_location renames over FILE.
        auto writer = std::make_unique<content::OciArchiveWriter>(loc.archive, base.get(), file);
        loc.archive_writer = writer.get();
        loc.target = std::move(writer);
        return loc;
    }
    if (text.find("://") != std::string::npos)
        throw UsageError("unknown transport in \"" + text + "\" (oci:, oci-archive:, docker://)");
    loc.layout = g.store;
    loc.target = for_writing ? open_layout(loc.layout, Access::create, true) : open_reader(loc.layout, true);
    loc.reference = text;
    loc.is_local_store = true;
    return loc;
}

void refuse_file(const fs::path& dir, bool store) {
    std::error_code ec;
    const auto st = fs::status(dir, ec);
    if (fs::exists(st) && !fs::is_directory(st))
        throw Error(Errc::invalid_input, "open", dir.string(),
                    store ? "is a file, not a sealrun store (--store DIR or $SEALRUN_STORE chooses it)"
                          : "is a file, not an OCI layout directory");
}

std::unique_ptr<content::OciLayout> open_layout(const fs::path& dir, Access access, bool store) {
    refuse_file(dir, store);
    if (access == Access::create) return std::make_unique<content::OciLayout>(dir);
    std::unique_ptr<content::OciLayout> layout;
    try {
        layout = std::make_unique<content::OciLayout>(dir, content::OciLayoutOptions{.read_only = true});
    } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        throw Error(Errc::not_found, "open", dir.string(),
                    store ? "no sealrun store here (--store DIR or $SEALRUN_STORE chooses it)" : "not an OCI layout");
    }
    if (access == Access::update) layout = std::make_unique<content::OciLayout>(dir);
    return layout;
}

std::unique_ptr<content::Target> open_reader(const fs::path& dir, bool store) {
    try {
        return open_layout(dir, Access::read, store);
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

void finish_location(Location& loc) {
    if (loc.archive_writer != nullptr) loc.archive_writer->commit();
}

std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

namespace {
double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(bool enabled) : enabled_(enabled && ::isatty(2) != 0), start_(now_s()) {}

Progress::~Progress() {
    if (enabled_ && last_draw_ > 0) std::cerr << "\r\033[K" << std::flush;
}

void Progress::blob_done() {
    ++done_;
    draw();
}

void Progress::bytes(std::uint64_t so_far, const std::string& key) {
    auto& seen = per_blob_[key];
    bytes_ += so_far - seen;
    seen = so_far;
    draw();
}

void Progress::draw() {
    if (!enabled_) return;
    const double t = now_s();
    if (t - last_draw_ < 0.1) return;
    last_draw_ = t;
    const double rate = bytes_ / std::max(t - start_, 1e-3);
    std::cerr << "\r\033[K" << done_ << (total_ ? "/" + std::to_string(total_) : "") << " blobs  " << human_size(bytes_)
              << "  " << human_size(static_cast<std::uint64_t>(rate)) << "/s" << std::flush;
}

}  // namespace sealrun::cli

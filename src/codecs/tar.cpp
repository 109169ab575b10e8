#include "sealrun/codecs/tar.h"

#include <algorithm>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealrun/error.h"
#include "sealrun/path.h"
#include "util/archive.h"
#include "util/fs.h"

namespace sealrun::codecs {

namespace fs = std::filesystem;
using Type = TreeEntry::Type;

namespace {

constexpr std::string_view what = "application/vnd.oci.image.layer.v1.tar";

[[noreturn]] void refuse(const std::string& name, const std::string& why) {
    throw Error(Errc::invalid_input, "unpack", "\"" + name.substr(0, 300) + "\"", why);
}

// A link target must resolve, relative to the link's folder, inside the tree.
void check_link_target(const std::string& link_path, const std::string& target) {
    if (target.empty() || target.front() == '/') refuse(link_path, "symlink target is absolute or empty");
    std::vector<std::string> parts;
    std::string dir = link_path.substr(0, link_path.rfind('/') == std::string::npos ? 0 : link_path.rfind('/'));
    for (std::size_t s = 0; !dir.empty() && s != std::string::npos;) {
        const auto e = dir.find('/', s);
        parts.emplace_back(dir.substr(s, e == std::string::npos ? std::string::npos : e - s));
        s = e == std::string::npos ? e : e + 1;
    }
    for (std::size_t s = 0; s <= target.size();) {
        auto e = target.find('/', s);
        if (e == std::string::npos) e = target.size();
        const auto part = target.substr(s, e - s);
        if (part == "..") {
            if (parts.empty()) refuse(link_path, "symlink target \"" + target + "\" leaves the tree");
            parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        s = e + 1;
    }
}

void sort_and_check(DirectoryTree& tree) {
    std::sort(tree.entries.begin(), tree.entries.end(), [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    for (std::size_t i = 1; i < tree.entries.size(); ++i)
        if (tree.entries[i].path == tree.entries[i - 1].path) refuse(tree.entries[i].path, "appears twice");
    for (const auto& e : tree.entries)
        if (e.type == Type::symlink) check_link_target(e.path, e.content);
}

// Counts entries and bytes against the limits as a tree grows.
struct Budget {
    const TarLimits& limits;
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
    void add(std::uint64_t size, const std::string& name) {
        if (++entries > limits.max_entries)
            throw Error(Errc::too_large, "unpack", name, "more than " + std::to_string(limits.max_entries) + " entries");
        if (size > limits.max_total_bytes - bytes)
            throw Error(Errc::too_large, "unpack", name, "more than " + std::to_string(limits.max_total_bytes) + " bytes in all");
        bytes += size;
    }
};

}  // namespace

DirectoryTree DirectoryTree::read(const fs::path& dir, const TarLimits& limits) {
    DirectoryTree tree;
    Budget budget{limits};
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto rel = it->path().lexically_relative(dir).generic_string();
        const auto st = util::entry_status(it->path());
        TreeEntry e{.path = rel, .mode = static_cast<std::uint32_t>(st.permissions()) & 07777};
        if (fs::is_symlink(st)) {
            e.type = Type::symlink;
            std::error_code lec;
            e.content = fs::read_symlink(it->path(), lec).string();
            if (lec) throw util::fs_error("read link", it->path(), lec);
            check_link_target(rel, e.content);
        } else if (fs::is_directory(st)) {
            e.type = Type::directory;
        } else if (fs::is_regular_file(st)) {
            std::error_code sec;
            const auto size = fs::file_size(it->path(), sec);
            if (sec) throw util::fs_error("stat", it->path(), sec);
            budget.add(size, rel);
            e.content = util::read_file(it->path(), limits.max_total_bytes);
        } else {
            refuse(rel, "special files (devices, FIFOs, sockets) are refused");
        }
        if (e.type != Type::file) budget.add(0, rel);
        tree.entries.push_back(std::move(e));
    }
    if (ec) throw Error(Errc::io, "pack", dir.string(), ec.message());
    sort_and_check(tree);
    return tree;
}

void DirectoryTree::write(const fs::path& dest, bool overwrite) const {
    util::make_directories(dest);
    // Directories and files first, links last, so nothing is written
    // through a link this tree created; lstat guards against links that
    // were already there.
    auto parent_is_safe = [&](const std::string& rel) {
        fs::path p = dest;
        const fs::path r(rel);
        for (auto it = r.begin(); it != r.end() && std::next(it) != r.end(); ++it) {
            p /= *it;
            if (fs::is_symlink(util::entry_status(p))) refuse(rel, "a parent folder is a symlink");
        }
    };
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& e : entries) {
            const auto rel = safe_relative_path(e.path);
            if ((e.type == Type::symlink) != (pass == 1)) continue;
            parent_is_safe(rel);
            const auto target = dest / rel;
            util::make_directories(target.parent_path());
            const auto st = util::entry_status(target);
            if (e.type == Type::directory) {
                if (fs::is_symlink(st)) refuse(rel, "exists as a symlink");
                util::make_directories(target);
                continue;
            }
            if (fs::exists(st) || fs::is_symlink(st)) {
                if (!overwrite) throw Error(Errc::already_exists, "write", target.string(), "exists, and overwriting it was not asked for");
                if (fs::is_directory(st) && !fs::is_symlink(st)) refuse(rel, "exists as a directory");
                std::error_code rec;
                fs::remove(target, rec);
                if (rec) throw util::fs_error("remove", target, rec);
            }
            if (e.type == Type::symlink) {
                check_link_target(rel, e.content);
                std::error_code ec;
                fs::create_symlink(e.content, target, ec);
                if (ec) throw Error(Errc::io, "create symlink", target.string(), ec.message());
                continue;
            }
            util::Fd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, e.mode & 0777));
            if (!fd) util::throw_errno("create", target);
            util::write_all(fd.get(), std::as_bytes(std::span(e.content.data(), e.content.size())), target);
        }
    }
}

std::string TarCodec::encode(const DirectoryTree& tree) {
    DirectoryTree sorted = tree;
    sort_and_check(sorted);
    util::ArchiveWrite a(archive_write_new());
    util::check(a.get(), archive_write_set_format_pax_restricted(a.get()), "encode", what);
    util::StringSink sink;
    util::open_string_sink(a.get(), sink, what);
    for (const auto& e : sorted.entries) {
        const auto rel = safe_relative_path(e.path);
        util::ArchiveEntry entry(archive_entry_new());
        archive_entry_set_pathname(entry.get(), rel.c_str());
        archive_entry_set_perm(entry.get(), e.mode & 07777);
        archive_entry_set_mtime(entry.get(), 0, 0);
        switch (e.type) {
        case Type::file:
            archive_entry_set_filetype(entry.get(), AE_IFREG);
            archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
            break;
        case Type::directory: archive_entry_set_filetype(entry.get(), AE_IFDIR); break;
        case Type::symlink:
            archive_entry_set_filetype(entry.get(), AE_IFLNK);
            archive_entry_set_symlink(entry.get(), e.content.c_str());
            break;
        }
        util::check(a.get(), archive_write_header(a.get(), entry.get()), "encode", rel);
        if (e.type == Type::file && !e.content.empty() &&
            archive_write_data(a.get(), e.content.data(), e.content.size()) != static_cast<la_ssize_t>(e.content.size()))
            util::throw_archive(a.get(), "encode", rel);
    }
    util::check(a.get(), archive_write_close(a.get()), "encode", what);
    return std::move(sink.out);
}

DirectoryTree TarCodec::decode(std::string_view bytes, const TarLimits& limits) {
    util::ArchiveRead a(archive_read_new());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    util::check(a.get(), archive_read_open_memory(a.get(), bytes.data(), bytes.size()), "decode", what);
    DirectoryTree tree;
    Budget budget{limits};
    std::map<std::string, std::size_t> files;  // path → entry index, for hardlinks
    archive_entry* entry = nullptr;
    for (;;) {
        const int rc = archive_read_next_header(a.get(), &entry);
        if (rc == ARCHIVE_EOF) break;
        util::check(a.get(), rc, "decode", what);
        const char* raw = archive_entry_pathname(entry);
        const auto rel = safe_relative_path(raw != nullptr ? raw : "");
        const auto size = archive_entry_size(entry);
        // A tar in memory holds every byte of its (non-sparse) entries: a
        // larger declared size is a lie, refused before anything is allocated.
        if (archive_entry_sparse_count(entry) > 0) refuse(rel, "sparse entries are refused");
        if (size > 0 && static_cast<std::uint64_t>(size) > bytes.size())
            refuse(rel, "declares " + std::to_string(size) + " bytes, more than the whole tar holds");
        budget.add(size > 0 ? static_cast<std::uint64_t>(size) : 0, rel);
        // Only permission bits are a tree's: encode() writes nothing else.
        TreeEntry e{.path = rel, .mode = static_cast<std::uint32_t>(archive_entry_perm(entry)) & 07777};
        if (const char* hard = archive_entry_hardlink(entry)) {
            const auto to = safe_relative_path(hard);
            auto it = files.find(to);
            if (it == files.end()) refuse(rel, "hardlink to \"" + to + "\", which is not an earlier file of the tree");
            e.content = tree.entries[it->second].content;
            budget.add(e.content.size(), rel);
        } else {
            switch (archive_entry_filetype(entry)) {
            case AE_IFREG: {
                e.content.resize(static_cast<std::size_t>(std::max<la_int64_t>(size, 0)));
                if (!e.content.empty() &&
                    archive_read_data(a.get(), e.content.data(), e.content.size()) != static_cast<la_ssize_t>(e.content.size()))
                    util::throw_archive(a.get(), "decode", rel);
                break;
            }
            case AE_IFDIR: e.type = Type::directory; break;
            case AE_IFLNK: {
                e.type = Type::symlink;
                const char* t = archive_entry_symlink(entry);
                e.content = t != nullptr ? t : "";
                check_link_target(rel, e.content);
                break;
            }
            default: refuse(rel, "special files (devices, FIFOs, sockets) are refused");
            }
        }
        if (e.type == Type::file) files[rel] = tree.entries.size();
        tree.entries.push_back(std::move(e));
    }
    sort_and_check(tree);
    return tree;
}

}  // namespace sealrun::codecs

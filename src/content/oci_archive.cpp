#include "sealrun/content/oci_archive.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/archive_access.h"
#include "content/layout_index.h"
#include "content/tar_format.h"
#include "sealrun/error.h"
#include "sealrun/content/target.h"
#include "sealrun/oci/json.h"
#include "sealrun/path.h"
#include "util/archive.h"
#include "util/fs.h"

namespace sealrun::content {

namespace fs = std::filesystem;

namespace {

// MemberStream reads `size` bytes of a shared file from `offset`, with pread.
class MemberStream final : public ReadStream {
public:
    MemberStream(std::shared_ptr<const util::Fd> fd, std::string name, std::uint64_t offset, std::uint64_t size)
        : fd_(std::move(fd)), name_(std::move(name)), offset_(offset), left_(size) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), left_));
        if (want == 0) return 0;
        for (;;) {
            const auto n = ::pread(fd_->get(), buffer.data(), want, static_cast<off_t>(offset_));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error(Errc::io, "read archive", name_, std::strerror(errno));
            // The file shrank since it was indexed: what is left is short.
            if (n == 0) throw Error(Errc::size_mismatch, "read archive", name_, "the archive ends inside a blob");
            offset_ += static_cast<std::uint64_t>(n);
            left_ -= static_cast<std::uint64_t>(n);
            return static_cast<std::size_t>(n);
        }
    }

private:
    std::shared_ptr<const util::Fd> fd_;
    std::string name_;
    std::uint64_t offset_, left_;
};

}  // namespace

struct OciArchive::Impl {
    std::string name;
    std::shared_ptr<const util::Fd> fd;
    detail::TarIndex tar;
    oci::ImageIndex index;

    // member returns the bytes of the layout file `rel`, at most `max`
    // (Error(too_large) past it), or nullopt when the archive lacks it.
    std::optional<std::string> member(const std::string& rel, std::size_t max) const {
        const auto it = tar.members.find(rel);
        if (it == tar.members.end()) return std::nullopt;
        if (it->second.size > max)
            throw Error(Errc::too_large, "read archive", name,
                        rel + " has " + std::to_string(it->second.size) + " bytes, more than the limit of " +
                            std::to_string(max));
        MemberStream s(fd, name, it->second.offset, it->second.size);
        return read_to_string(s, max, name + " " + rel);
    }
};

OciArchive::OciArchive(const fs::path& file, OciArchiveOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->name = options.name.empty() ? file.string() : options.name;
    auto fd = util::open_read(file);  // a regular file only: a FIFO is refused, not waited on
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) util::throw_errno("stat", file);
    impl_->tar = detail::index_tar(fd.get(), static_cast<std::uint64_t>(st.st_size), impl_->name, options.max_members);
    impl_->fd = std::make_shared<const util::Fd>(std::move(fd));
    if (const auto layout = impl_->member("oci-layout", 64 * 1024)) detail::check_layout_file(*layout, impl_->name);
    const auto index = impl_->member("index.json", oci::max_manifest_size);
    if (!index) throw Error(Errc::invalid_input, "read archive", impl_->name, "is not an oci-archive (no index.json)");
    impl_->index = oci::ImageIndex::parse(*index);
}

OciArchive::~OciArchive() = default;

oci::Descriptor OciArchive::resolve(std::string_view reference) {
    std::optional<std::int64_t> size;
    if (oci::is_digest_reference(reference))
        if (const auto it = impl_->tar.members.find(detail::blob_name(reference)); it != impl_->tar.members.end())
            size = static_cast<std::int64_t>(it->second.size);
    return detail::resolve_in(impl_->index, reference, size, *this, impl_->name);
}

bool OciArchive::exists(const oci::Descriptor& desc) {
    const auto it = impl_->tar.members.find(detail::blob_name(desc.digest.str()));
    return it != impl_->tar.members.end() && static_cast<std::int64_t>(it->second.size) == desc.size;
}

std::vector<std::string> OciArchive::tags() { return detail::tag_names(impl_->index); }

const oci::ImageIndex& OciArchive::index() const noexcept { return impl_->index; }

std::unique_ptr<ReadStream> OciArchive::open_blob(const oci::Descriptor& desc) {
    const auto it = impl_->tar.members.find(detail::blob_name(desc.digest.str()));
    if (it == impl_->tar.members.end())
        throw Error(Errc::not_found, "fetch", desc.digest.str(), "no such blob in " + impl_->name);
    if (static_cast<std::int64_t>(it->second.size) != desc.size)
        throw Error(Errc::size_mismatch, "fetch", desc.digest.str(),
                    "stored blob has " + std::to_string(it->second.size) + " bytes, descriptor says " +
                        std::to_string(desc.size));
    return std::make_unique<MemberStream>(impl_->fd, impl_->name, it->second.offset, it->second.size);
}

namespace detail {
const TarIndex& ArchiveAccess::members(const OciArchive& archive) { return archive.impl_->tar; }
const util::Fd& ArchiveAccess::file(const OciArchive& archive) { return *archive.impl_->fd; }
}  // namespace detail

namespace {
constexpr std::size_t max_entries = 1000000;

// layout_name reports whether `rel` is a name an OCI layout holds:
// oci-layout, index.json, blobs/, blobs/<alg>/ and blobs/<alg>/<encoded>
// for a well-formed digest. Anything else in an archive is not unpacked.
bool layout_name(const std::string& rel, bool dir) {
    if (!dir && (rel == "oci-layout" || rel == "index.json")) return true;
    if (!rel.starts_with("blobs")) return false;
    if (rel == "blobs") return dir;
    if (!rel.starts_with("blobs/")) return false;
    const auto alg = rel.substr(6, rel.find('/', 6) == std::string::npos ? std::string::npos : rel.find('/', 6) - 6);
    if (alg.empty() || alg.size() > 64) return false;
    if (rel.size() == 6 + alg.size()) return dir;
    const auto encoded = rel.substr(6 + alg.size() + 1);
    return !dir && encoded.find('/') == std::string::npos && oci::is_digest_reference(alg + ":" + encoded);
}
}

void export_archive(const fs::path& layout, const fs::path& archive) {
    if (!fs::exists(layout / "oci-layout") || !fs::exists(layout / "index.json"))
        throw Error(Errc::invalid_input, "export", layout.string(), "not an OCI image layout");
    std::vector<std::string> names = {"oci-layout", "index.json"};
    std::vector<std::string> blobs;
    for (const auto& e : fs::recursive_directory_iterator(layout / "blobs")) {
        if (e.is_symlink() || !(e.is_regular_file() || e.is_directory()))
            throw Error(Errc::invalid_input, "export", e.path().string(), "layouts hold only files and folders");
        if (e.path().filename().string().starts_with(util::temp_prefix)) continue;
        blobs.push_back(e.path().lexically_relative(layout).generic_string());
    }
    std::sort(blobs.begin(), blobs.end());
    names.insert(names.end(), blobs.begin(), blobs.end());

    const auto dir = util::directory_of(archive);
    util::TempFile tmp(dir);
    util::ArchiveWrite a(archive_write_new());
    util::check(a.get(), archive_write_set_format_pax_restricted(a.get()), "export", archive.string());
    util::check(a.get(), archive_write_open_fd(a.get(), tmp.fd()), "export", archive.string());
    std::vector<std::byte> buf(1 << 20);
    for (const auto& name : names) {
        const auto path = layout / name;
        util::ArchiveEntry entry(archive_entry_new());
        archive_entry_set_pathname(entry.get(), name.c_str());
        archive_entry_set_mtime(entry.get(), 0, 0);
        if (fs::is_directory(path)) {
            archive_entry_set_filetype(entry.get(), AE_IFDIR);
            archive_entry_set_perm(entry.get(), 0755);
            util::check(a.get(), archive_write_header(a.get(), entry.get()), "export", name);
            continue;
        }
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(fs::file_size(path)));
        util::check(a.get(), archive_write_header(a.get(), entry.get()), "export", name);
        auto in = util::open_read(path);
        while (const auto n = util::read_some(in.get(), buf, path))
            if (archive_write_data(a.get(), buf.data(), n) != static_cast<la_ssize_t>(n))
                util::throw_archive(a.get(), "export", name, Errc::io);
    }
    util::check(a.get(), archive_write_close(a.get()), "export", archive.string());
    tmp.commit(archive, true);
}

void import_archive(const fs::path& archive, const fs::path& layout) {
    std::error_code ec;
    if (fs::exists(layout) && !fs::is_empty(layout))
        throw Error(Errc::already_exists, "import", layout.string(), "the destination folder is not empty");
    auto fd = util::open_read(archive);  // a regular file only: a FIFO is refused, not waited on
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) util::throw_errno("stat", archive);
    // An uncompressed tar holds its entries' bytes: what it unpacks to can
    // never exceed the file's own size, unless it lies (sparse entries).
    const auto budget = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t written = 0;
    fs::create_directories(layout, ec);
    if (ec) throw Error(Errc::io, "create directory", layout.string(), ec.message());
    util::ArchiveRead a(archive_read_new());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    util::check(a.get(), archive_read_open_fd(a.get(), fd.get(), 1 << 20), "import", archive.string());
    archive_entry* entry = nullptr;
    std::vector<std::byte> buf(1 << 20);
    for (std::size_t count = 0;; ++count) {
        const int rc = archive_read_next_header(a.get(), &entry);
        if (rc == ARCHIVE_EOF) break;
        util::check(a.get(), rc, "import", archive.string());
        if (count >= max_entries) throw Error(Errc::too_large, "import", archive.string(), "too many entries");
        const char* raw = archive_entry_pathname(entry);
        const auto rel = safe_relative_path(raw != nullptr ? raw : "");
        const auto type = archive_entry_filetype(entry);
        if (archive_entry_hardlink(entry) != nullptr || (type != AE_IFREG && type != AE_IFDIR))
            throw Error(Errc::invalid_input, "import", rel, "an oci-archive holds only files and folders");
        if (!layout_name(rel, type == AE_IFDIR)) continue;  // not part of a layout: never written
        const auto target = layout / rel;
        if (type == AE_IFDIR) {
            fs::create_directories(target, ec);
            if (ec) throw Error(Errc::io, "create directory", target.string(), ec.message());
            continue;
        }
        if (archive_entry_sparse_count(entry) > 0)
            throw Error(Errc::invalid_input, "import", rel, "sparse entries are refused");
        const auto declared = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : -1;
        if (declared < 0 || static_cast<std::uint64_t>(declared) > budget - written)
            throw Error(Errc::invalid_input, "import", rel,
                        "declares " + std::to_string(declared) + " bytes, more than the archive's " +
                            std::to_string(budget) + " bytes can hold");
        // Refuse to write through anything but real folders created here.
        fs::path p = layout;
        for (const auto& part : fs::path(rel).parent_path()) {
            p /= part;
            if (fs::is_symlink(fs::symlink_status(p))) throw Error(Errc::invalid_input, "import", rel, "path crosses a symlink");
        }
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw Error(Errc::io, "create directory", target.parent_path().string(), ec.message());
        util::Fd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!out) util::throw_errno("create", target);
        for (std::uint64_t entry_written = 0;;) {
            const auto n = archive_read_data(a.get(), buf.data(), buf.size());
            if (n < 0) util::throw_archive(a.get(), "import", rel);
            if (n == 0) break;
            entry_written += static_cast<std::uint64_t>(n);
            written += static_cast<std::uint64_t>(n);
            if (entry_written > static_cast<std::uint64_t>(declared) || written > budget)
                throw Error(Errc::invalid_input, "import", rel, "holds more bytes than it declares");
            util::write_all(out.get(), std::span(buf).first(static_cast<std::size_t>(n)), target);
        }
    }
}

}  // namespace sealrun::content

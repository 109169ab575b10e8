#include "sealrun/content/oci_archive.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "content/archive_access.h"
#include "content/layout_index.h"
#include "content/tar_format.h"
#include "sealrun/error.h"
#include "sealrun/content/target.h"
#include "sealrun/oci/json.h"
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
        auto s = detail::open_member(fd, name, it->second);
        return read_to_string(*s, max, name + " " + rel);
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
    return detail::open_member(impl_->fd, impl_->name, it->second);
}

namespace detail {
std::unique_ptr<ReadStream> open_member(std::shared_ptr<const util::Fd> fd, const std::string& archive, TarMember member) {
    return std::make_unique<MemberStream>(std::move(fd), archive, member.offset, member.size);
}

const TarIndex& ArchiveAccess::members(const OciArchive& archive) { return archive.impl_->tar; }
const util::Fd& ArchiveAccess::file(const OciArchive& archive) { return *archive.impl_->fd; }
}  // namespace detail

}  // namespace sealrun::content

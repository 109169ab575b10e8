// OciArchiveWriter: an oci-archive written as one tar stream.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include <unistd.h>

#include "content/archive_access.h"
#include "content/layout_index.h"
#include "content/tar_format.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/tag.h"
#include "util/fs.h"

namespace sealrun::content {

namespace fs = std::filesystem;

namespace {

// A blob this small is read and verified before it waits for the file, so
// threads moving small blobs do not queue behind each other's reads.
constexpr std::int64_t spool_limit = static_cast<std::int64_t>(default_chunk_size);

}  // namespace

struct OciArchiveWriter::Impl {
    fs::path file;
    std::string name;
    util::TempFile tmp;
    std::shared_ptr<const util::Fd> reader;  // the temporary file, read back by open_blob

    std::mutex append_mu;  // held while the file grows; taken before state_mu
    std::uint64_t end = 0;
    bool committed = false;

    mutable std::mutex state_mu;                     // guards what follows
    std::map<std::string, detail::TarMember> blobs;  // blobs/<alg>/<encoded> → its bytes in the file
    std::set<std::string> dirs;                     // folders written
    oci::ImageIndex index;

    Impl(const fs::path& f, std::string n) : file(f), name(std::move(n)), tmp(util::directory_of(f)) {
        tmp.will_commit_durably();
        reader = std::make_shared<const util::Fd>(tmp.reopen());
    }

    void append(std::string_view bytes) {
        tmp.write(std::as_bytes(std::span(bytes.data(), bytes.size())));
        end += bytes.size();
    }

    // stored returns where the blob `blob` (a layout name) lies, if written.
    std::optional<detail::TarMember> stored(const std::string& blob) const {
        std::lock_guard lock(state_mu);
        const auto it = blobs.find(blob);
        if (it == blobs.end()) return std::nullopt;
        return it->second;
    }

    // add_dirs writes the folder headers above `blob` not yet written
    // (append_mu held).
    void add_dirs(const std::string& blob) {
        for (const auto& dir : {std::string("blobs/"), blob.substr(0, blob.rfind('/') + 1)}) {
            {
                std::lock_guard lock(state_mu);
                if (!dirs.insert(dir).second) continue;
            }
            append(detail::tar_dir_header(dir));
        }
    }

    // add_member appends the member `blob` of `desc.size` bytes read from
    // `content`, verified against `desc` on the way unless `verified` (the
    // stream checks itself, or its bytes were checked already), then records
    // it; on any failure the file is cut back to where it was (append_mu
    // held).
    void add_member(const std::string& blob, const oci::Descriptor& desc, ReadStream& content, bool verified) {
        add_dirs(blob);
        const auto start = end;
        try {
            const auto size = static_cast<std::uint64_t>(desc.size);
            append(detail::tar_file_header(blob, size));
            const auto data = end;
            std::optional<VerifyingStream> verifying;
            if (!verified) verifying.emplace(content, desc);
            ReadStream& in = verifying ? static_cast<ReadStream&>(*verifying) : content;
            std::vector<std::byte> buf(static_cast<std::size_t>(std::min<std::uint64_t>(size + 1, default_chunk_size)));
            while (const auto n = in.read(buf)) {
                tmp.write(std::span(buf).first(n));
                end += n;
            }
            if (end - data != size)  // what verified itself cannot end elsewhere; the tar must not depend on it
                throw Error(Errc::size_mismatch, "push", desc.digest.str(), "content length differs from the descriptor");
            append(std::string(detail::tar_padding(size), '\0'));
            std::lock_guard lock(state_mu);
            blobs[blob] = {data, size};
        } catch (...) {
            cut(start);
            throw;
        }
    }

    // cut truncates the file back to `offset` (append_mu held).
    void cut(std::uint64_t offset) noexcept {
        if (::ftruncate(tmp.fd(), static_cast<off_t>(offset)) == 0 &&
            ::lseek(tmp.fd(), static_cast<off_t>(offset), SEEK_SET) == static_cast<off_t>(offset))
            end = offset;
    }

    // carry_over copies `base`'s blobs into the file byte for byte and keeps
    // its index entries.
    void carry_over(OciArchive& base) {
        const auto& fd = detail::ArchiveAccess::file(base);
        std::vector<char> buf(default_chunk_size);
        for (const auto& [member, where] : detail::ArchiveAccess::members(base).members) {
            if (!member.starts_with("blobs/")) continue;
            add_dirs(member);
            append(detail::tar_file_header(member, where.size));
            const auto data = end;
            for (std::uint64_t done = 0; done < where.size;) {
                const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), where.size - done));
                const auto n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(where.offset + done));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0)
                    throw Error(Errc::io, "read archive", name,
                                n == 0 ? "the archive ends inside " + member : std::strerror(errno));
                append({buf.data(), static_cast<std::size_t>(n)});
                done += static_cast<std::uint64_t>(n);
            }
            append(std::string(detail::tar_padding(where.size), '\0'));
            std::lock_guard lock(state_mu);
            blobs[member] = {data, where.size};
        }
        index = base.index();
    }
};

OciArchiveWriter::OciArchiveWriter(const fs::path& file, OciArchive* base, std::string name)
    : impl_(std::make_unique<Impl>(file, name.empty() ? file.string() : std::move(name))) {
    std::lock_guard lock(impl_->append_mu);
    const auto layout = detail::layout_file_bytes();
    impl_->append(detail::tar_file_header("oci-layout", layout.size()) + layout +
                  std::string(detail::tar_padding(layout.size()), '\0'));
    impl_->add_dirs(detail::blob_name("sha256:x"));
    if (base != nullptr) impl_->carry_over(*base);
}

OciArchiveWriter::~OciArchiveWriter() = default;

oci::Descriptor OciArchiveWriter::resolve(std::string_view reference) {
    std::optional<std::int64_t> size;
    if (oci::is_digest_reference(reference))
        if (const auto where = impl_->stored(detail::blob_name(reference))) size = static_cast<std::int64_t>(where->size);
    oci::ImageIndex index;
    {
        std::lock_guard lock(impl_->state_mu);
        index = impl_->index;
    }
    return detail::resolve_in(index, reference, size, *this, impl_->name);
}

bool OciArchiveWriter::exists(const oci::Descriptor& desc) {
    const auto where = impl_->stored(detail::blob_name(desc.digest.str()));
    return where && static_cast<std::int64_t>(where->size) == desc.size;
}

std::vector<std::string> OciArchiveWriter::tags() {
    std::lock_guard lock(impl_->state_mu);
    return detail::tag_names(impl_->index);
}

void OciArchiveWriter::push(const oci::Descriptor& desc, ReadStream& content) {
    if (exists(desc)) return;
    const auto blob = detail::blob_name(desc.digest.str());
    if (desc.size < 0) throw Error(Errc::invalid_input, "push", desc.digest.str(), "negative size");
    std::optional<BytesStream> spooled;
    if (desc.size <= spool_limit) {  // read and verified before the file is ours
        std::optional<VerifyingStream> verifying;
        if (!already_verified(content, desc)) verifying.emplace(content, desc);
        spooled.emplace(read_to_string(verifying ? static_cast<ReadStream&>(*verifying) : content,
                                       static_cast<std::size_t>(desc.size), desc.digest.str()));
    }
    std::lock_guard lock(impl_->append_mu);
    if (impl_->committed) throw Error(Errc::denied, "push", impl_->name, "the archive was already committed");
    if (exists(desc)) return;  // another thread wrote it while this one waited
    if (spooled) impl_->add_member(blob, desc, *spooled, true);
    else impl_->add_member(blob, desc, content, already_verified(content, desc));
}

void OciArchiveWriter::tag(const oci::Descriptor& desc, std::string_view reference) {
    tag(desc, reference, TagPolicy::replace);
}

void OciArchiveWriter::tag(const oci::Descriptor& desc, std::string_view reference, TagPolicy policy) {
    oci::check_tag(reference);
    if (!exists(desc))
        throw Error(Errc::not_found, "tag", desc.digest.str(), "not stored in " + impl_->name);
    std::lock_guard lock(impl_->state_mu);
    auto& entries = impl_->index.manifests;
    for (const auto& d : entries) {
        if (detail::ref_name(d) != reference || d.digest == desc.digest) continue;
        if (policy == TagPolicy::keep) throw tag_exists(reference, d.digest);
    }
    std::erase_if(entries, [&](const oci::Descriptor& d) { return detail::ref_name(d) == reference; });
    entries.push_back(detail::tagged(desc, reference));
}

void OciArchiveWriter::commit() {
    std::lock_guard lock(impl_->append_mu);
    if (impl_->committed) return;
    std::string index;
    {
        std::lock_guard state(impl_->state_mu);
        index = impl_->index.serialize();  // Error(too_large) past the manifest cap
    }
    impl_->append(detail::tar_file_header("index.json", index.size()) + index +
                  std::string(detail::tar_padding(index.size()) + 2 * detail::tar_block, '\0'));
    impl_->tmp.commit(impl_->file, true);
    impl_->committed = true;
}

std::unique_ptr<ReadStream> OciArchiveWriter::open_blob(const oci::Descriptor& desc) {
    const auto where = impl_->stored(detail::blob_name(desc.digest.str()));
    if (!where) throw Error(Errc::not_found, "fetch", desc.digest.str(), "no such blob in " + impl_->name);
    if (static_cast<std::int64_t>(where->size) != desc.size)
        throw Error(Errc::size_mismatch, "fetch", desc.digest.str(),
                    "stored blob has " + std::to_string(where->size) + " bytes, descriptor says " +
                        std::to_string(desc.size));
    return detail::open_member(impl_->reader, impl_->name, *where);
}

}  // namespace sealrun::content

#include "sealrun/content/oci_layout.h"

#include <algorithm>
#include <optional>
#include <set>

#include <sys/stat.h>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "util/file_stream.h"
#include "util/fs.h"

namespace sealrun::content {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view layout_version = "1.0.0";
// index.json is local bookkeeping, not a manifest a registry limits; it may
// list many tags.
constexpr std::size_t max_index_json = 256 * 1024 * 1024;
constexpr auto stale_ingest_age = std::chrono::hours(1);

std::optional<std::string> ref_name(const oci::Descriptor& d) {
    auto it = d.annotations.find(std::string(oci::annotations::ref_name));
    if (it == d.annotations.end()) return std::nullopt;
    return it->second;
}

oci::Descriptor without_ref_name(oci::Descriptor d) {
    d.annotations.erase(std::string(oci::annotations::ref_name));
    return d;
}

void make_dirs(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) throw Error(Errc::io, "create directory", p.string(), ec.message());
}

}  // namespace

OciLayout::OciLayout(fs::path root, OciLayoutOptions options) : root_(std::move(root)), options_(options) {
    make_dirs(root_ / "blobs" / "sha256");
    util::FileLock lock(root_ / "index.json.lock");
    const auto layout_file = root_ / "oci-layout";
    if (fs::exists(layout_file)) {
        const auto doc = oci::parse_json_strict(util::read_file(layout_file, 64 * 1024), layout_file.string());
        const auto v = doc.is_object() ? doc.find("imageLayoutVersion") : doc.end();
        if (!doc.is_object() || v == doc.end() || !v->is_string() || v->get<std::string>() != layout_version)
            throw Error(Errc::invalid_input, "open layout", root_.string(),
                        "oci-layout must declare imageLayoutVersion \"1.0.0\"");
    } else {
        util::write_file_atomic(layout_file, oci::canonical_json({{"imageLayoutVersion", layout_version}}));
    }
    if (!fs::exists(root_ / "index.json"))
        util::write_file_atomic(root_ / "index.json", oci::canonical_json(oci::ImageIndex{}.to_json()));
}

OciLayout::~OciLayout() = default;

fs::path OciLayout::blob_path(const oci::Digest& digest) const {
    return root_ / "blobs" / std::string(digest.algorithm()) / std::string(digest.encoded());
}

oci::ImageIndex OciLayout::index() const {
    const auto path = root_ / "index.json";
    return oci::ImageIndex::parse(util::read_file(path, max_index_json), max_index_json);
}

oci::Descriptor OciLayout::resolve(std::string_view reference) {
    const auto idx = index();
    for (const auto& d : idx.manifests)
        if (ref_name(d) == reference) return without_ref_name(d);
    if (is_digest_reference(reference)) {
        const auto digest = oci::Digest::parse(reference);
        for (const auto& d : idx.manifests)
            if (d.digest == digest) return without_ref_name(d);
        // An untagged manifest: learn its media type from its own content.
        std::error_code ec;
        const auto size = fs::file_size(blob_path(digest), ec);
        if (!ec) {
            if (size > oci::max_manifest_size)
                throw Error(Errc::invalid_input, "resolve", std::string(reference),
                            "blob is too large to be a manifest or index");
            auto desc = oci::Descriptor{.media_type = std::string(oci::media_types::octet_stream),
                                        .digest = digest,
                                        .size = static_cast<std::int64_t>(size)};
            const auto doc = oci::parse_json_strict(read_all(*this, desc, oci::max_manifest_size), reference);
            const auto mt = doc.is_object() ? doc.value("mediaType", "") : std::string();
            if (!oci::is_manifest_type(mt) && !oci::is_index_type(mt))
                throw Error(Errc::invalid_input, "resolve", std::string(reference),
                            "blob does not declare a manifest or index mediaType");
            desc.media_type = mt;
            if (auto at = doc.find("artifactType"); at != doc.end() && at->is_string())
                desc.artifact_type = at->get<std::string>();
            return desc;
        }
    }
    throw Error(Errc::not_found, "resolve", std::string(reference), "no such tag or digest in " + root_.string());
}

bool OciLayout::exists(const oci::Descriptor& desc) {
    struct stat st {};
    return ::stat(blob_path(desc.digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::unique_ptr<ReadStream> OciLayout::fetch(const oci::Descriptor& desc) {
    const auto path = blob_path(desc.digest);
    auto fd = util::open_read(path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) util::throw_errno("stat", path);
    if (st.st_size != desc.size)
        throw Error(Errc::size_mismatch, "fetch", desc.digest.str(),
                    "stored blob has " + std::to_string(st.st_size) + " bytes, descriptor says " +
                        std::to_string(desc.size));
    auto raw = std::make_unique<util::FileStream>(std::move(fd), path);
    if (options_.skip_read_verification) return raw;
    return std::make_unique<VerifyingStream>(std::move(raw), desc);
}

void OciLayout::push(const oci::Descriptor& desc, ReadStream& content) {
    if (desc.size < 0) throw Error(Errc::invalid_input, "push", desc.digest.str(), "negative size");
    if (exists(desc)) return;
    // Hash once: a stream that already verifies these exact bytes is trusted
    // to fail before its end if they are wrong.
    std::optional<VerifyingStream> verifier;
    if (!already_verified(content, desc)) verifier.emplace(content, desc);
    ReadStream& in = verifier ? static_cast<ReadStream&>(*verifier) : content;
    const auto ingest = root_ / ".sealrun-ingest";
    make_dirs(ingest);
    util::TempFile tmp(ingest);
    if (!options_.skip_fsync) tmp.will_commit_durably();
    std::vector<std::byte> buf(std::clamp<std::size_t>(static_cast<std::size_t>(desc.size), 4096, default_chunk_size));
    while (const auto n = in.read(buf)) tmp.write(std::span(buf).first(n));
    const auto dest = blob_path(desc.digest);
    make_dirs(dest.parent_path());
    tmp.commit(dest, !options_.skip_fsync);
}

void OciLayout::update_index(const std::function<void(oci::ImageIndex&)>& change) {
    util::FileLock lock(root_ / "index.json.lock");
    auto idx = index();
    change(idx);
    util::write_file_atomic(root_ / "index.json", oci::canonical_json(idx.to_json()), !options_.skip_fsync);
}

void OciLayout::tag(const oci::Descriptor& desc, std::string_view reference) {
    check_tag(reference);
    if (!exists(desc)) throw Error(Errc::not_found, "tag", desc.digest.str(), "content is not in " + root_.string());
    oci::Descriptor entry{.media_type = desc.media_type, .digest = desc.digest, .size = desc.size};
    entry.artifact_type = desc.artifact_type;
    entry.platform = desc.platform;
    entry.annotations.emplace(oci::annotations::ref_name, reference);
    update_index([&](oci::ImageIndex& idx) {
        std::erase_if(idx.manifests, [&](const oci::Descriptor& d) { return ref_name(d) == reference; });
        idx.manifests.push_back(entry);
    });
}

bool OciLayout::untag(std::string_view reference) {
    bool removed = false;
    update_index([&](oci::ImageIndex& idx) {
        removed = std::erase_if(idx.manifests, [&](const oci::Descriptor& d) { return ref_name(d) == reference; }) > 0;
    });
    return removed;
}

std::vector<std::string> OciLayout::tags() {
    std::set<std::string> names;
    for (const auto& d : index().manifests)
        if (auto n = ref_name(d)) names.insert(*n);
    return {names.begin(), names.end()};
}

void OciLayout::remove(const oci::Descriptor& desc) {
    bool had_entry = false;
    update_index([&](oci::ImageIndex& idx) {
        had_entry = std::erase_if(idx.manifests, [&](const oci::Descriptor& d) { return d.digest == desc.digest; }) > 0;
    });
    std::error_code ec;
    const bool had_blob = fs::remove(blob_path(desc.digest), ec);
    if (ec) throw Error(Errc::io, "remove", blob_path(desc.digest).string(), ec.message());
    if (!had_blob && !had_entry) throw Error(Errc::not_found, "remove", desc.digest.str(), "not in " + root_.string());
}

GcResult OciLayout::gc() {
    util::FileLock lock(root_ / "index.json.lock");
    std::set<oci::Digest> reachable;
    std::vector<oci::Descriptor> todo = index().manifests;
    while (!todo.empty()) {
        auto d = std::move(todo.back());
        todo.pop_back();
        if (!reachable.insert(d.digest).second) continue;
        if ((oci::is_manifest_type(d.media_type) || oci::is_index_type(d.media_type)) && exists(d)) {
            for (auto& child : oci::successors(d, read_all(*this, d, oci::max_manifest_size)))
                todo.push_back(std::move(child));
        }
    }
    GcResult result;
    std::error_code ec;
    for (const auto& alg_dir : fs::directory_iterator(root_ / "blobs", ec)) {
        if (!alg_dir.is_directory()) continue;
        for (const auto& blob : fs::directory_iterator(alg_dir.path())) {
            if (!blob.is_regular_file()) continue;
            const auto name = alg_dir.path().filename().string() + ":" + blob.path().filename().string();
            if (is_digest_reference(name) && reachable.contains(oci::Digest::parse(name))) continue;
            if (!is_digest_reference(name)) continue;  // not ours to judge
            result.bytes_removed += blob.file_size();
            fs::remove(blob.path());
            ++result.blobs_removed;
        }
    }
    if (ec) throw Error(Errc::io, "gc", (root_ / "blobs").string(), ec.message());
    const auto ingest = root_ / ".sealrun-ingest";
    if (fs::exists(ingest)) {
        const auto cutoff = fs::file_time_type::clock::now() - stale_ingest_age;
        for (const auto& f : fs::directory_iterator(ingest))
            if (f.is_regular_file() && f.last_write_time() < cutoff) fs::remove(f.path());
    }
    return result;
}

}  // namespace sealrun::content

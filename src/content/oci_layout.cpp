#include "sealrun/content/oci_layout.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <map>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "content/file_stream.h"
#include "content/layout_index.h"
#include "util/recent.h"
#include "util/fs.h"

namespace sealrun::content {

namespace fs = std::filesystem;

namespace {

// index.json is local bookkeeping, not a manifest a registry limits; it may
// list many tags.
constexpr std::size_t max_index_json = 256 * 1024 * 1024;
constexpr std::string_view ingest_dir = ".sealrun-ingest";
constexpr std::string_view index_lock_file = "index.json.lock";
// The writer lock: shared by every writer from its first exists/push to its
// tag, exclusive for gc. The gate in front of it lets a waiting gc in: a new
// writer passes the gate (shared) only while no gc holds it (exclusive), so
// a stream of overlapping writers cannot starve gc.
constexpr std::string_view writers_lock_file = ".sealrun-writers.lock";
constexpr std::string_view gate_lock_file = ".sealrun-gc.lock";
// A token gc and remove() write anew, under the index lock, before they
// delete anything: while it is unchanged, nothing was deleted (by sealrun).
constexpr std::string_view removals_file = ".sealrun-removals";

// CheckedNodes are the nodes whose whole subgraph tag()'s graph check found
// stored in one layout (by path), in this process, while the layout's
// removals token was `removals`: a later tag needs neither to read them nor
// to look below them again. Process-wide, since every checkpoint opens the
// store anew; the most recently checked max_checked_nodes a layout (a
// forgotten one is read and checked again). A sweep's checkpoints find its
// full pages unchanged: what must fit is the pages and one page of runs.
constexpr std::size_t max_checked_nodes = std::size_t{1} << 15;
struct CheckedNodes {
    std::string removals;
    util::RecentSet<oci::Digest> nodes{max_checked_nodes};
};
std::mutex checked_mu;
std::map<std::string, CheckedNodes, std::less<>>& checked_layouts() {
    static std::map<std::string, CheckedNodes, std::less<>> m;
    return m;
}

using detail::ref_name;

// removals_token returns the layout's removals token ("" before any
// removal). Called under the index lock.
std::string removals_token(const fs::path& root) {
    try {
        return util::read_file(root / removals_file, 256, util::Follow::no);
    } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        return {};
    }
}

// note_removal gives the layout a new removals token; called under the
// index lock before anything is deleted.
void note_removal(const fs::path& root) { util::write_file_atomic(root / removals_file, util::random_token(), false); }

void make_dirs(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) throw Error(Errc::io, "create directory", p.string(), ec.message());
}

// mentioned_descriptors collects every descriptor-shaped object (a "digest"
// that parses and an integer "size") anywhere in `doc`: how gc keeps what a
// manifest of a type it does not know points to.
void mentioned_descriptors(const nlohmann::json& doc, std::vector<oci::Descriptor>& out) {
    if (doc.is_object()) {
        const auto dg = doc.find("digest");
        const auto sz = doc.find("size");
        if (dg != doc.end() && dg->is_string() && sz != doc.end() && sz->is_number_integer() &&
            oci::is_digest_reference(dg->get<std::string>())) {
            out.push_back({.media_type = doc.value("mediaType", std::string(oci::media_types::octet_stream)),
                           .digest = oci::Digest::parse(dg->get<std::string>()),
                           .size = sz->get<std::int64_t>()});
        }
    }
    if (doc.is_object() || doc.is_array())
        for (const auto& v : doc) mentioned_descriptors(v, out);
}

}  // namespace

// Writers is this object's share of the writer lock, and what it syncs.
struct OciLayout::Writers {
    std::mutex mu;
    std::optional<util::FileLock> lock;  // shared, while content may be untagged
    int pushing = 0;                     // pushes under way
    // root is the layout directory, opened once by a durable writable
    // layout: sync() runs syncfs on it, which reports every write-back error
    // of that file system since it was opened (before any blob was written).
    util::Fd root;
};

namespace {

// Pushing counts one push (or ingest) under way on `w` (an
// OciLayout::Writers, private to the class) for its lifetime, so tag()
// keeps the writer lock while any is.
template <class Writers>
class Pushing {
public:
    explicit Pushing(Writers& w) : w_(w) {
        std::lock_guard guard(w_.mu);
        ++w_.pushing;
    }
    ~Pushing() {
        std::lock_guard guard(w_.mu);
        --w_.pushing;
    }
    Pushing(const Pushing&) = delete;
    Pushing& operator=(const Pushing&) = delete;

private:
    Writers& w_;
};

}  // namespace

OciLayout::OciLayout(fs::path root, OciLayoutOptions options)
    : root_(std::move(root)), options_(options), writers_(std::make_unique<Writers>()) {
    const auto layout_file = root_ / "oci-layout";
    if (options_.read_only) {
        std::string bytes;
        try {
            bytes = util::read_file(layout_file, 64 * 1024, util::Follow::no);
        } catch (const Error& e) {
            if (e.code() != Errc::not_found) throw;
            throw Error(Errc::not_found, "open layout", root_.string(), "is not an OCI layout (no oci-layout file)");
        }
        detail::check_layout_file(bytes, root_.string());
        return;
    }
    make_dirs(root_ / "blobs" / "sha256");
    util::real_directory(root_ / "blobs");
    util::real_directory(root_ / "blobs" / "sha256");
    if (!options_.skip_fsync) writers_->root = util::open_directory(root_);
    util::FileLock lock(root_ / index_lock_file);
    try {
        detail::check_layout_file(util::read_file(layout_file, 64 * 1024, util::Follow::no), root_.string());
    } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        util::write_file_atomic(layout_file, detail::layout_file_bytes());
    }
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(root_ / "index.json", ec)))
        util::write_file_atomic(root_ / "index.json", oci::canonical_json(oci::ImageIndex{}.to_json()));
}

OciLayout::~OciLayout() = default;

void OciLayout::deny_if_read_only(std::string_view operation) const {
    if (options_.read_only)
        throw Error(Errc::denied, std::string(operation), root_.string(), "the layout was opened read-only");
}

void OciLayout::sync() {
    if (options_.read_only || options_.skip_fsync) return;
    util::sync_filesystem(writers_->root.get(), root_);
}

void OciLayout::hold_writer_lock() {
    if (options_.read_only) return;
    std::lock_guard guard(writers_->mu);
    if (writers_->lock) return;
    util::FileLock gate(root_ / gate_lock_file, util::LockMode::shared);
    writers_->lock.emplace(root_ / writers_lock_file, util::LockMode::shared);
}

fs::path OciLayout::blob_path(const oci::Digest& digest) const {
    return root_ / "blobs" / std::string(digest.algorithm()) / std::string(digest.encoded());
}

std::optional<std::int64_t> OciLayout::stored_size(const oci::Digest& digest) const {
    const auto path = blob_path(digest);
    if (!util::real_directory(root_ / "blobs") || !util::real_directory(path.parent_path())) return std::nullopt;
    return util::regular_file_size(path);
}

oci::ImageIndex OciLayout::index() const {
    // Read without the lock: index.json is only ever replaced by rename, so
    // a reader sees one whole version.
    const auto path = root_ / "index.json";
    return oci::ImageIndex::parse(util::read_file(path, max_index_json, util::Follow::no), max_index_json);
}

oci::Descriptor OciLayout::resolve(std::string_view reference) {
    std::optional<std::int64_t> size;
    if (oci::is_digest_reference(reference)) size = stored_size(oci::Digest::parse(reference));
    return detail::resolve_in(index(), reference, size, *this, options_.name.empty() ? root_.string() : options_.name);
}

bool OciLayout::exists(const oci::Descriptor& desc) {
    // A writer that finds a blob here relies on it until its tag: from now
    // on gc must wait.
    hold_writer_lock();
    // A name proves nothing: an emptied or truncated file is not the blob.
    return stored_size(desc.digest) == desc.size;
}

std::unique_ptr<ReadStream> OciLayout::open_blob(const oci::Descriptor& desc) {
    const auto path = blob_path(desc.digest);
    util::real_directory(root_ / "blobs");
    util::real_directory(path.parent_path());
    auto fd = util::open_read(path, util::Follow::no);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) util::throw_errno("stat", path);
    if (st.st_size != desc.size)
        throw Error(Errc::size_mismatch, "fetch", desc.digest.str(),
                    "stored blob has " + std::to_string(st.st_size) + " bytes, descriptor says " +
                        std::to_string(desc.size));
    return std::make_unique<content::FileStream>(std::move(fd), path);
}

void OciLayout::push(const oci::Descriptor& desc, ReadStream& content) {
    deny_if_read_only("push");
    if (desc.size < 0) throw Error(Errc::invalid_input, "push", desc.digest.str(), "negative size");
    if (exists(desc)) return;  // takes the writer lock
    const Pushing pushing(*writers_);
    // Hash once: a stream that already verifies these exact bytes fails on
    // the read that reaches its end if they are wrong, and the loop below
    // reads until that end before anything is renamed into place.
    std::optional<VerifyingStream> verifier;
    auto& in = verify_once(content, desc, verifier);
    const auto ingest = root_ / ingest_dir;
    make_dirs(ingest);
    util::real_directory(ingest);
    util::TempFile tmp(ingest);
    if (!options_.skip_fsync) tmp.will_commit_durably();
    std::vector<std::byte> buf(std::clamp<std::size_t>(static_cast<std::size_t>(desc.size), 4096, default_chunk_size));
    while (const auto n = in.read(buf)) tmp.write(std::span(buf).first(n));
    const auto dest = blob_path(desc.digest);
    make_dirs(dest.parent_path());
    util::real_directory(root_ / "blobs");
    util::real_directory(dest.parent_path());
    // rename replaces a wrong-sized file (or a symbolic link) at `dest`.
    // Not fsynced: the next index.json write syncs first (update_index).
    tmp.commit(dest, false);
}

namespace {

// IngestStream reads a file once: hashes and counts every byte it passes
// on, and writes it to `copy` when there is one.
class IngestStream final : public ReadStream {
public:
    IngestStream(int fd, const fs::path& path, util::TempFile* copy) : fd_(fd), path_(path), copy_(copy) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = util::read_some(fd_, buffer, path_);
        hasher.update(buffer.first(n));
        if (copy_ != nullptr && n > 0) copy_->write(buffer.first(n));
        size += static_cast<std::int64_t>(n);
        return n;
    }
    oci::Hasher hasher;
    std::int64_t size = 0;

private:
    int fd_;
    const fs::path& path_;
    util::TempFile* copy_;
};

// read_through gives `in` to `inspect` (when set), then reads the rest.
void read_through(IngestStream& in, const std::function<void(ReadStream&)>& inspect) {
    if (inspect) inspect(in);
    std::vector<std::byte> buf(default_chunk_size);
    while (in.read(buf) != 0) {
    }
}

struct stat fstat_of(int fd, const fs::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) util::throw_errno("stat", path);
    return st;
}

bool same_content_stamp(const struct stat& a, const struct stat& b) {
    return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Unlinker removes a name it holds unless released.
struct Unlinker {
    fs::path path;
    ~Unlinker() {
        if (!path.empty()) ::unlink(path.c_str());
    }
};

}  // namespace

Ingested OciLayout::ingest_file(const fs::path& file, std::string media_type, const IngestOptions& options) {
    deny_if_read_only("ingest");
    hold_writer_lock();
    const Pushing pushing(*writers_);
    auto src = util::open_read(file, util::Follow::no);
    (void)::posix_fadvise(src.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    const auto ingest = root_ / ingest_dir;
    make_dirs(ingest);
    util::real_directory(ingest);
    // Nothing is fsynced here: the next index.json write syncs first
    // (update_index). A copy starts its writeback early for that sync.
    const bool durable = !options_.skip_fsync;
    const auto place = [&](oci::Descriptor& d) {
        const auto dest = blob_path(d.digest);
        make_dirs(dest.parent_path());
        util::real_directory(root_ / "blobs");
        util::real_directory(dest.parent_path());
        return dest;
    };
    const auto descriptor = [&](IngestStream& in) {
        return oci::Descriptor{.media_type = media_type, .digest = in.hasher.finish(), .size = in.size};
    };
    const bool share = options.share && options_.share_files;

    if (share) {
        // A clone: the blob's own storage from the start, so hashing the
        // clone proves what is stored whatever happens to `file` meanwhile.
        util::TempFile clone(ingest);
        if (util::clone_file(src.get(), clone.fd(), file)) {
            auto fd = clone.reopen();
            IngestStream in(fd.get(), file, nullptr);
            read_through(in, options.inspect);
            auto d = descriptor(in);
            if (stored_size(d.digest) == d.size) return {std::move(d), IngestMethod::present};
            clone.commit(place(d), false);
            return {std::move(d), IngestMethod::cloned};
        }

        // A hard link, made read-only before it is hashed.
        const auto name = util::temp_name(ingest);
        if (util::link_open_file(src.get(), name, file)) {
            Unlinker link{name};
            if (util::make_read_only(src.get(), file)) {
                const auto before = fstat_of(src.get(), file);
                IngestStream in(src.get(), file, nullptr);
                read_through(in, options.inspect);
                const auto after = fstat_of(src.get(), file);
                // A writer that had the file open before it became read-only
                // changed it while it was hashed: the link proves nothing, copy.
                if (same_content_stamp(before, after) && in.size == after.st_size) {
                    auto d = descriptor(in);
                    if (stored_size(d.digest) == d.size) return {std::move(d), IngestMethod::present};
                    const auto dest = place(d);
                    if (::rename(name.c_str(), dest.c_str()) != 0) util::throw_errno("rename into place", dest);
                    // rename is a no-op when `dest` was already this inode
                    // (linked by a concurrent ingest): drop the name then.
                    ::unlink(name.c_str());
                    link.path.clear();
                    return {std::move(d), IngestMethod::linked};
                }
                src = util::open_read(file, util::Follow::no);
            }
        }
    }

    // One streamed copy, hashed on the way.
    util::TempFile tmp(ingest);
    if (durable) tmp.will_commit_durably();
    IngestStream in(src.get(), file, &tmp);
    read_through(in, options.inspect);
    auto d = descriptor(in);
    if (stored_size(d.digest) == d.size) return {std::move(d), IngestMethod::present};
    tmp.commit(place(d), false);
    return {std::move(d), IngestMethod::copied};
}

void OciLayout::update_index(const std::function<bool(oci::ImageIndex&)>& change) {
    deny_if_read_only("update index");
    util::FileLock lock(root_ / index_lock_file);
    auto idx = index();
    if (!change(idx)) return;  // unchanged: nothing to write, nothing to sync
    // The layout's one durability rule: blobs are not fsynced one by one;
    // index.json is only ever written after one sync of the file system has
    // made everything stored so far durable, so after a crash no tag names a
    // blob that did not reach the disk. After `change`: every blob tag()'s
    // check_graph found was stored before this sync.
    sync();
    util::write_file_atomic(root_ / "index.json", oci::canonical_json(idx.to_json()), !options_.skip_fsync);
}

void OciLayout::check_graph(const oci::Descriptor& root, std::string_view reference) {
    // Nodes an earlier tag checked are not read again unless something was
    // removed since (a checkpoint's index holds the runs of the one before).
    std::error_code ec;
    auto absolute = fs::absolute(root_, ec);
    const auto key = (ec ? root_ : absolute).lexically_normal().string();
    const auto token = removals_token(root_);
    {
        std::lock_guard lock(checked_mu);
        auto& c = checked_layouts()[key];
        if (c.removals != token) {  // something was removed: forget what was checked
            c.removals = token;
            c.nodes.clear();
        }
    }
    const auto checked_before = [&](const oci::Digest& d) {
        std::lock_guard lock(checked_mu);
        auto& c = checked_layouts()[key];
        return c.removals == token && c.nodes.contains(d);
    };
    // A node is complete once everything below it was found: it is
    // remembered then (an entry without `read` is that moment).
    const auto complete = [&](const oci::Digest& d) {
        std::lock_guard lock(checked_mu);
        auto& c = checked_layouts()[key];
        if (c.removals == token) c.nodes.insert(d);
    };
    struct Step {
        oci::Descriptor desc;
        bool read = true;
    };
    util::RecentSet<oci::Digest> seen;
    std::vector<Step> todo{{root}};
    while (!todo.empty()) {
        auto step = std::move(todo.back());
        todo.pop_back();
        const auto& d = step.desc;
        if (!step.read) {
            complete(d.digest);
            continue;
        }
        if (!seen.insert(d.digest)) continue;
        const bool node = oci::is_node_type(d.media_type);
        if (node && checked_before(d.digest)) continue;
        if (stored_size(d.digest) != d.size)
            throw Error(Errc::not_found, "tag", std::string(reference),
                        "blob " + d.digest.str() + " of " + root.digest.str() + " is not in " + (options_.name.empty() ? root_.string() : options_.name));
        if (!node) continue;
        auto children = oci::successors(d, read_all(*this, d, oci::max_manifest_size));
        todo.push_back({d, false});
        for (auto& child : children) todo.push_back({std::move(child)});
    }
}

void OciLayout::tag(const oci::Descriptor& desc, std::string_view reference) { tag(desc, reference, TagPolicy::replace); }

void OciLayout::tag(const oci::Descriptor& desc, std::string_view reference, TagPolicy policy) {
    deny_if_read_only("tag");
    oci::check_tag(reference);
    hold_writer_lock();  // before the index lock, in gc's order
    oci::Descriptor entry{.media_type = desc.media_type, .digest = desc.digest, .size = desc.size};
    entry.artifact_type = desc.artifact_type;
    entry.platform = desc.platform;
    entry.annotations.emplace(oci::annotations::ref_name, reference);
    update_index([&](oci::ImageIndex& idx) {
        for (const auto& d : idx.manifests)
            if (ref_name(d) == reference && d.digest != desc.digest && policy == TagPolicy::keep)
                throw tag_exists(reference, d.digest);
        // Under the index lock and the writer lock: nothing below the root
        // can vanish between this check and the rename.
        check_graph(desc, reference);
        std::erase_if(idx.manifests, [&](const oci::Descriptor& d) { return ref_name(d) == reference; });
        idx.manifests.push_back(entry);
        return true;
    });
    // Tagged: this writer's content is reachable now. Let gc in unless
    // another thread is still pushing through this object.
    std::lock_guard guard(writers_->mu);
    if (writers_->pushing == 0) writers_->lock.reset();
}

void OciLayout::push_reference(const oci::Descriptor& desc, ReadStream& content, std::string_view reference) {
    deny_if_read_only("push");
    oci::check_tag(reference);
    push(desc, content);
    tag(desc, reference, TagPolicy::replace);
}

bool OciLayout::untag(std::string_view reference) {
    bool removed = false;
    update_index([&](oci::ImageIndex& idx) {
        removed = std::erase_if(idx.manifests, [&](const oci::Descriptor& d) { return ref_name(d) == reference; }) > 0;
        return removed;
    });
    return removed;
}

std::vector<std::string> OciLayout::tags() { return detail::tag_names(index()); }

void OciLayout::remove(const oci::Descriptor& desc) {
    bool had_entry = false;
    bool had_blob = false;
    update_index([&](oci::ImageIndex& idx) {
        had_entry = std::erase_if(idx.manifests, [&](const oci::Descriptor& d) { return d.digest == desc.digest; }) > 0;
        // Under the index lock, as tag()'s graph check reads the token.
        const auto path = blob_path(desc.digest);
        if (util::real_directory(root_ / "blobs") && util::real_directory(path.parent_path())) {
            note_removal(root_);
            std::error_code ec;
            had_blob = fs::remove(path, ec);
            if (ec) throw Error(Errc::io, "remove", path.string(), ec.message());
        }
        return had_entry;
    });
    if (!had_blob && !had_entry) throw Error(Errc::not_found, "remove", desc.digest.str(), "not in " + (options_.name.empty() ? root_.string() : options_.name));
}

GcResult OciLayout::gc(const GcOptions& options) {
    deny_if_read_only("gc");
    {
        // This object's own untagged content is garbage like anyone's.
        std::lock_guard guard(writers_->mu);
        writers_->lock.reset();
    }
    const auto deadline = std::chrono::steady_clock::now() + options.lock_timeout;
    const auto busy = [&] {
        return Error(Errc::io, "gc", root_.string(),
                     "another process is still writing to this store (waited " +
                         std::to_string(options.lock_timeout.count()) + " ms); nothing was removed, run gc again later");
    };
    const auto left = [&] {
        return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          deadline - std::chrono::steady_clock::now()));
    };
    auto gate = util::FileLock::try_for(root_ / gate_lock_file, util::LockMode::exclusive, left());
    if (!gate) throw busy();
    auto writers = util::FileLock::try_for(root_ / writers_lock_file, util::LockMode::exclusive, left());
    if (!writers) throw busy();
    util::FileLock index_lock(root_ / index_lock_file);
    note_removal(root_);

    // Mark. `maybe_manifest`: the entry stands where a manifest stands (a
    // tag, an index's entry, a descriptor an unknown document mentions), so
    // a media type gc does not know is read for what it mentions.
    std::set<oci::Digest> reachable;
    std::vector<std::pair<oci::Descriptor, bool>> todo;
    for (auto& d : index().manifests) todo.emplace_back(std::move(d), true);
    while (!todo.empty()) {
        auto [d, maybe_manifest] = std::move(todo.back());
        todo.pop_back();
        if (!reachable.insert(d.digest).second) continue;
        if (!oci::is_node_type(d.media_type) && !maybe_manifest) continue;
        const auto size = stored_size(d.digest);
        if (!size || *size > static_cast<std::int64_t>(oci::max_manifest_size)) continue;
        // A reachable document that cannot be read (corrupt, wrong size)
        // throws here: gc removes nothing rather than guess.
        const auto bytes = read_all(*this, d, oci::max_manifest_size);
        if (oci::is_node_type(d.media_type)) {
            try {
                for (auto& child : oci::successors(d, bytes)) todo.emplace_back(std::move(child), oci::is_index_type(d.media_type));
                continue;
            } catch (const Error& e) {
                if (e.code() != Errc::invalid_input) throw;
            }
        }
        std::vector<oci::Descriptor> mentioned;
        try {
            mentioned_descriptors(oci::parse_json_strict(bytes, d.digest.str()), mentioned);
        } catch (const Error&) {
            continue;  // not JSON: a blob after all
        }
        for (auto& m : mentioned) todo.emplace_back(std::move(m), true);
    }

    // Sweep: regular files with digest names only; a symbolic link or a
    // directory under blobs/ is not followed.
    GcResult result;
    std::error_code ec;  // a listing that fails: gc stops and says so
    const auto blobs = root_ / "blobs";
    if (util::real_directory(blobs)) {
        for (fs::directory_iterator alg_dir(blobs, ec), end; !ec && alg_dir != end; alg_dir.increment(ec)) {
            std::error_code sec;  // an entry removed meanwhile is skipped
            if (alg_dir->symlink_status(sec).type() != fs::file_type::directory) continue;
            for (fs::directory_iterator blob(alg_dir->path(), ec); !ec && blob != end; blob.increment(ec)) {
                if (blob->symlink_status(sec).type() != fs::file_type::regular) continue;
                const auto name = alg_dir->path().filename().string() + ":" + blob->path().filename().string();
                if (!oci::is_digest_reference(name)) continue;  // not ours to judge
                if (reachable.contains(oci::Digest::parse(name))) continue;
                const auto age = util::file_age(blob->path());
                if (!age || *age < options.grace) continue;
                const auto bytes = util::regular_file_size(blob->path());
                if (!fs::remove(blob->path(), sec)) continue;
                result.bytes_removed += static_cast<std::uint64_t>(bytes.value_or(0));
                ++result.blobs_removed;
            }
        }
    }
    if (ec) throw Error(Errc::io, "gc", blobs.string(), ec.message());
    // Temporary files: no writer is live (the writer lock is ours) and
    // index.json's writers hold the index lock, so every one is stale.
    const auto remove_temps = [&](const fs::path& dir, bool only_prefixed) {
        std::error_code dec, sec;
        for (fs::directory_iterator f(dir, dec), end; !dec && f != end; f.increment(dec)) {
            const auto type = f->symlink_status(sec).type();
            if (type != fs::file_type::regular && type != fs::file_type::symlink) continue;
            if (only_prefixed && !f->path().filename().string().starts_with(util::temp_prefix)) continue;
            fs::remove(f->path(), sec);
        }
    };
    if (util::real_directory(root_ / ingest_dir)) remove_temps(root_ / ingest_dir, false);
    remove_temps(root_, true);
    return result;
}

}  // namespace sealrun::content

#pragma once
/// The local store: an OCI image layout directory (image-spec v1.1
/// image-layout.md): `oci-layout`, `index.json`, `blobs/<alg>/<encoded>`.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "sealrun/content/target.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::content {

/// OciLayoutOptions tunes an OciLayout; the zero value is the safe default.
struct OciLayoutOptions {
    /// Skip every sync (sync(), the one before each index.json write, and
    /// index.json's own fsync). Only for throw-away layouts.
    bool skip_fsync = false;
    /// Open an existing layout for reading only: nothing is created, no
    /// lock is taken for writing, and push, tag, remove and gc throw
    /// Error(denied). The constructor throws Error(not_found) when `root`
    /// holds no layout. Readers (show, ls, get, validate) use this.
    bool read_only = false;
    /// name is how error messages name the layout, e.g. the oci-archive a
    /// scratch layout was unpacked from; the root path when empty.
    std::string name;
    /// share_files lets ingest_file store a file by sharing its storage (a
    /// reflink, else a hard link) instead of copying it; false always
    /// copies (one streamed pass).
    bool share_files = true;
};

/// IngestMethod says how OciLayout::ingest_file stored a file.
enum class IngestMethod {
    /// The blob was there already; nothing was stored.
    present,
    /// A copy-on-write clone (FICLONE): no byte copied, the two files
    /// independent from then on.
    cloned,
    /// A hard link: the blob and the file are one inode, which was made
    /// read-only first.
    linked,
    /// One streamed copy, hashed as it was written.
    copied,
};

/// IngestOptions tunes OciLayout::ingest_file.
struct IngestOptions {
    /// share allows a clone or a hard link (with OciLayoutOptions::share_files).
    bool share = true;
    /// inspect, when set, reads the file's bytes first, from the one pass
    /// that hashes them (e.g. a codec's check); what it leaves unread is read
    /// after it. What it throws aborts the ingest, storing nothing.
    std::function<void(ReadStream&)> inspect;
};

/// Ingested is what OciLayout::ingest_file stored.
struct Ingested {
    /// descriptor names the blob (the media type given, digest, size).
    oci::Descriptor descriptor;
    IngestMethod method = IngestMethod::copied;
};

/// GcOptions tunes OciLayout::gc; the zero value is the safe default.
struct GcOptions {
    /// grace keeps every unreachable blob modified less than this long ago:
    /// the second line of defence, for writers that do not take the
    /// store's writer lock (another tool, an older sealrun).
    std::chrono::seconds grace = std::chrono::minutes(10);
    /// lock_timeout is how long gc waits for live writers to finish before
    /// it fails with Error(io) and removes nothing.
    std::chrono::milliseconds lock_timeout = std::chrono::seconds(30);
};

/// GcResult reports what OciLayout::gc removed.
struct GcResult {
    /// blobs_removed is how many blob files gc deleted.
    std::size_t blobs_removed = 0;
    /// bytes_removed is their total size.
    std::uint64_t bytes_removed = 0;
};

/// OciLayout is a Target over an OCI image layout directory, created on
/// first use. Files it does not know are left alone.
///
/// Blobs are written to a temporary file inside the layout while their size
/// and digest are checked and renamed into place, so a blob that fails
/// verification never becomes visible. index.json is replaced atomically
/// under an exclusive file lock (`index.json.lock`), so several processes
/// may tag the same layout at once. Tags are the
/// `org.opencontainers.image.ref.name` annotations of index.json's entries.
///
/// Durability (docs/ARCHITECTURE.md, "The local store"): blobs are not
/// fsynced one by one. Every index.json write (tag, untag, remove) is
/// preceded, under the index lock, by one syncfs(2) of the layout's file
/// system, so a tag never names content that had not reached the disk;
/// sync() gives the same promise without a tag. After a crash, a blob
/// stored since the last sync may be missing, empty or short: exists(),
/// tag() and fetch() check its size, and push() and ingest_file() replace
/// it; every fetch verifies the digest.
///
/// Writers and gc follow one protocol (docs/ARCHITECTURE.md, "The local
/// store"): from its first exists/push until its tag succeeds (or until it
/// is destroyed) an OciLayout holds a shared lock on
/// `.sealrun-writers.lock`; gc holds it exclusively, so it never runs while
/// a writer has content it has not tagged yet. tag checks under the index
/// lock that the whole graph below the root is stored.
///
/// Files of the layout (blobs, index.json, oci-layout) are opened without
/// following symbolic links and refused unless they are regular files; the
/// `blobs` directories may not be symbolic links either.
/// Thread-safe and process-safe.
class OciLayout final : public Target, public Deleter, public ConditionalTagger, public ReferencePusher {
public:
    /// OciLayout opens the layout at `root`, creating the directory,
    /// `oci-layout` and an empty `index.json` when absent (unless
    /// `options.read_only`). Throws Error(invalid_input) when `oci-layout`
    /// names another layout version, Error(not_found) for a read-only open
    /// of a directory that holds no layout, Error(io) when the directory
    /// cannot be created.
    explicit OciLayout(std::filesystem::path root, OciLayoutOptions options = {});
    ~OciLayout() override;
    OciLayout(const OciLayout&) = delete;
    OciLayout& operator=(const OciLayout&) = delete;

    /// resolve returns the index.json entry tagged `reference`, or for a
    /// digest the entry or stored manifest it names (its media type read from
    /// its own content); throws Error(not_found) naming the layout otherwise.
    oci::Descriptor resolve(std::string_view reference) override;
    /// exists reports whether a regular file of `desc.size` bytes is stored
    /// under `desc.digest` (a writable layout takes the writer lock first).
    bool exists(const oci::Descriptor& desc) override;
    /// push stores `content` unless a blob of the right size is there; a
    /// blob of the wrong size is replaced. Throws Error(denied) when
    /// read-only.
    void push(const oci::Descriptor& desc, ReadStream& content) override;
    /// tag moves `reference` to `desc` (TagPolicy::replace).
    void tag(const oci::Descriptor& desc, std::string_view reference) override;
    /// tag points `reference` at `desc` under `policy`, deciding under the
    /// index lock. Throws Error(not_found) naming the first blob of the
    /// graph below `desc` that is not stored (nothing is written then),
    /// Error(already_exists) (see tag_exists) when `policy` is keep and the
    /// tag names another digest, Error(denied) when read-only.
    void tag(const oci::Descriptor& desc, std::string_view reference, TagPolicy policy) override;
    /// push_reference is push() then tag() under the layout's rules
    /// (TagPolicy::replace, the graph below `desc` checked under the index
    /// lock); the tag is checked first, so a malformed one stores nothing.
    void push_reference(const oci::Descriptor& desc, ReadStream& content, std::string_view reference) override;
    /// tags returns every tag of index.json, sorted.
    std::vector<std::string> tags() override;
    /// remove deletes the blob `desc` names and every index.json entry naming
    /// it; throws Error(not_found) when neither exists, Error(denied) when
    /// read-only.
    void remove(const oci::Descriptor& desc) override;

    /// ingest_file stores the regular file `file` (not followed when it is
    /// a symbolic link: Error(invalid_input)) as a blob of `media_type` and
    /// returns its descriptor, reading each byte once: the digest is
    /// computed in the same pass that checks (`options.inspect`) and, when
    /// the bytes must move, copies them. In order of preference:
    ///  - a copy-on-write clone of the file into the layout (FICLONE), hashed
    ///    from the clone, which no later change of `file` can reach;
    ///  - a hard link: the file is made read-only (every write bit cleared),
    ///    then hashed; if its size, mtime or ctime changed while it was read
    ///    (a writer that had it open), the link is dropped and it is copied
    ///    instead. The file and the blob stay one inode: whoever writes the
    ///    file afterwards must replace it (write a new file and rename it over
    ///    the name), as every sealrun writer does; fetch() still verifies the
    ///    digest of every read;
    ///  - one streamed copy into a temporary file of the layout, hashed as it
    ///    is written (another file system, no link rights, links disabled).
    /// A blob already stored (right size) is kept and nothing is written
    /// (IngestMethod::present; the file may have been made read-only). Holds
    /// the writer lock from then on, like push. Throws Error(denied) when
    /// read-only, Error(not_found) when `file` is missing.
    Ingested ingest_file(const std::filesystem::path& file, std::string media_type, const IngestOptions& options = {});

    /// untag removes the tag `reference`; returns false when there was none.
    bool untag(std::string_view reference);

    /// sync makes every blob stored in the layout's file system so far
    /// durable: one syncfs(2) of it (the layout's directory, opened when this
    /// object was made). tag(), untag() and remove() do it before they write
    /// index.json; a caller that stores content without tagging it and
    /// promises it is kept calls sync. Nothing for a read-only layout or
    /// with skip_fsync. Throws Error(io) when the file system reports a
    /// write-back error since this object was made.
    void sync();

    /// index returns the current index.json, strictly parsed.
    oci::ImageIndex index() const;

    /// gc removes every blob that no entry of index.json reaches through
    /// manifests and indexes and that is older than `options.grace`, and
    /// every temporary file of a writer. It first takes the writer lock
    /// exclusively (waiting at most `options.lock_timeout`, then throwing
    /// Error(io) having removed nothing), so it is safe to run while other
    /// processes seal, pull, copy or import into the layout. Blobs of tagged
    /// manifests of media types it does not know are kept: every
    /// descriptor such a document mentions counts as reachable.
    GcResult gc(const GcOptions& options = {});

    /// root returns the layout directory.
    const std::filesystem::path& root() const noexcept { return root_; }

    /// blob_path returns where the blob `digest` lives (present or not).
    std::filesystem::path blob_path(const oci::Digest& digest) const;

protected:
    /// open_blob opens the blob file without following links; throws
    /// Error(size_mismatch) when its size is not `desc.size`.
    std::unique_ptr<ReadStream> open_blob(const oci::Descriptor& desc) override;

private:
    struct Writers;
    /// update_index applies `change` to index.json under the index lock and
    /// writes it, after sync(), when `change` returns true.
    void update_index(const std::function<bool(oci::ImageIndex&)>& change);
    void deny_if_read_only(std::string_view operation) const;
    void hold_writer_lock();
    std::optional<std::int64_t> stored_size(const oci::Digest& digest) const;
    void check_graph(const oci::Descriptor& root, std::string_view reference);

    std::filesystem::path root_;
    OciLayoutOptions options_;
    std::unique_ptr<Writers> writers_;
};

}  // namespace sealrun::content

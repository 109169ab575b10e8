#pragma once
/// Records: the live, writable directory of one run (after machinable's
/// Interface). Files are saved and loaded by name, the extension picks the
/// codec; identity follows the config, so asking again for the same kind and
/// config finds the same record.

#include <any>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/bytes.h"

namespace sealrun {

/// RecordPath names a file inside a record: one string ("plots/a.json") or
/// a list of segments joined like a path ({"plots", "a.json"}). Absolute
/// paths and '..' segments are refused with Error(invalid_input).
class RecordPath {
public:
    /// RecordPath checks and normalizes `path` (implicit, so a string names a
    /// file wherever a RecordPath is taken); Error(invalid_input) when unsafe.
    RecordPath(std::string_view path);  // NOLINT: implicit by design
    /// RecordPath takes a C string as RecordPath(std::string_view).
    RecordPath(const char* path) : RecordPath(std::string_view(path)) {}  // NOLINT
    /// RecordPath takes a std::string as RecordPath(std::string_view).
    RecordPath(const std::string& path) : RecordPath(std::string_view(path)) {}  // NOLINT
    /// RecordPath joins `segments` with '/' (empty ones skipped); an absolute
    /// segment is Error(invalid_input).
    RecordPath(std::initializer_list<std::string_view> segments);
    /// str returns the normalized relative path.
    const std::string& str() const noexcept { return rel_; }

private:
    std::string rel_;
};

/// RecordStoreOptions tunes a RecordStore; the zero value is the default.
struct RecordStoreOptions {
    /// Skip fsync of record files: for throw-away stores (tests,
    /// benchmarks) and records whose sources stay (`sealrun seal DIR`,
    /// whose commit into the same store's layout syncs the file system
    /// before its tag). A crash may then leave empty files behind.
    bool skip_fsync = false;
};

/// CollectResult reports what RecordStore::collect removed.
struct CollectResult {
    /// records_removed counts the record folders removed.
    std::size_t records_removed = 0;
    /// temps_removed counts the stale temporary files removed from kept records.
    std::size_t temps_removed = 0;
    /// bytes_removed is the size of every file removed.
    std::uint64_t bytes_removed = 0;
};

/// RecordStore is the folder records live in: `<root>/records/<identity>/`.
class RecordStore {
public:
    /// RecordStore uses `root` (default `./storage`, shared with the local
    /// OCI layout) and `codecs` (default the global registry).
    explicit RecordStore(std::filesystem::path root = "storage", CodecRegistry& codecs = CodecRegistry::global(),
                         RecordStoreOptions options = {});

    /// durable reports whether record writes are fsynced.
    bool durable() const noexcept { return !options_.skip_fsync; }

    /// root returns the store folder.
    const std::filesystem::path& root() const noexcept { return root_; }
    /// codecs returns the registry records of this store encode with.
    CodecRegistry& codecs() const noexcept { return *codecs_; }
    /// identities returns the identity keys of every materialized record,
    /// sorted; pass a kind to keep only records of that kind.
    std::vector<std::string> identities(std::string_view kind = {}) const;

    /// collect removes the records that were sealed into the store's own
    /// layout (Record::note_sealed) when none of their sealed roots is in
    /// `live_roots()` (the digests the layout's index still names), and
    /// temporary files older than an hour left in any record by a writer
    /// that died. It keeps records that were never sealed, records being
    /// launched (their lock is held, or status "running") and records
    /// sealed after collect started (live_roots() is called after that
    /// moment, so a concurrent seal is never collected). Returns what it
    /// removed; throws Error(io) when the records folder cannot be read.
    CollectResult collect(const std::function<std::set<std::string>()>& live_roots);

private:
    std::filesystem::path root_;
    CodecRegistry* codecs_;
    RecordStoreOptions options_;
};

/// Record is one run's live record. Derive from it and override body() to
/// make a launchable unit (the seed's `class Optimize(Interface)` with
/// `__call__`). Not thread-safe: one thread uses a Record at a time.
class Record {
public:
    /// Record finds the record of `kind` and `config` in `store`, or starts
    /// a new one that exists only in memory until it is materialized.
    Record(RecordStore& store, std::string kind, nlohmann::json config);
    /// ~Record releases the launch lock if it is held; the record stays on disk.
    virtual ~Record();
    /// Record moves the record, its pending files and its lock.
    Record(Record&&) noexcept;
    /// operator= moves the record, its pending files and its lock.
    Record& operator=(Record&&) noexcept;

    /// kind returns the record's kind, e.g. "optimize".
    const std::string& kind() const noexcept { return kind_; }
    /// config returns the config the record's identity follows.
    const nlohmann::json& config() const noexcept { return config_; }
    /// identity returns the hex sha256 of the canonical JSON of
    /// {"config": …, "kind": …}: equal kind and config, equal identity.
    const std::string& identity() const noexcept { return identity_; }

    /// materialized reports whether the record's directory exists.
    bool materialized() const noexcept { return materialized_; }
    /// materialize creates the directory and model.json (once, under a file
    /// lock shared with other processes) and flushes files saved so far, in
    /// order; the last write to a path wins.
    void materialize();

    /// local_directory returns the record directory, or a path inside it;
    /// materializes the record first.
    std::filesystem::path local_directory(const std::optional<RecordPath>& sub = std::nullopt);

    /// launch runs body() once: a cached record returns at once; otherwise
    /// the record is materialized and, under a lock that other processes
    /// launching the same record wait on, body() runs and the record is
    /// marked cached. A body that throws leaves the record failed and not
    /// cached, and the exception propagates.
    void launch();

    /// cached reports whether a launch finished successfully and was not
    /// invalidated since (read from model.json).
    bool cached() const;
    /// cached(false) clears the cached mark so the next launch recomputes;
    /// cached(true) sets it.
    void cached(bool value);

    /// status returns "new", "running", "finished" or "failed" (a Run
    /// also "interrupted").
    std::string status() const;

    /// model returns the record's model.json; throws Error(not_found) for a
    /// record that is not materialized.
    nlohmann::json model() const;
    /// files returns the relative names of the user's files in the record
    /// directory, sorted, model.json excluded (empty before materializing).
    /// Throws Error(invalid_input) for a symlink or special file in the record.
    std::vector<std::string> files() const;

    /// save_file encodes `value` with the codec the extension of `path`
    /// picks and writes it atomically (temp + rename), creating folders.
    /// Throws Error(invalid_input) when `value` is not the codec's type, or
    /// the path is refused.
    template <class T>
    void save_file(const RecordPath& path, const T& value) {
        if constexpr (!std::is_same_v<T, nlohmann::json> && std::is_convertible_v<const T&, std::string_view>)
            save_any(path, std::any(std::string(std::string_view(value))));
        else
            save_any(path, std::any(value));
    }
    /// save_file saves JSON, also written inline: save_file("r.json", {{"loss", 0.1}}).
    void save_file(const RecordPath& path, const nlohmann::json& value) { save_any(path, std::any(value)); }
    /// save_file saves raw bytes under any name, sealed as `media_type`
    /// (an RFC 6838 name, kept in model.json until the path is saved
    /// again) instead of the type sealrun would decide (docs/FORMAT.md
    /// "Media types"). save_file(path, Bytes) without a type also takes any
    /// name. Under a name or type whose codec decodes something other than
    /// bytes (.json, application/json, …) the bytes must decode with it.
    /// Throws Error(invalid_input) for a bad media type, bytes the codec
    /// refuses, or a refused path.
    void save_file(const RecordPath& path, const codecs::Bytes& bytes, std::string_view media_type) {
        save_any(path, std::any(bytes), media_type);
    }

    /// load_file returns the decoded file, or nullopt when it does not exist.
    /// Throws Error(invalid_input) naming the file when it is corrupt or not
    /// of type T.
    template <class T>
    std::optional<T> load_file(const RecordPath& path) const {
        auto v = load_any(path);
        if (!v) return std::nullopt;
        if (const T* p = std::any_cast<T>(&*v)) return *p;
        throw_wrong_type(path.str(), v->type(), typeid(T));
    }
    /// load_value returns the decoded file as its codec's value type
    /// (type-erased: what the codec its extension picks decodes to), or
    /// nullopt when it does not exist; for callers that learn the type at
    /// run time (the Python package). Throws Error(invalid_input) naming the
    /// file when it is corrupt.
    std::optional<std::any> load_value(const RecordPath& path) const { return load_any(path); }
    /// load_file returns the decoded file, or `fallback` when it does not exist.
    template <class T>
    T load_file(const RecordPath& path, T fallback) const {
        auto v = load_file<T>(path);
        return v ? std::move(*v) : std::move(fallback);
    }

    /// import_file copies the file `source` into the record as `path`,
    /// bytes unchanged (streamed, atomic); materializes first. A non-empty
    /// `media_type` (an RFC 6838 name) is the type the file is sealed under,
    /// kept in model.json until the path is saved again; empty lets sealrun
    /// decide (docs/FORMAT.md "Media types"). Throws Error(invalid_input)
    /// for a refused path or media type, Error(io) when `source` cannot be
    /// read.
    void import_file(const RecordPath& path, const std::filesystem::path& source, std::string_view media_type = {});

    /// media_types returns the media types given to save_file and
    /// import_file, by relative path (empty before materializing).
    std::map<std::string, std::string> media_types() const;

    /// note_sealed records in model.json that the record was sealed into its
    /// store's own layout as part of the root `digest` (Experiment::commit
    /// into the store calls it after tagging): RecordStore::collect removes
    /// the record once the layout names none of its roots. Materializes first.
    void note_sealed(const std::string& digest);

    /// append_jsonl appends one record to a .jsonl file.
    void append_jsonl(const RecordPath& path, const nlohmann::json& record);

    /// mark sets an in-memory marker; markers are never persisted.
    void mark(const std::string& name, nlohmann::json value = true);
    /// marker returns the marker `name`, or `fallback` when unset.
    nlohmann::json marker(const std::string& name, nlohmann::json fallback = nullptr) const;

    /// guard_writes makes every change to the record (its files and
    /// model.json) hold `mutex`, a recursive mutex its owner shares (null:
    /// none), so that a thread sealing a dying sweep never sees half of a
    /// change (Experiment's signal handling). Not owned.
    void guard_writes(std::recursive_mutex* mutex) noexcept { write_mutex_ = mutex; }
    /// write_lock returns a lock on the guard_writes mutex (an empty lock
    /// when there is none).
    std::unique_lock<std::recursive_mutex> write_lock() const {
        return write_mutex_ ? std::unique_lock(*write_mutex_) : std::unique_lock<std::recursive_mutex>();
    }

protected:
    /// body is the work launch() runs once; the default does nothing.
    virtual void body() {}

    /// before_write is called before every change to the record's files
    /// (save_file, import_file, append_jsonl) with the operation's name; a
    /// derived record refuses there by throwing (a closed Run). The default
    /// accepts.
    virtual void before_write(std::string_view operation) const { (void)operation; }

    /// update_model sets each top-level key of `changes` in model.json (a
    /// null value removes the key) under the record's lock, atomically;
    /// materializes first.
    void update_model(const nlohmann::json& changes);
private:
    struct Pending {
        std::string path;
        std::string bytes;
        bool tree = false;
        std::string media_type = {};
    };

    void save_any(const RecordPath& path, const std::any& value, std::string_view media_type = {});
    void set_media_type(const std::string& rel, std::string_view media_type);
    std::optional<std::any> load_any(const RecordPath& path) const;
    void write_file(const std::string& rel, const std::string& bytes, bool tree);
    std::filesystem::path dir() const;

    RecordStore* store_;
    std::string kind_;
    nlohmann::json config_;
    std::string identity_;
    bool materialized_ = false;
    std::vector<Pending> pending_;
    std::map<std::string, nlohmann::json, std::less<>> markers_;
    struct Lock;
    std::unique_ptr<Lock> launch_lock_;
    std::recursive_mutex* write_mutex_ = nullptr;
};

}  // namespace sealrun

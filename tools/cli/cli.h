#pragma once
// The sealrun command line: shared pieces of the commands.

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sealrun/content/oci_archive.h>
#include <sealrun/content/oci_layout.h>
#include <sealrun/content/target.h>
#include <sealrun/remote/repository.h>

namespace sealrun::cli {

// Exit codes, documented in `sealrun --help`.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;  // the operation failed, or validation found problems
inline constexpr int exit_usage = 2;   // bad command line

// UsageError is a bad command line (exit 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Global options, before or after the command.
struct Globals {
    std::filesystem::path store;
    bool plain_http = false;
    bool insecure = false;
    std::string ca_file;
    long timeout_s = 0;  // --timeout: the registry stall deadline; 0 = the library's default
    bool json = false;
    bool quiet = false;
};

// Args is a command's arguments: positionals and --flags.
struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::vector<std::string>> options;  // "--run" → {"3"}
    bool has(const std::string& name) const { return options.contains(name); }
    std::optional<std::string> get(const std::string& name) const;
};

// Location is one side of a transfer: a target and a reference in it.
struct Location {
    std::string text;                          // as given
    // target is what the location reads; a destination's is writable too
    // (see writable()).
    std::unique_ptr<content::ReadOnlyTarget> target;
    std::string reference;                     // tag or digest; empty when none was given
    std::filesystem::path archive;             // oci-archive: the tar file
    // archive_writer is the target while an oci-archive is being written
    // (a destination, or a source being tagged); finish_location commits it.
    content::OciArchiveWriter* archive_writer = nullptr;
    bool is_local_store = false;
    std::filesystem::path layout;              // oci: and the local store: the layout directory
    Location() = default;
    Location(Location&&) noexcept;
    ~Location();

    // writable returns the target for writing: a destination's, a layout's
    // opened for update, or, for an oci-archive read in place, a writer
    // that carries its members over into a new archive (committed by
    // finish_location). Throws Error(denied) for other read-only targets.
    content::Target& writable();
};

// open_location parses skopeo-style locations: oci:DIR[:TAG],
// oci-archive:FILE[:TAG], docker://HOST/REPO[:TAG|@DIGEST], or a bare TAG
// (or digest) in the local store. `for_writing` prepares a destination
// (a layout is created when absent, an oci-archive is added to); otherwise
// the location is read: the store or layout must exist and is opened
// read-only, so a mistyped path creates nothing.
// An existing oci-archive destination is added to; an existing file that is
// not one is refused with Error(already_exists) naming --force unless
// `force` (then it is replaced).
Location open_location(const std::string& text, const Globals& g, bool for_writing, bool force = false);

// Access says how a command uses a layout.
enum class Access {
    read,    // must exist; opened read-only: nothing is created or locked for writing
    update,  // must exist; writable (tag, rm, gc)
    create,  // created when absent (seal, import, copy destinations)
};

// open_layout opens the OCI layout at `dir` (`store`: the local store) for
// `access`; a missing one is Error(not_found) "no sealrun store" or "not an
// OCI layout" unless `access` is create.
std::unique_ptr<content::OciLayout> open_layout(const std::filesystem::path& dir, Access access, bool store);

// refuse_file throws Error(invalid_input) when `dir` (`store`: the local
// store) is a file, so the user reads "is a file", not a failure inside it.
void refuse_file(const std::filesystem::path& dir, bool store);

// open_reader opens the layout at `dir` for reading (Access::read). A local
// store (`store`) that holds records but has sealed nothing yet reads as
// empty; nothing is created either way.
std::unique_ptr<content::Target> open_reader(const std::filesystem::path& dir, bool store);

// make_parent_dirs creates the missing folders above the output file `path`
// ("sub/x.tar", "out/r.json"), as `get -o DIR/` creates DIR; a bare name
// ("x.tar") needs none. Every command that writes a file the user named
// calls it before writing.
void make_parent_dirs(const std::filesystem::path& path);

// finish_location commits an oci-archive being written: the new archive
// replaces FILE atomically. Without it (an error, a signal) FILE is left as
// it was and nothing else remains.
void finish_location(Location& loc);

// remote_options builds RepositoryOptions from the global flags.
remote::RepositoryOptions remote_options(const Globals& g);

// Progress draws a one-line progress bar on a terminal (stderr), nothing
// otherwise.
class Progress {
public:
    explicit Progress(bool enabled);
    ~Progress();
    void blob_done();
    void bytes(std::uint64_t total_so_far_for_blob, const std::string& key);
    void set_total(std::size_t blobs) { total_ = blobs; }

private:
    void draw();
    bool enabled_;
    std::size_t done_ = 0;
    std::size_t total_ = 0;
    std::uint64_t bytes_ = 0;
    std::map<std::string, std::uint64_t> per_blob_;
    double start_;
    double last_draw_ = 0;
};

// human_size renders bytes as "12.3 MiB".
std::string human_size(std::uint64_t bytes);

}  // namespace sealrun::cli

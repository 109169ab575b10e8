#pragma once
// The sealrun command line: shared pieces of the commands.

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sealrun/location/location.h>
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

// The locations of the library (sealrun/location/location.h), opened with
// the global options.
using sealrun::Access;
using sealrun::Location;
using sealrun::make_parent_dirs;
using sealrun::open_layout;
using sealrun::open_reader;
using sealrun::refuse_file;

// location_options builds the library's LocationOptions from the global flags.
LocationOptions location_options(const Globals& g);

// parse_location_text parses a location (see sealrun::parse_location); one
// that does not parse is a UsageError.
LocationSpec parse_location_text(const std::string& text);

// open_location opens a location (see sealrun::open_location) with the
// global options; a location string that does not parse is a UsageError.
Location open_location(const std::string& text, const Globals& g, bool for_writing, bool force = false);

// remote_options builds RepositoryOptions from the global flags.
remote::RepositoryOptions remote_options(const Globals& g);

// Progress draws a one-line progress bar on a terminal (stderr), nothing
// otherwise.
class Progress {
public:
    explicit Progress(bool enabled);
    ~Progress();
    // blob_done counts blob `key` moved; blob_skipped forgets it (either
    // drops its byte count: held only while it moves, not for every blob).
    void blob_done(const std::string& key);
    void blob_skipped(const std::string& key) { per_blob_.erase(key); }
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

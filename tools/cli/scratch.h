#pragma once
// Scratch directories: the private folders the command line unpacks
// oci-archives into. Each is `$TMPDIR/sealrun-archive-<pid>-XXXXXX`, mode
// 0700, and holds `owner.lock`, which its process keeps locked (flock) for
// the folder's whole life: a folder whose lock is free belongs to a process
// that is gone.

#include <filesystem>

namespace sealrun::cli {

// make_scratch creates a scratch directory and returns its path. It first
// removes stale ones (sweep_scratch), and installs, once, SIGINT, SIGTERM and
// SIGHUP handlers that remove every live scratch directory before the process
// dies of the signal (dispositions other than the default are left alone).
// Throws Error(io) when the directory cannot be made.
std::filesystem::path make_scratch();

// remove_scratch removes a directory made by make_scratch and releases its
// lock; a path make_scratch did not return is ignored. Never throws.
void remove_scratch(const std::filesystem::path& dir) noexcept;

// sweep_scratch removes the scratch directories under $TMPDIR whose owner is
// gone: those whose owner.lock nobody holds, and those older than an hour
// without one (a crash before the lock was taken, or an older sealrun).
// Only the caller's own directories are touched; errors are ignored.
// Returns how many it removed.
std::size_t sweep_scratch() noexcept;

}  // namespace sealrun::cli

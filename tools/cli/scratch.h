#pragma once
// Scratch directories: the private folders sealrun 0.1 unpacked
// oci-archives into (an archive is now read in place and written as a
// stream, so nothing makes them any more). Each was
// `$TMPDIR/sealrun-archive-<pid>-XXXXXX`, mode 0700, holding `owner.lock`,
// which its process kept locked (flock) for the folder's whole life: a
// folder whose lock is free belongs to a process that is gone.

#include <cstddef>

namespace sealrun::cli {

// sweep_scratch removes the scratch directories under $TMPDIR whose owner is
// gone (`gc` calls it, so an older sealrun's leftovers do not stay): those
// whose owner.lock nobody holds, and those older than an hour without one
// (or whose maker, named by the pid in the folder's name, is dead). A live
// one is kept. Only the caller's own directories are touched; errors are
// ignored. Returns how many it removed.
std::size_t sweep_scratch() noexcept;

}  // namespace sealrun::cli

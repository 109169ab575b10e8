#pragma once
/// The one copy engine under push, pull, export and import (after oras-go's
/// oras.Copy).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "sealrun/content/target.h"

namespace sealrun::content {

/// CopyOptions tunes copy(); its zero value is the default. Hooks are
/// called one at a time (never concurrently), from the copying threads.
struct CopyOptions {
    /// How many blobs move at once; 0 means 4. Never more threads start
    /// than there are blobs to move.
    std::size_t concurrency = 0;
    /// Attempts per blob: a transfer that fails with Errc::network is
    /// started again from a fresh fetch of the source (a stream is never
    /// replayed); 0 means 3.
    int blob_attempts = 0;
    /// force moves an existing tag to different content; by default a tag
    /// that names other content is refused with Error(already_exists) (see
    /// TagPolicy and tag_with(): atomic in a local layout, resolve-then-tag
    /// against a registry, which is not atomic).
    bool force = false;
    /// Called for a node or blob the destination already has (a node's
    /// children are still checked, so a lost blob below it is repaired).
    std::function<void(const oci::Descriptor&)> on_skipped;
    /// Called after a node has been pushed to the destination.
    std::function<void(const oci::Descriptor&)> on_copied;
    /// Called as a blob streams, with the bytes of it moved so far.
    std::function<void(const oci::Descriptor&, std::uint64_t)> on_progress;
};

/// copy copies the graph `src_ref` names in `src` (an index, its manifests,
/// their configs and layers) to `dst`, children first, skipping whatever
/// `dst` already has, then pushes the root and tags it `dst_ref` (or
/// `src_ref` when `dst_ref` is empty and `src_ref` is a tag). Nothing the
/// destination holds is trusted by its name alone: every blob of the graph
/// is checked there (size included) and moved when absent. Every byte is
/// verified against its digest on the way. Returns the root descriptor.
/// Throws the first Error any transfer raised; blobs already moved stay.
/// Throws Error(already_exists) when the destination tag names other
/// content and `options.force` is false (the content is copied, untagged);
/// re-tagging the same digest succeeds.
oci::Descriptor copy(Target& src, std::string_view src_ref, Target& dst, std::string_view dst_ref,
                     const CopyOptions& options = {});

/// copy_graph copies the graph rooted at `root` from `src` to `dst` without
/// tagging it; the part of copy() that moves content.
void copy_graph(Target& src, Target& dst, const oci::Descriptor& root, const CopyOptions& options = {});

}  // namespace sealrun::content

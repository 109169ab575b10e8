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
    /// How many operations run at once (existence checks, manifest reads,
    /// blob transfers and manifest pushes alike); 0 means 4. The calling
    /// thread is one of them; another thread starts only when work is
    /// queued that no started thread is free to take.
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
    /// on_skipped is called for a node or blob the destination already has
    /// (a node's children are still checked unless the destination is
    /// ClosedUnderReference, so a lost blob below it is repaired).
    std::function<void(const oci::Descriptor&)> on_skipped;
    /// on_copied is called after a node or blob has been stored in the
    /// destination (pushed, or mounted from another repository).
    std::function<void(const oci::Descriptor&)> on_copied;
    /// on_progress is called as a blob streams, with the bytes of it moved
    /// so far.
    std::function<void(const oci::Descriptor&, std::uint64_t)> on_progress;
};

/// copy copies the graph `src_ref` names in `src` (an index, its manifests,
/// their configs and layers) to `dst`, skipping whatever `dst` already has,
/// and tags the root `dst_ref` (or `src_ref` when `dst_ref` is empty and
/// `src_ref` is a tag). Returns the root descriptor.
///
/// Nodes (manifests and indexes) are checked, read and pushed by the same
/// `options.concurrency` workers as blobs, and a node is pushed only after
/// everything below it is stored (children before parents, the root last).
/// The walk stops at oci::max_graph_depth (Error(invalid_input)). Nothing
/// the destination holds is trusted by its name alone: every blob of the
/// graph is checked there and moved when absent (exists(), size included,
/// or, for an AbsentPusher, the destination's own answer to the upload's
/// start), unless the
/// destination is ClosedUnderReference, where a present node vouches for
/// its subgraph. Every byte is verified against its digest on the way.
///
/// copy asks `dst` for its abilities: Mounter before streaming a blob (a
/// declined mount copies the bytes); AbsentPusher to store a blob unless
/// present without asking first; ReferencePusher to send the root and
/// its tag in one step, after checking a tag it must keep (a destination
/// that is also a ConditionalTagger keeps tags atomically through it
/// instead, unless `options.force`).
///
/// Throws the first Error any operation raised, after the running ones
/// finished; what was stored stays (blobs, and nodes whose subgraphs were
/// complete), the root is neither pushed nor tagged. Throws
/// Error(already_exists) when the destination tag names other content and
/// `options.force` is false (the content is copied, untagged); re-tagging
/// the same digest succeeds.
oci::Descriptor copy(ReadOnlyTarget& src, std::string_view src_ref, Target& dst, std::string_view dst_ref,
                     const CopyOptions& options = {});

/// copy_graph copies the graph rooted at `root` from `src` to `dst` without
/// tagging it; the part of copy() that moves content (the root is pushed
/// by digest).
void copy_graph(ReadOnlyTarget& src, Target& dst, const oci::Descriptor& root, const CopyOptions& options = {});

}  // namespace sealrun::content

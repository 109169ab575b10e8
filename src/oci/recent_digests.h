#pragma once
// RecentDigests: a set of digests that remembers the most recently used
// ones only (internal). The graph walks (the copy engine's dedup, a
// layout's graph check, validate) remember what they have done already so
// a node or blob shared by many parents is handled once; remembering every
// digest of a 100,000-run experiment would make their memory grow with the
// graph. Forgetting one is harmless: it is only checked (a stat, a HEAD)
// or moved again, which every walk does idempotently; a digest in use (the
// empty config every run shares, an instance a sweep's runs all name) stays
// because each use renews it.

#include <cstddef>
#include <unordered_set>

#include "sealrun/oci/digest.h"

namespace sealrun::oci::detail {

/// RecentDigests holds at most `capacity` digests, in two generations: when
/// the newer one is full, the older one is dropped and the newer one takes
/// its place; a digest found in the older one moves to the newer one.
class RecentDigests {
public:
    /// The walks' default: about 2.5 MB of digests.
    static constexpr std::size_t default_capacity = std::size_t{1} << 14;

    explicit RecentDigests(std::size_t capacity = default_capacity) : half_(capacity < 2 ? 1 : capacity / 2) {}

    /// contains reports whether `d` was inserted and not forgotten since
    /// (and renews it).
    bool contains(const Digest& d) {
        if (newer_.contains(d)) return true;
        if (!older_.contains(d)) return false;
        insert(d);
        return true;
    }

    /// insert remembers `d` (or renews it); returns false when it was
    /// remembered already.
    bool insert(const Digest& d) {
        if (newer_.contains(d)) return false;
        const bool known = older_.erase(d) > 0;
        if (newer_.size() >= half_) {
            older_ = std::move(newer_);
            newer_ = {};
        }
        newer_.insert(d);
        return !known;
    }

    void clear() {
        newer_.clear();
        older_.clear();
    }

    /// size is the number of digests remembered (at most the capacity).
    std::size_t size() const { return newer_.size() + older_.size(); }

private:
    std::size_t half_;
    std::unordered_set<Digest> newer_, older_;
};

}  // namespace sealrun::oci::detail

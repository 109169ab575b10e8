#pragma once
// RecentMap and RecentSet: a map and a set that remember the most recently
// used entries only (internal). The graph walks (the copy engine's dedup, a
// layout's graph check, validate's record of what it verified and
// reported) remember what they have done so a node or blob shared by many
// parents is handled once; remembering every digest of a 100,000-run
// experiment would make their memory grow with the graph. Forgetting one
// is harmless: it is only checked (a stat, a HEAD, a read) or moved again,
// which every walk does idempotently; an entry in use (the empty config
// every run shares, an instance a sweep's runs all name) stays because each
// use renews it.

#include <cstddef>
#include <unordered_map>
#include <utility>

namespace sealrun::util {

/// recent_capacity is the walks' default: 16,384 entries (about 2.5 MB of
/// digests).
inline constexpr std::size_t recent_capacity = std::size_t{1} << 14;

/// RecentMap holds at most `capacity` entries, in two generations: when the
/// newer one is full, the older one is dropped and the newer one takes its
/// place; an entry found in the older one moves to the newer one.
template <class K, class V>
class RecentMap {
public:
    explicit RecentMap(std::size_t capacity = recent_capacity) : half_(capacity < 2 ? 1 : capacity / 2) {}

    /// find returns the value of `k` (and renews it), or null when it was
    /// never inserted or is forgotten. Valid until the next call.
    V* find(const K& k) {
        if (const auto it = newer_.find(k); it != newer_.end()) return &it->second;
        const auto it = older_.find(k);
        if (it == older_.end()) return nullptr;
        auto v = std::move(it->second);
        older_.erase(it);
        return &place(k, std::move(v));
    }

    /// insert remembers `k` with `v` unless it is remembered (then renews
    /// it and keeps its value); returns whether it was new.
    bool insert(const K& k, V v) {
        if (find(k) != nullptr) return false;
        place(k, std::move(v));
        return true;
    }

    void clear() {
        newer_.clear();
        older_.clear();
    }

    /// size is the number of entries remembered (at most the capacity).
    std::size_t size() const { return newer_.size() + older_.size(); }

private:
    V& place(const K& k, V v) {
        if (newer_.size() >= half_) {
            older_ = std::move(newer_);
            newer_ = {};
        }
        return newer_.emplace(k, std::move(v)).first->second;
    }

    std::size_t half_;
    std::unordered_map<K, V> newer_, older_;
};

/// RecentSet is a RecentMap of keys alone.
template <class K>
class RecentSet {
public:
    explicit RecentSet(std::size_t capacity = recent_capacity) : map_(capacity) {}
    /// contains reports whether `k` is remembered (and renews it).
    bool contains(const K& k) { return map_.find(k) != nullptr; }
    /// insert remembers (or renews) `k`; returns whether it was new.
    bool insert(const K& k) { return map_.insert(k, {}); }
    void clear() { map_.clear(); }
    std::size_t size() const { return map_.size(); }

private:
    struct Empty {};
    RecentMap<K, Empty> map_;
};

}  // namespace sealrun::util

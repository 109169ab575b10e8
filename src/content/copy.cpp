#include "sealrun/content/copy.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "content/task_pool.h"
#include "util/recent.h"
#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/oci/media_type.h"

namespace sealrun::content {

namespace {

constexpr std::size_t default_concurrency = 4;
constexpr int default_blob_attempts = 3;

// Hooks serializes the user's callbacks.
class Hooks {
public:
    explicit Hooks(const CopyOptions& o) : o_(o) {}
    void skipped(const oci::Descriptor& d) { call(o_.on_skipped, d); }
    void copied(const oci::Descriptor& d) { call(o_.on_copied, d); }
    void progress(const oci::Descriptor& d, std::uint64_t n) {
        if (!o_.on_progress) return;
        std::lock_guard lock(mu_);
        o_.on_progress(d, n);
    }
    bool wants_progress() const { return static_cast<bool>(o_.on_progress); }

private:
    void call(const std::function<void(const oci::Descriptor&)>& fn, const oci::Descriptor& d) {
        if (!fn) return;
        std::lock_guard lock(mu_);
        fn(d);
    }
    const CopyOptions& o_;
    std::mutex mu_;
};

// move_blob makes the blob `d` stored in `dst`: nothing when it is there,
// a mount when `dst` can take it from `src` without the bytes, otherwise a
// verified stream from `src` (started again on a network error). A `dst`
// that is an AbsentPusher is not asked first: the request that starts the
// upload tells whether it has the blob.
void move_blob(ReadOnlyTarget& src, Target& dst, const oci::Descriptor& d, Hooks& hooks, int attempts) {
    auto* absent = dynamic_cast<AbsentPusher*>(&dst);
    if (absent == nullptr && dst.exists(d)) {
        hooks.skipped(d);
        return;
    }
    auto* mounter = d.data ? nullptr : dynamic_cast<Mounter*>(&dst);
    if (mounter != nullptr && mounter->mount(d, src)) {
        hooks.copied(d);
        return;
    }
    for (int attempt = 1;; ++attempt) {
        try {
            // The fetched stream itself goes to the push, so the bytes are
            // hashed once (already_verified); progress comes from it too.
            auto open = [&] {
                auto in = src.fetch(d);
                if (hooks.wants_progress()) in->on_progress([&](std::uint64_t n) { hooks.progress(d, n); });
                return std::unique_ptr<ReadStream>(std::move(in));
            };
            if (absent == nullptr) {
                const auto in = open();
                dst.push(d, *in);
            } else if (!absent->push_absent(d, open)) {
                hooks.skipped(d);
                return;
            }
            break;
        } catch (const Error& e) {
            if (e.code() != Errc::network || attempt >= attempts) throw;
        }
    }
    hooks.copied(d);
}

// Graph copies one graph with a TaskPool: every node (manifest or index)
// is checked and read by a task of its own, every blob moved by one, and a
// node is pushed by a task posted when the last of its children is stored
// (children before parents). The root is left to the caller, which may push
// it by reference.
//
// Memory stays bounded by the workers and the widest node, not by the
// graph: a node's children are visited one at a time by a task that posts
// the rest of them before the child's own work (the pool is a stack), so
// the graph is walked depth first and a manifest's bytes are pushed soon
// after they are read. A child that is an index (a page of runs: thousands
// of children) holds its parent's walk until it is stored, so one such
// index is open at a time, not one per idle worker. A finished node leaves
// only its digest behind, in a set of the recent ones (the dedup: a
// forgotten one is moved again, which costs a check).
class Graph {
public:
    Graph(ReadOnlyTarget& src, Target& dst, const CopyOptions& options, Hooks& hooks)
        : src_(src), dst_(dst), hooks_(hooks), closed_(dynamic_cast<ClosedUnderReference*>(&dst) != nullptr),
          absent_pusher_(dynamic_cast<AbsentPusher*>(&dst) != nullptr),
          attempts_(options.blob_attempts == 0 ? default_blob_attempts : options.blob_attempts),
          pool_(options.concurrency == 0 ? default_concurrency : options.concurrency) {}

    // run stores everything below `root` (and `root` itself when it is a
    // blob, or a node the destination vouches for); throws the first error.
    void run(const oci::Descriptor& root) {
        pool_.run([this, root] { visit(root, nullptr, 0); });
    }

    // root_pending reports whether the root node is still to be pushed.
    bool root_pending() const { return root_ != nullptr && !root_->done; }
    // root_present reports whether the destination had the root already.
    bool root_present() const { return root_ != nullptr && root_->present; }
    // take_root_bytes returns the root's verified bytes when they were read.
    std::optional<std::string> take_root_bytes() {
        if (root_ == nullptr || !root_->read) return std::nullopt;
        return std::move(root_->bytes);
    }

private:
    struct Node {
        oci::Descriptor desc;
        bool done = false;     // stored (or found) in the destination, with everything below it
        bool present = false;  // the destination had it before
        bool read = false;     // `bytes` holds its verified content
        std::string bytes;
        int pending = 0;              // children not yet done, +1 while they are being visited
        std::vector<Node*> waiting;   // parents waiting for this one
        // The position of the first child node found missing, by the child's
        // artifactType: its later siblings of that type are not asked (probe).
        std::map<std::string, std::size_t, std::less<>> missing_from;
        std::vector<oci::Descriptor> children;  // read from `bytes`, visited in order by visit_children
        std::size_t next_child = 0;
        std::size_t sibling = 0;  // its position among its (first) parent's children
        int depth = 0;
        Node* resume = nullptr;  // the parent whose walk goes on once this one is done
    };

    // visit registers `d` as a child of `parent` and moves it (once). When
    // `holds_parent`, `d` is an index that resumes the parent's walk
    // (visit_children) once it is done: visit returns true when it took
    // that over.
    bool visit(const oci::Descriptor& d, Node* parent, int depth, bool holds_parent = false, std::size_t sibling = 0) {
        if (depth > oci::max_graph_depth)
            throw Error(Errc::invalid_input, "copy", d.digest.str(),
                        "graph is deeper than " + std::to_string(oci::max_graph_depth) + " levels");
        Node* n = nullptr;
        {
            std::lock_guard lock(mu_);
            if (finished_.contains(d.digest)) return false;  // stored, with everything below it
            auto& slot = nodes_[d.digest];
            const bool first = slot == nullptr;
            if (first) slot = std::make_unique<Node>(Node{.desc = d, .sibling = sibling, .depth = depth});
            if (parent != nullptr) {
                slot->waiting.push_back(parent);
                ++parent->pending;
            }
            if (!first) return false;  // dedup: the first sighting moves it
            n = slot.get();
            if (parent == nullptr) root_ = n;
            if (holds_parent) n->resume = parent;
        }
        if (!oci::is_node_type(d.media_type)) {
            pool_.post([this, n] {
                move_blob(src_, dst_, n->desc, hooks_, attempts_);
                done(*n);
            });
            return false;
        }
        pool_.post([this, n, parent] { expand(*n, parent); });
        return holds_parent;
    }

    // probe asks the destination whether it has the node `n`, a child of
    // `parent` (null for the root). Siblings of one kind tend to share their
    // fate (a new experiment's runs are all new; an appended one's old runs
    // come first), so once a child node of a parent is missing from an
    // AbsentPusher (a registry), its later siblings of the same artifactType
    // are pushed without asking: a PUT of a manifest it has is harmless, and
    // each blob below learns its presence from the request that starts its
    // upload anyway. Earlier siblings, whenever their turn comes (the
    // workers take them in any order), and siblings of another type (an
    // experiment's attachments and summary beside its runs) are asked; so
    // are the root and, always, a destination whose existence check is a
    // stat (a layout).
    bool probe(const Node& n, Node* parent) {
        const auto type = n.desc.artifact_type.value_or(std::string());
        if (parent != nullptr && absent_pusher_) {
            std::lock_guard lock(mu_);
            const auto it = parent->missing_from.find(type);
            if (it != parent->missing_from.end() && it->second < n.sibling) return false;
        }
        const bool present = dst_.exists(n.desc);
        if (!present && parent != nullptr) {
            std::lock_guard lock(mu_);
            const auto [it, added] = parent->missing_from.emplace(type, n.sibling);
            if (!added) it->second = std::min(it->second, n.sibling);
        }
        return present;
    }

    // expand checks the node in the destination and visits its children.
    // A node the destination has is not pushed again; unless the
    // destination vouches for what lies below its nodes (ClosedUnderReference:
    // a registry), its children are still visited: a blob below it may have
    // been lost or emptied since, and the blob tasks' existence checks (size
    // included) are what repair it.
    void expand(Node& n, Node* parent) {
        const bool present = probe(n, parent);
        if (present && closed_) {
            n.present = true;
            hooks_.skipped(n.desc);
            done(n);
            return;
        }
        auto bytes = read_all(src_, n.desc, oci::max_manifest_size);
        auto children = oci::successors(n.desc, bytes);
        {
            std::lock_guard lock(mu_);
            n.present = present;
            n.bytes = std::move(bytes);
            n.read = true;
            n.children = std::move(children);
            ++n.pending;  // held until every child is registered
        }
        visit_children(n);
    }

    // visit_children visits the next child of `n` after posting a task for
    // the ones after it: the child's work is taken first, the rest by the
    // next free worker; for a child that is an index, the rest waits until
    // that child is stored. After the last child, `n` waits for them only.
    void visit_children(Node& n) {
        std::optional<oci::Descriptor> child;
        std::size_t sibling = 0;
        {
            std::lock_guard lock(mu_);
            if (n.next_child < n.children.size()) {
                sibling = n.next_child;
                child = std::move(n.children[n.next_child++]);
                ++n.pending;  // held until this child is registered: the rest may be done before
            } else {
                n.children = {};
            }
        }
        if (child) {
            const auto rest = [this, &n] { visit_children(n); };
            if (oci::is_index_type(child->media_type)) {
                if (!visit(*child, &n, n.depth + 1, true, sibling)) pool_.post(rest);
            } else {
                pool_.post(rest);
                visit(*child, &n, n.depth + 1, false, sibling);
            }
        }
        release(n);
    }

    // release drops one wait of `n`; the last one makes it ready to push.
    void release(Node& n) {
        {
            std::lock_guard lock(mu_);
            if (--n.pending != 0) return;
        }
        ready(n);
    }

    void ready(Node& n) {
        if (&n == root_) return;  // the caller pushes the root
        pool_.post([this, &n] {
            if (n.present) {
                hooks_.skipped(n.desc);
            } else {
                push_bytes(dst_, n.desc, std::move(n.bytes));
                hooks_.copied(n.desc);
            }
            n.bytes = {};
            done(n);
        });
    }

    // done marks `n` stored, readies the parents it was the last child of
    // and resumes the walk it held; `n` is gone after it (but for the root,
    // which the caller needs).
    void done(Node& n) {
        std::vector<Node*> now_ready;
        Node* resume = nullptr;
        {
            std::lock_guard lock(mu_);
            n.done = true;
            std::swap(resume, n.resume);
            for (auto* p : n.waiting)
                if (--p->pending == 0) now_ready.push_back(p);
            if (&n != root_) {
                const auto digest = n.desc.digest;
                finished_.insert(digest);
                nodes_.erase(digest);
            }
        }
        if (resume != nullptr) pool_.post([this, resume] { visit_children(*resume); });
        for (auto* p : now_ready) ready(*p);
    }

    ReadOnlyTarget& src_;
    Target& dst_;
    Hooks& hooks_;
    const bool closed_;
    const bool absent_pusher_;
    const int attempts_;
    detail::TaskPool pool_;
    std::mutex mu_;
    std::unordered_map<oci::Digest, std::unique_ptr<Node>> nodes_;  // seen, not finished
    util::RecentSet<oci::Digest> finished_;
    Node* root_ = nullptr;
};

// push_root pushes the root node the graph left to its caller.
void push_root(Graph& g, ReadOnlyTarget& src, Target& dst, const oci::Descriptor& root, Hooks& hooks) {
    if (!g.root_pending()) return;
    if (g.root_present()) {
        hooks.skipped(root);
        return;
    }
    auto bytes = g.take_root_bytes();
    push_bytes(dst, root, bytes ? std::move(*bytes) : read_all(src, root, oci::max_manifest_size));
    hooks.copied(root);
}

// tag_current returns what `reference` names in `dst`, if anything.
std::optional<oci::Descriptor> tag_current(Target& dst, std::string_view reference) {
    try {
        return dst.resolve(reference);
    } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        return std::nullopt;
    }
}

// push_root_by_reference sends the root and its tag in one step
// (ReferencePusher), honouring TagPolicy::keep as tag_with() does: the tag
// is checked first, and a tag naming other content keeps it (the root is
// then stored untagged).
void push_root_by_reference(Graph& g, ReadOnlyTarget& src, Target& dst, ReferencePusher& pusher,
                            const oci::Descriptor& root, std::string_view reference, TagPolicy policy, Hooks& hooks) {
    oci::check_tag(reference);
    if (policy == TagPolicy::keep) {
        if (const auto current = tag_current(dst, reference)) {
            if (current->digest != root.digest) {
                push_root(g, src, dst, root, hooks);
                throw tag_exists(reference, current->digest);
            }
            if (!g.root_pending() || g.root_present()) {  // tagged and stored already: nothing to send
                if (g.root_pending()) hooks.skipped(root);
                return;
            }
        }
    }
    auto bytes = g.take_root_bytes();
    BytesStream in(bytes ? std::move(*bytes) : read_all(src, root, oci::max_manifest_size));
    pusher.push_reference(root, in, reference);
    if (!g.root_pending()) return;  // found by the walk, and reported then
    if (g.root_present()) hooks.skipped(root);
    else hooks.copied(root);
}

}  // namespace

void copy_graph(ReadOnlyTarget& src, Target& dst, const oci::Descriptor& root, const CopyOptions& options) {
    Hooks hooks(options);
    Graph g(src, dst, options, hooks);
    g.run(root);
    push_root(g, src, dst, root, hooks);
}

oci::Descriptor copy(ReadOnlyTarget& src, std::string_view src_ref, Target& dst, std::string_view dst_ref,
                     const CopyOptions& options) {
    auto root = src.resolve(src_ref);
    if (dst_ref.empty() && !oci::is_digest_reference(src_ref)) dst_ref = src_ref;
    Hooks hooks(options);
    Graph g(src, dst, options, hooks);
    g.run(root);
    const auto policy = options.force ? TagPolicy::replace : TagPolicy::keep;
    // A layout keeps a tag atomically under its index lock
    // (ConditionalTagger); a pusher by reference checks it first, which is
    // not atomic, so it is asked only when there is nothing to keep or no
    // conditional tagger to keep it.
    auto* pusher = dynamic_cast<ReferencePusher*>(&dst);
    const bool conditional = dynamic_cast<ConditionalTagger*>(&dst) != nullptr;
    if (!dst_ref.empty() && oci::is_node_type(root.media_type) && pusher != nullptr && !(conditional && policy == TagPolicy::keep)) {
        push_root_by_reference(g, src, dst, *pusher, root, dst_ref, policy, hooks);
        return root;
    }
    push_root(g, src, dst, root, hooks);
    if (!dst_ref.empty()) tag_with(dst, root, dst_ref, policy);
    return root;
}

}  // namespace sealrun::content

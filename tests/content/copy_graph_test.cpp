// The copy engine's plan phase: nodes are checked, read and pushed by the
// same bounded pool as blobs, children before parents, with the depth cap,
// dedup, the ClosedUnderReference skip and the first error kept.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sealrun/content/copy.h"
#include "sealrun/content/memory.h"
#include "sealrun/oci/json.h"
#include "support/expect.h"
#include "support/forwarding.h"
#include "support/sample.h"

using namespace sealrun;

namespace {

bool is_node(const oci::Descriptor& d) { return oci::is_manifest_type(d.media_type) || oci::is_index_type(d.media_type); }

// Slow is a destination whose exists and push take a while, like a
// registry's round trips; it records the pushes in order and how many
// operations on manifests and indexes ran at once.
class Slow : public test::ForwardingTarget {
public:
    using ForwardingTarget::ForwardingTarget;
    bool exists(const oci::Descriptor& d) override {
        Op op(*this, d);
        return inner_.exists(d);
    }
    void push(const oci::Descriptor& d, content::ReadStream& s) override {
        {
            Op op(*this, d);
            inner_.push(d, s);
        }
        std::lock_guard lock(mu);
        order.push_back(d.digest);
    }
    std::mutex mu;
    std::vector<oci::Digest> order;
    std::atomic<int> nodes_now{0}, all_now{0};
    int max_nodes = 0, max_all = 0;

private:
    // Op counts one operation in flight for as long as it lives.
    struct Op {
        Op(Slow& s, const oci::Descriptor& d) : s_(s), node_(is_node(d)) {
            const int all = ++s_.all_now;
            const int nodes = node_ ? ++s_.nodes_now : 0;
            {
                std::lock_guard lock(s_.mu);
                s_.max_all = std::max(s_.max_all, all);
                s_.max_nodes = std::max(s_.max_nodes, nodes);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        ~Op() {
            --s_.all_now;
            if (node_) --s_.nodes_now;
        }
        Slow& s_;
        bool node_;
    };
};

// Runs is an index over `n` run manifests of two small layers each (all
// sharing the empty config), like a sealed sweep; `children` maps every
// node to what it points to.
struct Runs {
    oci::Descriptor index;
    std::map<oci::Digest, std::vector<oci::Digest>> children;
};

Runs push_runs(content::Target& t, int n) {
    Runs r;
    oci::ImageIndex idx{.artifact_type = "application/vnd.sealrun.test.index.v1"};
    for (int i = 0; i < n; ++i) {
        const auto s = test::push_sample(t, "run " + std::to_string(i), 2, "");
        auto& kids = r.children[s.manifest.digest];
        kids.push_back(oci::empty_descriptor().digest);
        for (const auto& l : s.layers) kids.push_back(l.digest);
        idx.manifests.push_back(s.manifest);
    }
    const auto bytes = idx.serialize();
    r.index = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(t, r.index, bytes);
    t.tag(r.index, "sweep");
    for (const auto& m : idx.manifests) r.children[r.index.digest].push_back(m.digest);
    return r;
}

// check_children_first checks that every node in `order` comes after all
// of its children that were pushed at all.
void check_children_first(const std::vector<oci::Digest>& order, const Runs& r) {
    std::map<oci::Digest, std::size_t> at;
    for (std::size_t i = 0; i < order.size(); ++i) at.emplace(order[i], i);
    for (const auto& [node, kids] : r.children) {
        const auto n = at.find(node);
        if (n == at.end()) continue;
        for (const auto& k : kids) {
            const auto c = at.find(k);
            if (c != at.end()) CHECK(c->second < n->second);
        }
    }
}

}  // namespace

TEST_CASE("copy: manifests are checked and pushed concurrently, never before their children") {
    content::MemoryTarget src, dst;
    const auto r = push_runs(src, 60);
    Slow slow(dst);
    content::copy(src, "sweep", slow, "", {.concurrency = 4});
    // 60 manifests + the index + 120 layers + the config.
    REQUIRE(slow.order.size() == 60 + 1 + 120 + 1);
    CHECK(slow.order.back() == r.index.digest);
    check_children_first(slow.order, r);
    CHECK(slow.max_nodes > 1);  // the walk's checks and the pushes of manifests overlap
    CHECK(slow.max_all <= 4);
    CHECK(dst.resolve("sweep").digest == r.index.digest);
    CHECK(content::read_all(dst, r.index, 1 << 20) == content::read_all(src, r.index, 1 << 20));
}

TEST_CASE("copy: with concurrency 1 nothing overlaps and the order still holds") {
    content::MemoryTarget src, dst;
    const auto r = push_runs(src, 8);
    Slow slow(dst);
    content::copy(src, "sweep", slow, "", {.concurrency = 1});
    CHECK(slow.max_all == 1);
    CHECK(slow.order.size() == 8 + 1 + 16 + 1);
    check_children_first(slow.order, r);
}

TEST_CASE("copy: a destination that vouches for present nodes is asked about the root only") {
    // ClosedUnderReference: a present node stands for its subgraph.
    class Closed final : public Slow, public content::ClosedUnderReference {
    public:
        using Slow::Slow;
        bool exists(const oci::Descriptor& d) override {
            ++asked;
            return Slow::exists(d);
        }
        std::atomic<int> asked{0};
    };
    content::MemoryTarget src, dst;
    push_runs(src, 20);
    content::copy(src, "sweep", dst, "");
    Closed closed(dst);
    std::atomic<int> skipped{0};
    content::copy(src, "sweep", closed, "", {.on_skipped = [&](const oci::Descriptor&) { ++skipped; }});
    CHECK(closed.asked == 1);
    CHECK(skipped == 1);
    CHECK(closed.order.empty());
}

TEST_CASE("copy: a shared manifest is read and pushed once, and waited for by every parent") {
    content::MemoryTarget src, dst;
    const auto shared = test::push_sample(src, "shared", 2, "");
    std::vector<oci::Descriptor> indexes;
    for (int i = 0; i < 5; ++i) {
        oci::ImageIndex idx{.artifact_type = "application/vnd.sealrun.test.index.v" + std::to_string(i)};
        idx.manifests = {shared.manifest};
        const auto bytes = idx.serialize();
        indexes.push_back(oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes));
        content::push_bytes(src, indexes.back(), bytes);
    }
    oci::ImageIndex top;
    top.manifests = indexes;
    const auto bytes = top.serialize();
    const auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(src, root, bytes);
    src.tag(root, "top");
    Slow slow(dst);
    content::copy(src, "top", slow, "", {.concurrency = 8});
    const std::set<oci::Digest> unique(slow.order.begin(), slow.order.end());
    CHECK(unique.size() == slow.order.size());
    CHECK(slow.order.size() == 1 + 2 + 1 + 5 + 1);  // config, layers, manifest, 5 indexes, root
    const auto at = [&](const oci::Digest& d) { return std::find(slow.order.begin(), slow.order.end(), d) - slow.order.begin(); };
    for (const auto& i : indexes) CHECK(at(shared.manifest.digest) < at(i.digest));
    CHECK(slow.order.back() == root.digest);
}

TEST_CASE("copy: a graph deeper than the cap is refused, and nothing is tagged") {
    content::MemoryTarget src, dst;
    auto d = test::push_sample(src, "deep", 1, "").manifest;
    for (int i = 0; i < oci::max_graph_depth + 5; ++i) {
        oci::ImageIndex idx;
        idx.manifests = {d};
        const auto bytes = idx.serialize();
        d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
        content::push_bytes(src, d, bytes);
    }
    src.tag(d, "deep");
    const auto e = test::thrown([&] { content::copy(src, "deep", dst, "", {.concurrency = 4}); });
    CHECK(e.code == Errc::invalid_input);
    CHECK(test::contains(e.message, "deeper than " + std::to_string(oci::max_graph_depth)));
    CHECK(dst.tags().empty());
    CHECK_FALSE(dst.exists(d));
}

TEST_CASE("copy: the first error stops the copy; no parent of the failed blob is pushed") {
    // Failing fails the push of one layer of one run.
    class Failing final : public Slow {
    public:
        Failing(content::Target& t, oci::Digest bad) : Slow(t), bad_(std::move(bad)) {}
        void push(const oci::Descriptor& d, content::ReadStream& s) override {
            if (d.digest == bad_) throw Error(Errc::denied, "push", d.digest.str(), "refused by the test");
            Slow::push(d, s);
        }

    private:
        oci::Digest bad_;
    };
    content::MemoryTarget src, dst;
    const auto r = push_runs(src, 12);
    const auto& victim = r.children.at(r.index.digest)[5];
    const auto bad_layer = r.children.at(victim)[1];
    Failing failing(dst, bad_layer);
    const auto e = test::thrown([&] { content::copy(src, "sweep", failing, "", {.concurrency = 4}); });
    CHECK(e.code == Errc::denied);
    CHECK(test::contains(e.message, bad_layer.str()));
    CHECK_THROWS(dst.resolve(victim.str()));
    CHECK(std::find(failing.order.begin(), failing.order.end(), victim) == failing.order.end());
    CHECK(std::find(failing.order.begin(), failing.order.end(), r.index.digest) == failing.order.end());
    CHECK(dst.tags().empty());
    check_children_first(failing.order, r);
}

namespace {

// Backlog counts the run manifests the copy engine has read from the source
// and not yet pushed to the destination (a wrapper on each side).
struct Backlog {
    std::mutex mu;
    std::set<oci::Digest> held;
    std::size_t most = 0, reads = 0;
    oci::Digest root;
    bool indexes_only = false;  // count the indexes below the root, not the manifests
    void read(const oci::Descriptor& d) {
        if (!is_node(d) || d.digest == root || (indexes_only && !oci::is_index_type(d.media_type))) return;
        std::lock_guard lock(mu);
        held.insert(d.digest);
        most = std::max(most, held.size());
        ++reads;
    }
    void pushed(const oci::Descriptor& d) {
        std::lock_guard lock(mu);
        held.erase(d.digest);
    }
};

class BacklogSource : public test::ForwardingTarget {
public:
    BacklogSource(content::Target& inner, Backlog& b) : ForwardingTarget(inner), b_(b) {}
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& d) override {
        b_.read(d);
        return inner_.fetch(d);
    }

private:
    Backlog& b_;
};

class BacklogDestination : public Slow {
public:
    BacklogDestination(content::Target& inner, Backlog& b) : Slow(inner), b_(b) {}
    void push(const oci::Descriptor& d, content::ReadStream& s) override {
        Slow::push(d, s);
        b_.pushed(d);
    }

private:
    Backlog& b_;
};

// Copied is what copy_counting saw the destination do.
struct Copied {
    std::vector<oci::Digest> order;  // the pushes
    int max_all = 0;                 // operations at once, at most
};

// copy_counting copies `ref` from `mem` to `dst` (4 workers, a slow
// destination) counting in `backlog` what was read and not yet pushed.
Copied copy_counting(content::Target& mem, content::Target& dst, const std::string& ref, Backlog& backlog) {
    BacklogSource src(mem, backlog);
    BacklogDestination slow(dst, backlog);
    content::copy(src, ref, slow, "", {.concurrency = 4});
    return {slow.order, slow.max_all};
}

}  // namespace

TEST_CASE("copy: a wide index is walked depth first: manifests read and not yet pushed stay bounded by the workers") {
    content::MemoryTarget mem, dst;
    const auto r = push_runs(mem, 400);
    Backlog backlog{.root = r.index.digest};
    const auto copied = copy_counting(mem, dst, "sweep", backlog);
    CHECK(backlog.reads == 400);
    CHECK(backlog.held.empty());
    // Breadth first, all 400 would be read before the first one's blobs
    // moved; depth first, each worker holds a few.
    MESSAGE("at most " << backlog.most << " of 400 run manifests were held at once");
    CHECK(backlog.most <= 4 * 4);
    check_children_first(copied.order, r);
    CHECK(dst.resolve("sweep").digest == r.index.digest);
}

TEST_CASE("copy: an index of pages is walked one page at a time: one page is read and not yet pushed at once") {
    // A paged experiment: a root index over 6 pages (indexes) of 30 runs.
    content::MemoryTarget mem, dst;
    oci::ImageIndex root;
    std::vector<oci::Descriptor> pages;
    for (int p = 0; p < 6; ++p) {
        oci::ImageIndex page{.artifact_type = "application/vnd.sealrun.test.page.v1"};
        for (int i = 0; i < 30; ++i)
            page.manifests.push_back(test::push_sample(mem, "page " + std::to_string(p) + " run " + std::to_string(i), 1, "").manifest);
        const auto bytes = page.serialize();
        pages.push_back(oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes));
        content::push_bytes(mem, pages.back(), bytes);
        root.manifests.push_back(pages.back());
    }
    const auto bytes = root.serialize();
    const auto root_desc = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    content::push_bytes(mem, root_desc, bytes);
    mem.tag(root_desc, "paged");

    Backlog backlog{.root = root_desc.digest, .indexes_only = true};
    const auto copied = copy_counting(mem, dst, "paged", backlog);
    CHECK(backlog.reads == 6);
    CHECK(backlog.held.empty());
    // Each idle worker used to open a page of its own (all 6 at once); a page
    // holds the walk until it is stored.
    MESSAGE("at most " << backlog.most << " of 6 pages were held at once");
    CHECK(backlog.most == 1);
    CHECK(copied.max_all > 1);  // the runs of a page still move in parallel
    CHECK(dst.resolve("paged").digest == root_desc.digest);
    for (const auto& p : pages) {
        CHECK(dst.exists(p));
        for (const auto& m : oci::ImageIndex::parse(content::read_all(mem, p, 1 << 20)).manifests) CHECK(dst.exists(m));
    }
}

#include "sealrun/content/copy.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"

namespace sealrun::content {

namespace {

constexpr std::size_t default_concurrency = 4;
constexpr int default_blob_attempts = 3;

bool is_node(const oci::Descriptor& d) { return oci::is_manifest_type(d.media_type) || oci::is_index_type(d.media_type); }

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

// CountingStream reports progress as bytes pass through.
class CountingStream final : public ReadStream {
public:
    CountingStream(ReadStream& inner, const oci::Descriptor& d, Hooks& hooks) : inner_(inner), d_(d), hooks_(hooks) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = inner_.read(buffer);
        done_ += n;
        if (n > 0) hooks_.progress(d_, done_);
        return n;
    }
    const oci::Descriptor* verified_whole() const noexcept override {
        return done_ == 0 ? inner_.verified_whole() : nullptr;
    }

private:
    ReadStream& inner_;
    const oci::Descriptor& d_;
    Hooks& hooks_;
    std::uint64_t done_ = 0;
};

// Plan is what must move: blobs in any order, then manifests and indexes
// children first, each with the verified bytes already read to find its
// successors.
struct Plan {
    std::vector<oci::Descriptor> blobs;
    std::vector<std::pair<oci::Descriptor, std::string>> nodes;
    std::unordered_set<oci::Digest> seen;
};

void walk(Target& src, Target& dst, const oci::Descriptor& d, Plan& plan, Hooks& hooks, int depth) {
    if (depth > oci::max_graph_depth)
        throw Error(Errc::invalid_input, "copy", d.digest.str(),
                    "graph is deeper than " + std::to_string(oci::max_graph_depth) + " levels");
    if (!plan.seen.insert(d.digest).second) return;
    if (!is_node(d)) {  // checked by the workers, so the checks run in parallel too
        plan.blobs.push_back(d);
        return;
    }
    // A node the destination has is not pushed again. Unless the destination
    // vouches for what lies below its nodes (ClosedUnderReference: a
    // registry), its children are still walked: a blob below it may have
    // been lost or emptied since, and the workers' existence checks (size
    // included) are what repair it.
    const bool present = dst.exists(d);
    if (present && dynamic_cast<ClosedUnderReference*>(&dst) != nullptr) {
        hooks.skipped(d);
        return;
    }
    auto bytes = read_all(src, d, oci::max_manifest_size);
    for (const auto& child : oci::successors(d, bytes)) walk(src, dst, child, plan, hooks, depth + 1);
    if (present) hooks.skipped(d);
    else plan.nodes.emplace_back(d, std::move(bytes));
}

void move_blob(Target& src, Target& dst, const oci::Descriptor& d, Hooks& hooks, int attempts) {
    if (dst.exists(d)) {
        hooks.skipped(d);
        return;
    }
    for (int attempt = 1;; ++attempt) {
        try {
            auto in = src.fetch(d);
            if (hooks.wants_progress()) {
                CountingStream counted(*in, d, hooks);
                dst.push(d, counted);
            } else {
                dst.push(d, *in);
            }
            break;
        } catch (const Error& e) {
            if (e.code() != Errc::network || attempt >= attempts) throw;
        }
    }
    hooks.copied(d);
}

void move_blobs(Target& src, Target& dst, const std::vector<oci::Descriptor>& blobs, const CopyOptions& options,
                Hooks& hooks) {
    const std::size_t workers =
        std::min(options.concurrency == 0 ? default_concurrency : options.concurrency, blobs.size());
    const int attempts = options.blob_attempts == 0 ? default_blob_attempts : options.blob_attempts;
    if (workers <= 1) {
        for (const auto& b : blobs) move_blob(src, dst, b, hooks, attempts);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mu;
    {
        std::vector<std::jthread> pool;
        pool.reserve(workers);
        for (std::size_t w = 0; w < workers; ++w) {
            pool.emplace_back([&] {
                for (std::size_t i; !failed && (i = next++) < blobs.size();) {
                    try {
                        move_blob(src, dst, blobs[i], hooks, attempts);
                    } catch (...) {
                        std::lock_guard lock(error_mu);
                        if (!first_error) first_error = std::current_exception();
                        failed = true;
                    }
                }
            });
        }
    }
    if (first_error) std::rethrow_exception(first_error);
}

}  // namespace

void copy_graph(Target& src, Target& dst, const oci::Descriptor& root, const CopyOptions& options) {
    Hooks hooks(options);
    Plan plan;
    walk(src, dst, root, plan, hooks, 0);
    move_blobs(src, dst, plan.blobs, options, hooks);
    for (auto& [d, bytes] : plan.nodes) {
        push_bytes(dst, d, std::move(bytes));
        hooks.copied(d);
    }
}

oci::Descriptor copy(Target& src, std::string_view src_ref, Target& dst, std::string_view dst_ref,
                     const CopyOptions& options) {
    auto root = src.resolve(src_ref);
    copy_graph(src, dst, root, options);
    if (dst_ref.empty() && !is_digest_reference(src_ref)) dst_ref = src_ref;
    if (!dst_ref.empty()) tag_with(dst, root, dst_ref, options.force ? TagPolicy::replace : TagPolicy::keep);
    return root;
}

}  // namespace sealrun::content

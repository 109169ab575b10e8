// Checkpoints (docs/FORMAT.md, checkpoints): a sweep sealed as a draft
// under `<tag>.checkpoint` after closed runs, by the policy of
// ExperimentOptions::checkpoint; the last checkpoint of a sweep that dies
// (an exception, a destructor without commit, SIGINT or SIGTERM); and the
// signal guard. A SIGKILL cannot be handled: the checkpoint before it stays,
// as the layout writes its index.json atomically.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <set>
#include <thread>

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "sealrun/content/copy.h"
#include "sealrun/error.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/location/location.h"
#include "sealrun/oci/tag.h"
#include "experiment/lineage.h"
#include "experiment/summary.h"
#include "util/fs.h"

namespace sealrun {

namespace {
constexpr std::string_view checkpoint_suffix = ".checkpoint";
}  // namespace

std::string checkpoint_tag(std::string_view tag) {
    oci::check_tag(tag);
    auto out = std::string(tag) + std::string(checkpoint_suffix);
    if (!oci::is_valid_tag(out))
        throw Error(Errc::invalid_input, "checkpoint tag", std::string(tag),
                    "is too long to take the suffix " + std::string(checkpoint_suffix) + " (at most " +
                        std::to_string(128 - checkpoint_suffix.size()) + " characters)");
    return out;
}

namespace detail {

// --- the signal guard -------------------------------------------------------
//
// The handler is async-signal-safe: it counts itself in, reads an atomic
// int and write()s one byte to a non-blocking pipe (a flood of signals
// never blocks it). The watcher thread does the work (locks, sealing,
// allocation), then restores the default action and raises the signal
// again, so the process ends as the signal says (a shell sees 128 + its
// number).
//
// Destruction never waits on the experiment's mutex while holding it: the
// guard is joined after the destructor's own checkpoint has released it,
// so a watcher woken by a signal during destruction takes the mutex, seals
// and ends the process, or the join returns. The guard closes its pipe only
// once no handler is between reading the descriptor and writing to it (a
// handler on another thread must not write into a reused descriptor).

namespace {
std::atomic<int> signal_pipe_write{-1};
std::atomic<int> handlers_running{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_sweep_signal(int sig) {
    const int saved = errno;
    handlers_running.fetch_add(1);
    const int fd = signal_pipe_write.load();
    if (fd >= 0) {
        const auto byte = static_cast<unsigned char>(sig);
        [[maybe_unused]] const auto n = ::write(fd, &byte, 1);
    }
    handlers_running.fetch_sub(1);
    errno = saved;
}

constexpr int watched[] = {SIGINT, SIGTERM};
}  // namespace

class SignalGuard {
public:
    explicit SignalGuard(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
        if (::pipe2(fds_, O_CLOEXEC) != 0 || ::fcntl(fds_[1], F_SETFL, O_NONBLOCK) != 0) {
            const auto why = std::string(std::strerror(errno));
            close_fds();
            throw Error(Errc::io, "watch signals", "pipe", why);
        }
        int expected = -1;
        if (!signal_pipe_write.compare_exchange_strong(expected, fds_[1])) {
            close_fds();
            throw Error(Errc::invalid_input, "watch signals", "SIGINT/SIGTERM",
                        "another experiment of this process already catches them (catch_signals)");
        }
        thread_ = std::thread([this] { loop(); });
        struct sigaction sa {};
        sa.sa_handler = on_sweep_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        for (std::size_t i = 0; i < std::size(watched); ++i) ::sigaction(watched[i], &sa, &previous_[i]);
    }
    ~SignalGuard() {
        for (std::size_t i = 0; i < std::size(watched); ++i) ::sigaction(watched[i], &previous_[i], nullptr);
        signal_pipe_write.store(-1);
        // A full pipe holds signals the watcher has yet to read: the first
        // of them ends the process, so the stop byte is not needed then.
        const unsigned char stop = 0;
        [[maybe_unused]] const auto n = ::write(fds_[1], &stop, 1);
        if (thread_.joinable()) thread_.join();
        while (handlers_running.load() != 0) std::this_thread::yield();
        close_fds();
    }
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;

private:
    void loop() {
        for (;;) {
            unsigned char byte = 0;
            const auto n = ::read(fds_[0], &byte, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n != 1 || byte == 0) return;
            const int sig = byte;
            on_signal_(sig);
            // Die of the signal, as if it had never been caught.
            struct sigaction dfl {};
            dfl.sa_handler = SIG_DFL;
            sigemptyset(&dfl.sa_mask);
            ::sigaction(sig, &dfl, nullptr);
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, sig);
            ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
            ::raise(sig);
            ::_exit(128 + sig);  // not reached: the default action ends the process
        }
    }
    void close_fds() noexcept {
        for (int& fd : fds_)
            if (fd >= 0) ::close(fd), fd = -1;
    }

    int fds_[2] = {-1, -1};
    std::function<void(int)> on_signal_;
    std::thread thread_;
    struct sigaction previous_[std::size(watched)] {};
};

namespace {

// KnownRemote is the remote's target as a checkpoint's copy sees it: a
// node or blob this experiment found or stored there at an earlier
// checkpoint is there, with everything below it (the remote stores a
// manifest only once what it references is stored: ClosedUnderReference),
// so exists() answers for it without a request, and a checkpoint's copy
// costs requests for what is new only. Every other call, and the abilities
// copy() asks for, go to the remote.
class KnownRemote final : public content::Target,
                          public content::ClosedUnderReference,
                          public content::ReferencePusher,
                          public content::AbsentPusher,
                          public content::Mounter {
public:
    KnownRemote(content::Target& inner, const std::set<oci::Digest>& known) : inner_(inner), known_(known) {}
    oci::Descriptor resolve(std::string_view reference) override { return inner_.resolve(reference); }
    bool exists(const oci::Descriptor& desc) override { return known_.contains(desc.digest) || inner_.exists(desc); }
    std::vector<std::string> tags() override { return inner_.tags(); }
    std::unique_ptr<content::ReadStream> open_blob(const oci::Descriptor& desc) override { return inner_.fetch(desc); }
    void push(const oci::Descriptor& desc, content::ReadStream& content) override { inner_.push(desc, content); }
    void tag(const oci::Descriptor& desc, std::string_view reference) override { inner_.tag(desc, reference); }
    void push_reference(const oci::Descriptor& desc, content::ReadStream& content, std::string_view reference) override {
        if (auto* p = dynamic_cast<content::ReferencePusher*>(&inner_)) return p->push_reference(desc, content, reference);
        inner_.push(desc, content);
        inner_.tag(desc, reference);
    }
    bool push_absent(const oci::Descriptor& desc, const std::function<std::unique_ptr<content::ReadStream>()>& open) override {
        if (known_.contains(desc.digest)) return false;
        if (auto* p = dynamic_cast<content::AbsentPusher*>(&inner_)) return p->push_absent(desc, open);
        if (inner_.exists(desc)) return false;
        inner_.push(desc, *open());
        return true;
    }
    bool mount(const oci::Descriptor& desc, content::ReadOnlyTarget& source) override {
        auto* m = dynamic_cast<content::Mounter*>(&inner_);
        return m != nullptr && m->mount(desc, source);
    }

private:
    content::Target& inner_;
    const std::set<oci::Digest>& known_;  // not changed while a copy runs
};

}  // namespace

Lineage::Lineage() = default;
Lineage::~Lineage() = default;

void Lineage::check_policy(const CheckpointPolicy& policy) {
    if (!policy.tag.empty()) (void)checkpoint_tag(policy.tag);
    if (policy.remote.empty()) return;
    const auto refuse = [&](const std::string& why) { throw Error(Errc::invalid_input, "checkpoint remote", policy.remote, why); };
    if (policy.tag.empty()) refuse("checkpoints to a remote need the policy's tag");
    const auto spec = parse_location(policy.remote);
    if (spec.transport == Transport::store) refuse("is not a location (docker://HOST/REPO, oci:DIR)");
    if (!spec.reference.empty())
        refuse("names a tag or digest: checkpoints go to " + checkpoint_tag(policy.tag) + " there, give the location without one");
}

void Lineage::copy_to_remote(Experiment& e, content::OciLayout& layout, const oci::Descriptor& root) noexcept {
    auto& l = *e.lineage_;
    const auto& policy = e.options_.checkpoint;
    if (policy.remote.empty()) return;
    const auto failed = [&](Error err) {
        l.remote.reset();  // opened again next time (an archive writer does not outlive a failure)
        l.remote_error = err;
        if (!policy.on_remote_error) return;
        try {
            policy.on_remote_error(err);
        } catch (...) {
            // A hook cannot stop the sweep either.
        }
    };
    try {
        if (!l.remote) {
            l.remote = std::make_unique<Location>(open_location(policy.remote, policy.remote_options, true));
            l.remote_known.clear();
        }
        // The copy skips what the remote holds; on a remote that is closed
        // under reference (a registry) what an earlier checkpoint found or
        // stored there costs no request at all.
        auto& target = l.remote->writable();
        std::optional<KnownRemote> known;
        if (dynamic_cast<content::ClosedUnderReference*>(&target) != nullptr) known.emplace(target, l.remote_known);
        std::vector<oci::Digest> seen;  // the hooks run one at a time; merged once the copy is done
        const auto note = [&](const oci::Descriptor& d) { seen.push_back(d.digest); };
        content::copy(layout, root.digest.str(), known ? static_cast<content::Target&>(*known) : target, checkpoint_tag(policy.tag),
                      {.force = true, .on_skipped = note, .on_copied = note});
        l.remote->commit();
        l.remote_known.insert(seen.begin(), seen.end());
        l.remote_error.reset();
    } catch (const Error& err) {
        failed(err);
    } catch (const std::exception& err) {
        failed(Error(Errc::io, "copy checkpoint", policy.remote, err.what()));
    } catch (...) {
        failed(Error(Errc::io, "copy checkpoint", policy.remote, "unknown failure"));
    }
}

void Lineage::add_kept_runs(Experiment& e, content::Target& dst, bool into_store, IndexWriter& index) {
    auto& l = *e.lineage_;
    if (l.kept.empty() && !l.subject) return;
    std::optional<content::OciLayout> store;
    if (!into_store) store.emplace(e.store_->root());
    // Another target gets the kept runs' graphs (and the parent's: a
    // present node vouches for what it points to, subject included).
    if (store && l.subject) content::copy_graph(*store, dst, *l.subject);
    for (const auto& r : l.kept) {
        if (store) content::copy_graph(*store, dst, r.manifest);
        index.add(r);
    }
}

ValueReader Lineage::value_reader(Experiment& e, const std::vector<std::string>& summary_values) {
    auto& l = *e.lineage_;
    if (l.values_for != summary_values) {  // other values chosen: what was kept picks the wrong parts
        l.values.clear();
        l.values_for = summary_values;
    }
    std::vector<ValueSpec> specs;
    for (const auto& v : summary_values) specs.push_back(parse_value_spec(v));
    auto layout = std::make_shared<std::optional<content::OciLayout>>();  // opened for the first kept run
    return [&e, &l, specs = std::move(specs), layout](const RunEntry& entry, const std::string& name) -> std::optional<nlohmann::json> {
        const auto key = std::pair(entry.run_id, name);
        if (const auto it = l.values.find(key); it != l.values.end()) return it->second;
        std::optional<nlohmann::json> doc;
        if (entry.run_id >= l.first_run_id) {  // a run of this experiment: its record (held or let go)
            std::optional<Record> reopened;
            auto& run = e.record_at(static_cast<std::size_t>(entry.run_id - l.first_run_id), reopened);
            if (util::regular_file_size(run.local_directory() / name)) doc = run.load_file<nlohmann::json>(name);
        } else {  // a kept run: its sealed attachment
            if (!*layout) layout->emplace(e.store_->root(), content::OciLayoutOptions{.read_only = true});
            const auto run = SealedRun::open(**layout, entry.manifest, e.store_->codecs());
            if (run.attachments().contains(name) && run.attachment_media_type(name) == codecs::JsonCodec::media_type)
                doc = run.get_json(name);
        }
        // Kept: only what the chosen values pick from this file.
        std::optional<nlohmann::json> kept;
        if (doc) {
            kept = nlohmann::json::object();
            for (const auto& spec : specs) {
                if (spec.file != name || !pick_value(*doc, spec)) continue;
                if (spec.pointer) (*kept)[nlohmann::json::json_pointer(spec.key)] = doc->at(nlohmann::json::json_pointer(spec.key));
                else (*kept)[spec.key] = doc->at(spec.key);
            }
        }
        if (keeps_sealed(e)) l.values.emplace(key, kept);
        return kept;
    };
}

void Lineage::settle(Experiment& e, content::OciLayout& layout, std::string_view tag) {
    auto& l = *e.lineage_;
    // The final index replaces the checkpoints: a draft never outlives the
    // commit it was saving for.
    if (oci::is_valid_tag(std::string(tag) + std::string(checkpoint_suffix))) (void)layout.untag(checkpoint_tag(tag));
    if (!e.options_.checkpoint.tag.empty() && e.options_.checkpoint.tag != tag)
        (void)layout.untag(checkpoint_tag(e.options_.checkpoint.tag));
    l.settled = true;
    l.closed_since = 0;
}

}  // namespace detail

void Experiment::after_close(const Run& run) {
    auto& l = *lineage_;
    if (l.dying) return;
    const std::lock_guard lock(l.mutex);
    if (!options_.keep_closed_runs) let_go_.push_back(static_cast<std::size_t>(run.run_id() - l.first_run_id));
    ++l.closed_since;
    const auto& policy = options_.checkpoint;
    if (policy.tag.empty()) return;
    if (policy.every_seconds > 0) {
        const std::chrono::duration<double> since = std::chrono::steady_clock::now() - l.last_checkpoint;
        if (since.count() < policy.every_seconds) return;
    } else if (l.closed_since < std::max<std::int64_t>(policy.every_runs, 1)) {
        return;
    }
    (void)checkpoint();
}

std::optional<oci::Descriptor> Experiment::checkpoint(std::string_view status, const std::string& reason) {
    auto& l = *lineage_;
    const std::lock_guard lock(l.mutex);
    const auto& policy = options_.checkpoint;
    if (policy.tag.empty()) return std::nullopt;
    const std::string st(status);
    if (st != format::draft_status && st != "failed" && st != "interrupted")
        throw Error(Errc::invalid_input, "checkpoint", st, "a checkpoint is draft, failed or interrupted");
    // The record session says where this process's runs live, so that a
    // resume after a SIGKILL finds those this checkpoint does not hold.
    std::map<std::string, std::string> extra{{std::string(format::keys::checkpoint_session), options_.session}};
    if (st != format::draft_status) {
        // A dying sweep seals its open runs too, closed as it ends.
        const auto why = reason.empty() ? "the sweep ended as " + st : reason;
        const bool was_dying = l.dying;
        l.dying = true;  // closing them runs no policy
        for (auto& r : runs_)
            if (r && !r->closed()) st == "failed" ? r->fail(why) : r->interrupt(why);
        l.dying = was_dying;
        extra.emplace(std::string(format::keys::experiment_reason), why);
    }
    auto options = policy.seal;
    options.force = true;
    content::OciLayout layout(store_->root());
    const auto root = seal_index(layout, options, st, true, true, extra);
    content::tag_with(layout, root, checkpoint_tag(policy.tag), content::TagPolicy::replace);
    detail::Lineage::copy_to_remote(*this, layout, root);
    l.closed_since = 0;
    l.last_checkpoint = std::chrono::steady_clock::now();
    return root;
}

void Experiment::crash_checkpoint(const std::string& status, const std::string& reason) noexcept {
    auto& l = *lineage_;
    try {
        const std::lock_guard lock(l.mutex);
        bool open = false;
        for (const auto& r : runs_) open = open || (r && !r->closed());
        if (l.settled && !open) return;  // committed, nothing since
        l.dying = true;
        (void)checkpoint(status, reason);
    } catch (...) {
        // Best effort: the checkpoint before this one is still there.
    }
}

void Experiment::watch_signals() {
    lineage_->signals = std::make_unique<detail::SignalGuard>([this](int sig) {
        crash_checkpoint("interrupted", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal " + std::to_string(sig));
    });
}

void Experiment::stop_watching_signals() noexcept { lineage_->signals.reset(); }

std::vector<std::int64_t> Experiment::kept_run_ids() const {
    std::vector<std::int64_t> out;
    for (const auto& r : lineage_->kept) out.push_back(r.run_id);
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<oci::Descriptor> Experiment::subject() const { return lineage_->subject; }

std::optional<Error> Experiment::remote_error() const {
    const std::lock_guard lock(lineage_->mutex);
    return lineage_->remote_error;
}

}  // namespace sealrun

// collect(): one experiment from many workers' contributions
// (sealrun/experiment/collect.h, docs/FORMAT.md "Contributions and
// collect"). Reads manifests and configs only; runs whose id changes get a
// rewritten config and manifest over the same blobs; the index is written
// by the one index writer.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <variant>

#include "sealrun/codecs/json.h"
#include "sealrun/error.h"
#include "sealrun/experiment/collect.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/model.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/oci/media_type.h"
#include "experiment/index_writer.h"

namespace sealrun {

namespace {

using nlohmann::json;

constexpr std::size_t default_concurrency = 8;

// parallel_for calls fn(i) for every i < n on at most `threads` threads
// (the caller's included); the first exception stops the handing out of
// work and is rethrown once the running calls returned.
void parallel_for(std::size_t n, std::size_t threads, const std::function<void(std::size_t)>& fn) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex mu;
    auto work = [&] {
        while (!failed) {
            const auto i = next++;
            if (i >= n) return;
            try {
                fn(i);
            } catch (...) {
                std::lock_guard lock(mu);
                if (!error) error = std::current_exception();
                failed = true;
            }
        }
    };
    {
        std::vector<std::jthread> pool;
        for (std::size_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(work);
        work();
    }
    if (error) std::rethrow_exception(error);
}

// OpenedRun is a run manifest and its config, read and checked by the run
// rules (FORMAT §4.3), nothing below them.
struct OpenedRun {
    oci::Descriptor desc;
    json manifest;  // as stored, to rewrite it without losing a member
    oci::Descriptor config_desc;
    json config;
    bool has_config = false;
    std::vector<oci::Descriptor> layers;
    format::AttachmentTable table;
    std::map<std::string, std::string> annotations;
    std::int64_t run_id = 0;
    std::string status;
};

// open_config reads the config of `r` and checks it with its manifest's
// layers by the run rules.
void open_config(content::ReadOnlyTarget& repo, OpenedRun& r, const oci::Descriptor& config, const std::string& what) {
    r.config = oci::parse_json_strict(content::read_all(repo, config, format::max_config_size), what + " config",
                                      format::max_config_size);
    const auto rc = format::RunConfig::from_json(r.config, r.layers);
    r.table = rc.attachments;
    r.run_id = rc.run_id;
    r.status = rc.status;
    r.has_config = true;
}

// open_run reads a run manifest, and its config unless `with_config` is
// false (a run of the previous experiment that a contribution replaces).
OpenedRun open_run(content::ReadOnlyTarget& repo, const oci::Descriptor& desc, const std::string& what,
                   bool with_config = true) {
    if (!oci::is_manifest_type(desc.media_type))
        throw Error(Errc::invalid_input, "collect", what, "is a " + desc.media_type + ", not an image manifest");
    const auto bytes = content::read_all(repo, desc, oci::max_manifest_size);
    const auto m = oci::ImageManifest::parse(bytes);
    if (m.artifact_type != format::run_artifact_type)
        throw Error(Errc::invalid_input, "collect", what, "is not a sealrun run (artifactType)");
    if (m.config.media_type != format::run_config_type)
        throw Error(Errc::invalid_input, "collect", what, "config is a " + m.config.media_type + ", not a run config");
    OpenedRun r{.desc = desc, .manifest = oci::parse_json_strict(bytes, what), .config_desc = m.config};
    r.layers = m.layers;
    r.annotations = m.annotations;
    if (with_config) open_config(repo, r, m.config, what);
    return r;
}

// skippable reports whether a contribution failing with `e` is refused
// (hostile or broken content) rather than failing the collect (transport).
bool skippable(const Error& e) {
    switch (e.code()) {
        case Errc::invalid_input:
        case Errc::too_large:
        case Errc::not_found:
        case Errc::digest_mismatch:
        case Errc::size_mismatch:
        case Errc::unsupported: return true;
        default: return false;
    }
}

std::string annotation(const std::map<std::string, std::string>& a, std::string_view key) {
    const auto it = a.find(std::string(key));
    return it == a.end() ? std::string() : it->second;
}

std::optional<std::int64_t> parse_id(const std::string& text) {
    std::int64_t v = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
    return v;
}

// Contributed is a contribution that passed every check.
struct Contributed {
    std::string tag;
    std::string worker;
    OpenedRun run;
};

// open_contribution opens `tag` and checks it against its content; returns
// the reason it is refused when it is.
std::variant<Contributed, std::string> open_contribution(content::Target& repo, const std::string& experiment,
                                                         const std::string& tag) {
    try {
        auto run = open_run(repo, repo.resolve(tag), "contribution " + tag);
        const auto& name = run.config["experiment"];
        if (!name.is_string() || name.get<std::string>() != experiment)
            return "its config says experiment " + (name.is_string() ? "\"" + name.get<std::string>() + "\"" : name.dump()) +
                   ", not \"" + experiment + "\"";
        auto worker = annotation(run.annotations, format::keys::run_worker);
        if (worker.empty()) return "its manifest has no " + std::string(format::keys::run_worker) + " annotation";
        const auto expected = contribution_tag(experiment, worker, run.run_id);
        if (expected != tag)
            return "the tag does not match its content (worker \"" + worker + "\", run " + std::to_string(run.run_id) +
                   " is tagged " + expected + ")";
        return Contributed{tag, std::move(worker), std::move(run)};
    } catch (const Error& e) {
        if (!skippable(e)) throw;
        return std::string(e.what());
    }
}

// Previous is the experiment `tag` named before this collect.
struct Previous {
    struct Run {
        std::int64_t id = 0;
        oci::Descriptor desc;
        std::string status;
        std::optional<OpenedRun> opened;
    };
    std::vector<Run> runs;
    std::optional<oci::Descriptor> attachments, subject;
    std::map<std::string, std::string> annotations;
};

oci::ImageIndex read_index(content::Target& repo, const oci::Descriptor& d, const std::string& what) {
    if (!oci::is_index_type(d.media_type))
        throw Error(Errc::invalid_input, "collect", what, "is a " + d.media_type + ", not an image index");
    return oci::ImageIndex::parse(content::read_all(repo, d, oci::max_manifest_size));
}

// read_previous reads the index `tag` names (and its pages); nullopt when
// the tag is new, or names something else and `force` starts afresh.
std::optional<Previous> read_previous(content::Target& repo, const std::string& experiment, const std::string& tag,
                                      bool force) {
    oci::Descriptor root;
    try {
        root = repo.resolve(tag);
    } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        return std::nullopt;
    }
    const auto refuse = [&](const std::string& why) -> std::optional<Previous> {
        if (force) return std::nullopt;
        throw Error(Errc::already_exists, "collect", tag,
                    "names " + why + ", not the experiment \"" + experiment + "\" (force starts afresh)");
    };
    if (!oci::is_index_type(root.media_type)) return refuse("a " + root.media_type);
    auto index = read_index(repo, root, "experiment " + tag);
    const auto type_ok = index.artifact_type ? *index.artifact_type == format::experiment_artifact_type
                                             : annotation(index.annotations, format::keys::artifact_type) ==
                                                   format::experiment_artifact_type;
    if (!type_ok) return refuse("something that is not a sealrun experiment");
    if (const auto n = annotation(index.annotations, format::keys::experiment_name); n != experiment)
        return refuse("the experiment \"" + n + "\"");
    Previous prev;
    for (const auto& [k, v] : index.annotations)
        if (!k.starts_with(format::keys::reserved_prefix)) prev.annotations[k] = v;
    prev.subject = index.subject;
    const auto take_runs = [&](const oci::ImageIndex& idx, const std::string& where) {
        for (const auto& d : idx.manifests) {
            const auto part = annotation(d.annotations, format::keys::part);
            if (part == format::part_attachments) prev.attachments = d;
            if (part != format::part_run) continue;
            const auto id = parse_id(annotation(d.annotations, format::keys::run_id));
            if (!id) throw Error(Errc::invalid_input, "collect", where, "a run entry has no valid run id");
            auto clean = d;
            clean.annotations.clear();
            prev.runs.push_back({*id, clean, annotation(d.annotations, format::keys::run_status), std::nullopt});
        }
    };
    take_runs(index, "experiment " + tag);
    for (const auto& d : index.manifests)
        if (annotation(d.annotations, format::keys::part) == format::part_page)
            take_runs(read_index(repo, d, "experiment " + tag + " page"), "experiment " + tag + " page");
    return prev;
}

// Final is one run of the new index.
struct Final {
    CollectedRun info;
    const OpenedRun* run = nullptr;  // its content
    oci::Descriptor manifest;
    json config;
    std::string config_bytes, manifest_bytes;  // to push when rewritten
    bool push = false;
};

// rewrite gives `f` the run `c` under id `id`: config "run_id" and
// "worker", manifest config descriptor and annotations; blobs unchanged.
void rewrite(Final& f, const Contributed& c, std::int64_t id) {
    f.config = c.run.config;
    f.config["run_id"] = id;
    f.config["worker"] = c.worker;
    f.config_bytes = oci::canonical_json(f.config);
    const auto cdesc = oci::Descriptor::for_bytes(std::string(format::run_config_type), f.config_bytes);
    auto m = c.run.manifest;
    m["config"] = cdesc.to_json();
    m["annotations"][std::string(format::keys::run_id)] = std::to_string(id);
    m["annotations"][std::string(format::keys::run_worker_run_id)] = std::to_string(c.run.run_id);
    f.manifest_bytes = oci::canonical_json(m);
    f.manifest = oci::Descriptor::for_bytes(c.run.desc.media_type, f.manifest_bytes);
    f.info.rewritten = true;
}

// Collector is one collect(): each step is a method, in the order run()
// calls them.
class Collector {
public:
    Collector(content::Target& repo, std::string experiment, std::string tag, const CollectOptions& options)
        : repo_(repo), experiment_(std::move(experiment)), tag_(std::move(tag)), options_(options),
          threads_(options.concurrency == 0 ? default_concurrency : options.concurrency) {}

    CollectReport run() {
        oci::check_tag(tag_);
        open_contributions();
        prev_ = read_previous(repo_, experiment_, tag_, options_.force);
        if (prev_) take_previous();
        assign_ids();
        complete_previous();
        push_rewritten();
        write_index();
        return std::move(result_);
    }

private:
    // open_contributions opens every tag of the prefix, in parallel, and
    // keeps those that pass, sorted by (worker, local id).
    void open_contributions() {
        const auto prefix = contribution_tag_prefix(experiment_);
        std::vector<std::string> tags;
        for (auto& t : repo_.tags())
            if (t.starts_with(prefix)) tags.push_back(std::move(t));
        opened_.resize(tags.size());
        std::mutex progress_mu;
        std::size_t done = 0;
        parallel_for(tags.size(), threads_, [&](std::size_t i) {
            opened_[i] = open_contribution(repo_, experiment_, tags[i]);
            if (options_.on_progress) {
                std::lock_guard lock(progress_mu);
                options_.on_progress(++done, tags.size());
            }
        });
        result_.contributions = tags.size();
        for (std::size_t i = 0; i < tags.size(); ++i) {
            if (auto* why = std::get_if<std::string>(&opened_[i])) {
                result_.skipped.push_back({tags[i], *why});
                continue;
            }
            const auto* c = &std::get<Contributed>(opened_[i]);
            contributions_.push_back(c);
            by_digest_[c->run.desc.digest.str()] = c;
        }
        std::sort(contributions_.begin(), contributions_.end(), [](const Contributed* a, const Contributed* b) {
            return std::tie(a->worker, a->run.run_id) < std::tie(b->worker, b->run.run_id);
        });
    }

    // take_previous keeps every run of the previous experiment under its id
    // and learns its worker and local id: from the contribution it is (no
    // request), else from its manifest (one request; the config is read
    // later, only when no contribution replaces the run).
    void take_previous() {
        std::vector<Previous::Run*> to_open;
        for (auto& r : prev_->runs)
            if (!by_digest_.contains(r.desc.digest.str())) to_open.push_back(&r);
        parallel_for(to_open.size(), threads_, [&](std::size_t i) {
            auto& r = *to_open[i];
            r.opened = open_run(repo_, r.desc, "experiment " + tag_ + " run " + std::to_string(r.id), false);
        });
        for (auto& r : prev_->runs) {
            Final f{.info = {.run_id = r.id, .status = r.status, .manifest = r.desc}, .manifest = r.desc};
            if (r.opened) {
                f.run = &*r.opened;
                f.info.worker = annotation(r.opened->annotations, format::keys::run_worker);
                f.info.local_run_id = parse_id(annotation(r.opened->annotations, format::keys::run_worker_run_id)).value_or(r.id);
            } else {
                const auto* c = by_digest_.at(r.desc.digest.str());
                f.run = &c->run;
                f.config = c->run.config;
                f.info.status = c->run.status;
                f.info.worker = c->worker;
                f.info.local_run_id = c->run.run_id;
            }
            if (!f.info.worker.empty() && !known_.emplace(std::pair(f.info.worker, f.info.local_run_id), r.id).second)
                throw Error(Errc::invalid_input, "collect", "experiment " + tag_,
                            "two runs come from worker \"" + f.info.worker + "\" run " + std::to_string(f.info.local_run_id));
            if (!finals_.emplace(r.id, std::move(f)).second)
                throw Error(Errc::invalid_input, "collect", "experiment " + tag_, "run id " + std::to_string(r.id) + " appears twice");
        }
    }

    // assign_ids gives a known (worker, local id) its id and the others the
    // next ones in (worker, local id) order.
    void assign_ids() {
        std::int64_t next = finals_.empty() ? 0 : finals_.rbegin()->first + 1;
        for (const auto* c : contributions_) {
            const auto key = std::pair(c->worker, c->run.run_id);
            const auto it = known_.find(key);
            const bool added = it == known_.end();
            const auto id = added ? next++ : it->second;
            if (added) known_.emplace(key, id);
            const auto before = added ? std::optional<oci::Digest>() : std::optional(finals_.at(id).manifest.digest);
            Final f{.info = {.run_id = id, .worker = c->worker, .local_run_id = c->run.run_id, .status = c->run.status,
                             .added = added},
                    .run = &c->run, .manifest = c->run.desc, .config = c->run.config};
            if (id != c->run.run_id) rewrite(f, *c, id);
            f.push = f.info.rewritten && f.manifest.digest != before;
            f.info.manifest = f.manifest;
            finals_[id] = std::move(f);
        }
    }

    // complete_previous reads the configs of previous runs no contribution
    // replaced (the summary is made from them).
    void complete_previous() {
        std::vector<std::pair<Previous::Run*, Final*>> unreplaced;
        if (prev_)
            for (auto& r : prev_->runs)
                if (auto& f = finals_.at(r.id); r.opened && f.run == &*r.opened) unreplaced.emplace_back(&r, &f);
        parallel_for(unreplaced.size(), threads_, [&](std::size_t i) {
            auto& [r, f] = unreplaced[i];
            const auto what = "experiment " + tag_ + " run " + std::to_string(r->id);
            open_config(repo_, *r->opened, r->opened->config_desc, what);
            if (r->opened->run_id != r->id)
                throw Error(Errc::invalid_input, "collect", what, "its config says run_id " + std::to_string(r->opened->run_id));
            f->config = r->opened->config;
            f->info.status = r->opened->status;
        });
    }

    // push_rewritten pushes the config and manifest of each run rewritten
    // now (the blobs are there already).
    void push_rewritten() {
        std::vector<Final*> to_push;
        for (auto& [id, f] : finals_)
            if (f.push) to_push.push_back(&f);
        parallel_for(to_push.size(), threads_, [&](std::size_t i) {
            auto& f = *to_push[i];
            const auto cdesc = oci::Descriptor::for_bytes(std::string(format::run_config_type), f.config_bytes);
            if (!repo_.exists(cdesc)) content::push_bytes(repo_, cdesc, f.config_bytes);
            content::push_bytes(repo_, f.manifest, f.manifest_bytes);
        });
    }

    // write_index writes the index through the one writer and tags it.
    void write_index() {
        detail::IndexParts parts{.name = experiment_, .summary_values = options_.summary_values,
                                 .runs_per_page = options_.runs_per_page};
        if (prev_) {
            parts.annotations = prev_->annotations;
            parts.attachments = prev_->attachments;
            parts.subject = prev_->subject;
        }
        for (auto& [id, f] : finals_) contents_[id] = f.run;
        // Summary values are read from the runs' JSON attachments in the
        // repository: the only blobs collect downloads, and only when asked.
        parts.values = [this](const detail::RunEntry& entry, const std::string& name) -> std::optional<json> {
            const auto it = contents_.find(entry.run_id);
            if (it == contents_.end() || it->second == nullptr) return std::nullopt;
            const Attachments a(repo_, it->second->layers, it->second->table, CodecRegistry::global());
            if (!a.contains(name) || a.media_type(name) != codecs::JsonCodec::media_type) return std::nullopt;
            return a.with_codec<codecs::JsonCodec>(name);
        };
        detail::IndexWriter index(repo_, std::move(parts), finals_.size());
        for (auto& [id, f] : finals_) {  // by ascending id
            auto d = f.manifest;
            d.annotations.clear();
            d.artifact_type = std::string(format::run_artifact_type);
            index.add({.manifest = std::move(d), .run_id = id, .status = f.info.status, .config = f.config,
                       .worker = f.info.worker});
            (f.info.added ? result_.added : result_.kept)++;
            result_.runs.push_back(f.info);
        }
        result_.index = index.finish();
        content::tag_with(repo_, result_.index, tag_, content::TagPolicy::replace);
    }

    content::Target& repo_;
    const std::string experiment_, tag_;
    const CollectOptions& options_;
    const std::size_t threads_;
    CollectReport result_;
    std::vector<std::variant<Contributed, std::string>> opened_;
    std::vector<const Contributed*> contributions_;
    std::map<std::string, const Contributed*> by_digest_;
    std::optional<Previous> prev_;
    std::map<std::int64_t, Final> finals_;
    std::map<std::pair<std::string, std::int64_t>, std::int64_t> known_;  // (worker, local id) -> run id
    std::map<std::int64_t, const OpenedRun*> contents_;
};

}  // namespace

CollectReport collect(content::Target& repo, std::string_view experiment, std::string_view tag,
                      const CollectOptions& options) {
    return Collector(repo, std::string(experiment), std::string(tag), options).run();
}

}  // namespace sealrun

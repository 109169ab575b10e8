// Reading sealed experiments (docs/FORMAT.md): SealedExperiment, SealedRun
// and the Attachments getters they share.
#include "sealrun/experiment/sealed.h"

#include <algorithm>
#include <climits>
#include <set>

#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/path.h"
#include "experiment/ommx_experiment.h"
#include "experiment/rules.h"
#include "experiment/summary.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;
namespace rules = format::rules;

namespace {

[[noreturn]] void invalid(const std::string& subject, const std::string& why) {
    throw Error(Errc::invalid_input, "open", subject, why);
}

// Part is one sealed manifest and its config document, read strictly; the
// rulebook checks them.
struct Part {
    oci::ImageManifest manifest;
    nlohmann::json config;
};

Part read_part(content::ReadOnlyTarget& target, const oci::Descriptor& desc, rules::PartKind kind, rules::Sink& sink) {
    rules::check_manifest_type(desc, sink);
    auto manifest = oci::ImageManifest::parse(content::read_all(target, desc, oci::max_manifest_size));
    rules::check_declared(desc, manifest.media_type, sink);
    rules::check_part_manifest(manifest, kind, sink);
    auto config = rules::parse_config(content::read_all(target, manifest.config, format::max_config_size),
                                      "config " + manifest.config.digest.str());
    return {std::move(manifest), std::move(config)};
}

}  // namespace

Attachments::Attachments(content::ReadOnlyTarget& target, std::vector<oci::Descriptor> layers,
                         std::map<std::string, std::size_t> table, const CodecRegistry& codecs)
    : target_(&target), layers_(std::move(layers)), table_(table.begin(), table.end()), codecs_(&codecs) {}

std::vector<std::string> Attachments::names() const {
    std::vector<std::string> out;
    for (const auto& [n, _] : table_) out.push_back(n);
    return out;
}

bool Attachments::contains(std::string_view name) const { return table_.find(name) != table_.end(); }

const oci::Descriptor& Attachments::descriptor(std::string_view name) const {
    auto it = table_.find(name);
    if (it == table_.end()) throw Error(Errc::not_found, "get attachment", std::string(name), "no attachment of that name");
    return layers_[it->second];
}

std::string Attachments::media_type(std::string_view name) const {
    return std::string(logical_media_type(descriptor(name).media_type));
}

std::string Attachments::compression(std::string_view name) const {
    const auto& stored = descriptor(name).media_type;
    return logical_media_type(stored) == stored ? std::string() : std::string("zstd");
}

// open_plain returns the attachment's verified bytes as a stream,
// decompressed (as it streams) when it is stored "+zstd", at most
// `max_size` bytes of them.
std::unique_ptr<content::ReadStream> Attachments::open_plain(const oci::Descriptor& d, std::size_t max_size) const {
    auto in = target_->fetch(d);  // verifies as it streams
    if (logical_media_type(d.media_type) == d.media_type) return in;
    return std::make_unique<ZstdReadStream>(std::move(in), max_size);
}

std::string Attachments::blob(std::string_view name) const {
    const auto& d = descriptor(name);
    if (logical_media_type(d.media_type) == d.media_type) return content::read_all(*target_, d, max_attachment_read);
    return content::read_to_string(*open_plain(d, max_attachment_read), max_attachment_read, name);
}

Value Attachments::value(std::string_view name) const {
    const auto& d = descriptor(name);
    if (!codecs_->by_media_type(d.media_type))
        throw Error(Errc::unsupported, "get attachment", std::string(name),
                    "no codec is registered for its media type " + d.media_type + " (get_blob reads the bytes)");
    return decode_value(*codecs_, logical_media_type(d.media_type), blob(name));
}

void Attachments::check_codec(std::string_view name, std::string_view codec_media_type) const {
    const auto& stored = descriptor(name).media_type;
    if (logical_media_type(stored) != codec_media_type)
        throw Error(Errc::invalid_input, "get attachment", std::string(name),
                    "is stored as " + stored + ", the codec reads " + std::string(codec_media_type));
}

namespace {

// decode_ommx decodes the OMMX payload `name` as T from its v1 or v2 media
// type; `what` names T for the error.
template <class T>
T decode_ommx(const Attachments& a, std::string_view name, std::string_view what) {
    const auto type = a.media_type(name);
    ommx::Version version;
    if (type == T::media_type_v1) version = ommx::Version::v1;
    else if (type == T::media_type_v2) version = ommx::Version::v2;
    else
        throw Error(Errc::invalid_input, "get attachment", std::string(name),
                    "is stored as " + type + ", not as an OMMX " + std::string(what) + " (" +
                        std::string(T::media_type_v1) + " or " + std::string(T::media_type_v2) + ")");
    const auto bytes = a.blob(name);
    try {
        return T::decode(bytes, version);
    } catch (const Error& e) {
        if (e.code() != Errc::invalid_input) throw;
        throw Error(Errc::invalid_input, "get attachment", std::string(name), e.reason());
    }
}

}  // namespace

ommx::Instance Attachments::instance(std::string_view name) const {
    return decode_ommx<ommx::Instance>(*this, name, "Instance");
}
ommx::ParametricInstance Attachments::parametric_instance(std::string_view name) const {
    return decode_ommx<ommx::ParametricInstance>(*this, name, "ParametricInstance");
}
ommx::Solution Attachments::solution(std::string_view name) const {
    return decode_ommx<ommx::Solution>(*this, name, "Solution");
}
ommx::SampleSet Attachments::sample_set(std::string_view name) const {
    return decode_ommx<ommx::SampleSet>(*this, name, "SampleSet");
}

fs::path Attachments::write(std::string_view name, const fs::path& path, bool overwrite) const {
    const auto& d = descriptor(name);
    const auto rel = safe_relative_path(name);
    fs::path target = path;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        fs::path p = path;
        for (const auto& part : fs::path(rel).parent_path()) {
            p /= part;
            if (fs::is_symlink(fs::symlink_status(p, ec)))
                throw Error(Errc::invalid_input, "write attachment", p.string(), "refusing to write through a symlink");
        }
        target = path / rel;
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw Error(Errc::io, "create directory", target.parent_path().string(), ec.message());
    }
    const auto st = fs::symlink_status(target, ec);
    if (st.type() == fs::file_type::none)  // neither there nor absent: lstat failed
        throw Error(Errc::io, "write attachment", target.string(), ec.message());
    if (fs::exists(st) || fs::is_symlink(st)) {
        if (!overwrite) throw Error(Errc::already_exists, "write attachment", target.string(), "exists, and overwriting it was not asked for");
        if (fs::is_directory(st)) throw Error(Errc::already_exists, "write attachment", target.string(), "is a directory");
    }
    util::TempFile tmp(util::directory_of(target));
    // Streamed (and decompressed as it streams), whatever the size; the end
    // of the stream is reached only when the stored blob verified.
    const auto in = open_plain(d, SIZE_MAX);
    std::vector<std::byte> buf(content::default_chunk_size);
    while (const auto n = in->read(buf)) tmp.write(std::span(buf).first(n));
    tmp.commit(target, true);  // only verified content becomes visible
    return target;
}

// Context is what the experiment index says about a run opened through it.
struct SealedRun::Context {
    rules::PartContext part;
};

SealedRun SealedRun::open(content::ReadOnlyTarget& target, std::string_view reference, const CodecRegistry& codecs) {
    const auto manifest = target.resolve(reference);
    try {
        return open(target, manifest, codecs);
    } catch (const Error& e) {
        if (e.subject() != manifest.digest.str()) throw;
        throw Error(e.code(), e.operation(), std::string(reference), e.reason());
    }
}

SealedRun SealedRun::open(content::ReadOnlyTarget& target, const oci::Descriptor& manifest, const CodecRegistry& codecs) {
    return open_part(target, manifest, codecs, Context{});
}

SealedRun SealedRun::open_part(content::ReadOnlyTarget& target, const oci::Descriptor& manifest,
                               const CodecRegistry& codecs, const Context& context) {
    rules::ThrowingSink sink(manifest.digest.str());
    auto part = read_part(target, manifest, rules::PartKind::run, sink);
    auto ctx = context.part;
    ctx.manifest_annotations = &part.manifest.annotations;
    auto rc = rules::read_run_config(part.config, part.manifest.layers, ctx, sink);
    SealedRun r(Attachments(target, part.manifest.layers, rc.attachments, codecs));
    r.manifest_ = manifest;
    r.target_ = &target;
    r.run_id_ = rc.run_id;
    r.status_ = std::move(rc.status);
    r.reason_ = rc.reason.value_or("");
    r.parameters_ = std::move(rc.parameters);
    r.solves_ = std::move(rc.solves);
    r.samplings_ = std::move(rc.samplings);
    if (rc.trace_layer) r.trace_ = part.manifest.layers[*rc.trace_layer];
    if (rc.trace_attachment) r.trace_ = r.attachments_.descriptor(*rc.trace_attachment);
    r.config_ = std::move(part.config);
    return r;
}

std::optional<nlohmann::json> SealedRun::trace() const {
    if (!trace_) return std::nullopt;
    // A version-1 trace is an attachment, maybe "+zstd"; a trace layer never is.
    if (const auto it = config_.find("trace"); it != config_.end() && it->is_string())
        return codecs::JsonCodec::decode(attachments_.blob(it->get<std::string>()));
    return oci::parse_json_strict(content::read_all(*target_, *trace_, max_attachment_read), "trace " + trace_->digest.str(),
                                  max_attachment_read);
}

SealedExperiment SealedExperiment::open(content::ReadOnlyTarget& target, std::string_view reference,
                                        const CodecRegistry& codecs) {
    auto root = target.resolve(reference);
    const std::string who(reference);
    // An OMMX experiment is one image manifest; its reader says when it is not one.
    if (oci::is_manifest_type(root.media_type)) return detail::OmmxExperimentReader::open(target, root, codecs, who);
    if (!oci::is_index_type(root.media_type))
        invalid(who, "is not a sealed experiment (" + root.media_type + ", not an experiment index)");
    auto index = oci::ImageIndex::parse(content::read_all(target, root, oci::max_manifest_size));
    // An older tool may have dropped artifactType; the annotation survives.
    const auto typing = rules::experiment_typing(index);
    if (typing != rules::Typing::experiment && typing != rules::Typing::by_annotation)
        invalid(who, "is not a sealed experiment (artifactType and annotation " + std::string(format::keys::artifact_type) +
                         " do not say so)");
    rules::ThrowingSink sink(who);
    rules::check_declared(root, index.media_type, sink);
    auto model = rules::read_experiment_index(index, typing, sink);
    SealedExperiment e(target, codecs, std::move(root), std::move(index));
    e.name_ = std::move(model.name);
    e.status_ = model.status.value_or("");
    for (const auto& entry : model.runs)
        if (entry.id) e.runs_.emplace(*entry.id, entry.index);
    e.attachments_index_ = model.attachments;
    e.summary_index_ = model.summary;
    e.run_count_ = model.run_count;
    for (const auto& p : model.pages) e.pages_.push_back(Page{p.index, p.first, p.last});
    return e;
}

std::size_t SealedExperiment::run_count() const noexcept {
    if (opened_runs_) return opened_runs_->size();
    if (run_count_) return static_cast<std::size_t>(*run_count_);
    return runs_.size();
}

const ExperimentSummary* SealedExperiment::summary() const {
    const std::lock_guard lock(summary_->mutex);
    if (!summary_->loaded && summary_index_) {
        const auto& entry = index_.manifests[*summary_index_];
        const auto who = "experiment summary " + entry.digest.str();
        rules::ThrowingSink sink(who);
        if (!oci::is_manifest_type(entry.media_type)) invalid(who, "is not an image manifest");
        const auto m = oci::ImageManifest::parse(content::read_all(*target_, entry, oci::max_manifest_size));
        rules::check_declared(entry, m.media_type, sink);
        rules::check_summary_manifest(m, sink);
        auto parsed = detail::parse_summary(content::read_all(*target_, m.layers.front(), format::max_summary_size), who);
        // The model the index gives, for the cheap cross-checks.
        format::rules::ExperimentIndex model;
        model.name = name_;
        model.run_count = run_count_;
        for (const auto& p : pages_) model.pages.push_back({p.index, p.first, p.last});
        std::map<std::int64_t, oci::Descriptor> entries;
        if (pages_.empty()) {
            for (const auto& [id, i] : runs_) entries.emplace(id, index_.manifests[i]);
            model.run_count = static_cast<std::int64_t>(runs_.size());
        }
        rules::check_summary_index(parsed, model, pages_.empty() ? &entries : nullptr, sink);
        summary_->value = std::make_shared<const ExperimentSummary>(std::move(parsed));
    }
    summary_->loaded = true;
    return summary_->value.get();
}

std::shared_ptr<const std::map<std::int64_t, oci::Descriptor>> SealedExperiment::page(std::size_t n) const {
    const std::lock_guard lock(page_cache_->mutex);
    auto& slot = page_cache_->pages[n];
    if (!slot) {
        const auto& p = pages_[n];
        const auto& entry = index_.manifests[p.index];
        rules::ThrowingSink sink("page " + entry.digest.str());
        auto doc = oci::ImageIndex::parse(content::read_all(*target_, entry, oci::max_manifest_size));
        rules::check_declared(entry, doc.media_type, sink);
        const auto runs = rules::read_page(doc, {p.index, p.first, p.last}, sink);
        auto map = std::make_shared<std::map<std::int64_t, oci::Descriptor>>();
        for (const auto& r : runs) map->emplace(*r.id, std::move(doc.manifests[r.index]));
        slot = std::move(map);
    }
    return slot;
}

std::vector<std::int64_t> SealedExperiment::run_ids() const {
    std::vector<std::int64_t> out;
    if (opened_runs_)
        for (const auto& [id, _] : *opened_runs_) out.push_back(id);
    for (const auto& [id, _] : runs_) out.push_back(id);
    if (pages_.empty()) return out;
    if (const auto* s = summary()) {
        out.reserve(s->runs.size());
        for (const auto& row : s->runs) out.push_back(row.run_id);
        return out;
    }
    // An older paged archive: every page, counted against the index.
    for (std::size_t n = 0; n < pages_.size(); ++n)
        for (const auto& [id, _] : *page(n)) out.push_back(id);
    rules::ThrowingSink sink(root_.digest.str());
    format::rules::ExperimentIndex model;
    model.run_count = run_count_;
    rules::check_page_count(model, out.size(), sink);
    return out;
}

SealedRun SealedExperiment::run(std::int64_t id) const {
    if (opened_runs_) {
        const auto found = opened_runs_->find(id);
        if (found == opened_runs_->end())
            throw Error(Errc::not_found, "open run", std::to_string(id), "the experiment has no such run");
        return found->second;
    }
    const oci::Descriptor* found = nullptr;
    std::shared_ptr<const std::map<std::int64_t, oci::Descriptor>> held;  // keeps the page alive
    if (pages_.empty()) {
        auto it = runs_.find(id);
        if (it != runs_.end()) found = &index_.manifests[it->second];
    } else {
        const auto p = std::upper_bound(pages_.begin(), pages_.end(), id, [](std::int64_t v, const Page& pg) { return v < pg.first; });
        if (p != pages_.begin() && std::prev(p)->last >= id) {
            held = page(static_cast<std::size_t>(std::prev(p) - pages_.begin()));
            if (const auto it = held->find(id); it != held->end()) found = &it->second;
        }
    }
    if (found == nullptr) throw Error(Errc::not_found, "open run", std::to_string(id), "the experiment has no such run");
    const auto& entry = *found;
    // The index entry's id must be the config's (FORMAT §3.1): the rulebook's run-id rule.
    return SealedRun::open_part(*target_, entry, *codecs_,
                                SealedRun::Context{{.entry_id = id, .entry_annotations = &entry.annotations,
                                                    .experiment_name = name_}});
}

std::vector<SealedRun> SealedExperiment::runs() const {
    std::vector<SealedRun> out;
    for (const auto id : run_ids()) out.push_back(run(id));
    return out;
}

ParameterTable SealedExperiment::parameters() const {
    ParameterTable t;
    std::set<std::string> names;
    if (const auto* s = opened_runs_ ? nullptr : summary()) {
        for (const auto& row : s->runs)
            for (const auto& [k, _] : row.parameters) names.insert(k);
        t.columns.assign(names.begin(), names.end());
        t.run_ids.reserve(s->runs.size());
        t.rows.reserve(s->runs.size());
        for (const auto& row : s->runs) {
            t.run_ids.push_back(row.run_id);
            std::vector<nlohmann::json> cells;
            cells.reserve(t.columns.size());
            for (const auto& c : t.columns) {
                const auto it = row.parameters.find(c);
                cells.push_back(it == row.parameters.end() ? nlohmann::json(nullptr) : parameter_to_json(it->second));
            }
            t.rows.push_back(std::move(cells));
        }
        return t;
    }
    const auto all = runs();
    for (const auto& r : all)
        for (const auto& [k, _] : r.parameters()) names.insert(k);
    t.columns.assign(names.begin(), names.end());
    for (const auto& r : all) {
        t.run_ids.push_back(r.run_id());
        std::vector<nlohmann::json> row;
        for (const auto& c : t.columns) {
            auto it = r.parameters().find(c);
            row.push_back(it == r.parameters().end() ? nlohmann::json(nullptr) : parameter_to_json(it->second));
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

const Attachments& SealedExperiment::attachments() const {
    // One cache for every copy of this view, filled under its lock: a view
    // shared across threads opens the manifest once and never races.
    const std::lock_guard lock(attachments_->mutex);
    if (!attachments_->value) {
        if (!attachments_index_) {
            attachments_->value = std::make_shared<const Attachments>(*target_, std::vector<oci::Descriptor>{},
                                                                      std::map<std::string, std::size_t>{}, *codecs_);
        } else {
            const auto& entry = index_.manifests[*attachments_index_];
            rules::ThrowingSink sink(entry.digest.str());
            const auto part = read_part(*target_, entry, rules::PartKind::attachments, sink);
            const auto ac = rules::read_attachments_config(part.config, part.manifest.layers,
                                                           {.experiment_name = name_}, sink);
            attachments_->value = std::make_shared<const Attachments>(*target_, part.manifest.layers, ac.attachments, *codecs_);
        }
    }
    return *attachments_->value;
}

std::vector<std::string> SealedExperiment::attachment_names() const { return attachments().names(); }

}  // namespace sealrun

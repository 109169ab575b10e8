// Sealing: Experiment::commit() turns records into OCI manifests
// (docs/FORMAT.md). Files stream from disk; nothing is held whole.
#include <algorithm>
#include <functional>
#include <set>

#include <unistd.h>

#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/json.h"
#include "sealrun/codecs/zstd.h"
#include "sealrun/content/oci_layout.h"
#include "sealrun/error.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/model.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "codecs/media_types.h"
#include "experiment/index_writer.h"
#include "experiment/lineage.h"
#include "experiment/trace_slot.h"
#include "content/file_stream.h"
#include "util/fs.h"

namespace sealrun {

namespace fs = std::filesystem;

namespace {

// HashingStream hashes and counts what is read through it.
class HashingStream final : public content::ReadStream {
public:
    explicit HashingStream(content::ReadStream& in) : in_(in) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const auto n = in_.read(buffer);
        hasher.update(buffer.first(n));
        size += static_cast<std::int64_t>(n);
        return n;
    }
    oci::Hasher hasher;
    std::int64_t size = 0;

private:
    content::ReadStream& in_;
};

// check_payload runs the streaming check of the codec an attachment is
// sealed under (the check validate() runs): what the codec cannot decode is
// refused here, not sealed and then reported invalid (docs/FORMAT.md).
void check_payload(const CodecEntry* codec, content::ReadStream& in, const std::string& name) {
    if (codec == nullptr || !codec->check) return;
    try {
        (void)codec->check(in);
    } catch (const Error& e) {
        if (e.code() != Errc::invalid_input && e.code() != Errc::unsupported) throw;
        throw Error(Errc::invalid_input, "seal", name, "not valid " + codec->media_type + ": " + e.reason());
    }
}

// describe hashes a file as it streams by; a codec given checks it on the way.
oci::Descriptor describe(content::FileStream in, std::string media_type, const CodecEntry* codec = nullptr,
                         const std::string& name = {}) {
    HashingStream hashed(in);
    check_payload(codec, hashed, name);
    content::drain(hashed);
    return oci::Descriptor{.media_type = std::move(media_type), .digest = hashed.hasher.finish(), .size = hashed.size};
}

// compress_file writes `file` zstd-compressed into a temporary file in
// `tmpdir` (codecs/zstd.h, streaming); the file has no name (read it
// through reopen()), so an interrupted seal leaves nothing behind.
std::unique_ptr<util::TempFile> compress_file(const fs::path& file, const fs::path& tmpdir) {
    auto tmp = std::make_unique<util::TempFile>(tmpdir);
    content::FileStream in(file);
    zstd_compress_stream(in, tmp->fd(), file.string());
    return tmp;
}

oci::Descriptor push_json(content::Target& dst, std::string_view media_type, const nlohmann::json& doc) {
    auto bytes = oci::canonical_json(doc);
    auto d = oci::Descriptor::for_bytes(std::string(media_type), bytes);
    if (!dst.exists(d)) content::push_bytes(dst, d, std::move(bytes));
    return d;
}

// Part is what one manifest seals: a record's files plus its config
// document, made by `config` from the attachments table and the trace
// layer's index (the typed model's to_json), and, for a run, its trace file.
struct Part {
    fs::path dir;
    std::vector<std::string> files;
    std::function<nlohmann::json(format::AttachmentTable, std::optional<std::size_t>)> config;
    std::string_view config_type;
    std::string_view artifact_type;
    std::map<std::string, std::string> annotations;
    std::optional<fs::path> trace;
    // The media types given at save or import, by file (Record::media_types).
    std::map<std::string, std::string> media_types = {};
    // share lets a local layout store the files by sharing their storage (a
    // clone, or a hard link made read-only): true for a closed run, whose
    // record nothing writes any more. The experiment's own record stays
    // open after commit: a process that file modes do not stop (the
    // superuser) could write one of its files in place, and so a blob
    // (OciLayout::ingest_file), so for it the layout copies instead.
    bool share = true;
};

// SealedPart is a sealed manifest's descriptor and its config document.
struct SealedPart {
    oci::Descriptor manifest;
    nlohmann::json config;
};

SealedPart seal_part(content::Target& dst, Part part, const CodecRegistry& codecs, const SealOptions& options) {
    oci::ImageManifest m{.artifact_type = std::string(part.artifact_type)};
    // A local layout ingests a record file in one pass (no second read, no
    // second copy where it can share the file's storage); any other target
    // is described, then pushed.
    auto* layout = dynamic_cast<content::OciLayout*>(&dst);
    format::AttachmentTable table;
    std::optional<std::size_t> trace_layer;
    const auto tmpdir = util::temp_directory("seal");
    for (const auto& name : part.files) {
        const auto file = part.dir / name;
        // The media type the user gave, else sealrun's rule (media_types.h).
        const auto given = part.media_types.find(name);
        if (given != part.media_types.end()) media::check_override(name, given->second);
        std::string media_type = given != part.media_types.end() ? given->second : media::detect_file(codecs, name, file);
        auto codec = codecs.by_media_type(media_type);
        std::unique_ptr<util::TempFile> packed;
        if (options.compress) {
            packed = compress_file(file, tmpdir);
            media_type += zstd_suffix;
        }
        // source reads what is sealed (the file or its compressed copy) from its start.
        const auto source = [&] { return packed ? content::FileStream(packed->reopen(), packed->path()) : content::FileStream(file); };
        if (packed) {  // the check reads what the codec decodes: the file, not its compressed copy
            content::FileStream plain(file);
            check_payload(codec.get(), plain, name);
        }
        oci::Descriptor d;
        if (layout != nullptr && !packed) {
            // The local layout: one pass that checks, hashes and stores
            // (a clone, a read-only hard link, or one copy; ingest_file).
            d = layout->ingest_file(file, std::move(media_type),
                                    {.share = part.share,
                                     .inspect = [&](content::ReadStream& in) { check_payload(codec.get(), in, name); }})
                    .descriptor;
        } else {
            d = describe(source(), std::move(media_type), packed ? nullptr : codec.get(), name);
            if (!dst.exists(d)) {
                auto in = source();
                dst.push(d, in);
            }
        }
        d.annotations.emplace(oci::annotations::title, name);
        table[name] = m.layers.size();
        m.layers.push_back(std::move(d));
    }
    // The trace is a layer of its own after the attachments, never compressed,
    // untitled and outside the table: config.trace is its index (FORMAT §4.4).
    // It is checked as JSON on the way, as validate() will.
    if (part.trace) {
        const auto json = codecs.registered_codec(codecs::JsonCodec::media_type);
        oci::Descriptor d;
        if (layout != nullptr) {
            d = layout->ingest_file(*part.trace, std::string(format::trace_type),
                                    {.inspect = [&](content::ReadStream& in) { check_payload(json.get(), in, part.trace->string()); }})
                    .descriptor;
        } else {
            d = describe(content::FileStream(*part.trace), std::string(format::trace_type), json.get(), part.trace->string());
            if (!dst.exists(d)) {
                content::FileStream in(*part.trace);
                dst.push(d, in);
            }
        }
        trace_layer = m.layers.size();
        m.layers.push_back(std::move(d));
    }
    if (m.layers.empty()) {
        auto e = oci::empty_descriptor();
        if (!dst.exists(e)) content::push_bytes(dst, e, *e.data);
        e.data.reset();
        m.layers.push_back(std::move(e));
    }
    auto config = part.config(std::move(table), trace_layer);
    m.config = push_json(dst, part.config_type, config);
    m.annotations = std::move(part.annotations);
    auto bytes = m.serialize();
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), bytes);
    if (!dst.exists(d)) content::push_bytes(dst, d, std::move(bytes));
    d.artifact_type = m.artifact_type;
    return SealedPart{std::move(d), std::move(config)};
}

void require_attachment(const std::set<std::string>& files, const std::string& name, const std::string& who) {
    if (!files.contains(name))
        throw Error(Errc::invalid_input, "commit", who, "names attachment \"" + name + "\", which the run does not hold");
}

}  // namespace

oci::Descriptor Experiment::commit(content::Target& dst, std::string_view tag, const SealOptions& options) {
    const std::lock_guard lock(lineage_->mutex);
    const auto root = seal_index(dst, options, "", false, false);
    content::tag_with(dst, root, tag, options.force || tag == lineage_->origin_tag ? content::TagPolicy::replace
                                                                                   : content::TagPolicy::keep);
    lineage_->settled = true;  // committed: nothing for a crash checkpoint to save
    if (!options_.checkpoint.tag.empty()) {  // and the store's checkpoint is replaced by what was committed
        content::OciLayout store_layout(store_->root());
        detail::Lineage::settle(*this, store_layout, tag);
    }
    return root;
}

oci::Descriptor Experiment::seal_index(content::Target& dst, const SealOptions& options, const std::string& status,
                                       bool skip_open, bool into_store, const std::map<std::string, std::string>& annotations) {
    const auto& codecs = store_->codecs();
    auto& l = *lineage_;
    detail::IndexParts parts{.name = name_, .annotations = annotations_, .subject = l.subject, .status = status,
                             .summary_values = options.summary_values, .runs_per_page = options.runs_per_page};
    for (const auto& [k, v] : annotations) parts.annotations[k] = v;
    const auto max_runs = runs_.size() + l.kept.size();
    detail::check_index_fits(parts, max_runs);  // before anything is pushed
    attachments_->materialize();  // flushes experiment-level files saved so far
    if (const auto shared = attachments_->files(); !shared.empty()) {
        auto make_config = [this](format::AttachmentTable table, std::optional<std::size_t>) {
            return format::AttachmentsConfig{.experiment = name_, .attachments = std::move(table)}.to_json();
        };
        parts.attachments = seal_part(dst,
                           Part{attachments_->local_directory(), shared, std::move(make_config),
                                format::attachments_config_type, format::attachments_artifact_type, {},
                                std::nullopt, attachments_->media_types(), ::geteuid() != 0},
                           codecs, options).manifest;
    }
    // Summary values are read from the records' files (the sealed bytes),
    // a kept run's from its sealed attachments.
    parts.values = detail::Lineage::value_reader(*this, options.summary_values);
    // Runs go to the writer by ascending id, each written and let go: the
    // kept runs (ids below the new ones), then this experiment's.
    detail::IndexWriter index(dst, std::move(parts), max_runs);
    detail::Lineage::add_kept_runs(*this, dst, into_store, index);
    // A closed run never changes: with checkpoints, sealed into the store
    // once and its entry kept (Lineage::sealed), so the next checkpoint
    // does not hash it again. Without, nothing is kept per run.
    const bool keep = into_store && l.keeps_sealed(*this);
    for (std::size_t i = 0; i < runs_.size(); ++i) {
        Run* run = runs_[i].get();  // null: closed and let go (keep_closed_runs), in its record
        const auto id = l.first_run_id + static_cast<std::int64_t>(i);
        const auto who = "run " + std::to_string(id);
        if (run != nullptr && !run->closed()) {
            if (skip_open) continue;
            throw Error(Errc::invalid_input, "commit", who, "is still open: finish, fail or interrupt it first");
        }
        if (into_store) {
            if (const auto it = l.sealed.find(std::pair(id, options.compress)); it != l.sealed.end()) {
                index.add(it->second);
                continue;
            }
        }
        std::optional<Record> reopened;
        Record& record = record_at(i, reopened);
        const auto model = record.model();
        const auto files = record.files();
        // model.json is merge-patched, so keys whose value was null are absent.
        auto get = [&](const char* key) { return model.contains(key) ? model[key] : nlohmann::json(nullptr); };
        auto text = [&](const char* key) {
            const auto v = get(key);
            return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
        };
        std::optional<fs::path> trace;
        if (!get("trace").is_null()) {
            trace = record.local_directory() / std::string(detail::record_trace_file);
            if (!util::regular_file_size(*trace))
                throw Error(Errc::invalid_input, "commit", who + " trace", "the record's trace file " + trace->string() + " is missing");
        }
        // The run config (FORMAT §4.2), through the typed model.
        const auto status = text("status").value_or("");  // Run::close wrote it
        format::RunConfig config{.experiment = name_, .run_id = id, .status = status,
                                 .reason = text("reason"), .started = text("started"), .ended = text("ended"),
                                 .kind = text("run_kind"), .settings = get("run_config")};
        if (const auto params = get("parameters"); params.is_object())
            for (const auto& [k, v] : params.items()) config.parameters.emplace(k, parameter_from_json(v, who + " parameter " + k));
        if (const auto solves = get("solves"); solves.is_array())
            for (const auto& s : solves) config.solves.push_back(SolveRecord::from_json(s, who + " solves"));
        if (const auto samplings = get("samplings"); samplings.is_array())
            for (const auto& s : samplings) config.samplings.push_back(SamplingRecord::from_json(s, who + " samplings"));
        // What a solve or sampling names must be an attachment of the run.
        const std::set<std::string> present(files.begin(), files.end());
        const auto require_call = [&](const std::string& what, const std::string& input, const std::optional<std::string>& output) {
            require_attachment(present, input, who + " " + what);
            if (output) require_attachment(present, *output, who + " " + what);
        };
        for (const auto& s : config.solves) require_call("solve " + std::to_string(s.solve_id), s.input, s.output);
        for (const auto& s : config.samplings) require_call("sampling " + std::to_string(s.sampling_id), s.input, s.output);
        auto make_config = [config](format::AttachmentTable table, std::optional<std::size_t> trace_layer) mutable {
            config.attachments = std::move(table);
            config.trace_layer = trace_layer;
            return config.to_json();
        };
        auto sealed = seal_part(dst,
                           Part{record.local_directory(), files, std::move(make_config), format::run_config_type,
                                format::run_artifact_type,
                                {{std::string(format::keys::run_id), std::to_string(id)},
                                 {std::string(format::keys::run_status), status}},
                                std::move(trace), record.media_types()},
                           codecs, options);
        detail::RunEntry entry{.manifest = std::move(sealed.manifest), .run_id = id, .status = status,
                               .config = detail::summary_config(sealed.config)};
        index.add(entry);
        if (keep) l.sealed.insert_or_assign(std::pair(entry.run_id, options.compress), std::move(entry));
    }
    return index.finish();
}

oci::Descriptor Experiment::commit(std::string_view tag, const SealOptions& options) {
    const std::lock_guard lock(lineage_->mutex);
    content::OciLayout layout(store_->root());
    const auto root = seal_index(layout, options, "", false, true);
    content::tag_with(layout, root, tag, options.force || tag == lineage_->origin_tag ? content::TagPolicy::replace
                                                                                     : content::TagPolicy::keep);
    detail::Lineage::settle(*this, layout, tag);
    // The store now holds the records' content: gc may drop them once no
    // tag names this root (RecordStore::collect, docs/RECORDS.md).
    for (std::size_t i = 0; i < runs_.size(); ++i) {
        std::optional<Record> reopened;
        record_at(i, reopened).note_sealed(root.digest.str());
    }
    attachments_->note_sealed(root.digest.str());
    return root;
}

}  // namespace sealrun

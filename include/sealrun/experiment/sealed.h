#pragma once
/// Reading sealed experiments: immutable, lazy views over any
/// content::ReadOnlyTarget (the local store, an archive, a registry).
/// Attachment bytes are fetched only when asked for, and verified against
/// their digests.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/json.h"
#include "sealrun/codecs/ommx.h"
#include "sealrun/content/target.h"
#include "sealrun/experiment/model.h"
#include "sealrun/experiment/summary.h"
#include "sealrun/oci/manifest.h"

namespace sealrun {

namespace detail {
// OmmxExperimentReader builds the views of an OMMX experiment archive
// (src/experiment/ommx_experiment.cpp); it fills their private parts.
struct OmmxExperimentReader;
}  // namespace detail

/// max_attachment_read is the most get_attachment / get_blob read into
/// memory (1 GiB, after zstd decompression); write_attachment streams (and
/// decompresses a "+zstd" attachment as it streams) and has no such cap.
inline constexpr std::size_t max_attachment_read = std::size_t{1} << 30;

/// Attachments is a set of named layers of one sealed manifest, with the
/// getters SealedRun and SealedExperiment share. Cheap to copy; the target
/// must outlive it. Its const methods may be called from several threads at
/// once (the target's are).
class Attachments {
public:
    /// Attachments names `layers` of a manifest read from `target` by
    /// `table` (attachment name → layer index, already checked), decoded
    /// with `codecs`.
    Attachments(content::ReadOnlyTarget& target, std::vector<oci::Descriptor> layers, std::map<std::string, std::size_t> table,
                const CodecRegistry& codecs);

    /// names returns the attachment names, sorted.
    std::vector<std::string> names() const;
    /// contains reports whether an attachment `name` exists.
    bool contains(std::string_view name) const;
    /// media_type returns the attachment's logical media type, the type of
    /// its content whether or not it is stored compressed (descriptor(name)
    /// has the stored type, "+zstd" included); throws Error(not_found).
    std::string media_type(std::string_view name) const;
    /// compression returns how the attachment is stored: "zstd" when
    /// compressed (seal --compress), "" when stored as it is; throws
    /// Error(not_found).
    std::string compression(std::string_view name) const;
    /// descriptor returns the layer descriptor of `name`; throws Error(not_found).
    const oci::Descriptor& descriptor(std::string_view name) const;
    /// blob returns the attachment's bytes (decompressed when stored
    /// "+zstd"), verified; throws Error(digest_mismatch) for corrupt content.
    std::string blob(std::string_view name) const;
    /// value decodes the attachment with the codec its media type names;
    /// throws Error(unsupported) when no codec is registered for it.
    Value value(std::string_view name) const;
    /// with_codec decodes with codec C; throws Error(invalid_input) before
    /// decoding anything when the stored (logical) media type is not C's.
    template <Codec C>
    typename C::value_type with_codec(std::string_view name) const {
        check_codec(name, C::media_type);
        return C::decode(blob(name));
    }
    /// check_codec throws Error(invalid_input) when the stored (logical)
    /// media type of `name` is not `codec_media_type`, the check with_codec
    /// makes before decoding; for codecs known only at run time (the
    /// Python package's codec classes). Throws Error(not_found) too.
    void check_codec(std::string_view name, std::string_view codec_media_type) const;
    /// instance, parametric_instance, solution and sample_set decode an
    /// OMMX payload stored under its v1 or v2 media type (the value says
    /// which); they throw Error(invalid_input) before reading anything when
    /// the attachment is of another type, and for bytes that are not the
    /// message. Error(not_found) too.
    ommx::Instance instance(std::string_view name) const;
    ommx::ParametricInstance parametric_instance(std::string_view name) const;
    ommx::Solution solution(std::string_view name) const;
    ommx::SampleSet sample_set(std::string_view name) const;
    /// write streams the attachment to `path` (or, when `path` is an existing
    /// directory, to the attachment's name inside it), verified before it
    /// becomes visible; keeps an existing file unless `overwrite`. Returns the
    /// path written. Throws Error(already_exists), or Error(invalid_input)
    /// for a name that would leave the directory.
    std::filesystem::path write(std::string_view name, const std::filesystem::path& path, bool overwrite) const;

private:
    std::unique_ptr<content::ReadStream> open_plain(const oci::Descriptor& d, std::size_t max_size) const;

    content::ReadOnlyTarget* target_;
    std::vector<oci::Descriptor> layers_;
    std::map<std::string, std::size_t, std::less<>> table_;
    const CodecRegistry* codecs_;
};

/// SealedRun is the read-only view of one closed run.
class SealedRun {
public:
    /// open reads the run manifest `manifest` and its config from `target`
    /// (nothing else) and checks them by the rulebook validate() applies too
    /// (docs/FORMAT.md §4.3): artifact type, config schema, layer table in
    /// range, titles that are safe relative names equal to their table
    /// names, known statuses, finished solves with outputs, the trace slot.
    /// Throws Error(invalid_input) naming the first problem.
    static SealedRun open(content::ReadOnlyTarget& target, const oci::Descriptor& manifest,
                          const CodecRegistry& codecs = CodecRegistry::global());
    /// open resolves `reference` (a tag or digest) in `target` and opens the
    /// run manifest it names, as above; its errors name `reference`, the
    /// subject the caller was given, rather than the manifest's digest.
    static SealedRun open(content::ReadOnlyTarget& target, std::string_view reference,
                          const CodecRegistry& codecs = CodecRegistry::global());

    /// run_id returns the run's id within its experiment.
    std::int64_t run_id() const noexcept { return run_id_; }
    /// status returns "finished", "failed" or "interrupted".
    const std::string& status() const noexcept { return status_; }
    /// reason returns why a run failed or was interrupted (empty otherwise).
    const std::string& reason() const noexcept { return reason_; }
    /// parameters returns the run's parameters.
    const std::map<std::string, Parameter>& parameters() const noexcept { return parameters_; }
    /// solves returns the run's solves ordered by solve id.
    const std::vector<SolveRecord>& solves() const noexcept { return solves_; }
    /// samplings returns the run's samplings (a sampler's calls: an input
    /// and a SampleSet output) ordered by sampling id.
    const std::vector<SamplingRecord>& samplings() const noexcept { return samplings_; }
    /// trace returns the run's trace, read from its own layer (or, in a
    /// version-1 run, from the attachment holding it) and verified, or
    /// nullopt when the run has none. Throws Error(digest_mismatch) for
    /// corrupt content, Error(invalid_input) when it is not strict JSON.
    std::optional<nlohmann::json> trace() const;
    /// trace_descriptor returns the descriptor of the trace's stored bytes
    /// (its size and digest), or nullopt when the run has none; reads nothing.
    const std::optional<oci::Descriptor>& trace_descriptor() const noexcept { return trace_; }
    /// config returns the run's config document as stored.
    const nlohmann::json& config() const noexcept { return config_; }
    /// manifest returns the run manifest's descriptor.
    const oci::Descriptor& manifest() const noexcept { return manifest_; }

    /// attachment_names returns the run's attachment names, sorted.
    std::vector<std::string> attachment_names() const { return attachments_.names(); }
    /// attachment_media_type returns the logical media type of `name` (see Attachments::media_type).
    std::string attachment_media_type(std::string_view name) const { return attachments_.media_type(name); }
    /// attachment_compression returns "zstd" or "" (see Attachments::compression).
    std::string attachment_compression(std::string_view name) const { return attachments_.compression(name); }
    /// get_attachment decodes `name` with the codec its media type names
    /// (see Attachments::value); throws Error(not_found), Error(unsupported).
    Value get_attachment(std::string_view name) const { return attachments_.value(name); }
    /// get_blob returns the verified bytes of `name`, decompressed (see Attachments::blob).
    std::string get_blob(std::string_view name) const { return attachments_.blob(name); }
    /// get_json decodes `name` as JSON; throws Error(invalid_input) when it
    /// is not stored as application/json (see Attachments::with_codec).
    nlohmann::json get_json(std::string_view name) const { return attachments_.with_codec<codecs::JsonCodec>(name); }
    /// get_instance, get_parametric_instance, get_solution and
    /// get_sample_set decode an OMMX payload (see Attachments::instance).
    ommx::Instance get_instance(std::string_view name) const { return attachments_.instance(name); }
    ommx::ParametricInstance get_parametric_instance(std::string_view name) const {
        return attachments_.parametric_instance(name);
    }
    ommx::Solution get_solution(std::string_view name) const { return attachments_.solution(name); }
    ommx::SampleSet get_sample_set(std::string_view name) const { return attachments_.sample_set(name); }
    /// get_with_codec decodes `name` with codec C (see Attachments::with_codec).
    template <Codec C>
    typename C::value_type get_with_codec(std::string_view name) const {
        return attachments_.template with_codec<C>(name);
    }
    /// write_attachment streams `name` to `path`, verified (see Attachments::write).
    std::filesystem::path write_attachment(std::string_view name, const std::filesystem::path& path,
                                           bool overwrite = false) const {
        return attachments_.write(name, path, overwrite);
    }
    /// attachments returns the shared getter set.
    const Attachments& attachments() const noexcept { return attachments_; }

private:
    friend class SealedExperiment;
    friend struct detail::OmmxExperimentReader;
    struct Context;
    static SealedRun open_part(content::ReadOnlyTarget& target, const oci::Descriptor& manifest,
                               const CodecRegistry& codecs, const Context& context);
    SealedRun(Attachments a) : attachments_(std::move(a)) {}
    content::ReadOnlyTarget* target_ = nullptr;
    std::optional<oci::Descriptor> trace_;
    oci::Descriptor manifest_;
    Attachments attachments_;
    nlohmann::json config_;
    std::int64_t run_id_ = 0;
    std::string status_;
    std::string reason_;
    std::map<std::string, Parameter> parameters_;
    std::vector<SolveRecord> solves_;
    std::vector<SamplingRecord> samplings_;
};

/// ParameterTable lines runs up against parameter names for comparison;
/// a cell is null where a run lacks the parameter.
struct ParameterTable {
    /// columns are the parameter names of every run, sorted.
    std::vector<std::string> columns;
    /// run_ids are the runs, one per row, ascending.
    std::vector<std::int64_t> run_ids;
    /// rows hold one cell per column: the parameter's JSON value or null.
    std::vector<std::vector<nlohmann::json>> rows;
};

/// SealedExperiment is the read-only view of a sealed experiment.
class SealedExperiment {
public:
    /// open resolves `reference` (a tag or digest) in `target` and reads the
    /// experiment index, and nothing else, by the rulebook's index rules
    /// (docs/FORMAT.md §3.1). Accepts an index whose OCI 1.1
    /// artifactType fields were dropped by an older tool (the annotations
    /// still say what it is). Throws Error(invalid_input) for anything that
    /// is not a sealed experiment.
    static SealedExperiment open(content::ReadOnlyTarget& target, std::string_view reference,
                                 const CodecRegistry& codecs = CodecRegistry::global());

    /// name returns the experiment's name.
    const std::string& name() const noexcept { return name_; }
    /// status returns "finished" when every run finished, else "failed" or
    /// "interrupted".
    const std::string& status() const noexcept { return status_; }
    /// annotations returns the index annotations.
    const std::map<std::string, std::string>& annotations() const noexcept { return index_.annotations; }
    /// descriptor returns the index descriptor.
    const oci::Descriptor& descriptor() const noexcept { return root_; }
    /// run_count returns how many runs the experiment has, without reading
    /// anything (the index's run count, or its run entries).
    std::size_t run_count() const noexcept;
    /// run_ids returns every run id, ascending: from the index, or for a
    /// paged index from the summary (one manifest and one blob, read once),
    /// or, for an older paged archive without one, from every page.
    std::vector<std::int64_t> run_ids() const;
    /// run opens one run (its manifest and config only; for a paged index,
    /// the page holding it too, once); throws Error(not_found).
    SealedRun run(std::int64_t id) const;
    /// runs opens every run.
    std::vector<SealedRun> runs() const;
    /// parameters builds the runs × parameter names table: from the summary
    /// when the experiment has one (two requests whatever the run count),
    /// else by opening every run (archives sealed before summaries).
    ParameterTable parameters() const;
    /// summary returns the experiment summary (run ids, statuses, reasons,
    /// parameters, chosen values), read and checked against the index on
    /// first use (once for every copy of this view), or null for an archive
    /// sealed without one. Throws Error(invalid_input) for a summary that is
    /// malformed or disagrees with the index, Error(too_large) past
    /// format::max_summary_size.
    const ExperimentSummary* summary() const;

    /// attachment_names returns the experiment-level attachment names,
    /// sorted (empty when there are none).
    std::vector<std::string> attachment_names() const;
    /// attachment_media_type returns the logical media type of `name` (see Attachments::media_type).
    std::string attachment_media_type(std::string_view name) const { return attachments().media_type(name); }
    /// attachment_compression returns "zstd" or "" (see Attachments::compression).
    std::string attachment_compression(std::string_view name) const { return attachments().compression(name); }
    /// get_attachment decodes the experiment attachment `name` (see Attachments::value).
    Value get_attachment(std::string_view name) const { return attachments().value(name); }
    /// get_blob returns the verified bytes of `name`, decompressed (see Attachments::blob).
    std::string get_blob(std::string_view name) const { return attachments().blob(name); }
    /// get_json decodes `name` as JSON (see Attachments::with_codec).
    nlohmann::json get_json(std::string_view name) const { return attachments().with_codec<codecs::JsonCodec>(name); }
    /// get_instance, get_parametric_instance, get_solution and
    /// get_sample_set decode an OMMX payload (see Attachments::instance).
    ommx::Instance get_instance(std::string_view name) const { return attachments().instance(name); }
    ommx::ParametricInstance get_parametric_instance(std::string_view name) const {
        return attachments().parametric_instance(name);
    }
    ommx::Solution get_solution(std::string_view name) const { return attachments().solution(name); }
    ommx::SampleSet get_sample_set(std::string_view name) const { return attachments().sample_set(name); }
    /// get_with_codec decodes `name` with codec C (see Attachments::with_codec).
    template <Codec C>
    typename C::value_type get_with_codec(std::string_view name) const {
        return attachments().template with_codec<C>(name);
    }
    /// write_attachment streams `name` to `path`, verified (see Attachments::write).
    std::filesystem::path write_attachment(std::string_view name, const std::filesystem::path& path,
                                           bool overwrite = false) const {
        return attachments().write(name, path, overwrite);
    }
    /// attachments returns the experiment-level attachments (an empty set
    /// when there are none), opening their manifest on first use: once, for
    /// every copy of this view, whichever thread asks first (the others
    /// wait). Throws Error(invalid_input) when that manifest is not a
    /// well-formed experiment-attachments manifest, and again on each call.
    const Attachments& attachments() const;

private:
    // AttachmentsCache holds the experiment attachments once opened; copies
    // of a view share it.
    struct AttachmentsCache {
        std::mutex mutex;
        std::shared_ptr<const Attachments> value;
    };
    friend struct detail::OmmxExperimentReader;
    SealedExperiment(content::ReadOnlyTarget& t, const CodecRegistry& c, oci::Descriptor root, oci::ImageIndex index)
        : target_(&t), codecs_(&c), root_(std::move(root)), index_(std::move(index)) {}
    content::ReadOnlyTarget* target_;
    const CodecRegistry* codecs_;
    oci::Descriptor root_;
    oci::ImageIndex index_;
    std::string name_;
    std::string status_;
    std::map<std::int64_t, std::size_t> runs_;  // run id → index entry
    std::optional<std::size_t> attachments_index_;
    std::shared_ptr<AttachmentsCache> attachments_ = std::make_shared<AttachmentsCache>();  // opened on first use
    // SummaryCache and PageCache hold the summary and the pages once read;
    // copies of a view share them.
    struct SummaryCache {
        std::mutex mutex;
        bool loaded = false;
        std::shared_ptr<const ExperimentSummary> value;
    };
    struct PageCache {
        std::mutex mutex;
        std::map<std::size_t, std::shared_ptr<const std::map<std::int64_t, oci::Descriptor>>> pages;  // by page number
    };
    std::shared_ptr<const std::map<std::int64_t, oci::Descriptor>> page(std::size_t n) const;
    struct Page {
        std::size_t index;  // entry in index_.manifests
        std::int64_t first, last;
    };
    std::vector<Page> pages_;
    std::optional<std::size_t> summary_index_;
    std::optional<std::int64_t> run_count_;
    std::shared_ptr<SummaryCache> summary_ = std::make_shared<SummaryCache>();
    std::shared_ptr<PageCache> page_cache_ = std::make_shared<PageCache>();
    // opened_runs_ holds every run of an experiment whose format keeps them
    // all in one document (an OMMX experiment), opened with the view; null
    // for a sealrun experiment, whose runs open one manifest each.
    std::shared_ptr<const std::map<std::int64_t, SealedRun>> opened_runs_;
};

}  // namespace sealrun

#pragma once
/// The typed model of sealrun's archive format (docs/FORMAT.md §4, §5): the
/// values a sealed run holds (parameters, solves, samplings) and the config documents
/// as value types. The writer (Experiment::commit) builds its configs
/// through to_json; the reader (SealedRun) and validate() read them through
/// one rule set (src/experiment/rules.h), which from_json applies too.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/descriptor.h"

namespace sealrun {

/// Parameter is a scalar run parameter.
using Parameter = std::variant<bool, std::int64_t, double, std::string>;

/// parameter_to_json returns `p` as a JSON scalar.
nlohmann::json parameter_to_json(const Parameter& p);

/// parameter_from_json returns the JSON scalar `value` as the Parameter it
/// holds exactly: a bool, an integer in [-2^63, 2^63-1], a finite number or
/// a string. It is the one rule for parameters read from JSON (the CLI's
/// model.json, run configs in SealedRun and validate()). Throws
/// Error(invalid_input) naming `name` for anything else: an integer past
/// 2^63-1 (never wrapped), NaN or an infinity, null, an array or an object.
Parameter parameter_from_json(const nlohmann::json& value, const std::string& name);

/// integer_parameter returns the integer `value` as a Parameter; throws
/// Error(invalid_input) naming `name` when it lies outside [-2^63, 2^63-1]
/// (a uint64_t past 2^63-1, a wider type), the range a Parameter holds
/// exactly. Run::log_parameter and parameter_from_json both use it.
template <class T>
Parameter integer_parameter(const std::string& name, T value) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
        if (value > static_cast<T>(INT64_MAX))
            throw Error(Errc::invalid_input, "parameter", name, "integer is larger than 2^63-1");
    } else if constexpr (std::is_signed_v<T> && sizeof(T) > sizeof(std::int64_t)) {
        if (value > static_cast<T>(INT64_MAX))
            throw Error(Errc::invalid_input, "parameter", name, "integer is larger than 2^63-1");
        if (value < static_cast<T>(INT64_MIN))
            throw Error(Errc::invalid_input, "parameter", name, "integer is smaller than -2^63");
    }
    return Parameter(static_cast<std::int64_t>(value));
}

/// SolveRecord is one solver call of a run (docs/FORMAT.md §4.2 "Solves").
struct SolveRecord {
    /// The solve id; -1 in log_solve() takes the next free id.
    std::int64_t solve_id = -1;
    /// "finished", "failed" or "interrupted".
    std::string status = "finished";
    /// Name of the run attachment holding the solver's input.
    std::string input;
    /// Name of the attachment holding the output: required when finished,
    /// absent otherwise.
    std::optional<std::string> output;
    /// The adapter (solver interface) that ran it, e.g. "highs".
    std::string adapter;
    /// adapter_options are the options given to the adapter; an object.
    nlohmann::json adapter_options = nlohmann::json::object();
    /// Free-form diagnostics; null when none.
    nlohmann::json diagnostics;

    /// to_json returns the record as stored in the run config.
    nlohmann::json to_json() const;
    /// from_json reads one strictly; throws Error(invalid_input) naming `path`.
    static SolveRecord from_json(const nlohmann::json& value, const std::string& path);
    /// check throws Error(invalid_input) when status is unknown, input is
    /// empty, output is missing for a finished solve or present for an
    /// unfinished one, or adapter_options is not an object.
    void check() const;
};

/// SamplingRecord is one sampler call of a run (docs/FORMAT.md §4.2
/// "Samplings"): like a solve, with a SampleSet as its output.
struct SamplingRecord {
    /// The sampling id; -1 in log_sampling() takes the next free id.
    std::int64_t sampling_id = -1;
    /// "finished", "failed" or "interrupted".
    std::string status = "finished";
    /// Name of the run attachment holding the sampler's input.
    std::string input;
    /// Name of the attachment holding the output (a SampleSet): required
    /// when finished, absent otherwise.
    std::optional<std::string> output;
    /// The adapter (sampler interface) that ran it, e.g. "openjij".
    std::string adapter;
    /// adapter_options are the options given to the adapter; an object.
    nlohmann::json adapter_options = nlohmann::json::object();
    /// Free-form diagnostics; null when none.
    nlohmann::json diagnostics;

    /// to_json returns the record as stored in the run config.
    nlohmann::json to_json() const;
    /// from_json reads one strictly; throws Error(invalid_input) naming `path`.
    static SamplingRecord from_json(const nlohmann::json& value, const std::string& path);
    /// check throws Error(invalid_input) as SolveRecord::check does.
    void check() const;
};

namespace format {

/// max_config_size is the largest run or experiment config readers accept
/// (64 MiB, docs/FORMAT.md §2.3); the one constant SealedRun and validate()
/// read configs by.
inline constexpr std::size_t max_config_size = std::size_t{64} << 20;

/// AttachmentTable maps each attachment name to its layer index.
using AttachmentTable = std::map<std::string, std::size_t>;

/// RunConfig is a run's config document (docs/FORMAT.md §4.2) as a value.
struct RunConfig {
    /// version is the config version (format::config_version when written).
    std::uint64_t version = static_cast<std::uint64_t>(config_version);
    /// experiment is the experiment's name.
    std::string experiment;
    /// run_id is the run's id within its experiment.
    std::int64_t run_id = 0;
    /// status is "finished", "failed" or "interrupted".
    std::string status;
    /// reason says why a run failed or was interrupted; nullopt is null.
    std::optional<std::string> reason;
    /// started and ended are timestamps (§2.6); nullopt is null.
    std::optional<std::string> started, ended;
    /// parameters holds the run's parameters by name.
    std::map<std::string, Parameter> parameters;
    /// solves holds the run's solves, by ascending solve id.
    std::vector<SolveRecord> solves;
    /// samplings holds the run's samplings, by ascending sampling id (the
    /// optional "samplings", written only when there are some).
    std::vector<SamplingRecord> samplings;
    /// trace_layer is the index of the trace layer (version 2 on).
    std::optional<std::size_t> trace_layer;
    /// trace_attachment names the attachment holding the trace (version 1).
    std::optional<std::string> trace_attachment;
    /// kind says what the run is (optional, Run::describe).
    std::optional<std::string> kind;
    /// settings are the settings the run ran with (the config's optional
    /// "config" object); null when none.
    nlohmann::json settings;
    /// attachments is the attachments table.
    AttachmentTable attachments;

    /// to_json returns the document as a writer writes it: every key of
    /// §4.2, "kind", "config" and "samplings" only when given.
    nlohmann::json to_json() const;
    /// from_json reads a run config by the reader's rules (§4.3, §4.4)
    /// against its manifest's `layers`; throws Error(invalid_input) naming
    /// the first problem's JSON path.
    static RunConfig from_json(const nlohmann::json& config, const std::vector<oci::Descriptor>& layers);
};

/// AttachmentsConfig is the experiment-attachments config (§5) as a value.
struct AttachmentsConfig {
    /// version is the config version.
    std::uint64_t version = static_cast<std::uint64_t>(config_version);
    /// experiment is the experiment's name.
    std::string experiment;
    /// attachments is the attachments table.
    AttachmentTable attachments;

    /// to_json returns the document as a writer writes it.
    nlohmann::json to_json() const;
    /// from_json reads one by the reader's rules against its manifest's
    /// `layers`; throws Error(invalid_input) naming the first problem.
    static AttachmentsConfig from_json(const nlohmann::json& config, const std::vector<oci::Descriptor>& layers);
};

/// roll_up_status returns an experiment's status from its runs': "failed"
/// when one failed, else "interrupted" when one was, else "finished" (an
/// experiment without runs included). The one roll-up the writer writes and
/// validate() compares against.
std::string_view roll_up_status(const std::vector<std::string>& run_statuses);

}  // namespace format

}  // namespace sealrun

// The rulebook of the sealed format: the experiment index (§3.1) and the
// part manifests (§4.1, §5). The config rules are in config_rules.cpp.
#include "experiment/rules.h"

#include <algorithm>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"

namespace sealrun::format::rules {

void ThrowingSink::report(Finding f) {
    if (f.warning) return;
    if (f.path.empty()) throw Error(Errc::invalid_input, "open", subject_, std::move(f.message));
    throw Error(Errc::invalid_input, "parse", std::move(f.path), std::move(f.message));
}

std::string show(std::string_view s) {
    constexpr std::size_t max_shown = 200;
    std::string out = "\"";
    out += s.substr(0, max_shown);
    if (s.size() > max_shown) out += "…";
    out += '"';
    return out;
}

std::optional<std::string> annotation(const std::map<std::string, std::string>& ann, std::string_view key) {
    const auto it = ann.find(std::string(key));
    if (it == ann.end()) return std::nullopt;
    return it->second;
}

bool is_canonical_run_id(std::string_view text) noexcept {
    return !text.empty() && text.size() <= 18 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           (text == "0" || text.front() != '0');
}

Typing experiment_typing(const oci::ImageIndex& index) {
    const bool marked = annotation(index.annotations, keys::artifact_type) == experiment_artifact_type;
    if (index.artifact_type == experiment_artifact_type) return Typing::experiment;
    if (!index.artifact_type) return marked ? Typing::by_annotation : Typing::other;
    return marked ? Typing::mistyped : Typing::other;
}

namespace {

// read_run_entry reads the run id of the run entry manifests[i].
RunEntry read_run_entry(const oci::Descriptor& d, std::size_t i, std::map<std::int64_t, std::size_t>& ids, Sink& sink) {
    const auto path = "manifests[" + std::to_string(i) + "]";
    RunEntry entry{.index = i};
    std::string why;
    if (const auto id = annotation(d.annotations, keys::run_id); !id) {
        why = "run entry lacks annotation " + std::string(keys::run_id);
    } else if (!is_canonical_run_id(*id)) {
        why = "run id " + show(*id) + " is not a canonical non-negative integer";
    } else {
        const std::int64_t n = std::stoll(*id);
        if (const auto [it, fresh] = ids.emplace(n, i); !fresh)
            why = "run id " + *id + " repeats that of manifests[" + std::to_string(it->second) + "]";
        else
            entry.id = n;
    }
    if (!why.empty()) {
        entry.error = path + ": " + why;
        sink.fail("run-id", path, why, path);
    }
    return entry;
}

}  // namespace

ExperimentIndex read_experiment_index(const oci::ImageIndex& index, Typing typing, Sink& sink) {
    const auto& ann = index.annotations;
    ExperimentIndex out;
    out.name = annotation(ann, keys::experiment_name).value_or("");
    if (out.name.empty())
        sink.fail("experiment", "annotations." + std::string(keys::experiment_name), "is required and must not be empty");
    if (typing == Typing::experiment && annotation(ann, keys::artifact_type) != experiment_artifact_type)
        sink.warn("experiment", "annotations." + std::string(keys::artifact_type),
                  "should be " + std::string(experiment_artifact_type) + " (tools that drop artifactType rely on it)");
    const auto status_path = "annotations." + std::string(keys::experiment_status);
    const auto status = annotation(ann, keys::experiment_status);
    if (!status) sink.fail("status", status_path, "is required");
    // A checkpoint may be a draft (FORMAT: checkpoints); runs never are.
    else if (!is_status(*status) && *status != draft_status)
        sink.fail("status", status_path, show(*status) + " is not finished, failed, interrupted or draft");
    else out.status = status;

    std::map<std::int64_t, std::size_t> ids;
    for (std::size_t i = 0; i < index.manifests.size(); ++i) {
        const auto& d = index.manifests[i];
        const auto path = "manifests[" + std::to_string(i) + "]";
        const auto part = annotation(d.annotations, keys::part);
        if (!part) {
            sink.warn("experiment", path, "no " + std::string(keys::part) + " annotation; readers ignore the entry");
            out.foreign.push_back(i);
        } else if (*part == part_run) {
            out.runs.push_back(read_run_entry(d, i, ids, sink));
        } else if (*part == part_attachments) {
            if (out.attachments) {
                sink.fail("experiment", path,
                          "a second experiment-attachments entry (the first is manifests[" +
                              std::to_string(*out.attachments) + "])");
                out.foreign.push_back(i);
            } else {
                out.attachments = i;
            }
        } else {
            sink.warn("experiment", path, "unknown " + std::string(keys::part) + " " + show(*part) + "; readers ignore the entry");
            out.foreign.push_back(i);
        }
    }
    return out;
}

void check_status_roll_up(const std::string& status, const std::vector<std::optional<std::string>>& run_statuses,
                          Sink& sink) {
    std::vector<std::string> known;
    for (const auto& s : run_statuses) {
        if (!s) return;
        known.push_back(*s);
    }
    const auto expected = roll_up_status(known);
    if (status == draft_status) return;  // a checkpoint of a sweep still running: its runs say nothing yet
    if (status != expected)
        sink.warn("status", "annotations." + std::string(keys::experiment_status),
                  "is " + status + " but the runs' statuses make it " + std::string(expected));
}

void check_declared(const oci::Descriptor& d, std::string_view content_media_type, Sink& sink) {
    if (content_media_type != d.media_type)
        sink.fail("schema", "", "content declares media type " + std::string(content_media_type) + " but its descriptor says " +
                                    d.media_type);
}

bool check_manifest_type(const oci::Descriptor& d, Sink& sink) {
    if (oci::is_manifest_type(d.media_type)) return true;
    sink.fail("artifact-type", "", "is " + d.media_type + ", not an image manifest");
    return false;
}

bool check_part_manifest(const oci::ImageManifest& m, PartKind kind, Sink& sink) {
    const bool run = kind == PartKind::run;
    const auto artifact_type = run ? run_artifact_type : attachments_artifact_type;
    const auto config_type = run ? run_config_type : attachments_config_type;
    if (m.artifact_type != artifact_type)
        sink.fail("artifact-type", "",
                  std::string(run ? "is not a sealed run" : "is not sealrun's experiment-attachments manifest") +
                      " (artifactType " + m.artifact_type.value_or("absent") + ", expected " + std::string(artifact_type) + ")");
    if (m.config.media_type == config_type) return true;
    sink.fail("artifact-type", "", "config.mediaType is " + m.config.media_type + ", expected " + std::string(config_type));
    return false;
}

nlohmann::json parse_config(std::string_view bytes, std::string_view what) {
    auto config = oci::parse_json_strict(bytes, what, max_config_size);
    if (!config.is_object()) throw Error(Errc::invalid_input, "parse", std::string(what), "must be a JSON object");
    return config;
}

}  // namespace sealrun::format::rules

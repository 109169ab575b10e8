// The rulebook of the sealed format: the experiment index (§3.1) and the
// part manifests (§4.1, §5). The config rules are in config_rules.cpp.
#include "experiment/rules.h"

#include <algorithm>
#include <iterator>

#include "sealrun/error.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/oci/descriptor.h"

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
        } else if (*part == part_page) {
            const auto first = annotation(d.annotations, keys::page_first), last = annotation(d.annotations, keys::page_last);
            if (!oci::is_index_type(d.media_type)) {
                sink.fail("page", path, "a page entry must be an image index, not " + d.media_type);
            } else if (d.artifact_type && *d.artifact_type != page_artifact_type) {
                sink.fail("page", path, "a page entry's artifactType must be " + std::string(page_artifact_type));
            } else if (!first || !last || !is_canonical_run_id(*first) || !is_canonical_run_id(*last)) {
                sink.fail("page", path,
                          "a page entry needs annotations " + std::string(keys::page_first) + " and " +
                              std::string(keys::page_last) + " as canonical run ids");
            } else {
                PageEntry page{.index = i, .first = std::stoll(*first), .last = std::stoll(*last)};
                if (page.first > page.last) sink.fail("page", path, "first run id " + *first + " is after last " + *last);
                else if (!out.pages.empty() && page.first <= out.pages.back().last)
                    sink.fail("page", path,
                              "runs " + *first + " to " + *last + " overlap or precede the previous page's (to " +
                                  std::to_string(out.pages.back().last) + "); pages are by ascending, disjoint run ids");
                else out.pages.push_back(page);
            }
        } else if (*part == part_summary) {
            if (out.summary) {
                sink.fail("summary", path,
                          "a second summary entry (the first is manifests[" + std::to_string(*out.summary) + "])");
                out.foreign.push_back(i);
            } else if (!oci::is_manifest_type(d.media_type)) {
                sink.fail("summary", path, "the summary entry must be an image manifest, not " + d.media_type);
            } else {
                out.summary = i;
            }
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
    if (!out.pages.empty() && !out.runs.empty())
        sink.fail("page", "manifests", "a paged index holds page entries and no run entries, but this one holds both");
    const auto count_path = "annotations." + std::string(keys::experiment_runs);
    if (const auto count = annotation(ann, keys::experiment_runs)) {
        if (!is_canonical_run_id(*count)) sink.fail("experiment", count_path, show(*count) + " is not a canonical count");
        else out.run_count = std::stoll(*count);
    } else if (!out.pages.empty()) {
        sink.fail("page", count_path, "is required in a paged index");
    }
    if (out.run_count && out.pages.empty() && static_cast<std::size_t>(*out.run_count) != out.runs.size())
        sink.fail("experiment", count_path,
                  "says " + std::to_string(*out.run_count) + " runs but the index lists " + std::to_string(out.runs.size()));
    return out;
}

std::vector<RunEntry> read_page(const oci::ImageIndex& page, const PageEntry& entry, Sink& sink) {
    const auto where = "page of runs " + std::to_string(entry.first) + " to " + std::to_string(entry.last);
    if (page.artifact_type && *page.artifact_type != page_artifact_type)
        sink.fail("page", "", where + ": artifactType " + *page.artifact_type + ", expected " + std::string(page_artifact_type));
    std::vector<RunEntry> out;
    std::map<std::int64_t, std::size_t> ids;
    for (std::size_t i = 0; i < page.manifests.size(); ++i) {
        const auto& d = page.manifests[i];
        if (annotation(d.annotations, keys::part) != part_run) {
            sink.fail("page", "", where + ": manifests[" + std::to_string(i) + "] is not a run entry");
            continue;
        }
        auto run = read_run_entry(d, i, ids, sink);
        if (run.id && (*run.id < entry.first || *run.id > entry.last)) {
            sink.fail("page", "", where + ": run id " + std::to_string(*run.id) + " is outside the page's range");
            run.id.reset();
        }
        out.push_back(std::move(run));
    }
    if (page.manifests.empty()) sink.fail("page", "", where + ": holds no runs");
    return out;
}

void check_page_count(const ExperimentIndex& index, std::size_t found, Sink& sink) {
    if (index.run_count && static_cast<std::size_t>(*index.run_count) != found)
        sink.fail("page", "annotations." + std::string(keys::experiment_runs),
                  "says " + std::to_string(*index.run_count) + " runs but the pages hold " + std::to_string(found));
}

bool check_summary_manifest(const oci::ImageManifest& m, Sink& sink) {
    bool ok = true;
    if (m.artifact_type != summary_artifact_type) {
        sink.fail("summary", "", "is not an experiment summary (artifactType " + m.artifact_type.value_or("absent") + ", expected " +
                                     std::string(summary_artifact_type) + ")");
        ok = false;
    }
    if (m.config.media_type != oci::empty_descriptor().media_type)
        sink.fail("summary", "", "config.mediaType is " + m.config.media_type + ", expected the empty descriptor's");
    if (m.layers.size() != 1 || m.layers.front().media_type != summary_type) {
        sink.fail("summary", "", "must have exactly one layer, of media type " + std::string(summary_type));
        ok = false;
    }
    return ok;
}

void check_summary_index(const ExperimentSummary& summary, const ExperimentIndex& index,
                         const std::map<std::int64_t, oci::Descriptor>* entries, Sink& sink) {
    if (summary.experiment != index.name)
        sink.fail("summary", "", "names experiment " + show(summary.experiment) + ", the index " + show(index.name));
    const auto count = index.run_count ? static_cast<std::size_t>(*index.run_count) : index.runs.size();
    if (summary.runs.size() != count)
        sink.fail("summary", "", "lists " + std::to_string(summary.runs.size()) + " runs, the index " + std::to_string(count));
    for (const auto& row : summary.runs) {
        const auto who = "run " + std::to_string(row.run_id);
        if (entries != nullptr) {
            const auto it = entries->find(row.run_id);
            if (it == entries->end()) {
                sink.fail("summary", "", who + " is in the summary but not in the index");
                return;
            }
            if (it->second.digest.str() != row.manifest) {
                sink.fail("summary", "", who + ": the summary says manifest " + row.manifest + ", the index " + it->second.digest.str());
                return;
            }
        } else if (!index.pages.empty()) {
            const auto page = std::upper_bound(index.pages.begin(), index.pages.end(), row.run_id,
                                               [](std::int64_t id, const PageEntry& p) { return id < p.first; });
            if (page == index.pages.begin() || std::prev(page)->last < row.run_id) {
                sink.fail("summary", "", who + " is in the summary but in no page of the index");
                return;
            }
        }
    }
}

std::optional<std::string> run_worker(const nlohmann::json& config, const std::map<std::string, std::string>& manifest_annotations) {
    if (const auto it = config.find("worker"); it != config.end() && it->is_string()) return it->get<std::string>();
    if (const auto it = manifest_annotations.find(std::string(keys::run_worker)); it != manifest_annotations.end()) return it->second;
    return std::nullopt;
}

void check_summary_run(const SummaryRow& row, const RunConfig& rc, const oci::Descriptor& manifest,
                       const std::optional<std::string>& worker, Sink& sink) {
    const auto who = "run " + std::to_string(row.run_id) + ": the summary ";
    if (rc.run_id != row.run_id) sink.fail("summary", "", who + "row names a run whose config says run_id " + std::to_string(rc.run_id));
    if (row.manifest != manifest.digest.str()) sink.fail("summary", "", who + "says manifest " + row.manifest + ", the run is " + manifest.digest.str());
    if (row.status != rc.status) sink.fail("summary", "", who + "says status " + row.status + ", the run " + rc.status);
    const auto reason = rc.reason && !rc.reason->empty() ? rc.reason : std::nullopt;
    if (row.reason != reason)
        sink.fail("summary", "", who + "says reason " + (row.reason ? show(*row.reason) : "null") + ", the run " +
                                     (reason ? show(*reason) : "null"));
    if (row.parameters != rc.parameters) {
        std::string diff;
        for (const auto& [k, v] : rc.parameters) {
            const auto it = row.parameters.find(k);
            if (it == row.parameters.end()) diff = "lacks parameter " + show(k);
            else if (it->second != v) diff = "has parameter " + show(k) + " = " + parameter_to_json(it->second).dump() + ", the run " + parameter_to_json(v).dump();
            if (!diff.empty()) break;
        }
        if (diff.empty()) diff = "has parameters the run does not";
        sink.fail("summary", "", who + diff);
    }
    if (row.worker != worker)
        sink.fail("summary", "", who + "says worker " + (row.worker ? show(*row.worker) : "null") + ", the run " +
                                     (worker ? show(*worker) : "null"));
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

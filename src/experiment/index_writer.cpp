// The one writer of experiment indexes (index_writer.h, docs/FORMAT.md §3):
// run entries (paged when they pass runs_per_page), the attachments entry,
// the experiment summary; every document is built and size-checked before
// anything is pushed.
#include "experiment/index_writer.h"

#include <algorithm>
#include <functional>
#include <set>

#include "sealrun/content/target.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/model.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "experiment/rules.h"
#include "experiment/summary.h"

namespace sealrun::detail {

namespace {

std::string key(std::string_view k) { return std::string(k); }

oci::Descriptor run_entry(const RunEntry& r) {
    auto d = r.manifest;
    d.artifact_type = std::string(format::run_artifact_type);
    d.data.reset();
    d.annotations = {{key(format::keys::part), key(format::part_run)},
                     {key(format::keys::run_id), std::to_string(r.run_id)},
                     {key(format::keys::run_status), r.status}};
    return d;
}

void check_size(std::size_t size, const std::string& what) {
    if (size > oci::max_manifest_size)
        throw Error(Errc::too_large, "commit", what,
                    std::to_string(size) + " bytes pass the 4 MiB (4194304 bytes) a registry accepts for one manifest or index" +
                        " (nothing was pushed for it; a smaller runs_per_page or fewer annotations make it fit)");
}

// page_entry is the root's entry for a page document `bytes` of runs first…last.
oci::Descriptor page_entry(const std::string& bytes, std::int64_t first, std::int64_t last) {
    auto d = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);
    d.artifact_type = std::string(format::page_artifact_type);
    d.annotations = {{key(format::keys::part), key(format::part_page)},
                     {key(format::keys::page_first), std::to_string(first)},
                     {key(format::keys::page_last), std::to_string(last)}};
    return d;
}

// summary_bytes writes the summary (SummaryWriter: its bytes, not its
// rows), every run's row made from its entry, its chosen values read
// through `parts.values`.
std::string summary_bytes(const IndexParts& parts, const std::vector<const RunEntry*>& runs) {
    std::vector<std::string> values;
    std::vector<ValueSpec> specs;
    for (const auto& v : parts.summary_values) {
        if (std::find(values.begin(), values.end(), v) != values.end()) continue;  // asked twice: once
        specs.push_back(parse_value_spec(v));
        values.push_back(v);
    }
    SummaryWriter out(parts.name);
    for (const auto* r : runs) {
        const auto who = "run " + std::to_string(r->run_id);
        SummaryRow row{.run_id = r->run_id, .status = r->status, .manifest = r->manifest.digest.str()};
        const auto& c = r->config;
        if (const auto it = c.find("reason"); it != c.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
            row.reason = it->get<std::string>();
        if (const auto it = c.find("parameters"); it != c.end() && it->is_object())
            for (const auto& [k, v] : it->items()) row.parameters.emplace(k, parameter_from_json(v, who + " parameter " + k));
        std::map<std::string, std::string> manifest_annotations;
        if (!r->worker.empty()) manifest_annotations.emplace(format::keys::run_worker, r->worker);
        row.worker = format::rules::run_worker(c, manifest_annotations);  // the rule validate checks rows by
        if (!specs.empty() && parts.values) {
            std::map<std::string, std::optional<nlohmann::json>> docs;  // each file read once per run
            for (const auto& spec : specs) {
                auto found = docs.find(spec.file);
                if (found == docs.end()) {
                    std::optional<nlohmann::json> doc;
                    try {
                        doc = parts.values(*r, spec.file);
                    } catch (const Error& e) {
                        // Not JSON, or not there: the run has no such value.
                        if (e.code() != Errc::invalid_input && e.code() != Errc::not_found && e.code() != Errc::unsupported) throw;
                    }
                    found = docs.emplace(spec.file, std::move(doc)).first;
                }
                if (!found->second) continue;
                if (auto v = pick_value(*found->second, spec)) row.values.emplace(spec.text, std::move(*v));
            }
        }
        out.add(row);
    }
    return std::move(out).finish(values);
}

// with_entries returns the canonical bytes of `doc` (ImageIndex::serialize)
// with the run entries of `runs` [first, last) put first in its manifests,
// each dumped alone: the bytes are the same, but no JSON tree of every
// entry (ten times their size) is built. In canonical JSON the top-level
// "manifests":[ occurs once: inside a string a quote is escaped, and no
// other member of an index holds an array of that name.
std::string with_entries(const oci::ImageIndex& doc, const std::vector<const RunEntry*>& runs, std::size_t first,
                         std::size_t last) {
    auto skeleton = doc.serialize();
    constexpr std::string_view key = "\"manifests\":[";
    const auto at = skeleton.find(key);
    if (at == std::string::npos) throw Error(Errc::invalid_input, "commit", "experiment index", "no manifests member");
    std::string out;
    out.reserve(skeleton.size() + (last - first) * 400);
    out.append(skeleton, 0, at + key.size());
    for (auto i = first; i < last; ++i) {
        if (i != first) out += ',';
        out += oci::canonical_json(run_entry(*runs[i]).to_json());
    }
    if (first != last && skeleton[at + key.size()] != ']') out += ',';
    out.append(skeleton, at + key.size());
    return out;
}

oci::ImageIndex root_index(const IndexParts& parts, std::string_view status, std::size_t run_count) {
    oci::ImageIndex index{.artifact_type = std::string(format::experiment_artifact_type)};
    index.subject = parts.subject;
    index.annotations = parts.annotations;
    index.annotations[key(format::keys::artifact_type)] = std::string(format::experiment_artifact_type);
    index.annotations[key(format::keys::experiment_name)] = parts.name;
    index.annotations[key(format::keys::experiment_status)] = std::string(status);
    index.annotations[key(format::keys::experiment_runs)] = std::to_string(run_count);
    return index;
}

oci::Descriptor attachments_entry(const oci::Descriptor& attachments) {
    auto d = attachments;
    d.artifact_type = std::string(format::attachments_artifact_type);
    d.annotations = {{key(format::keys::part), key(format::part_attachments)}};
    return d;
}

oci::Descriptor summary_entry(const oci::Descriptor& manifest) {
    auto d = manifest;
    d.artifact_type = std::string(format::summary_artifact_type);
    d.annotations = {{key(format::keys::part), key(format::part_summary)}};
    return d;
}

}  // namespace

nlohmann::json summary_config(const nlohmann::json& config) {
    nlohmann::json out = nlohmann::json::object();
    if (!config.is_object()) return out;
    for (const char* key : {"reason", "parameters", "worker"})  // what summary_bytes reads
        if (const auto it = config.find(key); it != config.end()) out[key] = *it;
    return out;
}

void check_index_fits(const IndexParts& parts, std::size_t run_count) {
    if (parts.runs_per_page == 0) throw Error(Errc::invalid_input, "commit", "runs_per_page", "must be at least 1");
    // The largest run entry there can be: an 18-digit id, the longest status.
    const RunEntry widest{.manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), "{}"),
                          .run_id = 999999999999999999, .status = "interrupted", .config = {}};
    const auto entry = oci::canonical_json(run_entry(widest).to_json()).size() + 1;
    const auto page_runs = std::min(run_count, parts.runs_per_page);
    const std::size_t pages = run_count > parts.runs_per_page ? (run_count + parts.runs_per_page - 1) / parts.runs_per_page : 0;
    if (pages > 0) check_size(page_runs * entry + 512, "a page of " + std::to_string(page_runs) + " runs");
    const auto page = oci::canonical_json(page_entry("{}", 999999999999999999, 999999999999999999).to_json()).size() + 1;
    const auto fixed = oci::canonical_json(root_index(parts, "interrupted", run_count).to_json()).size() + 2048;  // + attachments, summary
    check_size(fixed + (pages > 0 ? pages * page : run_count * entry),
               "the index of experiment " + parts.name + " (" + std::to_string(run_count) + " runs)");
}

oci::Descriptor write_experiment_index(content::Target& dst, const IndexParts& parts) {
    check_index_fits(parts, parts.runs.size());
    std::vector<const RunEntry*> runs;
    runs.reserve(parts.runs.size());
    for (const auto& r : parts.runs) runs.push_back(&r);
    std::sort(runs.begin(), runs.end(), [](const RunEntry* a, const RunEntry* b) { return a->run_id < b->run_id; });
    for (std::size_t i = 1; i < runs.size(); ++i)
        if (runs[i]->run_id == runs[i - 1]->run_id)
            throw Error(Errc::invalid_input, "commit", "run " + std::to_string(runs[i]->run_id), "run id appears twice");

    std::vector<std::string> statuses;
    statuses.reserve(runs.size());
    for (const auto* r : runs) statuses.push_back(r->status);
    auto index = root_index(parts, parts.status.empty() ? format::roll_up_status(statuses) : std::string_view(parts.status),
                            runs.size());

    // Every document first, size-checked; then the pushes. Run entries are
    // written straight into the bytes of their page or of the root
    // (with_entries), never held as descriptors. A page's bytes are not
    // held either (ten pages of 3 MB at 100,000 runs): each is written
    // again when it is pushed, which a checkpoint's unchanged full pages,
    // found in the store, never are.
    const bool paged = runs.size() > parts.runs_per_page;
    const oci::ImageIndex page{.artifact_type = std::string(format::page_artifact_type)};
    struct Page {
        oci::Descriptor desc;
        std::size_t start, end;
    };
    std::vector<Page> pages;  // in push order
    if (paged) {
        for (std::size_t start = 0; start < runs.size(); start += parts.runs_per_page) {
            const auto end = std::min(runs.size(), start + parts.runs_per_page);
            const auto bytes = with_entries(page, runs, start, end);
            const auto first = runs[start]->run_id, last = runs[end - 1]->run_id;
            check_size(bytes.size(), "the page of runs " + std::to_string(first) + " to " + std::to_string(last));
            index.manifests.push_back(page_entry(bytes, first, last));
            pages.push_back({index.manifests.back(), start, end});
        }
    }
    if (parts.attachments) index.manifests.push_back(attachments_entry(*parts.attachments));

    // The summary: its document, then its manifest (config: the empty descriptor).
    auto summary_doc = summary_bytes(parts, runs);
    const auto summary_blob = oci::Descriptor::for_bytes(std::string(format::summary_type), summary_doc);
    auto empty = oci::empty_descriptor();
    const auto empty_bytes = *empty.data;
    empty.data.reset();
    oci::ImageManifest summary{.artifact_type = std::string(format::summary_artifact_type)};
    summary.config = empty;
    summary.layers.push_back(summary_blob);
    auto summary_manifest_bytes = summary.serialize();
    check_size(summary_manifest_bytes.size(), "the summary manifest");
    const auto summary_manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), summary_manifest_bytes);
    index.manifests.push_back(summary_entry(summary_manifest));

    auto bytes = with_entries(index, runs, 0, paged ? 0 : runs.size());
    check_size(bytes.size(), "the index of experiment " + parts.name);
    auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);

    // Blobs before the manifests that name them, pages before the root.
    const auto push = [&](const oci::Descriptor& d, const std::function<std::string()>& content) {
        oci::Descriptor plain{.media_type = d.media_type, .digest = d.digest, .size = d.size};
        if (!dst.exists(plain)) content::push_bytes(dst, plain, content());  // verified against `plain` as it goes
    };
    push(empty, [&] { return empty_bytes; });
    push(summary_blob, [&] { return std::move(summary_doc); });
    push(summary_manifest, [&] { return std::move(summary_manifest_bytes); });
    for (const auto& p : pages) push(p.desc, [&] { return with_entries(page, runs, p.start, p.end); });
    push(root, [&] { return std::move(bytes); });
    root.artifact_type = index.artifact_type;
    return root;
}

}  // namespace sealrun::detail

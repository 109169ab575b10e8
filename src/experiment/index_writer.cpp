// The one writer of experiment indexes (index_writer.h, docs/FORMAT.md §3):
// run entries (paged when they pass runs_per_page), the attachments entry,
// the experiment summary, from runs that come one at a time. Whether the
// index fits is checked before anything is pushed (check_index_fits);
// each document is size-checked again before it is pushed.
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

// chosen_values returns the summary's chosen values (`chosen`, each once).
std::vector<std::string> chosen_values(const std::vector<std::string>& chosen) {
    std::vector<std::string> names;
    for (const auto& v : chosen)
        if (std::find(names.begin(), names.end(), v) == names.end()) names.push_back(v);  // asked twice: once
    return names;
}

// summary_row makes the summary's row of run `r`, its chosen values
// (`specs`) read through `parts.values`.
SummaryRow summary_row(const IndexParts& parts, const std::vector<ValueSpec>& specs, const RunEntry& r) {
    const auto who = "run " + std::to_string(r.run_id);
    SummaryRow row{.run_id = r.run_id, .status = r.status, .manifest = r.manifest.digest.str()};
    const auto& c = r.config;
    if (const auto it = c.find("reason"); it != c.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
        row.reason = it->get<std::string>();
    if (const auto it = c.find("parameters"); it != c.end() && it->is_object())
        for (const auto& [k, v] : it->items()) row.parameters.emplace(k, parameter_from_json(v, who + " parameter " + k));
    std::map<std::string, std::string> manifest_annotations;
    if (!r.worker.empty()) manifest_annotations.emplace(format::keys::run_worker, r.worker);
    row.worker = format::rules::run_worker(c, manifest_annotations);  // the rule validate checks rows by
    if (specs.empty() || !parts.values) return row;
    std::map<std::string, std::optional<nlohmann::json>> docs;  // each file read once per run
    for (const auto& spec : specs) {
        auto found = docs.find(spec.file);
        if (found == docs.end()) {
            std::optional<nlohmann::json> doc;
            try {
                doc = parts.values(r, spec.file);
            } catch (const Error& e) {
                // Not JSON, or not there: the run has no such value.
                if (e.code() != Errc::invalid_input && e.code() != Errc::not_found && e.code() != Errc::unsupported) throw;
            }
            found = docs.emplace(spec.file, std::move(doc)).first;
        }
        if (!found->second) continue;
        if (auto v = pick_value(*found->second, spec)) row.values.emplace(spec.text, std::move(*v));
    }
    return row;
}

// with_entries returns the canonical bytes of `doc` (ImageIndex::serialize)
// with `entries` (run entries, each dumped alone, joined by commas) put
// first in its manifests: the bytes are the same, but no JSON tree of
// every entry (ten times their size) is built. In canonical JSON the
// top-level "manifests":[ occurs once: inside a string a quote is
// escaped, and no other member of an index holds an array of that name.
std::string with_entries(const oci::ImageIndex& doc, std::string_view entries) {
    auto skeleton = doc.serialize();
    constexpr std::string_view key = "\"manifests\":[";
    const auto at = skeleton.find(key);
    if (at == std::string::npos) throw Error(Errc::invalid_input, "commit", "experiment index", "no manifests member");
    std::string out;
    out.reserve(skeleton.size() + entries.size() + 1);
    out.append(skeleton, 0, at + key.size());
    out += entries;
    if (!entries.empty() && skeleton[at + key.size()] != ']') out += ',';
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
    for (const auto& v : parts.summary_values) (void)parse_value_spec(v);
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

struct IndexWriter::State {
    content::Target& dst;
    IndexParts parts;
    std::size_t max_runs;
    // The summary's chosen values, each once, and how each is read.
    std::vector<std::string> value_names;
    std::vector<ValueSpec> value_specs;
    SummaryWriter summary;
    // The runs so far: how many, the last id, whether any failed or was
    // interrupted (the roll-up, format::roll_up_status).
    std::size_t count = 0;
    std::int64_t last_id = -1;
    std::vector<std::string> statuses;  // each status seen, once
    // The page being filled: its entries' bytes, how many, its first id.
    std::string entries;
    std::size_t in_page = 0;
    std::int64_t page_first = 0;
    // The root's entries of the pages pushed so far.
    std::vector<oci::Descriptor> pages;
    bool finished = false;

    State(content::Target& d, IndexParts p, std::size_t max)
        : dst(d), parts(std::move(p)), max_runs(max), value_names(chosen_values(parts.summary_values)), summary(parts.name) {
        for (const auto& v : value_names) value_specs.push_back(parse_value_spec(v));
    }

    // push pushes `bytes` as `d` unless `dst` has it (a checkpoint's
    // unchanged full pages, found in the store, are not pushed again).
    void push(const oci::Descriptor& d, std::string bytes) {
        oci::Descriptor plain{.media_type = d.media_type, .digest = d.digest, .size = d.size};
        if (!dst.exists(plain)) content::push_bytes(dst, plain, std::move(bytes));  // verified against `plain` as it goes
    }

    // flush_page pushes the page being filled and starts the next.
    void flush_page() {
        static const oci::ImageIndex page{.artifact_type = std::string(format::page_artifact_type)};
        auto bytes = with_entries(page, entries);
        check_size(bytes.size(), "the page of runs " + std::to_string(page_first) + " to " + std::to_string(last_id));
        pages.push_back(page_entry(bytes, page_first, last_id));
        push(pages.back(), std::move(bytes));
        entries.clear();
        in_page = 0;
    }
};

IndexWriter::IndexWriter(content::Target& dst, IndexParts parts, std::size_t max_runs) {
    check_index_fits(parts, max_runs);  // before anything is pushed
    s_ = std::make_unique<State>(dst, std::move(parts), max_runs);
}

IndexWriter::~IndexWriter() = default;

void IndexWriter::add(const RunEntry& run) {
    auto& s = *s_;
    if (s.finished) throw Error(Errc::invalid_input, "commit", "experiment index", "already written");
    if (s.count > 0 && run.run_id <= s.last_id)
        throw Error(Errc::invalid_input, "commit", "run " + std::to_string(run.run_id),
                    run.run_id == s.last_id
                        ? "run id appears twice"
                        : "comes after run " + std::to_string(s.last_id) + " (runs are written by ascending id)");
    if (s.count == s.max_runs)
        throw Error(Errc::invalid_input, "commit", "run " + std::to_string(run.run_id),
                    "more runs than the " + std::to_string(s.max_runs) + " the index was checked for");
    // A page is full and another run comes: the list is paged from here.
    if (s.in_page == s.parts.runs_per_page) s.flush_page();
    s.summary.add(summary_row(s.parts, s.value_specs, run));
    if (s.in_page > 0) s.entries += ',';
    else s.page_first = run.run_id;
    s.entries += oci::canonical_json(run_entry(run).to_json());
    ++s.in_page;
    ++s.count;
    s.last_id = run.run_id;
    if (std::find(s.statuses.begin(), s.statuses.end(), run.status) == s.statuses.end()) s.statuses.push_back(run.status);
}

oci::Descriptor IndexWriter::finish() {
    auto& s = *s_;
    if (s.finished) throw Error(Errc::invalid_input, "commit", "experiment index", "already written");
    s.finished = true;
    // Paged: the last page too, and the root lists pages; else the root
    // lists the runs.
    const bool paged = !s.pages.empty();
    if (paged) s.flush_page();
    const auto status = s.parts.status.empty() ? format::roll_up_status(s.statuses) : std::string_view(s.parts.status);
    auto index = root_index(s.parts, status, s.count);
    index.manifests = std::move(s.pages);
    if (s.parts.attachments) index.manifests.push_back(attachments_entry(*s.parts.attachments));

    // The summary: its document, then its manifest (config: the empty descriptor).
    auto summary_doc = std::move(s.summary).finish(s.value_names);
    const auto summary_blob = oci::Descriptor::for_bytes(std::string(format::summary_type), summary_doc);
    auto empty = oci::empty_descriptor();
    auto empty_bytes = *empty.data;
    empty.data.reset();
    oci::ImageManifest summary{.artifact_type = std::string(format::summary_artifact_type)};
    summary.config = empty;
    summary.layers.push_back(summary_blob);
    auto summary_manifest_bytes = summary.serialize();
    check_size(summary_manifest_bytes.size(), "the summary manifest");
    const auto summary_manifest = oci::Descriptor::for_bytes(std::string(oci::media_types::image_manifest), summary_manifest_bytes);
    index.manifests.push_back(summary_entry(summary_manifest));

    auto bytes = with_entries(index, paged ? std::string_view() : std::string_view(s.entries));
    check_size(bytes.size(), "the index of experiment " + s.parts.name);
    auto root = oci::Descriptor::for_bytes(std::string(oci::media_types::image_index), bytes);

    // Blobs before the manifests that name them; the pages went first.
    s.push(empty, std::move(empty_bytes));
    s.push(summary_blob, std::move(summary_doc));
    s.push(summary_manifest, std::move(summary_manifest_bytes));
    s.push(root, std::move(bytes));
    root.artifact_type = index.artifact_type;
    return root;
}

oci::Descriptor write_experiment_index(content::Target& dst, const IndexParts& parts, std::vector<RunEntry> runs) {
    std::sort(runs.begin(), runs.end(), [](const RunEntry& a, const RunEntry& b) { return a.run_id < b.run_id; });
    IndexWriter w(dst, parts, runs.size());
    for (const auto& r : runs) w.add(r);
    return w.finish();
}

}  // namespace sealrun::detail

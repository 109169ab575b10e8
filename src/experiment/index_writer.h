#pragma once
// The one writer of experiment indexes (docs/FORMAT.md §3): commit(),
// collect(), resume/load, fork and rename all end here, so the index, its
// summary and its pages are built by one rule. Internal.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/content/target.h"
#include "sealrun/oci/descriptor.h"

namespace sealrun::detail {

// RunEntry is one sealed run as the index needs it: its manifest
// descriptor (digest, size, media and artifact type; the writer sets the
// index-entry annotations), its id and status, and its config document
// (the summary is made from it).
struct RunEntry {
    oci::Descriptor manifest;
    std::int64_t run_id = 0;
    std::string status;
    // config is the run config, or only the members of it the summary
    // reads (summary_config): a writer that holds many entries keeps those.
    nlohmann::json config;
    // worker is the run manifest's vnd.sealrun.run.worker (collect: a run
    // kept under its own id is not rewritten, so only its manifest names
    // its worker); "" for none. The summary row's worker follows
    // format::rules::run_worker (the config's "worker" first).
    std::string worker;
};

// summary_config returns the members of a run config `config` that the
// summary's row is made from (reason, parameters, worker): what a RunEntry
// needs to hold, a few hundred bytes instead of the whole config's tree.
nlohmann::json summary_config(const nlohmann::json& config);

// ValueReader returns the JSON document stored as attachment `name` of
// `run` (decoded), or nullopt when the run has no such JSON attachment;
// the summary's chosen values are read through it (commit: the record's
// file; collect: the registry).
using ValueReader = std::function<std::optional<nlohmann::json>(const RunEntry& run, const std::string& name)>;

// IndexParts is everything an experiment index is written from, but its
// runs (IndexWriter::add).
struct IndexParts {
    std::string name;
    // attachments is the experiment-attachments manifest, when there is one.
    std::optional<oci::Descriptor> attachments;
    // annotations are the user's (Experiment::annotate); the writer adds
    // the reserved ones.
    std::map<std::string, std::string> annotations;
    // subject is the parent experiment's index (fork), when there is one.
    std::optional<oci::Descriptor> subject;
    // status replaces the rolled-up status when non-empty ("draft" for a
    // checkpoint).
    std::string status;
    // summary_values are the "FILE:KEY" values the summary carries per run
    // (SealOptions::summary_values); read through `values`.
    std::vector<std::string> summary_values;
    ValueReader values;
    // runs_per_page is how many runs one index holds before the run list
    // is paged (SealOptions::runs_per_page).
    std::size_t runs_per_page = 10000;
};

// IndexWriter writes one experiment index from its runs, given one at a
// time by ascending id: each run's entry goes into the page being filled
// and its row into the summary, and a full page is pushed as the next run
// arrives. It holds the summary's bytes, one page's entries and the
// pages' descriptors, never every run (issue 15: a sweep of 100,000 runs
// is sealed in memory flat but for its summary). The summary, its
// manifest and the index are pushed by finish(), after the pages.
class IndexWriter {
public:
    // IndexWriter checks that an index of at most `max_runs` runs fits
    // (check_index_fits) before anything is pushed.
    IndexWriter(content::Target& dst, IndexParts parts, std::size_t max_runs);
    ~IndexWriter();
    IndexWriter(const IndexWriter&) = delete;
    IndexWriter& operator=(const IndexWriter&) = delete;
    // add writes `run` into the index. Throws Error(invalid_input) for an
    // id not above the last one ("appears twice" when equal) or past
    // max_runs runs, Error(too_large) past a size limit.
    void add(const RunEntry& run);
    // finish pushes the attachments entry, the summary and the index and
    // returns the index's descriptor; it does not tag.
    oci::Descriptor finish();

private:
    struct State;
    std::unique_ptr<State> s_;
};

// write_experiment_index writes an index of `runs` (any order) through an
// IndexWriter.
oci::Descriptor write_experiment_index(content::Target& dst, const IndexParts& parts, std::vector<RunEntry> runs);

// check_index_fits throws Error(too_large) when an index of `run_count` runs
// written from `parts` (its name, annotations and runs_per_page) could
// pass 4 MiB (the root or one page), and Error(invalid_input) for
// runs_per_page 0 or a summary value that is not FILE:KEY. Writers call it
// before pushing any run, so an experiment that cannot be indexed pushes
// nothing.
void check_index_fits(const IndexParts& parts, std::size_t run_count);

}  // namespace sealrun::detail

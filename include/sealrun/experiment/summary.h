#pragma once
/// The experiment summary (docs/FORMAT.md): one compact document, stored
/// with the experiment index, that lists every run's id, status, reason,
/// parameters and chosen result values, so that listing an experiment of N
/// runs costs a fixed number of requests instead of two per run. The runs'
/// own configs stay authoritative; validate() checks that the summary agrees
/// with them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sealrun/experiment/model.h"

namespace sealrun {

/// SummaryRow is what the summary says of one run.
struct SummaryRow {
    std::int64_t run_id = 0;
    /// status is "finished", "failed" or "interrupted".
    std::string status;
    /// reason is why the run failed or was interrupted, when it says.
    std::optional<std::string> reason;
    std::map<std::string, Parameter> parameters;
    /// values maps a chosen value ("result.json:loss") to the scalar the
    /// run's JSON attachment holds there; a value the run lacks (no such
    /// file, key, or not a scalar) is absent.
    std::map<std::string, Parameter> values;
    /// manifest is the digest of the run's manifest ("sha256:…").
    std::string manifest;
    /// worker is the id of the worker that contributed the run (collect).
    std::optional<std::string> worker;
};

/// ExperimentSummary is the whole summary document.
struct ExperimentSummary {
    std::string experiment;
    /// values are the chosen values ("FILE:KEY"), in the order given at seal.
    std::vector<std::string> values;
    /// runs are by ascending run id, each id once.
    std::vector<SummaryRow> runs;

    /// find returns the row of `run_id`, or null.
    const SummaryRow* find(std::int64_t run_id) const;
};

}  // namespace sealrun

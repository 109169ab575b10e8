#pragma once
// The experiment summary document (docs/FORMAT.md, "The experiment
// summary"): how the writer makes it and how readers parse it. Internal;
// the public value type is sealrun/experiment/summary.h.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/experiment/summary.h"

namespace sealrun::detail {

// ValueSpec is one chosen summary value, "FILE:KEY": the JSON attachment
// FILE (split at the first ':') and in it the top-level KEY, or the JSON
// pointer KEY when it starts with '/'.
struct ValueSpec {
    std::string text;  // as given: the summary's name for the value
    std::string file;
    std::string key;
    bool pointer = false;
};

// parse_value_spec parses "FILE:KEY"; throws Error(invalid_input) naming it
// when FILE or KEY is empty, or KEY starts with '/' and is not a valid
// JSON pointer.
ValueSpec parse_value_spec(std::string_view text);

// pick_value returns the scalar (bool, integer in the signed 64-bit range,
// finite number, string) `doc` holds at `spec`'s key, or nullopt when there
// is none there or it is not such a scalar (arrays, objects and null are
// skipped, never errors).
std::optional<Parameter> pick_value(const nlohmann::json& doc, const ValueSpec& spec);

// summary_row_json returns a row as the summary writes it.
nlohmann::json summary_row_json(const SummaryRow& row);

// SummaryWriter writes the summary document one row at a time (rows by
// ascending run id), so that a writer holds the canonical bytes only, never
// every row or a JSON tree of them (issue 15: memory flat in the runs but
// for the summary's own bytes). add() and finish() throw Error(too_large)
// past max_summary_size.
class SummaryWriter {
public:
    explicit SummaryWriter(const std::string& experiment);
    void add(const SummaryRow& row);
    // finish returns the document, ending it with the chosen `values`.
    std::string finish(const std::vector<std::string>& values) &&;

private:
    std::string out_;
    bool first_ = true;
};

// summary_document returns the canonical bytes of the summary (a
// SummaryWriter over its rows): rows must be sorted by run id. Throws
// Error(too_large) past max_summary_size.
std::string summary_document(const ExperimentSummary& summary);

// parse_summary parses a summary document strictly (parse_json_strict, at
// most max_summary_size bytes) and checks its schema: version 1, the
// experiment name, the values list, every row (run id, status, reason,
// parameters and values as scalars, manifest digest, worker), run ids
// strictly ascending. Throws Error(invalid_input) naming `what` and the
// JSON path. Members it does not know are ignored.
ExperimentSummary parse_summary(std::string_view bytes, std::string_view what);

}  // namespace sealrun::detail

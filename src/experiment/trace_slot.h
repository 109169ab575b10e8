#pragma once
// Where the record keeps a run's trace (docs/FORMAT.md §4.4). The rule for
// the sealed trace slot is the rulebook's (src/experiment/config_rules.cpp,
// trace_slot), which SealedRun::open and validate() both apply.

#include <string_view>

namespace sealrun::detail {

// record_trace_file is the name of a run's trace inside its record
// directory: a reserved name (path.h), so never an attachment.
inline constexpr std::string_view record_trace_file = ".sealrun-trace.json";

}  // namespace sealrun::detail

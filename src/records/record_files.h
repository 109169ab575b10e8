#pragma once
// What a record directory holds that both the Record (record.cpp) and the
// store that collects sealed records (record_store.cpp) read. Internal to
// the records layer; docs/RECORDS.md describes the files.

#include <cstddef>
#include <string_view>

namespace sealrun::records_detail {

// model_file is the record's own document (kind, status, parameters, …).
inline constexpr std::string_view model_file = "model.json";
// max_model_size caps how much of a model.json is read.
inline constexpr std::size_t max_model_size = 64 * 1024 * 1024;

}  // namespace sealrun::records_detail

// The experiment summary parser (docs/FORMAT.md, the summary):
// detail::parse_summary over fuzz-made bytes. Every refusal is a
// sealrun::Error; what it accepts is rows by strictly ascending run id,
// statuses readers know, and values among the summary's own, and it writes
// back to bytes that parse to the same summary.
#include <algorithm>
#include <optional>

#include "common.h"
#include "experiment/summary.h"
#include "sealrun/experiment/format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<sealrun::ExperimentSummary> s;
    if (!fuzz::guarded([&] { s.emplace(sealrun::detail::parse_summary(fuzz::bytes(data, size), "summary")); })) return 0;
    for (std::size_t i = 0; i < s->runs.size(); ++i) {
        const auto& row = s->runs[i];
        FUZZ_EXPECT(i == 0 || s->runs[i - 1].run_id < row.run_id, "rows out of order accepted");
        FUZZ_EXPECT(row.run_id >= 0, "negative run id accepted");
        FUZZ_EXPECT(sealrun::format::is_status(row.status), "unknown status accepted");
        FUZZ_EXPECT(s->find(row.run_id) == &row, "find misses a row");
        for (const auto& [k, _] : row.values)
            FUZZ_EXPECT(std::find(s->values.begin(), s->values.end(), k) != s->values.end(), "value outside the list");
    }
    std::string again;
    if (!fuzz::guarded([&] { again = sealrun::detail::summary_document(*s); })) return 0;
    const auto back = sealrun::detail::parse_summary(again, "summary again");
    FUZZ_EXPECT(back.runs.size() == s->runs.size() && back.experiment == s->experiment && back.values == s->values,
                "the written summary reads back differently");
    return 0;
}

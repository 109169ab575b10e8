#pragma once
// Choosing and ordering the runs `sealrun show` lists: --where conditions
// over parameters and --sort keys (a parameter, or a scalar inside a JSON
// attachment). Pure functions over parameters and documents, so they are
// unit-tested without a store (tests/cli/query_test.cpp) and fuzzed
// (fuzz/where.cpp): the grammar parses what the user typed.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sealrun/experiment/experiment.h>

namespace sealrun::cli {

// Op is a --where comparison.
enum class Op { eq, ne, lt, le, gt, ge };

// Condition is one --where KEY OP VALUE. A number VALUE compares
// numerically with a number parameter; otherwise = and != compare the
// parameter's text (a string, or true/false) with VALUE; <, <=, >, >= need a
// number VALUE and match only runs whose parameter is a number. A run
// without KEY matches no condition on it.
struct Condition {
    std::string key;
    Op op = Op::eq;
    std::string value;
};

// max_condition_size bounds one --where expression (bytes).
inline constexpr std::size_t max_condition_size = 4096;

// parse_condition reads `KEY OP VALUE` (OP one of = != < <= > >=, spaces
// around OP allowed). KEY is the text before the first operator character
// (=, !, <, >), trimmed, and must be non-empty; VALUE is the rest, trimmed,
// non-empty and not starting with an operator character. Throws UsageError
// saying what is wrong for anything else.
Condition parse_condition(std::string_view text);

// op_text returns the operator as typed ("<=").
std::string_view op_text(Op op) noexcept;

// condition_text renders `c` back as `KEY OP VALUE`; parse_condition reads it
// back to the same condition.
std::string condition_text(const Condition& c);

// matches reports whether `params` satisfies `c`.
bool matches(const Condition& c, const std::map<std::string, Parameter>& params);

// SortKey is a --sort: a parameter, or ATTACHMENT:JSONPOINTER (a scalar read
// from a run's JSON attachment), ascending unless written -KEY.
struct SortKey {
    std::string text;        // as typed, without the leading '-'
    std::string parameter;   // when attachment is empty
    std::string attachment;  // ATTACHMENT of ATTACHMENT:JSONPOINTER
    nlohmann::json::json_pointer pointer;
    bool descending = false;
};

// parse_sort_key reads KEY, -KEY, ATTACHMENT:/POINTER or ATTACHMENT: (the
// whole document). Text is an attachment key when it holds ":/" (split at the
// first) or ends with ':'; otherwise a parameter name. Throws UsageError for
// an empty key or a malformed JSON pointer (RFC 6901).
SortKey parse_sort_key(std::string_view text);

// ReadJson returns a run's attachment decoded as JSON, or nullopt when the
// run has no usable JSON attachment of that name.
using ReadJson = std::function<std::optional<nlohmann::json>(const std::string& attachment)>;

// sort_value returns the run's value for `key`: the parameter, or the
// scalar (number, string or boolean) at the pointer in the attachment;
// nullopt when the run lacks it or it is not a scalar.
std::optional<nlohmann::json> sort_value(const SortKey& key, const std::map<std::string, Parameter>& params,
                                         const ReadJson& read_json);

// Keyed is one run with its sort value.
struct Keyed {
    std::int64_t run_id = 0;
    std::optional<nlohmann::json> value;
};

// sort_keyed orders by value (ascending, or descending when `descending`),
// runs without a value last either way, ties by run id. Numbers compare
// numerically and before strings (compared bytewise), then booleans.
void sort_keyed(std::vector<Keyed>& runs, bool descending);

}  // namespace sealrun::cli

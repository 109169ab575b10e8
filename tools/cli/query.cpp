// --where and --sort for `sealrun show` (see query.h).
#include "cli/query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>

#include <sealrun/printable.h>

#include "cli/cli.h"

namespace sealrun::cli {
namespace {

constexpr std::string_view op_chars = "=!<>";
constexpr std::string_view grammar = "KEY OP VALUE with OP one of = != < <= > >=";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Number is a parameter or VALUE that is a number: exact when an integer.
struct Number {
    bool integer = false;
    std::int64_t i = 0;
    double d = 0;
};

// number_text reads the whole of `s` as an integer or a finite decimal number.
std::optional<Number> number_text(std::string_view s) {
    const auto* end = s.data() + s.size();
    std::int64_t i = 0;
    if (auto [p, ec] = std::from_chars(s.data(), end, i); ec == std::errc() && p == end) return Number{true, i, 0};
    double d = 0;
    if (auto [p, ec] = std::from_chars(s.data(), end, d, std::chars_format::general);
        ec == std::errc() && p == end && std::isfinite(d))
        return Number{false, 0, d};
    return std::nullopt;
}

std::optional<Number> number(const Parameter& p) {
    if (const auto* i = std::get_if<std::int64_t>(&p)) return Number{true, *i, 0};
    if (const auto* d = std::get_if<double>(&p)) return Number{false, 0, *d};
    return std::nullopt;
}

// compare returns <0, 0 or >0; integers exactly, mixed through long double.
int compare(const Number& a, const Number& b) {
    if (a.integer && b.integer) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    const long double x = a.integer ? static_cast<long double>(a.i) : a.d;
    const long double y = b.integer ? static_cast<long double>(b.i) : b.d;
    return x < y ? -1 : (x > y ? 1 : 0);
}

UsageError bad_where(std::string_view text, const std::string& why) {
    return UsageError("--where \"" + printable(text) + "\": " + why);
}

}  // namespace

std::string_view op_text(Op op) noexcept {
    switch (op) {
    case Op::eq: return "=";
    case Op::ne: return "!=";
    case Op::lt: return "<";
    case Op::le: return "<=";
    case Op::gt: return ">";
    case Op::ge: return ">=";
    }
    return "?";
}

Condition parse_condition(std::string_view text) {
    if (text.size() > max_condition_size)
        throw UsageError("--where takes at most " + std::to_string(max_condition_size) + " bytes");
    const auto pos = text.find_first_of(op_chars);
    if (pos == std::string_view::npos) throw bad_where(text, "no operator: write " + std::string(grammar));
    Condition c;
    c.key = std::string(trim(text.substr(0, pos)));
    if (c.key.empty()) throw bad_where(text, "no KEY before the operator: write " + std::string(grammar));
    const char first = text[pos];
    const char second = pos + 1 < text.size() ? text[pos + 1] : '\0';
    std::size_t len = 1;
    if (first == '=') c.op = Op::eq;
    else if (first == '!' && second == '=') c.op = Op::ne, len = 2;
    else if (first == '<') c.op = second == '=' ? (len = 2, Op::le) : Op::lt;
    else if (first == '>') c.op = second == '=' ? (len = 2, Op::ge) : Op::gt;
    else throw bad_where(text, "unknown operator \"!\": write " + std::string(grammar));
    const auto rest = trim(text.substr(pos + len));
    if (rest.empty()) throw bad_where(text, "no VALUE after the operator: write " + std::string(grammar));
    if (op_chars.find(rest.front()) != std::string_view::npos) {
        const auto typed = text.substr(pos, text.find_first_not_of(std::string(op_chars) + " \t", pos) - pos);
        throw bad_where(text, "unknown operator \"" + std::string(typed) + "\"" + (typed == "==" ? " (write =)" : "") +
                                  ": write " + std::string(grammar));
    }
    c.value = std::string(rest);
    if (c.op != Op::eq && c.op != Op::ne && !number_text(c.value))
        throw bad_where(text, std::string(op_text(c.op)) + " compares numbers, and \"" + printable(c.value) +
                                  "\" is not one (strings compare with = and !=)");
    return c;
}

std::string condition_text(const Condition& c) { return c.key + std::string(op_text(c.op)) + c.value; }

bool matches(const Condition& c, const std::map<std::string, Parameter>& params) {
    const auto it = params.find(c.key);
    if (it == params.end()) return false;
    const auto& p = it->second;
    const auto want = number_text(c.value);
    const auto have = number(p);
    if (c.op == Op::eq || c.op == Op::ne) {
        bool equal = false;
        if (want && have) equal = compare(*have, *want) == 0;
        else if (const auto* s = std::get_if<std::string>(&p)) equal = *s == c.value;
        else if (const auto* b = std::get_if<bool>(&p)) equal = c.value == (*b ? "true" : "false");
        return c.op == Op::eq ? equal : !equal;
    }
    if (!want || !have) return false;
    const int r = compare(*have, *want);
    switch (c.op) {
    case Op::lt: return r < 0;
    case Op::le: return r <= 0;
    case Op::gt: return r > 0;
    case Op::ge: return r >= 0;
    default: return false;
    }
}

SortKey parse_sort_key(std::string_view text) {
    SortKey k;
    if (text.starts_with('-')) {
        k.descending = true;
        text.remove_prefix(1);
    }
    k.text = std::string(text);
    if (text.empty()) throw UsageError("--sort takes KEY, -KEY or ATTACHMENT:/JSON/POINTER (e.g. result.json:/loss)");
    auto split = text.find(":/");
    if (split == std::string_view::npos && text.ends_with(':')) split = text.size() - 1;
    if (split == std::string_view::npos) {
        k.parameter = k.text;
        return k;
    }
    k.attachment = std::string(text.substr(0, split));
    if (k.attachment.empty()) throw UsageError("--sort \"" + printable(text) + "\": no attachment name before ':'");
    try {
        k.pointer = nlohmann::json::json_pointer(std::string(text.substr(split + 1)));
    } catch (const nlohmann::json::exception&) {
        throw UsageError("--sort \"" + printable(text) +
                         "\": not a JSON pointer after ':' (RFC 6901: /key/0, with ~0 for ~ and ~1 for /)");
    }
    return k;
}

std::optional<nlohmann::json> sort_value(const SortKey& key, const std::map<std::string, Parameter>& params,
                                         const ReadJson& read_json) {
    if (key.attachment.empty()) {
        const auto it = params.find(key.parameter);
        if (it == params.end()) return std::nullopt;
        return parameter_to_json(it->second);
    }
    const auto doc = read_json(key.attachment);
    if (!doc) return std::nullopt;
    try {
        if (!doc->contains(key.pointer)) return std::nullopt;
        const auto& v = doc->at(key.pointer);
        if (v.is_number() || v.is_string() || v.is_boolean()) return v;
    } catch (const nlohmann::json::exception&) {
        // an array index the document cannot have ("/01", "/-"): missing
    }
    return std::nullopt;
}

namespace {

int rank(const nlohmann::json& v) { return v.is_number() ? 0 : (v.is_string() ? 1 : 2); }

// less orders two present values: numbers, then strings, then booleans.
bool less(const nlohmann::json& a, const nlohmann::json& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a.is_number()) {
        const auto num = [](const nlohmann::json& v) {
            if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
            if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
            return static_cast<long double>(v.get<double>());
        };
        return num(a) < num(b);
    }
    if (a.is_string()) return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
    return !a.get<bool>() && b.get<bool>();
}

}  // namespace

void sort_keyed(std::vector<Keyed>& runs, bool descending) {
    std::stable_sort(runs.begin(), runs.end(), [descending](const Keyed& a, const Keyed& b) {
        if (a.value.has_value() != b.value.has_value()) return a.value.has_value();
        if (a.value && b.value) {
            if (less(*a.value, *b.value)) return !descending;
            if (less(*b.value, *a.value)) return descending;
        }
        return a.run_id < b.run_id;
    });
}

}  // namespace sealrun::cli

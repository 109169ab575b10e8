// show's --where and --sort grammars (tools/cli/query.cpp): input the user
// types. A parse may fail only with UsageError; an accepted condition
// renders back to text that parses to the same condition, its KEY and VALUE
// are trimmed and non-empty, and matching it against parameters of every
// type never throws. The input is "WHERE\n@@@\nSORT".
#include <exception>
#include <typeinfo>

#include "common.h"
#include "cli/cli.h"
#include "cli/query.h"

using namespace sealrun;
using namespace sealrun::cli;

namespace {

template <class F>
bool usage_guarded(F&& f) {
    try {
        f();
        return true;
    } catch (const UsageError&) {
        return false;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "escaped exception %s: %s\n", typeid(e).name(), e.what());
        std::abort();
    }
}

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = fuzz::split(fuzz::bytes(data, size));
    Condition c;
    if (usage_guarded([&] { c = parse_condition(parts[0]); })) {
        FUZZ_EXPECT(!c.key.empty() && !c.value.empty(), "accepted an empty KEY or VALUE");
        FUZZ_EXPECT(!blank(c.key.front()) && !blank(c.key.back()), "KEY not trimmed");
        FUZZ_EXPECT(!blank(c.value.front()) && !blank(c.value.back()), "VALUE not trimmed");
        FUZZ_EXPECT(c.key.find_first_of("=!<>") == std::string::npos, "an operator character in KEY");
        Condition again;
        FUZZ_EXPECT(usage_guarded([&] { again = parse_condition(condition_text(c)); }), "condition_text does not parse");
        FUZZ_EXPECT(again.key == c.key && again.op == c.op && again.value == c.value, "condition_text round trip");
        const std::map<std::string, Parameter> params = {
            {c.key, std::int64_t{3}}, {"d", 0.5}, {"s", std::string("x")}, {"b", true}};
        (void)matches(c, params);
        for (const Parameter& p : {Parameter(2.5), Parameter(std::string(c.value)), Parameter(false),
                                   Parameter(std::int64_t{INT64_MIN})})
            (void)matches(c, {{c.key, p}});
    }
    if (parts.size() > 1) {
        SortKey k;
        if (usage_guarded([&] { k = parse_sort_key(parts[1]); })) {
            FUZZ_EXPECT(!k.text.empty(), "accepted an empty sort key");
            FUZZ_EXPECT(k.attachment.empty() != k.parameter.empty(), "a sort key is a parameter or an attachment");
            const nlohmann::json doc = {{"a", {1, "x", true, nullptr}}, {"", 2}, {"~/", {{"k", 0.5}}}};
            (void)sort_value(k, {{k.parameter, std::int64_t{1}}}, [&](const std::string&) { return doc; });
        }
    }
    return 0;
}

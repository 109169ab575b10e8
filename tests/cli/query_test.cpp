// show's --where and --sort (tools/cli/query.cpp), without a store.
#include <doctest/doctest.h>

#include <sstream>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/query.h"

using namespace sealrun;
using namespace sealrun::cli;

namespace {

const std::map<std::string, Parameter> params = {
    {"lr", 0.05},   {"epochs", std::int64_t{3}}, {"big", std::int64_t{9007199254740993}},
    {"opt", std::string("adam")}, {"warm", true}, {"tag", std::string("0.10")},
};

bool where(const std::string& text) { return matches(parse_condition(text), params); }

std::string usage_error(const std::string& text) {
    try {
        (void)parse_condition(text);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("query: --where parses KEY OP VALUE with every operator and spaces around it") {
    const auto c = parse_condition("  lr <= 0.01 ");
    CHECK(c.key == "lr");
    CHECK(c.op == Op::le);
    CHECK(c.value == "0.01");
    CHECK(parse_condition("a=b").op == Op::eq);
    CHECK(parse_condition("a!=b").op == Op::ne);
    CHECK(parse_condition("a<1").op == Op::lt);
    CHECK(parse_condition("a>1").op == Op::gt);
    CHECK(parse_condition("a>=1").op == Op::ge);
    CHECK(parse_condition("note=x=y").value == "x=y");  // only the first operator splits
    for (const auto* t : {"lr<=0.01", "a b != c d", "x>=-3", "k=v<w"}) {
        const auto c2 = parse_condition(condition_text(parse_condition(t)));
        CHECK(condition_text(c2) == condition_text(parse_condition(t)));
    }
}

TEST_CASE("query: --where refuses what is not KEY OP VALUE, saying why") {
    CHECK(usage_error("lr").find("no operator") != std::string::npos);
    CHECK(usage_error("=3").find("no KEY") != std::string::npos);
    CHECK(usage_error(" <3").find("no KEY") != std::string::npos);
    CHECK(usage_error("lr>").find("no VALUE") != std::string::npos);
    CHECK(usage_error("lr==3").find("(write =)") != std::string::npos);
    CHECK(usage_error("lr=<3").find("unknown operator \"=<\"") != std::string::npos);
    CHECK(usage_error("lr!3").find("unknown operator \"!\"") != std::string::npos);
    CHECK(usage_error("lr<<3").find("unknown operator") != std::string::npos);
    CHECK(usage_error("opt<adam").find("compares numbers") != std::string::npos);
    CHECK(usage_error("lr>nan").find("compares numbers") != std::string::npos);
    CHECK(usage_error("lr>inf").find("compares numbers") != std::string::npos);
    CHECK(usage_error("lr>0x10").find("compares numbers") != std::string::npos);
    CHECK(usage_error(std::string(5000, 'a') + "=1").find("at most") != std::string::npos);
    // What the user typed is shown escaped.
    const auto shown = usage_error("a\x1b[2J");
    CHECK(shown.find('\x1b') == std::string::npos);
    CHECK(shown.find("\\x1b") != std::string::npos);
}

TEST_CASE("query: numbers compare numerically, strings and booleans by equality") {
    CHECK(where("lr>0.01"));
    CHECK_FALSE(where("lr>0.05"));
    CHECK(where("lr>=0.05"));
    CHECK(where("lr=0.050"));      // numerically equal, not textually
    CHECK(where("lr=5e-2"));
    CHECK(where("epochs=3.0"));
    CHECK(where("epochs<3.5"));
    CHECK(where("epochs>-1"));
    CHECK(where("big>9007199254740992"));  // exact beyond 2^53
    CHECK_FALSE(where("big=9007199254740992"));
    CHECK(where("opt=adam"));
    CHECK(where("opt!=sgd"));
    CHECK_FALSE(where("opt=Adam"));
    CHECK(where("warm=true"));
    CHECK_FALSE(where("warm=1"));
    CHECK(where("tag=0.10"));       // a string parameter compares as text
    CHECK_FALSE(where("tag>0"));    // and never numerically
    CHECK_FALSE(where("opt>1"));
    CHECK_FALSE(where("lr=adam"));
    CHECK(where("lr!=adam"));
    // A run without the key matches no condition on it, != included.
    CHECK_FALSE(where("momentum=0.9"));
    CHECK_FALSE(where("momentum!=0.9"));
}

TEST_CASE("query: --sort keys: a parameter, ATTACHMENT:/POINTER, descending with -") {
    auto k = parse_sort_key("lr");
    CHECK(k.parameter == "lr");
    CHECK(k.attachment.empty());
    CHECK_FALSE(k.descending);
    k = parse_sort_key("-result.json:/metrics/loss");
    CHECK(k.descending);
    CHECK(k.attachment == "result.json");
    CHECK(k.pointer.to_string() == "/metrics/loss");
    k = parse_sort_key("loss.json:");
    CHECK(k.attachment == "loss.json");
    CHECK(k.pointer.empty());
    CHECK(parse_sort_key("a:b").parameter == "a:b");
    CHECK_THROWS_AS(parse_sort_key(""), UsageError);
    CHECK_THROWS_AS(parse_sort_key("-"), UsageError);
    CHECK_THROWS_AS(parse_sort_key(":/loss"), UsageError);
    CHECK_THROWS_AS(parse_sort_key("r.json:/a~2"), UsageError);
}

TEST_CASE("query: sort values come from parameters or scalars in JSON attachments") {
    const nlohmann::json doc = {{"loss", 0.25}, {"name", "x"}, {"curve", {1, 2}}, {"ok", true}};
    const ReadJson read = [&](const std::string& name) -> std::optional<nlohmann::json> {
        if (name == "result.json") return doc;
        return std::nullopt;
    };
    CHECK(sort_value(parse_sort_key("epochs"), params, read) == nlohmann::json(3));
    CHECK_FALSE(sort_value(parse_sort_key("absent"), params, read));
    CHECK(sort_value(parse_sort_key("result.json:/loss"), params, read) == nlohmann::json(0.25));
    CHECK(sort_value(parse_sort_key("result.json:/curve/1"), params, read) == nlohmann::json(2));
    CHECK(sort_value(parse_sort_key("result.json:/ok"), params, read) == nlohmann::json(true));
    CHECK_FALSE(sort_value(parse_sort_key("result.json:/curve"), params, read));  // not a scalar
    CHECK_FALSE(sort_value(parse_sort_key("result.json:/curve/01"), params, read));
    CHECK_FALSE(sort_value(parse_sort_key("result.json:/curve/-"), params, read));
    CHECK_FALSE(sort_value(parse_sort_key("result.json:/nope"), params, read));
    CHECK_FALSE(sort_value(parse_sort_key("other.json:/loss"), params, read));
}

TEST_CASE("query: sorting puts runs missing the key last, in both directions") {
    std::vector<Keyed> runs = {{0, nlohmann::json(0.5)}, {1, std::nullopt},          {2, nlohmann::json(0.125)},
                               {3, nlohmann::json("b")}, {4, nlohmann::json(10)},    {5, nlohmann::json(0.5)},
                               {6, nlohmann::json(true)}};
    auto ids = [&] {
        std::vector<std::int64_t> out;
        for (const auto& r : runs) out.push_back(r.run_id);
        return out;
    };
    sort_keyed(runs, false);
    CHECK(ids() == std::vector<std::int64_t>{2, 0, 5, 4, 3, 6, 1});
    sort_keyed(runs, true);
    CHECK(ids() == std::vector<std::int64_t>{6, 3, 4, 0, 5, 2, 1});
}

TEST_CASE("JsonArrayPrinter prints what json_text prints for the whole object, one element at a time") {
    const std::vector<nlohmann::json> rows = {{{"run_id", 0}, {"status", "finished"}}, {{"run_id", 1}, {"note", "é\u0001"}}};
    for (const std::string key : {"a", "m", "runs", "zz"}) {
        for (std::size_t n = 0; n <= rows.size(); ++n) {
            const nlohmann::json object = {{"b", 1}, {"kind", "experiment"}, {"run_count", 2}, {"status", {{"x", nullptr}}}};
            std::ostringstream out;
            cli::JsonArrayPrinter p(out, object, key);
            auto whole = object;
            whole[key] = nlohmann::json::array();
            for (std::size_t i = 0; i < n; ++i) {
                p.element(rows[i]);
                whole[key].push_back(rows[i]);
            }
            p.finish();
            CHECK(out.str() == cli::json_text(whole) + "\n");
            CHECK(nlohmann::json::parse(out.str()) == whole);
        }
    }
    std::ostringstream out;
    cli::JsonArrayPrinter p(out, nlohmann::json::object(), "runs");
    p.finish();
    CHECK(out.str() == "{\"runs\":[]}\n");
}

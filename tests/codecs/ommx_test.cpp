// OMMX payloads (codecs/ommx.h) against the real artifact OMMX wrote
// (../shared/fixtures/ommx/random_lp_instance.ommx) and against what the
// real protoc reads and writes with the project's schema (proto/).
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <sstream>

#include "build_paths.h"
#include "sealrun/codecs/codec.h"
#include "sealrun/codecs/ommx.h"
#include "sealrun/content/oci_archive.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "support/cli.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using namespace sealrun::test;
namespace fs = std::filesystem;

namespace {

fs::path source(const std::string& relative) { return fs::path(SEALRUN_SOURCE_DIR) / relative; }

fs::path fixture() { return fs::path(SEALRUN_SOURCE_DIR) / ".." / "shared" / "fixtures" / "ommx" / "random_lp_instance.ommx"; }

// instance_layer returns the bytes of the fixture's instance layer, read
// through sealrun's own oci-archive reader.
std::string instance_layer() {
    content::OciArchive archive(fixture());
    const auto tags = archive.tags();
    REQUIRE(tags.size() == 1);
    const auto manifest = oci::ImageManifest::parse(content::read_all(archive, archive.resolve(tags[0]), oci::max_manifest_size));
    for (const auto& layer : manifest.layers)
        if (layer.media_type == ommx::media_types::instance) return content::read_all(archive, layer, 1 << 20);
    FAIL("the fixture has no application/org.ommx.v1.instance layer");
    return {};
}

// protoc runs the real protoc with the project's schema: `mode` is
// "--decode=TYPE" or "--encode=TYPE", `proto` the file under proto/ that
// defines TYPE; returns what it writes for `input`.
std::string protoc(const std::string& mode, const std::string& proto, const std::string& input) {
    TempDir dir;
    write_file(dir / "in", input);
    const auto root = source("proto");
    const auto r = run({"sh", "-c",
                        "protoc " + quoted(mode) + " -I " + quoted(root.string()) + " " + quoted((root / proto).string()) + " < " +
                            quoted((dir / "in").string()) + " > " + quoted((dir / "out").string())});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return read_file(dir / "out");
}

// Text is protoc's text format read into a tree: scalars by field name (in
// order) and nested messages by field name (in order).
struct Text {
    std::vector<std::pair<std::string, std::string>> scalars;
    std::vector<std::pair<std::string, Text>> messages;

    std::string scalar(const std::string& name, const std::string& absent = "") const {
        for (const auto& [k, v] : scalars)
            if (k == name) return v;
        return absent;
    }
    std::vector<const Text*> all(const std::string& name) const {
        std::vector<const Text*> out;
        for (const auto& [k, v] : messages)
            if (k == name) out.push_back(&v);
        return out;
    }
    const Text* one(const std::string& name) const {
        const auto a = all(name);
        return a.empty() ? nullptr : a[0];
    }
};

Text parse_text(const std::string& text) {
    Text root;
    std::vector<Text*> stack{&root};
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        line.erase(0, line.find_first_not_of(' '));
        if (line.empty()) continue;
        if (line == "}") {
            stack.pop_back();
        } else if (line.ends_with(" {")) {
            stack.back()->messages.emplace_back(line.substr(0, line.size() - 2), Text{});
            stack.push_back(&stack.back()->messages.back().second);
        } else {
            const auto colon = line.find(": ");
            REQUIRE(colon != std::string::npos);
            stack.back()->scalars.emplace_back(line.substr(0, colon), line.substr(colon + 2));
        }
    }
    REQUIRE(stack.size() == 1);
    return root;
}

double number(const std::string& text) {
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
    return std::strtod(text.c_str(), nullptr);
}

std::uint64_t id_of(const Text& t) { return std::stoull(t.scalar("id", "0")); }

// check_linear compares a function with protoc's text of an ommx.v1.Function
// holding a linear one.
void check_linear(const ommx::Function& f, const Text& text) {
    const auto* linear = text.one("linear");
    REQUIRE(linear);
    CHECK(f.form == ommx::Function::Form::linear);
    const auto terms = linear->all("terms");
    REQUIRE(!terms.empty());
    for (const auto* t : terms) CHECK(f.coefficient({id_of(*t)}) == number(t->scalar("coefficient", "0")));
    CHECK(f.constant() == number(linear->scalar("constant", "0")));
    CHECK(f.degree() == 1);
}

// unknown_field is field 999 (not in the schema), varint 7: tag
// (999 << 3 | 0) = 7992 as a varint, then the value.
const std::string unknown_field = std::string("\xb8\x3e\x07", 3);

}  // namespace

TEST_CASE("ommx: the fixture's Instance decodes as protoc reads it") {
    const auto bytes = instance_layer();
    const auto text = parse_text(protoc("--decode=ommx.v1.Instance", "ommx/v1/instance.proto", bytes));
    const auto instance = ommx::Instance::decode(bytes);
    CHECK(instance.version() == ommx::Version::v1);
    CHECK(instance.type_name() == "ommx.v1.Instance");
    CHECK(instance.media_type() == "application/org.ommx.v1.instance");

    const std::map<std::string, ommx::Sense> senses = {{"SENSE_UNSPECIFIED", ommx::Sense::unspecified},
                                                       {"SENSE_MINIMIZE", ommx::Sense::minimize},
                                                       {"SENSE_MAXIMIZE", ommx::Sense::maximize}};
    CHECK(instance.sense() == senses.at(text.scalar("sense", "SENSE_UNSPECIFIED")));

    const auto variables = instance.decision_variables();
    const auto variable_texts = text.all("decision_variables");
    REQUIRE(!variable_texts.empty());
    REQUIRE(variables.size() == variable_texts.size());
    for (std::size_t i = 0; i < variables.size(); ++i) {
        const auto& t = *variable_texts[i];
        CHECK(variables[i].id == id_of(t));
        CHECK(variables[i].kind == ommx::Kind::continuous);
        CHECK(t.scalar("kind") == "KIND_CONTINUOUS");
        CHECK(variables[i].name == t.scalar("name").substr(1, t.scalar("name").size() - 2));
        REQUIRE(variables[i].subscripts.size() == 1);
        CHECK(variables[i].subscripts[0] == std::stoll(t.scalar("subscripts")));
        REQUIRE(variables[i].bound);
        CHECK(variables[i].bound->lower == number(t.one("bound")->scalar("lower", "0")));
        CHECK(variables[i].bound->upper == number(t.one("bound")->scalar("upper", "0")));
    }

    check_linear(instance.objective(), *text.one("objective"));

    const auto constraints = instance.constraints();
    const auto constraint_texts = text.all("constraints");
    REQUIRE(!constraint_texts.empty());
    REQUIRE(constraints.size() == constraint_texts.size());
    for (std::size_t i = 0; i < constraints.size(); ++i) {
        CHECK(constraints[i].id == id_of(*constraint_texts[i]));
        CHECK(constraint_texts[i]->scalar("equality") == "EQUALITY_EQUAL_TO_ZERO");
        CHECK(constraints[i].equality == ommx::Equality::equal_to_zero);
        check_linear(constraints[i].function, *constraint_texts[i]->one("function"));
    }
    CHECK(instance.removed_constraints().size() == text.all("removed_constraints").size());
    CHECK(instance.description().name.has_value() == (text.one("description") && !text.one("description")->scalar("name").empty()));
}

TEST_CASE("ommx: the fixture's Instance re-encodes byte for byte, and JSON holds its values") {
    const auto bytes = instance_layer();
    const auto instance = ommx::Instance::decode(bytes);
    CHECK(instance.encode() == bytes);
    CHECK(codecs::OmmxInstanceCodec::encode(instance) == bytes);

    const auto json = instance.to_json();
    REQUIRE(json.at("decisionVariables").size() == instance.decision_variables().size());
    CHECK(json.at("decisionVariables").at(1).at("name") == *instance.decision_variables().at(1).name);
    const auto& terms = json.at("objective").at("linear").at("terms");
    const auto objective = instance.objective();
    REQUIRE(terms.size() == objective.terms.size());
    for (const auto& t : terms) {
        // protobuf's JSON mapping: uint64 as a string, zero fields left out.
        const auto id = t.contains("id") ? std::stoull(t.at("id").get<std::string>()) : 0;
        CHECK(t.at("coefficient").get<double>() == objective.coefficient({id}));
    }
    CHECK(json.at("decisionVariables").at(0).at("bound").at("upper") == "Infinity");

    // JSON reads back into an equal message.
    CHECK(ommx::Instance::from_json(json).encode() == bytes);
    CHECK(errc_of([] { (void)ommx::Instance::from_json(nlohmann::json{{"noSuchField", 1}}); }) == Errc::invalid_input);
    CHECK(errc_of([] { (void)ommx::Instance::from_json(nlohmann::json{{"sense", "SIDEWAYS"}}); }) == Errc::invalid_input);
}

TEST_CASE("ommx: unknown fields are kept through decode and encode") {
    const auto bytes = instance_layer() + unknown_field;
    const auto instance = ommx::Instance::decode(bytes);
    CHECK(instance.encode() == bytes);
    // A copy that is changed keeps them too, and the original is untouched.
    auto copy = instance;
    copy.set_sense(ommx::Sense::maximize);
    CHECK(copy.sense() == ommx::Sense::maximize);
    CHECK(instance.sense() != ommx::Sense::maximize);
    CHECK(has(copy.encode(), unknown_field));
    CHECK(instance.encode() == bytes);
    // Inside a nested message as well: an unknown field in the first
    // decision variable (field 2 of Instance, length-delimited).
    ommx::Instance one;
    one.add_decision_variable({{}, 3, ommx::Kind::binary, std::nullopt, std::nullopt});
    auto encoded = one.encode();
    REQUIRE(encoded.size() > 2);
    REQUIRE(encoded[0] == '\x12');
    std::string nested = "\x12" + std::string(1, static_cast<char>(encoded[1] + unknown_field.size())) + encoded.substr(2) + unknown_field;
    CHECK(ommx::Instance::decode(nested).encode() == nested);
}

TEST_CASE("ommx: bytes that are no message are refused with invalid_input naming the type") {
    const auto bytes = instance_layer();
    // Every proper prefix: a cut tag, value or length.
    std::size_t refused = 0;
    for (std::size_t n = 1; n < bytes.size(); ++n) {
        const auto e = error_of([&] { (void)ommx::Instance::decode(bytes.substr(0, n)); });
        if (!e) continue;  // a prefix that ends between two fields is a smaller message
        ++refused;
        CHECK(e->code() == Errc::invalid_input);
        CHECK(has(e->reason(), "not an ommx.v1.Instance"));
    }
    CHECK(refused > bytes.size() / 2);
    // One byte short: the last value is cut.
    CHECK(errc_of([&] { (void)ommx::Instance::decode(bytes.substr(0, bytes.size() - 1)); }) == Errc::invalid_input);

    // A length past the end: field 2 (decision_variables) claims 100 bytes, 1 follows.
    const auto past = thrown([] { (void)ommx::Instance::decode(std::string("\x12\x64\x08", 3)); });
    CHECK(past.code == Errc::invalid_input);
    CHECK(has(past.message, "not an ommx.v1.Instance"));
    CHECK(has(past.message, "runs past the end"));
    // The same inside a field the schema does not know names its number:
    // JSON text read as protobuf ('{' opens group 15, '"' is field 4, length 'h' = 104).
    const auto unknown = thrown([] { (void)ommx::Instance::decode(std::string(R"({"hello":1})")); });
    CHECK(unknown.code == Errc::invalid_input);
    CHECK_MESSAGE(has(unknown.message, "field 4 (unknown to the schema): a length of 104 runs past the end"), unknown.message);

    // A wrong wire type: field 5 (sense, a varint) sent length-delimited.
    const auto wire = thrown([] { (void)ommx::Instance::decode(std::string("\x2a\x01\x01", 3)); });
    CHECK(wire.code == Errc::invalid_input);
    CHECK(has(wire.message, "ommx.v1.Instance.sense"));
    // Wire types 6 and 7 do not exist.
    CHECK(errc_of([] { (void)ommx::Instance::decode(std::string("\x0e", 1)); }) == Errc::invalid_input);

    // 200 nested groups of an unknown field (the schema itself nests no
    // deeper than a few levels): deeper than protobuf's limit of 100.
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "\xbb\x3e";  // field 999, start group
    for (int i = 0; i < 200; ++i) deep += "\xbc\x3e";  // field 999, end group
    const auto nested = thrown([&] { (void)ommx::Instance::decode(deep); });
    CHECK(nested.code == Errc::invalid_input);
    CHECK(has(nested.message, "deeper than 100"));
    // 100 levels are within the limit, and kept as an unknown field.
    std::string ok;
    for (int i = 0; i < 100; ++i) ok += "\xbb\x3e";
    for (int i = 0; i < 100; ++i) ok += "\xbc\x3e";
    CHECK(ommx::Instance::decode(ok).encode() == ok);

    // A string that is not UTF-8 (proto3 strings must be).
    CHECK(errc_of([] { (void)ommx::Instance::decode(std::string("\x12\x03\x22\x01\xff", 5)); }) == Errc::invalid_input);
    // Every type refuses the same garbage.
    for (auto version : {ommx::Version::v1, ommx::Version::v2}) {
        CHECK(errc_of([&] { (void)ommx::Solution::decode("\x0a\x05", version); }) == Errc::invalid_input);
        CHECK(errc_of([&] { (void)ommx::SampleSet::decode("\x0a\x05", version); }) == Errc::invalid_input);
        CHECK(errc_of([&] { (void)ommx::ParametricInstance::decode("\x0a\x05", version); }) == Errc::invalid_input);
    }
}

TEST_CASE("ommx: v1 builders write what protoc reads, and decode back") {
    ommx::Instance instance;
    instance.set_sense(ommx::Sense::maximize);
    instance.set_description({.name = "knapsack", .authors = {"a", "b"}});
    instance.add_decision_variable({{.name = "x", .subscripts = {0, 1}}, 1, ommx::Kind::integer, ommx::Bound{0, 10}, std::nullopt});
    instance.add_decision_variable({{}, 2, ommx::Kind::binary, std::nullopt, std::nullopt});
    instance.set_objective({.form = ommx::Function::Form::zero, .terms = {{{1}, 2.5}, {{1, 2}, -1.0}, {{}, 4.0}}});
    instance.add_constraint({{.name = "cap"}, 7, ommx::Equality::less_than_or_equal_to_zero, {.terms = {{{1}, 1.0}, {{}, -3.0}}}, std::nullopt});
    instance.add_constraint({{}, 8, ommx::Equality::equal_to_zero, {.terms = {{{2, 2, 1}, 1.5}}}, std::string("relaxed")});
    const auto bytes = instance.encode();

    const auto text = parse_text(protoc("--decode=ommx.v1.Instance", "ommx/v1/instance.proto", bytes));
    CHECK(text.scalar("sense") == "SENSE_MAXIMIZE");
    CHECK(text.one("description")->scalar("name") == "\"knapsack\"");
    REQUIRE(text.all("decision_variables").size() == 2);
    CHECK(text.all("decision_variables")[0]->scalar("kind") == "KIND_INTEGER");
    const auto* quadratic = text.one("objective")->one("quadratic");
    REQUIRE(quadratic);
    CHECK(quadratic->scalar("rows") == "1");
    CHECK(quadratic->scalar("columns") == "2");
    CHECK(number(quadratic->scalar("values")) == -1.0);
    CHECK(number(quadratic->one("linear")->scalar("constant")) == 4.0);
    CHECK(text.all("constraints").size() == 1);
    REQUIRE(text.all("removed_constraints").size() == 1);
    CHECK(text.one("removed_constraints")->one("constraint")->one("function")->one("polynomial"));

    const auto back = ommx::Instance::decode(bytes);
    CHECK(back.sense() == ommx::Sense::maximize);
    CHECK(back.description().authors == std::vector<std::string>{"a", "b"});
    const auto vars = back.decision_variables();
    REQUIRE(vars.size() == 2);
    CHECK(vars[0].name == "x");
    CHECK(vars[0].subscripts == std::vector<std::int64_t>{0, 1});
    CHECK(vars[0].bound->upper == 10);
    CHECK(!vars[1].bound);
    const auto objective = back.objective();
    CHECK(objective.form == ommx::Function::Form::quadratic);
    CHECK(objective.coefficient({2, 1}) == -1.0);
    CHECK(objective.coefficient({1}) == 2.5);
    CHECK(objective.constant() == 4.0);
    CHECK(objective.terms.back().ids.empty());
    CHECK(back.constraints().at(0).function.constant() == -3.0);
    const auto removed = back.removed_constraints();
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].removed_reason == "relaxed");
    CHECK(removed[0].function.form == ommx::Function::Form::polynomial);
    CHECK(removed[0].function.coefficient({1, 2, 2}) == 1.5);
    CHECK(back.encode() == bytes);
}

TEST_CASE("ommx: Solution and SampleSet builders and accessors") {
    ommx::Solution solution;
    solution.set_objective(1.25);
    solution.set_feasible(true);
    solution.set_optimality(ommx::Optimality::optimal);
    solution.set_sense(ommx::Sense::minimize);
    solution.set_state({{1, 0.5}, {2, 1.0}});
    solution.add_evaluated_constraint({{}, 1, ommx::Equality::equal_to_zero, 5e-7});
    solution.add_evaluated_constraint({{}, 2, ommx::Equality::less_than_or_equal_to_zero, 1e-6});
    solution.add_evaluated_constraint({{}, 3, ommx::Equality::less_than_or_equal_to_zero, -4.0});
    const auto text = parse_text(protoc("--decode=ommx.v1.Solution", "ommx/v1/solution.proto", solution.encode()));
    CHECK(number(text.scalar("objective")) == 1.25);
    CHECK(text.scalar("optimality") == "OPTIMALITY_OPTIMAL");
    CHECK(text.one("state")->all("entries").size() == 2);

    const auto back = ommx::Solution::decode(solution.encode());
    CHECK(back.objective() == 1.25);
    CHECK(back.feasible());
    CHECK(back.optimality() == ommx::Optimality::optimal);
    CHECK(back.state() == ommx::State{{1, 0.5}, {2, 1.0}});
    const auto evaluated = back.evaluated_constraints();
    REQUIRE(evaluated.size() == 3);
    CHECK(evaluated[0].feasible);   // |5e-7| < 1e-6
    CHECK(!evaluated[1].feasible);  // 1e-6 is not < 1e-6 (OMMX's strict rule)
    CHECK(evaluated[2].feasible);

    ommx::SampleSet set;
    set.set_sense(ommx::Sense::maximize);
    set.add_sample({.id = 3, .objective = 5, .feasible = true, .state = {{1, 1.0}, {2, 0.0}}});
    set.add_sample({.id = 1, .objective = 9, .feasible = false, .state = {{1, 0.0}, {2, 0.0}}});
    set.add_sample({.id = 2, .objective = 5, .feasible = true, .state = {{1, 0.0}, {2, 1.0}}});
    CHECK(errc_of([&] { set.add_sample({.id = 2}); }) == Errc::already_exists);
    const auto decoded = ommx::SampleSet::decode(set.encode());
    CHECK(decoded.sample_ids() == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(decoded.objectives() == std::map<std::uint64_t, double>{{1, 9}, {2, 5}, {3, 5}});
    CHECK(decoded.feasible().at(1) == false);
    const auto best = decoded.best_feasible();
    REQUIRE(best);
    CHECK(best->id == 2);  // 1 is infeasible; 2 and 3 tie, the lower id wins
    CHECK(best->state == ommx::State{{1, 0.0}, {2, 1.0}});
    CHECK(decoded.sample(3).state == ommx::State{{1, 1.0}, {2, 0.0}});
    CHECK(errc_of([&] { (void)decoded.sample(4); }) == Errc::not_found);
    CHECK(decoded.decision_variables().size() == 2);
    const auto sample_text = parse_text(protoc("--decode=ommx.v1.SampleSet", "ommx/v1/sample_set.proto", set.encode()));
    CHECK(sample_text.scalar("sense") == "SENSE_MAXIMIZE");
    CHECK(sample_text.one("objectives")->all("entries").size() == 3);
}

TEST_CASE("ommx: v2 payloads written by protoc decode into the same accessors") {
    const auto instance_bytes = protoc("--encode=ommx.v2.Instance", "ommx/v2/instance.proto", R"(
        sense: SENSE_MINIMIZE
        decision_variables {
          entries { key: 5 value { kind: KIND_BINARY bound { upper: 1 } } }
          entries { key: 2 value { kind: KIND_INTEGER } }
          labels { key: 5 value { name: "y" subscripts: 3 } }
          fixed_values { key: 2 value: 4 }
        }
        objective { linear { terms { id: 5 coefficient: 2.5 } constant: 1 } }
        regular_constraints {
          active { key: 10 value { equality: EQUALITY_LESS_THAN_OR_EQUAL_TO_ZERO function { constant: -1 } } }
          removed { key: 11 value { equality: EQUALITY_EQUAL_TO_ZERO function { linear { terms { id: 2 coefficient: 1 } } } } }
          removed_reasons { key: 11 value { reason: "presolve" } }
          contexts { key: 10 value { label { name: "c" } } }
        }
        annotations { key: "k" value: "v" }
    )");
    const auto instance = ommx::Instance::decode(instance_bytes, ommx::Version::v2);
    CHECK(instance.version() == ommx::Version::v2);
    CHECK(instance.type_name() == "ommx.v2.Instance");
    CHECK(instance.media_type() == "application/org.ommx.v2.instance");
    CHECK(instance.sense() == ommx::Sense::minimize);
    const auto vars = instance.decision_variables();
    REQUIRE(vars.size() == 2);
    CHECK(vars[0].id == 2);
    CHECK(vars[0].substituted_value == 4.0);
    CHECK(vars[1].id == 5);
    CHECK(vars[1].kind == ommx::Kind::binary);
    CHECK(vars[1].name == "y");
    CHECK(vars[1].bound->upper == 1);
    CHECK(instance.objective().coefficient({5}) == 2.5);
    REQUIRE(instance.constraints().size() == 1);
    CHECK(instance.constraints()[0].name == "c");
    CHECK(instance.constraints()[0].function.constant() == -1);
    REQUIRE(instance.removed_constraints().size() == 1);
    CHECK(instance.removed_constraints()[0].removed_reason == "presolve");
    CHECK(instance.annotations().at("k") == "v");
    // protoc writes map entries in any order, sealrun in key order: the
    // same message, as protoc's text (which sorts maps) shows.
    CHECK(protoc("--decode=ommx.v2.Instance", "ommx/v2/instance.proto", instance.encode()) ==
          protoc("--decode=ommx.v2.Instance", "ommx/v2/instance.proto", instance_bytes));
    CHECK(ommx::Instance::decode(instance.encode(), ommx::Version::v2).encode() == instance.encode());
    CHECK(instance.to_json().at("regularConstraints").at("removedReasons").at("11").at("reason") == "presolve");
    CHECK(errc_of([&] { auto copy = instance; copy.set_sense(ommx::Sense::maximize); }) == Errc::unsupported);

    const auto solution = ommx::Solution::decode(protoc("--encode=ommx.v2.Solution", "ommx/v2/solution.proto", R"(
        objective: 3 feasible: true optimality: OPTIMALITY_NOT_OPTIMAL sense: SENSE_MAXIMIZE
        decision_variables { entries { key: 1 value { kind: KIND_CONTINUOUS value: 0.5 } } }
        evaluated_regular_constraints {
          entries { key: 4 value { equality: EQUALITY_EQUAL_TO_ZERO evaluated_value: 0.25 feasible: true } }
        }
    )"), ommx::Version::v2);
    CHECK(solution.objective() == 3);
    CHECK(solution.optimality() == ommx::Optimality::not_optimal);
    CHECK(solution.state() == ommx::State{{1, 0.5}});
    REQUIRE(solution.evaluated_constraints().size() == 1);
    CHECK(solution.evaluated_constraints()[0].feasible);  // v2 stores it: 0.25 would not be feasible by the rule

    const auto samples = ommx::SampleSet::decode(protoc("--encode=ommx.v2.SampleSet", "ommx/v2/sample_set.proto", R"(
        sense: SENSE_MINIMIZE
        objectives { entries { value: 2 ids: 0 ids: 1 } entries { value: -1 ids: 2 } }
        decision_variables { entries { key: 7 value { kind: KIND_BINARY samples { entries { value: 1 ids: 2 } entries { value: 0 ids: 0 ids: 1 } } } } }
        feasible { key: 0 value: true } feasible { key: 1 value: true } feasible { key: 2 value: false }
    )"), ommx::Version::v2);
    CHECK(samples.sample_ids() == std::vector<std::uint64_t>{0, 1, 2});
    const auto best = samples.best_feasible();
    REQUIRE(best);
    CHECK(best->id == 0);
    CHECK(best->objective == 2);
    CHECK(samples.sample(2).state == ommx::State{{7, 1.0}});

    const auto parametric = ommx::ParametricInstance::decode(protoc("--encode=ommx.v2.ParametricInstance", "ommx/v2/parametric_instance.proto", R"(
        parameters { ids: 9 ids: 8 labels { key: 8 value { name: "p" } } }
    )"), ommx::Version::v2);
    const auto params = parametric.parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].id == 8);
    CHECK(params[0].name == "p");
}

TEST_CASE("ommx: the eight codecs are registered by media type and refuse the other version") {
    const auto& registry = CodecRegistry::global();
    for (auto media_type : {ommx::media_types::instance, ommx::media_types::parametric_instance, ommx::media_types::solution,
                            ommx::media_types::sample_set, ommx::media_types::instance_v2, ommx::media_types::parametric_instance_v2,
                            ommx::media_types::solution_v2, ommx::media_types::sample_set_v2}) {
        const auto entry = registry.registered_codec(media_type);
        REQUIRE(entry);
        CHECK(entry->media_type == media_type);
        CHECK(registry.registered_codec(std::string(media_type) + "+zstd") == entry);
    }
    const auto bytes = instance_layer();
    const auto entry = registry.by_media_type("application/org.ommx.v1.instance+zstd");
    REQUIRE(entry);
    const auto value = entry->decode(bytes);
    CHECK(std::any_cast<const ommx::Instance&>(value).constraints().size() == ommx::Instance::decode(bytes).constraints().size());
    CHECK(entry->encode(value) == bytes);
    CHECK(errc_of([&] { (void)registry.registered_codec(ommx::media_types::solution)->decode(std::string("\x0a\x05", 2)); }) ==
          Errc::invalid_input);

    const auto v2 = ommx::Instance::decode("", ommx::Version::v2);
    const auto refused = thrown([&] { (void)codecs::OmmxInstanceCodec::encode(v2); });
    CHECK(refused.code == Errc::invalid_input);
    CHECK(has(refused.message, "ommx.v2.Instance"));
    CHECK(errc_of([&] { (void)codecs::OmmxInstanceV2Codec::encode(ommx::Instance{}); }) == Errc::invalid_input);
    CHECK(codecs::OmmxInstanceV2Codec::encode(v2).empty());
}

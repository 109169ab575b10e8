// Parameters read from JSON: one conversion (parameter_from_json) for the
// CLI's model.json, SealedRun's configs and validate(), and the same integer
// rule as log_parameter. Nothing is wrapped, rounded or turned into null.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "sealrun/content/memory.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace sealrun;
using nlohmann::json;

namespace {

constexpr std::uint64_t two_63 = std::uint64_t{1} << 63;

// with_parameter rewrites run 0's config of the experiment tagged "v1" in
// `t` so that parameters[name] is `value` (canonical JSON, as a writer
// would store it), and tags the result "edited".
void with_parameter(content::MemoryTarget& t, const std::string& name, const json& value) {
    const auto root = t.resolve("v1");
    auto index = oci::ImageIndex::parse(content::read_all(t, root, oci::max_manifest_size));
    auto& run_desc = index.manifests.at(0);
    auto m = oci::ImageManifest::parse(content::read_all(t, run_desc, oci::max_manifest_size));
    auto config = json::parse(content::read_all(t, m.config, 1 << 20));
    config["parameters"][name] = value;
    const auto config_bytes = oci::canonical_json(config);
    m.config = oci::Descriptor::for_bytes(m.config.media_type, config_bytes);
    content::push_bytes(t, m.config, config_bytes);
    const auto manifest_bytes = m.serialize();
    auto d = oci::Descriptor::for_bytes(run_desc.media_type, manifest_bytes);
    d.annotations = run_desc.annotations;
    content::push_bytes(t, d, manifest_bytes);
    run_desc = d;
    // As an archive sealed before summaries: the edited run would (rightly)
    // disagree with the summary too, a second finding this test is not about.
    std::erase_if(index.manifests, [](const oci::Descriptor& e) {
        const auto it = e.annotations.find(std::string(format::keys::part));
        return it != e.annotations.end() && it->second == format::part_summary;
    });
    index.annotations.erase(std::string(format::keys::experiment_runs));
    const auto index_bytes = index.serialize();
    const auto r = oci::Descriptor::for_bytes(root.media_type, index_bytes);
    content::push_bytes(t, r, index_bytes);
    t.tag(r, "edited");
}

std::vector<CheckResult> failures(const ValidationReport& r) {
    std::vector<CheckResult> out;
    for (const auto& c : r.checks)
        if (!c.passed) out.push_back(c);
    return out;
}

}  // namespace

TEST_CASE("parameter_from_json keeps every value a Parameter holds exactly") {
    CHECK(std::get<bool>(parameter_from_json(json(true), "p")));
    CHECK(std::get<std::int64_t>(parameter_from_json(json(INT64_MAX), "p")) == INT64_MAX);
    CHECK(std::get<std::int64_t>(parameter_from_json(json(INT64_MIN), "p")) == INT64_MIN);
    CHECK(std::get<std::int64_t>(parameter_from_json(json(std::uint64_t{INT64_MAX}), "p")) == INT64_MAX);
    CHECK(std::get<std::int64_t>(parameter_from_json(json::parse("9223372036854775807"), "p")) == INT64_MAX);
    CHECK(std::get<std::int64_t>(parameter_from_json(json::parse("-9223372036854775808"), "p")) == INT64_MIN);
    CHECK(std::get<double>(parameter_from_json(json(0.1), "p")) == 0.1);
    CHECK(std::signbit(std::get<double>(parameter_from_json(json(-0.0), "p"))));
    CHECK(std::get<double>(parameter_from_json(json(std::numeric_limits<double>::max()), "p")) ==
          std::numeric_limits<double>::max());
    CHECK(std::get<std::string>(parameter_from_json(json("adam"), "p")) == "adam");
    // and what comes out goes back to the same JSON
    for (const auto* text : {"true", "-9223372036854775808", "9223372036854775807", "0.1", "\"x\"", "1e300"})
        CHECK(parameter_to_json(parameter_from_json(json::parse(text), "p")).dump() == json::parse(text).dump());
}

TEST_CASE("parameter_from_json refuses what it cannot hold exactly, naming the parameter") {
    const std::vector<std::pair<json, std::string>> refused = {
        {json(std::numeric_limits<std::uint64_t>::max()), "2^63-1"},
        {json::parse("18446744073709551615"), "2^63-1"},
        {json::parse("9223372036854775808"), "2^63-1"},
        {json(two_63), "2^63-1"},
        {json(std::numeric_limits<double>::infinity()), "infinit"},
        {json(-std::numeric_limits<double>::infinity()), "infinit"},
        {json(std::nan("")), "NaN"},
        {json(nullptr), "null"},
        {json::array({1}), "array"},
        {json::object({{"a", 1}}), "object"},
    };
    for (const auto& [v, why] : refused) {
        CAPTURE(v.dump());
        const auto e = test::thrown([&] { (void)parameter_from_json(v, "lr"); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "lr"));
        CHECK(test::contains(e.message, why));
    }
}

TEST_CASE("log_parameter takes integers by the same rule: uint64 past 2^63-1 refused, never wrapped") {
    test::TempDir dir;
    RecordStore store(dir / "storage");
    Experiment exp(store, "x", test::fixed_options());
    Run& r = exp.run();
    r.log_parameter("max", std::uint64_t{INT64_MAX});
    CHECK(std::get<std::int64_t>(r.parameters().at("max")) == INT64_MAX);
    r.log_parameter("min", std::int64_t{INT64_MIN});
    CHECK(std::get<std::int64_t>(r.parameters().at("min")) == INT64_MIN);
    r.log_parameter("u32", std::numeric_limits<std::uint32_t>::max());
    CHECK(std::get<std::int64_t>(r.parameters().at("u32")) == 4294967295);
    for (const std::uint64_t v : {two_63, std::numeric_limits<std::uint64_t>::max()}) {
        CAPTURE(v);
        const auto e = test::thrown([&] { r.log_parameter("big", v); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "big"));
        CHECK(test::contains(e.message, "2^63-1"));
    }
    CHECK(test::errc_of([&] { r.log_parameter("big", static_cast<unsigned long long>(two_63)); }) == Errc::invalid_input);
    CHECK(!r.parameters().contains("big"));
    // The same refusal, word for word, as reading the value from JSON.
    CHECK(test::thrown([&] { r.log_parameter("big", two_63); }).message ==
          test::thrown([&] { (void)parameter_from_json(json(two_63), "big"); }).message);
}

TEST_CASE("a sealed config holding a parameter past 2^63-1 is refused by SealedRun and failed by validate") {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    REQUIRE(validate(t, "v1").ok());

    with_parameter(t, "fine", json(INT64_MIN));
    CHECK(std::get<std::int64_t>(SealedExperiment::open(t, "edited").run(0).parameters().at("fine")) == INT64_MIN);
    CHECK(validate(t, "edited").ok());

    for (const auto& bad : {json::parse("18446744073709551615"), json::parse("9223372036854775808")}) {
        CAPTURE(bad.dump());
        with_parameter(t, "seed", bad);
        const auto e = test::thrown([&] { (void)SealedExperiment::open(t, "edited").run(0); });
        CHECK(e.code == Errc::invalid_input);
        CHECK(test::contains(e.message, "config.parameters.seed"));
        CHECK(test::contains(e.message, "2^63-1"));

        const auto report = validate(t, "edited");
        CHECK(!report.ok());
        const auto f = failures(report);
        REQUIRE(f.size() == 1);
        CHECK(f[0].name == "run-config");
        CHECK(test::contains(f[0].message, "config.parameters.seed"));
        CHECK(test::contains(f[0].message, "2^63-1"));
    }
    // a nested value too
    with_parameter(t, "seed", json::object({{"a", 1}}));
    CHECK(!validate(t, "edited").ok());
    CHECK(test::errc_of([&] { (void)SealedExperiment::open(t, "edited").run(0); }) == Errc::invalid_input);
}

// sealrun validate: checking an archive for CI.
#include <iostream>
#include <optional>

#include <sealrun/validate/validate.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace sealrun::cli {

int cmd_validate(const Args& a, const Globals& g) {
    need(a, 1, 1, "sealrun validate SRC [--format text|json|junit] [--strict] [--codec-allow TYPE] [--verbose]");
    const auto fmt = a.get("--format").value_or(g.json ? "json" : "text");
    if (fmt != "text" && fmt != "json" && fmt != "junit") throw UsageError("--format is text, json or junit");
    auto loc = open_location(a.positional[0], g, false);
    ValidationOptions o;
    o.strict = a.has("--strict");
    if (auto it = a.options.find("--codec-allow"); it != a.options.end()) o.codec_allow = it->second;
    // No list of checks is held (1.6 million at 100,000 runs): JSON is
    // written as the checks come, JUnit and the verbose text spool theirs
    // (their counts and failures come first), the plain text needs the
    // failures and warnings only, which the report keeps.
    const bool verbose = a.has("--verbose");
    std::optional<JsonReportWriter> json;
    std::optional<SpooledReportWriter> spooled;
    if (fmt == "json") {
        json.emplace(std::cout);
        o.on_check = [&](const CheckResult& c) { json->check(c); };
    } else if (fmt == "junit" || verbose) {
        using F = SpooledReportWriter::Format;
        spooled.emplace(std::cout, fmt == "junit" ? F::junit : F::verbose_text);
        o.on_check = [&](const CheckResult& c) { spooled->check(c); };
    } else {
        o.on_check = [](const CheckResult&) {};
    }
    auto report = validate(*loc.target, loc.reference, o);
    check_lone_run(report, *loc.target, loc.reference, o.strict, o.on_check);
    if (json) {
        json->finish(report);
        std::cout << "\n";
    } else if (spooled) {
        spooled->finish(report);
    } else {
        std::cout << to_text(report, false);
    }
    return report.ok() ? exit_ok : exit_failed;
}

}  // namespace sealrun::cli

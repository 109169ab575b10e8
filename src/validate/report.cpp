// validate(): the report's renderings, for people (to_text), for programs
// (to_json) and for CI (to_junit).
#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/printable.h"
#include "sealrun/validate/validate.h"
#include "util/fs.h"
#include "util/utf8.h"

namespace sealrun {

namespace {

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// xml_char_length returns the length of the valid UTF-8 sequence at `s[i]`
// holding an XML 1.0 character, or 0.
std::size_t xml_char_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    std::uint32_t cp = 0;
    const auto n = util::utf8_length(s, i, cp);
    if (cp == 0xfffe || cp == 0xffff) return 0;  // not XML characters
    return n;
}

// xml_escape escapes `s` for XML text or (with `attribute`) a double- or
// single-quoted attribute value; bytes that cannot appear in XML 1.0 are
// shown as \xNN.
std::string xml_escape(std::string_view s, bool attribute) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() + 16);
    for (std::size_t i = 0; i < s.size();) {
        const auto n = xml_char_length(s, i);
        if (n == 0) {
            const auto c = static_cast<unsigned char>(s[i++]);
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        const char c = s[i++];
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += attribute ? "&quot;" : "\""; break;
            case '\'': out += attribute ? "&apos;" : "'"; break;
            case '\t': out += attribute ? "&#9;" : "\t"; break;
            case '\n': out += attribute ? "&#10;" : "\n"; break;
            case '\r': out += "&#13;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string attr(std::string_view s) { return "\"" + xml_escape(s, true) + "\""; }

// json_text is to_json's rendering of one value.
std::string json_text(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

nlohmann::json check_json(const CheckResult& c) {
    return {{"name", c.name}, {"subject", c.subject}, {"passed", c.passed}, {"warning", c.warning}, {"message", c.message}};
}

// report_json is the report's document but for its checks.
nlohmann::json report_json(const ValidationReport& report) {
    return {{"reference", report.reference}, {"kind", report.kind},         {"digest", report.digest},
            {"ok", report.ok()},             {"failures", report.failures()}, {"warnings", report.warnings()}};
}

}  // namespace

std::size_t ValidationReport::failures() const noexcept {
    return static_cast<std::size_t>(std::count_if(checks.begin(), checks.end(), [](const auto& c) { return !c.passed; }));
}

std::size_t ValidationReport::warnings() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(checks.begin(), checks.end(), [](const auto& c) { return c.passed && c.warning; }));
}

std::string lone_run_note(const SealedRun& run) {
    const auto& c = run.config();
    const auto it = c.find("experiment");
    const std::string name = it != c.end() && it->is_string() ? "\"" + printable(it->get<std::string>()) + "\"" : "?";
    return "a single sealed run (run " + std::to_string(run.run_id()) + ") of experiment " + name +
           ", not the experiment: a plain skopeo copy keeps one manifest of an index; copy the experiment with "
           "skopeo copy --all";
}

void check_lone_run(ValidationReport& report, content::ReadOnlyTarget& target, std::string_view reference, bool strict,
                    const std::function<void(const CheckResult&)>& on_check) {
    if (report.kind != "run" || oci::is_digest_reference(reference)) return;
    std::string note;
    try {
        note = lone_run_note(SealedRun::open(target, target.resolve(reference)));
    } catch (const Error&) {
        note = "a single run manifest, not an experiment: a plain skopeo copy keeps one manifest of an index; copy the "
               "experiment with skopeo copy --all";
    }
    report.checks.push_back({.name = "experiment",
                             .subject = std::string(reference),
                             .passed = !strict,
                             .warning = !strict,
                             .message = strict ? "strict: " + note : note});
    if (on_check) on_check(report.checks.back());
}

namespace {

// text_line is the plain text's line of check `c`, marked FAIL, WARN or ok.
std::string text_line(const CheckResult& c, std::string_view mark) {
    std::string l(mark);
    l.resize(6, ' ');
    l += printable(c.name);
    if (l.size() < 24) l.resize(24, ' ');
    else l += ' ';
    l += printable(c.subject);
    if (!c.message.empty()) l += ": " + printable(c.message);
    return l + "\n";
}

// text_problems is the plain text's lines of the report's failures, then its warnings.
std::string text_problems(const ValidationReport& report) {
    std::string out;
    for (const auto& c : report.checks)
        if (!c.passed) out += text_line(c, "FAIL");
    for (const auto& c : report.checks)
        if (c.passed && c.warning) out += text_line(c, "WARN");
    return out;
}

// text_summary is the plain text's last line.
std::string text_summary(const ValidationReport& report) {
    std::string out = printable(report.reference);
    if (!report.kind.empty()) out += " (" + report.kind + (report.digest.empty() ? "" : " " + report.digest) + ")";
    out += std::string(": ") + (report.ok() ? "VALID" : "INVALID") + ", " +
           plural(report.failures(), "failure", "failures") + ", " + plural(report.warnings(), "warning", "warnings") +
           ", " + std::to_string(report.total() - report.failures()) + " of " +
           plural(report.total(), "check", "checks") + " passed\n";
    return out;
}

bool plain_pass(const CheckResult& c) { return c.passed && !c.warning; }

}  // namespace

std::string to_text(const ValidationReport& report, bool verbose) {
    auto out = text_problems(report);
    if (verbose)
        for (const auto& c : report.checks)
            if (plain_pass(c)) out += text_line(c, "ok");
    return out + text_summary(report);
}

std::string to_json(const ValidationReport& report) {
    auto doc = report_json(report);
    auto& checks = doc["checks"] = nlohmann::json::array();
    for (const auto& c : report.checks) checks.push_back(check_json(c));
    return json_text(doc);
}

// The document's keys are in order and "checks" is the first of them: the
// writer opens it, writes the checks, then the rest of the members.
JsonReportWriter::JsonReportWriter(std::ostream& out) : out_(out) { out_ << "{\"checks\":["; }

void JsonReportWriter::check(const CheckResult& c) {
    out_ << (first_ ? "" : ",") << json_text(check_json(c));
    first_ = false;
}

void JsonReportWriter::finish(const ValidationReport& report) { out_ << "]," << json_text(report_json(report)).substr(1); }

namespace {

// junit_head is the JUnit document up to its first test case.
std::string junit_head(const ValidationReport& report) {
    const auto tests = std::to_string(report.total());
    const auto failures = std::to_string(report.failures());
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<testsuites name=\"sealrun validate\" tests=\"" + tests + "\" failures=\"" + failures +
           "\" errors=\"0\" skipped=\"0\">\n";
    out += "  <testsuite name=" + attr("sealrun validate " + report.reference) + " tests=\"" + tests +
           "\" failures=\"" + failures + "\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
    out += "    <properties>\n";
    out += "      <property name=\"reference\" value=" + attr(report.reference) + "/>\n";
    out += "      <property name=\"kind\" value=" + attr(report.kind) + "/>\n";
    out += "      <property name=\"digest\" value=" + attr(report.digest) + "/>\n";
    out += "      <property name=\"warnings\" value=\"" + std::to_string(report.warnings()) + "\"/>\n";
    out += "    </properties>\n";
    return out;
}

// junit_case is the test case of check `c`.
std::string junit_case(const CheckResult& c) {
    std::string out = "    <testcase classname=" + attr("sealrun.validate." + c.name) +
                      " name=" + attr(c.subject.empty() ? c.name : c.subject) + " time=\"0\">\n";
    if (!c.passed) {
        out += "      <failure message=" + attr(c.message) + " type=" + attr(c.name) + ">" + xml_escape(c.message, false) +
               "</failure>\n";
    } else if (c.warning) {
        out += "      <system-out>WARNING: " + xml_escape(c.message, false) + "</system-out>\n";
    } else if (!c.message.empty()) {
        out += "      <system-out>" + xml_escape(c.message, false) + "</system-out>\n";
    }
    return out + "    </testcase>\n";
}

constexpr std::string_view junit_tail = "  </testsuite>\n</testsuites>\n";

}  // namespace

std::string to_junit(const ValidationReport& report) {
    auto out = junit_head(report);
    for (const auto& c : report.checks) out += junit_case(c);
    return out += junit_tail;
}

// The spool: the rendered checks, buffered and written to an unnamed
// temporary file.
struct SpooledReportWriter::Spool {
    explicit Spool(const std::filesystem::path& dir) : file(dir) {}
    util::TempFile file;
    std::string buffer;
    void add(std::string text) {
        buffer += text;
        if (buffer.size() >= (std::size_t{1} << 16)) flush();
    }
    void flush() {
        file.write(std::as_bytes(std::span(buffer.data(), buffer.size())));
        buffer.clear();
    }
    // copy_to writes what was spooled to `out`.
    void copy_to(std::ostream& out) {
        flush();
        const auto fd = file.reopen();
        std::vector<std::byte> chunk(std::size_t{1} << 16);
        while (const auto n = util::read_some(fd.get(), chunk, file.path()))
            out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
    }
};

SpooledReportWriter::SpooledReportWriter(std::ostream& out, Format format)
    : out_(out), format_(format), spool_(std::make_unique<Spool>(util::temp_directory("validate"))) {}

SpooledReportWriter::~SpooledReportWriter() = default;

void SpooledReportWriter::check(const CheckResult& c) {
    if (format_ == Format::junit) spool_->add(junit_case(c));
    else if (plain_pass(c)) spool_->add(text_line(c, "ok"));  // failures and warnings: from the report
}

void SpooledReportWriter::finish(const ValidationReport& report) {
    if (format_ == Format::junit) {
        out_ << junit_head(report);
        spool_->copy_to(out_);
        out_ << junit_tail;
    } else {
        out_ << text_problems(report);
        spool_->copy_to(out_);
        out_ << text_summary(report);
    }
}

}  // namespace sealrun

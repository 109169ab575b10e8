#pragma once
/// Validating an archive: every check a reader would make (docs/FORMAT.md),
/// and more, run to the end and reported one by one instead of stopping at
/// the first problem. The library side of `sealrun validate`.

#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/codecs/codec.h"
#include "sealrun/content/target.h"

namespace sealrun {

class SealedRun;  // sealrun/experiment/sealed.h
struct CheckResult;

/// ValidationOptions tunes validate(); the zero value is the default.
struct ValidationOptions {
    /// strict turns every warning into a failure (its message then starts
    /// with "strict: "). Without it a layer whose media type has no codec,
    /// and the other departures from what a writer MUST write that readers
    /// nevertheless accept, are warnings.
    bool strict = false;
    /// codec_allow lists logical media types (without "+zstd") accepted
    /// without a codec, e.g. "application/x-hdf5"; "type/*" accepts every
    /// subtype of a type. A listed type that does have a codec is still
    /// decoded.
    std::vector<std::string> codec_allow;
    /// codecs is the registry attachments are decoded with; nullptr means
    /// CodecRegistry::global().
    const CodecRegistry* codecs = nullptr;
    /// max_blob_read caps how many bytes of one attachment (after zstd
    /// decompression) are decoded; it bounds the time a zstd bomb costs.
    /// Larger attachments are still verified (streamed) but not decoded,
    /// which is a warning.
    std::size_t max_blob_read = std::size_t{1} << 30;
    /// max_decode_memory caps how many bytes of one attachment are held in
    /// memory for a codec without a streaming check (see Codec: NumPy,
    /// directory tar, codecs users add). JSON, JSON lines, text, bytes and
    /// pickle attachments are checked as streams, in bounded memory whatever
    /// their size. Larger ones are verified but not decoded (a warning).
    std::size_t max_decode_memory = std::size_t{48} << 20;
    /// on_check, when set, is handed every check as it is made, in order;
    /// the report then keeps only the failed checks and the warnings (what
    /// ok(), failures() and warnings() count) and counts the others in
    /// ValidationReport::passed_not_kept. Validating a 100,000-run
    /// experiment makes 1.6 million checks: with on_check, none is held.
    std::function<void(const CheckResult&)> on_check;
};

/// CheckResult is the outcome of one check.
struct CheckResult {
    /// name is the check's stable id:
    ///   "resolve"           the reference names something in the target
    ///   "digest"            a blob is present and matches its size and digest
    ///   "schema"            a manifest, index or config parses strictly
    ///   "media-type"        a document's media types are RFC 6838 names
    ///   "experiment"        the index is a well-formed sealed experiment
    ///   "artifact-type"     a sealrun manifest's artifactType and config type
    ///   "run-config"        a run config is consistent (version, table, …)
    ///   "experiment-config" the experiment-attachments config is consistent
    ///                       (of an OMMX experiment: its config, by the
    ///                       rules SealedExperiment opens it by)
    ///   "run-parameters"    an OMMX experiment's MessagePack run-parameter table
    ///   "run-id"            a run's id (index entry, config, annotation)
    ///   "status"            an experiment's or run's status
    ///   "solves"            a run's solves
    ///   "title"             an attachment name / layer title is safe and matches
    ///   "codec"             an attachment has a codec that decodes its bytes
    ///   "names"             attachment names that cannot be written out side
    ///                       by side: twins by ASCII case or by the NFC/NFD
    ///                       spelling of Latin-1 letters, a file that is
    ///                       also a folder ("a" beside "a/b"), a path
    ///                       component over 255 bytes (warnings; reported
    ///                       only when found)
    ///   "depth"             a node lies deeper than oci::max_graph_depth
    ///                       levels below the root (not followed)
    std::string name;
    /// subject is what was checked: a digest ("sha256:…"), a run ("run 0"),
    /// an attachment ("run 0: result.json", "experiment: sweep.json"),
    /// "experiment", or the reference (for "resolve").
    std::string subject;
    /// passed is false for a failed check.
    bool passed = true;
    /// warning marks a passed check that found something worth a look;
    /// never true when passed is false.
    bool warning = false;
    /// message says what was found: on failure, the problem (naming the JSON
    /// path or the offending value).
    std::string message;
};

/// ValidationReport is every check validate() ran, in the order it ran them.
struct ValidationReport {
    /// reference is the reference that was validated, as given.
    std::string reference;
    /// kind is what the reference turned out to be: "experiment", "run",
    /// "experiment-attachments", "ommx-artifact", "ommx-experiment",
    /// "image-index", "image-manifest", or empty
    /// when it could not be resolved or read.
    std::string kind;
    /// digest is the resolved root's digest (empty when unresolved).
    std::string digest;
    /// checks are the checks validate() ran, in order: all of them, or,
    /// with ValidationOptions::on_check, the failed ones and the warnings.
    std::vector<CheckResult> checks;
    /// passed_not_kept counts the passed checks handed to on_check only.
    std::size_t passed_not_kept = 0;

    /// total returns how many checks ran.
    std::size_t total() const noexcept { return checks.size() + passed_not_kept; }
    /// ok reports whether no check failed (warnings allowed).
    bool ok() const noexcept { return failures() == 0; }
    /// failures returns how many checks failed.
    std::size_t failures() const noexcept;
    /// warnings returns how many checks passed with a warning.
    std::size_t warnings() const noexcept;
};

/// validate checks what `reference` (a tag or digest) names in `target`.
///
/// For a sealed experiment (an index typed by artifactType, or by the
/// vnd.sealrun.artifact-type annotation when a tool dropped artifactType)
/// it checks the index, every run and the experiment-attachments manifest;
/// for a sealed run manifest, that run; for an OMMX generic artifact or OMMX
/// experiment (docs/FORMAT.md "OMMX interop"), the rules OmmxArtifact and
/// SealedExperiment open it by and a decode of every payload layer with its
/// codec; for any other OCI manifest or index,
/// the generic checks only (digests and sizes of everything reachable,
/// strict schemas, media types). Every blob is read through and verified
/// independently of the target. Sealed parts also get SealedRun::open's
/// checks and a decode of every attachment with its codec.
///
/// validate does not throw: every problem is a failed check, and an
/// unresolvable reference (or a target that fails to resolve it) is one
/// failed "resolve" check. Should validation itself break down (memory
/// exhausted), the report ends with a failed "internal" check.
ValidationReport validate(content::ReadOnlyTarget& target, std::string_view reference,
                          const ValidationOptions& options = {});

/// lone_run_note says what a tag naming one sealed run is: a run of an
/// experiment, not the experiment, the shape a plain `skopeo copy` (without
/// --all) leaves, since it keeps one manifest of an index. Names escaped
/// with sealrun::printable().
std::string lone_run_note(const SealedRun& run);

/// check_lone_run adds to `report` (of validate(target, reference, …)) the
/// check `sealrun validate` adds when `reference` is a tag naming one sealed
/// run instead of an experiment: an "experiment" check that passes with a
/// warning (lone_run_note()), or, when `strict`, fails with "strict: " and
/// the note. A run named by digest was picked on purpose and gets none; nor
/// does any other kind. The check goes to `on_check` too, when given (as
/// validate() hands its checks). Throws only what allocation throws.
void check_lone_run(ValidationReport& report, content::ReadOnlyTarget& target, std::string_view reference, bool strict,
                    const std::function<void(const CheckResult&)>& on_check = {});

/// to_text renders the report for people: failures first, then warnings,
/// one line each ("FAIL", "WARN"), then, only when `verbose`, every passed
/// check ("ok"), and a summary line: "REF (KIND DIGEST): VALID|INVALID,
/// N failures, N warnings, N of N checks passed". Untrusted text is escaped
/// with sealrun::printable().
std::string to_text(const ValidationReport& report, bool verbose = false);

/// to_json renders the report as one JSON object:
/// {"reference","kind","digest","ok","failures","warnings",
///  "checks":[{"name","subject","passed","warning","message"}]}.
/// Invalid UTF-8 in a string is replaced by U+FFFD. The report must hold
/// every check (made without on_check); JsonReportWriter writes the same
/// document from on_check.
std::string to_json(const ValidationReport& report);

/// JsonReportWriter writes to_json()'s document to `out` while validate()
/// runs: give check() as ValidationOptions::on_check, then call
/// finish(report) with what validate() returned. Each check is written as
/// it comes, so no list of them is held.
class JsonReportWriter {
public:
    explicit JsonReportWriter(std::ostream& out);
    void check(const CheckResult& c);
    void finish(const ValidationReport& report);

private:
    std::ostream& out_;
    bool first_ = true;
};

/// to_junit renders the report as JUnit XML: a <testsuites> root holding one
/// <testsuite> with one <testcase> per check (classname
/// "sealrun.validate.<name>", name the subject); a failed check has a
/// <failure message="…" type="<name>">, a warning a <system-out> starting
/// "WARNING: ", a passed check its message in <system-out>. Text is escaped
/// and made valid XML 1.0 (invalid UTF-8 and characters XML forbids are
/// shown as \xNN). The report must hold every check (made without
/// on_check).
std::string to_junit(const ValidationReport& report);

/// SpooledReportWriter writes to_junit()'s document, or to_text()'s with
/// verbose, to `out` while validate() runs, as JsonReportWriter does for
/// JSON: give check() as ValidationOptions::on_check, then call
/// finish(report) with what validate() returned. What those documents list
/// after something known only at the end (JUnit's counts come before its
/// test cases, the text's passes after its failures) goes to an unnamed
/// temporary file meanwhile, so no list of checks is held (1.6 million at
/// 100,000 runs). The bytes are those of to_junit() and to_text(…, true)
/// of a report holding every check. Throws Error(io) when the temporary
/// file cannot be made or written.
class SpooledReportWriter {
public:
    enum class Format { junit, verbose_text };
    SpooledReportWriter(std::ostream& out, Format format);
    ~SpooledReportWriter();
    SpooledReportWriter(const SpooledReportWriter&) = delete;
    SpooledReportWriter& operator=(const SpooledReportWriter&) = delete;
    void check(const CheckResult& c);
    void finish(const ValidationReport& report);

private:
    struct Spool;
    std::ostream& out_;
    Format format_;
    std::unique_ptr<Spool> spool_;
};

}  // namespace sealrun

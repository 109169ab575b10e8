#pragma once
// The validator behind validate() (include/sealrun/validate/validate.h),
// internal to src/validate/: the walk of the graph (walk.cpp), the codec
// and trace checks (codec_check.cpp), the names check (names.cpp) and the
// sealed-format adapter over the rulebook (sealed_format.cpp).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sealrun/codecs/codec.h"
#include "sealrun/content/stream.h"
#include "sealrun/content/target.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/validate/validate.h"
#include "experiment/rules.h"
#include "util/recent.h"

namespace sealrun::validation {

using format::rules::show;

// plural returns "1 layer", "2 layers".
std::string plural(std::size_t n, std::string_view one, std::string_view many);

// Problems collects what one check found.
struct Problems {
    std::vector<std::string> failed;
    std::vector<std::string> warned;
    void fail(std::string s) { failed.push_back(std::move(s)); }
    void warn(std::string s) { warned.push_back(std::move(s)); }
    // add takes a rulebook finding.
    void add(const format::rules::Finding& f) { f.warning ? warn(f.text()) : fail(f.text()); }
};

// name_problems returns why attachment `names` cannot all be written out
// side by side (names.cpp): the "names" warnings.
std::vector<std::string> name_problems(const std::vector<std::string>& names);

// SourceTap passes a stream through, remembering whether it threw, so a
// reader above it can tell the content's failure from its own.
class SourceTap final : public content::ReadStream {
public:
    explicit SourceTap(content::ReadStream& inner) : inner_(inner) {}
    std::size_t read(std::span<std::byte> buffer) override {
        try {
            return inner_.read(buffer);
        } catch (...) {
            failed_ = true;
            throw;
        }
    }
    bool failed() const noexcept { return failed_; }

private:
    content::ReadStream& inner_;
    bool failed_ = false;
};

// RunContext is what the experiment index says about one of its entries.
struct RunContext {
    std::string subject;                     // "run 3", "manifests[2]", "experiment"
    std::string role;                        // how messages name the manifest
    bool in_experiment = false;
    std::optional<std::int64_t> entry_id;    // the index entry's run id, when canonical
    std::optional<std::string> entry_error;  // what is wrong with the entry's run id
    std::map<std::string, std::string> entry_annotations;
    std::string experiment_name;             // empty when unknown
};

// Validator runs every check on what one reference names, into a report.
class Validator {
public:
    Validator(content::ReadOnlyTarget& target, const ValidationOptions& options, ValidationReport& report)
        : target_(target),
          options_(options),
          codecs_(options.codecs != nullptr ? *options.codecs : CodecRegistry::global()),
          report_(report) {}

    // run validates `reference` (walk.cpp).
    void run(std::string_view reference);

private:
    struct Read {
        bool verified = false;
        std::optional<std::string> bytes;  // kept when not larger than asked
    };
    struct Outcome {
        bool passed;
        bool warning;
        std::string message;
    };
    using Consumer = std::function<void(SourceTap&)>;
    using Kind = format::rules::PartKind;

    static std::string key(const oci::Descriptor& d) { return d.digest.str() + "@" + std::to_string(d.size); }

    // Reporting.
    void add(std::string name, std::string subject, bool passed, bool warning, std::string message);
    void pass(std::string name, std::string subject, std::string message) {
        add(std::move(name), std::move(subject), true, false, std::move(message));
    }
    void fail(std::string name, std::string subject, std::string message) {
        add(std::move(name), std::move(subject), false, false, std::move(message));
    }
    void warn(std::string name, std::string subject, std::string message) {
        add(std::move(name), std::move(subject), true, true, std::move(message));
    }
    void emit(std::string name, std::string subject, const Problems& p, std::string ok_message);
    // emit_findings emits one check `name` of `subject` from the findings of
    // that check (and item) the rulebook reported.
    void emit_findings(const std::vector<format::rules::Finding>& findings, const std::string& name,
                       const std::string& item, std::string subject, std::string ok_message, Problems p = {});

    // The walk (walk.cpp).
    bool verify_blob(const oci::Descriptor& d, const std::string& role, const Consumer& consume);
    Read read_blob(const oci::Descriptor& d, std::size_t keep_limit, const std::string& role);
    void check_media_types(const oci::Descriptor& d, std::string_view bytes, const std::string& role);
    std::optional<std::string> read_document(const oci::Descriptor& d, const std::string& role, bool& first);
    template <class Doc>
    std::optional<Doc> read_node(const oci::Descriptor& d, const std::string& role, std::string (*summary)(const Doc&),
                                 std::string* bytes);
    std::optional<oci::ImageManifest> read_manifest(const oci::Descriptor& d, const std::string& role,
                                                    std::string* bytes = nullptr);
    std::optional<oci::ImageIndex> read_index(const oci::Descriptor& d, const std::string& role, std::string* bytes = nullptr);
    // `depth` is how many levels below the root a node is (the root is 0).
    void walk(const oci::Descriptor& d, const std::string& role, int depth);
    void walk_children(const oci::Descriptor& d, std::string_view bytes, const std::string& role, int depth,
                       const std::optional<oci::Descriptor>& subject);
    void walk_subject(const oci::Descriptor& subject, const std::string& role, int depth);

    // The sealed format (sealed_format.cpp).
    void validate_experiment(const oci::ImageIndex& index, format::rules::Typing typing);
    void validate_summary(const oci::ImageIndex& index, const format::rules::ExperimentIndex& model);
    std::optional<std::string> validate_part(const oci::Descriptor& d, Kind kind, const RunContext& ctx);
    std::optional<std::string> part_body(const oci::Descriptor& d, std::string_view bytes, const oci::ImageManifest& m,
                                         Kind kind, const RunContext& ctx, int depth);
    std::optional<nlohmann::json> read_config(const oci::ImageManifest& m, const std::string& role);
    void check_layers(const oci::ImageManifest& m, const format::AttachmentTable& table,
                      std::optional<std::size_t> trace_layer, const RunContext& ctx, bool is_run);

    // OMMX artifacts and experiments (sealed_format.cpp).
    void validate_ommx(const oci::Descriptor& root, const oci::ImageManifest& m);

    // Codecs (codec_check.cpp).
    void check_codec(const oci::Descriptor& layer, const std::string& subject, const std::string& role);
    void check_trace(const oci::Descriptor& layer, const std::string& subject, const std::string& role);
    std::optional<Outcome> decode(const oci::Descriptor& layer, const std::string& subject, const std::string& role,
                                  const CodecEntry* codec, bool allowed);
    bool allowed_without_codec(std::string_view media_type) const;

    content::ReadOnlyTarget& target_;
    const ValidationOptions& options_;
    const CodecRegistry& codecs_;
    ValidationReport& report_;
    // What was verified, reported and visited, by blob key: the recent
    // entries (util/recent.h), so memory does not grow with the archive; a
    // blob shared from far apart may be verified and reported again.
    util::RecentMap<std::string, bool> verified_;     // blob key → verified
    util::RecentSet<std::string> documents_;          // document keys whose schema was reported
    util::RecentSet<std::string> walked_;             // node keys already visited
    util::RecentMap<std::string, Outcome> decoded_;   // blob key + media type → codec outcome
    // runs_seen_ is every run of the experiment as its config reads, by
    // index-entry id, with its manifest: the summary is checked against it
    // (what the summary says of a run: id, status, reason, parameters).
    struct RunSeen {
        std::int64_t run_id = 0;  // as its config says
        std::string status;
        std::optional<std::string> reason;
        std::map<std::string, Parameter> parameters;
        oci::Digest manifest;
        std::optional<std::string> worker;  // rules::run_worker
    };
    std::map<std::int64_t, RunSeen> runs_seen_;
};

// keep adds the check `c` to `report`, or, with options.on_check, hands it
// over and keeps it only when it failed or warns (ValidationOptions).
void keep(ValidationReport& report, const ValidationOptions& options, CheckResult c);

}  // namespace sealrun::validation

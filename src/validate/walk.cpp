// validate(): the walk of the graph (what oci::successors says a node
// points to, to oci::max_graph_depth), every blob verified, every document
// parsed strictly; sealed parts are handed to sealed_format.cpp.
#include <algorithm>
#include <new>

#include "validate/validator.h"
#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/ommx_artifact.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/media_type.h"

namespace sealrun::validation {

namespace rules = format::rules;

namespace {

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
    return out;
}

// json_depth returns how deeply `text`'s arrays and objects nest, without
// parsing it (strings are skipped), so a lenient parse is only attempted on
// documents nlohmann can handle without deep recursion.
std::size_t json_depth(std::string_view text) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

void Validator::add(std::string name, std::string subject, bool passed, bool warning, std::string message) {
    if (warning && passed && options_.strict) {
        passed = false;
        warning = false;
        message = "strict: " + message;
    }
    keep(report_, options_, CheckResult{.name = std::move(name),
                                        .subject = std::move(subject),
                                        .passed = passed,
                                        .warning = warning && passed,
                                        .message = std::move(message)});
}

void keep(ValidationReport& report, const ValidationOptions& options, CheckResult c) {
    if (options.on_check) {
        options.on_check(c);
        if (c.passed && !c.warning) {
            ++report.passed_not_kept;
            return;
        }
    }
    report.checks.push_back(std::move(c));
}

void Validator::emit(std::string name, std::string subject, const Problems& p, std::string ok_message) {
    if (!p.failed.empty()) {
        auto msg = join(p.failed, "; ");
        if (!p.warned.empty()) msg += "; also: " + join(p.warned, "; ");
        fail(std::move(name), std::move(subject), std::move(msg));
    } else if (!p.warned.empty()) {
        warn(std::move(name), std::move(subject), join(p.warned, "; "));
    } else {
        pass(std::move(name), std::move(subject), std::move(ok_message));
    }
}

void Validator::emit_findings(const std::vector<rules::Finding>& findings, const std::string& name,
                              const std::string& item, std::string subject, std::string ok_message, Problems p) {
    for (const auto& f : findings)
        if (f.check == name && f.item == item) p.add(f);
    emit(name, std::move(subject), p, std::move(ok_message));
}

// verify_blob reads `d` through a verifying stream (the seam's fetch, which
// serves embedded data too), hands it to `consume` (when given) and drains
// what that leaves, reporting one "digest" check per distinct blob.
// `consume` must let what the tap throws through (the content's failure,
// not its own). Returns whether the blob verified.
bool Validator::verify_blob(const oci::Descriptor& d, const std::string& role, const Consumer& consume) {
    const auto k = key(d);
    const bool* seen = verified_.find(k);
    if (seen != nullptr && !*seen) return false;  // reported already
    const bool first = seen == nullptr;
    bool verified = false;
    std::string problem;
    try {
        auto in = target_.fetch(d);  // verifies size and digest as it streams
        SourceTap tap(*in);
        if (consume) consume(tap);
        content::drain(tap);
        verified = true;
    } catch (const Error& e) {
        switch (e.code()) {
            case Errc::not_found: problem = "missing from the target (" + std::string(e.what()) + ")"; break;
            case Errc::digest_mismatch:
            case Errc::size_mismatch: problem = "corrupt content: " + e.reason(); break;
            case Errc::unsupported: problem = "cannot be verified: " + e.reason(); break;
            default: problem = e.what();
        }
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        problem = e.what();
    }
    if (first) {
        verified_.insert(k, verified);
        if (verified)
            pass("digest", d.digest.str(),
                 role + ": " + plural(static_cast<std::size_t>(d.size), "byte", "bytes") + ", size and digest verified");
        else fail("digest", d.digest.str(), role + ": " + problem);
    }
    return verified;
}

// read_blob verifies `d` (verify_blob), keeping its bytes when `d.size` is
// at most `keep_limit`.
Validator::Read Validator::read_blob(const oci::Descriptor& d, std::size_t keep_limit, const std::string& role) {
    Read out;
    const bool keep = d.size >= 0 && static_cast<std::uint64_t>(d.size) <= keep_limit;
    std::string bytes;
    out.verified = verify_blob(d, role, !keep ? Consumer{} : [&](SourceTap& in) {
        bytes.reserve(static_cast<std::size_t>(d.size));
        bytes = content::read_to_string(in, keep_limit, role);  // the verifying stream stops it at d.size
    });
    if (out.verified && keep) out.bytes = std::move(bytes);
    return out;
}

// check_media_types reports every mediaType and artifactType of a manifest
// or index against the RFC 6838 grammar. It reads the document leniently,
// so a bad media type is named even when the strict parse fails for it.
void Validator::check_media_types(const oci::Descriptor& d, std::string_view bytes, const std::string& role) {
    if (json_depth(bytes) > oci::max_json_depth) return;  // "schema" reports it
    const auto doc = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return;  // "schema" reports it
    Problems p;
    std::size_t n = 0;
    auto one = [&](const nlohmann::json& obj, const std::string& prefix, const char* member) {
        const auto it = obj.find(member);
        if (it == obj.end() || !it->is_string()) return;  // "schema" reports a missing or mistyped one
        ++n;
        const auto& value = it->get_ref<const std::string&>();
        if (auto problem = oci::media_type_problem(value); !problem.empty())
            p.fail(prefix + member + " " + show(value) + ": " + problem);
    };
    auto descriptor = [&](const nlohmann::json& obj, const std::string& prefix) {
        if (!obj.is_object()) return;
        one(obj, prefix, "mediaType");
        one(obj, prefix, "artifactType");
    };
    descriptor(doc, "");
    for (const char* member : {"config", "subject"})
        if (const auto it = doc.find(member); it != doc.end()) descriptor(*it, std::string(member) + ".");
    for (const char* member : {"layers", "manifests"}) {
        const auto it = doc.find(member);
        if (it == doc.end() || !it->is_array()) continue;
        for (std::size_t i = 0; i < it->size(); ++i) descriptor((*it)[i], std::string(member) + "[" + std::to_string(i) + "].");
    }
    emit("media-type", d.digest.str(), p,
         role + ": " + plural(n, "media type is a valid", "media types are valid") + " RFC 6838 name" + (n == 1 ? "" : "s"));
}

// read_document reads a manifest or index (at most 4 MiB), reporting its
// digest and media types; `first` says whether this is the first time the
// document is read (its schema is reported once).
std::optional<std::string> Validator::read_document(const oci::Descriptor& d, const std::string& role, bool& first) {
    first = documents_.insert(key(d));
    auto r = read_blob(d, oci::max_manifest_size, role);
    if (!r.verified) return std::nullopt;
    if (!r.bytes) {
        if (first)
            fail("schema", d.digest.str(),
                 role + ": " + std::to_string(d.size) + " bytes exceed the 4 MiB (4194304 bytes) limit on manifests and indexes");
        return std::nullopt;
    }
    if (first) check_media_types(d, *r.bytes, role);
    return std::move(r.bytes);
}

// read_node reads and parses a manifest or index (`Doc`); the first time it
// is seen, it reports whether the content's mediaType matches its
// descriptor and, when it does, what `summary` says of it. The verified
// bytes go to `bytes` when given.
template <class Doc>
std::optional<Doc> Validator::read_node(const oci::Descriptor& d, const std::string& role, std::string (*summary)(const Doc&),
                                        std::string* bytes) {
    bool first = false;
    auto read = read_document(d, role, first);
    if (!read) return std::nullopt;
    try {
        auto doc = Doc::parse(*read);
        if (first) {
            rules::CollectingSink declared;
            rules::check_declared(d, doc.media_type, declared);
            if (!declared.findings.empty()) fail("schema", d.digest.str(), role + ": " + declared.findings.front().text());
            else pass("schema", d.digest.str(), role + ": " + summary(doc));
        }
        if (bytes != nullptr) *bytes = std::move(*read);
        return doc;
    } catch (const Error& e) {
        if (first) fail("schema", d.digest.str(), role + ": " + e.what());
    }
    return std::nullopt;
}

std::optional<oci::ImageManifest> Validator::read_manifest(const oci::Descriptor& d, const std::string& role, std::string* bytes) {
    return read_node<oci::ImageManifest>(
        d, role, [](const oci::ImageManifest& m) { return "image manifest with " + plural(m.layers.size(), "layer", "layers"); },
        bytes);
}

std::optional<oci::ImageIndex> Validator::read_index(const oci::Descriptor& d, const std::string& role, std::string* bytes) {
    return read_node<oci::ImageIndex>(
        d, role, [](const oci::ImageIndex& i) { return "image index with " + plural(i.manifests.size(), "entry", "entries"); },
        bytes);
}

// walk runs the generic checks on `d` and everything it reaches, down to
// oci::max_graph_depth levels below the root (what copy() follows); a node
// deeper than that is a failed "depth" check and is not read, so recursion
// and memory stay bounded whatever the graph.
void Validator::walk(const oci::Descriptor& d, const std::string& role, int depth) {
    if (!walked_.insert(key(d))) return;
    if (depth > oci::max_graph_depth) {
        fail("depth", d.digest.str(),
             role + ": the graph is deeper than " + std::to_string(oci::max_graph_depth) +
                 " levels below its root; not followed (copy refuses such a graph)");
        return;
    }
    std::string bytes;
    std::optional<oci::Descriptor> subject;
    if (oci::is_manifest_type(d.media_type)) {
        const auto m = read_manifest(d, role, &bytes);
        if (!m) return;
        subject = m->subject;
    } else if (oci::is_index_type(d.media_type)) {
        const auto i = read_index(d, role, &bytes);
        if (!i) return;
        subject = i->subject;
    } else {
        (void)read_blob(d, 0, role);
        return;
    }
    walk_children(d, bytes, role, depth, subject);
}

// walk_children walks what oci::successors (the one place that knows the
// shape of the graph) says the node `d` (at `depth`) points to. A
// referrer's subject often lives elsewhere: it is followed only when stored
// here.
void Validator::walk_children(const oci::Descriptor& d, std::string_view bytes, const std::string& role, int depth,
                              const std::optional<oci::Descriptor>& subject) {
    std::vector<oci::Descriptor> children;
    try {
        children = oci::successors(d, bytes);
    } catch (const Error&) {
        return;  // the "schema" check reported it
    }
    for (const auto& child : children) {
        if (subject && child.digest == subject->digest && child.size == subject->size) {
            walk_subject(child, role, depth);
            continue;
        }
        walk(child, role + " → " + child.media_type, depth + 1);
    }
}

void Validator::walk_subject(const oci::Descriptor& subject, const std::string& role, int depth) {
    bool here = false;
    try {
        here = subject.data.has_value() || target_.exists(subject);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception&) {
        here = true;  // let the read report the failure
    }
    if (here) walk(subject, role + " subject", depth + 1);
    else if (walked_.insert(key(subject)))
        warn("digest", subject.digest.str(), role + " subject: not stored in this target; not followed");
}

void Validator::run(std::string_view reference) {
    oci::Descriptor root;
    try {
        root = target_.resolve(reference);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        fail("resolve", std::string(reference), "cannot resolve " + show(reference) + ": " + e.what());
        return;
    }
    report_.digest = root.digest.str();
    pass("resolve", std::string(reference),
         "names " + root.media_type + " " + root.digest.str() + " (" +
             plural(static_cast<std::size_t>(std::max<std::int64_t>(root.size, 0)), "byte", "bytes") + ")");
    walked_.insert(key(root));
    std::string bytes;
    if (oci::is_index_type(root.media_type)) {
        report_.kind = "image-index";
        const auto index = read_index(root, "index", &bytes);
        if (!index) return;
        const auto typing = rules::experiment_typing(*index);
        if (typing == rules::Typing::experiment || typing == rules::Typing::by_annotation) {
            report_.kind = "experiment";
            return validate_experiment(*index, typing);
        }
        if (typing == rules::Typing::mistyped)
            warn("experiment", "experiment",
                 "the index has annotation " + std::string(format::keys::artifact_type) + " = " +
                     std::string(format::experiment_artifact_type) + " but artifactType " + *index->artifact_type +
                     ": readers refuse it as an experiment; validated as a plain OCI index");
        walk_children(root, bytes, "index", 0, index->subject);
    } else if (oci::is_manifest_type(root.media_type)) {
        report_.kind = "image-manifest";
        const auto m = read_manifest(root, "manifest", &bytes);
        if (!m) return;
        RunContext ctx;
        if (m->artifact_type == format::run_artifact_type) {
            report_.kind = "run";
            const auto id = rules::annotation(m->annotations, format::keys::run_id);
            ctx.subject = id ? "run " + *id : "run";
            ctx.role = ctx.subject + " manifest";
            (void)part_body(root, bytes, *m, Kind::run, ctx, 0);
        } else if (m->artifact_type == format::attachments_artifact_type) {
            report_.kind = "experiment-attachments";
            ctx.subject = "experiment";
            ctx.role = "experiment-attachments manifest";
            (void)part_body(root, bytes, *m, Kind::attachments, ctx, 0);
        } else if (m->artifact_type == ommx::archive::artifact || m->artifact_type == ommx::archive::experiment) {
            report_.kind = m->artifact_type == ommx::archive::artifact ? "ommx-artifact" : "ommx-experiment";
            validate_ommx(root, *m);
        } else {
            walk_children(root, bytes, "manifest", 0, m->subject);
        }
    } else {
        fail("schema", root.digest.str(), show(reference) + " names " + root.media_type + ", not an image manifest or index");
        (void)read_blob(root, 0, "reference " + show(reference));
    }
}

}  // namespace sealrun::validation

namespace sealrun {

ValidationReport validate(content::ReadOnlyTarget& target, std::string_view reference, const ValidationOptions& options) {
    ValidationReport report;
    report.reference = std::string(reference);
    try {
        validation::Validator(target, options, report).run(reference);
    } catch (const std::exception& e) {
        // Not reached for archive content (every read is checked); kept so
        // nothing, not even exhausted memory, escapes as an exception.
        try {
            validation::keep(report, options, CheckResult{.name = "internal", .subject = report.reference, .passed = false,
                                                          .warning = false, .message = std::string("validation stopped: ") + e.what()});
        } catch (...) {
        }
    } catch (...) {
        try {
            validation::keep(report, options, CheckResult{.name = "internal", .subject = report.reference, .passed = false,
                                                          .warning = false, .message = "validation stopped: unknown exception"});
        } catch (...) {
        }
    }
    return report;
}

}  // namespace sealrun

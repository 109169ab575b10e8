// Validating archives (include/sealrun/validate/validate.h): every reader check of
// docs/FORMAT.md, run to the end and reported one check at a time.
#include "sealrun/validate/validate.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>
#include <cstdint>
#include <map>
#include <new>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "sealrun/codecs/json.h"
#include "sealrun/content/stream.h"
#include "sealrun/error.h"
#include "sealrun/experiment/experiment.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/json.h"
#include "sealrun/oci/manifest.h"
#include "sealrun/oci/media_type.h"
#include "sealrun/path.h"
#include "sealrun/printable.h"
#include "experiment/trace_slot.h"
#include "util/utf8.h"

namespace sealrun {

namespace {

// The largest config document readers accept (FORMAT §2.3).
constexpr std::size_t max_config_size = 64 * 1024 * 1024;

std::string show(std::string_view s) {
    constexpr std::size_t max_shown = 200;
    std::string out = "\"";
    out += s.substr(0, max_shown);
    if (s.size() > max_shown) out += "…";
    out += '"';
    return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// Problems collects what one check found.
struct Problems {
    std::vector<std::string> failed;
    std::vector<std::string> warned;
    void fail(std::string s) { failed.push_back(std::move(s)); }
    void warn(std::string s) { warned.push_back(std::move(s)); }
};

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

bool is_timestamp(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SSZ
    if (s.size() != 20) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        switch (i) {
            case 4:
            case 7: if (c != '-') return false; break;
            case 10: if (c != 'T') return false; break;
            case 13:
            case 16: if (c != ':') return false; break;
            case 19: if (c != 'Z') return false; break;
            default: if (c < '0' || c > '9') return false;
        }
    }
    return true;
}

std::optional<std::string> annotation(const std::map<std::string, std::string>& ann, std::string_view key) {
    const auto it = ann.find(std::string(key));
    if (it == ann.end()) return std::nullopt;
    return it->second;
}

// error_text renders an exception for a message.
std::string error_text(const std::exception& e) { return e.what(); }

// name_key folds an attachment name so that two names that cannot be
// extracted side by side on common filesystems get the same key: ASCII
// letters are lower-cased (case-insensitive filesystems: macOS, Windows)
// and the precomposed Latin-1 letters (U+00C0..U+00FF) are decomposed into
// their base letter and combining mark (U+0300..U+036F), the way NFD
// writes them (macOS normalises names). A minimal normalisation: other
// precomposed letters and the order of several marks are not folded.
std::string name_key(std::string_view name) {
    // base letters and marks of U+00C0..U+00DF; the lower-case half is the
    // same plus 0x20. '-' marks a letter without a decomposition.
    static constexpr std::string_view bases = "AAAAAA-CEEEEIIII-NOOOOO--UUUUY--";
    static constexpr std::uint16_t marks[32] = {0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0, 0x327, 0x300, 0x301, 0x302,
                                                0x308, 0x300, 0x301, 0x302, 0x308, 0,     0x303, 0x300, 0x301, 0x302, 0x303,
                                                0x308, 0,     0,     0x300, 0x301, 0x302, 0x308, 0x301, 0,     0};
    std::string out;
    out.reserve(name.size());
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c + ('a' - 'A'));
            continue;
        }
        // U+00C0..U+00FF is 0xC3 0x80..0xBF in UTF-8.
        if (c == 0xc3 && i + 1 < name.size()) {
            const auto d = static_cast<unsigned char>(name[i + 1]);
            if (d >= 0x80 && d <= 0xbf) {
                const unsigned cp = 0xc0 + (d - 0x80);
                const unsigned slot = (cp - 0xc0) & 0x1f;
                char base = bases[slot];
                std::uint16_t mark = marks[slot];
                if (cp == 0xff) base = 'Y', mark = 0x308;  // ÿ (its upper-case slot is ß)
                if (base != '-') {
                    out += static_cast<char>(base + ('a' - 'A'));
                    out += static_cast<char>(0xc0 | (mark >> 6));
                    out += static_cast<char>(0x80 | (mark & 0x3f));
                    ++i;
                    continue;
                }
            }
        }
        out += static_cast<char>(c);
    }
    return out;
}

// name_problems returns why attachment `names` cannot all be written out
// side by side: names equal but for case or normalisation (name_key), a
// name that is also a folder of another ("a" beside "a/b"), and path
// components longer than the 255 bytes filesystems allow.
std::vector<std::string> name_problems(const std::vector<std::string>& names) {
    constexpr std::size_t max_component = 255;
    std::vector<std::string> out;
    std::map<std::string, std::string> by_key;  // key → first name
    for (const auto& n : names) {
        const auto k = name_key(n);
        if (const auto [it, fresh] = by_key.emplace(k, n); !fresh) {
            const bool ascii_case = std::equal(n.begin(), n.end(), it->second.begin(), it->second.end(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            });
            out.push_back(show(it->second) + " and " + show(n) + " differ only in " +
                          (ascii_case ? "letter case" : "Unicode normalisation (or case)") +
                          ": one overwrites the other on a case-insensitive or normalising filesystem");
        }
        for (std::size_t s = 0; s <= n.size();) {
            auto e = n.find('/', s);
            if (e == std::string::npos) e = n.size();
            if (e - s > max_component) {
                out.push_back(show(n) + ": a path component of " + std::to_string(e - s) + " bytes exceeds the " +
                              std::to_string(max_component) + " filesystems allow");
                break;
            }
            s = e + 1;
        }
    }
    for (const auto& [k, n] : by_key)
        for (auto slash = k.find('/'); slash != std::string::npos; slash = k.find('/', slash + 1))
            if (const auto it = by_key.find(k.substr(0, slash)); it != by_key.end())
                out.push_back(show(it->second) + " is a file but " + show(n) + " needs it to be a folder");
    return out;
}

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

enum class PartKind { run, attachments };

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

class Validator {
public:
    Validator(content::Target& target, const ValidationOptions& options, ValidationReport& report)
        : target_(target),
          options_(options),
          codecs_(options.codecs != nullptr ? *options.codecs : CodecRegistry::global()),
          report_(report) {}

    void run(std::string_view reference);

private:
    struct Read {
        bool verified = false;
        std::optional<std::string> bytes;  // kept when not larger than asked
    };

    static std::string key(const oci::Descriptor& d) { return d.digest.str() + "@" + std::to_string(d.size); }

    void add(std::string name, std::string subject, bool passed, bool warning, std::string message) {
        if (warning && passed && options_.strict) {
            passed = false;
            warning = false;
            message = "strict: " + message;
        }
        report_.checks.push_back(CheckResult{.name = std::move(name),
                                             .subject = std::move(subject),
                                             .passed = passed,
                                             .warning = warning && passed,
                                             .message = std::move(message)});
    }
    void pass(std::string name, std::string subject, std::string message) {
        add(std::move(name), std::move(subject), true, false, std::move(message));
    }
    void fail(std::string name, std::string subject, std::string message) {
        add(std::move(name), std::move(subject), false, false, std::move(message));
    }
    void warn(std::string name, std::string subject, std::string message) {
        add(std::move(name), std::move(subject), true, true, std::move(message));
    }
    void emit(std::string name, std::string subject, const Problems& p, std::string ok_message) {
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

    using Consumer = std::function<void(SourceTap&)>;
    bool verify_blob(const oci::Descriptor& d, const std::string& role, const Consumer& consume);
    Read read_blob(const oci::Descriptor& d, std::size_t keep_limit, const std::string& role);
    void check_media_types(const oci::Descriptor& d, std::string_view bytes, const std::string& role);
    std::optional<std::string> read_document(const oci::Descriptor& d, const std::string& role, bool& first);
    template <class Doc>
    std::optional<Doc> read_node(const oci::Descriptor& d, const std::string& role, std::string (*summary)(const Doc&));
    std::optional<oci::ImageManifest> read_manifest(const oci::Descriptor& d, const std::string& role);
    std::optional<oci::ImageIndex> read_index(const oci::Descriptor& d, const std::string& role);

    // `depth` is how many levels below the root a node is (the root is 0).
    void walk(const oci::Descriptor& d, const std::string& role, int depth);
    void walk_children(const oci::ImageManifest& m, const std::string& role, int depth);
    void walk_children(const oci::ImageIndex& i, const std::string& role, int depth);
    void walk_subject(const std::optional<oci::Descriptor>& subject, const std::string& role, int depth);

    void validate_experiment(const oci::ImageIndex& index, bool by_annotation);
    std::optional<std::string> validate_part(const oci::Descriptor& d, PartKind kind, const RunContext& ctx);
    std::optional<std::string> part_body(const oci::ImageManifest& m, PartKind kind, const RunContext& ctx, int depth);
    void check_codec(const oci::Descriptor& layer, const std::string& subject, const std::string& role);
    void check_trace(const oci::Descriptor& layer, const std::string& subject, const std::string& role);
    struct Outcome {
        bool passed;
        bool warning;
        std::string message;
    };
    std::optional<Outcome> decode(const oci::Descriptor& layer, const std::string& subject, const std::string& role,
                                  const CodecEntry* codec, bool allowed);

    bool allowed_without_codec(std::string_view media_type) const;

    content::Target& target_;
    const ValidationOptions& options_;
    const CodecRegistry& codecs_;
    ValidationReport& report_;
    std::map<std::string, bool> verified_;     // blob key → verified
    std::set<std::string> documents_;          // document keys whose schema was reported
    std::set<std::string> walked_;             // node keys already visited
    std::map<std::string, Outcome> decoded_;   // blob key + media type → codec outcome
};

// verify_blob reads `d` through a verifying stream of its own (whatever
// the target does), hands it to `consume` (when given) and drains what that
// leaves, reporting one "digest" check per distinct blob. `consume` must let
// what the tap throws through (the content's failure, not its own). Returns
// whether the blob verified.
bool Validator::verify_blob(const oci::Descriptor& d, const std::string& role, const Consumer& consume) {
    const auto k = key(d);
    const auto seen = verified_.find(k);
    if (seen != verified_.end() && !seen->second) return false;  // reported already
    bool verified = false;
    std::string problem;
    try {
        std::unique_ptr<content::ReadStream> src;
        if (d.data) src = std::make_unique<content::BytesStream>(*d.data);
        else src = target_.fetch(d);
        content::VerifyingStream in(std::move(src), d);
        SourceTap tap(in);
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
        problem = error_text(e);
    }
    if (seen == verified_.end()) {
        verified_.emplace(k, verified);
        if (verified) pass("digest", d.digest.str(), role + ": " + plural(static_cast<std::size_t>(d.size), "byte", "bytes") + ", size and digest verified");
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
        for (std::size_t i = 0; i < it->size(); ++i)
            descriptor((*it)[i], std::string(member) + "[" + std::to_string(i) + "].");
    }
    emit("media-type", d.digest.str(), p, role + ": " + plural(n, "media type is a valid", "media types are valid") + " RFC 6838 name" + (n == 1 ? "" : "s"));
}

// read_document reads a manifest or index (at most 4 MiB), reporting its
// digest and media types; `first` says whether this is the first time the
// document is read (its schema is reported once).
std::optional<std::string> Validator::read_document(const oci::Descriptor& d, const std::string& role, bool& first) {
    first = documents_.insert(key(d)).second;
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
// descriptor and, when it does, what `summary` says of it.
template <class Doc>
std::optional<Doc> Validator::read_node(const oci::Descriptor& d, const std::string& role,
                                        std::string (*summary)(const Doc&)) {
    bool first = false;
    const auto bytes = read_document(d, role, first);
    if (!bytes) return std::nullopt;
    try {
        auto doc = Doc::parse(*bytes);
        if (first) {
            if (doc.media_type != d.media_type)
                fail("schema", d.digest.str(),
                     role + ": content declares media type " + doc.media_type + " but its descriptor says " + d.media_type);
            else
                pass("schema", d.digest.str(), role + ": " + summary(doc));
        }
        return doc;
    } catch (const Error& e) {
        if (first) fail("schema", d.digest.str(), role + ": " + e.what());
    }
    return std::nullopt;
}

std::optional<oci::ImageManifest> Validator::read_manifest(const oci::Descriptor& d, const std::string& role) {
    return read_node<oci::ImageManifest>(d, role, [](const oci::ImageManifest& m) {
        return "image manifest with " + plural(m.layers.size(), "layer", "layers");
    });
}

std::optional<oci::ImageIndex> Validator::read_index(const oci::Descriptor& d, const std::string& role) {
    return read_node<oci::ImageIndex>(d, role, [](const oci::ImageIndex& i) {
        return "image index with " + plural(i.manifests.size(), "entry", "entries");
    });
}

// walk runs the generic checks on `d` and everything it reaches, down to
// oci::max_graph_depth levels below the root (what copy() follows); a node
// deeper than that is a failed "depth" check and is not read, so recursion
// and memory stay bounded whatever the graph.
void Validator::walk(const oci::Descriptor& d, const std::string& role, int depth) {
    if (!walked_.insert(key(d)).second) return;
    if (depth > oci::max_graph_depth) {
        fail("depth", d.digest.str(),
             role + ": the graph is deeper than " + std::to_string(oci::max_graph_depth) +
                 " levels below its root; not followed (copy refuses such a graph)");
        return;
    }
    if (oci::is_manifest_type(d.media_type)) {
        if (auto m = read_manifest(d, role)) walk_children(*m, role, depth);
    } else if (oci::is_index_type(d.media_type)) {
        if (auto i = read_index(d, role)) walk_children(*i, role, depth);
    } else {
        (void)read_blob(d, 0, role);
    }
}

// walk_children walks what `m` (at `depth`) points to.
void Validator::walk_children(const oci::ImageManifest& m, const std::string& role, int depth) {
    walk_subject(m.subject, role, depth);
    walk(m.config, role + " config", depth + 1);
    for (std::size_t i = 0; i < m.layers.size(); ++i)
        walk(m.layers[i], role + " layers[" + std::to_string(i) + "]", depth + 1);
}

void Validator::walk_children(const oci::ImageIndex& index, const std::string& role, int depth) {
    walk_subject(index.subject, role, depth);
    for (std::size_t i = 0; i < index.manifests.size(); ++i)
        walk(index.manifests[i], role + " manifests[" + std::to_string(i) + "]", depth + 1);
}

// A referrer's subject often lives elsewhere: followed when stored here.
void Validator::walk_subject(const std::optional<oci::Descriptor>& subject, const std::string& role, int depth) {
    if (!subject) return;
    bool here = false;
    try {
        here = subject->data.has_value() || target_.exists(*subject);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception&) {
        here = true;  // let the read report the failure
    }
    if (here) walk(*subject, role + " subject", depth + 1);
    else if (walked_.insert(key(*subject)).second)
        warn("digest", subject->digest.str(), role + " subject: not stored in this target; not followed");
}

bool Validator::allowed_without_codec(std::string_view media_type) const {
    for (const auto& a : options_.codec_allow) {
        if (a == media_type) return true;
        if (a.size() > 2 && a.ends_with("/*") && media_type.size() > a.size() - 1 &&
            media_type.starts_with(std::string_view(a).substr(0, a.size() - 1)))
            return true;
    }
    return false;
}

// check_codec reports whether an attachment's logical media type has a codec
// and whether that codec decodes the (verified) bytes.
void Validator::check_codec(const oci::Descriptor& layer, const std::string& subject, const std::string& role) {
    const std::string stored = layer.media_type;
    const std::string logical(logical_media_type(stored));
    const auto codec = codecs_.by_media_type(logical);
    const bool allowed = allowed_without_codec(logical) || allowed_without_codec(stored);
    const auto cache_key = key(layer) + " " + stored;
    if (const auto it = decoded_.find(cache_key); it != decoded_.end()) {
        if (verified_.count(key(layer)) == 0) (void)read_blob(layer, 0, role);
        add("codec", subject, it->second.passed, it->second.warning, it->second.message);
        return;
    }
    const auto outcome = decode(layer, subject, role, codec.get(), allowed);
    if (!outcome) return;  // nothing decoded (not cached): the content is the "digest" check's failure
    decoded_.emplace(cache_key, *outcome);
    add("codec", subject, outcome->passed, outcome->warning, outcome->message);
}

// check_trace verifies a run's trace layer and reads it as strict JSON as it
// streams (bounded memory, JsonCodec::check), reporting one "trace" check.
void Validator::check_trace(const oci::Descriptor& layer, const std::string& subject, const std::string& role) {
    std::string problem, unchecked;
    const bool verified = verify_blob(layer, role, [&](SourceTap& tap) {
        try {
            unchecked = codecs::JsonCodec::check(tap);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            if (tap.failed()) throw;  // the content's failure: the "digest" check reports it
            const auto* err = dynamic_cast<const Error*>(&e);
            problem = err != nullptr ? err->reason() : error_text(e);
        }
    });
    if (!verified) return;
    if (!problem.empty()) fail("trace", subject, role + " is not strict JSON: " + problem);
    else if (!unchecked.empty()) warn("trace", subject, role + ": JSON checked in part: " + unchecked);
    else pass("trace", subject, role + ": " + std::string(format::trace_type) + ", strict JSON");
}

// decode verifies `layer` and, as it streams, decompresses it (when stored
// "+zstd") and decodes it with `codec`: through the codec's streaming check
// when it has one, else whole in memory within max_decode_memory. At most
// max_blob_read bytes are decoded (after decompression), which bounds the
// time a zstd bomb costs. Returns nullopt when the content did not verify
// and there was something to decode.
std::optional<Validator::Outcome> Validator::decode(const oci::Descriptor& layer, const std::string& subject,
                                                    const std::string& role, const CodecEntry* codec, bool allowed) {
    const std::string& stored = layer.media_type;
    const std::string logical(logical_media_type(stored));
    const bool compressed = logical != stored;
    const std::string no_codec = "no codec is registered for " + logical +
                                 "; its bytes can be read but not decoded (accept it with --codec-allow " + logical + ")";
    const std::string allowed_msg = logical + " has no codec; accepted by codec_allow";
    if (!codec && !compressed) {
        (void)read_blob(layer, 0, role);
        return allowed ? Outcome{true, false, allowed_msg} : Outcome{true, true, no_codec};
    }
    const bool in_memory = codec != nullptr && !codec->check;
    const std::size_t limit = in_memory ? std::min(options_.max_blob_read, options_.max_decode_memory) : options_.max_blob_read;
    const auto over = [&](std::string_view what) {
        return Outcome{true, true,
                       "not decoded: " + std::string(what) +
                           (limit == options_.max_blob_read
                                ? " exceed max_blob_read (" + std::to_string(options_.max_blob_read) + ")"
                                : " exceed max_decode_memory (" + std::to_string(options_.max_decode_memory) +
                                      "), the most a codec without a streaming check holds")};
    };
    if (!compressed && layer.size >= 0 && static_cast<std::uint64_t>(layer.size) > limit) {
        if (!read_blob(layer, 0, role).verified) return std::nullopt;
        return over(std::to_string(layer.size) + " bytes");
    }
    enum class Stage { decoded, too_large, not_zstd, undecodable } stage = Stage::decoded;
    std::string why;
    std::string unchecked;
    const bool verified = verify_blob(layer, role, [&](SourceTap& tap) {
        std::optional<ZstdReadStream> z;
        std::optional<SourceTap> ztap;
        content::ReadStream* plain = &tap;
        if (compressed) {
            z.emplace(tap, limit);
            ztap.emplace(*z);
            plain = &*ztap;
        }
        try {
            if (!codec) content::drain(*plain);
            else if (!in_memory) unchecked = codec->check(*plain);
            else {
                std::string bytes;
                try {
                    bytes = content::read_to_string(*plain, limit, role);
                } catch (const Error& e) {
                    if (e.code() != Errc::too_large || tap.failed()) throw;
                    stage = Stage::too_large;  // past the cap, whether zstd's or read_to_string's
                    return;
                }
                (void)codec->decode(bytes);
            }
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            if (tap.failed()) throw;
            const auto* err = dynamic_cast<const Error*>(&e);
            if (err != nullptr && err->code() == Errc::too_large && ztap && ztap->failed()) {
                stage = Stage::too_large;
            } else {
                stage = ztap && ztap->failed() ? Stage::not_zstd : Stage::undecodable;
                why = err != nullptr ? err->reason() : error_text(e);
            }
        }
    });
    if (!verified) {
        // Corrupt or missing content is the "digest" check's failure; report
        // what is known about the codec without decoding anything.
        if (!codec) {
            if (allowed) add("codec", subject, true, false, allowed_msg + " (content not verified, nothing decoded)");
            else warn("codec", subject, no_codec);
        }
        return std::nullopt;
    }
    switch (stage) {
        case Stage::too_large: return over(compressed ? "decompressed bytes" : "bytes");
        case Stage::not_zstd: return Outcome{false, false, "stored as " + stored + " but does not decompress: " + why};
        case Stage::undecodable: return Outcome{false, false, "the " + logical + " codec cannot decode it: " + why};
        case Stage::decoded: break;
    }
    if (!codec) return allowed ? Outcome{true, false, allowed_msg + "; the zstd frame decompresses"} : Outcome{true, true, no_codec};
    if (!unchecked.empty()) return Outcome{true, true, "decoded in part with the " + logical + " codec: " + unchecked};
    return Outcome{true, false, "decodes with the " + logical + " codec" + (compressed ? " after zstd decompression" : "")};
}

void Validator::run(std::string_view reference) {
    oci::Descriptor root;
    try {
        root = target_.resolve(reference);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        fail("resolve", std::string(reference), "cannot resolve " + show(reference) + ": " + error_text(e));
        return;
    }
    report_.digest = root.digest.str();
    pass("resolve", std::string(reference), "names " + root.media_type + " " + root.digest.str() + " (" + plural(static_cast<std::size_t>(std::max<std::int64_t>(root.size, 0)), "byte", "bytes") + ")");
    walked_.insert(key(root));

    if (oci::is_index_type(root.media_type)) {
        report_.kind = "image-index";
        const auto index = read_index(root, "index");
        if (!index) return;
        const auto marker = annotation(index->annotations, format::keys::artifact_type);
        const bool typed = index->artifact_type == format::experiment_artifact_type;
        const bool by_annotation = !index->artifact_type && marker == format::experiment_artifact_type;
        if (typed || by_annotation) {
            report_.kind = "experiment";
            validate_experiment(*index, by_annotation);
            return;
        }
        if (marker == format::experiment_artifact_type)
            warn("experiment", "experiment",
                 "the index has annotation " + std::string(format::keys::artifact_type) + " = " +
                     std::string(format::experiment_artifact_type) + " but artifactType " + *index->artifact_type +
                     ": readers refuse it as an experiment; validated as a plain OCI index");
        walk_children(*index, "index", 0);
    } else if (oci::is_manifest_type(root.media_type)) {
        report_.kind = "image-manifest";
        const auto m = read_manifest(root, "manifest");
        if (!m) return;
        RunContext ctx;
        if (m->artifact_type == format::run_artifact_type) {
            report_.kind = "run";
            const auto id = annotation(m->annotations, format::keys::run_id);
            ctx.subject = id ? "run " + *id : "run";
            ctx.role = ctx.subject + " manifest";
            (void)part_body(*m, PartKind::run, ctx, 0);
        } else if (m->artifact_type == format::attachments_artifact_type) {
            report_.kind = "experiment-attachments";
            ctx.subject = "experiment";
            ctx.role = "experiment-attachments manifest";
            (void)part_body(*m, PartKind::attachments, ctx, 0);
        } else {
            walk_children(*m, "manifest", 0);
        }
    } else {
        fail("schema", root.digest.str(),
             show(reference) + " names " + root.media_type + ", not an image manifest or index");
        (void)read_blob(root, 0, "reference " + show(reference));
    }
}

// validate_experiment applies SealedExperiment::open's checks to the index,
// then validates every run and the experiment-attachments manifest.
void Validator::validate_experiment(const oci::ImageIndex& index, bool by_annotation) {
    const auto& ann = index.annotations;
    Problems ep;
    const auto name = annotation(ann, format::keys::experiment_name).value_or("");
    if (name.empty())
        ep.fail("annotations." + std::string(format::keys::experiment_name) + ": is required and must not be empty");
    if (!by_annotation && annotation(ann, format::keys::artifact_type) != format::experiment_artifact_type)
        ep.warn("annotations." + std::string(format::keys::artifact_type) + ": should be " +
                std::string(format::experiment_artifact_type) + " (tools that drop artifactType rely on it)");

    std::vector<std::size_t> run_entries;
    std::optional<std::size_t> attachments_entry;
    std::vector<std::size_t> foreign;
    for (std::size_t i = 0; i < index.manifests.size(); ++i) {
        const auto& d = index.manifests[i];
        const auto path = "manifests[" + std::to_string(i) + "]";
        const auto part = annotation(d.annotations, format::keys::part);
        if (!part) {
            ep.warn(path + ": no " + std::string(format::keys::part) + " annotation; readers ignore the entry");
            foreign.push_back(i);
        } else if (*part == format::part_run) {
            run_entries.push_back(i);
        } else if (*part == format::part_attachments) {
            if (attachments_entry) {
                ep.fail(path + ": a second experiment-attachments entry (the first is manifests[" +
                        std::to_string(*attachments_entry) + "])");
                foreign.push_back(i);
            } else {
                attachments_entry = i;
            }
        } else {
            ep.warn(path + ": unknown " + std::string(format::keys::part) + " " + show(*part) + "; readers ignore the entry");
            foreign.push_back(i);
        }
    }
    std::string ok = "sealed experiment " + show(name) + " with " + plural(run_entries.size(), "run", "runs") +
                     (attachments_entry ? " and experiment-level attachments" : "");
    if (by_annotation) ok += "; artifactType was dropped, typed by annotation " + std::string(format::keys::artifact_type);
    emit("experiment", "experiment", ep, ok);

    // Run ids, as SealedExperiment::open reads them.
    std::map<std::int64_t, std::size_t> ids;
    std::vector<std::optional<std::string>> statuses;
    for (const auto i : run_entries) {
        const auto& d = index.manifests[i];
        const auto path = "manifests[" + std::to_string(i) + "]";
        RunContext ctx;
        ctx.in_experiment = true;
        ctx.entry_annotations = d.annotations;
        ctx.experiment_name = name;
        const auto id = annotation(d.annotations, format::keys::run_id);
        if (!id) {
            ctx.entry_error = path + ": run entry lacks annotation " + std::string(format::keys::run_id);
        } else {
            const auto& text = *id;
            const bool canonical = !text.empty() && text.size() <= 18 &&
                                   std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                                   (text == "0" || text.front() != '0');
            if (!canonical) {
                ctx.entry_error = path + ": run id " + show(text) + " is not a canonical non-negative integer";
            } else {
                const std::int64_t n = std::stoll(text);
                if (const auto [it, fresh] = ids.emplace(n, i); !fresh)
                    ctx.entry_error = path + ": run id " + text + " repeats that of manifests[" + std::to_string(it->second) + "]";
                else
                    ctx.entry_id = n;
            }
        }
        ctx.subject = ctx.entry_id && !ctx.entry_error ? "run " + std::to_string(*ctx.entry_id) : path;
        ctx.role = ctx.subject + " manifest";
        statuses.push_back(validate_part(d, PartKind::run, ctx));
    }
    if (attachments_entry) {
        RunContext ctx;
        ctx.in_experiment = true;
        ctx.subject = "experiment";
        ctx.role = "experiment-attachments manifest";
        ctx.experiment_name = name;
        (void)validate_part(index.manifests[*attachments_entry], PartKind::attachments, ctx);
    }
    for (const auto i : foreign) walk(index.manifests[i], "manifests[" + std::to_string(i) + "]", 1);
    walk_subject(index.subject, "index", 0);

    // The experiment's status, and whether it sums up the runs'.
    Problems sp;
    const auto status = annotation(ann, format::keys::experiment_status);
    const auto key_path = "annotations." + std::string(format::keys::experiment_status);
    if (!status) sp.fail(key_path + ": is required");
    else if (!format::is_status(*status)) sp.fail(key_path + ": " + show(*status) + " is not finished, failed or interrupted");
    else if (std::all_of(statuses.begin(), statuses.end(), [](const auto& s) { return s.has_value(); })) {
        std::string expected = "finished";
        if (std::any_of(statuses.begin(), statuses.end(), [](const auto& s) { return *s == "failed"; })) expected = "failed";
        else if (std::any_of(statuses.begin(), statuses.end(), [](const auto& s) { return *s == "interrupted"; }))
            expected = "interrupted";
        if (*status != expected)
            sp.warn(key_path + " is " + *status + " but the runs' statuses make it " + expected);
    }
    emit("status", "experiment", sp, "status " + status.value_or(""));
}

std::optional<std::string> Validator::validate_part(const oci::Descriptor& d, PartKind kind, const RunContext& ctx) {
    if (!oci::is_manifest_type(d.media_type)) {
        fail("artifact-type", ctx.subject, ctx.role + ": the index entry is " + d.media_type + ", not an image manifest");
        if (ctx.entry_error) fail("run-id", ctx.subject, *ctx.entry_error);
        walk(d, ctx.role, 1);
        return std::nullopt;
    }
    walked_.insert(key(d));
    auto m = read_manifest(d, ctx.role);
    if (!m) {
        if (ctx.entry_error) fail("run-id", ctx.subject, *ctx.entry_error);
        return std::nullopt;
    }
    return part_body(*m, kind, ctx, 1);
}

// part_body applies SealedRun::open's checks (or those of the
// experiment-attachments manifest) to a parsed manifest, then verifies and
// decodes every layer.
std::optional<std::string> Validator::part_body(const oci::ImageManifest& m, PartKind kind, const RunContext& ctx,
                                                int depth) {
    const bool is_run = kind == PartKind::run;
    const auto artifact_type = is_run ? format::run_artifact_type : format::attachments_artifact_type;
    const auto config_type = is_run ? format::run_config_type : format::attachments_config_type;
    const std::string role_base = ctx.role.ends_with(" manifest") ? ctx.role.substr(0, ctx.role.size() - 9) : ctx.role;

    Problems ap;
    if (m.artifact_type != artifact_type)
        ap.fail("artifactType is " + m.artifact_type.value_or("absent") + ", expected " + std::string(artifact_type));
    if (m.config.media_type != config_type)
        ap.fail("config.mediaType is " + m.config.media_type + ", expected " + std::string(config_type));
    emit("artifact-type", ctx.subject, ap,
         "artifactType " + std::string(artifact_type) + ", config mediaType " + std::string(config_type));

    auto generic_rest = [&] {
        if (ctx.entry_error) fail("run-id", ctx.subject, *ctx.entry_error);
        walk_children(m, ctx.role, depth);
        return std::optional<std::string>{};
    };
    if (m.config.media_type != config_type) return generic_rest();

    // The config document.
    const auto config_role = role_base + " config";
    walked_.insert(key(m.config));
    const auto read = read_blob(m.config, max_config_size, config_role);
    if (!read.verified) return generic_rest();
    nlohmann::json config;
    const bool config_first = documents_.insert(key(m.config)).second;
    if (!read.bytes) {
        if (config_first)
            fail("schema", m.config.digest.str(),
                 config_role + ": " + std::to_string(m.config.size) + " bytes exceed the 64 MiB limit on configs");
        return generic_rest();
    }
    try {
        config = oci::parse_json_strict(*read.bytes, config_role, max_config_size);
        if (!config.is_object()) throw Error(Errc::invalid_input, "parse", config_role, "must be a JSON object");
        if (config_first) pass("schema", m.config.digest.str(), config_role + ": a JSON object");
    } catch (const Error& e) {
        if (config_first) fail("schema", m.config.digest.str(), e.what());
        return generic_rest();
    }
    auto member = [&](const char* k) -> const nlohmann::json* {
        const auto it = config.find(k);
        return it == config.end() ? nullptr : &*it;
    };

    // The attachments table.
    Problems cp;
    const auto* version = member("version");
    std::uint64_t config_version = format::config_version;  // the rules applied when the version is wrong
    if (version == nullptr) cp.fail("config.version: is required");
    else if (!version->is_number_unsigned() || !format::is_config_version(version->get<std::uint64_t>()))
        cp.fail("config.version: is " + version->dump() + ", must be " + std::to_string(format::min_config_version) +
                " to " + std::to_string(format::config_version));
    else config_version = version->get<std::uint64_t>();
    std::map<std::string, std::size_t> table;
    std::map<std::size_t, std::string> named;  // layer index → attachment name
    const auto* att = member("attachments");
    if (att == nullptr) cp.fail("config.attachments: is required");
    else if (!att->is_object()) cp.fail("config.attachments: must be an object");
    else {
        for (const auto& [name, idx] : att->items()) {
            const auto path = "config.attachments." + name;
            if (!idx.is_number_unsigned()) {
                cp.fail(path + ": must be a layer index (a non-negative integer), not " + idx.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
                continue;
            }
            const auto i = idx.get<std::uint64_t>();
            if (i >= m.layers.size()) {
                cp.fail(path + ": layer index " + std::to_string(i) + " is out of range (" +
                        plural(m.layers.size(), "layer", "layers") + ")");
                continue;
            }
            if (const auto [it, fresh] = named.emplace(static_cast<std::size_t>(i), name); !fresh) {
                cp.fail(path + ": layer " + std::to_string(i) + " is already named by attachment " + show(it->second));
                continue;
            }
            table.emplace(name, static_cast<std::size_t>(i));
        }
    }

    std::optional<std::string> status;
    std::optional<std::size_t> trace_layer;  // the run's trace layer (config version 2 on)
    if (is_run) {
        std::vector<std::string> missing;
        for (const char* k : {"experiment", "reason", "started", "ended", "parameters", "solves", "trace"})
            if (member(k) == nullptr) missing.emplace_back(k);
        if (!missing.empty())
            cp.warn("config lacks " + join(missing, ", ") + " (writers write every key; readers take absence as none)");
        if (const auto* e = member("experiment")) {
            if (!e->is_string()) cp.warn("config.experiment: should be a string");
            else if (!ctx.experiment_name.empty() && e->get<std::string>() != ctx.experiment_name)
                cp.warn("config.experiment is " + show(e->get<std::string>()) + " but the index names the experiment " +
                        show(ctx.experiment_name));
        }
        for (const char* k : {"started", "ended"})
            if (const auto* t = member(k); t != nullptr && (!t->is_string() || !is_timestamp(t->get<std::string>())))
                cp.warn("config." + std::string(k) + ": is not a YYYY-MM-DDTHH:MM:SSZ timestamp");
        if (const auto* r = member("reason"); r != nullptr && !r->is_null() && !r->is_string())
            cp.fail("config.reason: must be a string or null");
        if (const auto* params = member("parameters")) {
            if (!params->is_object()) cp.fail("config.parameters: must be an object");
            else
                for (const auto& [k, v] : params->items()) {
                    const auto path = "config.parameters." + k;
                    if (k.empty()) cp.warn("config.parameters: a parameter name is empty");
                    try {
                        (void)parameter_from_json(v, path);  // the one rule SealedRun reads them by
                    } catch (const Error& e) {
                        cp.fail(path + ": " + e.reason());
                    }
                }
        }
        try {
            trace_layer = detail::trace_slot(config, config_version, m.layers, table).layer;
        } catch (const Error& e) {
            cp.fail(e.subject() + ": " + e.reason());
        }
        emit("run-config", ctx.subject, cp,
             "config consistent: " + plural(table.size(), "attachment", "attachments") +
                 (member("parameters") && member("parameters")->is_object()
                      ? ", " + plural(member("parameters")->size(), "parameter", "parameters")
                      : ""));

        // Run id: the index entry, the config and the manifest annotation agree.
        Problems rp;
        if (ctx.entry_error) rp.fail(*ctx.entry_error);
        std::optional<std::int64_t> config_id;
        const auto* id = member("run_id");
        if (id == nullptr) rp.fail("config.run_id: is required");
        else if (id->is_number_unsigned() && id->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            rp.fail("config.run_id: is larger than 2^63-1");
        else if (!id->is_number_integer()) rp.fail("config.run_id: must be an integer");
        else config_id = id->get<std::int64_t>();
        if (config_id && *config_id < 0) rp.warn("config.run_id: " + std::to_string(*config_id) + " is negative");
        if (config_id && ctx.entry_id && *config_id != *ctx.entry_id)
            rp.fail("the index entry says run " + std::to_string(*ctx.entry_id) + " but config.run_id is " +
                    std::to_string(*config_id));
        if (config_id) {
            const auto ann = annotation(m.annotations, format::keys::run_id);
            if (!ann) rp.warn("the manifest lacks annotation " + std::string(format::keys::run_id));
            else if (*ann != std::to_string(*config_id))
                rp.warn("manifest annotation " + std::string(format::keys::run_id) + " is " + show(*ann) +
                        " but config.run_id is " + std::to_string(*config_id));
        }
        emit("run-id", ctx.subject, rp, config_id ? "run id " + std::to_string(*config_id) : "run id");

        // Status: the config's is authoritative; annotations should agree.
        Problems sp;
        const auto* st = member("status");
        if (st == nullptr) sp.fail("config.status: is required");
        else if (!st->is_string()) sp.fail("config.status: must be a string");
        else if (!format::is_status(st->get<std::string>()))
            sp.fail("config.status: " + show(st->get<std::string>()) + " is not finished, failed or interrupted");
        else status = st->get<std::string>();
        if (status) {
            const auto key_name = std::string(format::keys::run_status);
            const auto on_manifest = annotation(m.annotations, format::keys::run_status);
            if (!on_manifest) sp.warn("the manifest lacks annotation " + key_name);
            else if (*on_manifest != *status)
                sp.warn("manifest annotation " + key_name + " is " + show(*on_manifest) + " but config.status is " + *status);
            if (ctx.in_experiment) {
                const auto on_entry = annotation(ctx.entry_annotations, format::keys::run_status);
                if (on_entry && *on_entry != *status)
                    sp.warn("index entry annotation " + key_name + " is " + show(*on_entry) + " but config.status is " + *status);
            }
        }
        emit("status", ctx.subject, sp, "status " + status.value_or(""));

        // Solves.
        Problems vp;
        std::size_t solve_count = 0;
        if (const auto* solves = member("solves")) {
            if (!solves->is_array()) vp.fail("config.solves: must be an array");
            else {
                std::set<std::int64_t> solve_ids;
                for (std::size_t i = 0; i < solves->size(); ++i) {
                    const auto path = "config.solves[" + std::to_string(i) + "]";
                    try {
                        const auto s = SolveRecord::from_json((*solves)[i], path);
                        ++solve_count;
                        if (!solve_ids.insert(s.solve_id).second)
                            vp.fail(path + ": solve id " + std::to_string(s.solve_id) + " repeats");
                        if (!table.contains(s.input)) vp.fail(path + ": input " + show(s.input) + " is not an attachment");
                        if (s.output && !table.contains(*s.output))
                            vp.fail(path + ": output " + show(*s.output) + " is not an attachment");
                    } catch (const Error& e) {
                        vp.fail(e.subject() + ": " + e.reason());
                    }
                }
            }
        }
        emit("solves", ctx.subject, vp, solve_count == 0 ? "no solves" : plural(solve_count, "solve", "solves") + " consistent");
    } else {
        if (const auto* e = member("experiment"); e == nullptr) cp.warn("config lacks experiment (writers write it)");
        else if (!e->is_string()) cp.warn("config.experiment: should be a string");
        else if (!ctx.experiment_name.empty() && e->get<std::string>() != ctx.experiment_name)
            cp.warn("config.experiment is " + show(e->get<std::string>()) + " but the index names the experiment " +
                    show(ctx.experiment_name));
        emit("experiment-config", ctx.subject, cp,
             "config consistent: " + plural(table.size(), "attachment", "attachments"));
    }

    // Titles: every table name is a safe relative name equal to its layer's
    // title; titled layers outside the table are suspicious (and dangerous
    // to tools that write layers out by title when unsafe).
    const auto title_key = std::string(oci::annotations::title);
    for (const auto& [name, i] : table) {
        Problems tp;
        const auto where = "layers[" + std::to_string(i) + "]";
        try {
            const auto safe = safe_relative_path(name);
            if (safe != name) tp.fail(show(name) + " is not in normal form (" + show(safe) + ")");
        } catch (const Error& e) {
            tp.fail(show(name) + ": unsafe attachment name: " + e.reason());
        }
        const auto title = annotation(m.layers[i].annotations, title_key);
        if (!title) tp.fail(where + " has no " + title_key + " annotation");
        else if (*title != name) tp.fail(where + " title " + show(*title) + " does not match the attachment name " + show(name));
        emit("title", ctx.subject + ": " + name, tp, where + " title matches; a safe relative name");
    }
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        if (named.contains(i)) continue;
        const auto title = annotation(m.layers[i].annotations, title_key);
        if (!title) continue;
        const auto where = "layers[" + std::to_string(i) + "]";
        std::string why;
        try {
            if (safe_relative_path(*title) != *title) why = "is not in normal form";
        } catch (const Error& e) {
            why = "is unsafe: " + e.reason();
        }
        if (!why.empty()) fail("title", ctx.subject + ": " + where, where + " title " + show(*title) + " " + why);
        else
            warn("title", ctx.subject + ": " + where,
                 where + " has title " + show(*title) + " but is not in the attachments table (readers ignore it)");
    }

    // Names: every attachment can be written out beside the others.
    {
        std::vector<std::string> names;
        for (const auto& [name, _] : table) names.push_back(name);
        Problems np;
        for (auto& why : name_problems(names)) np.warn(std::move(why));
        if (!np.warned.empty()) emit("names", ctx.subject, np, "");
    }

    // Layers: verify each; decode attachments.
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const auto& layer = m.layers[i];
        const auto where = role_base + " layers[" + std::to_string(i) + "]";
        walked_.insert(key(layer));
        if (const auto it = named.find(i); it != named.end())
            check_codec(layer, ctx.subject + ": " + it->second,
                        (is_run ? role_base : std::string("experiment")) + " attachment " + show(it->second));
        else if (trace_layer == i)
            check_trace(layer, ctx.subject, role_base + " trace");
        else
            (void)read_blob(layer, 0, where);
    }
    walk_subject(m.subject, ctx.role, depth);
    return status;
}

// Rendering.

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

}  // namespace

std::size_t ValidationReport::failures() const noexcept {
    return static_cast<std::size_t>(std::count_if(checks.begin(), checks.end(), [](const auto& c) { return !c.passed; }));
}

std::size_t ValidationReport::warnings() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(checks.begin(), checks.end(), [](const auto& c) { return c.passed && c.warning; }));
}

ValidationReport validate(content::Target& target, std::string_view reference, const ValidationOptions& options) {
    ValidationReport report;
    report.reference = std::string(reference);
    try {
        Validator(target, options, report).run(reference);
    } catch (const std::exception& e) {
        // Not reached for archive content (every read is checked); kept so
        // nothing, not even exhausted memory, escapes as an exception.
        try {
            report.checks.push_back(
                CheckResult{.name = "internal", .subject = report.reference, .passed = false, .warning = false,
                            .message = std::string("validation stopped: ") + e.what()});
        } catch (...) {
        }
    } catch (...) {
        try {
            report.checks.push_back(CheckResult{.name = "internal", .subject = report.reference, .passed = false,
                                                .warning = false, .message = "validation stopped: unknown exception"});
        } catch (...) {
        }
    }
    return report;
}

std::string to_text(const ValidationReport& report, bool verbose) {
    std::string out;
    auto line = [&](const CheckResult& c, std::string_view mark) {
        std::string l(mark);
        l.resize(6, ' ');
        l += printable(c.name);
        if (l.size() < 24) l.resize(24, ' ');
        else l += ' ';
        l += printable(c.subject);
        if (!c.message.empty()) l += ": " + printable(c.message);
        out += l + "\n";
    };
    for (const auto& c : report.checks)
        if (!c.passed) line(c, "FAIL");
    for (const auto& c : report.checks)
        if (c.passed && c.warning) line(c, "WARN");
    if (verbose)
        for (const auto& c : report.checks)
            if (c.passed && !c.warning) line(c, "ok");
    out += printable(report.reference);
    if (!report.kind.empty()) out += " (" + report.kind + (report.digest.empty() ? "" : " " + report.digest) + ")";
    out += std::string(": ") + (report.ok() ? "VALID" : "INVALID") + ", " +
           plural(report.failures(), "failure", "failures") + ", " + plural(report.warnings(), "warning", "warnings") +
           ", " + std::to_string(report.checks.size() - report.failures()) + " of " +
           plural(report.checks.size(), "check", "checks") + " passed\n";
    return out;
}

std::string to_json(const ValidationReport& report) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : report.checks)
        checks.push_back({{"name", c.name}, {"subject", c.subject}, {"passed", c.passed}, {"warning", c.warning},
                          {"message", c.message}});
    const nlohmann::json doc = {{"reference", report.reference}, {"kind", report.kind},
                                {"digest", report.digest},       {"ok", report.ok()},
                                {"failures", report.failures()}, {"warnings", report.warnings()},
                                {"checks", std::move(checks)}};
    return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_junit(const ValidationReport& report) {
    const auto tests = std::to_string(report.checks.size());
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
    for (const auto& c : report.checks) {
        out += "    <testcase classname=" + attr("sealrun.validate." + c.name) +
               " name=" + attr(c.subject.empty() ? c.name : c.subject) + " time=\"0\">\n";
        if (!c.passed) {
            out += "      <failure message=" + attr(c.message) + " type=" + attr(c.name) + ">" +
                   xml_escape(c.message, false) + "</failure>\n";
        } else if (c.warning) {
            out += "      <system-out>WARNING: " + xml_escape(c.message, false) + "</system-out>\n";
        } else if (!c.message.empty()) {
            out += "      <system-out>" + xml_escape(c.message, false) + "</system-out>\n";
        }
        out += "    </testcase>\n";
    }
    out += "  </testsuite>\n</testsuites>\n";
    return out;
}

}  // namespace sealrun

// The property the rulebook (src/experiment/rules.h) exists for: validate()
// reports a sealed experiment invalid if and only if the reader refuses it
// (SealedExperiment::open, run(id), runs(), parameters(), every attachment
// getter and trace()). A real sealed experiment is changed one hostile
// mutation at a time; every mutation says whether it must be refused, and
// a disagreement names the mutation, what validate said and what the reader
// threw.
#include <doctest/doctest.h>

#include <functional>

#include "sealrun/content/memory.h"
#include "sealrun/experiment/format.h"
#include "sealrun/experiment/sealed.h"
#include "sealrun/oci/json.h"
#include "sealrun/validate/validate.h"
#include "support/experiment.h"
#include "support/tmpdir.h"

using namespace sealrun;
using json = nlohmann::json;

namespace {

// Part is one sealed manifest of the archive and its config, editable.
struct Part {
    oci::ImageManifest manifest;
    json config;
    std::optional<std::string> raw_config;    // stored instead of config
    bool keep_config = false;                 // manifest.config is left as the mutation set it
    std::optional<std::string> raw_manifest;  // stored instead of manifest
    bool absent_manifest = false;             // the entry names a manifest never stored
};

// Archive is a sealed experiment read back into editable documents.
struct Archive {
    content::MemoryTarget* t = nullptr;
    oci::ImageIndex index;
    std::vector<Part> parts;  // one per index entry
    std::size_t run0 = 0, run1 = 0, shared = 0;  // entries of run 0, run 1 and the experiment attachments
    std::optional<std::string> root_tag;         // tag this instead of sealing the index

    Part& r0() { return parts[run0]; }
    Part& r1() { return parts[run1]; }
    std::string& entry(std::size_t i, std::string_view key) { return index.manifests[i].annotations[std::string(key)]; }
};

oci::Descriptor store(content::MemoryTarget& t, std::string media_type, const std::string& bytes) {
    auto d = oci::Descriptor::for_bytes(std::move(media_type), bytes);
    if (!t.exists(d)) content::push_bytes(t, d, bytes);
    return d;
}

Archive load(content::MemoryTarget& t, std::string_view tag) {
    Archive a{.t = &t, .index = oci::ImageIndex::parse(content::read_all(t, t.resolve(tag), oci::max_manifest_size))};
    // The mutations work on the index as it was before summaries (no summary
    // entry, no run count): a summary is a cache that validate checks
    // against every run and readers do not, so a mutated run would make the
    // two disagree by design. tests/experiment/summary_test.cpp covers the
    // summary and page rules.
    std::erase_if(a.index.manifests, [](const oci::Descriptor& e) {
        const auto it = e.annotations.find(std::string(format::keys::part));
        return it != e.annotations.end() && it->second == format::part_summary;
    });
    a.index.annotations.erase(std::string(format::keys::experiment_runs));
    for (std::size_t i = 0; i < a.index.manifests.size(); ++i) {
        const auto& e = a.index.manifests[i];
        auto m = oci::ImageManifest::parse(content::read_all(t, e, oci::max_manifest_size));
        auto config = json::parse(content::read_all(t, m.config, oci::max_manifest_size));
        const auto part = e.annotations.at(std::string(format::keys::part));
        if (part == format::part_attachments) a.shared = i;
        else (e.annotations.at(std::string(format::keys::run_id)) == "0" ? a.run0 : a.run1) = i;
        a.parts.push_back(Part{std::move(m), std::move(config)});
    }
    return a;
}

// absent returns a descriptor of content the target does not hold.
oci::Descriptor absent(std::string media_type) {
    return oci::Descriptor::for_bytes(std::move(media_type), "content that was never stored");
}

// seal stores every part and the index, and tags the root `tag`.
void seal(Archive& a, const std::string& tag) {
    auto& t = *a.t;
    if (a.root_tag) return t.tag(t.resolve(*a.root_tag), tag);
    for (std::size_t i = 0; i < a.parts.size(); ++i) {
        auto& p = a.parts[i];
        if (!p.keep_config)
            p.manifest.config = store(t, p.manifest.config.media_type, p.raw_config.value_or(oci::canonical_json(p.config)));
        const auto bytes = p.raw_manifest.value_or(p.manifest.serialize());
        auto& entry = a.index.manifests[i];
        const auto d = p.absent_manifest ? absent(entry.media_type) : store(t, entry.media_type, bytes);
        entry.digest = d.digest;
        entry.size = d.size;
    }
    t.tag(store(t, std::string(oci::media_types::image_index), a.index.serialize()), tag);
}

// set_layer replaces layer `i` of `p` by `bytes` of `media_type`, keeping its annotations.
void set_layer(Archive& a, Part& p, std::size_t i, const std::string& media_type, const std::string& bytes) {
    auto d = store(*a.t, media_type, bytes);
    d.annotations = p.manifest.layers[i].annotations;
    p.manifest.layers[i] = d;
}

// add_layer appends a layer of `bytes`, titled `title` unless empty; returns its index.
std::size_t add_layer(Archive& a, Part& p, const std::string& media_type, const std::string& bytes,
                      const std::string& title = {}) {
    auto d = store(*a.t, media_type, bytes);
    if (!title.empty()) d.annotations.emplace(oci::annotations::title, title);
    p.manifest.layers.push_back(d);
    return p.manifest.layers.size() - 1;
}

// rename renames attachment `from` of `p` (table key and layer title) to `to`.
void rename(Part& p, const std::string& from, const std::string& to) {
    const auto i = p.config["attachments"][from].get<std::size_t>();
    p.config["attachments"].erase(from);
    p.config["attachments"][to] = i;
    p.manifest.layers[i].annotations[std::string(oci::annotations::title)] = to;
}

template <class View>
void read_attachment(const View& v, const std::string& name, const test::TempDir& out) {
    (void)v.get_blob(name);
    try {
        (void)v.get_attachment(name);
    } catch (const Error& e) {
        if (e.code() != Errc::unsupported) throw;  // no codec: not a refusal of the archive
    }
    (void)v.write_attachment(name, out / "out", true);
}

// reader_refusal reads everything a user of the views can read; returns what
// the reader threw, or nullopt when it read it all.
std::optional<std::string> reader_refusal(content::ReadOnlyTarget& t, const std::string& tag) {
    test::TempDir out;
    try {
        const auto e = SealedExperiment::open(t, tag);
        for (const auto id : e.run_ids()) {
            const auto r = e.run(id);
            (void)r.trace();
            for (const auto& n : r.attachment_names()) read_attachment(r, n, out);
        }
        (void)e.runs();
        (void)e.parameters();
        for (const auto& n : e.attachment_names()) read_attachment(e, n, out);
    } catch (const Error& e) {
        return std::string(e.what());
    }
    return std::nullopt;
}

// validate_refusal returns validate()'s failures, or nullopt when it reports
// a valid sealed experiment.
std::optional<std::string> validate_refusal(content::ReadOnlyTarget& t, const std::string& tag) {
    const auto r = validate(t, tag);
    if (r.ok() && r.kind == "experiment") return std::nullopt;
    std::string out = "kind " + r.kind + ";";
    for (const auto& c : r.checks)
        if (!c.passed) out += " [" + c.name + " " + c.subject + ": " + c.message + "]";
    return out;
}

struct Mutation {
    std::string name;
    bool refused;  // whether reader and validate must both refuse it
    std::function<void(Archive&)> apply;
};

constexpr bool refused = true, accepted = false;

const std::vector<Mutation>& index_mutations() {
    static const std::vector<Mutation> all = {
        {"none: the archive as sealed", accepted, [](Archive&) {}},
        {"index artifactType names something else", refused, [](Archive& a) { a.index.artifact_type = "application/vnd.example"; }},
        {"index artifactType dropped, annotation kept", accepted, [](Archive& a) { a.index.artifact_type.reset(); }},
        {"index artifactType and annotation dropped", refused,
         [](Archive& a) {
             a.index.artifact_type.reset();
             a.index.annotations.erase(std::string(format::keys::artifact_type));
         }},
        {"index content declares another media type than its descriptor", refused,
         [](Archive& a) { a.index.media_type = "application/vnd.docker.distribution.manifest.list.v2+json"; }},
        {"experiment name missing", refused, [](Archive& a) { a.index.annotations.erase(std::string(format::keys::experiment_name)); }},
        {"experiment name empty", refused, [](Archive& a) { a.index.annotations[std::string(format::keys::experiment_name)] = ""; }},
        {"experiment status missing", refused,
         [](Archive& a) { a.index.annotations.erase(std::string(format::keys::experiment_status)); }},
        {"experiment status unknown", refused,
         [](Archive& a) { a.index.annotations[std::string(format::keys::experiment_status)] = "exploded"; }},
        {"experiment status not the runs' roll-up (a warning)", accepted,
         [](Archive& a) { a.index.annotations[std::string(format::keys::experiment_status)] = "finished"; }},
        {"run entry without a run id", refused,
         [](Archive& a) { a.index.manifests[a.run1].annotations.erase(std::string(format::keys::run_id)); }},
        {"run id with a leading zero", refused, [](Archive& a) { a.entry(a.run1, format::keys::run_id) = "01"; }},
        {"run id negative", refused, [](Archive& a) { a.entry(a.run1, format::keys::run_id) = "-1"; }},
        {"run id with a sign", refused, [](Archive& a) { a.entry(a.run1, format::keys::run_id) = "+1"; }},
        {"run id with a space", refused, [](Archive& a) { a.entry(a.run1, format::keys::run_id) = " 1"; }},
        {"run id past 18 digits", refused, [](Archive& a) { a.entry(a.run1, format::keys::run_id) = "1234567890123456789"; }},
        {"two entries with one run id", refused, [](Archive& a) { a.entry(a.run1, format::keys::run_id) = "0"; }},
        {"run ids swapped between entries", refused,
         [](Archive& a) { std::swap(a.entry(a.run0, format::keys::run_id), a.entry(a.run1, format::keys::run_id)); }},
        {"a second experiment-attachments entry", refused,
         [](Archive& a) {
             a.index.manifests.push_back(a.index.manifests[a.shared]);
             a.parts.push_back(a.parts[a.shared]);
         }},
        {"an entry without a part annotation (ignored)", accepted,
         [](Archive& a) {
             a.index.manifests.push_back(a.index.manifests[a.run0]);
             a.index.manifests.back().annotations.erase(std::string(format::keys::part));
             a.parts.push_back(a.r0());
         }},
        {"an entry of an unknown part (ignored)", accepted,
         [](Archive& a) {
             a.index.manifests.push_back(a.index.manifests[a.run0]);
             a.index.manifests.back().annotations[std::string(format::keys::part)] = "notes";
             a.parts.push_back(a.r0());
         }},
        {"run entry typed as an index", refused,
         [](Archive& a) { a.index.manifests[a.run0].media_type = std::string(oci::media_types::image_index); }},
        {"run manifest missing", refused, [](Archive& a) { a.r0().absent_manifest = true; }},
        {"run manifest not JSON", refused, [](Archive& a) { a.r0().raw_manifest = "{"; }},
        {"run manifest with a media type that is not RFC 6838", refused,
         [](Archive& a) {
             auto doc = a.r0().manifest.to_json();
             doc["layers"][0]["mediaType"] = "application/json; charset=utf-8";
             a.r0().manifest.config = store(*a.t, a.r0().manifest.config.media_type, oci::canonical_json(a.r0().config));
             doc["config"] = a.r0().manifest.config.to_json();
             a.r0().keep_config = true;
             a.r0().raw_manifest = doc.dump();
         }},
    };
    return all;
}

const std::vector<Mutation>& run_mutations() {
    static const std::vector<Mutation> all = {
        {"run artifactType names something else", refused, [](Archive& a) { a.r0().manifest.artifact_type = "application/vnd.example"; }},
        {"run artifactType missing", refused, [](Archive& a) { a.r0().manifest.artifact_type.reset(); }},
        {"run config mediaType wrong", refused, [](Archive& a) { a.r0().manifest.config.media_type = "application/json"; }},
        {"config version 3", refused, [](Archive& a) { a.r0().config["version"] = 3; }},
        {"config version missing", refused, [](Archive& a) { a.r0().config.erase("version"); }},
        {"config version a string", refused, [](Archive& a) { a.r0().config["version"] = "2"; }},
        {"config version 1, trace null (an older writer)", accepted, [](Archive& a) { a.r0().config["version"] = 1; }},
        {"attachments table missing", refused, [](Archive& a) { a.r0().config.erase("attachments"); }},
        {"attachments table not an object", refused, [](Archive& a) { a.r0().config["attachments"] = json::array(); }},
        {"attachment index out of range", refused, [](Archive& a) { a.r0().config["attachments"]["result.json"] = 9; }},
        {"attachment index named twice", refused, [](Archive& a) { a.r0().config["attachments"]["input.json"] = 2; }},
        {"attachment index negative", refused, [](Archive& a) { a.r1().config["attachments"]["log.txt"] = -1; }},
        {"attachment index a string", refused, [](Archive& a) { a.r1().config["attachments"]["log.txt"] = "0"; }},
        {"attachment name climbing out", refused, [](Archive& a) { rename(a.r1(), "log.txt", "../log.txt"); }},
        {"attachment name absolute", refused, [](Archive& a) { rename(a.r1(), "log.txt", "/etc/passwd"); }},
        {"attachment name not in normal form", refused, [](Archive& a) { rename(a.r1(), "log.txt", "logs//log.txt"); }},
        {"attachment name empty", refused, [](Archive& a) { rename(a.r1(), "log.txt", ""); }},
        {"layer title differs from the table name", refused,
         [](Archive& a) { a.r1().manifest.layers[0].annotations[std::string(oci::annotations::title)] = "other.txt"; }},
        {"layer title missing", refused, [](Archive& a) { a.r1().manifest.layers[0].annotations.clear(); }},
        {"a layer outside the table with an unsafe title", refused,
         [](Archive& a) { add_layer(a, a.r1(), "text/plain", "x", "../../x"); }},
        {"a layer outside the table with a safe title (a warning)", accepted,
         [](Archive& a) { add_layer(a, a.r1(), "text/plain", "x", "extra.txt"); }},
        {"attachment names that differ only in case (a warning)", accepted,
         [](Archive& a) { a.r1().config["attachments"]["LOG.txt"] = add_layer(a, a.r1(), "text/plain", "x", "LOG.txt"); }},
        {"run_id missing", refused, [](Archive& a) { a.r0().config.erase("run_id"); }},
        {"run_id a string", refused, [](Archive& a) { a.r0().config["run_id"] = "0"; }},
        {"run_id past 2^63-1", refused, [](Archive& a) { a.r0().config["run_id"] = json::parse("9223372036854775808"); }},
        {"config run_id other than its entry's", refused, [](Archive& a) { a.r0().config["run_id"] = 5; }},
        {"run status missing", refused, [](Archive& a) { a.r0().config.erase("status"); }},
        {"run status unknown", refused, [](Archive& a) { a.r0().config["status"] = "exploded"; }},
        {"run status a number", refused, [](Archive& a) { a.r0().config["status"] = 1; }},
        {"run status annotation disagrees (a warning)", accepted,
         [](Archive& a) { a.r0().manifest.annotations[std::string(format::keys::run_status)] = "failed"; }},
        {"reason a number", refused, [](Archive& a) { a.r1().config["reason"] = 7; }},
        {"parameters not an object", refused, [](Archive& a) { a.r0().config["parameters"] = json::array(); }},
        {"parameter past 2^63-1", refused,
         [](Archive& a) { a.r0().config["parameters"]["seed"] = json::parse("18446744073709551615"); }},
        {"parameter null", refused, [](Archive& a) { a.r0().config["parameters"]["x"] = nullptr; }},
        {"parameter an array", refused, [](Archive& a) { a.r0().config["parameters"]["x"] = json::array({1}); }},
        {"parameter with an empty name (a warning)", accepted, [](Archive& a) { a.r0().config["parameters"][""] = 1; }},
        {"solves not an array", refused, [](Archive& a) { a.r0().config["solves"] = json::object(); }},
        {"finished solve without output", refused, [](Archive& a) { a.r0().config["solves"][0]["output"] = nullptr; }},
        {"failed solve with an output", refused, [](Archive& a) { a.r0().config["solves"][0]["status"] = "failed"; }},
        {"solve status unknown", refused, [](Archive& a) { a.r0().config["solves"][0]["status"] = "exploded"; }},
        {"solve without adapter", refused, [](Archive& a) { a.r0().config["solves"][0].erase("adapter"); }},
        {"solve id repeated", refused, [](Archive& a) { a.r0().config["solves"].push_back(a.r0().config["solves"][0]); }},
        {"solve input not an attachment", refused, [](Archive& a) { a.r0().config["solves"][0]["input"] = "absent.json"; }},
        {"solve output not an attachment", refused, [](Archive& a) { a.r0().config["solves"][0]["output"] = "absent.json"; }},
        {"started not a timestamp (a warning)", accepted, [](Archive& a) { a.r0().config["started"] = "yesterday"; }},
        {"config lacks reason and solves (a warning)", accepted,
         [](Archive& a) {
             a.r1().config.erase("reason");
             a.r1().config.erase("solves");
         }},
        {"config names another experiment (a warning)", accepted, [](Archive& a) { a.r0().config["experiment"] = "other"; }},
        {"config not JSON", refused, [](Archive& a) { a.r0().raw_config = "{"; }},
        {"config not an object", refused, [](Archive& a) { a.r0().raw_config = "[]"; }},
        {"config with a duplicate key", refused,
         [](Archive& a) { a.r0().raw_config = R"({"run_id":0,)" + oci::canonical_json(a.r0().config).substr(1); }},
        {"config blob missing", refused,
         [](Archive& a) {
             a.r0().keep_config = true;
             a.r0().manifest.config = absent(std::string(format::run_config_type));
         }},
        {"config declared larger than 64 MiB", refused,
         [](Archive& a) {
             a.r0().keep_config = true;
             a.r0().manifest.config = absent(std::string(format::run_config_type));
             a.r0().manifest.config.size = static_cast<std::int64_t>(format::max_config_size) + 1;
         }},
        {"config size lies", refused,
         [](Archive& a) {
             a.r0().keep_config = true;
             a.r0().manifest.config = store(*a.t, std::string(format::run_config_type), oci::canonical_json(a.r0().config));
             a.r0().manifest.config.size += 1;
         }},
    };
    return all;
}

const std::vector<Mutation>& content_mutations() {
    static const std::string trace_type(format::trace_type);
    static const std::vector<Mutation> all = {
        {"a trace layer named by the config", accepted,
         [](Archive& a) { a.r0().config["trace"] = add_layer(a, a.r0(), trace_type, R"({"spans":[]})"); }},
        {"a trace layer the config does not name", refused, [](Archive& a) { add_layer(a, a.r0(), trace_type, "{}"); }},
        {"trace index out of range", refused, [](Archive& a) { a.r0().config["trace"] = 7; }},
        {"trace index of an attachment's layer", refused, [](Archive& a) { a.r0().config["trace"] = 0; }},
        {"trace naming an attachment in a version 2 config", refused, [](Archive& a) { a.r0().config["trace"] = "input.json"; }},
        {"two trace layers", refused,
         [](Archive& a) {
             a.r0().config["trace"] = add_layer(a, a.r0(), trace_type, "{}");
             add_layer(a, a.r0(), trace_type, "[]");
         }},
        {"a trace that is not JSON", refused, [](Archive& a) { a.r0().config["trace"] = add_layer(a, a.r0(), trace_type, "{"); }},
        {"a trace layer missing", refused,
         [](Archive& a) {
             a.r0().manifest.layers.push_back(absent(trace_type));
             a.r0().config["trace"] = a.r0().manifest.layers.size() - 1;
         }},
        {"version 1 trace naming an attachment", accepted,
         [](Archive& a) {
             a.r0().config["version"] = 1;
             a.r0().config["trace"] = "input.json";
         }},
        {"version 1 trace naming no attachment", refused,
         [](Archive& a) {
             a.r0().config["version"] = 1;
             a.r0().config["trace"] = "absent.json";
         }},
        {"attachment blob missing", refused,
         [](Archive& a) {
             auto d = absent("application/json");
             d.annotations = a.r0().manifest.layers[2].annotations;
             a.r0().manifest.layers[2] = d;
         }},
        {"attachment size larger than stored", refused, [](Archive& a) { a.r0().manifest.layers[2].size += 1; }},
        {"attachment size smaller than stored", refused, [](Archive& a) { a.r0().manifest.layers[2].size -= 1; }},
        {"attachment its codec cannot decode", refused, [](Archive& a) { set_layer(a, a.r0(), 2, "application/json", "{broken"); }},
        {"attachment with a duplicate key", refused,
         [](Archive& a) { set_layer(a, a.r0(), 2, "application/json", R"({"a":1,"a":2})"); }},
        {"attachment stored +zstd that is no zstd frame", refused,
         [](Archive& a) { set_layer(a, a.r0(), 2, "application/json+zstd", R"({"loss":0.25})"); }},
        {"attachment of a media type without a codec (a warning)", accepted,
         [](Archive& a) { set_layer(a, a.r1(), 0, "application/x-unknown", "\x01\x02"); }},
        {"experiment attachment missing", refused,
         [](Archive& a) {
             auto d = absent("application/json");
             d.annotations = a.parts[a.shared].manifest.layers[0].annotations;
             a.parts[a.shared].manifest.layers[0] = d;
         }},
        {"experiment attachments artifactType wrong", refused,
         [](Archive& a) { a.parts[a.shared].manifest.artifact_type = std::string(format::run_artifact_type); }},
        {"experiment attachments config version wrong", refused, [](Archive& a) { a.parts[a.shared].config["version"] = 9; }},
        {"experiment attachments table out of range", refused,
         [](Archive& a) { a.parts[a.shared].config["attachments"]["sweep.json"] = 4; }},
        {"experiment attachments title unsafe", refused, [](Archive& a) { rename(a.parts[a.shared], "sweep.json", "../sweep.json"); }},
        {"experiment attachments config names another experiment (a warning)", accepted,
         [](Archive& a) { a.parts[a.shared].config["experiment"] = "other"; }},
        {"experiment attachments entry typed as an index", refused,
         [](Archive& a) { a.index.manifests[a.shared].media_type = std::string(oci::media_types::image_index); }},
        {"a chain of 40 nested indexes under the tag", refused,
         [](Archive& a) {
             auto child = store(*a.t, std::string(oci::media_types::image_index),
                                R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
             for (int i = 0; i < 40; ++i)
                 child = store(*a.t, std::string(oci::media_types::image_index),
                               oci::canonical_json({{"schemaVersion", 2},
                                                    {"mediaType", oci::media_types::image_index},
                                                    {"manifests", json::array({child.to_json()})}}));
             a.t->tag(child, "deep");
             a.root_tag = "deep";
         }},
    };
    return all;
}

// check_agreement applies each mutation to a fresh reading of `base` and
// checks that validate and the reader both refuse it, or both accept it.
void check_agreement(const std::vector<Mutation>& mutations) {
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    int n = 0;
    for (const auto& m : mutations) {
        auto a = load(t, "v1");
        const auto tag = "m" + std::to_string(n++);
        try {
            m.apply(a);
            seal(a, tag);
        } catch (const std::exception& e) {
            FAIL("mutation \"", m.name, "\" could not be built: ", e.what());
            continue;
        }
        const auto by_validate = validate_refusal(t, tag);
        const auto by_reader = reader_refusal(t, tag);
        INFO("mutation: ", m.name, "\n  validate: ", by_validate.value_or("valid"), "\n  reader: ", by_reader.value_or("read it all"));
        CHECK_MESSAGE(by_validate.has_value() == by_reader.has_value(), "validate and the reader disagree on: ", m.name);
        CHECK_MESSAGE(by_validate.has_value() == m.refused, "validate ", (m.refused ? "accepts" : "refuses"), ": ", m.name);
        CHECK_MESSAGE(by_reader.has_value() == m.refused, "the reader ", (m.refused ? "accepts" : "refuses"), ": ", m.name);
    }
}

}  // namespace

TEST_CASE("agreement: validate fails an experiment index if and only if the reader refuses it") {
    check_agreement(index_mutations());
}

TEST_CASE("agreement: validate fails a run if and only if the reader refuses it") { check_agreement(run_mutations()); }

TEST_CASE("agreement: validate fails content if and only if a getter refuses it") { check_agreement(content_mutations()); }

TEST_CASE("agreement: the table covers every rule of the rulebook at least once") {
    // Each check validate reports for the sealed format is failed by at least
    // one mutation above; a rule without one would be untested agreement.
    std::set<std::string> failed_checks;
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    int n = 0;
    for (const auto* table : {&index_mutations(), &run_mutations(), &content_mutations()})
        for (const auto& m : *table) {
            auto a = load(t, "v1");
            const auto tag = "c" + std::to_string(n++);
            m.apply(a);
            seal(a, tag);
            for (const auto& c : validate(t, tag).checks)
                if (!c.passed) failed_checks.insert(c.name);
        }
    for (const char* check : {"digest", "schema", "media-type", "experiment", "artifact-type", "run-config",
                              "experiment-config", "run-id", "status", "solves", "title", "codec", "trace", "depth"}) {
        CAPTURE(check);
        CHECK(failed_checks.contains(check));
    }
}

TEST_CASE("agreement: validate also checks what readers never read") {
    // The reader reads what its views give; validate reads everything the
    // graph reaches. They differ only outside the sealed parts, in entries
    // readers must ignore (docs/FORMAT.md §3.1): there validate fails and
    // every reader call succeeds.
    const std::vector<Mutation> beyond = {
        {"an ignored entry whose manifest is missing", refused,
         [](Archive& a) {
             a.index.manifests.push_back(a.index.manifests[a.run0]);
             a.index.manifests.back().annotations.erase(std::string(format::keys::part));
             a.parts.push_back(a.r0());
             a.parts.back().absent_manifest = true;
         }},
        {"an ignored entry whose config is corrupt", refused,
         [](Archive& a) {
             a.index.manifests.push_back(a.index.manifests[a.run0]);
             a.index.manifests.back().annotations[std::string(format::keys::part)] = "notes";
             a.parts.push_back(a.r0());
             a.parts.back().keep_config = true;
             a.parts.back().manifest.config = absent("application/json");
         }},
    };
    test::TempDir dir;
    content::MemoryTarget t;
    test::commit_two_runs(dir, t);
    int n = 0;
    for (const auto& m : beyond) {
        auto a = load(t, "v1");
        const auto tag = "b" + std::to_string(n++);
        m.apply(a);
        seal(a, tag);
        INFO("mutation: ", m.name);
        CHECK(validate_refusal(t, tag).has_value());
        CHECK_FALSE(reader_refusal(t, tag).has_value());
    }
}

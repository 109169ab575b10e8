// Reading sealed experiments from Python: open() over the library's
// locations, and the native halves of SealedExperiment, SealedRun and
// DirectoryTree (python/sealrun/_sealed.py wraps them with the public API).
//
// Every view holds the Location it was read from (shared), so the target
// outlives every run and tree taken from it. The views are immutable; their
// const methods are safe from several threads at once (the library's are),
// and each one releases the GIL while it fetches, verifies, decodes or
// writes, touching Python objects only once it holds the GIL again.
#include <any>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <pybind11/stl.h>

#include <sealrun/codecs/bytes.h>
#include <sealrun/codecs/codec.h>
#include <sealrun/codecs/jsonl.h>
#include <sealrun/codecs/npy.h>
#include <sealrun/codecs/pickle.h>
#include <sealrun/codecs/tar.h>
#include <sealrun/error.h>
#include <sealrun/experiment/ommx_artifact.h>
#include <sealrun/experiment/sealed.h>
#include <sealrun/location/location.h>

#include "convert.h"
#include "module.h"
#include "ommx.h"

namespace sealrun::python {

namespace {

namespace fs = std::filesystem;
using codecs::DirectoryTree;
using codecs::NdArray;
using codecs::NpyCodec;

// ExperimentView is a sealed experiment and the location it was read from.
struct ExperimentView {
    std::shared_ptr<Location> location;
    SealedExperiment experiment;
    const Attachments& attachments() const { return experiment.attachments(); }
    std::vector<std::string> names() const { return attachments().names(); }
    const std::string& key(const std::string& name) const { return name; }
};

// RunView is one run of a sealed experiment and the location it was read from.
struct RunView {
    std::shared_ptr<Location> location;
    SealedRun run;
    const Attachments& attachments() const { return run.attachments(); }
    std::vector<std::string> names() const { return attachments().names(); }
    const std::string& key(const std::string& name) const { return name; }
};

// ArtifactView is an OMMX generic artifact and the location it was read
// from. Its attachments are its layers, named "0" … "n-1" in layer order;
// a layer's digest names it too (OmmxArtifact::layer_index).
struct ArtifactView {
    std::shared_ptr<Location> location;
    OmmxArtifact artifact;
    const Attachments& attachments() const { return artifact.attachments(); }
    std::vector<std::string> names() const { return artifact.attachment_names(); }
    std::string key(const std::string& name) const { return std::to_string(artifact.layer_index(name)); }
};

// TreeView is a decoded directory tree and an index of its regular files.
struct TreeView {
    std::shared_ptr<const DirectoryTree> tree;
    std::map<std::string, std::size_t, std::less<>> files;  // path → entry index

    explicit TreeView(DirectoryTree t) : tree(std::make_shared<const DirectoryTree>(std::move(t))) {
        for (std::size_t i = 0; i < tree->entries.size(); ++i)
            if (tree->entries[i].type == codecs::TreeEntry::Type::file) files.emplace(tree->entries[i].path, i);
    }
};

py::object path_object(const fs::path& p) { return py::module_::import("pathlib").attr("Path")(p.string()); }

// take moves the decoded value out of `v`. Value hands out only const
// references; `v` is a local, non-const object, so moving out of its
// std::any is well defined, and saves a copy of a large text or tree.
template <class T>
T take(Value& v) {
    return std::move(*std::any_cast<T>(&const_cast<std::any&>(v.any())));
}

// read_npy is NpyCodec::decode without its copy of the elements: the
// verified blob itself becomes the array's data once the header is cut
// off, under the same checks (header(), then NdArray::check_size(), which
// is decode's size check for a dtype it reads).
NdArray read_npy(const Attachments& a, std::string_view name) {
    std::string blob = a.blob(name);
    auto h = NpyCodec::header(blob);
    if (!h.array) return NpyCodec::decode(blob);  // throws what decode throws for a dtype it does not read
    NdArray array = std::move(*h.array);
    array.data = std::move(blob);
    array.data.erase(0, h.size);
    array.check_size();
    return array;
}

py::object text_object(const std::string& text) {
    // Text is not required to be UTF-8 (logs hold what programs printed):
    // bytes that are not become lone surrogates, and
    // s.encode("utf-8", "surrogateescape") gives the stored bytes back.
    PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<py::ssize_t>(text.size()), "surrogateescape");
    if (!s) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(s);
}

// value_object converts a decoded attachment to its Python form.
py::object value_object(Value& v, std::string_view name, bool allow_pickle) {
    if (v.is<nlohmann::json>()) return to_python(v.as<nlohmann::json>());
    if (v.is<std::vector<nlohmann::json>>()) {
        const auto& records = v.as<std::vector<nlohmann::json>>();
        py::list out(records.size());
        for (std::size_t i = 0; i < records.size(); ++i) out[i] = to_python(records[i]);
        return out;
    }
    if (v.is<NdArray>()) return to_numpy(take<NdArray>(v));
    if (v.is<std::string>()) return text_object(v.as<std::string>());
    if (v.is<codecs::Bytes>()) return bytes_object(v.as<codecs::Bytes>().data);
    if (v.is<codecs::Pickle>()) {
        py::bytes data = bytes_object(v.as<codecs::Pickle>().data);
        if (!allow_pickle) return data;
        return py::module_::import("pickle").attr("loads")(data);
    }
    if (v.is<DirectoryTree>()) {
        std::unique_ptr<TreeView> tree;
        {
            py::gil_scoped_release unlocked;
            tree = std::make_unique<TreeView>(take<DirectoryTree>(v));
        }
        return py::cast(std::move(tree));
    }
    throw Error(Errc::unsupported, "get attachment", std::string(name),
                "decodes to the C++ type " + type_name(v.any().type()) + ", which has no Python form (get_blob reads the bytes)");
}

template <class View>
py::object get_attachment(const View& view, const std::string& name, bool allow_pickle) {
    std::optional<NdArray> array;
    std::optional<Value> value;
    {
        py::gil_scoped_release unlocked;
        const auto& a = view.attachments();
        const std::string key = view.key(name);
        if (a.media_type(key) == NpyCodec::media_type) array = read_npy(a, key);
        else value.emplace(a.value(key));
    }
    if (array) return to_numpy(std::move(*array));
    return value_object(*value, name, allow_pickle);
}

template <class View>
py::bytes get_blob(const View& view, const std::string& name) {
    std::string bytes;
    {
        py::gil_scoped_release unlocked;
        bytes = view.attachments().blob(view.key(name));
    }
    return bytes_object(bytes);
}

// get_blob_for_codec returns the bytes of `name` for a Python codec of
// `media_type`, refusing a stored (logical) type that differs before the
// codec sees a byte (Attachments::check_codec, with_codec's rule).
template <class View>
py::bytes get_blob_for_codec(const View& view, const std::string& name, const std::string& media_type) {
    std::string bytes;
    {
        py::gil_scoped_release unlocked;
        const auto& a = view.attachments();
        const std::string key = view.key(name);
        a.check_codec(key, media_type);
        bytes = a.blob(key);
    }
    return bytes_object(bytes);
}

template <class View>
py::object get_json(const View& view, const std::string& name) {
    nlohmann::json j;
    {
        py::gil_scoped_release unlocked;
        j = view.attachments().template with_codec<codecs::JsonCodec>(view.key(name));
    }
    return to_python(j);
}

template <class View>
py::object write_attachment(const View& view, const std::string& name, const py::handle& path, bool overwrite) {
    const auto dest = to_path(path);
    fs::path written;
    std::error_code ec;
    {
        py::gil_scoped_release unlocked;
        // As `sealrun get -o`: missing folders above the destination file are created.
        if (!fs::is_directory(dest, ec)) make_parent_dirs(dest);
        written = view.attachments().write(view.key(name), dest, overwrite);
    }
    return path_object(written);
}

// bind_attachments binds the getter set SealedRun and SealedExperiment share.
template <class View>
void bind_attachments(py::class_<View>& c) {
    using R = py::call_guard<py::gil_scoped_release>;
    c.def("attachment_names", [](const View& v) { return v.names(); }, R())
        .def("attachment_media_type", [](const View& v, const std::string& name) { return v.attachments().media_type(v.key(name)); },
             py::arg("name"), R())
        .def("attachment_compression",
             [](const View& v, const std::string& name) { return v.attachments().compression(v.key(name)); }, py::arg("name"), R())
        .def("attachment_size",
             [](const View& v, const std::string& name) { return v.attachments().descriptor(v.key(name)).size; }, py::arg("name"), R())
        .def("attachment_digest",
             [](const View& v, const std::string& name) { return v.attachments().descriptor(v.key(name)).digest.str(); },
             py::arg("name"), R())
        // The OMMX getters return the library's values (sealrun._core.Ommx*),
        // decoded by the rule Attachments::instance & co. apply.
        .def("get_instance", [](const View& v, const std::string& name) { return v.attachments().instance(v.key(name)); },
             py::arg("name"), R())
        .def("get_parametric_instance",
             [](const View& v, const std::string& name) { return v.attachments().parametric_instance(v.key(name)); },
             py::arg("name"), R())
        .def("get_solution", [](const View& v, const std::string& name) { return v.attachments().solution(v.key(name)); },
             py::arg("name"), R())
        .def("get_sample_set", [](const View& v, const std::string& name) { return v.attachments().sample_set(v.key(name)); },
             py::arg("name"), R())
        .def("get_attachment", &get_attachment<View>, py::arg("name"), py::arg("allow_pickle") = false)
        .def("get_blob", &get_blob<View>, py::arg("name"))
        .def("get_blob_for_codec", &get_blob_for_codec<View>, py::arg("name"), py::arg("media_type"))
        .def("get_json", &get_json<View>, py::arg("name"))
        .def("write_attachment", &write_attachment<View>, py::arg("name"), py::arg("path"), py::arg("overwrite") = false);
}

py::object parameter_object(const Parameter& p) {
    return std::visit([](const auto& v) -> py::object { return py::cast(v); }, p);
}

py::dict parameters_object(const std::map<std::string, Parameter>& parameters) {
    py::dict out;
    for (const auto& [k, v] : parameters) out[py::str(k)] = parameter_object(v);
    return out;
}

py::dict solve_object(const SolveRecord& s) {
    py::dict d;
    d["solve_id"] = s.solve_id;
    d["status"] = s.status;
    d["input"] = s.input;
    d["output"] = s.output ? py::object(py::str(*s.output)) : py::object(py::none());
    d["adapter"] = s.adapter;
    d["adapter_options"] = to_python(s.adapter_options);
    d["diagnostics"] = to_python(s.diagnostics);
    return d;
}

py::dict sampling_object(const SamplingRecord& s) {
    py::dict d;
    d["sampling_id"] = s.sampling_id;
    d["status"] = s.status;
    d["input"] = s.input;
    d["output"] = s.output ? py::object(py::str(*s.output)) : py::object(py::none());
    d["adapter"] = s.adapter;
    d["adapter_options"] = to_python(s.adapter_options);
    d["diagnostics"] = to_python(s.diagnostics);
    return d;
}

std::string experiment_repr(const ExperimentView& v) {
    const auto& e = v.experiment;
    const auto n = e.run_ids().size();
    return "<SealedExperiment " + py::repr(py::str(e.name())).cast<std::string>() + " " + e.status() + ", " +
           std::to_string(n) + (n == 1 ? " run" : " runs") + ", " + e.descriptor().digest.str() + ">";
}

std::string run_repr(const RunView& v) {
    const auto& r = v.run;
    const auto n = r.attachment_names().size();
    const auto s = r.solves().size();
    return "<SealedRun run_id=" + std::to_string(r.run_id()) + " " + r.status() + ", " + std::to_string(n) +
           (n == 1 ? " attachment" : " attachments") + ", " + std::to_string(s) + (s == 1 ? " solve" : " solves") +
           ", " + r.manifest().digest.str() + ">";
}

void bind_tree(py::module_& m) {
    py::class_<TreeView> tree(m, "DirectoryTree", "Native half of sealrun.DirectoryTree.");
    tree.def("__len__", [](const TreeView& t) { return t.files.size(); })
        .def("paths",
             [](const TreeView& t) {
                 py::list out;
                 for (const auto& [path, _] : t.files) out.append(py::str(path));
                 return out;
             })
        .def("__contains__", [](const TreeView& t, const std::string& path) { return t.files.contains(path); })
        .def("file",
             [](const TreeView& t, const std::string& path) -> py::bytes {
                 const auto it = t.files.find(path);
                 if (it == t.files.end()) throw py::key_error(path);
                 return bytes_object(t.tree->entries[it->second].content);
             })
        .def("entries",
             [](const TreeView& t) {
                 // (kind, path, mode, symlink target or None) for every entry.
                 py::list out;
                 for (const auto& e : t.tree->entries) {
                     using Type = codecs::TreeEntry::Type;
                     const char* kind = e.type == Type::file ? "file" : e.type == Type::directory ? "directory" : "symlink";
                     out.append(py::make_tuple(kind, e.path, e.mode,
                                               e.type == Type::symlink ? py::object(py::str(e.content)) : py::object(py::none())));
                 }
                 return out;
             })
        .def("write", [](const TreeView& t, const py::handle& dest, bool overwrite) {
            const auto dir = to_path(dest);
            {
                py::gil_scoped_release unlocked;
                t.tree->write(dir, overwrite);
            }
            return path_object(dir);
        }, py::arg("dest"), py::arg("overwrite") = false);
}

void bind_run(py::module_& m) {
    py::class_<RunView> run(m, "SealedRun", "Native half of sealrun.SealedRun.");
    run.def_property_readonly("run_id", [](const RunView& v) { return v.run.run_id(); })
        .def_property_readonly("status", [](const RunView& v) { return v.run.status(); })
        .def_property_readonly("reason", [](const RunView& v) { return v.run.reason(); })
        .def_property_readonly("digest", [](const RunView& v) { return v.run.manifest().digest.str(); })
        .def_property_readonly("parameters", [](const RunView& v) { return parameters_object(v.run.parameters()); })
        .def_property_readonly("solves",
                               [](const RunView& v) {
                                   py::list out;
                                   for (const auto& s : v.run.solves()) out.append(solve_object(s));
                                   return out;
                               })
        .def_property_readonly("samplings",
                               [](const RunView& v) {
                                   py::list out;
                                   for (const auto& s : v.run.samplings()) out.append(sampling_object(s));
                                   return out;
                               })
        .def_property_readonly("has_trace", [](const RunView& v) { return v.run.trace_descriptor().has_value(); })
        .def("trace",
             [](const RunView& v) -> py::object {
                 std::optional<nlohmann::json> t;
                 {
                     py::gil_scoped_release unlocked;
                     t = v.run.trace();
                 }
                 return t ? to_python(*t) : py::none();
             })
        .def("__repr__", &run_repr);
    bind_attachments(run);
}

py::tuple parameter_table(const ExperimentView& v) {
    // (run ids, {parameter name: [value or None per run]}), columns sorted.
    ParameterTable t;
    {
        py::gil_scoped_release unlocked;
        t = v.experiment.parameters();
    }
    py::dict columns;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
        py::list cells(t.rows.size());
        for (std::size_t r = 0; r < t.rows.size(); ++r) cells[r] = to_python(t.rows[r][c]);
        columns[py::str(t.columns[c])] = std::move(cells);
    }
    return py::make_tuple(py::cast(t.run_ids), std::move(columns));
}

// summary_object returns the experiment summary as plain Python data, or
// None for an archive sealed without one: {"experiment", "values": [names],
// "rows": [{"run_id", "status", "reason", "parameters", "values",
// "manifest", "worker"}]} (reason and worker None when absent).
py::object summary_object(const ExperimentView& v) {
    const ExperimentSummary* s = nullptr;
    {
        py::gil_scoped_release unlocked;
        s = v.experiment.summary();
    }
    if (s == nullptr) return py::none();
    py::list rows(s->runs.size());
    for (std::size_t i = 0; i < s->runs.size(); ++i) {
        const auto& r = s->runs[i];
        py::dict row;
        row["run_id"] = r.run_id;
        row["status"] = r.status;
        row["reason"] = r.reason ? py::object(py::str(*r.reason)) : py::none();
        row["parameters"] = parameters_object(r.parameters);
        row["values"] = parameters_object(r.values);
        row["manifest"] = r.manifest;
        row["worker"] = r.worker ? py::object(py::str(*r.worker)) : py::none();
        rows[i] = std::move(row);
    }
    py::dict out;
    out["experiment"] = s->experiment;
    out["values"] = py::cast(s->values);
    out["rows"] = std::move(rows);
    return out;
}

void bind_experiment(py::module_& m) {
    using R = py::call_guard<py::gil_scoped_release>;
    py::class_<ExperimentView> exp(m, "SealedExperiment", "Native half of sealrun.SealedExperiment.");
    exp.def_property_readonly("name", [](const ExperimentView& v) { return v.experiment.name(); })
        .def_property_readonly("status", [](const ExperimentView& v) { return v.experiment.status(); })
        .def_property_readonly("annotations", [](const ExperimentView& v) { return v.experiment.annotations(); })
        .def_property_readonly("digest", [](const ExperimentView& v) { return v.experiment.descriptor().digest.str(); })
        .def_property_readonly("location", [](const ExperimentView& v) { return v.location->text; })
        .def_property_readonly("run_ids", [](const ExperimentView& v) { return v.experiment.run_ids(); })
        .def("run", [](const ExperimentView& v, std::int64_t id) { return RunView{v.location, v.experiment.run(id)}; },
             py::arg("run_id"), R())
        .def("runs",
             [](const ExperimentView& v) {
                 std::vector<RunView> out;
                 for (auto& r : v.experiment.runs()) out.push_back(RunView{v.location, std::move(r)});
                 return out;
             },
             R())
        .def("parameter_table", &parameter_table)
        .def("summary", &summary_object)
        .def_property_readonly("run_count", [](const ExperimentView& v) { return v.experiment.run_count(); })
        .def_property_readonly("parent",
                               [](const ExperimentView& v) -> py::object {
                                   const auto doc = nlohmann::json::parse(
                                       content::read_all(*v.location->target, v.experiment.descriptor(), oci::max_manifest_size),
                                       nullptr, false);
                                   const auto it = doc.is_object() ? doc.find("subject") : doc.end();
                                   if (it == doc.end() || !it->is_object() || !it->contains("digest") || !(*it)["digest"].is_string())
                                       return py::none();
                                   return py::str((*it)["digest"].get<std::string>());
                               })
        .def("__repr__", &experiment_repr);
    bind_attachments(exp);
}

std::string artifact_repr(const ArtifactView& v) {
    const auto n = v.artifact.layer_count();
    return "<OmmxArtifact " + py::repr(py::str(v.location->text)).cast<std::string>() + ", " + std::to_string(n) +
           (n == 1 ? " layer, " : " layers, ") + v.artifact.descriptor().digest.str() + ">";
}

void bind_artifact(py::module_& m) {
    using R = py::call_guard<py::gil_scoped_release>;
    py::class_<ArtifactView> c(m, "OmmxArtifact", "Native half of sealrun.OmmxArtifact.");
    c.def_property_readonly("digest", [](const ArtifactView& v) { return v.artifact.descriptor().digest.str(); })
        .def_property_readonly("location", [](const ArtifactView& v) { return v.location->text; })
        .def_property_readonly("annotations", [](const ArtifactView& v) { return v.artifact.annotations(); })
        .def_property_readonly("layer_count", [](const ArtifactView& v) { return v.artifact.layer_count(); })
        .def("layer_index", [](const ArtifactView& v, const std::string& name) { return v.artifact.layer_index(name); },
             py::arg("name"), R())
        .def("layer_annotations",
             [](const ArtifactView& v, const std::string& name) { return v.artifact.layer(name).annotations; },
             py::arg("name"), R())
        .def("__repr__", &artifact_repr);
    bind_attachments(c);
}

// view_location opens `location` for reading, as open() and
// open_ommx_artifact() take it: relative paths resolved against today's
// working directory (a view outlives the call, and a notebook's %cd must
// not move what it reads). Call without the GIL.
std::shared_ptr<Location> view_location(const std::string& location, LocationOptions options, const fs::path& cwd) {
    options.base = cwd;
    return std::make_shared<Location>(open_location(location, options, false));
}

fs::path working_directory(const std::string& location) {
    std::error_code ec;
    auto cwd = fs::current_path(ec);
    if (ec) throw Error(Errc::io, "open", location, "no working directory: " + ec.message());
    return cwd;
}

}  // namespace

void init_sealed(py::module_& m) {
    bind_tree(m);
    bind_run(m);
    bind_experiment(m);
    bind_artifact(m);
    m.def(
        "open_ommx_artifact",
        [](const std::string& location, const py::object& store, const py::object& plain_http, bool insecure,
           const py::object& ca_file) {
            auto options = location_options(store, plain_http, insecure, ca_file);
            const auto cwd = working_directory(location);
            py::gil_scoped_release unlocked;
            auto loc = view_location(location, std::move(options), cwd);
            std::string reference = loc->reference;
            if (reference.empty()) {
                // An .ommx file (or a layout) holding one image: its one name.
                const auto tags = loc->target->tags();
                if (tags.size() != 1)
                    throw Error(Errc::invalid_input, "open", location,
                                "names no tag or digest, and it holds " + std::to_string(tags.size()) +
                                    " tags (name one: oci-archive:FILE:TAG, TAG, …)");
                reference = tags.front();
            }
            auto artifact = OmmxArtifact::open(*loc->target, reference);
            return ArtifactView{std::move(loc), std::move(artifact)};
        },
        py::arg("location"), py::kw_only(), py::arg("store") = py::none(), py::arg("plain_http") = py::none(),
        py::arg("insecure") = false, py::arg("ca_file") = py::none());
    m.def(
        "open",
        [](const std::string& location, const py::object& store, const py::object& plain_http, bool insecure,
           const py::object& ca_file) {
            auto options = location_options(store, plain_http, insecure, ca_file);
            // A view outlives this call: relative paths are resolved against
            // today's working directory, so a later chdir (a notebook's %cd)
            // does not move what the view reads.
            std::error_code ec;
            options.base = std::filesystem::current_path(ec);
            if (ec) throw Error(Errc::io, "open", location, "no working directory: " + ec.message());
            py::gil_scoped_release unlocked;
            auto loc = std::make_shared<Location>(open_location(location, options, false));
            if (loc->reference.empty())
                throw Error(Errc::invalid_input, "open", location,
                            "names no tag or digest (TAG, oci:DIR:TAG, oci-archive:FILE:TAG, docker://HOST/REPO:TAG)");
            auto experiment = SealedExperiment::open(*loc->target, loc->reference);
            return ExperimentView{std::move(loc), std::move(experiment)};
        },
        py::arg("location"), py::kw_only(), py::arg("store") = py::none(), py::arg("plain_http") = py::none(),
        py::arg("insecure") = false, py::arg("ca_file") = py::none());
}

}  // namespace sealrun::python

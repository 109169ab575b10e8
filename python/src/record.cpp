// Recording from Python: Experiment, Run and Record over the C++ core
// (sealrun._core). The public classes wrap these in python/sealrun/_record.py.
//
// Every call that touches a record holds the owner's recursive mutex with
// the GIL released: Experiment and Record are not thread-safe in C++, and
// the GIL alone does not serialize calls that release it for their I/O.
// The mutex is recursive because a Record's Python body, run by launch()
// under it, calls back into the same record (save_file, mark, …).
#include <any>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <sealrun/codecs/jsonl.h>
#include <sealrun/codecs/npy.h>
#include <sealrun/codecs/pickle.h>
#include <sealrun/codecs/tar.h>
#include <sealrun/experiment/experiment.h>
#include <sealrun/oci/tag.h>
#include <sealrun/records/record.h>

#include "convert.h"
#include "module.h"
#include "ommx.h"

namespace sealrun::python {

namespace fs = std::filesystem;

namespace {

using Mutex = std::recursive_mutex;

// serialized runs `fn` with the GIL released while holding `mu`; `fn` must
// not touch Python objects.
template <class Fn>
auto serialized(Mutex& mu, Fn&& fn) {
    py::gil_scoped_release release;
    std::lock_guard guard(mu);
    return fn();
}

std::string type_of(const py::handle& value) { return py::str(py::type::handle_of(value).attr("__qualname__")); }

// store_root is the store a `store=` argument names (None: default_store()),
// made absolute so a later os.chdir() does not split a record in two.
fs::path store_root(const py::object& store) {
    fs::path root = store.is_none() ? default_store() : to_path(store);
    std::error_code ec;
    auto abs = fs::absolute(root, ec);
    if (ec) throw Error(Errc::io, "open store", root.string(), ec.message());
    return abs;
}

// segment returns one path segment given as str or os.PathLike.
std::string segment(const py::handle& s) {
    if (py::isinstance<py::str>(s)) return s.cast<std::string>();
    return to_path(s).generic_string();
}

// record_path converts a str, an os.PathLike or a list/tuple of segments
// (joined like os.path.join) to a RecordPath, whose constructors are the one
// rule for what a record file name may be.
RecordPath record_path(const py::handle& path) {
    using Segments = std::initializer_list<std::string_view>;
    if (!py::isinstance<py::list>(path) && !py::isinstance<py::tuple>(path)) return RecordPath(segment(path));
    // RecordPath joins an initializer list; fold the segments two at a
    // time, which joins, skips and refuses exactly as one list would.
    std::string joined;
    for (auto s : path) {
        const std::string part = segment(s);
        if (joined.empty()) {
            if (!part.empty()) joined = RecordPath(Segments{part}).str();
        } else {
            joined = RecordPath(Segments{joined, part}).str();
        }
    }
    if (joined.empty()) return RecordPath(Segments{});  // no segment: the core's own error
    return RecordPath(joined);
}

std::optional<std::string> bytes_of(const py::handle& data) {
    if (py::isinstance<py::bytes>(data)) return data.cast<std::string>();
    if (PyByteArray_Check(data.ptr()))
        return std::string(PyByteArray_AS_STRING(data.ptr()), static_cast<std::size_t>(PyByteArray_GET_SIZE(data.ptr())));
    return std::nullopt;
}

[[noreturn]] void wrong_value(const std::string& rel, const CodecEntry& codec, const std::string& wanted,
                              const py::handle& data, const std::string& detail = {}) {
    throw Error(Errc::invalid_input, "save_file", rel,
                "its codec (" + codec.media_type + ") takes " + wanted + ", not a " + type_of(data) + detail);
}

// to_value converts `data` to the value type of `codec`, the codec the
// file name picks (CodecRegistry::by_extension).
std::any to_value(const CodecEntry& codec, const std::string& rel, const py::handle& data) {
    const std::type_index t = codec.value_type;
    auto json = [&](const py::handle& v) {
        try {
            return to_json(v);
        } catch (const Error& e) {
            wrong_value(rel, codec, "JSON", data, " (" + e.subject() + ": " + e.reason() + ")");
        }
    };
    if (t == typeid(codecs::NdArray)) {
        py::object np = py::module_::import("numpy");
        if (py::isinstance(data, np.attr("generic"))) return from_numpy(np.attr("asarray")(data));
        if (!py::isinstance(data, np.attr("ndarray"))) wrong_value(rel, codec, "a numpy.ndarray", data);
        return from_numpy(data);
    }
    if (t == typeid(nlohmann::json)) return json(data);
    if (t == typeid(std::vector<nlohmann::json>)) {
        if (!py::isinstance<py::list>(data) && !py::isinstance<py::tuple>(data))
            wrong_value(rel, codec, "a list of JSON records", data);
        std::vector<nlohmann::json> records;
        for (auto item : data) records.push_back(json(item));
        return records;
    }
    if (t == typeid(std::string)) {
        if (!py::isinstance<py::str>(data)) wrong_value(rel, codec, "a str", data);
        // surrogateescape: text read back by load_file (which decodes the same
        // way) saves to the same bytes, whatever a program printed.
        py::object encoded = data.attr("encode")("utf-8", "surrogateescape");
        return encoded.cast<std::string>();
    }
    if (t == typeid(codecs::Pickle)) {
        py::object pickled = py::module_::import("pickle").attr("dumps")(data);
        return codecs::Pickle{pickled.cast<std::string>()};
    }
    if (t == typeid(codecs::Bytes)) wrong_value(rel, codec, "bytes", data);
    throw Error(Errc::unsupported, "save_file", rel,
                "its codec (" + codec.media_type + ") takes " + codec.value_type_name + ", which no Python value converts to");
}

// from_value converts a value Record::load_value returned to Python.
py::object from_value(std::any value, const std::string& rel, bool allow_pickle) {
    const std::type_index t = value.type();
    if (t == typeid(nlohmann::json)) return to_python(std::any_cast<const nlohmann::json&>(value));
    if (t == typeid(std::vector<nlohmann::json>)) {
        py::list out;
        for (const auto& r : std::any_cast<const std::vector<nlohmann::json>&>(value)) out.append(to_python(r));
        return out;
    }
    if (t == typeid(std::string)) {
        const auto& s = std::any_cast<const std::string&>(value);
        return py::reinterpret_steal<py::object>(
            PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "surrogateescape"));
    }
    if (t == typeid(codecs::NdArray)) return to_numpy(std::any_cast<codecs::NdArray>(std::move(value)));
    if (t == typeid(codecs::Bytes)) return py::bytes(std::any_cast<const codecs::Bytes&>(value).data);
    if (t == typeid(codecs::Pickle)) {
        py::bytes raw(std::any_cast<const codecs::Pickle&>(value).data);
        if (!allow_pickle) return raw;
        return py::module_::import("pickle").attr("loads")(raw);
    }
    if (t == typeid(codecs::DirectoryTree)) {
        py::dict out;
        for (const auto& e : std::any_cast<const codecs::DirectoryTree&>(value).entries)
            if (e.type == codecs::TreeEntry::Type::file) out[py::str(e.path)] = py::bytes(e.content);
        return out;
    }
    throw Error(Errc::unsupported, "load_file", rel, "its codec decodes " + type_name(value.type()) + ", which has no Python form");
}

// Files is what the file operations of a record-like object (a Record, a
// Run, an experiment's attachments) work on: the record, the lock guarding
// it and the store whose codecs it encodes with.
struct Files {
    Record& rec;
    Mutex& mu;
    RecordStore& store;
};

void save_file(const Files& f, const py::handle& path, const py::handle& data, const std::optional<std::string>& media_type) {
    const RecordPath rp = record_path(path);
    if (auto raw = bytes_of(data)) {
        codecs::Bytes b{std::move(*raw)};
        serialized(f.mu, [&] { f.rec.save_file(rp, b, media_type.value_or("")); });
        return;
    }
    if (media_type)
        throw Error(Errc::invalid_input, "save_file", rp.str(), "a media type is given with bytes, not a " + type_of(data));
    auto codec = f.store.codecs().by_extension(rp.str());
    if (!codec) throw Error(Errc::unsupported, "save_file", rp.str(), "no codec for this extension and no text codec");
    std::any value = to_value(*codec, rp.str(), data);
    serialized(f.mu, [&] { f.rec.save_file(rp, value); });
}

py::object load_file(const Files& f, const py::handle& path, const py::object& fallback, bool allow_pickle) {
    const RecordPath rp = record_path(path);
    auto value = serialized(f.mu, [&] { return f.rec.load_value(rp); });
    if (!value) return fallback;
    return from_value(std::move(*value), rp.str(), allow_pickle);
}

py::object marker(const Files& f, const std::string& name, const py::object& fallback) {
    // A discarded value is never a marker (to_json makes none), so it tells
    // "unset" from a marker set to None.
    auto v = serialized(f.mu, [&] { return f.rec.marker(name, nlohmann::json(nlohmann::json::value_t::discarded)); });
    if (v.is_discarded()) return fallback;
    return to_python(v);
}

// bind_files binds the file operations and markers on `cls`, whose objects
// `files` turns into the Files they work on.
template <class Class, class Access>
void bind_files(Class& cls, Access files) {
    using T = typename Class::type;
    cls.def("save_file",
            [files](T& self, const py::object& path, const py::object& data, std::optional<std::string> type) {
                save_file(files(self), path, data, type);
            },
            py::arg("path"), py::arg("data"), py::arg("media_type"))
        .def("load_file",
             [files](T& self, const py::object& path, const py::object& fallback, bool allow_pickle) {
                 return load_file(files(self), path, fallback, allow_pickle);
             },
             py::arg("path"), py::arg("default"), py::arg("allow_pickle"))
        .def("local_directory",
             [files](T& self, const py::args& parts) {
                 const Files f = files(self);
                 std::optional<RecordPath> sub;
                 if (!parts.empty()) sub = record_path(parts);
                 return serialized(f.mu, [&] { return f.rec.local_directory(sub); });
             })
        .def("mark",
             [files](T& self, const std::string& name, const py::handle& value) {
                 const Files f = files(self);
                 auto v = to_json(value);
                 serialized(f.mu, [&] { f.rec.mark(name, std::move(v)); });
             })
        .def("marker", [files](T& self, const std::string& name, const py::object& fallback) {
            return marker(files(self), name, fallback);
        });
}

// Experiment owns its store; runs keep it alive through the shared_ptr.
struct ExperimentHolder {
    explicit ExperimentHolder(fs::path root) : store(std::move(root)) {}
    RecordStore store;
    std::unique_ptr<Experiment> experiment;  // destroyed before the store
    Mutex mu;
};

// experiment_options is the checkpoint policy a Python Experiment asks for
// (tag empty: none; remote empty: the store only, reached as `remote` says).
ExperimentOptions experiment_options(std::string checkpoint_tag, std::int64_t every_runs, double every_seconds,
                                     bool catch_signals, std::string remote = {}, LocationOptions remote_options = {}) {
    return {.checkpoint = {.tag = std::move(checkpoint_tag), .every_runs = every_runs, .every_seconds = every_seconds,
                           .catch_signals = catch_signals, .remote = std::move(remote),
                           .remote_options = std::move(remote_options)}};
}

// opened makes a holder for an experiment `make` opens (resume, load,
// fork) with the GIL released.
template <class Make>
std::shared_ptr<ExperimentHolder> opened(const py::object& store, Make make) {
    auto h = std::make_shared<ExperimentHolder>(store_root(store));
    h->experiment = serialized(h->mu, [&] { return make(h->store); });
    return h;
}

struct RunHandle {
    std::shared_ptr<ExperimentHolder> owner;
    Run* run;
};

// BoundRecord is a Record whose body() is the Python object's __call__.
struct StoreBox {
    std::unique_ptr<RecordStore> store;
};

// BodyFailed carries the reason of a Python body's exception through
// Record::launch(), which marks the record failed with it; the binding then
// raises the Python exception itself.
struct BodyFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class BoundRecord : private StoreBox, public Record {
public:
    BoundRecord(fs::path root, std::string kind, nlohmann::json config)
        : StoreBox{std::make_unique<RecordStore>(std::move(root))}, Record(*store, std::move(kind), std::move(config)) {}

    RecordStore& record_store() { return *store; }
    Mutex mu;
    std::optional<py::error_already_set> failure;

protected:
    void body() override {
        py::gil_scoped_acquire gil;
        py::function call = py::get_override(this, "__call__");
        if (!call) return;
        try {
            call();
        } catch (py::error_already_set& e) {
            std::string reason = py::module_::import("sealrun._record").attr("_failure_reason")(e.value()).cast<std::string>();
            failure = std::move(e);
            throw BodyFailed(reason);
        }
    }
};

std::string run_name(const Run& r) { return "run " + std::to_string(r.run_id()); }

py::object parameter_value(const Parameter& p) {
    return std::visit([](const auto& v) -> py::object { return py::cast(v); }, p);
}

// CallOptions of a log_solve / log_sample with OMMX payloads: None for
// each part the library's default.
CallOptions call_options(const py::object& adapter_options, const py::object& diagnostics, const py::object& input_name,
                         const py::object& output_name) {
    CallOptions o;
    if (!adapter_options.is_none()) o.adapter_options = to_json(adapter_options);
    if (!diagnostics.is_none()) o.diagnostics = to_json(diagnostics);
    if (!input_name.is_none()) o.input = record_path(input_name).str();
    if (!output_name.is_none()) o.output = record_path(output_name).str();
    return o;
}

// log_payload converts `value` to T (to_payload) and saves it as `name` by
// `log` on what `owner` gives (a Run or an Experiment and its lock).
template <class T, class Owner, class Log>
void log_payload(const Owner& owner, const py::handle& path, const py::handle& value, const char* operation, Log log) {
    const RecordPath name = record_path(path);
    T payload = to_payload<T>(value, operation, name.str());
    auto [target, mu] = owner;
    serialized(*mu, [&] { (target->*log)(name, payload); });
}

// bind_payload_logs binds log_instance, log_parametric_instance,
// log_solution and log_sample_set on `cls`, whose objects `owner` turns
// into (the Run or Experiment, its lock).
template <class Class, class Access>
void bind_payload_logs(Class& cls, Access owner) {
    using T = typename Class::type;
    using Target = std::remove_pointer_t<decltype(owner(std::declval<T&>()).first)>;
    cls.def("log_instance",
            [owner](T& self, const py::handle& name, const py::handle& value) {
                log_payload<ommx::Instance>(owner(self), name, value, "log_instance", &Target::log_instance);
            },
            py::arg("name"), py::arg("instance"))
        .def("log_parametric_instance",
             [owner](T& self, const py::handle& name, const py::handle& value) {
                 log_payload<ommx::ParametricInstance>(owner(self), name, value, "log_parametric_instance",
                                                       &Target::log_parametric_instance);
             },
             py::arg("name"), py::arg("parametric_instance"))
        .def("log_solution",
             [owner](T& self, const py::handle& name, const py::handle& value) {
                 log_payload<ommx::Solution>(owner(self), name, value, "log_solution", &Target::log_solution);
             },
             py::arg("name"), py::arg("solution"))
        .def("log_sample_set",
             [owner](T& self, const py::handle& name, const py::handle& value) {
                 log_payload<ommx::SampleSet>(owner(self), name, value, "log_sample_set", &Target::log_sample_set);
             },
             py::arg("name"), py::arg("sample_set"));
}

void bind_experiment(py::module_& m) {
    py::class_<ExperimentHolder, std::shared_ptr<ExperimentHolder>> cls(m, "Experiment");
    cls.def(py::init([](const py::object& store, std::string name, std::string checkpoint_tag, std::int64_t every_runs,
                        double every_seconds, bool catch_signals, std::string checkpoint_to, const py::object& plain_http,
                        bool insecure, const py::object& ca_file) {
                 auto h = std::make_shared<ExperimentHolder>(store_root(store));
                 h->experiment = std::make_unique<Experiment>(
                     h->store, std::move(name),
                     experiment_options(std::move(checkpoint_tag), every_runs, every_seconds, catch_signals, std::move(checkpoint_to),
                                        location_options(py::none(), plain_http, insecure, ca_file)));
                 return h;
             }),
             py::arg("store"), py::arg("name"), py::arg("checkpoint_tag") = "", py::arg("every_runs") = 0,
             py::arg("every_seconds") = 0.0, py::arg("catch_signals") = false, py::arg("checkpoint_to") = "",
             py::arg("plain_http") = py::none(), py::arg("insecure") = false, py::arg("ca_file") = py::none())
        .def_static("resume",
                    [](const py::object& store, const std::string& tag, std::int64_t every_runs, double every_seconds,
                       bool catch_signals, std::string checkpoint_to, const py::object& plain_http, bool insecure,
                       const py::object& ca_file) {
                        // The tag (the checkpoint's own, or one in a location) is the library's to work out.
                        auto options = experiment_options({}, every_runs, every_seconds, catch_signals, std::move(checkpoint_to),
                                                          location_options(py::none(), plain_http, insecure, ca_file));
                        return opened(store, [&](RecordStore& s) { return Experiment::resume(s, tag, std::move(options)); });
                    },
                    py::arg("store"), py::arg("tag"), py::arg("every_runs") = 0, py::arg("every_seconds") = 0.0,
                    py::arg("catch_signals") = false, py::arg("checkpoint_to") = "", py::arg("plain_http") = py::none(),
                    py::arg("insecure") = false, py::arg("ca_file") = py::none())
        .def_static("load",
                    [](const py::object& store, const std::string& tag) {
                        return opened(store, [&](RecordStore& s) { return Experiment::load(s, tag); });
                    },
                    py::arg("store"), py::arg("tag"))
        .def_static("fork",
                    [](const py::object& store, const std::string& tag, std::string name) {
                        return opened(store, [&](RecordStore& s) { return Experiment::fork(s, tag, std::move(name)); });
                    },
                    py::arg("store"), py::arg("tag"), py::arg("name"))
        .def_static("rename",
                    [](const py::object& store, const std::string& tag, std::string name, const std::string& new_tag,
                       bool force) {
                        RecordStore s(store_root(store));
                        py::gil_scoped_release release;
                        return Experiment::rename(s, tag, std::move(name), new_tag, SealOptions{.force = force}).digest.str();
                    },
                    py::arg("store"), py::arg("tag"), py::arg("name"), py::arg("new_tag"), py::arg("force"))
        .def_property_readonly("name", [](ExperimentHolder& h) { return h.experiment->name(); })
        .def_property_readonly("store", [](ExperimentHolder& h) { return h.store.root(); })
        .def_property_readonly("kept_run_ids", [](ExperimentHolder& h) { return h.experiment->kept_run_ids(); })
        .def_property_readonly("checkpoint_for",
                               [](ExperimentHolder& h) { return h.experiment->options().checkpoint.tag; })
        .def_property_readonly("checkpoint_error", [](ExperimentHolder& h) -> py::object {
            const auto e = serialized(h.mu, [&] { return h.experiment->remote_error(); });
            return e ? py::object(py::str(e->what())) : py::object(py::none());
        })
        .def_property_readonly("subject", [](ExperimentHolder& h) -> py::object {
            const auto s = h.experiment->subject();
            return s ? py::object(py::str(s->digest.str())) : py::object(py::none());
        })
        .def("run", [](const std::shared_ptr<ExperimentHolder>& h) {
            Run* r = serialized(h->mu, [&] { return &h->experiment->run(); });
            return RunHandle{h, r};
        })
        .def("annotate", [](ExperimentHolder& h, const std::string& key, const std::string& value) {
            serialized(h.mu, [&] { h.experiment->annotate(key, value); });
        })
        .def("checkpoint",
             [](ExperimentHolder& h, const std::string& status, const std::string& reason) -> py::object {
                 auto d = serialized(h.mu, [&] { return h.experiment->checkpoint(status, reason); });
                 return d ? py::object(py::str(d->digest.str())) : py::object(py::none());
             },
             py::arg("status"), py::arg("reason"))
        .def("commit",
             [](ExperimentHolder& h, const std::string& tag, bool compress, bool force) {
                 return serialized(h.mu, [&] {
                     return h.experiment->commit(tag, SealOptions{.compress = compress, .force = force}).digest.str();
                 });
             },
             py::arg("tag"), py::arg("compress"), py::arg("force"));
    bind_files(cls, [](ExperimentHolder& h) { return Files{h.experiment->attachments(), h.mu, h.store}; });
    bind_payload_logs(cls, [](ExperimentHolder& h) { return std::pair<Experiment*, Mutex*>{h.experiment.get(), &h.mu}; });
}

void bind_run(py::module_& m) {
    py::class_<RunHandle> cls(m, "Run");
    bind_files(cls, [](RunHandle& r) { return Files{*r.run, r.owner->mu, r.owner->store}; });
    bind_payload_logs(cls, [](RunHandle& r) { return std::pair<Run*, Mutex*>{r.run, &r.owner->mu}; });
    cls.def_property_readonly("run_id", [](RunHandle& r) { return r.run->run_id(); })
        .def_property_readonly("closed", [](RunHandle& r) { return serialized(r.owner->mu, [&] { return r.run->closed(); }); })
        .def_property_readonly("status", [](RunHandle& r) {
            return serialized(r.owner->mu, [&] { return r.run->closed() ? r.run->run_status() : std::string("running"); });
        })
        .def_property_readonly("parameters", [](RunHandle& r) {
            auto params = serialized(r.owner->mu, [&] { return r.run->parameters(); });
            py::dict out;
            for (const auto& [k, v] : params) out[py::str(k)] = parameter_value(v);
            return out;
        })
        .def("log_parameter", [](RunHandle& r, const std::string& name, const py::handle& value) {
            // The one parameter rule: what parameter_from_json accepts.
            Parameter p = parameter_from_json(to_json(value), name);
            serialized(r.owner->mu, [&] { r.run->log_parameter(name, p); });
        })
        .def("log_solve",
             [](RunHandle& r, std::string input, std::optional<std::string> output, std::string adapter,
                const py::object& adapter_options, std::string status, const py::object& diagnostics) {
                 SolveRecord s{.status = std::move(status), .input = std::move(input), .output = std::move(output),
                               .adapter = std::move(adapter)};
                 if (!adapter_options.is_none()) s.adapter_options = to_json(adapter_options);
                 if (!diagnostics.is_none()) s.diagnostics = to_json(diagnostics);
                 return serialized(r.owner->mu, [&] { return r.run->log_solve(std::move(s)); });
             },
             py::arg("input"), py::arg("output"), py::arg("adapter"), py::arg("adapter_options"), py::arg("status"),
             py::arg("diagnostics"))
        .def("log_sampling",
             [](RunHandle& r, std::string input, std::optional<std::string> output, std::string adapter,
                const py::object& adapter_options, std::string status, const py::object& diagnostics) {
                 SamplingRecord s{.status = std::move(status), .input = std::move(input), .output = std::move(output),
                                  .adapter = std::move(adapter)};
                 if (!adapter_options.is_none()) s.adapter_options = to_json(adapter_options);
                 if (!diagnostics.is_none()) s.diagnostics = to_json(diagnostics);
                 return serialized(r.owner->mu, [&] { return r.run->log_sampling(std::move(s)); });
             },
             py::arg("input"), py::arg("output"), py::arg("adapter"), py::arg("adapter_options"), py::arg("status"),
             py::arg("diagnostics"))
        .def("log_ommx_solve",
             [](RunHandle& r, const py::handle& input, const py::handle& output, std::string adapter,
                const py::object& adapter_options, const py::object& diagnostics, const py::object& input_name,
                const py::object& output_name) {
                 auto options = call_options(adapter_options, diagnostics, input_name, output_name);
                 const auto subject = run_name(*r.run);
                 auto in = to_payload<ommx::Instance>(input, "log_solve input", subject);
                 auto out = to_payload<ommx::Solution>(output, "log_solve output", subject);
                 return serialized(r.owner->mu, [&] { return r.run->log_solve(in, out, std::move(adapter), std::move(options)); });
             },
             py::arg("input"), py::arg("output"), py::arg("adapter"), py::arg("adapter_options"), py::arg("diagnostics"),
             py::arg("input_name"), py::arg("output_name"))
        .def("log_ommx_sample",
             [](RunHandle& r, const py::handle& input, const py::handle& output, std::string adapter,
                const py::object& adapter_options, const py::object& diagnostics, const py::object& input_name,
                const py::object& output_name) {
                 auto options = call_options(adapter_options, diagnostics, input_name, output_name);
                 const auto subject = run_name(*r.run);
                 auto in = to_payload<ommx::Instance>(input, "log_sample input", subject);
                 auto out = to_payload<ommx::SampleSet>(output, "log_sample output", subject);
                 return serialized(r.owner->mu, [&] { return r.run->log_sample(in, out, std::move(adapter), std::move(options)); });
             },
             py::arg("input"), py::arg("output"), py::arg("adapter"), py::arg("adapter_options"), py::arg("diagnostics"),
             py::arg("input_name"), py::arg("output_name"))
        .def("save_trace", [](RunHandle& r, const py::handle& trace) {
            auto t = to_json(trace);
            serialized(r.owner->mu, [&] { r.run->save_trace(t); });
        })
        .def("describe", [](RunHandle& r, std::string kind, const py::handle& config) {
            auto c = to_json(config);
            serialized(r.owner->mu, [&] { r.run->describe(std::move(kind), std::move(c)); });
        })
        .def("finish", [](RunHandle& r) { serialized(r.owner->mu, [&] { r.run->finish(); }); })
        .def("fail", [](RunHandle& r, std::string reason) { serialized(r.owner->mu, [&] { r.run->fail(std::move(reason)); }); })
        .def("interrupt", [](RunHandle& r, std::string reason) {
            serialized(r.owner->mu, [&] { r.run->interrupt(std::move(reason)); });
        })
        .def("__repr__", [](RunHandle& r) { return "<sealrun._core.Run " + run_name(*r.run) + ">"; });
}

void bind_record_class(py::module_& m) {
    py::class_<BoundRecord> cls(m, "Record");
    bind_files(cls, [](BoundRecord& r) { return Files{r, r.mu, r.record_store()}; });
    cls.def(py::init([](const py::object& store, std::string kind, const py::handle& config) {
                 auto c = to_json(config);
                 return new BoundRecord(store_root(store), std::move(kind), std::move(c));
             }),
             py::arg("store"), py::arg("kind"), py::arg("config"))
        .def_property_readonly("kind", [](BoundRecord& r) { return r.kind(); })
        .def_property_readonly("config", [](BoundRecord& r) { return to_python(r.config()); })
        .def_property_readonly("identity", [](BoundRecord& r) { return r.identity(); })
        .def_property_readonly("store", [](BoundRecord& r) { return r.record_store().root(); })
        .def_property_readonly("materialized", [](BoundRecord& r) { return serialized(r.mu, [&] { return r.materialized(); }); })
        .def_property_readonly("status", [](BoundRecord& r) { return serialized(r.mu, [&] { return r.status(); }); })
        .def("materialize", [](BoundRecord& r) { serialized(r.mu, [&] { r.materialize(); }); })
        .def("launch", [](BoundRecord& r) {
            r.failure.reset();
            try {
                serialized(r.mu, [&] { r.launch(); });
            } catch (const BodyFailed&) {
                py::error_already_set e = std::move(*r.failure);
                r.failure.reset();
                throw e;
            }
        })
        .def("cached",
             [](BoundRecord& r, std::optional<bool> value) {
                 return serialized(r.mu, [&] {
                     if (value) r.cached(*value);
                     return r.cached();
                 });
             },
             py::arg("value"))
        .def("files", [](BoundRecord& r) { return serialized(r.mu, [&] { return r.files(); }); });
}

}  // namespace

void init_record(py::module_& m) {
    bind_experiment(m);
    bind_run(m);
    bind_record_class(m);
    m.def("check_tag", [](const std::string& tag) { oci::check_tag(tag); }, py::arg("tag"));
    m.def("is_valid_tag", [](const std::string& tag) { return oci::is_valid_tag(tag); }, py::arg("tag"));
}

}  // namespace sealrun::python

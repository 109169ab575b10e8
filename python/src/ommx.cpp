// OMMX payloads from Python: the native halves of sealrun.Instance,
// ParametricInstance, Solution and SampleSet (python/sealrun/_ommx.py).
//
// Each class holds the library's value (a shared, copy-on-write message).
// Accessors hand out plain Python data (dicts, lists, tuples, enumerator
// names as the library's to_string spells them) that _ommx.py turns into
// its typed objects; builders take the same shapes back. Decoding and
// encoding run with the GIL released.
#include "ommx.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include <sealrun/error.h>

#include "convert.h"

namespace sealrun::python {

namespace {

namespace ox = sealrun::ommx;

// Names is the payload type's name in messages ("Instance", …).
template <class T>
constexpr const char* payload_name = nullptr;
template <>
constexpr const char* payload_name<ox::Instance> = "Instance";
template <>
constexpr const char* payload_name<ox::ParametricInstance> = "ParametricInstance";
template <>
constexpr const char* payload_name<ox::Solution> = "Solution";
template <>
constexpr const char* payload_name<ox::SampleSet> = "SampleSet";

std::string type_of(const py::handle& value) { return py::str(py::type::handle_of(value).attr("__qualname__")); }

// enum_named is the enumerator of E whose to_string is `name`, the inverse
// of the library's one naming rule; Error(invalid_input) otherwise.
template <class E>
E enum_named(const std::string& name, E last, std::string_view what) {
    for (int i = 0; i <= static_cast<int>(last); ++i)
        if (ox::to_string(static_cast<E>(i)) == name) return static_cast<E>(i);
    std::string known;
    for (int i = 0; i <= static_cast<int>(last); ++i)
        known += std::string(i ? ", " : "") + std::string(ox::to_string(static_cast<E>(i)));
    throw Error(Errc::invalid_input, "build OMMX payload", name, "is not a " + std::string(what) + " (" + known + ")");
}

ox::Sense sense_named(const std::string& n) { return enum_named(n, ox::Sense::maximize, "sense"); }
ox::Kind kind_named(const std::string& n) { return enum_named(n, ox::Kind::semi_continuous, "variable kind"); }
ox::Equality equality_named(const std::string& n) {
    return enum_named(n, ox::Equality::less_than_or_equal_to_zero, "constraint equality");
}
ox::Optimality optimality_named(const std::string& n) { return enum_named(n, ox::Optimality::not_optimal, "optimality"); }

py::str name_of(auto value) { return py::str(std::string(ox::to_string(value))); }

py::object optional_object(const auto& value) { return value ? py::cast(*value) : py::none(); }

const char* form_name(ox::Function::Form f) {
    using F = ox::Function::Form;
    switch (f) {
    case F::zero: return "zero";
    case F::constant: return "constant";
    case F::linear: return "linear";
    case F::quadratic: return "quadratic";
    case F::polynomial: return "polynomial";
    }
    return "zero";
}

// --- C++ → Python -----------------------------------------------------------

void put_labels(py::dict& d, const ox::Labels& l) {
    d["name"] = optional_object(l.name);
    d["subscripts"] = py::cast(l.subscripts);
    d["parameters"] = py::cast(l.parameters);
    d["description"] = optional_object(l.description);
}

py::dict function_object(const ox::Function& f) {
    py::list terms;
    for (const auto& t : f.terms) {
        py::tuple ids(t.ids.size());
        for (std::size_t i = 0; i < t.ids.size(); ++i) ids[i] = py::int_(t.ids[i]);
        terms.append(py::make_tuple(std::move(ids), t.coefficient));
    }
    py::dict d;
    d["form"] = form_name(f.form);
    d["terms"] = std::move(terms);
    return d;
}

py::dict variable_object(const ox::DecisionVariable& v) {
    py::dict d;
    d["id"] = v.id;
    d["kind"] = name_of(v.kind);
    d["bound"] = v.bound ? py::object(py::make_tuple(v.bound->lower, v.bound->upper)) : py::object(py::none());
    d["substituted_value"] = optional_object(v.substituted_value);
    put_labels(d, v);
    return d;
}

py::dict constraint_object(const ox::Constraint& c) {
    py::dict d;
    d["id"] = c.id;
    d["equality"] = name_of(c.equality);
    d["function"] = function_object(c.function);
    d["removed_reason"] = optional_object(c.removed_reason);
    put_labels(d, c);
    return d;
}

py::dict parameter_object(const ox::Parameter& p) {
    py::dict d;
    d["id"] = p.id;
    put_labels(d, p);
    return d;
}

py::dict evaluated_object(const ox::EvaluatedConstraint& c) {
    py::dict d;
    d["id"] = c.id;
    d["equality"] = name_of(c.equality);
    d["evaluated_value"] = c.evaluated_value;
    d["dual_variable"] = optional_object(c.dual_variable);
    d["feasible"] = c.feasible;
    d["removed_reason"] = optional_object(c.removed_reason);
    put_labels(d, c);
    return d;
}

py::dict description_object(const ox::Description& x) {
    py::dict d;
    d["name"] = optional_object(x.name);
    d["description"] = optional_object(x.description);
    d["authors"] = py::cast(x.authors);
    d["created_by"] = optional_object(x.created_by);
    d["created"] = optional_object(x.created);
    d["license"] = optional_object(x.license);
    d["dataset"] = optional_object(x.dataset);
    return d;
}

py::dict sample_object(const ox::Sample& s) {
    py::dict d;
    d["id"] = s.id;
    d["objective"] = s.objective;
    d["feasible"] = s.feasible;
    d["state"] = py::cast(s.state);
    return d;
}

template <class V, class F>
py::list list_of(const std::vector<V>& values, F convert) {
    py::list out;
    for (const auto& v : values) out.append(convert(v));
    return out;
}

// --- Python → C++ (the builders) --------------------------------------------

template <class T>
T item(const py::dict& d, const char* key) {
    return d[key].cast<T>();
}

template <class T>
std::optional<T> optional_item(const py::dict& d, const char* key) {
    if (!d.contains(key) || d[key].is_none()) return std::nullopt;
    return d[key].cast<T>();
}

void take_labels(ox::Labels& l, const py::dict& d) {
    l.name = optional_item<std::string>(d, "name");
    if (d.contains("subscripts")) l.subscripts = item<std::vector<std::int64_t>>(d, "subscripts");
    if (d.contains("parameters")) l.parameters = item<std::map<std::string, std::string>>(d, "parameters");
    l.description = optional_item<std::string>(d, "description");
}

ox::Function function_value(const py::dict& d) {
    ox::Function f;
    using F = ox::Function::Form;
    const auto form = item<std::string>(d, "form");
    bool known = false;
    for (auto candidate : {F::zero, F::constant, F::linear, F::quadratic, F::polynomial})
        if (form == form_name(candidate)) f.form = candidate, known = true;
    if (!known)
        throw Error(Errc::invalid_input, "build OMMX payload", form,
                    "is not a function form (zero, constant, linear, quadratic, polynomial)");
    for (auto t : item<py::list>(d, "terms")) {
        auto pair = t.cast<py::tuple>();
        f.terms.push_back(ox::Term{pair[0].cast<std::vector<std::uint64_t>>(), pair[1].cast<double>()});
    }
    return f;
}

ox::DecisionVariable variable_value(const py::dict& d) {
    ox::DecisionVariable v;
    v.id = item<std::uint64_t>(d, "id");
    v.kind = kind_named(item<std::string>(d, "kind"));
    if (auto b = optional_item<std::pair<double, double>>(d, "bound")) v.bound = ox::Bound{b->first, b->second};
    v.substituted_value = optional_item<double>(d, "substituted_value");
    take_labels(v, d);
    return v;
}

ox::Constraint constraint_value(const py::dict& d) {
    ox::Constraint c;
    c.id = item<std::uint64_t>(d, "id");
    c.equality = equality_named(item<std::string>(d, "equality"));
    c.function = function_value(item<py::dict>(d, "function"));
    c.removed_reason = optional_item<std::string>(d, "removed_reason");
    take_labels(c, d);
    return c;
}

ox::EvaluatedConstraint evaluated_value(const py::dict& d) {
    ox::EvaluatedConstraint c;
    c.id = item<std::uint64_t>(d, "id");
    c.equality = equality_named(item<std::string>(d, "equality"));
    c.evaluated_value = item<double>(d, "evaluated_value");
    c.dual_variable = optional_item<double>(d, "dual_variable");
    c.feasible = item<bool>(d, "feasible");
    c.removed_reason = optional_item<std::string>(d, "removed_reason");
    take_labels(c, d);
    return c;
}

ox::Description description_value(const py::dict& d) {
    ox::Description x;
    x.name = optional_item<std::string>(d, "name");
    x.description = optional_item<std::string>(d, "description");
    if (d.contains("authors")) x.authors = item<std::vector<std::string>>(d, "authors");
    x.created_by = optional_item<std::string>(d, "created_by");
    x.created = optional_item<std::string>(d, "created");
    x.license = optional_item<std::string>(d, "license");
    x.dataset = optional_item<std::string>(d, "dataset");
    return x;
}

// --- the classes --------------------------------------------------------------

// bind_payload binds what the four classes share: decode, from_json,
// encode, to_json, version, media_type, type_name.
template <class T>
py::class_<T> bind_payload(py::module_& m, const char* name) {
    py::class_<T> c(m, name, "Native half of a sealrun OMMX payload.");
    c.def_static(
         "decode",
         [](const py::bytes& data, int version) {
             if (version != 1 && version != 2)
                 throw Error(Errc::invalid_input, "decode", payload_name<T>,
                             "version " + std::to_string(version) + " is not an OMMX schema version (1 or 2)");
             // The bytes object is immutable and held by the caller: its
             // buffer is read without the GIL.
             const std::string_view bytes(PyBytes_AS_STRING(data.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr())));
             py::gil_scoped_release unlocked;
             return T::decode(bytes, static_cast<ox::Version>(version));
         },
         py::arg("data"), py::arg("version"))
        .def_static("from_json", [](const py::handle& json) { return T::from_json(to_json(json)); }, py::arg("json"))
        .def("encode",
             [](const T& v) {
                 std::string bytes;
                 {
                     py::gil_scoped_release unlocked;
                     bytes = v.encode();
                 }
                 return bytes_object(bytes);
             })
        .def("to_json",
             [](const T& v) {
                 nlohmann::json j;
                 {
                     py::gil_scoped_release unlocked;
                     j = v.to_json();
                 }
                 return to_python(j);
             })
        .def_property_readonly("version", [](const T& v) { return static_cast<int>(v.version()); })
        .def_property_readonly("media_type", [](const T& v) { return std::string(v.media_type()); })
        .def_property_readonly("type_name", [](const T& v) { return v.type_name(); });
    return c;
}

void bind_instance(py::module_& m) {
    auto c = bind_payload<ox::Instance>(m, "OmmxInstance");
    c.def("sense", [](const ox::Instance& v) { return name_of(v.sense()); })
        .def("decision_variables", [](const ox::Instance& v) { return list_of(v.decision_variables(), variable_object); })
        .def("objective", [](const ox::Instance& v) { return function_object(v.objective()); })
        .def("constraints", [](const ox::Instance& v) { return list_of(v.constraints(), constraint_object); })
        .def("removed_constraints", [](const ox::Instance& v) { return list_of(v.removed_constraints(), constraint_object); })
        .def("description", [](const ox::Instance& v) { return description_object(v.description()); })
        .def("parameters", [](const ox::Instance& v) { return v.parameters(); })
        .def("annotations", [](const ox::Instance& v) { return v.annotations(); })
        .def_static(
            "build",
            [](const std::string& sense, const py::list& variables, const py::object& objective, const py::list& constraints,
               const py::object& description) {
                ox::Instance v;
                v.set_sense(sense_named(sense));
                for (auto d : variables) v.add_decision_variable(variable_value(d.cast<py::dict>()));
                if (!objective.is_none()) v.set_objective(function_value(objective.cast<py::dict>()));
                for (auto d : constraints) v.add_constraint(constraint_value(d.cast<py::dict>()));
                if (!description.is_none()) v.set_description(description_value(description.cast<py::dict>()));
                return v;
            },
            py::arg("sense"), py::arg("decision_variables"), py::arg("objective"), py::arg("constraints"),
            py::arg("description"));
}

void bind_parametric_instance(py::module_& m) {
    using P = ox::ParametricInstance;
    auto c = bind_payload<P>(m, "OmmxParametricInstance");
    c.def("sense", [](const P& v) { return name_of(v.sense()); })
        .def("decision_variables", [](const P& v) { return list_of(v.decision_variables(), variable_object); })
        .def("parameters", [](const P& v) { return list_of(v.parameters(), parameter_object); })
        .def("objective", [](const P& v) { return function_object(v.objective()); })
        .def("constraints", [](const P& v) { return list_of(v.constraints(), constraint_object); })
        .def("description", [](const P& v) { return description_object(v.description()); });
}

void bind_solution(py::module_& m) {
    using S = ox::Solution;
    auto c = bind_payload<S>(m, "OmmxSolution");
    c.def("objective", [](const S& v) { return v.objective(); })
        .def("feasible", [](const S& v) { return v.feasible(); })
        .def("feasible_relaxed", [](const S& v) { return v.feasible_relaxed(); })
        .def("optimality", [](const S& v) { return name_of(v.optimality()); })
        .def("relaxation", [](const S& v) { return name_of(v.relaxation()); })
        .def("sense", [](const S& v) { return name_of(v.sense()); })
        .def("state", [](const S& v) { return v.state(); })
        .def("decision_variables", [](const S& v) { return list_of(v.decision_variables(), variable_object); })
        .def("evaluated_constraints", [](const S& v) { return list_of(v.evaluated_constraints(), evaluated_object); })
        .def_static(
            "build",
            [](double objective, bool feasible, const std::string& optimality, const std::string& sense,
               const ox::State& state, const py::list& constraints) {
                S v;
                v.set_objective(objective);
                v.set_feasible(feasible);
                v.set_optimality(optimality_named(optimality));
                v.set_sense(sense_named(sense));
                v.set_state(state);
                for (auto d : constraints) v.add_evaluated_constraint(evaluated_value(d.cast<py::dict>()));
                return v;
            },
            py::arg("objective"), py::arg("feasible"), py::arg("optimality"), py::arg("sense"), py::arg("state"),
            py::arg("evaluated_constraints"));
}

void bind_sample_set(py::module_& m) {
    using S = ox::SampleSet;
    auto c = bind_payload<S>(m, "OmmxSampleSet");
    c.def("sense", [](const S& v) { return name_of(v.sense()); })
        .def("sample_ids", [](const S& v) { return v.sample_ids(); })
        .def("objectives", [](const S& v) { return v.objectives(); })
        .def("feasible", [](const S& v) { return v.feasible(); })
        .def("sample", [](const S& v, std::uint64_t id) { return sample_object(v.sample(id)); }, py::arg("sample_id"))
        .def("best_feasible",
             [](const S& v) -> py::object {
                 auto s = v.best_feasible();
                 return s ? py::object(sample_object(*s)) : py::object(py::none());
             })
        .def("decision_variables", [](const S& v) { return list_of(v.decision_variables(), variable_object); })
        .def_static(
            "build",
            [](const std::string& sense, const py::list& samples) {
                S v;
                v.set_sense(sense_named(sense));
                for (auto item : samples) {
                    auto d = item.cast<py::dict>();
                    v.add_sample(ox::Sample{.id = d["id"].cast<std::uint64_t>(),
                                            .objective = d["objective"].cast<double>(),
                                            .feasible = d["feasible"].cast<bool>(),
                                            .state = d["state"].cast<ox::State>()});
                }
                return v;
            },
            py::arg("sense"), py::arg("samples"));
}

// is_payload_class reports whether `value`'s class is named like one of the
// four OMMX payload types (sealrun's, its native half's, or OMMX's own).
std::optional<std::string> payload_class(const py::handle& value) {
    std::string name = py::str(py::type::handle_of(value).attr("__name__"));
    if (name.rfind("Ommx", 0) == 0) name.erase(0, 4);
    for (const char* known : {"Instance", "ParametricInstance", "Solution", "SampleSet"})
        if (name == known) return name;
    return std::nullopt;
}

}  // namespace

template <class T>
T to_payload(const py::handle& value, std::string_view operation, const std::string& subject) {
    const std::string wanted = payload_name<T>;
    auto refuse = [&](const std::string& what) {
        throw Error(Errc::invalid_input, std::string(operation), subject,
                    "takes an OMMX " + wanted + " (sealrun." + wanted + ", ommx.v1." + wanted +
                        " or the protobuf bytes of one), not " + what);
    };
    if (py::isinstance<T>(value)) return value.cast<T>();
    if (py::hasattr(value, "_native") && py::isinstance<T>(value.attr("_native"))) return value.attr("_native").cast<T>();
    if (auto other = payload_class(value); other && *other != wanted) refuse("a " + type_of(value));
    std::optional<std::string> bytes;
    if (py::isinstance<py::bytes>(value)) {
        bytes = value.cast<std::string>();
    } else if (PyByteArray_Check(value.ptr()) || PyMemoryView_Check(value.ptr())) {
        bytes = py::bytes(py::reinterpret_borrow<py::object>(value)).cast<std::string>();
    } else if (!py::isinstance<py::int_>(value)) {  // int.to_bytes() is no message
        for (const char* method : {"to_bytes", "to_v1_bytes"}) {
            if (!py::hasattr(value, method)) continue;
            py::object out = value.attr(method)();
            if (!py::isinstance<py::bytes>(out))
                refuse("a " + type_of(value) + " whose " + method + "() returned a " + type_of(out));
            bytes = out.cast<std::string>();
            break;
        }
    }
    if (!bytes) refuse("a " + type_of(value));
    py::gil_scoped_release unlocked;
    try {
        return T::decode(*bytes, ox::Version::v1);
    } catch (const Error& e) {
        if (e.code() != Errc::invalid_input) throw;
        throw Error(Errc::invalid_input, std::string(operation), subject, "not an ommx.v1." + wanted + ": " + e.reason());
    }
}

template ox::Instance to_payload<ox::Instance>(const py::handle&, std::string_view, const std::string&);
template ox::ParametricInstance to_payload<ox::ParametricInstance>(const py::handle&, std::string_view, const std::string&);
template ox::Solution to_payload<ox::Solution>(const py::handle&, std::string_view, const std::string&);
template ox::SampleSet to_payload<ox::SampleSet>(const py::handle&, std::string_view, const std::string&);

void init_ommx(py::module_& m) {
    bind_instance(m);
    bind_parametric_instance(m);
    bind_solution(m);
    bind_sample_set(m);
}

}  // namespace sealrun::python

// sealrun.contribute and sealrun.collect: the CLI's `contribute` and
// `collect` over the library's locations (sealrun/experiment/collect.h),
// with the GIL released while they run.
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include <sealrun/error.h>
#include <sealrun/experiment/collect.h>
#include <sealrun/location/location.h>

#include "module.h"

namespace sealrun::python {

namespace {

// open_repository opens `text`, a location without a tag (contribute and
// collect choose the tags), for writing.
Location open_repository(const std::string& text, const LocationOptions& options, const char* operation) {
    if (!parse_location(text).reference.empty())
        throw Error(Errc::invalid_input, operation, text, "takes a repository without a tag or digest");
    return open_location(text, options, true);
}

py::list contribute_location(const std::string& source, const std::string& destination, const std::string& worker,
                             const py::object& store, const py::object& plain_http, bool insecure,
                             const py::object& ca_file) {
    const auto options = location_options(store, plain_http, insecure, ca_file);
    std::vector<Contribution> pushed;
    {
        py::gil_scoped_release release;
        if (parse_location(source).reference.empty())
            throw Error(Errc::invalid_input, "contribute", source, "names no tag or digest of an experiment");
        auto src = open_location(source, options, false);
        auto dst = open_repository(destination, options, "contribute");
        pushed = contribute(*src.target, src.reference, dst.writable(), worker);
        dst.commit();
    }
    py::list out;
    for (const auto& c : pushed) {
        py::dict d;
        d["tag"] = c.tag;
        d["run_id"] = c.local_run_id;
        d["digest"] = c.manifest.digest.str();
        out.append(d);
    }
    return out;
}

py::dict collect_location(const std::string& destination, const std::string& experiment, const std::string& tag,
                          const std::vector<std::string>& summary, bool force, const py::object& store,
                          const py::object& plain_http, bool insecure, const py::object& ca_file) {
    const auto options = location_options(store, plain_http, insecure, ca_file);
    CollectReport done;
    {
        py::gil_scoped_release release;
        auto dst = open_repository(destination, options, "collect");
        done = collect(dst.writable(), experiment, tag, {.summary_values = summary, .force = force});
        dst.commit();
    }
    py::list runs, skipped;
    for (const auto& r : done.runs) {
        py::dict d;
        d["run_id"] = r.run_id;
        d["worker"] = r.worker;
        d["local_run_id"] = r.local_run_id;
        d["status"] = r.status;
        d["digest"] = r.manifest.digest.str();
        d["added"] = r.added;
        d["rewritten"] = r.rewritten;
        runs.append(d);
    }
    for (const auto& s : done.skipped) {
        py::dict d;
        d["tag"] = s.tag;
        d["reason"] = s.reason;
        skipped.append(d);
    }
    py::dict r;
    r["destination"] = destination;
    r["tag"] = tag;
    r["digest"] = done.index.digest.str();
    r["runs"] = runs;
    r["added"] = done.added;
    r["kept"] = done.kept;
    r["contributions"] = done.contributions;
    r["skipped"] = skipped;
    return r;
}

}  // namespace

void init_collect(py::module_& m) {
    m.def("contribute", &contribute_location, py::arg("source"), py::arg("destination"), py::arg("worker"),
          py::arg("store"), py::arg("plain_http"), py::arg("insecure"), py::arg("ca_file"),
          "sealrun::contribute (sealrun contribute): returns a list of dicts, one per run pushed.");
    m.def("collect", &collect_location, py::arg("destination"), py::arg("experiment"), py::arg("tag"),
          py::arg("summary"), py::arg("force"), py::arg("store"), py::arg("plain_http"), py::arg("insecure"),
          py::arg("ca_file"), "sealrun::collect (sealrun collect): returns a dict of what was collected.");
    m.def("contribution_tag", &contribution_tag, py::arg("experiment"), py::arg("worker"), py::arg("local_run_id"),
          "sealrun::contribution_tag.");
}

}  // namespace sealrun::python

// sealrun.copy / push / pull and sealrun.validate: the CLI's `copy` and
// `validate` over the library's locations (sealrun::transfer,
// sealrun::open_location, sealrun::validate), with the GIL released while
// they run.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include <sealrun/error.h>
#include <sealrun/experiment/convert.h>
#include <sealrun/location/location.h>
#include <sealrun/oci/tag.h>
#include <sealrun/validate/validate.h>

#include "module.h"

namespace sealrun::python {

namespace {

// Progress forwards copy()'s hooks to an optional Python callable and
// counts what moved (as `sealrun copy --json` does). copy() calls the hooks
// one at a time from its worker threads, without the GIL: a call takes it.
// An exception the callable raises is kept and stops the copy (the hook
// throws); copy_location re-raises it once the GIL is back.
class Progress {
public:
    explicit Progress(py::object callback) : callback_(std::move(callback)) {}

    std::size_t blobs_copied = 0;
    std::size_t blobs_skipped = 0;
    std::uint64_t bytes_copied = 0;

    content::CopyOptions options() {
        content::CopyOptions o;
        o.on_copied = [this](const oci::Descriptor& d) {
            ++blobs_copied;
            bytes_copied += static_cast<std::uint64_t>(std::max<std::int64_t>(d.size, 0));
            report("copied", d, static_cast<std::uint64_t>(std::max<std::int64_t>(d.size, 0)));
        };
        o.on_skipped = [this](const oci::Descriptor& d) {
            ++blobs_skipped;
            report("skipped", d, 0);
        };
        if (!callback_.is_none())
            o.on_progress = [this](const oci::Descriptor& d, std::uint64_t n) { report("progress", d, n); };
        return o;
    }

    // rethrow raises what the callable raised, if it did (GIL held).
    void rethrow() {
        if (!error_) return;
        error_->restore();
        error_.reset();
        throw py::error_already_set();
    }

private:
    void report(const char* event, const oci::Descriptor& d, std::uint64_t done) {
        if (callback_.is_none()) return;
        py::gil_scoped_acquire gil;
        if (error_) throw Error(Errc::io, "copy", d.digest.str(), "stopped by the progress callback");
        try {
            callback_(event, d.digest.str(), d.media_type, d.size, done);
        } catch (py::error_already_set& e) {
            error_.emplace(std::move(e));
            throw Error(Errc::io, "copy", d.digest.str(), "stopped by the progress callback");
        }
    }

    py::object callback_;
    std::optional<py::error_already_set> error_;
};

py::dict copy_location(const std::string& source, const std::string& destination, const py::object& store,
                       const py::object& plain_http, bool insecure, const py::object& ca_file, bool force,
                       const py::object& progress) {
    const auto options = location_options(store, plain_http, insecure, ca_file);
    Progress moved(progress);
    std::optional<Transferred> done;
    try {
        py::gil_scoped_release release;
        auto copy_options = moved.options();
        done = transfer(source, destination, options, std::move(copy_options), force);
    } catch (const Error&) {
        moved.rethrow();
        throw;
    }
    py::dict r;
    r["source"] = source;
    r["destination"] = destination.empty() ? done->tag : destination;
    r["tag"] = done->tag;
    r["chosen_tag"] = done->chosen_tag;
    r["digest"] = done->root.digest.str();
    r["media_type"] = done->root.media_type;
    r["size"] = done->root.size;
    r["blobs_copied"] = moved.blobs_copied;
    r["blobs_skipped"] = moved.blobs_skipped;
    r["bytes_copied"] = moved.bytes_copied;
    return r;
}

ValidationReport validate_location(const std::string& location, bool strict, const std::vector<std::string>& codec_allow,
                                   const py::object& store, const py::object& plain_http, bool insecure,
                                   const py::object& ca_file) {
    const auto options = location_options(store, plain_http, insecure, ca_file);
    py::gil_scoped_release release;
    auto loc = open_location(location, options, false);
    ValidationOptions o;
    o.strict = strict;
    o.codec_allow = codec_allow;
    auto report = validate(*loc.target, loc.reference, o);
    check_lone_run(report, *loc.target, loc.reference, strict);  // as `sealrun validate`
    return report;
}

// convert_location is `sealrun convert SRC DST`: the OMMX experiment SRC
// sealed as a sealrun experiment at DST (tagged as DST names).
py::dict convert_location(const std::string& source, const std::string& destination, const std::string& name,
                          bool compress, bool force, const py::object& store, const py::object& plain_http, bool insecure,
                          const py::object& ca_file) {
    const auto options = location_options(store, plain_http, insecure, ca_file);
    Converted done;
    std::string tag;
    {
        py::gil_scoped_release release;
        if (parse_location(source).reference.empty())
            throw Error(Errc::invalid_input, "convert", source, "names no tag or digest of an OMMX experiment");
        const auto dst_spec = parse_location(destination);
        if (dst_spec.reference.empty() || oci::is_digest_reference(dst_spec.reference))
            throw Error(Errc::invalid_input, "convert", destination,
                        "names no tag (sealrun names what it seals by tag: TAG, oci:DIR:TAG, …)");
        auto src = open_location(source, options, false);
        auto dst = open_location(destination, options, true, force);
        ConvertOptions o;
        o.name = name;
        o.compress = compress;
        o.force = force;
        done = convert_experiment(*src.target, src.reference, dst.writable(), dst.reference, o);
        dst.commit();
        tag = dst.reference;
    }
    py::dict r;
    r["source"] = source;
    r["destination"] = destination;
    r["tag"] = tag;
    r["digest"] = done.root.digest.str();
    r["name"] = done.name;
    r["runs"] = done.runs;
    r["attachments"] = done.attachments;
    r["kept"] = done.kept;
    return r;
}

}  // namespace

void init_transfer(py::module_& m) {
    m.def("convert", &convert_location, py::arg("source"), py::arg("destination"), py::arg("name"), py::arg("compress"),
          py::arg("force"), py::arg("store"), py::arg("plain_http"), py::arg("insecure"), py::arg("ca_file"),
          "sealrun::convert_experiment (sealrun convert): returns a dict of what was converted.");
    m.def("copy", &copy_location, py::arg("source"), py::arg("destination"), py::arg("store"), py::arg("plain_http"),
          py::arg("insecure"), py::arg("ca_file"), py::arg("force"), py::arg("progress"),
          "sealrun::transfer (sealrun copy): returns a dict of what was copied.");

    py::class_<CheckResult>(m, "CheckResult", "One check of a validation report.")
        .def_readonly("name", &CheckResult::name)
        .def_readonly("subject", &CheckResult::subject)
        .def_readonly("passed", &CheckResult::passed)
        .def_readonly("warning", &CheckResult::warning)
        .def_readonly("message", &CheckResult::message);

    py::class_<ValidationReport>(m, "ValidationReport", "Every check sealrun::validate ran, in order.")
        .def_readonly("reference", &ValidationReport::reference)
        .def_readonly("kind", &ValidationReport::kind)
        .def_readonly("digest", &ValidationReport::digest)
        .def_readonly("checks", &ValidationReport::checks)
        .def("ok", &ValidationReport::ok)
        .def("to_text", [](const ValidationReport& r, bool verbose) { return to_text(r, verbose); },
             py::arg("verbose") = false)
        .def("to_json", [](const ValidationReport& r) { return to_json(r); })
        .def("to_junit", [](const ValidationReport& r) { return to_junit(r); });

    m.def("validate", &validate_location, py::arg("location"), py::arg("strict"), py::arg("codec_allow"),
          py::arg("store"), py::arg("plain_http"), py::arg("insecure"), py::arg("ca_file"),
          "sealrun::validate of a location (sealrun validate).");
}

}  // namespace sealrun::python

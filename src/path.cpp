#include "sealrun/path.h"

#include "sealrun/error.h"
#include "util/fs.h"

namespace sealrun {

namespace {
[[noreturn]] void refuse(const std::string& name, const std::string& why) {
    throw Error(Errc::invalid_input, "check path", "\"" + name.substr(0, 300) + "\"", why);
}
}  // namespace

std::string safe_relative_path(std::string_view name) {
    const std::string shown(name);
    if (name.empty()) refuse(shown, "empty name");
    if (name.front() == '/') refuse(shown, "absolute names are refused");
    if (name.find('\0') != std::string_view::npos) refuse(shown, "NUL in name");
    std::string out;
    for (std::size_t s = 0; s <= name.size();) {
        auto e = name.find('/', s);
        if (e == std::string_view::npos) e = name.size();
        const auto part = name.substr(s, e - s);
        if (part == "..") refuse(shown, "'..' components are refused");
        if (!part.empty() && part != ".") {
            if (!out.empty()) out += '/';
            out += part;
        }
        s = e + 1;
    }
    if (out.empty()) refuse(shown, "names no file");
    return out;
}

static_assert(util::temp_prefix.starts_with(reserved_prefix), "a record's temporary files carry a reserved name");

std::string reserved_record_name(std::string_view name) {
    if (name == "model.json") return "model.json is the record's own metadata";
    for (std::size_t s = 0; s <= name.size();) {
        auto e = name.find('/', s);
        if (e == std::string_view::npos) e = name.size();
        if (name.substr(s, e - s).starts_with(reserved_prefix))
            return "names with a component starting with \"" + std::string(reserved_prefix) +
                   "\" are reserved for sealrun's own files (temporary files, the trace); rename it";
        s = e + 1;
    }
    return {};
}

}  // namespace sealrun

// Pieces the commands share (see output.h).
#include <sealrun/error.h>
#include <sealrun/printable.h>

#include "cli/output.h"

namespace sealrun::cli {

void need(const Args& a, std::size_t min, std::size_t max, const char* usage) {
    if (a.positional.size() < min || a.positional.size() > max) throw UsageError(std::string("usage: ") + usage);
}

Parameter to_parameter(const nlohmann::json& v, const std::string& where) { return parameter_from_json(v, where); }

content::CopyOptions copy_options(Progress& p, const Args& a) {
    return content::CopyOptions{
        .force = a.has("--force"),
        .on_copied = [&p](const oci::Descriptor&) { p.blob_done(); },
        .on_progress = [&p](const oci::Descriptor& d, std::uint64_t n) { p.bytes(n, d.digest.str()); },
    };
}

std::uint64_t attachment_bytes(const SealedRun& r) {
    std::uint64_t total = 0;
    for (const auto& n : r.attachment_names()) total += static_cast<std::uint64_t>(r.attachments().descriptor(n).size);
    return total;
}

std::string json_text(const nlohmann::json& j) {
    return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string param_text(const std::map<std::string, Parameter>& params) {
    std::string s;
    for (const auto& [k, v] : params) {
        if (!s.empty()) s += " ";
        const auto j = parameter_to_json(v);
        s += printable(k) + "=" + printable(j.is_string() ? j.get<std::string>() : json_text(j));
    }
    return s;
}

}  // namespace sealrun::cli

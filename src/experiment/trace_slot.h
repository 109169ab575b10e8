#pragma once
// A run's trace slot (docs/FORMAT.md §4.4): where the record keeps the trace
// and the one rule SealedRun::open and validate() apply to the run config's
// "trace" member.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sealrun/error.h"
#include "sealrun/experiment/format.h"
#include "sealrun/oci/descriptor.h"

namespace sealrun::detail {

// record_trace_file is the name of a run's trace inside its record
// directory: a reserved name (path.h), so never an attachment.
inline constexpr std::string_view record_trace_file = ".sealrun-trace.json";

// TraceSlot says where a run's trace is: its own layer (version 2 on) or,
// in a version-1 run, the attachment the config names. Both empty: none.
struct TraceSlot {
    std::optional<std::size_t> layer;
    std::optional<std::string> attachment;
};

// trace_slot reads the "trace" member of a run config of `version` against
// the manifest's `layers` and attachments `table`. Version 1: null, absent,
// or the name of an attachment. Version 2: null or absent, and then no layer
// has format::trace_type; or the index of the one layer of format::trace_type,
// which no attachment names. Throws Error(invalid_input) with the subject
// "config.trace" saying what is wrong.
inline TraceSlot trace_slot(const nlohmann::json& config, std::uint64_t version,
                            const std::vector<oci::Descriptor>& layers, const std::map<std::string, std::size_t>& table) {
    const auto bad = [](const std::string& why) -> Error { return Error(Errc::invalid_input, "parse", "config.trace", why); };
    const auto it = config.find("trace");
    const bool none = it == config.end() || it->is_null();
    if (version < 2) {
        if (none) return {};
        if (!it->is_string() || !table.contains(it->get<std::string>()))
            throw bad("must name an attachment or be null (config version 1)");
        return {.attachment = it->get<std::string>()};
    }
    std::vector<std::size_t> typed;
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (layers[i].media_type == format::trace_type) typed.push_back(i);
    if (none) {
        if (!typed.empty())
            throw bad("is null but layers[" + std::to_string(typed.front()) + "] is a trace (" +
                      std::string(format::trace_type) + ")");
        return {};
    }
    if (it->is_string())
        throw bad("names attachment \"" + it->get<std::string>().substr(0, 200) +
                  "\": from config version 2 on the trace is a layer of its own, given by its index");
    if (!it->is_number_unsigned()) throw bad("must be a layer index (a non-negative integer) or null");
    const auto i = it->get<std::uint64_t>();
    if (i >= layers.size())
        throw bad("layer index " + std::to_string(i) + " is out of range (" + std::to_string(layers.size()) + " layers)");
    if (layers[i].media_type != format::trace_type)
        throw bad("layers[" + std::to_string(i) + "] is " + layers[i].media_type + ", not " + std::string(format::trace_type));
    for (const auto& [name, index] : table)
        if (index == i) throw bad("layers[" + std::to_string(i) + "] is also attachment \"" + name.substr(0, 200) + "\"");
    if (typed.size() > 1) throw bad("the run has " + std::to_string(typed.size()) + " trace layers; at most one is allowed");
    return {.layer = static_cast<std::size_t>(i)};
}

}  // namespace sealrun::detail

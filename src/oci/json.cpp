#include "sealrun/oci/json.h"

#include <set>
#include <vector>

#include "sealrun/error.h"

namespace sealrun::oci {

std::string canonical_json(const nlohmann::json& value) {
    try {
        // nlohmann's default object type is a std::map, so keys come out
        // sorted bytewise; dump() without indent adds no whitespace.
        return value.dump();
    } catch (const nlohmann::json::exception& e) {
        throw Error(Errc::invalid_input, "write json", "", e.what());
    }
}

namespace {

// Tracks the keys of every open object to reject duplicates, which
// nlohmann would otherwise resolve silently (last one wins).
struct DuplicateKeyGuard {
    struct Frame {
        std::set<std::string> keys;
        std::string path;
        bool is_object;
        std::size_t next_index = 0;
    };
    std::vector<Frame> stack;
    std::string pending_key;
    std::string duplicate_path;

    std::string child_path() {
        if (stack.empty()) return "";
        Frame& top = stack.back();
        if (top.is_object) return top.path.empty() ? pending_key : top.path + "." + pending_key;
        return top.path + "[" + std::to_string(top.next_index++) + "]";
    }

    bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using E = nlohmann::json::parse_event_t;
        switch (event) {
        case E::object_start:
            stack.push_back({{}, child_path(), true});
            break;
        case E::array_start:
            stack.push_back({{}, child_path(), false});
            break;
        case E::object_end:
        case E::array_end:
            if (!stack.empty()) stack.pop_back();
            break;
        case E::key: {
            pending_key = parsed.get<std::string>();
            if (!stack.back().keys.insert(pending_key).second && duplicate_path.empty()) {
                const auto& parent = stack.back().path;
                duplicate_path = parent.empty() ? pending_key : parent + "." + pending_key;
            }
            break;
        }
        case E::value:
            if (!stack.empty() && !stack.back().is_object) ++stack.back().next_index;
            break;
        }
        return true;
    }
};

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, std::string_view what, std::size_t max_size) {
    if (text.size() > max_size)
        throw Error(Errc::too_large, "parse", std::string(what),
                    std::to_string(text.size()) + " bytes exceed the limit of " + std::to_string(max_size));
    DuplicateKeyGuard guard;
    nlohmann::json result;
    try {
        result = nlohmann::json::parse(
            text.begin(), text.end(),
            [&guard](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& j) { return guard(depth, ev, j); });
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(Errc::invalid_input, "parse", std::string(what), std::string("malformed JSON: ") + e.what());
    }
    if (!guard.duplicate_path.empty())
        throw Error(Errc::invalid_input, "parse", std::string(what), guard.duplicate_path + ": duplicate key");
    return result;
}

}  // namespace sealrun::oci

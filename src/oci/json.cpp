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
// nlohmann would otherwise resolve silently (last one wins), and refuses
// nesting past max_json_depth. Each frame holds only its own name in its
// parent, so memory stays linear in the input; the full path is built only
// for a duplicate.
struct DuplicateKeyGuard {
    struct Frame {
        std::set<std::string> keys;
        std::string name;  // key in the parent object, or index in the parent array
        bool is_object;
        bool is_element = false;  // `name` is an array index
        std::size_t next_index = 0;
    };
    std::string_view what;
    std::vector<Frame> stack;
    std::string pending_key;
    std::string duplicate_path;

    void open(bool is_object) {
        if (stack.size() >= max_json_depth)
            throw Error(Errc::invalid_input, "parse", std::string(what),
                        "JSON nests deeper than " + std::to_string(max_json_depth) + " levels");
        Frame f{{}, {}, is_object};
        if (!stack.empty()) {
            Frame& top = stack.back();
            f.is_element = !top.is_object;
            f.name = top.is_object ? pending_key : std::to_string(top.next_index++);
        }
        stack.push_back(std::move(f));
    }

    std::string path_to(const std::string& key) const {
        std::string path;
        for (std::size_t i = 1; i < stack.size(); ++i) {
            if (stack[i].is_element) {
                path += "[" + stack[i].name + "]";
            } else {
                if (!path.empty()) path += '.';
                path += stack[i].name;
            }
        }
        return path.empty() ? key : path + "." + key;
    }

    bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using E = nlohmann::json::parse_event_t;
        switch (event) {
        case E::object_start:
            open(true);
            break;
        case E::array_start:
            open(false);
            break;
        case E::object_end:
        case E::array_end:
            if (!stack.empty()) stack.pop_back();
            break;
        case E::key: {
            pending_key = parsed.get<std::string>();
            if (!stack.back().keys.insert(pending_key).second && duplicate_path.empty())
                duplicate_path = path_to(pending_key);
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
    DuplicateKeyGuard guard{.what = what};
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

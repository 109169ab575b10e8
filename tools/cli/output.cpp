// Pieces the commands share (see output.h).
#include <algorithm>
#include <charconv>
#include <set>

#include <sealrun/error.h>
#include <sealrun/oci/json.h>
#include <sealrun/oci/manifest.h>
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
        .on_skipped = [&p](const oci::Descriptor& d) { p.blob_skipped(d.digest.str()); },
        .on_copied = [&p](const oci::Descriptor& d) { p.blob_done(d.digest.str()); },
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

JsonArrayPrinter::JsonArrayPrinter(std::ostream& out, const nlohmann::json& object, const std::string& key) : out_(out) {
    // An object's members are in key order: those before `key`, the array, those after.
    auto head = nlohmann::json::object(), tail = nlohmann::json::object();
    for (const auto& [k, v] : object.items()) (k < key ? head : tail)[k] = v;
    auto text = json_text(head);
    text.pop_back();
    out_ << text << (head.empty() ? "" : ",") << json_text(key) << ":[";
    text = json_text(tail);
    tail_ = tail.empty() ? "]}" : "]," + text.substr(1);
}

void JsonArrayPrinter::element(const nlohmann::json& e) {
    out_ << (first_ ? "" : ",") << json_text(e);
    first_ = false;
}

void JsonArrayPrinter::finish() { out_ << tail_ << "\n"; }

std::string param_text(const std::map<std::string, Parameter>& params) {
    std::string s;
    for (const auto& [k, v] : params) {
        if (!s.empty()) s += " ";
        const auto j = parameter_to_json(v);
        s += printable(k) + "=" + printable(j.is_string() ? j.get<std::string>() : json_text(j));
    }
    return s;
}

std::uint64_t graph_bytes(content::ReadOnlyTarget& target, const oci::Descriptor& root) {
    std::set<std::string> seen{root.digest.str()};
    std::uint64_t total = static_cast<std::uint64_t>(std::max<std::int64_t>(root.size, 0));
    std::vector<std::pair<oci::Descriptor, int>> todo{{root, 0}};
    while (!todo.empty()) {
        auto [node, depth] = std::move(todo.back());
        todo.pop_back();
        if (depth >= oci::max_graph_depth ||
            !oci::is_node_type(node.media_type))
            continue;
        for (auto& child : oci::successors(node, content::read_all(target, node, oci::max_manifest_size))) {
            if (!seen.insert(child.digest.str()).second) continue;
            total += static_cast<std::uint64_t>(std::max<std::int64_t>(child.size, 0));
            todo.emplace_back(std::move(child), depth + 1);
        }
    }
    return total;
}

std::int64_t parse_run_id(const std::string& text) {
    std::int64_t id = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id < 0)
        throw UsageError("--run takes a run id, a non-negative integer, not \"" + text + "\"");
    return id;
}

}  // namespace sealrun::cli

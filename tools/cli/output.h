#pragma once
// Pieces the commands share: argument checks, copy progress, and rendering
// of data for a terminal or as JSON.
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include <sealrun/content/copy.h>
#include <sealrun/records/record.h>
#include <sealrun/experiment/sealed.h>

#include "cli/cli.h"

namespace sealrun::cli {

// need throws UsageError("usage: …") unless `a` has min..max positionals.
void need(const Args& a, std::size_t min, std::size_t max, const char* usage);

// to_parameter converts a model.json parameter value.
Parameter to_parameter(const nlohmann::json& v, const std::string& where);

// copy_options reports progress to `p` and applies --force.
content::CopyOptions copy_options(Progress& p, const Args& a);

// attachment_bytes is the total size of a run's attachments.
std::uint64_t attachment_bytes(const SealedRun& r);

// json_text renders `j` for a terminal: ASCII only (so no raw control or
// bidirectional character), invalid UTF-8 replaced instead of thrown on.
std::string json_text(const nlohmann::json& j);

// JsonArrayPrinter prints `object` as json_text() would with its member
// `key` an array, whose elements are printed one at a time as they come
// (element()), so a listing of 100,000 runs is never one document in
// memory; finish() closes it and ends the line.
class JsonArrayPrinter {
public:
    JsonArrayPrinter(std::ostream& out, const nlohmann::json& object, const std::string& key);
    void element(const nlohmann::json& e);
    void finish();

private:
    std::ostream& out_;
    std::string tail_;
    bool first_ = true;
};

// param_text renders parameters as escaped key=value pairs.
std::string param_text(const std::map<std::string, Parameter>& params);

// graph_bytes is the total size of the distinct blobs reachable from `root`,
// root included: every manifest and index is read (verified, at most
// oci::max_manifest_size) down to oci::max_graph_depth levels, as copy()
// walks; the blobs themselves are only counted. Throws what the reads throw.
std::uint64_t graph_bytes(content::ReadOnlyTarget& target, const oci::Descriptor& root);

// parse_run_id reads a --run value: a non-negative integer, else UsageError.
std::int64_t parse_run_id(const std::string& text);

}  // namespace sealrun::cli

#pragma once
/// Relative names that cannot escape the folder they are resolved in, and
/// the names a record directory keeps for sealrun's own files.

#include <string>
#include <string_view>

namespace sealrun {

/// safe_relative_path returns `name` normalized ('/'-separated, no '.'
/// components, no repeated or trailing '/'), or throws Error(invalid_input)
/// naming it when it is empty, absolute, holds a NUL, or has a '..'
/// component. Attachment titles, record file names and tar entries all pass
/// through it.
std::string safe_relative_path(std::string_view name);

/// reserved_prefix starts every name sealrun gives its own files inside a
/// record directory: its temporary files (".sealrun-tmp-…") and a run's
/// trace (".sealrun-trace.json"). docs/RECORDS.md "Reserved names".
inline constexpr std::string_view reserved_prefix = ".sealrun-";

/// reserved_record_name returns why the normalized record-relative name
/// `name` belongs to sealrun and not to the user ("model.json" at the top
/// level, or a component starting with reserved_prefix), or an empty string
/// when a user's file may have it. Record::save_file, import_file and
/// append_jsonl refuse such names; Record::files() never lists them, so a
/// run's attachments never include them.
std::string reserved_record_name(std::string_view name);

}  // namespace sealrun

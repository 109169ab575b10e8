#pragma once
// URL helpers of the registry transport: the one door through which a
// peer's URLs enter (resolve_url), origins, query escaping and the Link
// header's next page. Internal to src/remote/.

#include <optional>
#include <string>
#include <string_view>

namespace sealrun::remote::detail {

// resolve_url resolves `location` (absolute or relative) against `base`.
// Throws Error(protocol) unless the result is an http or https URL: it is
// the one door through which a peer's URLs (redirects, upload locations,
// pagination links) enter, so a `file://` or `ftp://` Location fails here,
// at once and not retried.
std::string resolve_url(const std::string& base, const std::string& location);

// origin returns "scheme://host:port" of an absolute URL (lowercased, the
// port made explicit), or "" when `url` is not one.
std::string origin(const std::string& url);

// url_escape percent-encodes a query value.
std::string url_escape(std::string_view s);

// next_link returns the URI reference of the link whose relation types
// include "next" in a Link header value (RFC 8288 §3: `<uri>; rel="next"`,
// several links separated by commas, parameters quoted or not), unresolved;
// nullopt when there is none. Never throws; malformed link-values are
// skipped.
std::optional<std::string> next_link(std::string_view header);

// lowercase returns `s` with ASCII letters lowercased.
std::string lowercase(std::string s);

}  // namespace sealrun::remote::detail

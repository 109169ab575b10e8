#pragma once
// libcurl's handles, owned (one unique_ptr alias per curl resource, after
// util/handle.h), and its one global initialisation. Only src/remote/
// includes curl.

#include <mutex>

#include <curl/curl.h>

#include "util/handle.h"

namespace sealrun::remote::detail {

using CurlEasy = util::Handle<CURL, curl_easy_cleanup>;
using CurlMulti = util::Handle<CURLM, curl_multi_cleanup>;
using CurlSlist = util::Handle<curl_slist, curl_slist_free_all>;
using CurlUrl = util::Handle<CURLU, curl_url_cleanup>;
// CurlString owns a string curl allocated (curl_url_get, curl_easy_escape).
using CurlString = util::Handle<char, curl_free>;

// global_init runs curl_global_init once per process, before the first handle.
inline void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace sealrun::remote::detail

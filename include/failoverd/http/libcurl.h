// libcurl, loaded on first use.
//
// failoverd does not link libcurl: src/http/libcurl.cpp defines the libcurl functions failoverd
// calls, with the signatures of <curl/curl.h>, and each forwards to the real function in
// "libcurl.so.4", dlopen()ed the first time any of them is called (ARCHITECTURE.md has the
// measurements: a daemon without HTTP maps 29 fewer shared objects and starts in half the CPU).
//
// Contract:
// - One load attempt per process, thread-safe; its outcome holds until exit.
// - Forwarded: curl_global_init, curl_easy_{init,cleanup,reset,setopt,getinfo,perform,strerror},
//   curl_slist_{append,free_all}, curl_getdate. Calling any other libcurl function is a link
//   error, never a run-time surprise: add it to the loader first.
// - When libcurl cannot be loaded (missing, or a symbol is missing), curl_global_init,
//   curl_easy_setopt, curl_easy_getinfo and curl_easy_perform return CURLE_FAILED_INIT,
//   curl_easy_init and curl_slist_append nullptr, curl_getdate -1, curl_easy_strerror a text
//   naming the library; cleanup functions do nothing. libcurl_load_error() says why.
// Only src/http calls libcurl; everything else uses http::Easy (failoverd/http/easy.h).
#pragma once

#include <string>

namespace failoverd::http {

inline constexpr const char* kLibcurlName = "libcurl.so.4";

// Loads libcurl if that was not tried yet. Empty when it is loaded; else why not, e.g.
// "libcurl.so.4: cannot open shared object file: No such file or directory".
std::string libcurl_load_error();

// Test hook: the library the one attempt will load instead of kLibcurlName. Returns false (and
// changes nothing) once the attempt was made.
bool set_libcurl_name_for_testing(std::string name);

}  // namespace failoverd::http

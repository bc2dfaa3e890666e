// libcurl, loaded on first use: the contract is in failoverd/http/libcurl.h.
//
// Linking libcurl maps about thirty more libraries into the daemon (GnuTLS, Kerberos, LDAP,
// SASL, ...) and keeps ~4.4 MB of their pages resident, although only health checks and cloud
// providers make HTTP calls. Each function below has libcurl's own signature from
// <curl/curl.h>, so the compiler checks it against the real one.
#include "failoverd/http/libcurl.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdarg>
#include <mutex>

namespace {

struct Curl {
  void* lib = nullptr;
  CURLcode (*global_init)(long) = nullptr;
  CURL* (*easy_init)() = nullptr;
  void (*easy_cleanup)(CURL*) = nullptr;
  void (*easy_reset)(CURL*) = nullptr;
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
  CURLcode (*easy_perform)(CURL*) = nullptr;
  const char* (*easy_strerror)(CURLcode) = nullptr;
  curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
  void (*slist_free_all)(curl_slist*) = nullptr;
  time_t (*getdate)(const char*, const time_t*) = nullptr;
};

template <typename F>
bool resolve(void* lib, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(lib, name));
  return out != nullptr;
}

// Written before the one attempt only (set_libcurl_name_for_testing refuses after it).
std::string& library_name() {
  static std::string name = failoverd::http::kLibcurlName;
  return name;
}
std::atomic<bool> attempted{false};
std::string load_error;  // written once, inside the call_once below

const Curl* curl() {
  static Curl c;
  static bool ok = false;
  static std::once_flag once;
  std::call_once(once, [] {
    attempted = true;
    c.lib = dlopen(library_name().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (c.lib == nullptr) {
      const char* why = dlerror();
      load_error = why != nullptr ? why : library_name() + ": cannot be loaded";
      return;
    }
    ok = resolve(c.lib, "curl_global_init", c.global_init) &&
         resolve(c.lib, "curl_easy_init", c.easy_init) &&
         resolve(c.lib, "curl_easy_cleanup", c.easy_cleanup) &&
         resolve(c.lib, "curl_easy_reset", c.easy_reset) &&
         resolve(c.lib, "curl_easy_setopt", c.easy_setopt) &&
         resolve(c.lib, "curl_easy_getinfo", c.easy_getinfo) &&
         resolve(c.lib, "curl_easy_perform", c.easy_perform) &&
         resolve(c.lib, "curl_easy_strerror", c.easy_strerror) &&
         resolve(c.lib, "curl_slist_append", c.slist_append) &&
         resolve(c.lib, "curl_slist_free_all", c.slist_free_all) &&
         resolve(c.lib, "curl_getdate", c.getdate);
    if (!ok) load_error = library_name() + ": a libcurl function is missing";
  });
  return ok ? &c : nullptr;
}

}  // namespace

namespace failoverd::http {

std::string libcurl_load_error() {
  return curl() != nullptr ? std::string() : load_error;
}

bool set_libcurl_name_for_testing(std::string name) {
  if (attempted) return false;
  library_name() = std::move(name);
  return true;
}

}  // namespace failoverd::http

extern "C" {

CURLcode curl_global_init(long flags) {
  const Curl* c = curl();
  return c != nullptr ? c->global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init() {
  const Curl* c = curl();
  return c != nullptr ? c->easy_init() : nullptr;
}

void curl_easy_cleanup(CURL* handle) {
  if (const Curl* c = curl()) c->easy_cleanup(handle);
}

void curl_easy_reset(CURL* handle) {
  if (const Curl* c = curl()) c->easy_reset(handle);
}

// These definitions must have curl's own signatures, whose last named parameter is an enum.
// clang warns that va_start after a parameter that undergoes promotion is undefined; the
// System V x86-64 and AArch64 ABIs pass that enum as an int in a register either way, and
// va_start only marks where the variadic part begins. gcc has no such warning.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif

// The one variadic argument's type follows from the option number (<curl/curl.h>:
// CURLOPTTYPE_LONG, _OBJECTPOINT, _FUNCTIONPOINT, _OFF_T, _BLOB), so it is read with its real
// type and passed on unchanged.
CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...) {
  const Curl* c = curl();
  if (c == nullptr) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, option);
  CURLcode result;
  const int kind = static_cast<int>(option) / 10000 * 10000;
  if (kind == CURLOPTTYPE_LONG) {
    result = c->easy_setopt(handle, option, va_arg(args, long));
  } else if (kind == CURLOPTTYPE_OFF_T) {
    result = c->easy_setopt(handle, option, va_arg(args, curl_off_t));
  } else if (kind == CURLOPTTYPE_FUNCTIONPOINT) {
    result = c->easy_setopt(handle, option, va_arg(args, void (*)()));
  } else {  // object pointers, strings, slists, blobs
    result = c->easy_setopt(handle, option, va_arg(args, void*));
  }
  va_end(args);
  return result;
}

// Every CURLINFO takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...) {
  const Curl* c = curl();
  if (c == nullptr) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, info);
  void* out = va_arg(args, void*);
  va_end(args);
  return c->easy_getinfo(handle, info, out);
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

CURLcode curl_easy_perform(CURL* handle) {
  const Curl* c = curl();
  return c != nullptr ? c->easy_perform(handle) : CURLE_FAILED_INIT;
}

const char* curl_easy_strerror(CURLcode code) {
  const Curl* c = curl();
  return c != nullptr ? c->easy_strerror(code) : "libcurl could not be loaded (libcurl.so.4)";
}

curl_slist* curl_slist_append(curl_slist* list, const char* text) {
  const Curl* c = curl();
  return c != nullptr ? c->slist_append(list, text) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (const Curl* c = curl()) c->slist_free_all(list);
}

time_t curl_getdate(const char* text, const time_t* unused) {
  const Curl* c = curl();
  return c != nullptr ? c->getdate(text, unused) : -1;
}

}  // extern "C"

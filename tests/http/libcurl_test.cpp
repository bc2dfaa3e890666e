// The libcurl loader (failoverd/http/libcurl.h): libcurl is mapped only once a libcurl function
// is called, and a missing library fails the documented way. ctest runs each test in a process
// of its own, so "not mapped yet" and "not tried yet" are meaningful here.
#include "failoverd/http/libcurl.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "failoverd/http/easy.h"

namespace failoverd::http {
namespace {

bool libcurl_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcurl") != std::string::npos;
}

bool alone_in_process() {
  return ::testing::UnitTest::GetInstance()->test_to_run_count() == 1;
}

TEST(Libcurl, IsMappedOnlyOnceUsedAndThenWorks) {
  if (!alone_in_process() && libcurl_mapped()) {
    GTEST_SKIP() << "another test in this process loaded libcurl already";
  }
  EXPECT_FALSE(libcurl_mapped());
  CURL* handle = curl_easy_init();
  ASSERT_NE(handle, nullptr);
  EXPECT_TRUE(libcurl_mapped());
  EXPECT_EQ(libcurl_load_error(), "");
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 1000L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
  EXPECT_EQ(curl_easy_perform(handle), CURLE_COULDNT_CONNECT);
  long code = -1;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  EXPECT_EQ(code, 0);
  EXPECT_STREQ(curl_easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server");
  curl_easy_cleanup(handle);
  EXPECT_FALSE(set_libcurl_name_for_testing("libcurl-absent.so.4")) << "the attempt was made";
}

TEST(Libcurl, AbsentLibraryFailsTheDocumentedWay) {
  if (!set_libcurl_name_for_testing("libcurl-absent.so.4")) {
    GTEST_SKIP() << "another test in this process loaded libcurl already";
  }
  EXPECT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_FAILED_INIT);
  EXPECT_EQ(curl_easy_init(), nullptr);
  EXPECT_EQ(curl_easy_setopt(nullptr, CURLOPT_TIMEOUT_MS, 1000L), CURLE_FAILED_INIT);
  EXPECT_EQ(curl_easy_perform(nullptr), CURLE_FAILED_INIT);
  EXPECT_EQ(curl_slist_append(nullptr, "A: b"), nullptr);
  EXPECT_EQ(curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", nullptr), -1);
  EXPECT_STREQ(curl_easy_strerror(CURLE_OK), "libcurl could not be loaded (libcurl.so.4)");
  curl_easy_cleanup(nullptr);  // does nothing
  EXPECT_NE(libcurl_load_error().find("libcurl-absent.so.4"), std::string::npos)
      << libcurl_load_error();
  EXPECT_FALSE(libcurl_mapped());

  // What the checks and the cloud client see: an error value that says why.
  auto easy = Easy::open();
  ASSERT_FALSE(easy);
  EXPECT_EQ(easy.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(easy.error().message.find("libcurl-absent.so.4"), std::string::npos);
  EXPECT_NE(init(), "");
}

}  // namespace
}  // namespace failoverd::http

// libcurl is loaded on first use, not at start-up: a daemon without HTTP checks or a cloud
// provider never maps it (src/curl/curl_loader.cpp). ctest runs each test in a process of
// its own, so "not mapped yet" is meaningful here.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

bool libcurl_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcurl") != std::string::npos;
}

TEST(CurlLoader, LibcurlIsMappedOnlyOnceUsedAndThenWorks) {
  if (::testing::UnitTest::GetInstance()->test_to_run_count() > 1 && libcurl_mapped()) {
    GTEST_SKIP() << "another test in this process loaded libcurl already";
  }
  EXPECT_FALSE(libcurl_mapped());
  CURL* handle = curl_easy_init();
  ASSERT_NE(handle, nullptr);
  EXPECT_TRUE(libcurl_mapped());
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 1000L), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
  EXPECT_EQ(curl_easy_perform(handle), CURLE_COULDNT_CONNECT);
  long code = -1;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
  EXPECT_EQ(code, 0);
  EXPECT_STREQ(curl_easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server");
  curl_easy_cleanup(handle);
}

}  // namespace

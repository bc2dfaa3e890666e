#include "failoverd/http/http_date.h"

#include <gtest/gtest.h>

namespace failoverd::http {
namespace {

TEST(HttpDate, ParsesTheImfFixdateAndRefusesTheRest) {
  EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), std::nullopt);  // not after 1970
  EXPECT_EQ(parse_http_date("soon"), std::nullopt);
  EXPECT_EQ(parse_http_date(""), std::nullopt);
}

}  // namespace
}  // namespace failoverd::http

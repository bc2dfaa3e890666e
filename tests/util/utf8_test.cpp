#include "failoverd/util/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace failoverd::util {
namespace {

using namespace std::string_literals;

TEST(Utf8, ValidSequencesHaveTheirLength) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3u);      // €
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4u);  // U+1F600
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF, the last
  EXPECT_EQ(utf8_sequence_length("x\xC3\xA9", 1), 2u);
  EXPECT_EQ(utf8_sequence_length("\0"s, 0), 1u);
}

TEST(Utf8, InvalidSequencesAreZero) {
  EXPECT_EQ(utf8_sequence_length("\x80", 0), 0u);              // lone continuation byte
  EXPECT_EQ(utf8_sequence_length("\xC0\xAF", 0), 0u);          // overlong '/'
  EXPECT_EQ(utf8_sequence_length("\xE0\x80\xAF", 0), 0u);      // overlong, 3 bytes
  EXPECT_EQ(utf8_sequence_length("\xF0\x80\x80\xAF", 0), 0u);  // overlong, 4 bytes
  EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80", 0), 0u);      // surrogate U+D800
  EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(utf8_sequence_length("\xF5\x80\x80\x80", 0), 0u);
  EXPECT_EQ(utf8_sequence_length("\xFF", 0), 0u);
  EXPECT_EQ(utf8_sequence_length("\xE2\x82", 0), 0u);          // cut short by the end
  EXPECT_EQ(utf8_sequence_length("\xC3(", 0), 0u);             // bad continuation
}

}  // namespace
}  // namespace failoverd::util

#include "failoverd/util/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace failoverd::util {
namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonDepth, CountsArraysAndObjectsUpToTheLimit) {
  EXPECT_FALSE(json_nesting_exceeds("", 0));
  EXPECT_FALSE(json_nesting_exceeds("42", 0));
  EXPECT_TRUE(json_nesting_exceeds("[]", 0));
  EXPECT_FALSE(json_nesting_exceeds(nested(64)));
  EXPECT_TRUE(json_nesting_exceeds(nested(65)));
  EXPECT_FALSE(json_nesting_exceeds(R"({"a":{"b":[1,{"c":2}]}})", 4));
  EXPECT_TRUE(json_nesting_exceeds(R"({"a":{"b":[1,{"c":2}]}})", 3));
  // Siblings do not add up: depth is the deepest path, not the number of brackets.
  EXPECT_FALSE(json_nesting_exceeds("[[],[],[],[],[],[]]", 2));
}

TEST(JsonDepth, BracketsInStringsAreText) {
  EXPECT_FALSE(json_nesting_exceeds(R"(["[[[[", "{{{{"])", 1));
  EXPECT_FALSE(json_nesting_exceeds(R"(["\"[[[["])", 1));  // an escaped quote stays inside
  EXPECT_TRUE(json_nesting_exceeds(R"(["\\", [[]]])", 2));  // an escaped backslash does not
}

TEST(JsonDepth, UnbalancedTextNeitherWrapsNorHides) {
  EXPECT_FALSE(json_nesting_exceeds(std::string(100'000, ']'), 1));
  EXPECT_TRUE(json_nesting_exceeds(std::string(100'000, ']') + "[[", 1));
  EXPECT_TRUE(json_nesting_exceeds(std::string(200'000, '{')));  // the issue's literal case
  EXPECT_FALSE(json_nesting_exceeds("\"unterminated [[[[", 1));
}

}  // namespace
}  // namespace failoverd::util

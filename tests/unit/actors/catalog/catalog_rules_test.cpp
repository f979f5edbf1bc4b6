// The create-service rules on variants.
#include <gtest/gtest.h>

#include "actors/catalog/catalog.hpp"

using namespace marketlink;

namespace {
persistence::NewVariant variant(std::string name) {
  return {std::move(name), *parse_money("10.00", 10).value, 30, 1};
}
std::string messages(FieldErrors errors) {
  auto e = std::move(errors).to_error();
  std::string out;
  for (const auto& f : e.fields) {
    for (const auto& m : f.messages) out += f.field + ": " + m + "\n";
  }
  return out;
}
}  // namespace

TEST(CatalogRules, AServiceNeedsAtLeastOneVariant) {
  FieldErrors errors;
  actors::check_new_variants({}, errors);
  EXPECT_EQ(messages(std::move(errors)), "variants: At least one variant is required.\n");
}

TEST(CatalogRules, VariantNamesAreUniqueWithinAService) {
  FieldErrors errors;
  actors::check_new_variants({variant("Basic"), variant("Full"), variant("Basic")}, errors);
  EXPECT_EQ(messages(std::move(errors)),
            "variants: Variant names must be unique within a service.\n");
  FieldErrors fine;
  actors::check_new_variants({variant("Basic"), variant("basic")}, fine);
  EXPECT_TRUE(fine.empty()) << "names are compared exactly";
}

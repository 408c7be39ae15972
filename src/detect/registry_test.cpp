#include "detect/registry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace granska::detect {
namespace {

TEST(RegistryTest, BuiltinsCarryNameTypeAndParameters) {
    Registry registry;
    RegisterBuiltinAlgorithms(registry);
    const AlgorithmInfo* zscore = registry.Find("zscore");
    ASSERT_NE(zscore, nullptr);
    EXPECT_EQ(TypeName(zscore->type), "statistical");
    EXPECT_FALSE(zscore->description.empty());
    EXPECT_GE(zscore->params.size(), 4u);
}

TEST(RegistryTest, CreatesAConfiguredAlgorithm) {
    Registry registry;
    RegisterBuiltinAlgorithms(registry);
    auto algorithm = registry.Create("zscore", {{"robust", false}}, "algorithms[0]");
    ASSERT_TRUE(algorithm);
    EXPECT_EQ((*algorithm)->Name(), "zscore");
}

TEST(RegistryTest, UnknownNameListsTheKnownOnes) {
    Registry registry;
    RegisterBuiltinAlgorithms(registry);
    auto algorithm = registry.Create("zscroe", nlohmann::json::object(), "algorithms[1]");
    ASSERT_FALSE(algorithm);
    EXPECT_EQ(algorithm.error().code, "unknown_algorithm");
    EXPECT_EQ(algorithm.error().column, "algorithms[1].name");
    EXPECT_NE(algorithm.error().message.find("zscore"), std::string::npos);
}

TEST(RegistryTest, ParameterErrorsCarryThePath) {
    Registry registry;
    RegisterBuiltinAlgorithms(registry);
    auto algorithm = registry.Create("zscore", {{"threshold", "high"}}, "algorithms[0]");
    ASSERT_FALSE(algorithm);
    EXPECT_EQ(algorithm.error().column, "algorithms[0].params.threshold");
}

TEST(RegistryTest, AFreshRegistryIsEmpty) {
    Registry registry;
    EXPECT_EQ(registry.Find("zscore"), nullptr);
    EXPECT_TRUE(registry.List().empty());
}

}  // namespace
}  // namespace granska::detect

// The OpenAPI document against the server: every route served is described (with its path parameters and an
// Error response for each 4xx), every route described is served, and every reference resolves.

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "api/detail/routes.h"
#include "api/detail/test_server.h"

namespace granska::api {
namespace {

using nlohmann::json;

std::string Lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// Every "$ref" in the document, wherever it is.
void CollectRefs(const json& node, std::set<std::string>& refs) {
    if (node.is_object()) {
        for (const auto& [key, value] : node.items()) {
            if (key == "$ref" && value.is_string()) refs.insert(value.get<std::string>());
            CollectRefs(value, refs);
        }
    } else if (node.is_array()) {
        for (const json& item : node) CollectRefs(item, refs);
    }
}

// The parameter object a $ref or an inline parameter stands for.
json Resolve(const json& document, const json& node) {
    if (!node.contains("$ref")) return node;
    const std::string ref = node["$ref"].get<std::string>();
    return document.at(json::json_pointer(ref.substr(1)));
}

class OpenApiTest : public detail::ApiServerTest {
protected:
    void SetUp() override {
        ApiServerTest::SetUp();
        document_ = json::parse(detail::OpenApiDocument());
    }

    json document_;
};

TEST_F(OpenApiTest, DescribesEveryRouteServedAndNothingElse) {
    const std::vector<std::string> routes = server_->Routes();
    ASSERT_GE(routes.size(), 9U);
    std::set<std::string> served;
    for (const std::string& route : routes) {
        const size_t space = route.find(' ');
        const std::string method = Lower(route.substr(0, space));
        const std::string path = route.substr(space + 1);
        served.insert(method + " " + path);
        SCOPED_TRACE(route);
        ASSERT_TRUE(document_["paths"].contains(path)) << "the OpenAPI document has no path " << path;
        EXPECT_TRUE(document_["paths"][path].contains(method)) << "the OpenAPI document has no " << method;
    }
    for (const auto& [path, operations] : document_["paths"].items()) {
        for (const auto& [method, operation] : operations.items()) {
            EXPECT_TRUE(served.contains(method + " " + path)) << method << " " << path << " is described, not served";
        }
    }
}

TEST_F(OpenApiTest, EveryOperationNamesItsPathParametersAndAnswersErrorsWithTheErrorShape) {
    std::set<std::string> operation_ids;
    for (const auto& [path, operations] : document_["paths"].items()) {
        std::set<std::string> in_path;
        for (size_t at = path.find('{'); at != std::string::npos; at = path.find('{', at + 1)) {
            in_path.insert(path.substr(at + 1, path.find('}', at) - at - 1));
        }
        for (const auto& [method, operation] : operations.items()) {
            SCOPED_TRACE(method + " " + path);
            EXPECT_TRUE(operation_ids.insert(operation.value("operationId", "")).second) << "operationId repeats";
            EXPECT_FALSE(operation.value("summary", "").empty());
            std::set<std::string> declared;
            for (const json& parameter : operation.value("parameters", json::array())) {
                const json resolved = Resolve(document_, parameter);
                if (resolved["in"] == "path") {
                    EXPECT_TRUE(resolved.value("required", false));
                    declared.insert(resolved["name"].get<std::string>());
                }
            }
            EXPECT_EQ(declared, in_path);
            ASSERT_TRUE(operation.contains("responses"));
            bool success = false;
            for (const auto& [status, response] : operation["responses"].items()) {
                if (status.starts_with('2')) success = true;
                if (!status.starts_with('4')) continue;
                const json resolved = Resolve(document_, response);
                const json schema = resolved["content"]["application/json"]["schema"];
                const std::string text = schema.dump();
                EXPECT_NE(text.find("#/components/schemas/Error"), std::string::npos) << status << ": " << text;
            }
            EXPECT_TRUE(success) << "no 2xx response";
        }
    }
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
    std::set<std::string> refs;
    CollectRefs(document_, refs);
    ASSERT_FALSE(refs.empty());
    for (const std::string& ref : refs) {
        SCOPED_TRACE(ref);
        ASSERT_TRUE(ref.starts_with("#/"));
        EXPECT_TRUE(document_.contains(json::json_pointer(ref.substr(1))));
    }
}

TEST_F(OpenApiTest, IsServedWithTheVersionFilledIn) {
    const auto result = client_->Get("/api/v1/openapi.json");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    const json served = json::parse(result->body);
    EXPECT_EQ(served["openapi"], "3.0.3");
    EXPECT_EQ(served["info"]["version"], GRANSKA_VERSION);
    EXPECT_EQ(served["paths"], document_["paths"]);
}

}  // namespace
}  // namespace granska::api

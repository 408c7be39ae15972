// The OpenAPI document against the server: every route served is described (with its path parameters and an
// Error response for each 4xx), every route described is served, and every reference resolves.

#include <fmt/format.h>
#include <fmt/ranges.h>
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

// What the document says of a value: every field of an object is a documented property (unless the schema allows
// any), documented types match (null where nullable), required fields are there. Follows $ref, allOf, items and
// additionalProperties; a oneOf is not checked.
class SchemaChecker {
public:
    explicit SchemaChecker(const json& document) : document_(document) {}

    void Check(const json& value, const json& schema_in, const std::string& where, std::vector<std::string>& errors) {
        const json schema = Flatten(schema_in);
        if (value.is_null()) {
            if (!schema.value("nullable", false) && schema.contains("type")) errors.push_back(where + ": null");
            return;
        }
        if (schema.contains("type") && !TypeMatches(value, schema["type"].get<std::string>())) {
            errors.push_back(where + ": " + std::string(value.type_name()) + ", documented " + schema["type"].dump());
            return;
        }
        if (value.is_object()) {
            const json properties = schema.value("properties", json::object());
            for (const std::string& name : schema.value("required", std::vector<std::string>{})) {
                if (!value.contains(name)) errors.push_back(where + "." + name + ": required, missing");
            }
            for (const auto& [name, field] : value.items()) {
                if (properties.contains(name)) {
                    Check(field, properties[name], where + "." + name, errors);
                } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
                    Check(field, schema["additionalProperties"], where + "." + name, errors);
                } else if (!properties.empty() || schema.contains("additionalProperties")) {
                    errors.push_back(where + "." + name + ": not in the document");
                }
            }
        } else if (value.is_array() && schema.contains("items")) {
            for (size_t i = 0; i < value.size() && i < 3; ++i) {
                Check(value[i], schema["items"], where + "[" + std::to_string(i) + "]", errors);
            }
        }
    }

    // The schema of an operation's JSON response.
    json ResponseSchema(const std::string& method, const std::string& path, int status) const {
        const json response = Resolve(document_["paths"][path][method]["responses"][std::to_string(status)]);
        return response["content"]["application/json"]["schema"];
    }

private:
    json Resolve(const json& node) const {
        if (!node.is_object() || !node.contains("$ref")) return node;
        return Resolve(document_.at(json::json_pointer(node["$ref"].get<std::string>().substr(1))));
    }

    // $ref resolved and allOf merged into one schema.
    json Flatten(const json& node) const {
        json schema = Resolve(node);
        if (!schema.contains("allOf")) return schema;
        json merged = {{"type", "object"}, {"properties", json::object()}};
        for (const json& part : schema["allOf"]) {
            const json flat = Flatten(part);
            const json properties = flat.value("properties", json::object());
            for (const auto& [name, property] : properties.items()) {
                merged["properties"][name] = property;
            }
            for (const json& name : flat.value("required", json::array())) merged["required"].push_back(name);
        }
        return merged;
    }

    static bool TypeMatches(const json& value, const std::string& type) {
        if (type == "integer") return value.is_number_integer();
        if (type == "number") return value.is_number();
        if (type == "string") return value.is_string();
        if (type == "boolean") return value.is_boolean();
        if (type == "array") return value.is_array();
        if (type == "object") return value.is_object();
        return true;
    }

    const json& document_;
};

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

// A small ledger through every read route; each answer must be what the document says.
TEST_F(OpenApiTest, AnswersMatchTheDocumentedSchemas) {
    std::string csv = "id,date,account,amount,text,user\n";
    for (int i = 1; i <= 30; ++i) {
        csv += fmt::format("T{},2024-03-{:02},{},{}.00,line {},U{}\n", i, 1 + i % 28, i % 2 == 0 ? "1930" : "3001",
                           i == 7 ? 9000 : 100 + i, i, i % 3);
    }
    const std::string upload_id = UploadCsv(csv);
    const json created = detail::Body(PostJson("/api/v1/strategies",
                                       {{"name", "documented"},
                                        {"configuration",
                                         {{"algorithms", {{{"name", "zscore"}}, {{"name", "round_amount"}}}},
                                          {"threshold", {{"type", "top_k"}, {"value", 2}}}}}}));
    const std::string strategy_id = created.value("id", "");
    const std::string run_id = QueueRun({{"upload_id", upload_id}, {"strategy_id", strategy_id}});
    ASSERT_EQ(WaitForRun(run_id)["status"], "completed");
    const json anomalies = GetJson("/api/v1/transactions/anomalies?run_id=" + run_id);
    ASSERT_FALSE(anomalies["items"].empty());
    const std::string transaction_id = anomalies["items"][0]["transaction"]["id"];

    SchemaChecker checker(document_);
    const std::vector<std::pair<std::string, std::string>> reads = {
        {"/api/v1/health", "/api/v1/health"},
        {"/api/v1/upload/history", "/api/v1/upload/history"},
        {"/api/v1/upload/{id}/status", "/api/v1/upload/" + upload_id + "/status"},
        {"/api/v1/strategies", "/api/v1/strategies"},
        {"/api/v1/strategies/{id}", "/api/v1/strategies/" + strategy_id},
        {"/api/v1/strategies/{id}/versions", "/api/v1/strategies/" + strategy_id + "/versions"},
        {"/api/v1/strategies/{id}/preview", "/api/v1/strategies/" + strategy_id + "/preview?upload_id=" + upload_id},
        {"/api/v1/algorithms", "/api/v1/algorithms"},
        {"/api/v1/analysis/{id}/status", "/api/v1/analysis/" + run_id + "/status"},
        {"/api/v1/analysis/{id}/results", "/api/v1/analysis/" + run_id + "/results"},
        {"/api/v1/transactions", "/api/v1/transactions?run_id=" + run_id},
        {"/api/v1/transactions/anomalies", "/api/v1/transactions/anomalies?run_id=" + run_id},
        {"/api/v1/transactions/{id}", "/api/v1/transactions/" + transaction_id},
    };
    for (const auto& [path, url] : reads) {
        SCOPED_TRACE(url);
        const json schema = checker.ResponseSchema("get", path, 200);
        ASSERT_TRUE(schema.is_object() && !schema.empty()) << "no documented 200 schema";
        std::vector<std::string> errors;
        checker.Check(GetJson(url), schema, path, errors);
        EXPECT_TRUE(errors.empty()) << fmt::format("{}", fmt::join(errors, "\n"));
    }
    std::vector<std::string> errors;
    checker.Check(created, checker.ResponseSchema("post", "/api/v1/strategies", 201), "created strategy", errors);
    checker.Check(GetJson("/api/v1/transactions/" + NewUuidV7(), 404),
                  checker.ResponseSchema("get", "/api/v1/transactions/{id}", 404), "not found", errors);
    EXPECT_TRUE(errors.empty()) << fmt::format("{}", fmt::join(errors, "\n"));
}

TEST_F(OpenApiTest, TheSchemaCheckFindsUndocumentedFieldsWrongTypesAndMissingRequiredOnes) {
    const json document = {{"components",
                            {{"schemas",
                              {{"Row",
                                {{"type", "object"},
                                 {"required", {"id"}},
                                 {"properties",
                                  {{"id", {{"type", "string"}}},
                                   {"score", {{"type", "number"}}},
                                   {"note", {{"type", "string"}, {"nullable", true}}}}}}}}}}}};
    SchemaChecker checker(document);
    const json schema = {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Row"}}}};
    std::vector<std::string> errors;
    checker.Check(json::array({{{"id", "a"}, {"score", 0.5}, {"note", nullptr}}}), schema, "rows", errors);
    EXPECT_TRUE(errors.empty()) << fmt::format("{}", fmt::join(errors, "; "));
    checker.Check(json::array({{{"score", "high"}, {"extra", 1}}}), schema, "rows", errors);
    EXPECT_EQ(errors, (std::vector<std::string>{"rows[0].id: required, missing",
                                                "rows[0].extra: not in the document",
                                                "rows[0].score: string, documented \"number\""}));
}

}  // namespace
}  // namespace granska::api

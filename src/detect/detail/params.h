#pragma once
// Reading an algorithm's "params" object into its Params struct, with errors that name the field.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace granska::detect {

// Reads fields from a params object; the first failure is kept and reported by Finish().
class ParamReader {
public:
    ParamReader(const nlohmann::json& params, std::string_view path);

    void Read(std::string_view name, bool& out);
    void Read(std::string_view name, double& out);
    void Read(std::string_view name, int& out);
    // A string restricted to the given choices.
    void Read(std::string_view name, std::string& out, std::initializer_list<std::string_view> choices);
    // Any string.
    void Read(std::string_view name, std::string& out);
    // A list of strings.
    void Read(std::string_view name, std::vector<std::string>& out);
    // The field as given (nullptr when absent), for structured parameters the caller checks itself.
    const nlohmann::json* Raw(std::string_view name);

    // Records a failed validation of a field that was read.
    void Fail(std::string_view name, std::string_view message);
    // Fails on unknown fields (listing the known ones) or the first recorded error.
    Expected<void> Finish();
    // The params object's JSON path ("algorithms[2].params").
    const std::string& path() const { return path_; }

private:
    const nlohmann::json* Field(std::string_view name);
    std::string FieldPath(std::string_view name) const;

    const nlohmann::json& params_;
    std::string path_;
    std::vector<std::string> known_;
    std::optional<Error> error_;
};

}  // namespace granska::detect

#include "detect/detail/params.h"

#include <fmt/format.h>

#include <algorithm>

namespace granska::detect {

ParamReader::ParamReader(const nlohmann::json& params, std::string_view path) : params_(params), path_(path) {
    if (!params_.is_null() && !params_.is_object()) {
        error_ = InvalidInput("bad_parameter", "Algorithm parameters must be a JSON object.");
        error_->column = path_;
    }
}

std::string ParamReader::FieldPath(std::string_view name) const { return fmt::format("{}.{}", path_, name); }

const nlohmann::json* ParamReader::Field(std::string_view name) {
    known_.emplace_back(name);
    if (error_ || !params_.is_object()) return nullptr;
    const auto it = params_.find(name);
    return it == params_.end() ? nullptr : &*it;
}

void ParamReader::Fail(std::string_view name, std::string_view message) {
    if (error_) return;
    error_ = InvalidInput("bad_parameter", std::string(message));
    error_->column = FieldPath(name);
}

void ParamReader::Read(std::string_view name, bool& out) {
    const nlohmann::json* value = Field(name);
    if (value == nullptr) return;
    if (!value->is_boolean()) return Fail(name, fmt::format("'{}' must be true or false.", name));
    out = value->get<bool>();
}

void ParamReader::Read(std::string_view name, double& out) {
    const nlohmann::json* value = Field(name);
    if (value == nullptr) return;
    if (!value->is_number()) return Fail(name, fmt::format("'{}' must be a number.", name));
    out = value->get<double>();
}

void ParamReader::Read(std::string_view name, int& out) {
    const nlohmann::json* value = Field(name);
    if (value == nullptr) return;
    if (!value->is_number_integer()) return Fail(name, fmt::format("'{}' must be a whole number.", name));
    const auto number = value->get<int64_t>();
    if (number < INT32_MIN || number > INT32_MAX) return Fail(name, fmt::format("'{}' is out of range.", name));
    out = static_cast<int>(number);
}

void ParamReader::Read(std::string_view name, std::string& out, std::initializer_list<std::string_view> choices) {
    const nlohmann::json* value = Field(name);
    if (value == nullptr) return;
    const auto listed = fmt::format("\"{}\"", fmt::join(choices, "\", \""));
    if (!value->is_string()) return Fail(name, fmt::format("'{}' must be one of {}.", name, listed));
    const auto text = value->get<std::string>();
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
        return Fail(name, fmt::format("'{}' is \"{}\"; it must be one of {}.", name, text, listed));
    }
    out = text;
}

void ParamReader::Read(std::string_view name, std::string& out) {
    const nlohmann::json* value = Field(name);
    if (value == nullptr) return;
    if (!value->is_string()) return Fail(name, fmt::format("'{}' must be a string.", name));
    out = value->get<std::string>();
}

void ParamReader::Read(std::string_view name, std::vector<std::string>& out) {
    const nlohmann::json* value = Field(name);
    if (value == nullptr) return;
    const bool strings = value->is_array() && std::all_of(value->begin(), value->end(),
                                                          [](const nlohmann::json& item) { return item.is_string(); });
    if (!strings) return Fail(name, fmt::format("'{}' must be a list of strings.", name));
    out = value->get<std::vector<std::string>>();
}

const nlohmann::json* ParamReader::Raw(std::string_view name) { return Field(name); }

Expected<void> ParamReader::Finish() {
    if (!error_ && params_.is_object()) {
        for (const auto& [key, value] : params_.items()) {
            if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
                Fail(key,
                     fmt::format("Unknown parameter '{}'; this algorithm takes: {}.", key, fmt::join(known_, ", ")));
                break;
            }
        }
    }
    if (error_) return Unexpected(std::move(*error_));
    return {};
}

}  // namespace granska::detect

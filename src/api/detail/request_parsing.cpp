#include "api/detail/request_parsing.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "core/date.h"
#include "core/money.h"

namespace granska::api::detail {

namespace {

std::optional<int64_t> ParseInteger(std::string_view text) {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::optional<double> ParseNumber(std::string_view text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

// Either value of a parameter with a fixed set of values, or the error naming it and listing them.
template <typename T>
struct Choice {
    std::string_view text;
    T value;
};

template <typename T, size_t N>
Expected<std::optional<T>> ParseChoice(const QueryParams& params, std::string_view name,
                                       const std::array<Choice<T>, N>& choices) {
    const auto text = Param(params, name);
    if (!text) return std::optional<T>();
    std::string names;
    for (const Choice<T>& choice : choices) {
        if (choice.text == *text) return std::optional<T>(choice.value);
        names += fmt::format("{}{}", names.empty() ? "" : ", ", choice.text);
    }
    return Unexpected(BadParameter(name, fmt::format("'{}' must be one of {}, not '{}'.", name, names, *text)));
}

// YYYY-MM-DD, a real date.
Expected<std::optional<Date>> ParseDateParam(const QueryParams& params, std::string_view name) {
    const auto text = Param(params, name);
    if (!text) return std::optional<Date>();
    const auto parsed = text->size() == 10 ? ParseIsoDateTime(*text) : std::nullopt;
    if (!parsed) {
        return Unexpected(
            BadParameter(name, fmt::format("'{}' must be a date written YYYY-MM-DD, not '{}'.", name, *text)));
    }
    return std::optional<Date>(parsed->date);
}

// date_from and date_to, inclusive; date_to before date_from is a mistake, not an empty range.
Expected<std::pair<std::optional<Date>, std::optional<Date>>> ParseDateRange(const QueryParams& params) {
    auto from = ParseDateParam(params, "date_from");
    if (!from) return Unexpected(std::move(from).error());
    auto to = ParseDateParam(params, "date_to");
    if (!to) return Unexpected(std::move(to).error());
    if (*from && *to && **to < **from) {
        return Unexpected(BadParameter("date_to", fmt::format("'date_to' ({}) is before 'date_from' ({}).",
                                                              (*to)->ToString(), (*from)->ToString())));
    }
    return std::pair(*from, *to);
}

Expected<std::optional<double>> ParseScoreParam(const QueryParams& params, std::string_view name) {
    const auto text = Param(params, name);
    if (!text) return std::optional<double>();
    const auto value = ParseNumber(*text);
    if (!value || *value < 0.0 || *value > 1.0) {
        return Unexpected(BadParameter(name, fmt::format("'{}' must be a number from 0 to 1, not '{}'.", name, *text)));
    }
    return std::optional<double>(*value);
}

// An amount in minor units from exact decimal text ("-250.50"; never through a double).
Expected<std::optional<int64_t>> ParseAmountParam(const QueryParams& params, std::string_view name) {
    const auto text = Param(params, name);
    if (!text) return std::optional<int64_t>();
    const auto money = ParseMoney(*text, '.');
    if (!money) {
        return Unexpected(BadParameter(
            name,
            fmt::format("'{}' must be an amount with at most two decimals, e.g. -250.50, not '{}'.", name, *text)));
    }
    return std::optional<int64_t>(money->minor);
}

constexpr std::array<Choice<store::SortOrder>, 2> kOrders = {
    {{"asc", store::SortOrder::kAscending}, {"desc", store::SortOrder::kDescending}}};

std::string PresetNames() {
    std::string names;
    for (const strategy::Preset& preset : strategy::Presets()) {
        if (!names.empty()) names += ", ";
        names += preset.name;
    }
    return names;
}

Expected<strategy::Strategy> ParsePresetName(std::string_view name, const detect::Registry& registry) {
    const strategy::Preset* preset = strategy::FindPreset(name);
    if (preset == nullptr) {
        Error error =
            InvalidInput("unknown_strategy", fmt::format("Unknown strategy '{}'; the built-in strategies are: "
                                                         "{}. Or send a strategy JSON object.",
                                                         name, PresetNames()));
        error.column = "strategy";
        return Unexpected(std::move(error));
    }
    return strategy::ParseStrategy(preset->json, registry);
}

std::string_view Trim(std::string_view text) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const size_t last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::string> Param(const QueryParams& params, std::string_view name) {
    const auto found = params.find(std::string(name));
    if (found == params.end()) return std::nullopt;
    return found->second;
}

Error BadParameter(std::string_view name, std::string message) {
    Error error = BadRequest("bad_parameter", std::move(message));
    error.column = std::string(name);
    return error;
}

Expected<Paging> ParsePaging(const QueryParams& params) {
    Paging paging;
    if (const auto limit = Param(params, "limit")) {
        const auto value = ParseInteger(*limit);
        if (!value || *value < 1 || *value > kMaxLimit) {
            return Unexpected(BadParameter(
                "limit", fmt::format("'limit' must be a whole number from 1 to {}, not '{}'.", kMaxLimit, *limit)));
        }
        paging.limit = *value;
    }
    if (const auto offset = Param(params, "offset")) {
        const auto value = ParseInteger(*offset);
        if (!value || *value < 0) {
            return Unexpected(BadParameter(
                "offset", fmt::format("'offset' must be a whole number of 0 or more, not '{}'.", *offset)));
        }
        paging.offset = *value;
    }
    return paging;
}

Expected<store::ResultQuery> ParseResultQuery(const QueryParams& params) {
    auto paging = ParsePaging(params);
    if (!paging) return Unexpected(std::move(paging).error());
    store::ResultQuery query{.limit = paging->limit, .offset = paging->offset};
    auto min_score = ParseScoreParam(params, "min_score");
    if (!min_score) return Unexpected(std::move(min_score).error());
    query.min_score = *min_score;
    if (const auto flagged = Param(params, "flagged")) {
        if (*flagged == "true" || *flagged == "1") {
            query.flagged_only = true;
        } else if (*flagged != "false" && *flagged != "0") {
            return Unexpected(
                BadParameter("flagged", fmt::format("'flagged' must be true or false, not '{}'.", *flagged)));
        }
    }
    query.algorithm = Param(params, "algorithm").value_or("");
    query.account = Param(params, "account").value_or("");
    auto dates = ParseDateRange(params);
    if (!dates) return Unexpected(std::move(dates).error());
    std::tie(query.date_from, query.date_to) = *dates;
    constexpr std::array<Choice<store::ResultSort>, 3> kSorts = {
        {{"rank", store::ResultSort::kRank}, {"score", store::ResultSort::kScore}, {"date", store::ResultSort::kDate}}};
    auto sort = ParseChoice(params, "sort", kSorts);
    if (!sort) return Unexpected(std::move(sort).error());
    query.sort = sort->value_or(store::ResultSort::kRank);
    auto order = ParseChoice(params, "order", kOrders);
    if (!order) return Unexpected(std::move(order).error());
    const bool high_first = query.sort == store::ResultSort::kScore;
    query.order = order->value_or(high_first ? store::SortOrder::kDescending : store::SortOrder::kAscending);
    return query;
}

Expected<store::TransactionQuery> ParseTransactionQuery(const QueryParams& params) {
    auto paging = ParsePaging(params);
    if (!paging) return Unexpected(std::move(paging).error());
    store::TransactionQuery query{.upload_id = Param(params, "upload_id").value_or(""),
                                  .account = Param(params, "account").value_or(""),
                                  .user = Param(params, "user").value_or(""),
                                  .text = Param(params, "q").value_or(""),
                                  .run_id = Param(params, "run_id").value_or(""),
                                  .limit = paging->limit,
                                  .offset = paging->offset};
    auto dates = ParseDateRange(params);
    if (!dates) return Unexpected(std::move(dates).error());
    std::tie(query.date_from, query.date_to) = *dates;
    for (const auto& [name, bound] : {std::pair{"amount_min", &query.amount_min}, {"amount_max", &query.amount_max}}) {
        auto amount = ParseAmountParam(params, name);
        if (!amount) return Unexpected(std::move(amount).error());
        *bound = *amount;
    }
    if (query.amount_min && query.amount_max && *query.amount_max < *query.amount_min) {
        return Unexpected(BadParameter("amount_max", "'amount_max' is below 'amount_min'."));
    }
    auto min_score = ParseScoreParam(params, "min_score");
    if (!min_score) return Unexpected(std::move(min_score).error());
    query.min_score = *min_score;
    if (query.min_score && query.run_id.empty()) {
        return Unexpected(
            BadParameter("min_score", "'min_score' filters on the scores of one run: give 'run_id' too."));
    }
    constexpr std::array<Choice<store::TransactionSort>, 4> kSorts = {{{"date", store::TransactionSort::kDate},
                                                                       {"amount", store::TransactionSort::kAmount},
                                                                       {"row", store::TransactionSort::kRow},
                                                                       {"score", store::TransactionSort::kScore}}};
    auto sort = ParseChoice(params, "sort", kSorts);
    if (!sort) return Unexpected(std::move(sort).error());
    query.sort = sort->value_or(store::TransactionSort::kRow);
    if (query.sort == store::TransactionSort::kScore && query.run_id.empty()) {
        return Unexpected(BadParameter("sort", "'sort=score' sorts by the scores of one run: give 'run_id' too."));
    }
    auto order = ParseChoice(params, "order", kOrders);
    if (!order) return Unexpected(std::move(order).error());
    const bool high_first = query.sort == store::TransactionSort::kScore;
    query.order = order->value_or(high_first ? store::SortOrder::kDescending : store::SortOrder::kAscending);
    return query;
}

Expected<void> CheckAlgorithmLabel(std::string_view configuration, std::string_view label) {
    const nlohmann::json strategy = nlohmann::json::parse(configuration, nullptr, /*allow_exceptions=*/false);
    std::string labels;
    if (strategy.is_object() && strategy.contains("algorithms") && strategy["algorithms"].is_array()) {
        for (const nlohmann::json& entry : strategy["algorithms"]) {
            if (!entry.is_object()) continue;
            const nlohmann::json& name =
                entry.contains("label") ? entry["label"] : entry.value("name", nlohmann::json());
            if (!name.is_string()) continue;
            if (name.get<std::string>() == label) return {};
            labels += fmt::format("{}{}", labels.empty() ? "" : ", ", name.get<std::string>());
        }
    }
    return Unexpected(BadParameter("algorithm", fmt::format("The run has no algorithm labelled '{}'; its algorithms "
                                                            "are: {}.",
                                                            label, labels.empty() ? "none" : labels)));
}

Expected<strategy::Strategy> ParseStrategyText(std::string_view text, const detect::Registry& registry) {
    const std::string_view trimmed = Trim(text);
    if (trimmed.starts_with('{')) return strategy::ParseStrategy(trimmed, registry);
    return ParsePresetName(trimmed, registry);
}

Expected<RunRequest> ParseRunRequest(std::string_view body, const detect::Registry& registry) {
    const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
        return Unexpected(BadRequest("bad_json", R"(The body must be a JSON object: {"upload_id": "...", )"
                                                 R"("strategy": "quick-scan"}.)"));
    }
    const auto upload_id = json.find("upload_id");
    if (upload_id == json.end() || !upload_id->is_string() || upload_id->get<std::string>().empty()) {
        Error error = BadRequest("missing_upload_id", "The body needs \"upload_id\": the id of a completed upload.");
        error.column = "upload_id";
        return Unexpected(std::move(error));
    }
    RunRequest request{.upload_id = upload_id->get<std::string>()};
    const auto chosen = json.find("strategy");
    if (const auto strategy_id = json.find("strategy_id"); strategy_id != json.end() && !strategy_id->is_null()) {
        if (!strategy_id->is_string() || strategy_id->get<std::string>().empty()) {
            return Unexpected(BadParameter("strategy_id",
                                           "\"strategy_id\" must be the id of a saved strategy or the "
                                           "name of a built-in one."));
        }
        if (chosen != json.end() && !chosen->is_null()) {
            return Unexpected(BadParameter("strategy_id", "Give either \"strategy\" or \"strategy_id\", not both."));
        }
        request.strategy_id = strategy_id->get<std::string>();
        return request;
    }
    if (chosen == json.end() || chosen->is_null()) return request;
    auto parsed = [&]() -> Expected<strategy::Strategy> {
        if (chosen->is_string()) return ParsePresetName(chosen->get<std::string>(), registry);
        if (chosen->is_object()) return strategy::ParseStrategy(chosen->dump(), registry);
        Error error = InvalidInput("bad_strategy", "\"strategy\" must be a strategy name or a strategy object.");
        error.column = "strategy";
        return Unexpected(std::move(error));
    }();
    if (!parsed) return Unexpected(std::move(parsed).error());
    request.strategy = std::move(*parsed);
    return request;
}

}  // namespace granska::api::detail

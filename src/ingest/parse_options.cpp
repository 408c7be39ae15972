#include "ingest/parse_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "ingest/detail/decoding_streambuf.h"
#include "ingest/detail/text.h"

namespace granska::ingest {

namespace {

Error BadParameter(std::string_view name, std::string message) {
    Error error = BadRequest("bad_parameter", std::move(message));
    error.column = std::string(name);
    return error;
}

Expected<char> OneOf(std::string_view name, const std::string& text, std::string_view allowed, std::string_view hint) {
    if (text.size() == 1 && allowed.find(text[0]) != std::string_view::npos) return text[0];
    return Unexpected(BadParameter(name, fmt::format("'{}' must be {}, not '{}'.", name, hint, text)));
}

}  // namespace

Expected<ParseOptions> ParseOptionsFromFields(const OptionLookup& lookup) {
    ParseOptions options;
    if (const auto text = lookup("format"); text && !text->empty() && detail::AsciiLower(*text) != "auto") {
        options.format = FormatFromName(*text);
        if (!options.format) {
            return Unexpected(BadParameter(
                "format",
                fmt::format("'format' must be csv, json, xlsx, xls, sie or xml (or auto), not '{}'.", *text)));
        }
    }
    if (const auto text = lookup("delimiter"); text && !text->empty()) {
        if (*text == "\\t" || detail::AsciiLower(*text) == "tab" || *text == "\t") {
            options.dialect.delimiter = '\t';
        } else if (text->size() == 1 && (*text)[0] != '"' && (*text)[0] != '\'' && (*text)[0] != '\r' &&
                   (*text)[0] != '\n') {
            options.dialect.delimiter = (*text)[0];
        } else {
            return Unexpected(BadParameter(
                "delimiter", fmt::format("'delimiter' must be one character such as , ; | or \\t, not '{}'.", *text)));
        }
    }
    if (const auto text = lookup("quote"); text && !text->empty()) {
        auto quote = OneOf("quote", *text, "\"'", "\" or '");
        if (!quote) return Unexpected(std::move(quote).error());
        options.dialect.quote = *quote;
    }
    if (const auto text = lookup("decimal"); text && !text->empty()) {
        auto decimal = OneOf("decimal", *text, ".,", "'.' or ','");
        if (!decimal) return Unexpected(std::move(decimal).error());
        options.dialect.decimal_separator = *decimal;
    }
    if (const auto text = lookup("thousands"); text && !text->empty()) {
        if (detail::AsciiLower(*text) == "none") {
            options.dialect.thousands_separator = '\0';
        } else if (detail::AsciiLower(*text) == "space") {
            options.dialect.thousands_separator = ' ';
        } else {
            auto thousands = OneOf("thousands", *text, " .,'", "one of space . , ' or none");
            if (!thousands) return Unexpected(std::move(thousands).error());
            options.dialect.thousands_separator = *thousands;
        }
    }
    if (const auto text = lookup("date_format"); text && !text->empty()) {
        const std::string format = detail::AsciiLower(*text);
        if (format != "iso" && format != "ymd" && format != "dmy" && format != "mdy") {
            return Unexpected(BadParameter(
                "date_format",
                fmt::format("'date_format' must be iso (2024-03-31), ymd (20240331), dmy (31/03/2024) or mdy "
                            "(03/31/2024), not '{}'.",
                            *text)));
        }
        options.dialect.date_format = format;
    }
    if (const auto text = lookup("encoding"); text && !text->empty()) {
        if (!detail::TextEncodingFromName(*text)) {
            return Unexpected(BadParameter(
                "encoding", fmt::format("'encoding' must be utf-8, utf-16le, utf-16be, windows-1252 or latin-1, not "
                                        "'{}'.",
                                        *text)));
        }
        options.dialect.encoding = *text;
    }
    if (const auto text = lookup("sheet")) options.sheet = *text;
    if (const auto text = lookup("element")) options.xml_element = *text;
    if (const auto text = lookup("lenient"); text && !text->empty()) {
        const std::string value = detail::AsciiLower(*text);
        if (value == "true" || value == "1" || value == "yes") {
            options.lenient = true;
        } else if (value != "false" && value != "0" && value != "no") {
            return Unexpected(
                BadParameter("lenient", fmt::format("'lenient' must be true or false, not '{}'.", *text)));
        }
    }
    if (const auto text = lookup("bad_rows"); text && !text->empty()) {
        const std::optional<BadRowPolicy> policy = BadRowPolicyFromName(*text);
        if (!policy) {
            return Unexpected(BadParameter(
                "bad_rows", fmt::format("'bad_rows' must be skip_row (load the good rows, report the bad ones) or "
                                        "reject_file (any bad row fails the file), not '{}'.",
                                        *text)));
        }
        options.bad_rows = *policy;
    }
    if (const auto text = lookup("mapping"); text && !text->empty()) {
        auto mapping = ParseColumnMapping(*text);
        if (!mapping) {
            Error error = std::move(mapping).error();
            if (error.column.empty()) error.column = "mapping";
            return Unexpected(std::move(error));
        }
        options.mapping = std::move(*mapping);
    }
    if (const auto text = lookup("max_rows"); text && !text->empty()) {
        uint64_t value = 0;
        const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (error != std::errc() || end != text->data() + text->size() || value == 0) {
            return Unexpected(
                BadParameter("max_rows", fmt::format("'max_rows' must be a whole number above 0, not '{}'.", *text)));
        }
        options.limits.max_rows = std::min(value, options.limits.max_rows);
    }
    return options;
}

std::string MappingJson(const ColumnMapping& mapping) { return nlohmann::json(mapping.field_to_header).dump(); }

}  // namespace granska::ingest

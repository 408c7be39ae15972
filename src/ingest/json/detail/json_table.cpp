#include "ingest/json/detail/json_table.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "ingest/detail/text.h"

namespace granska::ingest::detail {

namespace {

namespace ondemand = simdjson::ondemand;
using ondemand::json_type;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kUtf16LeBom = "\xFF\xFE";
constexpr std::string_view kUtf16BeBom = "\xFE\xFF";
// Members of an object root that hold the rows, in order of preference when several hold arrays of objects.
constexpr std::array<std::string_view, 6> kRowMembers = {"transactions", "rows", "data", "items", "records", "entries"};
constexpr int64_t kProgressRows = 4096;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimJsonSpace(std::string_view s) {
    while (!s.empty() && IsJsonSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
    return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t OffsetIn(std::string_view text, const char* p) { return static_cast<size_t>(p - text.data()); }

// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text) {
    size_t i = 0;
    const auto digits = [&] {
        const size_t start = i;
        while (i < text.size() && IsDigit(text[i])) ++i;
        return i - start;
    };
    if (i < text.size() && text[i] == '-') ++i;
    if (i < text.size() && text[i] == '0') {
        ++i;
    } else if (digits() == 0) {
        return false;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (digits() == 0) return false;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    return i == text.size();
}

std::string_view Describe(json_type type) {
    switch (type) {
        case json_type::array:
            return "an array";
        case json_type::object:
            return "an object";
        case json_type::number:
            return "a number";
        case json_type::string:
            return "a string";
        case json_type::boolean:
            return "true or false";
        case json_type::null:
            return "null";
    }
    return "a value";
}

std::string_view DescribePlural(json_type type) {
    switch (type) {
        case json_type::array:
            return "arrays";
        case json_type::object:
            return "objects";
        case json_type::number:
            return "numbers";
        case json_type::string:
            return "strings";
        case json_type::boolean:
            return "booleans";
        case json_type::null:
            return "nulls";
    }
    return "values";
}

// What a JSON text starts with, for messages about a root or a line that is not an object.
std::string DescribeStart(std::string_view text) {
    switch (text.empty() ? '\0' : text.front()) {
        case '[':
            return "an array";
        case '{':
            return "an object";
        case '"':
            return "a string";
        case 't':
        case 'f':
            return "true or false";
        case 'n':
            return "null";
        default:
            if (text.front() == '-' || IsDigit(text.front())) return "a number";
            return fmt::format("text that is not JSON ('{}')", Excerpt(text, 20));
    }
}

// simdjson's message without its closing period, to continue the sentence.
std::string_view SimdjsonMessage(simdjson::error_code code) {
    std::string_view message = simdjson::error_message(code);
    while (!message.empty() && (message.back() == '.' || message.back() == ' ')) message.remove_suffix(1);
    return message;
}

// The 1-based line of byte offsets that move forward, each newline counted once per pass.
class LineCounter {
public:
    void Reset(std::string_view text) {
        text_ = text;
        offset_ = 0;
        line_ = 1;
    }
    int64_t LineAt(size_t offset) {
        offset = std::min(offset, text_.size());
        if (offset < offset_) Reset(text_);
        const char* p = text_.data() + offset_;
        const char* end = text_.data() + offset;
        while (p < end) {
            p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
            if (p == nullptr) break;
            ++line_;
            ++p;
        }
        offset_ = offset;
        return line_;
    }

private:
    std::string_view text_;
    size_t offset_ = 0;
    int64_t line_ = 1;
};

// Where a string error found before parsing lies: the first raw control character inside a string, or else the
// opening quote of a string that never closes.
std::optional<size_t> FindStringError(std::string_view text) {
    bool in_string = false;
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (!in_string) {
            if (c == '"') {
                in_string = true;
                start = i;
            }
        } else if (c == '\\') {
            ++i;
        } else if (c == '"') {
            in_string = false;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            return i;
        }
    }
    if (in_string) return start;
    return std::nullopt;
}

// The first line (1-based) that is not valid UTF-8; a newline is never part of a multi-byte sequence.
int64_t FirstBadUtf8Line(std::string_view text) {
    int64_t line = 1;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        if (!simdjson::validate_utf8(text.data() + start, end - start)) return line;
        ++line;
        start = end + 1;
    }
    return 1;
}

// UTF-16 (after its byte-order mark) as UTF-8, or the line of the first malformed code unit.
Expected<std::string> DecodeUtf16(std::string_view bytes, bool little_endian, const ParseOptions& options) {
    const auto unit_at = [&](size_t i) {
        const auto first = static_cast<unsigned char>(bytes[i]);
        const auto second = static_cast<unsigned char>(bytes[i + 1]);
        return little_endian ? static_cast<uint32_t>(first | (second << 8))
                             : static_cast<uint32_t>((first << 8) | second);
    };
    const std::string_view name = little_endian ? "UTF-16LE" : "UTF-16BE";
    if (bytes.size() % 2 != 0) {
        return Unexpected(FileError(options, "bad_encoding",
                                    fmt::format("The file is {} but has an odd number of bytes, so it is cut short. "
                                                "Export it again, preferably as UTF-8.",
                                                name)));
    }
    std::string out;
    out.reserve(bytes.size() / 2 * 3 / 2);
    int64_t line = 1;
    for (size_t i = 0; i < bytes.size(); i += 2) {
        uint32_t code = unit_at(i);
        if (code >= 0xD800 && code <= 0xDFFF) {
            const uint32_t low = i + 3 < bytes.size() ? unit_at(i + 2) : 0;
            if (code > 0xDBFF || low < 0xDC00 || low > 0xDFFF) {
                return Unexpected(FileError(
                    options, "bad_encoding",
                    fmt::format("Line {} is not valid {}: it has a lone surrogate (0x{:04X}). Export the file again, "
                                "preferably as UTF-8.",
                                line, name, code),
                    line));
            }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            i += 2;
        }
        if (code == '\n') ++line;
        if (code < 0x80) {
            out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (code >> 6)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else if (code < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (code >> 12)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (code >> 18)));
            out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
    }
    return out;
}

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A column's key path, and whether it can be compared with a key's raw bytes (nothing in it JSON escapes).
struct ColumnName {
    std::string_view name;
    bool plain = false;
};

bool IsPlain(std::string_view name) {
    return std::none_of(name.begin(), name.end(),
                        [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; });
}

// A member of an object root, for choosing the one that holds the rows.
struct RootMember {
    std::string key;
    std::string what;    // "an array of objects", "a string", ...
    bool rows = false;   // an array whose first element is an object
    bool empty = false;  // an empty array
};

}  // namespace

class JsonTableReader::Impl {
public:
    explicit Impl(const ParseOptions& options)
        : options_(options), max_depth_(std::clamp(options.limits.max_depth, 0, kMaxSupportedDepth)) {}

    Expected<JsonTable> Load(const std::filesystem::path& path) {
        simdjson::padded_string buffer;
        if (simdjson::padded_string::load(path.string()).get(buffer) != simdjson::SUCCESS) {
            return Unexpected(
                FileError(options_, "unreadable_file", fmt::format("Cannot read the file '{}'.", path.string())));
        }
        return Prepare(std::move(buffer));
    }

    Expected<JsonTable> LoadBytes(std::string_view bytes) { return Prepare(simdjson::padded_string(bytes)); }

    Expected<void> ReadRows(const JsonRowCallback& row, ParseReport& report, const ByteProgress& progress);

private:
    Expected<JsonTable> Prepare(simdjson::padded_string buffer);
    Expected<void> Decode();
    Expected<void> DetectShape();
    bool FirstLineIsObject(std::string_view line);
    Expected<void> ChooseRootMember();

    // Calls visit(row object, depth) for each row in file order, checking the structure around the rows.
    template <typename Visit>
    Expected<void> ForEachRow(Visit&& visit);
    template <typename Visit>
    Expected<void> ForEachDocumentRow(Visit&& visit);
    template <typename Visit>
    Expected<void> ForEachLineRow(Visit&& visit);

    Expected<void> CollectRow(ondemand::object row, int depth);
    Expected<void> CollectFields(ondemand::object object, size_t prefix_length, int depth);
    Expected<void> EmitRow(ondemand::object row, int depth);
    Expected<void> EmitFields(ondemand::object object, size_t prefix_length, int depth);
    // Per-value readers return the error, if any, so the common case builds no Expected.
    std::optional<Error> ReadScalar(ondemand::value value, json_type type, std::string_view path, Cell& cell);
    std::optional<Error> ArrayText(ondemand::value value, int depth, std::string_view path, std::string_view& text);
    Expected<void> Validate(ondemand::value value, int depth, std::string_view path);

    // The dotted path of a key below the prefix held in path_; a top-level key is returned without a copy.
    std::string_view Path(size_t prefix_length, std::string_view key) {
        if (prefix_length == 0) return key;
        path_.resize(prefix_length);
        path_.append(key);
        return path_;
    }
    // The column of a leaf, guessing from the previous row's key order; adds it in the first pass. kNoColumn when
    // the key is new in the second pass or there are already kMaxColumns.
    static constexpr uint32_t kNoColumn = UINT32_MAX;
    uint32_t Column(std::string_view path, bool add);
    // A field's key. When its raw bytes are the next predicted column's last part, that is the key and nothing
    // needs unescaping (a key with escapes never matches, so it is unescaped).
    simdjson::error_code Key(ondemand::field& field, size_t prefix_length, std::string_view& key);

    size_t OffsetOf(const char* p) const { return static_cast<size_t>(p - text_.data()); }
    // Bytes simdjson may read from p on: the rest of the buffer and its padding.
    size_t Capacity(const char* p) const {
        return static_cast<size_t>(buffer_.data() + buffer_.size() + simdjson::SIMDJSON_PADDING - p);
    }
    int64_t LineAt(const char* p) { return lines_.LineAt(OffsetOf(p)); }
    uint64_t FileBytes(size_t offset) const;
    Error RowError(std::string code, std::string message, std::string_view path = {}) const {
        return FileError(options_, std::move(code), std::move(message), row_line_, std::string(path));
    }
    Error TooLarge(std::string code, std::string message, std::optional<int64_t> line) const {
        Error error = FileError(options_, std::move(code), std::move(message), line);
        error.kind = ErrorKind::kTooLarge;
        return error;
    }
    Error SyntaxError(simdjson::error_code code, std::string_view path);
    Error TextError(simdjson::error_code code, std::string_view text);
    Error TooDeep(std::string_view path) const {
        return RowError(
            "too_deep",
            fmt::format("The object on line {} nests deeper than {} levels{}. Flatten the file, or raise "
                        "the depth limit if the nesting is intended.",
                        row_line_, max_depth_, path.empty() ? "" : fmt::format(" (at \"{}\")", Excerpt(path))),
            path);
    }
    Error InvalidValue(std::string_view path, std::string_view found) {
        return RowError("invalid_json",
                        fmt::format("The value of \"{}\" in the object on line {} is not valid JSON ('{}'); it must "
                                    "be a string, a number, true, false, null, an object or an array.",
                                    Excerpt(path), row_line_, Excerpt(found, 20)),
                        path);
    }

    const ParseOptions& options_;
    const int max_depth_;
    simdjson::padded_string buffer_;
    std::string_view text_;  // the UTF-8 JSON inside buffer_ (after a byte-order mark)
    size_t text_start_ = 0;  // bytes of the file before text_ (the byte-order mark)
    uint64_t file_bytes_ = 0;
    ondemand::parser parser_;
    ondemand::document document_;            // shapes "array" and "object"
    ondemand::document line_;                // shape "ndjson": the line being read
    ondemand::document* current_ = nullptr;  // document_ or line_
    size_t root_member_ = 0;                 // shape "object": position of the member with the rows
    LineCounter lines_;
    int64_t row_line_ = 0;
    const char* row_start_ = nullptr;

    JsonTable table_;
    std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> columns_;  // key path -> column
    std::vector<ColumnName> names_;    // by column; the names live in columns_, whose nodes do not move
    std::vector<uint32_t> predicted_;  // column of the n-th leaf of the previous row
    size_t leaf_ = 0;                  // leaves of the current row so far
    std::string path_;

    // Second pass: the current row.
    std::vector<Cell> cells_;
    std::vector<int64_t> cell_row_;  // the row that last set each cell, to find duplicate keys
    std::vector<uint32_t> filled_;
    int64_t row_index_ = 0;
    ParseReport* report_ = nullptr;
};

Expected<JsonTable> JsonTableReader::Impl::Prepare(simdjson::padded_string buffer) {
    buffer_ = std::move(buffer);
    file_bytes_ = buffer_.size();
    if (auto decoded = Decode(); !decoded) return Unexpected(std::move(decoded).error());
    lines_.Reset(text_);
    if (auto shape = DetectShape(); !shape) return Unexpected(std::move(shape).error());

    auto collected = ForEachRow([this](ondemand::object row, int depth) { return CollectRow(row, depth); });
    if (!collected) return Unexpected(std::move(collected).error());
    for (const ColumnName& column : names_) table_.headers.emplace_back(column.name);
    if (table_.rows == 0) {
        return Unexpected(FileError(options_, "no_data_rows",
                                    fmt::format("The {} has no rows; upload a file with at least one transaction.",
                                                table_.shape == "ndjson"  ? "file"
                                                : table_.shape == "array" ? "top-level array"
                                                                          : fmt::format("array \"{}\"", table_.root))));
    }
    return table_;
}

Expected<void> JsonTableReader::Impl::Decode() {
    const std::string_view bytes(buffer_.data(), buffer_.size());
    if (bytes.starts_with(kUtf16LeBom) || bytes.starts_with(kUtf16BeBom)) {
        const bool little_endian = bytes.starts_with(kUtf16LeBom);
        auto decoded = DecodeUtf16(bytes.substr(2), little_endian, options_);
        if (!decoded) return Unexpected(std::move(decoded).error());
        table_.encoding = little_endian ? "utf-16le" : "utf-16be";
        buffer_ = simdjson::padded_string(*decoded);
        text_ = std::string_view(buffer_.data(), buffer_.size());
    } else if (bytes.starts_with(kUtf8Bom)) {
        table_.encoding = "utf-8-bom";
        text_start_ = kUtf8Bom.size();
        text_ = bytes.substr(kUtf8Bom.size());
    } else {
        table_.encoding = "utf-8";
        text_ = bytes;
    }
    if (TrimJsonSpace(text_).empty()) {
        return Unexpected(FileError(options_, "empty_file",
                                    "The file has no JSON in it (only blank space); upload a file with transactions."));
    }
    if (text_.size() >= 2 && (text_[0] == '\0' || text_[1] == '\0')) {
        return Unexpected(FileError(options_, "bad_encoding",
                                    "The file looks like UTF-16 without a byte-order mark; JSON must be UTF-8. Save "
                                    "it again as UTF-8.",
                                    1));
    }
    return {};
}

Expected<void> JsonTableReader::Impl::DetectShape() {
    const size_t first = text_.find_first_not_of(" \t\r\n");
    const char start = text_[first];
    if (start == '{') {
        const size_t line_end = std::min(text_.find('\n', first), text_.size());
        const std::string_view line = TrimJsonSpace(text_.substr(first, line_end - first));
        if (line.ends_with('}') && !TrimJsonSpace(text_.substr(line_end)).empty() && FirstLineIsObject(line)) {
            table_.shape = "ndjson";
            return {};
        }
    } else if (start != '[') {
        return Unexpected(
            FileError(options_, "bad_json_root",
                      fmt::format("The file holds {}, not transactions. Write them as an array of objects "
                                  "([{{\"date\": ..., \"amount\": ...}}, ...]), an object holding such an array "
                                  "({{\"transactions\": [...]}}) or one object per line (NDJSON).",
                                  DescribeStart(text_.substr(first))),
                      lines_.LineAt(first)));
    }

    if (auto error = parser_.iterate(text_.data(), text_.size(), Capacity(text_.data())).get(document_)) {
        return Unexpected(TextError(error, text_));
    }
    current_ = &document_;
    table_.shape = start == '[' ? "array" : "object";
    if (start == '{') return ChooseRootMember();
    return {};
}

bool JsonTableReader::Impl::FirstLineIsObject(std::string_view line) {
    ondemand::document document;
    if (parser_.iterate(line.data(), line.size(), Capacity(line.data())).get(document)) return false;
    ondemand::object object;
    std::string_view raw;
    if (document.get_object().get(object) || object.raw_json().get(raw)) return false;
    const char* rest = nullptr;
    return document.current_location().get(rest) != simdjson::SUCCESS;  // nothing after the object
}

Expected<void> JsonTableReader::Impl::ChooseRootMember() {
    ondemand::object root;
    if (auto error = document_.get_object().get(root)) return Unexpected(SyntaxError(error, {}));
    std::vector<RootMember> members;
    for (auto field_result : root) {
        ondemand::field field;
        std::string_view key;
        json_type type{};
        if (auto error = std::move(field_result).get(field)) return Unexpected(SyntaxError(error, {}));
        if (auto error = field.unescaped_key().get(key)) return Unexpected(SyntaxError(error, {}));
        ondemand::value value = field.value();
        if (auto error = value.type().get(type)) return Unexpected(SyntaxError(error, key));
        RootMember member{.key = std::string(key), .what = std::string(Describe(type))};
        if (type == json_type::array) {
            ondemand::array array;
            if (auto error = value.get_array().get(array)) return Unexpected(SyntaxError(error, key));
            member.empty = true;
            for (auto element : array) {
                ondemand::value first;
                json_type first_type{};
                if (auto error = element.get(first)) return Unexpected(SyntaxError(error, key));
                if (auto error = first.type().get(first_type)) return Unexpected(SyntaxError(error, key));
                member.empty = false;
                member.rows = first_type == json_type::object;
                member.what = fmt::format("an array of {}", DescribePlural(first_type));
                break;
            }
            if (member.empty) member.what = "an empty array";
        }
        members.push_back(std::move(member));
    }

    const auto found = [&](auto&& predicate) { return std::find_if(members.begin(), members.end(), predicate); };
    auto chosen = members.end();
    for (const std::string_view name : kRowMembers) {
        chosen = found([&](const RootMember& m) { return m.rows && m.key == name; });
        if (chosen != members.end()) break;
    }
    if (chosen == members.end()) {
        const auto candidates =
            std::count_if(members.begin(), members.end(), [](const RootMember& m) { return m.rows; });
        if (candidates == 1) chosen = found([](const RootMember& m) { return m.rows; });
        if (candidates > 1) {
            std::string names;
            for (const RootMember& m : members) {
                if (m.rows) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", Excerpt(m.key, 40));
            }
            return Unexpected(
                FileError(options_, "bad_json_root",
                          fmt::format("The top-level object has several arrays of objects ({}) and none is named "
                                      "transactions, rows, data, items, records or entries; keep only the one with the "
                                      "transactions, or rename it \"transactions\".",
                                      names),
                          1));
        }
    }
    if (chosen == members.end()) {
        const auto empty = found([](const RootMember& m) { return m.empty; });
        if (empty != members.end()) {
            table_.root = empty->key;
            root_member_ = static_cast<size_t>(empty - members.begin());
            return {};  // no rows: reported after the first pass
        }
        std::string listed;
        for (size_t i = 0; i < members.size() && i < 10; ++i) {
            listed += fmt::format("{}\"{}\" ({})", i == 0 ? "" : ", ", Excerpt(members[i].key, 40), members[i].what);
        }
        if (members.size() > 10) listed += fmt::format(" and {} more", members.size() - 10);
        return Unexpected(FileError(
            options_, "bad_json_root",
            fmt::format("The top-level object has no member that is an array of objects ({}). Put the transactions "
                        "in one: {{\"transactions\": [{{\"date\": ..., \"amount\": ...}}, ...]}}, or write one "
                        "object per line (NDJSON).",
                        members.empty() ? "it is empty" : fmt::format("members: {}", listed)),
            1));
    }
    table_.root = chosen->key;
    root_member_ = static_cast<size_t>(chosen - members.begin());
    return {};
}

template <typename Visit>
Expected<void> JsonTableReader::Impl::ForEachRow(Visit&& visit) {
    lines_.Reset(text_);
    if (table_.shape == "ndjson") return ForEachLineRow(visit);
    return ForEachDocumentRow(visit);
}

template <typename Visit>
Expected<void> JsonTableReader::Impl::ForEachDocumentRow(Visit&& visit) {
    document_.rewind();
    current_ = &document_;
    row_line_ = 0;
    const auto each = [&](ondemand::array rows, int depth) -> Expected<void> {
        for (auto element : rows) {
            ondemand::value row;
            json_type type{};
            ondemand::object object;
            if (auto error = element.get(row)) return Unexpected(SyntaxError(error, {}));
            row_start_ = row.raw_json_token().data();
            row_line_ = LineAt(row_start_);
            if (auto error = row.type().get(type)) return Unexpected(SyntaxError(error, {}));
            if (type != json_type::object) {
                return Unexpected(
                    RowError("row_not_object",
                             fmt::format("The row on line {} is {}, not an object; each row must be an object such as "
                                         "{{\"date\": \"2024-03-31\", \"amount\": 12.50}}.",
                                         row_line_, Describe(type))));
            }
            if (depth > max_depth_) return Unexpected(TooDeep({}));
            if (auto error = row.get_object().get(object)) return Unexpected(SyntaxError(error, {}));
            if (auto visited = visit(object, depth); !visited) return visited;
        }
        return {};
    };
    std::string_view root_kind;
    if (table_.shape == "array") {
        root_kind = "array";
        ondemand::array rows;
        if (auto error = document_.get_array().get(rows)) return Unexpected(TextError(error, text_));
        if (auto done = each(rows, 2); !done) return done;
    } else {
        root_kind = "object";
        ondemand::object root;
        if (auto error = document_.get_object().get(root)) return Unexpected(TextError(error, text_));
        size_t index = 0;
        for (auto field_result : root) {
            ondemand::field field;
            std::string_view key;
            if (auto error = std::move(field_result).get(field)) return Unexpected(SyntaxError(error, {}));
            if (auto error = field.unescaped_key().get(key)) return Unexpected(SyntaxError(error, {}));
            ondemand::value value = field.value();
            if (index++ != root_member_) {  // the other members are checked, not read
                row_line_ = LineAt(value.raw_json_token().data());
                if (auto validated = Validate(value, 2, key); !validated) return validated;
                continue;
            }
            ondemand::array rows;
            if (auto error = value.get_array().get(rows)) return Unexpected(SyntaxError(error, table_.root));
            if (auto done = each(rows, 3); !done) return done;
        }
    }
    const char* rest = nullptr;
    if (document_.current_location().get(rest) == simdjson::SUCCESS) {
        const int64_t line = LineAt(rest);
        return Unexpected(FileError(
            options_, "invalid_json",
            fmt::format("There is more after the end of the top-level {} on line {}; a JSON file holds one value. "
                        "Remove what follows, or write one object per line (NDJSON).",
                        root_kind, line),
            line));
    }
    return {};
}

template <typename Visit>
Expected<void> JsonTableReader::Impl::ForEachLineRow(Visit&& visit) {
    size_t start = 0;
    int64_t line = 0;
    while (start < text_.size()) {
        const size_t line_end = std::min(text_.find('\n', start), text_.size());
        const std::string_view content = TrimJsonSpace(text_.substr(start, line_end - start));
        start = line_end + 1;
        ++line;
        if (content.empty()) continue;  // blank lines are allowed
        row_line_ = line;
        row_start_ = content.data();
        if (auto error = parser_.iterate(content.data(), content.size(), Capacity(content.data())).get(line_)) {
            return Unexpected(TextError(error, content));
        }
        current_ = &line_;
        if (content.front() != '{') {
            return Unexpected(
                RowError("row_not_object", fmt::format("Line {} holds {}, not an object; an NDJSON file has one object "
                                                       "per line ({{\"date\": ..., \"amount\": ...}}).",
                                                       line, DescribeStart(content))));
        }
        if (max_depth_ < 1) return Unexpected(TooDeep({}));
        ondemand::object row;
        if (auto error = line_.get_object().get(row)) return Unexpected(SyntaxError(error, {}));
        if (auto visited = visit(row, 1); !visited) return visited;
        const char* rest = nullptr;
        if (line_.current_location().get(rest) == simdjson::SUCCESS) {
            return Unexpected(
                RowError("invalid_json",
                         fmt::format("Line {} has more after the end of its object ('{}'); an NDJSON "
                                     "file has exactly one object per line.",
                                     line, Excerpt(TrimJsonSpace(content.substr(OffsetIn(content, rest))), 20))));
        }
    }
    return {};
}

Expected<void> JsonTableReader::Impl::CollectRow(ondemand::object row, int depth) {
    if (table_.rows == 0) table_.first_line = row_line_;
    if (static_cast<uint64_t>(++table_.rows) > options_.limits.max_rows) {
        return Unexpected(TooLarge("too_many_rows",
                                   fmt::format("The file has more than {} rows, the most one upload may have. Split "
                                               "it (e.g. by fiscal year) and upload the parts.",
                                               options_.limits.max_rows),
                                   row_line_));
    }
    leaf_ = 0;
    return CollectFields(row, 0, depth);
}

Expected<void> JsonTableReader::Impl::CollectFields(ondemand::object object, size_t prefix_length, int depth) {
    for (auto field_result : object) {
        ondemand::field field;
        std::string_view key;
        json_type type{};
        if (auto error = std::move(field_result).get(field))
            return Unexpected(SyntaxError(error, path_.substr(0, prefix_length)));
        if (auto error = Key(field, prefix_length, key))
            return Unexpected(SyntaxError(error, path_.substr(0, prefix_length)));
        const std::string_view path = Path(prefix_length, key);
        if (path.size() > options_.limits.max_field_bytes) {
            return Unexpected(RowError("field_too_long",
                                       fmt::format("A key in the object on line {} is {} bytes long; the limit is {} "
                                                   "bytes. Check that the file is a ledger export.",
                                                   row_line_, path.size(), options_.limits.max_field_bytes),
                                       Excerpt(path)));
        }
        ondemand::value value = field.value();
        if (auto error = value.type().get(type)) return Unexpected(SyntaxError(error, path));
        if (type != json_type::object) {
            if (Column(path, true) == kNoColumn) {
                return Unexpected(TooLarge("too_many_columns",
                                           fmt::format("The rows have more than {} different keys; a ledger has far "
                                                       "fewer. Check that the file holds transactions.",
                                                       kMaxColumns),
                                           row_line_));
            }
            continue;
        }
        if (depth + 1 > max_depth_) return Unexpected(TooDeep(path));
        ondemand::object child;
        if (auto error = value.get_object().get(child)) return Unexpected(SyntaxError(error, path));
        if (prefix_length == 0) path_.assign(key);
        path_.push_back('.');
        if (auto collected = CollectFields(child, path_.size(), depth + 1); !collected) return collected;
    }
    return {};
}

simdjson::error_code JsonTableReader::Impl::Key(ondemand::field& field, size_t prefix_length, std::string_view& key) {
    if (leaf_ < predicted_.size()) {
        const ColumnName& predicted = names_[predicted_[leaf_]];
        if (predicted.plain && predicted.name.size() >= prefix_length) {
            const std::string_view expected = predicted.name.substr(prefix_length);
            const char* raw = field.key().raw();
            if (expected.size() < Capacity(raw) && std::memcmp(raw, expected.data(), expected.size()) == 0 &&
                raw[expected.size()] == '"') {
                key = expected;
                return simdjson::SUCCESS;
            }
        }
    }
    return field.unescaped_key().get(key);
}

uint32_t JsonTableReader::Impl::Column(std::string_view path, bool add) {
    const size_t leaf = leaf_++;
    if (leaf < predicted_.size() && names_[predicted_[leaf]].name == path) return predicted_[leaf];
    uint32_t column = 0;
    if (const auto it = columns_.find(path); it != columns_.end()) {
        column = it->second;
    } else {
        if (!add || names_.size() >= kMaxColumns) return kNoColumn;
        column = static_cast<uint32_t>(names_.size());
        const auto added = columns_.emplace(std::string(path), column).first;
        names_.push_back(ColumnName{.name = added->first, .plain = IsPlain(added->first)});
    }
    if (leaf >= predicted_.size()) predicted_.resize(leaf + 1);
    predicted_[leaf] = column;
    return column;
}

Expected<void> JsonTableReader::Impl::ReadRows(const JsonRowCallback& row, ParseReport& report,
                                               const ByteProgress& progress) {
    report_ = &report;
    cells_.assign(names_.size(), Cell{});
    cell_row_.assign(names_.size(), 0);
    filled_.clear();
    row_index_ = 0;
    auto emitted = ForEachRow([&](ondemand::object object, int depth) -> Expected<void> {
        if (auto read = EmitRow(object, depth); !read) return read;
        Expected<void> accepted = row(cells_, row_line_);
        for (const uint32_t column : filled_) cells_[column] = Cell{};
        filled_.clear();
        if (progress && row_index_ % kProgressRows == 0) progress(FileBytes(OffsetOf(row_start_)));
        return accepted;
    });
    if (!emitted) return emitted;
    if (progress) progress(file_bytes_);
    return {};
}

Expected<void> JsonTableReader::Impl::EmitRow(ondemand::object row, int depth) {
    ++row_index_;
    leaf_ = 0;
    return EmitFields(row, 0, depth);
}

Expected<void> JsonTableReader::Impl::EmitFields(ondemand::object object, size_t prefix_length, int depth) {
    for (auto field_result : object) {
        ondemand::field field;
        std::string_view key;
        json_type type{};
        if (auto error = std::move(field_result).get(field))
            return Unexpected(SyntaxError(error, path_.substr(0, prefix_length)));
        if (auto error = Key(field, prefix_length, key))
            return Unexpected(SyntaxError(error, path_.substr(0, prefix_length)));
        const std::string_view path = Path(prefix_length, key);
        ondemand::value value = field.value();
        if (auto error = value.type().get(type)) return Unexpected(SyntaxError(error, path));
        if (type == json_type::object) {
            ondemand::object child;
            if (auto error = value.get_object().get(child)) return Unexpected(SyntaxError(error, path));
            if (prefix_length == 0) path_.assign(key);
            path_.push_back('.');
            if (auto emitted = EmitFields(child, path_.size(), depth + 1); !emitted) return emitted;
            continue;
        }
        const uint32_t column = Column(path, false);
        if (column == kNoColumn)
            return Unexpected(Internal(fmt::format("JSON key \"{}\" missed by the first pass", path)));
        Cell cell;
        if (type == json_type::array) {
            cell.type = CellType::kText;
            if (auto error = ArrayText(value, depth + 1, path, cell.text)) return Unexpected(std::move(*error));
        } else if (auto error = ReadScalar(value, type, path, cell)) {
            return Unexpected(std::move(*error));
        }
        if (cell_row_[column] == row_index_) {
            report_->Add(Problem{.severity = Severity::kWarning,
                                 .code = "duplicate_key",
                                 .message = fmt::format("The key \"{}\" appears more than once in the object on line "
                                                        "{}; the last value is used.",
                                                        Excerpt(path), row_line_),
                                 .line = row_line_,
                                 .location = {},
                                 .field = std::string(names_[column].name)});
        } else {
            cell_row_[column] = row_index_;
            filled_.push_back(column);
        }
        cells_[column] = cell;
    }
    return {};
}

std::optional<Error> JsonTableReader::Impl::ReadScalar(ondemand::value value, json_type type, std::string_view path,
                                                       Cell& cell) {
    switch (type) {
        case json_type::string:
            cell.type = CellType::kText;
            if (auto error = value.get_string().get(cell.text)) return SyntaxError(error, path);
            return std::nullopt;
        case json_type::number:
            cell = Cell{CellType::kNumber, TrimJsonSpace(value.raw_json_token())};
            if (!IsJsonNumber(cell.text)) return InvalidValue(path, cell.text);
            return std::nullopt;
        case json_type::boolean: {
            bool flag = false;
            if (value.get_bool().get(flag)) return InvalidValue(path, TrimJsonSpace(value.raw_json_token()));
            cell = Cell{CellType::kBool, flag ? "true" : "false"};
            return std::nullopt;
        }
        case json_type::null: {
            bool is_null = false;
            if (value.is_null().get(is_null) || !is_null)
                return InvalidValue(path, TrimJsonSpace(value.raw_json_token()));
            cell = Cell{};
            return std::nullopt;
        }
        case json_type::array:
        case json_type::object:
            break;
    }
    return Internal("ReadScalar on a container");
}

std::optional<Error> JsonTableReader::Impl::ArrayText(ondemand::value value, int depth, std::string_view path,
                                                      std::string_view& text) {
    const char* start = value.raw_json_token().data();
    if (auto validated = Validate(value, depth, path); !validated) return std::move(validated).error();
    const char* end = nullptr;
    if (current_->current_location().get(end) != simdjson::SUCCESS) end = text_.data() + text_.size();
    text = TrimJsonSpace(std::string_view(start, static_cast<size_t>(end - start)));
    // The location is the token after the array: the ',' or '}' that follows it in the row.
    while (!text.empty() && text.back() != ']') text.remove_suffix(1);
    return std::nullopt;
}

Expected<void> JsonTableReader::Impl::Validate(ondemand::value value, int depth, std::string_view path) {
    json_type type{};
    if (auto error = value.type().get(type)) return Unexpected(SyntaxError(error, path));
    if (type == json_type::array || type == json_type::object) {
        if (depth > max_depth_) return Unexpected(TooDeep(path));
    }
    if (type == json_type::array) {
        ondemand::array array;
        if (auto error = value.get_array().get(array)) return Unexpected(SyntaxError(error, path));
        for (auto element : array) {
            ondemand::value child;
            if (auto error = element.get(child)) return Unexpected(SyntaxError(error, path));
            if (auto validated = Validate(child, depth + 1, path); !validated) return validated;
        }
        return {};
    }
    if (type == json_type::object) {
        ondemand::object object;
        if (auto error = value.get_object().get(object)) return Unexpected(SyntaxError(error, path));
        for (auto field_result : object) {
            ondemand::field field;
            std::string_view key;
            if (auto error = std::move(field_result).get(field)) return Unexpected(SyntaxError(error, path));
            if (auto error = field.unescaped_key().get(key)) return Unexpected(SyntaxError(error, path));
            if (auto validated = Validate(field.value(), depth + 1, path); !validated) return validated;
        }
        return {};
    }
    Cell scalar;
    if (auto error = ReadScalar(value, type, path, scalar)) return Unexpected(std::move(*error));
    return {};
}

Error JsonTableReader::Impl::SyntaxError(simdjson::error_code code, std::string_view path) {
    int64_t line = row_line_ > 0 ? row_line_ : 1;
    const char* where = nullptr;
    if (table_.shape != "ndjson" && current_ != nullptr &&
        current_->current_location().get(where) == simdjson::SUCCESS) {
        line = LineAt(where);
    }
    return FileError(
        options_, "invalid_json",
        fmt::format("The file is not valid JSON on line {}{}: {}. Correct the file (a JSON validator "
                    "shows the exact place) and upload it again.",
                    line, path.empty() ? "" : fmt::format(" (in \"{}\")", Excerpt(path)), SimdjsonMessage(code)),
        line, std::string(path));
}

Error JsonTableReader::Impl::TextError(simdjson::error_code code, std::string_view text) {
    // text is the whole document or one NDJSON line (whose line row_line_ holds).
    const auto line_of = [&](size_t offset_in_text) {
        return table_.shape == "ndjson" ? row_line_ : lines_.LineAt(OffsetOf(text.data()) + offset_in_text);
    };
    switch (code) {
        case simdjson::UTF8_ERROR: {
            const int64_t line = table_.shape == "ndjson" ? row_line_ : FirstBadUtf8Line(text);
            return FileError(options_, "bad_encoding",
                             fmt::format("Line {} is not valid UTF-8; JSON files must be UTF-8. Save the file as "
                                         "UTF-8 and upload it again.",
                                         line),
                             line);
        }
        case simdjson::UNESCAPED_CHARS:
        case simdjson::UNCLOSED_STRING: {
            const int64_t line = line_of(FindStringError(text).value_or(0));
            return FileError(options_, "invalid_json",
                             code == simdjson::UNCLOSED_STRING
                                 ? fmt::format("A string on line {} is never closed (a '\"' is missing). Correct the "
                                               "file and upload it again.",
                                               line)
                                 : fmt::format("A string on line {} contains a raw control character (such as a tab "
                                               "or a line break); JSON needs it escaped (\\t, \\n). Correct the file "
                                               "and upload it again.",
                                               line),
                             line);
        }
        case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: {
            const int64_t line = line_of(text.size());
            return FileError(options_, "invalid_json",
                             fmt::format("The JSON is not closed properly: the file ends on line {} without the ']' "
                                         "or '}}' that closes the top level, or has something after it. Check that "
                                         "the file is complete.",
                                         line),
                             line);
        }
        default:
            return SyntaxError(code, {});
    }
}

uint64_t JsonTableReader::Impl::FileBytes(size_t offset) const {
    if (table_.encoding.starts_with("utf-16")) {
        return static_cast<uint64_t>(static_cast<double>(offset) / static_cast<double>(text_.size()) *
                                     static_cast<double>(file_bytes_));
    }
    return text_start_ + offset;
}

JsonTableReader::JsonTableReader(const ParseOptions& options) : impl_(std::make_unique<Impl>(options)) {}
JsonTableReader::~JsonTableReader() = default;

Expected<JsonTable> JsonTableReader::Load(const std::filesystem::path& path) { return impl_->Load(path); }
Expected<JsonTable> JsonTableReader::LoadBytes(std::string_view bytes) { return impl_->LoadBytes(bytes); }
Expected<void> JsonTableReader::ReadRows(const JsonRowCallback& row, ParseReport& report,
                                         const ByteProgress& progress) {
    return impl_->ReadRows(row, report, progress);
}

ParseReport ReadJsonTable(JsonTableReader& reader, Expected<JsonTable> table, const ParseOptions& options,
                          const BatchSink& sink, const ByteProgress& progress) {
    ParseReport report;
    report.format = Format::kJson;
    if (!table) {
        report.error = std::move(table).error();
        return report;
    }
    report.encoding = table->encoding;
    report.dialect["shape"] = table->shape;
    if (!table->root.empty()) report.dialect["root"] = table->root;
    nlohmann::ordered_json details;
    details["shape"] = table->shape;
    if (!table->root.empty()) details["root"] = table->root;
    details["objects"] = table->rows;
    details["keys"] = table->headers.size();
    report.details = details.dump();

    RowMapper mapper(options, report, sink);
    Expected<void> result = mapper.SetHeader(table->headers, table->first_line);
    if (result) {
        result = reader.ReadRows(
            [&mapper](std::span<const Cell> cells, int64_t line) { return mapper.AddRow(cells, line, true); }, report,
            progress);
    }
    if (result) result = mapper.Finish();
    if (!result) report.error = std::move(result).error();
    return report;
}

ParseReport ParseJsonBytes(std::string_view bytes, const ParseOptions& options, const BatchSink& sink,
                           const ByteProgress& progress) {
    JsonTableReader reader(options);
    Expected<JsonTable> table = reader.LoadBytes(bytes);
    return ReadJsonTable(reader, std::move(table), options, sink, progress);
}

}  // namespace granska::ingest::detail

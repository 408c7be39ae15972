#include "ingest/excel/detail/xlsx_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <utility>

#include "core/date.h"
#include "ingest/detail/text.h"
#include "ingest/excel/detail/excel_cells.h"

namespace granska::ingest::detail {

namespace {

constexpr std::string_view kWorkbookPart = "xl/workbook.xml";
constexpr std::string_view kWorkbookRelsPart = "xl/_rels/workbook.xml.rels";
constexpr std::string_view kWorkbookDir = "xl/";

std::optional<int64_t> ParseInt(std::string_view text) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// A relationship target as a zip entry name: absolute ("/xl/worksheets/sheet1.xml") or relative to the
// workbook's folder ("worksheets/sheet1.xml", "../customXml/item1.xml").
std::string ResolveTarget(std::string_view target) {
    std::string joined =
        target.starts_with('/') ? std::string(target.substr(1)) : fmt::format("{}{}", kWorkbookDir, target);
    std::vector<std::string_view> segments;
    std::string_view rest = joined;
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") {
            if (!segments.empty()) segments.pop_back();
            continue;
        }
        segments.push_back(segment);
    }
    std::string out;
    for (const std::string_view segment : segments) {
        if (!out.empty()) out += '/';
        out += segment;
    }
    return out;
}

Error TooLargeError(const ParseOptions& options, std::string code, std::string message,
                    std::optional<int64_t> line = {}, std::string column = {}) {
    Error error = FileError(options, std::move(code), std::move(message), line, std::move(column));
    error.kind = ErrorKind::kTooLarge;
    return error;
}

struct Relationship {
    std::string type;
    std::string target;
};

class RelationshipsHandler final : public ZipXmlHandler {
public:
    void StartElement(std::string_view name, const char** attributes) override {
        if (name != "Relationship" || Attribute(attributes, "TargetMode") == "External") return;
        relationships[std::string(Attribute(attributes, "Id"))] =
            Relationship{std::string(Attribute(attributes, "Type")), ResolveTarget(Attribute(attributes, "Target"))};
    }
    void EndElement(std::string_view) override {}
    void Text(std::string_view) override {}

    std::map<std::string, Relationship> relationships;
};

class WorkbookHandler final : public ZipXmlHandler {
public:
    struct Entry {
        std::string name;
        std::string relationship_id;
    };

    void StartElement(std::string_view name, const char** attributes) override {
        if (name == "workbookPr") {
            const std::string_view value = Attribute(attributes, "date1904");
            date1904 = value == "1" || value == "true";
        } else if (name == "sheet") {
            sheets.push_back({std::string(Attribute(attributes, "name")), std::string(Attribute(attributes, "id"))});
        }
    }
    void EndElement(std::string_view) override {}
    void Text(std::string_view) override {}

    std::vector<Entry> sheets;
    bool date1904 = false;
};

class StylesHandler final : public ZipXmlHandler {
public:
    void StartElement(std::string_view name, const char** attributes) override {
        if (name == "numFmt") {
            if (const auto id = ParseInt(Attribute(attributes, "numFmtId"))) {
                custom_formats[*id] = IsDateFormatCode(Attribute(attributes, "formatCode"));
            }
        } else if (name == "cellXfs") {
            in_cell_xfs_ = true;
        } else if (name == "xf" && in_cell_xfs_) {
            xf_formats.push_back(ParseInt(Attribute(attributes, "numFmtId")).value_or(0));
        }
    }
    void EndElement(std::string_view name) override {
        if (name == "cellXfs") in_cell_xfs_ = false;
    }
    void Text(std::string_view) override {}

    std::vector<bool> DateStyles() const {
        std::vector<bool> out;
        out.reserve(xf_formats.size());
        for (const int64_t id : xf_formats) {
            const auto custom = custom_formats.find(id);
            out.push_back(custom != custom_formats.end() ? custom->second
                                                         : IsBuiltinDateFormat(static_cast<int>(std::clamp<int64_t>(
                                                               id, 0, std::numeric_limits<int>::max()))));
        }
        return out;
    }

    std::map<int64_t, bool> custom_formats;  // numFmtId -> is a date
    std::vector<int64_t> xf_formats;         // numFmtId by cellXfs index

private:
    bool in_cell_xfs_ = false;
};

class SharedStringsHandler final : public ZipXmlHandler {
public:
    SharedStringsHandler(const ParseOptions& options, size_t max_bytes, std::string& text,
                         std::vector<uint32_t>& offsets)
        : options_(options), max_bytes_(max_bytes), text_(text), offsets_(offsets) {}

    void StartElement(std::string_view name, const char**) override {
        if (name == "si") {
            in_item_ = true;
            item_start_ = text_.size();
        } else if (name == "rPh") {
            ++phonetic_depth_;  // furigana runs are not part of the string
        } else if (name == "t" && in_item_ && phonetic_depth_ == 0) {
            capturing_ = true;
        }
    }
    void EndElement(std::string_view name) override {
        if (name == "t") {
            capturing_ = false;
        } else if (name == "rPh") {
            phonetic_depth_ = std::max(0, phonetic_depth_ - 1);
        } else if (name == "si" && in_item_) {
            in_item_ = false;
            offsets_.push_back(static_cast<uint32_t>(text_.size()));
        }
    }
    void Text(std::string_view text) override {
        if (!capturing_) return;
        if (text_.size() + text.size() > max_bytes_) {
            Fail(TooLargeError(options_, "shared_strings_too_large",
                               fmt::format("The workbook's shared strings take more than {} bytes; split the data "
                                           "over smaller files.",
                                           max_bytes_)));
            return;
        }
        if (text_.size() - item_start_ + text.size() > options_.limits.max_field_bytes) {
            Fail(TooLargeError(options_, "field_too_long",
                               fmt::format("Shared string {} of the workbook is longer than {} bytes; no cell should "
                                           "hold that much.",
                                           offsets_.size() - 1, options_.limits.max_field_bytes)));
            return;
        }
        text_.append(text);
    }

private:
    const ParseOptions& options_;
    size_t max_bytes_;
    std::string& text_;
    std::vector<uint32_t>& offsets_;
    bool in_item_ = false;
    bool capturing_ = false;
    int phonetic_depth_ = 0;
    size_t item_start_ = 0;
};

// The value types of the t attribute.
enum class ValueType : uint8_t { kNumber, kShared, kInline, kFormulaString, kBool, kError, kIsoDate };

ValueType ParseValueType(std::string_view t) {
    if (t.empty() || t == "n") return ValueType::kNumber;
    if (t == "s") return ValueType::kShared;
    if (t == "inlineStr") return ValueType::kInline;
    if (t == "str") return ValueType::kFormulaString;
    if (t == "b") return ValueType::kBool;
    if (t == "e") return ValueType::kError;
    if (t == "d") return ValueType::kIsoDate;
    return ValueType::kFormulaString;
}

// Streams <sheetData>: collects each row's cells into one reused text buffer and hands the row on at </row>.
class SheetHandler final : public ZipXmlHandler {
public:
    SheetHandler(const ParseOptions& options, std::string_view sheet, bool date1904,
                 const std::vector<bool>& date_styles, std::string_view shared_text,
                 std::span<const uint32_t> shared_offsets, const SheetRowHandler& on_row)
        : options_(options),
          sheet_(sheet),
          date1904_(date1904),
          date_styles_(date_styles),
          shared_text_(shared_text),
          shared_offsets_(shared_offsets),
          on_row_(on_row) {}

    void StartElement(std::string_view name, const char** attributes) override {
        if (name == "row") {
            StartRow(Attribute(attributes, "r"));
        } else if (name == "c" && in_row_) {
            StartCell(Attribute(attributes, "r"), Attribute(attributes, "t"), Attribute(attributes, "s"));
        } else if (!in_cell_) {
            return;
        } else if (name == "v") {
            capturing_ = true;
            value_start_ = text_.size();
        } else if (name == "is") {
            in_inline_ = true;
            value_start_ = text_.size();
        } else if (name == "rPh") {
            ++phonetic_depth_;
        } else if (name == "t" && in_inline_ && phonetic_depth_ == 0) {
            capturing_ = true;
        }
    }

    void EndElement(std::string_view name) override {
        if (name == "v" || name == "t") {
            capturing_ = false;
        } else if (name == "is") {
            in_inline_ = false;
        } else if (name == "rPh") {
            phonetic_depth_ = std::max(0, phonetic_depth_ - 1);
        } else if (name == "c" && in_cell_) {
            EndCell();
        } else if (name == "row" && in_row_) {
            EndRow();
        }
    }

    void Text(std::string_view text) override {
        if (!capturing_) return;
        if (text_.size() - value_start_ + text.size() > options_.limits.max_field_bytes) {
            Fail(TooLargeError(options_, "field_too_long",
                               fmt::format("Cell {} holds more than {} bytes; no cell should hold that much.",
                                           CellName(sheet_, column_, line_), options_.limits.max_field_bytes),
                               line_, CellName(sheet_, column_, line_)));
            return;
        }
        if (text_.size() + text.size() > options_.max_record_bytes) {
            Fail(TooLargeError(options_, "row_too_large",
                               fmt::format("Row {} of sheet {} holds more than {} bytes; no row should hold that much.",
                                           line_, sheet_, options_.max_record_bytes),
                               line_));
            return;
        }
        text_.append(text);
    }

private:
    struct PendingCell {
        size_t column = 0;
        CellType type = CellType::kEmpty;
        bool shared = false;  // text in the shared strings, else in text_
        size_t offset = 0;
        size_t length = 0;
    };

    Error BadReference(std::string message) {
        return FileError(options_, "bad_cell_reference", std::move(message), line_);
    }

    void StartRow(std::string_view reference) {
        if (reference.empty()) {
            line_ = line_ + 1;
        } else {
            const std::optional<int64_t> line = ParseInt(reference);
            if (!line || *line < 1 || *line > kMaxExcelRows) {
                Fail(
                    BadReference(fmt::format("Sheet {} has a row numbered \"{}\", which is not a row number from 1 to "
                                             "{}; the file is damaged, save it again from Excel.",
                                             sheet_, Excerpt(reference), kMaxExcelRows)));
                return;
            }
            line_ = *line;
        }
        in_row_ = true;
        next_column_ = 0;
        text_.clear();
        pending_.clear();
    }

    void StartCell(std::string_view reference, std::string_view type, std::string_view style) {
        if (reference.empty()) {
            column_ = next_column_;
        } else if (const std::optional<size_t> column = ParseColumn(reference)) {
            column_ = *column;
        } else {
            Fail(
                BadReference(fmt::format("Row {} of sheet {} has a cell named \"{}\", which is not a cell reference "
                                         "like C7; the file is damaged, save it again from Excel.",
                                         line_, sheet_, Excerpt(reference))));
            return;
        }
        if (column_ >= kMaxExcelColumns) {
            Fail(BadReference(fmt::format("Row {} of sheet {} has more than {} columns, more than Excel allows.", line_,
                                          sheet_, kMaxExcelColumns)));
            return;
        }
        next_column_ = column_ + 1;
        in_cell_ = true;
        in_inline_ = false;
        capturing_ = false;
        phonetic_depth_ = 0;
        value_type_ = ParseValueType(type);
        const std::optional<int64_t> style_index = ParseInt(style);
        date_style_ = style_index && *style_index >= 0 && static_cast<uint64_t>(*style_index) < date_styles_.size() &&
                      date_styles_[static_cast<size_t>(*style_index)];
        value_start_ = text_.size();
    }

    // Replaces the cell's captured text (the tail of text_) with `text`.
    void ReplaceValue(std::string_view text) {
        text_.resize(value_start_);
        text_.append(text);
    }

    void EndCell() {
        in_cell_ = false;
        capturing_ = false;
        PendingCell cell{.column = column_, .offset = value_start_, .length = text_.size() - value_start_};
        const std::string_view value(text_.data() + value_start_, cell.length);
        if (value.empty()) return;
        switch (value_type_) {
            case ValueType::kShared: {
                const std::optional<int64_t> index = ParseInt(TrimSpaces(value));
                if (!index || *index < 0 || static_cast<uint64_t>(*index) + 1 >= shared_offsets_.size()) {
                    const std::string name = CellName(sheet_, column_, line_);
                    Fail(FileError(options_, "bad_shared_string",
                                   fmt::format("Cell {} refers to shared string \"{}\", which the workbook does not "
                                               "have; the file is damaged, save it again from Excel.",
                                               name, Excerpt(value)),
                                   line_, name));
                    return;
                }
                const auto i = static_cast<size_t>(*index);
                text_.resize(value_start_);
                cell = {.column = column_,
                        .type = CellType::kText,
                        .shared = true,
                        .offset = shared_offsets_[i],
                        .length = shared_offsets_[i + 1] - shared_offsets_[i]};
                if (cell.length == 0) return;
                break;
            }
            case ValueType::kInline:
            case ValueType::kFormulaString:
            case ValueType::kError:
                cell.type = CellType::kText;
                break;
            case ValueType::kBool:
                if (value == "1" || value == "0") {
                    cell.type = CellType::kBool;
                    ReplaceValue(value == "1" ? "true" : "false");
                } else {
                    cell.type = CellType::kText;
                }
                break;
            case ValueType::kIsoDate:
                cell.type = CellType::kText;
                if (const std::optional<DateTime> parsed = ParseIsoDateTime(TrimSpaces(value))) {
                    cell.type = CellType::kDate;
                    std::string iso = parsed->date.ToString();
                    if (parsed->seconds_of_day && *parsed->seconds_of_day != 0) {
                        iso += 'T';
                        iso += FormatTimeOfDay(*parsed->seconds_of_day);
                    }
                    ReplaceValue(iso);
                }
                break;
            case ValueType::kNumber:
                SetNumber(value, cell);
                break;
        }
        cell.length = cell.shared ? cell.length : text_.size() - cell.offset;
        pending_.push_back(cell);
    }

    void SetNumber(std::string_view value, PendingCell& cell) {
        char buffer[kCellTextBufferSize];
        const std::optional<std::string_view> number = NormalizeNumberText(value, buffer);
        if (!number) {
            cell.type = CellType::kText;
            return;
        }
        if (date_style_) {
            char date_buffer[kCellTextBufferSize];
            double serial = 0;
            std::from_chars(number->data(), number->data() + number->size(), serial);
            const SerialDate date = SerialToIso(serial, date1904_, date_buffer);
            if (date.type != CellType::kEmpty) {
                cell.type = date.type;
                ReplaceValue(date.text);
                return;
            }
        }
        cell.type = CellType::kNumber;
        if (number->data() != value.data() || number->size() != value.size()) {
            const std::string copy(*number);  // it may point into text_
            ReplaceValue(copy);
        }
    }

    void EndRow() {
        in_row_ = false;
        if (pending_.empty()) return;
        size_t width = 0;
        for (const PendingCell& cell : pending_) width = std::max(width, cell.column + 1);
        cells_.assign(width, Cell{});
        for (const PendingCell& cell : pending_) {
            const char* base = cell.shared ? shared_text_.data() : text_.data();
            cells_[cell.column] = Cell{cell.type, std::string_view(base + cell.offset, cell.length)};
        }
        Expected<void> result = on_row_(line_, cells_);
        if (!result) Fail(std::move(result).error());
    }

    const ParseOptions& options_;
    std::string_view sheet_;
    bool date1904_;
    const std::vector<bool>& date_styles_;
    std::string_view shared_text_;
    std::span<const uint32_t> shared_offsets_;
    const SheetRowHandler& on_row_;

    bool in_row_ = false;
    bool in_cell_ = false;
    bool in_inline_ = false;
    bool capturing_ = false;
    int phonetic_depth_ = 0;
    int64_t line_ = 0;
    size_t column_ = 0;
    size_t next_column_ = 0;
    ValueType value_type_ = ValueType::kNumber;
    bool date_style_ = false;
    size_t value_start_ = 0;
    std::string text_;  // the row's cell values, back to back
    std::vector<PendingCell> pending_;
    std::vector<Cell> cells_;
};

}  // namespace

Expected<XlsxWorkbook> XlsxWorkbook::Open(const std::filesystem::path& path, const ParseOptions& options,
                                          size_t max_shared_string_bytes) {
    Expected<XlsxPackage> package = XlsxPackage::Open(path, options);
    if (!package) return Unexpected(std::move(package).error());
    XlsxWorkbook workbook(std::move(package).value(), options);

    WorkbookHandler workbook_xml;
    if (auto parsed = workbook.package_.ParseXml(kWorkbookPart, workbook_xml); !parsed) {
        return Unexpected(std::move(parsed).error());
    }
    RelationshipsHandler rels;
    if (auto parsed = workbook.package_.ParseXml(kWorkbookRelsPart, rels); !parsed) {
        return Unexpected(std::move(parsed).error());
    }
    workbook.date1904_ = workbook_xml.date1904;

    std::string styles_part;
    std::string shared_strings_part;
    for (const auto& [id, relationship] : rels.relationships) {
        if (relationship.type.ends_with("/styles")) styles_part = relationship.target;
        if (relationship.type.ends_with("/sharedStrings")) shared_strings_part = relationship.target;
    }
    for (WorkbookHandler::Entry& entry : workbook_xml.sheets) {
        const auto relationship = rels.relationships.find(entry.relationship_id);
        // Chart sheets and dialog sheets hold no cells.
        if (relationship == rels.relationships.end() || !relationship->second.type.ends_with("/worksheet")) continue;
        workbook.sheets_.push_back({std::move(entry.name), relationship->second.target});
    }

    if (!styles_part.empty()) {
        StylesHandler styles;
        if (auto parsed = workbook.package_.ParseXml(styles_part, styles); !parsed) {
            return Unexpected(std::move(parsed).error());
        }
        workbook.date_styles_ = styles.DateStyles();
    }
    workbook.shared_offsets_.push_back(0);
    if (!shared_strings_part.empty()) {
        SharedStringsHandler strings(options, std::min<size_t>(max_shared_string_bytes, UINT32_MAX),
                                     workbook.shared_text_, workbook.shared_offsets_);
        if (auto parsed = workbook.package_.ParseXml(shared_strings_part, strings); !parsed) {
            return Unexpected(std::move(parsed).error());
        }
    }
    return workbook;
}

Expected<void> XlsxWorkbook::ReadSheet(size_t index, const SheetRowHandler& on_row, const ByteProgress& progress) {
    const XlsxSheet& sheet = sheets_.at(index);
    SheetHandler handler(*options_, sheet.name, date1904_, date_styles_, shared_text_, shared_offsets_, on_row);
    return package_.ParseXml(sheet.part, handler, progress);
}

}  // namespace granska::ingest::detail

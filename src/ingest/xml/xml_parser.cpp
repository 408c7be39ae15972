#include "ingest/xml/xml_parser.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ingest/row_mapper.h"
#include "ingest/xml/detail/camt_reader.h"
#include "ingest/xml/detail/element_tree.h"
#include "ingest/xml/detail/generic_rows.h"
#include "ingest/xml/detail/xml_stream.h"

namespace granska::ingest {

namespace {

using detail::CamtKind;
using detail::CamtReader;
using detail::ElementSurvey;
using detail::ElementTree;
using detail::XmlHandler;
using detail::XmlStart;

constexpr std::string_view kIsoNamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:";

// "camt.053.001.02" from the namespace of an ISO 20022 message, "" for any other namespace.
std::string_view IsoMessageOf(std::string_view ns) {
    return ns.starts_with(kIsoNamespacePrefix) ? ns.substr(kIsoNamespacePrefix.size()) : std::string_view{};
}

std::optional<CamtKind> CamtKindOfMessage(std::string_view message) {
    if (message.starts_with("camt.053.")) return CamtKind::kStatement;
    if (message.starts_with("camt.054.")) return CamtKind::kNotification;
    return std::nullopt;
}

std::optional<CamtKind> CamtKindOfGroup(std::string_view name) {
    if (name == "BkToCstmrStmt") return CamtKind::kStatement;
    if (name == "BkToCstmrDbtCdtNtfctn") return CamtKind::kNotification;
    return std::nullopt;
}

// Pass one. Picks the mode from the root element's namespace (or, for a root "Document" without a camt namespace,
// from its first child) and forwards every element to the camt reader or to the element survey of generic mode.
class ModeSwitch final : public XmlHandler {
public:
    ModeSwitch(const ParseOptions& options, ParseReport& report, const BatchSink& sink)
        : options_(options), report_(report), sink_(sink) {}

    Expected<void> OnStart(const XmlStart& element) override {
        if (target_ != nullptr) return target_->OnStart(element);
        if (element.depth == 1) {
            root_name_ = element.name;
            root_line_ = element.line;
            message_ = IsoMessageOf(element.ns);
            if (const auto kind = CamtKindOfMessage(message_)) {
                UseCamt(*kind);
            } else if (element.name != "Document") {
                UseGeneric();
            } else {
                return {};  // decided by the first child
            }
            return target_->OnStart(element);
        }
        const auto kind = CamtKindOfGroup(element.name);
        kind ? UseCamt(*kind) : UseGeneric();
        if (Expected<void> root = target_->OnStart(Root()); !root) return root;
        return target_->OnStart(element);
    }

    Expected<void> OnEnd(std::string_view name, std::string_view text, bool leaf) override {
        if (target_ == nullptr) {  // a root "Document" without children
            UseGeneric();
            if (Expected<void> root = target_->OnStart(Root()); !root) return root;
        }
        return target_->OnEnd(name, text, leaf);
    }

    bool decided() const { return target_ != nullptr; }
    bool generic() const { return camt_ == nullptr; }
    std::string mode() const { return camt_ ? std::string(detail::CamtKindName(kind_)) : "generic"; }
    CamtReader* camt() const { return camt_.get(); }
    const ElementSurvey& survey() const { return *survey_; }
    std::string_view message() const { return message_; }

private:
    XmlStart Root() const { return {.name = root_name_, .line = root_line_, .depth = 1}; }
    void UseCamt(CamtKind kind) {
        kind_ = kind;
        camt_ = std::make_unique<CamtReader>(kind, options_, report_, sink_);
        target_ = camt_.get();
    }
    void UseGeneric() {
        survey_ = std::make_unique<ElementSurvey>(options_);
        target_ = survey_.get();
    }

    const ParseOptions& options_;
    ParseReport& report_;
    const BatchSink& sink_;
    XmlHandler* target_ = nullptr;
    CamtKind kind_ = CamtKind::kStatement;
    std::unique_ptr<CamtReader> camt_;
    std::unique_ptr<ElementSurvey> survey_;
    std::string root_name_;
    int64_t root_line_ = 0;
    std::string message_;
};

// Pass two of generic mode, after the survey: rows of the chosen element through the RowMapper.
Expected<void> ReadGenericRows(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                               const ElementTree& tree, const ByteProgress& progress, ParseReport& report) {
    Expected<ElementTree::NodeId> row = detail::ChooseRowElement(tree, options);
    if (!row) return Unexpected(std::move(row).error());
    const std::string element = tree.PathOf(*row);
    report.dialect["element"] = element;
    Expected<detail::RowFields> fields_found = detail::FieldsOf(tree, *row, options);
    if (!fields_found) return Unexpected(std::move(fields_found).error());
    const detail::RowFields& fields = *fields_found;

    RowMapper mapper(options, report, sink);
    if (Expected<void> header = mapper.SetHeader(fields.names, tree[*row].first_line); !header) return header;
    detail::GenericRowReader rows(tree, *row, fields, options, [&mapper](std::span<const Cell> cells, int64_t line) {
        return mapper.AddRow(cells, line);
    });
    if (auto read = detail::ReadXml(path, options, rows, progress); !read) return Unexpected(std::move(read).error());
    if (Expected<void> finished = mapper.Finish(); !finished) return finished;

    nlohmann::ordered_json details;
    details["mode"] = "generic";
    details["element"] = element;
    details["element_count"] = tree[*row].count;
    details["fields"] = fields.names;
    report.details = details.dump();
    return {};
}

class XmlParser final : public Parser {
public:
    Format format() const override { return Format::kXml; }

    ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                      const ByteProgress& progress) const override {
        ParseReport report;
        report.format = Format::kXml;
        ModeSwitch modes(options, report, sink);
        // Generic files are read twice; progress counts each pass as half of the file.
        const ByteProgress first_progress = [&](uint64_t bytes) {
            if (progress) progress(modes.generic() ? bytes / 2 : bytes);
        };
        Expected<detail::XmlStreamSummary> first = detail::ReadXml(path, options, modes, first_progress);
        if (modes.decided()) report.dialect["mode"] = modes.mode();
        if (!modes.generic() && !modes.message().empty()) report.dialect["version"] = modes.message();
        if (!first) {
            report.error = std::move(first).error();
            return report;
        }
        report.encoding = first->encoding;
        Expected<void> done;
        if (CamtReader* camt = modes.camt()) {
            done = camt->Finish();
        } else {
            const uint64_t size = first->bytes;
            const ByteProgress second_progress = [&](uint64_t bytes) {
                if (progress) progress((size + bytes) / 2);
            };
            done = ReadGenericRows(path, options, sink, modes.survey().tree(), second_progress, report);
        }
        if (!done) report.error = std::move(done).error();
        return report;
    }
};

}  // namespace

std::unique_ptr<Parser> MakeXmlParser() { return std::make_unique<XmlParser>(); }

}  // namespace granska::ingest

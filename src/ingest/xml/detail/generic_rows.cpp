#include "ingest/xml/detail/generic_rows.h"

#include <fmt/format.h>

#include <utility>

#include "ingest/detail/text.h"

namespace granska::ingest::detail {

GenericRowReader::GenericRowReader(const ElementTree& tree, ElementTree::NodeId row, const RowFields& fields,
                                   const ParseOptions& options, RowCallback on_row)
    : tree_(tree),
      row_(row),
      fields_(fields),
      options_(options),
      on_row_(std::move(on_row)),
      values_(fields.names.size()),
      present_(fields.names.size(), false),
      cells_(fields.names.size()) {}

Expected<void> GenericRowReader::OnStart(const XmlStart& element) {
    const ElementTree::NodeId parent = open_.empty() ? ElementTree::kNone : open_.back();
    const ElementTree::NodeId id =
        open_.empty() || parent != ElementTree::kNone ? tree_.Find(parent, element.name) : ElementTree::kNone;
    open_.push_back(id);
    if (id == row_ && row_depth_ == 0) {
        row_depth_ = element.depth;
        row_line_ = element.line;
        present_.assign(present_.size(), false);
    }
    if (row_depth_ == 0 || id == ElementTree::kNone) return {};
    for (const XmlAttribute& attribute : element.attributes) {
        attribute_name_.assign(1, '@');
        attribute_name_ += attribute.name;
        const ElementTree::NodeId attribute_id = tree_.Find(id, attribute_name_);
        if (attribute_id == ElementTree::kNone) continue;
        if (Expected<void> set = Set(attribute_id, attribute.value, attribute_name_, element.line); !set) return set;
    }
    return {};
}

Expected<void> GenericRowReader::OnEnd(std::string_view name, std::string_view text, bool leaf) {
    const ElementTree::NodeId id = open_.back();
    const auto depth = static_cast<int>(open_.size());
    open_.pop_back();
    if (row_depth_ == 0 || id == ElementTree::kNone) return {};
    if (leaf) {
        if (Expected<void> set = Set(id, TrimXmlSpace(text), name, row_line_); !set) return set;
    }
    if (depth != row_depth_) return {};
    row_depth_ = 0;
    for (size_t i = 0; i < cells_.size(); ++i) {
        cells_[i] = present_[i] ? Cell{.type = CellType::kText, .text = values_[i]} : Cell{};
    }
    return on_row_(cells_, row_line_);
}

Expected<void> GenericRowReader::Set(ElementTree::NodeId node, std::string_view value, std::string_view name,
                                     int64_t line) {
    const int32_t index = fields_.index_of_node[static_cast<size_t>(node)];
    if (index < 0) return {};
    const auto i = static_cast<size_t>(index);
    if (!present_[i]) {
        present_[i] = true;
        values_[i].assign(value);
        return {};
    }
    if (value.empty()) return {};
    if (values_[i].size() + 1 + value.size() > options_.limits.max_field_bytes) {
        Error error = FileError(options_, "field_too_long",
                                fmt::format("The values of '{}' in the row on line {} together are longer than the "
                                            "limit of {} bytes. Shorten them or raise the field size limit.",
                                            Excerpt(name), line, options_.limits.max_field_bytes),
                                line, fields_.names[i]);
        return Unexpected(std::move(error));
    }
    if (!values_[i].empty()) values_[i].push_back(' ');
    values_[i].append(value);
    return {};
}

}  // namespace granska::ingest::detail

#pragma once
// Pass two of generic mode: walks the file again and turns each occurrence of the row element into one row of
// text cells, in the order of the header that the first pass found (element_tree.h). A field that occurs more
// than once in a row has its values joined with " "; a field the row lacks is an empty cell.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"
#include "ingest/row_mapper.h"
#include "ingest/xml/detail/element_tree.h"
#include "ingest/xml/detail/xml_stream.h"

namespace granska::ingest::detail {

class GenericRowReader final : public XmlHandler {
public:
    // Receives each row with the line of its start tag; the cells live only during the call.
    using RowCallback = std::function<Expected<void>(std::span<const Cell> cells, int64_t line)>;

    GenericRowReader(const ElementTree& tree, ElementTree::NodeId row, const RowFields& fields,
                     const ParseOptions& options, RowCallback on_row);

    Expected<void> OnStart(const XmlStart& element) override;
    Expected<void> OnEnd(std::string_view name, std::string_view text, bool leaf) override;

private:
    Expected<void> Set(ElementTree::NodeId node, std::string_view value, std::string_view name, int64_t line);

    const ElementTree& tree_;
    const ElementTree::NodeId row_;
    const RowFields& fields_;
    const ParseOptions& options_;
    RowCallback on_row_;
    std::vector<ElementTree::NodeId> open_;  // kNone for elements the first pass did not see
    int row_depth_ = 0;                      // depth of the open row element, 0 outside rows
    int64_t row_line_ = 0;
    std::vector<std::string> values_;  // by field index; reused from row to row
    std::vector<bool> present_;
    std::vector<Cell> cells_;
    std::string attribute_name_;
};

}  // namespace granska::ingest::detail

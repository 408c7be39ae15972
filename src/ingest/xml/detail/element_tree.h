#pragma once
// The shape of a generic XML file, learnt in a first pass: every distinct element path (and every attribute of
// it) is one node of a tree, with how often it occurs. From it we choose the repeated element that holds one
// transaction, and the union of the fields its occurrences have becomes the header, so that a second pass can
// hand complete rows to the RowMapper without buffering them.
//
// Fields of a row element are named relative to it: child elements by local name, deeper ones with dots
// ("Party.Name"), attributes as "@name" ("Party.@id").

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"
#include "ingest/xml/detail/xml_stream.h"

namespace granska::ingest::detail {

class ElementTree {
public:
    using NodeId = int32_t;
    static constexpr NodeId kNone = -1;  // the parent of the root element
    static constexpr size_t kMaxNodes = 100'000;
    static constexpr size_t kMaxNameBytes = size_t{16} << 20;

    struct Node {
        NodeId parent = kNone;
        std::string name;  // local name; "@name" for an attribute
        bool attribute = false;
        int64_t count = 0;
        int64_t first_line = 0;
        bool has_children = false;  // child elements or attributes seen in some occurrence
        bool seen_as_leaf = false;  // some occurrence had no child element
    };

    // The node for name below parent, added when new; kNone when the tree is full (kMaxNodes, kMaxNameBytes).
    NodeId Add(NodeId parent, std::string_view name, bool attribute);
    NodeId Find(NodeId parent, std::string_view name) const;
    Node& operator[](NodeId id) { return nodes_[static_cast<size_t>(id)]; }
    const Node& operator[](NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
    size_t size() const { return nodes_.size(); }

    std::string PathOf(NodeId id) const;  // "Export/Rows/Row"
    bool IsAncestor(NodeId ancestor, NodeId id) const;

private:
    struct Key {
        NodeId parent;
        std::string_view name;  // points into the node's own name
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& key) const {
            return std::hash<std::string_view>{}(key.name) * 31 + static_cast<size_t>(key.parent);
        }
    };

    std::deque<Node> nodes_;  // a deque keeps names in place, so keys can point into them
    std::unordered_map<Key, NodeId, KeyHash> index_;
    size_t name_bytes_ = 0;
};

// Pass one of generic mode: builds the tree.
class ElementSurvey final : public XmlHandler {
public:
    explicit ElementSurvey(const ParseOptions& options) : options_(options) {}
    Expected<void> OnStart(const XmlStart& element) override;
    Expected<void> OnEnd(std::string_view name, std::string_view text, bool leaf) override;
    const ElementTree& tree() const { return tree_; }

private:
    const ParseOptions& options_;
    ElementTree tree_;
    std::vector<ElementTree::NodeId> open_;
    std::string attribute_name_;
};

// The element that holds one transaction: options.xml_element when set (the full path from the root, or its
// unique tail: "Row" or "Rows/Row"), otherwise the path with the most occurrences (at least two) among those with
// child elements or attributes, the outermost when nested ones tie. It must clearly repeat: another repeated
// element outside it occurring more than half as often makes the choice ambiguous. Errors: "xml_element_not_found",
// "ambiguous_xml_element", "no_repeated_element" (each lists the candidates and how to choose), "too_many_rows"
// (kTooLarge).
Expected<ElementTree::NodeId> ChooseRowElement(const ElementTree& tree, const ParseOptions& options);

// The fields of the row element in order of first appearance, and for each node of the tree its field index
// (-1 when it is not a field of the row element).
struct RowFields {
    static constexpr size_t kMaxNameBytes = size_t{16} << 20;  // all field names together (the header)

    std::vector<std::string> names;
    std::vector<int32_t> index_of_node;
};
// Fails with "too_many_fields" when the names together exceed RowFields::kMaxNameBytes (deeply nested fields).
Expected<RowFields> FieldsOf(const ElementTree& tree, ElementTree::NodeId row, const ParseOptions& options);

}  // namespace granska::ingest::detail

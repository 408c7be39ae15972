#include "ingest/xml/detail/element_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "ingest/detail/text.h"

namespace granska::ingest::detail {

namespace {

constexpr size_t kListedCandidates = 5;

bool RelatedNodes(const ElementTree& tree, ElementTree::NodeId a, ElementTree::NodeId b) {
    return tree.IsAncestor(a, b) || tree.IsAncestor(b, a);
}

std::string ListCandidates(const ElementTree& tree, std::span<const ElementTree::NodeId> candidates) {
    std::string out;
    for (size_t i = 0; i < candidates.size() && i < kListedCandidates; ++i) {
        if (i > 0) out += ", ";
        out += fmt::format("{} ({} times)", Excerpt(tree.PathOf(candidates[i]), 200), tree[candidates[i]].count);
    }
    if (candidates.size() > kListedCandidates)
        out += fmt::format(" and {} more", candidates.size() - kListedCandidates);
    return out;
}

// Elements that could hold a transaction (not the root: it never repeats), most frequent first.
std::vector<ElementTree::NodeId> Candidates(const ElementTree& tree) {
    std::vector<ElementTree::NodeId> candidates;
    for (ElementTree::NodeId id = 0; id < static_cast<ElementTree::NodeId>(tree.size()); ++id) {
        const ElementTree::Node& node = tree[id];
        if (!node.attribute && node.parent != ElementTree::kNone && node.has_children) candidates.push_back(id);
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&tree](ElementTree::NodeId a, ElementTree::NodeId b) { return tree[a].count > tree[b].count; });
    return candidates;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        const size_t slash = path.find('/');
        if (slash != 0) parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

// True when the element's path ends with the given names.
bool EndsWith(const ElementTree& tree, ElementTree::NodeId id, std::span<const std::string_view> names) {
    for (auto name = names.rbegin(); name != names.rend(); ++name) {
        if (id == ElementTree::kNone || tree[id].attribute || tree[id].name != *name) return false;
        id = tree[id].parent;
    }
    return true;
}

Expected<ElementTree::NodeId> CheckRowCount(const ElementTree& tree, ElementTree::NodeId id,
                                            const ParseOptions& options) {
    if (static_cast<uint64_t>(tree[id].count) <= options.limits.max_rows) return id;
    Error error = FileError(options, "too_many_rows",
                            fmt::format("The file has {} <{}> elements, more than the limit of {} rows per file. "
                                        "Split it into several files.",
                                        tree[id].count, Excerpt(tree[id].name), options.limits.max_rows),
                            tree[id].first_line);
    error.kind = ErrorKind::kTooLarge;
    return Unexpected(std::move(error));
}

Expected<ElementTree::NodeId> ChooseConfigured(const ElementTree& tree, const ParseOptions& options) {
    const std::vector<std::string_view> names = SplitPath(options.xml_element);
    std::vector<ElementTree::NodeId> matches;
    for (ElementTree::NodeId id = 0; id < static_cast<ElementTree::NodeId>(tree.size()); ++id) {
        if (!names.empty() && EndsWith(tree, id, names)) matches.push_back(id);
    }
    if (matches.size() == 1) return CheckRowCount(tree, matches.front(), options);
    if (matches.empty()) {
        const std::vector<ElementTree::NodeId> candidates = Candidates(tree);
        return Unexpected(FileError(
            options, "xml_element_not_found",
            fmt::format("The file has no element at the path '{}' given for the transactions. {}Give the path of the "
                        "repeated element from the root, e.g. \"Export/Rows/Row\".",
                        Excerpt(options.xml_element, 200),
                        candidates.empty()
                            ? std::string{}
                            : fmt::format("Elements that repeat: {}. ", ListCandidates(tree, candidates)))));
    }
    return Unexpected(FileError(
        options, "ambiguous_xml_element",
        fmt::format("The path '{}' given for the transactions matches several elements: {}. Give the full path from "
                    "the root element.",
                    Excerpt(options.xml_element, 200), ListCandidates(tree, matches))));
}

}  // namespace

ElementTree::NodeId ElementTree::Add(NodeId parent, std::string_view name, bool attribute) {
    if (const NodeId found = Find(parent, name); found != kNone) return found;
    if (nodes_.size() >= kMaxNodes || name_bytes_ + name.size() > kMaxNameBytes) return kNone;
    Node& node = nodes_.emplace_back(Node{.parent = parent, .name = std::string(name), .attribute = attribute});
    name_bytes_ += name.size();
    const auto id = static_cast<NodeId>(nodes_.size() - 1);
    index_.emplace(Key{parent, node.name}, id);
    return id;
}

ElementTree::NodeId ElementTree::Find(NodeId parent, std::string_view name) const {
    const auto it = index_.find(Key{parent, name});
    return it == index_.end() ? kNone : it->second;
}

std::string ElementTree::PathOf(NodeId id) const {
    std::vector<NodeId> chain;
    for (; id != kNone; id = (*this)[id].parent) chain.push_back(id);
    std::string path;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (!path.empty()) path.push_back('/');
        path += (*this)[*it].name;
    }
    return path;
}

bool ElementTree::IsAncestor(NodeId ancestor, NodeId id) const {
    for (id = (*this)[id].parent; id != kNone; id = (*this)[id].parent) {
        if (id == ancestor) return true;
    }
    return false;
}

Expected<void> ElementSurvey::OnStart(const XmlStart& element) {
    const ElementTree::NodeId parent = open_.empty() ? ElementTree::kNone : open_.back();
    const ElementTree::NodeId id = tree_.Add(parent, element.name, false);
    const auto too_many = [&] {
        return Unexpected(FileError(
            options_, "too_many_element_paths",
            fmt::format("The file has more than {} distinct element and attribute paths (line {}); generic XML is "
                        "read as repeated records of the same shape. Check that the file is a data export.",
                        ElementTree::kMaxNodes, element.line),
            element.line));
    };
    if (id == ElementTree::kNone) return too_many();
    ElementTree::Node& node = tree_[id];
    ++node.count;
    if (node.first_line == 0) node.first_line = element.line;
    if (parent != ElementTree::kNone) tree_[parent].has_children = true;
    for (const XmlAttribute& attribute : element.attributes) {
        attribute_name_.assign(1, '@');
        attribute_name_ += attribute.name;
        const ElementTree::NodeId attribute_id = tree_.Add(id, attribute_name_, true);
        if (attribute_id == ElementTree::kNone) return too_many();
        ++tree_[attribute_id].count;
        tree_[id].has_children = true;
    }
    open_.push_back(id);
    return {};
}

Expected<void> ElementSurvey::OnEnd(std::string_view /*name*/, std::string_view /*text*/, bool leaf) {
    if (leaf) tree_[open_.back()].seen_as_leaf = true;
    open_.pop_back();
    return {};
}

Expected<ElementTree::NodeId> ChooseRowElement(const ElementTree& tree, const ParseOptions& options) {
    if (!options.xml_element.empty()) return ChooseConfigured(tree, options);
    const std::vector<ElementTree::NodeId> candidates = Candidates(tree);
    const auto repeated_end = std::find_if(candidates.begin(), candidates.end(),
                                           [&tree](ElementTree::NodeId id) { return tree[id].count < 2; });
    const std::span<const ElementTree::NodeId> repeated(candidates.begin(), repeated_end);
    if (repeated.empty()) {
        return Unexpected(FileError(
            options, "no_repeated_element",
            "No element with child elements or attributes repeats in the file, so it is not clear which element is "
            "one transaction. Name it with the XML element option, e.g. \"Export/Rows/Row\"."));
    }
    // The sort is stable and ancestors come first in the tree, so among nested elements that occur equally often
    // the outermost, which holds the whole record, wins.
    const ElementTree::NodeId best = repeated.front();
    std::vector<ElementTree::NodeId> rivals;
    for (const ElementTree::NodeId id : repeated) {
        if (id != best && !RelatedNodes(tree, id, best) && 2 * tree[id].count > tree[best].count) rivals.push_back(id);
    }
    if (!rivals.empty()) {
        rivals.insert(rivals.begin(), best);
        return Unexpected(FileError(
            options, "ambiguous_xml_element",
            fmt::format("Several elements repeat about equally often, so it is not clear which one is a transaction: "
                        "{}. Name it with the XML element option, e.g. \"{}\".",
                        ListCandidates(tree, rivals), Excerpt(tree.PathOf(best), 200))));
    }
    return CheckRowCount(tree, best, options);
}

Expected<RowFields> FieldsOf(const ElementTree& tree, ElementTree::NodeId row, const ParseOptions& options) {
    RowFields fields;
    size_t name_bytes = 0;
    fields.index_of_node.assign(tree.size(), -1);
    std::vector<bool> inside(tree.size(), false);  // parents come before their children in the tree
    for (auto id = static_cast<ElementTree::NodeId>(row + 1); id < static_cast<ElementTree::NodeId>(tree.size());
         ++id) {
        const ElementTree::Node& node = tree[id];
        inside[static_cast<size_t>(id)] =
            node.parent == row || (node.parent > row && inside[static_cast<size_t>(node.parent)]);
        if (!inside[static_cast<size_t>(id)] || !(node.attribute || node.seen_as_leaf)) continue;
        std::string name = node.name;
        for (ElementTree::NodeId up = node.parent; up != row; up = tree[up].parent) {
            name.insert(0, 1, '.');
            name.insert(0, tree[up].name);
        }
        name_bytes += name.size();
        if (name_bytes > RowFields::kMaxNameBytes) {
            return Unexpected(FileError(
                options, "too_many_fields",
                fmt::format("The names of the fields of <{}> take more than {} MiB (it has {} fields so far, nested "
                            "up to '{}'); check that the XML element option names the record element.",
                            Excerpt(tree[row].name), RowFields::kMaxNameBytes >> 20, fields.names.size(),
                            Excerpt(name, 100)),
                tree[row].first_line));
        }
        fields.index_of_node[static_cast<size_t>(id)] = static_cast<int32_t>(fields.names.size());
        fields.names.push_back(std::move(name));
    }
    return fields;
}

}  // namespace granska::ingest::detail

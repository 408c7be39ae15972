#include "ingest/json/json_parser.h"

#include "ingest/json/detail/json_table.h"

namespace granska::ingest {

namespace {

class JsonParser final : public Parser {
public:
    Format format() const override { return Format::kJson; }

    ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                      const ByteProgress& progress) const override {
        detail::JsonTableReader reader(options);
        Expected<detail::JsonTable> table = reader.Load(path);
        return detail::ReadJsonTable(reader, std::move(table), options, sink, progress);
    }
};

}  // namespace

std::unique_ptr<Parser> MakeJsonParser() { return std::make_unique<JsonParser>(); }

}  // namespace granska::ingest

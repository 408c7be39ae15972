#include "ingest/csv_reader.h"
#include "ingest/parser.h"

namespace granska::ingest {

void RegisterBuiltinParsers(ParserRegistry& registry) { registry.Register(MakeCsvParser()); }

}  // namespace granska::ingest

#include "ingest/parser.h"

namespace granska::ingest {

void RegisterBuiltinParsers(ParserRegistry& registry) { (void)registry; }

}  // namespace granska::ingest

#include "ingest/csv_reader.h"
#include "ingest/excel/excel_parsers.h"
#include "ingest/json/json_parser.h"
#include "ingest/parser.h"
#include "ingest/sie/sie_parser.h"
#include "ingest/xml/xml_parser.h"

namespace granska::ingest {

void RegisterBuiltinParsers(ParserRegistry& registry) {
    registry.Register(MakeCsvParser());
    registry.Register(MakeJsonParser());
    registry.Register(MakeXlsxParser());
    registry.Register(MakeXlsParser());
    registry.Register(MakeSieParser());
    registry.Register(MakeXmlParser());
}

}  // namespace granska::ingest

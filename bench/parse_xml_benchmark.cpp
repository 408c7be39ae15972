// XML parse throughput on files of GRANSKA_BENCH_PARSE_MB megabytes (default 100), each written once:
// - a synthetic camt.053 statement file (bank entries with parties, remittance text and references; statements
//   whose balances add up);
// - a generic XML export of rows with child elements, a nested party and an attribute (read in two passes).
// Each iteration checks that every row arrived (and, for camt, that no balance warning came up) before the time
// counts.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ingest/parser.h"
#include "ingest/xml/xml_parser.h"

namespace granska::bench {
namespace {

constexpr int64_t kEntriesPerStatement = 10'000;

uint64_t TargetBytes() {
    const char* megabytes = std::getenv("GRANSKA_BENCH_PARSE_MB");
    return (megabytes != nullptr ? std::stoull(megabytes) : 100) << 20;
}

struct XmlFile {
    std::filesystem::path path;
    int64_t entries = 0;
};

// Deterministic pseudo-random numbers (64-bit LCG), so every run writes the same file.
class Lcg {
public:
    uint64_t Next() {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        return state_ >> 33;
    }

private:
    uint64_t state_ = 20240402;
};

std::string Balance(std::string_view type, int64_t minor) {
    return fmt::format(
        "      <Bal>\n        <Tp>\n          <CdOrPrtry>\n            <Cd>{}</Cd>\n          </CdOrPrtry>\n"
        "        </Tp>\n        <Amt Ccy=\"SEK\">{}.{:02}</Amt>\n        <CdtDbtInd>{}</CdtDbtInd>\n"
        "        <Dt>\n          <Dt>2024-04-02</Dt>\n        </Dt>\n      </Bal>\n",
        type, (minor < 0 ? -minor : minor) / 100, (minor < 0 ? -minor : minor) % 100, minor < 0 ? "DBIT" : "CRDT");
}

// One statement of kEntriesPerStatement entries (fewer when the file is full).
void WriteStatement(std::ofstream& out, Lcg& random, int64_t statement, int64_t& entries, uint64_t& bytes,
                    uint64_t target) {
    static constexpr std::string_view kNames[] = {"Acme Industri AB", "Kontorsmaterial i Norden AB", "Müller GmbH",
                                                  "Café Ett",         "Fastighets AB Hyran",         "Lufthansa"};
    std::string body;
    int64_t sum = 0;
    for (int64_t i = 0; i < kEntriesPerStatement && bytes + body.size() < target; ++i) {
        const bool credit = random.Next() % 3 == 0;
        const int64_t minor = static_cast<int64_t>(random.Next() % 5'000'000) + 1;
        sum += credit ? minor : -minor;
        const int day = 1 + static_cast<int>(random.Next() % 28);
        const std::string_view name = kNames[random.Next() % std::size(kNames)];
        ++entries;
        fmt::format_to(std::back_inserter(body),
                       "      <Ntry>\n        <NtryRef>{}</NtryRef>\n        <Amt Ccy=\"SEK\">{}.{:02}</Amt>\n"
                       "        <CdtDbtInd>{}</CdtDbtInd>\n        <Sts>BOOK</Sts>\n"
                       "        <BookgDt>\n          <Dt>2024-04-{:02}</Dt>\n        </BookgDt>\n"
                       "        <ValDt>\n          <Dt>2024-04-{:02}</Dt>\n        </ValDt>\n"
                       "        <AcctSvcrRef>BANK-{:08}</AcctSvcrRef>\n"
                       "        <BkTxCd>\n          <Domn>\n            <Cd>PMNT</Cd>\n            <Fmly>\n"
                       "              <Cd>{}</Cd>\n              <SubFmlyCd>DMCT</SubFmlyCd>\n            </Fmly>\n"
                       "          </Domn>\n        </BkTxCd>\n"
                       "        <NtryDtls>\n          <TxDtls>\n            <Refs>\n"
                       "              <EndToEndId>E2E-{}-{}</EndToEndId>\n            </Refs>\n"
                       "            <RltdPties>\n              <{}>\n                <Nm>{}</Nm>\n              </{}>\n"
                       "              <{}Acct>\n                <Id>\n                  <IBAN>SE{:022}</IBAN>\n"
                       "                </Id>\n              </{}Acct>\n            </RltdPties>\n"
                       "            <RmtInf>\n              <Ustrd>Faktura {}</Ustrd>\n            </RmtInf>\n"
                       "          </TxDtls>\n        </NtryDtls>\n      </Ntry>\n",
                       i + 1, minor / 100, minor % 100, credit ? "CRDT" : "DBIT", day, day, entries,
                       credit ? "RCDT" : "ICDT", statement, i + 1, credit ? "Dbtr" : "Cdtr", name,
                       credit ? "Dbtr" : "Cdtr", credit ? "Dbtr" : "Cdtr", random.Next(), credit ? "Dbtr" : "Cdtr",
                       random.Next() % 100'000);
    }
    const int64_t opening = 100'000'000;
    const std::string head = fmt::format(
        "    <Stmt>\n      <Id>STMT-{}</Id>\n      <Acct>\n        <Id>\n          "
        "<IBAN>SE4550000000058398257466</IBAN>\n"
        "        </Id>\n        <Ccy>SEK</Ccy>\n      </Acct>\n{}{}",
        statement, Balance("OPBD", opening), Balance("CLBD", opening + sum));
    out << head << body << "    </Stmt>\n";
    bytes += head.size() + body.size() + 12;
}

const XmlFile& Camt053File() {
    static const XmlFile file = [] {
        const uint64_t target = TargetBytes();
        XmlFile made{.path =
                         std::filesystem::temp_directory_path() / fmt::format("granska-bench-camt053-{}.xml", target)};
        std::ofstream out(made.path, std::ios::binary | std::ios::trunc);
        const std::string_view head =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n  <BkToCstmrStmt>\n"
            "    <GrpHdr>\n      <MsgId>BENCH</MsgId>\n      <CreDtTm>2024-04-03T06:00:00</CreDtTm>\n    </GrpHdr>\n";
        out << head;
        uint64_t bytes = head.size();
        Lcg random;
        for (int64_t statement = 1; bytes < target; ++statement) {
            WriteStatement(out, random, statement, made.entries, bytes, target);
        }
        out << "  </BkToCstmrStmt>\n</Document>\n";
        return made;
    }();
    return file;
}

const XmlFile& GenericFile() {
    static const XmlFile file = [] {
        const uint64_t target = TargetBytes();
        XmlFile made{.path =
                         std::filesystem::temp_directory_path() / fmt::format("granska-bench-generic-{}.xml", target)};
        std::ofstream out(made.path, std::ios::binary | std::ios::trunc);
        out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Export>\n  <Rows>\n";
        uint64_t bytes = 0;
        Lcg random;
        std::string row;
        while (bytes < target) {
            const int64_t minor = static_cast<int64_t>(random.Next() % 2'000'000) - 1'000'000;
            row.clear();
            fmt::format_to(
                std::back_inserter(row),
                "    <Row id=\"T{}\">\n      <Date>2024-{:02}-{:02}</Date>\n      <Amount>{}{}.{:02}</Amount>\n"
                "      <Account>{}</Account>\n      <Text>Faktura {}</Text>\n"
                "      <Party>\n        <Name>Leverantör {}</Name>\n      </Party>\n    </Row>\n",
                made.entries + 1, 1 + random.Next() % 12, 1 + random.Next() % 28, minor < 0 ? "-" : "",
                (minor < 0 ? -minor : minor) / 100, (minor < 0 ? -minor : minor) % 100, 1000 + random.Next() % 8000,
                random.Next() % 100'000, random.Next() % 500);
            out << row;
            bytes += row.size();
            ++made.entries;
        }
        out << "  </Rows>\n</Export>\n";
        return made;
    }();
    return file;
}

void RunParse(benchmark::State& state, const XmlFile& file, bool balances_checked) {
    const auto parser = ingest::MakeXmlParser();
    ingest::ParseOptions options;
    options.file_name = "bench.xml";
    int64_t rows = 0;
    for (auto _ : state) {
        rows = 0;
        const ingest::ParseReport report = parser->Parse(file.path, options,
                                                         [&rows](std::span<Transaction> batch) {
                                                             rows += std::ssize(batch);
                                                             return Expected<void>{};
                                                         },
                                                         {});
        if (!report.ok() || rows != file.entries || (balances_checked && report.warning_count != 0)) {
            state.SkipWithError(report.ok() ? "lost rows or balances do not add up" : report.error->message.c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * rows);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::filesystem::file_size(file.path)));
    state.counters["rows"] = static_cast<double>(rows);
    state.counters["file_mb"] = static_cast<double>(std::filesystem::file_size(file.path)) / 1e6;
}

void BM_ParseXmlCamt053(benchmark::State& state) { RunParse(state, Camt053File(), true); }
BENCHMARK(BM_ParseXmlCamt053)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_ParseXmlGeneric(benchmark::State& state) { RunParse(state, GenericFile(), false); }
BENCHMARK(BM_ParseXmlGeneric)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace granska::bench

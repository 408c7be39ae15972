#pragma once
// ISO 20022 bank-to-customer messages, any version: camt.053 statements (BkToCstmrStmt/Stmt) and camt.054
// notifications (BkToCstmrDbtCdtNtfctn/Ntfctn). Each Ntry becomes one transaction, built here directly since the
// fields have a fixed meaning:
// - amount from Amt (exact) signed by CdtDbtInd (CRDT positive, DBIT negative), currency from Amt/@Ccy;
// - date and time from BookgDt (Dt or DtTm), the value date, status, bank transaction code, references and the
//   counterparty's account in raw_data;
// - external_id from AcctSvcrRef, else NtryRef; an id that repeats an earlier one is left empty (the entry gets a
//   generated id) with a warning, so ids stay unique in the file;
// - text from RmtInf/Ustrd (joined with " "), else the structured reference, else AddtlNtryInf;
// - counterparty: the debtor of a credit, the creditor of a debit (Nm directly or in the Pty wrapper of newer
//   versions); account: the statement's own account (IBAN or Othr/Id).
// Entries that are not booked (Sts other than BOOK) are loaded and reported as info. Statement balances go to
// report.details, and opening balance + booked entries must equal the closing balance (else a warning).

#include <memory>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "ingest/parser.h"
#include "ingest/xml/detail/xml_stream.h"

namespace granska::ingest::detail {

enum class CamtKind { kStatement, kNotification };  // camt.053, camt.054

std::string_view CamtKindName(CamtKind kind);  // "camt.053", "camt.054"

class CamtReader final : public XmlHandler {
public:
    // The report receives counts, problems and details; it and the sink must outlive the reader.
    CamtReader(CamtKind kind, const ParseOptions& options, ParseReport& report, const BatchSink& sink);
    ~CamtReader() override;
    CamtReader(const CamtReader&) = delete;
    CamtReader& operator=(const CamtReader&) = delete;

    Expected<void> OnStart(const XmlStart& element) override;
    Expected<void> OnEnd(std::string_view name, std::string_view text, bool leaf) override;

    // After the whole file: flushes the last batch and writes report.details. Fails when there is no entry.
    Expected<void> Finish();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace granska::ingest::detail

#pragma once
// SIE 4B, the Swedish standard for accounting exports: each live voucher row becomes one transaction.
//
// - Text is CP437 (#FORMAT PC8), decoded through iconv; a file that is valid UTF-8 with non-ASCII bytes is read as
//   UTF-8 (with a warning when it declares PC8). The encoding is decided by a first pass over the bytes.
// - #VER vouchers hold #TRANS rows in a `{ }` block. #RTRANS is a row added later: it is loaded and the #TRANS
//   right after it (its twin, kept for old readers) is not. #BTRANS is a removed row: recorded in the report's
//   details, never loaded. Every voucher must balance.
// - A transaction's external id is `<series>-<number>-<line>`, line being the 1-based position among the
//   voucher's loaded rows; a voucher without a number is named by its position in the file (`A-#12-1`), and a
//   repeated voucher number by its occurrence (`A-1(2)-1`), so ids stay unique.
// - #KSUMMA (CRC-32 over labels and field contents, CP437 bytes) is verified when present; a missing closing
//   #KSUMMA means a cut-off file and is rejected even when lenient.
// - Deviations are problems graded error / warning / info. Strict (the default) rejects the file on any error
//   and still lists every problem; lenient loads what can be read safely. A row that cannot be read (bad amount,
//   bad date) follows the bad-row policy, which defaults to rejecting the file unless lenient.
// - Counts: rows_read is every #TRANS, #RTRANS and #BTRANS record; rows_rejected those not loaded (twins, removed
//   rows, unreadable rows, and in strict mode everything after the first error); rows_accepted those delivered.
// - report.details: program, format, encoding, sie_type, generated, company, orgnr, currency, chart_of_accounts,
//   fiscal_years, counts, ksumma ("verified", "mismatch", "incomplete" or "absent"), removed_rows (the first 100),
//   balances (#IB, #UB, #RES ... counts) and unknown_labels.
// - Streams: memory is bounded by the longest line, the batch and the declared accounts and dimensions.

#include <istream>
#include <memory>

#include "ingest/parser.h"

namespace granska::ingest {

std::unique_ptr<Parser> MakeSieParser();

// The parser's work on a stream, which must be seekable (two passes). Used by the parser and the fuzzer.
ParseReport ReadSie(std::istream& in, const ParseOptions& options, const BatchSink& sink,
                    const ByteProgress& progress = {});

}  // namespace granska::ingest

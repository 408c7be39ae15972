#pragma once
// freexl in a child process. freexl 1.0.6 trusts the lengths and counts in a BIFF file: fuzzing found a
// stack-buffer-underflow inside freexl_open on a crafted .xls, and its date conversion loops once per day of a
// serial number. So the workbook is opened in a forked child with CPU and memory limits; the child sends the
// sheet names and then the cells of the sheets asked for over a socket, and the parent validates every message.
// A child that crashes, overruns its limits or falls silent is killed, and the file is reported as unreadable.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"

namespace granska::ingest::detail {

// One cell as freexl gives it: type is a FREEXL_CELL_* constant; text (valid during the row callback) for TEXT,
// SST_TEXT, DATE ("YYYY-MM-DD"), DATETIME ("YYYY-MM-DD HH:MM:SS") and TIME.
struct XlsValue {
    unsigned char type = 0;
    int32_t int_value = 0;
    double double_value = 0;
    std::string_view text;
};

struct XlsInfo {
    unsigned int codepage = 0;  // FREEXL_BIFF_CODEPAGE
    bool date1904 = false;
    bool obfuscated = false;  // FREEXL_BIFF_PASSWORD
    std::vector<std::string> sheets;
};

// Called for each row with at least one value; row is 0-based. An error stops the read and is returned.
using XlsRowHandler = std::function<Expected<void>(uint32_t row, std::span<const XlsValue> cells)>;

class XlsSandbox {
public:
    // Forks the child and opens the workbook in it; options must outlive the sandbox. Error "bad_xls" when freexl
    // cannot open the file (the message carries freexl's error code) or the child fails.
    static Expected<XlsSandbox> Open(const std::filesystem::path& path, const ParseOptions& options);
    XlsSandbox(XlsSandbox&& other) noexcept;
    XlsSandbox& operator=(XlsSandbox&&) = delete;
    ~XlsSandbox();  // ends and reaps the child

    const XlsInfo& info() const { return info_; }
    // Streams one sheet. Errors: "bad_xls" (freexl or the child failed), or on_row's.
    Expected<void> ReadSheet(size_t index, const XlsRowHandler& on_row);

private:
    XlsSandbox(pid_t child, int socket, const ParseOptions& options)
        : child_(child), socket_(socket), options_(&options) {}

    Expected<void> ReadInfo();
    Expected<void> ReadExact(void* out, size_t size);
    Expected<std::string_view> ReadText(std::string& buffer);
    Error Failed(std::string_view what) const;

    pid_t child_ = -1;
    int socket_ = -1;
    const ParseOptions* options_;
    XlsInfo info_;
    std::vector<char> inbox_;  // bytes received and not yet consumed
    size_t inbox_pos_ = 0;
};

}  // namespace granska::ingest::detail

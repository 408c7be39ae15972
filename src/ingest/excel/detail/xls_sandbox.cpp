#include "ingest/excel/detail/xls_sandbox.h"

#include <fmt/format.h>
#include <freexl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace granska::ingest::detail {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

constexpr rlim_t kChildCpuSeconds = 60;
constexpr rlim_t kChildAddressSpace = rlim_t{4} << 30;  // not under ASan, which reserves terabytes
constexpr int kSilenceMillis = 90'000;                  // longer than the CPU limit: a stuck child is killed
constexpr uint32_t kMaxTextBytes = 32u << 20;           // far above BIFF's 32,767-character strings
constexpr uint32_t kMaxCellsPerRow = 65536;
constexpr uint32_t kMaxSheets = 65536;
constexpr std::string_view kSaveAgain = "open it in Excel (or LibreOffice) and save it again as .xlsx";

// Messages from the child: 'E' open failed (int32 code); 'I' workbook info; 'R' a row; 'D' end of sheet;
// 'X' reading the sheet failed (int32 code). From the parent: 'S' (uint32 sheet index) and 'Q'.
enum Message : char {
    kOpenFailed = 'E',
    kInfo = 'I',
    kRow = 'R',
    kSheetDone = 'D',
    kSheetFailed = 'X',
    kSelect = 'S',
    kQuit = 'Q'
};

bool IsText(unsigned char type) {
    return type == FREEXL_CELL_TEXT || type == FREEXL_CELL_SST_TEXT || type == FREEXL_CELL_DATE ||
           type == FREEXL_CELL_DATETIME || type == FREEXL_CELL_TIME;
}

bool SendAll(int socket, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
}

// The child's side: everything here runs in the forked process, which leaves only through _exit.
class ChildWriter {
public:
    explicit ChildWriter(int socket) : socket_(socket) {}

    template <typename T>
    void Put(const T& value) {
        out_.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
    void PutText(std::string_view text) {
        Put(static_cast<uint32_t>(text.size()));
        out_.append(text);
    }
    void Flush() {
        if (!SendAll(socket_, out_)) _exit(1);
        out_.clear();
    }
    void FlushIfFull() {
        if (out_.size() >= (size_t{1} << 16)) Flush();
    }

private:
    int socket_;
    std::string out_;
};

bool ReadCommand(int socket, char& command, uint32_t& index) {
    char bytes[5];
    size_t got = 0;
    while (got < 1 || (bytes[0] == kSelect && got < 5)) {
        const ssize_t n = recv(socket, bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        got += static_cast<size_t>(n);
    }
    command = bytes[0];
    if (command == kSelect) std::memcpy(&index, bytes + 1, sizeof index);
    return true;
}

void SendSheet(const void* handle, uint32_t index, ChildWriter& out) {
    unsigned int rows = 0;
    unsigned short columns = 0;
    int rc = index <= UINT16_MAX ? freexl_select_active_worksheet(handle, static_cast<unsigned short>(index))
                                 : FREEXL_BIFF_ILLEGAL_SHEET_INDEX;
    if (rc == FREEXL_OK) rc = freexl_worksheet_dimensions(handle, &rows, &columns);
    std::vector<FreeXL_CellValue> values(columns);
    for (unsigned int row = 0; row < rows && rc == FREEXL_OK; ++row) {
        bool any = false;
        for (unsigned short column = 0; column < columns && rc == FREEXL_OK; ++column) {
            rc = freexl_get_cell_value(handle, row, column, &values[column]);
            any = any || values[column].type != FREEXL_CELL_NULL;
        }
        if (rc != FREEXL_OK || !any) continue;
        out.Put(kRow);
        out.Put(static_cast<uint32_t>(row));
        out.Put(static_cast<uint32_t>(columns));
        for (const FreeXL_CellValue& value : values) {
            out.Put(value.type);
            if (value.type == FREEXL_CELL_INT) {
                out.Put(static_cast<int32_t>(value.value.int_value));
            } else if (value.type == FREEXL_CELL_DOUBLE) {
                out.Put(value.value.double_value);
            } else if (IsText(value.type)) {
                out.PutText(value.value.text_value == nullptr ? "" : value.value.text_value);
            }
        }
        out.FlushIfFull();
    }
    if (rc == FREEXL_OK) {
        out.Put(kSheetDone);
    } else {
        out.Put(kSheetFailed);
        out.Put(static_cast<int32_t>(rc));
    }
    out.Flush();
}

[[noreturn]] void RunChild(int socket, const std::string& path) {
    const rlimit cpu{kChildCpuSeconds, kChildCpuSeconds + 5};
    setrlimit(RLIMIT_CPU, &cpu);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (!kAddressSanitizer) {
        const rlimit memory{kChildAddressSpace, kChildAddressSpace};
        setrlimit(RLIMIT_AS, &memory);
    }
    ChildWriter out(socket);
    const void* handle = nullptr;
    const int opened = freexl_open(path.c_str(), &handle);
    if (opened != FREEXL_OK) {
        out.Put(kOpenFailed);
        out.Put(static_cast<int32_t>(opened));
        out.Flush();
        _exit(0);
    }
    unsigned int codepage = 0;
    unsigned int date_mode = 0;
    unsigned int password = 0;
    unsigned int sheets = 0;
    freexl_get_info(handle, FREEXL_BIFF_CODEPAGE, &codepage);
    freexl_get_info(handle, FREEXL_BIFF_DATEMODE, &date_mode);
    freexl_get_info(handle, FREEXL_BIFF_PASSWORD, &password);
    if (freexl_get_info(handle, FREEXL_BIFF_SHEET_COUNT, &sheets) != FREEXL_OK) sheets = 0;
    sheets = std::min<unsigned int>(sheets, kMaxSheets);
    out.Put(kInfo);
    out.Put(static_cast<uint32_t>(codepage));
    out.Put(static_cast<uint8_t>(date_mode == FREEXL_BIFF_DATEMODE_1904));
    out.Put(static_cast<uint8_t>(password == FREEXL_BIFF_OBFUSCATED));
    out.Put(static_cast<uint32_t>(sheets));
    for (unsigned int i = 0; i < sheets; ++i) {
        const char* name = nullptr;
        if (freexl_get_worksheet_name(handle, static_cast<unsigned short>(i), &name) != FREEXL_OK) name = nullptr;
        out.PutText(name == nullptr ? "" : name);
    }
    out.Flush();
    char command = 0;
    uint32_t index = 0;
    while (ReadCommand(socket, command, index) && command == kSelect) SendSheet(handle, index, out);
    _exit(0);  // no destructors, atexit handlers or stdio flushes of the parent's copies
}

}  // namespace

Expected<XlsSandbox> XlsSandbox::Open(const std::filesystem::path& path, const ParseOptions& options) {
    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
        return Unexpected(Internal(fmt::format("Cannot start the .xls reader: {}.", std::strerror(errno))));
    }
    const std::string path_text = path.string();
    const pid_t child = fork();
    if (child < 0) {
        close(sockets[0]);
        close(sockets[1]);
        return Unexpected(Internal(fmt::format("Cannot start the .xls reader: {}.", std::strerror(errno))));
    }
    if (child == 0) {
        close(sockets[0]);
        RunChild(sockets[1], path_text);
    }
    close(sockets[1]);
    XlsSandbox sandbox(child, sockets[0], options);
    if (Expected<void> info = sandbox.ReadInfo(); !info) return Unexpected(std::move(info).error());
    return sandbox;
}

XlsSandbox::XlsSandbox(XlsSandbox&& other) noexcept
    : child_(std::exchange(other.child_, -1)),
      socket_(std::exchange(other.socket_, -1)),
      options_(other.options_),
      info_(std::move(other.info_)),
      inbox_(std::move(other.inbox_)),
      inbox_pos_(other.inbox_pos_) {}

XlsSandbox::~XlsSandbox() {
    if (socket_ >= 0) {
        const char quit = kQuit;
        SendAll(socket_, std::string_view(&quit, 1));
        close(socket_);
    }
    if (child_ > 0) {
        kill(child_, SIGKILL);
        while (waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

Error XlsSandbox::Failed(std::string_view what) const {
    return FileError(
        *options_, "bad_xls",
        fmt::format("The .xls workbook cannot be read: {}. The file is damaged or not a real Excel 97-2003 "
                    "workbook; {}.",
                    what, kSaveAgain));
}

Expected<void> XlsSandbox::ReadExact(void* out, size_t size) {
    auto* bytes = static_cast<char*>(out);
    while (size > 0) {
        if (inbox_pos_ == inbox_.size()) {
            pollfd ready{.fd = socket_, .events = POLLIN, .revents = 0};
            const int polled = poll(&ready, 1, kSilenceMillis);
            if (polled < 0 && errno == EINTR) continue;
            if (polled == 0) return Unexpected(Failed("the reader took too long"));
            inbox_.resize(size_t{1} << 16);
            const ssize_t got = recv(socket_, inbox_.data(), inbox_.size(), 0);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                inbox_.clear();
                inbox_pos_ = 0;
                return Unexpected(Failed("the reader stopped on malformed data"));
            }
            inbox_.resize(static_cast<size_t>(got));
            inbox_pos_ = 0;
        }
        const size_t take = std::min(size, inbox_.size() - inbox_pos_);
        std::memcpy(bytes, inbox_.data() + inbox_pos_, take);
        inbox_pos_ += take;
        bytes += take;
        size -= take;
    }
    return {};
}

Expected<std::string_view> XlsSandbox::ReadText(std::string& buffer) {
    uint32_t size = 0;
    if (auto read = ReadExact(&size, sizeof size); !read) return Unexpected(std::move(read).error());
    if (size > kMaxTextBytes) return Unexpected(Failed("the reader sent an oversized string"));
    const size_t start = buffer.size();
    buffer.resize(start + size);
    if (auto read = ReadExact(buffer.data() + start, size); !read) return Unexpected(std::move(read).error());
    return std::string_view(buffer).substr(start);
}

Expected<void> XlsSandbox::ReadInfo() {
    char type = 0;
    if (auto read = ReadExact(&type, 1); !read) return read;
    if (type == kOpenFailed) {
        int32_t code = 0;
        if (auto read = ReadExact(&code, sizeof code); !read) return read;
        return Unexpected(Failed(fmt::format("freexl error {}", code)));
    }
    if (type != kInfo) return Unexpected(Failed("the reader sent an unexpected message"));
    uint8_t date1904 = 0;
    uint8_t obfuscated = 0;
    uint32_t sheets = 0;
    if (auto read = ReadExact(&info_.codepage, sizeof info_.codepage); !read) return read;
    if (auto read = ReadExact(&date1904, 1); !read) return read;
    if (auto read = ReadExact(&obfuscated, 1); !read) return read;
    if (auto read = ReadExact(&sheets, sizeof sheets); !read) return read;
    if (sheets > kMaxSheets) return Unexpected(Failed("the reader sent too many sheets"));
    info_.date1904 = date1904 != 0;
    info_.obfuscated = obfuscated != 0;
    for (uint32_t i = 0; i < sheets; ++i) {
        std::string name;
        Expected<std::string_view> text = ReadText(name);
        if (!text) return Unexpected(std::move(text).error());
        info_.sheets.push_back(std::move(name));
    }
    return {};
}

Expected<void> XlsSandbox::ReadSheet(size_t index, const XlsRowHandler& on_row) {
    std::string command(1, kSelect);
    const auto sheet = static_cast<uint32_t>(index);
    command.append(reinterpret_cast<const char*>(&sheet), sizeof sheet);
    if (!SendAll(socket_, command)) return Unexpected(Failed("the reader stopped"));

    std::vector<XlsValue> cells;
    std::vector<std::pair<size_t, size_t>> text_spans;  // offset and size in `texts`, per cell
    std::string texts;
    for (;;) {
        char type = 0;
        if (auto read = ReadExact(&type, 1); !read) return read;
        if (type == kSheetDone) return {};
        if (type == kSheetFailed) {
            int32_t code = 0;
            if (auto read = ReadExact(&code, sizeof code); !read) return read;
            return Unexpected(Failed(fmt::format("sheet {} gives freexl error {}", index + 1, code)));
        }
        if (type != kRow) return Unexpected(Failed("the reader sent an unexpected message"));
        uint32_t row = 0;
        uint32_t count = 0;
        if (auto read = ReadExact(&row, sizeof row); !read) return read;
        if (auto read = ReadExact(&count, sizeof count); !read) return read;
        if (count > kMaxCellsPerRow) return Unexpected(Failed("the reader sent an oversized row"));
        cells.assign(count, XlsValue{});
        text_spans.assign(count, {0, 0});
        texts.clear();
        for (uint32_t i = 0; i < count; ++i) {
            XlsValue& cell = cells[i];
            if (auto read = ReadExact(&cell.type, 1); !read) return read;
            if (cell.type == FREEXL_CELL_INT) {
                if (auto read = ReadExact(&cell.int_value, sizeof cell.int_value); !read) return read;
            } else if (cell.type == FREEXL_CELL_DOUBLE) {
                if (auto read = ReadExact(&cell.double_value, sizeof cell.double_value); !read) return read;
            } else if (IsText(cell.type)) {
                const size_t start = texts.size();
                Expected<std::string_view> text = ReadText(texts);
                if (!text) return Unexpected(std::move(text).error());
                text_spans[i] = {start, text->size()};
            }
        }
        for (uint32_t i = 0; i < count; ++i) {
            if (IsText(cells[i].type))
                cells[i].text = std::string_view(texts).substr(text_spans[i].first, text_spans[i].second);
        }
        if (Expected<void> handled = on_row(row, cells); !handled) return handled;
    }
}

}  // namespace granska::ingest::detail

#include "core/uuid.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <string_view>

namespace granska {

namespace {

std::mt19937_64& Generator() {
    thread_local std::mt19937_64 generator{[] {
        std::random_device device;
        std::seed_seq seq{device(), device(), device(), device()};
        return std::mt19937_64{seq};
    }()};
    return generator;
}

}  // namespace

std::string NewUuidV7() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto millis = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    const uint64_t random_a = Generator()();
    const uint64_t random_b = Generator()();

    std::array<uint8_t, 16> bytes{};
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
    bytes[6] = static_cast<uint8_t>(0x70 | (random_a & 0x0F));
    bytes[7] = static_cast<uint8_t>(random_a >> 8);
    bytes[8] = static_cast<uint8_t>(0x80 | ((random_b >> 56) & 0x3F));
    for (int i = 9; i < 16; ++i) bytes[i] = static_cast<uint8_t>(random_b >> (8 * (15 - i)));

    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0x0F];
    }
    return out;
}

bool IsUuid(std::string_view text) {
    if (text.size() != 36) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

}  // namespace granska

#pragma once
// Windows-1252, the code page of older Swedish and other Western European exports: Latin-1 except 0x80..0x9F.

#include <array>
#include <cstdint>

namespace granska::ingest::detail {

// Bytes 0x80..0x9F as Unicode code points; 0 for the five bytes the code page leaves undefined
// (0x81, 0x8D, 0x8F, 0x90, 0x9D). Every other byte is its own code point.
inline constexpr std::array<uint16_t, 32> kWindows1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

}  // namespace granska::ingest::detail

// utf8.h - UTF-8 characters: decoding, encoding, validity, and the columns a terminal gives them.
// Inside the server all text is UTF-8 (a CP949 connection's is converted at its edge, terminal.h),
// so every layer that measures or cuts text (the line discipline, the room's board, the board view's
// list) uses these. No Windows header: unit-tested natively.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

constexpr char32_t kNotUtf8 = 0xFFFFFFFFu;  // what next_code_point reads where no character starts

// How many bytes a UTF-8 sequence starting with `lead` has (0: it cannot start one).
inline int utf8_length(unsigned char lead) {
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

// The character at text[at], `at` moved past it; for a byte that starts no well-formed character
// (no overlong forms, surrogates or code points past U+10FFFF), kNotUtf8 and `at` moved one byte on.
inline char32_t next_code_point(std::string_view text, std::size_t& at) {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80) {
        ++at;
        return lead;
    }
    const auto length = static_cast<std::size_t>(utf8_length(lead));
    if (length == 0 || at + length > text.size()) {
        ++at;
        return kNotUtf8;
    }
    char32_t c = lead & (0xFFu >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
        const auto byte = static_cast<unsigned char>(text[at + k]);
        if ((byte & 0xC0) != 0x80) {
            ++at;
            return kNotUtf8;
        }
        c = (c << 6) | (byte & 0x3Fu);
    }
    const bool overlong = (length == 3 && c < 0x800) || (length == 4 && c < 0x10000);
    if (overlong || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
        ++at;
        return kNotUtf8;
    }
    at += length;
    return c;
}

inline void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// True when `text` is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view text) {
    for (std::size_t at = 0; at < text.size();)
        if (next_code_point(text, at) == kNotUtf8)
            return false;
    return true;
}

// Columns a code point takes on a terminal: East Asian wide and fullwidth characters two,
// combining marks none, the rest one.
inline int columns_of(char32_t c) {
    if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F))
        return 0;
    const bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
                      (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
                      (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
                      (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
                      (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
    return wide ? 2 : 1;
}

// The columns `text` (UTF-8; a byte that is no part of a valid character counts one) takes.
inline int columns_of(std::string_view text) {
    int columns = 0;
    for (std::size_t at = 0; at < text.size();) {
        const char32_t c = next_code_point(text, at);
        columns += c == kNotUtf8 ? 1 : columns_of(c);
    }
    return columns;
}

// Cuts `text` after its last whole character that ends within `columns` columns.
inline void cut_to_columns(std::string& text, int columns) {
    int taken = 0;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t start = at;
        const char32_t c = next_code_point(text, at);
        taken += c == kNotUtf8 ? 1 : columns_of(c);
        if (taken > columns) {
            text.resize(start);
            return;
        }
    }
}

// Where the last character of a UTF-8 line starts (its continuation bytes, then its lead).
inline std::size_t last_character_start(std::string_view line) {
    std::size_t end = line.size();
    int continuation = 0;
    while (end > 0 && continuation < 3 && (static_cast<unsigned char>(line[end - 1]) & 0xC0) == 0x80) {
        --end;
        ++continuation;
    }
    return end > 0 ? end - 1 : 0;
}

// utf8.h - UTF-8 characters, as both programs need them: how long a sequence is, the character at
// a place in a string, whether text is well formed, how many terminal columns a character takes,
// where the last character of a line starts, a code point written out, and one assembled from
// bytes that may come in pieces.
//
// Inside the server all text is UTF-8 (a CP949 connection's is converted at its edge, terminal.h),
// so every layer that measures or cuts text (the line discipline, the room's board, the board
// view's list) uses these; client.exe's terminal (vt.h, display.h, keys.h) decodes what the server
// draws and encodes what is typed with them.
//
// Includes no Windows header: unit-tested natively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace utf8 {

constexpr char32_t kReplacement = 0xFFFD;    // what a byte that is no part of a character becomes
constexpr char32_t kNotUtf8 = 0xFFFFFFFFu;  // what next_code_point reads where no character starts

// How many bytes a UTF-8 sequence starting with `lead` has (0: it cannot start one).
inline int sequence_length(unsigned char lead) {
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

// Whether `second` may follow `lead` (the first continuation byte is narrower for some leads: no
// overlong forms, no surrogates, nothing past U+10FFFF).
inline bool may_follow(unsigned char lead, unsigned char second) {
    if ((second & 0xC0) != 0x80)
        return false;
    return !((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) || (lead == 0xF0 && second < 0x90) ||
             (lead == 0xF4 && second > 0x8F));
}

// The character at text[at], `at` moved past it; for a byte that starts no well-formed character
// (no overlong forms, surrogates or code points past U+10FFFF), kNotUtf8 and `at` moved one byte on.
inline char32_t next_code_point(std::string_view text, std::size_t& at) {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80) {
        ++at;
        return lead;
    }
    const auto length = static_cast<std::size_t>(sequence_length(lead));
    if (length == 0 || at + length > text.size() || !may_follow(lead, static_cast<unsigned char>(text[at + 1]))) {
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
    at += length;
    return c;
}

// True when `text` is well-formed UTF-8.
inline bool is_valid(std::string_view text) {
    for (std::size_t at = 0; at < text.size();)
        if (next_code_point(text, at) == kNotUtf8)
            return false;
    return true;
}

// Appends `c` in UTF-8; a surrogate or a value past U+10FFFF goes as U+FFFD.
inline void append(std::string& out, char32_t c) {
    if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
        c = kReplacement;
    const auto byte = [&out](std::uint32_t value) { out.push_back(static_cast<char>(value)); };
    if (c < 0x80) {
        byte(c);
    } else if (c < 0x800) {
        byte(0xC0 | (c >> 6));
        byte(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        byte(0xE0 | (c >> 12));
        byte(0x80 | ((c >> 6) & 0x3F));
        byte(0x80 | (c & 0x3F));
    } else {
        byte(0xF0 | (c >> 18));
        byte(0x80 | ((c >> 12) & 0x3F));
        byte(0x80 | ((c >> 6) & 0x3F));
        byte(0x80 | (c & 0x3F));
    }
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

// Assembles code points from bytes fed one at a time, so a character split across two receives
// comes out whole. A byte that cannot continue the character begun ends it as U+FFFD and is
// read again on its own; a byte that can start none is U+FFFD. Its state is a few bytes.
class Decoder {
public:
    // What `byte` completes: 0 or 1 code points in `out`, or 2 when it broke a character begun
    // (U+FFFD for that, then the byte's own result). Returns how many.
    int feed(unsigned char byte, char32_t out[2]) {
        int count = 0;
        if (needed_ > 0) {
            const bool fits = seen_ == 1 ? may_follow(lead_, byte) : (byte & 0xC0) == 0x80;
            if (fits) {
                code_point_ = (code_point_ << 6) | (byte & 0x3F);
                ++seen_;
                if (--needed_ == 0)
                    out[count++] = code_point_;
                return count;
            }
            needed_ = 0;
            out[count++] = kReplacement;
        }
        const int length = sequence_length(byte);
        if (length == 1) {
            out[count++] = byte;
        } else if (length == 0) {
            out[count++] = kReplacement;
        } else {
            lead_ = byte;
            seen_ = 1;
            needed_ = length - 1;
            code_point_ = byte & (0xFF >> (length + 1));
        }
        return count;
    }
    // A character begun and not finished: gives it up (U+FFFD in `out`). Returns how many (0 or 1).
    int flush(char32_t out[1]) {
        if (needed_ == 0)
            return 0;
        needed_ = 0;
        out[0] = kReplacement;
        return 1;
    }
    bool in_character() const { return needed_ > 0; }

private:
    char32_t code_point_ = 0;
    unsigned char lead_ = 0;
    int seen_ = 0;    // bytes of the character so far
    int needed_ = 0;  // bytes still to come
};

}  // namespace utf8

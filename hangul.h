// hangul.h - Hangul as the chat needs it: the precomposed syllables a nick may hold, and the
// standard Korean keyboard (두벌식, KS X 5002), which reads a line typed with the Korean input key
// left on (한/영) back into the Latin keys that were pressed (PRODUCT.md, "The Korean input key
// left on"): each syllable split into its jamo, compound vowels and finals split too (ㅘ is ㅗ ㅏ,
// ㄳ is ㄱ ㅅ), each jamo the key that types it, the shifted ones (ㅃ ㅉ ㄸ ㄲ ㅆ ㅒ ㅖ) upper case.
//
// No Windows header: unit-tested natively (tests/unit/hangul_test.cpp), against an IME's composition.
#pragma once

#include "utf8.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

namespace hangul {

constexpr char32_t kFirstSyllable = 0xAC00, kLastSyllable = 0xD7A3;  // 가 .. 힣: 19 x 21 x 28
// Compatibility jamo, the letters an IME shows on their own: the consonants ㄱ .. ㅎ, the vowels ㅏ .. ㅣ.
constexpr char32_t kFirstJamo = 0x3131, kFirstVowel = 0x314F, kLastJamo = 0x3163;

inline bool is_syllable(char32_t c) { return c >= kFirstSyllable && c <= kLastSyllable; }

// The keys that type each compatibility jamo, ㄱ (U+3131) to ㅣ (U+3163), in Unicode's order.
constexpr std::string_view kJamoKeys[] = {
    "r",  "R",  "rt", "s",  "sw", "sg", "e",  "E",  "f",  "fr", "fa", "fq", "ft",  // ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄸ ㄹ ㄺ ㄻ ㄼ ㄽ
    "fx", "fv", "fg", "a",  "q",  "Q",  "qt", "t",  "T",  "d",  "w",  "W",  "c",   // ㄾ ㄿ ㅀ ㅁ ㅂ ㅃ ㅄ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ
    "z",  "x",  "v",  "g",                                                         // ㅋ ㅌ ㅍ ㅎ
    "k",  "o",  "i",  "O",  "j",  "p",  "u",  "P",  "h",  "hk", "ho", "hl", "y",   // ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ
    "n",  "nj", "np", "nl", "b",  "m",  "ml", "l",                                 // ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ
};
static_assert(std::size(kJamoKeys) == kLastJamo - kFirstJamo + 1, "one entry per compatibility jamo");

// A syllable's initial and final consonants (Unicode's order) as compatibility jamo, counted from
// ㄱ; its vowel V is kFirstVowel + V. kNoFinal: a syllable without a final.
constexpr std::uint8_t kNoFinal = 0xFF;
constexpr std::uint8_t kInitials[19] = {0, 1, 3, 6, 7, 8, 16, 17, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
constexpr std::uint8_t kFinals[28] = {kNoFinal, 0,  1,  2,  3,  4,  5,  6,  8,  9,  10, 11, 12, 13,
                                      14,       15, 16, 17, 19, 20, 21, 22, 23, 25, 26, 27, 28, 29};

// Appends the keys that type `c`; false when `c` is no Hangul letter (a syllable or a jamo).
inline bool append_keys(std::string& keys, char32_t c) {
    if (c >= kFirstJamo && c <= kLastJamo) {
        keys += kJamoKeys[c - kFirstJamo];
        return true;
    }
    if (!is_syllable(c))
        return false;
    const std::size_t index = c - kFirstSyllable;
    keys += kJamoKeys[kInitials[index / (21 * 28)]];
    keys += kJamoKeys[kFirstVowel - kFirstJamo + index % (21 * 28) / 28];
    if (kFinals[index % 28] != kNoFinal)
        keys += kJamoKeys[kFinals[index % 28]];
    return true;
}

// `text` as the keys that typed it with the Korean input on: each Hangul letter its keys, ASCII
// as it is ("ㅕㅅㄹ8" is "utf8"). False when `text` holds no Hangul, or a character that is
// neither (no key of this keyboard typed it).
inline bool keys_typed(std::string_view text, std::string& keys) {
    keys.clear();
    bool hangul = false;
    for (std::size_t at = 0; at < text.size();) {
        const char32_t c = utf8::next_code_point(text, at);
        if (c < 0x80) {
            keys += static_cast<char>(c);
            continue;
        }
        if (!append_keys(keys, c))
            return false;
        hangul = true;
    }
    return hangul;
}

}  // namespace hangul

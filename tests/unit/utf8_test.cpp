// Unit tests of utf8.h: sequences, columns, a code point written out, and the decoder that holds a
// character split across receives.
#include "check.h"
#include "utf8.h"

#include <string>
#include <string_view>
#include <vector>

namespace {

// Every code point the decoder gives for `bytes` fed one at a time, then what a flush gives.
std::u32string decode(std::string_view bytes) {
    utf8::Decoder decoder;
    std::u32string decoded;
    char32_t out[2];
    for (const char c : bytes) {
        const int count = decoder.feed(static_cast<unsigned char>(c), out);
        decoded.append(out, out + count);
    }
    decoded.append(out, out + decoder.flush(out));
    return decoded;
}

TEST(a_code_point_is_written_in_one_to_four_bytes) {
    std::string out;
    for (const char32_t c : {U'a', U'\u00e9', U'\ud55c', U'\U0001F600'})
        utf8::append(out, c);
    CHECK(out == "a\xc3\xa9\xed\x95\x9c\xf0\x9f\x98\x80");
    out.clear();
    utf8::append(out, 0xD800);  // a lone surrogate is no character
    utf8::append(out, 0x110000);
    CHECK(out == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(the_decoder_assembles_characters_whatever_the_pieces) {
    CHECK(decode("a\xc3\xa9\xed\x95\x9c\xf0\x9f\x98\x80") == U"a\u00e9\ud55c\U0001F600");
    utf8::Decoder decoder;
    char32_t out[2];
    CHECK(decoder.feed(0xed, out) == 0 && decoder.in_character());
    CHECK(decoder.feed(0x95, out) == 0);
    CHECK(decoder.feed(0x9c, out) == 1 && out[0] == U'\ud55c' && !decoder.in_character());
}

TEST(what_is_no_character_becomes_one_replacement_each) {
    CHECK(decode("\xff" "a") == U"\ufffd" U"a");
    CHECK(decode("\xed\x95" "a") == U"\ufffd" U"a");     // broken by a byte that is read again
    CHECK(decode("\xc0\xaf") == U"\ufffd\ufffd");        // an overlong form
    CHECK(decode("\xed\xa0\x80") == U"\ufffd\ufffd\ufffd");  // a surrogate in UTF-8
    CHECK(decode("\xe2\x82") == U"\ufffd");              // cut short: the flush gives it up
}

TEST(columns_count_wide_characters_twice_and_combining_marks_not_at_all) {
    CHECK(utf8::columns_of(U'a') == 1 && utf8::columns_of(U'\ud55c') == 2 && utf8::columns_of(U'\u0301') == 0);
    CHECK(utf8::columns_of(std::string_view("\xed\x95\x9c" "a")) == 3);
    CHECK(utf8::last_character_start("a\xed\x95\x9c") == 1 && utf8::last_character_start("") == 0);
}

}  // namespace

// Unit tests of hangul.h and of the 한/영 reading in protocol.h (PRODUCT.md, "The Korean input key
// left on"): every command of the table and every keyword argument, typed with the Korean input on
// (through a 두벌식 IME's composition, written here), is read back as what was meant; compound
// vowels and finals and the shifted keys come apart as typed; a Hangul word that spells nothing
// is left alone, and free text and nicks are never touched.
#include "check.h"
#include "hangul.h"
#include "protocol.h"
#include "utf8.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

// ---- A 두벌식 IME, from the keys to the text it shows -------------------------------------------------

// The jamo (as compatibility jamo, counted from ㄱ) each key types; shifted keys with a jamo of their
// own (Q W E R T O P) type it, the other letters type their unshifted one.
int jamo_of_key(char key) {
    for (std::size_t j = 0; j < std::size(hangul::kJamoKeys); ++j)
        if (hangul::kJamoKeys[j].size() == 1 && hangul::kJamoKeys[j][0] == key)
            return static_cast<int>(j);
    if (key >= 'A' && key <= 'Z')
        return jamo_of_key(static_cast<char>(key - 'A' + 'a'));
    return -1;
}

constexpr int kVowel = hangul::kFirstVowel - hangul::kFirstJamo;  // ㅏ, counted from ㄱ
bool is_vowel(int jamo) { return jamo >= kVowel; }

// The compound of two jamo typed one after the other (ㅗ ㅏ: ㅘ; ㄱ ㅅ: ㄳ), or -1.
int compound(int first, int second) {
    for (std::size_t j = 0; j < std::size(hangul::kJamoKeys); ++j) {
        const std::string_view keys = hangul::kJamoKeys[j];
        if (keys.size() == 2 && keys[0] == hangul::kJamoKeys[static_cast<std::size_t>(first)][0] &&
            keys[1] == hangul::kJamoKeys[static_cast<std::size_t>(second)][0])
            return static_cast<int>(j);
    }
    return -1;
}

int index_in(const std::uint8_t* table, int size, int jamo) {
    for (int i = 0; i < size; ++i)
        if (table[i] == jamo)
            return i;
    return -1;
}
int initial_index(int jamo) { return index_in(hangul::kInitials, 19, jamo); }
int final_index(int jamo) { return index_in(hangul::kFinals, 28, jamo); }

// The syllable being composed, shown as one character; the IME commits it when the next key cannot join it.
struct Ime {
    std::string text;
    int initial = -1, vowel = -1, last = -1;  // jamo, counted from ㄱ; -1: none
    int initial_first = -1;                   // two consonants alone made one (ㄱ ㅅ: ㄳ): the first, or -1
    int last_first = -1;                      // a compound final's first part, or -1

    void commit() {
        if (initial >= 0 && vowel >= 0) {
            const int v = vowel - kVowel, t = last >= 0 ? final_index(last) : 0;
            utf8::append(text, hangul::kFirstSyllable + static_cast<char32_t>((initial_index(initial) * 21 + v) * 28 + t));
        } else if (initial >= 0 || vowel >= 0) {
            utf8::append(text, hangul::kFirstJamo + static_cast<char32_t>(initial >= 0 ? initial : vowel));
        }
        initial = vowel = last = initial_first = last_first = -1;
    }
    void consonant(int c) {
        if (initial >= 0 && vowel < 0 && initial_first < 0 && compound(initial, c) >= 0) {
            initial_first = initial;
            initial = compound(initial, c);
        } else if (initial >= 0 && vowel >= 0 && last < 0 && final_index(c) > 0) {
            last = c;
        } else if (last >= 0 && last_first < 0 && compound(last, c) >= 0) {
            last_first = last;
            last = compound(last, c);
        } else {
            commit();
            initial = c;
        }
    }
    void vowel_key(int v) {
        if (initial_first >= 0) {  // ㄳ then ㅏ: ㄱ, then 사
            const int moving = jamo_of_key(hangul::kJamoKeys[static_cast<std::size_t>(initial)][1]);
            initial = initial_first;
            initial_first = -1;
            commit();
            initial = moving;
            vowel = v;
        } else if (last >= 0) {  // the final moves on: it starts the next syllable
            const int moving = last_first >= 0 ? jamo_of_key(hangul::kJamoKeys[static_cast<std::size_t>(last)][1]) : last;
            last = last_first >= 0 ? last_first : -1;
            last_first = -1;
            commit();
            initial = moving;
            vowel = v;
        } else if (vowel >= 0 && compound(vowel, v) >= 0) {
            vowel = compound(vowel, v);
        } else if (initial >= 0 && vowel < 0) {
            vowel = v;
        } else {
            commit();
            vowel = v;
        }
    }
    void key(char k) {
        const int jamo = jamo_of_key(k);
        if (jamo < 0) {
            commit();
            text += k;
        } else {
            is_vowel(jamo) ? vowel_key(jamo) : consonant(jamo);
        }
    }
};

// What typing `keys` with the Korean input on shows.
std::string typed_in_korean(std::string_view keys) {
    Ime ime;
    for (const char k : keys)
        ime.key(k);
    ime.commit();
    return ime.text;
}

std::string keys_of(std::string_view text) {
    std::string keys;
    return hangul::keys_typed(text, keys) ? keys : std::string("<none>");
}

std::string read_of(std::string_view line) {
    std::string read;
    return proto::read_through_korean_keys(line, read) ? read : std::string("<as typed>");
}

}  // namespace

// ---- The layout ----------------------------------------------------------------------------------------

TEST(the_ime_of_the_tests_composes_as_the_spec_shows) {
    CHECK(typed_in_korean("who") == "\xec\xa2\xa8");                     // 좨
    CHECK(typed_in_korean("move") == "\xe3\x85\xa1\xe3\x85\x90\xe3\x85\x8d\xe3\x84\xb7");  // ㅡㅐㅍㄷ
    CHECK(typed_in_korean("u") == "\xe3\x85\x95");                       // ㅕ
    CHECK(typed_in_korean("dkssud") == "\xec\x95\x88\xeb\x85\x95");      // 안녕
    CHECK(typed_in_korean("ekfr") == "\xeb\x8b\xad");                 // 닭: ㄹ ㄱ joined as the final ㄺ
    CHECK(typed_in_korean("ekfrk") == "\xeb\x8b\xac\xea\xb0\x80");   // 달가: a vowel takes the final's last part
}

TEST(a_syllable_comes_apart_into_the_keys_that_typed_it) {
    CHECK(keys_of("\xec\xa2\xa8") == "who");          // 좨: ㅈ ㅙ, and ㅙ is ㅗ ㅐ
    CHECK(keys_of("\xec\x95\x88\xeb\x85\x95") == "dkssud");  // 안녕
    CHECK(keys_of("\xea\xb0\x80") == "rk");           // 가: no final
}

TEST(compound_vowels_and_finals_split_into_their_parts) {
    CHECK(keys_of("\xe3\x85\x98") == "hk");           // ㅘ alone: ㅗ ㅏ
    CHECK(keys_of("\xe3\x84\xb3") == "rt");           // ㄳ alone: ㄱ ㅅ
    CHECK(keys_of("\xea\xb3\xbc") == "rhk");          // 과: ㄱ ㅘ
    CHECK(keys_of("\xeb\x8b\xad") == "ekfr");         // 닭: ㄷ ㅏ ㄺ, and ㄺ is ㄹ ㄱ
    CHECK(keys_of("\xea\xb0\x92") == "rkqt");         // 값: ㄱ ㅏ ㅄ
    CHECK(keys_of("\xec\x9d\x98") == "dml");          // 의: ㅇ ㅢ, and ㅢ is ㅡ ㅣ
}

TEST(shifted_jamo_are_the_shifted_keys) {
    CHECK(keys_of("\xe3\x85\x83") == "Q");            // ㅃ
    CHECK(keys_of("\xe3\x85\x92") == "O");            // ㅒ
    CHECK(keys_of("\xe3\x85\x96") == "P");            // ㅖ
    CHECK(keys_of("\xeb\xbf\x8c") == "Qn");           // 뿌: ㅃ ㅜ
    CHECK(keys_of("\xec\xa7\x9c") == "Wk");           // 짜
    CHECK(keys_of("\xeb\x95\x8c") == "Eo");           // 때: ㄸ ㅐ
    CHECK(keys_of("\xea\xb9\x8c") == "Rk");           // 까
    CHECK(keys_of("\xec\x8b\xb8") == "Tk");           // 싸
    CHECK(keys_of("\xec\x96\x98") == "dO");           // 얘: ㅇ ㅒ
    CHECK(typed_in_korean("Q") == "\xe3\x85\x83" && typed_in_korean("O") == "\xe3\x85\x92");
}

TEST(every_jamo_and_every_syllable_comes_apart_and_composes_back) {
    for (char32_t c = hangul::kFirstJamo; c <= hangul::kLastJamo; ++c) {
        std::string text;
        utf8::append(text, c);
        CHECK(typed_in_korean(keys_of(text)) == text);
    }
    int wrong = 0;
    for (char32_t c = hangul::kFirstSyllable; c <= hangul::kLastSyllable; ++c) {
        std::string text;
        utf8::append(text, c);
        wrong += typed_in_korean(keys_of(text)) == text ? 0 : 1;
    }
    CHECK(wrong == 0);
}

TEST(only_hangul_letters_have_keys) {
    CHECK(keys_of("abc") == "<none>");                // no Hangul: nothing to read
    CHECK(keys_of("\xc3\xa9") == "<none>");           // é
    CHECK(keys_of("\xe6\xbc\xa2") == "<none>");       // 漢
    CHECK(keys_of("\xe3\x85\x95\xe3\x85\x85\xe3\x84\xb9" "8") == "utf8");  // ㅕㅅㄹ8: ASCII stays
    CHECK(keys_of("") == "<none>");
}

// ---- Lines read through the keys (protocol.h) -------------------------------------------------------

TEST(every_command_of_the_table_typed_in_korean_is_read_as_itself) {
    int commands = 0;
    for (const proto::CommandInfo& command : proto::kCommands) {
        proto::any_name(command, [&](std::string_view name) {
            const std::string typed = "/" + typed_in_korean(name.substr(1));
            const std::string read = read_of(typed);
            CHECK(keys_of(typed.substr(1)) == name.substr(1));
            CHECK(read == std::string(name));
            CHECK(proto::parse_command(read).kind == command.kind);
            ++commands;
            return false;
        });
    }
    CHECK(commands == 20);  // 17 commands (every row but chat), and /m /w /r
}

TEST(every_keyword_argument_typed_in_korean_is_read_as_itself) {
    for (const char* direction : {"up", "u", "down", "d", "left", "l", "right", "r"}) {
        CHECK(read_of("/move " + typed_in_korean(direction)) == std::string("/move ") + direction);
        CHECK(read_of("/" + typed_in_korean("move") + " " + typed_in_korean(direction)) ==
              std::string("/move ") + direction);
    }
    for (const char* encoding : {"utf8", "cp949"}) {
        CHECK(read_of("/encoding " + typed_in_korean(encoding)) == std::string("/encoding ") + encoding);
        CHECK(read_of("/" + typed_in_korean("encoding") + " " + typed_in_korean(encoding)) ==
              std::string("/encoding ") + encoding);
    }
    CHECK(read_of("/\xe3\x85\xa1\xe3\x85\x90\xe3\x85\x8d\xe3\x84\xb7 \xe3\x85\x95") == "/move u");  // the spec's
}

TEST(free_text_and_nicks_are_never_read_through_the_keys) {
    const std::string hello = "\xec\x95\x88\xeb\x85\x95";  // 안녕
    CHECK(read_of("/\xe3\x85\xa1\xe3\x84\xb4\xe3\x85\x8e " + hello) == "/msg " + hello);  // /ㅡㄴㅎ 안녕
    CHECK(read_of("/msg " + hello + " " + hello) == "<as typed>");
    CHECK(read_of("/nick " + typed_in_korean("ann")) == "<as typed>");
    CHECK(read_of("/" + typed_in_korean("nick") + " " + typed_in_korean("u")) == "/nick " + typed_in_korean("u"));
    CHECK(read_of("/" + typed_in_korean("me") + " " + typed_in_korean("who")) == "/me " + typed_in_korean("who"));
    CHECK(read_of("/move " + hello) == "<as typed>");  // spells no direction: /move's own error
    CHECK(read_of(typed_in_korean("who")) == "<as typed>");  // a chat line, not a command
}

TEST(a_hangul_word_that_spells_nothing_is_an_unknown_command_as_before) {
    CHECK(read_of("/\xec\x95\x88\xeb\x85\x95") == "<as typed>");  // /안녕: "/dkssud"
    CHECK(read_of("/\xec\x95\x88\xeb\x85\x95 " + typed_in_korean("u")) == "<as typed>");
    CHECK(proto::parse_command("/\xec\x95\x88\xeb\x85\x95").kind == proto::CommandKind::Unknown);
    CHECK(read_of("/who") == "<as typed>" && read_of("/") == "<as typed>" && read_of("/\xc3\xa9") == "<as typed>");
}

TEST(hangul_nicks_are_precomposed_syllables_counted_as_characters) {
    const std::string syllable = "\xed\x95\x9c";  // 한
    std::string sixteen;
    for (int i = 0; i < 16; ++i)
        sixteen += syllable;
    CHECK(proto::is_valid_nick(syllable) && proto::is_valid_nick("Ann" + syllable + "_2"));
    CHECK(proto::is_valid_nick(sixteen) && sixteen.size() == proto::kMaxNickBytes);
    CHECK(!proto::is_valid_nick(sixteen + "a"));
    CHECK(!proto::is_valid_nick("\xe3\x85\x8e"));            // ㅎ: a jamo, not a syllable
    CHECK(!proto::is_valid_nick("\xe1\x84\x92\xe1\x85\xa1"));  // 하 as conjoining jamo: composes to look alike
    CHECK(!proto::is_valid_nick("\xea\xb0\x80\xcc\x81"));    // 가 and a combining accent
    CHECK(!proto::is_valid_nick("\xe6\xbc\xa2"));            // 漢: another script
    CHECK(!proto::is_valid_nick("\xed\x95"));                // a syllable cut short
    CHECK(proto::is_valid_nick("\xea\xb0\x80") && proto::is_valid_nick("\xed\x9e\xa3"));  // 가 and 힣, the ends
    CHECK(!proto::is_valid_nick("\xea\xb0\x80" "\xed\x9e\xa4"));  // one past 힣
}

// Unit tests of keys.h: console key events (as Windows and Wine 8 deliver them, measured) turned
// into what a VT terminal sends.
#include "check.h"
#include "keys.h"

#include <initializer_list>
#include <string>

namespace {

using keys::KeyEvent;

KeyEvent down(std::uint16_t virtual_key, char16_t character = 0, std::uint32_t control_state = 0) {
    return KeyEvent{true, 1, virtual_key, character, control_state};
}

// What the keys send, each pressed and released.
std::string typed(std::initializer_list<KeyEvent> presses) {
    keys::Keyboard keyboard;
    std::string out;
    for (KeyEvent key : presses) {
        CHECK(keyboard.key(key, out));
        key.down = false;
        CHECK(keyboard.key(key, out));
    }
    return out;
}

TEST(characters_go_as_utf8) {
    CHECK(typed({down('H', u'h'), down('I', u'i'), down(0, u'\u00e9')}) == "hi\xc3\xa9");
    CHECK(typed({down(0, u'\ud55c'), down(0, u'\uae00')}) == "\xed\x95\x9c\xea\xb8\x80");  // Hangul, as Wine hands it
}

TEST(a_surrogate_pair_is_joined_and_a_lone_half_is_a_replacement) {
    CHECK(typed({down(0, u'\xd83d'), down(0, u'\xde00')}) == "\xf0\x9f\x98\x80");
    CHECK(typed({down(0, u'\xd83d'), down('A', u'a')}) == "\xef\xbf\xbd" "a");
    CHECK(typed({down(0, u'\xde00')}) == "\xef\xbf\xbd");
    CHECK(typed({down(0, u'\xd83d'), down(keys::vk::Up)}) == "\xef\xbf\xbd\x1b[A");
}

TEST(the_editing_keys_go_as_a_vt_terminal_sends_them) {
    // Wine 8: Esc and the arrows come with no character, Enter and Backspace with theirs.
    CHECK(typed({down(keys::vk::Return, u'\r')}) == "\r\n");
    CHECK(typed({down(keys::vk::Back, u'\b')}) == "\x7f");
    CHECK(typed({down(keys::vk::Escape)}) == "\x1b" && typed({down(keys::vk::Escape, u'\x1b')}) == "\x1b");
    CHECK(typed({down('U', u'\x15', keys::kLeftCtrl), down('W', u'\x17', keys::kRightCtrl)}) == "\x15\x17");
    CHECK(typed({down(keys::vk::Up), down(keys::vk::Down), down(keys::vk::Right), down(keys::vk::Left)}) ==
          "\x1b[A\x1b[B\x1b[C\x1b[D");
    CHECK(typed({down(keys::vk::Delete), down(keys::vk::F1), down(keys::vk::F12), down(keys::vk::Tab, u'\t')}) ==
          "\x1b[3~\x1bOP\x1b[24~\t");
}

TEST(keys_that_type_nothing_send_nothing) {
    // Shift, Ctrl and Alt alone; a key Wine cannot name (Home from tmux); an IME's VK_PROCESSKEY
    // while it composes.
    CHECK(typed({down(0x10), down(0x11, 0, keys::kLeftCtrl), down(keys::vk::Menu, 0, keys::kLeftAlt), down(0),
                 down(0xE5)}).empty());
}

TEST(alt_sends_esc_first_but_altgr_does_not) {
    CHECK(typed({down(keys::vk::Menu, 0, keys::kLeftAlt), down('X', u'x', keys::kLeftAlt)}) == "\x1bx");
    CHECK(typed({down('Q', u'@', keys::kRightAlt | keys::kLeftCtrl)}) == "@");  // AltGr+Q on a German keyboard
    CHECK(typed({down(keys::vk::Escape, 0, keys::kLeftAlt)}) == "\x1b\x1b");  // two Esc typed at once, under Wine
}

TEST(alt_and_the_keypad_type_the_character_on_alt_s_release) {
    keys::Keyboard keyboard;
    std::string out;
    CHECK(keyboard.key(KeyEvent{false, 1, keys::vk::Menu, u'\u00e9', 0}, out) && out == "\xc3\xa9");
}

TEST(a_held_key_repeats_its_count_bounded) {
    keys::Keyboard keyboard;
    std::string out;
    CHECK(keyboard.key(KeyEvent{true, 3, 'A', u'a', 0}, out) && out == "aaa");
    out.clear();
    CHECK(keyboard.key(KeyEvent{true, 60000, keys::vk::Left, 0, 0}, out) && out.size() == 3 * keys::kMaxRepeat);
}

TEST(ctrl_c_as_a_key_ends_the_session) {
    keys::Keyboard keyboard;
    std::string out;
    CHECK(!keyboard.key(down('C', u'\x03', keys::kLeftCtrl), out) && out.empty());
}

}  // namespace

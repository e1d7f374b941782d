// keys.h - a console key, sent as a VT terminal sends it: characters as UTF-8, Enter as CR LF,
// Backspace as DEL, Esc, Tab, the arrows as ESC [ A..D, the editing and function keys as xterm
// sends them. client.exe reads the console's KEY_EVENT records (ReadConsoleInputW) and maps the
// virtual-key codes itself, because a console's own VT input cannot be leaned on: Windows 7 and 8
// have none, and Wine 8 hands arrows and Esc over as virtual-key codes with no character even when
// it is asked for (measured).
//
// Characters come as UTF-16: a character past U+FFFF as two key events, a surrogate pair, which
// is joined here. Hangul and other text composed by an IME arrives as characters too: Windows'
// console shows a composition in progress itself and puts only its result into the input buffer
// ("KEY_EVENT_RECORD structure", https://learn.microsoft.com/windows/console/key-event-record-str),
// so a composition in progress sends nothing. Wine has no IME in a Unix terminal; there the
// terminal hands it the text (tmux sends UTF-8, the console hands UTF-16), which goes the same way.
//
// Includes no Windows header (the codes are Windows' own values): unit-tested natively.
#pragma once

#include "utf8.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace keys {

// Virtual-key codes (winuser.h) and control-key flags (wincon.h) used here.
namespace vk {
constexpr std::uint16_t Back = 0x08, Tab = 0x09, Return = 0x0D, Menu = 0x12, Escape = 0x1B;
constexpr std::uint16_t Prior = 0x21, Next = 0x22, End = 0x23, Home = 0x24;
constexpr std::uint16_t Left = 0x25, Up = 0x26, Right = 0x27, Down = 0x28, Insert = 0x2D, Delete = 0x2E;
constexpr std::uint16_t F1 = 0x70, F12 = 0x7B;
}  // namespace vk
constexpr std::uint32_t kRightAlt = 0x01, kLeftAlt = 0x02, kRightCtrl = 0x04, kLeftCtrl = 0x08;

// What matters of a console KEY_EVENT_RECORD.
struct KeyEvent {
    bool down;
    std::uint16_t repeat;       // wRepeatCount: a key held down comes once with a count
    std::uint16_t virtual_key;  // wVirtualKeyCode
    char16_t character;         // uChar.UnicodeChar: 0 for keys that type none
    std::uint32_t control_state;  // dwControlKeyState
};

constexpr int kMaxRepeat = 64;  // a held key's repeat count, bounded
constexpr char kCtrlC = 0x03;

// The bytes a key sends, for the keys that send a fixed sequence (empty: it types a character, or nothing).
inline std::string_view sequence_of(std::uint16_t virtual_key) {
    static constexpr std::string_view kFunctionKeys[] = {
        "\x1bOP", "\x1bOQ", "\x1bOR", "\x1bOS", "\x1b[15~", "\x1b[17~",
        "\x1b[18~", "\x1b[19~", "\x1b[20~", "\x1b[21~", "\x1b[23~", "\x1b[24~",
    };
    switch (virtual_key) {
    case vk::Return: return "\r\n";  // RFC 854's end of line (telnet.exe and PuTTY send it too)
    case vk::Back: return "\x7f";    // as xterm and PuTTY; the server takes BS as well
    case vk::Tab: return "\t";
    case vk::Escape: return "\x1b";
    case vk::Up: return "\x1b[A";
    case vk::Down: return "\x1b[B";
    case vk::Right: return "\x1b[C";
    case vk::Left: return "\x1b[D";
    case vk::Home: return "\x1b[H";
    case vk::End: return "\x1b[F";
    case vk::Insert: return "\x1b[2~";
    case vk::Delete: return "\x1b[3~";
    case vk::Prior: return "\x1b[5~";
    case vk::Next: return "\x1b[6~";
    default:
        if (virtual_key >= vk::F1 && virtual_key <= vk::F12)
            return kFunctionKeys[virtual_key - vk::F1];
        return {};
    }
}

// Turns key events into bytes; keeps half a surrogate pair between two events.
class Keyboard {
public:
    // Appends what `key` sends to `out`. Returns false for Ctrl+C, which ends the session: it comes
    // as a key when the console's processed input is off (on Windows; Wine signals it instead).
    bool key(const KeyEvent& key, std::string& out) {
        if (!key.down) {
            // Alt and a number on the keypad: the character comes with the Alt key's release.
            if (key.virtual_key == vk::Menu && key.character != 0)
                character(key.character, false, out);
            return true;
        }
        const int times = key.repeat < 1 ? 1 : key.repeat > kMaxRepeat ? kMaxRepeat : key.repeat;
        const bool alt = (key.control_state & (kLeftAlt | kRightAlt)) != 0 &&
                         (key.control_state & (kLeftCtrl | kRightCtrl)) == 0;  // AltGr is Ctrl+Alt: not Alt
        for (int i = 0; i < times; ++i) {
            const std::string_view sequence = sequence_of(key.virtual_key);
            if (!sequence.empty()) {
                give_up_half(out);
                if (alt && key.virtual_key == vk::Escape)
                    out += '\x1b';  // Alt+Esc: ESC ESC, as xterm sends it (Wine reads Esc Esc typed at once so)
                out.append(sequence.data(), sequence.size());
            } else if (key.character == kCtrlC) {
                return false;
            } else if (key.character != 0) {
                character(key.character, alt, out);
            }
        }
        return true;
    }

private:
    // One UTF-16 unit typed; Alt sends ESC before the character, as xterm's meta key does.
    void character(char16_t unit, bool alt, std::string& out) {
        const bool high = unit >= 0xD800 && unit <= 0xDBFF, low = unit >= 0xDC00 && unit <= 0xDFFF;
        if (low && high_ != 0) {
            const char32_t joined = 0x10000 + ((static_cast<char32_t>(high_) - 0xD800) << 10) + (unit - 0xDC00);
            high_ = 0;
            if (high_alt_)
                out += '\x1b';
            utf8::append(out, joined);
            return;
        }
        give_up_half(out);
        if (high) {
            high_ = unit;
            high_alt_ = alt;
            return;
        }
        if (alt)
            out += '\x1b';
        utf8::append(out, low ? utf8::kReplacement : static_cast<char32_t>(unit));
    }
    // A high surrogate followed by anything but a low one was no character.
    void give_up_half(std::string& out) {
        if (high_ != 0)
            utf8::append(out, utf8::kReplacement);
        high_ = 0;
    }

    char16_t high_ = 0;  // the first half of a pair, until the second comes
    bool high_alt_ = false;
};

}  // namespace keys

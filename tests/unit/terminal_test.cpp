// Unit tests of terminal.h against PRODUCT.md ("Terminals", "Encodings"): who is taken for a
// terminal, the negotiation (RFC 1143), the server's echo and line editing, the screen
// bookkeeping for redraws, the window size, and the CP949 detection and conversion (through
// glibc's iconv here, Win32's code page 949 in the server).
#include "check.h"
#include "iconv_codec.h"
#include "telnet_bytes.h"
#include "terminal.h"
#include "utf8.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace {

using proto::Encoding;

const IconvCodec kCodec;

// A connection's terminal with what it produced: lines (and "<too long>"), and the replies.
struct Client {
    term::Terminal terminal{&kCodec};
    std::vector<std::string> lines;
    std::string replies;
    bool on_line(std::string_view line) {
        lines.emplace_back(line);
        return true;
    }
    bool on_line_too_long() {
        lines.emplace_back("<too long>");
        return true;
    }
    void reply(std::string_view b) { replies.append(b.data(), b.size()); }
    std::vector<term::Key> keys;
    bool on_key(term::Key key) {
        keys.push_back(key);
        lines.emplace_back("<key>");
        return true;
    }

    // Feeds `data` as one receive; returns what was replied to it.
    std::string send(const std::string& data) {
        replies.clear();
        terminal.feed(data.data(), data.size(), *this);
        return replies;
    }
    // One receive per byte, as a keyboard sends them.
    std::string type(const std::string& keys) {
        std::string all;
        for (char c : keys)
            all += send(std::string(1, c));
        return all;
    }
    void agree() { send("x" + DO_ECHO + DO_SGA + WILL_NAWS + "\b"); }  // a terminal that said yes to all
};

// ---- Who is a terminal ----------------------------------------------------------------------------

TEST(whole_lines_and_no_telnet_command_get_no_byte_back) {
    Client c;
    CHECK(c.send("hello\r\n") == "" && c.send("/who\r\n/ping x\r\n") == "" && c.send("a\r\n") == "");
    CHECK(c.send(std::string(3000, 'x') + "\r\n") == "");
    CHECK(!c.terminal.is_terminal() && !c.terminal.echoing());
    CHECK((c.lines == std::vector<std::string>{"hello", "/who", "/ping x", "a", "<too long>"}));
}

TEST(a_line_split_in_the_middle_is_no_keystroke) {
    Client c;
    c.send("hello wor");
    CHECK(c.send("ld") == "");  // a small receive, but the line had begun
    CHECK(c.send("\r\n") == "");
    CHECK(!c.terminal.is_terminal());
}

TEST(one_keystroke_makes_a_terminal_and_gets_the_offers_once) {
    Client c;
    CHECK(c.send("h") == OFFERS);
    CHECK(c.terminal.is_terminal() && !c.terminal.echoing());  // not before it agrees
    CHECK(c.type("ello") == "");  // no offer repeated while one is outstanding
}

TEST(any_telnet_command_makes_a_terminal) {
    Client c;
    CHECK(c.send("hello" + bytes({255, 241}) + "\r\n") == OFFERS);  // IAC NOP
    CHECK((c.lines == std::vector<std::string>{"hello"}));
}

TEST(the_guess_at_typing_sees_an_arrival_whole_when_receives_are_cut_short) {
    Client c;  // a line "hello\r\n" arrived at once, taken one byte a receive (--recv-chunk 1)
    const std::string line = "hello\r\n";
    std::string replies;
    for (std::size_t i = 0; i < line.size(); ++i) {
        c.replies.clear();
        c.terminal.feed(line.data() + i, 1, c, line.size() - i - 1);
        replies += c.replies;
    }
    CHECK(replies.empty() && !c.terminal.is_terminal());
    CHECK((c.lines == std::vector<std::string>{"hello"}));
    Client korean;  // one Hangul key of a CP949 console: two bytes at once, taken one at a time
    korean.terminal.feed("\xc7", 1, korean, 1);
    CHECK(korean.replies.empty());
    korean.terminal.feed("\xd1", 1, korean, 0);
    CHECK(korean.replies == OFFERS);
}

// ---- Negotiation ---------------------------------------------------------------------------------

// A sink that stops after its first line, as the server does when a client's budget is spent.
struct StopAfterOneLine : Client {
    bool on_line(std::string_view line) {
        lines.emplace_back(line);
        return lines.size() != 1 && lines.size() != 3;  // stops after the first and the third
    }
};

TEST(a_stopped_feed_says_what_it_took_and_resumes_with_the_rest) {
    StopAfterOneLine c;
    const std::string chunk = "one\r\ntwo\r\nthree\r\n";
    CHECK(!c.terminal.feed(chunk.data(), chunk.size(), c));
    CHECK(c.terminal.consumed() == 4);  // "one\r": the line ended at CR, its LF is still to come
    const std::size_t rest = chunk.size() - c.terminal.consumed();
    CHECK(!c.terminal.resume(chunk.data() + 4, rest, c) && c.lines.size() == 3);
    const std::size_t taken = 4 + c.terminal.consumed();
    CHECK(c.terminal.resume(chunk.data() + taken, chunk.size() - taken, c));
    CHECK((c.lines == std::vector<std::string>{"one", "two", "three"}));
}

TEST(a_resumed_few_bytes_are_no_keystroke) {
    StopAfterOneLine c;
    const std::string chunk = "a\nb";  // a stop after "a", then one byte left: not typing
    CHECK(!c.terminal.feed(chunk.data(), chunk.size(), c) && c.terminal.consumed() == 2);
    CHECK(c.terminal.resume(chunk.data() + 2, 1, c));
    CHECK(c.replies.empty() && !c.terminal.is_terminal());
}

TEST(an_agreement_is_not_answered_and_turns_the_echo_on) {
    Client c;
    c.send("h");
    CHECK(c.send(DO_ECHO) == "h");  // no answer to the answer, and what was typed is shown
    CHECK(c.terminal.echoing());
    CHECK(c.send(DO_SGA + WILL_NAWS) == "");
    CHECK(c.send(DO_ECHO) == "");  // said again: still nothing to say
}

TEST(a_refusal_after_an_agreement_is_acknowledged_once) {
    Client c;
    c.agree();
    CHECK(c.send(DONT_ECHO) == WONT_ECHO);
    CHECK(!c.terminal.echoing());
    CHECK(c.send(DONT_ECHO) == "");
}

TEST(everything_else_is_refused) {
    Client c;
    const std::string ttype = bytes({255, 251, 24}), tspeed = bytes({255, 251, 32}), env = bytes({255, 251, 39});
    const std::string do_linemode = bytes({255, 253, 34}), will_echo = bytes({255, 251, 1});
    std::string replies = c.send(ttype + tspeed + env + do_linemode + will_echo);
    CHECK(replies == OFFERS + bytes({255, 254, 24, 255, 254, 32, 255, 254, 39, 255, 252, 34, 255, 254, 1}));
    CHECK(c.send(bytes({255, 252, 24, 255, 254, 34})) == "");  // WONT/DONT of what is off: nothing
}

TEST(putty_s_offers_at_connect_get_their_answers_and_ours_are_not_repeated) {
    // PuTTY: WILL NAWS, WILL TSPEED, WILL TTYPE, WILL NEW-ENVIRON, DO ECHO, WILL SGA, DO SGA.
    Client c;
    const std::string putty = bytes({255, 251, 31, 255, 251, 32, 255, 251, 24, 255, 251, 39, 255, 253, 1, 255, 251, 3,
                                     255, 253, 3});
    const std::string replies = c.send(putty);
    CHECK(replies == OFFERS + bytes({255, 254, 32, 255, 254, 24, 255, 254, 39, 255, 253, 3}));
    CHECK(c.terminal.echoing());
    CHECK(c.send(naws(120, 40)) == "");
    CHECK(c.terminal.width() == 120 && c.terminal.height() == 40);
}

TEST(a_peer_that_acknowledges_every_command_does_not_make_a_loop) {
    // A naive peer sends every command it gets straight back as its agreement, and asks for ours.
    Client c;
    std::string to_peer = c.send("x");
    int exchanges = 0;
    while (!to_peer.empty() && exchanges < 100) {
        std::string answer;
        for (std::size_t i = 0; i + 2 < to_peer.size(); i += 3) {  // IAC verb option, each
            const auto verb = static_cast<unsigned char>(to_peer[i + 1]);
            const unsigned char back = verb == 251 ? 253 : verb == 253 ? 251 : verb == 252 ? 254 : 252;
            answer += bytes({255, back, static_cast<unsigned char>(to_peer[i + 2])});
        }
        to_peer = c.send(answer);
        ++exchanges;
    }
    CHECK(exchanges <= 2);
    CHECK(c.terminal.echoing());
}

TEST(the_window_size_is_taken_from_naws_with_iac_doubled_and_zero_as_unknown) {
    Client c;
    c.send(naws(255, 50));
    CHECK(c.terminal.width() == 255 && c.terminal.height() == 50);
    c.send(naws(0, 0));
    CHECK(c.terminal.width() == 80 && c.terminal.height() == 24);
    c.send(bytes({255, 250, 31, 0, 90}) + bytes({255, 240}));  // too short: ignored
    CHECK(c.terminal.width() == 80);
}

TEST(a_long_subnegotiation_of_another_option_keeps_nothing_and_breaks_nothing) {
    Client c;
    c.send(bytes({255, 250, 24}) + std::string(100000, 'x') + bytes({255, 240}) + "/ping after\r\n");
    CHECK((c.lines == std::vector<std::string>{"/ping after"}));
    CHECK(c.terminal.width() == 80);
}

// ---- Echo and editing ----------------------------------------------------------------------------

TEST(what_was_typed_before_the_agreement_is_echoed_when_it_comes) {
    Client c;
    c.type("hel");
    CHECK(c.send(DO_ECHO) == "hel");
    CHECK(c.type("lo") == "lo");
    CHECK(c.send("\r\n") == "\r\n");
    CHECK((c.lines == std::vector<std::string>{"hello"}));
}

TEST(backspace_erases_one_character_on_the_screen_too) {
    Client c;
    c.agree();
    c.type("ab");
    CHECK(c.send("\b") == "\b \b");
    CHECK(c.send(bytes({0x7F})) == "\b \b");
    CHECK(c.send("\b") == "");  // nothing left to erase
    c.type("\xed\x95\x9c");  // a Hangul syllable, two columns wide, three bytes
    CHECK(c.send("\x7f") == "\b\b  \b\b");
    CHECK(c.terminal.pending_bytes() == 0);
}

TEST(ctrl_u_erases_the_line_and_ctrl_w_the_last_word) {
    Client c;
    c.agree();
    c.type("hello big world  ");
    CHECK(c.send(bytes({0x17})) == "\r\x1b[Jhello big ");
    CHECK(c.send(bytes({0x15})) == "\r\x1b[J");
    c.type("ok");
    c.send("\r\n");
    CHECK((c.lines == std::vector<std::string>{"ok"}));
}

TEST(enter_in_every_form_ends_one_line_and_is_echoed_once) {
    Client c;
    c.agree();
    for (const std::string& enter : {std::string("\r\n"), std::string("\r") + '\0', std::string("\r"), std::string("\n")}) {
        c.type("a");
        CHECK(c.send(enter) == "\r\n");
    }
    CHECK(c.lines.size() == 4);
}

TEST(escape_sequences_do_nothing_and_are_not_echoed) {
    Client c;
    c.agree();
    CHECK(c.send("\x1b[A\x1b[D\x1bOP") == "");
    CHECK(c.type("ab\x1b[Cc") == "abc");
    c.send("\r\n");
    CHECK((c.lines == std::vector<std::string>{"abc"}));
}

TEST(a_line_past_the_limit_leaves_the_screen_and_is_not_echoed_further) {
    Client c;
    c.agree();
    c.send(std::string(proto::kMaxLineBytes, 'x'));
    const std::string replies = c.send("yz");
    CHECK(replies.find("\r\x1b[J") != std::string::npos && replies.find('y') == std::string::npos);
    c.send("\r\n");
    CHECK((c.lines == std::vector<std::string>{"<too long>"}));
}

// ---- Lines arriving while a line is typed ---------------------------------------------------------

TEST(an_incoming_line_takes_the_input_off_the_screen_and_puts_it_back) {
    Client c;
    c.agree();
    c.type("half typed li");
    CHECK(c.terminal.hide_input() == "\r\x1b[J");
    CHECK(c.terminal.input_hidden() && c.terminal.hide_input() == "");  // once per turn
    CHECK(c.type("ne") == "");  // typed meanwhile: the redraw shows it
    CHECK(c.terminal.show_input() == "half typed line");
    CHECK(!c.terminal.input_hidden() && c.terminal.show_input() == "");
    CHECK(c.type("!") == "!");
}

TEST(nothing_is_hidden_without_echo_or_without_input) {
    Client raw;
    raw.send("typing");
    CHECK(raw.terminal.hide_input() == "");  // the client echoes itself: the server cannot help
    Client c;
    c.agree();
    CHECK(c.terminal.hide_input() == "" && !c.terminal.input_hidden());
}

TEST(a_wrapped_input_is_erased_from_its_first_row) {
    Client c;
    c.agree();
    c.send(naws(10, 24));
    c.send(std::string(25, 'x'));  // rows of 10, 10, 5: the cursor two rows below the first
    CHECK(c.terminal.hide_input() == "\x1b[2A\r\x1b[J");
    c.terminal.show_input();
    c.send("\b\b\b\b\b");  // back to 20: the cursor waits at the end of the second row
    CHECK(c.terminal.hide_input() == "\x1b[1A\r\x1b[J");
}

TEST(backspace_across_a_row_boundary_draws_the_input_again) {
    Client c;
    c.agree();
    c.send(naws(10, 24));
    c.send(std::string(11, 'x'));
    CHECK(c.send("\b") == "\x1b[1A\r\x1b[J" + std::string(10, 'x'));  // the eleventh: the cursor back on row 1
    CHECK(c.send("\b") == "\r\x1b[J" + std::string(9, 'x'));  // the tenth: at the end of the first row
    CHECK(c.send("\b") == "\b \b");  // within the first row: BS SP BS
}

// ---- Encodings -----------------------------------------------------------------------------------

TEST(utf8_and_cp949_are_told_apart) {
    CHECK(utf8::is_valid("\xed\x95\x9c\xea\xb8\x80 ok") && !utf8::is_valid("\xc7\xd1\xb1\xdb"));
    CHECK(!utf8::is_valid("\xc0\xaf") && !utf8::is_valid("\xed\xa0\x80") && !utf8::is_valid("\xe0\x80\xaf"));
    CHECK(term::is_valid_cp949("\xc7\xd1\xb1\xdb ok") && !term::is_valid_cp949("\xc7") && !term::is_valid_cp949("\xc7 "));
    CHECK(term::detect_encoding("\xc7\xd1\xb1\xdb", Encoding::Utf8) == Encoding::Cp949);
    CHECK(term::detect_encoding("\xed\x95\x9c", Encoding::Utf8) == Encoding::Utf8);
    CHECK(term::detect_encoding("\xff\xfe", Encoding::Utf8) == Encoding::Utf8);  // neither: stays
}

TEST(cp949_input_switches_the_connection_and_arrives_as_utf8) {
    Client c;
    c.send("\xc7\xd1\xb1\xdb \xb0\xa1\xb3\xaa\r\n");  // "한글 가나" from a Korean Windows console
    CHECK(c.terminal.encoding() == Encoding::Cp949);
    CHECK((c.lines == std::vector<std::string>{"\xed\x95\x9c\xea\xb8\x80 \xea\xb0\x80\xeb\x82\x98"}));
    CHECK(c.terminal.to_client("\xed\x95\x9c \xc3\xbc") == "\xc7\xd1 ?");  // what CP949 cannot show: '?'
}

TEST(cp949_typed_one_key_at_a_time_is_echoed_as_typed_and_erased_as_one) {
    Client c;
    c.agree();
    CHECK(c.type("\xc7\xd1") == "\xc7\xd1");
    CHECK(c.terminal.encoding() == Encoding::Cp949);
    CHECK(c.send("\b") == "\b\b  \b\b");
    CHECK(c.terminal.pending_bytes() == 0);
}

TEST(utf8_stays_utf8_and_bytes_that_are_neither_pass_unchanged) {
    Client c;
    c.send("\xed\x95\x9c caf\xc3\xa9\r\n");
    c.send("a\xc3\x28\xff\xff z\r\n");  // a broken sequence, then IAC IAC: no CP949 in it
    CHECK(c.terminal.encoding() == Encoding::Utf8);
    CHECK((c.lines == std::vector<std::string>{"\xed\x95\x9c caf\xc3\xa9", "a\xc3(\xff z"}));
}

TEST(without_a_codec_cp949_passes_unchanged) {
    term::Terminal plain;
    Client c;
    plain.feed("\xc7\xd1\r\n", 4, c);
    CHECK(plain.encoding() == Encoding::Utf8 && (c.lines == std::vector<std::string>{"\xc7\xd1"}));
}

TEST(the_encoding_can_be_set_by_hand) {
    Client c;
    c.terminal.set_encoding(Encoding::Cp949);
    c.send("\xb0\xa1\r\n");
    c.terminal.set_encoding(Encoding::Utf8);
    c.send("\xea\xb0\x80\r\n");
    CHECK((c.lines == std::vector<std::string>{"\xea\xb0\x80", "\xea\xb0\x80"}));
}

TEST(columns_count_wide_characters_twice) {
    CHECK(utf8::columns_of("abc") == 3 && utf8::columns_of("\xed\x95\x9c" "a") == 3);
    CHECK(utf8::columns_of("\xe6\xbc\xa2\xe5\xad\x97") == 4 && utf8::columns_of("e\xcc\x81") == 1);
    CHECK(utf8::columns_of("\xff") == 1);
}

}  // namespace

// ---- The board view ------------------------------------------------------------------------------

namespace {
const std::string NAWS_40x20 = bytes({255, 250, 31, 0, 40, 0, 20, 255, 240});
using term::Key;
}  // namespace

TEST(the_board_view_takes_the_arrow_keys_and_esc_twice_the_line_view_does_not) {
    Client c;
    c.agree();
    c.send("\x1b[A\x1b\x1b[B");
    CHECK(c.keys.empty());
    c.terminal.set_view(term::View::Board);
    CHECK(c.send("\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1b[1;2D") == "");  // nothing echoed
    CHECK((c.keys == std::vector<Key>{Key::Up, Key::Down, Key::Right, Key::Left, Key::Up, Key::Left}));
    c.keys.clear();
    c.type("\x1b\x1b");  // two keystrokes, two receives
    CHECK((c.keys == std::vector<Key>{Key::Leave}));
    CHECK(c.send("\x1b[H\x1b[5~\x1bOP") == "" && c.keys.size() == 1);  // other keys: nothing
}

TEST(a_key_comes_between_the_lines_around_it) {
    Client c;
    c.agree();
    c.terminal.set_view(term::View::Board);
    c.send("one\r\n\x1b[Ctwo\r\n");
    CHECK((c.lines == std::vector<std::string>{"one", "<key>", "two"}));
}

TEST(the_board_views_typed_line_is_one_row_scrolled_sideways) {
    Client c;
    c.agree();
    c.send(NAWS_40x20);
    CHECK(c.terminal.take_resized() && !c.terminal.take_resized());
    c.terminal.set_view(term::View::Board);
    CHECK(c.type("abc") == "abc" && c.terminal.input_column() == 4);
    CHECK(c.type(std::string(36, 'x')) == std::string(36, 'x'));  // 39 columns: the row less one
    CHECK(c.terminal.input_column() == 40);
    // The 40th character would reach the margin: the row is drawn again, "<" and the line's end.
    CHECK(c.type("y") == "\r\x1b[K<c" + std::string(36, 'x') + "y");
    CHECK(c.terminal.input_column() == 40);
    CHECK(c.type("\b") == "\r\x1b[Kabc" + std::string(36, 'x'));  // fits again: all of it
    CHECK(c.type("\b") == "\b \b");
    CHECK(c.send("\r\n") == "\r\x1b[K");  // sent: the row is cleared, the chat shows the line
    CHECK(c.lines.back() == "abc" + std::string(35, 'x') && c.terminal.input_column() == 1);
}

TEST(a_view_change_takes_the_typed_line_off_the_screen_until_it_is_shown_again) {
    Client c;
    c.agree();
    c.type("hi");
    c.terminal.set_view(term::View::Board);
    CHECK(c.terminal.input_hidden() && c.terminal.input_column() == 1);
    CHECK(c.terminal.show_input() == "hi" && c.terminal.input_column() == 3);
    CHECK(c.terminal.hide_input() == "\r\x1b[K");  // a line for the chat: only the input row goes
    CHECK(c.terminal.show_input() == "hi");
}

TEST(a_same_size_naws_is_no_resize) {
    Client c;
    c.agree();
    c.send(NAWS_40x20);
    c.terminal.take_resized();
    c.send(NAWS_40x20);
    CHECK(!c.terminal.take_resized() && c.terminal.width() == 40 && c.terminal.height() == 20);
}

// Unit tests of vt.h and display.h, client.exe's reading of what the server draws: the parser's
// operations (whatever the pieces the bytes come in), and the screen they make, checked on what
// the server's own layers send (terminal.h's redraws, play.h's board view).
#include "check.h"
#include "display.h"
#include "play.h"
#include "telnet_bytes.h"
#include "terminal.h"
#include "vt.h"
#include "vterm.h"

#include <string>
#include <string_view>
#include <vector>

namespace {

using Kind = vt::Op::Kind;

std::vector<vt::Op> parse(std::string_view bytes) {
    vt::Parser parser;
    std::vector<vt::Op> ops;
    parser.feed(bytes.data(), bytes.size(), [&ops](const vt::Op& op) { ops.push_back(op); });
    return ops;
}

bool same(const vt::Op& a, const vt::Op& b) {
    return a.kind == b.kind && a.code_point == b.code_point && a.first == b.first && a.second == b.second;
}

bool same(const std::vector<vt::Op>& a, const std::vector<vt::Op>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i]))
            return false;
    return true;
}

vt::Op op(Kind kind, int first = 0, int second = 0) { return vt::Op{kind, 0, first, second}; }
vt::Op print(char32_t c) { return vt::Op{Kind::Print, c, 0, 0}; }

// A display fed through a parser, as client.exe feeds it; rows read back without trailing blanks.
struct Screen {
    vt::Display display;
    vt::Parser parser;
    explicit Screen(int width = 80, int height = 24) : display(width, height) {}
    Screen& feed(std::string_view bytes) {
        parser.feed(bytes.data(), bytes.size(), [this](const vt::Op& op) { display.apply(op); });
        return *this;
    }
    std::string text(int row) const {
        std::string t = display.row_text(row);
        t.erase(t.find_last_not_of(' ') + 1);
        return t;
    }
    std::vector<std::string> rows() const {
        std::vector<std::string> all;
        for (int r = 0; r < display.height(); ++r)
            all.push_back(text(r));
        return all;
    }
};

// ---- The parser -------------------------------------------------------------------------------------

TEST(text_and_controls_become_their_operations) {
    CHECK(same(parse("a\r\n\b\t"), {print(U'a'), op(Kind::CarriageReturn), op(Kind::LineFeed), op(Kind::Backspace),
                                    op(Kind::Tab)}));
    CHECK(parse(std::string_view("\a\x00\x7f", 3)).empty());  // BEL, NUL and DEL show nothing
}

TEST(the_server_s_sequences_become_their_operations) {
    CHECK(same(parse("\x1b[12;34H\x1b[H\x1b[3A\x1b[B\x1b[2C\x1b[D"),
               {op(Kind::MoveTo, 12, 34), op(Kind::MoveTo, 1, 1), op(Kind::CursorUp, 3), op(Kind::CursorDown, 1),
                op(Kind::CursorForward, 2), op(Kind::CursorBack, 1)}));
    CHECK(same(parse("\x1b[J\x1b[2J\x1b[K\x1b[1K"), {op(Kind::EraseDisplay, 0), op(Kind::EraseDisplay, 2),
                                                     op(Kind::EraseLine, 0), op(Kind::EraseLine, 1)}));
    CHECK(same(parse("\x1b[11;24r\x1b[r\x1b[;5r"), {op(Kind::ScrollRegion, 11, 24), op(Kind::ScrollRegion, 1, 0),
                                                    op(Kind::ScrollRegion, 1, 5)}));
    CHECK(same(parse("\x1b[2S\x1b[T\x1b" "D\x1bM\x1b" "E\x1b" "7\x1b" "8"),
               {op(Kind::ScrollUp, 2), op(Kind::ScrollDown, 1), op(Kind::Index), op(Kind::ReverseIndex),
                op(Kind::NextLine), op(Kind::SaveCursor), op(Kind::RestoreCursor)}));
}

TEST(what_is_not_in_the_subset_is_read_to_its_end_and_dropped) {
    // Colours, a private mode, a title (OSC to BEL and to ST), a character set, sub-parameters.
    CHECK(same(parse("\x1b[1;31mA\x1b[?25lB\x1b]0;title\aC\x1b]2;t\x1b\\D\x1b(BE\x1b[38:5:1mF"),
               {print(U'A'), print(U'B'), print(U'C'), print(U'D'), print(U'E'), print(U'F')}));
    // A control inside a sequence acts; CAN gives the sequence up.
    CHECK(same(parse("\x1b[1\r2Hx\x1b[5\x18y"), {op(Kind::CarriageReturn), op(Kind::MoveTo, 12, 1), print(U'x'),
                                                 print(U'y')}));
}

TEST(numbers_and_parameters_are_bounded) {
    CHECK(same(parse("\x1b[99999999999;0H"), {op(Kind::MoveTo, vt::kMaxParameter, 1)}));
    CHECK(same(parse("\x1b[1;2;3;4;5;6;7;8;9;10;11H"), {op(Kind::MoveTo, 1, 2)}));
    CHECK(sizeof(vt::Parser) < 96);  // a few dozen bytes, whatever it is fed
}

TEST(a_character_or_a_sequence_split_across_receives_is_held_not_broken) {
    const std::string stream = "\xed\x95\x9c\x1b[5;7Hz\xf0\x9f\x98\x80";
    const std::vector<vt::Op> whole = parse(stream);
    CHECK(same(whole, {print(U'\ud55c'), op(Kind::MoveTo, 5, 7), print(U'z'), print(U'\U0001F600')}));
    for (std::size_t cut = 1; cut < stream.size(); ++cut) {
        vt::Parser parser;
        std::vector<vt::Op> ops;
        const auto keep = [&ops](const vt::Op& o) { ops.push_back(o); };
        parser.feed(stream.data(), cut, keep);
        parser.feed(stream.data() + cut, stream.size() - cut, keep);
        CHECK(same(ops, whole));
    }
}

TEST(broken_utf8_shows_a_replacement_character_and_what_follows) {
    CHECK(same(parse("\xed\x95" "a\xff\xed\x1b[H"),
               {print(U'\ufffd'), print(U'a'), print(U'\ufffd'), print(U'\ufffd'), op(Kind::MoveTo, 1, 1)}));
}

// ---- The display ------------------------------------------------------------------------------------

TEST(lines_fill_the_screen_then_scroll_it) {
    Screen s(20, 3);
    s.feed("one\r\ntwo\r\nthree\r\nfour");
    CHECK((s.rows() == std::vector<std::string>{"two", "three", "four"}));
    CHECK(s.display.cursor_row() == 2 && s.display.cursor_column() == 4);
}

TEST(the_wrap_waits_for_the_next_character) {
    Screen s(5, 3);
    s.feed("abcde");
    CHECK(s.display.cursor_row() == 0 && s.display.cursor_column() == 4);  // still on the first row
    s.feed("\x1b[K");
    CHECK(s.text(0) == "abcd");  // the erase is at the last column, the cursor's
    s.feed("e\r\x1b[J" "abcdef");
    CHECK((s.rows() == std::vector<std::string>{"abcde", "f", ""}));
    s.feed("\x1b[Hxyzuv\b");  // a backspace cancels the wrap: the cursor is one back from the margin
    CHECK(s.display.cursor_row() == 0 && s.display.cursor_column() == 3);
}

TEST(a_wide_character_takes_two_cells_and_is_never_split) {
    Screen s(5, 3);
    s.feed("a\xed\x95\x9c" "b");  // a, then Hangul in columns 1-2, then b
    CHECK(s.text(0) == "a\xed\x95\x9c" "b" && s.display.cursor_column() == 4);
    CHECK(s.display.row(0)[1] == U'\ud55c' && s.display.row(0)[2] == vt::kWideTail);
    s.feed("\x1b[1;3Hx");  // over its right half: the left half goes too
    CHECK(s.text(0) == "a xb");
    s.feed("\x1b[2;5H\xea\xb8\x80");  // does not fit in the last column: goes to the next row
    CHECK(s.text(1) == "" && s.text(2) == "\xea\xb8\x80" && s.display.cursor_column() == 2);
}

TEST(erasing_half_a_wide_character_erases_it_all) {
    Screen s(10, 2);
    s.feed("ab\xed\x95\x9c" "cd\x1b[1;4H\x1b[1K");
    CHECK(s.text(0) == "    cd");
    s.feed("\x1b[2;1H\xed\x95\x9c\xed\x95\x9c\x1b[2;2H\x1b[K");
    CHECK(s.text(1) == "");
}

TEST(the_scroll_region_scrolls_alone_and_moves_the_cursor_home) {
    Screen s(20, 6);
    s.feed("top\x1b[3;6r");
    CHECK(s.display.cursor_row() == 0 && s.display.cursor_column() == 0);
    s.feed("\x1b[6;1Hone\r\ntwo\r\nthree\r\nfour\r\nfive");
    CHECK((s.rows() == std::vector<std::string>{"top", "", "two", "three", "four", "five"}));
    s.feed("\x1b[3;1H\x1bM");  // at the region's top: it scrolls down
    CHECK((s.rows() == std::vector<std::string>{"top", "", "", "two", "three", "four"}));
    s.feed("\x1b[r\x1b[6;1H\n");  // the whole screen again
    CHECK((s.rows() == std::vector<std::string>{"", "", "two", "three", "four", ""}));
    s.feed("\x1b[5;3r\x1b[9;9r");  // a region of one row or less, or upside down: ignored
    s.feed("\x1b[6;1H\n");
    CHECK(s.text(0) == "");
}

TEST(cursor_moves_stop_at_the_edges_and_the_region) {
    Screen s(10, 10);
    s.feed("\x1b[3;8r\x1b[5;5H\x1b[20A");
    CHECK(s.display.cursor_row() == 2);  // the region's top
    s.feed("\x1b[1;1H\x1b[20B");
    CHECK(s.display.cursor_row() == 7);  // outside the region above it: stops at its bottom
    s.feed("\x1b[9;1H\x1b[20B\x1b[20C");
    CHECK(s.display.cursor_row() == 9 && s.display.cursor_column() == 9);
    s.feed("\x1b[99;99H\x1b[20D");
    CHECK(s.display.cursor_row() == 9 && s.display.cursor_column() == 0);
}

TEST(what_changed_is_the_scrolls_in_order_then_the_rows) {
    Screen s(10, 4);
    s.display.clear_damage();
    s.feed("\x1b[4;1Ha\r\nb\r\nc");
    CHECK(s.display.scrolls().size() == 1 && s.display.scrolls()[0].lines == 2);  // two scrolls, one move
    CHECK(s.display.row_changed(1) && s.display.row_changed(2) && s.display.row_changed(3) && !s.display.row_changed(0));
    s.display.clear_damage();
    CHECK(!s.display.changed());
    s.feed("\x1b[2;3r\x1b[3;1H\n\x1b[r\x1b[4;1H\n");
    CHECK(s.display.scrolls().size() == 2 && s.display.scrolls()[0].top == 1 && s.display.scrolls()[1].top == 0);
}

TEST(a_resize_keeps_the_rows_around_the_cursor_and_marks_every_row) {
    Screen s(10, 4);
    s.feed("1\r\n2\r\n3\r\n4\xed\x95\x9c");
    s.display.clear_damage();
    s.display.resize(2, 2);
    CHECK(s.text(0) == "3" && s.text(1) == "4");  // the Hangul lost its right half: blank
    CHECK(s.display.cursor_row() == 1 && s.display.cursor_column() == 1);
    CHECK(s.display.row_changed(0) && s.display.row_changed(1));
    s.display.resize(0, 100000);
    CHECK(s.display.width() == 1 && s.display.height() == vt::kMaxSide);
}

// ---- What the server sends, drawn ------------------------------------------------------------------

// client.exe's terminal against the server's line discipline, natively: what one sends the other
// is fed, until neither has anything more to say.
struct Pair {
    struct Sink {
        std::string replies;
        std::vector<std::string> lines;
        bool on_line(std::string_view line) {
            lines.emplace_back(line);
            return true;
        }
        bool on_line_too_long() { return true; }
        void reply(std::string_view bytes) { replies.append(bytes.data(), bytes.size()); }
        bool on_key(term::Key) { return true; }
    } sink;
    term::Terminal server;
    vt::Terminal client;
    explicit Pair(int width, int height) : client(width, height) {
        std::string out;
        client.start(out);
        to_server(out);
    }
    void to_server(std::string bytes) {
        for (int turn = 0; turn < 8 && !bytes.empty(); ++turn) {
            server.feed(bytes.data(), bytes.size(), sink);
            bytes.clear();
            client.receive(sink.replies.data(), sink.replies.size(), bytes);
            sink.replies.clear();
        }
    }
    void type(std::string_view keys) {
        std::string out;
        vt::Terminal::type(keys, out);
        to_server(out);
    }
    void server_says(std::string_view line) {
        std::string bytes = server.hide_input();
        bytes.append(line.data(), line.size());
        bytes += "\r\n";
        bytes += server.show_input();
        std::string answers;
        client.receive(bytes.data(), bytes.size(), answers);
        to_server(answers);
    }
    std::string text(int row) const {
        std::string t = client.display().row_text(row);
        t.erase(t.find_last_not_of(' ') + 1);
        return t;
    }
    std::vector<std::string> rows() const {
        std::vector<std::string> all;
        for (int r = 0; r < client.display().height(); ++r)
            all.push_back(text(r));
        return all;
    }
};

TEST(the_client_negotiates_character_mode_and_sends_its_window_size) {
    Pair p(100, 30);
    CHECK(p.client.server_echoes() && p.client.sends_size());
    CHECK(p.server.echoing() && p.server.width() == 100 && p.server.height() == 30);
    CHECK(p.rows() == std::vector<std::string>(30));  // no negotiation byte is ever shown
}

TEST(a_refused_option_stays_off_and_nothing_loops) {
    vt::Terminal client(80, 24);
    std::string out;
    client.start(out);
    CHECK(out == WILL_NAWS);
    out.clear();
    client.receive(DONT_NAWS.data(), DONT_NAWS.size(), out);  // the server wants no size
    CHECK(out.empty() && !client.sends_size());
    CHECK(client.resize(81, 24, out) && out.empty());  // resized, and no NAWS for it
    client.receive(WILL_TTYPE.data(), WILL_TTYPE.size(), out);
    CHECK(out == DONT_TTYPE);
    out.clear();
    client.receive(DO_TTYPE.data(), DO_TTYPE.size(), out);
    CHECK(out == WONT_TTYPE);
}

TEST(a_resize_sends_one_naws_when_the_size_changed) {
    vt::Terminal client(80, 24);
    std::string out;
    client.start(out);
    out.clear();
    client.receive(DO_NAWS.data(), DO_NAWS.size(), out);
    CHECK(out == naws(80, 24));
    out.clear();
    CHECK(!client.resize(80, 24, out) && out.empty());  // the same size: nothing
    CHECK(client.resize(255, 40, out) && out == naws(255, 40));  // 255 goes as IAC IAC
    CHECK(client.display().width() == 255 && client.display().height() == 40);
}

TEST(iac_iac_in_the_server_s_text_is_one_byte_and_typed_0xff_is_doubled) {
    vt::Terminal client(20, 2);
    std::string out;
    const std::string text = "a" + bytes({255, 255}) + "b" + bytes({255, 241}) + "c";  // IAC IAC, IAC NOP
    client.receive(text.data(), text.size(), out);
    CHECK(client.display().row_text(0).substr(0, 6) == "a\xef\xbf\xbd" "bc");  // a lone 0xFF is no UTF-8
    CHECK(out.empty());
    vt::Terminal::type("x\xff", out);
    CHECK(out == "x\xff\xff");
}

TEST(a_line_arriving_mid_typing_goes_above_the_typed_line) {
    Pair p(20, 5);
    p.server_says("* welcome");
    p.type("half typed, wrapping over the row");
    p.server_says("bob: hi");
    CHECK((p.rows() == std::vector<std::string>{"* welcome", "bob: hi", "half typed, wrapping", " over the row", ""}));
    p.type("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f");  // back over the wrap: redrawn
    CHECK((p.rows() == std::vector<std::string>{"* welcome", "bob: hi", "half typed, wrappin", "", ""}));
    p.type("\x15");  // Ctrl+U
    CHECK(p.text(2) == "" && p.client.display().cursor_row() == 2 && p.client.display().cursor_column() == 0);
    p.type("/quit\r\n");
    CHECK(p.sink.lines == std::vector<std::string>{"/quit"});
}

struct Viewers : chat::Members, play::Screen {
    chat::Room room{*this, 8};
    play::Views views{8};
    std::string sent;
    void deliver(SlotId, const chat::Line&) override {}
    void broadcast(const chat::Line&, SlotId) override {}
    void queue(SlotId, std::string_view bytes) override { sent.append(bytes.data(), bytes.size()); }
    int input_column(SlotId) override { return 1; }
};

// The board view's first paint and a move, drawn: the board as /board prints it.
TEST(the_board_view_is_drawn_as_play_h_means_it) {
    Viewers v;
    v.room.join(0, 0);
    v.room.join(1, 0);
    std::string paint;
    v.views.open(v.room, 0, 50, 17, paint);
    Screen s(50, 17);
    s.feed("old text\r\n" + paint);
    const chat::Square me = v.room.square(0);
    const std::string board_row = s.text(me.y);
    CHECK(board_row.substr(0, 1) == std::to_string(me.y) && board_row[static_cast<std::size_t>(2 + 2 * me.x)] == '@');
    CHECK(s.text(8).substr(0, 17) == "  0 1 2 3 4 5 6 7" && s.text(9).find("Esc Esc") != std::string::npos);
    CHECK(s.text(1).find("@ ") != std::string::npos && s.display.cursor_row() == 16);
    const int step = me.x == 7 ? -1 : 1;
    v.views.show(v.room, v.room.move(0, proto::Step{step, 0}), v);
    s.feed(v.sent);
    CHECK(s.text(me.y)[static_cast<std::size_t>(2 + 2 * (me.x + step))] == '@');
    s.feed("\r\n\r\n\r\nchat line\r\n");  // the chat scrolls in its region, under the board
    CHECK(s.text(8).substr(0, 17) == "  0 1 2 3 4 5 6 7" && s.text(15) == "chat line");
}

}  // namespace

// Unit tests of play.h, the board view's bookkeeping: what a viewer's window shows after the first
// paint and after each change (drawn by a small VT100 model), and that a change costs each viewer
// only the squares and list rows it changed, whatever the crowd.
#include "check.h"
#include "play.h"
#include "utf8.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace {

using chat::Square;

// The part of a VT100 the views use: CUP, EL, ED, DECSTBM (the region is not needed here), text.
// A character takes the columns a terminal gives it: a Hangul syllable two, its second cell held
// as "" (written over, either half blanks the other, as xterm does).
struct Window {
    int width, height;
    std::vector<std::vector<std::string>> cells;  // by row, by column
    int row = 0, column = 0;
    Window(int w = 80, int h = 24)
        : width(w), height(h),
          cells(static_cast<std::size_t>(h), std::vector<std::string>(static_cast<std::size_t>(w), " ")) {}

    std::string& at(int r, int c) { return cells[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]; }
    void put(const std::string& character, int columns) {
        const int first = column, last = std::min(column + columns, width) - 1;
        if (row < height && first <= last) {
            if (at(row, first).empty() && first > 0)
                at(row, first - 1) = " ";  // a wide character's first half, left without its second
            if (last + 1 < width && at(row, last + 1).empty())
                at(row, last + 1) = " ";  // a wide character's second half, left without its first
            for (int c = first; c <= last; ++c)
                at(row, c) = c == first ? character : "";
        }
        column += columns;
    }
    void feed(const std::string& bytes) {
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (bytes[i] != '\x1b') {
                std::size_t next = i;
                const char32_t c = utf8::next_code_point(bytes, next);
                put(bytes.substr(i, next - i), c == utf8::kNotUtf8 ? 1 : utf8::columns_of(c));
                i = next - 1;
                continue;
            }
            std::size_t end = i + 2;  // ESC [ params final
            while (end < bytes.size() && !(bytes[end] >= 0x40 && bytes[end] <= 0x7E))
                ++end;
            const std::string params = bytes.substr(i + 2, end - i - 2);
            const char final_byte = bytes[end];
            if (final_byte == 'H') {
                const std::size_t semicolon = params.find(';');
                row = params.empty() ? 0 : std::stoi(params.substr(0, semicolon)) - 1;
                column = semicolon == std::string::npos ? 0 : std::stoi(params.substr(semicolon + 1)) - 1;
            } else if (final_byte == 'K') {
                for (int c = column; c < width; ++c)
                    at(row, c) = " ";
            } else if (final_byte == 'J' && params == "2") {
                for (auto& r : cells)
                    r.assign(static_cast<std::size_t>(width), " ");
            } else if (final_byte == 'r') {
                row = column = 0;
            }
            i = end;
        }
    }
    std::string text(int r) const {
        std::string t;
        for (const std::string& cell : cells[static_cast<std::size_t>(r)])
            t += cell;
        t.erase(t.find_last_not_of(' ') + 1);
        return t;
    }
    std::string board_row(int y) const { return text(y).substr(0, 17); }
    // Row r left of the list: the board and its coordinates, whatever their characters.
    std::string board_text(int r) const {
        std::string t;
        for (int c = 0; c < play::kListColumn - 1; ++c)
            t += cell(r, c);
        t.erase(t.find_last_not_of(' ') + 1);
        return t;
    }
    // Row r from the list's column on.
    std::string list_text(int r) const {
        std::string t;
        for (int c = play::kListColumn - 1; c < width; ++c)
            t += cell(r, c);
        t.erase(t.find_last_not_of(' ') + 1);
        return t;
    }
    // What column c (from 0) of row r shows: a character, " ", or "" for a wide one's second half.
    const std::string& cell(int r, int c) const { return cells[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)]; }
};

// The room's changes go to the views, as the session layer hands them on; every viewer's bytes are
// drawn on its window and kept for a look at their size.
struct Play : chat::Members, play::Screen {
    chat::Room room{*this, 2000};
    play::Views views{2000};
    std::map<SlotId, Window> windows;
    std::map<SlotId, std::string> sent;  // since the last take()
    std::map<SlotId, int> columns;       // where each viewer's typed line ends

    void deliver(SlotId, const chat::Line&) override {}
    void broadcast(const chat::Line&, SlotId) override {}
    void queue(SlotId viewer, std::string_view bytes) override {
        sent[viewer].append(bytes.data(), bytes.size());
        windows[viewer].feed(std::string(bytes));
    }
    int input_column(SlotId viewer) override { return columns.count(viewer) ? columns[viewer] : 1; }

    void join(SlotId id) { views.show(room, room.join(id, 0), *this); }
    void leave(SlotId id) { views.show(room, room.leave(id, false), *this); }
    void move(SlotId id, proto::Step step) { views.show(room, room.move(id, step), *this); }
    void line(SlotId id, const std::string& text) { views.show(room, room.on_command(id, proto::parse_command(text), 0), *this); }

    void open(SlotId viewer, int width = 80, int height = 24) {
        std::string bytes;
        views.open(room, viewer, width, height, bytes);
        windows[viewer] = Window(width, height);
        windows[viewer].feed(bytes);
    }
    std::string take(SlotId viewer) {
        std::string bytes = sent[viewer];
        sent[viewer].clear();
        return bytes;
    }
    // Puts `id` on (x, y) by moves from where it was placed.
    void walk(SlotId id, int x, int y) {
        while (room.square(id).x < x) move(id, {1, 0});
        while (room.square(id).x > x) move(id, {-1, 0});
        while (room.square(id).y < y) move(id, {0, 1});
        while (room.square(id).y > y) move(id, {0, -1});
    }
    void join_all(SlotId count) {
        for (SlotId id = 0; id < count; ++id)
            join(id);
    }
    void join_at(SlotId id, int x, int y) {
        join(id);
        walk(id, x, y);
    }
};

}  // namespace

TEST(the_first_paint_shows_the_board_the_list_and_the_scroll_region) {
    Play p;
    p.join_at(0, 2, 0);
    p.join_at(1, 3, 0);
    std::string bytes;
    p.views.open(p.room, 0, 80, 24, bytes);
    Window w;
    w.feed(bytes);
    CHECK(w.board_row(0) == "0 . . @ g . . . .");
    for (int y = 1; y < 8; ++y)
        CHECK(w.board_row(y) == std::to_string(y) + " . . . . . . . .");
    CHECK(w.text(8) == "  0 1 2 3 4 5 6 7");
    CHECK(w.text(0).substr(21) == "2 online");
    CHECK(w.text(1).substr(21) == "@ guest1 (2,0)");
    CHECK(w.text(2).substr(21) == "  guest2 (3,0)");
    CHECK(w.text(9).find("Esc Esc") != std::string::npos);
    CHECK(bytes.find("\x1b[11;24r") != std::string::npos);  // the chat scrolls under the board
    CHECK(bytes.substr(bytes.size() - 7) == "\x1b[24;1H");  // the cursor at the typed line
    CHECK(p.views.viewing(0) && !p.views.viewing(1) && p.views.count() == 1);
}

TEST(a_move_rewrites_the_two_squares_and_the_movers_row_then_puts_the_cursor_back) {
    Play p;
    p.join_at(0, 2, 0);
    p.join_at(1, 3, 0);
    p.open(0);
    p.columns[0] = 6;  // "hello" typed
    p.move(1, {0, 1});
    const std::string bytes = p.take(0);
    CHECK(bytes == "\x1b[1;9H.\x1b[2;9Hg\x1b[3;22H  guest2 (3,1)\x1b[K\x1b[24;6H");
    CHECK(p.windows[0].board_row(0) == "0 . . @ . . . . .");
    CHECK(p.windows[0].board_row(1) == "1 . . . g . . . .");
    p.move(0, {-1, 0});  // the viewer itself
    CHECK(p.windows[0].board_row(0) == "0 . @ . . . . . .");
    CHECK(p.windows[0].text(1).substr(21) == "@ guest1 (1,0)");
}

TEST(squares_show_a_letter_for_one_other_and_a_plus_for_several) {
    Play p;
    p.join_all(3);
    p.walk(0, 0, 7);
    p.walk(1, 5, 5);
    p.walk(2, 6, 5);
    p.open(0);
    p.move(2, {-1, 0});  // onto guest2's square
    CHECK(p.windows[0].board_row(5) == "5 . . . . . + . .");
    p.leave(1);
    CHECK(p.windows[0].board_row(5) == "5 . . . . . g . .");  // guest3 alone there
    p.walk(0, 5, 5);  // the viewer joins it: it sees itself
    CHECK(p.windows[0].board_row(5) == "5 . . . . . @ . .");
    CHECK(p.windows[0].board_row(7) == "7 . . . . . . . .");
}

TEST(a_move_costs_a_viewer_the_same_bytes_whatever_the_crowd) {
    // The last to join moves one square: it is not among the 7 names the view lists.
    auto cost = [](SlotId crowd) {
        Play p;
        p.join_all(crowd);
        p.open(0);
        const SlotId mover = crowd - 1;
        p.move(mover, {p.room.square(mover).x < 7 ? 1 : -1, 0});
        return p.take(0).size();
    };
    const std::size_t alone = cost(20), crowded = cost(1500);
    const std::size_t square = std::string("\x1b[8;17H.").size(), cursor = std::string("\x1b[24;1H").size();
    CHECK(alone > cursor && alone <= 2 * square + cursor);  // two squares at most, and the cursor
    CHECK(crowded <= alone);  // a crowd's squares show '+' before and after: if anything, less
}

TEST(nothing_is_sent_when_nothing_a_viewer_sees_changed) {
    Play p;
    p.join_all(13);
    p.open(0);
    for (SlotId id : {10u, 11u, 12u})
        p.walk(id, 4, 4);
    for (SlotId id : {8u, 9u})
        p.walk(id, 5, 4);
    p.take(0);
    p.move(10, {1, 0});  // (4,4) keeps two, (5,4) gets a third: '+' and '+' still; 10 is not listed
    CHECK(p.take(0).empty());
}

TEST(the_list_holds_seven_names_and_counts_the_rest) {
    Play p;
    p.join_all(10);
    p.open(0);
    Window& w = p.windows[0];
    CHECK(w.text(0).substr(21) == "10 online");
    CHECK(w.text(1).substr(21, 8) == "@ guest1");
    int named = 0;
    for (int row = 1; row <= 7; ++row)
        named += w.text(row).size() > 21 ? 1 : 0;
    CHECK(named == 7);
    CHECK(w.text(8).substr(21) == "... and 3 more");
    p.join(10);
    CHECK(w.text(0).substr(21) == "11 online" && w.text(8).substr(21) == "... and 4 more");
}

TEST(a_listed_leaver_is_replaced_by_someone_not_listed_and_a_newcomer_fills_a_gap) {
    Play p;
    p.join_all(9);
    p.open(0);
    Window& w = p.windows[0];
    const SlotId leaver = 1;  // listed second, after the viewer: the room's members in join order
    CHECK(w.text(2).substr(21, 10) == "  guest2 (");
    p.leave(leaver);
    CHECK(w.text(0).substr(21) == "8 online");
    CHECK(w.text(2).size() > 23 && w.text(2).find(p.room.nick(leaver).data()) == std::string::npos);
    CHECK(w.text(8).substr(21) == "... and 1 more");
    for (SlotId id = 1; id < 9; ++id)
        if (id != leaver)
            p.leave(id);
    CHECK(w.text(0).substr(21) == "1 online" && w.text(2).size() <= 21 && w.text(8).size() <= 21);
    p.join(20);
    CHECK(w.text(2).substr(21) == "  " + std::string(p.room.nick(20)) + " (" + std::to_string(p.room.square(20).x) + "," +
                                     std::to_string(p.room.square(20).y) + ")");
}

TEST(a_rename_changes_the_letter_on_the_board_and_the_name_in_the_list) {
    Play p;
    p.join(0);
    p.join(1);
    p.walk(1, 7, 7);
    p.open(0);
    p.line(1, "/nick Zed");
    CHECK(p.windows[0].board_row(7) == "7 . . . . . . . Z");
    CHECK(p.windows[0].text(2).substr(21) == "  Zed (7,7)");
}

TEST(a_closed_view_is_sent_nothing_more_and_gives_the_window_back) {
    Play p;
    p.join(0);
    p.join(1);
    p.open(0);
    std::string bytes;
    p.views.close(0, &bytes);
    CHECK(bytes == "\x1b[r\x1b[H\x1b[2J");
    p.move(1, {1, 0});
    p.move(1, {0, 1});
    CHECK(p.take(0).empty() && !p.views.viewing(0) && p.views.count() == 0);
}

TEST(many_viewers_each_get_their_own_view) {
    Play p;
    p.join_all(5);
    p.walk(4, 0, 0);
    for (SlotId id = 0; id < 4; ++id)
        p.open(id);
    p.views.close(1, nullptr);  // one leaves the view in the middle of the list
    p.take(0), p.take(2), p.take(3);
    p.move(4, {1, 0});
    for (SlotId id : {0u, 2u, 3u})
        CHECK(p.windows[id].board_row(0).substr(0, 5) == "0 . g" && !p.take(id).empty());
    CHECK(p.take(1).empty());
}

TEST(a_narrow_window_gets_the_list_cut_before_its_last_column) {
    Play p;
    p.join(0);
    p.line(0, "/nick ABCDEFGHIJKLMNOP");
    p.open(0, play::kMinWidth, play::kMinHeight);
    const Window& w = p.windows[0];
    for (int row = 0; row < play::kMinHeight; ++row)
        CHECK(static_cast<int>(w.text(row).size()) < play::kMinWidth);
    CHECK(w.text(1).substr(21) == "@ ABCDEFGHIJKLMNOP (" + std::to_string(p.room.square(0).x) + "," +
                                      std::to_string(p.room.square(0).y) + ")");
    CHECK(!play::fits(play::kMinWidth - 1, 24) && !play::fits(80, play::kMinHeight - 1) && play::fits(80, 24));
}

// ---- Hangul nicks: a glyph two columns wide -------------------------------------------------------------

namespace {

const std::string kHan = "\xed\x95\x9c";  // 한

// Square (x, y) as the window shows it: what its glyph's column holds.
const std::string& square_on(const Window& w, int x, int y) { return w.cell(y, 2 + 2 * x); }

}  // namespace

TEST(a_hangul_glyph_is_drawn_two_columns_wide_and_every_square_stays_in_its_column) {
    Play p;
    p.join_at(0, 0, 0);
    p.join_at(1, 3, 2);
    p.join_at(2, 4, 2);
    p.line(1, "/nick " + kHan + "x");
    p.open(0);
    const Window& w = p.windows[0];
    CHECK(w.board_text(2) == "2 . . . " + kHan + "g . . .");
    CHECK(square_on(w, 3, 2) == kHan && w.cell(2, 2 + 2 * 3 + 1).empty() && square_on(w, 4, 2) == "g");
    for (int x = 0; x < 8; ++x)
        CHECK(w.cell(8, 2 + 2 * x) == std::to_string(x));  // under its square's column
    CHECK(w.list_text(2) == "  " + kHan + "x (3,2)");  // the list, beside the board
}

TEST(a_hangul_glyph_that_moves_leaves_the_space_after_its_square_behind) {
    Play p;
    p.join_at(0, 0, 0);
    p.join_at(1, 3, 2);
    p.join_at(2, 5, 2);
    p.line(1, "/nick " + kHan);
    p.open(0);
    const Window& w = p.windows[0];
    p.take(0);
    p.move(1, {1, 0});  // to (4,2): 한 then g with no space, 3 is empty again
    // The space after (3,2) is written back, not left to the terminal: pyte keeps the wide
    // character's second half as an empty cell, and a console may keep it as it was.
    CHECK(p.take(0).find("\x1b[3;9H. \x1b[3;11H" + kHan) != std::string::npos);
    CHECK(w.board_text(2) == "2 . . . . " + kHan + "g . .");
    CHECK(square_on(w, 3, 2) == "." && w.cell(2, 2 + 2 * 3 + 1) == " " && square_on(w, 4, 2) == kHan);
    p.move(2, {-1, 0});  // g joins it on (4,2): '+', narrow, and the space after it comes back
    CHECK(w.board_text(2) == "2 . . . . + . . .");
    p.move(2, {1, 0});
    p.walk(1, 7, 7);  // the last column: its second half is the column after the board
    CHECK(w.board_text(7) == "7 . . . . . . . " + kHan);
    p.line(1, "/nick Zed");
    CHECK(w.board_text(7) == "7 . . . . . . . Z");
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
            CHECK(square_on(w, x, y) == (x == 0 && y == 0 ? "@" : (x == 7 && y == 7) ? "Z" : (x == 5 && y == 2) ? "g" : "."));
}

TEST(a_hangul_nick_in_the_list_is_cut_by_columns_never_inside_a_character) {
    Play p;
    p.join(0);
    std::string sixteen;
    for (int i = 0; i < 16; ++i)
        sixteen += kHan;
    p.line(0, "/nick " + sixteen);
    p.open(0, play::kMinWidth, play::kMinHeight);
    const Window& w = p.windows[0];
    const std::string row = w.text(1).substr(21);
    CHECK(row.rfind("@ " + kHan, 0) == 0 && utf8::is_valid(row));
    CHECK(utf8::columns_of(w.text(1)) <= play::kMinWidth - 1);  // nothing in the last column
    p.open(0, 80, 24);
    CHECK(p.windows[0].text(1).substr(21) == "@ " + sixteen + " (" + std::to_string(p.room.square(0).x) + "," +
                                                 std::to_string(p.room.square(0).y) + ")");
}

// play.h - the board view (/play): the lecture's board homework, live in any telnet window.
//
// A member in the board view has its whole window drawn by the server:
//
//   row  1..8   the board as /board draws it ("0 . . @ . . . . .")   col 22..: "N online"
//   row  9      the coordinates ("  0 1 2 3 4 5 6 7")                          rows 2..8: who is where
//   row 10      how to play and how to leave                                   row 9: "... and K more"
//   row 11..H   the chat: a scroll region (DECSTBM), so lines scroll under the board, never over
//               it; its bottom row holds the line being typed (terminal.h keeps it to that row)
//
// After that, nothing is ever repainted: a move, join, leave or rename rewrites, for each viewer,
// only the squares and list rows whose text changed (cursor positioning, then the cursor put back
// at the end of the typed line). What a viewer was last sent is kept per viewer, so what a move
// costs it is a few squares and at most one list row: the same bytes whatever the crowd.
//
// Windows: telnet.exe draws into the console with a VT100 emulation of its own, which keeps a scroll
// region (CSI top;bottom r) as xterm, PuTTY and pyte do; it reports a resized window (NAWS) only with
// the next key pressed, so its redraw comes then. Neither can be shown under Wine (no telnet.exe).
//
// Includes no Windows header: the views reach the connections through `Screen`, the one interface
// the session layer hands them, so the bookkeeping (what changed, what to rewrite) is unit-tested
// natively.
#pragma once

#include "chat.h"
#include "protocol.h"
#include "utf8.h"
#include "util.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace play {

using chat::Square;

constexpr int kBoardRows = proto::kBoardSize + 1;   // the squares, then the coordinates
constexpr int kHintRow = kBoardRows + 1;
constexpr int kChatTop = kHintRow + 1;
constexpr int kListColumn = 22;                     // the list of who is where, beside the board
constexpr int kListed = proto::kBoardSize - 1;      // rows 2..8: the viewer first, then others
constexpr int kListRows = 1 + kListed + 1;          // "N online", the names, "... and K more"
constexpr int kMinChatRows = 4;                     // three lines of chat and the typed line
// The longest list row of an ASCII nick, "@ " nick " (x,y)", and the last column, which nothing is
// written to. A Hangul nick takes two columns a syllable: in a window this narrow its row is cut.
constexpr int kMinWidth = kListColumn - 1 + 2 + static_cast<int>(proto::kMaxNickChars) + 6 + 1;
constexpr int kMinHeight = kChatTop - 1 + kMinChatRows;
static_assert(kListRows == kBoardRows, "the list sits beside the board and its coordinates");

// What the views need from whoever holds the connections.
class Screen {
public:
    // Bytes for the viewer's window, queued after whatever it was sent before.
    virtual void queue(SlotId viewer, std::string_view bytes) = 0;
    // The column (from 1) where the viewer's cursor belongs on its bottom row: after its typed line.
    virtual int input_column(SlotId viewer) = 0;

protected:
    ~Screen() = default;
};

inline bool fits(int width, int height) { return width >= kMinWidth && height >= kMinHeight; }

class Views {
public:
    explicit Views(std::size_t capacity) : views_(capacity) {}

    bool viewing(SlotId member) const { return member < views_.size() && views_[member] != nullptr; }
    std::size_t count() const { return viewers_.size(); }

    // Draws `me`'s whole window (width x height, which fits()) into `out` and keeps it up to date
    // from now on. The cursor is left at the start of the bottom row.
    void open(const chat::Room& room, SlotId me, int width, int height, std::string& out);
    // `me` has no view any more. `out`, when given, gets what gives the window back to lines.
    void close(SlotId me, std::string* out);

    // What the room changed (see chat::Change), drawn for every viewer.
    void show(const chat::Room& room, const chat::Change& change, Screen& screen) {
        if (change.kind == chat::Change::Kind::Move)
            draw_move(room, change.who, change.from, change.to, screen);
        else if (change.kind == chat::Change::Kind::Roster)
            draw_roster(room, change.who, change.to, screen);
    }
    void draw_move(const chat::Room& room, SlotId who, Square from, Square to, Screen& screen);
    void draw_roster(const chat::Room& room, SlotId who, Square square, Screen& screen);

private:
    struct View {
        int width = 0, height = 0;
        std::size_t viewers_index = 0;  // where in viewers_
        char32_t drawn[proto::kBoardSize][proto::kBoardSize] = {};  // each square's glyph as last sent
        SlotId listed[kListed] = {};  // the list's names; the viewer first; kNoSlot: an empty row
        std::string rows[kListRows];    // the list's rows as last sent
    };

    void fill_list(const chat::Room& room, SlotId me, View& view);
    void update_list(const chat::Room& room, SlotId who, View& view);
    std::string list_row(const chat::Room& room, const View& view, int row) const;
    void draw_square(const chat::Room& room, SlotId me, View& view, Square square);
    void draw_list_row(const chat::Room& room, View& view, int row);
    void send(SlotId me, const View& view, Screen& screen);
    static void move_cursor(std::string& out, int row, int column);

    std::vector<std::unique_ptr<View>> views_;  // by member; null: not viewing
    std::vector<SlotId> viewers_;
    std::string out_;  // scratch: one viewer's bytes
};

inline void Views::move_cursor(std::string& out, int row, int column) {
    char bytes[24];
    std::snprintf(bytes, sizeof bytes, "\x1b[%d;%dH", row, column);
    out += bytes;
}

inline void Views::open(const chat::Room& room, SlotId me, int width, int height, std::string& out) {
    close(me, nullptr);
    auto view = std::make_unique<View>();
    view->width = width;
    view->height = height;
    view->viewers_index = viewers_.size();
    viewers_.push_back(me);
    out += "\x1b[r\x1b[H\x1b[2J";  // no scroll region left from before; a clear window
    out_.clear();
    for (int y = 0; y < proto::kBoardSize; ++y) {
        move_cursor(out_, y + 1, 1);
        room.append_board_row(me, y, out_);
        for (int x = 0; x < proto::kBoardSize; ++x)
            view->drawn[y][x] = room.glyph(me, {x, y});
    }
    move_cursor(out_, kBoardRows, 1);
    out_ += "  0 1 2 3 4 5 6 7";
    fill_list(room, me, *view);
    for (int row = 0; row < kListRows; ++row)
        draw_list_row(room, *view, row);
    move_cursor(out_, kHintRow, 1);
    const std::string hint = "-- arrows move @ - Esc Esc or /play: lines --";
    out_.append(hint, 0, std::min(hint.size(), static_cast<std::size_t>(width - 1)));
    char region[24];
    std::snprintf(region, sizeof region, "\x1b[%d;%dr", kChatTop, height);  // homes the cursor
    out_ += region;
    move_cursor(out_, height, 1);
    out += out_;
    views_[me] = std::move(view);
}

inline void Views::close(SlotId me, std::string* out) {
    if (!viewing(me))
        return;
    const std::size_t index = views_[me]->viewers_index;
    viewers_[index] = viewers_.back();
    views_[viewers_[index]]->viewers_index = index;
    viewers_.pop_back();
    views_[me].reset();
    if (out)
        *out += "\x1b[r\x1b[H\x1b[2J";  // the whole window scrolls again, from a clear one
}

inline void Views::draw_move(const chat::Room& room, SlotId who, Square from, Square to, Screen& screen) {
    for (const SlotId viewer : viewers_) {
        View& view = *views_[viewer];
        out_.clear();
        draw_square(room, viewer, view, from);
        draw_square(room, viewer, view, to);
        for (int i = 0; i < kListed; ++i)
            if (view.listed[i] == who)
                draw_list_row(room, view, 1 + i);
        send(viewer, view, screen);
    }
}

inline void Views::draw_roster(const chat::Room& room, SlotId who, Square square, Screen& screen) {
    for (const SlotId viewer : viewers_) {
        View& view = *views_[viewer];
        out_.clear();
        draw_square(room, viewer, view, square);
        update_list(room, who, view);
        for (int row = 0; row < kListRows; ++row)
            draw_list_row(room, view, row);
        send(viewer, view, screen);
    }
}

// The viewer, then the first others the room lists; empty rows when there are fewer.
inline void Views::fill_list(const chat::Room& room, SlotId me, View& view) {
    std::fill(std::begin(view.listed), std::end(view.listed), kNoSlot);
    view.listed[0] = me;
    int next = 1;
    for (const SlotId member : room.members()) {
        if (next == kListed)
            break;
        if (member != me)
            view.listed[next++] = member;
    }
}

// A leaver's row goes to the first member not listed (found among the room's first kListed + 1
// members, so this is no walk over the crowd); a newcomer or a renamed member takes an empty row.
inline void Views::update_list(const chat::Room& room, SlotId who, View& view) {
    SlotId* const end = std::end(view.listed);
    SlotId* const row = std::find(std::begin(view.listed), end, who);
    if (room.contains(who)) {
        SlotId* const empty = std::find(std::begin(view.listed), end, kNoSlot);
        if (row == end && empty != end)
            *empty = who;
        return;
    }
    if (row == end)
        return;
    *row = kNoSlot;
    for (const SlotId member : room.members()) {
        if (std::find(std::begin(view.listed), end, member) == end) {
            *row = member;
            break;
        }
    }
}

// Row 0: "N online"; rows 1..kListed: "@ me (x,y)", "  nick (x,y)"; the last: "... and K more".
// Cut to the columns left of the window's last, so that the cursor never wraps.
inline std::string Views::list_row(const chat::Room& room, const View& view, int row) const {
    const std::size_t online = room.members().size();
    std::string text;
    if (row == 0) {
        text = std::to_string(online) + " online";
    } else if (row <= kListed) {
        const SlotId member = view.listed[row - 1];
        if (member != kNoSlot) {
            const Square square = room.square(member);
            text = row == 1 ? "@ " : "  ";
            text += room.nick(member);
            text += " (" + std::to_string(square.x) + "," + std::to_string(square.y) + ")";
        }
    } else {
        const auto listed = static_cast<std::size_t>(
            std::count_if(std::begin(view.listed), std::end(view.listed), [](SlotId m) { return m != kNoSlot; }));
        if (online > listed)
            text = "... and " + std::to_string(online - listed) + " more";
    }
    utf8::cut_to_columns(text, view.width - kListColumn);
    return text;
}

// A two-column glyph (a Hangul nick's) covers the space after its square, as /board draws it; the
// narrow glyph that replaces it puts that space back. Nothing is ever written over the second half
// of a wide character, which terminals handle each their own way.
inline void Views::draw_square(const chat::Room& room, SlotId me, View& view, Square square) {
    const char32_t glyph = room.glyph(me, square);
    char32_t& drawn = view.drawn[square.y][square.x];
    if (drawn == glyph)
        return;
    const bool was_wide = utf8::columns_of(drawn) == 2;
    drawn = glyph;
    move_cursor(out_, square.y + 1, 3 + 2 * square.x);
    utf8::append(out_, glyph);
    if (was_wide && utf8::columns_of(glyph) == 1)
        out_ += ' ';
}

inline void Views::draw_list_row(const chat::Room& room, View& view, int row) {
    std::string text = list_row(room, view, row);
    if (text == view.rows[row])
        return;
    move_cursor(out_, 1 + row, kListColumn);
    out_ += text;
    out_ += "\x1b[K";
    view.rows[row] = std::move(text);
}

// What changed for the viewer, then its cursor back where its typing goes on.
inline void Views::send(SlotId me, const View& view, Screen& screen) {
    if (out_.empty())
        return;
    move_cursor(out_, view.height, screen.input_column(me));
    screen.queue(me, out_);
}

}  // namespace play

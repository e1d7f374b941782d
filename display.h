// display.h - the screen client.exe shows: a grid of character cells that the operations of vt.h
// are applied to, as a VT100 (xterm) applies them, and what changed since it was last painted.
//
// The grid is the console window's size. A wide (East Asian) character takes two cells, the second
// one kWideTail; writing over either half of one blanks the other. A character written in the last
// column leaves the cursor there with a wrap pending: the next character goes to the next row, a
// cursor move cancels it (the server counts on this when it redraws a wrapped line).
//
// What changed is kept for the painter (client.exe's console side) as the console API can redo it
// cheaply: the scrolls, in order (ScrollConsoleScreenBuffer moves the console's cells as the grid's
// moved), then the rows to write again. Rows the grid never wrote are never written, so what the
// console showed before client.exe started stays until the server draws over it or scrolls it away.
//
// Includes no Windows header: unit-tested and fuzzed natively.
#pragma once

#include "utf8.h"
#include "vt.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vt {

constexpr char32_t kWideTail = 0;  // the right half of the wide character on its left
constexpr int kMaxSide = 1000;     // rows or columns kept at most, whatever the window says
constexpr std::size_t kMaxScrolls = 16;  // scrolls kept for the painter; past it, rows are rewritten

// Rows top..bottom (from 0) moved up by `lines` (down when negative), the rows uncovered blank.
struct Scroll {
    int top, bottom, lines;
};

class Display {
public:
    // A width x height screen, blank, the cursor at (row, column) from 0.
    Display(int width, int height, int row = 0, int column = 0) { reset(width, height, row, column); }

    int width() const { return width_; }
    int height() const { return height_; }
    int cursor_row() const { return row_; }
    int cursor_column() const { return column_; }  // the last column while a wrap is pending
    // The cells of a row, width() of them.
    const char32_t* row(int row) const { return &cells_[static_cast<std::size_t>(row) * static_cast<std::size_t>(width_)]; }
    // A row as UTF-8 (tails left out), for tests and logs.
    std::string row_text(int row) const;

    void apply(const Op& op);
    // The window changed size: the grid keeps what fits (the rows around the cursor), the scroll
    // region is the whole screen again, and every row is to be painted.
    void resize(int width, int height);

    // ---- What changed since clear_damage -----------------------------------------------------------
    const std::vector<Scroll>& scrolls() const { return scrolls_; }
    bool row_changed(int row) const { return changed_[static_cast<std::size_t>(row)] != 0; }
    bool changed() const {
        return !scrolls_.empty() || std::find(changed_.begin(), changed_.end(), 1) != changed_.end();
    }
    void clear_damage() {
        scrolls_.clear();
        std::fill(changed_.begin(), changed_.end(), static_cast<unsigned char>(0));
    }

private:
    void reset(int width, int height, int row, int column);
    char32_t& cell(int row, int column) {
        return cells_[static_cast<std::size_t>(row) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(column)];
    }
    void print(char32_t c);
    void put(char32_t c, int columns);
    void unpair(int row, int column);
    void erase(int row, int from, int to);
    void erase_rows(int from, int to);
    void erase_display(int mode);
    void line_feed();
    void reverse_index();
    void scroll(int top, int bottom, int lines);
    void note_scroll(int top, int bottom, int lines);
    void move_to(int row, int column) {
        row_ = std::clamp(row, 0, height_ - 1);
        column_ = std::clamp(column, 0, width_ - 1);
        wrap_pending_ = false;
    }
    void set_region(int top, int bottom);

    int width_ = 1, height_ = 1;
    std::vector<char32_t> cells_;
    int row_ = 0, column_ = 0;
    bool wrap_pending_ = false;
    int top_ = 0, bottom_ = 0;  // the scroll region, rows from 0, inclusive
    int saved_row_ = 0, saved_column_ = 0;
    std::vector<Scroll> scrolls_;
    std::vector<unsigned char> changed_;  // per row
};

inline void Display::reset(int width, int height, int row, int column) {
    width_ = std::clamp(width, 1, kMaxSide);
    height_ = std::clamp(height, 1, kMaxSide);
    cells_.assign(static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_), U' ');
    changed_.assign(static_cast<std::size_t>(height_), 0);
    scrolls_.clear();
    top_ = 0;
    bottom_ = height_ - 1;
    saved_row_ = saved_column_ = 0;
    move_to(row, column);
}

inline std::string Display::row_text(int row_index) const {
    std::string text;
    const char32_t* cells = row(row_index);
    for (int column = 0; column < width_; ++column)
        if (cells[column] != kWideTail)
            utf8::append(text, cells[column]);
    return text;
}

inline void Display::apply(const Op& op) {
    switch (op.kind) {
    case Op::Kind::Print: print(op.code_point); return;
    case Op::Kind::CarriageReturn: move_to(row_, 0); return;
    case Op::Kind::LineFeed:
    case Op::Kind::Index: line_feed(); return;
    case Op::Kind::NextLine: line_feed(); move_to(row_, 0); return;
    case Op::Kind::ReverseIndex: reverse_index(); return;
    case Op::Kind::Backspace: move_to(row_, column_ - 1); return;
    case Op::Kind::Tab: move_to(row_, (column_ / 8 + 1) * 8); return;
    case Op::Kind::CursorUp: move_to(std::max(row_ - op.first, row_ >= top_ ? top_ : 0), column_); return;
    case Op::Kind::CursorDown: move_to(std::min(row_ + op.first, row_ <= bottom_ ? bottom_ : height_ - 1), column_); return;
    case Op::Kind::CursorForward: move_to(row_, column_ + op.first); return;
    case Op::Kind::CursorBack: move_to(row_, column_ - op.first); return;
    case Op::Kind::MoveTo: move_to(op.first - 1, op.second - 1); return;
    case Op::Kind::Column: move_to(row_, op.first - 1); return;
    case Op::Kind::Row: move_to(op.first - 1, column_); return;
    case Op::Kind::EraseDisplay:
        wrap_pending_ = false;  // the cursor's cell is blank now: the next character goes there
        erase_display(op.first);
        return;
    case Op::Kind::EraseLine:
        wrap_pending_ = false;
        if (op.first == 0)
            erase(row_, column_, width_);
        else if (op.first == 1)
            erase(row_, 0, column_ + 1);
        else if (op.first == 2)
            erase(row_, 0, width_);
        return;
    case Op::Kind::ScrollRegion: set_region(op.first - 1, (op.second == 0 ? height_ : op.second) - 1); return;
    case Op::Kind::ScrollUp: scroll(top_, bottom_, std::min(op.first, height_)); return;
    case Op::Kind::ScrollDown: scroll(top_, bottom_, -std::min(op.first, height_)); return;
    case Op::Kind::SaveCursor:
        saved_row_ = row_;
        saved_column_ = column_;
        return;
    case Op::Kind::RestoreCursor: move_to(saved_row_, saved_column_); return;
    }
}

// A character at the cursor: a pending wrap is taken first, and a wide one that does not fit in
// the row's last column goes to the next row (as xterm does).
inline void Display::print(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c < 0xA0))
        c = utf8::kReplacement;  // a control character (C1 comes as UTF-8 too) is never drawn as one
    int columns = utf8::columns_of(static_cast<std::uint32_t>(c));
    if (columns == 0)
        return;  // combining marks: the console API has no way to join them to the cell before
    if (columns == 2 && width_ < 2) {
        c = U'?';
        columns = 1;
    }
    if (wrap_pending_ || (columns == 2 && column_ == width_ - 1)) {
        if (!wrap_pending_)
            erase(row_, column_, width_);
        line_feed();
        column_ = 0;
    }
    put(c, columns);
    column_ += columns;
    if (column_ >= width_) {
        column_ = width_ - 1;
        wrap_pending_ = true;
    }
}

inline void Display::put(char32_t c, int columns) {
    unpair(row_, column_);
    if (columns == 2)
        unpair(row_, column_ + 1);
    cell(row_, column_) = c;
    if (columns == 2)
        cell(row_, column_ + 1) = kWideTail;
    changed_[static_cast<std::size_t>(row_)] = 1;
}

// The cell is about to change: the other half of a wide character it holds goes blank.
inline void Display::unpair(int row, int column) {
    if (cell(row, column) == kWideTail)
        cell(row, column - 1) = U' ';
    else if (column + 1 < width_ && cell(row, column + 1) == kWideTail)
        cell(row, column + 1) = U' ';
}

// Columns [from, to) of a row, blank.
inline void Display::erase(int row, int from, int to) {
    from = std::clamp(from, 0, width_);
    to = std::clamp(to, from, width_);
    if (from == to)
        return;
    unpair(row, from);
    unpair(row, to - 1);
    std::fill(&cell(row, from), &cell(row, from) + (to - from), U' ');
    changed_[static_cast<std::size_t>(row)] = 1;
}

inline void Display::erase_rows(int from, int to) {
    for (int row = from; row < to; ++row)
        erase(row, 0, width_);
}

inline void Display::erase_display(int mode) {
    if (mode == 0) {
        erase(row_, column_, width_);
        erase_rows(row_ + 1, height_);
    } else if (mode == 1) {
        erase_rows(0, row_);
        erase(row_, 0, column_ + 1);
    } else if (mode == 2 || mode == 3) {
        erase_rows(0, height_);
    }
}

// A row down; at the region's bottom the region scrolls up instead (below the region, at the
// screen's bottom, nothing moves).
inline void Display::line_feed() {
    wrap_pending_ = false;
    if (row_ == bottom_)
        scroll(top_, bottom_, 1);
    else if (row_ < height_ - 1)
        ++row_;
}

inline void Display::reverse_index() {
    wrap_pending_ = false;
    if (row_ == top_)
        scroll(top_, bottom_, -1);
    else if (row_ > 0)
        --row_;
}

// Rows top..bottom move up by `lines` (down when negative); the rows uncovered are blank. Each row's
// changed mark moves with it.
inline void Display::scroll(int top, int bottom, int lines) {
    const int span = bottom - top + 1;
    if (lines == 0)
        return;
    if (lines >= span || -lines >= span) {
        erase_rows(top, bottom + 1);
        return;
    }
    const auto at = [this](int row) { return cells_.begin() + static_cast<std::ptrdiff_t>(row) * width_; };
    const auto mark = [this](int row) { return changed_.begin() + row; };
    if (lines > 0) {
        std::rotate(at(top), at(top + lines), at(bottom + 1));
        std::rotate(mark(top), mark(top + lines), mark(bottom + 1));
    } else {
        std::rotate(at(top), at(bottom + 1 + lines), at(bottom + 1));
        std::rotate(mark(top), mark(bottom + 1 + lines), mark(bottom + 1));
    }
    note_scroll(top, bottom, lines);
    const int first_blank = lines > 0 ? bottom + 1 - lines : top;
    erase_rows(first_blank, first_blank + (lines > 0 ? lines : -lines));
}

// Kept for the painter; a scroll of the same rows the same way as the last one adds to it. Past
// kMaxScrolls every row is marked to be written instead, which needs no scroll at all.
inline void Display::note_scroll(int top, int bottom, int lines) {
    if (!scrolls_.empty()) {
        Scroll& last = scrolls_.back();
        const int merged = last.lines + lines;
        if (last.top == top && last.bottom == bottom && (last.lines > 0) == (lines > 0) &&
            merged < bottom - top + 1 && -merged < bottom - top + 1) {
            last.lines += lines;
            return;
        }
    }
    if (scrolls_.size() < kMaxScrolls) {
        scrolls_.push_back(Scroll{top, bottom, lines});
        return;
    }
    scrolls_.clear();
    std::fill(changed_.begin(), changed_.end(), static_cast<unsigned char>(1));
}

// DECSTBM: a region of two rows or more, from 0; anything else is ignored. The cursor goes home.
inline void Display::set_region(int top, int bottom) {
    bottom = std::min(bottom, height_ - 1);
    if (top < 0 || top >= bottom)
        return;
    top_ = top;
    bottom_ = bottom;
    move_to(0, 0);
}

inline void Display::resize(int width, int height) {
    width = std::clamp(width, 1, kMaxSide);
    height = std::clamp(height, 1, kMaxSide);
    if (width == width_ && height == height_)
        return;
    const std::vector<char32_t> old = cells_;
    const int old_width = width_, old_height = height_;
    const int shift = std::max(0, row_ - (height - 1));  // rows dropped from the top to keep the cursor
    const int row = row_ - shift, column = column_;
    reset(width, height, row, column);
    for (int r = 0; r < height_ && r + shift < old_height; ++r)
        for (int c = 0; c < width_ && c < old_width; ++c)
            cell(r, c) = old[static_cast<std::size_t>(r + shift) * static_cast<std::size_t>(old_width) + static_cast<std::size_t>(c)];
    for (int r = 0; r < height_; ++r) {
        if (cell(r, 0) == kWideTail)
            cell(r, 0) = U' ';
        if (width_ < old_width && cell(r, width_ - 1) != kWideTail &&
            utf8::columns_of(static_cast<std::uint32_t>(cell(r, width_ - 1))) == 2)
            cell(r, width_ - 1) = U' ';  // its tail was cut off
    }
    std::fill(changed_.begin(), changed_.end(), static_cast<unsigned char>(1));
}

}  // namespace vt

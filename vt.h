// vt.h - what the server draws, read: a parser for the VT subset server.exe sends, bytes in,
// operations out. client.exe shows a server's screen by interpreting it itself (display.h keeps
// the screen, its console painter draws it with the classic console API), because a console's own
// VT processing cannot be leaned on: Windows 7 and 8 have none, and Wine 8's counts escape bytes as
// printed columns and tears a long write (README, "client.exe in a console").
//
// The subset is what terminal.h's line discipline and play.h's board view emit: text (UTF-8, a
// character split across receives held until it is whole), CR, LF, BS, the cursor moves (CSI A B C
// D, CSI row;col H), erasing (CSI J, CSI K), the scroll region (CSI top;bottom r); and a few that
// cost nothing more (TAB, CSI G and d, CSI S and T, ESC D M E 7 8). Everything else a VT100 or
// xterm could be sent is read to its end and dropped: colours, modes, title strings. The parser's
// state is a few dozen bytes whatever it is fed.
//
// Includes no Windows header: unit-tested and fuzzed natively.
#pragma once

#include "utf8.h"

#include <cstddef>
#include <cstdint>

namespace vt {

// One thing the server's bytes said to do. Rows and columns count from 1, as on the wire.
struct Op {
    enum class Kind : std::uint8_t {
        Print,           // code_point at the cursor
        CarriageReturn,  // to column 1
        LineFeed,        // a row down, scrolling the region at its bottom
        Backspace,       // a column left
        Tab,             // to the next multiple of 8 columns
        CursorUp,        // first: how many rows (stops at the region's top when in it)
        CursorDown,
        CursorForward,
        CursorBack,
        MoveTo,          // first: row, second: column
        Column,          // first: column, on the same row
        Row,             // first: row, in the same column
        EraseDisplay,    // first: 0 cursor to end, 1 start to cursor, 2 (or 3) all
        EraseLine,       // first: the same, within the cursor's row
        ScrollRegion,    // first: top row, second: bottom row (0: the last); the cursor goes home
        ScrollUp,        // first: how many rows, within the region
        ScrollDown,
        Index,           // ESC D: a row down (as LineFeed)
        ReverseIndex,    // ESC M: a row up, scrolling the region down at its top
        NextLine,        // ESC E: CR and LF
        SaveCursor,      // ESC 7, CSI s
        RestoreCursor,   // ESC 8, CSI u
    };
    Kind kind;
    char32_t code_point;
    int first;
    int second;
};

constexpr std::size_t kMaxParameters = 8;  // past it, parameters are ignored
constexpr int kMaxParameter = 9999;        // a bigger number is taken as this

// Fed bytes in any pieces; calls on_op(const Op&) for each operation, in order.
class Parser {
public:
    template <typename OnOp>
    void feed(const char* data, std::size_t size, OnOp&& on_op) {
        for (std::size_t i = 0; i < size; ++i)
            feed(static_cast<unsigned char>(data[i]), on_op);
    }
    template <typename OnOp>
    void feed(unsigned char byte, OnOp&& on_op);
    // True between sequences and characters: the next byte starts something new.
    bool at_boundary() const { return state_ == State::Ground && !decoder_.in_character(); }

private:
    enum class State : std::uint8_t {
        Ground,              // text
        Escape,              // after ESC
        EscapeIntermediate,  // ESC and bytes 0x20-0x2F (a character set, ...): ignored to its final byte
        Csi,                 // ESC [ and its parameters
        CsiIgnore,           // a CSI we do not act on (private, intermediates): read to its final byte
        String,              // OSC, DCS, SOS, PM, APC: skipped to BEL or ESC \ (ST)
    };

    template <typename OnOp>
    void text(unsigned char byte, OnOp& on_op);
    template <typename OnOp>
    void control(unsigned char byte, OnOp& on_op);
    template <typename OnOp>
    void escape(unsigned char byte, OnOp& on_op);
    void csi(unsigned char byte);
    template <typename OnOp>
    void dispatch(unsigned char final_byte, OnOp& on_op);
    template <typename OnOp>
    void flush_character(OnOp& on_op) {
        char32_t broken[1];
        if (decoder_.flush(broken) == 1)
            on_op(Op{Op::Kind::Print, broken[0], 0, 0});
    }
    int parameter(std::size_t i, int fallback) const {
        return i < count_ && i < kMaxParameters && parameters_[i] > 0 ? parameters_[i] : fallback;
    }

    State state_ = State::Ground;
    utf8::Decoder decoder_;
    int parameters_[kMaxParameters] = {};
    std::size_t count_ = 0;  // parameters begun, at most kMaxParameters
    bool private_ = false;   // the CSI began with < = > or ?: none of ours
};

template <typename OnOp>
void Parser::feed(unsigned char byte, OnOp&& on_op) {
    if (byte == 0x1B) {  // ESC starts a sequence wherever it comes, and ends a string (ESC \)
        flush_character(on_op);
        state_ = State::Escape;
        return;
    }
    if (byte == 0x18 || byte == 0x1A) {  // CAN, SUB: whatever was begun is given up
        flush_character(on_op);
        state_ = State::Ground;
        return;
    }
    if (state_ == State::String) {
        if (byte == 0x07)
            state_ = State::Ground;
        return;
    }
    if (byte < 0x20) {  // C0 controls act even in the middle of a sequence, as on a VT100
        flush_character(on_op);
        control(byte, on_op);
        return;
    }
    switch (state_) {
    case State::Ground: text(byte, on_op); return;
    case State::Escape: escape(byte, on_op); return;
    case State::EscapeIntermediate:
        if (byte < 0x20 || byte > 0x2F)
            state_ = State::Ground;
        return;
    case State::Csi:
        if (byte >= 0x40 && byte <= 0x7E) {
            state_ = State::Ground;
            if (!private_)
                dispatch(byte, on_op);
            return;
        }
        csi(byte);
        return;
    case State::CsiIgnore:
        if (byte < 0x20 || byte > 0x3F)
            state_ = State::Ground;
        return;
    case State::String: return;
    }
}

template <typename OnOp>
void Parser::text(unsigned char byte, OnOp& on_op) {
    if (byte == 0x7F)
        return;  // DEL prints nothing
    char32_t decoded[2];
    const int count = decoder_.feed(byte, decoded);
    for (int i = 0; i < count; ++i)
        on_op(Op{Op::Kind::Print, decoded[i], 0, 0});
}

template <typename OnOp>
void Parser::control(unsigned char byte, OnOp& on_op) {
    switch (byte) {
    case '\r': on_op(Op{Op::Kind::CarriageReturn, 0, 0, 0}); break;
    case '\n':
    case 0x0B:  // VT and FF move as LF does
    case 0x0C: on_op(Op{Op::Kind::LineFeed, 0, 0, 0}); break;
    case '\b': on_op(Op{Op::Kind::Backspace, 0, 0, 0}); break;
    case '\t': on_op(Op{Op::Kind::Tab, 0, 0, 0}); break;
    default: break;  // NUL, BEL and the rest show nothing
    }
}

template <typename OnOp>
void Parser::escape(unsigned char byte, OnOp& on_op) {
    state_ = State::Ground;
    switch (byte) {
    case '[':
        state_ = State::Csi;
        count_ = 0;
        parameters_[0] = 0;
        private_ = false;
        return;
    case ']':  // OSC
    case 'P':  // DCS
    case 'X':  // SOS
    case '^':  // PM
    case '_': state_ = State::String; return;  // APC
    case 'D': on_op(Op{Op::Kind::Index, 0, 0, 0}); return;
    case 'M': on_op(Op{Op::Kind::ReverseIndex, 0, 0, 0}); return;
    case 'E': on_op(Op{Op::Kind::NextLine, 0, 0, 0}); return;
    case '7': on_op(Op{Op::Kind::SaveCursor, 0, 0, 0}); return;
    case '8': on_op(Op{Op::Kind::RestoreCursor, 0, 0, 0}); return;
    default:
        if (byte >= 0x20 && byte <= 0x2F)
            state_ = State::EscapeIntermediate;
        return;  // any other final byte (ESC \ ends a string): nothing to do
    }
}

// A parameter byte of a CSI (the final byte is dispatch's).
inline void Parser::csi(unsigned char byte) {
    if (byte >= '0' && byte <= '9') {
        if (count_ == 0)
            count_ = 1;
        if (count_ <= kMaxParameters) {
            int& value = parameters_[count_ - 1];
            value = value > (kMaxParameter - 9) / 10 ? kMaxParameter : value * 10 + (byte - '0');
        }
        return;
    }
    if (byte == ';') {
        if (count_ == 0)
            count_ = 1;
        if (count_ < kMaxParameters)
            parameters_[count_] = 0;
        ++count_;
        count_ = count_ > kMaxParameters ? kMaxParameters + 1 : count_;
        return;
    }
    if (byte >= '<' && byte <= '?' && count_ == 0 && !private_) {
        private_ = true;  // DEC private modes (?25h, ...) and the like: read to their end
        return;
    }
    state_ = State::CsiIgnore;  // ':' sub-parameters, intermediates, a misplaced marker
}

template <typename OnOp>
void Parser::dispatch(unsigned char final_byte, OnOp& on_op) {
    const int n = parameter(0, 1);
    const auto emit = [&on_op](Op::Kind kind, int first, int second) { on_op(Op{kind, 0, first, second}); };
    switch (final_byte) {
    case 'A': emit(Op::Kind::CursorUp, n, 0); break;
    case 'B': emit(Op::Kind::CursorDown, n, 0); break;
    case 'C': emit(Op::Kind::CursorForward, n, 0); break;
    case 'D': emit(Op::Kind::CursorBack, n, 0); break;
    case 'H':
    case 'f': emit(Op::Kind::MoveTo, n, parameter(1, 1)); break;
    case 'G': emit(Op::Kind::Column, n, 0); break;
    case 'd': emit(Op::Kind::Row, n, 0); break;
    case 'J': emit(Op::Kind::EraseDisplay, parameter(0, 0), 0); break;
    case 'K': emit(Op::Kind::EraseLine, parameter(0, 0), 0); break;
    case 'r': emit(Op::Kind::ScrollRegion, n, parameter(1, 0)); break;
    case 'S': emit(Op::Kind::ScrollUp, n, 0); break;
    case 'T':
        if (count_ <= 1)  // with more parameters it is xterm's mouse tracking
            emit(Op::Kind::ScrollDown, n, 0);
        break;
    case 's':
        if (count_ == 0)
            emit(Op::Kind::SaveCursor, 0, 0);
        break;
    case 'u':
        if (count_ == 0)
            emit(Op::Kind::RestoreCursor, 0, 0);
        break;
    default: break;  // SGR (colours), modes, reports: nothing to show
    }
}

}  // namespace vt

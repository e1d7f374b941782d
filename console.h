// console.h - client.exe in a console, in character mode: the console's modes taken and given
// back, the keys read on a thread of their own, the window's size watched, and the painter that
// shows the terminal's display (vterm.h) with the classic console API.
//
// Only the Win32 calls live here; what they are fed (the VT parsing, the screen model, the key
// mapping, the negotiation) is Windows-free and unit-tested. The console API used is the one that
// works the same from Windows 7 to 11, in Windows Terminal and under Wine: SetConsoleCursorPosition,
// WriteConsoleOutputCharacterW, ScrollConsoleScreenBuffer, SetConsoleWindowInfo. A console's own VT
// processing is never asked for (Windows before 10 has none; Wine 8's tears long writes).
#pragma once

#include "display.h"
#include "iocp.h"
#include "keys.h"
#include "vterm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

// ---- The painter ------------------------------------------------------------------------------------

// Shows a vt::Display on the console window: the display's row 0 is the window's top row when it
// started (`origin`, in the buffer's coordinates), and what changed is redone with the console API:
// the display's scrolls as scrolls of the console's cells, then its changed rows written whole.
class Painter {
public:
    // `origin`: the buffer cell the display's top-left is on.
    Painter(HANDLE output, COORD origin) : output_(output), origin_(origin), unit_cells_(!wide_takes_two_cells()) {}

    void set_origin(COORD origin) {
        origin_ = origin;
        cursor_row_ = -1;
    }
    void paint(vt::Display& display);
    // At the end: the cursor on a fresh row under what is shown, for whatever the console shows next.
    void leave(vt::Display& display);

private:
    static bool wide_takes_two_cells();
    void scroll(const vt::Scroll& scroll, const vt::Display& display);
    void scroll_screen_up(int lines, const vt::Display& display);
    void write_row(const vt::Display& display, int row);
    SHORT console_column(const vt::Display& display, int row, int column) const;

    HANDLE output_;
    COORD origin_;
    // One cell for each UTF-16 unit written, whatever the character's width: Wine 8's console
    // (it keeps a wide character in one cell, which the Unix terminal under it draws over two) and
    // a pre-Windows 10 console with no East Asian code page. Windows 10's gives a wide one two.
    bool unit_cells_;
    int cursor_row_ = -1, cursor_column_ = -1;  // where the console's cursor was put last
};

// Whether this console gives an East Asian wide character two cells: measured on a screen buffer
// of its own that is never shown.
inline bool Painter::wide_takes_two_cells() {
    const HANDLE probe = CreateConsoleScreenBuffer(GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                                   nullptr, CONSOLE_TEXTMODE_BUFFER, nullptr);
    if (probe == INVALID_HANDLE_VALUE)
        return true;
    DWORD written = 0;
    CONSOLE_SCREEN_BUFFER_INFO info{};
    const bool measured = WriteConsoleW(probe, L"\xAC00", 1, &written, nullptr) && GetConsoleScreenBufferInfo(probe, &info);
    CloseHandle(probe);
    return !measured || info.dwCursorPosition.X == 2;
}

inline void Painter::paint(vt::Display& display) {
    if (!display.changed() && display.cursor_row() == cursor_row_ && display.cursor_column() == cursor_column_)
        return;
    cursor_row_ = display.cursor_row();
    cursor_column_ = display.cursor_column();
    for (const vt::Scroll& scroll_done : display.scrolls())
        scroll(scroll_done, display);
    const int cursor_row = display.cursor_row();
    for (int row = 0; row < display.height(); ++row)
        if (row != cursor_row && display.row_changed(row))
            write_row(display, row);
    // The cursor's row last: Wine moves its Unix terminal's cursor along the row it wrote last by
    // counting cells, which is right only there (a wide character is one cell to it, two on screen).
    if (display.row_changed(cursor_row))
        write_row(display, cursor_row);
    display.clear_damage();
    const COORD cursor{console_column(display, cursor_row, display.cursor_column()),
                       static_cast<SHORT>(origin_.Y + cursor_row)};
    SetConsoleCursorPosition(output_, cursor);
}

// A scroll of the whole window goes into the console's history, as the console's own output does:
// the window moves down the buffer while there is room, the buffer's rows move up once it is at
// the bottom. A region scrolls alone, inside the window.
inline void Painter::scroll(const vt::Scroll& scroll, const vt::Display& display) {
    if (scroll.top == 0 && scroll.bottom == display.height() - 1 && scroll.lines > 0) {
        scroll_screen_up(scroll.lines, display);
        return;
    }
    const SHORT left = origin_.X, right = static_cast<SHORT>(origin_.X + display.width() - 1);
    const SMALL_RECT region{left, static_cast<SHORT>(origin_.Y + scroll.top), right,
                            static_cast<SHORT>(origin_.Y + scroll.bottom)};
    const COORD to{left, static_cast<SHORT>(region.Top - scroll.lines)};
    CHAR_INFO fill{};
    fill.Char.UnicodeChar = L' ';
    CONSOLE_SCREEN_BUFFER_INFO info{};
    fill.Attributes = GetConsoleScreenBufferInfo(output_, &info) ? info.wAttributes : WORD{7};
    ScrollConsoleScreenBuffer(output_, &region, &region, to, &fill);
}

inline void Painter::scroll_screen_up(int lines, const vt::Display& display) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (!GetConsoleScreenBufferInfo(output_, &info))
        return;
    const int bottom = origin_.Y + display.height() - 1;
    const int room = std::max(0, info.dwSize.Y - 1 - bottom);
    const int move = std::min(lines, room);
    SMALL_RECT window = info.srWindow;
    window.Top = static_cast<SHORT>(window.Top + move);
    window.Bottom = static_cast<SHORT>(window.Bottom + move);
    if (move > 0 && SetConsoleWindowInfo(output_, TRUE, &window)) {
        origin_.Y = static_cast<SHORT>(origin_.Y + move);
        lines -= move;
    }
    if (lines <= 0)
        return;
    const SMALL_RECT history{0, static_cast<SHORT>(lines), static_cast<SHORT>(info.dwSize.X - 1), static_cast<SHORT>(bottom)};
    CHAR_INFO fill{};
    fill.Char.UnicodeChar = L' ';
    fill.Attributes = info.wAttributes;
    ScrollConsoleScreenBuffer(output_, &history, nullptr, COORD{0, 0}, &fill);
}

// A row written whole, without moving the console's cursor or scrolling it.
inline void Painter::write_row(const vt::Display& display, int row) {
    std::string utf8;
    const char32_t* cells = display.row(row);
    for (int column = 0; column < display.width(); ++column)
        if (cells[column] != vt::kWideTail)
            utf8::append(utf8, cells[column]);
    std::wstring text = wide_from_utf8(utf8.data(), static_cast<int>(utf8.size()));
    // Never more than the row holds (a character past U+FFFF that the table calls narrow is two
    // units); in one cell per unit, every cell of the row written.
    if (text.size() > static_cast<std::size_t>(display.width()) || unit_cells_)
        text.resize(static_cast<std::size_t>(display.width()), L' ');
    DWORD written = 0;
    WriteConsoleOutputCharacterW(output_, text.data(), static_cast<DWORD>(text.size()),
                                 COORD{origin_.X, static_cast<SHORT>(origin_.Y + row)}, &written);
}

// The console's column for the display's: the same, unless the console gives each UTF-16 unit a
// cell, when it is the units written before it.
inline SHORT Painter::console_column(const vt::Display& display, int row, int column) const {
    if (!unit_cells_)
        return static_cast<SHORT>(origin_.X + column);
    int units = 0;
    const char32_t* cells = display.row(row);
    for (int c = 0; c < column; ++c)
        units += cells[c] == vt::kWideTail ? 0 : cells[c] > 0xFFFF ? 2 : 1;
    return static_cast<SHORT>(origin_.X + units);
}

inline void Painter::leave(vt::Display& display) {
    paint(display);
    const int row = display.cursor_row();
    const std::string text = display.row_text(row);
    if (display.cursor_column() == 0 && text.find_first_not_of(' ') == std::string::npos)
        return;  // already on an empty row's start
    display.apply(vt::Op{vt::Op::Kind::CarriageReturn, 0, 0, 0});
    if (row + 1 < display.height())
        display.apply(vt::Op{vt::Op::Kind::MoveTo, 0, row + 2, 1});
    else
        display.apply(vt::Op{vt::Op::Kind::LineFeed, 0, 0, 0});
    paint(display);
}

// ---- The console in character mode -----------------------------------------------------------------

// The console's modes, taken for character mode and given back as they were.
class ConsoleModes {
public:
    // Keys as they are typed: no line input, no echo, no processed Ctrl+C (it comes as a key), the
    // window's size changes reported. Quick edit (selecting with the mouse) stays as it was.
    bool take(HANDLE input, HANDLE output) {
        if (!GetConsoleMode(input, &input_mode_) || !GetConsoleMode(output, &output_mode_))
            return false;
        input_ = input;
        output_ = output;
        const DWORD raw = ENABLE_WINDOW_INPUT | ENABLE_EXTENDED_FLAGS | (input_mode_ & ENABLE_QUICK_EDIT_MODE);
        taken_ = SetConsoleMode(input, raw) != 0;
        return taken_;
    }
    void give_back() {
        if (!taken_)
            return;
        SetConsoleMode(input_, input_mode_);
        SetConsoleMode(output_, output_mode_);
        taken_ = false;
    }
    ~ConsoleModes() { give_back(); }

private:
    HANDLE input_ = nullptr, output_ = nullptr;
    DWORD input_mode_ = 0, output_mode_ = 0;
    bool taken_ = false;
};

// The window's size and where it is in the buffer (GetConsoleScreenBufferInfo's window, not the
// buffer: a console's buffer is often thousands of rows).
struct Window {
    COORD origin{};
    int width = 0, height = 0;
};

inline bool window_of(HANDLE output, Window& window, COORD* cursor = nullptr) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (!GetConsoleScreenBufferInfo(output, &info))
        return false;
    window.origin = COORD{info.srWindow.Left, info.srWindow.Top};
    window.width = info.srWindow.Right - info.srWindow.Left + 1;
    window.height = info.srWindow.Bottom - info.srWindow.Top + 1;
    if (cursor)
        *cursor = info.dwCursorPosition;
    return window.width > 0 && window.height > 0;
}

// What the key reader needs; it lives until the reader is joined.
struct KeyReader {
    HANDLE port = nullptr;
    HANDLE input = nullptr;
    HANDLE stop = nullptr;  // set: the reader ends
};

// Reads console input records until told to stop, and posts what the keys send. It reads only when
// input is there (the wait), so it is never stuck in a read when the loop wants it gone.
inline DWORD WINAPI read_keys(void* parameter) {
    const KeyReader& reader = *static_cast<const KeyReader*>(parameter);
    keys::Keyboard keyboard;
    const HANDLE waits[2] = {reader.stop, reader.input};
    while (WaitForMultipleObjects(2, waits, FALSE, INFINITE) == WAIT_OBJECT_0 + 1) {
        INPUT_RECORD records[64];
        DWORD got = 0;
        if (!ReadConsoleInputW(reader.input, records, static_cast<DWORD>(std::size(records)), &got))
            break;
        std::string bytes;
        bool go_on = true, resized = false;
        for (DWORD i = 0; i < got && go_on; ++i) {
            if (records[i].EventType == WINDOW_BUFFER_SIZE_EVENT)
                resized = true;
            if (records[i].EventType != KEY_EVENT)
                continue;  // mouse, focus and menu events
            const KEY_EVENT_RECORD& key = records[i].Event.KeyEvent;
            go_on = keyboard.key(keys::KeyEvent{key.bKeyDown != 0, key.wRepeatCount, key.wVirtualKeyCode,
                                                static_cast<char16_t>(key.uChar.UnicodeChar), key.dwControlKeyState},
                                 bytes);
        }
        if (!bytes.empty())
            post_typed(reader.port, Typed::Kind::Keys, std::move(bytes));
        if (resized)
            post_typed(reader.port, Typed::Kind::Resized);
        if (!go_on) {
            post_typed(reader.port, Typed::Kind::Stop);
            break;
        }
    }
    return 0;
}

// client.exe's terminal on this console: the display painted, the keys read, the size watched.
class ConsoleTerminal {
public:
    ConsoleTerminal() = default;
    ConsoleTerminal(const ConsoleTerminal&) = delete;
    ConsoleTerminal& operator=(const ConsoleTerminal&) = delete;
    ~ConsoleTerminal() { stop(); }

    // Character mode from now on; what to send first goes to `out`. False when the console cannot
    // be taken (the modes are then as they were).
    bool start(HANDLE port, std::string& out);
    // Bytes from the server; the negotiation's answers go to `out`.
    void receive(const char* data, std::size_t size, std::string& out) { terminal_->receive(data, size, out); }
    // The window measured again; a new size is given to the display and to the server (a NAWS in `out`).
    void check_size(std::string& out);
    void paint() {
        if (painter_)
            painter_->paint(terminal_->display());
    }
    // The key reader joined, the display painted with the cursor on a fresh row, the modes given back.
    void stop();

private:
    HANDLE input_ = GetStdHandle(STD_INPUT_HANDLE);
    HANDLE output_ = GetStdHandle(STD_OUTPUT_HANDLE);
    ConsoleModes modes_;
    std::unique_ptr<vt::Terminal> terminal_;
    std::unique_ptr<Painter> painter_;
    KeyReader reader_;
    HANDLE reader_thread_ = nullptr;
};

inline bool ConsoleTerminal::start(HANDLE port, std::string& out) {
    Window window;
    COORD cursor{};
    if (!window_of(output_, window, &cursor) || !modes_.take(input_, output_))
        return false;
    const int row = std::clamp(cursor.Y - window.origin.Y, 0, window.height - 1);
    const int column = std::clamp(cursor.X - window.origin.X, 0, window.width - 1);
    terminal_ = std::make_unique<vt::Terminal>(window.width, window.height, row, column);
    painter_ = std::make_unique<Painter>(output_, window.origin);
    reader_ = KeyReader{port, input_, CreateEventW(nullptr, TRUE, FALSE, nullptr)};
    reader_thread_ = reader_.stop ? CreateThread(nullptr, 0, read_keys, &reader_, 0, nullptr) : nullptr;
    if (!reader_thread_) {
        log_error("CreateThread", GetLastError());
        stop();
        return false;
    }
    terminal_->start(out);
    return true;
}

inline void ConsoleTerminal::check_size(std::string& out) {
    Window window;
    if (!terminal_ || !window_of(output_, window))
        return;
    const vt::Display& display = terminal_->display();
    if (std::clamp(window.width, 1, vt::kMaxSide) == display.width() &&
        std::clamp(window.height, 1, vt::kMaxSide) == display.height())
        return;
    painter_->set_origin(window.origin);
    terminal_->resize(window.width, window.height, out);
}

inline void ConsoleTerminal::stop() {
    if (reader_thread_) {
        SetEvent(reader_.stop);
        WaitForSingleObject(reader_thread_, 2000);
        CloseHandle(reader_thread_);
        reader_thread_ = nullptr;
    }
    if (reader_.stop) {
        CloseHandle(reader_.stop);
        reader_.stop = nullptr;
    }
    if (painter_)
        painter_->leave(terminal_->display());
    painter_.reset();
    modes_.give_back();
}

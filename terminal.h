// terminal.h - what a connection's bytes mean before they are lines: telnet, terminals, encodings.
//
// One `Terminal` per connection turns the bytes a client sends into finished lines (PRODUCT.md,
// "Wire protocol", client to server), and hands back the bytes the client must be sent beside
// the chat: answers to its telnet negotiation, the echo of what it types, the redraw of its
// half-typed line. A client that sends whole lines and never a telnet command (netcat, scripts,
// client.exe) is never sent a byte of that kind. A client that shows it is a terminal (any
// telnet command, or a receive of a few bytes with no line end: one keystroke) is offered
// WILL ECHO, WILL SGA and DO NAWS (RFC 1143's Q method); once it agrees to ECHO the server echoes
// and edits the line itself, and lines arriving while it has typed part of one are written above
// it (hide_input before them, show_input once the turn's output is queued).
//
// In the board view (/play, play.h) the screen is the server's: the arrow keys and Esc Esc reach the
// sink as keys instead of being consumed, and the typed line is kept to one row, the bottom one,
// scrolled sideways when it is longer, so the cursor is always where the board view can put it back.
//
// This is the line discipline: the telnet protocol under it (commands, negotiation, the window
// size) is telnet.h's, which reports to it what the bytes were.
//
// Includes no Windows header: the CP949 conversion comes in through `Codec` (the server's uses the
// Win32 code page 949), so every rule here is unit-tested and fuzzed natively.
#pragma once

#include "protocol.h"
#include "telnet.h"
#include "utf8.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace term {

using proto::Encoding;

// Converts between the Korean Windows console's code page and UTF-8. Unconvertible text becomes
// '?' (both ways); an empty result means the conversion is not available.
class Codec {
public:
    virtual std::string cp949_to_utf8(std::string_view cp949) const = 0;
    virtual std::string utf8_to_cp949(std::string_view utf8) const = 0;

protected:
    ~Codec() = default;
};

constexpr std::size_t kKeystrokeBytes = 4;  // a receive this small, with no line end, is typing
constexpr int kDefaultWidth = 80, kDefaultHeight = 24;
constexpr std::size_t kMaxEscapeBytes = 32;  // an ESC [ ... longer than this is not a key

// How the client's screen is used: lines scrolling up the whole window, or the board view.
enum class View : std::uint8_t { Lines, Board };
// The keys the board view takes; Leave is Esc pressed twice. The arrows index proto::kSteps.
enum class Key : std::uint8_t { Up, Down, Left, Right, Leave };

// ---- CP949 --------------------------------------------------------------------------------------

// A valid CP949 pair: lead 0x81-0xFE, trail 0x41-0x5A, 0x61-0x7A or 0x81-0xFE.
inline bool is_cp949_lead(unsigned char b) { return b >= 0x81 && b <= 0xFE; }
inline bool is_cp949_trail(unsigned char b) {
    return (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x81 && b <= 0xFE);
}

// True when `text` is made of ASCII and valid CP949 pairs only.
inline bool is_valid_cp949(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80)
            continue;
        if (!is_cp949_lead(b) || i + 1 >= text.size() || !is_cp949_trail(static_cast<unsigned char>(text[i + 1])))
            return false;
        ++i;
    }
    return true;
}

// The encoding a client's bytes show: CP949 when they are not valid UTF-8 but are valid CP949.
inline Encoding detect_encoding(std::string_view bytes, Encoding current) {
    return current == Encoding::Utf8 && !utf8::is_valid(bytes) && is_valid_cp949(bytes) ? Encoding::Cp949 : current;
}

// ---- The terminal -------------------------------------------------------------------------------

// Fed arbitrary chunks (one byte at a time or many lines at once); produces finished lines, and
// the bytes for the client. Its state is bounded whatever it is fed.
//
//   sink.on_line(std::string_view line) -> bool   a trimmed, non-empty line, UTF-8; false stops
//   sink.on_line_too_long()             -> bool   once per line that passed kMaxLineBytes
//   sink.reply(std::string_view bytes)  -> void   for this client, now, before anything else
//   sink.on_key(Key key)                -> bool   in the board view only; false stops
//
// The view passed to on_line is valid only during the call.
class Terminal {
public:
    explicit Terminal(const Codec* codec = nullptr) : codec_(codec) {}

    // One receive. Returns false when the sink asked to stop: consumed() says how much of the
    // chunk was taken, and the rest is for resume(). `waiting`: bytes that arrived with these and
    // are still in the OS, when the receive was cut short (the server's --recv-chunk).
    template <typename Sink>
    bool feed(const char* data, std::size_t size, Sink& sink, std::size_t waiting = 0) {
        guess_typing(data, size, waiting);
        return take(data, size, sink);
    }
    // The rest of a receive whose feeding was stopped: no new receive, so no keystroke.
    template <typename Sink>
    bool resume(const char* data, std::size_t size, Sink& sink) {
        return take(data, size, sink);
    }
    std::size_t consumed() const { return consumed_; }

    Encoding encoding() const { return encoding_; }
    void set_encoding(Encoding encoding) { encoding_ = encoding; }
    bool is_terminal() const { return terminal_; }
    bool echoing() const { return telnet_.ours(telnet::option::ECHO); }
    int width() const { return width_; }
    int height() const { return height_; }
    // True once after the client's window size changed (a NAWS with other numbers).
    bool take_resized() {
        const bool resized = resized_;
        resized_ = false;
        return resized;
    }
    std::size_t pending_bytes() const { return line_.size(); }

    // The screen was cleared and drawn for `view`: a half-typed line is off it until show_input.
    void set_view(View view) {
        view_ = view;
        if (echoing() && !line_.empty())
            hidden_ = true;
    }
    View view() const { return view_; }
    // The board view: the column (from 1) of the cursor on the bottom row, after the typed line.
    int input_column() const {
        const std::size_t begin = input_row_begin();
        return hidden_ ? 1 : 1 + (begin > 0 ? 1 : 0) + utf8::columns_of(std::string_view(line_).substr(begin));
    }

    // Before a line is written to this client: the bytes that take its half-typed line off the
    // screen (empty when nothing is shown). Call show_input once the turn's lines are queued.
    std::string hide_input();
    bool input_hidden() const { return hidden_; }
    // The half-typed line drawn again, after the lines that came in (empty when none was hidden).
    std::string show_input();

    // The text as this client's encoding shows it (0xFF not yet doubled: that is the wire's).
    std::string to_client(std::string_view utf8) const;

private:
    enum class Escape : std::uint8_t { None, Esc, Csi, Ss3 };

    void guess_typing(const char* data, std::size_t size, std::size_t waiting);
    template <typename Sink>
    bool take(const char* data, std::size_t size, Sink& sink);
    // What the telnet protocol reports, for this terminal and its sink.
    template <typename Sink>
    struct Events {
        Terminal& terminal;
        Sink& sink;
        bool on_data(unsigned char byte) { return terminal.data_byte(byte, sink); }
        bool on_command(unsigned char command) { return terminal.command(command, sink); }
        void on_option(unsigned char opt, bool ours, bool on) { terminal.on_option(opt, ours, on); }
        void on_subnegotiation(unsigned char opt, std::string_view data) { terminal.subnegotiation(opt, data); }
    };
    template <typename Sink>
    bool command(unsigned char command, Sink& sink);
    void on_option(unsigned char opt, bool ours, bool on);
    void subnegotiation(unsigned char opt, std::string_view data);
    template <typename Sink>
    bool data_byte(unsigned char byte, Sink& sink);
    enum class EscapeByte : std::uint8_t { NotOne, Taken, KeyEnds };
    EscapeByte escape_byte(unsigned char byte, Key& key);
    template <typename Sink>
    bool take_key(Key key, Sink& sink);
    template <typename Sink>
    bool text_byte(unsigned char byte, Sink& sink);
    template <typename Sink>
    bool not_utf8(Sink& sink);
    template <typename Sink>
    bool append(std::string_view utf8, std::string_view as_typed, Sink& sink);
    template <typename Sink>
    bool end_line(Sink& sink);
    template <typename Sink>
    bool flush_undecoded(Sink& sink);
    template <typename Sink>
    bool overflow(Sink& sink);
    template <typename Sink>
    void reply(Sink& sink) {
        if (!out_.empty()) {
            sink.reply(out_);
            out_.clear();
        }
    }
    void become_terminal() {
        if (!terminal_) {
            terminal_ = true;
            telnet_.offer(out_);
        }
    }
    void erase_character();
    void erase_word();
    void erase_line();
    std::string erase_input_rows(int columns) const;
    void echo(std::string_view as_typed) {
        if (!echoing() || hidden_)
            return;
        if (view_ == View::Board && input_row_begin() > 0)
            out_ += erase_input_rows(0) + input_as_shown();  // scrolled sideways: the row again
        else
            telnet::append_text(out_, as_typed);
    }
    std::size_t input_row_begin() const;
    std::string input_as_shown() const {
        std::string shown;
        const std::size_t begin = view_ == View::Board ? input_row_begin() : 0;
        if (begin > 0)
            shown += '<';
        telnet::append_text(shown, to_client(std::string_view(line_).substr(begin)));
        return shown;
    }

    const Codec* codec_;
    telnet::Protocol telnet_{telnet::kServerPolicy};
    Encoding encoding_ = Encoding::Utf8;
    bool terminal_ = false;
    bool hidden_ = false;      // the half-typed line is off the screen until show_input
    View view_ = View::Lines;
    int width_ = kDefaultWidth, height_ = kDefaultHeight;
    bool resized_ = false;
    std::string line_;         // the line so far, UTF-8, at most kMaxLineBytes
    std::string out_;          // bytes for the client, handed to the sink before each line
    bool overflowed_ = false;  // this line passed the limit: discard up to its end
    bool after_cr_ = false;    // a CR ended the last line: a following LF or NUL belongs to it
    Escape escape_ = Escape::None;
    std::size_t escape_bytes_ = 0;
    char undecoded_[4] = {};   // the bytes of a character not complete yet, as typed
    std::size_t undecoded_bytes_ = 0;
    std::size_t consumed_ = 0;  // of the last chunk fed
    std::size_t arrival_left_ = 0;  // bytes of the last arrival still in the OS (see guess_typing)
    bool typing_ = false;           // the arrival being received looks like a keystroke so far
};

// A few bytes and no line end, at the start of a line: someone typing, one key at a time. The guess
// is made on an arrival, what the peer sent at once: one receive, or, when the server cuts its
// receives short, the receives up to the one after which nothing of it is waiting.
inline void Terminal::guess_typing(const char* data, std::size_t size, std::size_t waiting) {
    if (arrival_left_ == 0)  // a new arrival
        typing_ = !terminal_ && size > 0 && size + waiting <= kKeystrokeBytes && line_.empty() && undecoded_bytes_ == 0 &&
                  !telnet_.in_command();
    arrival_left_ = waiting;
    for (std::size_t i = 0; i < size && typing_; ++i)
        typing_ = data[i] != '\r' && data[i] != '\n';
    if (typing_ && waiting == 0) {
        typing_ = false;
        become_terminal();
    }
}

template <typename Sink>
bool Terminal::take(const char* data, std::size_t size, Sink& sink) {
    Events<Sink> events{*this, sink};
    for (std::size_t i = 0; i < size; ++i) {
        consumed_ = i + 1;
        if (!telnet_.receive(static_cast<unsigned char>(data[i]), events, out_))
            return false;
    }
    consumed_ = size;
    reply(sink);
    return true;
}

// Any telnet command shows a telnet client: it is offered the terminal's options. IAC EC and
// IAC EL edit the line as BS and Ctrl+U do; every other command (NOP, GA, AYT, ...) is dropped.
template <typename Sink>
bool Terminal::command(unsigned char command, Sink& sink) {
    become_terminal();
    if (command != telnet::EC && command != telnet::EL)
        return true;
    if (!flush_undecoded(sink))
        return false;
    command == telnet::EC ? erase_character() : erase_line();
    return true;
}

inline void Terminal::on_option(unsigned char opt, bool ours, bool on) {
    if (opt == telnet::option::ECHO && ours && on && !hidden_)
        out_ += input_as_shown();  // what was typed before the agreement: a user sees "hello", not "ello"
}

inline void Terminal::subnegotiation(unsigned char opt, std::string_view data) {
    if (opt != telnet::option::NAWS || data.size() != 4)
        return;
    const auto byte = [&data](std::size_t i) { return static_cast<int>(static_cast<unsigned char>(data[i])); };
    const int width = byte(0) << 8 | byte(1), height = byte(2) << 8 | byte(3);
    const int new_width = width > 0 ? width : kDefaultWidth;  // 0 means "unknown" (RFC 1073)
    const int new_height = height > 0 ? height : kDefaultHeight;
    resized_ = resized_ || new_width != width_ || new_height != height_;
    width_ = new_width;
    height_ = new_height;
}

template <typename Sink>
bool Terminal::data_byte(unsigned char byte, Sink& sink) {
    if (byte == telnet::IAC) {  // IAC IAC: a literal 0xFF, text whatever came before it
        after_cr_ = false;
        return text_byte(byte, sink);
    }
    if ((byte == '\n' || byte == '\0') && after_cr_) {  // CR LF and CR NUL end one line
        after_cr_ = false;
        return true;
    }
    after_cr_ = false;
    if (byte == '\n' || byte == '\r') {
        after_cr_ = byte == '\r';
        escape_ = Escape::None;
        return end_line(sink);
    }
    if (escape_ != Escape::None) {
        Key key{};
        const EscapeByte part = escape_byte(byte, key);
        if (part == EscapeByte::KeyEnds)
            return take_key(key, sink);
        if (part == EscapeByte::Taken)
            return true;
    }
    if (byte == 0x1B) {
        escape_ = Escape::Esc;
        return true;
    }
    const bool edit = byte == '\b' || byte == 0x7F || ((byte == 0x15 || byte == 0x17) && echoing());
    if (edit && !flush_undecoded(sink))  // a character begun is a character to erase
        return false;
    if (byte == '\b' || byte == 0x7F) {
        erase_character();
    } else if (byte == 0x15 && echoing()) {  // Ctrl+U: the server edits the line once it echoes
        erase_line();
    } else if (byte == 0x17 && echoing()) {  // Ctrl+W
        erase_word();
    } else if (byte == '\t' || byte >= 0x20) {
        return text_byte(byte == '\t' ? static_cast<unsigned char>(' ') : byte, sink);
    }
    return true;  // every other control byte is dropped: nobody can move another's cursor
}

// Arrow and function keys, ESC [ ... final byte and ESC O x, are consumed whole; in the board view
// the arrows (ESC [ A..D, parameters allowed, and ESC O A..D) and a second ESC after a lone one end
// a key. A lone ESC is dropped and the byte after it is text.
inline Terminal::EscapeByte Terminal::escape_byte(unsigned char byte, Key& key) {
    const bool keys = view_ == View::Board;
    const auto arrow = [&](unsigned char final_byte) {
        if (!keys || final_byte < 'A' || final_byte > 'D')
            return EscapeByte::Taken;
        constexpr Key kArrows[] = {Key::Up, Key::Down, Key::Right, Key::Left};  // A B C D
        key = kArrows[final_byte - 'A'];
        return EscapeByte::KeyEnds;
    };
    switch (escape_) {
    case Escape::None: return EscapeByte::NotOne;
    case Escape::Esc:
        if (keys && byte == 0x1B) {
            escape_ = Escape::None;
            key = Key::Leave;
            return EscapeByte::KeyEnds;
        }
        escape_ = byte == '[' ? Escape::Csi : byte == 'O' ? Escape::Ss3 : Escape::None;
        escape_bytes_ = 0;
        return escape_ != Escape::None ? EscapeByte::Taken : EscapeByte::NotOne;
    case Escape::Ss3:
        escape_ = Escape::None;
        return byte >= 0x20 && byte < 0x7F ? arrow(byte) : EscapeByte::NotOne;
    case Escape::Csi:
        if (byte >= 0x40 && byte <= 0x7E) {  // the final byte
            escape_ = Escape::None;
            return arrow(byte);
        }
        if (byte >= 0x20 && byte <= 0x3F && ++escape_bytes_ <= kMaxEscapeBytes)
            return EscapeByte::Taken;  // parameters and intermediates
        escape_ = Escape::None;  // no key: the byte is read as what it is
        return EscapeByte::NotOne;
    }
    return EscapeByte::NotOne;
}

// What was typed before the key is echoed first; a character begun is one no more.
template <typename Sink>
bool Terminal::take_key(Key key, Sink& sink) {
    if (!flush_undecoded(sink))
        return false;
    reply(sink);
    return sink.on_key(key);
}

// One byte of text, decoded in the connection's encoding. In UTF-8, a sequence that is not
// valid UTF-8 but starts with a valid CP949 pair switches the connection to CP949 (the Korean
// Windows console); other bytes that are no UTF-8 pass through unchanged.
template <typename Sink>
bool Terminal::text_byte(unsigned char byte, Sink& sink) {
    if (overflowed_)
        return true;
    undecoded_[undecoded_bytes_++] = static_cast<char>(byte);
    // In UTF-8 a byte is a byte of the line whatever it turns out to be: the one that passes the
    // limit reports it at once, not when its character completes.
    if (encoding_ == Encoding::Utf8 && line_.size() + undecoded_bytes_ > proto::kMaxLineBytes)
        return overflow(sink);
    const std::string_view typed(undecoded_, undecoded_bytes_);
    const auto first = static_cast<unsigned char>(typed[0]);
    if (first < 0x80) {
        undecoded_bytes_ = 0;
        return append(typed, typed, sink);
    }
    if (typed.size() == 1)
        return true;  // a character begins (or, if no valid one, the byte after tells what it is)
    if (encoding_ == Encoding::Cp949) {
        undecoded_bytes_ = 0;
        if (is_cp949_lead(first) && is_cp949_trail(byte)) {
            const std::string utf8 = codec_ ? codec_->cp949_to_utf8(typed) : std::string();
            return append(utf8.empty() ? std::string_view("?") : std::string_view(utf8), typed, sink);
        }
        return append("?", typed.substr(0, 1), sink) && text_byte(byte, sink);  // read again on its own
    }
    const auto length = static_cast<std::size_t>(utf8::sequence_length(first));
    if (length > 1 && (byte & 0xC0) == 0x80 && typed.size() < length)
        return true;
    if (length > 1 && typed.size() == length && utf8::is_valid(typed)) {
        undecoded_bytes_ = 0;
        return append(typed, typed, sink);
    }
    return not_utf8(sink);
}

// The bytes held are no UTF-8 character. If they start with a CP949 pair, the client is taken
// for a Korean Windows console from now on; otherwise the first byte goes on unchanged and the
// rest are read again.
template <typename Sink>
bool Terminal::not_utf8(Sink& sink) {
    const std::string held(undecoded_, undecoded_bytes_);
    undecoded_bytes_ = 0;
    std::size_t again = 1;
    if (codec_ && is_cp949_lead(static_cast<unsigned char>(held[0])) &&
        is_cp949_trail(static_cast<unsigned char>(held[1]))) {
        encoding_ = Encoding::Cp949;
        again = 0;
    } else if (!append(std::string_view(held).substr(0, 1), std::string_view(held).substr(0, 1), sink)) {
        return false;
    }
    for (std::size_t k = again; k < held.size(); ++k)
        if (!text_byte(static_cast<unsigned char>(held[k]), sink))
            return false;
    return true;
}

// The line passed the limit: its one error now, and the input off the screen.
template <typename Sink>
bool Terminal::overflow(Sink& sink) {
    if (echoing() && !hidden_)
        out_ += erase_input_rows(utf8::columns_of(line_));
    overflowed_ = true;
    line_.clear();
    undecoded_bytes_ = 0;
    reply(sink);
    return sink.on_line_too_long();
}

// A character that did not complete before something else came goes on as the bytes it was.
template <typename Sink>
bool Terminal::flush_undecoded(Sink& sink) {
    if (undecoded_bytes_ == 0)
        return true;
    const std::string bytes(undecoded_, undecoded_bytes_);
    undecoded_bytes_ = 0;
    if (encoding_ == Encoding::Cp949)
        return append("?", bytes, sink);
    return append(bytes, bytes, sink);
}

// The character joins the line and is echoed as typed. The one that would pass the limit reports
// the line's one error; the rest of the line is discarded.
template <typename Sink>
bool Terminal::append(std::string_view utf8, std::string_view as_typed, Sink& sink) {
    if (overflowed_)
        return true;
    if (line_.size() + utf8.size() > proto::kMaxLineBytes)
        return overflow(sink);
    line_.append(utf8.data(), utf8.size());
    echo(as_typed);
    return true;
}

template <typename Sink>
bool Terminal::end_line(Sink& sink) {
    if (!flush_undecoded(sink))
        return false;
    if (echoing() && !hidden_ && !overflowed_)
        out_ += view_ == View::Board ? erase_input_rows(0) : "\r\n";  // the board view shows it in the chat
    const bool overflowed = overflowed_;
    overflowed_ = false;
    std::string line;
    line.swap(line_);
    reply(sink);
    if (overflowed)
        return true;  // its one error was reported when it overflowed
    std::size_t begin = 0, end = line.size();
    while (begin < end && line[begin] == ' ')
        ++begin;
    while (end > begin && line[end - 1] == ' ')
        --end;
    if (begin == end)
        return true;  // empty lines are ignored
    return sink.on_line(std::string_view(line).substr(begin, end - begin));
}

// BS, DEL, IAC EC: the last character goes, on the screen too. When it is not wholly on the
// cursor's row (a wrapped line), the input is drawn again instead.
inline void Terminal::erase_character() {
    if (overflowed_ || line_.empty())
        return;
    const int before = utf8::columns_of(line_);
    line_.resize(utf8::last_character_start(line_));
    if (!echoing() || hidden_)
        return;
    const int after = utf8::columns_of(line_);
    const int width = before - after;
    // BS SP BS that leaves exactly full rows would leave the cursor at the start of the row below
    // them, where every redraw takes it to be at the end of the last full one: drawn again instead.
    const bool on_cursor_row = view_ == View::Board ? before <= width_ - 1
                                                    : before % width_ != 0 &&
                                                          (after > before / width_ * width_ || before < width_);
    if (on_cursor_row) {
        out_.append(static_cast<std::size_t>(width), '\b');
        out_.append(static_cast<std::size_t>(width), ' ');
        out_.append(static_cast<std::size_t>(width), '\b');
        return;
    }
    out_ += erase_input_rows(before);
    out_ += input_as_shown();
}

// Ctrl+W: back over spaces, then over the word before them.
inline void Terminal::erase_word() {
    if (overflowed_ || line_.empty())
        return;
    const int before = utf8::columns_of(line_);
    std::size_t end = line_.size();
    while (end > 0 && line_[end - 1] == ' ')
        --end;
    while (end > 0 && line_[end - 1] != ' ')
        --end;
    line_.resize(end);
    if (echoing() && !hidden_) {
        out_ += erase_input_rows(before);
        out_ += input_as_shown();
    }
}

// Ctrl+U, IAC EL: the whole line goes.
inline void Terminal::erase_line() {
    if (overflowed_)
        return;
    if (echoing() && !hidden_ && !line_.empty())
        out_ += erase_input_rows(utf8::columns_of(line_));
    line_.clear();
}

// From the end of an input of `columns` columns (the cursor there) to its first row, erased. A
// cursor after exactly a row's worth is still on that row (the wrap waits for the next character).
// The board view's input is one row, and the rows under it are the board view's: only the row goes.
inline std::string Terminal::erase_input_rows(int columns) const {
    if (view_ == View::Board)
        return "\r\x1b[K";
    std::string bytes;
    const int rows_up = columns == 0 ? 0 : (columns - 1) / width_;
    if (rows_up > 0) {
        char up[16];
        std::snprintf(up, sizeof up, "\x1b[%dA", rows_up);
        bytes += up;
    }
    bytes += "\r\x1b[J";
    return bytes;
}

// Where the board view's one row of typed line begins: at the start when it all fits in a row less
// a column (the cursor never waits at the margin to wrap); otherwise "<" and as much of its end as
// fits after it.
inline std::size_t Terminal::input_row_begin() const {
    const int fits = width_ - 1;
    if (utf8::columns_of(line_) <= fits)
        return 0;
    std::size_t begin = line_.size();
    int columns = 0;
    while (begin > 0) {
        const std::size_t start = utf8::last_character_start(std::string_view(line_).substr(0, begin));
        const int more = utf8::columns_of(std::string_view(line_).substr(start, begin - start));
        if (columns + more > fits - 1)
            break;
        columns += more;
        begin = start;
    }
    return begin;
}

inline std::string Terminal::hide_input() {
    if (!echoing() || hidden_ || line_.empty())
        return {};
    hidden_ = true;
    return erase_input_rows(utf8::columns_of(line_));
}

inline std::string Terminal::show_input() {
    if (!hidden_)
        return {};
    hidden_ = false;
    return input_as_shown();
}

inline std::string Terminal::to_client(std::string_view utf8) const {
    if (encoding_ == Encoding::Utf8 || utf8.empty())
        return std::string(utf8);
    std::string converted = codec_ ? codec_->utf8_to_cp949(utf8) : std::string();
    return converted.empty() ? std::string(utf8.size(), '?') : converted;
}

}  // namespace term

// protocol.h - the chat-and-board wire protocol, shared by server.cpp and client.cpp: its limits,
// the command table and parser, and the server's lines on the wire. How a client's bytes become
// lines (telnet, terminals, encodings) is terminal.h.
//
// Includes no Windows header on purpose: it is plain C++17, unit-tested and fuzzed natively on
// Linux. Every limit of the protocol is a named constant here.
#pragma once

#include "telnet.h"
#include "util.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace proto {

// ---- Limits and defaults -------------------------------------------------------------------

constexpr int kDefaultPort = 9000;
constexpr int kDefaultMaxClients = 10000;
constexpr int kDefaultAccepts = 64;          // AcceptEx calls kept outstanding
constexpr int kDefaultSendLimit = 256 * 1024;  // unsent bytes per client before "slow consumer"
constexpr int kDefaultLineRate = 20;   // lines a second a client may send, sustained
constexpr int kDefaultLineBurst = 60;  // and at once
constexpr int kDefaultKeepaliveS = 120;  // idle seconds before a silent peer is probed
constexpr int kKeepaliveProbes = 10;     // Windows' count (Linux, so Wine, sends 9)
// Seconds between keepalive probes: a quarter of the idle time, from 1 to 10.
constexpr int keepalive_interval_s(int idle_s) { return idle_s / 4 < 1 ? 1 : idle_s / 4 > 10 ? 10 : idle_s / 4; }

constexpr std::size_t kMaxLineBytes = 512;     // a line, counted as typed and edited
constexpr std::size_t kMaxNickBytes = 16;
constexpr std::size_t kMaxServerLineBytes = 8192;     // what client.exe accepts as one server line
constexpr int kBoardSize = 8;
constexpr int kWhoMaxNames = 50;
constexpr int kCrowdNoticeLimit = 64;  // joined/left notices only while this many or fewer are online

constexpr std::string_view kErrLineTooLong = "ERR line too long (max 512)";
constexpr std::string_view kErrPlayNeedsTerminal = "ERR /play needs a character-mode terminal";
constexpr std::string_view kPlayHint =
    "* it takes keys as they are typed: Windows telnet and PuTTY (Telnet) send them; Linux telnet does after "
    "Ctrl+] and mode character";
constexpr std::string_view kErrInvalidNick = "ERR invalid nick: 1-16 of A-Z a-z 0-9 _ -";
constexpr std::string_view kErrServerFull = "ERR server full";
constexpr std::string_view kErrTooManyFromAddress = "ERR too many connections from your address";
constexpr std::string_view kErrBanned = "ERR banned";
constexpr std::string_view kShutdownNotice = "* server shutting down";
static_assert(says_number(kErrLineTooLong, "(max ", kMaxLineBytes, ")"));
static_assert(says_number(kErrInvalidNick, "1-", kMaxNickBytes, " of"));

// A connection's text: UTF-8, or CP949 (the Korean Windows console). Inside the server all text
// is UTF-8; a CP949 connection's is converted at its edge.
enum class Encoding : std::uint8_t { Utf8, Cp949 };

// ---- Commands ----------------------------------------------------------------------------------

enum class CommandKind : std::uint8_t { Chat, Nick, Who, Move, Board, Play, Ping, Stats, Encoding, Help, Quit, Unknown };

struct Command {
    CommandKind kind;
    std::string_view word;      // the command as typed, "/nick"; empty for chat
    std::string_view argument;  // the rest after the word and its spaces; the whole line for chat
};

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

// The commands, one row each: the parser matches `name` (any case), /help prints `syntax` in a
// column of kHelpSyntaxColumn characters and `help` beside it. The first row is plain text.
struct CommandInfo {
    std::string_view name;
    CommandKind kind;
    std::string_view syntax;
    std::string_view help;
};
constexpr std::size_t kHelpSyntaxColumn = 16;
constexpr CommandInfo kCommands[] = {
    {"", CommandKind::Chat, "text", "say text to everyone"},
    {"/nick", CommandKind::Nick, "/nick NAME", "change your name (1-16 of A-Z a-z 0-9 _ -)"},
    {"/who", CommandKind::Who, "/who", "who is online, and where"},
    {"/move", CommandKind::Move, "/move DIR", "move on the 8x8 board: up, down, left, right (u d l r)"},
    {"/board", CommandKind::Board, "/board", "show the board"},
    {"/play", CommandKind::Play, "/play", "the live board: arrow keys move you; /play or Esc Esc leaves"},
    {"/ping", CommandKind::Ping, "/ping TOKEN", "the server answers PONG TOKEN"},
    {"/stats", CommandKind::Stats, "/stats", "server counters"},
    {"/encoding", CommandKind::Encoding, "/encoding NAME", "utf8, or cp949 (the Korean Windows console)"},
    {"/help", CommandKind::Help, "/help", "this list"},
    {"/quit", CommandKind::Quit, "/quit", "leave"},
};
static_assert(says_number(kCommands[1].help, "(1-", kMaxNickBytes, " of"));
static_assert(says_number(kCommands[3].help, "", kBoardSize, "x") && says_number(kCommands[3].help, "x", kBoardSize, " "));

// Whether a member's command sends words of its own to others: what a mute holds back. Every kind
// is named here, so a new one cannot be added without deciding (the compiler's switch warning).
inline bool speaks(CommandKind kind) {
    switch (kind) {
    case CommandKind::Chat: return true;
    case CommandKind::Nick:
    case CommandKind::Who:
    case CommandKind::Move:
    case CommandKind::Board:
    case CommandKind::Play:
    case CommandKind::Ping:
    case CommandKind::Stats:
    case CommandKind::Encoding:
    case CommandKind::Help:
    case CommandKind::Quit:
    case CommandKind::Unknown: return false;
    }
    return false;
}

// `line` is what the framer produced: trimmed and non-empty.
inline Command parse_command(std::string_view line) {
    if (line.empty() || line[0] != '/')
        return {CommandKind::Chat, {}, line};
    std::size_t word_end = line.find(' ');
    if (word_end == std::string_view::npos)
        word_end = line.size();
    std::size_t argument_begin = word_end;
    while (argument_begin < line.size() && line[argument_begin] == ' ')
        ++argument_begin;
    const std::string_view word = line.substr(0, word_end);
    const std::string_view argument = line.substr(argument_begin);
    for (const CommandInfo& command : kCommands)
        if (!command.name.empty() && equals_ignoring_case(word, command.name))
            return {command.kind, word, argument};
    return {CommandKind::Unknown, word, argument};
}

// `text` without its leading and trailing spaces.
inline std::string_view trim_spaces(std::string_view text) {
    const std::size_t begin = text.find_first_not_of(' ');
    if (begin == std::string_view::npos)
        return {};
    return text.substr(begin, text.find_last_not_of(' ') + 1 - begin);
}

// Splits a stream of text into lines at the line ends a client's lines end with (LF, CR, and CR LF
// or CR NUL as one): the lines client.exe sends, as the server will frame them. Nothing else of
// the framing (no editing, no telnet, no limit): what is sent is whole lines, typed or piped.
//   on_line(std::string_view line) -> void
class LineSplitter {
public:
    template <typename OnLine>
    void feed(std::string_view text, OnLine&& on_line) {
        for (const char c : text) {
            if ((c == '\n' || c == '\0') && after_cr_) {
                after_cr_ = false;
                continue;
            }
            after_cr_ = c == '\r';
            if (c == '\n' || c == '\r') {
                on_line(std::string_view(line_));
                line_.clear();
            } else {
                line_.push_back(c);
            }
        }
    }

private:
    std::string line_;
    bool after_cr_ = false;  // a CR ended the last line: a following LF or NUL belongs to it
};

// 1..kMaxNickBytes of A-Z a-z 0-9 _ -
inline bool is_valid_nick(std::string_view nick) {
    if (nick.empty() || nick.size() > kMaxNickBytes)
        return false;
    for (char c : nick) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

struct Step { int dx, dy; };  // y grows downwards: "up" is y - 1
// The four steps, in the order of the names below and of the board view's arrow keys (term::Key).
constexpr Step kSteps[] = {{0, -1}, {0, 1}, {-1, 0}, {1, 0}};  // up, down, left, right

// "up", "down", "left", "right" or their first letters, any case. False for anything else.
inline bool parse_direction(std::string_view text, Step& step) {
    struct Name { std::string_view longName, shortName; Step step; };
    static constexpr Name kDirections[] = {
        {"up", "u", kSteps[0]}, {"down", "d", kSteps[1]}, {"left", "l", kSteps[2]}, {"right", "r", kSteps[3]},
    };
    for (const Name& d : kDirections) {
        if (equals_ignoring_case(text, d.longName) || equals_ignoring_case(text, d.shortName)) {
            step = d.step;
            return true;
        }
    }
    return false;
}

// ---- Server-to-client lines -------------------------------------------------------------------

// Appends one message as it goes on the wire: 0xFF doubled (telnet's IAC IAC), then CR LF.
inline void append_wire_line(std::string& out, std::string_view line) {
    telnet::append_text(out, line);
    out += "\r\n";
}

// client.exe's side: splits what the server sends into lines (LF, CR LF), IAC IAC back to 0xFF.
// A line longer than kMaxServerLineBytes is delivered in pieces of that size.
//   on_line(std::string_view line) -> void
class ServerLineReader {
public:
    template <typename OnLine>
    void feed(const char* data, std::size_t size, OnLine&& on_line) {
        for (std::size_t i = 0; i < size; ++i) {
            const unsigned char byte = static_cast<unsigned char>(data[i]);
            if (byte == telnet::IAC && !after_iac_) {
                after_iac_ = true;
                continue;
            }
            after_iac_ = false;
            if (byte == '\n') {
                std::size_t end = length_;
                if (end > 0 && line_[end - 1] == '\r')
                    --end;
                length_ = 0;
                on_line(std::string_view(line_, end));
                continue;
            }
            // A full piece goes out before the next byte, unless that byte is a CR that may end the line.
            if (length_ > kMaxServerLineBytes || (length_ == kMaxServerLineBytes && byte != '\r')) {
                on_line(std::string_view(line_, kMaxServerLineBytes));
                length_ -= kMaxServerLineBytes;  // 0, or 1: a CR that did not end the line starts the next
                line_[0] = '\r';
            }
            line_[length_++] = static_cast<char>(byte);
        }
    }

private:
    char line_[kMaxServerLineBytes + 1];  // + 1: a CR after a full piece, until we see if LF follows
    std::size_t length_ = 0;
    bool after_iac_ = false;
};

}  // namespace proto

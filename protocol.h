// protocol.h - the chat-and-board wire protocol, shared by server.cpp and client.cpp: its limits,
// the command table and parser, and the server's lines on the wire. How a client's bytes become
// lines (telnet, terminals, encodings) is terminal.h.
//
// Includes no Windows header on purpose: it is plain C++17, unit-tested and fuzzed natively on
// Linux. Every limit of the protocol is a named constant here.
#pragma once

#include "hangul.h"
#include "telnet.h"
#include "utf8.h"
#include "util.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
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
constexpr std::size_t kMaxNickChars = 16;
constexpr std::size_t kMaxNickBytes = 3 * kMaxNickChars;  // a Hangul syllable is 3 bytes of UTF-8
constexpr std::size_t kMaxServerLineBytes = 8192;     // what client.exe accepts as one server line
constexpr int kBoardSize = 8;
constexpr int kWhoMaxNames = 50;
constexpr int kCrowdNoticeLimit = 64;  // joined/left notices only while this many or fewer are online
constexpr std::size_t kHistoryDefault = 10;  // /history alone
constexpr std::size_t kHistoryMax = 32;      // the public lines the room keeps for /history
constexpr std::size_t kMaxIgnored = 16;      // members one member may ignore at once
constexpr std::uint64_t kIdleAfterMs = 60 * 1000;  // /who says [idle Nm] after a minute without a line said

constexpr std::string_view kErrLineTooLong = "ERR line too long (max 512)";
constexpr std::string_view kErrPlayNeedsTerminal = "ERR /play needs a character-mode terminal";
constexpr std::string_view kPlayHint =
    "* it takes keys as they are typed: client.exe in a console (without --lines), Windows telnet and PuTTY "
    "(Telnet) send them; Linux telnet does after Ctrl+] and mode character";
constexpr std::string_view kErrInvalidNick = "ERR invalid nick: 1-16 of A-Z a-z 0-9 _ - and Hangul syllables";
constexpr std::string_view kErrServerFull = "ERR server full";
constexpr std::string_view kErrTooManyFromAddress = "ERR too many connections from your address";
constexpr std::string_view kErrBanned = "ERR banned";
constexpr std::string_view kShutdownNotice = "* server shutting down";
static_assert(says_number(kErrLineTooLong, "(max ", kMaxLineBytes, ")"));
constexpr std::string_view kErrIgnoreFull = "ERR you ignore 16 already: /unignore one first";
constexpr std::string_view kErrHistoryUsage = "ERR usage: /history [N] (N from 1, at most 32)";
static_assert(says_number(kErrInvalidNick, "1-", kMaxNickChars, " of"));
static_assert(says_number(kErrIgnoreFull, "ignore ", kMaxIgnored, " "));
static_assert(says_number(kErrHistoryUsage, "at most ", kHistoryMax, ")"));
// Not HTTP (PRODUCT.md): what a web client's request gets, as it goes on the wire; then the close.
constexpr std::string_view kHttpRefusal =
    "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n"
    "This is a telnet chat server, not a web server: connect to this host and port with telnet or client.exe.\r\n";

// A connection's text: UTF-8, or CP949 (the Korean Windows console). Inside the server all text
// is UTF-8; a CP949 connection's is converted at its edge.
enum class Encoding : std::uint8_t { Utf8, Cp949 };

// ---- Commands ----------------------------------------------------------------------------------

enum class CommandKind : std::uint8_t {
    Chat, Nick, Msg, Reply, Me, Away, Who, Ignore, Unignore, History, Move, Board, Play, Ping, Stats, Encoding,
    Help, Quit, Unknown
};

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

// One row of a command table (the members' below, the operator's in console_commands.h): the
// parser matches any of `names` (any case: the command, then its short forms), help prints
// `syntax` in a column and `help` beside it (help_row).
template <typename Kind>
struct CommandRow {
    std::string_view names;  // space-separated: "/msg /m /w"
    Kind kind;
    std::string_view syntax;
    std::string_view help;
};

// `syntax` padded to `column` characters (one space at least), then `help`.
template <typename Kind>
std::string help_row(const CommandRow<Kind>& command, std::size_t column) {
    std::string row(command.syntax);
    row.append(command.syntax.size() < column ? column - command.syntax.size() : 1, ' ');
    return row.append(command.help);
}

// The members' commands: /help prints the short forms after the help. The first row is plain text.
using CommandInfo = CommandRow<CommandKind>;
constexpr std::size_t kHelpSyntaxColumn = 16;
constexpr CommandInfo kCommands[] = {
    {"", CommandKind::Chat, "text", "say text to everyone"},
    {"/nick", CommandKind::Nick, "/nick NAME", "change your name (1-16 of A-Z a-z 0-9 _ - and Hangul syllables)"},
    {"/msg /m /w", CommandKind::Msg, "/msg NICK text", "say text to NICK alone"},
    {"/reply /r", CommandKind::Reply, "/reply text", "say text to whoever last sent you a /msg"},
    {"/me", CommandKind::Me, "/me text", "an action, to everyone: ** you text"},
    {"/away", CommandKind::Away, "/away [text]", "away, saying why (a /msg to you tells its sender); alone: back"},
    {"/who", CommandKind::Who, "/who", "who is online, where, and who is away or idle"},
    {"/ignore", CommandKind::Ignore, "/ignore [NICK]", "hear nothing more from NICK (at most 16); alone: the list"},
    {"/unignore", CommandKind::Unignore, "/unignore NICK", "hear NICK again"},
    {"/history", CommandKind::History, "/history [N]", "the last N lines said to everyone (10, at most 32)"},
    {"/move", CommandKind::Move, "/move DIR", "move on the 8x8 board: up, down, left, right (u d l r)"},
    {"/board", CommandKind::Board, "/board", "show the board"},
    {"/play", CommandKind::Play, "/play", "the live board: arrow keys move you; /play or Esc Esc leaves"},
    {"/ping", CommandKind::Ping, "/ping TOKEN", "the server answers PONG TOKEN"},
    {"/stats", CommandKind::Stats, "/stats", "server counters"},
    {"/encoding", CommandKind::Encoding, "/encoding NAME", "utf8, or cp949 (the Korean Windows console)"},
    {"/help", CommandKind::Help, "/help", "this list"},
    {"/quit", CommandKind::Quit, "/quit", "leave"},
};

// The row of `kind` (the chat row for Unknown, which has none).
constexpr const CommandInfo& command_info(CommandKind kind) {
    for (const CommandInfo& command : kCommands)
        if (command.kind == kind)
            return command;
    return kCommands[0];
}
static_assert(says_number(command_info(CommandKind::Nick).help, "(1-", kMaxNickChars, " of"));
static_assert(says_number(command_info(CommandKind::Ignore).help, "(at most ", kMaxIgnored, ")"));
static_assert(says_number(command_info(CommandKind::History).help, "(", kHistoryDefault, ", at most ") &&
              says_number(command_info(CommandKind::History).help, "at most ", kHistoryMax, ")"));
static_assert(says_number(command_info(CommandKind::Move).help, "", kBoardSize, "x") &&
              says_number(command_info(CommandKind::Move).help, "x", kBoardSize, " "));

// Calls visit(name) for each of the command's space-separated names; stops when it returns true.
template <typename Kind, typename Visit>
bool any_name(const CommandRow<Kind>& command, Visit&& visit) {
    std::string_view names = command.names;
    while (!names.empty()) {
        const std::size_t end = std::min(names.find(' '), names.size());
        if (visit(names.substr(0, end)))
            return true;
        names.remove_prefix(std::min(end + 1, names.size()));
    }
    return false;
}

// Whether `word` is one of the command's names, in any case.
template <typename Kind>
bool answers_to(const CommandRow<Kind>& command, std::string_view word) {
    return any_name(command, [word](std::string_view name) { return equals_ignoring_case(word, name); });
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
        if (answers_to(command, word))
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

// 1..kMaxNickChars characters of A-Z a-z 0-9 _ - and the precomposed Hangul syllables (no jamo, no
// other script: two nicks never look alike by composition).
inline bool is_valid_nick(std::string_view nick) {
    if (nick.empty() || nick.size() > kMaxNickBytes)
        return false;
    std::size_t characters = 0;
    for (std::size_t at = 0; at < nick.size(); ++characters) {
        const char32_t c = utf8::next_code_point(nick, at);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-' || hangul::is_syllable(c);
        if (!ok)
            return false;
    }
    return characters <= kMaxNickChars;
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

// "utf8" or "cp949", any case. False for anything else.
inline bool parse_encoding(std::string_view name, Encoding& encoding) {
    if (equals_ignoring_case(name, "utf8"))
        encoding = Encoding::Utf8;
    else if (equals_ignoring_case(name, "cp949"))
        encoding = Encoding::Cp949;
    else
        return false;
    return true;
}

// An HTTP request line (PRODUCT.md, "Not HTTP"): one of HTTP's methods, a space, a target, a
// space, HTTP/1.x. A web page can make a visitor's browser post to any port: a connection that
// opens with this is a browser, not a person, and nothing it sent may reach the room.
inline bool is_http_request_line(std::string_view line) {
    static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "CONNECT", "PATCH"};
    const std::size_t method_end = line.find(' '), target_end = line.rfind(' ');
    if (method_end == std::string_view::npos || target_end <= method_end + 1)
        return false;
    const std::string_view method = line.substr(0, method_end), version = line.substr(target_end + 1);
    const std::string_view target = line.substr(method_end + 1, target_end - method_end - 1);
    if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods) ||
        target.find(' ') != std::string_view::npos)
        return false;
    return version.size() == 8 && version.substr(0, 7) == "HTTP/1." && version[7] >= '0' && version[7] <= '9';
}

// The Korean input key left on (PRODUCT.md): a command word typed in Hangul is read through the keys
// that typed it ("/좨" is "/who"), and so is the keyword argument of /move and /encoding
// ("/ㅡㅐㅍㄷ ㅕ" is "/move u"), never free text or a nick. True when the line reads as something
// it did not say: `read` is then the line as read. A Hangul word that spells nothing is left alone.
constexpr std::string_view kKoreanKeyNote = " (\xed\x95\x9c/\xec\x98\x81 key)";  // " (한/영 key)"
inline bool read_through_korean_keys(std::string_view line, std::string& read) {
    if (line.size() < 2 || line[0] != '/')
        return false;
    const Command typed = parse_command(line);
    std::string keys;
    bool reread = false;
    read.assign(typed.word.data(), typed.word.size());
    if (hangul::keys_typed(typed.word.substr(1), keys)) {
        if (parse_command("/" + keys).kind == CommandKind::Unknown)
            return false;
        read = "/" + keys;
        reread = true;
    }
    const CommandKind kind = parse_command(read).kind;
    Step step{};
    Encoding encoding{};
    const bool keyword = (kind == CommandKind::Move || kind == CommandKind::Encoding) &&
                         hangul::keys_typed(typed.argument, keys) &&
                         (kind == CommandKind::Move ? parse_direction(keys, step) : parse_encoding(keys, encoding));
    const std::string_view argument = keyword ? std::string_view(keys) : typed.argument;
    if (!argument.empty())
        read.append(" ").append(argument.data(), argument.size());
    return reread || keyword;
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

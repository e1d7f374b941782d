// libFuzzer target over terminal.h and protocol.h: the terminal layer fed in chunks whose sizes the
// input chooses, checked against whole-stream and byte-at-a-time feeding and against a plain
// reference model of PRODUCT.md's framing rules; its replies (negotiation, echo) checked for
// form, for bounds and for silence towards clients that never send a telnet command; the
// CP949 detection; the command parser; and the server's line encoding read back by client.exe's
// reader. A broken invariant calls std::abort(), which libFuzzer reports with the input.
//
// Input layout: byte 0 is a header h. The last (h & 15) bytes are chunk sizes (each 1 + byte, used in
// turn; none means one byte at a time); the bytes between are the stream. A sink that stops says
// so at its event number 1 + (h >> 4).
#include "protocol.h"
#include "require.h"
#include "terminal.h"
#include "utf8.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

const std::string kTooLong = "\n";  // an on_line_too_long among the lines: never a real line

using Events = std::vector<std::string>;

struct Collector {
    Events events;
    std::size_t stop_after = static_cast<std::size_t>(-1);
    bool on_line(std::string_view line) {
        events.emplace_back(line);
        return events.size() < stop_after;
    }
    bool on_line_too_long() {
        events.push_back(kTooLong);
        return events.size() < stop_after;
    }
    std::string replies;
    void reply(std::string_view bytes) { replies.append(bytes.data(), bytes.size()); }
    bool on_key(term::Key key) {  // the board view's keys, among the lines: ESC and the key's number
        events.push_back(std::string("\x1b") + static_cast<char>('0' + static_cast<int>(key)));
        return events.size() < stop_after;
    }
};

// Any CP949 pair becomes U+AC00; UTF-8 towards CP949 becomes "?" a byte: enough to exercise the
// switch and the conversions without a code page table.
struct FakeCodec final : term::Codec {
    std::string cp949_to_utf8(std::string_view) const override { return "\xea\xb0\x80"; }
    std::string utf8_to_cp949(std::string_view utf8) const override { return std::string(utf8.size(), '?'); }
};
const FakeCodec kCodec;

// ---- Reference model of the client-to-server framing, written from the spec ---------------------
// Index-based and unbounded (std::string), unlike the terminal's byte-at-a-time state machine. A
// subnegotiation is skipped to its IAC SE however long; ESC [ ... final and ESC O x are consumed
// (an ESC [ of more than kMaxEscapeBytes parameter bytes is given up, the byte that passes it is
// data); Ctrl+U and Ctrl+W edit only while the server echoes (the peer said DO ECHO, not DONT);
// telnet commands between CR and LF/NUL keep them one line end. No codec: bytes that are no
// UTF-8 pass unchanged.
Events reference_frame(std::string_view in) {
    Events events;
    std::string line;
    bool discarding = false;  // this line passed the limit
    bool after_cr = false;
    bool echoing = false;
    enum { None, Esc, Csi, Ss3 } escape = None;
    std::size_t escape_bytes = 0;

    auto erase_character = [&] {
        if (!discarding && !line.empty())
            line.resize(utf8::last_character_start(line));
    };
    auto text = [&](unsigned char byte) {
        if (discarding)
            return;
        if (line.size() == proto::kMaxLineBytes) {
            events.push_back(kTooLong);
            discarding = true;
            line.clear();
            return;
        }
        line.push_back(static_cast<char>(byte));
    };
    auto in_escape = [&](unsigned char byte) {
        if (escape == Esc) {
            escape = byte == '[' ? Csi : byte == 'O' ? Ss3 : None;
            escape_bytes = 0;
            return escape != None;
        }
        if (escape == Ss3) {
            escape = None;
            return byte >= 0x20 && byte < 0x7F;
        }
        if (byte >= 0x40 && byte <= 0x7E) {
            escape = None;
            return true;
        }
        if (byte >= 0x20 && byte <= 0x3F && ++escape_bytes <= term::kMaxEscapeBytes)
            return true;
        escape = None;
        return false;
    };
    auto data = [&](unsigned char byte) {
        if ((byte == '\n' || byte == '\0') && after_cr) {
            after_cr = false;
            return;
        }
        after_cr = byte == '\r';
        if (byte == '\n' || byte == '\r') {
            escape = None;
            if (!discarding) {
                const std::size_t begin = line.find_first_not_of(' ');
                if (begin != std::string::npos)
                    events.push_back(line.substr(begin, line.find_last_not_of(' ') + 1 - begin));
            }
            line.clear();
            discarding = false;
        } else if (escape != None && in_escape(byte)) {
        } else if (byte == 0x1B) {
            escape = Esc;
        } else if (byte == 0x08 || byte == 0x7F) {
            erase_character();
        } else if (byte == 0x15 && echoing) {
            if (!discarding)
                line.clear();
        } else if (byte == 0x17 && echoing) {
            if (!discarding) {
                std::size_t end = line.size();
                while (end > 0 && line[end - 1] == ' ')
                    --end;
                while (end > 0 && line[end - 1] != ' ')
                    --end;
                line.resize(end);
            }
        } else if (byte == '\t' || byte >= 0x20) {
            text(byte == '\t' ? ' ' : byte);
        }
    };

    std::size_t i = 0;
    while (i < in.size()) {
        const unsigned char byte = static_cast<unsigned char>(in[i]);
        if (byte != 255) {
            data(byte);
            ++i;
            continue;
        }
        if (i + 1 >= in.size())
            break;
        const unsigned char command = static_cast<unsigned char>(in[i + 1]);
        if (command == 255) {
            after_cr = false;
            text(255);
            i += 2;
        } else if (command >= 251) {  // WILL WONT DO DONT + option
            if (i + 2 < in.size() && static_cast<unsigned char>(in[i + 2]) == 1 && (command == 253 || command == 254))
                echoing = command == 253;
            i += 3;
        } else if (command == 250) {  // SB ... IAC SE, however long
            std::size_t j = i + 2;
            while (j < in.size() && !(static_cast<unsigned char>(in[j]) == 255 && j + 1 < in.size() &&
                                      static_cast<unsigned char>(in[j + 1]) == 240))
                j += static_cast<unsigned char>(in[j]) == 255 ? 2 : 1;
            i = j + 2;
        } else {
            if (command == 247)
                erase_character();
            else if (command == 248 && !discarding)
                line.clear();
            i += 2;
        }
    }
    return events;
}

// The bytes the terminal sent back: telnet commands (WILL/WONT/DO/DONT and an option, never
// anything else) and text with 0xFF doubled. Returns how many commands.
std::size_t check_replies(std::string_view replies) {
    std::size_t commands = 0;
    for (std::size_t i = 0; i < replies.size(); ++i) {
        if (static_cast<unsigned char>(replies[i]) != 255)
            continue;
        require(i + 1 < replies.size());
        const auto verb = static_cast<unsigned char>(replies[i + 1]);
        if (verb == 255) {
            ++i;
            continue;
        }
        require(verb >= 251 && i + 2 < replies.size());
        ++commands;
        i += 2;
    }
    return commands;
}

// How many negotiation commands (IAC WILL/WONT/DO/DONT x) a stream holds, outside subnegotiations.
std::size_t negotiations_in(std::string_view in) {
    std::size_t count = 0;
    for (std::size_t i = 0; i + 1 < in.size(); ++i) {
        if (static_cast<unsigned char>(in[i]) != 255)
            continue;
        const auto command = static_cast<unsigned char>(in[i + 1]);
        if (command >= 251 && command <= 254)
            ++count, i += 2;
        else
            ++i;
    }
    return count;
}

// ---- Invariants of one framed line ------------------------------------------------------------------

bool ascii_equals_lower(std::string_view text, std::string_view lower) {
    if (text.size() != lower.size())
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

// 1..16 characters, each one of A-Z a-z 0-9 _ - or a precomposed Hangul syllable (U+AC00..U+D7A3,
// in UTF-8 EA B0 80 .. ED 9E A3), written from the spec without the decoder under test.
bool reference_valid_nick(std::string_view nick) {
    std::size_t characters = 0;
    for (std::size_t i = 0; i < nick.size(); ++characters) {
        const char c = nick[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
            ++i;
            continue;
        }
        if (i + 3 > nick.size())
            return false;
        const auto b0 = static_cast<unsigned char>(nick[i]), b1 = static_cast<unsigned char>(nick[i + 1]),
                   b2 = static_cast<unsigned char>(nick[i + 2]);
        if ((b0 & 0xF0) != 0xE0 || (b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80)
            return false;
        const unsigned code = (b0 & 0x0Fu) << 12 | (b1 & 0x3Fu) << 6 | (b2 & 0x3Fu);
        if (code < 0xAC00 || code > 0xD7A3)
            return false;
        i += 3;
    }
    return characters >= 1 && characters <= 16;
}

// A line read through the Korean keys is a known command, and only its command word and keyword
// argument changed.
void check_korean_keys(std::string_view line) {
    std::string read;
    if (!proto::read_through_korean_keys(line, read))
        return;
    const proto::Command typed = proto::parse_command(line), as_read = proto::parse_command(read);
    require(as_read.kind != proto::CommandKind::Unknown && as_read.kind != proto::CommandKind::Chat);
    if (as_read.kind != proto::CommandKind::Move && as_read.kind != proto::CommandKind::Encoding)
        require(as_read.argument == typed.argument);
}

void check_command(std::string_view line) {
    check_korean_keys(line);
    (void)proto::is_http_request_line(line);
    const proto::Command command = proto::parse_command(line);
    if (line.front() != '/') {
        require(command.kind == proto::CommandKind::Chat);
        require(command.word.empty() && command.argument == line);
        return;
    }
    require(command.kind != proto::CommandKind::Chat);
    // line = word, spaces, argument; the word starts with '/' and holds no space.
    require(!command.word.empty() && command.word.front() == '/');
    require(command.word.find(' ') == std::string_view::npos);
    require(line.substr(0, command.word.size()) == command.word);
    require(command.argument.size() <= line.size() - command.word.size());
    const std::string_view gap =
        line.substr(command.word.size(), line.size() - command.word.size() - command.argument.size());
    require(gap.find_first_not_of(' ') == std::string_view::npos);
    require(line.substr(line.size() - command.argument.size()) == command.argument);
    require(command.argument.empty() || command.argument.front() != ' ');

    static const struct { const char* name; proto::CommandKind kind; } kNames[] = {
        {"/nick", proto::CommandKind::Nick},   {"/who", proto::CommandKind::Who},
        {"/move", proto::CommandKind::Move},   {"/board", proto::CommandKind::Board},
        {"/ping", proto::CommandKind::Ping},   {"/stats", proto::CommandKind::Stats},
        {"/encoding", proto::CommandKind::Encoding},
        {"/help", proto::CommandKind::Help},   {"/quit", proto::CommandKind::Quit},
        {"/msg", proto::CommandKind::Msg},     {"/m", proto::CommandKind::Msg},
        {"/w", proto::CommandKind::Msg},       {"/reply", proto::CommandKind::Reply},
        {"/r", proto::CommandKind::Reply},     {"/me", proto::CommandKind::Me},
        {"/away", proto::CommandKind::Away},   {"/ignore", proto::CommandKind::Ignore},
        {"/unignore", proto::CommandKind::Unignore}, {"/history", proto::CommandKind::History},
        {"/play", proto::CommandKind::Play},
    };
    proto::CommandKind expected = proto::CommandKind::Unknown;
    for (const auto& name : kNames)
        if (ascii_equals_lower(command.word, name.name))
            expected = name.kind;
    require(command.kind == expected);

    require(proto::is_valid_nick(command.argument) == reference_valid_nick(command.argument));

    proto::Step step{9, 9};
    const bool direction = proto::parse_direction(command.argument, step);
    const bool direction_expected =
        ascii_equals_lower(command.argument, "up") || ascii_equals_lower(command.argument, "u") ||
        ascii_equals_lower(command.argument, "down") || ascii_equals_lower(command.argument, "d") ||
        ascii_equals_lower(command.argument, "left") || ascii_equals_lower(command.argument, "l") ||
        ascii_equals_lower(command.argument, "right") || ascii_equals_lower(command.argument, "r");
    require(direction == direction_expected);
    if (direction)
        require((step.dx == 0) != (step.dy == 0) && step.dx * step.dx + step.dy * step.dy == 1);
    else
        require(step.dx == 9 && step.dy == 9);
}

void check_line(std::string_view line) {
    require(!line.empty() && line.size() <= proto::kMaxLineBytes);
    require(line.front() != ' ' && line.back() != ' ');
    for (char c : line) {
        const unsigned char byte = static_cast<unsigned char>(c);
        require(byte >= 0x20 && byte != 0x7F);
    }
    check_command(line);
}

// ---- Server-to-client lines ---------------------------------------------------------------------------

Events read_server(std::string_view stream, const std::vector<std::size_t>& chunks) {
    proto::ServerLineReader reader;
    Events lines;
    auto on_line = [&](std::string_view line) {
        require(line.size() <= proto::kMaxServerLineBytes);
        require(line.find('\n') == std::string_view::npos);
        lines.emplace_back(line);
    };
    std::size_t at = 0, turn = 0;
    while (at < stream.size()) {
        const std::size_t size =
            chunks.empty() ? 1 : std::min(chunks[turn++ % chunks.size()], stream.size() - at);
        reader.feed(stream.data() + at, size, on_line);
        at += size;
    }
    return lines;
}

// What client.exe's reader should make of a byte stream: IAC x -> x, lines at LF less one trailing
// CR, and a line longer than kMaxServerLineBytes in pieces of that size (the pieces of the unfinished
// last line that are certain already: more bytes follow them, and they are not just a CR).
Events reference_read_server(std::string_view stream) {
    std::string decoded;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        if (static_cast<unsigned char>(stream[i]) == 255) {
            if (++i == stream.size())
                break;
        }
        decoded.push_back(stream[i]);
    }
    Events lines;
    const std::size_t k = proto::kMaxServerLineBytes;
    std::size_t begin = 0;
    for (;;) {
        const std::size_t end = decoded.find('\n', begin);
        if (end == std::string::npos)
            break;
        std::string line = decoded.substr(begin, end - begin);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        std::size_t at = 0;
        do {
            lines.push_back(line.substr(at, k));
            at += k;
        } while (at < line.size());
        begin = end + 1;
    }
    const std::string tail = decoded.substr(begin);
    for (std::size_t at = 0; at + k < tail.size(); at += k)
        if (!(at + k + 1 == tail.size() && tail.back() == '\r'))
            lines.push_back(tail.substr(at, k));
    return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const unsigned header = data[0];
    std::size_t split_bytes = header & 15;
    if (split_bytes > size - 1)
        split_bytes = size - 1;
    const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1 - split_bytes);
    std::vector<std::size_t> chunks;
    for (std::size_t i = size - split_bytes; i < size; ++i)
        chunks.push_back(1 + std::size_t{data[i]});

    // The terminal: whole, in the chosen chunks, one byte at a time, and the reference model agree
    // on the lines (the replies may differ: a small chunk is a keystroke).
    term::Terminal whole_terminal;
    Collector whole;
    require(whole_terminal.feed(stream.data(), 0, whole));
    require(whole_terminal.feed(stream.data(), stream.size(), whole));
    require(whole_terminal.pending_bytes() <= proto::kMaxLineBytes);

    term::Terminal chunked_terminal;
    Collector chunked;
    for (std::size_t at = 0, turn = 0; at < stream.size();) {
        const std::size_t chunk =
            chunks.empty() ? 1 : std::min(chunks[turn++ % chunks.size()], stream.size() - at);
        require(chunked_terminal.feed(stream.data() + at, chunk, chunked));
        require(chunked_terminal.pending_bytes() <= proto::kMaxLineBytes);
        at += chunk;
    }
    require(whole.events == chunked.events);
    require(whole_terminal.pending_bytes() == chunked_terminal.pending_bytes());

    if (!chunks.empty()) {  // (with no chunk sizes, "chunked" was one byte at a time already)
        term::Terminal byte_terminal;
        Collector bytewise;
        for (char c : stream)
            require(byte_terminal.feed(&c, 1, bytewise));
        require(whole.events == bytewise.events);
    }
    require(whole.events == reference_frame(stream));

    // What the terminal says back: well formed, and never more negotiation than 3 offers and one
    // answer for each command received (no loop). A client that never sends a telnet command and
    // whose receive is no keystroke gets nothing at all.
    const std::size_t received = negotiations_in(stream);
    require(check_replies(whole.replies) <= 3 + received);
    require(check_replies(chunked.replies) <= 3 + received);
    const bool keystroke = stream.size() <= term::kKeystrokeBytes && stream.find_first_of("\r\n") == std::string_view::npos;
    if (stream.find('\xff') == std::string_view::npos && !keystroke && !stream.empty())
        require(whole.replies.empty() && !whole_terminal.is_terminal());

    // The board view: the same keys and lines whole or a byte at a time, and the typed line always
    // within its row, the cursor never at the margin.
    {
        term::Terminal a, b;
        Collector board_a, board_b;
        const std::string agreed = "\xff\xfd\x01";  // IAC DO ECHO: a terminal that lets the server echo
        a.feed(agreed.data(), agreed.size(), board_a);
        b.feed(agreed.data(), agreed.size(), board_b);
        a.set_view(term::View::Board);
        b.set_view(term::View::Board);
        a.show_input();
        b.show_input();
        require(a.feed(stream.data(), stream.size(), board_a));
        for (char c : stream) {
            require(b.feed(&c, 1, board_b));
            // (A window narrower than 3 columns has no room for "<" and a character; the server
            // never opens a board view on one, but a NAWS may shrink it before the server sees it.)
            require(b.input_column() >= 1 && (b.width() < 3 || b.input_column() <= b.width()));
        }
        require(board_a.events == board_b.events);
    }

    // With a codec: the same lines' count and bounds whatever the chunks (CP949 may be switched to).
    {
        term::Terminal a(&kCodec), b(&kCodec);
        Collector lines_a, lines_b;
        a.feed(stream.data(), stream.size(), lines_a);
        for (char c : stream)
            b.feed(&c, 1, lines_b);
        require(lines_a.events == lines_b.events && a.encoding() == b.encoding());
        for (const std::string& line : lines_a.events)
            require(line.size() <= proto::kMaxLineBytes);
        check_replies(lines_a.replies);
        const std::string hidden = a.hide_input();
        require(hidden.empty() || a.input_hidden());
        require(a.show_input().size() <= 2 * proto::kMaxLineBytes);
    }

    // A sink that says stop: feed reports it, and what was delivered is a prefix.
    {
        term::Terminal terminal;
        Collector stopping;
        stopping.stop_after = 1 + (header >> 4);
        const bool went_on = terminal.feed(stream.data(), stream.size(), stopping);
        if (whole.events.size() >= stopping.stop_after) {
            require(!went_on);
            require(Events(whole.events.begin(), whole.events.begin() + stopping.stop_after) == stopping.events);
        } else {
            require(went_on && stopping.events == whole.events);
        }
    }

    // Every line, then the wire: what the server sends for these lines, read back in chunks.
    Events sent;
    std::string wire;
    for (const std::string& event : whole.events) {
        const std::string_view line = event == kTooLong ? proto::kErrLineTooLong : std::string_view(event);
        if (event != kTooLong)
            check_line(line);
        proto::append_wire_line(wire, line);
        sent.emplace_back(line);
    }
    require(read_server(wire, chunks) == sent);
    require(read_server(wire, {wire.size() + 1}) == sent);

    // The reader on arbitrary bytes; the first two 0x01 stand for 4096 'a' each, so that small inputs
    // reach its kMaxServerLineBytes (8192) and the bytes around it.
    std::string server_stream;
    int expansions = 0;
    for (char c : stream) {
        if (c == '\x01' && expansions < 2) {
            ++expansions;
            server_stream.append(4096, 'a');
        } else {
            server_stream.push_back(c);
        }
    }
    const Events read_whole = read_server(server_stream, {server_stream.size() + 1});
    require(read_whole == read_server(server_stream, chunks));
    require(read_whole == reference_read_server(server_stream));
    return 0;
}

// libFuzzer target over protocol.h: the line framer fed in chunks whose sizes the input chooses,
// checked against whole-stream and byte-at-a-time feeding and against a plain reference model of
// PRODUCT.md's framing rules; the command parser; and the server's line encoding read back by
// client.exe's reader. A broken invariant calls std::abort(), which libFuzzer reports with the input.
//
// Input layout: byte 0 is a header h. The last (h & 15) bytes are chunk sizes (each 1 + byte, used in
// turn; none means one byte at a time); the bytes between are the stream. A sink that stops says
// so at its event number 1 + (h >> 4).
#include "protocol.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

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
};

// ---- Reference model of the client-to-server framing, written from the spec ---------------------
// Index-based and unbounded (std::string), unlike the framer's byte-at-a-time state machine. Where the
// spec leaves a choice it follows protocol.h's documented one: a subnegotiation is abandoned once
// kMaxSubnegotiationBytes of it (not counting the byte after an IAC) have gone by, and the byte that
// passes the bound is data; telnet commands between CR and LF/NUL keep them one line end.
Events reference_frame(std::string_view in) {
    Events events;
    std::string line;
    bool discarding = false;  // this line passed the limit
    bool after_cr = false;

    auto erase_character = [&] {
        if (discarding)
            return;
        int continuation = 0;
        while (!line.empty() && continuation < 3 && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) {
            line.pop_back();
            ++continuation;
        }
        if (!line.empty())
            line.pop_back();
    };
    auto data = [&](unsigned char byte) {
        if ((byte == '\n' || byte == '\0') && after_cr) {
            after_cr = false;
            return;
        }
        after_cr = byte == '\r';
        if (byte == '\n' || byte == '\r') {
            if (!discarding) {
                const std::size_t begin = line.find_first_not_of(' ');
                if (begin != std::string::npos)
                    events.push_back(line.substr(begin, line.find_last_not_of(' ') + 1 - begin));
            }
            line.clear();
            discarding = false;
        } else if (byte == 0x08 || byte == 0x7F) {
            erase_character();
        } else if (byte == '\t' || byte >= 0x20) {
            if (discarding)
                return;
            if (line.size() == proto::kMaxLineBytes) {
                events.push_back(kTooLong);
                discarding = true;
                line.clear();
                return;
            }
            line.push_back(byte == '\t' ? ' ' : static_cast<char>(byte));
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
            data(255);
            i += 2;
        } else if (command >= 251) {  // WILL WONT DO DONT + option
            i += 3;
        } else if (command == 250) {  // SB ... IAC SE
            std::size_t j = i + 2, counted = 0;
            for (;;) {
                if (j >= in.size()) {
                    i = j;
                    break;
                }
                if (++counted > proto::kMaxSubnegotiationBytes) {  // abandoned: in[j] is data
                    i = j;
                    break;
                }
                if (static_cast<unsigned char>(in[j]) == 255) {
                    if (j + 1 < in.size() && static_cast<unsigned char>(in[j + 1]) == 240) {
                        i = j + 2;
                        break;
                    }
                    j += 2;
                } else {
                    ++j;
                }
            }
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

void check_command(std::string_view line) {
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
        {"/help", proto::CommandKind::Help},   {"/quit", proto::CommandKind::Quit},
    };
    proto::CommandKind expected = proto::CommandKind::Unknown;
    for (const auto& name : kNames)
        if (ascii_equals_lower(command.word, name.name))
            expected = name.kind;
    require(command.kind == expected);

    const bool nick_ok = proto::is_valid_nick(command.argument);
    bool nick_expected = !command.argument.empty() && command.argument.size() <= proto::kMaxNickBytes;
    for (char c : command.argument)
        nick_expected = nick_expected && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                          (c >= '0' && c <= '9') || c == '_' || c == '-');
    require(nick_ok == nick_expected);

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

    // The framer: whole, in the chosen chunks, one byte at a time, and the reference model agree.
    proto::LineFramer whole_framer;
    Collector whole;
    require(whole_framer.feed(stream.data(), 0, whole));
    require(whole_framer.feed(stream.data(), stream.size(), whole));
    require(whole_framer.pending_bytes() <= proto::kMaxLineBytes);

    proto::LineFramer chunked_framer;
    Collector chunked;
    for (std::size_t at = 0, turn = 0; at < stream.size();) {
        const std::size_t chunk =
            chunks.empty() ? 1 : std::min(chunks[turn++ % chunks.size()], stream.size() - at);
        require(chunked_framer.feed(stream.data() + at, chunk, chunked));
        require(chunked_framer.pending_bytes() <= proto::kMaxLineBytes);
        at += chunk;
    }
    require(whole.events == chunked.events);
    require(whole_framer.pending_bytes() == chunked_framer.pending_bytes());

    if (!chunks.empty()) {  // (with no chunk sizes, "chunked" was one byte at a time already)
        proto::LineFramer byte_framer;
        Collector bytewise;
        for (char c : stream)
            require(byte_framer.feed(&c, 1, bytewise));
        require(whole.events == bytewise.events);
    }
    require(whole.events == reference_frame(stream));

    // A sink that says stop: feed reports it, and what was delivered is a prefix.
    {
        proto::LineFramer framer;
        Collector stopping;
        stopping.stop_after = 1 + (header >> 4);
        const bool went_on = framer.feed(stream.data(), stream.size(), stopping);
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

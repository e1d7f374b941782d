// libFuzzer target over protocol.h: the line framer fed in chunks chosen by the input itself, the
// command parser, and the server's line encoding read back by client.exe's reader. Any broken
// invariant aborts, which libFuzzer reports with the input that did it.
#include "protocol.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

struct Collector {
    std::vector<std::string> events;  // lines, and "\n" for each over-long line (never a real line)
    bool on_line(std::string_view line) {
        events.emplace_back(line);
        return true;
    }
    bool on_line_too_long() {
        events.emplace_back("\n");
        return true;
    }
};

void check_line(std::string_view line) {
    require(!line.empty() && line.size() <= proto::kMaxLineBytes);
    require(line.front() != ' ' && line.back() != ' ');
    for (char c : line) {
        const unsigned char byte = static_cast<unsigned char>(c);
        require(byte >= 0x20 && byte != 0x7F);
    }
    const proto::Command command = proto::parse_command(line);
    if (command.kind == proto::CommandKind::Chat)
        require(command.argument == line);
    else
        require(!command.word.empty() && command.word.front() == '/');

    std::string wire;
    proto::append_wire_line(wire, line);
    proto::ServerLineReader reader;
    std::vector<std::string> read;
    reader.feed(wire.data(), wire.size(), [&](std::string_view l) { read.emplace_back(l); });
    require(read.size() == 1 && read[0] == line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    // The first byte picks the chunk size, so the same bytes are tried with many splits.
    const std::size_t chunk = 1 + data[0] % 64;
    const char* bytes = reinterpret_cast<const char*>(data + 1);
    const std::size_t length = size - 1;

    proto::LineFramer whole_framer;
    Collector whole;
    whole_framer.feed(bytes, length, whole);

    proto::LineFramer chunked_framer;
    Collector chunked;
    for (std::size_t at = 0; at < length; at += chunk)
        chunked_framer.feed(bytes + at, std::min(chunk, length - at), chunked);

    require(whole.events == chunked.events);
    require(whole_framer.pending_bytes() <= proto::kMaxLineBytes);
    for (const std::string& event : whole.events)
        if (event != "\n")
            check_line(event);
    return 0;
}

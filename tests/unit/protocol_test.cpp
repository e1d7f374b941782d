// Unit tests of protocol.h: every framing rule of the wire protocol, each on its own, plus chunk
// boundaries, the command parser and the server-to-client encoding.
#include "check.h"
#include "protocol.h"

#include <string>
#include <vector>

namespace {

const std::string kTooLong = "<too long>";

// Records what a framer produces: each line, and kTooLong for each over-long line.
struct Collector {
    std::vector<std::string> events;
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

using Events = std::vector<std::string>;

Events frame(const std::string& bytes) {
    proto::LineFramer framer;
    Collector sink;
    framer.feed(bytes.data(), bytes.size(), sink);
    return sink.events;
}

Events frame_split(const std::string& bytes, std::size_t at) {
    proto::LineFramer framer;
    Collector sink;
    framer.feed(bytes.data(), at, sink);
    framer.feed(bytes.data() + at, bytes.size() - at, sink);
    return sink.events;
}

Events frame_bytewise(const std::string& bytes) {
    proto::LineFramer framer;
    Collector sink;
    for (char c : bytes)
        framer.feed(&c, 1, sink);
    return sink.events;
}

std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values)
        s.push_back(static_cast<char>(v));
    return s;
}

const std::string IAC = bytes({255});

// ---- Line ends ------------------------------------------------------------------------------

TEST(lf_ends_a_line) { CHECK((frame("abc\ndef\n") == Events{"abc", "def"})); }

TEST(cr_lf_ends_exactly_one_line) { CHECK((frame("abc\r\ndef\r\n") == Events{"abc", "def"})); }

TEST(cr_nul_ends_exactly_one_line) {
    CHECK((frame(std::string("abc\r\0def\r\0", 10)) == Events{"abc", "def"}));
}

TEST(lone_cr_ends_a_line) { CHECK((frame("abc\rdef\r") == Events{"abc", "def"})); }

TEST(cr_at_the_end_of_a_chunk_then_lf) {
    proto::LineFramer framer;
    Collector sink;
    framer.feed("abc\r", 4, sink);
    framer.feed("\ndef\n", 5, sink);
    CHECK((sink.events == Events{"abc", "def"}));
}

TEST(cr_cr_is_two_line_ends_not_an_empty_line) { CHECK((frame("a\r\rb\r") == Events{"a", "b"})); }

TEST(no_line_before_its_end) { CHECK(frame("no end yet").empty()); }

// ---- Telnet ---------------------------------------------------------------------------------

TEST(iac_two_byte_commands_are_removed) {
    for (int command = 240; command <= 249; ++command) {
        if (command == 247 || command == 248)
            continue;  // EC and EL edit the line: tested below
        CHECK((frame("ab" + bytes({255, command}) + "c\n") == Events{"abc"}));
    }
}

TEST(iac_option_negotiation_is_removed) {
    for (int verb = 251; verb <= 254; ++verb)
        CHECK((frame("a" + bytes({255, verb, 1}) + "b\n") == Events{"ab"}));
}

TEST(iac_option_byte_may_look_like_a_line_end) {
    CHECK((frame("a" + bytes({255, 253, 10}) + "b\n") == Events{"ab"}));  // DO option 10
}

TEST(iac_subnegotiation_is_removed) {
    CHECK((frame("a" + bytes({255, 250, 24, 0, 'x', 't', 'e', 'r', 'm', 255, 240}) + "b\n") == Events{"ab"}));
}

TEST(iac_iac_inside_subnegotiation_does_not_end_it) {
    CHECK((frame("a" + bytes({255, 250, 31, 255, 255, 10, 255, 240}) + "b\n") == Events{"ab"}));
}

TEST(iac_iac_is_a_literal_ff) { CHECK((frame("a" + bytes({255, 255}) + "b\n") == Events{"a\xff" "b"})); }

TEST(iac_ec_erases_a_character) { CHECK((frame("abc" + bytes({255, 247}) + "\n") == Events{"ab"})); }

TEST(iac_el_erases_the_line) { CHECK((frame("abc" + bytes({255, 248}) + "xy\n") == Events{"xy"})); }

TEST(endless_subnegotiation_is_bounded) {
    proto::LineFramer framer;
    Collector sink;
    const std::size_t size_before = sizeof framer;
    const std::string start = bytes({255, 250});
    framer.feed(start.data(), start.size(), sink);
    const std::string filler(1 << 20, '\x18');
    framer.feed(filler.data(), filler.size(), sink);
    CHECK(sizeof framer == size_before);
    // Past kMaxSubnegotiationBytes the subnegotiation is abandoned and bytes are text again: the
    // megabyte of filler is control bytes (dropped), so a following line comes out intact.
    framer.feed("\r\n/ping ok\r\n", 12, sink);
    CHECK((sink.events == Events{"/ping ok"}));
}

TEST(subnegotiation_within_the_bound_swallows_text) {
    const std::string sub = bytes({255, 250}) + std::string(proto::kMaxSubnegotiationBytes - 2, 'x') +
                            bytes({255, 240});
    CHECK((frame(sub + "after\n") == Events{"after"}));
}

TEST(iac_sequences_split_across_chunks) {
    const std::string stream = "a" + bytes({255, 251, 1}) + "b" + bytes({255, 250, 1, 2, 255, 240}) + "c" +
                               bytes({255, 255}) + "d\r\n";
    const Events whole = frame(stream);
    CHECK((whole == Events{"abc\xff" "d"}));
    for (std::size_t at = 0; at <= stream.size(); ++at)
        CHECK(frame_split(stream, at) == whole);
}

// ---- Editing and control bytes ----------------------------------------------------------------

TEST(backspace_erases_the_last_character) { CHECK((frame("abcd\b\bx\n") == Events{"abx"})); }

TEST(delete_erases_the_last_character) { CHECK((frame("abcd\x7f\x7fx\n") == Events{"abx"})); }

TEST(backspace_erases_a_whole_two_byte_character) { CHECK((frame("caf\xc3\xa9\b\n") == Events{"caf"})); }

TEST(backspace_erases_a_whole_three_byte_character) {
    CHECK((frame("a\xed\x95\x9c\x7f" "b\n") == Events{"ab"}));  // U+D55C
}

TEST(backspace_erases_a_whole_four_byte_character) {
    CHECK((frame("a\xf0\x9f\x98\x80\b" "b\n") == Events{"ab"}));  // U+1F600
}

TEST(backspace_on_an_empty_line_does_nothing) { CHECK((frame("\b\b\x7f" "ab\n") == Events{"ab"})); }

TEST(tab_becomes_a_space) { CHECK((frame("a\tb\n") == Events{"a b"})); }

TEST(control_bytes_are_dropped) {
    std::string line = "a";
    for (int c = 1; c < 0x20; ++c)
        if (c != '\t' && c != '\n' && c != '\r' && c != '\b')
            line.push_back(static_cast<char>(c));
    CHECK((frame(line + "b\n") == Events{"ab"}));
}

TEST(nul_inside_a_line_is_dropped) { CHECK((frame(std::string("a\0b\n", 4)) == Events{"ab"})); }

TEST(escape_sequences_lose_their_escape) {
    CHECK((frame("\x1b[31mred\x1b[0m\n") == Events{"[31mred[0m"}));
}

TEST(other_bytes_pass_through_unchanged) {
    CHECK((frame("\xed\x95\x9c\xea\xb8\x80 \xb0\xa1\n") == Events{"\xed\x95\x9c\xea\xb8\x80 \xb0\xa1"}));
}

// ---- Length limit, trimming, empty lines -------------------------------------------------------

TEST(a_line_of_exactly_512_bytes_is_accepted) {
    const std::string line(proto::kMaxLineBytes, 'x');
    CHECK((frame(line + "\n") == Events{line}));
}

TEST(a_line_of_513_bytes_gives_one_error_and_no_line) {
    CHECK((frame(std::string(proto::kMaxLineBytes + 1, 'x') + "\n") == Events{kTooLong}));
}

TEST(a_200kb_line_gives_one_error_and_the_next_line_is_intact) {
    CHECK((frame(std::string(200 * 1024, 'x') + "\r\nnext\r\n") == Events{kTooLong, "next"}));
}

TEST(the_limit_counts_the_line_as_edited) {
    CHECK((frame(std::string(proto::kMaxLineBytes, 'x') + "\by\n") ==
           Events{std::string(proto::kMaxLineBytes - 1, 'x') + "y"}));
}

TEST(the_limit_counts_before_trimming) {
    CHECK((frame(" " + std::string(proto::kMaxLineBytes, 'x') + "\n") == Events{kTooLong}));
}

TEST(leading_and_trailing_spaces_are_trimmed) { CHECK((frame("   a b  \t \n") == Events{"a b"})); }

TEST(empty_and_blank_lines_are_ignored) { CHECK((frame("\n\r\n  \n\t\r\nx\n") == Events{"x"})); }

TEST(a_false_from_the_sink_stops_feeding) {
    proto::LineFramer framer;
    Collector sink;
    sink.stop_after = 1;
    CHECK(!framer.feed("a\nb\nc\n", 6, sink));
    CHECK((sink.events == Events{"a"}));
}

// ---- Chunk boundaries ------------------------------------------------------------------------------

const std::string kSample = "hello\r\n/nick ann\n" + bytes({255, 253, 1}) + "/move u\r" + std::string("\0", 1) +
                            "caf\xc3\xa9\b!\x1b[1m\r\n\t pad \t\n" + std::string(600, 'L') + "\nbye" +
                            bytes({255, 255}) + "\r";

TEST(sample_stream_gives_the_expected_lines) {
    CHECK((frame(kSample) == Events{"hello", "/nick ann", "/move u", "caf![1m", "pad", kTooLong, "bye\xff"}));
}

TEST(sample_stream_split_at_every_offset_gives_the_same_lines) {
    const Events whole = frame(kSample);
    for (std::size_t at = 0; at <= kSample.size(); ++at)
        CHECK(frame_split(kSample, at) == whole);
}

TEST(sample_stream_one_byte_at_a_time_gives_the_same_lines) { CHECK(frame_bytewise(kSample) == frame(kSample)); }

// ---- Commands ----------------------------------------------------------------------------------

TEST(text_is_chat) {
    const proto::Command c = proto::parse_command("hello there");
    CHECK(c.kind == proto::CommandKind::Chat);
    CHECK(c.argument == "hello there");
}

TEST(every_command_parses) {
    struct Case { const char* line; proto::CommandKind kind; const char* argument; };
    const Case cases[] = {
        {"/nick ann", proto::CommandKind::Nick, "ann"},   {"/who", proto::CommandKind::Who, ""},
        {"/move up", proto::CommandKind::Move, "up"},     {"/board", proto::CommandKind::Board, ""},
        {"/ping a  b", proto::CommandKind::Ping, "a  b"}, {"/stats", proto::CommandKind::Stats, ""},
        {"/help", proto::CommandKind::Help, ""},          {"/quit", proto::CommandKind::Quit, ""},
        {"/NICK Bob", proto::CommandKind::Nick, "Bob"},   {"/Ping   x", proto::CommandKind::Ping, "x"},
    };
    for (const Case& c : cases) {
        const proto::Command parsed = proto::parse_command(c.line);
        CHECK(parsed.kind == c.kind);
        CHECK(parsed.argument == c.argument);
    }
}

TEST(unknown_command_keeps_its_word) {
    const proto::Command c = proto::parse_command("/dance wildly");
    CHECK(c.kind == proto::CommandKind::Unknown);
    CHECK(c.word == "/dance");
    CHECK(proto::parse_command("/").kind == proto::CommandKind::Unknown);
    CHECK(proto::parse_command("/nicky").kind == proto::CommandKind::Unknown);
}

TEST(nick_rules) {
    CHECK(proto::is_valid_nick("a"));
    CHECK(proto::is_valid_nick("Ann_B-2"));
    CHECK(proto::is_valid_nick(std::string(16, 'x')));
    CHECK(!proto::is_valid_nick(""));
    CHECK(!proto::is_valid_nick(std::string(17, 'x')));
    CHECK(!proto::is_valid_nick("ann b"));
    CHECK(!proto::is_valid_nick("ann!"));
    CHECK(!proto::is_valid_nick("\xc3\xa9"));
}

TEST(directions_long_short_and_any_case) {
    proto::Step step{};
    CHECK(proto::parse_direction("up", step) && step.dx == 0 && step.dy == -1);
    CHECK(proto::parse_direction("D", step) && step.dx == 0 && step.dy == 1);
    CHECK(proto::parse_direction("Left", step) && step.dx == -1 && step.dy == 0);
    CHECK(proto::parse_direction("r", step) && step.dx == 1 && step.dy == 0);
    CHECK(!proto::parse_direction("", step));
    CHECK(!proto::parse_direction("upward", step));
}

// ---- Server to client --------------------------------------------------------------------------------

TEST(wire_lines_end_in_cr_lf_and_double_ff) {
    std::string out;
    proto::append_wire_line(out, "a\xff" "b");
    CHECK(out == "a\xff\xff" "b\r\n");
}

TEST(server_line_reader_splits_and_decodes) {
    proto::ServerLineReader reader;
    std::vector<std::string> lines;
    const std::string stream = "one\r\ntwo\nff\xff\xff!\r\n";
    for (char c : stream)  // split everywhere, IAC IAC included
        reader.feed(&c, 1, [&](std::string_view line) { lines.emplace_back(line); });
    CHECK((lines == std::vector<std::string>{"one", "two", "ff\xff!"}));
}

TEST(server_line_reader_delivers_an_overlong_line_in_pieces) {
    proto::ServerLineReader reader;
    std::vector<std::string> lines;
    const std::string stream = std::string(proto::kMaxServerLineBytes + 10, 'x') + "\n";
    reader.feed(stream.data(), stream.size(), [&](std::string_view line) { lines.emplace_back(line); });
    CHECK(lines.size() == 2);
    CHECK(lines[0].size() == proto::kMaxServerLineBytes && lines[1].size() == 10);
}

}  // namespace

int main() { return check::run_all(); }

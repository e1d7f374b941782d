// Unit tests of protocol.h against PRODUCT.md, "Wire protocol": every framing rule on its own, chunk
// boundaries, the command parser, nick and direction rules, and the server-to-client encoding with
// client.exe's reader.
#include "check.h"
#include "protocol.h"
#include "terminal.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

using proto::CommandKind;
using proto::kMaxLineBytes;
using proto::kMaxServerLineBytes;

const std::string kTooLong = "<too long>";  // how an on_line_too_long shows up among the lines

using Events = std::vector<std::string>;

// Records what a framer produces, in order. stop_after: the sink answers false from that event on.
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
    std::string replies;  // what the terminal layer answers (negotiation, echo): not lines
    void reply(std::string_view bytes) { replies.append(bytes.data(), bytes.size()); }
    bool on_key(term::Key) { return true; }  // the line view's terminals have no keys
};

Events frame(const std::string& stream) {
    term::Terminal framer;
    Collector sink;
    framer.feed(stream.data(), stream.size(), sink);
    return sink.events;
}

Events frame_chunks(const std::string& stream, std::initializer_list<std::size_t> cuts) {
    term::Terminal framer;
    Collector sink;
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
        framer.feed(stream.data() + at, cut - at, sink);
        at = cut;
    }
    framer.feed(stream.data() + at, stream.size() - at, sink);
    return sink.events;
}

Events frame_bytewise(const std::string& stream) {
    term::Terminal framer;
    Collector sink;
    for (char c : stream)
        framer.feed(&c, 1, sink);
    return sink.events;
}

std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values)
        s.push_back(static_cast<char>(v));
    return s;
}

const std::string NUL(1, '\0');
const std::string IAC = bytes({255});
const std::string IAC_IAC = bytes({255, 255});
const std::string IAC_NOP = bytes({255, 241});
const std::string IAC_EC = bytes({255, 247});
const std::string IAC_EL = bytes({255, 248});
const std::string IAC_SB = bytes({255, 250});
const std::string IAC_SE = bytes({255, 240});

// ---- Line ends: LF, CR LF, CR NUL and a lone CR each end exactly one line ---------------------

TEST(lf_ends_a_line) { CHECK((frame("abc\ndef\n") == Events{"abc", "def"})); }

TEST(cr_lf_ends_exactly_one_line) { CHECK((frame("abc\r\ndef\r\n") == Events{"abc", "def"})); }

TEST(cr_nul_ends_exactly_one_line) { CHECK((frame("abc\r" + NUL + "def\r" + NUL) == Events{"abc", "def"})); }

TEST(lone_cr_ends_a_line) { CHECK((frame("abc\rdef\r") == Events{"abc", "def"})); }

TEST(lone_cr_ends_the_line_at_once_without_waiting_for_lf) {
    term::Terminal framer;
    Collector sink;
    framer.feed("abc\r", 4, sink);
    CHECK((sink.events == Events{"abc"}));
    CHECK(framer.pending_bytes() == 0);
}

TEST(cr_at_the_end_of_a_chunk_then_lf_at_the_start_of_the_next) {
    term::Terminal framer;
    Collector sink;
    framer.feed("abc\r", 4, sink);
    framer.feed("\ndef\n", 5, sink);
    CHECK((sink.events == Events{"abc", "def"}));
}

TEST(cr_at_the_end_of_a_chunk_then_nul_at_the_start_of_the_next) {
    term::Terminal framer;
    Collector sink;
    framer.feed("abc\r", 4, sink);
    framer.feed(std::string("\0def\r", 5).data(), 5, sink);
    CHECK((sink.events == Events{"abc", "def"}));
}

TEST(cr_at_the_end_of_a_chunk_then_text) {
    term::Terminal framer;
    Collector sink;
    framer.feed("abc\r", 4, sink);
    framer.feed("def\r", 4, sink);
    CHECK((sink.events == Events{"abc", "def"}));
}

TEST(mixed_line_ends_in_one_stream) {
    CHECK((frame("a\r\nb\nc\r" + NUL + "d\re\n") == Events{"a", "b", "c", "d", "e"}));
}

TEST(cr_cr_and_lf_lf_end_two_lines_of_which_the_empty_one_is_ignored) {
    CHECK((frame("a\r\rb\r\r\nc\n\nd\n") == Events{"a", "b", "c", "d"}));
}

TEST(nul_not_after_cr_is_just_dropped) { CHECK((frame("a\n" + NUL + "b\n") == Events{"a", "b"})); }

TEST(no_line_before_its_end) {
    term::Terminal framer;
    Collector sink;
    framer.feed("no end yet", 10, sink);
    CHECK(sink.events.empty());
    CHECK(framer.pending_bytes() == 10);
}

// ---- Telnet commands are removed ----------------------------------------------------------------

TEST(iac_two_byte_commands_240_to_249_are_removed) {
    for (int command = 240; command <= 249; ++command) {
        if (command == 247 || command == 248)
            continue;  // EC and EL edit the line: tested on their own
        CHECK((frame("ab" + bytes({255, command}) + "c\n") == Events{"abc"}));
    }
}

TEST(iac_sb_250_immediately_ended_is_removed) { CHECK((frame("a" + IAC_SB + IAC_SE + "b\n") == Events{"ab"})); }

TEST(iac_will_wont_do_dont_with_their_option_are_removed) {
    for (int verb = 251; verb <= 254; ++verb)
        for (int option : {0, 1, 3, 24, 31, 34, 200})
            CHECK((frame("a" + bytes({255, verb, option}) + "b\n") == Events{"ab"}));
}

TEST(iac_option_byte_is_never_text_or_a_line_end) {
    CHECK((frame("a" + bytes({255, 253, '\n'}) + "b" + bytes({255, 251, '\r'}) + "c" + bytes({255, 252, 255}) +
                 "d\n") == Events{"abcd"}));
}

TEST(iac_subnegotiation_is_removed) {
    CHECK((frame("a" + IAC_SB + bytes({24, 0}) + "xterm" + IAC_SE + "b\n") == Events{"ab"}));
}

TEST(iac_subnegotiation_hides_line_ends_and_text) {
    CHECK((frame("a" + IAC_SB + "31\r\n\x7f text\n" + IAC_SE + "b\n") == Events{"ab"}));
}

TEST(iac_iac_inside_subnegotiation_does_not_end_it) {
    CHECK((frame("a" + IAC_SB + bytes({31}) + IAC_IAC + bytes({10, 255, 255, 240}) + IAC_SE + "b\n") ==
           Events{"ab"}));
}

TEST(iac_iac_is_a_literal_ff_byte) { CHECK((frame("a" + IAC_IAC + "b\n") == Events{"a\xff" "b"})); }

TEST(iac_iac_twice_is_two_ff_bytes) { CHECK((frame(IAC_IAC + IAC_IAC + "\n") == Events{"\xff\xff"})); }

TEST(iac_ec_erases_a_character) { CHECK((frame("abc" + IAC_EC + "\n") == Events{"ab"})); }

TEST(iac_ec_erases_a_whole_utf8_character) {
    CHECK((frame("a\xed\x95\x9c" + IAC_EC + "b\n") == Events{"ab"}));
}

TEST(iac_el_erases_the_line) { CHECK((frame("abc" + IAC_EL + "xy\n") == Events{"xy"})); }

TEST(iac_el_leaves_an_empty_line_that_is_ignored) { CHECK((frame("abc" + IAC_EL + "\nz\n") == Events{"z"})); }

TEST(iac_between_cr_and_lf_keeps_them_one_line_end) {
    CHECK((frame("a\r" + IAC_NOP + "\nb\n") == Events{"a", "b"}));
}

TEST(iac_sequences_split_across_chunks) {
    const std::string stream = "a" + bytes({255, 251, 1}) + "b" + IAC_SB + bytes({1, 2}) + IAC_IAC + bytes({3}) +
                               IAC_SE + "c" + IAC_IAC + "d" + IAC_NOP + "e" + IAC_EC + "f" + bytes({255, 254, 10}) +
                               "\r\nxyz" + IAC_EL + "g\r\n";
    const Events whole = frame(stream);
    CHECK((whole == Events{"abc\xff" "df", "g"}));
    for (std::size_t at = 0; at <= stream.size(); ++at)
        CHECK(frame_chunks(stream, {at}) == whole);
    CHECK(frame_bytewise(stream) == whole);
}

// ---- Subnegotiations of any length -------------------------------------------------------------

TEST(a_subnegotiation_of_any_length_is_removed_whole) {
    // Skipped to its IAC SE however long it is: nothing of it reaches the line, and what follows
    // it is read as usual (a command after a long one is not lost in an over-long line).
    for (std::size_t n : {0, 1, 255, 256, 257, 4096, 100000})
        CHECK((frame("<" + IAC_SB + std::string(n, 'x') + IAC_SE + ">\n/ping after\n") == Events{"<>", "/ping after"}));
}

TEST(endless_subnegotiation_does_not_grow_memory) {
    term::Terminal framer;
    Collector sink;
    framer.feed(IAC_SB.data(), IAC_SB.size(), sink);
    const std::string filler(4096, 'x');
    bool bounded = true;
    for (int i = 0; i < 256; ++i) {  // 1 MiB
        framer.feed(filler.data(), filler.size(), sink);
        bounded = bounded && framer.pending_bytes() == 0;
    }
    CHECK(bounded);
    CHECK(sink.events.empty());
    const std::string end = IAC_SE + "\r\n/ping ok\r\n";
    framer.feed(end.data(), end.size(), sink);
    CHECK((sink.events == Events{"/ping ok"}));
}

TEST(endless_subnegotiation_of_iac_iac_is_bounded_too) {
    term::Terminal framer;
    Collector sink;
    framer.feed(IAC_SB.data(), IAC_SB.size(), sink);
    std::string filler;
    for (int i = 0; i < (1 << 19); ++i)
        filler += IAC_IAC;
    framer.feed(filler.data(), filler.size(), sink);
    CHECK(framer.pending_bytes() == 0);
    const std::string end = IAC_SE + "\r\nok\r\n";
    framer.feed(end.data(), end.size(), sink);
    CHECK((sink.events == Events{"ok"}));
}

// ---- Editing: BS, DEL, TAB ----------------------------------------------------------------------

TEST(backspace_erases_the_last_character) { CHECK((frame("abcd\b\bx\n") == Events{"abx"})); }

TEST(delete_erases_the_last_character) { CHECK((frame("abcd\x7f\x7fx\n") == Events{"abx"})); }

TEST(backspace_erases_a_whole_two_byte_character) { CHECK((frame("caf\xc3\xa9\b\n") == Events{"caf"})); }

TEST(backspace_erases_a_whole_three_byte_character) {
    CHECK((frame("a\xed\x95\x9c\x7f" "b\n") == Events{"ab"}));  // U+D55C
}

TEST(backspace_erases_a_whole_four_byte_character) {
    CHECK((frame("a\xf0\x9f\x98\x80\b" "b\n") == Events{"ab"}));  // U+1F600
}

TEST(backspace_erases_one_character_at_a_time) {
    CHECK((frame("\xed\x95\x9c\xea\xb8\x80\b\n") == Events{"\xed\x95\x9c"}));
    CHECK((frame("\xc3\xa9" "a\b\b" "b\n") == Events{"b"}));
    CHECK((frame("x\xf0\x9f\x98\x80\xc3\xa9\b\b\n") == Events{"x"}));
}

TEST(backspace_on_an_empty_line_does_nothing) {
    CHECK((frame("\b\b\x7f" "ab\n") == Events{"ab"}));
    CHECK((frame("a\b\b\b" "b\n") == Events{"b"}));
    CHECK((frame(IAC_EC + "ab\n") == Events{"ab"}));
}

TEST(a_line_erased_to_nothing_is_ignored) { CHECK((frame("ab\b\b\nz\n") == Events{"z"})); }

TEST(tab_becomes_a_space) { CHECK((frame("a\tb\t\tc\n") == Events{"a b  c"})); }

// ---- Control bytes are dropped ------------------------------------------------------------------

TEST(every_other_control_byte_is_dropped) {
    for (int c = 0; c < 0x20; ++c) {
        if (c == '\t' || c == '\n' || c == '\r' || c == '\b')
            continue;
        CHECK((frame("a" + bytes({c}) + "b\n") == Events{"ab"}));
    }
}

TEST(all_control_bytes_together_are_dropped) {
    std::string line = "a";
    for (int c = 0; c < 0x20; ++c)
        if (c != '\t' && c != '\n' && c != '\r' && c != '\b')
            line.push_back(static_cast<char>(c));
    CHECK((frame(line + "b\n") == Events{"ab"}));
}

TEST(escape_sequences_are_consumed_whole) {
    CHECK((frame("\x1b[31mred\x1b[0m\n") == Events{"red"}));
    CHECK((frame("\x1b[2J\x1b[H\x1b]0;title\x07!\n") == Events{"]0;title!"}));  // ESC ] is no key: ESC goes
}

TEST(arrow_and_function_keys_leave_nothing_in_the_line) {
    CHECK((frame("a\x1b[Ab\x1b[Bc\x1b[Cd\x1b[De\x1bOPf\x1b[15~g\x1b[1;5Ah\n") == Events{"abcdefgh"}));
}

TEST(a_lone_escape_drops_and_the_byte_after_it_stays) {
    CHECK((frame("a\x1bxb\x1b\x1b[Ac\n") == Events{"axbc"}));
}

TEST(an_endless_escape_sequence_gives_up_and_reads_the_rest) {
    CHECK((frame("a\x1b[" + std::string(40, '1') + "b\n") == Events{"a" + std::string(40 - 32, '1') + "b"}));
}

// ---- Other bytes pass through unchanged ----------------------------------------------------------

TEST(utf8_passes_through_unchanged) {
    CHECK((frame("\xed\x95\x9c\xea\xb8\x80 caf\xc3\xa9 \xf0\x9f\x98\x80\n") ==
           Events{"\xed\x95\x9c\xea\xb8\x80 caf\xc3\xa9 \xf0\x9f\x98\x80"}));
}

TEST(cp949_bytes_pass_through_unchanged) {
    CHECK((frame("\xb0\xa1\xb3\xaa \xc7\xd1\xb1\xdb\r\n") == Events{"\xb0\xa1\xb3\xaa \xc7\xd1\xb1\xdb"}));
}

TEST(every_printable_and_high_byte_passes_through) {
    std::string line = "<";
    for (int c = 0x20; c <= 0xFE; ++c)
        if (c != 0x7F)
            line.push_back(static_cast<char>(c));
    line += ">";
    CHECK((frame(line + "\n") == Events{line}));
}

// ---- The 512-byte limit ------------------------------------------------------------------------

TEST(a_line_of_exactly_512_bytes_is_accepted) {
    const std::string line(kMaxLineBytes, 'x');
    CHECK((frame(line + "\n") == Events{line}));
    CHECK((frame(line + "\r\n") == Events{line}));
}

TEST(a_line_of_513_bytes_gives_exactly_one_error_and_no_line) {
    CHECK((frame(std::string(kMaxLineBytes + 1, 'x') + "\n") == Events{kTooLong}));
}

TEST(the_error_comes_with_the_513th_byte_not_the_line_end) {
    term::Terminal framer;
    Collector sink;
    const std::string line(kMaxLineBytes, 'x');
    framer.feed(line.data(), line.size(), sink);
    CHECK(sink.events.empty());
    framer.feed("y", 1, sink);
    CHECK((sink.events == Events{kTooLong}));
    framer.feed("zzz\n", 4, sink);
    CHECK((sink.events == Events{kTooLong}));
}

TEST(a_200kb_line_gives_one_error_and_the_next_line_is_intact) {
    CHECK((frame(std::string(200 * 1024, 'x') + "\r\nnext\r\n") == Events{kTooLong, "next"}));
}

TEST(a_200kb_line_fed_in_small_chunks_gives_one_error) {
    term::Terminal framer;
    Collector sink;
    const std::string chunk(100, 'x');
    for (int i = 0; i < 2048; ++i)
        framer.feed(chunk.data(), chunk.size(), sink);
    CHECK(framer.pending_bytes() <= kMaxLineBytes);
    framer.feed("\nnext\n", 6, sink);
    CHECK((sink.events == Events{kTooLong, "next"}));
}

TEST(each_over_long_line_gets_its_own_error) {
    const std::string big(kMaxLineBytes + 1, 'x');
    CHECK((frame(big + "\r\n" + big + "\r" + NUL + big + "\rok\n") == Events{kTooLong, kTooLong, kTooLong, "ok"}));
}

TEST(the_limit_counts_the_line_as_edited) {
    const std::string full(kMaxLineBytes, 'x');
    CHECK((frame(full + "\by\n") == Events{std::string(kMaxLineBytes - 1, 'x') + "y"}));
    CHECK((frame(full + IAC_EC + "y\n") == Events{std::string(kMaxLineBytes - 1, 'x') + "y"}));
    CHECK((frame(full + IAC_EL + full + "\n") == Events{full}));
}

TEST(the_limit_counts_bytes_not_characters) {
    const std::string base(kMaxLineBytes - 2, 'x');
    CHECK((frame(base + "\xc3\xa9\n") == Events{base + "\xc3\xa9"}));  // 512 bytes
    CHECK((frame(base + "\xed\x95\x9c\n") == Events{kTooLong}));       // 513 bytes
}

TEST(the_limit_counts_before_trimming) {
    CHECK((frame(" " + std::string(kMaxLineBytes, 'x') + "\n") == Events{kTooLong}));
    CHECK((frame(std::string(kMaxLineBytes, 'x') + " \n") == Events{kTooLong}));
    CHECK((frame(std::string(kMaxLineBytes, 'x') + "\t\n") == Events{kTooLong}));
}

TEST(the_limit_does_not_count_what_is_dropped) {
    std::string typed;
    for (std::size_t i = 0; i < kMaxLineBytes; ++i)
        typed += "x\x1b" + IAC_NOP + bytes({255, 251, 1});
    CHECK((frame(typed + "\n") == Events{std::string(kMaxLineBytes, 'x')}));
}

TEST(iac_iac_counts_as_one_byte) {
    const std::string base(kMaxLineBytes - 1, 'x');
    CHECK((frame(base + IAC_IAC + "\n") == Events{base + "\xff"}));
    CHECK((frame(base + "x" + IAC_IAC + "\n") == Events{kTooLong}));
}

TEST(editing_cannot_save_a_line_that_passed_the_limit) {
    CHECK((frame(std::string(kMaxLineBytes + 1, 'x') + std::string(600, '\b') + "ok\n") == Events{kTooLong}));
    CHECK((frame(std::string(kMaxLineBytes + 1, 'x') + IAC_EL + "ok\nnext\n") == Events{kTooLong, "next"}));
}

// ---- Trimming and empty lines ------------------------------------------------------------------

TEST(leading_and_trailing_spaces_are_trimmed) {
    CHECK((frame("   a   b  \n") == Events{"a   b"}));
    CHECK((frame("\t a b \t \n") == Events{"a b"}));
}

TEST(only_spaces_are_trimmed) {
    CHECK((frame("\xc2\xa0x\xc2\xa0\n") == Events{"\xc2\xa0x\xc2\xa0"}));  // NO-BREAK SPACE stays
}

TEST(empty_and_all_space_lines_are_ignored) {
    CHECK((frame("\n\r\n\r" + NUL + "\r  \n\t\r\n \t \r\n\x01\n" + IAC_NOP + "\nx\n") == Events{"x"}));
}

// ---- The sink can stop the feeding ---------------------------------------------------------------

TEST(feed_returns_true_when_the_sink_never_stops) {
    term::Terminal framer;
    Collector sink;
    CHECK(framer.feed("a\nb\n", 4, sink));
    CHECK((sink.events == Events{"a", "b"}));
}

TEST(a_false_from_on_line_stops_feeding) {
    term::Terminal framer;
    Collector sink;
    sink.stop_after = 1;
    CHECK(!framer.feed("a\nb\nc\n", 6, sink));
    CHECK((sink.events == Events{"a"}));
}

TEST(a_false_from_on_line_too_long_stops_feeding) {
    term::Terminal framer;
    Collector sink;
    sink.stop_after = 1;
    const std::string stream = std::string(kMaxLineBytes + 1, 'x') + "\nb\n";
    CHECK(!framer.feed(stream.data(), stream.size(), sink));
    CHECK((sink.events == Events{kTooLong}));
}

// ---- Chunk boundaries -------------------------------------------------------------------------------

// Every rule above in one stream, with what it must give.
const std::string kShortSample =
    "hello\r\n"                                                                   // "hello"
    "/nick ann\n" +                                                               // "/nick ann"
    bytes({255, 253, 1, 255, 251, 31}) + "/move u\r" + NUL +                      // "/move u"
    "caf\xc3\xa9\b!\x1b[1m\r\n"                                                   // "caf!"
    "\t pad \t\n" +                                                               // "pad"
    IAC_SB + bytes({24, 0}) + "x" + IAC_IAC + "y\r\n" + IAC_SE + "sb" + IAC_NOP + "ok\r" +  // "sbok"
    "abc" + IAC_EC + "d" + IAC_EL + "new\x7f\x7f" "w\r\n"                         // "nw"
    "\xed\x95\x9c\xea\xb8\x80\b\xf0\x9f\x98\x80\x7f" "k\n"                        // "\xed\x95\x9c" "k"
    "\r\n   \n\x01\x02\n"                                                         // nothing
    "\xb0\xa1 /ping a  b\r" + NUL +                                               // "\xb0\xa1 /ping a  b"
    "bye" + IAC_IAC + "\r"                                                        // "bye\xff"
    "tail without an end";

const Events kShortSampleLines = {"hello", "/nick ann", "/move u", "caf!", "pad", "sbok", "nw",
                                  "\xed\x95\x9c" "k", "\xb0\xa1 /ping a  b", "bye\xff"};

const std::string kSample = kShortSample + "\n" + std::string(600, 'L') + "\n" + std::string(kMaxLineBytes, 'M') +
                            "\r\n" + std::string(kMaxLineBytes, 'N') + "\b\bnn\r\nend\n";

Events sample_lines() {
    Events lines = kShortSampleLines;
    lines.push_back("tail without an end");
    lines.push_back(kTooLong);
    lines.push_back(std::string(kMaxLineBytes, 'M'));
    lines.push_back(std::string(kMaxLineBytes - 2, 'N') + "nn");
    lines.push_back("end");
    return lines;
}

TEST(sample_stream_gives_the_expected_lines) {
    CHECK(frame(kShortSample) == kShortSampleLines);
    CHECK(frame(kSample) == sample_lines());
}

TEST(sample_stream_split_at_every_offset_gives_the_same_lines) {
    const Events whole = frame(kSample);
    for (std::size_t at = 0; at <= kSample.size(); ++at)
        CHECK(frame_chunks(kSample, {at}) == whole);
}

TEST(sample_stream_split_at_every_two_offsets_gives_the_same_lines) {
    const Events whole = frame(kShortSample);
    bool same = true;
    for (std::size_t a = 0; a <= kShortSample.size(); ++a)
        for (std::size_t b = a; b <= kShortSample.size(); ++b)
            same = same && frame_chunks(kShortSample, {a, b}) == whole;
    CHECK(same);
}

TEST(sample_stream_one_byte_at_a_time_gives_the_same_lines) { CHECK(frame_bytewise(kSample) == frame(kSample)); }

TEST(empty_chunks_change_nothing) {
    term::Terminal framer;
    Collector sink;
    for (char c : kShortSample) {
        CHECK(framer.feed(&c, 0, sink));
        framer.feed(&c, 1, sink);
    }
    CHECK(sink.events == kShortSampleLines);
}

// ---- Commands -------------------------------------------------------------------------------------

bool parses_as(std::string_view line, CommandKind kind, std::string_view word, std::string_view argument) {
    const proto::Command c = proto::parse_command(line);
    return c.kind == kind && c.word == word && c.argument == argument;
}

TEST(text_is_chat) {
    CHECK(parses_as("hello there", CommandKind::Chat, "", "hello there"));
    CHECK(parses_as("hi /nick bob", CommandKind::Chat, "", "hi /nick bob"));
    CHECK(parses_as("\xed\x95\x9c", CommandKind::Chat, "", "\xed\x95\x9c"));
}

TEST(parse_nick) {
    CHECK(parses_as("/nick ann", CommandKind::Nick, "/nick", "ann"));
    CHECK(parses_as("/nick", CommandKind::Nick, "/nick", ""));
    CHECK(parses_as("/nick   two words", CommandKind::Nick, "/nick", "two words"));
}

TEST(parse_who) {
    CHECK(parses_as("/who", CommandKind::Who, "/who", ""));
    CHECK(parses_as("/who extra", CommandKind::Who, "/who", "extra"));
}

TEST(parse_move_every_direction) {
    CHECK(parses_as("/move up", CommandKind::Move, "/move", "up"));
    CHECK(parses_as("/move down", CommandKind::Move, "/move", "down"));
    CHECK(parses_as("/move left", CommandKind::Move, "/move", "left"));
    CHECK(parses_as("/move right", CommandKind::Move, "/move", "right"));
    CHECK(parses_as("/move u", CommandKind::Move, "/move", "u"));
    CHECK(parses_as("/move d", CommandKind::Move, "/move", "d"));
    CHECK(parses_as("/move l", CommandKind::Move, "/move", "l"));
    CHECK(parses_as("/move r", CommandKind::Move, "/move", "r"));
    CHECK(parses_as("/MOVE UP", CommandKind::Move, "/MOVE", "UP"));
    CHECK(parses_as("/Move  Right", CommandKind::Move, "/Move", "Right"));
}

TEST(parse_board) { CHECK(parses_as("/board", CommandKind::Board, "/board", "")); }

TEST(parse_ping_returns_the_token_byte_for_byte) {
    CHECK(parses_as("/ping abc", CommandKind::Ping, "/ping", "abc"));
    CHECK(parses_as("/ping a  b   c", CommandKind::Ping, "/ping", "a  b   c"));
    CHECK(parses_as("/ping 1700000000123 42", CommandKind::Ping, "/ping", "1700000000123 42"));
    CHECK(parses_as("/ping \xff\xed\x95\x9c\xb0\xa1 /x", CommandKind::Ping, "/ping", "\xff\xed\x95\x9c\xb0\xa1 /x"));
    CHECK(parses_as("/ping", CommandKind::Ping, "/ping", ""));
}

TEST(parse_ping_through_the_framer_keeps_inner_spaces) {
    const Events lines = frame("  /ping  a  b\t c  \r\n");
    CHECK(lines.size() == 1);
    if (lines.size() == 1)
        CHECK(parses_as(lines[0], CommandKind::Ping, "/ping", "a  b  c"));
}

TEST(parse_stats) { CHECK(parses_as("/stats", CommandKind::Stats, "/stats", "")); }

TEST(parse_help) { CHECK(parses_as("/help", CommandKind::Help, "/help", "")); }

TEST(parse_quit) { CHECK(parses_as("/quit", CommandKind::Quit, "/quit", "")); }

TEST(parse_private_lines_and_their_short_forms) {
    CHECK(parses_as("/msg bob hi there", CommandKind::Msg, "/msg", "bob hi there"));
    CHECK(parses_as("/m bob hi", CommandKind::Msg, "/m", "bob hi"));
    CHECK(parses_as("/W bob hi", CommandKind::Msg, "/W", "bob hi"));
    CHECK(parses_as("/reply ok", CommandKind::Reply, "/reply", "ok"));
    CHECK(parses_as("/r  ok", CommandKind::Reply, "/r", "ok"));
    CHECK(parses_as("/ms bob", CommandKind::Unknown, "/ms", "bob"));   // no prefix matching
    CHECK(parses_as("/msgs bob", CommandKind::Unknown, "/msgs", "bob"));
    CHECK(parses_as("/re x", CommandKind::Unknown, "/re", "x"));
}

TEST(parse_me_away_ignore_history) {
    CHECK(parses_as("/me waves", CommandKind::Me, "/me", "waves"));
    CHECK(parses_as("/me", CommandKind::Me, "/me", ""));
    CHECK(parses_as("/away lunch", CommandKind::Away, "/away", "lunch"));
    CHECK(parses_as("/AWAY", CommandKind::Away, "/AWAY", ""));
    CHECK(parses_as("/ignore bob", CommandKind::Ignore, "/ignore", "bob"));
    CHECK(parses_as("/unignore bob", CommandKind::Unignore, "/unignore", "bob"));
    CHECK(parses_as("/history 5", CommandKind::History, "/history", "5"));
    CHECK(parses_as("/history", CommandKind::History, "/history", ""));
}

TEST(every_name_of_the_table_parses_to_its_row_and_help_has_a_row_each) {
    int names = 0;
    for (const proto::CommandInfo& command : proto::kCommands) {
        CHECK(command.syntax.size() < proto::kHelpSyntaxColumn && !command.help.empty());
        proto::any_name(command, [&](std::string_view name) {
            CHECK(proto::parse_command(name).kind == command.kind);
            CHECK(proto::command_info(command.kind).names == command.names);
            ++names;
            return false;
        });
    }
    CHECK(names == 20);
    CHECK(proto::command_info(CommandKind::Chat).syntax == "text");
}

TEST(http_request_lines_are_known_by_method_target_and_version) {
    for (const char* request : {"GET / HTTP/1.1", "POST /form HTTP/1.0", "PUT /x HTTP/1.1", "HEAD / HTTP/1.1",
                                "OPTIONS * HTTP/1.1", "DELETE /a?b=c HTTP/1.1", "CONNECT host:443 HTTP/1.1",
                                "PATCH /p HTTP/1.9"})
        CHECK(proto::is_http_request_line(request));
    for (const char* not_one : {"GET", "GET /", "GET / HTTP/2", "GET / HTTP/1.", "GET / HTTP/1.1x", "get / HTTP/1.1",
                                "GET  HTTP/1.1", "GET / x HTTP/1.1", "FETCH / HTTP/1.1", "hello GET / HTTP/1.1",
                                "GET / http/1.1", "/get / HTTP/1.1", "POST /form HTTP/1.a", ""})
        CHECK(!proto::is_http_request_line(not_one));
}

TEST(encoding_names) {
    proto::Encoding encoding = proto::Encoding::Utf8;
    CHECK(proto::parse_encoding("CP949", encoding) && encoding == proto::Encoding::Cp949);
    CHECK(proto::parse_encoding("utf8", encoding) && encoding == proto::Encoding::Utf8);
    CHECK(!proto::parse_encoding("utf-8", encoding) && !proto::parse_encoding("", encoding));
}

TEST(parse_unknown_command_keeps_its_word) {
    CHECK(parses_as("/anything-else", CommandKind::Unknown, "/anything-else", ""));
    CHECK(parses_as("/dance wildly", CommandKind::Unknown, "/dance", "wildly"));
    CHECK(parses_as("/", CommandKind::Unknown, "/", ""));
    CHECK(parses_as("/nicky bob", CommandKind::Unknown, "/nicky", "bob"));
    CHECK(parses_as("/nic", CommandKind::Unknown, "/nic", ""));
    CHECK(parses_as("//nick", CommandKind::Unknown, "//nick", ""));
    CHECK(parses_as("/\xed\x95\x9c", CommandKind::Unknown, "/\xed\x95\x9c", ""));
}

TEST(commands_are_case_insensitive) {
    CHECK(parses_as("/NICK Bob", CommandKind::Nick, "/NICK", "Bob"));
    CHECK(parses_as("/Who", CommandKind::Who, "/Who", ""));
    CHECK(parses_as("/BOARD", CommandKind::Board, "/BOARD", ""));
    CHECK(parses_as("/PiNg Tok", CommandKind::Ping, "/PiNg", "Tok"));
    CHECK(parses_as("/STATS", CommandKind::Stats, "/STATS", ""));
    CHECK(parses_as("/HELP", CommandKind::Help, "/HELP", ""));
    CHECK(parses_as("/Quit", CommandKind::Quit, "/Quit", ""));
}

// ---- Nicks and directions ----------------------------------------------------------------------------

TEST(nick_length_edges) {
    CHECK(!proto::is_valid_nick(""));
    CHECK(proto::is_valid_nick("a"));
    CHECK(proto::is_valid_nick(std::string(proto::kMaxNickChars, 'x')));
    CHECK(!proto::is_valid_nick(std::string(proto::kMaxNickChars + 1, 'x')));
}

TEST(nick_allowed_characters) {
    CHECK(proto::is_valid_nick("azAZ09_-"));
    CHECK(proto::is_valid_nick("Ann_B-2"));
    CHECK(proto::is_valid_nick("-"));
    CHECK(proto::is_valid_nick("_"));
}

TEST(nick_bad_characters) {
    // The neighbours of every allowed range, and the usual suspects.
    for (const char* bad : {"ann b", "ann!", "a/b", "a:b", "a@b", "a[b", "a`b", "a{b", "a.b", "a+b", "a\tb", "a,b"})
        CHECK(!proto::is_valid_nick(bad));
    CHECK(!proto::is_valid_nick("\xc3\xa9"));
    CHECK(!proto::is_valid_nick("a\xff"));
    CHECK(!proto::is_valid_nick(std::string("a\0b", 3)));
}

bool direction_is(std::string_view text, int dx, int dy) {
    proto::Step step{7, 7};
    return proto::parse_direction(text, step) && step.dx == dx && step.dy == dy;
}

TEST(parse_direction_long_short_and_any_case) {
    for (const char* up : {"up", "UP", "Up", "uP", "u", "U"})
        CHECK(direction_is(up, 0, -1));
    for (const char* down : {"down", "DOWN", "Down", "d", "D"})
        CHECK(direction_is(down, 0, 1));
    for (const char* left : {"left", "LEFT", "Left", "l", "L"})
        CHECK(direction_is(left, -1, 0));
    for (const char* right : {"right", "RIGHT", "rIGHT", "r", "R"})
        CHECK(direction_is(right, 1, 0));
}

TEST(parse_direction_rejects_everything_else) {
    for (const char* bad : {"", "upp", "upward", "ud", " up", "up ", "north", "x", "dn", "rt", "lef", "u p"}) {
        proto::Step step{7, 7};
        CHECK(!proto::parse_direction(bad, step));
        CHECK(step.dx == 7 && step.dy == 7);
    }
}

// ---- Server to client: append_wire_line and ServerLineReader -------------------------------------------

TEST(wire_line_ends_in_cr_lf) {
    std::string out;
    proto::append_wire_line(out, "hello");
    CHECK(out == "hello\r\n");
    proto::append_wire_line(out, "");
    CHECK(out == "hello\r\n\r\n");
}

TEST(wire_line_doubles_ff) {
    std::string out;
    proto::append_wire_line(out, "a\xff" "b");
    CHECK(out == "a\xff\xff" "b\r\n");
    out.clear();
    proto::append_wire_line(out, "\xff\xff");
    CHECK(out == "\xff\xff\xff\xff\r\n");
}

TEST(wire_line_appends_to_what_is_there) {
    std::string out = "x";
    proto::append_wire_line(out, proto::kErrLineTooLong);
    CHECK(out == "xERR line too long (max 512)\r\n");
}

Events read_server(const std::vector<std::string>& chunks) {
    proto::ServerLineReader reader;
    Events lines;
    for (const std::string& chunk : chunks)
        reader.feed(chunk.data(), chunk.size(), [&](std::string_view line) { lines.emplace_back(line); });
    return lines;
}

Events read_server_bytewise(const std::string& stream) {
    std::vector<std::string> chunks;
    for (char c : stream)
        chunks.emplace_back(1, c);
    return read_server(chunks);
}

TEST(server_reader_splits_at_cr_lf_and_lf) {
    CHECK((read_server({"one\r\ntwo\nthree\r\n"}) == Events{"one", "two", "three"}));
}

TEST(server_reader_keeps_a_cr_that_is_not_before_lf) { CHECK((read_server({"a\rb\n"}) == Events{"a\rb"})); }

TEST(server_reader_delivers_nothing_before_the_line_end) { CHECK(read_server({"partial"}).empty()); }

TEST(server_reader_decodes_iac_iac) {
    CHECK((read_server({"ff\xff\xff!\r\n\xff\xff\xff\xff\r\n"}) == Events{"ff\xff!", "\xff\xff"}));
}

TEST(server_reader_iac_iac_split_across_chunks) {
    CHECK((read_server({"a\xff", "\xff" "b\r", "\n"}) == Events{"a\xff" "b"}));
}

TEST(server_reader_split_at_every_offset) {
    const std::string stream = "one\r\ntwo\nff\xff\xff!\r\n\xff\xff\r\nlast\r\n";
    const Events whole = read_server({stream});
    CHECK((whole == Events{"one", "two", "ff\xff!", "\xff", "last"}));
    for (std::size_t at = 0; at <= stream.size(); ++at)
        CHECK(read_server({stream.substr(0, at), stream.substr(at)}) == whole);
    CHECK(read_server_bytewise(stream) == whole);
}

TEST(server_reader_delivers_an_over_long_line_in_pieces) {
    const std::string stream = std::string(kMaxServerLineBytes + 10, 'x') + "\r\nnext\r\n";
    const Events lines = read_server({stream});
    CHECK(lines.size() == 3);
    if (lines.size() == 3) {
        CHECK(lines[0] == std::string(kMaxServerLineBytes, 'x'));
        CHECK(lines[1] == std::string(10, 'x'));
        CHECK(lines[2] == "next");
    }
    CHECK(read_server_bytewise(stream) == lines);
}

TEST(server_reader_delivers_a_much_longer_line_in_pieces) {
    const std::string stream = std::string(2 * kMaxServerLineBytes + 1, 'y') + "\n";
    CHECK((read_server({stream}) ==
           Events{std::string(kMaxServerLineBytes, 'y'), std::string(kMaxServerLineBytes, 'y'), "y"}));
}

TEST(server_reader_line_of_exactly_the_maximum_is_one_line) {
    const std::string line(kMaxServerLineBytes, 'x');
    CHECK((read_server({line + "\n"}) == Events{line}));
    CHECK((read_server({line + "\r\n"}) == Events{line}));          // not the line and an empty one
    CHECK((read_server({line + "\r", "\n"}) == Events{line}));
    CHECK((read_server({line + "\rz\n"}) == Events{line, "\rz"}));  // a CR that did not end it stays
    CHECK((read_server({line + line + "\r\n"}) == Events{line, line}));
}

TEST(append_wire_line_round_trips_through_the_reader) {
    std::string line;
    for (int c = 0x20; c <= 0xFF; ++c)
        line.push_back(static_cast<char>(c));
    std::string wire;
    proto::append_wire_line(wire, line);
    proto::append_wire_line(wire, "\xff");
    proto::append_wire_line(wire, "ok");
    const Events expected = {line, "\xff", "ok"};
    CHECK(read_server({wire}) == expected);
    CHECK(read_server_bytewise(wire) == expected);
}

}  // namespace

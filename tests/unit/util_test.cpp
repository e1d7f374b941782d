// Unit tests of util.h: the slot queue, the send buffer with short sends, the token bucket, numbers and options,
// and the compile-time check of texts against constants.
#include "check.h"
#include "util.h"

#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

TEST(slot_queue_is_first_in_first_out) {
    SlotQueue queue;
    queue.reserve(8);
    queue.push(3), queue.push(1), queue.push(7);
    CHECK(queue.size() == 3);
    CHECK(queue.pop() == 3 && queue.pop() == 1 && queue.pop() == 7);
    CHECK(queue.empty());
}

TEST(slot_queue_holds_a_slot_once) {
    SlotQueue queue;
    queue.reserve(4);
    queue.push(2), queue.push(2), queue.push(0), queue.push(2);
    CHECK(queue.size() == 2 && queue.contains(2) && !queue.contains(1));
    CHECK(queue.pop() == 2);
    CHECK(!queue.contains(2));
    queue.push(2);  // once popped, it may come back, at the end
    CHECK(queue.pop() == 0 && queue.pop() == 2);
}

TEST(slot_queue_wraps_around_its_ring) {
    SlotQueue queue;
    queue.reserve(3);
    for (std::uint32_t round = 0; round < 10; ++round) {
        queue.push(round % 3), queue.push((round + 1) % 3);
        CHECK(queue.pop() == round % 3 && queue.pop() == (round + 1) % 3);
    }
    CHECK(queue.empty());
}

std::string take_all(SendBuffer& out) { return std::string(out.next_data(), out.next_size()); }

TEST(send_buffer_sends_what_was_queued_in_one_piece) {
    SendBuffer out;
    CHECK(!out.start());  // nothing to send
    out.queue("one\r\n"), out.queue("two\r\n");
    CHECK(out.unsent() == 10);
    CHECK(out.start() && out.in_flight());
    CHECK(take_all(out) == "one\r\ntwo\r\n");
    CHECK(!out.start());  // one send at a time
    CHECK(!out.on_sent(10));
    CHECK(!out.in_flight() && out.unsent() == 0);
}

TEST(send_buffer_finishes_a_short_send_before_what_came_after) {
    SendBuffer out;
    out.queue("abcdef");
    out.start();
    out.queue("XYZ");  // queued while the send is in flight
    CHECK(out.unsent() == 9);
    CHECK(out.on_sent(4));  // short: the rest goes next
    CHECK(take_all(out) == "ef");
    CHECK(out.unsent() == 5);
    CHECK(out.on_sent(2));  // done: what was queued meanwhile goes now
    CHECK(take_all(out) == "XYZ");
    CHECK(!out.on_sent(3));
    CHECK(out.unsent() == 0);
}

TEST(send_buffer_reset_forgets_everything_and_gives_back_big_buffers) {
    SendBuffer out;
    out.queue(std::string(100000, 'x'));
    out.start();
    out.queue("tail");
    out.reset(16 * 1024);
    CHECK(out.unsent() == 0 && !out.in_flight() && !out.has_queued());
    out.queue("new");
    CHECK(out.start() && take_all(out) == "new");
}

TEST(token_bucket_gives_its_burst_at_once_then_its_rate) {
    TokenBucket bucket(20, 3);  // 20 a second: one every 50 ms
    const std::uint64_t t0 = 100000;
    CHECK(bucket.spend(t0) && bucket.spend(t0));
    CHECK(!bucket.spend(t0));  // the third was the last of the burst
    CHECK(bucket.ready_at(t0) == t0 + 50);
    CHECK(bucket.ready_at(t0 + 49) == t0 + 50);  // asking again does not move it
    CHECK(!bucket.spend(t0 + 50));  // one refilled, one spent: empty again
    CHECK(bucket.ready_at(t0 + 50 + 10) == t0 + 100);
}

TEST(token_bucket_refills_to_its_burst_and_no_further) {
    TokenBucket bucket(10, 2);
    const std::uint64_t t0 = 5000;
    bucket.spend(t0);
    bucket.spend(t0);
    CHECK(bucket.ready_at(t0 + 3600 * 1000) == t0 + 3600 * 1000);  // an hour idle
    CHECK(bucket.spend(t0 + 3600 * 1000) && !bucket.spend(t0 + 3600 * 1000));  // still a burst of 2
}

TEST(token_bucket_of_rate_zero_never_limits) {
    TokenBucket bucket(0, 0);
    CHECK(!bucket.limited());
    for (int i = 0; i < 10000; ++i)
        CHECK(bucket.spend(1));
    CHECK(bucket.ready_at(1) == 1);
}

TEST(parse_int_takes_whole_numbers_in_range_only) {
    int value = 0;
    CHECK(parse_int("42", 1, 100, value) && value == 42);
    CHECK(!parse_int("0", 1, 100, value) && !parse_int("101", 1, 100, value));
    CHECK(!parse_int("", 1, 100, value) && !parse_int("4x", 1, 100, value) && !parse_int("x4", 1, 100, value));
    CHECK(!parse_int("99999999999999999999", 1, 100, value));
    CHECK(value == 42);
}

TEST(parse_thousandths_takes_up_to_three_decimals) {
    int value = 0;
    CHECK(parse_thousandths("20", 1, 1000000, value) && value == 20000);
    CHECK(parse_thousandths("0.005", 1, 1000000, value) && value == 5);
    CHECK(parse_thousandths("2.5", 1, 1000000, value) && value == 2500);
    CHECK(parse_thousandths("1000", 1, 1000000, value) && value == 1000000);
    CHECK(!parse_thousandths("0", 1, 1000000, value) && !parse_thousandths("1000.001", 1, 1000000, value));
    CHECK(!parse_thousandths("0.0005", 1, 1000000, value));  // a fourth decimal
    CHECK(!parse_thousandths("", 1, 100, value) && !parse_thousandths(".5", 1, 1000, value));
    CHECK(!parse_thousandths("1.", 1, 1000, value) && !parse_thousandths("1.5x", 1, 10000, value));
    CHECK(!parse_thousandths("-1", 0, 1000, value) && !parse_thousandths("99999999999", 0, 1000, value));
    CHECK(value == 1000000);
}

struct Parsed {
    int code = 0;
    int port = 9000;
    bool echo = false;
    const char* bind = "0.0.0.0";
    std::vector<const char*> positional;
};

Parsed parse(std::vector<const char*> args, bool positional_allowed = true) {
    Parsed p;
    args.insert(args.begin(), "prog");
    const std::vector<Option> options = {Option::Number("--port", p.port, 1, 65535), Option::Flag("--echo", p.echo),
                                         Option::Text("--bind", p.bind)};
    std::vector<char*> argv;
    for (const char* a : args)
        argv.push_back(const_cast<char*>(a));
    // What parse_options prints (the usage, the errors) is not this test's business.
    std::fflush(stdout), std::fflush(stderr);
    const int saved_out = dup(1), saved_err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1), dup2(null, 2);
    p.code = parse_options(static_cast<int>(argv.size()), argv.data(), options, "usage: prog\n",
                           positional_allowed ? &p.positional : nullptr);
    std::fflush(stdout), std::fflush(stderr);
    dup2(saved_out, 1), dup2(saved_err, 2);
    close(null), close(saved_out), close(saved_err);
    return p;
}

TEST(options_fill_their_values) {
    const Parsed p = parse({"--port", "1234", "--echo", "--bind", "::1", "host", "99"});
    CHECK(p.code == kOptionsOk);
    CHECK(p.port == 1234 && p.echo && std::string(p.bind) == "::1");
    CHECK(p.positional.size() == 2 && std::string(p.positional[1]) == "99");
}

TEST(bad_options_are_exit_code_two_and_help_is_zero) {
    CHECK(parse({"--port", "0"}).code == kExitBadOptions);
    CHECK(parse({"--port"}).code == kExitBadOptions);
    CHECK(parse({"--frobnicate"}).code == kExitBadOptions);
    CHECK(parse({"stray"}, false).code == kExitBadOptions);
    CHECK(parse({"--help"}).code == 0 && parse({"/?"}).code == 0 && parse({"-h"}).code == 0);
}

static_assert(says_number("ERR line too long (max 512)", "(max ", 512, ")"));
static_assert(!says_number("ERR line too long (max 512)", "(max ", 51, ")"));
static_assert(says_number("an 8x8 board", "", 8, "x") && says_number("--port 9000 ", "--port ", 9000));
static_assert(says_number("0", "", 0) && !says_number("", "", 0));

TEST(says_number_finds_a_number_in_its_place) {
    CHECK(says_number("1-16 of", "1-", 16, " of"));
    CHECK(!says_number("1-160 of", "1-", 16, " of"));
    CHECK(says_number("x 18446744073709551615", "x ", 18446744073709551615ull));
}

}  // namespace

// Unit tests of bots.h: what each mix sends, and that every kind of bad reply is caught: lost,
// duplicated, reordered, unexpected, and a move to the wrong square; the histogram's percentiles.
#include "bots.h"
#include "check.h"

#include <string>
#include <vector>

namespace {

using bots::Conversation;
using bots::Heard;
using bots::Mix;

struct Bot {
    Conversation talk;
    std::uint64_t errors[bots::kErrorKinds] = {};
    std::vector<std::string> sent;  // each message as it went on the wire
    std::uint64_t now_us = 1000;

    explicit Bot(Mix mix, std::uint32_t id = 7) : talk(id, mix) {}
    std::uint64_t error_count() const {
        std::uint64_t sum = 0;
        for (std::uint64_t e : errors)
            sum += e;
        return sum;
    }
    const std::string& send() {
        std::string wire;
        talk.compose(now_us, wire);
        sent.push_back(wire);
        now_us += 100;
        return sent.back();
    }
    Heard hear(const std::string& line) { return talk.on_line(line, now_us += 50, errors); }
    Heard hear(const std::string& line, std::uint64_t at_us) { return talk.on_line(line, now_us = at_us, errors); }
    // The token of message i: "7.i.time".
    std::string token(std::size_t i) const {
        const std::string& wire = sent[i];
        const std::size_t begin = wire.find("7.");
        return wire.substr(begin, wire.find_first_of(" \r\n", begin) - begin);
    }
};

Bot welcomed(Mix mix) {
    Bot bot(mix);
    const Heard heard = bot.hear("* welcome guest3, 2 online - /help lists commands");
    CHECK(heard.kind == Heard::Welcome && bot.talk.welcomed());
    return bot;
}

TEST(ping_bots_send_a_token_and_check_its_pong) {
    Bot bot = welcomed(Mix::Ping);
    CHECK(bot.send() == "/ping 7.0.1050\r\n");  // bot 7, message 0, sent at 1050 us
    CHECK(bot.talk.awaiting() == 1);
    const Heard heard = bot.hear("PONG 7.0.1050");  // heard at 1200 us
    CHECK(heard.kind == Heard::Reply && heard.round_trip_us == 150);
    CHECK(bot.talk.awaiting() == 0 && bot.error_count() == 0);
}

TEST(notices_and_other_peoples_lines_are_not_replies) {
    Bot bot = welcomed(Mix::Ping);
    bot.send();
    CHECK(bot.hear("* guest9 joined").kind == Heard::Other);
    CHECK(bot.hear("guest9: PONG " + bot.token(0)).kind == Heard::Other);
    CHECK(bot.error_count() == 0 && bot.talk.awaiting() == 1);
}

TEST(a_lost_reply_is_one_error_and_the_rest_still_count) {
    Bot bot = welcomed(Mix::Ping);
    for (int i = 0; i < 4; ++i)
        bot.send();
    CHECK(bot.hear("PONG " + bot.token(0)).kind == Heard::Reply);
    CHECK(bot.hear("PONG " + bot.token(2)).kind == Heard::Reply);  // 1 was lost
    CHECK(bot.hear("PONG " + bot.token(3)).kind == Heard::Reply);
    CHECK(bot.errors[bots::kOutOfOrder] == 1 && bot.error_count() == 1);
    CHECK(bot.talk.awaiting() == 0);
}

TEST(a_duplicated_reply_is_an_error) {
    Bot bot = welcomed(Mix::Ping);
    bot.send(), bot.send();
    bot.hear("PONG " + bot.token(0));
    CHECK(bot.hear("PONG " + bot.token(0)).kind == Heard::Other);
    CHECK(bot.errors[bots::kOutOfOrder] == 1);
    CHECK(bot.hear("PONG " + bot.token(1)).kind == Heard::Reply);
    CHECK(bot.error_count() == 1);
}

TEST(reordered_replies_are_caught) {
    Bot bot = welcomed(Mix::Ping);
    bot.send(), bot.send();
    bot.hear("PONG " + bot.token(1));  // the second first: the first counts as lost
    bot.hear("PONG " + bot.token(0));  // and then it is not awaited any more
    CHECK(bot.errors[bots::kOutOfOrder] == 2);
}

TEST(a_reply_made_up_or_for_another_bot_is_unexpected) {
    Bot bot = welcomed(Mix::Ping);
    bot.send();
    bot.hear("PONG 8.0.1000");    // another bot's token
    bot.hear("PONG garbage");
    bot.hear("PONG " + bot.token(0) + " x");  // something after the token
    CHECK(bot.errors[bots::kUnexpectedLine] == 3);
    CHECK(bot.talk.awaiting() == 1);
}

TEST(an_err_line_is_an_error_in_every_mix) {
    for (Mix mix : {Mix::Ping, Mix::Chat, Mix::Move, Mix::Echo}) {
        Bot bot(mix);
        bot.hear("ERR something went wrong");
        CHECK(bot.errors[bots::kUnexpectedLine] == 1);
    }
}

TEST(anything_but_the_welcome_first_is_unexpected) {
    Bot bot(Mix::Chat);
    CHECK(!bot.talk.welcomed());
    bot.hear("hello");
    bot.hear("* welcome no comma here");
    bot.hear("* welcome bad nick!, 1 online");
    CHECK(bot.errors[bots::kUnexpectedLine] == 3 && !bot.talk.welcomed());
}

TEST(a_pace_owes_one_action_an_interval_and_at_most_a_second_s_worth) {
    bots::Pace pace(0, 2000, 1000);  // bot 0: no phase; 2 a second, one every 500,000 us
    CHECK(pace.next_due_us() == 1000 && pace.take(999) == 0);
    CHECK(pace.take(1000) == 1 && pace.next_due_us() == 501000);
    CHECK(pace.take(400000) == 0 && pace.take(501000) == 1);
    CHECK(pace.take(10000000) == 2);  // 19 owed after a long sleep: a second's worth is taken
    CHECK(pace.next_due_us() == 10001000);
    bots::Pace slow(0, 5, 0);  // 0.005 a second: one in 200 s
    CHECK(slow.take(0) == 1 && slow.next_due_us() == 200000000);
    bots::Pace spread(1, 5, 0);  // bot 1 starts 0.618 of the interval later
    CHECK(spread.next_due_us() > 123000000 && spread.next_due_us() < 124000000);
}

TEST(chat_bots_find_their_own_line_among_the_others) {
    Bot bot = welcomed(Mix::Chat);
    CHECK(bot.send() == "c 7.0.1050\r\n");
    CHECK(bot.hear("guest9: c 9.0.5").kind == Heard::Chat);
    CHECK(bot.hear("guest3: hello").kind == Heard::Other);  // a person's chat: not checked
    CHECK(bot.hear("guest3: c 7.0.1050").kind == Heard::Reply);
    CHECK(bot.error_count() == 0);
    bot.send();
    bot.hear("guest3: c 7.5.1");  // ours, but never sent: a made-up sequence
    CHECK(bot.errors[bots::kOutOfOrder] == 1);
    bot.hear("guest30: c 7.1.1100");  // our token under a nick that only starts like ours
    CHECK(bot.errors[bots::kUnexpectedLine] == 1);
}

TEST(chat_bots_check_each_other_bot_s_lines_in_order_from_the_first_heard) {
    Bot bot = welcomed(Mix::Chat);
    const Heard first = bot.hear("guest9: c 9.40.5000", 7000);  // joined late: 0 to 39 were before it
    CHECK(first.kind == Heard::Chat && first.sequence == 40 && first.round_trip_us == 2000);
    bot.hear("guest9: c 9.41.5100");
    bot.hear("guest12: c 12.0.5100");  // another sender, counted on its own
    CHECK(bot.error_count() == 0);
    bot.hear("guest9: c 9.44.5200");  // 42 and 43 lost
    CHECK(bot.errors[bots::kOthersOutOfOrder] == 2);
    bot.hear("guest9: c 9.44.5200");  // again
    bot.hear("guest9: c 9.43.5200");  // too late
    CHECK(bot.errors[bots::kOthersOutOfOrder] == 4);
    CHECK(bot.hear("guest9: c 9.45.5300").kind == Heard::Chat && bot.errors[bots::kOthersOutOfOrder] == 4);
}

TEST(a_reconnected_chat_bot_owes_nothing_said_while_it_was_away) {
    Bot bot = welcomed(Mix::Chat);
    bot.hear("guest9: c 9.1.5000");
    bot.talk.restart();
    bot.hear("* welcome guest40, 3 online - /help lists commands");
    bot.hear("guest9: c 9.7.6000");
    CHECK(bot.error_count() == 0);
}

TEST(move_bots_walk_a_square_and_check_every_step) {
    Bot bot = welcomed(Mix::Move);
    CHECK(bot.send() == "/move right\r\n");
    CHECK(bot.send() == "/move down\r\n");
    CHECK(bot.send() == "/move left\r\n");
    CHECK(bot.send() == "/move up\r\n");
    CHECK(bot.hear("MOVE guest3 4 4").kind == Heard::Reply);  // the first only has to be on the board
    CHECK(bot.hear("MOVE guest30 1 1").kind == Heard::Other);
    CHECK(bot.hear("MOVE guest3 4 5").kind == Heard::Reply);
    CHECK(bot.hear("MOVE guest3 3 5").kind == Heard::Reply);
    CHECK(bot.hear("MOVE guest3 3 4").kind == Heard::Reply);
    CHECK(bot.error_count() == 0);
}

TEST(a_move_against_the_edge_stays_and_that_is_right) {
    Bot bot = welcomed(Mix::Move);
    bot.send(), bot.send();  // right, down
    bot.hear("MOVE guest3 7 0");
    bot.hear("MOVE guest3 7 1");
    bot.send();  // left
    bot.hear("MOVE guest3 6 1");
    CHECK(bot.error_count() == 0);
    Bot edge = welcomed(Mix::Move);
    edge.send(), edge.send();  // right, down
    edge.hear("MOVE guest3 7 7");
    edge.hear("MOVE guest3 7 7");  // down from the bottom row: stays
    CHECK(edge.error_count() == 0);
}

TEST(a_move_to_the_wrong_square_is_caught_once) {
    Bot bot = welcomed(Mix::Move);
    bot.send(), bot.send(), bot.send();
    bot.hear("MOVE guest3 2 2");
    bot.hear("MOVE guest3 2 2");  // down was not made
    bot.hear("MOVE guest3 1 2");  // left, from where the server says it is
    CHECK(bot.errors[bots::kWrongSquare] == 1 && bot.error_count() == 1);
}

TEST(a_move_not_made_or_malformed_is_an_error) {
    Bot bot = welcomed(Mix::Move);
    bot.hear("MOVE guest3 1 1");  // nothing awaited
    CHECK(bot.errors[bots::kOutOfOrder] == 1);
    bot.send();
    bot.hear("MOVE guest3 9 1");
    bot.hear("MOVE guest3 1");
    CHECK(bot.errors[bots::kUnexpectedLine] == 2);
}

TEST(echo_bots_need_no_welcome_and_check_every_byte) {
    Bot bot(Mix::Echo);
    CHECK(bot.talk.welcomed());
    const std::string wire = bot.send();
    CHECK(wire.size() == bots::kEchoMessageBytes && wire.back() == '\n');
    const std::string line = wire.substr(0, wire.size() - 1);
    CHECK(bot.hear(line).kind == Heard::Reply);
    bot.send();
    std::string damaged = bot.sent[1].substr(0, bot.sent[1].size() - 1);
    damaged[damaged.size() - 1] = 'x';
    CHECK(bot.hear(damaged).kind == Heard::Other);
    CHECK(bot.errors[bots::kUnexpectedLine] == 1);
}

TEST(a_reconnect_awaits_the_welcome_again) {
    Bot bot = welcomed(Mix::Move);
    bot.send();
    bot.hear("MOVE guest3 5 5");
    bot.talk.restart();
    CHECK(!bot.talk.welcomed());
    bot.hear("* welcome guest12, 1 online - /help lists commands");
    bot.send();
    CHECK(bot.hear("MOVE guest12 0 3").kind == Heard::Reply);  // a new square: not checked against the old
    CHECK(bot.error_count() == 0);
}

TEST(a_bot_stops_sending_when_its_ring_is_full) {
    Bot bot = welcomed(Mix::Ping);
    for (std::size_t i = 0; i < bots::kMaxOutstanding; ++i)
        bot.send();
    CHECK(!bot.talk.can_send());
    bot.hear("PONG " + bot.token(0));
    CHECK(bot.talk.can_send());
    bot.talk.forget_awaited();
    CHECK(bot.talk.awaiting() == 0);
}

TEST(parse_token_takes_exactly_three_numbers) {
    std::uint64_t fields[3] = {};
    CHECK(bots::parse_token("1.2.3", fields) && fields[0] == 1 && fields[1] == 2 && fields[2] == 3);
    CHECK(!bots::parse_token("1.2", fields) && !bots::parse_token("1.2.3.", fields));
    CHECK(!bots::parse_token(".2.3", fields) && !bots::parse_token("1..3", fields) && !bots::parse_token("a.b.c", fields));
}

TEST(histogram_percentiles_are_within_a_bucket) {
    bots::Histogram h;
    CHECK(h.percentile_ms(0.5) == 0.0);
    for (std::uint64_t us = 1; us <= 1000; ++us)
        h.add(us * 1000);  // 1 ms .. 1000 ms
    CHECK(h.total() == 1000);
    const double p50 = h.percentile_ms(0.50), p99 = h.percentile_ms(0.99);
    CHECK(p50 > 500 * 0.94 && p50 < 500 * 1.06);
    CHECK(p99 > 990 * 0.94 && p99 <= 1000);
    CHECK(h.max_ms() == 1000.0);
}

}  // namespace

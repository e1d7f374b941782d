// Unit tests of console_commands.h, the operator's console: the command parser, MINUTES, and the ban list
// (an IPv6 address bans its /64, bans end on time).
#include "check.h"
#include "console_commands.h"

#include <cstdint>
#include <string>
#include <vector>

namespace {

using console::Kind;

console::Range v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    const std::uint8_t bytes[4] = {a, b, c, d};
    return console::Range::of_v4(bytes);
}

console::Range v6(std::uint16_t first, std::uint16_t last) {  // first:0:0:0:0:0:0:last
    std::uint8_t bytes[16] = {};
    bytes[0] = static_cast<std::uint8_t>(first >> 8);
    bytes[1] = static_cast<std::uint8_t>(first & 0xFF);
    bytes[14] = static_cast<std::uint8_t>(last >> 8);
    bytes[15] = static_cast<std::uint8_t>(last & 0xFF);
    return console::Range::of_v6(bytes);
}

TEST(commands_are_parsed_with_their_argument_trimmed_in_any_case) {
    const console::Command kick = console::parse("  KICK  bob   spamming the room  ");
    CHECK(kick.kind == Kind::Kick && kick.word == "KICK" && kick.argument == "bob   spamming the room");
    CHECK(console::parse("trace").kind == Kind::Trace && console::parse("trace").argument.empty());
    CHECK(console::parse("dance").kind == Kind::Unknown && console::parse("dance").word == "dance");
    CHECK(console::parse("   ").kind == Kind::Unknown && console::parse("   ").word.empty());
    for (const console::Info& info : console::kCommands)
        CHECK(console::parse(std::string(info.names) + " x").kind == info.kind);
}

TEST(a_word_and_the_rest) {
    const auto [nick, reason] = console::split_word("bob  too loud ");
    CHECK(nick == "bob" && reason == "too loud");
    const auto [alone, nothing] = console::split_word("bob");
    CHECK(alone == "bob" && nothing.empty());
}

TEST(minutes_may_be_decimal_and_must_be_positive) {
    std::uint64_t ms = 0;
    CHECK(console::parse_minutes("0.05", ms) && ms == 3000);
    CHECK(console::parse_minutes("60", ms) && ms == 3600000);
    CHECK(console::parse_minutes("1.5", ms) && ms == 90000);
    CHECK(!console::parse_minutes("0", ms) && !console::parse_minutes("-1", ms) && !console::parse_minutes("ten", ms));
    CHECK(!console::parse_minutes("", ms) && !console::parse_minutes("1e3", ms) && !console::parse_minutes("0.0001", ms));
    CHECK(!console::parse_minutes("999999999", ms));  // past a year: refused, not wrapped
}

TEST(minutes_left_round_up) {
    CHECK(minutes_left(1000 + 3000, 1000) == 1);
    CHECK(minutes_left(60000, 0) == 1 && minutes_left(60001, 0) == 2);
    CHECK(minutes_left(5, 10) == 0);
}

TEST(a_ban_covers_its_address_until_it_ends) {
    console::Bans bans;
    bans.add(v4(127, 0, 0, 2), "127.0.0.2", 5000);
    CHECK(bans.covers(v4(127, 0, 0, 2), 4999) && !bans.covers(v4(127, 0, 0, 2), 5000));
    CHECK(!bans.covers(v4(127, 0, 0, 3), 0));
    CHECK(bans.next_expiry_ms() == 5000);
    bans.add(v4(127, 0, 0, 2), "127.0.0.2", 9000);  // again: a new end, not a second ban
    CHECK(bans.list().size() == 1 && bans.next_expiry_ms() == 9000);
}

TEST(an_ipv6_ban_covers_its_slash_64) {
    console::Bans bans;
    bans.add(v6(0x2001, 1), "2001::1", 5000);
    CHECK(bans.covers(v6(0x2001, 0xffff), 0));  // another address of the same /64
    CHECK(!bans.covers(v6(0x2002, 1), 0));
    CHECK(!bans.covers(v4(32, 1, 0, 0), 0));  // an IPv4 address with the same first bytes is another
}

TEST(bans_end_on_time_and_can_be_lifted) {
    console::Bans bans;
    bans.add(v4(10, 0, 0, 1), "10.0.0.1", 3000);
    bans.add(v4(10, 0, 0, 2), "10.0.0.2", 6000);
    std::vector<std::string> ended;
    bans.expire(2999, [&](std::string_view text) { ended.emplace_back(text); });
    CHECK(ended.empty());
    bans.expire(3000, [&](std::string_view text) { ended.emplace_back(text); });
    CHECK((ended == std::vector<std::string>{"10.0.0.1"}) && bans.next_expiry_ms() == 6000);
    CHECK(bans.remove(v4(10, 0, 0, 2)) && !bans.remove(v4(10, 0, 0, 2)));
    CHECK(bans.list().empty() && bans.next_expiry_ms() == UINT64_MAX);
}

}  // namespace

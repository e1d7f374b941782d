// console_commands.h - the operator's console: server.exe's standard input, a command a line (PRODUCT.md,
// "Operator console"). Its command table and parser, the MINUTES an operator gives, and the ban
// list: which addresses are refused, until when.
//
// Each command is carried out where its objects live: trace, slot, stats, quit and the bans by the
// core (server.cpp: completions, slots, addresses), who, kick, mute, say and motd by the session
// layer (members and their lines). Every reply is one or more lines for standard output.
//
// Includes no Windows header: the parser and the ban list are unit-tested natively
// (tests/unit/console_commands_test.cpp). An address comes here as its bytes (the core turns text and
// sockaddrs into them with Winsock's own functions).
#pragma once

#include "protocol.h"
#include "util.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace console {

enum class Kind : std::uint8_t { Help, Stats, Who, Kick, Ban, Bans, Unban, Mute, Unmute, Say, Motd, Trace, Slot, Quit, Unknown };

constexpr int kDefaultBanMinutes = 60;
constexpr int kDefaultMuteMinutes = 10;
constexpr int kDefaultTraceCount = 20;
constexpr int kMaxMinutes = 366 * 24 * 60;  // a year: MINUTES past it is refused, not wrapped

// One row a command (one name each).
using Info = proto::CommandRow<Kind>;
constexpr std::size_t kHelpSyntaxColumn = 23;  // help_row's column: where the help text begins
constexpr Info kCommands[] = {
    {"help", Kind::Help, "help", "this list"},
    {"stats", Kind::Stats, "stats", "the server's counters, as /stats shows them"},
    {"who", Kind::Who, "who", "every member: slot, nick, peer, square, idle seconds, away, muted"},
    {"kick", Kind::Kick, "kick NICK [reason]", "close the member's connection (it is told why); everyone is told"},
    {"ban", Kind::Ban, "ban ADDR [MINUTES]", "kick ADDR's members, refuse it for MINUTES (60; IPv6: its /64)"},
    {"bans", Kind::Bans, "bans", "the bans in force, with the minutes left"},
    {"unban", Kind::Unban, "unban ADDR", "lift the ban of ADDR"},
    {"mute", Kind::Mute, "mute NICK [MINUTES]", "the member's chat, /me and /msg reach nobody for MINUTES (10)"},
    {"unmute", Kind::Unmute, "unmute NICK", "lift the member's mute"},
    {"say", Kind::Say, "say TEXT", "everyone gets * [server] TEXT"},
    {"motd", Kind::Motd, "motd TEXT | motd off", "every newcomer gets * motd: TEXT after the welcome"},
    {"trace", Kind::Trace, "trace [N] | trace off", "print the next N completions (20) as the loop takes them"},
    {"slot", Kind::Slot, "slot N", "one slot: state, generation, pending I/O, bytes, budget, terminal"},
    {"quit", Kind::Quit, "quit", "stop the server, as Ctrl+C does"},
};
static_assert(says_number(kCommands[4].help, "(", kDefaultBanMinutes, ";") &&
              says_number(kCommands[7].help, "(", kDefaultMuteMinutes, ")") &&
              says_number(kCommands[11].help, "(", kDefaultTraceCount, ")"));

struct Command {
    Kind kind;
    std::string_view word;      // the command as typed
    std::string_view argument;  // the rest, trimmed
};

// The first word of `text` and the rest after its spaces.
inline std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
    text = proto::trim_spaces(text);
    const std::size_t end = std::min(text.find(' '), text.size());
    return {text.substr(0, end), proto::trim_spaces(text.substr(end))};
}

// A line typed at the console; an empty one is Unknown with an empty word.
inline Command parse(std::string_view line) {
    const auto [word, argument] = split_word(line);
    for (const Info& command : kCommands)
        if (proto::answers_to(command, word))
            return {command.kind, word, argument};
    return {Kind::Unknown, word, argument};
}

// MINUTES as typed (a decimal, at most three digits after the point: 0.05 is 3 s), in milliseconds.
// False for anything else, for 0 and for more than kMaxMinutes.
inline bool parse_minutes(std::string_view text, std::uint64_t& ms) {
    int thousandths = 0;
    if (!parse_thousandths(std::string(text).c_str(), 1, kMaxMinutes * 1000, thousandths))
        return false;
    ms = static_cast<std::uint64_t>(thousandths) * 60;  // a thousandth of a minute is 60 ms
    return true;
}

// ---- Bans ---------------------------------------------------------------------------------------

// An address as a ban sees it: IPv4 whole; IPv6 its first 64 bits, the network one subscriber is
// given (a ban of one IPv6 address alone would be dodged by the next address of the same /64).
struct Range {
    bool v6 = false;
    std::uint8_t bytes[8] = {};  // IPv4: the first 4

    static Range of_v4(const std::uint8_t (&address)[4]) {
        Range range;
        std::copy(address, address + 4, range.bytes);
        return range;
    }
    static Range of_v6(const std::uint8_t (&address)[16]) {
        Range range;
        range.v6 = true;
        std::copy(address, address + 8, range.bytes);
        return range;
    }
    bool operator==(const Range& other) const {
        return v6 == other.v6 && std::equal(bytes, bytes + 8, other.bytes);
    }
};

// The addresses refused, each until its time. A handful at most: every look-up is a scan.
class Bans {
public:
    struct Ban {
        Range range;
        std::string text;  // the address as the operator typed it
        std::uint64_t until_ms;
    };

    // Bans `range` until `until_ms` (a ban already there gets the new time).
    void add(const Range& range, std::string_view text, std::uint64_t until_ms) {
        for (Ban& ban : bans_)
            if (ban.range == range) {
                ban.until_ms = until_ms;
                return;
            }
        bans_.push_back({range, std::string(text), until_ms});
    }
    // False when it was not banned.
    bool remove(const Range& range) {
        const auto found = std::find_if(bans_.begin(), bans_.end(), [&](const Ban& ban) { return ban.range == range; });
        if (found == bans_.end())
            return false;
        bans_.erase(found);
        return true;
    }
    bool covers(const Range& range, std::uint64_t now_ms) const {
        return std::any_of(bans_.begin(), bans_.end(),
                           [&](const Ban& ban) { return ban.range == range && ban.until_ms > now_ms; });
    }
    // When the next ban ends (UINT64_MAX: none): the loop wakes up then.
    std::uint64_t next_expiry_ms() const {
        std::uint64_t next = UINT64_MAX;
        for (const Ban& ban : bans_)
            next = std::min(next, ban.until_ms);
        return next;
    }
    // The bans that have ended are dropped; each one's text goes to `on_end`.
    template <typename OnEnd>
    void expire(std::uint64_t now_ms, OnEnd&& on_end) {
        for (std::size_t i = 0; i < bans_.size();) {
            if (bans_[i].until_ms > now_ms) {
                ++i;
                continue;
            }
            on_end(std::string_view(bans_[i].text));
            bans_.erase(bans_.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    const std::vector<Ban>& list() const { return bans_; }

private:
    std::vector<Ban> bans_;
};

}  // namespace console

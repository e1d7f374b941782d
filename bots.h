// bots.h - what client.exe's bots say and how every reply is checked, without a socket in sight:
// the options of a run, the round-trip histogram, and one bot's conversation (the messages it
// sends, the ring of replies it awaits, the check of each line it receives for its mix).
// Windows-free, so lost, duplicated, reordered and unexpected replies are unit-tested natively
// (tests/unit/bots_test.cpp). The bot run itself, on a completion port, is bots.cpp.
#pragma once

#include "protocol.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace bots {

enum class Mix : std::uint8_t { Ping, Move, Chat, Echo };

constexpr std::size_t kMaxOutstanding = 64;  // replies one bot may await before it pauses sending
constexpr std::size_t kEchoMessageBytes = 64;

// A bot's receive buffer. A chat bot in a busy room is sent hundreds of lines in one server send
// (its lines of a whole loop turn): taken in one receive, not in a dozen of 4 KB (which, at 100
// bots, capped the load at half of what it offers). Smaller in a big crowd: 256 MB at most in all.
constexpr unsigned long kMostReceiveBytes = 64 * 1024;
constexpr unsigned long kLeastReceiveBytes = 4 * 1024;
constexpr unsigned long long kAllReceiveBytes = 256ULL * 1024 * 1024;
constexpr unsigned long receive_bytes_per_bot(unsigned long long bots) {
    return bots * kMostReceiveBytes <= kAllReceiveBytes ? kMostReceiveBytes
           : kAllReceiveBytes / bots >= kLeastReceiveBytes ? static_cast<unsigned long>(kAllReceiveBytes / bots / 4096 * 4096)
                                                           : kLeastReceiveBytes;
}
static_assert(receive_bytes_per_bot(1000) == kMostReceiveBytes && receive_bytes_per_bot(10000) == 24 * 1024 &&
              receive_bytes_per_bot(100000) == kLeastReceiveBytes);

constexpr int kDefaultDurationS = 10;
constexpr int kDefaultRate = 1;  // actions a second (--rate takes fractions: 0.005 is one in 200 s)
constexpr int kDefaultRamp = 500;

// client.exe's command line (interactive when bots == 0).
struct Options {
    const char* host = "127.0.0.1";
    int port = proto::kDefaultPort;
    int bots = 0;
    int duration_s = kDefaultDurationS;
    int rate_milli = kDefaultRate * 1000;  // thousandths of an action a second
    int burst = 1;        // messages per action, sent at once
    int speakers = 0;     // chat: only the first K bots send, once every bot is in (0: all send)
    int ramp = kDefaultRamp;
    int depth = 0;        // echo: messages in flight; 0 = paced by --rate
    int reconnect_s = 0;  // 0: one connection per bot for the whole run
    const char* source = nullptr;  // --source: the local address(es) bots connect from
    std::vector<Mix> mixes{Mix::Ping};  // bot i plays mixes[i % size]
};

// Runs the stress test (bots.cpp); the exit code: 0 only when every bot connected and no check failed.
int run_bots(const Options& options);

// ---- When a bot acts ----------------------------------------------------------------------------

// A bot's actions at `rate_milli` thousandths a second, paced from the clock, not from its last
// wake-up: a wait rounds up to the timer tick on Windows (15.6 ms), so a bot woken late takes what
// it owes and the rate holds there too. Bots start spread evenly over one interval (the golden
// ratio's steps, scaled), so their actions neither land in the same tick nor, at 0.005 a second,
// all in the first seconds. Times in microseconds of any clock that only goes forward.
class Pace {
public:
    Pace() = default;
    Pace(std::uint32_t bot, int rate_milli, std::uint64_t now_us)
        : interval_ns_(1000000000000ULL / static_cast<std::uint64_t>(rate_milli)),
          most_owed_(std::max<std::uint64_t>(1, static_cast<std::uint64_t>(rate_milli) / 1000)) {
        const std::uint64_t phase = (bot * 2654435769ULL) & 0xFFFFFFFFULL;  // a fraction, in 2^-32
        start_us_ = now_us + ((phase * (interval_ns_ / 1000)) >> 32);
    }
    std::uint64_t next_due_us() const { return start_us_ + taken_ * interval_ns_ / 1000; }
    // The actions due by now_us, counted as taken. At most one second's worth: a bot further
    // behind drops the older ones instead of flooding.
    std::uint64_t take(std::uint64_t now_us) {
        if (now_us < next_due_us())
            return 0;
        const std::uint64_t due = (now_us - start_us_) * 1000 / interval_ns_ + 1;
        const std::uint64_t owed = std::min(due - taken_, most_owed_);
        taken_ = due;
        return owed;
    }

private:
    std::uint64_t interval_ns_ = 1, most_owed_ = 1, start_us_ = 0;
    std::uint64_t taken_ = 0;  // actions due at start_us_ + k * interval, k < taken_, are done
};

// ---- Round-trip times ---------------------------------------------------------------------------

// Round-trip times in fixed memory: 16 buckets per power of two (within 6 %), not a list of
// every sample, so a long run with millions of replies costs the same as a short one.
class Histogram {
public:
    void add(std::uint64_t us) {
        ++counts_[bucket_of(us)];
        ++total_;
        max_ = std::max(max_, us);
    }
    void clear() { *this = Histogram(); }
    std::uint64_t total() const { return total_; }
    double max_ms() const { return static_cast<double>(max_) / 1000.0; }
    double percentile_ms(double fraction) const {
        if (total_ == 0)
            return 0.0;
        const auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total_ - 1));
        std::uint64_t seen = 0;
        for (int i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen > rank)
                return static_cast<double>(std::min(middle_of(i), max_)) / 1000.0;
        }
        return max_ms();
    }

private:
    static constexpr int kSubBits = 4;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = 64 * kSub;

    static int bucket_of(std::uint64_t v) {
        if (v < kSub)
            return static_cast<int>(v);
        int msb = kSubBits;
        while (msb < 63 && (v >> (msb + 1)) != 0)
            ++msb;
        const int shift = msb - kSubBits;
        return (msb - kSubBits + 1) * kSub + static_cast<int>((v >> shift) & (kSub - 1));
    }
    static std::uint64_t middle_of(int bucket) {
        if (bucket < kSub)
            return static_cast<std::uint64_t>(bucket);
        const int shift = bucket / kSub - 1;
        const std::uint64_t low = (static_cast<std::uint64_t>(kSub + bucket % kSub)) << shift;
        return low + ((std::uint64_t{1} << shift) >> 1);
    }

    std::uint64_t counts_[kBuckets] = {};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

// ---- What can go wrong ----------------------------------------------------------------------------

enum ErrorKind {
    kConnectFailed,
    kBindFailed,
    kConnectionLost,
    kNoWelcome,
    kUnexpectedLine,
    kOutOfOrder,
    kOthersOutOfOrder,
    kWrongSquare,
    kRepliesMissing,
    kErrorKinds
};
constexpr const char* kErrorNames[kErrorKinds] = {
    "connect failed", "bind failed (no local port or address: README, client.exe)", "connection lost", "no welcome line", "unexpected line",
    "lost, duplicated or reordered reply", "another bot's line lost, duplicated or reordered", "MOVE to an unexpected square", "replies missing at the end"};

// Parses exactly "B.S.T" (bot, sequence, send time in microseconds): nothing before or after.
inline bool parse_token(std::string_view text, std::uint64_t (&fields)[3]) {
    std::size_t at = 0;
    for (int f = 0; f < 3; ++f) {
        const std::size_t begin = at;
        std::uint64_t value = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9' && at - begin < 20)
            value = value * 10 + static_cast<std::uint64_t>(text[at++] - '0');
        if (at == begin || (f < 2 && (at >= text.size() || text[at++] != '.')))
            return false;
        fields[f] = value;
    }
    return at == text.size();
}

inline bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

// ---- One bot's conversation ---------------------------------------------------------------------

// The move bots' walk: right, down, left, up, a square that stays on the board wherever it starts
// (a step against an edge leaves the piece where it is, and the server says so).
constexpr std::string_view kWalkCommands[] = {"/move right\r\n", "/move down\r\n", "/move left\r\n", "/move up\r\n"};
constexpr proto::Step kWalkSteps[] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
constexpr int kWalkLength = 4;

// What one line turned out to be.
struct Heard {
    enum Kind : std::uint8_t { Other, Welcome, Reply, Chat } kind = Other;
    std::uint64_t round_trip_us = 0;  // Reply: from sending the message to now; Chat: from its sending
    std::uint64_t sequence = 0;       // Chat: the sender's sequence number
};

// What a bot sends and what it awaits, oldest first, in a fixed ring; and the check of every line
// it receives. Replies come back in the order sent, so each must be for the oldest awaited
// message. One for a later message means those before it were lost: each counts as an error, and
// the bot goes on from this one (one lost reply is one error, not an error for every reply after
// it). One for a message not awaited at all was duplicated, reordered or made up.
// A chat bot checks the other bots' lines too: each sender's come in order, one after the other,
// from the first one heard (a bot that joins late has missed the earlier ones, not lost them).
class Conversation {
public:
    Conversation() = default;
    Conversation(std::uint32_t bot, Mix mix) : bot_(bot), mix_(mix), welcomed_(mix == Mix::Echo) {}

    // Appends the bot's next message to `wire` and remembers what must come back.
    void compose(std::uint64_t now_us, std::string& wire);
    // One line the server sent; `errors` counts what was wrong with it, by kind.
    Heard on_line(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]);
    // A new connection (a reconnect): the welcome is awaited again, the square is not known.
    void restart() {
        welcomed_ = mix_ == Mix::Echo;  // the echo server sends no welcome
        x_ = y_ = -1;
        heard_from_.clear();  // what was said while it was away is not owed to it
    }

    Mix mix() const { return mix_; }
    bool welcomed() const { return welcomed_; }
    std::size_t awaiting() const { return count_; }
    bool can_send() const { return count_ < kMaxOutstanding; }
    // The replies still awaited are given up (counted as missing by the caller).
    void forget_awaited() { count_ = 0; }

private:
    struct Awaited {
        std::uint64_t sequence;
        std::uint64_t sent_us;
        int walk_step;  // move: which step of the walk this was
    };

    Heard welcome(std::string_view line, std::uint64_t (&errors)[kErrorKinds]);
    Heard echo(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]);
    Heard move(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]);
    Heard chat(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]);
    Heard other_bot(std::uint64_t sender, std::uint64_t sequence, std::uint64_t sent_us, std::uint64_t now_us,
                    std::uint64_t (&errors)[kErrorKinds]);
    Heard reply(std::uint64_t sequence, std::uint64_t sent_us, std::uint64_t now_us,
                std::uint64_t (&errors)[kErrorKinds]);
    const Awaited& oldest() const { return awaited_[head_]; }

    std::uint32_t bot_ = 0;
    Mix mix_ = Mix::Ping;
    bool welcomed_ = false;
    char nick_[proto::kMaxNickBytes + 1] = {};
    std::uint64_t next_sequence_ = 0;
    int x_ = -1, y_ = -1;  // move: the last square the server confirmed (-1: not known yet)
    int walk_step_ = 0;    // move: the next step of the walk
    Awaited awaited_[kMaxOutstanding] = {};
    // chat: by sender bot, 1 + the last sequence number heard from it (0: none yet). Sized to the
    // highest sender heard: a broadcast from bot 0 to 10,000 listeners costs them one entry each.
    std::vector<std::uint32_t> heard_from_;
    std::size_t head_ = 0, count_ = 0;
    std::string scratch_;
};

inline void Conversation::compose(std::uint64_t now_us, std::string& wire) {
    const std::uint64_t sequence = next_sequence_++;
    const std::string token = std::to_string(bot_) + "." + std::to_string(sequence) + "." + std::to_string(now_us);
    Awaited awaited{sequence, now_us, 0};
    switch (mix_) {
    case Mix::Ping: wire += "/ping " + token + "\r\n"; break;
    case Mix::Chat: wire += "c " + token + "\r\n"; break;
    case Mix::Echo:
        scratch_ = "e " + token + " ";
        scratch_.resize(kEchoMessageBytes - 1, '.');
        wire += scratch_;
        wire += '\n';
        break;
    case Mix::Move:
        awaited.walk_step = walk_step_;
        wire += kWalkCommands[walk_step_];
        walk_step_ = (walk_step_ + 1) % kWalkLength;
        break;
    }
    awaited_[(head_ + count_) % kMaxOutstanding] = awaited;
    ++count_;
}

inline Heard Conversation::on_line(std::string_view line, std::uint64_t now_us,
                                   std::uint64_t (&errors)[kErrorKinds]) {
    if (starts_with(line, "ERR ")) {
        ++errors[kUnexpectedLine];
        return {};
    }
    if (mix_ == Mix::Echo)
        return echo(line, now_us, errors);
    if (!welcomed_)
        return welcome(line, errors);
    std::uint64_t token[3] = {};
    switch (mix_) {
    case Mix::Ping:
        // "PONG B.S.T" for our own pings; joined and left notices are expected and ignored.
        if (!starts_with(line, "PONG"))
            return {};
        if (!starts_with(line, "PONG ") || !parse_token(line.substr(5), token) || token[0] != bot_)
            break;
        return reply(token[1], token[2], now_us, errors);
    case Mix::Chat: return chat(line, now_us, errors);
    case Mix::Move: return move(line, now_us, errors);
    case Mix::Echo: break;
    }
    ++errors[kUnexpectedLine];
    return {};
}

// "nick: c B.S.T": our own line is a reply; another bot's is checked against what it said before.
// Chat of anyone else (a person in the room) is expected and ignored.
inline Heard Conversation::chat(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]) {
    const std::size_t colon = line.find(": c ");
    std::uint64_t token[3] = {};
    if (colon == std::string_view::npos || !proto::is_valid_nick(line.substr(0, colon)) ||
        !parse_token(line.substr(colon + 4), token))
        return {};
    const bool ours = line.substr(0, colon) == std::string_view(nick_);
    if (ours != (token[0] == bot_)) {  // our token under another nick, or another's under ours
        ++errors[kUnexpectedLine];
        return {};
    }
    return ours ? reply(token[1], token[2], now_us, errors) : other_bot(token[0], token[1], token[2], now_us, errors);
}

inline Heard Conversation::other_bot(std::uint64_t sender, std::uint64_t sequence, std::uint64_t sent_us,
                                     std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]) {
    if (sender >= heard_from_.size())
        heard_from_.resize(static_cast<std::size_t>(sender) + 1, 0);
    std::uint32_t& next = heard_from_[static_cast<std::size_t>(sender)];  // 1 + the last heard
    if (next != 0 && sequence + 1 <= next) {
        ++errors[kOthersOutOfOrder];  // heard before, or after a later one
        return {};
    }
    if (next != 0)
        errors[kOthersOutOfOrder] += sequence - next;  // the ones between were lost
    next = static_cast<std::uint32_t>(sequence + 1);
    return {Heard::Chat, now_us > sent_us ? now_us - sent_us : 0, sequence};
}

// "* welcome guestN, N online - ..." names this bot; its actions start now.
inline Heard Conversation::welcome(std::string_view line, std::uint64_t (&errors)[kErrorKinds]) {
    constexpr std::string_view prefix = "* welcome ";
    const std::size_t comma = line.find(',');
    if (!starts_with(line, prefix) || comma == std::string_view::npos ||
        !proto::is_valid_nick(line.substr(prefix.size(), comma - prefix.size()))) {
        ++errors[kUnexpectedLine];
        return {};
    }
    const std::string_view nick = line.substr(prefix.size(), comma - prefix.size());
    std::snprintf(nick_, sizeof nick_, "%.*s", static_cast<int>(nick.size()), nick.data());
    welcomed_ = true;
    return {Heard::Welcome, 0};
}

// "e B.S.T ......": the token is checked, then the exact bytes, rebuilt from it.
inline Heard Conversation::echo(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]) {
    std::uint64_t token[3] = {};
    const std::string_view body = starts_with(line, "e ") ? line.substr(2) : std::string_view();
    const std::string_view token_text = body.substr(0, std::min(body.find(' '), body.size()));
    if (!parse_token(token_text, token) || token[0] != bot_) {
        ++errors[kUnexpectedLine];
        return {};
    }
    scratch_ = "e ";
    scratch_.append(token_text);
    scratch_ += ' ';
    scratch_.resize(kEchoMessageBytes - 1, '.');
    if (line != scratch_) {
        ++errors[kUnexpectedLine];
        return {};
    }
    return reply(token[1], token[2], now_us, errors);
}

// Our own "MOVE nick x y" lines come back in order, each at the square its step of the walk leads
// to from the square before (the same square, against an edge). Where the server placed us is not
// said anywhere, so the first one only has to be on the board; every later one is checked.
inline Heard Conversation::move(std::string_view line, std::uint64_t now_us, std::uint64_t (&errors)[kErrorKinds]) {
    constexpr std::string_view prefix = "MOVE ";
    const std::string_view nick = nick_;
    const std::size_t nick_end = prefix.size() + nick.size();
    if (!starts_with(line, prefix) || line.substr(prefix.size(), nick.size()) != nick || line.size() <= nick_end ||
        line[nick_end] != ' ')
        return {};  // someone else's move (or a nick that only starts like ours)
    const std::string_view where = line.substr(nick_end + 1);
    const bool well_formed = where.size() == 3 && where[0] >= '0' && where[0] < '0' + proto::kBoardSize &&
                             where[1] == ' ' && where[2] >= '0' && where[2] < '0' + proto::kBoardSize;
    if (!well_formed) {
        ++errors[kUnexpectedLine];
        return {};
    }
    if (count_ == 0) {
        ++errors[kOutOfOrder];  // a move we did not make, or one reported twice
        return {};
    }
    const int x = where[0] - '0', y = where[2] - '0';
    if (x_ >= 0) {
        const proto::Step step = kWalkSteps[oldest().walk_step];
        int expected_x = x_ + step.dx, expected_y = y_ + step.dy;
        if (expected_x < 0 || expected_x >= proto::kBoardSize || expected_y < 0 || expected_y >= proto::kBoardSize) {
            expected_x = x_;
            expected_y = y_;
        }
        if (x != expected_x || y != expected_y)
            ++errors[kWrongSquare];  // counted once; the walk goes on from where the server says we are
    }
    x_ = x;
    y_ = y;
    return reply(oldest().sequence, oldest().sent_us, now_us, errors);
}

inline Heard Conversation::reply(std::uint64_t sequence, std::uint64_t sent_us, std::uint64_t now_us,
                                 std::uint64_t (&errors)[kErrorKinds]) {
    std::size_t skipped = 0;
    while (skipped < count_ && awaited_[(head_ + skipped) % kMaxOutstanding].sequence != sequence)
        ++skipped;
    if (skipped == count_) {
        ++errors[kOutOfOrder];
        return {};
    }
    errors[kOutOfOrder] += skipped;
    head_ = (head_ + skipped + 1) % kMaxOutstanding;
    count_ -= skipped + 1;
    return {Heard::Reply, now_us > sent_us ? now_us - sent_us : 0};
}

}  // namespace bots

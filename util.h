// util.h - the Windows-free helpers both programs use: the slot queue, the send buffer, whole
// numbers and command-line options, and a compile-time check that a text says a constant's value.
// No Windows header, so each is unit-tested natively (tests/unit/util_test.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// ---- Slots ------------------------------------------------------------------------------------------

// A connection's slot: its index in the server's fixed array, its completion key, and the name the
// session layer, the room and the board views know the member by. One number for one connection,
// under one name in every layer; a slot's occupants over time are told apart by the core alone
// (its generation).
using SlotId = std::uint32_t;
constexpr SlotId kNoSlot = 0xFFFFFFFFu;

// ---- The slot queue ---------------------------------------------------------------------------

// A first-in first-out queue of slot (or bot) numbers, allocated once. A slot is in it at most
// once: pushing one that is already queued does nothing, so the ring never holds more than there
// are slots. The entry belongs to the slot number, not to its occupant: whoever pops it checks
// that the slot is still worth the work.
class SlotQueue {
public:
    void reserve(std::size_t slots) {
        ring_.assign(slots, 0);
        queued_.assign(slots, false);
    }
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    bool contains(SlotId slot) const { return queued_[slot]; }
    void push(SlotId slot) {
        if (queued_[slot])
            return;
        queued_[slot] = true;
        ring_[(head_ + count_++) % ring_.size()] = slot;
    }
    SlotId pop() {
        const SlotId slot = ring_[head_];
        head_ = (head_ + 1) % ring_.size();
        --count_;
        queued_[slot] = false;
        return slot;
    }

private:
    std::vector<SlotId> ring_;
    std::vector<bool> queued_;
    std::size_t head_ = 0, count_ = 0;
};

// ---- The send buffer ----------------------------------------------------------------------------

// What a connection has to send. `queued` collects bytes while `sending` is with the OS (one send
// in flight at a time); when that send is done the two swap. Both keep their capacity, so once a
// connection's buffers have grown to its traffic, queueing a line is a memcpy: no allocation per
// line or per recipient.
class SendBuffer {
public:
    void queue(const char* data, std::size_t size) { queued_.append(data, size); }
    void queue(std::string_view text) { queued_.append(text.data(), text.size()); }

    // Bytes held that the OS has not taken yet: what a send limit is measured on.
    std::size_t unsent() const { return queued_.size() + (sending_.size() - sent_); }
    bool has_queued() const { return !queued_.empty(); }
    std::size_t queued_bytes() const { return queued_.size(); }
    std::size_t in_flight_bytes() const { return sending_.size() - sent_; }
    bool in_flight() const { return !sending_.empty(); }

    // Moves what is queued into the send, when none is in flight. False when there is nothing to send.
    bool start() {
        if (in_flight() || queued_.empty())
            return false;
        sending_.swap(queued_);  // `sending_` was empty; capacities are kept
        sent_ = 0;
        return true;
    }
    // What the next send carries: the part of the current one the OS has not taken yet.
    const char* next_data() const { return sending_.data() + sent_; }
    std::size_t next_size() const { return sending_.size() - sent_; }

    // The OS took `bytes` of the send. True when another send must go out now: the rest of a
    // short one (before anything queued after it), or what was queued meanwhile.
    bool on_sent(std::size_t bytes) {
        sent_ += bytes;
        if (sent_ < sending_.size())
            return true;
        sending_.clear();
        sent_ = 0;
        return start();
    }

    // Forgets everything; a buffer a flood has grown past `keep_bytes` gives its memory back.
    void reset(std::size_t keep_bytes) {
        if (queued_.capacity() > keep_bytes)
            std::string().swap(queued_);
        if (sending_.capacity() > keep_bytes)
            std::string().swap(sending_);
        queued_.clear();
        sending_.clear();
        sent_ = 0;
    }

private:
    std::string queued_;
    std::string sending_;
    std::size_t sent_ = 0;  // bytes of `sending_` the OS has taken (short sends)
};

// ---- Pacing ---------------------------------------------------------------------------------------

// A token bucket: `rate` a second, sustained, and up to `burst` at once (a rate of 0: no limit).
// Starts full. Times are milliseconds of any clock that only goes forward.
class TokenBucket {
public:
    TokenBucket() = default;
    TokenBucket(int rate, int burst) : rate_(rate), burst_(burst), tokens_milli_(1000LL * burst) {}

    bool limited() const { return rate_ > 0; }
    // One spent now. True while another may follow at once; false: wait until ready_at().
    bool spend(std::uint64_t now_ms) {
        if (!limited())
            return true;
        refill(now_ms);
        tokens_milli_ -= 1000;
        return tokens_milli_ >= 1000;
    }
    // How many may be spent now (a rate of 0: as many as the burst; no limit is kept then).
    double available(std::uint64_t now_ms) const {
        if (!limited())
            return burst_;
        const long long gained = now_ms > last_ms_ ? static_cast<long long>(now_ms - last_ms_) * rate_ : 0;
        return static_cast<double>(std::min<long long>(1000LL * burst_, tokens_milli_ + gained)) / 1000;
    }
    // When the next one may be spent (now, if it may).
    std::uint64_t ready_at(std::uint64_t now_ms) {
        refill(now_ms);
        if (!limited() || tokens_milli_ >= 1000)
            return now_ms;
        const long long missing = 1000 - tokens_milli_;  // milli-tokens; rate_ of them come each ms
        return now_ms + static_cast<std::uint64_t>((missing + rate_ - 1) / rate_);
    }

private:
    void refill(std::uint64_t now_ms) {
        if (now_ms > last_ms_) {
            const long long gained = static_cast<long long>(now_ms - last_ms_) * rate_;
            tokens_milli_ = std::min<long long>(1000LL * burst_, tokens_milli_ + gained);
        }
        last_ms_ = std::max(last_ms_, now_ms);
    }

    int rate_ = 0, burst_ = 0;
    long long tokens_milli_ = 0;  // thousandths of a token
    std::uint64_t last_ms_ = 0;
};

// ---- Numbers and options ------------------------------------------------------------------------

// A whole decimal number from low to high; false for anything else.
inline bool parse_int(const char* text, int low, int high, int& value) {
    char* end = nullptr;
    const long parsed = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || parsed < low || parsed > high)
        return false;
    value = static_cast<int>(parsed);
    return true;
}

// A decimal number with at most three digits after the point ("20", "0.005"), in thousandths
// ("0.005" is 5), from low to high thousandths; false for anything else.
inline bool parse_thousandths(const char* text, int low, int high, int& value) {
    long long thousandths = 0;
    const char* at = text;
    while (*at >= '0' && *at <= '9' && at - text < 9)
        thousandths = thousandths * 10 + (*at++ - '0') * 1000;
    if (at == text)
        return false;
    if (*at == '.') {
        const char* fraction = ++at;
        for (int place = 100; *at >= '0' && *at <= '9' && place > 0; place /= 10)
            thousandths += (*at++ - '0') * place;
        if (at == fraction)
            return false;
    }
    if (*at != '\0' || thousandths < low || thousandths > high)
        return false;
    value = static_cast<int>(thousandths);
    return true;
}

// Whole minutes left until `until_ms`, rounded up: what the operator and a muted member are told.
inline std::uint64_t minutes_left(std::uint64_t until_ms, std::uint64_t now_ms) {
    return until_ms > now_ms ? (until_ms - now_ms + 59999) / 60000 : 0;
}

// One command-line option: a flag, a number in a range (whole, or in thousandths), or a text.
struct Option {
    const char* name;
    bool* flag = nullptr;
    int* number = nullptr;
    const char** text = nullptr;
    int low = 0, high = 0;
    bool thousandths = false;  // the number may have a fraction, and is kept in thousandths

    static Option Flag(const char* name, bool& value) { return {name, &value, nullptr, nullptr, 0, 0}; }
    static Option Number(const char* name, int& value, int low, int high) {
        return {name, nullptr, &value, nullptr, low, high};
    }
    // low and high in thousandths too: Fraction("--rate", rate, 1, 1000000) is 0.001 to 1000.
    static Option Fraction(const char* name, int& thousandths, int low, int high) {
        return {name, nullptr, &thousandths, nullptr, low, high, true};
    }
    static Option Text(const char* name, const char*& value) { return {name, nullptr, nullptr, &value, 0, 0}; }
};

constexpr int kOptionsOk = -1;
constexpr int kExitBadOptions = 2;

// Reads argv against `options`. Arguments that do not start with '-' go to `positional` (nullptr:
// none are expected). Returns kOptionsOk, or the exit code: 0 after printing `usage` for --help,
// kExitBadOptions after saying on stderr what was wrong, followed by the usage.
inline int parse_options(int argc, char** argv, const std::vector<Option>& options, const char* usage,
                         std::vector<const char*>* positional) {
    auto bad = [usage](const char* what, const char* a, const char* b = "") {
        std::fprintf(stderr, "error: %s%s%s\n\n%s", a, b, what, usage);
        return kExitBadOptions;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h" || arg == "/?") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            if (!positional)
                return bad("", "unexpected argument ", argv[i]);
            positional->push_back(argv[i]);
            continue;
        }
        const Option* option = nullptr;
        for (const Option& o : options)
            if (arg == o.name)
                option = &o;
        if (!option)
            return bad("", "unknown option ", argv[i]);
        if (option->flag) {
            *option->flag = true;
            continue;
        }
        if (i + 1 >= argc)
            return bad(" needs a value", argv[i]);
        const char* value = argv[++i];
        if (option->text) {
            *option->text = value;
        } else if (option->thousandths) {
            if (!parse_thousandths(value, option->low, option->high, *option->number)) {
                std::fprintf(stderr, "error: %s %s: expected a number from %g to %g (at most 3 decimals)\n\n%s",
                             option->name, value, option->low / 1000.0, option->high / 1000.0, usage);
                return kExitBadOptions;
            }
        } else if (!parse_int(value, option->low, option->high, *option->number)) {
            std::fprintf(stderr, "error: %s %s: expected a number from %d to %d\n\n%s", option->name, value,
                         option->low, option->high, usage);
            return kExitBadOptions;
        }
    }
    return kOptionsOk;
}

// ---- Texts that state a constant --------------------------------------------------------------

// True when `text` contains `before`, then `number` in decimal, then `after`. For static_assert:
// a message that says "max 512" must change when the constant does.
constexpr bool says_number(std::string_view text, std::string_view before, unsigned long long number,
                           std::string_view after = {}) {
    char digits[24] = {};
    std::size_t count = 0;
    do {
        digits[count++] = static_cast<char>('0' + number % 10);
        number /= 10;
    } while (number != 0);
    for (std::size_t i = 0; i < count / 2; ++i) {
        const char swap = digits[i];
        digits[i] = digits[count - 1 - i];
        digits[count - 1 - i] = swap;
    }
    const std::string_view value(digits, count);
    const std::size_t whole = before.size() + value.size() + after.size();
    for (std::size_t at = 0; at + whole <= text.size(); ++at)
        if (text.substr(at, before.size()) == before && text.substr(at + before.size(), value.size()) == value &&
            text.substr(at + before.size() + value.size(), after.size()) == after)
            return true;
    return false;
}

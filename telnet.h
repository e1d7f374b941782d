// telnet.h - the telnet protocol alone: commands taken out of the data (RFC 854), options
// negotiated by RFC 1143's Q method, subnegotiations collected in bounded memory, text escaped.
//
// Fed the peer's bytes one at a time, it reports what they were to one handler and writes its
// own answers (the negotiation's) to a string the caller sends. It does no I/O and knows nothing
// of lines, echo, keys or encodings: that is the line discipline above it (terminal.h, on the
// server's side; client.exe's console terminal on the other). The split is libtelnet's.
//
// Which options each side may turn on is a Policy, so the same code negotiates for the server
// (it offers to echo, and asks for the window size) and for client.exe (it agrees to both:
// kClientPolicy, under vt::Terminal).
//
// Includes no Windows header: unit-tested and fuzzed natively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace telnet {

// ---- The bytes (RFC 854) and the options this project speaks ------------------------------------

constexpr unsigned char SE = 240;    // end of subnegotiation
constexpr unsigned char NOP = 241;
constexpr unsigned char EC = 247;    // erase character
constexpr unsigned char EL = 248;    // erase line
constexpr unsigned char SB = 250;    // start of subnegotiation
constexpr unsigned char WILL = 251;  // WILL, WONT, DO, DONT: 251..254, each followed by an option
constexpr unsigned char WONT = 252;
constexpr unsigned char DO = 253;
constexpr unsigned char DONT = 254;
constexpr unsigned char IAC = 255;

namespace option {
constexpr unsigned char ECHO = 1;   // RFC 857
constexpr unsigned char SGA = 3;    // RFC 858, suppress go-ahead: with ECHO, character mode
constexpr unsigned char NAWS = 31;  // RFC 1073, the window size
}  // namespace option

// The longest subnegotiation kept (NAWS is 4 bytes); a longer one is skipped to its IAC SE and
// not reported.
constexpr std::size_t kMaxSubnegotiationBytes = 8;

// Text among telnet bytes: a 0xFF in it goes as IAC IAC.
inline void append_text(std::string& out, std::string_view text) {
    for (const char c : text) {
        out.push_back(c);
        if (static_cast<unsigned char>(c) == IAC)
            out.push_back(c);
    }
}

inline void append_command(std::string& out, unsigned char verb, unsigned char opt) {
    out += static_cast<char>(IAC);
    out += static_cast<char>(verb);
    out += static_cast<char>(opt);
}

// IAC SB option data IAC SE, a 0xFF in the data doubled.
inline void append_subnegotiation(std::string& out, unsigned char opt, std::string_view data) {
    out += static_cast<char>(IAC);
    out += static_cast<char>(SB);
    out += static_cast<char>(opt);
    append_text(out, data);
    out += static_cast<char>(IAC);
    out += static_cast<char>(SE);
}

// NAWS's four bytes: width and height, 16 bits each, high byte first (RFC 1073).
inline std::string window_size_bytes(int width, int height) {
    const auto byte = [](int value, int shift) { return static_cast<char>((value >> shift) & 0xFF); };
    return {byte(width, 8), byte(width, 0), byte(height, 8), byte(height, 0)};
}

// ---- The policy: which options may be on ----------------------------------------------------------

// What one side does about an option: refuse it, agree when the other side asks, or ask at offer().
enum class Want : std::uint8_t { Refuse, Accept, Ask };

struct Rule {
    unsigned char option;
    Want ours;  // our side (we WILL / the peer says DO)
    Want his;   // the peer's side (the peer WILL / we say DO)
};

constexpr std::size_t kMaxRules = 4;

// The options not listed are refused on both sides.
struct Policy {
    Rule rules[kMaxRules];
    std::size_t count;
};

// The server: it offers to echo and to suppress go-ahead (character mode), asks for the window
// size, and takes the peer's go-ahead suppression when offered.
constexpr Policy kServerPolicy = {
    {{option::ECHO, Want::Ask, Want::Refuse}, {option::SGA, Want::Ask, Want::Accept}, {option::NAWS, Want::Refuse, Want::Ask}},
    3};

// client.exe in a console: it offers its window size at once (which tells the server it is a
// terminal), agrees to the server's echo and go-ahead suppression (character mode), and to
// suppress its own go-ahead; it echoes nothing itself.
constexpr Policy kClientPolicy = {
    {{option::ECHO, Want::Refuse, Want::Accept}, {option::SGA, Want::Accept, Want::Accept}, {option::NAWS, Want::Ask, Want::Refuse}},
    3};

// ---- The protocol ---------------------------------------------------------------------------------

// Fed a peer's bytes; reports to `handler`:
//   handler.on_data(unsigned char byte) -> bool    a data byte (IAC IAC gives one 0xFF); false stops
//   handler.on_command(unsigned char cmd) -> bool  any IAC command but IAC IAC, at its command byte
//                                                  (for WILL..DONT and SB: before their option);
//                                                  false stops
//   handler.on_option(unsigned char opt, bool ours, bool on)   an option went on or off
//   handler.on_subnegotiation(unsigned char opt, std::string_view data)   a whole IAC SB .. IAC SE
// and writes the negotiation's answers to `out`. Its state is a few bytes whatever it is fed.
class Protocol {
public:
    explicit Protocol(const Policy& policy = kServerPolicy) : policy_(&policy) {}

    // Asks for every option the policy wants on (WILL for ours, DO for his); the requests go to `out`.
    void offer(std::string& out);
    // One byte from the peer. Returns false when the handler asked to stop.
    template <typename Handler>
    bool receive(unsigned char byte, Handler& handler, std::string& out);

    bool ours(unsigned char opt) const { return state(opt, true) == State::Yes; }
    bool his(unsigned char opt) const { return state(opt, false) == State::Yes; }
    // True between a data byte's IAC and what follows it, or inside a command: not at a data boundary.
    bool in_command() const { return read_ != Read::Data; }

private:
    enum class State : std::uint8_t { No, Yes, WantNo, WantYes };
    struct Side {
        State state = State::No;
        bool opposite = false;  // the queue bit: a request the other way is waiting
    };
    enum class Read : std::uint8_t { Data, Iac, Option, Sub, SubIac };

    template <typename Handler>
    void negotiate(unsigned char verb, unsigned char opt, Handler& handler, std::string& out);
    void said_yes(Side& side, bool acceptable, unsigned char agree, unsigned char refuse, unsigned char opt,
                  std::string& out);
    void said_no(Side& side, unsigned char agree, unsigned char refuse, unsigned char opt, std::string& out);
    static void ask(Side& side, unsigned char verb, unsigned char opt, std::string& out);
    int rule_of(unsigned char opt) const {
        for (std::size_t i = 0; i < policy_->count; ++i)
            if (policy_->rules[i].option == opt)
                return static_cast<int>(i);
        return -1;
    }
    State state(unsigned char opt, bool ours) const {
        const int rule = rule_of(opt);
        return rule < 0 ? State::No : ours ? ours_[rule].state : his_[rule].state;
    }

    const Policy* policy_;
    Side ours_[kMaxRules], his_[kMaxRules];
    Read read_ = Read::Data;
    unsigned char verb_ = 0;  // the WILL/WONT/DO/DONT whose option byte is next
    bool sub_first_ = false;  // the next subnegotiation byte is its option
    unsigned char sub_option_ = 0;
    std::uint8_t sub_bytes_ = 0;  // data bytes so far; past the buffer: too long, not reported
    char sub_data_[kMaxSubnegotiationBytes] = {};
};

inline void Protocol::offer(std::string& out) {
    for (std::size_t i = 0; i < policy_->count; ++i) {
        if (policy_->rules[i].ours == Want::Ask)
            ask(ours_[i], WILL, policy_->rules[i].option, out);
        if (policy_->rules[i].his == Want::Ask)
            ask(his_[i], DO, policy_->rules[i].option, out);
    }
}

// We want `side` on: `verb` is WILL (our side) or DO (the peer's). No request is repeated while
// one is outstanding.
inline void Protocol::ask(Side& side, unsigned char verb, unsigned char opt, std::string& out) {
    if (side.state == State::No) {
        side.state = State::WantYes;
        append_command(out, verb, opt);
    } else if (side.state == State::WantNo) {
        side.opposite = true;
    }
}

template <typename Handler>
bool Protocol::receive(unsigned char byte, Handler& handler, std::string& out) {
    switch (read_) {
    case Read::Data:
        if (byte != IAC)
            return handler.on_data(byte);
        read_ = Read::Iac;
        return true;
    case Read::Iac:
        read_ = Read::Data;
        if (byte == IAC)
            return handler.on_data(byte);  // a literal 0xFF
        if (byte == SB) {
            read_ = Read::Sub;
            sub_first_ = true;
            sub_bytes_ = 0;
        } else if (byte >= WILL) {
            read_ = Read::Option;
            verb_ = byte;
        }
        return handler.on_command(byte);
    case Read::Option:
        read_ = Read::Data;
        negotiate(verb_, byte, handler, out);
        return true;
    case Read::Sub:  // skipped to its IAC SE however long: only kMaxSubnegotiationBytes are kept
        if (byte == IAC) {
            read_ = Read::SubIac;
            return true;
        }
        break;
    case Read::SubIac:
        if (byte == SE) {
            read_ = Read::Data;
            if (!sub_first_ && sub_bytes_ <= kMaxSubnegotiationBytes)
                handler.on_subnegotiation(sub_option_, std::string_view(sub_data_, sub_bytes_));
            return true;
        }
        read_ = Read::Sub;
        if (byte != IAC)
            return true;  // IAC and anything but SE or IAC inside: dropped
        break;            // IAC IAC: a 255 of the data
    }
    if (sub_first_) {
        sub_first_ = false;
        sub_option_ = byte;
    } else if (sub_bytes_ <= kMaxSubnegotiationBytes) {
        if (sub_bytes_ < kMaxSubnegotiationBytes)
            sub_data_[sub_bytes_] = static_cast<char>(byte);
        ++sub_bytes_;
    }
    return true;
}

// A WILL, WONT, DO or DONT from the peer: answered by the Q method, and the handler told when an
// option changed. An option the policy does not allow is refused (WILL x gets DONT x, DO x gets
// WONT x) and stays off; an answer is never taken for a new request, so no peer can make the two
// sides loop.
template <typename Handler>
void Protocol::negotiate(unsigned char verb, unsigned char opt, Handler& handler, std::string& out) {
    const bool about_ours = verb == DO || verb == DONT;
    const bool yes = verb == DO || verb == WILL;
    const int rule = rule_of(opt);
    if (rule < 0) {
        if (yes)
            append_command(out, about_ours ? WONT : DONT, opt);
        return;
    }
    Side& side = about_ours ? ours_[rule] : his_[rule];
    const Want want = about_ours ? policy_->rules[rule].ours : policy_->rules[rule].his;
    const unsigned char agree = about_ours ? WILL : DO, refuse = about_ours ? WONT : DONT;
    const bool was_on = side.state == State::Yes;
    if (yes)
        said_yes(side, want != Want::Refuse, agree, refuse, opt, out);
    else
        said_no(side, agree, refuse, opt, out);
    const bool on = side.state == State::Yes;
    if (on != was_on)
        handler.on_option(opt, about_ours, on);
}

// The peer says yes (WILL or DO): `agree`, `refuse` are our two answers.
inline void Protocol::said_yes(Side& side, bool acceptable, unsigned char agree, unsigned char refuse,
                               unsigned char opt, std::string& out) {
    switch (side.state) {
    case State::No:
        if (acceptable) {
            side.state = State::Yes;
            append_command(out, agree, opt);
        } else {
            append_command(out, refuse, opt);
        }
        break;
    case State::Yes: break;
    case State::WantNo:  // we said no and it says yes: an error of its, taken as no, or our queued yes
        side.state = side.opposite ? State::Yes : State::No;
        side.opposite = false;
        break;
    case State::WantYes:
        if (side.opposite) {
            side.state = State::WantNo;
            side.opposite = false;
            append_command(out, refuse, opt);
        } else {
            side.state = State::Yes;
        }
        break;
    }
}

// The peer says no (WONT or DONT).
inline void Protocol::said_no(Side& side, unsigned char agree, unsigned char refuse, unsigned char opt,
                              std::string& out) {
    switch (side.state) {
    case State::No: break;
    case State::Yes:
        side.state = State::No;
        append_command(out, refuse, opt);
        break;
    case State::WantNo:
        if (side.opposite) {
            side.state = State::WantYes;
            side.opposite = false;
            append_command(out, agree, opt);
        } else {
            side.state = State::No;
        }
        break;
    case State::WantYes:
        side.state = State::No;
        side.opposite = false;
        break;
    }
}

}  // namespace telnet

// session.h - the session layer: what one member's connection means above the bytes.
//
// The IOCP core (server.cpp) moves bytes and keeps slots alive; this layer gives the bytes their
// meaning. Each slot has a Session: its terminal (telnet, echo, editing, encodings: terminal.h), its
// input budget, its view (lines, or the board: play.h); together they are members of one room
// (chat.h). The core hands this layer what a receive brought and gets back what to do next (how
// much was taken; read on, pause until a time, or close); this layer hands the core bytes to queue
// for a slot through `Core`, the one interface the core implements. Flow control (what is unread,
// when a paused slot is fed again, the send limit) is the core's: here are only the decisions.
//
// Two verbs reach a member: deliver() a line (in the member's encoding, above its half-typed line)
// and queue() bytes as they are (a board view's drawing, the terminal's echo). The commands about
// the connection itself (/play, /stats, /encoding, /quit) are answered here; the rest are the room's.
//
// Deferred work, as Redis runs it before its loop sleeps: a half-typed line taken off the screen
// for the lines that came in is drawn again once, when the core ends its turn (end_turn), however
// many lines came.
//
// Includes no Windows header: unit-tested natively against a fake core (tests/unit/session_test.cpp).
#pragma once

#include "chat.h"
#include "play.h"
#include "protocol.h"
#include "terminal.h"
#include "util.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace session {

// What the session layer needs from the core: server.cpp implements it.
class Core {
public:
    // Bytes for the slot's send queue, sent at the end of the loop turn. False when the slot takes
    // no more: it is closing (it quit, or was dropped: past the send limit, or an I/O error).
    virtual bool queue(SlotId slot, std::string_view bytes) = 0;
    // The core's counters, as /stats shows them after "STATS ".
    virtual std::string stats_text() = 0;

protected:
    ~Core() = default;
};

// What the core does with a slot's input after a receive was fed.
enum class Next : std::uint8_t {
    Read,   // all of it was taken: read on
    Pause,  // its input budget is spent: the rest waits, unread, until resume_ms
    Quit,   // it asked to leave: close once what it is owed is out
    Stop,   // the core took no more bytes for it (it is being dropped): nothing more is read
};

struct Fed {
    std::size_t consumed;  // bytes of the chunk taken
    Next next;
    std::uint64_t resume_ms;  // Pause: when the rest may be fed (resume)
};

// Lines in and out, as /stats counts them.
struct Counters {
    std::uint64_t lines_in = 0, lines_out = 0;
};

class Sessions final : chat::Members, play::Screen {
public:
    // `slots`: the core's slot count; `line_rate`, `line_burst`: each member's input budget (a rate
    // of 0: none); `codec`: the CP949 conversion for the terminals (nullptr: none).
    Sessions(Core& core, std::size_t slots, int line_rate, int line_burst, const term::Codec* codec)
        : core_(core), room_(*this, slots), views_(slots), sessions_(new Session[slots]), line_rate_(line_rate),
          line_burst_(line_burst), codec_(codec) {
        to_redraw_.reserve(slots);
    }

    // A new connection in `slot`: a fresh session, a member named, placed, welcomed and announced.
    // `now_ms`: the clock of receive(), which the room measures idle time on.
    void open(SlotId slot, std::uint64_t now_ms);
    // What a receive brought, or the rest of one that was paused (resume). `waiting`: bytes that
    // arrived with these and are still in the OS, when the core cut the receive short
    // (--recv-chunk): the terminal's guess at typing must see what the peer sent, not the cap.
    Fed receive(SlotId slot, const char* data, std::size_t size, std::uint64_t now_ms, std::size_t waiting = 0) {
        return take(slot, data, size, now_ms, true, waiting);
    }
    Fed resume(SlotId slot, const char* data, std::size_t size, std::uint64_t now_ms) {
        return take(slot, data, size, now_ms, false, 0);
    }
    // The member is gone from the room (announced when `announce`); its socket is the core's.
    void close(SlotId slot, bool announce);
    // A line for one member (a notice of the core's: the shutdown).
    void deliver(SlotId slot, std::string_view line) { deliver(slot, chat::Line{line}); }
    // The end of the core's loop turn: the half-typed lines taken off the screen are drawn again.
    void end_turn();

    std::string_view nick(SlotId slot) const { return room_.nick(slot); }

    // The operator's console: what it does to members (console_commands.h). Each answers the operator with
    // text for standard output, or says, by kNoSlot, that no member goes by that nick.
    SlotId find(std::string_view nick) const { return room_.find(nick); }
    // The member is told why and, once it is gone, the others that it was kicked; the core closes it.
    void kick(SlotId slot, std::string_view reason);
    // Its chat, /me and /msg reach nobody until `until_ms` (0: from now on they do again).
    void mute(SlotId slot, std::uint64_t until_ms);
    void say(std::string_view text);
    void set_motd(std::string_view text) { motd_.assign(text.data(), text.size()); }
    // A member as `who` lists it: "nick=.. peer=.. square=x,y muted=no|Nm" (`peer` is the core's).
    std::string describe(SlotId slot, std::string_view peer, std::uint64_t now_ms) const;
    // `slot N`'s part: its input budget, terminal mode, view and encoding.
    std::string describe_terminal(SlotId slot, std::uint64_t now_ms) const;
    // When the next mute ends (UINT64_MAX: none); expire() lifts the mutes that have ended and
    // hands each one's nick to `on_end`.
    std::uint64_t next_expiry_ms() const;
    template <typename OnEnd>
    void expire(std::uint64_t now_ms, OnEnd&& on_end);
    std::size_t board_views() const { return views_.count(); }
    const Counters& counters() const { return counters_; }

private:
    struct Session {
        term::Terminal terminal;
        TokenBucket budget;        // its input budget (--line-rate, --line-burst)
        bool wants_board = false;  // asked for /play: the board view whenever its window is big enough
        bool closing = false;      // the core took no more bytes for it
        bool has_spoken = false;   // a line came: the first is looked at for HTTP
        bool kicked = false;       // by the operator: the others hear so when it is gone
    };
    // The terminal's sink for one slot's input: a line or a key is acted on, then paid for.
    struct Feed {
        Sessions& sessions;
        SlotId slot;
        std::uint64_t now_ms;
        Next next = Next::Read;
        bool on_line(std::string_view line) { return sessions.on_line(*this, line); }
        bool on_line_too_long() {
            sessions.deliver(slot, proto::kErrLineTooLong);
            return sessions.pay(*this);
        }
        void reply(std::string_view bytes) { sessions.queue(slot, bytes); }
        bool on_key(term::Key key) { return sessions.on_key(*this, key); }
    };

    // chat::Members: the room's lines.
    void deliver(SlotId to, const chat::Line& line) override;
    void broadcast(const chat::Line& line, SlotId except) override;
    // play::Screen: the board views' bytes.
    void queue(SlotId slot, std::string_view bytes) override {
        if (!core_.queue(slot, bytes))
            sessions_[slot].closing = true;
    }
    int input_column(SlotId viewer) override { return sessions_[viewer].terminal.input_column(); }

    Fed take(SlotId slot, const char* data, std::size_t size, std::uint64_t now_ms, bool fresh, std::size_t waiting);
    bool on_line(Feed& feed, std::string_view line);
    bool refuse_http(Feed& feed, std::string_view line);
    bool on_key(Feed& feed, term::Key key);
    bool pay(Feed& feed);
    void set_encoding(SlotId slot, std::string_view name);
    void toggle_board_view(SlotId slot);
    void show_board(SlotId slot);
    void show_lines(SlotId slot, std::string_view note);
    void switch_view(SlotId slot, term::View view, const std::string& bytes);
    void resize(SlotId slot);
    void queue_line(SlotId slot, const std::string& wire);

    Core& core_;
    chat::Room room_;
    play::Views views_;  // the members in a board view (/play), and what their windows show
    std::unique_ptr<Session[]> sessions_;
    int line_rate_, line_burst_;
    const term::Codec* codec_;
    SlotQueue to_redraw_;  // terminals whose half-typed line is off the screen until the turn ends
    std::vector<SlotId> muted_;  // the members with a mute on them, for its end
    std::string motd_;  // the operator's message of the day: empty, none
    std::string wire_;        // scratch: one line encoded for the wire
    std::string cp949_wire_;  // scratch: the same line for CP949 connections
    std::string read_;        // scratch: a line typed with the Korean input on, as read
    Counters counters_;
};

inline void Sessions::open(SlotId slot, std::uint64_t now_ms) {
    Session& session = sessions_[slot];
    session.terminal = term::Terminal(codec_);
    session.budget = TokenBucket(line_rate_, line_burst_);
    session.wants_board = false;
    session.closing = false;
    session.has_spoken = false;
    session.kicked = false;
    views_.show(room_, room_.join(slot, now_ms), *this);
    if (!motd_.empty())
        deliver(slot, "* motd: " + motd_);
}

inline void Sessions::close(SlotId slot, bool announce) {
    mute(slot, 0);
    views_.close(slot, nullptr);  // before the views are told: it is one of them no more
    views_.show(room_, room_.leave(slot, announce, sessions_[slot].kicked ? "was kicked" : "left"), *this);
}

// Feeds the slot's terminal. When it stops early, consumed says how much it took and next why.
inline Fed Sessions::take(SlotId slot, const char* data, std::size_t size, std::uint64_t now_ms, bool fresh,
                          std::size_t waiting) {
    Session& session = sessions_[slot];
    Feed feed{*this, slot, now_ms};
    const bool all = fresh ? session.terminal.feed(data, size, feed, waiting) : session.terminal.resume(data, size, feed);
    if (session.terminal.take_resized() && !session.closing && feed.next != Next::Quit)
        resize(slot);
    if (all)
        return {size, Next::Read, 0};
    const std::uint64_t resume_ms = feed.next == Next::Pause ? session.budget.ready_at(now_ms) : 0;
    return {session.terminal.consumed(), feed.next, resume_ms};
}

// A line typed: one of the connection's own commands, or the room's. A command typed with the
// Korean input key left on is read as the keys that typed it, and the member told so, once.
inline bool Sessions::on_line(Feed& feed, std::string_view line) {
    ++counters_.lines_in;
    if (refuse_http(feed, line))
        return false;
    if (proto::read_through_korean_keys(line, read_)) {
        deliver(feed.slot, "* read " + std::string(line) + " as " + read_ + std::string(proto::kKoreanKeyNote));
        line = read_;
    }
    const proto::Command command = proto::parse_command(line);
    switch (command.kind) {
    case proto::CommandKind::Play: toggle_board_view(feed.slot); break;
    case proto::CommandKind::Stats: deliver(feed.slot, "STATS " + core_.stats_text()); break;
    case proto::CommandKind::Encoding: set_encoding(feed.slot, command.argument); break;
    case proto::CommandKind::Quit:
        deliver(feed.slot, "* bye");
        feed.next = Next::Quit;
        return false;
    default: views_.show(room_, room_.on_command(feed.slot, command, feed.now_ms), *this); break;
    }
    return pay(feed);
}

// Not HTTP (PRODUCT.md): a first line that is an HTTP request gets the web's answer, in bytes as
// they are, and the connection closes once it is out. The rest of what it sent is never read, so
// none of it reaches the room.
inline bool Sessions::refuse_http(Feed& feed, std::string_view line) {
    Session& session = sessions_[feed.slot];
    const bool first = !session.has_spoken;
    session.has_spoken = true;
    if (!first || !proto::is_http_request_line(line))
        return false;
    queue(feed.slot, proto::kHttpRefusal);
    feed.next = Next::Quit;
    return true;
}

// A key of the board view: an arrow is a move, Esc Esc the line view again.
inline bool Sessions::on_key(Feed& feed, term::Key key) {
    if (key == term::Key::Leave)
        toggle_board_view(feed.slot);
    else
        views_.show(room_, room_.move(feed.slot, proto::kSteps[static_cast<int>(key)]), *this);
    return pay(feed);
}

// Every line and key costs one of the budget, an over-long line too. False when the feeding stops.
inline bool Sessions::pay(Feed& feed) {
    Session& session = sessions_[feed.slot];
    if (session.closing) {
        feed.next = Next::Stop;
        return false;
    }
    if (session.budget.spend(feed.now_ms))
        return true;
    feed.next = Next::Pause;
    return false;
}

// The confirmation already goes out in the new encoding.
inline void Sessions::set_encoding(SlotId slot, std::string_view name) {
    proto::Encoding encoding{};
    if (!proto::parse_encoding(name, encoding)) {
        deliver(slot, "ERR usage: /encoding utf8|cp949");
        return;
    }
    sessions_[slot].terminal.set_encoding(encoding);
    deliver(slot, encoding == proto::Encoding::Utf8 ? "* encoding utf8" : "* encoding cp949");
}

// ---- The board view (/play; play.h draws it) -------------------------------------------------------

// /play needs a terminal the server echoes to: its screen is the server's to draw. Asked again (or
// Esc Esc), the line view comes back.
inline void Sessions::toggle_board_view(SlotId slot) {
    Session& session = sessions_[slot];
    if (session.wants_board) {
        session.wants_board = false;
        show_lines(slot, "* line view - /play brings the board back");
    } else if (!session.terminal.echoing()) {
        deliver(slot, proto::kErrPlayNeedsTerminal);
        deliver(slot, proto::kPlayHint);
    } else {
        session.wants_board = true;
        show_board(slot);
    }
}

// The whole view drawn, or the line view with a note when the window is too small for it.
inline void Sessions::show_board(SlotId slot) {
    const term::Terminal& terminal = sessions_[slot].terminal;
    const int width = terminal.width(), height = terminal.height();
    if (!play::fits(width, height)) {
        char note[160];
        std::snprintf(note, sizeof note, "* the board needs a window of %dx%d, this one is %dx%d: line view until it grows",
                      play::kMinWidth, play::kMinHeight, width, height);
        show_lines(slot, note);
        return;
    }
    std::string bytes;
    views_.open(room_, slot, width, height, bytes);
    switch_view(slot, term::View::Board, bytes);
    // The chat so far, as many lines as the region shows over the typed line.
    for (const std::string& line : room_.recent(static_cast<std::size_t>(height - play::kChatTop), slot))
        deliver(slot, line);
}

inline void Sessions::show_lines(SlotId slot, std::string_view note) {
    if (views_.viewing(slot)) {
        std::string bytes;
        views_.close(slot, &bytes);
        switch_view(slot, term::View::Lines, bytes);
    }
    deliver(slot, note);
}

// The window cleared and drawn for `view` by `bytes`: the typed line, which went with it, is drawn
// again at the end of the turn, in the view's way.
inline void Sessions::switch_view(SlotId slot, term::View view, const std::string& bytes) {
    queue(slot, bytes);
    term::Terminal& terminal = sessions_[slot].terminal;
    terminal.set_view(view);
    if (terminal.input_hidden())
        to_redraw_.push(slot);
}

// A new window size (NAWS): the view is drawn again for it, or given up while it is too small.
inline void Sessions::resize(SlotId slot) {
    const Session& session = sessions_[slot];
    if (!session.wants_board)
        return;
    if (views_.viewing(slot) || play::fits(session.terminal.width(), session.terminal.height()))
        show_board(slot);
}

// ---- The operator's console --------------------------------------------------------------------------

inline void Sessions::kick(SlotId slot, std::string_view reason) {
    deliver(slot, reason.empty() ? std::string("* kicked by the operator") : "* kicked by the operator: " + std::string(reason));
    sessions_[slot].kicked = true;
}

inline void Sessions::mute(SlotId slot, std::uint64_t until_ms) {
    room_.mute(slot, until_ms);
    const auto listed = std::find(muted_.begin(), muted_.end(), slot);
    if (until_ms != 0 && listed == muted_.end())
        muted_.push_back(slot);
    else if (until_ms == 0 && listed != muted_.end())
        muted_.erase(listed);
}

inline void Sessions::say(std::string_view text) { room_.announce("* [server] " + std::string(text)); }

inline std::string Sessions::describe(SlotId slot, std::string_view peer, std::uint64_t now_ms) const {
    const chat::Square square = room_.square(slot);
    const std::uint64_t muted_until = room_.muted_until(slot);
    const std::string_view away = room_.away(slot);
    std::string text = "nick=" + std::string(room_.nick(slot)) + " peer=" + std::string(peer) +
                       " square=" + std::to_string(square.x) + "," + std::to_string(square.y) +
                       " idle=" + std::to_string(room_.idle_ms(slot, now_ms) / 1000) + "s";
    text += " away=" + (away.empty() ? std::string("no") : "\"" + std::string(away) + "\"");
    text += " muted=" + (muted_until > now_ms ? std::to_string(minutes_left(muted_until, now_ms)) + "m" : "no");
    return text;
}

inline std::string Sessions::describe_terminal(SlotId slot, std::uint64_t now_ms) const {
    const Session& session = sessions_[slot];
    const term::Terminal& terminal = session.terminal;
    char text[200];
    std::snprintf(text, sizeof text, "budget=%.1f terminal=%s view=%s window=%dx%d encoding=%s",
                  session.budget.available(now_ms), !terminal.is_terminal() ? "lines" : terminal.echoing() ? "character" : "offered",
                  views_.viewing(slot) ? "board" : "lines", terminal.width(), terminal.height(),
                  terminal.encoding() == proto::Encoding::Utf8 ? "utf8" : "cp949");
    return text;
}

inline std::uint64_t Sessions::next_expiry_ms() const {
    std::uint64_t next = UINT64_MAX;
    for (const SlotId slot : muted_)
        next = std::min(next, room_.muted_until(slot));
    return next;
}

template <typename OnEnd>
void Sessions::expire(std::uint64_t now_ms, OnEnd&& on_end) {
    for (std::size_t i = 0; i < muted_.size();) {
        const SlotId slot = muted_[i];
        if (room_.muted_until(slot) > now_ms) {
            ++i;
            continue;
        }
        on_end(room_.nick(slot));
        mute(slot, 0);
    }
}

// ---- Lines to members ---------------------------------------------------------------------------------

// A MOVE line is not for a board view: its board shows the move. A member's line is not for a
// member who ignores it (chat::Room::ignores, as in broadcast).
inline void Sessions::deliver(SlotId to, const chat::Line& line) {
    if ((line.kind == chat::LineKind::Move && views_.viewing(to)) ||
        (room_.is_ignored(line.from) && room_.ignores(to, line.from)))
        return;
    const term::Terminal& terminal = sessions_[to].terminal;
    wire_.clear();
    proto::append_wire_line(wire_, terminal.encoding() == proto::Encoding::Utf8 ? line.text : terminal.to_client(line.text));
    ++counters_.lines_out;
    queue_line(to, wire_);
}

// The line is encoded once for each encoding in use; each member gets a copy of the bytes in its
// own queue. The ignore filter costs a recipient nothing when nobody ignores the line's origin
// (one test per line, before the loop), and otherwise a look through the recipient's own list
// (at most kMaxIgnored entries, empty for most): never a walk over the crowd.
inline void Sessions::broadcast(const chat::Line& line, SlotId except) {
    wire_.clear();
    proto::append_wire_line(wire_, line.text);
    cp949_wire_.clear();
    const bool moves = line.kind == chat::LineKind::Move, screened = room_.is_ignored(line.from);
    for (const SlotId member : room_.members()) {
        if (member == except || (moves && views_.viewing(member)) || (screened && room_.ignores(member, line.from)))
            continue;
        const term::Terminal& terminal = sessions_[member].terminal;
        const bool utf8 = terminal.encoding() == proto::Encoding::Utf8;
        if (!utf8 && cp949_wire_.empty())
            proto::append_wire_line(cp949_wire_, terminal.to_client(line.text));
        ++counters_.lines_out;
        queue_line(member, utf8 ? wire_ : cp949_wire_);
    }
}

// A line for a member whose terminal the server echoes to goes above the line it is typing: the
// first line of a turn takes that off the screen, and end_turn draws it again once the turn's lines
// are queued, so many lines cost one erase and one redraw.
inline void Sessions::queue_line(SlotId slot, const std::string& wire) {
    term::Terminal& terminal = sessions_[slot].terminal;
    if (terminal.echoing() && !terminal.input_hidden()) {
        const std::string erase = terminal.hide_input();
        if (!erase.empty()) {
            queue(slot, erase);
            to_redraw_.push(slot);
        }
    }
    queue(slot, wire);
}

inline void Sessions::end_turn() {
    while (!to_redraw_.empty()) {
        const SlotId slot = to_redraw_.pop();
        const std::string input = sessions_[slot].terminal.show_input();
        if (!input.empty())
            queue(slot, input);
    }
}

}  // namespace session

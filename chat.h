// chat.h - the chat-and-board rules: guest names and nicks, the 8x8 board, and what each of the
// room's commands answers (PRODUCT.md, "Wire protocol"). The room of Asio's chat example, without
// the sockets.
//
// Includes no Windows header: the room knows its members by slot number and reaches them only
// through `Members` (a line to one member, a line to all), so it is unit-tested natively. What
// changed on the board it returns (`Change`) to its caller, the session layer, which has the board
// views draw it. The commands about a member's connection (/play, /stats, /encoding, /quit) are the
// session layer's; the room never sees them.
//
// A member is its connection, not its name: the room numbers every join (`Occupant`), so that what
// follows a member (who /reply answers, who it ignores) never passes to a newcomer who takes the
// same slot or the same name. Every line a member originates (chat, /me, /msg) passes one gate,
// `speaks`, and carries its origin (`Line::from`) to the fan-out, where an ignorer is left out.
#pragma once

#include "protocol.h"
#include "utf8.h"
#include "util.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chat {

constexpr std::size_t kRecentLines = proto::kHistoryMax;  // the public lines kept: /history, a board view opening

struct Square {
    int x, y;  // 0..kBoardSize-1; y = 0 is the top row
    bool operator==(const Square& other) const { return x == other.x && y == other.y; }
};

// What a line the room sends is: text, or a piece's MOVE, which a board view shows on its board
// instead of as a line.
enum class LineKind : std::uint8_t { Text, Move };

// A line the room sends, and whose it is.
struct Line {
    std::string_view text;  // without its line end
    LineKind kind = LineKind::Text;
    // The member who originated it (its chat, /me, /msg: every kind a member says): a member who
    // ignores that one is not sent it. kNoSlot: the room's own (notices, answers, MOVE lines).
    SlotId from = kNoSlot;
};

// How the room's lines reach its members: the one interface the layer above hands the room. How
// each member's connection shows them is not the room's business; leaving out a line `from` a
// member the recipient ignores (is_ignored, ignores) is the fan-out's, done there once per recipient.
class Members {
public:
    virtual void deliver(SlotId to, const Line& line) = 0;
    // Every member but `except` (kNoSlot: none), in members() order.
    virtual void broadcast(const Line& line, SlotId except) = 0;

protected:
    ~Members() = default;
};

// What a call changed that a board shows: a piece that moved (from != to), or a member who joined,
// left or was renamed (on `to`, its square). None: nothing a board shows.
struct Change {
    enum class Kind : std::uint8_t { None, Move, Roster };
    Kind kind = Kind::None;
    SlotId who = kNoSlot;
    Square from{}, to{};
};

// One connection: its slot and which of the slot's occupants, by the room's join number (which
// never repeats). A newcomer in the same slot is another occupant.
struct Occupant {
    SlotId slot = kNoSlot;
    std::uint64_t joined = 0;  // 0: nobody
    bool operator==(const Occupant& other) const { return slot == other.slot && joined == other.joined; }
};

// The room's last public lines, each with who said it; its strings keep their memory as it turns.
class Ring {
public:
    void push(std::string_view text, Occupant from) {
        entries_[next_].text.assign(text.data(), text.size());
        entries_[next_].from = from;
        next_ = (next_ + 1) % kRecentLines;
        count_ = std::min(count_ + 1, kRecentLines);
    }
    std::size_t size() const { return count_; }
    // The i-th line back from the newest (0: the newest), and who said it.
    const std::string& text(std::size_t back) const { return entries_[at(back)].text; }
    Occupant from(std::size_t back) const { return entries_[at(back)].from; }

private:
    std::size_t at(std::size_t back) const { return (next_ + kRecentLines - 1 - back) % kRecentLines; }
    struct Entry {
        std::string text;
        Occupant from;
    };
    Entry entries_[kRecentLines];
    std::size_t next_ = 0, count_ = 0;
};

class Room {
public:
    // `capacity`: the highest SlotId + 1 the server will ever use; everything is allocated here.
    Room(Members& members, std::size_t capacity) : out_(members), members_(capacity) { online_.reserve(capacity); }

    // The newcomer is named guestN, put on a free square, welcomed and announced. `now_ms`: any
    // clock that only goes forward, the same for every call (idle times are measured on it).
    Change join(SlotId id, std::uint64_t now_ms);
    // One finished line from a member, parsed: a chat line or one of the room's commands, answered.
    Change on_command(SlotId id, const proto::Command& command, std::uint64_t now_ms);
    // The member is gone: off the board and the list, announced to the rest when `announce`
    // ("* nick left", or what `how` says instead of "left": "was kicked").
    Change leave(SlotId id, bool announce, std::string_view how = "left");
    // A line of the server's to everyone (the operator's `say`), kept among the recent ones.
    void announce(std::string_view line) { tell_everyone(line, kNoSlot); }
    // One step; off the edge the piece stays and only the mover hears of it (/move, the arrow keys).
    Change move(SlotId id, proto::Step step);

    bool contains(SlotId id) const { return id < members_.size() && members_[id].online_index != kAbsent; }
    // The member who goes by `nick` (any case for ASCII), or kNoSlot.
    SlotId find(std::string_view nick) const {
        const auto found = nicks_.find(key_of(nick));
        return found == nicks_.end() ? kNoSlot : found->second;
    }
    std::string_view nick(SlotId id) const { return members_[id].nick; }
    Square square(SlotId id) const { return {members_[id].x, members_[id].y}; }
    std::string_view away(SlotId id) const { return members_[id].away; }  // empty: not away
    std::uint64_t idle_ms(SlotId id, std::uint64_t now_ms) const {
        return now_ms > members_[id].said_ms ? now_ms - members_[id].said_ms : 0;
    }
    // The operator's mute: the member's lines reach nobody until `until_ms` (0: not muted).
    void mute(SlotId id, std::uint64_t until_ms) { members_[id].muted_until_ms = until_ms; }
    std::uint64_t muted_until(SlotId id) const { return members_[id].muted_until_ms; }
    // What `viewer` sees on a square: '@' itself (others there too or not), the first character of
    // one other's nick (a Hangul syllable is two columns wide), '+' for several others, '.' for nobody.
    char32_t glyph(SlotId viewer, Square square) const;
    // Row y of the board as `viewer` sees it, "0 . . @ . . . . .", appended to `out`. A square
    // after a two-column glyph has no space before it: the glyph took that column, and the
    // squares stay in their columns.
    void append_board_row(SlotId viewer, int y, std::string& out) const;
    const std::vector<SlotId>& members() const { return online_; }  // in no particular order
    // The last `most` (at most kRecentLines) lines said to everyone, chat and notices, oldest
    // first, leaving out what `viewer` ignores.
    std::vector<std::string> recent(std::size_t most, SlotId viewer) const { return last_lines(recent_, most, viewer); }
    // Departed members whose name some /reply still needs: bounded by the members online.
    std::size_t departed_names() const { return departed_.size(); }
    bool crowd_is_small() const { return online_.size() <= static_cast<std::size_t>(proto::kCrowdNoticeLimit); }

    // The fan-out's filter. is_ignored: whether anyone ignores `speaker` at all (false for the
    // room's own lines), so that a fan-out asks it once per line and ignores() per recipient only
    // when it is true; ignores() looks through the listener's list, at most kMaxIgnored entries.
    bool is_ignored(SlotId speaker) const { return speaker != kNoSlot && members_[speaker].ignored_by > 0; }
    bool ignores(SlotId listener, SlotId speaker) const {
        return speaker != kNoSlot && ignores(listener, occupant(speaker));
    }

private:
    static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;
    struct Member {
        char nick[proto::kMaxNickBytes + 1] = {};  // kept after it leaves, until the slot's next join
        int x = 0, y = 0;
        std::uint32_t online_index = kAbsent;  // where in online_
        std::uint64_t joined = 0;              // the room's join number: which occupant of the slot
        std::uint64_t said_ms = 0;             // when it last said a line (chat, /me, /msg); its join at first
        std::uint64_t muted_until_ms = 0;      // the operator's mute: its lines reach nobody until then
        std::uint32_t ignored_by = 0;          // members whose ignore list holds it
        std::uint32_t reply_holders = 0;       // members whose /reply goes to it
        Occupant reply_to;                     // who its /reply goes to
        std::string away;                      // why it is away; empty: it is here
        std::vector<Occupant> ignoring;        // at most kMaxIgnored; entries for the departed go lazily
    };
    // A departed member some /reply still goes to: its last name, for "ERR NAME has left".
    struct Departed {
        std::string nick;
        std::uint32_t holders;
    };

    void place(Member& member, SlotId id);
    bool speaks(SlotId id, std::uint64_t now_ms);
    void say(SlotId id, std::string_view text, std::uint64_t now_ms);
    void act(SlotId id, std::string_view text, std::uint64_t now_ms);
    void message(SlotId id, std::string_view argument, std::uint64_t now_ms);
    void reply(SlotId id, std::string_view text, std::uint64_t now_ms);
    void send_private(SlotId from, SlotId to, std::string_view text);
    void set_away(SlotId id, std::string_view text);
    Change rename(SlotId id, std::string_view name);
    void who(SlotId id, std::uint64_t now_ms);
    void ignore(SlotId id, std::string_view name);
    void unignore(SlotId id, std::string_view name);
    void list_ignored(SlotId id);
    void history(SlotId id, std::string_view count);
    Change move_command(SlotId id, std::string_view direction);
    void enter(Member& member, SlotId id, Square square);
    void quit_square(Member& member, SlotId id);
    void show_board(SlotId id);
    void help(SlotId id);
    static std::string key_of(std::string_view nick);
    void tell(SlotId id, std::string_view text) { out_.deliver(id, Line{text}); }
    void tell_everyone(std::string_view line, SlotId except);
    void say_to_everyone(std::string_view line, SlotId from);
    std::vector<std::string> last_lines(const Ring& ring, std::size_t most, SlotId viewer) const;

    Occupant occupant(SlotId id) const { return {id, members_[id].joined}; }
    bool is_current(Occupant who) const { return who.slot != kNoSlot && contains(who.slot) && occupant(who.slot) == who; }
    bool ignores(SlotId listener, Occupant speaker) const {
        const std::vector<Occupant>& list = members_[listener].ignoring;
        return !list.empty() && std::find(list.begin(), list.end(), speaker) != list.end();
    }
    void point_reply(SlotId id, SlotId to);
    void release_reply(Occupant target);
    std::string_view last_nick(Occupant who) const;
    void forget(Member& member);
    void prune_ignoring(Member& member);

    Members& out_;  // where its lines go
    std::vector<Member> members_;
    std::vector<SlotId> online_;
    std::unordered_map<std::string, SlotId> nicks_;  // lower-cased nick -> member
    std::unordered_map<std::uint64_t, Departed> departed_;  // by join number
    int board_[proto::kBoardSize][proto::kBoardSize] = {};  // pieces on each square
    // The ids of the pieces on each square, xor'ed together: on a square of one piece, its id.
    SlotId occupants_[proto::kBoardSize][proto::kBoardSize] = {};
    std::uint64_t next_guest_ = 1;  // never repeats, so no two guests ever share a name
    std::uint64_t joins_ = 0;       // the last join number given
    std::string text_;  // scratch: the line being formatted
    Ring recent_;  // every line said to everyone (chat, /me, notices): a board view opens with them
    Ring said_;    // the chat and /me lines alone: /history
};

// ---- Lines to everyone ----------------------------------------------------------------------------

// A notice to everyone, kept among the recent lines.
inline void Room::tell_everyone(std::string_view line, SlotId except) {
    recent_.push(line, {});
    out_.broadcast(Line{line}, except);
}

// A member's line to everyone (chat, /me): kept for /history too, and carrying its origin.
inline void Room::say_to_everyone(std::string_view line, SlotId from) {
    recent_.push(line, occupant(from));
    said_.push(line, occupant(from));
    out_.broadcast(Line{line, LineKind::Text, from}, kNoSlot);
}

// The newest `most` of the ring that `viewer` does not ignore, oldest first.
inline std::vector<std::string> Room::last_lines(const Ring& ring, std::size_t most, SlotId viewer) const {
    std::vector<std::string> lines;
    for (std::size_t back = 0; back < ring.size() && lines.size() < most; ++back)
        if (!ignores(viewer, ring.from(back)))
            lines.push_back(ring.text(back));
    std::reverse(lines.begin(), lines.end());
    return lines;
}

// ---- Joining and leaving ----------------------------------------------------------------------------

inline std::string Room::key_of(std::string_view nick) {
    std::string key(nick);
    for (char& c : key)
        c = proto::ascii_lower(c);
    return key;
}

inline Change Room::join(SlotId id, std::uint64_t now_ms) {
    Member& member = members_[id];
    if (member.reply_holders > 0)  // the slot's last occupant: a /reply still goes to it, by its name
        departed_[member.joined] = {member.nick, member.reply_holders};
    member.joined = ++joins_;
    member.said_ms = now_ms;
    member.muted_until_ms = 0;
    member.ignored_by = 0;
    member.reply_holders = 0;
    std::string nick;
    do {
        nick = "guest" + std::to_string(next_guest_++);
    } while (nicks_.count(nick));  // someone may have taken "guestN" with /nick
    std::snprintf(member.nick, sizeof member.nick, "%s", nick.c_str());
    nicks_[nick] = id;
    place(member, id);
    member.online_index = static_cast<std::uint32_t>(online_.size());
    online_.push_back(id);
    text_ = "* welcome " + nick + ", " + std::to_string(online_.size()) + " online - /help lists commands";
    tell(id, text_);
    if (crowd_is_small())
        tell_everyone("* " + nick + " joined", id);
    return {Change::Kind::Roster, id, {}, square(id)};
}

// A free square if there is one, searched from a start that moves with every guest, so that
// newcomers spread out; on a full board, the start square.
inline void Room::place(Member& member, SlotId id) {
    constexpr int n = proto::kBoardSize;
    const int start = static_cast<int>(next_guest_ % static_cast<std::uint64_t>(n * n));
    int square = start;
    for (int i = 0; i < n * n; ++i) {
        const int candidate = (start + i) % (n * n);
        if (board_[candidate / n][candidate % n] == 0) {
            square = candidate;
            break;
        }
    }
    enter(member, id, {square % n, square / n});
}

inline void Room::enter(Member& member, SlotId id, Square square) {
    member.x = square.x;
    member.y = square.y;
    ++board_[square.y][square.x];
    occupants_[square.y][square.x] ^= id;
}

inline void Room::quit_square(Member& member, SlotId id) {
    --board_[member.y][member.x];
    occupants_[member.y][member.x] ^= id;
}

inline Change Room::leave(SlotId id, bool announce, std::string_view how) {
    Member& member = members_[id];
    const std::uint32_t index = member.online_index;
    if (index == kAbsent)
        return {};
    forget(member);
    online_[index] = online_.back();
    members_[online_[index]].online_index = index;
    online_.pop_back();
    member.online_index = kAbsent;
    nicks_.erase(key_of(member.nick));
    quit_square(member, id);
    // The rule is the crowd as it was with the leaver in it, as for the join.
    if (announce && online_.size() + 1 <= static_cast<std::size_t>(proto::kCrowdNoticeLimit))
        tell_everyone("* " + std::string(member.nick) + " " + std::string(how), kNoSlot);
    return {Change::Kind::Roster, id, {}, square(id)};
}

// What the leaver held on others ends with it: its /reply, its ignore list, its away text. What
// others hold on it (their /reply to it, their ignoring it) ends by the join number.
inline void Room::forget(Member& member) {
    release_reply(member.reply_to);
    member.reply_to = {};
    for (const Occupant ignored : member.ignoring)
        if (is_current(ignored))
            --members_[ignored.slot].ignored_by;
    std::vector<Occupant>().swap(member.ignoring);
    std::string().swap(member.away);
}

// ---- Commands -----------------------------------------------------------------------------------------

// The session layer's commands (/play, /stats, /encoding, /quit) never come here.
inline Change Room::on_command(SlotId id, const proto::Command& command, std::uint64_t now_ms) {
    const std::string_view argument = command.argument;
    switch (command.kind) {
    case proto::CommandKind::Chat: say(id, argument, now_ms); break;
    case proto::CommandKind::Nick: return rename(id, argument);
    case proto::CommandKind::Msg: message(id, argument, now_ms); break;
    case proto::CommandKind::Reply: reply(id, argument, now_ms); break;
    case proto::CommandKind::Me: act(id, argument, now_ms); break;
    case proto::CommandKind::Away: set_away(id, argument); break;
    case proto::CommandKind::Who: who(id, now_ms); break;
    case proto::CommandKind::Ignore: argument.empty() ? list_ignored(id) : ignore(id, argument); break;
    case proto::CommandKind::Unignore: unignore(id, argument); break;
    case proto::CommandKind::History: history(id, argument); break;
    case proto::CommandKind::Move: return move_command(id, argument);
    case proto::CommandKind::Board: show_board(id); break;
    case proto::CommandKind::Ping:
        text_ = "PONG";
        if (!argument.empty()) {
            text_ += ' ';
            text_ += argument;
        }
        tell(id, text_);
        break;
    case proto::CommandKind::Help: help(id); break;
    case proto::CommandKind::Unknown:
        text_ = "ERR unknown command ";
        text_ += command.word;
        text_ += " (try /help)";
        tell(id, text_);
        break;
    default: break;
    }
    return {};
}

// The one gate of every line a member originates (chat, /me, /msg, and any kind added later): its
// idle time starts again here, and an operator's mute refuses here. False: the line goes nowhere.
inline bool Room::speaks(SlotId id, std::uint64_t now_ms) {
    Member& member = members_[id];
    if (member.muted_until_ms > now_ms) {
        tell(id, "ERR you are muted (" + std::to_string(minutes_left(member.muted_until_ms, now_ms)) + " more minutes)");
        return false;
    }
    member.said_ms = now_ms;
    return true;
}

inline void Room::say(SlotId id, std::string_view text, std::uint64_t now_ms) {
    if (!speaks(id, now_ms))
        return;
    text_.assign(members_[id].nick);
    text_ += ": ";
    text_ += text;
    say_to_everyone(text_, id);
}

// /me: "** nick text", two stars, so that it is never taken for a notice of the server's.
inline void Room::act(SlotId id, std::string_view text, std::uint64_t now_ms) {
    if (text.empty()) {
        tell(id, "ERR usage: /me text");
        return;
    }
    if (!speaks(id, now_ms))
        return;
    text_ = "** ";
    text_ += members_[id].nick;
    text_ += ' ';
    text_ += text;
    say_to_everyone(text_, id);
}

// /msg NICK text
inline void Room::message(SlotId id, std::string_view argument, std::uint64_t now_ms) {
    const std::size_t space = argument.find(' ');
    const std::string_view name = argument.substr(0, space);
    const std::string_view text = space == std::string_view::npos ? std::string_view() : proto::trim_spaces(argument.substr(space));
    if (name.empty() || text.empty()) {
        tell(id, "ERR usage: /msg NICK text");
        return;
    }
    const SlotId to = find(name);
    if (to == kNoSlot) {
        tell(id, "ERR no such nick " + std::string(name));
        return;
    }
    if (speaks(id, now_ms))
        send_private(id, to, text);
}

// /reply text: to the connection that last sent a /msg, whatever its name is now.
inline void Room::reply(SlotId id, std::string_view text, std::uint64_t now_ms) {
    const Occupant target = members_[id].reply_to;
    if (text.empty()) {
        tell(id, "ERR usage: /reply text");
    } else if (target.slot == kNoSlot) {
        tell(id, "ERR no one to reply to");
    } else if (!is_current(target)) {
        tell(id, "ERR " + std::string(last_nick(target)) + " has left");
    } else if (speaks(id, now_ms)) {
        send_private(id, target.slot, text);
    }
}

// The recipient's line carries its origin, so an ignorer is not sent it; the sender is not told,
// and the ignorer's /reply does not turn to it. The away notice answers a person's /msg, never a
// notice: nothing the server sends by itself is answered by anything automatic.
inline void Room::send_private(SlotId from, SlotId to, std::string_view text) {
    text_ = "[msg] from ";
    text_ += members_[from].nick;
    text_ += ": ";
    text_ += text;
    out_.deliver(to, Line{text_, LineKind::Text, from});
    if (!ignores(to, from))
        point_reply(to, from);
    text_ = "[msg] to ";
    text_ += members_[to].nick;
    text_ += ": ";
    text_ += text;
    tell(from, text_);
    if (!members_[to].away.empty())
        tell(from, "* " + std::string(members_[to].nick) + " is away: " + members_[to].away);
}

// Who holds a /reply to whom is counted, so that a departed member's name is kept exactly as long
// as some /reply may still need it (departed_), and no longer.
inline void Room::point_reply(SlotId id, SlotId to) {
    Member& member = members_[id];
    if (member.reply_to == occupant(to))
        return;
    release_reply(member.reply_to);
    member.reply_to = occupant(to);
    ++members_[to].reply_holders;
}

inline void Room::release_reply(Occupant target) {
    if (target.slot == kNoSlot)
        return;
    Member& held = members_[target.slot];
    if (held.joined == target.joined) {  // online, or gone with its slot not taken again yet
        --held.reply_holders;
        return;
    }
    const auto departed = departed_.find(target.joined);
    if (departed != departed_.end() && --departed->second.holders == 0)
        departed_.erase(departed);
}

inline std::string_view Room::last_nick(Occupant who) const {
    if (members_[who.slot].joined == who.joined)
        return members_[who.slot].nick;
    const auto departed = departed_.find(who.joined);
    return departed != departed_.end() ? std::string_view(departed->second.nick) : std::string_view("?");
}

inline void Room::set_away(SlotId id, std::string_view text) {
    members_[id].away.assign(text.data(), text.size());
    tell(id, text.empty() ? std::string("* you are back") : "* you are away: " + std::string(text));
}

inline Change Room::rename(SlotId id, std::string_view name) {
    Member& member = members_[id];
    if (name.empty()) {
        tell(id, "ERR usage: /nick NAME");
        return {};
    }
    if (!proto::is_valid_nick(name)) {
        tell(id, proto::kErrInvalidNick);
        return {};
    }
    const std::string key = key_of(name);
    const auto owner = nicks_.find(key);
    if (owner != nicks_.end() && owner->second != id) {
        tell(id, "ERR nick " + std::string(name) + " is taken");
        return {};
    }
    text_ = "* " + std::string(member.nick) + " is now " + std::string(name);
    nicks_.erase(key_of(member.nick));
    nicks_[key] = id;
    std::snprintf(member.nick, sizeof member.nick, "%.*s", static_cast<int>(name.size()), name.data());
    tell_everyone(text_, kNoSlot);
    return {Change::Kind::Roster, id, {}, square(id)};
}

// "* N online: nick (x,y), nick (x,y) [away] [idle 3m], ..."
inline void Room::who(SlotId id, std::uint64_t now_ms) {
    text_ = "* " + std::to_string(online_.size()) + " online: ";
    std::size_t listed = 0;
    for (SlotId other_id : online_) {
        if (listed == static_cast<std::size_t>(proto::kWhoMaxNames))
            break;
        const Member& other = members_[other_id];
        if (listed++ > 0)
            text_ += ", ";
        text_ += other.nick;
        text_ += " (" + std::to_string(other.x) + "," + std::to_string(other.y) + ")";
        if (!other.away.empty())
            text_ += " [away]";
        const std::uint64_t idle = idle_ms(other_id, now_ms);
        if (idle >= proto::kIdleAfterMs)
            text_ += " [idle " + std::to_string(idle / (60 * 1000)) + "m]";
    }
    if (online_.size() > listed)
        text_ += " ... and " + std::to_string(online_.size() - listed) + " more";
    tell(id, text_);
}

// ---- Ignoring -------------------------------------------------------------------------------------

inline void Room::ignore(SlotId id, std::string_view name) {
    const SlotId other = find(name);
    Member& member = members_[id];
    if (other == kNoSlot) {
        tell(id, "ERR no such nick " + std::string(name));
        return;
    }
    if (other == id) {
        tell(id, "ERR you cannot ignore yourself");
        return;
    }
    prune_ignoring(member);
    if (!ignores(id, other)) {
        if (member.ignoring.size() >= proto::kMaxIgnored) {
            tell(id, proto::kErrIgnoreFull);
            return;
        }
        member.ignoring.push_back(occupant(other));
        ++members_[other].ignored_by;
    }
    tell(id, "* ignoring " + std::string(members_[other].nick));
}

inline void Room::unignore(SlotId id, std::string_view name) {
    const SlotId other = name.empty() ? kNoSlot : find(name);
    std::vector<Occupant>& list = members_[id].ignoring;
    const auto entry = other == kNoSlot ? list.end() : std::find(list.begin(), list.end(), occupant(other));
    if (name.empty()) {
        tell(id, "ERR usage: /unignore NICK");
    } else if (other == kNoSlot) {
        tell(id, "ERR no such nick " + std::string(name));
    } else if (entry == list.end()) {
        tell(id, "ERR you are not ignoring " + std::string(members_[other].nick));
    } else {
        list.erase(entry);
        --members_[other].ignored_by;
        tell(id, "* no longer ignoring " + std::string(members_[other].nick));
    }
}

// "* ignoring: a, b" by their names now, or "* ignoring nobody".
inline void Room::list_ignored(SlotId id) {
    Member& member = members_[id];
    prune_ignoring(member);
    text_ = member.ignoring.empty() ? "* ignoring nobody" : "* ignoring: ";
    for (std::size_t i = 0; i < member.ignoring.size(); ++i) {
        if (i > 0)
            text_ += ", ";
        text_ += members_[member.ignoring[i].slot].nick;
    }
    tell(id, text_);
}

// An ignore ends when the ignored member leaves: its entry goes here, at the ignorer's next look.
inline void Room::prune_ignoring(Member& member) {
    std::vector<Occupant>& list = member.ignoring;
    list.erase(std::remove_if(list.begin(), list.end(), [this](Occupant o) { return !is_current(o); }), list.end());
}

// ---- History ---------------------------------------------------------------------------------------

// /history [N]: the last N chat and /me lines, as they were sent, then "* end of history".
inline void Room::history(SlotId id, std::string_view count) {
    int asked = static_cast<int>(proto::kHistoryDefault);
    if (!count.empty() && !parse_int(std::string(count).c_str(), 1, 1000000000, asked)) {
        tell(id, proto::kErrHistoryUsage);
        return;
    }
    const std::size_t most = std::min(static_cast<std::size_t>(asked), proto::kHistoryMax);
    for (const std::string& line : last_lines(said_, most, id))
        tell(id, line);
    tell(id, "* end of history");
}

// ---- The board ---------------------------------------------------------------------------------------

inline Change Room::move_command(SlotId id, std::string_view direction) {
    proto::Step step{};
    if (!proto::parse_direction(direction, step)) {
        tell(id, "ERR usage: /move up|down|left|right");
        return {};
    }
    return move(id, step);
}

inline Change Room::move(SlotId id, proto::Step step) {
    Member& member = members_[id];
    const Square from = square(id), to{member.x + step.dx, member.y + step.dy};
    const bool on_board = to.x >= 0 && to.x < proto::kBoardSize && to.y >= 0 && to.y < proto::kBoardSize;
    if (on_board) {
        quit_square(member, id);
        enter(member, id, to);
    }
    text_ = "MOVE " + std::string(member.nick) + " " + std::to_string(member.x) + " " + std::to_string(member.y);
    if (!on_board) {
        out_.deliver(id, Line{text_, LineKind::Move});
        return {};
    }
    out_.broadcast(Line{text_, LineKind::Move}, kNoSlot);
    return {Change::Kind::Move, id, from, to};
}

inline char32_t Room::glyph(SlotId viewer, Square square) const {
    const Member& me = members_[viewer];
    if (me.x == square.x && me.y == square.y)
        return '@';
    const int pieces = board_[square.y][square.x];
    if (pieces != 1)
        return pieces == 0 ? '.' : '+';
    const std::string_view nick = members_[occupants_[square.y][square.x]].nick;
    std::size_t at = 0;
    return utf8::next_code_point(nick, at);  // a letter, a digit, _ or -, or a Hangul syllable
}

inline void Room::append_board_row(SlotId viewer, int y, std::string& out) const {
    out += static_cast<char>('0' + y);
    bool wide = false;
    for (int x = 0; x < proto::kBoardSize; ++x) {
        if (!wide)
            out += ' ';
        const char32_t shown = glyph(viewer, {x, y});
        utf8::append(out, shown);
        wide = utf8::columns_of(shown) == 2;
    }
}

// Eight rows, top (y = 0) first, then a coordinate row:
//   0 . . @ . . . . .
//   1 . . . 한. . . .
//   ...
//     0 1 2 3 4 5 6 7
inline void Room::show_board(SlotId id) {
    constexpr int n = proto::kBoardSize;
    for (int y = 0; y < n; ++y) {
        text_.clear();
        append_board_row(id, y, text_);
        tell(id, text_);
    }
    text_ = " ";
    for (int x = 0; x < n; ++x)
        text_ += " " + std::to_string(x);
    tell(id, text_);
}

// One line per row of the command table; a command's short forms follow its help.
inline void Room::help(SlotId id) {
    tell(id, "* commands:");
    for (const proto::CommandInfo& command : proto::kCommands) {
        text_ = "*   ";
        text_ += proto::help_row(command, proto::kHelpSyntaxColumn);
        int name = 0;
        proto::any_name(command, [&](std::string_view alias) {
            if (name++ > 0)
                text_.append(name == 2 ? " (also " : ", ").append(alias.data(), alias.size());
            return false;
        });
        if (name > 1)
            text_ += ')';
        tell(id, text_);
    }
}

}  // namespace chat

// chat.h - the chat-and-board rules: guest names and nicks, the 8x8 board, and what each of the
// room's commands answers (PRODUCT.md, "Wire protocol"). The room of Asio's chat example, without
// the sockets.
//
// Includes no Windows header: the room knows its members by slot number and reaches them only
// through `Members` (a line to one member, a line to all), so it is unit-tested natively. What
// changed on the board it returns (`Change`) to its caller, the session layer, which has the board
// views draw it. The commands about a member's connection (/play, /stats, /encoding, /quit) are the
// session layer's; the room never sees them.
#pragma once

#include "protocol.h"
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


constexpr std::size_t kRecentLines = 32;  // the room's last lines kept, for a board view to open with

struct Square {
    int x, y;  // 0..kBoardSize-1; y = 0 is the top row
    bool operator==(const Square& other) const { return x == other.x && y == other.y; }
};

// What a line the room sends is: text, or a piece's MOVE, which a board view shows on its board
// instead of as a line.
enum class LineKind : std::uint8_t { Text, Move };

// How the room's lines reach its members: the one interface the layer above hands the room. Lines
// are text without their line end; how each member's connection shows them is not the room's business.
class Members {
public:
    virtual void deliver(SlotId to, std::string_view line, LineKind kind) = 0;
    // Every member but `except` (kNoSlot: none), in members() order.
    virtual void broadcast(std::string_view line, SlotId except, LineKind kind) = 0;

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

class Room {
public:
    // `capacity`: the highest SlotId + 1 the server will ever use; everything is allocated here.
    Room(Members& members, std::size_t capacity) : out_(members), members_(capacity) { online_.reserve(capacity); }

    // The newcomer is named guestN, put on a free square, welcomed and announced.
    Change join(SlotId id);
    // One finished line from a member, parsed: a chat line or one of the room's commands, answered.
    Change on_command(SlotId id, const proto::Command& command);
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
    // What `viewer` sees on a square: '@' itself (others there too or not), the first letter of
    // one other's nick, '+' for several others, '.' for nobody.
    char glyph(SlotId viewer, Square square) const;
    const std::vector<SlotId>& members() const { return online_; }  // in no particular order
    // The last `most` (at most kRecentLines) lines said to everyone, chat and notices, oldest first.
    std::vector<std::string> recent(std::size_t most) const;
    bool crowd_is_small() const { return online_.size() <= static_cast<std::size_t>(proto::kCrowdNoticeLimit); }

private:
    static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;
    struct Member {
        char nick[proto::kMaxNickBytes + 1] = {};
        int x = 0, y = 0;
        std::uint32_t online_index = kAbsent;  // where in online_
    };

    void place(Member& member, SlotId id);
    void say(SlotId id, std::string_view text);
    Change rename(SlotId id, std::string_view name);
    void who(SlotId id);
    Change move_command(SlotId id, std::string_view direction);
    void enter(Member& member, SlotId id, Square square);
    void quit_square(Member& member, SlotId id);
    void show_board(SlotId id);
    void help(SlotId id);
    static std::string key_of(std::string_view nick);
    void tell_everyone(std::string_view line, SlotId except);

    Members& out_;  // where its lines go
    std::vector<Member> members_;
    std::vector<SlotId> online_;
    std::unordered_map<std::string, SlotId> nicks_;  // lower-cased nick -> member
    int board_[proto::kBoardSize][proto::kBoardSize] = {};  // pieces on each square
    // The ids of the pieces on each square, xor'ed together: on a square of one piece, its id.
    SlotId occupants_[proto::kBoardSize][proto::kBoardSize] = {};
    std::uint64_t next_guest_ = 1;  // never repeats, so no two guests ever share a name
    std::string text_;  // scratch: the line being formatted
    std::string recent_[kRecentLines];  // a ring: recent_next_ is the oldest once it is full
    std::size_t recent_next_ = 0, recent_count_ = 0;
};

// Everyone's line, kept among the recent ones (their strings' memory is reused as the ring turns).
inline void Room::tell_everyone(std::string_view line, SlotId except) {
    recent_[recent_next_].assign(line.data(), line.size());
    recent_next_ = (recent_next_ + 1) % kRecentLines;
    recent_count_ = std::min(recent_count_ + 1, kRecentLines);
    out_.broadcast(line, except, LineKind::Text);
}

inline std::vector<std::string> Room::recent(std::size_t most) const {
    const std::size_t count = std::min(most, recent_count_);
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < count; ++i)
        lines.push_back(recent_[(recent_next_ + kRecentLines - count + i) % kRecentLines]);
    return lines;
}

inline std::string Room::key_of(std::string_view nick) {
    std::string key(nick);
    for (char& c : key)
        c = proto::ascii_lower(c);
    return key;
}

inline Change Room::join(SlotId id) {
    Member& member = members_[id];
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
    out_.deliver(id, text_, LineKind::Text);
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

inline char Room::glyph(SlotId viewer, Square square) const {
    const Member& me = members_[viewer];
    if (me.x == square.x && me.y == square.y)
        return '@';
    const int pieces = board_[square.y][square.x];
    return pieces == 0 ? '.' : pieces > 1 ? '+' : members_[occupants_[square.y][square.x]].nick[0];
}

inline Change Room::leave(SlotId id, bool announce, std::string_view how) {
    Member& member = members_[id];
    const std::uint32_t index = member.online_index;
    if (index == kAbsent)
        return {};
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

// The session layer's commands (/play, /stats, /encoding, /quit) never come here.
inline Change Room::on_command(SlotId id, const proto::Command& command) {
    switch (command.kind) {
    case proto::CommandKind::Chat: say(id, command.argument); break;
    case proto::CommandKind::Nick: return rename(id, command.argument);
    case proto::CommandKind::Who: who(id); break;
    case proto::CommandKind::Move: return move_command(id, command.argument);
    case proto::CommandKind::Board: show_board(id); break;
    case proto::CommandKind::Ping:
        text_ = "PONG";
        if (!command.argument.empty()) {
            text_ += ' ';
            text_ += command.argument;
        }
        out_.deliver(id, text_, LineKind::Text);
        break;
    case proto::CommandKind::Help: help(id); break;
    case proto::CommandKind::Unknown:
        text_ = "ERR unknown command ";
        text_ += command.word;
        text_ += " (try /help)";
        out_.deliver(id, text_, LineKind::Text);
        break;
    default: break;
    }
    return {};
}

inline void Room::say(SlotId id, std::string_view text) {
    text_.assign(members_[id].nick);
    text_ += ": ";
    text_ += text;
    tell_everyone(text_, kNoSlot);
}

inline Change Room::rename(SlotId id, std::string_view name) {
    Member& member = members_[id];
    if (name.empty()) {
        out_.deliver(id, "ERR usage: /nick NAME", LineKind::Text);
        return {};
    }
    if (!proto::is_valid_nick(name)) {
        out_.deliver(id, proto::kErrInvalidNick, LineKind::Text);
        return {};
    }
    const std::string key = key_of(name);
    const auto owner = nicks_.find(key);
    if (owner != nicks_.end() && owner->second != id) {
        out_.deliver(id, "ERR nick " + std::string(name) + " is taken", LineKind::Text);
        return {};
    }
    text_ = "* " + std::string(member.nick) + " is now " + std::string(name);
    nicks_.erase(key_of(member.nick));
    nicks_[key] = id;
    std::snprintf(member.nick, sizeof member.nick, "%.*s", static_cast<int>(name.size()), name.data());
    tell_everyone(text_, kNoSlot);
    return {Change::Kind::Roster, id, {}, square(id)};
}

inline void Room::who(SlotId id) {
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
    }
    if (online_.size() > listed)
        text_ += " ... and " + std::to_string(online_.size() - listed) + " more";
    out_.deliver(id, text_, LineKind::Text);
}

inline Change Room::move_command(SlotId id, std::string_view direction) {
    proto::Step step{};
    if (!proto::parse_direction(direction, step)) {
        out_.deliver(id, "ERR usage: /move up|down|left|right", LineKind::Text);
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
        out_.deliver(id, text_, LineKind::Move);
        return {};
    }
    out_.broadcast(text_, kNoSlot, LineKind::Move);
    return {Change::Kind::Move, id, from, to};
}

// Eight rows, top (y = 0) first, then a coordinate row:
//   0 . . @ . . . . .
//   ...
//     0 1 2 3 4 5 6 7
inline void Room::show_board(SlotId id) {
    constexpr int n = proto::kBoardSize;
    for (int y = 0; y < n; ++y) {
        text_ = std::to_string(y);
        for (int x = 0; x < n; ++x) {
            text_ += ' ';
            text_ += glyph(id, {x, y});
        }
        out_.deliver(id, text_, LineKind::Text);
    }
    text_ = " ";
    for (int x = 0; x < n; ++x)
        text_ += " " + std::to_string(x);
    out_.deliver(id, text_, LineKind::Text);
}

inline void Room::help(SlotId id) {
    out_.deliver(id, "* commands:", LineKind::Text);
    for (const proto::CommandInfo& command : proto::kCommands) {
        text_ = "*   ";
        text_ += command.syntax;
        text_.append(command.syntax.size() < proto::kHelpSyntaxColumn ? proto::kHelpSyntaxColumn - command.syntax.size() : 1,
                     ' ');
        text_ += command.help;
        out_.deliver(id, text_, LineKind::Text);
    }
}

}  // namespace chat

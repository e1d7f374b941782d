// chat.h - the chat-and-board rules: guest names and nicks, the 8x8 board, and what each command
// answers (PRODUCT.md, "Wire protocol"). The room of Asio's chat example, without the sockets.
//
// Includes no Windows header: the room knows its members by number and reaches them only through
// `Transport` (a line to one member, a line to all), so it is unit-tested natively. The server owns
// the connections and decides what a member's leaving means for its socket.
#pragma once

#include "protocol.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chat {

using MemberId = std::uint32_t;  // the server's slot number
constexpr MemberId kNobody = 0xFFFFFFFFu;

constexpr std::size_t kRecentLines = 32;  // the room's last lines kept, for a board view to open with

struct Square {
    int x, y;  // 0..kBoardSize-1; y = 0 is the top row
    bool operator==(const Square& other) const { return x == other.x && y == other.y; }
};

// What the room needs from whoever holds the connections. Lines are text without their line end;
// how they are encoded for each connection is the transport's business.
class Transport {
public:
    virtual void send(MemberId to, std::string_view line) = 0;
    virtual void broadcast(std::string_view line, MemberId except) = 0;  // every member, in members() order
    virtual std::string stats_text() = 0;  // the counters after "STATS "
    virtual void set_encoding(MemberId member, proto::Encoding encoding) = 0;  // its text from now on
    // A piece moved from `from` to `to`: the board views draw it, and `line` (its MOVE line) goes to
    // every member not in one. from == to: it bumped the edge and stayed; only `who` is told.
    virtual void moved(MemberId who, Square from, Square to, std::string_view line) = 0;
    // `who` joined, left or was renamed, on `square`: the board views draw it and their lists.
    virtual void roster_changed(MemberId who, Square square) = 0;
    // /play: the member's board view on, or off again.
    virtual void toggle_board_view(MemberId member) = 0;

protected:
    ~Transport() = default;
};

// What the connection does after a line: go on reading, or close once the `* bye` is out.
enum class After : std::uint8_t { Read, Quit };

class Room {
public:
    // `capacity`: the highest MemberId + 1 the server will ever use; everything is allocated here.
    Room(Transport& transport, std::size_t capacity) : transport_(transport), members_(capacity) {
        online_.reserve(capacity);
    }

    // The newcomer is named guestN, put on a free square, welcomed and announced.
    void join(MemberId id);
    // One finished line from a member: a chat line or a command, answered.
    After on_line(MemberId id, std::string_view line);
    // The member is gone: off the board and the list, announced to the rest when `announce`.
    void leave(MemberId id, bool announce);
    // One step; off the edge the piece stays (/move and the board view's arrow keys).
    void move(MemberId id, proto::Step step);

    bool contains(MemberId id) const { return id < members_.size() && members_[id].online_index != kAbsent; }
    std::string_view nick(MemberId id) const { return members_[id].nick; }
    Square square(MemberId id) const { return {members_[id].x, members_[id].y}; }
    // What `viewer` sees on a square: '@' itself (others there too or not), the first letter of
    // one other's nick, '+' for several others, '.' for nobody.
    char glyph(MemberId viewer, Square square) const;
    const std::vector<MemberId>& members() const { return online_; }  // in no particular order
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

    void place(Member& member, MemberId id);
    void say(MemberId id, std::string_view text);
    void rename(MemberId id, std::string_view name);
    void who(MemberId id);
    void move_command(MemberId id, std::string_view direction);
    void enter(Member& member, MemberId id, Square square);
    void quit_square(Member& member, MemberId id);
    void show_board(MemberId id);
    void help(MemberId id);
    void encoding(MemberId id, std::string_view name);
    static std::string key_of(std::string_view nick);
    void tell_everyone(std::string_view line, MemberId except);

    Transport& transport_;
    std::vector<Member> members_;
    std::vector<MemberId> online_;
    std::unordered_map<std::string, MemberId> nicks_;  // lower-cased nick -> member
    int board_[proto::kBoardSize][proto::kBoardSize] = {};  // pieces on each square
    // The ids of the pieces on each square, xor'ed together: on a square of one piece, its id.
    MemberId occupants_[proto::kBoardSize][proto::kBoardSize] = {};
    std::uint64_t next_guest_ = 1;  // never repeats, so no two guests ever share a name
    std::string text_;  // scratch: the line being formatted
    std::string recent_[kRecentLines];  // a ring: recent_next_ is the oldest once it is full
    std::size_t recent_next_ = 0, recent_count_ = 0;
};

// Everyone's line, kept among the recent ones (their strings' memory is reused as the ring turns).
inline void Room::tell_everyone(std::string_view line, MemberId except) {
    recent_[recent_next_].assign(line.data(), line.size());
    recent_next_ = (recent_next_ + 1) % kRecentLines;
    recent_count_ = std::min(recent_count_ + 1, kRecentLines);
    transport_.broadcast(line, except);
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

inline void Room::join(MemberId id) {
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
    transport_.send(id, text_);
    if (crowd_is_small())
        tell_everyone("* " + nick + " joined", id);
    transport_.roster_changed(id, square(id));
}

// A free square if there is one, searched from a start that moves with every guest, so that
// newcomers spread out; on a full board, the start square.
inline void Room::place(Member& member, MemberId id) {
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

inline void Room::enter(Member& member, MemberId id, Square square) {
    member.x = square.x;
    member.y = square.y;
    ++board_[square.y][square.x];
    occupants_[square.y][square.x] ^= id;
}

inline void Room::quit_square(Member& member, MemberId id) {
    --board_[member.y][member.x];
    occupants_[member.y][member.x] ^= id;
}

inline char Room::glyph(MemberId viewer, Square square) const {
    const Member& me = members_[viewer];
    if (me.x == square.x && me.y == square.y)
        return '@';
    const int pieces = board_[square.y][square.x];
    return pieces == 0 ? '.' : pieces > 1 ? '+' : members_[occupants_[square.y][square.x]].nick[0];
}

inline void Room::leave(MemberId id, bool announce) {
    Member& member = members_[id];
    const std::uint32_t index = member.online_index;
    if (index == kAbsent)
        return;
    online_[index] = online_.back();
    members_[online_[index]].online_index = index;
    online_.pop_back();
    member.online_index = kAbsent;
    nicks_.erase(key_of(member.nick));
    quit_square(member, id);
    // The rule is the crowd as it was with the leaver in it, as for the join.
    if (announce && online_.size() + 1 <= static_cast<std::size_t>(proto::kCrowdNoticeLimit))
        tell_everyone("* " + std::string(member.nick) + " left", kNobody);
    transport_.roster_changed(id, square(id));
}

inline After Room::on_line(MemberId id, std::string_view line) {
    const proto::Command command = proto::parse_command(line);
    switch (command.kind) {
    case proto::CommandKind::Chat: say(id, command.argument); break;
    case proto::CommandKind::Nick: rename(id, command.argument); break;
    case proto::CommandKind::Who: who(id); break;
    case proto::CommandKind::Move: move_command(id, command.argument); break;
    case proto::CommandKind::Board: show_board(id); break;
    case proto::CommandKind::Play: transport_.toggle_board_view(id); break;
    case proto::CommandKind::Ping:
        text_ = "PONG";
        if (!command.argument.empty()) {
            text_ += ' ';
            text_ += command.argument;
        }
        transport_.send(id, text_);
        break;
    case proto::CommandKind::Stats: transport_.send(id, "STATS " + transport_.stats_text()); break;
    case proto::CommandKind::Encoding: encoding(id, command.argument); break;
    case proto::CommandKind::Help: help(id); break;
    case proto::CommandKind::Quit:
        transport_.send(id, "* bye");
        return After::Quit;
    case proto::CommandKind::Unknown:
        text_ = "ERR unknown command ";
        text_ += command.word;
        text_ += " (try /help)";
        transport_.send(id, text_);
        break;
    }
    return After::Read;
}

inline void Room::say(MemberId id, std::string_view text) {
    text_.assign(members_[id].nick);
    text_ += ": ";
    text_ += text;
    tell_everyone(text_, kNobody);
}

inline void Room::rename(MemberId id, std::string_view name) {
    Member& member = members_[id];
    if (name.empty()) {
        transport_.send(id, "ERR usage: /nick NAME");
        return;
    }
    if (!proto::is_valid_nick(name)) {
        transport_.send(id, proto::kErrInvalidNick);
        return;
    }
    const std::string key = key_of(name);
    const auto owner = nicks_.find(key);
    if (owner != nicks_.end() && owner->second != id) {
        transport_.send(id, "ERR nick " + std::string(name) + " is taken");
        return;
    }
    text_ = "* " + std::string(member.nick) + " is now " + std::string(name);
    nicks_.erase(key_of(member.nick));
    nicks_[key] = id;
    std::snprintf(member.nick, sizeof member.nick, "%.*s", static_cast<int>(name.size()), name.data());
    tell_everyone(text_, kNobody);
    transport_.roster_changed(id, square(id));
}

inline void Room::who(MemberId id) {
    text_ = "* " + std::to_string(online_.size()) + " online: ";
    std::size_t listed = 0;
    for (MemberId other_id : online_) {
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
    transport_.send(id, text_);
}

inline void Room::move_command(MemberId id, std::string_view direction) {
    proto::Step step{};
    if (!proto::parse_direction(direction, step)) {
        transport_.send(id, "ERR usage: /move up|down|left|right");
        return;
    }
    move(id, step);
}

inline void Room::move(MemberId id, proto::Step step) {
    Member& member = members_[id];
    const Square from = square(id), to{member.x + step.dx, member.y + step.dy};
    const bool on_board = to.x >= 0 && to.x < proto::kBoardSize && to.y >= 0 && to.y < proto::kBoardSize;
    if (on_board) {
        quit_square(member, id);
        enter(member, id, to);
    }
    text_ = "MOVE " + std::string(member.nick) + " " + std::to_string(member.x) + " " + std::to_string(member.y);
    transport_.moved(id, from, square(id), text_);  // off the edge: from == to, the mover alone hears of it
}

// Eight rows, top (y = 0) first, then a coordinate row:
//   0 . . @ . . . . .
//   ...
//     0 1 2 3 4 5 6 7
inline void Room::show_board(MemberId id) {
    constexpr int n = proto::kBoardSize;
    for (int y = 0; y < n; ++y) {
        text_ = std::to_string(y);
        for (int x = 0; x < n; ++x) {
            text_ += ' ';
            text_ += glyph(id, {x, y});
        }
        transport_.send(id, text_);
    }
    text_ = " ";
    for (int x = 0; x < n; ++x)
        text_ += " " + std::to_string(x);
    transport_.send(id, text_);
}

inline void Room::encoding(MemberId id, std::string_view name) {
    proto::Encoding encoding{};
    if (proto::equals_ignoring_case(name, "utf8"))
        encoding = proto::Encoding::Utf8;
    else if (proto::equals_ignoring_case(name, "cp949"))
        encoding = proto::Encoding::Cp949;
    else {
        transport_.send(id, "ERR usage: /encoding utf8|cp949");
        return;
    }
    transport_.set_encoding(id, encoding);
    transport_.send(id, "* encoding " + std::string(encoding == proto::Encoding::Utf8 ? "utf8" : "cp949"));
}

inline void Room::help(MemberId id) {
    transport_.send(id, "* commands:");
    for (const proto::CommandInfo& command : proto::kCommands) {
        text_ = "*   ";
        text_ += command.syntax;
        text_.append(command.syntax.size() < proto::kHelpSyntaxColumn ? proto::kHelpSyntaxColumn - command.syntax.size() : 1,
                     ' ');
        text_ += command.help;
        transport_.send(id, text_);
    }
}

}  // namespace chat

// Unit tests of chat.h against PRODUCT.md's protocol table: every command, nicks and their
// collisions, guest numbering, the board and its edges, placement, and the crowd-notice rule.
#include "chat.h"
#include "check.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using Lines = std::vector<std::string>;

// Records every line each member was sent, delivering broadcasts the way the session layer does
// when nobody is in a board view; keeps the changes the room returned.
struct FakeMembers : chat::Members {
    const chat::Room* room = nullptr;
    std::map<SlotId, Lines> lines;
    void deliver(SlotId to, std::string_view line, chat::LineKind) override { lines[to].emplace_back(line); }
    void broadcast(std::string_view line, SlotId except, chat::LineKind) override {
        for (SlotId id : room->members())
            if (id != except)
                lines[id].emplace_back(line);
    }
};

struct Chat {
    FakeMembers members;
    chat::Room room{members, 200};
    std::vector<chat::Change> changes;  // what the room returned, None left out
    Chat() { members.room = &room; }

    SlotId join(SlotId id) {
        keep(room.join(id));
        return id;
    }
    void keep(const chat::Change& change) {
        if (change.kind != chat::Change::Kind::None)
            changes.push_back(change);
    }
    // One line as the session layer hands it to the room: parsed.
    void line(SlotId id, const std::string& text) { keep(room.on_command(id, proto::parse_command(text))); }
    // The lines `id` was sent since the last call.
    Lines take(SlotId id) {
        Lines got = members.lines[id];
        members.lines[id].clear();
        return got;
    }
    // What `id` is sent in answer to `line` (whatever it was sent before is dropped first).
    Lines say(SlotId id, const std::string& line) {
        take(id);
        this->line(id, line);
        return take(id);
    }
    // Where /who says `id` is: "... nick (x,y) ...".
    std::pair<int, int> square(SlotId id) {
        const Lines who = say(id, "/who");
        const std::string entry = std::string(room.nick(id)) + " (";
        std::size_t at = who.size() == 1 ? who[0].find(entry) : std::string::npos;
        while (at != std::string::npos && at > 0 && who[0][at - 1] != ' ')
            at = who[0].find(entry, at + 1);  // "guest1 (" inside "guest11 (" is not it
        if (at == std::string::npos || who[0].size() < at + entry.size() + 4)
            return {-1, -1};
        const char* xy = who[0].c_str() + at + entry.size();
        return {xy[0] - '0', xy[2] - '0'};
    }
    std::pair<int, int> at(SlotId id) const {
        const chat::Square square = room.square(id);
        return {square.x, square.y};
    }
    void clear() {
        for (auto& entry : members.lines)
            entry.second.clear();
    }
};

TEST(a_newcomer_is_welcomed_and_announced_to_the_others) {
    Chat c;
    c.join(0);
    CHECK((c.take(0) == Lines{"* welcome guest1, 1 online - /help lists commands"}));
    c.join(1);
    CHECK((c.take(1) == Lines{"* welcome guest2, 2 online - /help lists commands"}));
    CHECK((c.take(0) == Lines{"* guest2 joined"}));
}

TEST(guest_numbers_never_repeat) {
    Chat c;
    c.join(0), c.join(1), c.join(2);
    c.room.leave(1, true);
    c.join(1);
    CHECK(c.room.nick(1) == "guest4");
}

TEST(a_guest_name_taken_with_nick_is_skipped) {
    Chat c;
    c.join(0);
    c.say(0, "/nick guest2");
    c.join(1);
    CHECK(c.room.nick(0) == "guest2");
    CHECK(c.room.nick(1) == "guest3");
}

TEST(chat_goes_to_everyone_sender_included) {
    Chat c;
    c.join(0), c.join(1);
    c.clear();
    CHECK((c.say(0, "hello there") == Lines{"guest1: hello there"}));
    CHECK((c.take(1) == Lines{"guest1: hello there"}));
}

TEST(nick_change_is_told_to_everyone) {
    Chat c;
    c.join(0), c.join(1);
    c.clear();
    CHECK((c.say(0, "/nick Ann_1") == Lines{"* guest1 is now Ann_1"}));
    CHECK((c.take(1) == Lines{"* guest1 is now Ann_1"}));
    CHECK(c.room.nick(0) == "Ann_1");
}

TEST(nick_collisions_ignore_case_and_go_to_the_asker_only) {
    Chat c;
    c.join(0), c.join(1);
    c.say(0, "/nick Ann");
    c.clear();
    CHECK((c.say(1, "/nick ann") == Lines{"ERR nick ann is taken"}));
    CHECK(c.take(0).empty());
    CHECK((c.say(0, "/nick ANN") == Lines{"* Ann is now ANN"}));  // one's own name, in another case
}

TEST(a_nick_given_up_is_free_again) {
    Chat c;
    c.join(0), c.join(1);
    c.say(0, "/nick Ann");
    CHECK((c.say(1, "/nick guest1") == Lines{"* guest2 is now guest1"}));
    c.room.leave(0, true);
    CHECK((c.say(1, "/nick Ann") == Lines{"* guest1 is now Ann"}));
}

TEST(invalid_nicks_are_refused) {
    Chat c;
    c.join(0);
    c.clear();
    CHECK((c.say(0, "/nick") == Lines{"ERR usage: /nick NAME"}));
    CHECK((c.say(0, "/nick bad name") == Lines{std::string(proto::kErrInvalidNick)}));
    CHECK((c.say(0, "/nick " + std::string(17, 'x')) == Lines{std::string(proto::kErrInvalidNick)}));
    CHECK((c.say(0, "/nick \xc3\xa9t\xc3\xa9") == Lines{std::string(proto::kErrInvalidNick)}));
    CHECK((c.say(0, "/nick " + std::string(16, 'x')) == Lines{"* guest1 is now " + std::string(16, 'x')}));
}

TEST(who_lists_everyone_with_their_square) {
    Chat c;
    c.join(0), c.join(1);
    const Lines who = c.say(0, "/who");
    CHECK(who.size() == 1 && who[0].rfind("* 2 online: ", 0) == 0);
    CHECK(c.square(0).first >= 0 && c.square(1).first >= 0);
    CHECK(std::count(who[0].begin(), who[0].end(), '(') == 2);
}

TEST(who_stops_at_fifty_names) {
    Chat c;
    for (SlotId id = 0; id < 54; ++id)
        c.join(id);
    const Lines who = c.say(0, "/who");
    CHECK(who.size() == 1);
    CHECK(who[0].rfind("* 54 online: ", 0) == 0);
    CHECK(who[0].size() > 15 && who[0].substr(who[0].size() - 15) == " ... and 4 more");
    CHECK(std::count(who[0].begin(), who[0].end(), '(') == 50);
}

TEST(a_move_is_told_to_everyone) {
    Chat c;
    c.join(0), c.join(1);
    const auto [x, y] = c.square(0);
    c.clear();
    const std::string dir = x < 7 ? "right" : "left";
    const int to = x < 7 ? x + 1 : x - 1;
    const std::string expected = "MOVE guest1 " + std::to_string(to) + " " + std::to_string(y);
    CHECK((c.say(0, "/move " + dir) == Lines{expected}));
    CHECK((c.take(1) == Lines{expected}));
}

TEST(a_move_off_the_board_leaves_the_piece_and_only_the_mover_hears) {
    Chat c;
    c.join(0), c.join(1);
    for (int i = 0; i < 8; ++i)
        c.say(0, "/move u"), c.say(0, "/move l");
    CHECK((c.square(0) == std::pair<int, int>{0, 0}));
    c.clear();
    CHECK((c.say(0, "/move up") == Lines{"MOVE guest1 0 0"}));
    CHECK((c.say(0, "/move left") == Lines{"MOVE guest1 0 0"}));
    CHECK(c.take(1).empty());
    for (int i = 0; i < 8; ++i)
        c.say(0, "/move D"), c.say(0, "/move R");
    CHECK((c.square(0) == std::pair<int, int>{7, 7}));
    c.clear();
    CHECK((c.say(0, "/move down") == Lines{"MOVE guest1 7 7"}));
    CHECK((c.say(0, "/move right") == Lines{"MOVE guest1 7 7"}));
    CHECK(c.take(1).empty());
}

TEST(a_move_needs_a_direction) {
    Chat c;
    c.join(0);
    c.clear();
    CHECK((c.say(0, "/move") == Lines{"ERR usage: /move up|down|left|right"}));
    CHECK((c.say(0, "/move sideways") == Lines{"ERR usage: /move up|down|left|right"}));
}

TEST(the_board_shows_me_one_other_and_several) {
    Chat c;
    for (SlotId id = 0; id < 5; ++id)
        c.join(id);
    c.say(4, "/nick zed");
    auto corner = [&](SlotId id, const char* vertical, const char* horizontal) {
        for (int i = 0; i < 8; ++i)
            c.say(id, std::string("/move ") + vertical), c.say(id, std::string("/move ") + horizontal);
    };
    corner(0, "u", "l");  // me, at 0,0
    corner(1, "u", "l");  // shares my square: I still see @
    corner(2, "d", "r");  // two others on 7,7: +
    corner(3, "d", "r");
    corner(4, "d", "l");  // zed alone at 0,7: z
    const Lines board = c.say(0, "/board");
    CHECK(board.size() == 9);
    CHECK(board[0] == "0 @ . . . . . . .");
    for (int y = 1; y < 7; ++y)
        CHECK(board[static_cast<std::size_t>(y)] == std::to_string(y) + " . . . . . . . .");
    CHECK(board[7] == "7 z . . . . . . +");
    CHECK(board[8] == "  0 1 2 3 4 5 6 7");
}

TEST(newcomers_take_free_squares_while_there_are_any) {
    Chat c;
    std::set<std::pair<int, int>> squares;
    for (SlotId id = 0; id < 64; ++id) {
        c.join(id);
        squares.insert(c.at(id));
        CHECK(c.at(id) == c.square(id) || id >= 50);  // what /who says, while it lists it
    }
    CHECK(squares.size() == 64);  // every square taken once
    c.join(64);
    const auto [x, y] = c.at(64);
    CHECK(x >= 0 && x < 8 && y >= 0 && y < 8);  // a full board: shared with someone
}

TEST(joined_and_left_notices_stop_above_the_crowd_limit) {
    Chat c;
    const SlotId limit = proto::kCrowdNoticeLimit;
    for (SlotId id = 0; id < limit; ++id)
        c.join(id);
    CHECK(c.take(0).size() == limit);  // its welcome and one notice for each of the others
    c.join(limit);  // one more than the limit: announced to nobody
    CHECK(c.take(0).empty());
    c.room.leave(limit, true);  // the crowd was above the limit with it: no notice
    CHECK(c.take(0).empty());
    c.room.leave(limit - 1, true);  // at the limit: noticed
    CHECK((c.take(0) == Lines{"* guest" + std::to_string(limit) + " left"}));
}

TEST(a_leave_is_told_unless_it_is_quiet) {
    Chat c;
    c.join(0), c.join(1), c.join(2);
    c.clear();
    c.room.leave(1, true);
    CHECK((c.take(0) == Lines{"* guest2 left"}));
    c.room.leave(2, false);
    CHECK(c.take(0).empty());
    CHECK(!c.room.contains(2) && c.room.contains(0));
    CHECK(c.room.members().size() == 1);
}

TEST(ping_answers_the_token_byte_for_byte) {
    Chat c;
    c.join(0);
    c.clear();
    CHECK((c.say(0, "/ping a  b \xc3\xbc") == Lines{"PONG a  b \xc3\xbc"}));
    CHECK((c.say(0, "/PING") == Lines{"PONG"}));
}

TEST(help_lists_every_command_in_one_column) {
    Chat c;
    c.join(0);
    c.clear();
    const Lines help = c.say(0, "/help");
    CHECK(help.size() == 1 + std::size(proto::kCommands));
    CHECK(help[0] == "* commands:");
    CHECK(help[1] == "*   text            say text to everyone");
    CHECK(help[2] == "*   /nick NAME      change your name (1-16 of A-Z a-z 0-9 _ -)");
    CHECK(help.back() == "*   /quit           leave");
}

TEST(unknown_commands_say_so) {
    Chat c;
    c.join(0);
    c.clear();
    CHECK((c.say(0, "/dance now") == Lines{"ERR unknown command /dance (try /help)"}));
}

TEST(what_a_board_shows_is_returned_as_a_change) {
    Chat c;
    c.join(0), c.join(1);
    CHECK(c.changes.size() == 2 && c.changes[1].kind == chat::Change::Kind::Roster && c.changes[1].who == 1);
    c.changes.clear();
    const chat::Square from = c.room.square(0);
    const std::string dir = from.x < 7 ? "right" : "left";
    c.line(0, "/move " + dir);
    CHECK(c.changes.size() == 1 && c.changes[0].kind == chat::Change::Kind::Move && c.changes[0].who == 0);
    CHECK(c.changes[0].from == from && c.changes[0].to == c.room.square(0) && !(from == c.room.square(0)));
    c.changes.clear();
    c.line(0, "hello"), c.line(0, "/who"), c.line(0, "/nick taken!"), c.line(0, "/move sideways");
    CHECK(c.changes.empty());  // nothing a board shows
    c.line(0, "/nick Ann");
    CHECK(c.changes.size() == 1 && c.changes[0].kind == chat::Change::Kind::Roster && c.changes[0].to == c.room.square(0));
    c.changes.clear();
    c.keep(c.room.leave(1, true));
    CHECK(c.changes.size() == 1 && c.changes[0].kind == chat::Change::Kind::Roster && c.changes[0].who == 1);
}

TEST(a_bump_at_the_edge_changes_nothing_a_board_shows) {
    Chat c;
    c.join(0);
    for (int i = 0; i < 8; ++i)
        c.line(0, "/move u"), c.line(0, "/move l");
    c.changes.clear();
    c.line(0, "/move up");
    CHECK(c.changes.empty());
    CHECK(c.room.move(0, proto::kSteps[2]).kind == chat::Change::Kind::None);  // left, at x = 0
}

}  // namespace

TEST(the_room_keeps_its_recent_lines_for_a_board_view_to_open_with) {
    Chat c;
    c.join(0);
    c.join(1);
    CHECK((c.room.recent(5) == std::vector<std::string>{"* guest1 joined", "* guest2 joined"}));
    for (int n = 0; n < 40; ++n)
        c.line(0, "line " + std::to_string(n));
    c.line(1, "/ping x");  // not everyone's: not kept
    c.line(1, "/move u");
    CHECK((c.room.recent(2) == std::vector<std::string>{"guest1: line 38", "guest1: line 39"}));
    const auto all = c.room.recent(1000);
    CHECK(all.size() == chat::kRecentLines && all.front() == "guest1: line 8" && all.back() == "guest1: line 39");
}

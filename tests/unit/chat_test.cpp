// Unit tests of chat.h against PRODUCT.md's protocol table: every command, nicks and their
// collisions, guest numbering, the board and its edges, placement, and the crowd-notice rule.
#include "chat.h"
#include "check.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using Lines = std::vector<std::string>;

// Records every line each member was sent, delivering broadcasts the way the session layer does
// when nobody is in a board view; keeps the changes the room returned.
// The ignore filter is applied as the session layer's fan-out applies it (session_test.cpp tests that one).
struct FakeMembers : chat::Members {
    const chat::Room* room = nullptr;
    std::map<SlotId, Lines> lines;
    void deliver(SlotId to, const chat::Line& line) override {
        if (!room->ignores(to, line.from))
            lines[to].emplace_back(line.text);
    }
    void broadcast(const chat::Line& line, SlotId except) override {
        const bool screened = room->is_ignored(line.from);
        for (SlotId id : room->members())
            if (id != except && !(screened && room->ignores(id, line.from)))
                lines[id].emplace_back(line.text);
    }
};

struct Chat {
    FakeMembers members;
    chat::Room room{members, 200};
    std::vector<chat::Change> changes;  // what the room returned, None left out
    std::uint64_t now_ms = 1000;        // the clock the room is told
    Chat() { members.room = &room; }

    SlotId join(SlotId id) {
        keep(room.join(id, now_ms));
        return id;
    }
    void keep(const chat::Change& change) {
        if (change.kind != chat::Change::Kind::None)
            changes.push_back(change);
    }
    // One line as the session layer hands it to the room: parsed.
    void line(SlotId id, const std::string& text) { keep(room.on_command(id, proto::parse_command(text), now_ms)); }
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
    CHECK(help[2] == "*   /nick NAME      change your name (1-16 of A-Z a-z 0-9 _ - and Hangul syllables)");
    CHECK(help[3] == "*   /msg NICK text  say text to NICK alone (also /m, /w)");
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
    CHECK((c.room.recent(5, 0) == std::vector<std::string>{"* guest1 joined", "* guest2 joined"}));
    for (int n = 0; n < 40; ++n)
        c.line(0, "line " + std::to_string(n));
    c.line(1, "/ping x");  // not everyone's: not kept
    c.line(1, "/move u");
    CHECK((c.room.recent(2, 0) == std::vector<std::string>{"guest1: line 38", "guest1: line 39"}));
    const auto all = c.room.recent(1000, 0);
    CHECK(all.size() == chat::kRecentLines && all.front() == "guest1: line 8" && all.back() == "guest1: line 39");
}

// ---- Private lines: /msg and /reply ---------------------------------------------------------------

namespace {

const std::string kHan = "\xed\x95\x9c", kGeul = "\xea\xb8\x80";  // 한, 글

// Three members named ann, bob, cy (slots 0, 1, 2), with nothing sent yet.
struct Trio : Chat {
    Trio() {
        join(0), join(1), join(2);
        line(0, "/nick ann"), line(1, "/nick bob"), line(2, "/nick cy");
        clear();
    }
};

}  // namespace

TEST(msg_reaches_the_nick_alone_and_the_sender_gets_its_copy) {
    Trio c;
    CHECK((c.say(0, "/msg bob  hello  there ") == Lines{"[msg] to bob: hello  there"}));
    CHECK((c.take(1) == Lines{"[msg] from ann: hello  there"}));
    CHECK(c.take(2).empty());
    CHECK((c.say(0, "/m BOB one") == Lines{"[msg] to bob: one"}));  // a nick in any case, the short forms
    CHECK((c.say(0, "/w bob two") == Lines{"[msg] to bob: two"}));
    CHECK((c.take(1) == Lines{"[msg] from ann: one", "[msg] from ann: two"}));
}

TEST(msg_errors_go_to_the_sender) {
    Trio c;
    CHECK((c.say(0, "/msg nobody hi") == Lines{"ERR no such nick nobody"}));
    CHECK((c.say(0, "/msg bob") == Lines{"ERR usage: /msg NICK text"}));
    CHECK((c.say(0, "/msg") == Lines{"ERR usage: /msg NICK text"}));
    CHECK((c.say(0, "/reply") == Lines{"ERR usage: /reply text"}));
    CHECK((c.say(0, "/r hi") == Lines{"ERR no one to reply to"}));
    CHECK(c.take(1).empty() && c.take(2).empty());
}

TEST(private_lines_never_enter_the_history_or_the_recent_lines) {
    Trio c;
    c.line(0, "/msg bob secret");
    c.line(1, "/r secret too");
    for (const std::string& line : c.room.recent(chat::kRecentLines, 2))
        CHECK(line.find("secret") == std::string::npos);
    CHECK((c.say(2, "/history") == Lines{"* end of history"}));
}

TEST(reply_follows_the_connection_through_a_rename) {
    Trio c;
    c.line(0, "/msg bob ping");
    c.line(0, "/nick ann2");
    c.clear();
    CHECK((c.say(1, "/reply pong") == Lines{"[msg] to ann2: pong"}));
    CHECK((c.take(0) == Lines{"[msg] from bob: pong"}));
    CHECK((c.say(0, "/r and back") == Lines{"[msg] to bob: and back"}));  // ann2's own reply target: bob
    c.line(2, "/msg bob from cy");
    c.clear();
    CHECK((c.say(1, "/r hi cy") == Lines{"[msg] to cy: hi cy"}));  // the last sender wins
}

TEST(reply_to_a_member_who_left_says_so_and_never_reaches_a_newcomer_with_its_name_or_slot) {
    Trio c;
    c.line(0, "/msg bob ping");
    c.line(0, "/nick Ann_last");
    c.keep(c.room.leave(0, true));
    c.join(0);  // the same slot, another connection
    c.line(0, "/nick Ann_last");  // and the same name
    c.clear();
    CHECK((c.say(1, "/reply hello?") == Lines{"ERR Ann_last has left"}));
    CHECK(c.take(0).empty());
    c.keep(c.room.leave(0, true));
    c.join(5);
    c.line(5, "/nick Ann_last");
    c.clear();
    CHECK((c.say(1, "/r still?") == Lines{"ERR Ann_last has left"}));  // the name it last had, kept
    CHECK(c.take(5).empty());
}

TEST(a_departed_members_name_is_kept_for_every_reply_that_still_needs_it) {
    Chat c;
    for (SlotId id = 0; id < 4; ++id)
        c.join(id);
    c.line(0, "/msg guest2 a"), c.line(0, "/msg guest3 b"), c.line(0, "/msg guest4 c");
    c.keep(c.room.leave(0, false));
    c.join(0);  // guest5 in guest1's slot: guest1's name moves aside for the three replies
    c.line(1, "/msg guest3 d");  // guest3's reply turns to guest2: one holder less
    c.keep(c.room.leave(3, false));  // guest4 leaves: another
    c.clear();
    CHECK(c.room.departed_names() == 1);
    CHECK((c.say(1, "/r x") == Lines{"ERR guest1 has left"}));
    CHECK((c.say(2, "/r x") == Lines{"[msg] to guest2: x"}));  // guest2's own reply turns to guest3:
    CHECK(c.room.departed_names() == 0);                       // nobody needs guest1's name any more
    CHECK((c.say(1, "/r x") == Lines{"[msg] to guest3: x"}));
    c.keep(c.room.leave(1, false));
    c.join(1), c.join(3);
    c.clear();
    CHECK((c.say(1, "/r x") == Lines{"ERR no one to reply to"}));  // the newcomer in guest2's slot
    CHECK((c.say(2, "/r x") == Lines{"ERR guest2 has left"}) && c.room.departed_names() == 1);  // guest3's
}

TEST(a_private_line_to_yourself_is_allowed) {
    Trio c;
    CHECK((c.say(0, "/msg ann note") == Lines{"[msg] from ann: note", "[msg] to ann: note"}));
}

// ---- /me -----------------------------------------------------------------------------------------------

TEST(me_is_an_action_to_everyone_with_two_stars) {
    Trio c;
    CHECK((c.say(0, "/me waves  hello") == Lines{"** ann waves  hello"}));
    CHECK((c.take(1) == Lines{"** ann waves  hello"}) && (c.take(2) == Lines{"** ann waves  hello"}));
    CHECK((c.say(0, "/me") == Lines{"ERR usage: /me text"}));
    CHECK(c.take(1).empty());
}

// ---- Away and idle ----------------------------------------------------------------------------------

TEST(away_and_back_are_told_to_the_member_alone) {
    Trio c;
    CHECK((c.say(1, "/away at lunch") == Lines{"* you are away: at lunch"}));
    CHECK(c.take(0).empty() && c.take(2).empty());
    CHECK(c.room.away(1) == "at lunch");
    CHECK((c.say(1, "/away") == Lines{"* you are back"}));
    CHECK(c.room.away(1).empty());
}

TEST(who_shows_away_members) {
    Trio c;
    c.line(1, "/away lunch");
    const Lines who = c.say(0, "/who");
    CHECK(who.size() == 1 && who[0].find("bob (" + std::to_string(c.at(1).first) + "," +
                                         std::to_string(c.at(1).second) + ") [away]") != std::string::npos);
    CHECK(who[0].find("ann (" + std::to_string(c.at(0).first) + "," + std::to_string(c.at(0).second) + "),") !=
          std::string::npos);
    CHECK(std::count(who[0].begin(), who[0].end(), '[') == 1);
}

TEST(a_msg_to_an_away_member_tells_the_sender_and_nothing_answers_that) {
    Trio c;
    c.line(1, "/away back at 3");
    c.line(0, "/away busy");  // both away: the notice must not bounce between them
    c.clear();
    CHECK((c.say(0, "/msg bob are you there") == Lines{"[msg] to bob: are you there", "* bob is away: back at 3"}));
    CHECK((c.take(1) == Lines{"[msg] from ann: are you there"}));  // and nothing about ann's away
    CHECK((c.say(1, "/r later") == Lines{"[msg] to ann: later", "* ann is away: busy"}));
    CHECK((c.take(0) == Lines{"[msg] from bob: later"}));
    CHECK(c.take(1).empty() && c.take(0).empty() && c.take(2).empty());
}

TEST(who_shows_idle_minutes_of_members_who_said_nothing_for_a_minute) {
    Trio c;
    c.now_ms += proto::kIdleAfterMs - 1;
    CHECK(c.say(2, "/who")[0].find("[idle") == std::string::npos);
    c.now_ms += 1;
    c.line(0, "still here");  // chat
    c.line(1, "/me nods");    // /me
    const Lines who = c.say(2, "/who");
    CHECK(who[0].find("cy (" + std::to_string(c.at(2).first) + "," + std::to_string(c.at(2).second) + ") [idle 1m]") !=
          std::string::npos);
    CHECK(std::count(who[0].begin(), who[0].end(), '[') == 1);
    c.now_ms += 2 * proto::kIdleAfterMs + 5000;
    c.line(2, "/msg ann hi");  // /msg counts too
    const Lines later = c.say(2, "/who");
    CHECK(later[0].find("ann (" + std::to_string(c.at(0).first) + "," + std::to_string(c.at(0).second) + ") [idle 2m]") !=
          std::string::npos);
    CHECK(later[0].find("bob (" + std::to_string(c.at(1).first) + "," + std::to_string(c.at(1).second) + ") [idle 2m]") !=
          std::string::npos);
    CHECK(std::count(later[0].begin(), later[0].end(), '[') == 2);
    CHECK(c.room.idle_ms(2, c.now_ms) == 0 && c.room.idle_ms(0, c.now_ms) == 2 * proto::kIdleAfterMs + 5000);
}

TEST(moves_and_commands_other_than_lines_said_do_not_end_idleness) {
    Trio c;
    c.now_ms += 3 * proto::kIdleAfterMs;
    for (const char* command : {"/move u", "/move d", "/who", "/board", "/ping x", "/away afk", "/away", "/history",
                                "/nick ann", "/ignore bob", "/unignore bob", "/me", "/msg nobody x", "/dance"})
        c.line(0, command);
    c.keep(c.room.move(0, proto::kSteps[1]));  // an arrow key of the board view
    CHECK(c.room.idle_ms(0, c.now_ms) == 3 * proto::kIdleAfterMs);
    CHECK(c.say(1, "/who")[0].find("ann (" + std::to_string(c.at(0).first) + "," + std::to_string(c.at(0).second) +
                                  ") [idle 3m]") != std::string::npos);
}

// ---- Ignore -----------------------------------------------------------------------------------------

TEST(an_ignored_members_chat_me_and_msg_do_not_reach_the_ignorer_who_still_gets_notices) {
    Trio c;
    CHECK((c.say(0, "/ignore BOB") == Lines{"* ignoring bob"}));
    CHECK(c.take(1).empty());  // bob is not told
    c.line(1, "hello all");
    c.line(1, "/me waves");
    c.line(1, "/msg ann psst");
    CHECK(c.take(0).empty());
    CHECK((c.take(2) == Lines{"bob: hello all", "** bob waves"}));
    CHECK((c.take(1) == Lines{"bob: hello all", "** bob waves", "[msg] to ann: psst"}));  // nothing says it was not delivered
    c.line(1, "/nick bobby");  // a rename does not escape it, and its notice is the server's
    CHECK((c.take(0) == Lines{"* bob is now bobby"}));
    c.line(1, "still me");
    c.keep(c.room.move(1, proto::kSteps[c.at(1).second > 0 ? 0 : 1]));
    const Lines seen = c.take(0);
    CHECK(seen.size() == 1 && seen[0].rfind("MOVE bobby ", 0) == 0);
    CHECK((c.say(0, "/r x") == Lines{"ERR no one to reply to"}));  // an ignored /msg sets no reply
}

TEST(ignore_lists_unignore_and_refusals) {
    Trio c;
    CHECK((c.say(0, "/ignore") == Lines{"* ignoring nobody"}));
    c.line(0, "/ignore bob"), c.line(0, "/ignore cy");
    CHECK((c.say(0, "/ignore bob") == Lines{"* ignoring bob"}));  // again: no second entry
    c.line(2, "/nick cyrus");
    CHECK((c.say(0, "/ignore") == Lines{"* ignoring: bob, cyrus"}));  // their names now
    CHECK((c.say(0, "/unignore Bob") == Lines{"* no longer ignoring bob"}));
    CHECK((c.say(0, "/unignore bob") == Lines{"ERR you are not ignoring bob"}));
    CHECK((c.say(0, "/unignore") == Lines{"ERR usage: /unignore NICK"}));
    CHECK((c.say(0, "/unignore zed") == Lines{"ERR no such nick zed"}));
    CHECK((c.say(0, "/ignore zed") == Lines{"ERR no such nick zed"}));
    CHECK((c.say(0, "/ignore ann") == Lines{"ERR you cannot ignore yourself"}));
    c.clear();
    c.line(1, "heard again");
    CHECK((c.take(0) == Lines{"bob: heard again"}));
    CHECK((c.say(0, "/ignore") == Lines{"* ignoring: cyrus"}));
}

TEST(a_member_ignores_at_most_sixteen) {
    Chat c;
    const SlotId others = static_cast<SlotId>(proto::kMaxIgnored) + 1;
    for (SlotId id = 0; id <= others; ++id)
        c.join(id);
    for (SlotId id = 1; id < others; ++id)
        CHECK((c.say(0, "/ignore " + std::string(c.room.nick(id))) == Lines{"* ignoring " + std::string(c.room.nick(id))}));
    CHECK((c.say(0, "/ignore " + std::string(c.room.nick(others))) == Lines{std::string(proto::kErrIgnoreFull)}));
    c.keep(c.room.leave(1, false));  // one of them leaves: its place is free again
    CHECK((c.say(0, "/ignore " + std::string(c.room.nick(others))) == Lines{"* ignoring " + std::string(c.room.nick(others))}));
}

TEST(ignoring_follows_the_connection_and_ends_when_either_leaves) {
    Trio c;
    c.line(0, "/ignore bob");
    CHECK(c.room.is_ignored(1) && c.room.ignores(0, 1) && !c.room.ignores(2, 1) && !c.room.is_ignored(0));
    c.keep(c.room.leave(1, true));
    c.join(1);  // a newcomer in bob's slot, and with bob's name
    c.line(1, "/nick bob");
    CHECK(!c.room.is_ignored(1) && !c.room.ignores(0, 1));
    c.clear();
    c.line(1, "new bob here");
    CHECK((c.take(0) == Lines{"bob: new bob here"}));
    CHECK((c.say(0, "/ignore") == Lines{"* ignoring nobody"}));
    c.line(2, "/ignore bob");
    CHECK(c.room.is_ignored(1));
    c.keep(c.room.leave(2, false));  // the ignorer leaves: nobody ignores bob any more
    CHECK(!c.room.is_ignored(1) && !c.room.ignores(2, 1));
}

// ---- History ---------------------------------------------------------------------------------------

TEST(history_gives_the_last_lines_said_to_everyone_oldest_first) {
    Trio c;
    for (int n = 0; n < 12; ++n)
        c.line(n % 2 == 0 ? 0 : 1, "line " + std::to_string(n));
    c.line(2, "/me stretches");
    c.line(0, "/nick ann2");  // a notice: not said by anyone
    c.line(1, "/msg cy private");
    Lines want;
    for (int n = 3; n < 12; ++n)
        want.push_back((n % 2 == 0 ? "ann: line " : "bob: line ") + std::to_string(n));
    want.push_back("** cy stretches");
    want.push_back("* end of history");
    CHECK(c.say(2, "/history") == want);  // 10 by default, as they were sent (under the names of then)
    CHECK((c.say(2, "/history 2") == Lines{"bob: line 11", "** cy stretches", "* end of history"}));
    CHECK(c.say(2, "/history 1000").size() == 13 + 1);  // all it has: 13 lines said
    for (const char* bad : {"/history 0", "/history -1", "/history two", "/history 3x"})
        CHECK((c.say(2, bad) == Lines{std::string(proto::kErrHistoryUsage)}));
}

TEST(history_keeps_at_most_32_lines_and_leaves_out_what_the_asker_ignores) {
    Trio c;
    for (int n = 0; n < 40; ++n)
        c.line(n % 2, "n" + std::to_string(n));
    const Lines all = c.say(2, "/history 40");
    CHECK(all.size() == proto::kHistoryMax + 1 && all.front() == "ann: n8" && all[all.size() - 2] == "bob: n39");
    c.line(2, "/ignore bob");
    const Lines without = c.say(2, "/history 5");
    CHECK((without == Lines{"ann: n30", "ann: n32", "ann: n34", "ann: n36", "ann: n38", "* end of history"}));
    // The board view opens with the recent lines: without them too.
    CHECK((c.room.recent(3, 2) == std::vector<std::string>{"ann: n34", "ann: n36", "ann: n38"}));
}

// ---- Hangul nicks ------------------------------------------------------------------------------------

TEST(a_hangul_nick_is_set_listed_and_messaged) {
    Trio c;
    CHECK((c.say(1, "/nick " + kHan + kGeul) == Lines{"* bob is now " + kHan + kGeul}));
    CHECK(c.say(0, "/who")[0].find(kHan + kGeul + " (") != std::string::npos);
    CHECK((c.say(0, "/msg " + kHan + kGeul + " hi") == Lines{"[msg] to " + kHan + kGeul + ": hi"}));
    CHECK((c.take(1) == Lines{"[msg] from ann: hi"}));
    CHECK((c.say(2, "/nick " + kHan + kGeul) == Lines{"ERR nick " + kHan + kGeul + " is taken"}));
    CHECK((c.say(2, "/nick A" + kHan) == Lines{"* cy is now A" + kHan}));
    CHECK((c.say(0, "/nick a" + kHan) == Lines{"ERR nick a" + kHan + " is taken"}));  // ASCII in any case
    CHECK((c.say(0, "/nick \xe3\x85\x8e") == Lines{std::string(proto::kErrInvalidNick)}));  // a jamo alone
}

TEST(a_hangul_glyph_takes_two_columns_and_the_board_stays_aligned) {
    Chat c;
    c.join(0), c.join(1), c.join(2);
    c.line(1, "/nick " + kHan + "x");
    c.line(2, "/nick zed");
    auto walk = [&](SlotId id, int x, int y) {
        while (c.room.square(id).x != x)
            c.keep(c.room.move(id, {c.room.square(id).x < x ? 1 : -1, 0}));
        while (c.room.square(id).y != y)
            c.keep(c.room.move(id, {0, c.room.square(id).y < y ? 1 : -1}));
    };
    walk(0, 0, 0), walk(1, 3, 2), walk(2, 4, 2);
    CHECK(c.room.glyph(0, {3, 2}) == 0xD55C && c.room.glyph(0, {4, 2}) == 'z');
    const Lines board = c.say(0, "/board");
    CHECK(board[2] == "2 . . . " + kHan + "z . . .");  // the space after 한 is the glyph's second column
    CHECK(utf8::columns_of(board[2]) == utf8::columns_of(board[8]) && board[8] == "  0 1 2 3 4 5 6 7");
    walk(1, 7, 2);
    const Lines edge = c.say(0, "/board");
    CHECK(edge[2] == "2 . . . . z . . " + kHan);
    CHECK(c.say(1, "/board")[2] == "2 . . . . z . . @");  // a member sees itself as @
}

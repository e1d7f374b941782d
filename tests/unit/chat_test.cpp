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

using chat::After;
using chat::MemberId;
using Lines = std::vector<std::string>;

// Records every line each member was sent, delivering broadcasts the way the server does.
struct FakeTransport : chat::Transport {
    const chat::Room* room = nullptr;
    std::map<MemberId, Lines> lines;
    void send(MemberId to, std::string_view line) override { lines[to].emplace_back(line); }
    void broadcast(std::string_view line, MemberId except) override {
        for (MemberId id : room->members())
            if (id != except)
                lines[id].emplace_back(line);
    }
    std::string stats_text() override { return "online=" + std::to_string(room->members().size()); }
    std::map<MemberId, proto::Encoding> encodings;
    void set_encoding(MemberId member, proto::Encoding encoding) override { encodings[member] = encoding; }
    // As the server delivers a move when nobody is in a board view.
    void moved(MemberId who, chat::Square from, chat::Square to, std::string_view line) override {
        if (from == to)
            send(who, line);
        else
            broadcast(line, chat::kNobody);
        moves.push_back({who, from, to});
    }
    struct Move {
        MemberId who;
        chat::Square from, to;
    };
    std::vector<Move> moves;
    std::vector<std::pair<MemberId, chat::Square>> roster_changes;
    void roster_changed(MemberId who, chat::Square square) override { roster_changes.emplace_back(who, square); }
    std::vector<MemberId> toggled;
    void toggle_board_view(MemberId member) override { toggled.push_back(member); }
};

struct Chat {
    FakeTransport transport;
    chat::Room room{transport, 200};
    Chat() { transport.room = &room; }

    MemberId join(MemberId id) {
        room.join(id);
        return id;
    }
    // The lines `id` was sent since the last call.
    Lines take(MemberId id) {
        Lines got = transport.lines[id];
        transport.lines[id].clear();
        return got;
    }
    // What `id` is sent in answer to `line` (whatever it was sent before is dropped first).
    Lines say(MemberId id, const std::string& line) {
        take(id);
        room.on_line(id, line);
        return take(id);
    }
    // Where /who says `id` is: "... nick (x,y) ...".
    std::pair<int, int> square(MemberId id) {
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
    std::pair<int, int> at(MemberId id) const {
        const chat::Square square = room.square(id);
        return {square.x, square.y};
    }
    void clear() {
        for (auto& entry : transport.lines)
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
    for (MemberId id = 0; id < 54; ++id)
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
    for (MemberId id = 0; id < 5; ++id)
        c.join(id);
    c.say(4, "/nick zed");
    auto corner = [&](MemberId id, const char* vertical, const char* horizontal) {
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
    for (MemberId id = 0; id < 64; ++id) {
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
    const MemberId limit = proto::kCrowdNoticeLimit;
    for (MemberId id = 0; id < limit; ++id)
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

TEST(stats_come_from_the_transport) {
    Chat c;
    c.join(0), c.join(1);
    c.clear();
    CHECK((c.say(0, "/stats") == Lines{"STATS online=2"}));
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

TEST(encoding_sets_the_members_encoding_and_says_so) {
    Chat c;
    c.join(0);
    CHECK((c.say(0, "/encoding cp949") == Lines{"* encoding cp949"}));
    CHECK(c.transport.encodings[0] == proto::Encoding::Cp949);
    CHECK((c.say(0, "/ENCODING UTF8") == Lines{"* encoding utf8"}));
    CHECK(c.transport.encodings[0] == proto::Encoding::Utf8);
    CHECK((c.say(0, "/encoding latin1") == Lines{"ERR usage: /encoding utf8|cp949"}));
    CHECK((c.say(0, "/encoding") == Lines{"ERR usage: /encoding utf8|cp949"}));
}

TEST(unknown_commands_say_so) {
    Chat c;
    c.join(0);
    c.clear();
    CHECK((c.say(0, "/dance now") == Lines{"ERR unknown command /dance (try /help)"}));
}

TEST(quit_says_bye_and_asks_for_the_close) {
    Chat c;
    c.join(0), c.join(1);
    c.clear();
    CHECK(c.room.on_line(0, "/quit") == After::Quit);
    CHECK((c.take(0) == Lines{"* bye"}));
    CHECK(c.take(1).empty());  // the leaving is the server's to announce, once the member is gone
    CHECK(c.room.on_line(1, "/ping") == After::Read);
}

}  // namespace

TEST(the_room_keeps_its_recent_lines_for_a_board_view_to_open_with) {
    Chat c;
    c.join(0);
    c.join(1);
    CHECK((c.room.recent(5) == std::vector<std::string>{"* guest1 joined", "* guest2 joined"}));
    for (int n = 0; n < 40; ++n)
        c.room.on_line(0, "line " + std::to_string(n));
    c.room.on_line(1, "/ping x");  // not everyone's: not kept
    c.room.on_line(1, "/move u");
    CHECK((c.room.recent(2) == std::vector<std::string>{"guest1: line 38", "guest1: line 39"}));
    const auto all = c.room.recent(1000);
    CHECK(all.size() == chat::kRecentLines && all.front() == "guest1: line 8" && all.back() == "guest1: line 39");
}

// Unit tests of session.h, the session layer, against a fake core: what a receive comes to (read on,
// pause, quit, stop), the connection's own commands (/stats, /encoding, /play, /quit), the echo and
// redraw of a half-typed line under incoming chat, the board view beside line views, and CP949
// members beside UTF-8 ones.
#include "check.h"
#include "iconv_codec.h"
#include "telnet_bytes.h"
#include "session.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace {

using session::Next;

// A terminal's agreement to the server's offers.
const std::string kAgree = DO_ECHO + DO_SGA + WILL_NAWS;

const IconvCodec kCodec;

// The core as server.cpp is to the session layer: it queues what it is given, and refuses a slot
// that is closing (here: one the test marks).
struct FakeCore : session::Core {
    std::map<SlotId, std::string> queued;  // since the last take()
    std::map<SlotId, bool> refusing;
    bool queue(SlotId slot, std::string_view data) override {
        if (refusing[slot])
            return false;
        queued[slot].append(data.data(), data.size());
        return true;
    }
    std::string stats_text() override { return "online=fake"; }
};

struct Sessions {
    FakeCore core;
    session::Sessions sessions;
    std::uint64_t now_ms = 1000;
    explicit Sessions(int line_rate = 0, int line_burst = 1) : sessions(core, 16, line_rate, line_burst, &kCodec) {}

    // Opens `count` slots from 0 and forgets what they were sent.
    void open(SlotId count) {
        for (SlotId slot = 0; slot < count; ++slot)
            sessions.open(slot, now_ms);
        core.queued.clear();
    }
    session::Fed receive(SlotId slot, const std::string& data) {
        return sessions.receive(slot, data.data(), data.size(), now_ms);
    }
    // One receive per byte, as a keyboard sends them.
    void type(SlotId slot, const std::string& keys) {
        for (const char c : keys)
            receive(slot, std::string(1, c));
    }
    // A terminal that agreed to everything, in a window of `width` x `height`.
    void make_terminal(SlotId slot, int width = 80, int height = 24) {
        receive(slot, "x");  // one keystroke: the offers
        receive(slot, kAgree + naws(width, height) + "\b");
        take(slot);
    }
    std::string take(SlotId slot) {
        std::string got = core.queued[slot];
        core.queued[slot].clear();
        return got;
    }
    bool sent(SlotId slot, const std::string& text) const {
        const auto found = core.queued.find(slot);
        return found != core.queued.end() && found->second.find(text) != std::string::npos;
    }
};

// ---- What a receive comes to -------------------------------------------------------------------------

TEST(a_line_client_is_read_on_and_never_sent_a_telnet_byte) {
    Sessions s;
    s.open(2);  // two welcomes and a joined line
    CHECK(s.sessions.counters().lines_in == 0 && s.sessions.counters().lines_out == 3);
    const session::Fed fed = s.receive(0, "hello\r\n/ping x\r\n");
    CHECK(fed.next == Next::Read && fed.consumed == 16);
    CHECK(s.take(0) == "guest1: hello\r\nPONG x\r\n");
    CHECK(s.take(1) == "guest1: hello\r\n");
    CHECK(s.sessions.counters().lines_in == 2 && s.sessions.counters().lines_out == 6);
}

TEST(a_spent_budget_pauses_the_feed_where_it_stopped_and_resume_goes_on) {
    Sessions s(1, 2);  // one line a second, two at once
    s.open(2);
    const std::string chunk = "a\r\nb\r\nc\r\n";
    const session::Fed fed = s.receive(0, chunk);
    CHECK(fed.next == Next::Pause && fed.consumed == 5);  // "a\r\nb\r": its LF is still to come
    CHECK(fed.resume_ms == s.now_ms + 1000);
    CHECK(s.take(1) == "guest1: a\r\nguest1: b\r\n");
    const session::Fed rest = s.sessions.resume(0, chunk.data() + 5, chunk.size() - 5, fed.resume_ms);
    CHECK(rest.next == Next::Pause && rest.consumed == 3);  // "\nc\r": one line, and the budget is out again
    CHECK(s.take(1) == "guest1: c\r\n");
}

TEST(a_line_too_long_is_paid_for_like_any_other) {
    Sessions s(1, 2);
    s.open(1);
    const session::Fed fed = s.receive(0, std::string(600, 'x') + "\r\nok\r\nnot yet\r\n");
    CHECK(fed.next == Next::Pause);
    CHECK(s.take(0) == "ERR line too long (max 512)\r\nguest1: ok\r\n");
}

TEST(quit_says_bye_and_leaves_the_announcement_to_the_close) {
    Sessions s;
    s.open(2);
    const session::Fed fed = s.receive(0, "/quit now\r\n/ping never\r\n");
    CHECK(fed.next == Next::Quit && fed.consumed == 10);
    CHECK(s.take(0) == "* bye\r\n");
    CHECK(s.take(1).empty());  // still a member until the core closes it
    s.sessions.close(0, true);
    CHECK(s.take(1) == "* guest1 left\r\n");
    s.sessions.close(1, false);  // the server stopping: nobody is told
    CHECK(s.take(0).empty());
}

TEST(a_slot_the_core_refuses_is_read_no_further) {
    Sessions s;
    s.open(2);
    s.core.refusing[0] = true;  // its own line made it a slow consumer
    const session::Fed fed = s.receive(0, "one\r\ntwo\r\n");
    CHECK(fed.next == Next::Stop && fed.consumed == 4);
    CHECK(s.take(1) == "guest1: one\r\n");  // "two" is never said
}

// ---- The connection's own commands ---------------------------------------------------------------

TEST(stats_come_from_the_core) {
    Sessions s;
    s.open(1);
    s.receive(0, "/stats\r\n");
    CHECK(s.take(0) == "STATS online=fake\r\n");
}

TEST(encoding_sets_the_members_encoding_and_says_so_in_it) {
    Sessions s;
    s.open(2);
    s.receive(0, "/encoding cp949\r\n");
    CHECK(s.take(0) == "* encoding cp949\r\n");
    s.receive(1, "\xed\x95\x9c\xea\xb8\x80\r\n");  // UTF-8 Hangul from a UTF-8 member
    CHECK(s.take(0) == "guest2: \xc7\xd1\xb1\xdb\r\n");  // in CP949 for the CP949 member
    CHECK(s.take(1) == "guest2: \xed\x95\x9c\xea\xb8\x80\r\n");
    s.receive(0, "/ENCODING UTF8\r\n");
    CHECK(s.take(0) == "* encoding utf8\r\n");
    s.receive(0, "/encoding latin1\r\n/encoding\r\n");
    CHECK(s.take(0) == "ERR usage: /encoding utf8|cp949\r\nERR usage: /encoding utf8|cp949\r\n");
}

TEST(cp949_and_utf8_members_each_get_a_broadcast_in_their_own_encoding) {
    Sessions s;
    s.open(3);
    s.receive(0, "\xc7\xd1\xb1\xdb\r\n");  // CP949 input: the connection is taken for CP949
    CHECK(s.take(0) == "guest1: \xc7\xd1\xb1\xdb\r\n");
    CHECK(s.take(1) == "guest1: \xed\x95\x9c\xea\xb8\x80\r\n" && s.take(2) == "guest1: \xed\x95\x9c\xea\xb8\x80\r\n");
    s.sessions.deliver(0, "* server shutting down \xc3\xbc");  // a notice of the core's, converted too
    CHECK(s.take(0) == "* server shutting down ?\r\n");
}

// ---- Echo and redraw ------------------------------------------------------------------------------

TEST(lines_arriving_while_a_member_types_go_above_its_line_which_is_drawn_again_once_a_turn) {
    Sessions s;
    s.open(2);
    s.make_terminal(0);
    s.type(0, "half");
    CHECK(s.take(0) == "half");  // echoed as typed
    s.receive(1, "one\r\ntwo\r\n");
    CHECK(s.take(0) == "\r\x1b[Jguest2: one\r\nguest2: two\r\n");  // one erase for the turn's lines
    s.sessions.end_turn();
    CHECK(s.take(0) == "half");  // and one redraw at its end
    s.sessions.end_turn();
    CHECK(s.take(0).empty());
    s.receive(0, " done\r\n");
    CHECK(s.take(0) == " done\r\nguest1: half done\r\n");
}

// ---- The board view -----------------------------------------------------------------------------------

TEST(play_needs_a_terminal_the_server_echoes_to) {
    Sessions s;
    s.open(1);
    s.receive(0, "/play\r\n");
    CHECK(s.take(0) == std::string(proto::kErrPlayNeedsTerminal) + "\r\n" + std::string(proto::kPlayHint) + "\r\n");
    CHECK(s.sessions.board_views() == 0);
}

TEST(a_board_viewer_sees_moves_on_its_board_and_line_views_get_move_lines) {
    Sessions s;
    s.open(2);
    s.make_terminal(0);
    s.receive(0, "/play\r\n");
    CHECK(s.sent(0, "\x1b[11;24r") && s.sessions.board_views() == 1);  // the chat region under the board
    s.take(0);
    // guest2 starts on (3,0): up bumps the edge (only it hears), down moves.
    s.receive(1, "/move u\r\n/move d\r\n");
    const std::string viewer = s.take(0);
    CHECK(s.take(1) == "MOVE guest2 3 0\r\nMOVE guest2 3 1\r\n");
    CHECK(viewer.find("MOVE") == std::string::npos && viewer.find("\x1b[1;9H.") != std::string::npos &&
          viewer.find("\x1b[2;9Hg") != std::string::npos);  // (3,0) empties, (3,1) shows guest2
    s.receive(0, "\x1b[B");  // an arrow: the viewer's own move, from (2,0)
    CHECK(s.take(1) == "MOVE guest1 2 1\r\n");
    CHECK(s.take(0).find("\x1b[2;7H@") != std::string::npos);
    s.receive(0, "\x1b");
    s.receive(0, "\x1b");  // Esc Esc: lines again
    CHECK(s.sent(0, "* line view - /play brings the board back") && s.sessions.board_views() == 0);
}

TEST(a_window_too_small_gives_lines_until_a_resize_makes_it_fit) {
    Sessions s;
    s.open(1);
    s.make_terminal(0, 40, 12);
    s.receive(0, "/play\r\n");
    CHECK(s.sent(0, "* the board needs a window of 46x14, this one is 40x12") && s.sessions.board_views() == 0);
    s.take(0);
    s.receive(0, naws(60, 30));
    CHECK(s.sent(0, "\x1b[11;30r") && s.sessions.board_views() == 1);
    s.receive(0, naws(40, 12));
    CHECK(s.sent(0, "line view until it grows") && s.sessions.board_views() == 0);
    s.receive(0, "/play\r\n");  // asked again: the board is given up for good
    s.take(0);
    s.receive(0, naws(80, 24));
    CHECK(s.sessions.board_views() == 0 && s.take(0).empty());
}

TEST(a_board_view_opens_with_the_recent_chat) {
    Sessions s;
    s.open(2);
    s.receive(1, "earlier words\r\n");
    s.make_terminal(0);
    s.receive(0, "/play\r\n");
    CHECK(s.sent(0, "guest2: earlier words\r\n"));
}

// ---- The operator's console -----------------------------------------------------------------------

TEST(a_kicked_member_is_told_why_and_the_others_that_it_was_kicked) {
    Sessions s;
    s.open(2);
    CHECK(s.sessions.find("GUEST2") == 1 && s.sessions.find("nobody") == kNoSlot);
    s.sessions.kick(1, "too loud");
    CHECK(s.take(1) == "* kicked by the operator: too loud\r\n");
    CHECK(s.take(0).empty());  // not until it is gone
    s.sessions.close(1, true);
    CHECK(s.take(0) == "* guest2 was kicked\r\n");
    s.sessions.open(1, s.now_ms);  // the next occupant of the slot is nobody's kick
    s.take(0), s.take(1);
    s.sessions.kick(1, "");
    CHECK(s.take(1) == "* kicked by the operator\r\n");
}

TEST(a_muted_member_speaks_to_nobody_until_the_mute_ends) {
    Sessions s;
    s.open(2);
    s.sessions.mute(0, s.now_ms + 90000);  // a minute and a half
    CHECK(s.sessions.next_expiry_ms() == s.now_ms + 90000);
    s.receive(0, "hello\r\n/who\r\n");
    const std::string got = s.take(0);
    CHECK(got.rfind("ERR you are muted (2 more minutes)\r\n* 2 online: ", 0) == 0);  // /who still answers
    s.receive(0, "/me waves\r\n/msg guest2 psst\r\n");
    CHECK(s.take(0) == "ERR you are muted (2 more minutes)\r\nERR you are muted (2 more minutes)\r\n");
    CHECK(s.take(1).empty());
    std::string ended;
    s.sessions.expire(s.now_ms + 89999, [&](std::string_view nick) { ended += nick; });
    CHECK(ended.empty());
    s.now_ms += 90000;
    s.sessions.expire(s.now_ms, [&](std::string_view nick) { ended += nick; });
    CHECK(ended == "guest1" && s.sessions.next_expiry_ms() == UINT64_MAX);
    s.receive(0, "back\r\n");
    CHECK(s.take(1) == "guest1: back\r\n");
}

TEST(a_mute_goes_with_the_member) {
    Sessions s;
    s.open(1);
    s.sessions.mute(0, s.now_ms + 1000);
    s.sessions.close(0, false);
    CHECK(s.sessions.next_expiry_ms() == UINT64_MAX);
    s.sessions.open(0, s.now_ms);
    s.receive(0, "a newcomer speaks\r\n");
    CHECK(s.take(0).find("guest2: a newcomer speaks") != std::string::npos);
}

TEST(say_reaches_everyone_and_motd_greets_every_newcomer) {
    Sessions s;
    s.open(2);
    s.sessions.say("maintenance at noon");
    CHECK(s.take(0) == "* [server] maintenance at noon\r\n" && s.take(1) == "* [server] maintenance at noon\r\n");
    s.sessions.set_motd("be kind");
    s.sessions.open(2, s.now_ms);
    CHECK(s.take(2) == "* welcome guest3, 3 online - /help lists commands\r\n* motd: be kind\r\n");
    s.sessions.set_motd("");
    s.sessions.open(3, s.now_ms);
    CHECK(s.take(3).find("motd") == std::string::npos);
}

TEST(who_and_slot_describe_a_member) {
    Sessions s;
    s.open(1);
    s.sessions.mute(0, s.now_ms + 60000);
    CHECK(s.sessions.describe(0, "127.0.0.1:5000", s.now_ms) ==
          "nick=guest1 peer=127.0.0.1:5000 square=2,0 idle=0s away=no muted=1m");
    s.receive(0, "/away lunch\r\n");
    s.now_ms += 61000;
    CHECK(s.sessions.describe(0, "127.0.0.1:5000", s.now_ms) ==
          "nick=guest1 peer=127.0.0.1:5000 square=2,0 idle=61s away=\"lunch\" muted=no");
    CHECK(s.sessions.describe_terminal(0, s.now_ms) ==
          "budget=1.0 terminal=lines view=lines window=80x24 encoding=utf8");
}

}  // namespace

// ---- The chat a member stays in: the fan-out's filter, private lines, the 한/영 slip, not HTTP ------------

namespace {

TEST(the_fan_out_leaves_out_the_ignorers_copy_of_every_kind_of_line_the_ignored_originates) {
    Sessions s;
    s.open(3);
    s.receive(0, "/ignore guest2\r\n");
    CHECK(s.take(0) == "* ignoring guest2\r\n" && s.take(1).empty());
    s.receive(1, "hi all\r\n/me waves\r\n/msg guest1 psst\r\n/move d\r\n");
    CHECK(s.take(2) == "guest2: hi all\r\n** guest2 waves\r\nMOVE guest2 3 1\r\n");
    CHECK(s.take(0) == "MOVE guest2 3 1\r\n");  // a MOVE is the room's line: it still comes
    CHECK(s.take(1) == "guest2: hi all\r\n** guest2 waves\r\n[msg] to guest1: psst\r\nMOVE guest2 3 1\r\n");
    s.receive(2, "and me\r\n");  // a line from someone not ignored reaches everyone
    CHECK(s.take(0) == "guest3: and me\r\n" && s.take(1) == "guest3: and me\r\n");
    // 6 welcomes and joins, the ignore's answer, 2 + 2 copies of the chat and /me, the /msg's copy
    // for its sender, 3 MOVEs, 3 of guest3's line: what was sent, and not one more.
    CHECK(s.sessions.counters().lines_out == 6 + 1 + 2 + 2 + 1 + 3 + 3);
}

TEST(a_private_line_pays_the_input_budget_like_any_other) {
    Sessions s(1, 2);
    s.open(2);
    const session::Fed fed = s.receive(0, "/msg guest2 a\r\n/msg guest2 b\r\n/msg guest2 c\r\n");
    CHECK(fed.next == Next::Pause);
    CHECK(s.take(1) == "[msg] from guest1: a\r\n[msg] from guest1: b\r\n");
}

TEST(a_private_line_goes_through_the_recipients_send_queue_and_its_limit) {
    Sessions s;
    s.open(2);
    s.core.refusing[1] = true;  // past its send limit: the core takes no more for it
    s.receive(0, "/msg guest2 one too many\r\n");
    CHECK(s.take(0) == "[msg] to guest2: one too many\r\n");
    const session::Fed fed = s.receive(1, "/ping x\r\n");
    CHECK(fed.next == Next::Stop);  // being dropped: it is read no further
}

TEST(a_line_typed_with_the_korean_input_on_is_read_as_its_keys_and_the_member_told_once) {
    Sessions s;
    s.open(2);
    s.receive(0, "/\xec\xa2\xa8\r\n");  // /좨
    const std::string got = s.take(0);
    CHECK(got.rfind("* read /\xec\xa2\xa8 as /who (\xed\x95\x9c/\xec\x98\x81 key)\r\n* 2 online: ", 0) == 0);
    s.receive(0, "/\xe3\x85\xa1\xe3\x85\x90\xe3\x85\x8d\xe3\x84\xb7 \xe3\x85\x95\r\n");  // /ㅡㅐㅍㄷ ㅕ: /move u
    CHECK(s.take(0) == "* read /\xe3\x85\xa1\xe3\x85\x90\xe3\x85\x8d\xe3\x84\xb7 \xe3\x85\x95 as /move u "
                       "(\xed\x95\x9c/\xec\x98\x81 key)\r\nMOVE guest1 2 0\r\n");  // from (2,0), at the top: stays
    s.receive(0, "/encoding \xe3\x85\x8a\xe3\x85\x94" "949\r\n");  // /encoding ㅊㅔ949, one of the session's own
    CHECK(s.take(0) == "* read /encoding \xe3\x85\x8a\xe3\x85\x94" "949 as /encoding cp949 (\xed\x95\x9c/\xec\x98\x81 key)\r\n"
                       "* encoding cp949\r\n");  // the notice came before the switch, in UTF-8
    s.receive(0, "/\xc1\xc8\r\n");  // /좨 from a CP949 console
    CHECK(s.take(0).rfind("* read /\xc1\xc8 as /who (\xc7\xd1/\xbf\xb5 key)\r\n* 2 online: ", 0) == 0);
    s.receive(1, "/\xec\x95\x88\xeb\x85\x95\r\n");  // /안녕 spells nothing
    CHECK(s.take(1) == "ERR unknown command /\xec\x95\x88\xeb\x85\x95 (try /help)\r\n");
}

TEST(a_cp949_member_sets_and_sees_hangul_nicks_as_utf8_members_do) {
    Sessions s;
    s.open(2);
    s.receive(0, "/nick \xc7\xd1\xb1\xdb\r\n");  // /nick 한글 from a Korean console
    CHECK(s.take(0) == "* guest1 is now \xc7\xd1\xb1\xdb\r\n");
    CHECK(s.take(1) == "* guest1 is now \xed\x95\x9c\xea\xb8\x80\r\n");
    s.receive(1, "/msg \xed\x95\x9c\xea\xb8\x80 hi\r\n");
    CHECK(s.take(0) == "[msg] from guest2: hi\r\n");
    CHECK(s.take(1) == "[msg] to \xed\x95\x9c\xea\xb8\x80: hi\r\n");
    s.receive(0, "/board\r\n");
    CHECK(s.take(0).rfind("0 . . @ g . . . .\r\n", 0) == 0);
    s.receive(1, "/board\r\n");
    CHECK(s.take(1).rfind("0 . . \xed\x95\x9c@ . . . .\r\n", 0) == 0);  // 한 two columns wide, @ after it
}

TEST(idle_time_is_measured_on_the_clock_the_receives_bring) {
    Sessions s;
    s.open(2);
    s.now_ms += proto::kIdleAfterMs;
    s.receive(1, "/who\r\n");
    const std::string who = s.take(1);
    CHECK(who.find("guest1 (2,0) [idle 1m]") != std::string::npos && who.find("guest2 (3,0) [idle 1m]") != std::string::npos);
    s.receive(0, "here\r\n");
    s.receive(1, "/who\r\n");
    CHECK(s.take(1).find("guest1 (2,0), guest2 (3,0) [idle 1m]") != std::string::npos);
}

TEST(a_first_line_that_is_an_http_request_gets_the_webs_answer_and_the_close_and_nothing_of_it_reaches_the_room) {
    Sessions s;
    s.open(2);
    const std::string request = "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\r\nhello\r\n/nick evil\r\n";
    const session::Fed fed = s.receive(0, request);
    CHECK(fed.next == Next::Quit && fed.consumed == std::string("POST /form HTTP/1.1\r").size());
    CHECK(s.take(0) == proto::kHttpRefusal);
    CHECK(s.take(1).empty() && s.sessions.counters().lines_out == 3);
    s.sessions.close(0, true);  // the core closes it once the answer is out
    CHECK(s.take(1) == "* guest1 left\r\n");
    s.receive(1, "hello\r\nGET / HTTP/1.1\r\n");  // not its first line: chat
    CHECK(s.take(1) == "guest2: hello\r\nguest2: GET / HTTP/1.1\r\n");
}

}  // namespace

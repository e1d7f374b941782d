// Unit tests of telnet.h, the telnet protocol alone: what it reports for each kind of byte, the Q
// method's answers under a policy, subnegotiations kept in bounded memory, and text escaped.
#include "check.h"
#include "telnet.h"
#include "telnet_bytes.h"

#include <string>
#include <string_view>
#include <vector>

namespace {

// Records every event as a short text: "d:x" data, "c:251" a command, "o:1+" our option 1 on
// ("h:31-": his 31 off), "s:31:...." a subnegotiation's bytes.
struct Recorder {
    telnet::Protocol protocol;
    std::vector<std::string> events;
    std::string out;  // what the protocol answered
    explicit Recorder(const telnet::Policy& policy = telnet::kServerPolicy) : protocol(policy) {}

    bool on_data(unsigned char byte) {
        events.push_back("d:" + std::string(1, static_cast<char>(byte)));
        return true;
    }
    bool on_command(unsigned char command) {
        events.push_back("c:" + std::to_string(command));
        return true;
    }
    void on_option(unsigned char opt, bool ours, bool on) {
        events.push_back(std::string(ours ? "o:" : "h:") + std::to_string(opt) + (on ? "+" : "-"));
    }
    void on_subnegotiation(unsigned char opt, std::string_view data) {
        events.push_back("s:" + std::to_string(opt) + ":" + std::string(data));
    }
    std::string feed(const std::string& data) {
        out.clear();
        for (const char c : data)
            protocol.receive(static_cast<unsigned char>(c), *this, out);
        return out;
    }
};

TEST(data_passes_and_iac_iac_is_one_data_byte) {
    Recorder r;
    r.feed("a" + bytes({255, 255}) + "b");
    CHECK((r.events == std::vector<std::string>{"d:a", "d:\xff", "d:b"}));
    CHECK(r.out.empty() && !r.protocol.in_command());
}

TEST(every_command_is_reported_at_its_command_byte) {
    Recorder r;
    r.feed(bytes({255, 241, 255, 247, 255, 251}));  // NOP, EC, then a WILL whose option is to come
    CHECK((r.events == std::vector<std::string>{"c:241", "c:247", "c:251"}));
    CHECK(r.protocol.in_command());
}

TEST(the_server_policy_offers_echo_sga_and_asks_for_naws) {
    Recorder r;
    r.protocol.offer(r.out);
    CHECK(r.out == OFFERS);
    std::string again;
    r.protocol.offer(again);
    CHECK(again.empty());  // no request repeated while one is outstanding
    CHECK(r.feed(DO_ECHO + DO_SGA + WILL_NAWS).empty());  // answers to our requests are not answered
    CHECK((r.events == std::vector<std::string>{"c:253", "o:1+", "c:253", "o:3+", "c:251", "h:31+"}));
    CHECK(r.protocol.ours(telnet::option::ECHO) && r.protocol.his(telnet::option::NAWS));
}

TEST(what_the_policy_does_not_allow_is_refused_and_stays_off) {
    Recorder r;
    CHECK(r.feed(bytes({255, 251, 1})) == bytes({255, 254, 1}));  // WILL ECHO from the peer: DONT
    CHECK(r.feed(bytes({255, 253, 31})) == bytes({255, 252, 31}));  // DO NAWS (we send none): WONT
    CHECK(r.feed(bytes({255, 251, 24, 255, 253, 34})) == bytes({255, 254, 24, 255, 252, 34}));
    CHECK(r.feed(bytes({255, 252, 24})).empty());  // WONT of what is off: nothing
    CHECK(!r.protocol.his(telnet::option::ECHO) && !r.protocol.ours(telnet::option::NAWS));
}

TEST(an_option_turned_off_is_acknowledged_once_and_reported) {
    Recorder r;
    r.protocol.offer(r.out);
    r.feed(DO_ECHO);
    r.events.clear();
    CHECK(r.feed(DONT_ECHO) == WONT_ECHO);
    CHECK((r.events == std::vector<std::string>{"c:254", "o:1-"}));
    CHECK(r.feed(DONT_ECHO).empty());
}

TEST(a_subnegotiation_is_reported_whole_with_iac_undone) {
    Recorder r;
    r.feed(naws(255, 50));
    CHECK(r.events.back() == "s:31:" + bytes({0, 255, 0, 50}));
}

TEST(a_long_subnegotiation_is_skipped_to_its_end_and_not_reported) {
    Recorder r;
    r.feed(bytes({255, 250, 24}) + std::string(100000, 'x') + bytes({255, 240}) + "z");
    CHECK((r.events == std::vector<std::string>{"c:250", "d:z"}));
    CHECK(sizeof(telnet::Protocol) < 64);  // its state is a few bytes whatever it is fed
}

TEST(the_client_policy_offers_naws_and_agrees_to_the_server_s_echo_and_sga) {
    Recorder client(telnet::kClientPolicy);
    client.protocol.offer(client.out);
    CHECK(client.out == WILL_NAWS);
    CHECK(client.feed(OFFERS) == DO_ECHO + DO_SGA);  // DO NAWS answers our WILL: not answered again
    CHECK(client.protocol.his(telnet::option::ECHO) && client.protocol.his(telnet::option::SGA));
    CHECK(client.protocol.ours(telnet::option::NAWS) && !client.protocol.ours(telnet::option::ECHO));
    CHECK(client.feed(DO_ECHO) == WONT_ECHO);  // it never echoes for the server
}

TEST(a_client_and_a_server_negotiate_character_mode_with_no_request_repeated) {
    Recorder client(telnet::kClientPolicy), server(telnet::kServerPolicy);
    std::string to_server, to_client;
    client.protocol.offer(to_server);
    server.protocol.offer(to_client);
    for (int turn = 0; turn < 4 && (!to_server.empty() || !to_client.empty()); ++turn) {
        const std::string a = server.feed(to_server), b = client.feed(to_client);
        to_client = a;
        to_server = b;
    }
    CHECK(to_server.empty() && to_client.empty());  // settled: nobody answers an answer
    CHECK(server.protocol.ours(telnet::option::ECHO) && server.protocol.ours(telnet::option::SGA));
    CHECK(server.protocol.his(telnet::option::NAWS) && client.protocol.ours(telnet::option::NAWS));
    CHECK(client.protocol.his(telnet::option::ECHO) && client.protocol.his(telnet::option::SGA));
}

TEST(text_and_subnegotiations_are_written_with_iac_doubled) {
    std::string out;
    telnet::append_text(out, "a\xff" "b");
    CHECK(out == "a\xff\xff" "b");
    out.clear();
    telnet::append_subnegotiation(out, telnet::option::NAWS, telnet::window_size_bytes(255, 300));
    CHECK(out == naws(255, 300));
}

}  // namespace

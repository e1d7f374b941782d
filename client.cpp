// client.cpp - the interactive client for server.exe, and main() for both of client.exe's modes
// (the stress tester that drives thousands of bots from one thread is bots.cpp).
//
// It runs on one completion port and one loop, like the server: the connection is opened with
// ConnectEx, has one WSARecv and at most one WSASend outstanding, and the loop switches on
// Op::Connect / Op::Recv / Op::Send. A helper thread reads the console and posts each line to the
// port, so the socket is only ever touched by the loop.
#include "bots.h"
#include "connect.h"
#include "iocp.h"
#include "protocol.h"
#include "util.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr ULONG kCompletionBatch = 16;
constexpr int kExitCannotConnect = 1;
constexpr int kExitServerClosed = 3;

constexpr char kUsage[] =
    "usage: client.exe [HOST] [PORT]                      interactive\n"
    "       client.exe --bots N [--duration S] [--rate R] [--ramp C] [--mix ping|move|chat|echo]\n"
    "                  [--depth K] [--burst B] [--speakers K] [--reconnect S] [--source ADDR[+N]]\n"
    "                  [HOST] [PORT]                       stress test\n"
    "\n"
    "  HOST PORT     the server (default 127.0.0.1 9000)\n"
    "  --bots N      open N connections from this one thread\n"
    "  --duration S  each bot acts for S seconds after it connects (default 10)\n"
    "  --rate R      actions per second per bot (default 1); fractions too: 0.005 is one\n"
    "                in 200 s (the bots' first actions are spread over that time)\n"
    "  --ramp C      connections opened per second (default 500)\n"
    "  --mix M       ping: /ping with sequence and timestamp; move: /move; chat: chat lines;\n"
    "                echo: 64-byte messages against server.exe --echo (default ping)\n"
    "                several, comma-separated (ping,move,chat): bot i plays the i-th, round robin\n"
    "  --depth K     echo only: keep K messages in flight per bot, sending the next as soon as\n"
    "                one returns (closed loop, --rate is ignored)\n"
    "  --burst B     each action is B messages at once (default 1)\n"
    "  --speakers K  chat only: the first K bots speak, once every bot is in the room; the others\n"
    "                listen. Each bot times the other bots' lines from sending to hearing: a\n"
    "                broadcast's delivery to the whole crowd (a burst: by its last line)\n"
    "  --reconnect S each bot closes its connection after S seconds, once its replies are in,\n"
    "                and connects again, until its --duration is up (connection churn)\n"
    "  --source A    bots connect from local address A; A+N: from N consecutive IPv4 addresses\n"
    "                starting at A, bot i from the (i mod N)-th (127.0.0.2+8: 127.0.0.2 to .9),\n"
    "                each with ports of its own (Windows has 16,384 per address)\n"
    "\n"
    "Every reply is checked: lost, duplicated, reordered or unexpected replies are errors; a chat\n"
    "bot also checks each other bot's lines (in order, none missing from the first it heard).\n"
    "\n"
    "Exit codes, interactive: 0 after /quit, end of input or Ctrl+C; 1 cannot connect;\n"
    "  3 the server closed the connection first. Stress test: 0 only when every bot connected\n"
    "  and no check failed (Ctrl+C stops the run early and reports it), otherwise 1.\n"
    "  Bad options: 2.\n";

// ---- Typed input ----------------------------------------------------------------------------------

// The server's lines (UTF-8) on standard output. A console is written with WriteConsoleW, so
// the console's output code page is neither in the way nor changed (a change that would outlive a
// client killed before it could give it back); a pipe or file gets the UTF-8 bytes.
class Output {
public:
    Output() : handle_(GetStdHandle(STD_OUTPUT_HANDLE)) {
        DWORD mode = 0;
        console_ = GetConsoleMode(handle_, &mode) != 0;
    }
    void line(std::string_view text) {
        if (!console_) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fputc('\n', stdout);
            return;
        }
        std::wstring wide = wide_from_utf8(text.data(), static_cast<int>(text.size()));
        wide += L"\r\n";
        DWORD written = 0;
        WriteConsoleW(handle_, wide.data(), static_cast<DWORD>(wide.size()), &written, nullptr);
    }
    void flush() {
        if (!console_)
            std::fflush(stdout);
    }

private:
    HANDLE handle_;
    bool console_ = false;
};

// Whether the user has asked to leave. What we send is split into lines and parsed as the server
// does, so "/QUIT", "  /quit" and "/quit now" count exactly when the server sees a quit.
class QuitWatch {
public:
    // `wire` is what is about to be sent, line end included. True once a /quit went by.
    bool quit_in(std::string_view wire) {
        lines_.feed(wire, [this](std::string_view line) {
            quit_ = quit_ || proto::parse_command(proto::trim_spaces(line)).kind == proto::CommandKind::Quit;
        });
        return quit_;
    }

private:
    proto::LineSplitter lines_;
    bool quit_ = false;
};

// ---- The interactive session ----------------------------------------------------------------------

class Interactive {
public:
    explicit Interactive(const bots::Options& options) : options_(options) { receive_space_.give(*link_, 0); }
    int run();

private:
    static constexpr int kGoOn = -1;  // what the handlers return while the session goes on

    int on_input(InputLine* posted);
    int on_io(const OVERLAPPED_ENTRY& entry);
    int connect(bool retry);
    int on_connect_done(DWORD error);
    int on_server_close(DWORD error);

    const bots::Options& options_;
    Network net_;
    std::unique_ptr<Link> link_ = std::make_unique<Link>();  // never moved: the OS writes into it
    ReceiveSpace receive_space_{1, bots::kMostReceiveBytes};
    QuitWatch quit_;
    Output output_;
    bool leaving_ = false;  // /quit sent or input ended: the server's close is what we wait for
};

int Interactive::run() {
    if (!open_network(options_.host, options_.port, net_))
        return kExitCannotConnect;
    post_to_port_on_console_stop(net_.port);
    if (connect(false) != kGoOn)
        return kExitCannotConnect;
    OVERLAPPED_ENTRY entries[kCompletionBatch];
    for (;;) {
        const int count = dequeue(net_.port, entries, kCompletionBatch, INFINITE);
        if (count < 0)
            return 1;
        for (int i = 0; i < count; ++i) {
            const OVERLAPPED_ENTRY& entry = entries[i];
            int result = kGoOn;
            if (entry.lpCompletionKey == kStopKey)  // Ctrl+C, Ctrl+Break, the console closed
                result = 0;
            else if (entry.lpCompletionKey == kInputKey)
                result = on_input(CONTAINING_RECORD(entry.lpOverlapped, InputLine, overlapped));
            else
                result = on_io(entry);
            if (result != kGoOn) {
                std::fflush(stdout);
                return result;
            }
        }
    }
}

// A line from the input thread; the loop owns it from now on.
int Interactive::on_input(InputLine* posted) {
    const std::unique_ptr<InputLine> input(posted);
    if (input->end_of_input) {
        // Half-close once everything typed has gone out: the server answers what it got, then
        // closes, and we print until it does.
        leaving_ = true;
        link_->shutdown_after_send = true;
    } else {
        input->text += "\r\n";
        if (quit_.quit_in(input->text))
            leaving_ = true;
        link_->out.queue(input->text);
    }
    return flush(*link_) ? kGoOn : on_server_close(static_cast<DWORD>(WSAGetLastError()));
}

int Interactive::on_io(const OVERLAPPED_ENTRY& entry) {
    Operation& op = *operation_of(entry.lpOverlapped);
    link_->finish(op);
    DWORD error = completion_error(link_->socket, entry.lpOverlapped);
    DWORD bytes = entry.dwNumberOfBytesTransferred;
    switch (op.type) {
    case Op::Connect: return on_connect_done(error);
    case Op::Recv:
        if (error != 0 || bytes == 0)
            return on_server_close(error);
        link_->reader.feed(link_->recv_buffer, bytes, [this](std::string_view line) { output_.line(line); });
        output_.flush();
        return link_->post_recv(bytes, error) == Posted::Failed ? on_server_close(error) : kGoOn;
    case Op::Send:
        if (!on_sent(*link_, bytes, error))
            return on_server_close(error != 0 ? error : static_cast<DWORD>(WSAGetLastError()));
        return kGoOn;
    case Op::Accept:
        return kGoOn;
    }
    return kGoOn;
}

// A connect posted to the next address of the server's (the first, unless `retry`).
int Interactive::connect(bool retry) {
    ConnectStep step = ConnectStep::Connect;
    DWORD error = 0;
    if (connect_link(net_, *link_, 0, nullptr, retry, step, error))
        return kGoOn;
    std::fprintf(stderr, "cannot connect to %s:%d: %s%s\n", options_.host, options_.port,
                 step == ConnectStep::Bind ? "bind failed: " : "", error_text(error).c_str());
    return kExitCannotConnect;
}

int Interactive::on_connect_done(DWORD error) {
    if (error != 0 && may_retry(net_, *link_))
        return connect(true);
    if (error != 0) {
        std::fprintf(stderr, "cannot connect to %s:%d: %s\n", options_.host, options_.port, error_text(error).c_str());
        return kExitCannotConnect;
    }
    finish_connect(net_, *link_);
    DWORD bytes = 0;
    if (link_->post_recv(bytes, error) == Posted::Failed)
        return on_server_close(error);
    start_reading_lines(net_.port, kInputKey);  // only once there is somewhere to send them
    return kGoOn;
}

// The connection ended under us. After /quit or the end of input that is how a session ends;
// otherwise the user is told, with the reason when the OS gave one.
int Interactive::on_server_close(DWORD error) {
    std::fflush(stdout);
    if (leaving_)
        return 0;
    if (error != 0)
        std::fprintf(stderr, "server closed the connection: %s\n", error_text(error).c_str());
    else
        std::fprintf(stderr, "server closed the connection\n");
    return kExitServerClosed;
}

// ---- Options ------------------------------------------------------------------------------------

// --mix ping,move,...: false for a name that is no mix.
bool parse_mixes(std::string_view list, std::vector<bots::Mix>& mixes) {
    mixes.clear();
    while (!list.empty()) {
        const std::size_t comma = std::min(list.find(','), list.size());
        const std::string_view mix = list.substr(0, comma);
        list.remove_prefix(std::min(comma + 1, list.size()));
        if (mix == "ping") mixes.push_back(bots::Mix::Ping);
        else if (mix == "move") mixes.push_back(bots::Mix::Move);
        else if (mix == "chat") mixes.push_back(bots::Mix::Chat);
        else if (mix == "echo") mixes.push_back(bots::Mix::Echo);
        else return false;
    }
    return !mixes.empty();
}

int refuse_options(const char* message) {
    std::fprintf(stderr, "error: %s\n\n%s", message, kUsage);
    return kExitBadOptions;
}

// The defaults the usage states are the ones in force.
static_assert(says_number(kUsage, "127.0.0.1 ", proto::kDefaultPort, ")") &&
              says_number(kUsage, "(default ", bots::kDefaultDurationS, ")") &&
              says_number(kUsage, "(default ", bots::kDefaultRate, ")") && says_number(kUsage, "(default ", bots::kDefaultRamp, ")") &&
              says_number(kUsage, "", bots::kEchoMessageBytes, "-byte"));

// Returns kOptionsOk when the options are good, otherwise the exit code.
int parse_client_options(int argc, char** argv, bots::Options& options) {
    const char* mix = nullptr;
    const std::vector<Option> table = {
        Option::Number("--bots", options.bots, 1, 100000),
        Option::Number("--duration", options.duration_s, 1, 86400),
        Option::Fraction("--rate", options.rate_milli, 1, 1000 * 1000),
        Option::Number("--burst", options.burst, 1, static_cast<int>(bots::kMaxOutstanding)),
        Option::Number("--speakers", options.speakers, 1, 100000),
        Option::Number("--ramp", options.ramp, 1, 100000),
        Option::Number("--depth", options.depth, 1, static_cast<int>(bots::kMaxOutstanding)),
        Option::Number("--reconnect", options.reconnect_s, 1, 86400),
        Option::Text("--mix", mix),
        Option::Text("--source", options.source),
    };
    std::vector<const char*> positional;
    const int code = parse_options(argc, argv, table, kUsage, &positional);
    if (code != kOptionsOk)
        return code;
    if (positional.size() > 2)
        return refuse_options(("unexpected argument " + std::string(positional[2])).c_str());
    if (!positional.empty())
        options.host = positional[0];
    if (positional.size() == 2 && !parse_int(positional[1], 1, 65535, options.port))
        return refuse_options(("port " + std::string(positional[1]) + ": expected a number from 1 to 65535").c_str());
    if (mix && !parse_mixes(mix, options.mixes))
        return refuse_options(("--mix " + std::string(mix) + ": expected ping, move, chat or echo").c_str());
    const auto is_echo = [](bots::Mix m) { return m == bots::Mix::Echo; };
    const bool all_echo = std::all_of(options.mixes.begin(), options.mixes.end(), is_echo);
    if (!all_echo && std::any_of(options.mixes.begin(), options.mixes.end(), is_echo))
        return refuse_options("echo bots need server.exe --echo: they do not mix with the others");
    if (options.depth > 0 && !all_echo)
        return refuse_options("--depth is for --mix echo");
    if (options.bots == 0 && options.depth > 0)
        return refuse_options("--depth needs --bots");
    if (options.bots == 0 && options.source)
        return refuse_options("--source needs --bots");
    const auto is_chat = [](bots::Mix m) { return m == bots::Mix::Chat; };
    if (options.speakers > 0 && !std::all_of(options.mixes.begin(), options.mixes.end(), is_chat))
        return refuse_options("--speakers is for --mix chat");
    if (options.speakers > options.bots)
        return refuse_options("--speakers: more speakers than --bots");
    return kOptionsOk;
}

}  // namespace

int main(int argc, char** argv) {
    bots::Options options;
    const int exit_code = parse_client_options(argc, argv, options);
    if (exit_code != kOptionsOk)
        return exit_code;
    WinsockSession winsock;
    if (!winsock.ok())
        return 1;
    const int result = options.bots == 0 ? Interactive(options).run() : bots::run_bots(options);
    std::fflush(stdout);
    signal_console_stop_finished();  // a closing console's handler waits for this
    return result;
}

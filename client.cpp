// client.cpp - the interactive client for server.exe, and main() for both of client.exe's modes
// (the stress tester that drives thousands of bots from one thread is bots.cpp).
//
// It runs on one completion port and one loop, like the server: the connection is opened with
// ConnectEx, has one WSARecv and at most one WSASend outstanding, and the loop switches on
// Op::Connect / Op::Recv / Op::Send. A helper thread reads the input and posts it to the port, so
// the socket is only ever touched by the loop.
//
// In a console it is a terminal (console.h over vterm.h): keys go out as they are typed, the server
// echoes, edits and draws, and the loop paints what it drew. From a pipe or a file (or --lines) it
// is the line client: lines out, lines in, printed as they come.
#include "bots.h"
#include "connect.h"
#include "console.h"
#include "iocp.h"
#include "protocol.h"
#include "terminal.h"
#include "util.h"
#include "vterm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
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
    "usage: client.exe [--lines] [HOST] [PORT]            interactive\n"
    "       client.exe --bots N [--duration S] [--rate R] [--ramp C] [--mix ping|move|chat|echo]\n"
    "                  [--depth K] [--burst B] [--speakers K] [--reconnect S] [--source ADDR[+N]]\n"
    "                  [HOST] [PORT]                       stress test\n"
    "\n"
    "  HOST PORT     the server (default 127.0.0.1 9000)\n"
    "\n"
    "Interactive, in a console: a terminal, as a telnet window is (the server echoes and edits the\n"
    "line, /play gives the board with the arrow keys). From a pipe or file, or with --lines: each\n"
    "line read is sent, each line received printed.\n"
    "\n"
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

// ---- The line client's output -------------------------------------------------------------------

// The server's lines (UTF-8) on standard output. A console is written with WriteConsoleW, so
// the console's output code page is neither in the way nor changed (a change that would outlive a
// client killed before it could give it back); a pipe or file gets the UTF-8 bytes.
class Output {
public:
    Output() : handle_(GetStdHandle(STD_OUTPUT_HANDLE)), console_(is_console(handle_)) {}
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
    bool console_;
};

// Whether the user has asked to leave. Everything sent goes through the server's own line
// discipline (terminal.h), telnet and keys included, so "/QUIT", "  /quit", "/quit now", and a
// /quit typed key by key and edited, count exactly when the server sees a quit.
class QuitWatch {
public:
    // `wire` is what is about to be sent. True once a /quit went by.
    bool quit_in(std::string_view wire) {
        terminal_.feed(wire.data(), wire.size(), lines_);
        return lines_.quit;
    }

private:
    struct Lines {
        bool quit = false;
        bool on_line(std::string_view line) {
            quit = quit || proto::parse_command(line).kind == proto::CommandKind::Quit;
            return true;
        }
        bool on_line_too_long() { return true; }
        void reply(std::string_view) {}  // the server's answers are the server's to send
        bool on_key(term::Key) { return true; }
    };
    term::Terminal terminal_;
    Lines lines_;
};

// ---- The interactive session ----------------------------------------------------------------------

// How long the loop waits for something to happen, in character mode, before it measures the
// window again: Wine's console reports no resize, and Windows' reports only the buffer's.
constexpr DWORD kSizeCheckMs = 250;

class Interactive {
public:
    // `terminal`: character mode on this console (otherwise the line client).
    Interactive(const bots::Options& options, bool terminal) : options_(options), terminal_mode_(terminal) {
        receive_space_.give(*link_, 0);
    }
    // The session to its end; every way out goes through finish().
    int run() {
        const int result = loop();
        finish();
        if (!farewell_.empty())
            std::fprintf(stderr, "%s\n", farewell_.c_str());
        return result;
    }

private:
    static constexpr int kGoOn = -1;  // what the handlers return while the session goes on

    int loop();
    int on_typed(Typed* posted);
    int on_io(const OVERLAPPED_ENTRY& entry);
    int on_received(DWORD bytes);
    int send(std::string_view bytes);
    int connect(bool retry);
    int on_connect_done(DWORD error);
    int start_input();
    int on_server_close(DWORD error);
    void finish();
    void discard(const OVERLAPPED_ENTRY& entry);

    const bots::Options& options_;
    const bool terminal_mode_;
    Network net_;
    std::unique_ptr<Link> link_ = std::make_unique<Link>();  // never moved: the OS writes into it
    ReceiveSpace receive_space_{1, bots::kMostReceiveBytes};
    QuitWatch quit_;
    Output output_;
    ConsoleTerminal console_;
    bool leaving_ = false;  // /quit sent or input ended: the server's close is what we wait for
    std::string farewell_;  // said on stderr once the console is given back
};

int Interactive::loop() {
    if (!open_network(options_.host, options_.port, net_))
        return kExitCannotConnect;
    post_to_port_on_console_stop(net_.port);
    if (connect(false) != kGoOn)
        return kExitCannotConnect;
    OVERLAPPED_ENTRY entries[kCompletionBatch];
    for (;;) {
        const int count = dequeue(net_.port, entries, kCompletionBatch, terminal_mode_ ? kSizeCheckMs : INFINITE);
        if (count < 0)
            return 1;
        std::string answers;
        if (count == 0)
            console_.check_size(answers);
        int result = answers.empty() ? kGoOn : send(answers);
        for (int i = 0; i < count; ++i) {
            const OVERLAPPED_ENTRY& entry = entries[i];
            if (result != kGoOn)
                discard(entry);  // the session is over: only the bookkeeping
            else if (entry.lpCompletionKey == kStopKey)  // Ctrl+C, Ctrl+Break, the console closed
                result = 0;
            else if (entry.lpCompletionKey == kInputKey)
                result = on_typed(CONTAINING_RECORD(entry.lpOverlapped, Typed, overlapped));
            else
                result = on_io(entry);
        }
        console_.paint();
        if (result != kGoOn)
            return result;
    }
}

// From the input thread; the loop owns it from now on.
int Interactive::on_typed(Typed* posted) {
    const std::unique_ptr<Typed> typed(posted);
    switch (typed->kind) {
    case Typed::Kind::Line: return send(typed->text + "\r\n");
    case Typed::Kind::Keys: {
        std::string wire;
        vt::Terminal::type(typed->text, wire);
        return send(wire);
    }
    case Typed::Kind::EndOfInput:
        // Half-close once everything typed has gone out: the server answers what it got, then
        // closes, and we print until it does.
        leaving_ = true;
        link_->shutdown_after_send = true;
        return flush(*link_) ? kGoOn : on_server_close(static_cast<DWORD>(WSAGetLastError()));
    case Typed::Kind::Resized: {
        std::string answers;
        console_.check_size(answers);
        return send(answers);
    }
    case Typed::Kind::Stop: return 0;
    }
    return kGoOn;
}

// Bytes for the server, in order after what went before.
int Interactive::send(std::string_view bytes) {
    if (bytes.empty())
        return kGoOn;
    if (quit_.quit_in(bytes))
        leaving_ = true;
    link_->out.queue(bytes);
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
        if (on_received(bytes) != kGoOn)
            return on_server_close(static_cast<DWORD>(WSAGetLastError()));
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

// What the server sent: drawn by the terminal (and answered), or printed line by line.
int Interactive::on_received(DWORD bytes) {
    if (!terminal_mode_) {
        link_->reader.feed(link_->recv_buffer, bytes, [this](std::string_view line) { output_.line(line); });
        output_.flush();
        return kGoOn;
    }
    std::string answers;
    console_.receive(link_->recv_buffer, bytes, answers);
    return send(answers);
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
    return start_input();
}

// Input is read only once there is somewhere to send it: keys in character mode (the console's
// modes taken from here on), lines otherwise.
int Interactive::start_input() {
    if (terminal_mode_) {
        std::string offer;
        if (!console_.start(net_.port, offer)) {
            farewell_ = "cannot take the console's keys";
            return 1;
        }
        return send(offer);
    }
    start_reading_lines(net_.port);
    return kGoOn;
}

// The connection ended under us. After /quit or the end of input that is how a session ends;
// otherwise the user is told, with the reason when the OS gave one.
int Interactive::on_server_close(DWORD error) {
    if (leaving_)
        return 0;
    farewell_ = "server closed the connection";
    if (error != 0)
        farewell_ += ": " + error_text(error);
    return kExitServerClosed;
}

// Every way out: the key reader stopped and the console given back; the connection closed and
// every operation posted on it back from the port before the memory it writes into is freed (a
// receive left pending into freed memory was completed by WSACleanup's cancel, at exit, into the
// heap: Wine 8 reported it as a page fault in free() after Ctrl+C); what the input thread posted
// meanwhile freed.
void Interactive::finish() {
    console_.stop();
    std::fflush(stdout);
    if (net_.port == nullptr)
        return;
    close_link(*link_);
    const std::uint64_t deadline = now_ms() + 2000;
    while (link_->pending > 0 && now_ms() < deadline) {
        OVERLAPPED_ENTRY entries[kCompletionBatch];
        const int count = dequeue(net_.port, entries, kCompletionBatch, 100);
        for (int i = 0; i < count; ++i)
            discard(entries[i]);
    }
}

// A completion dequeued once the session is over: an operation of the link is back, typed input is freed.
void Interactive::discard(const OVERLAPPED_ENTRY& entry) {
    if (entry.lpCompletionKey == kInputKey)
        delete CONTAINING_RECORD(entry.lpOverlapped, Typed, overlapped);
    else if (entry.lpCompletionKey != kStopKey)
        link_->finish(*operation_of(entry.lpOverlapped));
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
int parse_client_options(int argc, char** argv, bots::Options& options, bool& lines) {
    const char* mix = nullptr;
    const std::vector<Option> table = {
        Option::Flag("--lines", lines),
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
    if (options.bots > 0 && lines)
        return refuse_options("--lines is for the interactive client");
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
    bool lines = false;
    const int exit_code = parse_client_options(argc, argv, options, lines);
    if (exit_code != kOptionsOk)
        return exit_code;
    WinsockSession winsock;
    if (!winsock.ok())
        return 1;
    // A terminal when both ends are a console; the line client for pipes, files, and --lines.
    const bool terminal = !lines && is_console(GetStdHandle(STD_INPUT_HANDLE)) && is_console(GetStdHandle(STD_OUTPUT_HANDLE));
    const int result = options.bots == 0 ? Interactive(options, terminal).run() : bots::run_bots(options);
    std::fflush(stdout);
    signal_console_stop_finished();  // a closing console's handler waits for this
    return result;
}

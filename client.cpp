// client.cpp - the interactive client for server.exe, and a stress tester that drives thousands
// of bots from one thread.
//
// Both modes run on one completion port and one loop, like the server: connections are opened
// with ConnectEx, each has one WSARecv and at most one WSASend outstanding, and the loop switches
// on OP_CONNECT / OP_RECV / OP_SEND. In interactive mode a helper thread reads the console and
// posts each line to the port; in bot mode a timer queue says which bot acts next.
#include "iocp.h"
#include "protocol.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---- Constants --------------------------------------------------------------------------------

constexpr DWORD kRecvBufferBytes = 4096;
constexpr ULONG kCompletionBatch = 128;
constexpr std::size_t kReadsPerTurn = 128;  // receives posted per loop turn (see read_deferred)
constexpr std::uint64_t kProgressEveryMs = 1000;
constexpr std::uint64_t kDrainMs = 5000;  // after the run, how long outstanding replies are awaited
constexpr std::uint64_t kInterruptDrainMs = 1000;  // the same after Ctrl+C (a second one: none)
// A connect the OS has not finished by then counts as failed: a run always ends, even against a
// host that drops SYNs (Linux under Wine would wait about two minutes).
constexpr std::uint64_t kConnectTimeoutMs = 15000;
// Typed (or piped) input without a line end is sent in pieces of this size, not buffered for ever.
constexpr std::size_t kMaxInputLineBytes = 64 * 1024;
constexpr std::size_t kMaxOutstanding = 64;  // replies one bot may await before it pauses sending
constexpr std::size_t kEchoMessageBytes = 64;
constexpr int kExitCannotConnect = 1;
constexpr int kExitBadOptions = 2;
constexpr int kExitServerClosed = 3;

// Completion keys that are not connections.
constexpr ULONG_PTR kStopKey = ~ULONG_PTR(0);
constexpr ULONG_PTR kInputKey = ~ULONG_PTR(0) - 1;

const char* const kUsage =
    "usage: client.exe [HOST] [PORT]                      interactive\n"
    "       client.exe --bots N [--duration S] [--rate R] [--ramp C] [--mix ping|move|chat|echo]\n"
    "                  [--depth K] [--reconnect S] [HOST] [PORT]   stress test\n"
    "\n"
    "  HOST PORT     the server (default 127.0.0.1 9000)\n"
    "  --bots N      open N connections from this one thread\n"
    "  --duration S  each bot acts for S seconds after it connects (default 10)\n"
    "  --rate R      actions per second per bot (default 1)\n"
    "  --ramp C      connections opened per second (default 500)\n"
    "  --mix M       ping: /ping with sequence and timestamp; move: /move; chat: chat lines;\n"
    "                echo: 64-byte messages against server.exe --echo (default ping)\n"
    "                several, comma-separated (ping,move,chat): bot i plays the i-th, round robin\n"
    "  --depth K     echo only: keep K messages in flight per bot, sending the next as soon as\n"
    "                one returns (closed loop, --rate is ignored)\n"
    "  --reconnect S each bot closes its connection after S seconds, once its replies are in,\n"
    "                and connects again, until its --duration is up (connection churn)\n"
    "\n"
    "Every reply is checked: lost, duplicated, reordered or unexpected replies are errors.\n"
    "\n"
    "Exit codes, interactive: 0 after /quit, end of input or Ctrl+C; 1 cannot connect;\n"
    "  3 the server closed the connection first. Stress test: 0 only when every bot connected\n"
    "  and no check failed (Ctrl+C stops the run early and reports it), otherwise 1.\n"
    "  Bad options: 2.\n";

enum class Mix { Ping, Move, Chat, Echo };

struct Options {
    const char* host = "127.0.0.1";
    int port = proto::kDefaultPort;
    int bots = 0;  // 0: interactive
    int duration_s = 10;
    int rate = 1;
    int ramp = 500;
    int depth = 0;  // echo: messages in flight; 0 = paced by --rate
    int reconnect_s = 0;  // 0: one connection per bot for the whole run
    std::vector<Mix> mixes{Mix::Ping};  // bot i plays mixes[i % size]
};

// Microseconds since the program started, from the performance counter.
class Clock {
public:
    Clock() {
        QueryPerformanceFrequency(&frequency_);
        QueryPerformanceCounter(&start_);
    }
    std::uint64_t us() const {
        LARGE_INTEGER now;
        QueryPerformanceCounter(&now);
        const std::uint64_t ticks = static_cast<std::uint64_t>(now.QuadPart - start_.QuadPart);
        const std::uint64_t frequency = static_cast<std::uint64_t>(frequency_.QuadPart);
        return ticks / frequency * 1000000 + ticks % frequency * 1000000 / frequency;
    }
    std::uint64_t ms() const { return us() / 1000; }

private:
    LARGE_INTEGER frequency_{};
    LARGE_INTEGER start_{};
};

// Round-trip times in fixed memory: 16 buckets per power of two (within 6 %), not a list of
// every sample, so a long run with millions of replies costs the same as a short one.
class Histogram {
public:
    void add(std::uint64_t us) {
        ++counts_[bucket_of(us)];
        ++total_;
        max_ = std::max(max_, us);
    }
    void clear() { *this = Histogram(); }
    std::uint64_t total() const { return total_; }
    double max_ms() const { return static_cast<double>(max_) / 1000.0; }
    double percentile_ms(double fraction) const {
        if (total_ == 0)
            return 0.0;
        const std::uint64_t rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total_ - 1));
        std::uint64_t seen = 0;
        for (int i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen > rank)
                return static_cast<double>(std::min(middle_of(i), max_)) / 1000.0;
        }
        return max_ms();
    }

private:
    static constexpr int kSubBits = 4;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = 64 * kSub;

    static int bucket_of(std::uint64_t v) {
        if (v < kSub)
            return static_cast<int>(v);
        int msb = kSubBits;
        while (msb < 63 && (v >> (msb + 1)) != 0)
            ++msb;
        const int shift = msb - kSubBits;
        return (msb - kSubBits + 1) * kSub + static_cast<int>((v >> shift) & (kSub - 1));
    }
    static std::uint64_t middle_of(int bucket) {
        if (bucket < kSub)
            return static_cast<std::uint64_t>(bucket);
        const int shift = bucket / kSub - 1;
        const std::uint64_t low = (static_cast<std::uint64_t>(kSub + bucket % kSub)) << shift;
        return low + ((std::uint64_t{1} << shift) >> 1);
    }

    std::uint64_t counts_[kBuckets] = {};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

// ---- One connection ------------------------------------------------------------------------------

enum class LinkState : std::uint8_t { Idle, Connecting, Open, Closed };

// A connection with one receive and at most one send in flight. Links live in an array that is
// never resized: the OS holds pointers to the OVERLAPPEDs and buffers while operations run.
struct Link {
    IoContext connect_io{};
    IoContext recv_io{};
    IoContext send_io{};
    SOCKET socket = INVALID_SOCKET;
    LinkState state = LinkState::Idle;
    int pending_io = 0;
    bool send_posted = false;
    bool skip_completion_on_success = false;  // bots: operations that complete at once queue nothing
    bool shutdown_after_send = false;  // half-close once the queue is empty (end of input)
    std::string queued;
    std::string sending;
    std::size_t sent = 0;
    proto::ServerLineReader reader;
    char recv_buffer[kRecvBufferBytes];
};

struct Network {
    HANDLE port = nullptr;
    LPFN_CONNECTEX connect_ex = nullptr;
    SOCKADDR_STORAGE server{};
    int server_length = 0;
    bool skip_on_success = false;  // the socket provider allows skipping completions
};

// Resolves HOST and loads ConnectEx. False (with the reason printed) when it cannot.
bool open_network(const Options& options, Network& net) {
    net.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (!net.port) {
        log_error("CreateIoCompletionPort", GetLastError());
        return false;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    addrinfo* found = nullptr;
    const std::string port_text = std::to_string(options.port);
    const int rc = getaddrinfo(options.host, port_text.c_str(), &hints, &found);
    if (rc != 0 || !found) {
        std::fprintf(stderr, "cannot connect to %s:%d: %s\n", options.host, options.port,
                     error_text(static_cast<DWORD>(rc)).c_str());
        return false;
    }
    std::memcpy(&net.server, found->ai_addr, found->ai_addrlen);
    net.server_length = static_cast<int>(found->ai_addrlen);
    freeaddrinfo(found);

    const SOCKET probe = open_overlapped_socket(net.server.ss_family);
    if (probe == INVALID_SOCKET) {
        log_error("WSASocket", static_cast<DWORD>(WSAGetLastError()));
        return false;
    }
    const bool loaded = load_extension(probe, WSAID_CONNECTEX, net.connect_ex);
    net.skip_on_success = provider_allows_skip_on_success(probe);
    closesocket(probe);
    return loaded;
}

// ConnectEx needs a bound socket. False when the connect could not even be posted.
bool start_connect(Network& net, Link& link, ULONG_PTR key, DWORD& error) {
    link.socket = open_overlapped_socket(net.server.ss_family);
    if (link.socket == INVALID_SOCKET) {
        error = static_cast<DWORD>(WSAGetLastError());
        return false;
    }
    SOCKADDR_STORAGE local{};
    local.ss_family = net.server.ss_family;
    const int local_length = local.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (bind(link.socket, reinterpret_cast<sockaddr*>(&local), local_length) == SOCKET_ERROR ||
        !CreateIoCompletionPort(reinterpret_cast<HANDLE>(link.socket), net.port, key, 0)) {
        error = static_cast<DWORD>(WSAGetLastError());
        closesocket(link.socket);
        link.socket = INVALID_SOCKET;
        return false;
    }
    link.connect_io = IoContext{};
    link.connect_io.op = OP_CONNECT;
    link.state = LinkState::Connecting;
    ++link.pending_io;
    if (!net.connect_ex(link.socket, reinterpret_cast<sockaddr*>(&net.server), net.server_length, nullptr, 0,
                        nullptr, &link.connect_io.overlapped)) {
        error = static_cast<DWORD>(WSAGetLastError());
        if (error != ERROR_IO_PENDING) {
            --link.pending_io;  // an immediate failure queues no completion
            closesocket(link.socket);
            link.socket = INVALID_SOCKET;
            link.state = LinkState::Closed;
            return false;
        }
    }
    return true;
}

// The connect finished well: the socket becomes a normal connected socket.
void on_connected(Link& link) {
    setsockopt(link.socket, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
    set_no_delay(link.socket);
    link.state = LinkState::Open;
}

enum class Posted { Pending, Failed, DoneNow };

// Posts the link's one receive. DoneNow (skip-on-success links only): it completed at once with
// `*bytes_now` bytes and queued no completion, so the caller handles it now.
Posted post_recv(Link& link, DWORD* bytes_now = nullptr) {
    link.recv_io = IoContext{};
    link.recv_io.op = OP_RECV;
    WSABUF buffer{kRecvBufferBytes, link.recv_buffer};
    DWORD flags = 0, bytes = 0;
    ++link.pending_io;
    if (WSARecv(link.socket, &buffer, 1, &bytes, &flags, &link.recv_io.overlapped, nullptr) == SOCKET_ERROR) {
        if (WSAGetLastError() == WSA_IO_PENDING)
            return Posted::Pending;
        --link.pending_io;  // an immediate failure queues no completion
        return Posted::Failed;
    }
    if (!link.skip_completion_on_success)
        return Posted::Pending;  // an immediate success still queues its completion
    --link.pending_io;
    if (bytes_now)
        *bytes_now = bytes;
    return Posted::DoneNow;
}

bool on_sent(Link& link, DWORD bytes, DWORD error);

bool post_send(Link& link) {
    link.send_io = IoContext{};
    link.send_io.op = OP_SEND;
    WSABUF buffer{static_cast<ULONG>(link.sending.size() - link.sent), &link.sending[link.sent]};
    DWORD bytes = 0;
    ++link.pending_io;
    link.send_posted = true;
    if (WSASend(link.socket, &buffer, 1, &bytes, 0, &link.send_io.overlapped, nullptr) == SOCKET_ERROR) {
        if (WSAGetLastError() == WSA_IO_PENDING)
            return true;
        --link.pending_io;
        link.send_posted = false;
        return false;
    }
    if (!link.skip_completion_on_success)
        return true;
    // Taken at once and no completion queued: finished here. This recurses at most once more
    // (the rest of a short send, or what was queued meanwhile; nothing is queued during it).
    --link.pending_io;
    return on_sent(link, bytes, 0);
}

// Starts a send of everything queued, unless one is in flight (it will take the rest when done).
bool flush(Link& link) {
    if (link.send_posted || link.state != LinkState::Open)
        return true;
    if (link.queued.empty()) {
        if (link.shutdown_after_send) {
            link.shutdown_after_send = false;
            shutdown(link.socket, SD_SEND);
        }
        return true;
    }
    link.sending.swap(link.queued);
    link.queued.clear();
    link.sent = 0;
    return post_send(link);
}

// A send finished: false when the connection failed.
bool on_sent(Link& link, DWORD bytes, DWORD error) {
    link.send_posted = false;
    if (error != 0 || link.state != LinkState::Open)
        return false;
    link.sent += bytes;
    if (link.sent < link.sending.size())
        return post_send(link);  // a short send: finish it first
    link.sending.clear();
    link.sent = 0;
    return flush(link);
}

// What is still posted is cancelled before the close (see the server's close_socket: Wine 8 loses
// the completions of a socket closed with a receive and a stuck send pending).
void close_link(Link& link) {
    if (link.socket != INVALID_SOCKET) {
        CancelIoEx(reinterpret_cast<HANDLE>(link.socket), nullptr);
        closesocket(link.socket);
        link.socket = INVALID_SOCKET;
    }
    link.state = LinkState::Closed;
}

// ---- Interactive mode ----------------------------------------------------------------------------

// One line typed (or the end of input), handed from the input thread to the loop through the
// port. The loop owns it from then on and frees it.
struct InputLine {
    OVERLAPPED overlapped{};  // only carries the pointer through the port; no I/O uses it
    std::string text;
    bool end_of_input = false;
};

void post_input(HANDLE port, std::string text, bool end_of_input) {
    auto* input = new InputLine;
    input->text = std::move(text);
    input->end_of_input = end_of_input;
    if (!PostQueuedCompletionStatus(port, 0, kInputKey, &input->overlapped)) {
        log_error("PostQueuedCompletionStatus", GetLastError());
        delete input;
    }
}

// Blocking reads belong on a thread of their own; each line goes to the loop through the port,
// so the socket is only ever touched by the loop. ReadFile, not fgets: a thread blocked in fgets
// holds the C runtime's lock on stdin, and exit() takes every stream's lock to flush it, so the
// program could hang on its way out while nobody is typing.
DWORD WINAPI read_input(void* parameter) {
    const HANDLE port = parameter;
    const HANDLE input = GetStdHandle(STD_INPUT_HANDLE);
    std::string line;
    char chunk[4096];
    for (;;) {
        DWORD got = 0;
        // 0 bytes: the file or pipe ended, or a console line began with Ctrl+Z. FALSE: the pipe's
        // writer went away (ERROR_BROKEN_PIPE), or there is no input at all.
        if (input == nullptr || input == INVALID_HANDLE_VALUE || !ReadFile(input, chunk, sizeof chunk, &got, nullptr) ||
            got == 0)
            break;
        for (DWORD i = 0; i < got; ++i) {
            if (chunk[i] != '\n') {
                line.push_back(chunk[i]);
                if (line.size() < kMaxInputLineBytes)
                    continue;
            } else if (!line.empty() && line.back() == '\r') {
                line.pop_back();  // a console line ends in CR LF; the loop adds the CR LF it sends
            }
            post_input(port, std::move(line), false);
            line.clear();
        }
    }
    if (!line.empty())  // the last line had no line end: it is still a line
        post_input(port, std::move(line), false);
    post_input(port, std::string(), true);
    return 0;
}

// Whether the user has asked to leave. What we send goes through the same framer and parser as
// on the server, so "/QUIT", "  /quit" and "/quit now" count exactly when the server sees a quit.
class QuitDetector {
public:
    // `wire` is what is about to be sent, line end included. True once a /quit went by.
    bool saw_quit(const std::string& wire) {
        framer_.feed(wire.data(), wire.size(), *this);
        return quit_;
    }
    // The framer's sink.
    bool on_line(std::string_view line) {
        quit_ = quit_ || proto::parse_command(line).kind == proto::CommandKind::Quit;
        return true;
    }
    bool on_line_too_long() { return true; }

private:
    proto::LineFramer framer_;
    bool quit_ = false;
};

// The server's lines are UTF-8. The output code page belongs to the console, not to us: it is
// given back on the way out, or the user's cmd window would keep ours.
class Utf8ConsoleOutput {
public:
    Utf8ConsoleOutput() : previous_(GetConsoleOutputCP()) {
        if (previous_ != 0)  // 0: no console (output piped from a detached process)
            SetConsoleOutputCP(CP_UTF8);
    }
    ~Utf8ConsoleOutput() {
        if (previous_ != 0)
            SetConsoleOutputCP(previous_);
    }
    Utf8ConsoleOutput(const Utf8ConsoleOutput&) = delete;
    Utf8ConsoleOutput& operator=(const Utf8ConsoleOutput&) = delete;

private:
    UINT previous_;
};

// The connection ended under us. After /quit or the end of input that is how a session ends;
// otherwise the user is told, with the reason when the OS gave one.
int on_server_closed(bool leaving, DWORD error) {
    std::fflush(stdout);
    if (leaving)
        return 0;
    if (error != 0)
        std::fprintf(stderr, "server closed the connection: %s\n", error_text(error).c_str());
    else
        std::fprintf(stderr, "server closed the connection\n");
    return kExitServerClosed;
}

int run_interactive(const Options& options) {
    Network net;
    if (!open_network(options, net))
        return kExitCannotConnect;
    post_to_port_on_console_stop(net.port, kStopKey);
    Utf8ConsoleOutput utf8_output;

    auto link = std::make_unique<Link>();  // on the heap and never moved: the OS writes into it
    DWORD error = 0;
    if (!start_connect(net, *link, 0, error)) {
        std::fprintf(stderr, "cannot connect to %s:%d: %s\n", options.host, options.port, error_text(error).c_str());
        return kExitCannotConnect;
    }
    QuitDetector quit;
    bool leaving = false;  // /quit sent or input ended: the server's close is what we wait for
    OVERLAPPED_ENTRY entries[kCompletionBatch];
    for (;;) {
        ULONG count = 0;
        if (!GetQueuedCompletionStatusEx(net.port, entries, kCompletionBatch, &count, INFINITE, FALSE)) {
            log_error("GetQueuedCompletionStatusEx", GetLastError());
            return 1;
        }
        for (ULONG i = 0; i < count; ++i) {
            const OVERLAPPED_ENTRY& entry = entries[i];
            if (entry.lpCompletionKey == kStopKey) {  // Ctrl+C, Ctrl+Break, the console closed
                std::fflush(stdout);
                return 0;
            }
            if (entry.lpCompletionKey == kInputKey) {
                std::unique_ptr<InputLine> input(CONTAINING_RECORD(entry.lpOverlapped, InputLine, overlapped));
                if (input->end_of_input) {
                    // Half-close once everything typed has gone out: the server answers what it
                    // got, then closes, and we print until it does.
                    leaving = true;
                    link->shutdown_after_send = true;
                } else {
                    input->text += "\r\n";
                    if (quit.saw_quit(input->text))
                        leaving = true;
                    link->queued += input->text;
                }
                if (!flush(*link))
                    return on_server_closed(leaving, static_cast<DWORD>(WSAGetLastError()));
                continue;
            }
            IoContext& io = *io_context_of(entry.lpOverlapped);
            --link->pending_io;
            const DWORD io_error = completion_error(link->socket, entry.lpOverlapped);
            switch (io.op) {
            case OP_CONNECT: {
                if (io_error != 0) {
                    std::fprintf(stderr, "cannot connect to %s:%d: %s\n", options.host, options.port,
                                 error_text(io_error).c_str());
                    return kExitCannotConnect;
                }
                on_connected(*link);
                if (post_recv(*link) == Posted::Failed)
                    return on_server_closed(leaving, static_cast<DWORD>(WSAGetLastError()));
                // Input is read only once there is somewhere to send it.
                const HANDLE reader = CreateThread(nullptr, 0, read_input, net.port, 0, nullptr);
                if (!reader)
                    log_error("CreateThread", GetLastError());
                else
                    CloseHandle(reader);
                break;
            }
            case OP_RECV:
                if (io_error != 0 || entry.dwNumberOfBytesTransferred == 0)
                    return on_server_closed(leaving, io_error);
                link->reader.feed(link->recv_buffer, entry.dwNumberOfBytesTransferred, [](std::string_view line) {
                    std::fwrite(line.data(), 1, line.size(), stdout);
                    std::fputc('\n', stdout);
                });
                std::fflush(stdout);
                if (post_recv(*link) == Posted::Failed)
                    return on_server_closed(leaving, static_cast<DWORD>(WSAGetLastError()));
                break;
            case OP_SEND:
                if (!on_sent(*link, entry.dwNumberOfBytesTransferred, io_error))
                    return on_server_closed(leaving, io_error != 0 ? io_error : static_cast<DWORD>(WSAGetLastError()));
                break;
            case OP_ACCEPT:
                break;
            }
        }
    }
}

// ---- Stress test: bots --------------------------------------------------------------------------

enum ErrorKind {
    kConnectFailed,
    kConnectionLost,
    kNoWelcome,
    kUnexpectedLine,
    kOutOfOrder,
    kWrongSquare,
    kRepliesMissing,
    kErrorKinds
};
const char* const kErrorNames[kErrorKinds] = {
    "connect failed", "connection lost", "no welcome line", "unexpected line",
    "lost, duplicated or reordered reply", "MOVE to an unexpected square", "replies missing at the end"};

// The move bots' walk: right, down, left, up, a square that stays on the board wherever it starts
// (a step against an edge leaves the piece where it is, and the server says so).
constexpr std::string_view kWalkCommands[] = {"/move right\r\n", "/move down\r\n", "/move left\r\n", "/move up\r\n"};
constexpr proto::Step kWalkSteps[] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
constexpr int kWalkLength = 4;

// What a bot sent and still awaits, oldest first, in a fixed ring.
struct Awaited {
    std::uint64_t sequence;
    std::uint64_t sent_us;
    int walk_step;  // move: which step of the walk this was
};

struct Bot {
    Link link;
    std::uint32_t id = 0;
    Mix mix = Mix::Ping;
    bool reconnecting = false;      // closed on purpose; connects again once nothing is pending
    std::uint64_t session_until_ms = 0;  // --reconnect: when this connection is due to close
    char nick[proto::kMaxNickBytes + 1] = {};
    bool welcomed = false;
    bool served = false;            // the server has answered it once
    bool finished = false;          // acted for its whole duration
    std::uint64_t connect_started_us = 0;
    std::uint64_t connect_deadline_ms = 0;  // this connect counts as failed if still pending then
    std::uint64_t act_until_ms = 0;
    std::uint64_t next_action_ms = 0;  // when its next action is due (the timer heap holds it too)
    std::uint64_t next_sequence = 0;
    int x = -1, y = -1;             // move: last square the server confirmed (-1: not known yet)
    int walk_step = 0;              // move: the next step of the walk
    Awaited awaited[kMaxOutstanding];
    std::size_t awaited_head = 0, awaited_count = 0;
};

struct Totals {
    std::uint64_t connected = 0, failed = 0, sent = 0, received = 0, reconnects = 0;
    std::uint64_t errors[kErrorKinds] = {};
    std::uint64_t error_total() const {
        std::uint64_t sum = 0;
        for (std::uint64_t e : errors)
            sum += e;
        return sum;
    }
};

class BotRun {
public:
    BotRun(const Options& options, Network& net) : options_(options), net_(net) {}
    int run();

private:
    struct Timer {
        std::uint64_t due_ms;
        std::uint32_t bot;
        bool operator>(const Timer& other) const { return due_ms > other.due_ms; }
    };

    void dispatch(const OVERLAPPED_ENTRY& entry);
    void connect_next();
    bool begin_connect(Bot& bot);
    void on_connect_done(Bot& bot, DWORD error);
    void connect_failed(Bot& bot, DWORD error);
    void read_deferred();
    void on_recv_done(Bot& bot, DWORD bytes, DWORD error);
    void on_line(Bot& bot, std::string_view line);
    void on_move_line(Bot& bot, std::string_view line);
    void on_reply(Bot& bot, std::uint64_t sequence, std::uint64_t sent_us);
    void on_timer(Bot& bot);
    void start_acting(Bot& bot);
    void send_message(Bot& bot);
    void lose(Bot& bot, ErrorKind kind);
    void finish(Bot& bot);
    void error(ErrorKind kind) { ++totals_.errors[kind]; }
    void schedule(Bot& bot, std::uint64_t due_ms) { timers_.push({due_ms, bot.id}); }
    void report_progress(std::uint64_t now_ms);
    int report_result();
    bool echo_closed_loop(const Bot& bot) const { return bot.mix == Mix::Echo && options_.depth > 0; }
    bool awaiting_replies() const;
    void start_session(Bot& bot);
    void hang_up(Bot& bot);
    std::uint64_t action_interval_ms() const { return std::max<std::uint64_t>(1, 1000 / static_cast<std::uint64_t>(options_.rate)); }
    std::uint64_t connect_due_ms(std::uint32_t bot) const {
        return static_cast<std::uint64_t>(bot) * 1000 / static_cast<std::uint64_t>(options_.ramp);
    }

    const Options& options_;
    Network& net_;
    Clock clock_;
    std::unique_ptr<Bot[]> bots_;
    std::uint32_t bot_count_ = 0;
    std::uint32_t next_to_connect_ = 0;
    std::uint32_t active_bots_ = 0;  // not yet done: connecting, awaiting the welcome, or acting
    // Every bot's next deadline (connect, welcome, action) in one min-heap: the loop sleeps until
    // the earliest. A bot may have a few entries; each checks its own condition when it comes due.
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    Totals totals_;
    Histogram all_, interval_;
    Histogram served_;  // from starting a connect to the server's first line: how fast it accepts
    std::uint64_t interval_sent_ = 0, interval_received_ = 0;
    bool interrupted_ = false;
    std::uint64_t drain_until_ms_ = 0;  // set once every bot has finished acting, or on Ctrl+C
    std::string message_;  // scratch
    // Bots whose next receive waits for the end of a turn. As in the server, it is posted after the
    // bot's own sends have gone out, so it often completes at once instead of waiting in the kernel
    // (under Wine, three wineserver round trips fewer): the load generator stays ahead of the server.
    SlotQueue to_read_;
};

int BotRun::run() {
    bot_count_ = static_cast<std::uint32_t>(options_.bots);
    bots_ = std::make_unique<Bot[]>(bot_count_);
    for (std::uint32_t i = 0; i < bot_count_; ++i) {
        bots_[i].id = i;
        bots_[i].mix = options_.mixes[i % options_.mixes.size()];
    }
    active_bots_ = bot_count_;
    to_read_.reserve(bot_count_);
    post_to_port_on_console_stop(net_.port, kStopKey);

    std::unique_ptr<OVERLAPPED_ENTRY[]> entries(new OVERLAPPED_ENTRY[kCompletionBatch]);
    std::uint64_t next_progress_ms = kProgressEveryMs;
    for (;;) {
        const std::uint64_t now = clock_.ms();
        // Connections are opened at the ramp rate: bot i is due at i / ramp seconds.
        while (next_to_connect_ < bot_count_ && connect_due_ms(next_to_connect_) <= now)
            connect_next();
        while (!timers_.empty() && timers_.top().due_ms <= now) {
            Bot& bot = bots_[timers_.top().bot];
            timers_.pop();
            on_timer(bot);
        }
        if (now >= next_progress_ms) {
            report_progress(now);
            next_progress_ms += kProgressEveryMs;
        }
        if (drain_until_ms_ == 0 && active_bots_ == 0)
            drain_until_ms_ = now + kDrainMs;  // every bot is done acting: wait for the last replies
        if (drain_until_ms_ != 0 && (!awaiting_replies() || now >= drain_until_ms_))
            break;

        // Sleep until the next thing is due: a connect, a bot's timer, the progress line.
        std::uint64_t wake = next_progress_ms;
        if (!timers_.empty())
            wake = std::min(wake, timers_.top().due_ms);
        if (next_to_connect_ < bot_count_)
            wake = std::min(wake, connect_due_ms(next_to_connect_));
        if (drain_until_ms_ != 0)
            wake = std::min(wake, now + 50);
        // Bots waiting to be read from must not wait for a completion that may not come.
        const DWORD timeout = wake > now && to_read_.empty() ? static_cast<DWORD>(wake - now) : 0;
        ULONG got = 0;
        if (!GetQueuedCompletionStatusEx(net_.port, entries.get(), kCompletionBatch, &got, timeout, FALSE)) {
            const DWORD failure = GetLastError();
            if (failure != WAIT_TIMEOUT) {  // FALSE with nothing dequeued: the port itself failed
                log_error("GetQueuedCompletionStatusEx", failure);
                return 1;
            }
            got = 0;
        }
        for (ULONG i = 0; i < got; ++i)
            dispatch(entries[i]);
        read_deferred();
    }
    return report_result();
}

void BotRun::dispatch(const OVERLAPPED_ENTRY& entry) {
    if (entry.lpOverlapped == nullptr) {  // posted by the console handler, not an I/O
        if (entry.lpCompletionKey == kStopKey) {
            // Ctrl+C: no more connects or actions; what is in flight gets a moment to come back,
            // so the report does not count it as missing. A second Ctrl+C reports at once.
            drain_until_ms_ = clock_.ms() + (interrupted_ ? 0 : kInterruptDrainMs);
            interrupted_ = true;
            next_to_connect_ = bot_count_;
            while (!timers_.empty())
                timers_.pop();
        }
        return;
    }
    if (entry.lpCompletionKey >= bot_count_) {
        std::fprintf(stderr, "error: completion with unknown key %llu ignored\n",
                     static_cast<unsigned long long>(entry.lpCompletionKey));
        return;
    }
    Bot& bot = bots_[entry.lpCompletionKey];
    IoContext& io = *io_context_of(entry.lpOverlapped);
    --bot.link.pending_io;
    if (bot.link.state == LinkState::Closed) {  // cancelled by our own close
        // A link is reused only when nothing posted on the old socket is left to complete.
        if (bot.reconnecting && bot.link.pending_io == 0)
            start_session(bot);
        return;
    }
    const DWORD io_error = completion_error(bot.link.socket, entry.lpOverlapped);
    switch (io.op) {
    case OP_CONNECT: on_connect_done(bot, io_error); break;
    case OP_RECV: on_recv_done(bot, entry.dwNumberOfBytesTransferred, io_error); break;
    case OP_SEND:
        if (!on_sent(bot.link, entry.dwNumberOfBytesTransferred, io_error))
            lose(bot, kConnectionLost);
        break;
    case OP_ACCEPT: break;
    }
}

// True while an open connection still awaits a reply or its welcome (checked only once the bots
// are done): a bot that reconnected just before its time was up is owed a welcome, not faulted.
bool BotRun::awaiting_replies() const {
    for (std::uint32_t i = 0; i < bot_count_; ++i)
        if (bots_[i].link.state == LinkState::Open && (bots_[i].awaited_count > 0 || !bots_[i].welcomed))
            return true;
    return false;
}

void BotRun::connect_next() { begin_connect(bots_[next_to_connect_++]); }

// Posts the bot's ConnectEx, with a deadline on the timer heap in case it never completes.
bool BotRun::begin_connect(Bot& bot) {
    bot.connect_started_us = clock_.us();
    bot.connect_deadline_ms = clock_.ms() + kConnectTimeoutMs;
    DWORD failure = 0;
    if (!start_connect(net_, bot.link, bot.id, failure)) {
        connect_failed(bot, failure);
        return false;
    }
    schedule(bot, bot.connect_deadline_ms);
    return true;
}

void BotRun::connect_failed(Bot& bot, DWORD failure) {
    ++totals_.failed;
    error(kConnectFailed);
    close_link(bot.link);  // a connect still pending is cancelled; its completion is ignored
    finish(bot);
    if (totals_.failed <= 3)
        std::fprintf(stderr, "bot %u: cannot connect to %s:%d: %s\n", bot.id, options_.host, options_.port,
                     error_text(failure).c_str());
}

void BotRun::on_connect_done(Bot& bot, DWORD failure) {
    if (failure != 0) {
        connect_failed(bot, failure);
        return;
    }
    on_connected(bot.link);
    bot.link.skip_completion_on_success = net_.skip_on_success && skip_completion_port_on_success(bot.link.socket);
    if (bot.act_until_ms == 0) {  // its first connection; later ones are reconnects
        ++totals_.connected;
        bot.act_until_ms = clock_.ms() + static_cast<std::uint64_t>(options_.duration_s) * 1000;
    }
    if (options_.reconnect_s > 0)
        bot.session_until_ms = clock_.ms() + static_cast<std::uint64_t>(options_.reconnect_s) * 1000;
    to_read_.push(bot.id);
    // The end of its time is a deadline too: a chat bot whose welcome never comes (a server that
    // is not a chat server, or one that hangs) is finished then, not waited for for ever.
    schedule(bot, bot.act_until_ms);
    if (bot.mix == Mix::Echo) {  // the echo server sends no welcome: start at once
        bot.welcomed = true;
        start_acting(bot);
    }
}

// Welcomed (or connected, for echo bots): the first action, or the whole pipeline of them.
void BotRun::start_acting(Bot& bot) {
    if (echo_closed_loop(bot)) {
        for (int i = 0; i < options_.depth; ++i)
            send_message(bot);
        if (!flush(bot.link))
            lose(bot, kConnectionLost);
        return;  // replies drive the sending from now on; the deadline at act_until_ms ends it
    }
    // Bots start spread over one interval, so their actions do not all land in the same tick.
    bot.next_action_ms = clock_.ms() + bot.id % action_interval_ms();
    schedule(bot, bot.next_action_ms);
}

// Oldest first and at most kReadsPerTurn, so a turn stays short and connects, timers and progress
// lines keep their pace; a bot whose receive completes at once goes to the back of the queue.
void BotRun::read_deferred() {
    for (std::size_t n = std::min(to_read_.size(), kReadsPerTurn); n > 0; --n) {
        Bot& bot = bots_[to_read_.pop()];
        if (bot.link.state != LinkState::Open)
            continue;  // closed since it was queued; its next connect queues it again
        DWORD bytes = 0;
        switch (post_recv(bot.link, &bytes)) {
        case Posted::Pending: break;
        case Posted::Failed: lose(bot, kConnectionLost); break;
        case Posted::DoneNow: on_recv_done(bot, bytes, 0); break;
        }
    }
}

void BotRun::on_recv_done(Bot& bot, DWORD bytes, DWORD failure) {
    if (failure != 0 || bytes == 0) {
        lose(bot, kConnectionLost);
        return;
    }
    bot.link.reader.feed(bot.link.recv_buffer, bytes, [&](std::string_view line) { on_line(bot, line); });
    if (bot.link.state != LinkState::Open)
        return;
    if (!flush(bot.link)) {
        lose(bot, kConnectionLost);
        return;
    }
    to_read_.push(bot.id);
}

// Parses exactly "B.S.T" (bot, sequence, send time in microseconds): nothing before or after.
bool parse_token(std::string_view text, std::uint64_t (&fields)[3]) {
    std::size_t at = 0;
    for (int f = 0; f < 3; ++f) {
        const std::size_t begin = at;
        std::uint64_t value = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9' && at - begin < 20)
            value = value * 10 + static_cast<std::uint64_t>(text[at++] - '0');
        if (at == begin || (f < 2 && (at >= text.size() || text[at++] != '.')))
            return false;
        fields[f] = value;
    }
    return at == text.size();
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

void BotRun::on_line(Bot& bot, std::string_view line) {
    ++totals_.received;
    ++interval_received_;
    if (!bot.served) {
        bot.served = true;
        served_.add(clock_.us() - bot.connect_started_us);
    }
    if (starts_with(line, "ERR ")) {
        error(kUnexpectedLine);
        return;
    }
    std::uint64_t token[3] = {};
    if (bot.mix == Mix::Echo) {
        // "e B.S.T ......": the token is checked, then the exact bytes, rebuilt from it.
        const std::string_view body = starts_with(line, "e ") ? line.substr(2) : std::string_view();
        const std::string_view token_text = body.substr(0, std::min(body.find(' '), body.size()));
        if (!parse_token(token_text, token) || token[0] != bot.id) {
            error(kUnexpectedLine);
            return;
        }
        message_ = "e ";
        message_.append(token_text);
        message_ += ' ';
        message_.resize(kEchoMessageBytes - 1, '.');
        if (line != message_) {
            error(kUnexpectedLine);
            return;
        }
        on_reply(bot, token[1], token[2]);
        if (echo_closed_loop(bot) && bot.link.state == LinkState::Open && clock_.ms() < bot.act_until_ms &&
            !interrupted_)
            send_message(bot);
        return;
    }
    if (!bot.welcomed) {
        // "* welcome guestN, N online - ..." names this bot; its actions start now.
        constexpr std::string_view prefix = "* welcome ";
        const std::size_t comma = line.find(',');
        if (!starts_with(line, prefix) || comma == std::string_view::npos ||
            !proto::is_valid_nick(line.substr(prefix.size(), comma - prefix.size()))) {
            error(kUnexpectedLine);
            return;
        }
        const std::string_view nick = line.substr(prefix.size(), comma - prefix.size());
        std::snprintf(bot.nick, sizeof bot.nick, "%.*s", static_cast<int>(nick.size()), nick.data());
        bot.welcomed = true;
        if (!bot.finished)
            start_acting(bot);
        return;
    }
    const std::string_view nick = bot.nick;
    switch (bot.mix) {
    case Mix::Ping:
        // "PONG B.S.T" for our own pings; joined and left notices are expected and ignored.
        if (starts_with(line, "PONG")) {
            if (!starts_with(line, "PONG ") || !parse_token(line.substr(5), token) || token[0] != bot.id) {
                error(kUnexpectedLine);
                return;
            }
            on_reply(bot, token[1], token[2]);
        }
        break;
    case Mix::Chat:
        // Our own line: "nick: c B.S.T"; everyone else's chat is expected and ignored.
        if (line.size() > nick.size() + 4 && starts_with(line, nick) && line.substr(nick.size(), 4) == ": c ") {
            if (!parse_token(line.substr(nick.size() + 4), token) || token[0] != bot.id) {
                error(kUnexpectedLine);
                return;
            }
            on_reply(bot, token[1], token[2]);
        }
        break;
    case Mix::Move:
        on_move_line(bot, line);
        break;
    case Mix::Echo:
        break;
    }
}

// Our own "MOVE nick x y" lines come back in order, each at the square its step of the walk leads
// to from the square before (the same square, against an edge). Where the server placed us is not
// said anywhere, so the first one only has to be on the board; every later one is checked.
void BotRun::on_move_line(Bot& bot, std::string_view line) {
    constexpr std::string_view prefix = "MOVE ";
    const std::string_view nick = bot.nick;
    const std::size_t nick_end = prefix.size() + nick.size();
    if (!starts_with(line, prefix) || line.substr(prefix.size(), nick.size()) != nick || line.size() <= nick_end ||
        line[nick_end] != ' ')
        return;  // someone else's move (or a nick that only starts like ours)
    const std::string_view where = line.substr(nick_end + 1);
    const bool well_formed = where.size() == 3 && where[0] >= '0' && where[0] < '0' + proto::kBoardSize &&
                             where[1] == ' ' && where[2] >= '0' && where[2] < '0' + proto::kBoardSize;
    if (!well_formed) {
        error(kUnexpectedLine);
        return;
    }
    if (bot.awaited_count == 0) {
        error(kOutOfOrder);  // a move we did not make, or one reported twice
        return;
    }
    const int x = where[0] - '0', y = where[2] - '0';
    const Awaited& oldest = bot.awaited[bot.awaited_head];
    if (bot.x >= 0) {
        const proto::Step step = kWalkSteps[oldest.walk_step];
        int expected_x = bot.x + step.dx, expected_y = bot.y + step.dy;
        if (expected_x < 0 || expected_x >= proto::kBoardSize || expected_y < 0 || expected_y >= proto::kBoardSize) {
            expected_x = bot.x;
            expected_y = bot.y;
        }
        if (x != expected_x || y != expected_y)
            error(kWrongSquare);  // counted once; the walk goes on from where the server says we are
    }
    bot.x = x;
    bot.y = y;
    on_reply(bot, oldest.sequence, oldest.sent_us);
}

// Replies come back in the order sent, so each must be for the oldest awaited message. One for a
// later message means those before it were lost: each counts as an error, and the bot goes on from
// this one (one lost reply is one error, not an error for every reply after it). One for a message
// not awaited at all was duplicated, reordered or made up.
void BotRun::on_reply(Bot& bot, std::uint64_t sequence, std::uint64_t sent_us) {
    std::size_t skipped = 0;
    while (skipped < bot.awaited_count &&
           bot.awaited[(bot.awaited_head + skipped) % kMaxOutstanding].sequence != sequence)
        ++skipped;
    if (skipped == bot.awaited_count) {
        error(kOutOfOrder);
        return;
    }
    totals_.errors[kOutOfOrder] += skipped;
    bot.awaited_head = (bot.awaited_head + skipped + 1) % kMaxOutstanding;
    bot.awaited_count -= skipped + 1;
    const std::uint64_t now = clock_.us();
    const std::uint64_t rtt = now > sent_us ? now - sent_us : 0;
    all_.add(rtt);
    interval_.add(rtt);
}

// One of the bot's timers is due: its connect deadline, the end of its time, or its next action.
// Each checks its own condition, so a timer that has become pointless does nothing.
void BotRun::on_timer(Bot& bot) {
    const std::uint64_t now = clock_.ms();
    if (bot.link.state == LinkState::Connecting) {
        if (now >= bot.connect_deadline_ms)
            connect_failed(bot, WSAETIMEDOUT);
        return;
    }
    if (bot.link.state != LinkState::Open || bot.finished)
        return;
    if (now >= bot.act_until_ms) {
        finish(bot);  // a welcome still on its way is awaited like a reply (see awaiting_replies)
        return;
    }
    if (!bot.welcomed || echo_closed_loop(bot) || now < bot.next_action_ms)
        return;  // awaiting the welcome, driven by replies, or an action already taken
    const bool session_over = bot.session_until_ms != 0 && now >= bot.session_until_ms;
    if (session_over && bot.awaited_count == 0) {
        hang_up(bot);
        return;
    }
    if (!session_over && bot.awaited_count < kMaxOutstanding)
        send_message(bot);
    if (!flush(bot.link)) {
        lose(bot, kConnectionLost);
        return;
    }
    // The next action is due one interval after this one was, not after now: a loop turn that
    // runs late does not slow the bot down. One that fell a whole interval behind starts over
    // from now instead of sending a burst to catch up.
    bot.next_action_ms += action_interval_ms();
    if (bot.next_action_ms <= now)
        bot.next_action_ms = now + action_interval_ms();
    schedule(bot, bot.next_action_ms);
}

// Queues one action of the bot's mix and remembers what must come back.
void BotRun::send_message(Bot& bot) {
    const std::uint64_t sequence = bot.next_sequence++;
    const std::uint64_t now = clock_.us();
    const std::string token = std::to_string(bot.id) + "." + std::to_string(sequence) + "." + std::to_string(now);
    Awaited awaited{sequence, now, 0};
    switch (bot.mix) {
    case Mix::Ping: message_ = "/ping " + token + "\r\n"; break;
    case Mix::Chat: message_ = "c " + token + "\r\n"; break;
    case Mix::Echo:
        message_ = "e " + token + " ";
        message_.resize(kEchoMessageBytes - 1, '.');
        message_ += '\n';
        break;
    case Mix::Move:
        awaited.walk_step = bot.walk_step;
        message_ = kWalkCommands[bot.walk_step];
        bot.walk_step = (bot.walk_step + 1) % kWalkLength;
        break;
    }
    bot.awaited[(bot.awaited_head + bot.awaited_count) % kMaxOutstanding] = awaited;
    ++bot.awaited_count;
    bot.link.queued += message_;
    ++totals_.sent;
    ++interval_sent_;
}

// --reconnect: the session is over and every reply is in; close gracefully and come back.
void BotRun::hang_up(Bot& bot) {
    bot.reconnecting = true;
    shutdown(bot.link.socket, SD_SEND);
    close_link(bot.link);
    if (bot.link.pending_io == 0)
        start_session(bot);
}

// A new connection for a bot that hung up: a fresh link on the same slot (nothing is pending).
void BotRun::start_session(Bot& bot) {
    bot.reconnecting = false;
    bot.welcomed = false;
    bot.x = bot.y = -1;
    bot.link.queued.clear();
    bot.link.sending.clear();
    bot.link.sent = 0;
    bot.link.send_posted = false;
    bot.link.skip_completion_on_success = false;
    bot.link.shutdown_after_send = false;
    bot.link.reader = proto::ServerLineReader{};
    ++totals_.reconnects;
    begin_connect(bot);
}

void BotRun::finish(Bot& bot) {
    if (bot.finished)
        return;
    bot.finished = true;
    --active_bots_;
}

void BotRun::lose(Bot& bot, ErrorKind kind) {
    if (bot.link.state == LinkState::Closed)
        return;
    finish(bot);
    error(kind);
    if (bot.awaited_count > 0)
        totals_.errors[kRepliesMissing] += bot.awaited_count;
    bot.awaited_count = 0;
    close_link(bot.link);
}

void BotRun::report_progress(std::uint64_t now_ms) {
    std::printf("t=%llus connected=%llu failed=%llu sent/s=%llu recv/s=%llu p50_ms=%.2f p99_ms=%.2f errors=%llu\n",
                static_cast<unsigned long long>(now_ms / 1000), static_cast<unsigned long long>(totals_.connected),
                static_cast<unsigned long long>(totals_.failed), static_cast<unsigned long long>(interval_sent_),
                static_cast<unsigned long long>(interval_received_), interval_.percentile_ms(0.50),
                interval_.percentile_ms(0.99), static_cast<unsigned long long>(totals_.error_total()));
    std::fflush(stdout);
    interval_.clear();
    interval_sent_ = interval_received_ = 0;
}

int BotRun::report_result() {
    for (int i = 0; i < options_.bots; ++i) {
        Bot& bot = bots_[i];
        if (bot.link.state == LinkState::Open && bot.awaited_count > 0)
            totals_.errors[kRepliesMissing] += bot.awaited_count;
        if (bot.link.state == LinkState::Open && !bot.welcomed)
            error(kNoWelcome);
        close_link(bot.link);
    }
    const unsigned long long errors = totals_.error_total();
    std::printf("\n  %-40s %llu\n", "bots", static_cast<unsigned long long>(options_.bots));
    std::printf("  %-40s %llu\n", "connected", static_cast<unsigned long long>(totals_.connected));
    std::printf("  %-40s %llu\n", "failed", static_cast<unsigned long long>(totals_.failed));
    std::printf("  %-40s %llu\n", "sent", static_cast<unsigned long long>(totals_.sent));
    std::printf("  %-40s %llu\n", "received", static_cast<unsigned long long>(totals_.received));
    std::printf("  %-40s %llu\n", "reconnects", static_cast<unsigned long long>(totals_.reconnects));
    std::printf("  %-40s %llu\n", "errors", errors);
    for (int kind = 0; kind < kErrorKinds; ++kind)
        if (totals_.errors[kind] != 0)
            std::printf("    %-38s %llu\n", kErrorNames[kind], static_cast<unsigned long long>(totals_.errors[kind]));
    std::printf("  %-40s p50 %.2f  p99 %.2f  max %.2f  (%llu replies timed)\n\n", "round trip ms",
                all_.percentile_ms(0.50), all_.percentile_ms(0.99), all_.max_ms(),
                static_cast<unsigned long long>(all_.total()));
    std::printf("SERVED bots=%llu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", static_cast<unsigned long long>(served_.total()),
                served_.percentile_ms(0.50), served_.percentile_ms(0.99), served_.max_ms());
    std::printf("RESULT bots=%d connected=%llu failed=%llu sent=%llu received=%llu errors=%llu p50_ms=%.2f "
                "p99_ms=%.2f max_ms=%.2f\n",
                options_.bots, static_cast<unsigned long long>(totals_.connected),
                static_cast<unsigned long long>(totals_.failed), static_cast<unsigned long long>(totals_.sent),
                static_cast<unsigned long long>(totals_.received), errors, all_.percentile_ms(0.50),
                all_.percentile_ms(0.99), all_.max_ms());
    std::fflush(stdout);
    const bool all_connected = totals_.connected == static_cast<std::uint64_t>(options_.bots);
    return errors == 0 && all_connected ? 0 : 1;
}

// ---- main -------------------------------------------------------------------------------------------

// Returns -1 when the options are good, otherwise the exit code.
int parse_options(int argc, char** argv, Options& options) {
    struct IntOption { const char* name; int* value; int low, high; };
    const IntOption int_options[] = {
        {"--bots", &options.bots, 1, 100000},     {"--duration", &options.duration_s, 1, 86400},
        {"--rate", &options.rate, 1, 1000},       {"--ramp", &options.ramp, 1, 100000},
        {"--depth", &options.depth, 1, static_cast<int>(kMaxOutstanding)},
        {"--reconnect", &options.reconnect_s, 1, 86400},
    };
    int positional = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h" || arg == "/?") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg.size() > 1 && arg[0] == '-') {
            const IntOption* option = nullptr;
            for (const IntOption& o : int_options)
                if (arg == o.name)
                    option = &o;
            if (!option && arg != "--mix") {
                std::fprintf(stderr, "error: unknown option %s\n\n%s", argv[i], kUsage);
                return kExitBadOptions;
            }
            if (i + 1 >= argc) {
                std::fprintf(stderr, "error: %s needs a value\n\n%s", argv[i], kUsage);
                return kExitBadOptions;
            }
            const char* value = argv[++i];
            if (arg == "--mix") {
                options.mixes.clear();
                std::string_view list = value;
                while (!list.empty()) {
                    const std::size_t comma = std::min(list.find(','), list.size());
                    const std::string_view mix = list.substr(0, comma);
                    list.remove_prefix(std::min(comma + 1, list.size()));
                    if (mix == "ping") options.mixes.push_back(Mix::Ping);
                    else if (mix == "move") options.mixes.push_back(Mix::Move);
                    else if (mix == "chat") options.mixes.push_back(Mix::Chat);
                    else if (mix == "echo") options.mixes.push_back(Mix::Echo);
                    else {
                        std::fprintf(stderr, "error: --mix %s: expected ping, move, chat or echo\n\n%s", value,
                                     kUsage);
                        return kExitBadOptions;
                    }
                }
                if (options.mixes.empty()) {
                    std::fprintf(stderr, "error: --mix needs a value\n\n%s", kUsage);
                    return kExitBadOptions;
                }
                continue;
            }
            if (!parse_int(value, option->low, option->high, *option->value)) {
                std::fprintf(stderr, "error: %s %s: expected a number from %d to %d\n\n%s", option->name, value,
                             option->low, option->high, kUsage);
                return kExitBadOptions;
            }
            continue;
        }
        if (positional == 0) {
            options.host = argv[i];
        } else if (positional == 1) {
            if (!parse_int(argv[i], 1, 65535, options.port)) {
                std::fprintf(stderr, "error: port %s: expected a number from 1 to 65535\n\n%s", argv[i], kUsage);
                return kExitBadOptions;
            }
        } else {
            std::fprintf(stderr, "error: unexpected argument %s\n\n%s", argv[i], kUsage);
            return kExitBadOptions;
        }
        ++positional;
    }
    const bool all_echo = std::all_of(options.mixes.begin(), options.mixes.end(), [](Mix m) { return m == Mix::Echo; });
    const bool any_echo = std::any_of(options.mixes.begin(), options.mixes.end(), [](Mix m) { return m == Mix::Echo; });
    if (any_echo && !all_echo) {
        std::fprintf(stderr, "error: echo bots need server.exe --echo: they do not mix with the others\n\n%s", kUsage);
        return kExitBadOptions;
    }
    if (options.depth > 0 && !all_echo) {
        std::fprintf(stderr, "error: --depth is for --mix echo\n\n%s", kUsage);
        return kExitBadOptions;
    }
    if (options.bots == 0 && options.depth > 0) {
        std::fprintf(stderr, "error: --depth needs --bots\n\n%s", kUsage);
        return kExitBadOptions;
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    const int exit_code = parse_options(argc, argv, options);
    if (exit_code >= 0)
        return exit_code;
    WinsockSession winsock;
    if (!winsock.ok())
        return 1;
    int result = kExitCannotConnect;
    if (options.bots == 0) {
        result = run_interactive(options);
    } else {
        Network net;
        if (open_network(options, net)) {
            BotRun run(options, net);
            result = run.run();
        }
    }
    std::fflush(stdout);
    signal_console_stop_finished();  // a closing console's handler waits for this
    return result;
}

// server.cpp - a single-threaded completion-port (IOCP) chat-and-board server: the IOCP core.
//
// One thread, one completion port, one loop: GetQueuedCompletionStatusEx hands back finished
// operations and the loop switches on what each one was (OP_ACCEPT, OP_RECV, OP_SEND). Connections
// are accepted by a pool of AcceptEx calls on pre-created sockets and live in a fixed array of
// client slots; the completion key of a client's socket is the index of its slot. What the lines
// mean is chat.h's business (the room), how bytes become lines is terminal.h's and protocol.h's,
// what a board view shows is play.h's: this file moves bytes and keeps every slot's lifetime right.
//
// It reads in the order a connection lives: types, setup, accept, receive, send, close and slot
// reuse, the main loop, main().
#include "chat.h"
#include "iocp.h"
#include "play.h"
#include "protocol.h"
#include "terminal.h"

#include <psapi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---- Constants --------------------------------------------------------------------------------

constexpr ULONG kCompletionBatch = 64;  // completions taken per GetQueuedCompletionStatusEx call
constexpr std::size_t kReadsPerTurn = 64;  // receives posted per loop turn (see read_deferred)
// Sends started per call of flush_sends: at least what one turn's receives can ask for (the
// completions and the deferred reads), so a reply never waits for a later turn.
constexpr std::size_t kSendsPerFlush = kCompletionBatch + kReadsPerTurn;
constexpr DWORD kTickMs = 1000;         // housekeeping: stats line, re-arming accepts that failed to post
constexpr DWORD kShutdownTickMs = 50;
constexpr std::uint64_t kShutdownFlushMs = 2000;  // how long clients get to take their last lines
constexpr std::uint64_t kShutdownDrainMs = 5000;  // then how long closed sockets get to report back
// AcceptEx writes each address with 16 bytes of its own beside it.
constexpr DWORD kAcceptAddressBytes = sizeof(SOCKADDR_STORAGE) + 16;
// Connects the OS may queue before they are accepted (README: "Accept bursts").
constexpr int kListenBacklog = 4096;
constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
// The OS's own send buffer per client. Left to itself it grows to a few MiB per socket, hiding a
// client that stops reading behind that much kernel memory before the send limit ever sees it.
constexpr int kSocketSendBufferBytes = 64 * 1024;
constexpr std::size_t kKeepBufferBytes = 16 * 1024;  // a released slot keeps send buffers this big
constexpr int kStdoutBufferBytes = 64 * 1024;

constexpr char kUsage[] =
    "usage: server.exe [--port 9000] [--bind ADDR] [--max-clients 10000] [--accepts 64]\n"
    "                  [--send-limit 262144] [--line-rate 20] [--line-burst 60] [--max-per-ip N]\n"
    "                  [--keepalive 120] [--echo] [--quiet] [--stats SECONDS] [--help]\n"
    "\n"
    "  --port N         TCP port to listen on (default 9000)\n"
    "  --bind ADDR      local address to listen on, IPv4 or IPv6 (default 0.0.0.0)\n"
    "  --max-clients N  client slots, allocated once (default 10000)\n"
    "  --accepts N      AcceptEx calls kept outstanding (default 64)\n"
    "  --send-limit N   unsent bytes a client may hold before it is dropped (default 262144)\n"
    "  --line-rate N    lines a second a client may send, sustained (default 20; 0: no limit);\n"
    "                   past it the client is not read from until it may again: nothing lost\n"
    "  --line-burst N   lines a client may send at once within that rate (default 60)\n"
    "  --max-per-ip N   connections one address may hold (default: no limit)\n"
    "  --keepalive S    probe a peer that was silent for S seconds, and close it if it is gone\n"
    "                   (default 120; 0: off)\n"
    "  --echo           echo server: bytes come back unchanged, nothing else\n"
    "  --quiet          no line per connect and disconnect\n"
    "  --stats N        print a counters line every N seconds\n"
    "  --help           this text\n";
// The defaults the usage states are the ones in force.
static_assert(says_number(kUsage, "(default ", proto::kDefaultPort, ")") &&
              says_number(kUsage, "--max-clients ", proto::kDefaultMaxClients, "]") &&
              says_number(kUsage, "(default ", proto::kDefaultMaxClients, ")") &&
              says_number(kUsage, "--accepts ", proto::kDefaultAccepts, "]") &&
              says_number(kUsage, "(default ", proto::kDefaultAccepts, ")") &&
              says_number(kUsage, "--send-limit ", proto::kDefaultSendLimit, "]") &&
              says_number(kUsage, "(default ", proto::kDefaultSendLimit, ")"));
static_assert(says_number(kUsage, "--line-rate ", proto::kDefaultLineRate, "]") &&
              says_number(kUsage, "(default ", proto::kDefaultLineRate, ";") &&
              says_number(kUsage, "--line-burst ", proto::kDefaultLineBurst, "]") &&
              says_number(kUsage, "(default ", proto::kDefaultLineBurst, ")") &&
              says_number(kUsage, "--keepalive ", proto::kDefaultKeepaliveS, "]") &&
              says_number(kUsage, "(default ", proto::kDefaultKeepaliveS, ";"));

// ---- Types ------------------------------------------------------------------------------------

struct Options {
    int port = proto::kDefaultPort;
    const char* bind = "0.0.0.0";
    int max_clients = proto::kDefaultMaxClients;
    int accepts = proto::kDefaultAccepts;
    int send_limit = proto::kDefaultSendLimit;
    int stats_seconds = 0;
    int line_rate = proto::kDefaultLineRate;
    int line_burst = proto::kDefaultLineBurst;
    int max_per_ip = 0;  // 0: no limit
    int keepalive_s = proto::kDefaultKeepaliveS;
    bool echo = false;
    bool quiet = false;
};

// One AcceptEx in flight: its own OVERLAPPED, its pre-created socket, the buffer for the addresses.
struct PendingAccept {
    Operation op{};
    SOCKET socket = INVALID_SOCKET;
    char addresses[2 * kAcceptAddressBytes];
};

// A client slot's life. One state, changed only by the functions named on the arrows:
//
//            admit                 /quit, the peer's FIN,           last byte sent
//   Free ───────────▶ Open ─────── or the server stopping ───▶ Draining ─────────────┐
//    ▲                 │                                           │                 ▼
//    │                 │ drop: an I/O error, a slow consumer       │ drop          close_client ──▶ Closed
//    │                 └─────────────────▶ Dropping ◀──────────────┘                 ▲               │
//    │                                        │ close_dropped, at the end of the turn │               │
//    │                                        └───────────────────────────────────────┘               │
//    └───────────────────────────── release_slot, once nothing posted on it is pending ◀──────────────┘
//
// Open reads and writes. Draining reads nothing more and closes gracefully once its queue is
// out. Dropping is closed abortively at the end of the current turn: never in the middle of a
// broadcast that walks the member list. Closed waits for the completions of what was posted.
enum class SlotState : std::uint8_t { Free, Open, Draining, Dropping, Closed };

// A client slot. Slots live in one array allocated at start and never moved (the Connection's
// OVERLAPPEDs and buffers are handed to the OS while operations run).
struct Client : Connection {
    SlotState state = SlotState::Free;
    bool reading_paused = false;  // echo mode: not read from until its echoes drain
    TokenBucket lines;            // its input budget (--line-rate, --line-burst)
    std::uint64_t paused_since_ms = 0;  // not 0: over its budget, not read from until it refills
    std::uint32_t unread_begin = 0, unread_end = 0;  // received, not yet fed: waits for the budget
    bool joined = false;          // counted online (and, in chat mode, a member of the room)
    bool wants_board = false;     // asked for /play: the board view whenever its window is big enough
    std::string drop_reason;      // Dropping: what the log will say
    std::uint32_t next_free = kNoSlot;
    term::Terminal terminal;  // its bytes to lines; its telnet, echo and encoding
    char peer[INET6_ADDRSTRLEN + 16] = {};
    char address[INET6_ADDRSTRLEN] = {};  // the peer's address alone: what --max-per-ip counts

    bool is_live() const { return state == SlotState::Open || state == SlotState::Draining; }
};

struct Counters {
    std::uint64_t accepted = 0, lines_in = 0, lines_out = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t slow_dropped = 0, refused = 0, refused_per_ip = 0, keepalive_closed = 0;
    std::uint64_t throttled = 0, throttled_ms = 0;  // times a client was over its input budget, and for how long
    // What the I/O costs: calls made, how many completed at once (no completion packet; under
    // Wine, no wake-up either), and how many GetQueuedCompletionStatusEx calls it all took.
    std::uint64_t recv_calls = 0, recv_at_once = 0, send_calls = 0, send_at_once = 0, dequeues = 0;
    // What a loop turn costs, its wait for completions left out: how chat fan-out is judged.
    // The same for the time inside WSARecv and WSASend: a turn's cost beyond them is the rest.
    std::uint64_t turns = 0, turn_us = 0, turn_max_us = 0, recv_us = 0, send_us = 0;
    std::size_t online = 0, peak = 0;
    long sockets = 0;  // our own open sockets: listener, posted accepts, clients
};

// What a failed receive or send means for the log line.
std::string disconnect_reason(DWORD error) {
    switch (error) {
    case 0: return "peer closed";
    case WSAECONNRESET:
    case ERROR_NETNAME_DELETED: return "reset by peer";
    case WSAECONNABORTED:
    case ERROR_CONNECTION_ABORTED: return "connection aborted";
    case WSA_OPERATION_ABORTED: return "operation aborted";
    // A peer that vanished without FIN or RST, found by the keepalive probes: Windows reports
    // WSAENETRESET for it (SIO_KEEPALIVE_VALS), Wine 8 WSAETIMEDOUT (ETIMEDOUT from Linux) or
    // ERROR_SEM_TIMEOUT. An idle connection has nothing else that times out.
    case WSAENETRESET:
    case WSAETIMEDOUT:
    case ERROR_SEM_TIMEOUT: return "keepalive timeout";
    default: return "error " + error_text(error);
    }
}

// The ways a client goes, from the gentlest:
//   leave               it is no longer online (logged, and announced to the room); its socket
//                       stays open for whatever it is still owed
//   close_when_drained  Draining: no more reading; FIN once the last queued byte is out
//   drop                Dropping: RST at the end of this turn; what is queued is lost
//   close_client        the socket is closed now, gracefully or not; the slot waits in Closed
class Server final : public chat::Transport, public play::Screen {
public:
    explicit Server(const Options& options)
        : options_(options),
          room_(*this, static_cast<std::size_t>(options.max_clients)),
          views_(static_cast<std::size_t>(options.max_clients)) {}
    bool start();
    int run();

    // chat::Transport: how the room's lines reach the connections.
    void send(chat::MemberId to, std::string_view line) override;
    void broadcast(std::string_view line, chat::MemberId except) override;
    std::string stats_text() override;
    void set_encoding(chat::MemberId member, proto::Encoding encoding) override;
    void moved(chat::MemberId who, chat::Square from, chat::Square to, std::string_view line) override;
    void roster_changed(chat::MemberId who, chat::Square square) override;
    void toggle_board_view(chat::MemberId member) override;
    // play::Screen: how the board views' bytes reach the connections.
    void write(chat::MemberId viewer, std::string_view bytes) override;
    int input_column(chat::MemberId viewer) override { return clients_[viewer].terminal.input_column(); }

private:
    // setup
    bool listen_on_port();
    // accept
    void post_accept(PendingAccept& accept);
    void on_accept_done(PendingAccept& accept, DWORD error);
    void admit(SOCKET socket, const char* peer, const char* address);
    void refuse(SOCKET socket, const char* peer, std::string_view line, const char* reason);
    // receive
    void read_later(Client& client) { to_read_.push(slot_of(client)); }
    void read_deferred();
    void post_recv(Client& client);
    bool on_recv_done(Client& client, DWORD bytes, DWORD error);
    bool feed(Client& client, const char* data, std::size_t size, bool fresh_receive);
    bool on_line(Client& client, std::string_view line);
    bool on_key(Client& client, term::Key key);
    bool after_line(Client& client);
    void resume_paced();
    // the board view
    void show_board(Client& client);
    void show_lines(Client& client, std::string_view note);
    void redrawn(Client& client, term::View view, const std::string& bytes);
    void on_resize(Client& client);
    // send
    enum class Audience : std::uint8_t { Everyone, LineViews };
    void broadcast_to(std::string_view line, chat::MemberId except, Audience audience);
    void queue_line(Client& client, const std::string& wire);
    void redraw_inputs();
    void queue_bytes(Client& client, const char* data, std::size_t size);
    void flush_sends();
    void post_send(Client& client);
    bool on_send_done(Client& client, DWORD bytes, DWORD error);
    // close and slot reuse
    void leave(Client& client, const char* reason);
    void close_when_drained(Client& client, const char* reason);
    void drop(Client& client, std::string reason);
    void close_dropped();
    void close_client(Client& client, Close how);
    void release_slot(Client& client);
    void close_counted(SOCKET& socket, Close how);
    // the main loop
    void dispatch(const OVERLAPPED_ENTRY& entry);
    void on_client_io(Client& client, Operation& op, DWORD bytes);
    void begin_shutdown();
    void on_tick();
    DWORD wait_ms() const;
    void count_turn(std::uint64_t us) {
        ++counters_.turns;
        counters_.turn_us += us;
        counters_.turn_max_us = std::max(counters_.turn_max_us, us);
    }
    bool finished() const { return stopping_ && slots_in_use_ == 0 && accepts_posted_ == 0; }

    std::uint32_t slot_of(const Client& client) const { return static_cast<std::uint32_t>(&client - clients_.get()); }

    Options options_;
    HANDLE port_ = nullptr;
    SOCKET listener_ = INVALID_SOCKET;
    int listen_family_ = AF_INET;
    LPFN_ACCEPTEX accept_ex_ = nullptr;
    LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs_ = nullptr;
    bool skip_on_success_ = false;  // the socket provider allows skipping completions

    std::unique_ptr<PendingAccept[]> accepts_;
    int accepts_posted_ = 0;
    std::unique_ptr<Client[]> clients_;
    std::unique_ptr<ReceiveSpace> receive_space_;  // each slot's receive buffer
    std::uint32_t free_head_ = kNoSlot;
    int slots_in_use_ = 0;
    chat::Room room_;
    play::Views views_;  // the members in a board view (/play), and what their windows show

    // Deferred work, run at the end of each loop turn (see run).
    SlotQueue to_flush_;  // clients with bytes queued and no send in flight
    SlotQueue to_read_;   // clients whose next receive waits for the end of a turn
    SlotQueue to_drop_;   // clients whose abortive close is scheduled
    SlotQueue to_redraw_;  // terminals whose half-typed line is off the screen until the turn ends
    // Clients over their input budget, by when they may go on (a slot may be there twice; the
    // generation tells a later occupant's entry).
    struct Paced {
        std::uint64_t due_ms;
        std::uint32_t slot, generation;
        bool operator>(const Paced& other) const { return due_ms > other.due_ms; }
    };
    std::priority_queue<Paced, std::vector<Paced>, std::greater<Paced>> paced_;
    std::unordered_map<std::string, int> per_address_;  // --max-per-ip: connections of each address

    Cp949Codec cp949_;   // the terminals' conversion for CP949 connections
    Clock clock_;        // microseconds, for the turn counters
    std::string wire_;  // scratch: one message encoded for the wire
    std::string cp949_wire_;  // scratch: the same message for CP949 connections
    Counters counters_;
    std::uint64_t started_ms_ = 0;
    std::uint64_t next_stats_ms_ = 0;
    bool stopping_ = false;
    std::uint64_t stop_deadline_ms_ = 0;
    bool sockets_force_closed_ = false;
};

// ---- Setup ------------------------------------------------------------------------------------

bool Server::start() {
    started_ms_ = now_ms();
    // Concurrency 1: one thread ever waits on this port.
    port_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (!port_) {
        log_error("CreateIoCompletionPort", GetLastError());
        return false;
    }
    if (!post_to_port_on_console_stop(port_))
        return false;

    // Everything the server will ever hold for its clients is allocated here, once.
    const auto slots = static_cast<std::size_t>(options_.max_clients);
    clients_ = std::make_unique<Client[]>(slots);
    receive_space_ = std::make_unique<ReceiveSpace>(slots, kRecvBufferBytes);
    for (int i = options_.max_clients - 1; i >= 0; --i) {
        receive_space_->give(clients_[i], static_cast<std::size_t>(i));
        clients_[i].next_free = free_head_;
        free_head_ = static_cast<std::uint32_t>(i);
    }
    to_flush_.reserve(slots);
    to_read_.reserve(slots);
    to_drop_.reserve(slots);
    to_redraw_.reserve(slots);
    accepts_ = std::make_unique<PendingAccept[]>(static_cast<std::size_t>(options_.accepts));

    if (!listen_on_port())
        return false;
    for (int i = 0; i < options_.accepts; ++i)
        post_accept(accepts_[i]);

    std::printf("listening on %s port %d (%s mode, max-clients %d, accepts %d, send-limit %d, line-rate %d, "
                "line-burst %d, keepalive %d%s)\n",
                options_.bind, options_.port, options_.echo ? "echo" : "chat", options_.max_clients,
                options_.accepts, options_.send_limit, options_.line_rate, options_.line_burst, options_.keepalive_s,
                skip_on_success_ ? ", skip-on-success" : "");
    next_stats_ms_ = started_ms_ + static_cast<std::uint64_t>(options_.stats_seconds) * 1000;
    return true;
}

bool Server::listen_on_port() {
    SOCKADDR_STORAGE address;
    int address_length = 0;
    if (!parse_address(options_.bind, options_.port, address, address_length)) {
        std::fprintf(stderr, "error: --bind %s is not an IPv4 or IPv6 address\n", options_.bind);
        return false;
    }
    listen_family_ = address.ss_family;
    listener_ = open_overlapped_socket(listen_family_);
    if (listener_ == INVALID_SOCKET) {
        log_error("WSASocket", static_cast<DWORD>(WSAGetLastError()));
        return false;
    }
    ++counters_.sockets;
    // An IPv6 socket is IPv6-only on Windows unless told otherwise: `--bind ::` serves IPv4 too.
    if (listen_family_ == AF_INET6) {
        DWORD v6_only = 0;
        setsockopt(listener_, IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<const char*>(&v6_only), sizeof v6_only);
    }
    // No other process may bind this port while we hold it (no SO_REUSEADDR port stealing).
    BOOL exclusive = TRUE;
    setsockopt(listener_, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&exclusive),
               sizeof exclusive);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), address_length) == SOCKET_ERROR) {
        const DWORD error = static_cast<DWORD>(WSAGetLastError());
        std::fprintf(stderr, "error: cannot listen on %s port %d: bind failed: %s\n", options_.bind,
                     options_.port, error_text(error).c_str());
        return false;
    }
    // A burst of connects must queue, not be refused. listen(SOMAXCONN) gives a backlog of about
    // 200 on Windows, which answers the SYNs past it with a reset; SOMAXCONN_HINT asks for more.
    if (listen(listener_, SOMAXCONN_HINT(kListenBacklog)) == SOCKET_ERROR) {
        log_error("listen", static_cast<DWORD>(WSAGetLastError()));
        return false;
    }
    if (!CreateIoCompletionPort(reinterpret_cast<HANDLE>(listener_), port_, kListenerKey, 0)) {
        log_error("CreateIoCompletionPort(listener)", GetLastError());
        return false;
    }
    skip_on_success_ = provider_allows_skip_on_success(listener_);
    return load_extension(listener_, WSAID_ACCEPTEX, accept_ex_) &&
           load_extension(listener_, WSAID_GETACCEPTEXSOCKADDRS, get_accept_ex_sockaddrs_);
}

// ---- Accept -------------------------------------------------------------------------------------

// Posts one AcceptEx on a fresh socket. One that cannot be posted stays idle and is retried on the
// next tick, so the listener never stops for good.
void Server::post_accept(PendingAccept& accept) {
    accept.socket = open_overlapped_socket(listen_family_);
    if (accept.socket == INVALID_SOCKET) {
        log_error("WSASocket(accept)", static_cast<DWORD>(WSAGetLastError()));
        return;
    }
    ++counters_.sockets;
    accept.op = Operation{};
    accept.op.type = OP_ACCEPT;
    accept.op.in_flight = true;
    ++accepts_posted_;
    // Receive length 0: the accept completes on connect, not on the client's first bytes (a telnet
    // user who connects and types nothing must not hold an accept hostage).
    DWORD bytes = 0;
    if (!accept_ex_(listener_, accept.socket, accept.addresses, 0, kAcceptAddressBytes, kAcceptAddressBytes,
                    &bytes, &accept.op.overlapped)) {
        const DWORD error = static_cast<DWORD>(WSAGetLastError());
        if (error != ERROR_IO_PENDING) {
            // An immediate failure queues no completion: undo the bookkeeping here, once.
            log_error("AcceptEx", error);
            accept.op.in_flight = false;
            --accepts_posted_;
            close_counted(accept.socket, Close::Abortive);
        }
    }
    // An immediate success also queues a completion: it is handled there, like a pending one.
}

void Server::on_accept_done(PendingAccept& accept, DWORD error) {
    assert(accept.op.in_flight && accepts_posted_ > 0);
    accept.op.in_flight = false;
    --accepts_posted_;
    SOCKET socket = accept.socket;
    accept.socket = INVALID_SOCKET;
    if (stopping_) {  // cancelled by the shutdown
        close_counted(socket, Close::Abortive);
        return;
    }
    if (error != 0) {
        // This one connection failed (the peer reset before we took it): the listener is fine.
        if (!options_.quiet)
            std::printf("accept failed: %s\n", error_text(error).c_str());
        close_counted(socket, Close::Abortive);
        post_accept(accept);
        return;
    }
    // The accepted socket inherits the listener's properties only after this.
    setsockopt(socket, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener_),
               sizeof listener_);
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_length = 0, remote_length = 0;
    get_accept_ex_sockaddrs_(accept.addresses, 0, kAcceptAddressBytes, kAcceptAddressBytes, &local,
                             &local_length, &remote, &remote_length);
    const std::string peer = remote ? format_address(remote) : std::string("?");
    const std::string address = remote ? format_host(remote) : std::string("?");
    post_accept(accept);  // re-arm first: the pool stays full while this client is set up
    admit(socket, peer.c_str(), address.c_str());
}

// A slot for the new connection, or a refusal.
void Server::admit(SOCKET socket, const char* peer, const char* address) {
    const auto held = options_.max_per_ip > 0 ? per_address_.find(address) : per_address_.end();
    if (held != per_address_.end() && held->second >= options_.max_per_ip) {
        ++counters_.refused_per_ip;
        refuse(socket, peer, proto::kErrTooManyFromAddress, "too many connections from the address");
        return;
    }
    if (free_head_ == kNoSlot) {
        ++counters_.refused;
        refuse(socket, peer, proto::kErrServerFull, "server full");
        return;
    }
    const std::uint32_t slot = free_head_;
    // The key names the slot: every completion on this socket comes back with it.
    if (!CreateIoCompletionPort(reinterpret_cast<HANDLE>(socket), port_, slot, 0)) {
        log_error("CreateIoCompletionPort(client)", GetLastError());
        close_counted(socket, Close::Abortive);
        return;
    }
    Client& client = clients_[slot];
    assert(client.state == SlotState::Free && client.pending == 0);
    free_head_ = client.next_free;
    client.next_free = kNoSlot;
    ++slots_in_use_;
    ++client.generation;
    client.state = SlotState::Open;
    client.socket = socket;
    std::snprintf(client.peer, sizeof client.peer, "%s", peer);
    std::snprintf(client.address, sizeof client.address, "%s", address);
    if (options_.max_per_ip > 0)
        ++per_address_[address];  // an entry only while the address holds a connection
    client.skip_completion_on_success = skip_on_success_ && skip_completion_port_on_success(socket);
    client.terminal = term::Terminal(&cp949_);
    client.lines = TokenBucket(options_.line_rate, options_.line_burst);
    if (options_.keepalive_s > 0)
        set_keepalive(socket, options_.keepalive_s);
    set_no_delay(socket);
    setsockopt(socket, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&kSocketSendBufferBytes),
               sizeof kSocketSendBufferBytes);
    ++counters_.accepted;
    client.joined = true;
    counters_.peak = std::max(counters_.peak, ++counters_.online);
    if (!options_.echo)
        room_.join(slot);  // named, placed, welcomed, announced
    if (!options_.quiet)
        std::printf("connect slot=%u nick=%s peer=%s online=%zu\n", slot,
                    options_.echo ? "-" : std::string(room_.nick(slot)).c_str(), client.peer, counters_.online);
    read_later(client);
}

// No room for it: say why and close gracefully. The socket is fresh and its send buffer empty,
// so this one short blocking send cannot stall the loop.
void Server::refuse(SOCKET socket, const char* peer, std::string_view line, const char* reason) {
    if (!options_.quiet)
        std::printf("refused peer=%s reason=%s\n", peer, reason);
    wire_.clear();
    proto::append_wire_line(wire_, line);
    ::send(socket, wire_.data(), static_cast<int>(wire_.size()), 0);
    close_counted(socket, Close::Graceful);
}

// ---- Receive ------------------------------------------------------------------------------------

// The next receive is not posted the moment one completes: the client waits in `to_read_` until
// the replies to what it sent have gone out at the end of the loop turn (see run). A request-reply
// peer has often answered by then, so the receive completes at once instead of waiting in the
// kernel, and is handled on the spot. Oldest first, and at most kReadsPerTurn: a turn stays short
// however many clients are busy, so accepts and other completions are taken often.
void Server::read_deferred() {
    for (std::size_t n = std::min(to_read_.size(), kReadsPerTurn); n > 0; --n) {
        Client& client = clients_[to_read_.pop()];  // its occupant may have changed meanwhile
        if (client.state == SlotState::Open && !client.recv_op.in_flight && !client.reading_paused &&
            client.paused_since_ms == 0)
            post_recv(client);
    }
}

// Posts the client's one receive. One that completes at once (skip-on-success) is handled right
// here, and the client goes to the back of the read queue, so one flooding client cannot starve
// the rest.
void Server::post_recv(Client& client) {
    DWORD bytes = 0, error = 0;
    ++counters_.recv_calls;
    const std::uint64_t started_us = clock_.us();
    const Posted posted = client.post_recv(bytes, error);
    counters_.recv_us += clock_.us() - started_us;
    switch (posted) {
    case Posted::Pending: break;
    case Posted::Failed: drop(client, disconnect_reason(error)); break;
    case Posted::DoneNow:
        ++counters_.recv_at_once;
        if (on_recv_done(client, bytes, 0))
            read_later(client);
        break;
    }
}

// Returns true when the client should be read from again.
bool Server::on_recv_done(Client& client, DWORD bytes, DWORD error) {
    if (client.state != SlotState::Open)
        return false;  // closing: nothing new is taken in
    if (error != 0) {
        drop(client, disconnect_reason(error));
        return false;
    }
    if (bytes == 0) {  // the peer closed its side (or half-closed it): it still gets what it is owed
        close_when_drained(client, "peer closed");
        return false;
    }
    counters_.bytes_in += bytes;
    if (options_.echo) {
        queue_bytes(client, client.recv_buffer, bytes);
        // Flow control instead of drops: read again only while the echoes fit under the limit.
        if (client.out.unsent() + kRecvBufferBytes > static_cast<std::size_t>(options_.send_limit)) {
            client.reading_paused = true;
            return false;
        }
        return true;
    }
    return feed(client, client.recv_buffer, bytes, true);
}

// Hands received bytes to the client's terminal. Returns true when all were taken and the client
// should be read from again. When it has spent its input budget, the rest waits in its receive
// buffer (no new receive is posted meanwhile, so the OS holds whatever else it sends and TCP slows
// it down) until resume_paced() feeds it: nothing is lost, nobody else waits.
bool Server::feed(Client& client, const char* data, std::size_t size, bool fresh_receive) {
    struct Sink {
        Server& server;
        Client& client;
        bool on_line(std::string_view line) { return server.on_line(client, line); }
        bool on_line_too_long() {
            server.send(server.slot_of(client), proto::kErrLineTooLong);
            return server.after_line(client);
        }
        void reply(std::string_view bytes) { server.queue_bytes(client, bytes.data(), bytes.size()); }
        bool on_key(term::Key key) { return server.on_key(client, key); }
    } sink{*this, client};
    const bool all = fresh_receive ? client.terminal.feed(data, size, sink) : client.terminal.resume(data, size, sink);
    if (client.terminal.take_resized() && client.state == SlotState::Open)
        on_resize(client);
    if (all || client.state != SlotState::Open || client.paused_since_ms == 0)
        return all;  // all taken, or it quit or is being dropped
    client.unread_begin = static_cast<std::uint32_t>(data + client.terminal.consumed() - client.recv_buffer);
    client.unread_end = static_cast<std::uint32_t>(data + size - client.recv_buffer);
    paced_.push({client.lines.ready_at(now_ms()), slot_of(client), client.generation});
    return false;
}

// Returns false when the rest of the client's input is not to be read now: it is leaving, or it
// has spent its budget.
bool Server::on_line(Client& client, std::string_view line) {
    ++counters_.lines_in;
    if (room_.on_line(slot_of(client), line) == chat::After::Quit)
        close_when_drained(client, "quit");
    return after_line(client);
}

// A key of the board view: an arrow is a move, Esc Esc the line view again. Each costs the
// budget a line does.
bool Server::on_key(Client& client, term::Key key) {
    if (key == term::Key::Leave)
        toggle_board_view(slot_of(client));
    else
        room_.move(slot_of(client), proto::kSteps[static_cast<int>(key)]);
    return after_line(client);
}

// Every line costs one of the client's budget, an over-long one too.
bool Server::after_line(Client& client) {
    if (client.state != SlotState::Open)
        return false;
    if (client.lines.spend(now_ms()))
        return true;
    client.paused_since_ms = now_ms();
    ++counters_.throttled;
    return false;
}

// Clients whose budget has refilled get the rest of their input, then are read from again.
void Server::resume_paced() {
    const std::uint64_t now = now_ms();
    while (!paced_.empty() && paced_.top().due_ms <= now) {
        const Paced due = paced_.top();
        paced_.pop();
        Client& client = clients_[due.slot];
        if (client.generation != due.generation || client.state != SlotState::Open || client.paused_since_ms == 0)
            continue;  // gone since, or closing: its input does not matter any more
        counters_.throttled_ms += now - client.paused_since_ms;
        client.paused_since_ms = 0;
        if (feed(client, client.recv_buffer + client.unread_begin, client.unread_end - client.unread_begin, false))
            read_later(client);
    }
}

// ---- The board view (/play; play.h draws it) -----------------------------------------------------

// /play needs a terminal the server echoes to: its screen is the server's to draw. Asked again (or
// Esc Esc), the line view comes back.
void Server::toggle_board_view(chat::MemberId member) {
    Client& client = clients_[member];
    if (client.wants_board) {
        client.wants_board = false;
        show_lines(client, "* line view - /play brings the board back");
    } else if (!client.terminal.echoing()) {
        send(member, proto::kErrPlayNeedsTerminal);
        send(member, proto::kPlayHint);
    } else {
        client.wants_board = true;
        show_board(client);
    }
}

// The whole view drawn, or the line view with a note when the window is too small for it.
void Server::show_board(Client& client) {
    const int width = client.terminal.width(), height = client.terminal.height();
    if (!play::fits(width, height)) {
        char note[160];
        std::snprintf(note, sizeof note, "* the board needs a window of %dx%d, this one is %dx%d: line view until it grows",
                      play::kMinWidth, play::kMinHeight, width, height);
        show_lines(client, note);
        return;
    }
    std::string bytes;
    views_.open(room_, slot_of(client), width, height, bytes);
    redrawn(client, term::View::Board, bytes);
    // The chat so far, as many lines as the region shows over the typed line.
    for (const std::string& line : room_.recent(static_cast<std::size_t>(height - play::kChatTop)))
        send(slot_of(client), line);
}

void Server::show_lines(Client& client, std::string_view note) {
    if (views_.viewing(slot_of(client))) {
        std::string bytes;
        views_.close(slot_of(client), &bytes);
        redrawn(client, term::View::Lines, bytes);
    }
    send(slot_of(client), note);
}

// The window cleared and drawn for `view` by `bytes`: the typed line, which went with it, is
// drawn again at the end of the turn, in the view's way.
void Server::redrawn(Client& client, term::View view, const std::string& bytes) {
    queue_bytes(client, bytes.data(), bytes.size());
    client.terminal.set_view(view);
    if (client.terminal.input_hidden())
        to_redraw_.push(slot_of(client));
}

// A new window size (NAWS): the view is drawn again for it, or given up while it is too small.
void Server::on_resize(Client& client) {
    if (!client.wants_board)
        return;
    const bool viewing = views_.viewing(slot_of(client));
    if (viewing || play::fits(client.terminal.width(), client.terminal.height()))
        show_board(client);
}

void Server::write(chat::MemberId viewer, std::string_view bytes) {
    queue_bytes(clients_[viewer], bytes.data(), bytes.size());
}

// The board views draw the move; every other member gets the MOVE line (only the mover, for a
// bump at the edge).
void Server::moved(chat::MemberId who, chat::Square from, chat::Square to, std::string_view line) {
    if (from == to) {
        if (!views_.viewing(who))
            send(who, line);
        return;
    }
    views_.moved(room_, who, from, to, *this);
    broadcast_to(line, chat::kNobody, Audience::LineViews);
}

void Server::roster_changed(chat::MemberId who, chat::Square square) {
    views_.roster_changed(room_, who, square, *this);
}

// ---- Send ---------------------------------------------------------------------------------------

void Server::send(chat::MemberId to, std::string_view line) {
    Client& client = clients_[to];
    wire_.clear();
    proto::append_wire_line(wire_, client.terminal.encoding() == proto::Encoding::Utf8 ? line
                                                                                      : client.terminal.to_client(line));
    ++counters_.lines_out;
    queue_line(client, wire_);
}

// The line is encoded once for each encoding in use; each member gets a copy of the bytes in its
// own queue.
void Server::broadcast(std::string_view line, chat::MemberId except) {
    broadcast_to(line, except, Audience::Everyone);
}

void Server::broadcast_to(std::string_view line, chat::MemberId except, Audience audience) {
    wire_.clear();
    proto::append_wire_line(wire_, line);
    cp949_wire_.clear();
    for (chat::MemberId member : room_.members()) {
        if (member == except || (audience == Audience::LineViews && views_.viewing(member)))
            continue;
        Client& client = clients_[member];
        if (client.terminal.encoding() == proto::Encoding::Cp949 && cp949_wire_.empty())
            proto::append_wire_line(cp949_wire_, client.terminal.to_client(line));
        ++counters_.lines_out;
        queue_line(client, client.terminal.encoding() == proto::Encoding::Utf8 ? wire_ : cp949_wire_);
    }
}

// A line for a client whose terminal the server echoes to goes above the line it is typing: the
// first line of a turn takes that off the screen, and it is drawn again once the turn's lines are
// queued (redraw_inputs), so many lines cost one erase and one redraw.
void Server::queue_line(Client& client, const std::string& wire) {
    if (client.terminal.echoing() && !client.terminal.input_hidden()) {
        const std::string erase = client.terminal.hide_input();
        if (!erase.empty()) {
            queue_bytes(client, erase.data(), erase.size());
            to_redraw_.push(slot_of(client));
        }
    }
    queue_bytes(client, wire.data(), wire.size());
}

void Server::redraw_inputs() {
    while (!to_redraw_.empty()) {
        Client& client = clients_[to_redraw_.pop()];
        const std::string input = client.terminal.show_input();
        queue_bytes(client, input.data(), input.size());
    }
}

void Server::set_encoding(chat::MemberId member, proto::Encoding encoding) {
    clients_[member].terminal.set_encoding(encoding);
}

// Queues bytes for a client; the send itself starts at the end of the loop turn, so everything
// queued meanwhile leaves in one WSASend.
void Server::queue_bytes(Client& client, const char* data, std::size_t size) {
    if (!client.is_live())
        return;
    // A client that does not read would make us hold its lines without bound: past the limit it
    // is dropped, and nobody else waits for it.
    if (client.out.unsent() + size > static_cast<std::size_t>(options_.send_limit)) {
        ++counters_.slow_dropped;
        drop(client, "slow consumer");
        return;
    }
    client.out.queue(data, size);
    if (!client.send_op.in_flight)
        to_flush_.push(slot_of(client));
}

// Oldest first, and at most kSendsPerFlush. A chat line for 1,000 members is 1,000 WSASends,
// about 130 ms under Wine 8: the loop takes the lines that came meanwhile between slices of
// them, and those join the queues of the members not sent to yet, so a line reaches everyone
// within one pass over the members instead of waiting for the pass before it to end first.
void Server::flush_sends() {
    // A send that completes at once may queue more (to the back): pop, not iterate.
    for (std::size_t n = std::min(to_flush_.size(), kSendsPerFlush); n > 0; --n) {
        Client& client = clients_[to_flush_.pop()];
        if (client.is_live() && client.out.start())
            post_send(client);
    }
}

// Sends what `out` holds. A send the OS takes at once (skip-on-success) queues no completion: it
// is finished here, and the next one posted if more is waiting.
void Server::post_send(Client& client) {
    for (;;) {
        DWORD bytes = 0, error = 0;
        ++counters_.send_calls;
        const std::uint64_t started_us = clock_.us();
        const Posted posted = client.post_send(bytes, error);
        counters_.send_us += clock_.us() - started_us;
        switch (posted) {
        case Posted::Pending: return;
        case Posted::Failed: drop(client, disconnect_reason(error)); return;
        case Posted::DoneNow:
            ++counters_.send_at_once;
            if (!on_send_done(client, bytes, 0))
                return;
        }
    }
}

// Returns true when another send should be posted at once (the rest of a short send, or what was
// queued while this one was in flight).
bool Server::on_send_done(Client& client, DWORD bytes, DWORD error) {
    if (!client.is_live())
        return false;
    if (error != 0) {
        drop(client, disconnect_reason(error));
        return false;
    }
    counters_.bytes_out += bytes;
    if (client.out.on_sent(bytes))
        return true;
    if (client.state == SlotState::Draining) {
        close_client(client, Close::Graceful);
    } else if (client.reading_paused &&
               client.out.unsent() + kRecvBufferBytes <= static_cast<std::size_t>(options_.send_limit)) {
        client.reading_paused = false;
        read_later(client);
    }
    return false;
}

// ---- Close and slot reuse -----------------------------------------------------------------------

// The client is no longer online: logged, and gone from the room (announced unless the server is
// stopping). Its socket is the caller's business.
void Server::leave(Client& client, const char* reason) {
    if (!client.joined)
        return;
    client.joined = false;
    --counters_.online;
    const std::uint32_t slot = slot_of(client);
    if (!options_.quiet)
        std::printf("disconnect slot=%u nick=%s peer=%s reason=%s online=%zu\n", slot,
                    options_.echo ? "-" : std::string(room_.nick(slot)).c_str(), client.peer, reason,
                    counters_.online);
    if (!options_.echo) {
        views_.close(slot, nullptr);  // before the room tells the views: it is one of them no more
        room_.leave(slot, !stopping_);
    }
}

// Draining: nothing more is read; the socket closes gracefully once the last queued byte is out.
void Server::close_when_drained(Client& client, const char* reason) {
    if (client.state != SlotState::Open)
        return;
    leave(client, reason);
    client.state = SlotState::Draining;
    if (!client.send_op.in_flight && !client.out.has_queued())
        close_client(client, Close::Graceful);
}

// Dropping: closed abortively at the end of the turn (close_dropped), never in the middle of a
// broadcast that walks the member list.
void Server::drop(Client& client, std::string reason) {
    if (!client.is_live())
        return;
    client.state = SlotState::Dropping;
    if (reason == "keepalive timeout")
        ++counters_.keepalive_closed;
    client.drop_reason = std::move(reason);
    to_drop_.push(slot_of(client));
}

void Server::close_dropped() {
    while (!to_drop_.empty()) {  // leave() may announce, and an announcement may drop more
        Client& client = clients_[to_drop_.pop()];
        if (client.state != SlotState::Dropping)
            continue;
        leave(client, client.drop_reason.c_str());
        close_client(client, Close::Abortive);
    }
}

// The socket is closed now; the slot waits in Closed for the completions of what was posted
// (closing cancels them), and is released when the last one is back.
void Server::close_client(Client& client, Close how) {
    if (client.state == SlotState::Free || client.state == SlotState::Closed)
        return;
    leave(client, "closed");
    close_counted(client.socket, how);
    client.state = SlotState::Closed;
    if (client.pending == 0)
        release_slot(client);
}

// Back on the free list only now: socket closed and nothing posted on it left to complete.
void Server::release_slot(Client& client) {
    assert(client.state == SlotState::Closed && client.pending == 0 && client.socket == INVALID_SOCKET);
    assert(!client.recv_op.in_flight && !client.send_op.in_flight && !client.joined);
    client.out.reset(kKeepBufferBytes);
    client.state = SlotState::Free;
    client.reading_paused = false;
    if (client.paused_since_ms != 0)
        counters_.throttled_ms += now_ms() - client.paused_since_ms;
    client.paused_since_ms = 0;
    client.drop_reason.clear();
    client.wants_board = false;
    client.terminal = term::Terminal();
    if (options_.max_per_ip > 0) {
        const auto count = per_address_.find(client.address);
        if (count != per_address_.end() && --count->second == 0)
            per_address_.erase(count);
    }
    client.next_free = free_head_;
    free_head_ = slot_of(client);
    --slots_in_use_;
}

void Server::close_counted(SOCKET& socket, Close how) {
    close_socket(socket, how);
    --counters_.sockets;
}

// ---- The main loop --------------------------------------------------------------------------------

void Server::dispatch(const OVERLAPPED_ENTRY& entry) {
    if (entry.lpOverlapped == nullptr) {  // posted by the console handler, not an I/O
        if (entry.lpCompletionKey == kStopKey)
            begin_shutdown();
        return;
    }
    Operation& op = *operation_of(entry.lpOverlapped);
    switch (op.type) {
    case OP_ACCEPT: {
        // Accepts complete with the listener's key: the OVERLAPPED says which accept this was.
        // After the shutdown has closed the listener, there is no socket to ask for the status
        // (WSAGetOverlappedResult needs the one the operation was started on): it was cancelled.
        PendingAccept& accept = *CONTAINING_RECORD(&op, PendingAccept, op);
        on_accept_done(accept, listener_ == INVALID_SOCKET ? static_cast<DWORD>(WSA_OPERATION_ABORTED)
                                                           : completion_error(listener_, entry.lpOverlapped));
        break;
    }
    case OP_RECV:
    case OP_SEND:
        if (entry.lpCompletionKey >= static_cast<ULONG_PTR>(options_.max_clients)) {
            std::fprintf(stderr, "error: completion with unknown key %llu ignored\n",
                         static_cast<unsigned long long>(entry.lpCompletionKey));
            return;
        }
        on_client_io(clients_[entry.lpCompletionKey], op, entry.dwNumberOfBytesTransferred);
        break;
    case OP_CONNECT:
        break;  // the server connects nowhere
    }
}

void Server::on_client_io(Client& client, Operation& op, DWORD bytes) {
    // A slot is reused only when nothing is pending on it, so this cannot happen; if it ever
    // did, the completion belongs to a previous occupant and must not touch the new one.
    if (op.generation != client.generation || client.state == SlotState::Free || !op.in_flight) {
        std::fprintf(stderr, "error: stale completion for slot %u ignored\n", slot_of(client));
        return;
    }
    client.completed(op);
    if (client.state == SlotState::Closed) {  // cancelled by our own close
        if (client.pending == 0)
            release_slot(client);
        return;
    }
    // Error 64 also comes back for I/O our own closesocket cancelled; the slot state above is
    // what tells the two apart, not the code.
    const DWORD error = completion_error(client.socket, &op.overlapped);
    if (op.type == OP_RECV) {
        if (on_recv_done(client, bytes, error))
            read_later(client);
    } else if (on_send_done(client, bytes, error)) {
        post_send(client);
    }
}

void Server::begin_shutdown() {
    if (stopping_)
        return;
    stopping_ = true;
    stop_deadline_ms_ = now_ms() + kShutdownFlushMs;
    std::printf("shutting down: %zu online\n", counters_.online);
    // Stop accepting: closing the listener cancels every posted AcceptEx; their completions
    // come back failed and on_accept_done closes their sockets.
    close_counted(listener_, Close::Abortive);
    for (int i = 0; i < options_.max_clients; ++i) {
        Client& client = clients_[i];
        if (client.state != SlotState::Open)
            continue;
        if (!options_.echo)
            send(static_cast<chat::MemberId>(i), proto::kShutdownNotice);
        close_when_drained(client, "server shutdown");
    }
}

void Server::on_tick() {
    const std::uint64_t now = now_ms();
    if (stopping_) {
        if (!sockets_force_closed_ && now >= stop_deadline_ms_) {
            // The flush time is up: whoever has not taken their last lines is cut off.
            sockets_force_closed_ = true;
            for (int i = 0; i < options_.max_clients; ++i)
                close_client(clients_[i], Close::Abortive);
        }
        return;
    }
    for (int i = 0; i < options_.accepts; ++i)
        if (!accepts_[i].op.in_flight)
            post_accept(accepts_[i]);
    if (options_.stats_seconds > 0 && now >= next_stats_ms_) {
        next_stats_ms_ = now + static_cast<std::uint64_t>(options_.stats_seconds) * 1000;
        std::printf("stats %s\n", stats_text().c_str());
    }
}

// One turn: take a batch of completions, then the deferred work, in this order: abortive closes
// of what failed, the replies (one WSASend per client with everything queued), the receives that
// were held back for those replies, and what their at-once completions answered.
int Server::run() {
    OVERLAPPED_ENTRY entries[kCompletionBatch];
    std::uint64_t next_tick_ms = now_ms() + kTickMs;
    while (!finished()) {
        std::fflush(stdout);
        ++counters_.dequeues;
        const int count = dequeue(port_, entries, kCompletionBatch, wait_ms());
        if (count < 0)
            return 1;
        const std::uint64_t turn_started_us = clock_.us();
        for (int i = 0; i < count; ++i) {
            dispatch(entries[i]);
            close_dropped();
        }
        resume_paced();
        redraw_inputs();
        flush_sends();
        read_deferred();
        redraw_inputs();
        flush_sends();
        close_dropped();  // a receive or send that failed at once
        count_turn(clock_.us() - turn_started_us);
        const std::uint64_t now = now_ms();
        if (now >= next_tick_ms || stopping_) {
            next_tick_ms = now + kTickMs;
            on_tick();
        }
        if (stopping_ && now >= stop_deadline_ms_ + kShutdownDrainMs) {
            std::fprintf(stderr, "error: %d slots and %d accepts still had I/O pending; exiting anyway\n",
                         slots_in_use_, accepts_posted_);
            break;
        }
    }
    std::printf("stopped: %s\n", stats_text().c_str());
    std::fflush(stdout);
    signal_console_stop_finished();
    return 0;
}


// How long the loop may sleep: not at all while clients wait to be read from or sent to (no
// completion may come for them), until the first paced client may go on, else until the next tick.
DWORD Server::wait_ms() const {
    if (!to_read_.empty() || !to_flush_.empty())
        return 0;
    std::uint64_t wait = stopping_ ? kShutdownTickMs : kTickMs;
    if (!paced_.empty()) {
        const std::uint64_t now = now_ms(), due = paced_.top().due_ms;
        wait = std::min(wait, due > now ? due - now : 0);
    }
    return static_cast<DWORD>(wait);
}

std::string Server::stats_text() {
    DWORD handles = 0;
    GetProcessHandleCount(GetCurrentProcess(), &handles);
    PROCESS_MEMORY_COUNTERS memory{};
    GetProcessMemoryInfo(GetCurrentProcess(), &memory, sizeof memory);
    auto n = [](std::uint64_t value) { return static_cast<unsigned long long>(value); };
    char text[1024];
    std::snprintf(text, sizeof text,
                  "online=%llu peak=%llu accepted=%llu lines_in=%llu lines_out=%llu bytes_in=%llu bytes_out=%llu "
                  "slow_dropped=%llu sockets=%ld handles=%lu mem_kb=%llu uptime_s=%llu "
                  "recv_calls=%llu recv_at_once=%llu send_calls=%llu send_at_once=%llu dequeues=%llu "
                  "line_rate=%d line_burst=%d throttled=%llu throttled_ms=%llu refused_full=%llu refused_per_ip=%llu "
                  "keepalive_closed=%llu turns=%llu turn_us=%llu turn_max_us=%llu recv_us=%llu send_us=%llu board_views=%llu",
                  n(counters_.online), n(counters_.peak), n(counters_.accepted), n(counters_.lines_in),
                  n(counters_.lines_out), n(counters_.bytes_in), n(counters_.bytes_out), n(counters_.slow_dropped),
                  counters_.sockets, static_cast<unsigned long>(handles), n(memory.WorkingSetSize / 1024),
                  n((now_ms() - started_ms_) / 1000), n(counters_.recv_calls), n(counters_.recv_at_once),
                  n(counters_.send_calls), n(counters_.send_at_once), n(counters_.dequeues), options_.line_rate,
                  options_.line_burst, n(counters_.throttled), n(counters_.throttled_ms), n(counters_.refused),
                  n(counters_.refused_per_ip), n(counters_.keepalive_closed), n(counters_.turns), n(counters_.turn_us),
                  n(counters_.turn_max_us), n(counters_.recv_us), n(counters_.send_us), n(views_.count()));
    return text;
}

}  // namespace

// ---- main -------------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    Options options;
    const std::vector<Option> option_table = {
        Option::Number("--port", options.port, 1, 65535),
        Option::Text("--bind", options.bind),
        Option::Number("--max-clients", options.max_clients, 1, 1000000),
        Option::Number("--accepts", options.accepts, 1, 4096),
        Option::Number("--send-limit", options.send_limit, static_cast<int>(kRecvBufferBytes), 1 << 30),
        Option::Number("--stats", options.stats_seconds, 1, 86400),
        Option::Number("--line-rate", options.line_rate, 0, 1000000),
        Option::Number("--line-burst", options.line_burst, 1, 1000000),
        Option::Number("--max-per-ip", options.max_per_ip, 1, 1000000),
        Option::Number("--keepalive", options.keepalive_s, 0, 86400),
        Option::Flag("--echo", options.echo),
        Option::Flag("--quiet", options.quiet),
    };
    const int exit_code = parse_options(argc, argv, option_table, kUsage, nullptr);
    if (exit_code != kOptionsOk)
        return exit_code;
    static char stdout_buffer[kStdoutBufferBytes];  // flushed once per loop turn, not per line
    std::setvbuf(stdout, stdout_buffer, _IOFBF, sizeof stdout_buffer);

    WinsockSession winsock;
    if (!winsock.ok())
        return 1;
    Server server(options);
    if (!server.start()) {
        std::fflush(stdout);
        return 1;
    }
    return server.run();
}

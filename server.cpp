// server.cpp - a single-threaded completion-port (IOCP) chat-and-board server.
//
// One thread, one completion port, one loop: GetQueuedCompletionStatusEx hands back finished
// operations and the loop switches on what each one was (OP_ACCEPT, OP_RECV, OP_SEND). Connections
// are accepted by a pool of AcceptEx calls on pre-created sockets and live in a fixed array of
// client slots; the completion key of a client's socket is the index of its slot.
//
// The file reads in the order a connection lives: types, setup, accept, receive, commands, send,
// disconnect and slot reuse, the main loop, main().
#include "iocp.h"
#include "protocol.h"

#include <psapi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

// ---- Constants --------------------------------------------------------------------------------

constexpr DWORD kRecvBufferBytes = 4096;
constexpr ULONG kCompletionBatch = 64;  // completions taken per GetQueuedCompletionStatusEx call
constexpr DWORD kTickMs = 1000;         // housekeeping: stats line, re-arming accepts that failed to post
constexpr DWORD kShutdownTickMs = 50;
constexpr std::uint64_t kShutdownFlushMs = 2000;  // how long clients get to take their last lines
constexpr std::uint64_t kShutdownDrainMs = 5000;  // then how long closed sockets get to report back
// AcceptEx writes each address with 16 bytes of its own beside it.
constexpr DWORD kAcceptAddressBytes = sizeof(SOCKADDR_STORAGE) + 16;
constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
// The OS's own send buffer per client. Left to itself it grows to a few MiB per socket, hiding a
// client that stops reading behind that much kernel memory before the send limit ever sees it.
constexpr int kSocketSendBufferBytes = 64 * 1024;
constexpr int kStdoutBufferBytes = 64 * 1024;
constexpr std::size_t kReadsPerTurn = 64;  // receives posted per loop turn (see read_deferred)

// Completion keys. A client's key is its slot index; these two can never be one.
constexpr ULONG_PTR kListenerKey = ~ULONG_PTR(0);
constexpr ULONG_PTR kStopKey = ~ULONG_PTR(0) - 1;

const char* const kUsage =
    "usage: server.exe [--port 9000] [--bind ADDR] [--max-clients 10000] [--accepts 64]\n"
    "                  [--send-limit 262144] [--echo] [--quiet] [--stats SECONDS] [--help]\n"
    "\n"
    "  --port N         TCP port to listen on (default 9000)\n"
    "  --bind ADDR      local address to listen on, IPv4 or IPv6 (default 0.0.0.0)\n"
    "  --max-clients N  client slots, allocated once (default 10000)\n"
    "  --accepts N      AcceptEx calls kept outstanding (default 64)\n"
    "  --send-limit N   unsent bytes a client may hold before it is dropped (default 262144)\n"
    "  --echo           echo server: bytes come back unchanged, nothing else\n"
    "  --quiet          no line per connect and disconnect\n"
    "  --stats N        print a counters line every N seconds\n"
    "  --help           this text\n";

const char* const kHelpLines[] = {
    "* commands:",
    "*   text            say text to everyone",
    "*   /nick NAME      change your name (1-16 of A-Z a-z 0-9 _ -)",
    "*   /who            who is online, and where",
    "*   /move DIR       move on the 8x8 board: up, down, left, right (u d l r)",
    "*   /board          show the board",
    "*   /ping TOKEN     the server answers PONG TOKEN",
    "*   /stats          server counters",
    "*   /help           this list",
    "*   /quit           leave",
};

// ---- Types ------------------------------------------------------------------------------------

struct Options {
    int port = proto::kDefaultPort;
    const char* bind = "0.0.0.0";
    int max_clients = proto::kDefaultMaxClients;
    int accepts = proto::kDefaultAccepts;
    int send_limit = proto::kDefaultSendLimit;
    int stats_seconds = 0;
    bool echo = false;
    bool quiet = false;
};

// One posted AcceptEx: its own OVERLAPPED, its pre-created socket, the buffer for the addresses.
struct AcceptSlot {
    IoContext io{};
    SOCKET socket = INVALID_SOCKET;
    bool posted = false;
    char addresses[2 * kAcceptAddressBytes];
};

enum class SlotState : std::uint8_t {
    Free,    // on the free list
    Open,    // a connected client
    Closed,  // socket closed; waiting for the completions of what was posted on it
};

// A client slot. Slots live in one array allocated at start and never moved: the OVERLAPPEDs and
// buffers below are handed to the OS while operations are in flight.
struct Client {
    IoContext recv_io{};
    IoContext send_io{};
    SOCKET socket = INVALID_SOCKET;
    SlotState state = SlotState::Free;
    std::uint32_t generation = 0;  // which occupancy of this slot; stamped on every posted operation
    int pending_io = 0;            // posted operations whose completion has not been dequeued yet
    bool recv_posted = false;
    bool send_posted = false;
    bool recv_paused = false;      // echo mode: not reading until the echoes drain
    bool close_when_sent = false;  // graceful close once everything queued has gone out
    bool in_flush_list = false;
    bool skip_completion_on_success = false;  // operations that complete at once queue nothing
    std::string drop_reason;       // non-empty: an abortive close is scheduled

    // Output: `queued` collects lines while `sending` is in flight, then the two swap. Both keep
    // their capacity, so once a client's buffers have grown to its traffic a broadcast is a memcpy
    // into each recipient's buffer: no heap allocation per recipient, no reference counts, and the
    // bytes a recipient holds are exactly what the send limit is measured on.
    std::string queued;
    std::string sending;
    std::size_t sent = 0;  // bytes of `sending` the OS has taken (short sends)

    proto::LineFramer framer;
    char nick[proto::kMaxNickBytes + 1] = {};
    int x = 0, y = 0;
    std::uint32_t online_index = kNoSlot;
    std::uint32_t next_free = kNoSlot;
    char peer[INET6_ADDRSTRLEN + 16] = {};
    char recv_buffer[kRecvBufferBytes];

    std::string_view name() const { return nick; }
    std::size_t unsent() const { return queued.size() + (sending.size() - sent); }
};

struct Counters {
    std::uint64_t accepted = 0, lines_in = 0, lines_out = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t slow_dropped = 0, refused = 0;
    // What the I/O costs: calls made, how many completed at once (no completion packet; under
    // Wine, no wake-up either), and how many GetQueuedCompletionStatusEx calls it all took.
    std::uint64_t recv_calls = 0, recv_at_once = 0, send_calls = 0, send_at_once = 0, dequeues = 0;
    std::size_t peak = 0;
    long sockets = 0;  // our own open sockets: listener, posted accepts, clients
};

class Server {
public:
    explicit Server(const Options& options) : options_(options) {}
    bool start();
    int run();

private:
    // setup
    bool listen_on_port();
    // accept path
    void post_accept(AcceptSlot& slot);
    void on_accept_done(AcceptSlot& slot, DWORD error);
    void admit(SOCKET socket, const std::string& peer);
    void refuse(SOCKET socket, const std::string& peer);
    void join(Client& client);
    // receive path
    void read_later(Client& client);
    void post_recv(Client& client);
    bool on_recv_done(Client& client, DWORD bytes, DWORD error);
    void read_deferred();
    bool on_line(Client& client, std::string_view line);
    // command handling
    void command_nick(Client& client, std::string_view name);
    void command_who(Client& client);
    void command_move(Client& client, std::string_view direction);
    void command_board(Client& client);
    void command_quit(Client& client);
    std::string stats_text();
    // send path
    void send_line(Client& client, std::string_view text);
    void broadcast(std::string_view text, const Client* except = nullptr);
    void queue_bytes(Client& client, const char* data, std::size_t size);
    void flush_sends();
    void start_send(Client& client);
    void post_send(Client& client);
    bool on_send_done(Client& client, DWORD bytes, DWORD error);
    // disconnect and slot reuse
    void leave(Client& client, const std::string& reason);
    void drop(Client& client, std::string reason);
    void close_when_drained(Client& client);
    void close_socket(Client& client, bool abortive);
    void close_dropped();
    void release_slot(Client& client);
    // main loop
    void dispatch(const OVERLAPPED_ENTRY& entry);
    void on_client_io(Client& client, IoContext& io, DWORD bytes);
    void begin_shutdown();
    void on_tick();
    bool finished() const;
    void close_socket_counted(SOCKET socket);

    std::uint32_t slot_of(const Client& client) const { return static_cast<std::uint32_t>(&client - clients_.get()); }
    bool crowd_is_small() const { return online_.size() <= static_cast<std::size_t>(proto::kCrowdNoticeLimit); }

    Options options_;
    HANDLE port_ = nullptr;
    SOCKET listener_ = INVALID_SOCKET;
    int listen_family_ = AF_INET;
    LPFN_ACCEPTEX accept_ex_ = nullptr;
    LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs_ = nullptr;

    std::unique_ptr<AcceptSlot[]> accepts_;
    int accepts_posted_ = 0;
    std::unique_ptr<Client[]> clients_;
    std::uint32_t free_head_ = kNoSlot;
    int slots_in_use_ = 0;
    std::vector<std::uint32_t> online_;      // slots of joined clients, in no particular order
    std::vector<std::uint32_t> to_flush_;    // clients with queued bytes and no send in flight
    std::vector<std::uint32_t> to_drop_;     // clients whose abortive close is scheduled
    SlotQueue to_read_;                      // clients whose next receive waits for the end of a turn
    bool skip_on_success_ = false;           // the socket provider allows skipping completions
    std::unordered_map<std::string, std::uint32_t> nicks_;  // lower-cased nick -> slot
    int board_[proto::kBoardSize][proto::kBoardSize] = {};  // pieces on each square
    std::uint64_t next_guest_ = 1;

    std::string wire_;  // scratch: one message encoded for the wire
    std::string text_;  // scratch: one message being formatted

    Counters counters_;
    std::uint64_t started_ms_ = 0;
    std::uint64_t next_stats_ms_ = 0;
    bool stopping_ = false;
    std::uint64_t stop_deadline_ms_ = 0;
    bool sockets_force_closed_ = false;
};

std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result)
        c = proto::ascii_lower(c);
    return result;
}

// What a failed receive or send means for the log line.
std::string disconnect_reason(DWORD error) {
    switch (error) {
    case 0: return "peer closed";
    case WSAECONNRESET:
    case ERROR_NETNAME_DELETED: return "reset by peer";
    case WSAECONNABORTED:
    case ERROR_CONNECTION_ABORTED: return "connection aborted";
    case WSA_OPERATION_ABORTED: return "operation aborted";
    default: return "error " + error_text(error);
    }
}

// ---- Setup ------------------------------------------------------------------------------------

bool Server::start() {
    started_ms_ = now_ms();
    // Concurrency 1: one thread ever waits on this port.
    port_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (!port_) {
        log_error("CreateIoCompletionPort", GetLastError());
        return false;
    }
    if (!post_to_port_on_console_stop(port_, kStopKey))
        return false;

    // Everything the server will ever hold for its clients is allocated here, once.
    clients_ = std::make_unique<Client[]>(static_cast<std::size_t>(options_.max_clients));
    for (int i = options_.max_clients - 1; i >= 0; --i) {
        clients_[i].next_free = free_head_;
        free_head_ = static_cast<std::uint32_t>(i);
    }
    online_.reserve(static_cast<std::size_t>(options_.max_clients));
    to_flush_.reserve(static_cast<std::size_t>(options_.max_clients));
    to_read_.reserve(static_cast<std::size_t>(options_.max_clients));
    accepts_ = std::make_unique<AcceptSlot[]>(static_cast<std::size_t>(options_.accepts));

    if (!listen_on_port())
        return false;
    for (int i = 0; i < options_.accepts; ++i)
        post_accept(accepts_[i]);

    std::printf("listening on %s port %d (%s mode, max-clients %d, accepts %d, send-limit %d%s)\n",
                options_.bind, options_.port, options_.echo ? "echo" : "chat", options_.max_clients,
                options_.accepts, options_.send_limit, skip_on_success_ ? ", skip-on-success" : "");
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
    // SOMAXCONN, not 5: a burst of connects must queue, not be refused or left half-open.
    if (listen(listener_, SOMAXCONN) == SOCKET_ERROR) {
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

// ---- Accept path --------------------------------------------------------------------------------

// Posts one AcceptEx on a fresh socket. A slot that cannot be posted stays idle and is retried on
// the next tick, so the listener never stops for good.
void Server::post_accept(AcceptSlot& slot) {
    slot.socket = open_overlapped_socket(listen_family_);
    if (slot.socket == INVALID_SOCKET) {
        log_error("WSASocket(accept)", static_cast<DWORD>(WSAGetLastError()));
        return;
    }
    ++counters_.sockets;
    slot.io = IoContext{};
    slot.io.op = OP_ACCEPT;
    slot.posted = true;
    ++accepts_posted_;
    // Receive length 0: the accept completes on connect, not on the client's first bytes (a telnet
    // user who connects and types nothing must not hold an accept hostage).
    DWORD bytes = 0;
    if (!accept_ex_(listener_, slot.socket, slot.addresses, 0, kAcceptAddressBytes, kAcceptAddressBytes,
                    &bytes, &slot.io.overlapped)) {
        const DWORD error = static_cast<DWORD>(WSAGetLastError());
        if (error != ERROR_IO_PENDING) {
            // An immediate failure queues no completion: undo the bookkeeping here, once.
            log_error("AcceptEx", error);
            slot.posted = false;
            --accepts_posted_;
            close_socket_counted(slot.socket);
            slot.socket = INVALID_SOCKET;
        }
    }
    // An immediate success also queues a completion: it is handled there, like a pending one.
}

void Server::on_accept_done(AcceptSlot& slot, DWORD error) {
    slot.posted = false;
    --accepts_posted_;
    const SOCKET socket = slot.socket;
    slot.socket = INVALID_SOCKET;
    if (stopping_) {  // cancelled by the shutdown
        close_socket_counted(socket);
        return;
    }
    if (error != 0) {
        // This one connection failed (the peer reset before we took it): the listener is fine.
        if (!options_.quiet)
            std::printf("accept failed: %s\n", error_text(error).c_str());
        close_socket_counted(socket);
        post_accept(slot);
        return;
    }
    // The accepted socket inherits the listener's properties only after this.
    setsockopt(socket, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener_),
               sizeof listener_);
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_length = 0, remote_length = 0;
    get_accept_ex_sockaddrs_(slot.addresses, 0, kAcceptAddressBytes, kAcceptAddressBytes, &local,
                             &local_length, &remote, &remote_length);
    const std::string peer = remote ? format_address(remote) : std::string("?");
    post_accept(slot);  // re-arm first: the pool stays full while this client is set up
    admit(socket, peer);
}

void Server::admit(SOCKET socket, const std::string& peer) {
    if (free_head_ == kNoSlot) {
        refuse(socket, peer);
        return;
    }
    const std::uint32_t slot = free_head_;
    // The key names the slot: every completion on this socket comes back with it.
    if (!CreateIoCompletionPort(reinterpret_cast<HANDLE>(socket), port_, slot, 0)) {
        log_error("CreateIoCompletionPort(client)", GetLastError());
        close_socket_counted(socket);
        return;
    }
    Client& client = clients_[slot];
    free_head_ = client.next_free;
    client.next_free = kNoSlot;
    ++slots_in_use_;
    ++client.generation;
    client.state = SlotState::Open;
    client.socket = socket;
    std::snprintf(client.peer, sizeof client.peer, "%s", peer.c_str());
    client.skip_completion_on_success = skip_on_success_ && skip_completion_port_on_success(socket);
    set_no_delay(socket);
    setsockopt(socket, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&kSocketSendBufferBytes),
               sizeof kSocketSendBufferBytes);
    ++counters_.accepted;
    join(client);
    read_later(client);
}

// No free slot: say so and close gracefully. The socket is fresh and its send buffer empty, so
// this one short blocking send cannot stall the loop.
void Server::refuse(SOCKET socket, const std::string& peer) {
    ++counters_.refused;
    if (!options_.quiet)
        std::printf("refused peer=%s reason=server full\n", peer.c_str());
    wire_.clear();
    proto::append_wire_line(wire_, proto::kErrServerFull);
    send(socket, wire_.data(), static_cast<int>(wire_.size()), 0);
    shutdown(socket, SD_SEND);
    close_socket_counted(socket);
}

// The new client gets a name and a square, is welcomed and announced.
void Server::join(Client& client) {
    std::string nick;
    do {
        nick = "guest" + std::to_string(next_guest_++);
    } while (nicks_.count(nick));  // someone may have taken "guestN" with /nick
    std::snprintf(client.nick, sizeof client.nick, "%s", nick.c_str());
    nicks_[nick] = slot_of(client);

    // A free square if there is one, searched from a moving start so newcomers spread out.
    const int squares = proto::kBoardSize * proto::kBoardSize;
    const int start = static_cast<int>(next_guest_ % static_cast<std::uint64_t>(squares));
    int square = start;
    for (int i = 0; i < squares; ++i) {
        const int candidate = (start + i) % squares;
        if (board_[candidate / proto::kBoardSize][candidate % proto::kBoardSize] == 0) {
            square = candidate;
            break;
        }
    }
    client.x = square % proto::kBoardSize;
    client.y = square / proto::kBoardSize;
    ++board_[client.y][client.x];

    client.online_index = static_cast<std::uint32_t>(online_.size());
    online_.push_back(slot_of(client));
    counters_.peak = std::max(counters_.peak, online_.size());
    if (!options_.quiet)
        std::printf("connect slot=%u nick=%s peer=%s online=%zu\n", slot_of(client), client.nick, client.peer,
                    online_.size());
    if (options_.echo)
        return;  // the echo server sends nothing of its own
    text_ = "* welcome " + nick + ", " + std::to_string(online_.size()) + " online - /help lists commands";
    send_line(client, text_);
    if (crowd_is_small())
        broadcast("* " + nick + " joined", &client);
}

// ---- Receive path -------------------------------------------------------------------------------

// The next receive is not posted the moment one completes: the client waits in `to_read_` until
// the replies to what it sent have gone out at the end of the loop turn (see run). A request-reply
// peer has often answered by then, so the receive completes at once instead of waiting in the
// kernel; under Wine a receive that has to wait costs three more wineserver round trips (the
// wake-up, the read, the completion) than one that completes at once.
void Server::read_later(Client& client) { to_read_.push(slot_of(client)); }

// Posts the client's one receive. In skip-on-success mode a receive that completes at once queues
// no completion: it is handled right here, exactly once, and the client goes to the back of the
// read queue, so one flooding client cannot starve the rest.
void Server::post_recv(Client& client) {
    client.recv_io = IoContext{};
    client.recv_io.op = OP_RECV;
    client.recv_io.generation = client.generation;
    WSABUF buffer{kRecvBufferBytes, client.recv_buffer};
    DWORD flags = 0, bytes = 0;
    // Published before posting: the completion may be queued before WSARecv returns.
    ++client.pending_io;
    client.recv_posted = true;
    ++counters_.recv_calls;
    if (WSARecv(client.socket, &buffer, 1, &bytes, &flags, &client.recv_io.overlapped, nullptr) == SOCKET_ERROR) {
        const DWORD error = static_cast<DWORD>(WSAGetLastError());
        if (error != WSA_IO_PENDING) {
            --client.pending_io;  // an immediate failure queues no completion
            client.recv_posted = false;
            drop(client, disconnect_reason(error));
        }
        return;
    }
    if (!client.skip_completion_on_success)
        return;  // an immediate success still queues its completion: handled there
    ++counters_.recv_at_once;
    --client.pending_io;
    if (on_recv_done(client, bytes, 0))
        read_later(client);
}

// Oldest first, and at most kReadsPerTurn of them: a turn stays short however many clients are
// busy, so accepts and other completions are taken often. A client whose receive completes at once
// goes to the back of the queue.
void Server::read_deferred() {
    for (std::size_t n = std::min(to_read_.size(), kReadsPerTurn); n > 0; --n) {
        Client& client = clients_[to_read_.pop()];  // its occupant may have changed meanwhile
        if (client.state == SlotState::Open && client.drop_reason.empty() && !client.recv_posted &&
            !client.recv_paused && !client.close_when_sent)
            post_recv(client);
    }
}

// Returns true when the client should be read from again.
bool Server::on_recv_done(Client& client, DWORD bytes, DWORD error) {
    client.recv_posted = false;
    if (!client.drop_reason.empty())
        return false;  // its close is already scheduled
    if (error != 0) {
        drop(client, disconnect_reason(error));
        return false;
    }
    if (bytes == 0) {
        // The peer closed its side (or half-closed it): it still gets what it is owed.
        if (client.online_index != kNoSlot)
            leave(client, "peer closed");
        close_when_drained(client);
        return false;
    }
    if (stopping_)
        return false;  // nothing new is taken in; the socket closes once its last lines are out
    counters_.bytes_in += bytes;

    if (options_.echo) {
        queue_bytes(client, client.recv_buffer, bytes);
        // Flow control instead of drops: read again only while the echoes fit under the limit.
        if (client.unsent() + kRecvBufferBytes > static_cast<std::size_t>(options_.send_limit)) {
            client.recv_paused = true;
            return false;
        }
        return true;
    }

    struct Sink {
        Server& server;
        Client& client;
        bool on_line(std::string_view line) { return server.on_line(client, line); }
        bool on_line_too_long() {
            server.send_line(client, proto::kErrLineTooLong);
            return client.state == SlotState::Open && client.drop_reason.empty();
        }
    } sink{*this, client};
    return client.framer.feed(client.recv_buffer, bytes, sink);  // false: it quit or is being dropped
}

// ---- Command handling -----------------------------------------------------------------------------

// Returns false when the client is leaving: the rest of its input is not read.
bool Server::on_line(Client& client, std::string_view line) {
    ++counters_.lines_in;
    const proto::Command command = proto::parse_command(line);
    switch (command.kind) {
    case proto::CommandKind::Chat:
        text_.assign(client.name());
        text_ += ": ";
        text_ += command.argument;
        broadcast(text_);
        break;
    case proto::CommandKind::Nick: command_nick(client, command.argument); break;
    case proto::CommandKind::Who: command_who(client); break;
    case proto::CommandKind::Move: command_move(client, command.argument); break;
    case proto::CommandKind::Board: command_board(client); break;
    case proto::CommandKind::Ping:
        text_ = "PONG";
        if (!command.argument.empty()) {
            text_ += ' ';
            text_ += command.argument;
        }
        send_line(client, text_);
        break;
    case proto::CommandKind::Stats: send_line(client, "STATS " + stats_text()); break;
    case proto::CommandKind::Help:
        for (const char* help : kHelpLines)
            send_line(client, help);
        break;
    case proto::CommandKind::Quit: command_quit(client); return false;
    case proto::CommandKind::Unknown:
        text_ = "ERR unknown command ";
        text_ += command.word;
        text_ += " (try /help)";
        send_line(client, text_);
        break;
    }
    return client.drop_reason.empty();
}

void Server::command_nick(Client& client, std::string_view name) {
    if (name.empty()) {
        send_line(client, "ERR usage: /nick NAME");
        return;
    }
    if (!proto::is_valid_nick(name)) {
        send_line(client, "ERR invalid nick: 1-16 of A-Z a-z 0-9 _ -");
        return;
    }
    const std::string key = lower(name);
    const auto owner = nicks_.find(key);
    if (owner != nicks_.end() && owner->second != slot_of(client)) {
        send_line(client, "ERR nick " + std::string(name) + " is taken");
        return;
    }
    text_ = "* " + std::string(client.name()) + " is now " + std::string(name);
    nicks_.erase(lower(client.name()));
    nicks_[key] = slot_of(client);
    std::snprintf(client.nick, sizeof client.nick, "%.*s", static_cast<int>(name.size()), name.data());
    broadcast(text_);
}

void Server::command_who(Client& client) {
    text_ = "* " + std::to_string(online_.size()) + " online: ";
    std::size_t listed = 0;
    for (std::uint32_t slot : online_) {
        if (listed == static_cast<std::size_t>(proto::kWhoMaxNames))
            break;
        const Client& other = clients_[slot];
        if (listed++ > 0)
            text_ += ", ";
        text_ += other.name();
        text_ += " (" + std::to_string(other.x) + "," + std::to_string(other.y) + ")";
    }
    if (online_.size() > listed)
        text_ += " ... and " + std::to_string(online_.size() - listed) + " more";
    send_line(client, text_);
}

void Server::command_move(Client& client, std::string_view direction) {
    proto::Step step{};
    if (!proto::parse_direction(direction, step)) {
        send_line(client, "ERR usage: /move up|down|left|right");
        return;
    }
    const int x = client.x + step.dx, y = client.y + step.dy;
    const bool on_board = x >= 0 && x < proto::kBoardSize && y >= 0 && y < proto::kBoardSize;
    if (on_board) {
        --board_[client.y][client.x];
        client.x = x;
        client.y = y;
        ++board_[y][x];
    }
    text_ = "MOVE " + std::string(client.name()) + " " + std::to_string(client.x) + " " + std::to_string(client.y);
    if (on_board)
        broadcast(text_);
    else
        send_line(client, text_);  // off the edge: the piece stays, only the mover hears of it
}

// Eight rows, top (y = 0) first, then a coordinate row:
//   0 . . @ . . . . .
//   ...
//     0 1 2 3 4 5 6 7
void Server::command_board(Client& client) {
    constexpr int n = proto::kBoardSize;
    int others[n][n] = {};
    char letter[n][n] = {};
    for (std::uint32_t slot : online_) {
        const Client& other = clients_[slot];
        if (&other == &client)
            continue;
        ++others[other.y][other.x];
        letter[other.y][other.x] = other.nick[0];
    }
    for (int y = 0; y < n; ++y) {
        text_ = std::to_string(y);
        for (int x = 0; x < n; ++x) {
            char cell = '.';
            if (x == client.x && y == client.y)
                cell = '@';
            else if (others[y][x] == 1)
                cell = letter[y][x];
            else if (others[y][x] > 1)
                cell = '+';
            text_ += ' ';
            text_ += cell;
        }
        send_line(client, text_);
    }
    text_ = " ";
    for (int x = 0; x < n; ++x)
        text_ += " " + std::to_string(x);
    send_line(client, text_);
}

void Server::command_quit(Client& client) {
    send_line(client, "* bye");
    leave(client, "quit");
    close_when_drained(client);
}

std::string Server::stats_text() {
    DWORD handles = 0;
    GetProcessHandleCount(GetCurrentProcess(), &handles);
    PROCESS_MEMORY_COUNTERS memory{};
    GetProcessMemoryInfo(GetCurrentProcess(), &memory, sizeof memory);
    char text[768];
    std::snprintf(text, sizeof text,
                  "online=%zu peak=%zu accepted=%llu lines_in=%llu lines_out=%llu bytes_in=%llu bytes_out=%llu "
                  "slow_dropped=%llu sockets=%ld handles=%lu mem_kb=%llu uptime_s=%llu "
                  "recv_calls=%llu recv_at_once=%llu send_calls=%llu send_at_once=%llu dequeues=%llu",
                  online_.size(), counters_.peak, static_cast<unsigned long long>(counters_.accepted),
                  static_cast<unsigned long long>(counters_.lines_in),
                  static_cast<unsigned long long>(counters_.lines_out),
                  static_cast<unsigned long long>(counters_.bytes_in),
                  static_cast<unsigned long long>(counters_.bytes_out),
                  static_cast<unsigned long long>(counters_.slow_dropped), counters_.sockets,
                  static_cast<unsigned long>(handles),
                  static_cast<unsigned long long>(memory.WorkingSetSize / 1024),
                  static_cast<unsigned long long>((now_ms() - started_ms_) / 1000),
                  static_cast<unsigned long long>(counters_.recv_calls),
                  static_cast<unsigned long long>(counters_.recv_at_once),
                  static_cast<unsigned long long>(counters_.send_calls),
                  static_cast<unsigned long long>(counters_.send_at_once),
                  static_cast<unsigned long long>(counters_.dequeues));
    return text;
}

// ---- Send path ------------------------------------------------------------------------------------

void Server::send_line(Client& client, std::string_view text) {
    wire_.clear();
    proto::append_wire_line(wire_, text);
    ++counters_.lines_out;
    queue_bytes(client, wire_.data(), wire_.size());
}

// The message is encoded once; each recipient gets a copy of the bytes in its own queue.
void Server::broadcast(std::string_view text, const Client* except) {
    wire_.clear();
    proto::append_wire_line(wire_, text);
    for (std::uint32_t slot : online_) {
        Client& recipient = clients_[slot];
        if (&recipient == except)
            continue;
        ++counters_.lines_out;
        queue_bytes(recipient, wire_.data(), wire_.size());
    }
}

// Queues bytes for a client; the send itself starts when this batch of completions is done, so
// everything queued meanwhile leaves in one WSASend.
void Server::queue_bytes(Client& client, const char* data, std::size_t size) {
    if (client.state != SlotState::Open || !client.drop_reason.empty())
        return;
    // A client that does not read would make us hold its lines without bound: past the limit it
    // is dropped, and nobody else waits for it.
    if (client.unsent() + size > static_cast<std::size_t>(options_.send_limit)) {
        ++counters_.slow_dropped;
        drop(client, "slow consumer");
        return;
    }
    client.queued.append(data, size);
    if (!client.send_posted && !client.in_flush_list) {
        client.in_flush_list = true;
        to_flush_.push_back(slot_of(client));
    }
}

void Server::flush_sends() {
    for (std::size_t i = 0; i < to_flush_.size(); ++i) {  // a send may lead to more: index, not iterator
        Client& client = clients_[to_flush_[i]];
        client.in_flush_list = false;
        if (client.state == SlotState::Open && client.drop_reason.empty() && !client.send_posted &&
            !client.queued.empty())
            start_send(client);
    }
    to_flush_.clear();
}

// At most one WSASend in flight per client, carrying everything queued so far.
void Server::start_send(Client& client) {
    client.sending.swap(client.queued);  // `sending` was empty; capacities are kept
    client.queued.clear();
    client.sent = 0;
    post_send(client);
}

// Sends what `sending` holds from `sent` on. In skip-on-success mode a send the OS takes at once
// queues no completion: it is finished here, and the next one posted if more is waiting.
void Server::post_send(Client& client) {
    for (;;) {
        client.send_io = IoContext{};
        client.send_io.op = OP_SEND;
        client.send_io.generation = client.generation;
        WSABUF buffer{static_cast<ULONG>(client.sending.size() - client.sent), &client.sending[client.sent]};
        DWORD bytes = 0;
        ++client.pending_io;
        client.send_posted = true;
        ++counters_.send_calls;
        if (WSASend(client.socket, &buffer, 1, &bytes, 0, &client.send_io.overlapped, nullptr) == SOCKET_ERROR) {
            const DWORD error = static_cast<DWORD>(WSAGetLastError());
            if (error != WSA_IO_PENDING) {
                --client.pending_io;  // an immediate failure queues no completion
                client.send_posted = false;
                drop(client, disconnect_reason(error));
            }
            return;
        }
        if (!client.skip_completion_on_success)
            return;
        ++counters_.send_at_once;
        --client.pending_io;
        if (!on_send_done(client, bytes, 0))
            return;
    }
}

// Returns true when another send should be posted at once (the rest of a short send, or what was
// queued while this one was in flight).
bool Server::on_send_done(Client& client, DWORD bytes, DWORD error) {
    client.send_posted = false;
    if (!client.drop_reason.empty())
        return false;
    if (error != 0) {
        drop(client, disconnect_reason(error));
        return false;
    }
    counters_.bytes_out += bytes;
    client.sent += bytes;
    if (client.sent < client.sending.size())
        return true;  // a short send: the rest goes out before anything queued after it
    client.sending.clear();
    client.sent = 0;
    if (!client.queued.empty()) {
        client.sending.swap(client.queued);
        return true;
    }
    if (client.close_when_sent) {
        close_socket(client, false);
    } else if (client.recv_paused &&
               client.unsent() + kRecvBufferBytes <= static_cast<std::size_t>(options_.send_limit)) {
        client.recv_paused = false;
        read_later(client);
    }
    return false;
}

// ---- Disconnect and slot reuse ----------------------------------------------------------------------

// The client leaves the chat: logged, taken off the board and the online list, announced.
void Server::leave(Client& client, const std::string& reason) {
    const std::uint32_t index = client.online_index;
    if (index == kNoSlot)
        return;
    online_[index] = online_.back();
    clients_[online_[index]].online_index = index;
    online_.pop_back();
    client.online_index = kNoSlot;
    nicks_.erase(lower(client.name()));
    --board_[client.y][client.x];
    if (!options_.quiet)
        std::printf("disconnect slot=%u nick=%s peer=%s reason=%s online=%zu\n", slot_of(client), client.nick,
                    client.peer, reason.c_str(), online_.size());
    if (!options_.echo && !stopping_ && online_.size() + 1 <= static_cast<std::size_t>(proto::kCrowdNoticeLimit))
        broadcast("* " + std::string(client.name()) + " left");
}

// Schedules an abortive close. It runs after the current completion, never in the middle of a
// broadcast that is walking the online list.
void Server::drop(Client& client, std::string reason) {
    if (client.state != SlotState::Open || !client.drop_reason.empty())
        return;
    client.drop_reason = std::move(reason);
    to_drop_.push_back(slot_of(client));
}

void Server::close_dropped() {
    for (std::size_t i = 0; i < to_drop_.size(); ++i) {  // leave() may drop more: index, not iterator
        Client& client = clients_[to_drop_[i]];
        if (client.state != SlotState::Open)
            continue;
        leave(client, client.drop_reason);
        close_socket(client, true);
    }
    to_drop_.clear();
}

void Server::close_when_drained(Client& client) {
    client.close_when_sent = true;
    if (client.state == SlotState::Open && !client.send_posted && client.queued.empty())
        close_socket(client, false);
}

// Graceful: FIN after the last byte. Abortive (slow or broken clients): RST, the tail is dropped.
// What is still posted is cancelled first, then the socket closed; those completions come back
// and are counted off. (closesocket alone cancels them on Windows; Wine 8 loses both completions
// when it closes a socket with a receive and a stuck send pending, so the slot would never be
// released, and its wineserver dies when the process exits: README, "Wine notes".)
void Server::close_socket(Client& client, bool abortive) {
    if (client.state != SlotState::Open)
        return;
    if (client.online_index != kNoSlot)
        leave(client, "closed");
    if (abortive) {
        LINGER linger{1, 0};
        setsockopt(client.socket, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&linger), sizeof linger);
    } else {
        shutdown(client.socket, SD_SEND);
    }
    CancelIoEx(reinterpret_cast<HANDLE>(client.socket), nullptr);
    close_socket_counted(client.socket);
    client.socket = INVALID_SOCKET;
    client.state = SlotState::Closed;
    if (client.pending_io == 0)
        release_slot(client);
}

// Back on the free list only now: socket closed and nothing posted on it left to complete.
void Server::release_slot(Client& client) {
    constexpr std::size_t kKeepBufferBytes = 16 * 1024;  // a flood's buffers are not kept for ever
    if (client.queued.capacity() > kKeepBufferBytes)
        std::string().swap(client.queued);
    if (client.sending.capacity() > kKeepBufferBytes)
        std::string().swap(client.sending);
    client.queued.clear();
    client.sending.clear();
    client.sent = 0;
    client.state = SlotState::Free;
    client.recv_posted = client.send_posted = client.recv_paused = false;
    client.close_when_sent = false;
    client.drop_reason.clear();
    client.framer = proto::LineFramer{};
    client.next_free = free_head_;
    free_head_ = slot_of(client);
    --slots_in_use_;
}

void Server::close_socket_counted(SOCKET socket) {
    if (closesocket(socket) == SOCKET_ERROR)
        log_error("closesocket", static_cast<DWORD>(WSAGetLastError()));
    --counters_.sockets;
}

// ---- The main loop --------------------------------------------------------------------------------

void Server::dispatch(const OVERLAPPED_ENTRY& entry) {
    if (entry.lpOverlapped == nullptr) {  // posted by the console handler, not an I/O
        if (entry.lpCompletionKey == kStopKey)
            begin_shutdown();
        return;
    }
    IoContext& io = *io_context_of(entry.lpOverlapped);
    switch (io.op) {
    case OP_ACCEPT: {
        // Accepts complete with the listener's key: the OVERLAPPED says which accept this was.
        AcceptSlot& slot = *CONTAINING_RECORD(&io, AcceptSlot, io);
        on_accept_done(slot, completion_error(listener_, entry.lpOverlapped));
        break;
    }
    case OP_RECV:
    case OP_SEND:
        if (entry.lpCompletionKey >= static_cast<ULONG_PTR>(options_.max_clients)) {
            std::fprintf(stderr, "error: completion with unknown key %llu ignored\n",
                         static_cast<unsigned long long>(entry.lpCompletionKey));
            return;
        }
        on_client_io(clients_[entry.lpCompletionKey], io, entry.dwNumberOfBytesTransferred);
        break;
    case OP_CONNECT:
        break;  // the server connects nowhere
    }
}

void Server::on_client_io(Client& client, IoContext& io, DWORD bytes) {
    // A slot is reused only when nothing is pending on it, so this cannot happen; if it ever
    // did, the completion belongs to a previous occupant and must not touch the new one.
    if (io.generation != client.generation || client.state == SlotState::Free) {
        std::fprintf(stderr, "error: stale completion for slot %u ignored\n", slot_of(client));
        return;
    }
    --client.pending_io;
    if (client.state == SlotState::Closed) {  // cancelled by our own close
        if (io.op == OP_RECV)
            client.recv_posted = false;
        else
            client.send_posted = false;
        if (client.pending_io == 0)
            release_slot(client);
        return;
    }
    // Error 64 also comes back for I/O our own closesocket cancelled; the slot state above is
    // what tells the two apart, not the code.
    const DWORD error = completion_error(client.socket, &io.overlapped);
    if (io.op == OP_RECV) {
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
    std::printf("shutting down: %zu online\n", online_.size());
    // Stop accepting: closing the listener cancels every posted AcceptEx; their completions
    // come back failed and on_accept_done closes their sockets.
    CancelIoEx(reinterpret_cast<HANDLE>(listener_), nullptr);
    close_socket_counted(listener_);
    listener_ = INVALID_SOCKET;
    while (!online_.empty()) {
        Client& client = clients_[online_.back()];
        if (!options_.echo)
            send_line(client, proto::kShutdownNotice);
        leave(client, "server shutdown");
        close_when_drained(client);
    }
}

void Server::on_tick() {
    const std::uint64_t now = now_ms();
    if (stopping_) {
        if (!sockets_force_closed_ && now >= stop_deadline_ms_) {
            // The flush time is up: whoever has not taken their last lines is cut off.
            sockets_force_closed_ = true;
            for (int i = 0; i < options_.max_clients; ++i)
                close_socket(clients_[i], true);
        }
        return;
    }
    for (int i = 0; i < options_.accepts; ++i)
        if (!accepts_[i].posted)
            post_accept(accepts_[i]);
    if (options_.stats_seconds > 0 && now >= next_stats_ms_) {
        next_stats_ms_ = now + static_cast<std::uint64_t>(options_.stats_seconds) * 1000;
        std::printf("stats %s\n", stats_text().c_str());
    }
}

bool Server::finished() const { return stopping_ && slots_in_use_ == 0 && accepts_posted_ == 0; }

int Server::run() {
    OVERLAPPED_ENTRY entries[kCompletionBatch];
    std::uint64_t next_tick_ms = now_ms() + kTickMs;
    while (!finished()) {
        std::fflush(stdout);
        // Clients still waiting to be read from must not wait for a completion that may not come.
        const DWORD wait_ms = !to_read_.empty() ? 0 : stopping_ ? kShutdownTickMs : kTickMs;
        ULONG count = 0;
        ++counters_.dequeues;
        if (!GetQueuedCompletionStatusEx(port_, entries, kCompletionBatch, &count, wait_ms, FALSE)) {
            const DWORD error = GetLastError();
            if (error != WAIT_TIMEOUT) {  // FALSE with nothing dequeued: the port itself failed
                log_error("GetQueuedCompletionStatusEx", error);
                return 1;
            }
            count = 0;
        }
        for (ULONG i = 0; i < count; ++i) {
            dispatch(entries[i]);
            close_dropped();
        }
        // Replies go out before the next receives are posted (see read_later); what those
        // receives bring at once is answered in the same turn.
        flush_sends();
        read_deferred();
        flush_sends();
        close_dropped();  // a receive or send that failed at once
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

// ---- main -------------------------------------------------------------------------------------------

// Returns -1 when the options are good, otherwise the exit code.
int parse_options(int argc, char** argv, Options& options) {
    struct IntOption { const char* name; int* value; int low, high; };
    const IntOption int_options[] = {
        {"--port", &options.port, 1, 65535},
        {"--max-clients", &options.max_clients, 1, 1000000},
        {"--accepts", &options.accepts, 1, 4096},
        {"--send-limit", &options.send_limit, static_cast<int>(kRecvBufferBytes), 1 << 30},
        {"--stats", &options.stats_seconds, 1, 86400},
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h" || arg == "/?") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--echo") {
            options.echo = true;
            continue;
        }
        if (arg == "--quiet") {
            options.quiet = true;
            continue;
        }
        const bool takes_value = arg == "--bind" || std::any_of(std::begin(int_options), std::end(int_options),
                                                               [&](const IntOption& o) { return arg == o.name; });
        if (!takes_value) {
            std::fprintf(stderr, "error: unknown option %s\n\n%s", argv[i], kUsage);
            return 2;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "error: %s needs a value\n\n%s", argv[i], kUsage);
            return 2;
        }
        const char* value = argv[++i];
        if (arg == "--bind") {
            options.bind = value;
            continue;
        }
        for (const IntOption& o : int_options) {
            if (arg == o.name && !parse_int(value, o.low, o.high, *o.value)) {
                std::fprintf(stderr, "error: %s %s: expected a number from %d to %d\n", o.name, value, o.low, o.high);
                return 2;
            }
        }
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    const int exit_code = parse_options(argc, argv, options);
    if (exit_code >= 0)
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

// server.cpp - a single-threaded completion-port (IOCP) chat-and-board server: the IOCP core.
//
// One thread, one completion port, one loop: GetQueuedCompletionStatusEx hands back finished
// operations and the loop switches on what each one was (Op::Accept, Op::Recv, Op::Send).
// Connections are accepted by a pool of AcceptEx calls on pre-created sockets and live in a fixed
// array of slots; the completion key of a client's socket is the number of its slot. This file
// moves bytes and keeps every slot's lifetime right; what the bytes mean is the session layer's
// (session.h), which it hands each receive and which hands it back bytes to queue (session::Core).
//
// It reads in the order a connection lives: types, setup, accept, receive, send, close and slot
// reuse, the main loop, main().
#include "console_commands.h"
#include "cp949.h"
#include "iocp.h"
#include "protocol.h"
#include "session.h"
#include "util.h"

#include <psapi.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
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
// The OS's own send buffer per client. Left to itself it grows to a few MiB per socket, hiding a
// client that stops reading behind that much kernel memory before the send limit ever sees it.
constexpr int kSocketSendBufferBytes = 64 * 1024;
// Receives (see "Receive"): how many connections may have a real receive posted at once, each
// into a buffer lent from a pool of this many, and how long one may wait in vain before its
// connection counts as idle again and waits in a zero-byte receive.
constexpr std::size_t kLentBuffers = 1024;
constexpr std::uint64_t kTalkingMs = 2000;
constexpr std::size_t kRecheckTicks = 10;
// Accepts: under a burst (half the posted AcceptEx calls completed in one turn) the pool doubles, up
// to this many times --accepts; a second with few accepts halves it again, down to --accepts.
constexpr int kAcceptBurstFactor = 4;  // under Wine: the ticks a pass of recheck_idle takes
constexpr std::size_t kKeepBufferBytes = 16 * 1024;  // a released slot keeps send buffers this big
constexpr int kStdoutBufferBytes = 64 * 1024;

constexpr char kUsage[] =
    "usage: server.exe [--port 9000] [--bind ADDR] [--max-clients 10000] [--accepts 64]\n"
    "                  [--send-limit 262144] [--line-rate 20] [--line-burst 60] [--max-per-ip N]\n"
    "                  [--keepalive 120] [--echo] [--quiet] [--stats SECONDS]\n"
    "                  [--recv-chunk N] [--send-chunk N] [--help]\n"
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
    "  --recv-chunk N   (testing) a receive takes at most N bytes: many more completions\n"
    "  --send-chunk N   (testing) a send hands the OS at most N bytes: many short sends\n"
    "  --help           this text\n"
    "\n"
    "Standard input takes the operator's commands, one a line (type help).\n";
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
    int recv_chunk = 0;  // 0: receives as large as the buffer
    int send_chunk = 0;  // 0: sends of everything queued
    bool echo = false;
    bool quiet = false;
};

// One AcceptEx in flight: its own OVERLAPPED, its pre-created socket, the buffer for the addresses.
struct PendingAccept {
    Operation op{};
    SOCKET socket = INVALID_SOCKET;
    bool cancelled = false;  // the pool shrank: its completion closes the socket and posts nothing
    char addresses[2 * kAcceptAddressBytes];
};

// Receive buffers lent to talking connections (see "Receive"): allocated once, touched only when
// first lent (the last one given back is lent first, so a few stay warm), each noting its holder
// and since when, for the sweep that sends idle holders back to zero-byte receives.
class ReceiveBuffers {
public:
    static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
    explicit ReceiveBuffers(std::size_t count) : space_(new char[count * kRecvBufferBytes]), lent_(count) {
        free_.reserve(count);
        for (std::size_t i = count; i > 0; --i)
            free_.push_back(static_cast<std::uint32_t>(i - 1));
    }
    bool available() const { return !free_.empty(); }
    std::size_t lent() const { return lent_.size() - free_.size(); }
    std::uint32_t lend(SlotId holder, std::uint64_t now_ms) {
        const std::uint32_t index = free_.back();
        free_.pop_back();
        lent_[index] = {holder, now_ms};
        return index;
    }
    void give_back(std::uint32_t index) {
        lent_[index].holder = kNoSlot;
        free_.push_back(index);
    }
    char* data(std::uint32_t index) const { return space_.get() + std::size_t{index} * kRecvBufferBytes; }
    // Calls `idle(holder)` for each buffer lent before `before_ms`.
    template <typename Idle>
    void for_each_lent_before(std::uint64_t before_ms, Idle idle) const {
        for (const Lent& lent : lent_)
            if (lent.holder != kNoSlot && lent.since_ms < before_ms)
                idle(lent.holder);
    }

private:
    struct Lent {
        SlotId holder = kNoSlot;
        std::uint64_t since_ms = 0;
    };
    std::unique_ptr<char[]> space_;
    std::vector<Lent> lent_;
    std::vector<std::uint32_t> free_;  // a stack: the last given back is lent first
};

// A slot's life. One state, changed only by the functions named on the arrows:
//
//            admit                 /quit, the peer's FIN,           last byte sent
//   Free ───────────▶ Open ─────── or the server stopping ───▶ Draining ─────────────┐
//    ▲                 │                                           │                 ▼
//    │                 │ drop: an I/O error, a slow consumer       │ drop          close_slot ────▶ Closed
//    │                 └─────────────────▶ Dropping ◀──────────────┘                 ▲               │
//    │                                        │ close_dropped, at the end of the turn │               │
//    │                                        └───────────────────────────────────────┘               │
//    └───────────────────────────── release_slot, once nothing posted on it is pending ◀──────────────┘
//
// Open reads and writes. Draining reads nothing more and closes gracefully once its queue is
// out. Dropping is closed abortively at the end of the current turn: never in the middle of a
// broadcast that walks the member list. Closed waits for the completions of what was posted.
//
// While Open, its one receive is one of two kinds (see "Receive"):
//
//          admit               it completes                       data: fed
//   new ──────────▶ zero-byte ──────────────▶ read_waiting ───────────────────▶ real receive into
//                   receive   ◀──────────────┘                                  a lent buffer ◀──┐
//                      ▲        nothing was there                                  │   │          │
//                      │                                                           │   └──────────┘
//                      └──── the sweep cancels it after kTalkingMs with nothing ───┘  data: fed,
//                            (and a full pool of buffers means zero-byte)             posted again
// A zero-byte receive owns no buffer and, on Windows, locks no page: an idle connection costs only
// its slot. A real receive's buffer is locked while it waits, so only talking connections have one.
enum class SlotState : std::uint8_t { Free, Open, Draining, Dropping, Closed };

// A slot: one connection's socket, operations and buffers, as the core keeps them. Slots live in one
// array allocated at start and never moved (the Connection's OVERLAPPEDs and buffers are handed to
// the OS while operations run). Its number (SlotId, util.h) is its completion key and the name the
// session layer knows the connection by.
struct Slot : Connection {
    SlotState state = SlotState::Free;
    bool reading_paused = false;  // echo mode: not read from until its echoes drain
    // Its receive (see "Receive"): zero-byte while idle, into a lent buffer while it talks.
    bool idle = true;             // its next receive is zero-byte: new, or its last real one waited in vain
    bool data_waits = false;      // its zero-byte receive completed: read at the end of the turn
    bool recv_cancelled = false;  // the sweep cancelled its real receive
    std::uint32_t lent = ReceiveBuffers::kNone;  // the buffer its real receive is posted into
    std::uint32_t recv_posted_s = 0;  // when its receive was posted, in seconds since the start (see idle_talkers)
    std::uint64_t paused_since_ms = 0;  // not 0: over its input budget, not read from until it refills
    bool joined = false;          // counted online (and, in chat mode, a member of the room)
    std::string drop_reason;      // Dropping: what the log will say
    SlotId next_free = kNoSlot;
    char address[INET6_ADDRSTRLEN] = {};  // the peer's address: what --max-per-ip counts
    std::uint16_t port = 0;               // and its port (the log's peer=address:port)

    bool is_live() const { return state == SlotState::Open || state == SlotState::Draining; }
};

struct Counters {
    std::uint64_t accepted = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t slow_dropped = 0, refused = 0, refused_per_ip = 0, refused_banned = 0, keepalive_closed = 0;
    std::uint64_t throttled = 0, throttled_ms = 0;  // times a client was over its input budget, and for how long
    // What the I/O costs: calls made, how many completed at once (no completion packet; under
    // Wine, no wake-up either), and how many GetQueuedCompletionStatusEx calls it all took.
    std::uint64_t recv_calls = 0, recv_at_once = 0, send_calls = 0, send_at_once = 0, dequeues = 0;
    // Receives: zero-byte ones posted, reads after them (and those that found nothing), real ones
    // the sweep cancelled.
    std::uint64_t zero_recvs = 0, reads = 0, reads_empty = 0, recv_cancelled = 0;
    // What a loop turn costs, its wait for completions left out: how chat fan-out is judged.
    // The same for the time inside WSARecv and WSASend: a turn's cost beyond them is the rest.
    std::uint64_t turns = 0, turn_us = 0, turn_max_us = 0, recv_us = 0, send_us = 0;
    std::size_t online = 0, peak = 0;
    long sockets = 0;  // our own open sockets: listener, posted accepts, clients
};

// Why a connection is not taken: the log's words, and the one line the peer hears before the close.
struct Refusal {
    const char* reason;
    std::string_view line;
};
constexpr Refusal kBanned{"banned", proto::kErrBanned};
constexpr Refusal kTooManyFromAddress{"too many connections from the address", proto::kErrTooManyFromAddress};
constexpr Refusal kServerFull{"server full", proto::kErrServerFull};

const char* state_name(SlotState state) {
    static constexpr const char* kNames[] = {"Free", "Open", "Draining", "Dropping", "Closed"};
    return kNames[static_cast<int>(state)];
}

// An address as a ban sees it (an IPv4 peer of a dual-stack socket comes as ::ffff:a.b.c.d: it is
// the IPv4 address it is).
console::Range range_of(const sockaddr* address) {
    if (address->sa_family == AF_INET)
        return console::Range::of_v4(
            *reinterpret_cast<const std::uint8_t(*)[4]>(&reinterpret_cast<const sockaddr_in*>(address)->sin_addr));
    const auto& v6 = *reinterpret_cast<const std::uint8_t(*)[16]>(&reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
    if (IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr))
        return console::Range::of_v4(*reinterpret_cast<const std::uint8_t(*)[4]>(&v6[12]));
    return console::Range::of_v6(v6);
}

// "127.0.0.2" or "2001:db8::1" as a ban's range; false for anything else.
bool parse_range(std::string_view text, console::Range& range) {
    SOCKADDR_STORAGE address;
    int length = 0;
    if (text.size() >= INET6_ADDRSTRLEN || !parse_address(std::string(text).c_str(), 0, address, length))
        return false;
    range = range_of(reinterpret_cast<const sockaddr*>(&address));
    return true;
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
    // A peer that vanished without FIN or RST, found by the keepalive probes: Windows reports
    // WSAENETRESET for it (SIO_KEEPALIVE_VALS), Wine 8 WSAETIMEDOUT (ETIMEDOUT from Linux) or
    // ERROR_SEM_TIMEOUT. An idle connection has nothing else that times out.
    case WSAENETRESET:
    case WSAETIMEDOUT:
    case ERROR_SEM_TIMEOUT: return "keepalive timeout";
    default: return "error " + error_text(error);
    }
}

// Wine exports wine_get_version from its ntdll; Windows does not.
bool running_under_wine() {
    const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// The working set: what the process holds in physical memory (under Wine, its resident set).
std::uint64_t working_set_bytes() {
    PROCESS_MEMORY_COUNTERS memory{};
    GetProcessMemoryInfo(GetCurrentProcess(), &memory, sizeof memory);
    return memory.WorkingSetSize;
}

// The ways a connection goes, from the gentlest:
//   leave               it is no longer online (logged, and announced to the room); its socket
//                       stays open for whatever it is still owed
//   close_when_drained  Draining: no more reading; FIN once the last queued byte is out
//   drop                Dropping: RST at the end of this turn; what is queued is lost
//   close_slot          the socket is closed now, gracefully or not; the slot waits in Closed
class Server final : session::Core {
public:
    explicit Server(const Options& options)
        : options_(options), sessions_(*this, static_cast<std::size_t>(options.max_clients), options.line_rate,
                                       options.line_burst, &cp949_) {}
    bool start();
    int run();

private:
    // session::Core: what the session layer asks of the core.
    bool queue(SlotId id, std::string_view bytes) override { return queue(slots_[id], bytes.data(), bytes.size()); }
    std::string stats_text() override;

    // setup
    bool listen_on_port();
    // accept
    void post_accept(PendingAccept& accept);
    void post_accepts();
    void shrink_accepts(int target);
    void on_accept_done(PendingAccept& accept, DWORD error);
    SlotId admit(SOCKET socket, const sockaddr* remote);
    const Refusal* refusal(const std::string& address, const console::Range& range);
    void set_up_socket(Slot& slot);
    void refuse(SOCKET socket, const char* peer, const Refusal& why);
    // receive
    DWORD receive_size() const;
    void read_later(Slot& slot) { to_read_.push(id_of(slot)); }
    void read_deferred();
    void post_recv(Slot& slot);
    bool on_recv_done(Slot& slot, DWORD bytes, DWORD error);
    void read_waiting(Slot& slot);
    bool take_input(Slot& slot, const char* data, std::size_t size);
    bool echo(Slot& slot, const char* data, std::size_t size);
    std::size_t waiting(Slot& slot, std::size_t got);
    bool act_on(Slot& slot, const char* chunk, std::size_t size, const session::Fed& fed);
    void resume_paced();
    void idle_talkers(std::uint64_t now);
    void recheck_idle(std::uint64_t now);
    void cancel_recv(Slot& slot);
    void give_back(Slot& slot);
    // send
    bool queue(Slot& slot, const char* data, std::size_t size);
    void flush_sends();
    void post_send(Slot& slot);
    bool on_send_done(Slot& slot, DWORD bytes, DWORD error);
    // close and slot reuse
    void leave(Slot& slot, const char* reason);
    void close_when_drained(Slot& slot, const char* reason);
    void drop(Slot& slot, std::string reason);
    void close_dropped();
    void close_slot(Slot& slot, Close how);
    void release_slot(Slot& slot);
    void close_counted(SOCKET& socket, Close how);
    // the main loop
    void dispatch(const OVERLAPPED_ENTRY& entry);
    void on_slot_io(Slot& slot, Operation& op, DWORD bytes);
    void begin_shutdown();
    void on_tick();
    DWORD wait_ms() const;
    void count_turn(std::uint64_t us) {
        ++counters_.turns;
        counters_.turn_us += us;
        counters_.turn_max_us = std::max(counters_.turn_max_us, us);
    }
    bool finished() const { return stopping_ && slots_in_use_ == 0 && accepts_posted_ == 0; }

    SlotId id_of(const Slot& slot) const { return static_cast<SlotId>(&slot - slots_.get()); }
    // --recv-chunk, --send-chunk: the most one receive takes, and one send hands the OS.
    std::size_t send_most() const { return options_.send_chunk > 0 ? static_cast<std::size_t>(options_.send_chunk) : SIZE_MAX; }
    // the operator's console
    void run_console(const std::string& line);
    void not_in_echo_mode(std::string_view word);
    void console_help();
    void console_who();
    void console_kick(std::string_view argument);
    void console_ban(std::string_view argument);
    void console_bans();
    void console_unban(std::string_view argument);
    void console_mute(std::string_view argument, bool on);
    void console_motd(std::string_view argument);
    void console_trace(std::string_view argument);
    void console_slot(std::string_view argument);
    void kick(Slot& slot, std::string_view reason, const char* log);
    void trace(Op op, SlotId id, DWORD bytes, DWORD error);
    void expire(std::uint64_t now);

    Options options_;
    HANDLE port_ = nullptr;
    SOCKET listener_ = INVALID_SOCKET;
    int listen_family_ = AF_INET;
    LPFN_ACCEPTEX accept_ex_ = nullptr;
    LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs_ = nullptr;
    bool skip_on_success_ = false;  // the socket provider allows skipping completions

    std::unique_ptr<PendingAccept[]> accepts_;  // --accepts times kAcceptBurstFactor
    int accepts_posted_ = 0;
    int accept_target_ = 0;  // AcceptEx calls kept posted now: --accepts, more under a burst
    int accepted_in_turn_ = 0, accepted_in_tick_ = 0;  // accept completions, for the pool's size
    std::unique_ptr<Slot[]> slots_;
    ReceiveBuffers buffers_{kLentBuffers};  // lent to talking connections for their real receives
    std::unique_ptr<char[]> read_buffer_{new char[kRecvBufferBytes]};  // what read_waiting reads into
    std::unordered_map<SlotId, std::string> unread_;  // paced slots: what was received and not yet fed
    SlotId free_head_ = kNoSlot;
    int slots_in_use_ = 0;
    Cp949Codec cp949_;  // the terminals' conversion for CP949 connections
    session::Sessions sessions_;  // what the bytes mean (chat mode)

    // Deferred work, run at the end of each loop turn (see run).
    SlotQueue to_flush_;  // slots with bytes queued and no send in flight
    SlotQueue to_read_;   // slots whose next receive waits for the end of a turn
    SlotQueue to_drop_;   // slots whose abortive close is scheduled
    // Slots over their input budget, by when they may go on (a slot may be there twice; the
    // generation tells a later occupant's entry).
    struct Paced {
        std::uint64_t due_ms;
        SlotId slot;
        std::uint32_t generation;
        bool operator>(const Paced& other) const { return due_ms > other.due_ms; }
    };
    std::priority_queue<Paced, std::vector<Paced>, std::greater<Paced>> paced_;
    std::unordered_map<std::string, int> per_address_;  // --max-per-ip: connections of each address
    console::Bans bans_;  // the operator's: addresses refused until a time
    int trace_left_ = 0;  // the operator's trace: completions still to print (0: off, one branch)

    Clock clock_;        // microseconds, for the turn counters
    std::string wire_;  // scratch: a refusal encoded for the wire
    Counters counters_;
    std::uint64_t started_ms_ = 0;
    std::uint64_t empty_working_set_ = 0;  // the working set once ready, before any connection
    bool wine_ = running_under_wine();
    std::size_t recheck_next_ = 0;  // recheck_idle: the next slot to look at
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
    slots_ = std::make_unique<Slot[]>(slots);
    for (int i = options_.max_clients - 1; i >= 0; --i) {
        slots_[i].next_free = free_head_;
        free_head_ = static_cast<SlotId>(i);
    }
    to_flush_.reserve(slots);
    to_read_.reserve(slots);
    to_drop_.reserve(slots);
    accepts_ = std::make_unique<PendingAccept[]>(static_cast<std::size_t>(options_.accepts * kAcceptBurstFactor));
    accept_target_ = options_.accepts;

    if (!listen_on_port())
        return false;
    post_accepts();

    std::printf("listening on %s port %d (%s mode, max-clients %d, accepts %d, send-limit %d, line-rate %d, "
                "line-burst %d, keepalive %d%s)\n",
                options_.bind, options_.port, options_.echo ? "echo" : "chat", options_.max_clients,
                options_.accepts, options_.send_limit, options_.line_rate, options_.line_burst, options_.keepalive_s,
                skip_on_success_ ? ", skip-on-success" : "");
    next_stats_ms_ = started_ms_ + static_cast<std::uint64_t>(options_.stats_seconds) * 1000;
    empty_working_set_ = working_set_bytes();
    start_reading_lines(port_);  // the operator's console
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
    accept.op.type = Op::Accept;
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

// The accepts this turn took are posted again in one batch at its end, after the connections they
// brought were set up; under a burst (half the pool taken in one turn) the pool doubles first, up to
// kAcceptBurstFactor times --accepts, so the backlog the OS keeps is taken faster.
void Server::post_accepts() {
    if (stopping_)
        return;
    const int most = options_.accepts * kAcceptBurstFactor;
    if (accepted_in_turn_ * 2 >= accept_target_)
        accept_target_ = std::min(most, accept_target_ * 2);
    accepted_in_tick_ += accepted_in_turn_;
    accepted_in_turn_ = 0;
    for (int i = 0; i < most && accepts_posted_ < accept_target_; ++i)
        if (!accepts_[i].op.in_flight)
            post_accept(accepts_[i]);
}

// The pool back to `target`: the accepts posted beyond it are cancelled (their completions close
// their sockets), so a burst leaves no sockets behind once it is over.
void Server::shrink_accepts(int target) {
    accept_target_ = target;
    const int most = options_.accepts * kAcceptBurstFactor;
    int keep = target;
    for (int i = 0; i < most; ++i) {
        PendingAccept& accept = accepts_[i];
        if (!accept.op.in_flight || accept.cancelled || keep-- > 0)
            continue;
        if (CancelIoEx(reinterpret_cast<HANDLE>(listener_), &accept.op.overlapped))
            accept.cancelled = true;
    }
}

void Server::on_accept_done(PendingAccept& accept, DWORD error) {
    assert(accept.op.in_flight && accepts_posted_ > 0);
    accept.op.in_flight = false;
    --accepts_posted_;
    SOCKET socket = accept.socket;
    accept.socket = INVALID_SOCKET;
    const bool cancelled = std::exchange(accept.cancelled, false);
    if (stopping_ || (cancelled && error == WSA_OPERATION_ABORTED)) {  // cancelled by the shutdown, or the pool shrank
        close_counted(socket, Close::Abortive);
        return;
    }
    if (error != 0) {
        // This one connection failed (the peer reset before we took it): the listener is fine.
        if (!options_.quiet)
            std::printf("accept failed: %s\n", error_text(error).c_str());
        close_counted(socket, Close::Abortive);
        ++accepted_in_turn_;  // posted again at the end of the turn (post_accepts)
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
    ++accepted_in_turn_;  // posted again at the end of the turn (post_accepts)
    const SlotId id = admit(socket, remote);
    if (trace_left_ > 0)
        trace(Op::Accept, id, 0, 0);
}

// A slot for the new connection, or a refusal. Returns the slot, or kNoSlot.
SlotId Server::admit(SOCKET socket, const sockaddr* remote) {
    const std::string peer = remote ? format_address(remote) : std::string("?");
    const std::string address = remote ? format_host(remote) : std::string("?");
    const console::Range range = remote ? range_of(remote) : console::Range{};
    if (const Refusal* why = refusal(address, range)) {
        refuse(socket, peer.c_str(), *why);
        return kNoSlot;
    }
    const SlotId id = free_head_;
    // The key names the slot: every completion on this socket comes back with it.
    if (!CreateIoCompletionPort(reinterpret_cast<HANDLE>(socket), port_, id, 0)) {
        log_error("CreateIoCompletionPort(client)", GetLastError());
        close_counted(socket, Close::Abortive);
        return kNoSlot;
    }
    Slot& slot = slots_[id];
    assert(slot.state == SlotState::Free && slot.pending == 0);
    free_head_ = slot.next_free;
    slot.next_free = kNoSlot;
    ++slots_in_use_;
    ++slot.generation;
    slot.state = SlotState::Open;
    slot.socket = socket;
    std::snprintf(slot.address, sizeof slot.address, "%s", address.c_str());
    slot.port = remote ? port_of(remote) : u_short{0};
    if (options_.max_per_ip > 0)
        ++per_address_[address];  // an entry only while the address holds a connection
    set_up_socket(slot);
    ++counters_.accepted;
    slot.joined = true;
    counters_.peak = std::max(counters_.peak, ++counters_.online);
    if (!options_.echo)
        sessions_.open(id, now_ms());  // named, placed, welcomed, announced
    if (!options_.quiet) {
        const std::string_view nick = options_.echo ? std::string_view("-") : sessions_.nick(id);
        std::printf("connect slot=%u nick=%.*s peer=%s online=%zu\n", id, static_cast<int>(nick.size()), nick.data(),
                    format_address(slot.address, slot.port).c_str(), counters_.online);
    }
    read_later(slot);
    return id;
}

// Why a new connection from `address` is not taken (its one line to hear), or nullptr. A ban is
// checked before anything else: a banned address is never admitted to the room, not even for a
// moment (no joined line for it).
const Refusal* Server::refusal(const std::string& address, const console::Range& range) {
    if (bans_.covers(range, now_ms())) {
        ++counters_.refused_banned;
        return &kBanned;
    }
    const auto held = options_.max_per_ip > 0 ? per_address_.find(address) : per_address_.end();
    if (held != per_address_.end() && held->second >= options_.max_per_ip) {
        ++counters_.refused_per_ip;
        return &kTooManyFromAddress;
    }
    if (free_head_ == kNoSlot) {
        ++counters_.refused;
        return &kServerFull;
    }
    return nullptr;
}

void Server::set_up_socket(Slot& slot) {
    slot.skip_completion_on_success = skip_on_success_ && skip_completion_port_on_success(slot.socket);
    if (options_.keepalive_s > 0)
        set_keepalive(slot.socket, options_.keepalive_s);
    set_no_delay(slot.socket);
    // Non-blocking, for read_waiting's reads; the overlapped receives and sends are not affected
    // (they pend as before: libuv sets its sockets the same way).
    u_long non_blocking = 1;
    ioctlsocket(slot.socket, FIONBIO, &non_blocking);
    setsockopt(slot.socket, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&kSocketSendBufferBytes),
               sizeof kSocketSendBufferBytes);
}

// Not taken: say why and close gracefully. The socket is fresh and its send buffer empty, so this
// one short blocking send cannot stall the loop.
void Server::refuse(SOCKET socket, const char* peer, const Refusal& why) {
    if (!options_.quiet)
        std::printf("refused peer=%s reason=%s\n", peer, why.reason);
    wire_.clear();
    proto::append_wire_line(wire_, why.line);
    ::send(socket, wire_.data(), static_cast<int>(wire_.size()), 0);
    close_counted(socket, Close::Graceful);
}

// ---- Receive ------------------------------------------------------------------------------------
//
// A receive posted with a buffer pins that buffer for as long as it waits: Windows locks its pages
// in physical memory (and charges the lock to the nonpaged pool) until the data comes, so a
// buffer per connection would lock 400 MB for 100,000 idle clients. So a connection owns no
// receive buffer. An idle one waits in a zero-byte receive, which locks nothing; when that
// completes, data has arrived (or the peer closed), and read_waiting() reads it without blocking
// into the loop's one read buffer, fed on at once. A connection that is talking gets a real receive
// into a buffer lent from a fixed pool (ReceiveBuffers), which saves the read that a zero-byte
// receive costs for every message: the echo and chat benchmarks need it (README, "100,000
// connections on one thread", has the figures). One whose real receive waited kTalkingMs in vain is
// idle again: the sweep on each tick cancels that receive, the buffer goes back, and a zero-byte
// receive follows. A full pool means zero-byte receives for the rest, never a refusal. (Microsoft's
// guidance: Jones and Deshpande, "Windows Sockets 2.0: Write Scalable Winsock Apps Using
// Completion Ports", MSDN Magazine, October 2000.)

// How much one receive or one read takes at most.
// --recv-chunk makes it smaller, so that every receive and read is short (PRODUCT.md, "Forced
// short I/O").
DWORD Server::receive_size() const {
    return options_.recv_chunk > 0 && static_cast<DWORD>(options_.recv_chunk) < kRecvBufferBytes
               ? static_cast<DWORD>(options_.recv_chunk)
               : kRecvBufferBytes;
}

// The next receive is not posted the moment one completes: the slot waits in `to_read_` until
// the replies to what it sent have gone out at the end of the loop turn (see run). A request-reply
// peer has often answered by then, so the receive completes at once instead of waiting in the
// kernel, and is handled on the spot. Oldest first, and at most kReadsPerTurn: a turn stays short
// however many clients are busy, so accepts and other completions are taken often.
void Server::read_deferred() {
    for (std::size_t n = std::min(to_read_.size(), kReadsPerTurn); n > 0; --n) {
        Slot& slot = slots_[to_read_.pop()];  // its occupant may have changed meanwhile
        if (slot.state != SlotState::Open || slot.recv_op.in_flight || slot.reading_paused || slot.paused_since_ms != 0)
            continue;
        if (slot.data_waits)
            read_waiting(slot);
        else
            post_recv(slot);
    }
}

// Posts the slot's one receive: a real one into a lent buffer while it talks, else zero-byte. One
// that completes at once (skip-on-success) is handled right here, and the slot goes to the back of
// the read queue, so one flooding client cannot starve the rest.
void Server::post_recv(Slot& slot) {
    char* data = nullptr;
    DWORD capacity = 0;
    if (!slot.idle && buffers_.available()) {
        slot.lent = buffers_.lend(id_of(slot), now_ms());
        data = buffers_.data(slot.lent);
        capacity = receive_size();
    } else {
        ++counters_.zero_recvs;
    }
    DWORD bytes = 0, error = 0;
    ++counters_.recv_calls;
    const std::uint64_t started_us = clock_.us();
    slot.recv_posted_s = static_cast<std::uint32_t>((now_ms() - started_ms_) / 1000);
    const Posted posted = slot.post_recv(data, capacity, bytes, error);
    counters_.recv_us += clock_.us() - started_us;
    switch (posted) {
    case Posted::Pending: break;
    case Posted::Failed:
        give_back(slot);
        drop(slot, disconnect_reason(error));
        break;
    case Posted::DoneNow:
        ++counters_.recv_at_once;
        const bool again = on_recv_done(slot, bytes, 0);
        if (trace_left_ > 0)
            trace(Op::Recv, id_of(slot), bytes, 0);
        if (again)
            read_later(slot);
        break;
    }
}

// A receive completed. Returns true when the slot should be read from again. What the bytes mean
// is the session layer's (take_input). The lent buffer is the slot's no more from here on (a close
// on the way may release the slot), and goes back to the pool once its bytes are fed.
bool Server::on_recv_done(Slot& slot, DWORD bytes, DWORD error) {
    const std::uint32_t lent = std::exchange(slot.lent, ReceiveBuffers::kNone);
    const bool cancelled = std::exchange(slot.recv_cancelled, false);
    bool again = false;
    if (slot.state != SlotState::Open) {
        // closing: nothing new is taken in
    } else if (error == WSA_OPERATION_ABORTED && cancelled) {
        slot.idle = true;  // the sweep's cancel: it waits in a zero-byte receive from now on
        again = true;
    } else if (error != 0) {
        drop(slot, disconnect_reason(error));
    } else if (lent == ReceiveBuffers::kNone) {
        slot.data_waits = true;  // zero-byte: data (or the peer's close) is there; read_waiting tells which
        again = true;
    } else if (bytes == 0) {  // the peer closed its side (or half-closed it): it still gets what it is owed
        close_when_drained(slot, "peer closed");
    } else {
        again = take_input(slot, buffers_.data(lent), bytes);
    }
    if (lent != ReceiveBuffers::kNone)
        buffers_.give_back(lent);
    return again;
}

// A zero-byte receive said data is waiting: it is read, without blocking (the socket is
// non-blocking, see admit), into the loop's read buffer, at most receive_size() a turn. A read that
// fills it leaves the slot marked, so the rest is read at the end of a later turn, after the others.
void Server::read_waiting(Slot& slot) {
    slot.data_waits = false;
    ++counters_.reads;
    const std::uint64_t started_us = clock_.us();
    const int got = recv(slot.socket, read_buffer_.get(), static_cast<int>(receive_size()), 0);
    const DWORD error = got == SOCKET_ERROR ? static_cast<DWORD>(WSAGetLastError()) : 0;
    counters_.recv_us += clock_.us() - started_us;
    if (got == SOCKET_ERROR) {
        if (error != WSAEWOULDBLOCK) {
            drop(slot, disconnect_reason(error));
            return;
        }
        ++counters_.reads_empty;  // nothing after all: wait again
        read_later(slot);
        return;
    }
    if (got == 0) {
        close_when_drained(slot, "peer closed");
        return;
    }
    slot.idle = false;  // it talks: its next receive is a real one, while the pool lasts
    if (!take_input(slot, read_buffer_.get(), static_cast<std::size_t>(got)))
        return;
    slot.data_waits = static_cast<DWORD>(got) == receive_size();
    read_later(slot);
}

// Bytes the slot sent, in `data` (the lent buffer or the read buffer, both reused once this
// returns). Returns true when the slot should be read from again.
bool Server::take_input(Slot& slot, const char* data, std::size_t size) {
    counters_.bytes_in += size;
    if (options_.echo)
        return echo(slot, data, size);
    return act_on(slot, data, size, sessions_.receive(id_of(slot), data, size, now_ms(), waiting(slot, size)));
}

// What is still waiting in the OS after a receive or read --recv-chunk cut short (it took the most
// it may): the terminal's guess at typing must see what the peer sent, not the cap.
std::size_t Server::waiting(Slot& slot, std::size_t got) {
    if (options_.recv_chunk == 0 || got < receive_size())
        return 0;
    u_long waiting = 0;
    return ioctlsocket(slot.socket, FIONREAD, &waiting) == 0 ? waiting : 0;
}

// The lecture's echo server: the bytes go back unchanged. Flow control instead of drops: the slot
// is read again only while its echoes fit under the send limit.
bool Server::echo(Slot& slot, const char* data, std::size_t size) {
    queue(slot, data, size);
    if (slot.out.unsent() + receive_size() > static_cast<std::size_t>(options_.send_limit)) {
        slot.reading_paused = true;
        return false;
    }
    return true;
}

// What the session layer made of `chunk`. Returns true when the slot should be read from again.
// When it has spent its input budget, the rest of the chunk is kept in `unread_` (at most one
// receive's worth, and only while it is paced) and no receive is posted meanwhile, so the OS holds
// whatever else it sends and TCP slows it down, until resume_paced() feeds it: nothing is lost,
// nobody else waits.
bool Server::act_on(Slot& slot, const char* chunk, std::size_t size, const session::Fed& fed) {
    switch (fed.next) {
    case session::Next::Read: return true;
    case session::Next::Pause:
        unread_[id_of(slot)].assign(chunk + fed.consumed, size - fed.consumed);
        slot.paused_since_ms = now_ms();
        ++counters_.throttled;
        paced_.push({fed.resume_ms, id_of(slot), slot.generation});
        return false;
    case session::Next::Quit: close_when_drained(slot, "quit"); return false;
    case session::Next::Stop: return false;
    }
    return false;
}

// Slots whose budget has refilled get the rest of their input, then are read from again.
void Server::resume_paced() {
    const std::uint64_t now = now_ms();
    while (!paced_.empty() && paced_.top().due_ms <= now) {
        const Paced due = paced_.top();
        paced_.pop();
        Slot& slot = slots_[due.slot];
        if (slot.generation != due.generation || slot.state != SlotState::Open || slot.paused_since_ms == 0)
            continue;  // gone since, or closing: its input does not matter any more
        counters_.throttled_ms += now - slot.paused_since_ms;
        slot.paused_since_ms = 0;
        std::string rest;
        const auto unread = unread_.find(due.slot);
        if (unread != unread_.end()) {
            rest = std::move(unread->second);
            unread_.erase(unread);
        }
        if (act_on(slot, rest.data(), rest.size(), sessions_.resume(due.slot, rest.data(), rest.size(), now)))
            read_later(slot);
    }
}

// The sweep, once a tick: a real receive that has waited kTalkingMs is cancelled, so its buffer goes
// back to the pool and the connection waits in a zero-byte receive (on_recv_done). A cancel that
// finds it completed already changes nothing: its completion is on its way.
void Server::idle_talkers(std::uint64_t now) {
    buffers_.for_each_lent_before(now - std::min(now, kTalkingMs), [this](SlotId holder) { cancel_recv(slots_[holder]); });
    if (wine_ && options_.keepalive_s > 0)
        recheck_idle(now);
}

// Windows fails a waiting zero-byte receive when the keepalive probes give up on the peer (WSAENETRESET,
// "returned to any calls in progress on the socket": SO_KEEPALIVE in Microsoft's SOL_SOCKET socket
// options documentation), as it fails a real one. Wine 8 fails only a real one: its zero-byte
// receive waits on for good, and so does a new one posted after, though the socket's error is kept
// (SO_ERROR tells it; measured: tests/e2e/test_abuse.py's vanishing peer). So under Wine alone,
// a connection whose zero-byte receive has waited longer than the keepalive's bound (the idle time
// and ten probe intervals) is asked for its error, once a bound: one that has one failed while
// idle, which only the keepalive does. A slice of the slots a tick: a pass takes kRecheckTicks ticks.
void Server::recheck_idle(std::uint64_t now) {
    const auto now_s = static_cast<std::uint32_t>((now - started_ms_) / 1000);
    const auto bound_s = static_cast<std::uint32_t>(options_.keepalive_s + 10 * proto::keepalive_interval_s(options_.keepalive_s));
    const auto slots = static_cast<std::size_t>(options_.max_clients);
    const std::size_t slice = slots / kRecheckTicks + 1;
    for (std::size_t n = 0; n < slice; ++n, recheck_next_ = (recheck_next_ + 1) % slots) {
        Slot& slot = slots_[recheck_next_];
        if (slot.state != SlotState::Open || !slot.recv_op.in_flight || slot.lent != ReceiveBuffers::kNone ||
            now_s - slot.recv_posted_s <= bound_s)
            continue;
        slot.recv_posted_s = now_s;  // the next question a bound from now
        int error = 0, length = sizeof error;
        if (getsockopt(slot.socket, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&error), &length) == 0 && error != 0)
            drop(slot, "keepalive timeout");
    }
}

void Server::cancel_recv(Slot& slot) {
    if (slot.recv_op.in_flight && !slot.recv_cancelled && slot.state == SlotState::Open &&
        CancelIoEx(reinterpret_cast<HANDLE>(slot.socket), &slot.recv_op.overlapped)) {
        slot.recv_cancelled = true;
        ++counters_.recv_cancelled;
    }
}

void Server::give_back(Slot& slot) {
    if (slot.lent != ReceiveBuffers::kNone)
        buffers_.give_back(std::exchange(slot.lent, ReceiveBuffers::kNone));
}

// ---- Send ---------------------------------------------------------------------------------------

// Queues bytes for a slot; the send itself starts at the end of the loop turn, so everything
// queued meanwhile leaves in one WSASend. False when the slot takes no more: it is closing, or
// these bytes made it a slow consumer.
bool Server::queue(Slot& slot, const char* data, std::size_t size) {
    if (!slot.is_live())
        return false;
    // A client that does not read would make us hold its lines without bound: past the limit it
    // is dropped, and nobody else waits for it.
    if (slot.out.unsent() + size > static_cast<std::size_t>(options_.send_limit)) {
        ++counters_.slow_dropped;
        drop(slot, "slow consumer");
        return false;
    }
    slot.out.queue(data, size);
    if (!slot.send_op.in_flight)
        to_flush_.push(id_of(slot));
    return true;
}

// Oldest first, and at most kSendsPerFlush. A chat line for 1,000 members is 1,000 WSASends,
// about 130 ms under Wine 8: the loop takes the lines that came meanwhile between slices of
// them, and those join the queues of the members not sent to yet, so a line reaches everyone
// within one pass over the members instead of waiting for the pass before it to end first.
void Server::flush_sends() {
    // A send that completes at once may queue more (to the back): pop, not iterate.
    for (std::size_t n = std::min(to_flush_.size(), kSendsPerFlush); n > 0; --n) {
        Slot& slot = slots_[to_flush_.pop()];
        if (slot.is_live() && slot.out.start())
            post_send(slot);
    }
}

// Sends what `out` holds. A send the OS takes at once (skip-on-success) queues no completion: it
// is finished here, and the next one posted if more is waiting.
void Server::post_send(Slot& slot) {
    for (;;) {
        DWORD bytes = 0, error = 0;
        ++counters_.send_calls;
        const std::uint64_t started_us = clock_.us();
        const Posted posted = slot.post_send(bytes, error, send_most());
        counters_.send_us += clock_.us() - started_us;
        switch (posted) {
        case Posted::Pending: return;
        case Posted::Failed: drop(slot, disconnect_reason(error)); return;
        case Posted::DoneNow:
            ++counters_.send_at_once;
            const bool more = on_send_done(slot, bytes, 0);
            if (trace_left_ > 0)
                trace(Op::Send, id_of(slot), bytes, 0);
            if (!more)
                return;
        }
    }
}

// Returns true when another send should be posted at once (the rest of a short send, or what was
// queued while this one was in flight).
bool Server::on_send_done(Slot& slot, DWORD bytes, DWORD error) {
    if (!slot.is_live())
        return false;
    if (error != 0) {
        drop(slot, disconnect_reason(error));
        return false;
    }
    counters_.bytes_out += bytes;
    if (slot.out.on_sent(bytes))
        return true;
    if (slot.state == SlotState::Draining) {
        close_slot(slot, Close::Graceful);
    } else if (slot.reading_paused &&
               slot.out.unsent() + receive_size() <= static_cast<std::size_t>(options_.send_limit)) {
        slot.reading_paused = false;
        read_later(slot);
    }
    return false;
}

// ---- Close and slot reuse -----------------------------------------------------------------------

// The connection is no longer online: logged, and gone from the room (announced unless the server
// is stopping). Its socket is the caller's business.
void Server::leave(Slot& slot, const char* reason) {
    if (!slot.joined)
        return;
    slot.joined = false;
    --counters_.online;
    const SlotId id = id_of(slot);
    if (!options_.quiet) {
        const std::string_view nick = options_.echo ? std::string_view("-") : sessions_.nick(id);
        std::printf("disconnect slot=%u nick=%.*s peer=%s reason=%s online=%zu\n", id, static_cast<int>(nick.size()),
                    nick.data(), format_address(slot.address, slot.port).c_str(), reason, counters_.online);
    }
    if (!options_.echo)
        sessions_.close(id, !stopping_);
}

// Draining: nothing more is read; the socket closes gracefully once the last queued byte is out.
void Server::close_when_drained(Slot& slot, const char* reason) {
    if (slot.state != SlotState::Open)
        return;
    leave(slot, reason);
    slot.state = SlotState::Draining;
    if (!slot.send_op.in_flight && !slot.out.has_queued())
        close_slot(slot, Close::Graceful);
}

// Dropping: closed abortively at the end of the turn (close_dropped), never in the middle of a
// broadcast that walks the member list.
void Server::drop(Slot& slot, std::string reason) {
    if (!slot.is_live())
        return;
    slot.state = SlotState::Dropping;
    if (reason == "keepalive timeout")
        ++counters_.keepalive_closed;
    slot.drop_reason = std::move(reason);
    to_drop_.push(id_of(slot));
}

void Server::close_dropped() {
    while (!to_drop_.empty()) {  // leave() may announce, and an announcement may drop more
        Slot& slot = slots_[to_drop_.pop()];
        if (slot.state != SlotState::Dropping)
            continue;
        leave(slot, slot.drop_reason.c_str());
        close_slot(slot, Close::Abortive);
    }
}

// The socket is closed now; the slot waits in Closed for the completions of what was posted
// (closing cancels them), and is released when the last one is back.
void Server::close_slot(Slot& slot, Close how) {
    if (slot.state == SlotState::Free || slot.state == SlotState::Closed)
        return;
    leave(slot, "closed");
    close_counted(slot.socket, how);
    slot.state = SlotState::Closed;
    if (slot.pending == 0)
        release_slot(slot);
}

// Back on the free list only now: socket closed and nothing posted on it left to complete.
void Server::release_slot(Slot& slot) {
    assert(slot.state == SlotState::Closed && slot.pending == 0 && slot.socket == INVALID_SOCKET);
    assert(!slot.recv_op.in_flight && !slot.send_op.in_flight && !slot.joined);
    assert(slot.lent == ReceiveBuffers::kNone);
    slot.out.reset(kKeepBufferBytes);
    slot.state = SlotState::Free;
    slot.reading_paused = false;
    slot.idle = true;
    slot.data_waits = slot.recv_cancelled = false;
    unread_.erase(id_of(slot));
    if (slot.paused_since_ms != 0)
        counters_.throttled_ms += now_ms() - slot.paused_since_ms;
    slot.paused_since_ms = 0;
    slot.drop_reason.clear();
    if (options_.max_per_ip > 0) {
        const auto count = per_address_.find(slot.address);
        if (count != per_address_.end() && --count->second == 0)
            per_address_.erase(count);
    }
    slot.next_free = free_head_;
    free_head_ = id_of(slot);
    --slots_in_use_;
}

void Server::close_counted(SOCKET& socket, Close how) {
    close_socket(socket, how);
    --counters_.sockets;
}

// ---- The main loop --------------------------------------------------------------------------------

void Server::dispatch(const OVERLAPPED_ENTRY& entry) {
    if (entry.lpCompletionKey == kInputKey) {  // a line the operator typed, posted by the reading thread
        const std::unique_ptr<Typed> input(CONTAINING_RECORD(entry.lpOverlapped, Typed, overlapped));
        if (input->kind == Typed::Kind::Line)
            run_console(input->text);
        return;  // the end of input stops the reading, never the server
    }
    if (entry.lpOverlapped == nullptr) {  // posted by the console handler, not an I/O
        if (entry.lpCompletionKey == kStopKey)
            begin_shutdown();
        return;
    }
    Operation& op = *operation_of(entry.lpOverlapped);
    switch (op.type) {
    case Op::Accept: {
        // Accepts complete with the listener's key: the OVERLAPPED says which accept this was.
        // After the shutdown has closed the listener, there is no socket to ask for the status
        // (WSAGetOverlappedResult needs the one the operation was started on): it was cancelled.
        PendingAccept& accept = *CONTAINING_RECORD(&op, PendingAccept, op);
        on_accept_done(accept, listener_ == INVALID_SOCKET ? static_cast<DWORD>(WSA_OPERATION_ABORTED)
                                                           : completion_error(listener_, entry.lpOverlapped));
        break;
    }
    case Op::Recv:
    case Op::Send:
        if (entry.lpCompletionKey >= static_cast<ULONG_PTR>(options_.max_clients)) {
            std::fprintf(stderr, "error: completion with unknown key %llu ignored\n",
                         static_cast<unsigned long long>(entry.lpCompletionKey));
            return;
        }
        on_slot_io(slots_[entry.lpCompletionKey], op, entry.dwNumberOfBytesTransferred);
        break;
    case Op::Connect:
        break;  // the server connects nowhere
    }
}

void Server::on_slot_io(Slot& slot, Operation& op, DWORD bytes) {
    // A slot is reused only when nothing is pending on it, so this cannot happen; if it ever
    // did, the completion belongs to a previous occupant and must not touch the new one.
    if (op.generation != slot.generation || slot.state == SlotState::Free || !op.in_flight) {
        std::fprintf(stderr, "error: stale completion for slot %u ignored\n", id_of(slot));
        return;
    }
    slot.finish(op);
    if (slot.state == SlotState::Closed) {  // cancelled by our own close
        if (op.type == Op::Recv)
            give_back(slot);
        if (slot.pending == 0)
            release_slot(slot);
        // No socket is left to ask for the status (WSAGetOverlappedResult needs it): our close
        // cancelled it, which Windows reports as 995 whatever it was.
        if (trace_left_ > 0)
            trace(op.type, id_of(slot), bytes, op.overlapped.Internal == 0 ? 0 : WSA_OPERATION_ABORTED);
        return;
    }
    // Error 64 also comes back for I/O our own closesocket cancelled; the slot state above is
    // what tells the two apart, not the code.
    const DWORD error = completion_error(slot.socket, &op.overlapped);
    const bool again = op.type == Op::Recv ? on_recv_done(slot, bytes, error) : on_send_done(slot, bytes, error);
    if (trace_left_ > 0)
        trace(op.type, id_of(slot), bytes, error);
    if (again && op.type == Op::Recv)
        read_later(slot);
    else if (again)
        post_send(slot);
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
        Slot& slot = slots_[i];
        if (slot.state != SlotState::Open)
            continue;
        if (!options_.echo)
            sessions_.deliver(static_cast<SlotId>(i), proto::kShutdownNotice);
        close_when_drained(slot, "server shutdown");
    }
}

void Server::on_tick() {
    const std::uint64_t now = now_ms();
    if (stopping_) {
        if (!sockets_force_closed_ && now >= stop_deadline_ms_) {
            // The flush time is up: whoever has not taken their last lines is cut off.
            sockets_force_closed_ = true;
            for (int i = 0; i < options_.max_clients; ++i)
                close_slot(slots_[i], Close::Abortive);
        }
        return;
    }
    // A quiet second: the pool shrinks back towards --accepts. Any accept that could not be posted
    // is tried again here, so the listener never stops for good.
    if (accepted_in_tick_ * 4 < accept_target_)
        shrink_accepts(std::max(options_.accepts, accept_target_ / 2));
    accepted_in_tick_ = 0;
    post_accepts();
    idle_talkers(now);
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
        sessions_.end_turn();
        flush_sends();
        read_deferred();
        sessions_.end_turn();
        flush_sends();
        close_dropped();  // a receive or send that failed at once
        if (accepted_in_turn_ > 0)
            post_accepts();
        count_turn(clock_.us() - turn_started_us);
        const std::uint64_t now = now_ms();
        expire(now);
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
    const std::uint64_t now = now_ms();
    // The first paced client may go on, a ban or a mute ends: the loop is awake then, not later.
    for (const std::uint64_t due : {paced_.empty() ? UINT64_MAX : paced_.top().due_ms, bans_.next_expiry_ms(),
                                    sessions_.next_expiry_ms()})
        wait = std::min(wait, due > now ? due - now : 0);
    return static_cast<DWORD>(wait);
}

// ---- The operator's console (console_commands.h) ------------------------------------------------------------
//
// server.exe's standard input: the reading thread posts each line to the port (kInputKey), and the
// loop runs it here, between completions, so a command never touches a slot the loop is using.

void Server::run_console(const std::string& line) {
    const console::Command command = console::parse(line);
    const bool chat = !options_.echo;
    switch (command.kind) {
    case console::Kind::Help: console_help(); break;
    case console::Kind::Stats: std::printf("stats %s\n", stats_text().c_str()); break;
    case console::Kind::Who: console_who(); break;
    case console::Kind::Ban: console_ban(command.argument); break;
    case console::Kind::Bans: console_bans(); break;
    case console::Kind::Unban: console_unban(command.argument); break;
    case console::Kind::Trace: console_trace(command.argument); break;
    case console::Kind::Slot: console_slot(command.argument); break;
    case console::Kind::Quit: begin_shutdown(); break;
    case console::Kind::Kick: chat ? console_kick(command.argument) : not_in_echo_mode(command.word); break;
    case console::Kind::Mute: chat ? console_mute(command.argument, true) : not_in_echo_mode(command.word); break;
    case console::Kind::Unmute: chat ? console_mute(command.argument, false) : not_in_echo_mode(command.word); break;
    case console::Kind::Motd: chat ? console_motd(command.argument) : not_in_echo_mode(command.word); break;
    case console::Kind::Say:
        if (!chat)
            not_in_echo_mode(command.word);
        else if (command.argument.empty())
            std::printf("error: usage: say TEXT (help lists the commands)\n");
        else {
            sessions_.say(command.argument);
            std::printf("said to %zu online\n", counters_.online);
        }
        break;
    case console::Kind::Unknown:
        if (!command.word.empty())
            std::printf("error: unknown command %.*s (help lists the commands)\n", static_cast<int>(command.word.size()),
                        command.word.data());
        break;
    }
}

void Server::not_in_echo_mode(std::string_view word) {
    std::printf("error: %.*s is for chat mode: this server echoes (help lists the commands)\n",
                static_cast<int>(word.size()), word.data());
}

void Server::console_help() {
    std::printf("commands:\n");
    for (const console::Info& command : console::kCommands)
        std::printf("  %s\n", proto::help_row(command, console::kHelpSyntaxColumn).c_str());
}

void Server::console_who() {
    const std::uint64_t now = now_ms();
    std::printf("who: %zu online\n", counters_.online);
    for (int i = 0; i < options_.max_clients; ++i) {
        const Slot& slot = slots_[i];
        if (!slot.joined)
            continue;
        const std::string peer = format_address(slot.address, slot.port);
        const std::string member = options_.echo ? "peer=" + peer : sessions_.describe(static_cast<SlotId>(i), peer, now);
        std::printf("slot=%d %s\n", i, member.c_str());
    }
}

// The member is told why and goes once that line is out; the others hear it was kicked. `log`:
// the disconnect line's reason.
void Server::kick(Slot& slot, std::string_view reason, const char* log) {
    sessions_.kick(id_of(slot), reason);
    close_when_drained(slot, log);
}

void Server::console_kick(std::string_view argument) {
    const auto [nick, reason] = console::split_word(argument);
    const SlotId id = nick.empty() ? kNoSlot : sessions_.find(nick);
    if (nick.empty())
        std::printf("error: usage: kick NICK [reason] (help lists the commands)\n");
    else if (id == kNoSlot || slots_[id].state != SlotState::Open)
        std::printf("error: no member goes by %.*s (help lists the commands)\n", static_cast<int>(nick.size()), nick.data());
    else {
        std::printf("kicked %.*s\n", static_cast<int>(nick.size()), nick.data());
        kick(slots_[id], reason, "kicked");
    }
}

// ban ADDR [MINUTES]: ADDR's members are kicked now, its new connections refused until the end.
void Server::console_ban(std::string_view argument) {
    const auto [address, minutes] = console::split_word(argument);
    console::Range range;
    std::uint64_t ms = static_cast<std::uint64_t>(console::kDefaultBanMinutes) * 60000;
    if (address.empty() || !parse_range(address, range) || (!minutes.empty() && !console::parse_minutes(minutes, ms))) {
        std::printf("error: usage: ban ADDR [MINUTES] with an IPv4 or IPv6 address, MINUTES above 0 "
                    "(help lists the commands)\n");
        return;
    }
    bans_.add(range, address, now_ms() + ms);
    int kicked = 0;
    for (int i = 0; i < options_.max_clients; ++i) {
        Slot& slot = slots_[i];
        console::Range held;
        if (slot.state != SlotState::Open || !parse_range(slot.address, held) || !(held == range))
            continue;
        if (options_.echo)
            close_when_drained(slot, "banned");
        else
            kick(slot, "banned", "banned");
        ++kicked;
    }
    std::printf("banned %.*s for %.3g minutes; connections closed: %d\n", static_cast<int>(address.size()),
                address.data(), static_cast<double>(ms) / 60000, kicked);
}

void Server::console_bans() {
    const std::uint64_t now = now_ms();
    std::printf("bans: %zu\n", bans_.list().size());
    for (const console::Bans::Ban& ban : bans_.list())
        std::printf("  %s %llu minutes left\n", ban.text.c_str(),
                    static_cast<unsigned long long>(minutes_left(ban.until_ms, now)));
}

void Server::console_unban(std::string_view argument) {
    console::Range range;
    if (argument.empty() || !parse_range(argument, range))
        std::printf("error: usage: unban ADDR with an IPv4 or IPv6 address (help lists the commands)\n");
    else if (!bans_.remove(range))
        std::printf("error: %.*s is not banned (bans lists them)\n", static_cast<int>(argument.size()), argument.data());
    else
        std::printf("unbanned %.*s\n", static_cast<int>(argument.size()), argument.data());
}

// mute NICK [MINUTES], unmute NICK.
void Server::console_mute(std::string_view argument, bool on) {
    const auto [nick, minutes] = console::split_word(argument);
    std::uint64_t ms = static_cast<std::uint64_t>(console::kDefaultMuteMinutes) * 60000;
    if (nick.empty() || (!on && !minutes.empty()) || (!minutes.empty() && !console::parse_minutes(minutes, ms))) {
        std::printf("error: usage: %s (help lists the commands)\n", on ? "mute NICK [MINUTES], MINUTES above 0" : "unmute NICK");
        return;
    }
    const SlotId id = sessions_.find(nick);
    if (id == kNoSlot) {
        std::printf("error: no member goes by %.*s (help lists the commands)\n", static_cast<int>(nick.size()), nick.data());
        return;
    }
    sessions_.mute(id, on ? now_ms() + ms : 0);
    if (on)
        std::printf("muted %.*s for %.3g minutes\n", static_cast<int>(nick.size()), nick.data(), static_cast<double>(ms) / 60000);
    else
        std::printf("unmuted %.*s\n", static_cast<int>(nick.size()), nick.data());
}

void Server::console_motd(std::string_view argument) {
    if (argument.empty()) {
        std::printf("error: usage: motd TEXT, or motd off (help lists the commands)\n");
        return;
    }
    const bool off = proto::equals_ignoring_case(argument, "off");
    sessions_.set_motd(off ? std::string_view() : argument);
    std::printf(off ? "motd off\n" : "motd set\n");
}

// trace [N], trace off: the next N completions, one line each as the loop handles them (trace).
void Server::console_trace(std::string_view argument) {
    int count = console::kDefaultTraceCount;
    if (proto::equals_ignoring_case(argument, "off")) {
        count = 0;
    } else if (!argument.empty() && !parse_int(std::string(argument).c_str(), 1, 1000000, count)) {
        std::printf("error: usage: trace [N] with N from 1 to 1000000, or trace off (help lists the commands)\n");
        return;
    }
    trace_left_ = count;
    std::printf(count == 0 ? "trace off\n" : "trace: the next %d completions\n", count);
}

// slot N: what the core holds for the slot, then (a member's) what the session layer holds.
void Server::console_slot(std::string_view argument) {
    int n = 0;
    if (argument.empty() || !parse_int(std::string(argument).c_str(), 0, options_.max_clients - 1, n)) {
        std::printf("error: usage: slot N with N from 0 to %d (help lists the commands)\n", options_.max_clients - 1);
        return;
    }
    const Slot& slot = slots_[n];
    const char* receive = !slot.recv_op.in_flight                  ? "idle"
                          : slot.lent == ReceiveBuffers::kNone ? "zero-byte"
                                                               : "posted";
    std::printf("slot %d state=%s gen=%u pending=%d recv=%s send=%s queued=%zu in_flight=%zu paused=%s peer=%s\n", n,
                state_name(slot.state), slot.generation, slot.pending, receive, slot.send_op.in_flight ? "posted" : "idle",
                slot.out.queued_bytes(), slot.out.in_flight_bytes(), slot.paused_since_ms != 0 || slot.reading_paused ? "yes" : "no",
                slot.state == SlotState::Free ? "-" : format_address(slot.address, slot.port).c_str());
    if (slot.joined && !options_.echo)
        std::printf("slot %d %s\n", n, sessions_.describe_terminal(static_cast<SlotId>(n), now_ms()).c_str());
}

// One completion (or an operation that completed at once), as it was handled.
void Server::trace(Op op, SlotId id, DWORD bytes, DWORD error) {
    static constexpr const char* kOps[] = {"ACCEPT", "RECV", "SEND", "CONNECT"};
    const Slot* slot = id == kNoSlot ? nullptr : &slots_[id];
    char where[16] = "-";
    if (slot)
        std::snprintf(where, sizeof where, "%u", id);
    std::printf("trace t_us=%llu op=%s slot=%s gen=%u bytes=%lu err=%lu pending=%d queued=%zu state=%s\n",
                static_cast<unsigned long long>(clock_.us()), kOps[static_cast<int>(op)], where, slot ? slot->generation : 0,
                static_cast<unsigned long>(bytes), static_cast<unsigned long>(error), slot ? slot->pending : 0,
                slot ? slot->out.unsent() : 0, slot ? state_name(slot->state) : "-");
    if (--trace_left_ == 0)
        std::printf("trace: done\n");
}

// Bans and mutes that have ended are lifted, and the operator is told.
void Server::expire(std::uint64_t now) {
    bans_.expire(now, [](std::string_view address) {
        std::printf("ban of %.*s ended\n", static_cast<int>(address.size()), address.data());
    });
    sessions_.expire(now, [](std::string_view nick) {
        std::printf("mute of %.*s ended\n", static_cast<int>(nick.size()), nick.data());
    });
}

std::string Server::stats_text() {
    DWORD handles = 0;
    GetProcessHandleCount(GetCurrentProcess(), &handles);
    const std::uint64_t working_set = working_set_bytes();
    // What each connection holds: the growth of the working set since the server was ready, over
    // the connections online (conn_bytes).
    const std::uint64_t grown = working_set > empty_working_set_ ? working_set - empty_working_set_ : 0;
    const std::uint64_t per_connection = counters_.online > 0 ? grown / counters_.online : 0;
    auto n = [](std::uint64_t value) { return static_cast<unsigned long long>(value); };
    char text[1536];
    std::snprintf(text, sizeof text,
                  "online=%llu peak=%llu accepted=%llu lines_in=%llu lines_out=%llu bytes_in=%llu bytes_out=%llu "
                  "slow_dropped=%llu sockets=%ld handles=%lu mem_kb=%llu uptime_s=%llu "
                  "recv_calls=%llu recv_at_once=%llu send_calls=%llu send_at_once=%llu dequeues=%llu "
                  "line_rate=%d line_burst=%d throttled=%llu throttled_ms=%llu refused_full=%llu refused_per_ip=%llu refused_banned=%llu "
                  "keepalive_closed=%llu turns=%llu turn_us=%llu turn_max_us=%llu recv_us=%llu send_us=%llu board_views=%llu "
                  "conn_bytes=%llu zero_recvs=%llu reads=%llu reads_empty=%llu recv_cancelled=%llu lent_buffers=%llu",
                  n(counters_.online), n(counters_.peak), n(counters_.accepted), n(sessions_.counters().lines_in),
                  n(sessions_.counters().lines_out), n(counters_.bytes_in), n(counters_.bytes_out), n(counters_.slow_dropped),
                  counters_.sockets, static_cast<unsigned long>(handles), n(working_set / 1024),
                  n((now_ms() - started_ms_) / 1000), n(counters_.recv_calls), n(counters_.recv_at_once),
                  n(counters_.send_calls), n(counters_.send_at_once), n(counters_.dequeues), options_.line_rate,
                  options_.line_burst, n(counters_.throttled), n(counters_.throttled_ms), n(counters_.refused),
                  n(counters_.refused_per_ip), n(counters_.refused_banned), n(counters_.keepalive_closed), n(counters_.turns), n(counters_.turn_us),
                  n(counters_.turn_max_us), n(counters_.recv_us), n(counters_.send_us), n(sessions_.board_views()),
                  n(per_connection), n(counters_.zero_recvs), n(counters_.reads), n(counters_.reads_empty),
                  n(counters_.recv_cancelled), n(buffers_.lent()));
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
        Option::Number("--recv-chunk", options.recv_chunk, 1, 1 << 20),
        Option::Number("--send-chunk", options.send_chunk, 1, 1 << 30),
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

// iocp.h - the Win32 and Winsock code server.cpp and client.cpp share: one posted operation, a
// connection with its receive and its send, the batch dequeue, socket set-up and close, error
// text, addresses, Ctrl+C. Each program keeps only its own policy on top (what a failure means,
// when to read again, when to close).
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN  // keeps <windows.h> from pulling in the old winsock.h
#endif
#ifndef NOMINMAX
#define NOMINMAX  // the SDK's min/max macros break std::min and std::max
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <windows.h>

#include "protocol.h"
#include "terminal.h"
#include "util.h"

#include <cassert>
#include <cstddef>
#include <iterator>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

// ---- One posted operation -------------------------------------------------------------------------
//
// Every operation we post carries one of these. The OVERLAPPED comes first, so the pointer
// GetQueuedCompletionStatusEx hands back leads to the operation, whatever the completion key says
// (accepts complete with the listener's key, not a client's).
enum OpType : std::uint8_t { OP_ACCEPT, OP_RECV, OP_SEND, OP_CONNECT };

struct Operation {
    OVERLAPPED overlapped;
    OpType type;
    bool in_flight;            // posted, and its completion not handled yet
    std::uint32_t generation;  // which occupancy of the slot it was posted for
};

inline Operation* operation_of(OVERLAPPED* overlapped) { return CONTAINING_RECORD(overlapped, Operation, overlapped); }

// Completion keys that name no connection. A connection's key is its slot number, which never
// comes near these.
constexpr ULONG_PTR kStopKey = ~ULONG_PTR(0);          // Ctrl+C, Ctrl+Break, the console closing
constexpr ULONG_PTR kListenerKey = ~ULONG_PTR(0) - 1;  // server.exe: the listening socket's accepts
constexpr ULONG_PTR kInputKey = ~ULONG_PTR(0) - 2;     // client.exe: a line typed

constexpr DWORD kRecvBufferBytes = 4096;  // a server slot's receive space: what one client sends is small

// The status a dequeued operation finished with, as a Winsock error (0 = success). The batch
// form of GetQueuedCompletionStatus leaves an NTSTATUS in Internal; WSAGetOverlappedResult turns it
// into the WSAE* code the rest of the program speaks.
inline DWORD completion_error(SOCKET socket, OVERLAPPED* overlapped) {
    if (overlapped->Internal == 0)
        return 0;
    DWORD bytes = 0, flags = 0;
    if (WSAGetOverlappedResult(socket, overlapped, &bytes, FALSE, &flags))
        return 0;
    return static_cast<DWORD>(WSAGetLastError());
}

// ---- Errors -----------------------------------------------------------------------------------------

// Names for the Winsock errors a server meets every day, for systems whose FormatMessage has no
// text for them (Wine's has none).
inline const char* winsock_error_name(DWORD code) {
    switch (code) {
    case WSAEINTR: return "WSAEINTR: interrupted call";
    case WSAEACCES: return "WSAEACCES: permission denied";
    case WSAEINVAL: return "WSAEINVAL: invalid argument";
    case WSAEMFILE: return "WSAEMFILE: too many open sockets";
    case WSAENOTSOCK: return "WSAENOTSOCK: not a socket";
    case WSAEADDRINUSE: return "WSAEADDRINUSE: address already in use";
    case WSAEADDRNOTAVAIL: return "WSAEADDRNOTAVAIL: address not available";
    case WSAENETDOWN: return "WSAENETDOWN: network is down";
    case WSAENETRESET: return "WSAENETRESET: network dropped connection on reset";
    case WSAECONNABORTED: return "WSAECONNABORTED: connection aborted";
    case WSAECONNRESET: return "WSAECONNRESET: connection reset by peer";
    case WSAENOBUFS: return "WSAENOBUFS: no buffer space available";
    case WSAENOTCONN: return "WSAENOTCONN: socket is not connected";
    case WSAESHUTDOWN: return "WSAESHUTDOWN: socket was shut down";
    case WSAETIMEDOUT: return "WSAETIMEDOUT: connection timed out";
    case WSAECONNREFUSED: return "WSAECONNREFUSED: connection refused";
    case WSA_OPERATION_ABORTED: return "operation aborted";
    case ERROR_NETNAME_DELETED: return "the network name is no longer available";
    default: return nullptr;
    }
}

// ---- Text: UTF-8 in the program, UTF-16 at the Win32 boundary ----------------------------------

inline std::string utf8_from_wide(const wchar_t* text, int length) {
    if (length <= 0)
        return {};
    const int bytes = WideCharToMultiByte(CP_UTF8, 0, text, length, nullptr, 0, nullptr, nullptr);
    std::string result(static_cast<std::size_t>(bytes > 0 ? bytes : 0), '\0');
    if (bytes > 0)
        WideCharToMultiByte(CP_UTF8, 0, text, length, &result[0], bytes, nullptr, nullptr);
    return result;
}

inline std::wstring wide_from_utf8(const char* text, int length) {
    if (length <= 0)
        return {};
    const int chars = MultiByteToWideChar(CP_UTF8, 0, text, length, nullptr, 0);
    std::wstring result(static_cast<std::size_t>(chars > 0 ? chars : 0), L'\0');
    if (chars > 0)
        MultiByteToWideChar(CP_UTF8, 0, text, length, &result[0], chars);
    return result;
}

// The Korean Windows console's code page through Win32's own tables (code page 949): what the
// terminal layer needs for a CP949 connection. What a side cannot show becomes '?'.
class Cp949Codec final : public term::Codec {
public:
    std::string cp949_to_utf8(std::string_view cp949) const override {
        const std::wstring wide = wide_from(949, cp949);
        return utf8_from_wide(wide.data(), static_cast<int>(wide.size()));
    }
    std::string utf8_to_cp949(std::string_view utf8) const override {
        const std::wstring wide = wide_from(CP_UTF8, utf8);
        if (wide.empty())
            return {};
        const int length = static_cast<int>(wide.size());
        // No best fit: without it Windows turns an ü into a u, which says something else.
        const int bytes = WideCharToMultiByte(949, WC_NO_BEST_FIT_CHARS, wide.data(), length, nullptr, 0, "?", nullptr);
        std::string result(static_cast<std::size_t>(bytes > 0 ? bytes : 0), '\0');
        if (bytes > 0)
            WideCharToMultiByte(949, WC_NO_BEST_FIT_CHARS, wide.data(), length, &result[0], bytes, "?", nullptr);
        return result;
    }

private:
    static std::wstring wide_from(UINT code_page, std::string_view text) {
        const int length = static_cast<int>(text.size());
        const int chars = length > 0 ? MultiByteToWideChar(code_page, 0, text.data(), length, nullptr, 0) : 0;
        std::wstring wide(static_cast<std::size_t>(chars > 0 ? chars : 0), L'\0');
        if (chars > 0)
            MultiByteToWideChar(code_page, 0, text.data(), length, &wide[0], chars);
        return wide;
    }
};

// "10054 An existing connection was forcibly closed by the remote host." FormatMessageW, then
// UTF-8: the A form answers in the ANSI code page, which turns a Korean or German system's text
// into question marks or mojibake in a UTF-8 log.
inline std::string error_text(DWORD code) {
    wchar_t text[512];
    DWORD length = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code,
                                  0, text, static_cast<DWORD>(std::size(text)), nullptr);
    while (length > 0 && (text[length - 1] == L'\r' || text[length - 1] == L'\n' || text[length - 1] == L' '))
        --length;
    std::string result = std::to_string(code);
    result += ' ';
    if (length > 0)
        result += utf8_from_wide(text, static_cast<int>(length));
    else
        result += winsock_error_name(code) ? winsock_error_name(code) : "(no description)";
    return result;
}

// Logs a failed Win32/Winsock call: which call, the number and the system's text for it.
inline void log_error(const char* call, DWORD code) {
    std::fprintf(stderr, "error: %s failed: %s\n", call, error_text(code).c_str());
    std::fflush(stderr);
}

// ---- Winsock --------------------------------------------------------------------------------------

class WinsockSession {
public:
    WinsockSession() {
        WSADATA data;
        const int rc = WSAStartup(MAKEWORD(2, 2), &data);
        ok_ = rc == 0;
        if (!ok_)
            log_error("WSAStartup", static_cast<DWORD>(rc));
    }
    ~WinsockSession() {
        if (ok_)
            WSACleanup();
    }
    WinsockSession(const WinsockSession&) = delete;
    WinsockSession& operator=(const WinsockSession&) = delete;
    bool ok() const { return ok_; }

private:
    bool ok_ = false;
};

inline SOCKET open_overlapped_socket(int family) {
    return WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
}

// AcceptEx, GetAcceptExSockaddrs and ConnectEx are reached through WSAIoctl, not the import table.
template <typename Function>
bool load_extension(SOCKET socket, GUID id, Function& function) {
    DWORD bytes = 0;
    if (WSAIoctl(socket, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &function, sizeof function,
                 &bytes, nullptr, nullptr) == 0)
        return true;
    log_error("WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)", static_cast<DWORD>(WSAGetLastError()));
    return false;
}

// TCP keepalive: after `idle_s` seconds of silence the OS probes the peer, every interval after
// that; a peer that answers none (it vanished without FIN or RST: power, Wi-Fi, a NAT that forgot
// it) fails the pending receive. Windows sends 10 probes, Linux (so Wine) 9.
inline void set_keepalive(SOCKET socket, int idle_s) {
    tcp_keepalive values{};
    values.onoff = 1;
    values.keepalivetime = static_cast<ULONG>(idle_s) * 1000;
    values.keepaliveinterval = static_cast<ULONG>(proto::keepalive_interval_s(idle_s)) * 1000;
    DWORD bytes = 0;
    if (WSAIoctl(socket, SIO_KEEPALIVE_VALS, &values, sizeof values, nullptr, 0, &bytes, nullptr, nullptr) != 0)
        log_error("WSAIoctl(SIO_KEEPALIVE_VALS)", static_cast<DWORD>(WSAGetLastError()));
}

inline void set_no_delay(SOCKET socket) {
    BOOL on = TRUE;
    setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on), sizeof on);
}

// Skipping the completion of an operation that finished at once saves a dequeue per send and per
// receive, but is only safe when the provider's sockets are real file handles (libuv checks the
// same: a non-IFS layered provider would still queue them).
inline bool provider_allows_skip_on_success(SOCKET socket) {
    WSAPROTOCOL_INFOW protocol{};
    int protocol_length = sizeof protocol;
    return getsockopt(socket, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&protocol),
                      &protocol_length) == 0 &&
           (protocol.dwServiceFlags1 & XP1_IFS_HANDLES) != 0;
}

// From now on an operation on `socket` that completes at once queues no completion packet: the
// caller handles it where it was posted, exactly once. Only where provider_allows_skip_on_success.
inline bool skip_completion_port_on_success(SOCKET socket) {
    return SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(socket),
                                              FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != FALSE;
}

enum class Close : std::uint8_t {
    Graceful,  // FIN after the last byte the OS holds
    Abortive,  // RST now: what is unsent is lost (slow or broken peers)
};

// Closes `socket`. What is still posted on it is cancelled first: closesocket cancels it anyway
// on Windows, but Wine 8 loses both completions of a socket closed with a receive and a stuck send
// pending, and its wineserver then dies when the process exits (README, "Wine notes"). Either way
// the cancelled operations still complete, and must be waited for before their buffers are reused.
inline void close_socket(SOCKET& socket, Close how) {
    if (how == Close::Abortive) {
        LINGER linger{1, 0};
        setsockopt(socket, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&linger), sizeof linger);
    } else {
        shutdown(socket, SD_SEND);
    }
    CancelIoEx(reinterpret_cast<HANDLE>(socket), nullptr);
    if (closesocket(socket) == SOCKET_ERROR)
        log_error("closesocket", static_cast<DWORD>(WSAGetLastError()));
    socket = INVALID_SOCKET;
}

// ---- A connection: one receive and at most one send in flight ----------------------------------------

// What posting an operation came to. Pending: its completion will be dequeued. DoneNow: it
// finished at once and, with skip-on-success, queued no completion: the caller handles it now,
// exactly once. Failed: it was not posted (the error says why); nothing will be dequeued for it.
enum class Posted : std::uint8_t { Pending, DoneNow, Failed };

// The part of a connection both programs share: a server's client slot and client.exe's link. It
// lives in an array that is never moved: the OS writes into recv_buffer and reads the send buffer
// while the operations run, and holds pointers to the two OVERLAPPEDs. The receive space is the
// program's (ReceiveSpace): a server slot needs little, a chat bot is sent hundreds of lines at once.
struct Connection {
    SOCKET socket = INVALID_SOCKET;
    Operation recv_op{};
    Operation send_op{};
    int pending = 0;  // operations posted and not yet handled; the slot is reused only at 0
    std::uint32_t generation = 0;  // stamped on every operation posted
    bool skip_completion_on_success = false;
    SendBuffer out;
    char* recv_buffer = nullptr;  // recv_capacity bytes, from a ReceiveSpace
    DWORD recv_capacity = 0;

    // Posts the one receive. DoneNow: `bytes` arrived at once. Failed: `error` says why.
    Posted post_recv(DWORD& bytes, DWORD& error) {
        assert(!recv_op.in_flight && "a second receive");
        assert(recv_buffer && "no receive space given");
        WSABUF buffer{recv_capacity, recv_buffer};
        DWORD flags = 0;
        begin(recv_op, OP_RECV);
        return posted(recv_op, WSARecv(socket, &buffer, 1, &bytes, &flags, &recv_op.overlapped, nullptr), error);
    }

    // Posts the one send, of what `out` has not sent yet. DoneNow: the OS took `bytes` at once.
    Posted post_send(DWORD& bytes, DWORD& error) {
        assert(!send_op.in_flight && "a second send");
        WSABUF buffer{static_cast<ULONG>(out.next_size()), const_cast<char*>(out.next_data())};
        begin(send_op, OP_SEND);
        return posted(send_op, WSASend(socket, &buffer, 1, &bytes, 0, &send_op.overlapped, nullptr), error);
    }

    // The completion of one of its operations was dequeued.
    void completed(Operation& op) {
        assert(op.in_flight && pending > 0);
        op.in_flight = false;
        --pending;
    }

    // Everything set before the call: its completion may be dequeued before the call returns.
    void begin(Operation& op, OpType type) {
        op = Operation{};
        op.type = type;
        op.generation = generation;
        op.in_flight = true;
        ++pending;
    }

private:
    // What WSARecv or WSASend returned, as a Posted; undoes begin() when nothing will complete.
    Posted posted(Operation& op, int rc, DWORD& error) {
        if (rc == SOCKET_ERROR) {
            error = static_cast<DWORD>(WSAGetLastError());
            if (error == WSA_IO_PENDING)
                return Posted::Pending;
            op.in_flight = false;  // an immediate failure queues no completion
            --pending;
            return Posted::Failed;
        }
        if (!skip_completion_on_success)
            return Posted::Pending;  // an immediate success still queues its completion
        op.in_flight = false;
        --pending;
        return Posted::DoneNow;
    }
};

// Up to `capacity` completions, waiting at most `timeout_ms` for the first. Returns how many were
// dequeued (0: the time ran out), or -1 when the port itself failed (logged).
inline int dequeue(HANDLE port, OVERLAPPED_ENTRY* entries, ULONG capacity, DWORD timeout_ms) {
    ULONG count = 0;
    if (GetQueuedCompletionStatusEx(port, entries, capacity, &count, timeout_ms, FALSE))
        return static_cast<int>(count);
    const DWORD error = GetLastError();
    if (error == WAIT_TIMEOUT)
        return 0;
    log_error("GetQueuedCompletionStatusEx", error);  // FALSE with nothing dequeued: the port failed
    return -1;
}

// Receive buffers for `count` connections of `bytes` each, allocated once and never moved or
// freed while a receive may be posted into them. Not zeroed: a page is touched when data comes.
class ReceiveSpace {
public:
    ReceiveSpace(std::size_t count, DWORD bytes) : bytes_(bytes), space_(new char[count * bytes]) {}
    void give(Connection& connection, std::size_t index) const {
        connection.recv_buffer = space_.get() + index * bytes_;
        connection.recv_capacity = bytes_;
    }

private:
    DWORD bytes_;
    std::unique_ptr<char[]> space_;
};

// ---- Connecting out (client.exe) ------------------------------------------------------------------

enum class LinkState : std::uint8_t { Idle, Connecting, Open, Closed };

// client.exe's connection to the server, interactive or one bot's.
struct Link : Connection {
    Operation connect_op{};
    LinkState state = LinkState::Idle;
    bool shutdown_after_send = false;  // half-close once the queue is empty (end of input)
    std::size_t server = 0;            // which of Network::servers this connect went to
    std::size_t attempts = 0;          // server addresses tried by this connect
    proto::ServerLineReader reader;
};

// SO_REUSE_UNICASTPORT (Windows 10 and later) and SOMAXCONN_HINT, where mingw's headers lack them.
#ifndef SO_REUSE_UNICASTPORT
#define SO_REUSE_UNICASTPORT 0x3007
#endif
#ifndef SOMAXCONN_HINT
#define SOMAXCONN_HINT(b) (-(b))
#endif

// One address to connect to or from.
struct Address {
    SOCKADDR_STORAGE storage{};
    int length = 0;
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
    int family() const { return storage.ss_family; }
};

// The completion port, where the server is (every address its name resolves to, in the order
// getaddrinfo gives them) and, optionally, the local addresses connections are made from.
struct Network {
    HANDLE port = nullptr;
    LPFN_CONNECTEX connect_ex_v4 = nullptr;  // ConnectEx is looked up per address family
    LPFN_CONNECTEX connect_ex_v6 = nullptr;
    std::vector<Address> servers;
    std::size_t preferred = 0;       // the server address the last connect reached: tried first
    std::vector<Address> sources;    // empty: any local address
    bool skip_on_success = false;    // the socket provider allows skipping completions

    LPFN_CONNECTEX connect_ex(int family) const { return family == AF_INET6 ? connect_ex_v6 : connect_ex_v4; }
};

// Resolves `host` (every address, IPv4 and IPv6) and loads ConnectEx for each family found.
// False (with the reason printed) when it cannot.
inline bool open_network(const char* host, int port, Network& net) {
    net.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (!net.port) {
        log_error("CreateIoCompletionPort", GetLastError());
        return false;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    addrinfo* found = nullptr;
    const std::string port_text = std::to_string(port);
    const int rc = getaddrinfo(host, port_text.c_str(), &hints, &found);
    if (rc != 0 || !found) {
        std::fprintf(stderr, "cannot connect to %s:%d: %s\n", host, port, error_text(static_cast<DWORD>(rc)).c_str());
        return false;
    }
    for (const addrinfo* a = found; a; a = a->ai_next) {
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || a->ai_addrlen > sizeof(SOCKADDR_STORAGE))
            continue;
        Address address;
        std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
        address.length = static_cast<int>(a->ai_addrlen);
        net.servers.push_back(address);
    }
    freeaddrinfo(found);
    for (const Address& server : net.servers) {
        LPFN_CONNECTEX& connect_ex = server.family() == AF_INET6 ? net.connect_ex_v6 : net.connect_ex_v4;
        if (connect_ex)
            continue;
        const SOCKET probe = open_overlapped_socket(server.family());
        if (probe == INVALID_SOCKET) {
            log_error("WSASocket", static_cast<DWORD>(WSAGetLastError()));
            return false;
        }
        const bool loaded = load_extension(probe, WSAID_CONNECTEX, connect_ex);
        net.skip_on_success = provider_allows_skip_on_success(probe);
        closesocket(probe);
        if (!loaded)
            return false;
    }
    return !net.servers.empty();
}

// Why a connect could not be posted: the local bind (no port or address to be had) or the rest.
enum class ConnectStep : std::uint8_t { Socket, Bind, Connect };

// Posts a ConnectEx to server address `server` on a fresh socket whose completion key is `key`,
// bound first (ConnectEx needs a bound socket) to `source` (nullptr: any address). Windows
// reserves an ephemeral port at that bind; SO_REUSE_UNICASTPORT defers the choice to the connect
// and lets connections to different servers share a port (ignored where unknown). False when
// the connect could not even be posted: `step` and `error` say where and why.
inline bool start_connect(Network& net, Link& link, ULONG_PTR key, std::size_t server, const Address* source,
                          ConnectStep& step, DWORD& error) {
    const Address& to = net.servers[server];
    step = ConnectStep::Socket;
    link.socket = open_overlapped_socket(to.family());
    if (link.socket == INVALID_SOCKET) {
        error = static_cast<DWORD>(WSAGetLastError());
        return false;
    }
    link.server = server;
    DWORD reuse = 1;
    setsockopt(link.socket, SOL_SOCKET, SO_REUSE_UNICASTPORT, reinterpret_cast<const char*>(&reuse), sizeof reuse);
    Address any;
    any.storage.ss_family = static_cast<ADDRESS_FAMILY>(to.family());
    any.length = static_cast<int>(to.family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    const Address& from = source ? *source : any;
    step = ConnectStep::Bind;
    if (bind(link.socket, from.get(), from.length) == SOCKET_ERROR) {
        error = static_cast<DWORD>(WSAGetLastError());
        close_socket(link.socket, Close::Abortive);
        return false;
    }
    step = ConnectStep::Connect;
    if (!CreateIoCompletionPort(reinterpret_cast<HANDLE>(link.socket), net.port, key, 0)) {
        error = GetLastError();
        close_socket(link.socket, Close::Abortive);
        return false;
    }
    link.begin(link.connect_op, OP_CONNECT);
    link.state = LinkState::Connecting;
    if (!net.connect_ex(to.family())(link.socket, to.get(), to.length, nullptr, 0, nullptr, &link.connect_op.overlapped)) {
        error = static_cast<DWORD>(WSAGetLastError());
        if (error != ERROR_IO_PENDING) {
            link.completed(link.connect_op);  // an immediate failure queues no completion
            close_socket(link.socket, Close::Abortive);
            link.state = LinkState::Closed;
            return false;
        }
    }
    return true;
}

// The connect finished well: the socket becomes a normal connected socket, and its server
// address is the one the next connects try first.
inline void on_connected(Network& net, Link& link) {
    net.preferred = link.server;
    setsockopt(link.socket, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
    set_no_delay(link.socket);
    link.state = LinkState::Open;
}

// Posts the send `out` has started, and the next ones while they complete at once (skip-on-success).
// False when the connection failed.
inline bool flush(Link& link);
inline bool keep_sending(Link& link) {
    for (;;) {
        DWORD bytes = 0, error = 0;
        switch (link.post_send(bytes, error)) {
        case Posted::Pending: return true;
        case Posted::Failed: return false;
        case Posted::DoneNow:
            if (!link.out.on_sent(bytes))
                return flush(link);  // all out: maybe the half-close
        }
    }
}

// Starts a send of everything queued, unless one is in flight (it takes the rest when done); at
// the end of input, half-closes once all is out. False when the connection failed.
inline bool flush(Link& link) {
    if (link.send_op.in_flight || link.state != LinkState::Open)
        return true;
    if (link.out.start())
        return keep_sending(link);
    if (link.shutdown_after_send) {
        link.shutdown_after_send = false;
        shutdown(link.socket, SD_SEND);
    }
    return true;
}

// A send's completion: false when the connection failed.
inline bool on_sent(Link& link, DWORD bytes, DWORD error) {
    if (error != 0 || link.state != LinkState::Open)
        return false;
    if (link.out.on_sent(bytes))
        return keep_sending(link);  // the rest of a short send, or what was queued meanwhile
    return flush(link);
}

// Closes the link's socket (FIN); what was posted on it completes, cancelled.
inline void close_link(Link& link) {
    if (link.socket != INVALID_SOCKET)
        close_socket(link.socket, Close::Graceful);
    link.state = LinkState::Closed;
}

// Starts a connect to the server: first to the address that worked last, and after a failed one
// (`retry`: its completion is back, nothing is pending) to the next, every address once. A name
// like `localhost` resolves to ::1 first on Windows; a server listening on 0.0.0.0 refuses that,
// and 127.0.0.1 is what works. False when no address is left: `step` and `error` say why the
// last could not be posted (when one could, its completion reports its failure instead).
inline bool connect_link(Network& net, Link& link, ULONG_PTR key, const Address* source, bool retry,
                         ConnectStep& step, DWORD& error) {
    std::size_t server = net.preferred;
    if (retry) {
        close_link(link);
        server = link.server + 1;
    } else {
        link.attempts = 0;
    }
    for (; link.attempts < net.servers.size(); ++server) {
        ++link.attempts;
        if (start_connect(net, link, key, server % net.servers.size(), source, step, error))
            return true;
    }
    return false;
}

// More addresses to try after this connect failed.
inline bool may_retry(const Network& net, const Link& link) { return link.attempts < net.servers.size(); }

// ---- Addresses ------------------------------------------------------------------------------------

// Parses "127.0.0.1" or "::1" with a port into `address`. False when the text is no address.
inline bool parse_address(const char* text, int port, SOCKADDR_STORAGE& address, int& length) {
    ZeroMemory(&address, sizeof address);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<u_short>(port));
        length = sizeof(sockaddr_in);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<u_short>(port));
        length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

// "127.0.0.1" or "::1". An IPv4 peer of a dual-stack socket comes as ::ffff:a.b.c.d; it is shown
// as the IPv4 address it is.
inline std::string format_host(const sockaddr* address) {
    char host[INET6_ADDRSTRLEN] = "?";
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (address->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
        inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], host, sizeof host);
    else if (address->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, host, sizeof host);
    return host;
}

// "127.0.0.1:50123" or "[::1]:50123"
inline std::string format_address(const sockaddr* address) {
    const std::string host = format_host(address);
    const u_short port = ntohs(address->sa_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(address)->sin6_port
                                                              : reinterpret_cast<const sockaddr_in*>(address)->sin_port);
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// ---- Ctrl+C, Ctrl+Break, console close --------------------------------------------------------------
//
// The console runs its handler on a thread of its own. All it does is post one completion with
// kStopKey to the port, so the request is handled by the main loop like any other event. The
// handler takes no context argument, so the port it posts to has to live in a variable of its own.
struct ConsoleStop {
    HANDLE port = nullptr;
    HANDLE finished = nullptr;  // set by the main loop when it is done (console close waits on it)
};

inline ConsoleStop& console_stop() {
    static ConsoleStop stop;
    return stop;
}

inline BOOL WINAPI on_console_event(DWORD event) {
    const ConsoleStop& stop = console_stop();
    PostQueuedCompletionStatus(stop.port, 0, kStopKey, nullptr);
    // Closing the console ends the process as soon as the handler returns: give the loop its
    // flush first (Windows allows a handler about 5 s here).
    constexpr DWORD kCloseWaitMs = 4500;
    if (event == CTRL_CLOSE_EVENT && stop.finished)
        WaitForSingleObject(stop.finished, kCloseWaitMs);
    return TRUE;
}

inline bool post_to_port_on_console_stop(HANDLE port) {
    ConsoleStop& stop = console_stop();
    stop.port = port;
    stop.finished = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!SetConsoleCtrlHandler(on_console_event, TRUE)) {
        log_error("SetConsoleCtrlHandler", GetLastError());
        return false;
    }
    return true;
}

inline void signal_console_stop_finished() {
    if (console_stop().finished)
        SetEvent(console_stop().finished);
}

inline std::uint64_t now_ms() { return GetTickCount64(); }

// Microseconds since it was made, from the performance counter.
class Clock {
public:
    Clock() {
        QueryPerformanceFrequency(&frequency_);
        QueryPerformanceCounter(&start_);
    }
    std::uint64_t us() const {
        LARGE_INTEGER now;
        QueryPerformanceCounter(&now);
        const auto ticks = static_cast<std::uint64_t>(now.QuadPart - start_.QuadPart);
        const auto frequency = static_cast<std::uint64_t>(frequency_.QuadPart);
        return ticks / frequency * 1000000 + ticks % frequency * 1000000 / frequency;
    }
    std::uint64_t ms() const { return us() / 1000; }

private:
    LARGE_INTEGER frequency_{};
    LARGE_INTEGER start_{};
};


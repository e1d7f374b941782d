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
#include <windows.h>

#include "protocol.h"
#include "util.h"

#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

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

constexpr DWORD kRecvBufferBytes = 4096;

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

// "10054 An existing connection was forcibly closed by the remote host."
inline std::string error_text(DWORD code) {
    char text[512];
    DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code,
                                  0, text, sizeof text, nullptr);
    while (length > 0 && (text[length - 1] == '\r' || text[length - 1] == '\n' || text[length - 1] == ' '))
        --length;
    std::string result = std::to_string(code);
    result += ' ';
    if (length > 0)
        result.append(text, length);
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
// while the operations run, and holds pointers to the two OVERLAPPEDs.
struct Connection {
    SOCKET socket = INVALID_SOCKET;
    Operation recv_op{};
    Operation send_op{};
    int pending = 0;  // operations posted and not yet handled; the slot is reused only at 0
    std::uint32_t generation = 0;  // stamped on every operation posted
    bool skip_completion_on_success = false;
    SendBuffer out;
    char recv_buffer[kRecvBufferBytes];

    // Posts the one receive. DoneNow: `bytes` arrived at once. Failed: `error` says why.
    Posted post_recv(DWORD& bytes, DWORD& error) {
        assert(!recv_op.in_flight && "a second receive");
        WSABUF buffer{kRecvBufferBytes, recv_buffer};
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

// ---- Connecting out (client.exe) ------------------------------------------------------------------

enum class LinkState : std::uint8_t { Idle, Connecting, Open, Closed };

// client.exe's connection to the server, interactive or one bot's.
struct Link : Connection {
    Operation connect_op{};
    LinkState state = LinkState::Idle;
    bool shutdown_after_send = false;  // half-close once the queue is empty (end of input)
    proto::ServerLineReader reader;
};

// The completion port and where the server is.
struct Network {
    HANDLE port = nullptr;
    LPFN_CONNECTEX connect_ex = nullptr;
    SOCKADDR_STORAGE server{};
    int server_length = 0;
    bool skip_on_success = false;  // the socket provider allows skipping completions
};

// Resolves `host` and loads ConnectEx. False (with the reason printed) when it cannot.
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

// Posts a ConnectEx on a fresh socket (ConnectEx needs a bound one) whose completion key is `key`.
// False when the connect could not even be posted.
inline bool start_connect(Network& net, Link& link, ULONG_PTR key, DWORD& error) {
    link.socket = open_overlapped_socket(net.server.ss_family);
    if (link.socket == INVALID_SOCKET) {
        error = static_cast<DWORD>(WSAGetLastError());
        return false;
    }
    SOCKADDR_STORAGE local{};
    local.ss_family = net.server.ss_family;
    const int local_length = static_cast<int>(local.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    if (bind(link.socket, reinterpret_cast<sockaddr*>(&local), local_length) == SOCKET_ERROR ||
        !CreateIoCompletionPort(reinterpret_cast<HANDLE>(link.socket), net.port, key, 0)) {
        error = static_cast<DWORD>(WSAGetLastError());
        close_socket(link.socket, Close::Abortive);
        return false;
    }
    link.begin(link.connect_op, OP_CONNECT);
    link.state = LinkState::Connecting;
    if (!net.connect_ex(link.socket, reinterpret_cast<sockaddr*>(&net.server), net.server_length, nullptr, 0,
                        nullptr, &link.connect_op.overlapped)) {
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

// The connect finished well: the socket becomes a normal connected socket.
inline void on_connected(Link& link) {
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

// "127.0.0.1:50123" or "[::1]:50123"
inline std::string format_address(const sockaddr* address) {
    char host[INET6_ADDRSTRLEN] = "?";
    char text[INET6_ADDRSTRLEN + 16];
    if (address->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        std::snprintf(text, sizeof text, "[%s]:%u", host, ntohs(v6->sin6_port));
    } else {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        std::snprintf(text, sizeof text, "%s:%u", host, ntohs(v4->sin_port));
    }
    return text;
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

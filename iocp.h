// iocp.h - the Win32 pieces server.cpp and client.cpp share: Winsock start-up, error text,
// the extended OVERLAPPED, extension-function loading, address formatting, Ctrl+C handling.
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

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// ---- The extended OVERLAPPED --------------------------------------------------------------------
//
// Every operation we post carries one of these. The OVERLAPPED comes first, so the pointer
// GetQueuedCompletionStatus hands back leads to the operation, whatever the completion key says
// (accepts complete with the listener's key, not a client's).
enum IoOp : std::uint8_t { OP_ACCEPT, OP_RECV, OP_SEND, OP_CONNECT };

struct IoContext {
    OVERLAPPED overlapped;
    IoOp op;
    std::uint32_t generation;  // the occupancy of the slot this was posted for
};

inline IoContext* io_context_of(OVERLAPPED* overlapped) {
    return CONTAINING_RECORD(overlapped, IoContext, overlapped);
}

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

// A first-in first-out queue of slot (or bot) numbers, allocated once. A slot is in it at most
// once: pushing one that is already queued does nothing, so the ring never holds more than there
// are slots. The entry belongs to the slot number, not to its occupant: whoever pops it checks
// that the slot is still worth the work.
class SlotQueue {
public:
    void reserve(std::size_t slots) {
        ring_.assign(slots, 0);
        queued_.assign(slots, false);
    }
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    void push(std::uint32_t slot) {
        if (queued_[slot])
            return;
        queued_[slot] = true;
        ring_[(head_ + count_++) % ring_.size()] = slot;
    }
    std::uint32_t pop() {
        const std::uint32_t slot = ring_[head_];
        head_ = (head_ + 1) % ring_.size();
        --count_;
        queued_[slot] = false;
        return slot;
    }

private:
    std::vector<std::uint32_t> ring_;
    std::vector<bool> queued_;
    std::size_t head_ = 0, count_ = 0;
};

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
// `key` to the port, so the request is handled by the main loop like any other event. The handler
// takes no context argument, so the port it posts to has to live in a variable of its own.
struct ConsoleStop {
    HANDLE port = nullptr;
    ULONG_PTR key = 0;
    HANDLE finished = nullptr;  // set by the main loop when it is done (console close waits on it)
};

inline ConsoleStop& console_stop() {
    static ConsoleStop stop;
    return stop;
}

inline BOOL WINAPI on_console_event(DWORD event) {
    const ConsoleStop& stop = console_stop();
    PostQueuedCompletionStatus(stop.port, 0, stop.key, nullptr);
    // Closing the console ends the process as soon as the handler returns: give the loop its
    // flush first (Windows allows a handler about 5 s here).
    constexpr DWORD kCloseWaitMs = 4500;
    if (event == CTRL_CLOSE_EVENT && stop.finished)
        WaitForSingleObject(stop.finished, kCloseWaitMs);
    return TRUE;
}

inline bool post_to_port_on_console_stop(HANDLE port, ULONG_PTR key) {
    ConsoleStop& stop = console_stop();
    stop.port = port;
    stop.key = key;
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

// A whole decimal number from low to high, for command-line options; false for anything else.
inline bool parse_int(const char* text, int low, int high, int& value) {
    char* end = nullptr;
    const long parsed = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || parsed < low || parsed > high)
        return false;
    value = static_cast<int>(parsed);
    return true;
}

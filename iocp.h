// iocp.h - the Win32 and Winsock code server.cpp and client.cpp share: one posted operation, a
// connection with its receive and its send, the batch dequeue, socket set-up and close, error
// text, addresses, Ctrl+C, UTF-16 at the Win32 boundary. Each program keeps only its own policy on
// top (what a failure means, when to read again, when to close). Connecting out is client.exe's
// alone (connect.h).
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
#include "util.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

// ---- One posted operation -------------------------------------------------------------------------
//
// Every operation we post carries one of these. The OVERLAPPED comes first, so the pointer
// GetQueuedCompletionStatusEx hands back leads to the operation, whatever the completion key says
// (accepts complete with the listener's key, not a client's).
enum class Op : std::uint8_t { Accept, Recv, Send, Connect };

struct Operation {
    OVERLAPPED overlapped;
    Op type;
    bool in_flight;            // posted, and its completion not handled yet
    std::uint32_t generation;  // which occupancy of the slot it was posted for
};

inline Operation* operation_of(OVERLAPPED* overlapped) { return CONTAINING_RECORD(overlapped, Operation, overlapped); }

// Completion keys that name no connection. A connection's key is its slot number, which never
// comes near these.
constexpr ULONG_PTR kStopKey = ~ULONG_PTR(0);          // Ctrl+C, Ctrl+Break, the console closing
constexpr ULONG_PTR kListenerKey = ~ULONG_PTR(0) - 1;  // server.exe: the listening socket's accepts
constexpr ULONG_PTR kInputKey = ~ULONG_PTR(0) - 2;     // a line of standard input (typed, piped)

constexpr DWORD kRecvBufferBytes = 4096;  // what one server receive takes at most: what one client sends is small

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

    // Posts the one receive, into recv_buffer. DoneNow: `bytes` arrived at once. Failed: `error` says why.
    Posted post_recv(DWORD& bytes, DWORD& error) {
        assert(recv_buffer && "no receive space given");
        return post_recv(recv_buffer, recv_capacity, bytes, error);
    }
    // The same into `capacity` bytes at `data`, which must stay put until it completes. A capacity
    // of 0 (and no buffer) is a zero-byte receive: it completes when data has arrived, or the peer
    // closed, and takes nothing; the caller then reads what is there.
    Posted post_recv(char* data, DWORD capacity, DWORD& bytes, DWORD& error) {
        assert(!recv_op.in_flight && "a second receive");
        WSABUF buffer{capacity, data};
        DWORD flags = 0;
        begin(recv_op, Op::Recv);
        return posted(recv_op, WSARecv(socket, &buffer, 1, &bytes, &flags, &recv_op.overlapped, nullptr), error);
    }

    // Posts the one send, of what `out` has not sent yet, at most `most` bytes of it. DoneNow: the
    // OS took `bytes` at once.
    Posted post_send(DWORD& bytes, DWORD& error, std::size_t most = SIZE_MAX) {
        assert(!send_op.in_flight && "a second send");
        const std::size_t size = out.next_size() < most ? out.next_size() : most;
        WSABUF buffer{static_cast<ULONG>(size), const_cast<char*>(out.next_data())};
        begin(send_op, Op::Send);
        return posted(send_op, WSASend(socket, &buffer, 1, &bytes, 0, &send_op.overlapped, nullptr), error);
    }

    // The completion of one of its operations was dequeued: it is no longer pending.
    void finish(Operation& op) {
        assert(op.in_flight && pending > 0);
        op.in_flight = false;
        --pending;
    }

    // Everything set before the call: its completion may be dequeued before the call returns.
    void begin(Operation& op, Op type) {
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

// SOMAXCONN_HINT, where mingw's headers lack it.
#ifndef SOMAXCONN_HINT
#define SOMAXCONN_HINT(b) (-(b))
#endif

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

inline u_short port_of(const sockaddr* address) {
    return ntohs(address->sa_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(address)->sin6_port
                                                : reinterpret_cast<const sockaddr_in*>(address)->sin_port);
}

// ---- Standard input, a line at a time, to the loop ---------------------------------------------------
//
// Blocking reads belong on a thread of their own; each line goes to the loop through the port, so
// the loop alone touches sockets and slots (client.exe's typed lines, server.exe's operator
// commands). ReadFile or ReadConsoleW, not fgets: a thread blocked in fgets holds the C runtime's
// lock on stdin, and exit() takes every stream's lock to flush it, so the program could hang on its
// way out while nobody is typing.

// Input without a line end is handed on in pieces of this size, not buffered for ever.
constexpr std::size_t kMaxInputLineBytes = 64 * 1024;

// What a reading thread hands the loop through the port (with kInputKey): a line of standard input
// or its end, and for client.exe in character mode the keys, a resize or Ctrl+C (console.h). The
// loop owns it from then on and frees it.
struct Typed {
    enum class Kind : std::uint8_t {
        Line,        // a line read, without its line end
        EndOfInput,  // a pipe's or file's end, or Ctrl+Z at a console line's start
        Keys,        // character mode: bytes to send, as a VT terminal sends them
        Resized,     // character mode: the console says its buffer changed size
        Stop,        // character mode: Ctrl+C typed (processed input off)
    };
    OVERLAPPED overlapped{};  // only carries the pointer through the port; no I/O uses it
    Kind kind = Kind::Line;
    std::string text;  // UTF-8
};

inline void post_typed(HANDLE port, Typed::Kind kind, std::string text = {}) {
    auto* typed = new Typed;
    typed->kind = kind;
    typed->text = std::move(text);
    if (!PostQueuedCompletionStatus(port, 0, kInputKey, &typed->overlapped)) {
        log_error("PostQueuedCompletionStatus", GetLastError());
        delete typed;
    }
}

inline bool is_console(HANDLE handle) {
    DWORD mode = 0;
    return handle != nullptr && handle != INVALID_HANDLE_VALUE && GetConsoleMode(handle, &mode) != 0;
}

// Standard input, as UTF-8. A console is read with ReadConsoleW (UTF-16): ReadFile would return it
// in the console's code page (CP949 on Korean Windows, 437 or 1252 elsewhere), and every other
// user would see mojibake. Pipes and files are read as the bytes they hold.
class StdinReader {
public:
    StdinReader() : handle_(GetStdHandle(STD_INPUT_HANDLE)), console_(is_console(handle_)) {}
    // The next piece of input; false at its end (a pipe's end, or a console line that begins with
    // Ctrl+Z) or when there is none.
    bool read(std::string& text) {
        if (handle_ == nullptr || handle_ == INVALID_HANDLE_VALUE)
            return false;
        if (!console_) {
            char bytes[4096];
            DWORD got = 0;
            if (!ReadFile(handle_, bytes, sizeof bytes, &got, nullptr) || got == 0)
                return false;
            text.assign(bytes, got);
            return true;
        }
        wchar_t wide[1024];
        DWORD got = 0;
        const DWORD held = high_surrogate_ ? 1 : 0;  // half a character from the last read
        wide[0] = high_surrogate_;
        if (!ReadConsoleW(handle_, wide + held, static_cast<DWORD>(std::size(wide)) - held, &got, nullptr) || got == 0 ||
            wide[held] == 0x1A)
            return false;
        got += held;
        high_surrogate_ = wide[got - 1] >= 0xD800 && wide[got - 1] <= 0xDBFF ? wide[--got] : L'\0';
        text = utf8_from_wide(wide, static_cast<int>(got));
        return true;
    }

private:
    HANDLE handle_;
    bool console_;
    wchar_t high_surrogate_ = 0;
};

// The thread touches nothing but the port and what it allocates, so it may still be blocked in a
// read at exit.
inline DWORD WINAPI read_lines(void* port) {
    StdinReader input;
    std::string line, chunk;
    while (input.read(chunk)) {
        for (const char c : chunk) {
            if (c != '\n') {
                line.push_back(c);
                if (line.size() < kMaxInputLineBytes)
                    continue;
            } else if (!line.empty() && line.back() == '\r') {
                line.pop_back();  // a console line ends in CR LF
            }
            post_typed(port, Typed::Kind::Line, std::move(line));
            line.clear();
        }
    }
    if (!line.empty())  // the last line had no line end: it is still a line
        post_typed(port, Typed::Kind::Line, std::move(line));
    post_typed(port, Typed::Kind::EndOfInput);
    return 0;
}

// Starts the thread that posts standard input's lines to `port` (kInputKey), then its end.
inline void start_reading_lines(HANDLE port) {
    const HANDLE reader = CreateThread(nullptr, 0, read_lines, port, 0, nullptr);
    if (!reader) {
        log_error("CreateThread", GetLastError());
        return;
    }
    CloseHandle(reader);
}

// "127.0.0.1:50123" or "[::1]:50123"
inline std::string format_address(std::string_view host, u_short port) {
    const std::string shown = host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host);
    return shown + ":" + std::to_string(port);
}
inline std::string format_address(const sockaddr* address) { return format_address(format_host(address), port_of(address)); }

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


// connect.h - connecting out, which only client.exe does (its interactive client and its bots):
// the server's addresses and ConnectEx, a connect retried on the next address, the link's sends
// and its close. Built on iocp.h's connection; the server never includes it.
#pragma once

#include "iocp.h"
#include "protocol.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

// SO_REUSE_UNICASTPORT (Windows 10 and later), where mingw's headers lack it.
#ifndef SO_REUSE_UNICASTPORT
#define SO_REUSE_UNICASTPORT 0x3007
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
    link.begin(link.connect_op, Op::Connect);
    link.state = LinkState::Connecting;
    if (!net.connect_ex(to.family())(link.socket, to.get(), to.length, nullptr, 0, nullptr, &link.connect_op.overlapped)) {
        error = static_cast<DWORD>(WSAGetLastError());
        if (error != ERROR_IO_PENDING) {
            link.finish(link.connect_op);  // an immediate failure queues no completion
            close_socket(link.socket, Close::Abortive);
            link.state = LinkState::Closed;
            return false;
        }
    }
    return true;
}

// The connect finished well: the socket becomes a normal connected socket, and its server
// address is the one the next connects try first.
inline void finish_connect(Network& net, Link& link) {
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
// True once a ConnectEx on `socket` has connected, whether or not its completion has been dequeued
// yet: SO_CONNECT_TIME counts the seconds connected, 0xFFFFFFFF before.
inline bool has_connected(SOCKET socket) {
    DWORD seconds = 0xFFFFFFFF;
    int length = sizeof seconds;
    return getsockopt(socket, SOL_SOCKET, SO_CONNECT_TIME, reinterpret_cast<char*>(&seconds), &length) == 0 &&
           seconds != 0xFFFFFFFF;
}

inline bool may_retry(const Network& net, const Link& link) { return link.attempts < net.servers.size(); }

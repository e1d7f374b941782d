// skeleton_echo.cpp - the lecture's single-threaded IOCP echo server, as the slides show it, kept
// as a benchmark peer: one AcceptEx posted at a time (re-posted only when its completion comes
// out of the same queue as every echo), the socket value as completion key and map index, and a
// new OVER_EX allocated for every send. Only what a benchmark needs was added: a port argument,
// TCP_NODELAY, SOMAXCONN, and error paths that close instead of spinning.
//   skeleton_echo.exe [PORT]
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace {

constexpr int MAX_BUFFER = 1024;

enum OPERATION { OP_RECV, OP_SEND, OP_ACCEPT };

struct OVER_EX {
    WSAOVERLAPPED over;
    WSABUF wsabuf[1];
    char net_buf[MAX_BUFFER];
    OPERATION op;
};

struct SOCKETINFO {
    OVER_EX recv_over;
    SOCKET socket;
};

std::map<SOCKET, SOCKETINFO> clients;
HANDLE g_iocp;

void post_recv(SOCKETINFO& info) {
    DWORD flags = 0;
    std::memset(&info.recv_over.over, 0, sizeof(WSAOVERLAPPED));
    info.recv_over.wsabuf[0].len = MAX_BUFFER;
    info.recv_over.wsabuf[0].buf = info.recv_over.net_buf;
    info.recv_over.op = OP_RECV;
    if (WSARecv(info.socket, info.recv_over.wsabuf, 1, nullptr, &flags, &info.recv_over.over, nullptr) != 0 &&
        WSAGetLastError() != WSA_IO_PENDING) {
        closesocket(info.socket);
        clients.erase(info.socket);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 9000;
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
    SOCKET listenSocket = WSASocketW(AF_INET, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED);
    SOCKADDR_IN addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<u_short>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listenSocket, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listenSocket, SOMAXCONN) != 0) {
        std::fprintf(stderr, "skeleton_echo: cannot listen on port %d\n", port);
        return 1;
    }
    g_iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
    CreateIoCompletionPort(reinterpret_cast<HANDLE>(listenSocket), g_iocp, listenSocket, 0);

    SOCKET clientSocket1 = WSASocketW(AF_INET, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED);
    OVER_EX* accept_overl = new OVER_EX;
    std::memset(accept_overl, 0, sizeof(OVER_EX));
    accept_overl->op = OP_ACCEPT;
    AcceptEx(listenSocket, clientSocket1, accept_overl->net_buf, 0, sizeof(SOCKADDR_IN) + 16,
             sizeof(SOCKADDR_IN) + 16, nullptr, &accept_overl->over);
    std::printf("listening on port %d\n", port);
    std::fflush(stdout);

    while (true) {
        DWORD num_byte = 0;
        ULONG_PTR key = 0;
        WSAOVERLAPPED* p_over = nullptr;
        const BOOL ok = GetQueuedCompletionStatus(g_iocp, &num_byte, &key, &p_over, INFINITE);
        if (p_over == nullptr)
            continue;
        OVER_EX* over_ex = reinterpret_cast<OVER_EX*>(p_over);
        switch (over_ex->op) {
        case OP_ACCEPT: {
            SOCKET clientSocket = clientSocket1;
            if (ok) {
                setsockopt(clientSocket, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                           reinterpret_cast<const char*>(&listenSocket), sizeof listenSocket);
                BOOL on = TRUE;
                setsockopt(clientSocket, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on), sizeof on);
                SOCKETINFO& info = clients[clientSocket];
                std::memset(&info, 0, sizeof info);
                info.socket = clientSocket;
                CreateIoCompletionPort(reinterpret_cast<HANDLE>(clientSocket), g_iocp, clientSocket, 0);
                post_recv(info);
            } else {
                closesocket(clientSocket);
            }
            clientSocket1 = WSASocketW(AF_INET, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED);
            std::memset(&accept_overl->over, 0, sizeof(WSAOVERLAPPED));
            AcceptEx(listenSocket, clientSocket1, accept_overl->net_buf, 0, sizeof(SOCKADDR_IN) + 16,
                     sizeof(SOCKADDR_IN) + 16, nullptr, &accept_overl->over);
            break;
        }
        case OP_RECV: {
            const SOCKET client_s = static_cast<SOCKET>(key);
            if (!ok || num_byte == 0) {
                closesocket(client_s);
                clients.erase(client_s);
                break;
            }
            OVER_EX* send_over = new OVER_EX;
            std::memset(send_over, 0, sizeof(OVER_EX));
            send_over->op = OP_SEND;
            std::memcpy(send_over->net_buf, over_ex->net_buf, num_byte);
            send_over->wsabuf[0].buf = send_over->net_buf;
            send_over->wsabuf[0].len = num_byte;
            if (WSASend(client_s, send_over->wsabuf, 1, nullptr, 0, &send_over->over, nullptr) != 0 &&
                WSAGetLastError() != WSA_IO_PENDING)
                delete send_over;
            post_recv(clients[client_s]);
            break;
        }
        case OP_SEND:
            delete over_ex;
            break;
        }
    }
}

// close_pending.cpp - the smallest sequence of Winsock calls that kills Wine 8's wineserver, and the
// close the server uses instead (README, "Wine notes"; tests/e2e/test_wine.py runs both).
//
//   close_pending.exe close           closesocket while a WSARecv and a WSASend are pending
//   close_pending.exe cancel-close    CancelIoEx(socket, NULL) first, then the same closesocket
//
// A peer in this process connects with a 4 KiB receive buffer and never reads, so a 4 MiB
// WSASend stays pending beside a WSARecv that waits for bytes that never come. Then SO_LINGER
// {1,0} and closesocket, the abortive close of a slow consumer. The program prints how many of
// the two operations came back within a second ("completions N"), then exits with the peer still
// connected. Under Wine 8 `close` gets no completion at all and the wineserver aborts as the
// process exits (heap corruption); `cancel-close` gets both back (995, cancelled) and it lives.
// On Windows both get both back: closesocket cancels what is pending on the socket.
#include <winsock2.h>
#include <windows.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

bool fail(const char* call) {
    std::printf("%s failed: %d\n", call, WSAGetLastError());
    return false;
}

bool run(bool cancel_first) {
    HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    SOCKET listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int length = sizeof address;
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        return fail("bind/listen");
    SOCKET peer = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    const int small = 4096;
    setsockopt(peer, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&small), sizeof small);
    if (connect(peer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        return fail("connect");
    SOCKET accepted = accept(listener, nullptr, nullptr);
    if (accepted == INVALID_SOCKET || !CreateIoCompletionPort(reinterpret_cast<HANDLE>(accepted), port, 1, 0))
        return fail("accept");

    static char in[4096];
    static std::string out(4 << 20, 'x');
    OVERLAPPED recv_op{}, send_op{};
    WSABUF recv_buffer{sizeof in, in}, send_buffer{static_cast<ULONG>(out.size()), &out[0]};
    DWORD bytes = 0, flags = 0;
    if (WSARecv(accepted, &recv_buffer, 1, &bytes, &flags, &recv_op, nullptr) == 0 || WSAGetLastError() != WSA_IO_PENDING)
        return fail("WSARecv");
    if (WSASend(accepted, &send_buffer, 1, &bytes, 0, &send_op, nullptr) == 0 || WSAGetLastError() != WSA_IO_PENDING)
        return fail("WSASend");
    Sleep(300);  // the send has filled both sockets' buffers and waits

    if (cancel_first)
        CancelIoEx(reinterpret_cast<HANDLE>(accepted), nullptr);
    LINGER linger{1, 0};
    setsockopt(accepted, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&linger), sizeof linger);
    closesocket(accepted);

    int completions = 0;
    OVERLAPPED_ENTRY entries[2];
    ULONG count = 0;
    while (completions < 2 && GetQueuedCompletionStatusEx(port, entries, 2, &count, 1000, FALSE))
        completions += static_cast<int>(count);
    std::printf("completions %d\n", completions);
    std::fflush(stdout);
    return true;  // exit with the peer still connected
}

}  // namespace

int main(int argc, char** argv) {
    const std::string variant = argc == 2 ? argv[1] : "";
    if (variant != "close" && variant != "cancel-close") {
        std::printf("usage: close_pending.exe close|cancel-close\n");
        return 2;
    }
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
    return run(variant == "cancel-close") ? 0 : 1;
}

// asio_echo.cpp - a single-threaded echo server on standalone Asio (one io_context, run() on the
// main thread), the benchmark's idea of what a careful Asio user writes: async_read_some into a
// per-connection buffer, async_write of what arrived, then read again; TCP_NODELAY on.
//   asio_echo.exe [PORT]
#include <asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

using asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}
    void start() { read(); }

private:
    void read() {
        auto self = shared_from_this();
        socket_.async_read_some(asio::buffer(buffer_), [this, self](std::error_code error, std::size_t size) {
            if (!error)
                write(size);
        });
    }
    void write(std::size_t size) {
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(buffer_, size), [this, self](std::error_code error, std::size_t) {
            if (!error)
                read();
        });
    }

    tcp::socket socket_;
    std::array<char, 4096> buffer_;
};

class Listener {
public:
    Listener(asio::io_context& context, unsigned short port)
        : acceptor_(context, tcp::endpoint(asio::ip::address_v4::loopback(), port)) {
        accept();
    }

private:
    void accept() {
        acceptor_.async_accept([this](std::error_code error, tcp::socket socket) {
            if (!error) {
                socket.set_option(tcp::no_delay(true));
                std::make_shared<Session>(std::move(socket))->start();
            }
            accept();
        });
    }
    tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 9000;
    try {
        asio::io_context context(1);
        Listener listener(context, static_cast<unsigned short>(port));
        std::printf("listening on port %d\n", port);
        std::fflush(stdout);
        context.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio_echo: %s\n", e.what());
        return 1;
    }
}

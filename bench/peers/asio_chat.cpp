// asio_chat.cpp - a single-threaded chat server on standalone Asio (one io_context, run() on the
// main thread): the peer the chat benchmark compares server.exe against.
//   asio_chat.exe [PORT]      binds 127.0.0.1 (default port 9000), prints "listening on port N"
//
// It is the design of Asio's own chat example (asio/src/examples/cpp11/chat/chat_server.cpp), not
// a strawman: a chat_room holding a std::set of participants, whose deliver() hands a message to
// each of them; a chat_session per connection with a std::deque write queue, each recipient's
// deque holding its own copy of the message, exactly one async_write in flight, each message its
// own async_write (the next one starts when the last completes); a read or write error leaves the
// room. No per-message tricks either way: no gathering of queued messages into one write, no
// shared buffers, and nothing slower than the example either. Like the example it puts no limit
// on a slow reader's queue (server.exe drops such a reader past --send-limit).
//
// What differs from the example is the protocol: lines (async_read_until LF, a trailing CR
// stripped) instead of its length-prefixed messages, and this subset of server.exe's (README):
//   connect         the newcomer: "* welcome guestN, M online - /help lists commands"
//   text            everyone, sender included: "guestN: text" (trimmed of spaces; empty: ignored)
//   /ping TOKEN     the sender: "PONG TOKEN"
//   /quit           the sender: "* bye", then the connection is closed once it is written
//   /stats          the sender: "STATS online=M" (client.exe's first bot asks for the server's
//                   input budget; this server has none, so the reply names no line_rate)
//   /other          the sender: "ERR unknown command /other (try /help)" (/nick, /who... included)
//   > 512 bytes     the sender: "ERR line too long (max 512)", the line discarded
// Every line sent ends CR LF. The example's replay of the last 100 messages to a newcomer is left
// out (our protocol has none), as are joined/left notices (server.exe skips them above 64
// online, and the benchmark runs 100 to 10,000) and telnet (no IAC doubling, no negotiation).
#include <asio.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace {

using asio::ip::tcp;

constexpr std::size_t kMaxLineBytes = 512;  // CR and LF not counted

// ASCII case-insensitive equality, for command words ("/PING" is "/ping", as in server.exe).
bool same_word(const std::string& a, const char* b) {
    std::size_t i = 0;
    for (; i < a.size() && b[i]; ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i])
            return false;
    return i == a.size() && !b[i];
}

// Anything the room can hand a message to. `msg` is one wire line, CR LF included.
class chat_participant {
public:
    virtual ~chat_participant() = default;
    virtual void deliver(const std::string& msg) = 0;
};

using chat_participant_ptr = std::shared_ptr<chat_participant>;

// Everyone connected and not yet gone. deliver() gives the message to every participant in turn;
// join and leave take effect at once (Asio never runs a handler inside deliver, so the set does
// not change while deliver() walks it).
class chat_room {
public:
    void join(chat_participant_ptr participant) { participants_.insert(std::move(participant)); }
    void leave(const chat_participant_ptr& participant) { participants_.erase(participant); }
    std::size_t size() const { return participants_.size(); }

    void deliver(const std::string& msg) {
        for (const auto& participant : participants_)
            participant->deliver(msg);
    }

private:
    std::set<chat_participant_ptr> participants_;
};

// One connection. Alive while a read or a write of it is in flight (each handler holds a
// shared_ptr to it) or while the room holds it. The write queue's front is the message being
// written; the queue is empty exactly when no write is in flight.
class chat_session : public chat_participant, public std::enable_shared_from_this<chat_session> {
public:
    chat_session(tcp::socket socket, chat_room& room, std::string nick)
        : socket_(std::move(socket)), room_(room), nick_(std::move(nick)), input_(kMaxLineBytes + 2) {}

    // Joins the room, queues the welcome (the count includes this session) and starts reading.
    void start() {
        room_.join(shared_from_this());
        deliver("* welcome " + nick_ + ", " + std::to_string(room_.size()) + " online - /help lists commands\r\n");
        do_read();
    }

    // Queues a copy of `msg`; starts writing it unless a write is already in flight.
    void deliver(const std::string& msg) override {
        const bool write_in_progress = !write_msgs_.empty();
        write_msgs_.push_back(msg);
        if (!write_in_progress)
            do_write();
    }

private:
    // Reads one line (up to LF) and handles it, then reads the next; after /quit, stops. The
    // streambuf holds at most 514 bytes: a buffer full without LF (not_found) is a line too long,
    // answered once and then discarded up to its LF.
    void do_read() {
        auto self(shared_from_this());
        asio::async_read_until(socket_, input_, '\n', [this, self](std::error_code ec, std::size_t length) {
            if (ec == asio::error::not_found) {
                if (!discarding_)
                    deliver("ERR line too long (max 512)\r\n");
                discarding_ = true;
                input_.consume(input_.size());
                do_read();
            } else if (!ec) {
                const auto begin = asio::buffers_begin(input_.data());
                std::string line(begin, begin + static_cast<std::ptrdiff_t>(length - 1));  // LF dropped
                input_.consume(length);
                if (!line.empty() && line.back() == '\r')
                    line.pop_back();
                if (std::exchange(discarding_, false) || on_line(line))  // the tail of a long line: dropped
                    do_read();
            } else {
                room_.leave(shared_from_this());
            }
        });
    }

    // Answers one line (LF and CR stripped). False after /quit: the bye is queued, the room left,
    // and the socket is closed once the queue is written (do_write).
    bool on_line(const std::string& line) {
        if (line.size() > kMaxLineBytes) {
            deliver("ERR line too long (max 512)\r\n");
            return true;
        }
        const std::size_t first = line.find_first_not_of(' ');
        if (first == std::string::npos)
            return true;  // empty, or spaces only
        const std::string text = line.substr(first, line.find_last_not_of(' ') + 1 - first);
        if (text[0] != '/') {
            room_.deliver(nick_ + ": " + text + "\r\n");
            return true;
        }
        const std::size_t word_end = std::min(text.find(' '), text.size());
        const std::string word = text.substr(0, word_end);
        const std::size_t argument = text.find_first_not_of(' ', word_end);
        if (same_word(word, "/ping")) {
            deliver(argument == std::string::npos ? "PONG\r\n" : "PONG " + text.substr(argument) + "\r\n");
        } else if (same_word(word, "/stats")) {
            deliver("STATS online=" + std::to_string(room_.size()) + "\r\n");
        } else if (same_word(word, "/quit")) {
            deliver("* bye\r\n");
            quitting_ = true;
            room_.leave(shared_from_this());
            return false;
        } else {
            deliver("ERR unknown command " + word + " (try /help)\r\n");
        }
        return true;
    }

    // Writes the front of the queue; when that completes, drops it and writes the next. With the
    // queue empty after /quit, shuts the socket down (FIN after the bye) and closes it.
    void do_write() {
        auto self(shared_from_this());
        asio::async_write(socket_, asio::buffer(write_msgs_.front()), [this, self](std::error_code ec, std::size_t) {
            if (ec) {
                room_.leave(shared_from_this());
                return;
            }
            write_msgs_.pop_front();
            if (!write_msgs_.empty()) {
                do_write();
            } else if (quitting_) {
                std::error_code ignored;
                socket_.shutdown(tcp::socket::shutdown_send, ignored);
                socket_.close(ignored);
            }
        });
    }

    tcp::socket socket_;
    chat_room& room_;
    const std::string nick_;
    asio::streambuf input_;  // bounded: kMaxLineBytes, CR and LF
    std::deque<std::string> write_msgs_;
    bool discarding_ = false;  // inside a line too long, until its LF
    bool quitting_ = false;
};

// Accepts on 127.0.0.1:port for ever; each connection gets TCP_NODELAY, the next guestN name
// (N from 1, never reused) and a chat_session in the one room.
class chat_server {
public:
    chat_server(asio::io_context& context, unsigned short port)
        : acceptor_(context, tcp::endpoint(asio::ip::address_v4::loopback(), port)) {
        do_accept();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
    void do_accept() {
        acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
            if (!ec) {
                std::error_code ignored;  // a peer already gone is found by the first read
                socket.set_option(tcp::no_delay(true), ignored);
                std::make_shared<chat_session>(std::move(socket), room_, "guest" + std::to_string(next_guest_++))
                    ->start();
            }
            do_accept();
        });
    }

    tcp::acceptor acceptor_;
    chat_room room_;
    unsigned long long next_guest_ = 1;
};

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 9000;
    try {
        asio::io_context context(1);
        chat_server server(context, static_cast<unsigned short>(port));
        std::printf("listening on port %u\n", static_cast<unsigned>(server.port()));
        std::fflush(stdout);
        context.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio_chat: %s\n", e.what());
        return 1;
    }
}

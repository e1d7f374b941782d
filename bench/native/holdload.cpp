// holdload.cpp - make bench-hold's load: N idle connections opened from several loopback
// addresses, then held, and what holding them costs the one client that is still active. Native
// Linux (epoll), pinned to the other core, so what it measures is the server, not the load: under
// Wine every socket call of a load would cost it wineserver round trips of its own (bench/chat.py).
// A benchmark tool, not part of the product.
//
//   holdload --conns N [--sources K] [--ramp C] [--timeout S] [--settle S] [--pings P] [--mode chat|echo] HOST PORT
//
// 1. A probe connects first (chat: asks /stats for the empty server's mem_kb).
// 2. N connections from 127.0.0.2 .. 127.0.0.(K+1), C a second; each counts as served once the
//    server has answered it (chat: its welcome line; echo: the line it sent, back). A connection
//    not served within S seconds of its connect, or refused, is lost.
// 3. All served or lost: "HELD ..." is printed, then `settle` seconds pass (the caller reads the
//    server's memory then), and the probe asks /stats again (mem_kb, conn_bytes, online).
// 4. Chat: the probe says one line; the time from saying it until each held connection has it.
// 5. P round trips by the probe, one after the other (/ping; echo: a line), while all are held.
// 6. One RESULT line with every figure. Every held connection reads all the time.
#include "bots.h"
#include "util.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr std::uint32_t kProbe = 0xFFFFFFFFu;  // the probe's tag in epoll: it wakes the loop, it is read where asked

std::uint64_t now_us() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000 + static_cast<std::uint64_t>(t.tv_nsec) / 1000;
}

struct Options {
    int conns = 1000, sources = 4, ramp = 2000, timeout_s = 30, settle_s = 2, pings = 200, port = 0;
    const char* host = "127.0.0.1";
    bool chat = true;
};

struct Conn {
    int fd = -1;
    bool open = false, served = false, lost = false, heard = false;
    std::uint64_t started_us = 0;
    std::string in;  // a line not finished yet
};

class Hold {
public:
    explicit Hold(const Options& options) : options_(options), conns_(static_cast<std::size_t>(options.conns)) {}
    int run();

private:
    bool open_probe();
    std::string probe_request(const std::string& line, std::string_view reply_prefix);
    void open_next(std::uint64_t now);
    void poll(int timeout_ms);
    void on_event(std::uint32_t id, std::uint32_t events);
    void on_line(Conn& conn, std::string_view line);
    void lose(Conn& conn);
    void expire(std::uint64_t now);
    void broadcast();
    void pings();
    static long stat_field(const std::string& stats, const char* name);

    const Options& options_;
    std::vector<Conn> conns_;
    int epoll_ = -1, probe_ = -1;
    sockaddr_in server_{};
    std::uint32_t next_ = 0, settled_ = 0, served_ = 0, lost_ = 0, refused_ = 0;
    std::uint32_t closed_ = 0;  // served, then closed by the server
    std::uint64_t start_us_ = 0, last_served_us_ = 0;
    bots::Histogram served_wait_, heard_, round_trip_;
    std::string token_;  // the broadcast's line, while it is awaited
    std::uint64_t said_us_ = 0;
    std::uint32_t heard_count_ = 0;
    std::string probe_in_;
    char buffer_[65536];
};

int Hold::run() {
    server_.sin_family = AF_INET;
    server_.sin_port = htons(static_cast<std::uint16_t>(options_.port));
    if (inet_pton(AF_INET, options_.host, &server_.sin_addr) != 1) {
        std::fprintf(stderr, "holdload: %s: expected an IPv4 address\n", options_.host);
        return kExitBadOptions;
    }
    epoll_ = epoll_create1(0);
    if (!open_probe())
        return 1;
    const std::string empty = options_.chat ? probe_request("/stats", "STATS") : std::string();
    start_us_ = now_us();
    while (settled_ < conns_.size()) {
        const std::uint64_t now = now_us();
        open_next(now);
        expire(now);
        poll(5);
    }
    const double accept_s = static_cast<double>(last_served_us_ - start_us_) / 1e6;
    std::printf("HELD conns=%d served=%u lost=%u\n", options_.conns, served_, lost_);
    std::fflush(stdout);
    for (const std::uint64_t until = now_us() + static_cast<std::uint64_t>(options_.settle_s) * 1000000; now_us() < until;)
        poll(50);
    const std::string held = options_.chat ? probe_request("/stats", "STATS") : std::string();
    if (options_.chat)
        broadcast();
    pings();
    std::printf("RESULT conns=%d sources=%d ramp=%d served=%u lost=%u refused=%u accept_s=%.2f accept_per_s=%.0f "
                "served_p50_ms=%.1f served_p99_ms=%.1f served_max_ms=%.1f empty_mem_kb=%ld mem_kb=%ld conn_bytes=%ld "
                "online=%ld heard=%u broadcast_p50_ms=%.1f broadcast_max_ms=%.1f ping_p50_ms=%.2f ping_p99_ms=%.2f "
                "ping_max_ms=%.2f closed=%u\n",
                options_.conns, options_.sources, options_.ramp, served_, lost_, refused_, accept_s,
                accept_s > 0 ? served_ / accept_s : 0.0, served_wait_.percentile_ms(0.5), served_wait_.percentile_ms(0.99),
                served_wait_.max_ms(), stat_field(empty, "mem_kb"), stat_field(held, "mem_kb"),
                stat_field(held, "conn_bytes"), stat_field(held, "online"), heard_count_, heard_.percentile_ms(0.5),
                heard_.max_ms(), round_trip_.percentile_ms(0.5), round_trip_.percentile_ms(0.99), round_trip_.max_ms(), closed_);
    for (Conn& conn : conns_)
        if (conn.fd >= 0)
            close(conn.fd);
    close(probe_);
    return lost_ == 0 ? 0 : 1;
}

// The probe: a blocking connection of its own from 127.0.0.1, talked to in request and reply.
bool Hold::open_probe() {
    probe_ = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(probe_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval timeout{60, 0};
    setsockopt(probe_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(probe_, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0) {
        std::fprintf(stderr, "holdload: the probe cannot connect: %s\n", std::strerror(errno));
        return false;
    }
    epoll_event event{EPOLLIN, {}};
    event.data.u32 = kProbe;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, probe_, &event);
    if (options_.chat)
        probe_request("", "* welcome");
    return true;
}

// Sends `line` (none when empty) and returns the first line that starts with `reply_prefix`
// (empty after 60 s). Only the probe blocks; the held connections are read in between.
std::string Hold::probe_request(const std::string& line, std::string_view reply_prefix) {
    if (!line.empty()) {
        const std::string wire = line + "\r\n";
        if (send(probe_, wire.data(), wire.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(wire.size()))
            return {};
    }
    const std::uint64_t deadline = now_us() + 60000000;
    while (now_us() < deadline) {
        for (std::size_t end; (end = probe_in_.find('\n')) != std::string::npos;) {
            std::string got = probe_in_.substr(0, end);
            probe_in_.erase(0, end + 1);
            if (!got.empty() && got.back() == '\r')
                got.pop_back();
            if (got.compare(0, reply_prefix.size(), reply_prefix) == 0)
                return got;
        }
        const ssize_t n = recv(probe_, buffer_, sizeof buffer_, MSG_DONTWAIT);
        if (n > 0) {
            probe_in_.append(buffer_, static_cast<std::size_t>(n));
            continue;  // its lines first
        }
        if (n == 0)
            return {};
        poll(100);  // the held ones are read meanwhile (a broadcast must not stall on them); the probe's reply wakes it
    }
    return {};
}

// Connection i is due at i / ramp seconds: a non-blocking connect from its source address.
void Hold::open_next(std::uint64_t now) {
    while (next_ < conns_.size() &&
           start_us_ + std::uint64_t{next_} * 1000000 / static_cast<std::uint64_t>(options_.ramp) <= now) {
        const std::uint32_t id = next_++;
        Conn& conn = conns_[id];
        conn.started_us = now;
        conn.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        const int one = 1;
        setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(conn.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);  // the port at connect
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(0x7F000002u + id % static_cast<std::uint32_t>(options_.sources));
        if (conn.fd < 0 || bind(conn.fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0 ||
            (connect(conn.fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) != 0 && errno != EINPROGRESS)) {
            ++refused_;
            lose(conn);
            continue;
        }
        epoll_event event{EPOLLIN | EPOLLOUT, {}};
        event.data.u32 = id;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, conn.fd, &event);
    }
}

void Hold::poll(int timeout_ms) {
    epoll_event events[512];
    const int n = epoll_wait(epoll_, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i)
        on_event(events[i].data.u32, events[i].events);
}

void Hold::on_event(std::uint32_t id, std::uint32_t events) {
    if (id == kProbe)
        return;  // read by probe_request
    Conn& conn = conns_[id];
    if (conn.fd < 0)
        return;
    if (!conn.open) {  // the connect's end
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            ++refused_;
            lose(conn);
            return;
        }
        conn.open = true;
        epoll_event event{EPOLLIN, {}};
        event.data.u32 = id;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, conn.fd, &event);
        if (!options_.chat)  // an echo server says nothing first: it is asked
            send(conn.fd, "hello\n", 6, MSG_NOSIGNAL);
    }
    for (;;) {
        const ssize_t got = recv(conn.fd, buffer_, sizeof buffer_, 0);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0) {
            lose(conn);
            return;
        }
        conn.in.append(buffer_, static_cast<std::size_t>(got));
        for (std::size_t end; (end = conn.in.find('\n')) != std::string::npos;) {
            on_line(conn, std::string_view(conn.in).substr(0, end));
            conn.in.erase(0, end + 1);
        }
    }
}

void Hold::on_line(Conn& conn, std::string_view line) {
    const std::uint64_t now = now_us();
    if (!conn.served && !conn.lost) {
        conn.served = true;
        ++served_;
        ++settled_;
        last_served_us_ = now;
        served_wait_.add(now - conn.started_us);
    }
    if (!token_.empty() && !conn.heard && line.find(token_) != std::string_view::npos) {
        conn.heard = true;
        ++heard_count_;
        heard_.add(now - said_us_);
    }
}

void Hold::lose(Conn& conn) {
    if (conn.fd >= 0)
        close(conn.fd);
    conn.fd = -1;
    if (conn.served)
        ++closed_;
    if (!conn.served && !conn.lost) {
        conn.lost = true;
        ++lost_;
        ++settled_;
    }
}

void Hold::expire(std::uint64_t now) {
    const std::uint64_t timeout_us = static_cast<std::uint64_t>(options_.timeout_s) * 1000000;
    for (std::uint32_t id = 0; id < next_; ++id) {
        Conn& conn = conns_[id];
        if (!conn.served && !conn.lost && now - conn.started_us > timeout_us)
            lose(conn);
    }
}

// The probe says one line; every held connection hears it (the room's broadcast).
void Hold::broadcast() {
    token_ = "hold-broadcast-" + std::to_string(now_us());
    said_us_ = now_us();
    const std::string wire = token_ + "\r\n";
    send(probe_, wire.data(), wire.size(), MSG_NOSIGNAL);
    const std::uint64_t deadline = said_us_ + 120000000;
    while (heard_count_ < served_ - closed_ && now_us() < deadline)
        poll(10);
    probe_in_.clear();
}

// One round trip after the other from the probe: how long the one active client waits.
void Hold::pings() {
    for (int i = 0; i < options_.pings; ++i) {
        const std::string token = std::to_string(i);
        const std::uint64_t sent = now_us();
        const std::string reply = options_.chat ? probe_request("/ping " + token, "PONG " + token)
                                                : probe_request("ping " + token, "ping " + token);
        if (reply.empty())
            break;
        round_trip_.add(now_us() - sent);
    }
}

long Hold::stat_field(const std::string& stats, const char* name) {
    const std::string key = std::string(" ") + name + "=";
    const std::size_t at = stats.find(key);
    return at == std::string::npos ? -1 : std::strtol(stats.c_str() + at + key.size(), nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    const char* mode = "chat";
    std::vector<const char*> positional;
    const std::vector<Option> table = {
        Option::Number("--conns", options.conns, 1, 100000),
        Option::Number("--sources", options.sources, 1, 250),
        Option::Number("--ramp", options.ramp, 1, 1000000),
        Option::Number("--timeout", options.timeout_s, 1, 3600),
        Option::Number("--settle", options.settle_s, 0, 3600),
        Option::Number("--pings", options.pings, 0, 100000),
        Option::Text("--mode", mode),
    };
    const char* usage = "usage: holdload --conns N [--sources K] [--ramp C] [--timeout S] [--settle S] [--pings P] "
                        "[--mode chat|echo] HOST PORT\n";
    const int code = parse_options(argc, argv, table, usage, &positional);
    if (code != kOptionsOk)
        return code;
    if (positional.size() != 2 || !parse_int(positional[1], 1, 65535, options.port) ||
        (std::string_view(mode) != "chat" && std::string_view(mode) != "echo")) {
        std::fputs(usage, stderr);
        return kExitBadOptions;
    }
    options.chat = std::string_view(mode) == "chat";
    options.host = positional[0];
    rlimit files{};  // one descriptor a connection
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    Hold hold(options);
    return hold.run();
}

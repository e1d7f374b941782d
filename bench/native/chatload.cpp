// chatload.cpp - a native Linux chat load for the benchmarks (bench/chat.py): client.exe's chat
// bots (bots.h: what each says, every check, the histograms), moved by epoll instead of a
// completion port under Wine.
//
// Why: under Wine 8 a receive that has to wait costs client.exe five or six wineserver round trips,
// about 150 us, as much as the server's send. With 1,000 bots every line is 1,000 receives for the
// load too, so client.exe's own pass over them is half the latency it reports, and a broadcast to
// 10,000 measures client.exe as much as the server. Here a receive costs microseconds: what this
// load measures is the server. It is a benchmark tool, not part of the product.
//
//   chatload --bots N [--mix chat] [--rate R] [--duration S] [--ramp C] [--speakers K] [--burst B] HOST PORT
//
// Same options, progress lines and RESULT line as client.exe --mix chat (IPv4 HOST only).
#include "bots.h"

#include <arpa/inet.h>
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <queue>

namespace {

using bots::Conversation;
using bots::Heard;
using bots::Histogram;

constexpr std::uint64_t kDrainUs = 5000000, kQuietUs = 300000, kConnectTimeoutUs = 15000000;

std::uint64_t now_us() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000 + static_cast<std::uint64_t>(t.tv_nsec) / 1000;
}

struct Bot {
    int fd = -1;
    bool open = false, welcomed_once = false, pacing = false, finished = false;
    Conversation talk;
    proto::ServerLineReader reader;
    std::string out;  // not yet taken by the kernel
    std::uint64_t connect_deadline_us = 0, act_until_us = 0;
    bots::Pace pace;
};

class Load {
public:
    explicit Load(const bots::Options& options) : options_(options), bots_(static_cast<std::size_t>(options.bots)) {}
    int run();

private:
    struct Timer {
        std::uint64_t due_us;
        std::uint32_t bot;
        bool operator>(const Timer& other) const { return due_us > other.due_us; }
    };
    std::uint64_t connect_due_us(std::uint32_t id) const {
        return start_us_ + std::uint64_t{id} * 1000000 / static_cast<std::uint64_t>(options_.ramp);
    }
    bool speaks(std::uint32_t id) const { return options_.speakers == 0 || id < static_cast<std::uint32_t>(options_.speakers); }

    void connect_next(std::uint64_t now);
    void on_event(std::uint32_t id, std::uint32_t events);
    void on_line(Bot& bot, std::uint32_t id, std::string_view line);
    void on_welcomed(Bot& bot, std::uint32_t id);
    void start_pacing(Bot& bot, std::uint32_t id);
    void on_timer(std::uint32_t id, std::uint64_t now);
    void flush(Bot& bot, std::uint32_t id);
    void lose(Bot& bot, int kind);
    void finish(Bot& bot);
    bool done(std::uint64_t now);
    int report();

    const bots::Options& options_;
    std::vector<Bot> bots_;
    int epoll_ = -1;
    sockaddr_in server_{};
    std::uint32_t next_to_connect_ = 0, active_ = 0, settled_ = 0;
    std::vector<std::uint32_t> waiting_speakers_;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    std::uint64_t start_us_ = 0, last_line_us_ = 0, drain_until_us_ = 0;
    std::uint64_t connected_ = 0, failed_ = 0, sent_ = 0, received_ = 0, heard_count_ = 0;
    std::uint64_t interval_sent_ = 0, interval_received_ = 0;
    std::uint64_t errors_[bots::kErrorKinds] = {};
    Histogram own_, heard_, interval_;
    std::unique_ptr<char[]> buffer_{new char[bots::kMostReceiveBytes]};
};

int Load::run() {
    server_.sin_family = AF_INET;
    server_.sin_port = htons(static_cast<std::uint16_t>(options_.port));
    if (inet_pton(AF_INET, options_.host, &server_.sin_addr) != 1) {
        std::fprintf(stderr, "chatload: %s: expected an IPv4 address\n", options_.host);
        return kExitBadOptions;
    }
    epoll_ = epoll_create1(0);
    start_us_ = now_us();
    active_ = static_cast<std::uint32_t>(bots_.size());
    for (std::uint32_t i = 0; i < bots_.size(); ++i)
        bots_[i].talk = Conversation(i, bots::Mix::Chat);
    std::uint64_t next_progress = start_us_ + 1000000;
    epoll_event events[256];
    while (!done(now_us())) {
        const std::uint64_t now = now_us();
        connect_next(now);
        while (!timers_.empty() && timers_.top().due_us <= now) {
            const std::uint32_t id = timers_.top().bot;
            timers_.pop();
            on_timer(id, now);
        }
        if (now >= next_progress) {
            std::printf("t=%llus connected=%llu failed=%llu sent/s=%llu recv/s=%llu p50_ms=%.2f p99_ms=%.2f errors=%llu\n",
                        static_cast<unsigned long long>((now - start_us_) / 1000000), static_cast<unsigned long long>(connected_),
                        static_cast<unsigned long long>(failed_), static_cast<unsigned long long>(interval_sent_),
                        static_cast<unsigned long long>(interval_received_), interval_.percentile_ms(0.5),
                        interval_.percentile_ms(0.99), 0ULL);
            std::fflush(stdout);
            interval_.clear();
            interval_sent_ = interval_received_ = 0;
            next_progress += 1000000;
        }
        std::uint64_t wake = next_progress;
        if (!timers_.empty()) wake = std::min(wake, timers_.top().due_us);
        if (next_to_connect_ < bots_.size())
            wake = std::min(wake, connect_due_us(next_to_connect_));
        const int timeout_ms = wake > now ? static_cast<int>((wake - now + 999) / 1000) : 0;
        const int n = epoll_wait(epoll_, events, 256, std::min(timeout_ms, 50));
        for (int i = 0; i < n; ++i)
            on_event(events[i].data.u32, events[i].events);
    }
    return report();
}

// Bot i is due at i / ramp seconds: a non-blocking connect, its end seen as EPOLLOUT.
void Load::connect_next(std::uint64_t now) {
    while (next_to_connect_ < bots_.size() && connect_due_us(next_to_connect_) <= now) {
        const std::uint32_t id = next_to_connect_++;
        Bot& bot = bots_[id];
        bot.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        const int one = 1;
        setsockopt(bot.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (bot.fd < 0 || (connect(bot.fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_) < 0 && errno != EINPROGRESS)) {
            lose(bot, bots::kConnectFailed);
            continue;
        }
        epoll_event event{EPOLLIN | EPOLLOUT, {}};
        event.data.u32 = id;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, bot.fd, &event);
        bot.connect_deadline_us = now + kConnectTimeoutUs;
        timers_.push({bot.connect_deadline_us, id});
    }
}

void Load::on_event(std::uint32_t id, std::uint32_t events) {
    Bot& bot = bots_[id];
    if (bot.fd < 0)
        return;
    if (!bot.open) {  // the connect's end
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(bot.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            lose(bot, bots::kConnectFailed);
            return;
        }
        bot.open = true;
        ++connected_;
        bot.act_until_us = now_us() + static_cast<std::uint64_t>(options_.duration_s) * 1000000;
        timers_.push({bot.act_until_us, id});
        epoll_event event{EPOLLIN, {}};
        event.data.u32 = id;
        epoll_ctl(epoll_, EPOLL_CTL_MOD, bot.fd, &event);
        return;
    }
    if (events & EPOLLOUT)
        flush(bot, id);
    for (;;) {
        const ssize_t got = recv(bot.fd, buffer_.get(), bots::kMostReceiveBytes, 0);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got <= 0) {
            lose(bot, bots::kConnectionLost);
            return;
        }
        bot.reader.feed(buffer_.get(), static_cast<std::size_t>(got), [&](std::string_view line) { on_line(bot, id, line); });
        if (bot.fd < 0)
            return;
    }
    flush(bot, id);
}

void Load::on_line(Bot& bot, std::uint32_t id, std::string_view line) {
    ++received_;
    ++interval_received_;
    const std::uint64_t now = now_us() - start_us_;  // the tokens carry times since the start
    last_line_us_ = now + start_us_;
    const Heard heard = bot.talk.on_line(line, now, errors_);
    if (heard.kind == Heard::Welcome) {
        on_welcomed(bot, id);
    } else if (heard.kind == Heard::Chat) {
        ++heard_count_;
        const auto burst = static_cast<std::uint64_t>(options_.burst);
        if (heard.sequence % burst == burst - 1)
            heard_.add(heard.round_trip_us);
    } else if (heard.kind == Heard::Reply) {
        own_.add(heard.round_trip_us);
        interval_.add(heard.round_trip_us);
    }
}

// As client.exe: with --speakers, the speakers start once every bot is in (or given up on).
void Load::on_welcomed(Bot& bot, std::uint32_t id) {
    if (bot.welcomed_once)
        return;
    bot.welcomed_once = true;
    if (options_.speakers == 0) {
        start_pacing(bot, id);
        return;
    }
    if (speaks(id))
        waiting_speakers_.push_back(id);
    if (++settled_ == bots_.size()) {
        for (const std::uint32_t speaker : waiting_speakers_) {
            Bot& s = bots_[speaker];
            if (s.fd < 0)
                continue;
            if (s.finished) {
                s.finished = false;
                ++active_;
            }
            s.act_until_us = now_us() + static_cast<std::uint64_t>(options_.duration_s) * 1000000;
            timers_.push({s.act_until_us, speaker});
            start_pacing(s, speaker);
        }
    }
}

void Load::start_pacing(Bot& bot, std::uint32_t id) {
    if (!speaks(id) || bot.finished)
        return;
    bot.pace = bots::Pace(id, options_.rate_milli, now_us());
    bot.pacing = true;
    timers_.push({bot.pace.next_due_us(), id});
}

void Load::on_timer(std::uint32_t id, std::uint64_t now) {
    Bot& bot = bots_[id];
    if (bot.fd < 0 || bot.finished)
        return;
    if (!bot.open) {
        if (now >= bot.connect_deadline_us)
            lose(bot, bots::kConnectFailed);
        return;
    }
    if (now >= bot.act_until_us) {
        finish(bot);
        return;
    }
    if (!bot.pacing || now < bot.pace.next_due_us())
        return;
    for (std::uint64_t owed = bot.pace.take(now); owed > 0; --owed)
        for (int i = 0; i < options_.burst && bot.talk.can_send(); ++i) {
            bot.talk.compose(now - start_us_, bot.out);
            ++sent_;
            ++interval_sent_;
        }
    flush(bot, id);
    timers_.push({bot.pace.next_due_us(), id});
}

// What the kernel takes now; the rest waits for EPOLLOUT.
void Load::flush(Bot& bot, std::uint32_t id) {
    if (bot.fd < 0 || bot.out.empty())
        return;
    const ssize_t put = send(bot.fd, bot.out.data(), bot.out.size(), MSG_NOSIGNAL);
    if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        lose(bot, bots::kConnectionLost);
        return;
    }
    bot.out.erase(0, put > 0 ? static_cast<std::size_t>(put) : 0);
    epoll_event event{bot.out.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT, {}};
    event.data.u32 = id;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, bot.fd, &event);
}

void Load::lose(Bot& bot, int kind) {
    if (!bot.open && kind == bots::kConnectFailed)
        ++failed_;
    ++errors_[kind];
    errors_[bots::kRepliesMissing] += bot.talk.awaiting();
    bot.talk.forget_awaited();
    if (bot.fd >= 0)
        close(bot.fd);
    bot.fd = -1;
    if (options_.speakers > 0 && !bot.welcomed_once) {
        bot.welcomed_once = true;
        ++settled_;  // given up on: the speakers do not wait for it
    }
    finish(bot);
}

void Load::finish(Bot& bot) {
    if (!bot.finished) {
        bot.finished = true;
        --active_;
    }
}

// Over when every bot is done, nothing is awaited and no line came for kQuietUs (or the drain
// deadline passed).
bool Load::done(std::uint64_t now) {
    if (active_ > 0 || next_to_connect_ < bots_.size())
        return false;
    if (drain_until_us_ == 0)
        drain_until_us_ = now + kDrainUs;
    bool awaiting = false;
    for (const Bot& bot : bots_)
        awaiting = awaiting || (bot.fd >= 0 && (bot.talk.awaiting() > 0 || !bot.talk.welcomed()));
    return now >= drain_until_us_ || (!awaiting && now >= last_line_us_ + kQuietUs);
}

int Load::report() {
    std::uint64_t errors = 0;
    for (Bot& bot : bots_) {
        if (bot.fd >= 0) {
            errors_[bots::kRepliesMissing] += bot.talk.awaiting();
            if (!bot.talk.welcomed())
                ++errors_[bots::kNoWelcome];
            close(bot.fd);
        }
    }
    for (int kind = 0; kind < bots::kErrorKinds; ++kind) {
        errors += errors_[kind];
        if (errors_[kind] != 0)
            std::printf("    %-38s %llu\n", bots::kErrorNames[kind], static_cast<unsigned long long>(errors_[kind]));
    }
    auto n = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    std::printf("RESULT bots=%d connected=%llu failed=%llu sent=%llu received=%llu errors=%llu p50_ms=%.2f p99_ms=%.2f "
                "max_ms=%.2f heard=%llu heard_p50_ms=%.2f heard_p99_ms=%.2f heard_max_ms=%.2f\n",
                options_.bots, n(connected_), n(failed_), n(sent_), n(received_), n(errors), own_.percentile_ms(0.5),
                own_.percentile_ms(0.99), own_.max_ms(), n(heard_count_), heard_.percentile_ms(0.5),
                heard_.percentile_ms(0.99), heard_.max_ms());
    return errors == 0 && connected_ == bots_.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    bots::Options options;
    options.duration_s = 10;
    std::vector<const char*> positional;
    const char* mix = "chat";
    const std::vector<Option> table = {
        Option::Text("--mix", mix),  // chat only: taken so that client.exe's command lines work here
        Option::Number("--bots", options.bots, 1, 100000),
        Option::Number("--duration", options.duration_s, 1, 86400),
        Option::Fraction("--rate", options.rate_milli, 1, 1000 * 1000),
        Option::Number("--ramp", options.ramp, 1, 100000),
        Option::Number("--burst", options.burst, 1, static_cast<int>(bots::kMaxOutstanding)),
        Option::Number("--speakers", options.speakers, 1, 100000),
    };
    const char* usage =
        "usage: chatload --bots N [--mix chat] [--rate R] [--duration S] [--ramp C] [--speakers K] [--burst B] HOST PORT\n";
    const int code = parse_options(argc, argv, table, usage, &positional);
    if (code != kOptionsOk)
        return code;
    if (options.bots == 0 || positional.size() != 2 || !parse_int(positional[1], 1, 65535, options.port) ||
        std::string_view(mix) != "chat") {
        std::fputs(usage, stderr);
        return kExitBadOptions;
    }
    options.host = positional[0];
    rlimit files{};  // one descriptor a bot
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    Load load(options);
    return load.run();
}

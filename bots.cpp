// bots.cpp - client.exe's stress test: N bots on one completion port, from one thread.
//
// Connections are opened with ConnectEx at the ramp rate; each bot has one WSARecv and at most one
// WSASend outstanding, like a server client, and acts on a timer heap that says which bot is due
// next. What a bot says and how each reply is checked is bots.h (Windows-free, unit-tested); this
// file moves the bytes, keeps the time and counts.
#include "bots.h"
#include "connect.h"
#include "iocp.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

namespace bots {
namespace {

constexpr ULONG kCompletionBatch = 128;
constexpr std::size_t kReadsPerTurn = 128;  // receives posted per loop turn (see read_deferred)
constexpr std::uint64_t kProgressEveryMs = 1000;
constexpr std::uint64_t kDrainMs = 5000;  // after the run, how long outstanding replies are awaited
constexpr std::uint64_t kInterruptDrainMs = 1000;  // the same after Ctrl+C (a second one: none)
// Chat: the run ends only once no line came for this long, so the other bots' last lines, which
// may arrive after the sender's own, are heard and checked too.
constexpr std::uint64_t kChatQuietMs = 300;
// A connect the OS has not finished by then counts as failed: a run always ends, even against a
// host that drops SYNs (Linux under Wine would wait about two minutes).
constexpr std::uint64_t kConnectTimeoutMs = 15000;

struct Bot {
    Link link;
    Conversation talk;
    std::uint32_t id = 0;
    bool reconnecting = false;  // closed on purpose; connects again once nothing is pending
    bool served = false;        // the server has answered it once
    bool served_welcome = false;  // --speakers: its first welcome was counted
    bool finished = false;      // acted for its whole duration
    bool pacing = false;        // its actions are due on the clock (not a listener, not before its start)
    std::uint64_t session_until_ms = 0;  // --reconnect: when this connection is due to close
    std::uint64_t connect_started_us = 0;
    std::uint64_t connect_deadline_ms = 0;  // this connect counts as failed if still pending then
    std::uint64_t act_until_ms = 0;
    Pace pace;                         // when its next actions are due
};

struct Totals {
    std::uint64_t connected = 0, failed = 0, sent = 0, received = 0, reconnects = 0;
    std::uint64_t heard = 0;  // chat: the other bots' lines, each checked
    std::uint64_t errors[kErrorKinds] = {};
    std::uint64_t error_total() const {
        std::uint64_t sum = 0;
        for (std::uint64_t e : errors)
            sum += e;
        return sum;
    }
};

class BotRun {
public:
    BotRun(const Options& options, Network& net) : options_(options), net_(net) {}
    int run();

private:
    struct Timer {
        std::uint64_t due_ms;
        std::uint32_t bot;
        bool operator>(const Timer& other) const { return due_ms > other.due_ms; }
    };

    bool turn();
    DWORD wait_ms(std::uint64_t now, std::uint64_t next_progress_ms) const;
    void dispatch(const OVERLAPPED_ENTRY& entry);
    bool begin_connect(Bot& bot, bool retry = false);
    void on_connect_done(Bot& bot, DWORD error);
    void fail_connect(Bot& bot, ErrorKind kind, DWORD error);
    void read_deferred();
    void on_recv_done(Bot& bot, DWORD bytes, DWORD error);
    void on_line(Bot& bot, std::string_view line);
    void on_timer(Bot& bot);
    void start_acting(Bot& bot);
    void on_welcome(Bot& bot);
    void everyone_in();
    void send_message(Bot& bot);
    void hang_up(Bot& bot);
    void start_session(Bot& bot);
    void lose(Bot& bot, ErrorKind kind);
    void finish(Bot& bot);
    bool awaiting_replies() const;
    void report_progress(std::uint64_t now_ms);
    void learn_budget(std::string_view line);
    std::uint64_t drain_ms() const;
    void report_budget() const;
    int report_result();

    void schedule(Bot& bot, std::uint64_t due_ms) { timers_.push({due_ms, bot.id}); }
    bool echo_closed_loop(const Bot& bot) const { return bot.talk.mix() == Mix::Echo && options_.depth > 0; }
    bool speaks(const Bot& bot) const { return options_.speakers == 0 || bot.id < static_cast<std::uint32_t>(options_.speakers); }
    bool chat_run() const { return bot_count_ > 0 && bots_[0].talk.mix() == Mix::Chat; }
    void act(Bot& bot, std::uint64_t now_us);
    std::uint64_t connect_due_ms(std::uint32_t bot) const {
        return static_cast<std::uint64_t>(bot) * 1000 / static_cast<std::uint64_t>(options_.ramp);
    }

    const Options& options_;
    Network& net_;
    Clock clock_;
    std::unique_ptr<Bot[]> bots_;
    std::unique_ptr<ReceiveSpace> receive_space_;  // each bot's receive buffer
    std::uint32_t bot_count_ = 0;
    std::uint32_t next_to_connect_ = 0;
    std::uint32_t active_bots_ = 0;  // not yet done: connecting, awaiting the welcome, or acting
    // Every bot's next deadline (connect, welcome, action) in one min-heap: the loop sleeps until
    // the earliest. A bot may have a few entries; each checks its own condition when it comes due.
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
    Totals totals_;
    Histogram all_, interval_;
    Histogram served_;  // from starting a connect to the server's first line: how fast it accepts
    Histogram heard_;   // chat: from a line's sending to each other bot hearing it (a burst: its last line)
    std::uint64_t last_line_ms_ = 0;
    // --speakers: bots in the room or given up on; the speakers start once it is all of them.
    std::uint32_t settled_ = 0;
    std::vector<std::uint32_t> waiting_speakers_;
    std::uint64_t interval_sent_ = 0, interval_received_ = 0;
    std::uint64_t next_progress_ms_ = kProgressEveryMs;
    int line_rate_ = -1, line_burst_ = -1;  // the server's input budget, from bot 0's /stats (-1: not known)
    bool interrupted_ = false;
    std::uint64_t drain_until_ms_ = 0;  // set once every bot has finished acting, or on Ctrl+C
    std::unique_ptr<OVERLAPPED_ENTRY[]> entries_{new OVERLAPPED_ENTRY[kCompletionBatch]};
    // Bots whose next receive waits for the end of a turn. As in the server, it is posted after the
    // bot's own sends have gone out, so it often completes at once instead of waiting in the kernel:
    // the load generator stays ahead of the server.
    SlotQueue to_read_;
};

int BotRun::run() {
    bot_count_ = static_cast<std::uint32_t>(options_.bots);
    bots_ = std::make_unique<Bot[]>(bot_count_);
    receive_space_ = std::make_unique<ReceiveSpace>(bot_count_, receive_bytes_per_bot(bot_count_));
    for (std::uint32_t i = 0; i < bot_count_; ++i) {
        receive_space_->give(bots_[i].link, i);
        bots_[i].id = i;
        bots_[i].talk = Conversation(i, options_.mixes[i % options_.mixes.size()]);
    }
    active_bots_ = bot_count_;
    to_read_.reserve(bot_count_);
    post_to_port_on_console_stop(net_.port);
    while (turn()) {
    }
    return report_result();
}

// One loop turn: connects and timers that are due, then the completions, then the held-back
// receives. False when the run is over.
bool BotRun::turn() {
    const std::uint64_t now = clock_.ms();
    // Connections are opened at the ramp rate: bot i is due at i / ramp seconds.
    while (next_to_connect_ < bot_count_ && connect_due_ms(next_to_connect_) <= now)
        begin_connect(bots_[next_to_connect_++]);
    while (!timers_.empty() && timers_.top().due_ms <= now) {
        Bot& bot = bots_[timers_.top().bot];
        timers_.pop();
        on_timer(bot);
    }
    if (now >= next_progress_ms_) {
        report_progress(now);
        next_progress_ms_ += kProgressEveryMs;
    }
    if (drain_until_ms_ == 0 && active_bots_ == 0)
        drain_until_ms_ = now + drain_ms();  // every bot is done acting: wait for the last replies
    const bool quiet = !chat_run() || now >= last_line_ms_ + kChatQuietMs;
    if (drain_until_ms_ != 0 && ((quiet && !awaiting_replies()) || now >= drain_until_ms_))
        return false;
    const int count = dequeue(net_.port, entries_.get(), kCompletionBatch, wait_ms(now, next_progress_ms_));
    if (count < 0)
        return false;
    for (int i = 0; i < count; ++i)
        dispatch(entries_[i]);
    read_deferred();
    return true;
}

// Sleep until the next thing is due: a connect, a bot's timer, the progress line. Bots waiting to
// be read from must not wait for a completion that may not come.
DWORD BotRun::wait_ms(std::uint64_t now, std::uint64_t next_progress_ms) const {
    std::uint64_t wake = next_progress_ms;
    if (!timers_.empty())
        wake = std::min(wake, timers_.top().due_ms);
    if (next_to_connect_ < bot_count_)
        wake = std::min(wake, connect_due_ms(next_to_connect_));
    if (drain_until_ms_ != 0)
        wake = std::min(wake, now + 50);
    return wake > now && to_read_.empty() ? static_cast<DWORD>(wake - now) : 0;
}

void BotRun::dispatch(const OVERLAPPED_ENTRY& entry) {
    if (entry.lpOverlapped == nullptr) {  // posted by the console handler, not an I/O
        if (entry.lpCompletionKey == kStopKey) {
            // Ctrl+C: no more connects or actions; what is in flight gets a moment to come back,
            // so the report does not count it as missing. A second Ctrl+C reports at once.
            drain_until_ms_ = clock_.ms() + (interrupted_ ? 0 : kInterruptDrainMs);
            interrupted_ = true;
            next_to_connect_ = bot_count_;
            while (!timers_.empty())
                timers_.pop();
        }
        return;
    }
    if (entry.lpCompletionKey >= bot_count_) {
        std::fprintf(stderr, "error: completion with unknown key %llu ignored\n",
                     static_cast<unsigned long long>(entry.lpCompletionKey));
        return;
    }
    Bot& bot = bots_[entry.lpCompletionKey];
    Operation& op = *operation_of(entry.lpOverlapped);
    bot.link.finish(op);
    if (bot.link.state == LinkState::Closed) {  // cancelled by our own close
        // A link is reused only when nothing posted on the old socket is left to complete.
        if (bot.reconnecting && bot.link.pending == 0)
            start_session(bot);
        return;
    }
    const DWORD error = completion_error(bot.link.socket, entry.lpOverlapped);
    switch (op.type) {
    case Op::Connect: on_connect_done(bot, error); break;
    case Op::Recv: on_recv_done(bot, entry.dwNumberOfBytesTransferred, error); break;
    case Op::Send:
        if (!on_sent(bot.link, entry.dwNumberOfBytesTransferred, error))
            lose(bot, kConnectionLost);
        break;
    case Op::Accept: break;
    }
}

// True while an open connection still awaits a reply or its welcome (checked only once the bots
// are done): a bot that reconnected just before its time was up is owed a welcome, not faulted.
bool BotRun::awaiting_replies() const {
    for (std::uint32_t i = 0; i < bot_count_; ++i)
        if (bots_[i].link.state == LinkState::Open && (bots_[i].talk.awaiting() > 0 || !bots_[i].talk.welcomed()))
            return true;
    return false;
}

// Posts the bot's ConnectEx (to the server's next address on `retry`), with a deadline on the
// timer heap in case it never completes.
bool BotRun::begin_connect(Bot& bot, bool retry) {
    if (!retry) {
        bot.connect_started_us = clock_.us();
        bot.connect_deadline_ms = clock_.ms() + kConnectTimeoutMs;
    }
    const Address* source = net_.sources.empty() ? nullptr : &net_.sources[bot.id % net_.sources.size()];
    ConnectStep step = ConnectStep::Connect;
    DWORD failure = 0;
    if (!connect_link(net_, bot.link, bot.id, source, retry, step, failure)) {
        fail_connect(bot, step == ConnectStep::Bind ? kBindFailed : kConnectFailed, failure);
        return false;
    }
    if (!retry)
        schedule(bot, bot.connect_deadline_ms);
    return true;
}

void BotRun::fail_connect(Bot& bot, ErrorKind kind, DWORD failure) {
    ++totals_.failed;
    ++totals_.errors[kind];
    close_link(bot.link);  // a connect still pending is cancelled; its completion is ignored
    finish(bot);
    if (options_.speakers > 0 && ++settled_ == bot_count_)
        everyone_in();
    if (totals_.failed <= 3)
        std::fprintf(stderr, "bot %u: cannot connect to %s:%d: %s%s\n", bot.id, options_.host, options_.port,
                     kind == kBindFailed ? "bind failed: " : "", error_text(failure).c_str());
}

void BotRun::on_connect_done(Bot& bot, DWORD failure) {
    if (failure != 0 && may_retry(net_, bot.link)) {
        begin_connect(bot, true);
        return;
    }
    if (failure != 0) {
        fail_connect(bot, kConnectFailed, failure);
        return;
    }
    finish_connect(net_, bot.link);
    bot.link.skip_completion_on_success = net_.skip_on_success && skip_completion_port_on_success(bot.link.socket);
    if (bot.act_until_ms == 0) {  // its first connection; later ones are reconnects
        ++totals_.connected;
        bot.act_until_ms = clock_.ms() + static_cast<std::uint64_t>(options_.duration_s) * 1000;
    }
    if (options_.reconnect_s > 0)
        bot.session_until_ms = clock_.ms() + static_cast<std::uint64_t>(options_.reconnect_s) * 1000;
    to_read_.push(bot.id);
    // The end of its time is a deadline too: a chat bot whose welcome never comes (a server that
    // is not a chat server, or one that hangs) is finished then, not waited for for ever.
    schedule(bot, bot.act_until_ms);
    if (bot.talk.mix() == Mix::Echo)  // the echo server sends no welcome: start at once
        start_acting(bot);
}

// Welcomed (or connected, for echo bots): the first action, or the whole pipeline of them.
void BotRun::start_acting(Bot& bot) {
    if (echo_closed_loop(bot)) {
        for (int i = 0; i < options_.depth; ++i)
            send_message(bot);
        if (!flush(bot.link))
            lose(bot, kConnectionLost);
        return;  // replies drive the sending from now on; the deadline at act_until_ms ends it
    }
    if (!speaks(bot))
        return;  // a listener: it hears and checks, until its time is up
    bot.pace = Pace(bot.id, options_.rate_milli, clock_.us());
    bot.pacing = true;
    schedule(bot, (bot.pace.next_due_us() + 999) / 1000);
}

// A bot is in the room. With --speakers, the speakers wait for everyone, so that each line they
// say is heard by the whole crowd, and their time starts then.
void BotRun::on_welcome(Bot& bot) {
    if (options_.speakers == 0) {
        if (!bot.finished)
            start_acting(bot);
        return;
    }
    if (bot.served_welcome) {  // a reconnect: counted the first time
        if (!bot.finished && settled_ == bot_count_)
            start_acting(bot);
        return;
    }
    bot.served_welcome = true;
    if (speaks(bot))
        waiting_speakers_.push_back(bot.id);
    if (++settled_ == bot_count_)
        everyone_in();
}

void BotRun::everyone_in() {
    for (const std::uint32_t id : waiting_speakers_) {
        Bot& bot = bots_[id];
        if (bot.link.state != LinkState::Open)
            continue;
        if (bot.finished) {  // its time ran out while the crowd came in: it gets its time now
            bot.finished = false;
            ++active_bots_;
        }
        bot.act_until_ms = clock_.ms() + static_cast<std::uint64_t>(options_.duration_s) * 1000;
        schedule(bot, bot.act_until_ms);
        start_acting(bot);
    }
    waiting_speakers_.clear();
}

// Oldest first and at most kReadsPerTurn, so a turn stays short and connects, timers and progress
// lines keep their pace; a bot whose receive completes at once goes to the back of the queue.
void BotRun::read_deferred() {
    for (std::size_t n = std::min(to_read_.size(), kReadsPerTurn); n > 0; --n) {
        Bot& bot = bots_[to_read_.pop()];
        if (bot.link.state != LinkState::Open)
            continue;  // closed since it was queued; its next connect queues it again
        DWORD bytes = 0, error = 0;
        switch (bot.link.post_recv(bytes, error)) {
        case Posted::Pending: break;
        case Posted::Failed: lose(bot, kConnectionLost); break;
        case Posted::DoneNow: on_recv_done(bot, bytes, 0); break;
        }
    }
}

void BotRun::on_recv_done(Bot& bot, DWORD bytes, DWORD failure) {
    if (failure != 0 || bytes == 0) {
        lose(bot, kConnectionLost);
        return;
    }
    bot.link.reader.feed(bot.link.recv_buffer, bytes, [&](std::string_view line) { on_line(bot, line); });
    if (bot.link.state != LinkState::Open)
        return;
    if (!flush(bot.link)) {
        lose(bot, kConnectionLost);
        return;
    }
    to_read_.push(bot.id);
}

void BotRun::on_line(Bot& bot, std::string_view line) {
    ++totals_.received;
    ++interval_received_;
    const std::uint64_t now = clock_.us();
    last_line_ms_ = now / 1000;
    if (bot.id == 0 && starts_with(line, "STATS "))
        learn_budget(line);  // the answer to its /stats: other lines than replies are not checked
    if (!bot.served) {
        bot.served = true;
        served_.add(now - bot.connect_started_us);
    }
    const Heard heard = bot.talk.on_line(line, now, totals_.errors);
    if (heard.kind == Heard::Welcome && bot.id == 0 && line_rate_ < 0)
        bot.link.out.queue("/stats\r\n");  // the server's input budget, for the summary
    if (heard.kind == Heard::Welcome) {
        on_welcome(bot);
    } else if (heard.kind == Heard::Chat) {
        ++totals_.heard;
        const auto burst = static_cast<std::uint64_t>(options_.burst);
        if (heard.sequence % burst == burst - 1)  // a burst is heard when its last line is
            heard_.add(heard.round_trip_us);
    } else if (heard.kind == Heard::Reply) {
        all_.add(heard.round_trip_us);
        interval_.add(heard.round_trip_us);
        if (echo_closed_loop(bot) && bot.link.state == LinkState::Open && clock_.ms() < bot.act_until_ms &&
            !interrupted_)
            send_message(bot);
    }
}

// One of the bot's timers is due: its connect deadline, the end of its time, or its next action.
// Each checks its own condition, so a timer that has become pointless does nothing.
void BotRun::on_timer(Bot& bot) {
    const std::uint64_t now = clock_.ms();
    if (bot.link.state == LinkState::Connecting) {
        // A connect whose completion waits in our own port behind others (thousands of bots keep
        // this thread busier than its core) has connected all the same: it is not a lost connect,
        // and its completion will come (make bench's hold 10000 counted thousands of these).
        if (now >= bot.connect_deadline_ms && !has_connected(bot.link.socket))
            fail_connect(bot, kConnectFailed, WSAETIMEDOUT);
        return;
    }
    if (bot.link.state != LinkState::Open || bot.finished)
        return;
    if (now >= bot.act_until_ms) {
        finish(bot);  // a welcome still on its way is awaited like a reply (see awaiting_replies)
        return;
    }
    if (!bot.pacing || clock_.us() < bot.pace.next_due_us())
        return;  // not acting on the clock (yet), or an action already taken
    act(bot, clock_.us());
}

// The actions that are due (Pace), each of --burst messages.
void BotRun::act(Bot& bot, std::uint64_t now_us) {
    const bool session_over = bot.session_until_ms != 0 && now_us / 1000 >= bot.session_until_ms;
    if (session_over && bot.talk.awaiting() == 0) {
        hang_up(bot);
        return;
    }
    for (std::uint64_t owed = bot.pace.take(now_us); owed > 0; --owed)
        for (int i = 0; i < options_.burst && !session_over && bot.talk.can_send(); ++i)
            send_message(bot);
    if (!flush(bot.link)) {
        lose(bot, kConnectionLost);
        return;
    }
    schedule(bot, (bot.pace.next_due_us() + 999) / 1000);
}

// Queues one action of the bot's mix; the conversation remembers what must come back.
void BotRun::send_message(Bot& bot) {
    std::string wire;
    bot.talk.compose(clock_.us(), wire);
    bot.link.out.queue(wire);
    ++totals_.sent;
    ++interval_sent_;
}

// --reconnect: the session is over and every reply is in; close gracefully and come back.
void BotRun::hang_up(Bot& bot) {
    bot.reconnecting = true;
    close_link(bot.link);
    if (bot.link.pending == 0)
        start_session(bot);
}

// A new connection for a bot that hung up: a fresh link on the same slot (nothing is pending).
void BotRun::start_session(Bot& bot) {
    bot.reconnecting = false;
    bot.pacing = false;  // until its welcome
    bot.talk.restart();
    bot.link.out.reset(0);
    bot.link.skip_completion_on_success = false;
    bot.link.shutdown_after_send = false;
    bot.link.reader = proto::ServerLineReader{};
    ++bot.link.generation;
    ++totals_.reconnects;
    begin_connect(bot);
}

void BotRun::finish(Bot& bot) {
    if (bot.finished)
        return;
    bot.finished = true;
    --active_bots_;
}

void BotRun::lose(Bot& bot, ErrorKind kind) {
    if (bot.link.state == LinkState::Closed)
        return;
    finish(bot);
    ++totals_.errors[kind];
    totals_.errors[kRepliesMissing] += bot.talk.awaiting();
    bot.talk.forget_awaited();
    close_link(bot.link);
}

void BotRun::report_progress(std::uint64_t now_ms) {
    std::printf("t=%llus connected=%llu failed=%llu sent/s=%llu recv/s=%llu p50_ms=%.2f p99_ms=%.2f errors=%llu\n",
                static_cast<unsigned long long>(now_ms / 1000), static_cast<unsigned long long>(totals_.connected),
                static_cast<unsigned long long>(totals_.failed), static_cast<unsigned long long>(interval_sent_),
                static_cast<unsigned long long>(interval_received_), interval_.percentile_ms(0.50),
                interval_.percentile_ms(0.99), static_cast<unsigned long long>(totals_.error_total()));
    std::fflush(stdout);
    interval_.clear();
    interval_sent_ = interval_received_ = 0;
}

// "STATS ... line_rate=20 line_burst=60 ...": what the server lets each connection send.
void BotRun::learn_budget(std::string_view line) {
    auto field = [&](std::string_view name) {
        const std::size_t at = line.find(" " + std::string(name) + "=");
        return at == std::string_view::npos ? -1 : std::atoi(std::string(line.substr(at + name.size() + 2, 12)).c_str());
    };
    line_rate_ = field("line_rate");
    line_burst_ = field("line_burst");
}

// After the bots' time, replies are awaited for kDrainMs; more when the server's budget says a
// backlog of them takes longer to be answered.
std::uint64_t BotRun::drain_ms() const {
    if (line_rate_ <= 0)
        return kDrainMs;
    return kDrainMs + static_cast<std::uint64_t>(kMaxOutstanding) * 1000 / static_cast<std::uint64_t>(line_rate_);
}

// Bots sending faster than the server reads a connection are slowed down, not failed: said so.
void BotRun::report_budget() const {
    if (line_rate_ <= 0 || options_.rate_milli * options_.burst <= line_rate_ * 1000 || echo_closed_loop(bots_[0]))
        return;
    std::printf("  %-40s %d lines/s a connection (burst %d); these bots send %g/s: the server reads them\n"
                "  %-40s that fast, so replies come slower (that is not an error)\n",
                "server's input budget", line_rate_, line_burst_, options_.rate_milli * options_.burst / 1000.0, "");
}

int BotRun::report_result() {
    for (std::uint32_t i = 0; i < bot_count_; ++i) {
        Bot& bot = bots_[i];
        if (bot.link.state == LinkState::Open) {
            totals_.errors[kRepliesMissing] += bot.talk.awaiting();
            if (!bot.talk.welcomed())
                ++totals_.errors[kNoWelcome];
        }
        close_link(bot.link);
    }
    auto n = [](std::uint64_t value) { return static_cast<unsigned long long>(value); };
    const unsigned long long errors = totals_.error_total();
    std::printf("\n  %-40s %llu\n", "bots", n(bot_count_));
    std::printf("  %-40s %llu\n", "connected", n(totals_.connected));
    std::printf("  %-40s %llu\n", "failed", n(totals_.failed));
    std::printf("  %-40s %llu\n", "sent", n(totals_.sent));
    std::printf("  %-40s %llu\n", "received", n(totals_.received));
    std::printf("  %-40s %llu\n", "reconnects", n(totals_.reconnects));
    std::printf("  %-40s %llu\n", "errors", errors);
    for (int kind = 0; kind < kErrorKinds; ++kind)
        if (totals_.errors[kind] != 0)
            std::printf("    %-38s %llu\n", kErrorNames[kind], n(totals_.errors[kind]));
    report_budget();
    std::printf("  %-40s p50 %.2f  p99 %.2f  max %.2f  (%llu replies timed)\n", "round trip ms",
                all_.percentile_ms(0.50), all_.percentile_ms(0.99), all_.max_ms(), n(all_.total()));
    if (chat_run())
        std::printf("  %-40s p50 %.2f  p99 %.2f  max %.2f  (%llu of %llu lines heard%s)\n",
                    "other bots' lines, sent to heard ms", heard_.percentile_ms(0.50), heard_.percentile_ms(0.99),
                    heard_.max_ms(), n(heard_.total()), n(totals_.heard), options_.burst > 1 ? ": bursts, by their last" : "");
    std::printf("\n");
    std::printf("SERVED bots=%llu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n(served_.total()),
                served_.percentile_ms(0.50), served_.percentile_ms(0.99), served_.max_ms());
    std::printf("RESULT bots=%d connected=%llu failed=%llu sent=%llu received=%llu errors=%llu p50_ms=%.2f "
                "p99_ms=%.2f max_ms=%.2f",
                options_.bots, n(totals_.connected), n(totals_.failed), n(totals_.sent), n(totals_.received), errors,
                all_.percentile_ms(0.50), all_.percentile_ms(0.99), all_.max_ms());
    if (chat_run())
        std::printf(" heard=%llu heard_p50_ms=%.2f heard_p99_ms=%.2f heard_max_ms=%.2f", n(totals_.heard),
                    heard_.percentile_ms(0.50), heard_.percentile_ms(0.99), heard_.max_ms());
    std::printf("\n");
    std::fflush(stdout);
    const bool all_connected = totals_.connected == static_cast<std::uint64_t>(options_.bots);
    return errors == 0 && all_connected ? 0 : 1;
}

// --source ADDR or ADDR+N: the local addresses bots connect from, bot i from the (i mod count)-th.
// N consecutive IPv4 addresses from ADDR: 127.0.0.2+8 is 127.0.0.2 to 127.0.0.9.
bool source_addresses(const char* text, std::vector<Address>& sources) {
    if (!text)
        return true;
    const std::string spec = text;
    const std::size_t plus = spec.find('+');
    int count = 1;
    Address first;
    if (!parse_address(spec.substr(0, plus).c_str(), 0, first.storage, first.length) ||
        (plus != std::string::npos && (!parse_int(spec.c_str() + plus + 1, 1, 256, count) || first.family() != AF_INET))) {
        std::fprintf(stderr, "error: --source %s: expected an address, or an IPv4 address+COUNT\n", text);
        return false;
    }
    for (int i = 0; i < count; ++i) {
        Address next = first;
        auto* v4 = reinterpret_cast<sockaddr_in*>(&next.storage);
        if (first.family() == AF_INET)
            v4->sin_addr.s_addr = htonl(ntohl(v4->sin_addr.s_addr) + static_cast<u_long>(i));
        sources.push_back(next);
    }
    return true;
}

}  // namespace

int run_bots(const Options& options) {
    Network net;
    if (!open_network(options.host, options.port, net) || !source_addresses(options.source, net.sources))
        return 1;
    BotRun run(options, net);
    return run.run();
}

}  // namespace bots

// The event loop: one thread, one io_context. Transport bytes go into the session, session
// bytes go out through one write at a time, session events drive the sub/pub behaviour.
#include "mqtt/overloaded.hpp"
#include "wsmqtt/client.hpp"

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/session.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <csignal>
#include <random>
#include <unordered_set>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);


mqtt::session_options session_options_from(config const& cfg)
{
    mqtt::session_options o;
    o.connect.version = cfg.version;
    o.connect.client_id = cfg.client_id;
    o.connect.clean_session = cfg.clean_session;
    o.connect.keep_alive = cfg.keepalive;
    o.connect.username = cfg.username;
    o.connect.password = cfg.password;
    o.connect.will = cfg.will;
    o.connack_timeout = cfg.connect_timeout;
    o.max_packet_size = cfg.max_packet_size;
    return o;
}

/// One line per packet for -d; never the password.
void trace_packet(mqtt::direction dir, mqtt::packet const& p, std::size_t attached, bool colour)
{
    // Sent in cyan, received in green, the packet name in bold: when stderr is a terminal.
    auto const verb = dir == mqtt::direction::sent ? paint("sent", "36", colour) : paint("received", "32", colour);
    std::string detail = std::visit(
        overloaded{
            [](mqtt::connect const& c) {
                return fmt::format(" (client id '{}', clean {}, keepalive {}, user {}, password {})", c.client_id,
                                   c.clean_session ? 1 : 0, c.keep_alive, c.username ? "'" + *c.username + "'" : "none",
                                   c.password ? "****" : "none");
            },
            [](mqtt::connack const& c) {
                return fmt::format(" (session present {}, return code {})", c.session_present ? 1 : 0, c.return_code);
            },
            [attached](mqtt::publish const& m) {
                return fmt::format(" (id {}, q{}, r{}, d{}, '{}', {} bytes)", m.packet_id, static_cast<int>(m.qos),
                                   m.retain ? 1 : 0, m.dup ? 1 : 0, m.topic, m.payload.size() + attached);
            },
            [](mqtt::subscribe const& s) {
                std::string filters;
                for (auto const& sub : s.subscriptions)
                    filters += fmt::format(" '{}' q{}", sub.filter, static_cast<int>(sub.qos));
                return fmt::format(" (id {},{})", s.packet_id, filters);
            },
            [](mqtt::suback const& s) { return fmt::format(" (id {}, codes {})", s.packet_id, fmt::join(s.return_codes, ",")); },
            [](auto const& other) -> std::string {
                if constexpr (requires { other.packet_id; })
                    return fmt::format(" (id {})", other.packet_id);
                else
                    return {};
            },
        },
        p);
    fmt::print(stderr, "wsmqtt: {} {}{}\n", verb, paint(mqtt::packet_name(mqtt::type_number(p)), "1", colour), detail);
}

/// Standard input for `pub -l`: asynchronous for pipes and terminals, plain reads for regular
/// files and /dev/null (which epoll cannot wait on; they never block anyway).
class stdin_reader {
public:
    explicit stdin_reader(net::any_io_executor executor) : stream_{std::move(executor)}, buffer_(64 * 1024)
    {
        struct stat st {};
        bool const waitable = ::fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode));
        saved_flags_ = ::fcntl(STDIN_FILENO, F_GETFL);
        if (waitable) {
            boost::system::error_code ec;
            stream_.assign(::dup(STDIN_FILENO), ec);
            async_ = !ec;
        }
    }
    stdin_reader(stdin_reader const&) = delete;
    stdin_reader& operator=(stdin_reader const&) = delete;
    ~stdin_reader()
    {
        // Asio made the descriptor non-blocking; the terminal is shared with the shell.
        if (saved_flags_ != -1) ::fcntl(STDIN_FILENO, F_SETFL, saved_flags_);
    }

    /// Appends what is available to `into`; false at the end of input.
    net::awaitable<bool> read(std::string& into)
    {
        std::size_t n = 0;
        if (async_) {
            auto [ec, got] = co_await stream_.async_read_some(net::buffer(buffer_), use_tuple);
            if (ec) co_return false;
            n = got;
        } else {
            ssize_t got = 0;
            do got = ::read(STDIN_FILENO, buffer_.data(), buffer_.size());
            while (got < 0 && errno == EINTR);
            if (got <= 0) co_return false;
            n = static_cast<std::size_t>(got);
        }
        into.append(buffer_.data(), n);
        co_return true;
    }

    void cancel() noexcept
    {
        boost::system::error_code ignored;
        stream_.cancel(ignored);
    }

private:
    net::posix::stream_descriptor stream_;
    std::vector<char> buffer_;
    int saved_flags_ = -1;
    bool async_ = false;
};

/// A publisher's progress on stderr: redrawn in place on a terminal at most 10 times a second,
/// a line a second otherwise (--progress to a file or pipe).
class progress_meter {
public:
    void start(std::optional<std::uint64_t> total)
    {
        enabled_ = true;
        total_ = total;
        terminal_ = ::isatty(STDERR_FILENO) == 1;
    }
    [[nodiscard]] bool enabled() const noexcept { return enabled_; }

    /// `done` bytes of the input sent or read, `messages` published so far.
    void update(std::uint64_t done, std::uint64_t messages)
    {
        if (!enabled_) return;
        done_ = done;
        messages_ = messages;
        auto const now = std::chrono::steady_clock::now();
        if (now - drawn_ < (terminal_ ? std::chrono::milliseconds{100} : std::chrono::milliseconds{1000})) return;
        drawn_ = now;
        draw();
    }
    /// The last figures, then a newline, so that what follows starts on a line of its own.
    void finish(std::uint64_t done, std::uint64_t messages)
    {
        done_ = done;
        messages_ = messages;
        finish();
    }
    void finish()
    {
        if (!enabled_ || finished_) return;
        finished_ = true;
        draw();
        if (terminal_) std::fputc('\n', stderr);
    }

private:
    void draw() const
    {
        auto const text = progress_text(done_, total_, messages_);
        if (terminal_) fmt::print(stderr, "\r\x1b[Kwsmqtt: {}", text);
        else fmt::print(stderr, "wsmqtt: progress: {}\n", text);
        std::fflush(stderr);
    }

    bool enabled_ = false;
    bool terminal_ = false;
    bool finished_ = false;
    std::optional<std::uint64_t> total_;
    std::uint64_t done_ = 0;
    std::uint64_t messages_ = 0;
    std::chrono::steady_clock::time_point drawn_{};
};

/// Output for stdout beyond which it is written at once, without waiting for the reader to idle.
constexpr std::size_t flush_at_once = 64 * 1024;

/// Writes larger than this go out in parts of this size when progress is shown.
constexpr std::size_t progress_step = 256 * 1024;

/// The bytes of the session's output with its attached payloads in place, into `pieces`.
void gather_pieces(send_buffers& pieces, mqtt::bytes const& bytes, std::vector<mqtt::session::attachment> const& attached)
{
    pieces.clear();
    std::size_t from = 0;
    for (auto const& a : attached) {
        if (a.at > from) pieces.emplace_back(bytes.data() + from, a.at - from);
        pieces.emplace_back(a.payload->data(), a.payload->size());
        from = a.at;
    }
    if (bytes.size() > from) pieces.emplace_back(bytes.data() + from, bytes.size() - from);
}

/// `whole` cut into consecutive parts of at most `step` bytes.
std::vector<send_buffers> split(send_buffers const& whole, std::size_t step)
{
    std::vector<send_buffers> parts(1);
    std::size_t room = step;
    for (auto piece : whole) {
        while (piece.size() > 0) {
            if (room == 0) {
                parts.emplace_back();
                room = step;
            }
            auto const n = std::min(room, piece.size());
            parts.back().emplace_back(piece.data(), n);
            piece += n;
            room -= n;
        }
    }
    return parts;
}

/// Payloads from this size on go to stdout without a copy (see print_message).
constexpr std::size_t large_payload = 1024 * 1024;

/// Bytes queued for the socket beyond which a publisher stops taking input (bounded memory).
constexpr std::size_t max_write_backlog = 256 * 1024;

class driver {
public:
    driver(net::io_context& ioc, config& cfg, output_format format)
        : ioc_{ioc}
        , cfg_{cfg}
        , format_{std::move(format)}
        , session_{session_options_from(cfg)}
        , transport_{make_transport(ioc.get_executor(), cfg)}
        , session_timer_{ioc}
        , deadline_timer_{ioc}
        , writer_wakeup_{ioc}
        , window_wakeup_{ioc}
        , rate_timer_{ioc}
        , repeat_timer_{ioc}
        , reconnect_timer_{ioc}
        , signals_{ioc, SIGINT, SIGTERM, SIGHUP}
    {
        if (cfg_.debug) session_.set_trace([colour = colour_](mqtt::direction dir, mqtt::packet const& p, std::size_t attached) {
            trace_packet(dir, p, attached, colour);
        });
    }

    int run()
    {
        if (cfg_.command == command::pub && !cfg_.quiet) start_progress();
        net::co_spawn(ioc_, main_flow(), net::detached);
        ioc_.run();
        progress_.finish(progress_done(), published_);
        return to_int(exit_);
    }

private:
    /// Progress is shown for input of a known size (-f/-m/-s of 1 MiB or more, -l from a regular
    /// file) when stderr is a terminal, or whenever --progress asks for it.
    void start_progress()
    {
        std::optional<std::uint64_t> total;
        bool worth_it = false;
        if (cfg_.line_mode) {
            struct stat st {};
            if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
                auto const at = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
                total = static_cast<std::uint64_t>(st.st_size - std::max<off_t>(at, 0));
                worth_it = true;
            }
        } else {
            total = static_cast<std::uint64_t>(cfg_.payload.size()) * cfg_.repeat;
            worth_it = *total >= large_payload;
        }
        if (cfg_.progress.value_or(worth_it && ::isatty(STDERR_FILENO) == 1)) progress_.start(total);
    }

    /// Bytes of the input done: read from stdin for -l, sent to the broker otherwise.
    std::uint64_t progress_done() const noexcept { return cfg_.line_mode ? stdin_consumed_ : bytes_sent_; }

    net::awaitable<void> main_flow()
    {
        signals_.async_wait([this](auto ec, int) {
            if (!ec) on_signal();
        });
        if (cfg_.timeout.count() > 0) {
            deadline_timer_.expires_after(cfg_.timeout);
            deadline_timer_.async_wait([this](auto ec) {
                if (ec) return;
                auto message = fmt::format("timed out after {} s", cfg_.timeout.count());
                if (auto const lost = unacknowledged()) message += fmt::format(" ({})", *lost);
                stop(exit_code::timeout, message);
            });
        }
        auto const f = co_await transport_->connect();
        if (done_) co_return;
        // A first connection that fails is reported (as mosquitto does), unless --retry-first.
        if (f) co_return connection_lost(*f);
        start_session();
    }

    /// The transport is up: CONNECT, and the coroutines of this connection.
    void start_session()
    {
        auto const generation = ++generation_;
        session_.start(clock::now());
        net::co_spawn(ioc_, writer(generation), net::detached);
        net::co_spawn(ioc_, reader(generation), net::detached);
        net::co_spawn(ioc_, session_timer(generation), net::detached);
    }

    /// Whether the coroutines of connection `generation` should go on.
    bool current(std::uint64_t generation) const noexcept { return !done_ && generation == generation_; }

    /// The connection failed. After a connection that had succeeded, sub and pub -l reconnect on
    /// network failures; anything else, or --no-reconnect, ends the run with the failure.
    void connection_lost(failure const& f)
    {
        if (done_) return;
        if (closing_) return finish(close_code_); // after our DISCONNECT, the end we asked for
        bool const long_running = cfg_.command == command::sub || cfg_.line_mode;
        bool const may_retry = long_running && !cfg_.no_reconnect && (was_connected_ || cfg_.retry_first);
        if (!may_retry || f.code != exit_code::network) return finish(f.code, f.message);
        ++generation_; // the coroutines of the lost connection stop
        transport_->cancel();
        session_.on_connection_lost();
        session_timer_.cancel();
        writer_wakeup_.cancel();
        auto const delay = next_backoff();
        // The failure's words already say what happened ("connection lost: …", "no PINGRESP …").
        if (!cfg_.quiet)
            fmt::print(stderr, "wsmqtt: {}{}; reconnecting in {:.1f} s\n", was_connected_ ? "" : "cannot connect: ", f.message,
                       std::chrono::duration<double>(delay).count());
        net::co_spawn(ioc_, reconnect(delay), net::detached);
    }

    /// Backoff with jitter: 1 s doubling to --reconnect-max (30 s), each +-20%.
    std::chrono::milliseconds next_backoff()
    {
        auto const base = backoff_;
        backoff_ = std::min(backoff_ * 2, cfg_.reconnect_max);
        std::uniform_real_distribution<double> jitter{0.8, 1.2};
        return std::chrono::milliseconds{static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(random_))};
    }

    net::awaitable<void> reconnect(std::chrono::milliseconds delay)
    {
        while (!done_) {
            reconnect_timer_.expires_after(delay);
            auto [ec] = co_await reconnect_timer_.async_wait(use_tuple);
            if (ec || done_) co_return;
            // A fresh transport; the old one stays alive until its cancelled operations are done.
            retired_.push_back(std::exchange(transport_, make_transport(ioc_.get_executor(), cfg_)));
            auto const f = co_await transport_->connect();
            if (done_) co_return;
            if (!f) {
                start_session();
                co_return;
            }
            if (f->code != exit_code::network) co_return finish(f->code, f->message);
            delay = next_backoff();
            if (!cfg_.quiet)
                fmt::print(stderr, "wsmqtt: reconnect failed: {}; retrying in {:.1f} s\n", f->message,
                           std::chrono::duration<double>(delay).count());
        }
    }

    /// Transport -> session -> events; stdout is written when the reader is about to wait.
    net::awaitable<void> reader(std::uint64_t generation)
    {
        while (current(generation)) {
            auto result = co_await transport_->read();
            if (!current(generation)) break;
            if (result.error) {
                connection_lost(*result.error);
                break;
            }
            ++reads_;
            session_.receive(result.data, clock::now());
            after_session_input(result.drained);
        }
    }

    /// Keeps exactly one write in flight; everything queued meanwhile goes out in the next one.
    net::awaitable<void> writer(std::uint64_t generation)
    {
        mqtt::bytes buffer; // this connection's: a write of a lost connection may still use it
        std::vector<mqtt::session::attachment> attached; // large payloads, sent where they lie
        send_buffers pieces;                             // both together, as one write
        auto* const transport = transport_.get();
        while (current(generation)) {
            auto& pending = session_.output();
            if (pending.empty()) {
                if (closing_) {
                    // DISCONNECT is out: close the network connection [MQTT-3.14.4-1].
                    co_await transport->close();
                    finish(close_code_);
                    break;
                }
                writer_wakeup_.expires_at(clock::time_point::max());
                (void)co_await writer_wakeup_.async_wait(use_tuple);
                continue;
            }
            buffer.clear();
            std::swap(buffer, pending);
            attached.clear();
            std::swap(attached, session_.attachments());
            gather_pieces(pieces, buffer, attached);
            auto const size = net::buffer_size(pieces);
            std::optional<failure> error;
            if (progress_.enabled() && size > progress_step) {
                // In parts, so that the progress line moves while a large message goes out.
                auto const parts = split(pieces, progress_step);
                for (std::size_t i = 0; i < parts.size() && !error && current(generation); ++i) {
                    error = co_await transport->write_part(parts[i], i + 1 == parts.size());
                    bytes_sent_ += net::buffer_size(parts[i]);
                    progress_.update(progress_done(), published_);
                }
            } else {
                error = co_await transport->write(pieces);
                bytes_sent_ += size;
            }
            if (!current(generation)) break;
            if (error) {
                connection_lost(*error);
                break;
            }
            window_wakeup_.cancel(); // the backlog shrank: a publisher may go on
        }
    }

    /// Wakes the session at its next deadline (CONNACK wait, keepalive, PINGRESP wait).
    net::awaitable<void> session_timer(std::uint64_t generation)
    {
        while (current(generation)) {
            armed_deadline_ = session_.next_deadline();
            session_timer_.expires_at(armed_deadline_.value_or(clock::time_point::max()));
            auto [ec] = co_await session_timer_.async_wait(use_tuple);
            if (!current(generation)) break;
            if (!ec) {
                session_.on_timer(clock::now());
                after_session_input();
            }
            // Cancelled: the deadline moved; loop and re-arm.
        }
    }

    /// Handles what the session produced, writes stdout, wakes the writer and the timer.
    /// `waits_next`: the reader will wait for the network next (the socket is drained, or this is
    /// not a read), so stdout is written now rather than after the next scheduler rounds.
    void after_session_input(bool waits_next = true)
    {
        while (auto e = session_.poll_event()) {
            std::visit([this](auto& ev) { on_event(ev); }, *e);
            if (done_) return;
        }
        if (!out_.buffer().empty()) {
            // A read that emptied the socket: the reader will wait next, write now.
            if (waits_next || out_.buffer().size() >= flush_at_once) flush_stdout();
            else schedule_flush();
        }
        if (!session_.output().empty()) writer_wakeup_.cancel();
        // Sending moves the keepalive deadline later, and waking early is harmless: re-arm the
        // timer only for an earlier deadline, not after every read that sent an acknowledgement.
        if (auto const next = session_.next_deadline(); next && (!armed_deadline_ || *next < *armed_deadline_))
            session_timer_.cancel();
    }

    /// Writes what is buffered for stdout; the reader of our stdout may be gone (`| head -1`):
    /// then leave quietly.
    void flush_stdout()
    {
        if (out_.flush() == stdout_writer::status::closed) {
            stdout_closed_ = true;
            stop(exit_code::ok);
        }
    }

    /// Flushes stdout once the reader waits for the network, not after every read: a broker's
    /// WebSocket listener sends one frame per message, and Beast returns one message per read,
    /// so flushing per read meant one write(2) per message. Handlers posted here run after any
    /// read that completed at once (its completion was queued first); two rounds without a new
    /// read mean the reader is blocked, and the batch goes out.
    void schedule_flush()
    {
        if (flush_scheduled_) return;
        flush_scheduled_ = true;
        flush_seen_reads_ = reads_;
        net::post(ioc_, [this] { flush_round(false); });
    }

    void flush_round(bool second)
    {
        if (done_) return;
        if (reads_ != flush_seen_reads_ || !second) { // the reader is still busy: look again later
            flush_seen_reads_ = reads_;
            net::post(ioc_, [this] { flush_round(true); });
            return;
        }
        flush_scheduled_ = false;
        if (!out_.buffer().empty() && !stdout_closed_) flush_stdout();
    }

    void on_event(mqtt::connected const& e)
    {
        // A packet after CONNACK in the same read may have failed the session already: its
        // session_failed event comes next and says why.
        if (!session_.is_connected()) return;
        auto const now = clock::now();
        bool const reconnected = std::exchange(was_connected_, true);
        backoff_ = std::chrono::seconds{1};
        if (reconnected && !cfg_.quiet) fmt::print(stderr, "wsmqtt: reconnected\n");
        if (cfg_.command == command::pub) {
            if (!reconnected) net::co_spawn(ioc_, cfg_.line_mode ? publish_lines() : publish_repeated(), net::detached);
            window_wakeup_.cancel(); // a publisher waiting for the connection goes on
            return;
        }
        // The broker kept our subscriptions if it kept the session.
        if (reconnected && e.session_present) return;
        pending_requests_ = 0;
        if (!cfg_.topics.empty()) {
            std::vector<mqtt::subscription> subs;
            for (auto const& t : cfg_.topics) subs.push_back({t, cfg_.qos});
            if (auto const r = session_.subscribe(std::move(subs), now); r.ec)
                return finish(exit_code::usage, fmt::format("cannot subscribe: {}", r.ec.message()));
            ++pending_requests_;
        }
        if (!cfg_.unsubscribe_topics.empty()) {
            if (auto const r = session_.unsubscribe(cfg_.unsubscribe_topics, now); r.ec)
                return finish(exit_code::usage, fmt::format("cannot unsubscribe: {}", r.ec.message()));
            ++pending_requests_;
        }
        if (cfg_.rate && !reconnected) net::co_spawn(ioc_, rate_meter(), net::detached);
    }

    void on_event(mqtt::message_received const& e)
    {
        if (cfg_.command != command::sub || closing_ || stdout_closed_) return;
        auto const& m = e.message;
        // --remove-retained: the broker forwards our clearing message to us too; not news.
        if (!m.retain && m.payload.empty() && !cleared_topics_.empty() && cleared_topics_.erase(m.topic) > 0) return;
        // --retained-only: the first live message ends the run, unprinted (as mosquitto_sub).
        if (cfg_.retained_only && !m.retain) return stop(exit_code::ok);
        ++rate_messages_;
        rate_bytes_ += m.payload.size();
        bool const hidden = is_hidden(m.topic);
        if (cfg_.remove_retained && m.retain && !hidden) {
            // A retained empty message clears the retained one (§3.3.1.3).
            (void)session_.publish({m.topic, {}, mqtt::qos::at_most_once, true, false, 0}, clock::now());
            cleared_topics_.insert(m.topic);
        }
        if (hidden || (cfg_.skip_retained && m.retain)) return;
        print_message(m);
    }

    void print_message(mqtt::publish const& m)
    {
        auto const when = format_.uses_time() ? std::chrono::system_clock::now() : wall_time{};
        if (m.payload.size() < large_payload) {
            format_.render(m, when, out_.buffer());
        } else {
            // Large: written from where the decoder put it, not copied into the output buffer.
            auto status = out_.flush();
            if (status == stdout_writer::status::ok)
                if (auto const at = format_.render_around_payload(m, when, out_.buffer())) status = out_.flush(m.payload, *at);
            if (status == stdout_writer::status::closed) {
                stdout_closed_ = true;
                return stop(exit_code::ok);
            }
        }
        if (cfg_.count > 0 && ++received_ >= cfg_.count) stop(exit_code::ok);
    }

    void on_event(mqtt::publish_complete const&)
    {
        // PUBACK (QoS 1) or PUBCOMP (QoS 2): the broker has the message; room in the window.
        if (cfg_.command == command::pub) publisher_progress();
    }

    void on_event(mqtt::subscribe_complete const& e)
    {
        for (std::size_t i = 0; i < e.return_codes.size(); ++i) {
            if (e.return_codes[i] == mqtt::suback_failure)
                return finish(exit_code::subscription_refused,
                              fmt::format("subscription to '{}' refused by the broker", e.subscriptions[i].filter));
        }
        request_done();
    }

    void on_event(mqtt::unsubscribe_complete const&) { request_done(); }

    /// A SUBSCRIBE or UNSUBSCRIBE was acknowledged: -E, or -U alone, end the run here.
    void request_done()
    {
        if (--pending_requests_ > 0) return;
        if (cfg_.exit_after_subscribe || cfg_.topics.empty()) stop(exit_code::ok);
    }

    bool is_hidden(std::string_view topic) const
    {
        for (auto const& f : cfg_.hidden_topics)
            if (mqtt::topic_matches(f, topic)) return true;
        return false;
    }

    /// --rate: once a second, what arrived during that second.
    net::awaitable<void> rate_meter()
    {
        while (!done_ && !closing_) {
            rate_timer_.expires_after(std::chrono::seconds{1});
            auto [ec] = co_await rate_timer_.async_wait(use_tuple);
            if (ec || done_) break;
            if (!cfg_.quiet)
                fmt::print(stderr, "wsmqtt: rate: {} msg/s, {} B/s\n", paint(std::to_string(rate_messages_), "1", colour_),
                           paint(std::to_string(rate_bytes_), "1", colour_));
            rate_messages_ = 0;
            rate_bytes_ = 0;
        }
    }

    // --- Publishing -------------------------------------------------------------------------

    /// -m, -f, -s, -n: the message, --repeat times, --repeat-delay apart.
    net::awaitable<void> publish_repeated()
    {
        for (std::size_t i = 0; i < cfg_.repeat; ++i) {
            if (i > 0 && cfg_.repeat_delay.count() > 0) {
                repeat_timer_.expires_after(cfg_.repeat_delay);
                (void)co_await repeat_timer_.async_wait(use_tuple);
            }
            if (!co_await room_to_publish()) co_return;
            // The last one takes the payload: a large file is not held twice.
            bool const last = i + 1 == cfg_.repeat;
            if (!publish_one(cfg_.topics.front(), last ? std::move(cfg_.payload) : std::string{cfg_.payload})) co_return;
        }
        input_done_ = true;
        publisher_progress();
    }

    /// -l: one message per line of stdin, read only while there is room to send it, so that
    /// memory stays bounded however long the input.
    net::awaitable<void> publish_lines()
    {
        stdin_reader input{ioc_.get_executor()};
        stdin_ = &input;
        std::string pending;
        bool more = true;
        while (more) {
            std::size_t start = 0;
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
                // Most lines find room at once: no coroutine frame for them.
                bool const room = (!ending() && has_room()) || co_await room_to_publish();
                if (!room || !publish_line(std::string_view{pending}.substr(start, nl - start))) {
                    stdin_ = nullptr;
                    co_return;
                }
                start = nl + 1;
            }
            stdin_consumed_ += start;
            progress_.update(progress_done(), published_);
            pending.erase(0, start);
            if (!co_await room_to_publish()) break;
            more = co_await input.read(pending);
            if (ending()) break;
        }
        stdin_ = nullptr;
        if (ending()) co_return;
        // A last line without a newline is still a message.
        if (!pending.empty() && !publish_line(pending)) co_return;
        stdin_consumed_ += pending.size();
        input_done_ = true;
        publisher_progress();
    }

    bool ending() const noexcept { return done_ || closing_ || draining_; }

    /// The in-flight window (-M) and the write backlog have room.
    bool has_room() noexcept
    {
        return session_.is_connected() && session_.output().size() < max_write_backlog &&
               (cfg_.qos == mqtt::qos::at_most_once || session_.in_flight() < cfg_.max_inflight);
    }

    /// Waits until there is room to publish; false if ending.
    net::awaitable<bool> room_to_publish()
    {
        while (!ending() && !has_room()) {
            window_wakeup_.expires_at(clock::time_point::max());
            (void)co_await window_wakeup_.async_wait(use_tuple);
        }
        co_return !ending();
    }

    bool publish_line(std::string_view line)
    {
        ++line_number_;
        if (!cfg_.topic_separator) return publish_one(cfg_.topics.front(), line);
        auto const at = line.find(*cfg_.topic_separator);
        if (at == std::string_view::npos) {
            if (!cfg_.topics.empty()) return publish_one(cfg_.topics.front(), line);
            stop(exit_code::usage, fmt::format("line {} has no topic separator '{}'", line_number_, *cfg_.topic_separator));
            return false;
        }
        auto const topic = line.substr(0, at);
        if (auto const ec = mqtt::check_topic_name(topic)) {
            stop(exit_code::usage, fmt::format("line {}: invalid topic '{}': {}", line_number_, topic, ec.message()));
            return false;
        }
        return publish_one(topic, line.substr(at + cfg_.topic_separator->size()));
    }

    bool publish_one(std::string_view topic, std::string_view payload) { return publish_one(topic, std::string{payload}); }

    bool publish_one(std::string_view topic, std::string&& payload)
    {
        auto const r = session_.publish({std::string{topic}, std::move(payload), cfg_.qos, cfg_.retain, false, 0}, clock::now());
        if (r.ec) {
            stop(exit_code::usage, fmt::format("cannot publish: {}", r.ec.message()));
            return false;
        }
        ++published_;
        writer_wakeup_.cancel();
        return true;
    }

    /// All input published and acknowledged: done. Otherwise, wake a publisher waiting for room.
    void publisher_progress()
    {
        if (input_done_ && session_.in_flight() == 0) return stop(exit_code::ok);
        window_wakeup_.cancel();
    }

    void on_event(mqtt::session_failed const& e)
    {
        if (e.ec == mqtt::errc::connection_refused) {
            // Brokers answer bad credentials with 4 or 5 (mosquitto 2.0 says "not authorised").
            bool const credentials = cfg_.username && (e.connack_code == 4 || e.connack_code == 5);
            return finish(static_cast<exit_code>(to_int(exit_code::connack_base) + e.connack_code),
                          fmt::format("connection refused by broker: {}{}", mqtt::connect_return_code_text(e.connack_code),
                                      credentials ? " (check the user name and password)" : ""));
        }
        if (e.ec == mqtt::errc::connack_timeout || e.ec == mqtt::errc::pingresp_timeout)
            return connection_lost({exit_code::network, e.ec.message()});
        if (e.ec == mqtt::errc::packet_too_large)
            return finish(exit_code::protocol, fmt::format("protocol error: the broker sent a packet larger than {} bytes (--max-packet-size)",
                                                           cfg_.max_packet_size));
        finish(exit_code::protocol, fmt::format("protocol error: {}", e.ec.message()));
    }

    /// Ctrl-C, SIGTERM, SIGHUP: DISCONNECT and exit 0. A publisher first reads no more input and
    /// waits for the broker to acknowledge what it has sent; a second signal ends the wait.
    void on_signal()
    {
        if (cfg_.command == command::pub && session_.is_connected() && session_.in_flight() > 0 && !draining_) {
            draining_ = true;
            input_done_ = true;
            stop_producing();
            signals_.async_wait([this](auto ec, int) {
                if (ec) return;
                if (auto const lost = unacknowledged()) return finish(exit_code::network, "interrupted: " + *lost);
                finish(exit_code::ok);
            });
            return;
        }
        stop(exit_code::ok);
    }

    /// "N messages not acknowledged by the broker" while a publisher has some in flight.
    std::optional<std::string> unacknowledged() const
    {
        auto const n = session_.in_flight();
        if (cfg_.command != command::pub || n == 0) return std::nullopt;
        return fmt::format("{} message{} not acknowledged by the broker", n, n == 1 ? "" : "s");
    }

    /// Ends politely: DISCONNECT, close, then exit with `code`. Before the session is up, at once.
    void stop(exit_code code, std::string message = {})
    {
        if (done_ || closing_) return;
        if (!session_.is_connected()) {
            // Disconnected (reconnecting): what is still in flight cannot be delivered now.
            if (auto const lost = unacknowledged())
                return finish(code == exit_code::ok ? exit_code::network : code,
                              message.empty() ? *lost : fmt::format("{} ({})", message, *lost));
            report(message);
            return finish(code);
        }
        report(message);
        closing_ = true;
        close_code_ = code;
        session_.disconnect(clock::now()); // discards the will [MQTT-3.14.4-3]
        writer_wakeup_.cancel();
        stop_producing();
        // A second signal while closing ends at once.
        signals_.async_wait([this](auto ec, int) {
            if (!ec) finish(close_code_);
        });
    }

    /// Ends now: report, flush stdout, cancel everything so that ioc.run() returns.
    void finish(exit_code code, std::string const& message = {})
    {
        if (done_) return;
        done_ = true;
        exit_ = code;
        report(message);
        if (!stdout_closed_ && !out_.buffer().empty()) (void)out_.flush();
        transport_->cancel();
        session_timer_.cancel();
        deadline_timer_.cancel();
        writer_wakeup_.cancel();
        reconnect_timer_.cancel();
        stop_producing();
        signals_.cancel();
    }

    /// Wakes whatever makes new work (publishers, --rate) so that it sees the run is ending.
    void stop_producing()
    {
        window_wakeup_.cancel();
        repeat_timer_.cancel();
        rate_timer_.cancel();
        if (stdin_) stdin_->cancel();
    }

    void report(std::string const& message)
    {
        if (message.empty() || cfg_.quiet) return;
        progress_.finish(); // the error on a line of its own
        fmt::print(stderr, "wsmqtt: error: {}\n", message);
    }

    net::io_context& ioc_;
    config& cfg_; ///< run()'s own copy: the last repetition of a message takes its payload
    output_format format_;
    stdout_writer out_;
    mqtt::session session_;
    std::unique_ptr<transport> transport_;
    net::steady_timer session_timer_;
    net::steady_timer deadline_timer_;
    net::steady_timer writer_wakeup_;
    net::steady_timer window_wakeup_; ///< a publisher waiting for room, or for --repeat-delay
    net::steady_timer rate_timer_;
    net::steady_timer repeat_timer_;  ///< --repeat-delay
    net::steady_timer reconnect_timer_;
    net::signal_set signals_;
    stdin_reader* stdin_ = nullptr;   ///< while publish_lines() runs
    std::vector<std::unique_ptr<transport>> retired_; ///< transports of lost connections
    std::optional<clock::time_point> armed_deadline_;
    std::uint64_t generation_ = 0;    ///< which connection the coroutines belong to
    bool was_connected_ = false;      ///< a CONNACK was accepted once: failures may reconnect
    std::chrono::milliseconds backoff_{std::chrono::seconds{1}};
    std::mt19937 random_{std::random_device{}()};

    bool done_ = false;
    bool closing_ = false;
    bool stdout_closed_ = false;
    exit_code exit_ = exit_code::ok;
    exit_code close_code_ = exit_code::ok;
    std::size_t received_ = 0;
    int pending_requests_ = 0;        ///< SUBSCRIBE/UNSUBSCRIBE not yet acknowledged
    std::size_t rate_messages_ = 0;
    std::size_t rate_bytes_ = 0;
    bool input_done_ = false;         ///< pub: every message has been handed to the session
    bool draining_ = false;           ///< pub: interrupted, waiting for acknowledgements
    std::size_t line_number_ = 0;
    std::unordered_set<std::string> cleared_topics_; ///< --remove-retained: echoes to skip
    std::uint64_t reads_ = 0;          ///< reads from the transport so far
    std::uint64_t flush_seen_reads_ = 0;
    bool flush_scheduled_ = false;
    bool const colour_ = stderr_wants_colour();
    progress_meter progress_;
    std::uint64_t published_ = 0;      ///< pub: messages handed to the session
    std::uint64_t bytes_sent_ = 0;     ///< bytes written to the transport
    std::uint64_t stdin_consumed_ = 0; ///< pub -l: bytes of stdin published
};

} // namespace

int run(config cfg)
{
    std::string error;
    auto format = output_format::compile(cfg.format.empty() ? std::string{default_format} : cfg.format,
                                         cfg.no_newline, error);
    if (!format) {
        if (!cfg.quiet) fmt::print(stderr, "wsmqtt: error: {}\n", error);
        return to_int(exit_code::usage);
    }
    // Writes to a closed pipe or socket must fail with EPIPE, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    net::io_context ioc{1};
    driver d{ioc, cfg, std::move(*format)};
    return d.run();
}

} // namespace wsmqtt

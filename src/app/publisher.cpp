// wsmqtt pub: -m, -f, -s, -n (one message, --repeat times) and -l (a message per line of
// standard input), within the in-flight window and a bounded write backlog; done when the
// broker has every message. Progress on stderr for large input.
#include "roles.hpp"

#include "pacing.hpp"
#include "progress.hpp"
#include "stdin_reader.hpp"

#include "../net/race.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/json_input.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/session_words.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <variant>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

/// Bytes queued for the socket beyond which a publisher stops taking input (bounded memory).
constexpr std::size_t max_write_backlog = 256 * 1024;
/// With progress shown, writes go out in parts of this size, so that the line moves.
constexpr std::size_t progress_step = 256 * 1024;
/// Input from this size on shows progress on a terminal.
constexpr std::size_t large_input = 1024 * 1024;
/// How long an interrupted publisher waits for the broker to acknowledge what it has sent.
/// With the WebSocket close after it (0.5 s at most), a signal ends a run within 2 s: supervisors
/// send SIGKILL a few seconds after SIGTERM.
constexpr auto interrupt_grace = std::chrono::milliseconds{1500};


class publisher final : public role {
public:
    publisher(config const& cfg, std::string payload, run_control& control, net::any_io_executor ex)
        : cfg_{cfg}, payload_{std::move(payload)}, control_{control}, room_{ex}, interrupt_{ex}
    {
        if (!cfg_.quiet) start_progress();
    }

    net::awaitable<void> run() override
    {
        // The input until it is all published, unless a signal comes first.
        // (The result in a variable: GCC 12 mishandles a co_await inside a condition's expression.)
        auto const first = co_await race(produce(), interrupted());
        auto const state = co_await net::this_coro::cancellation_state;
        if (cancelled(state)) co_return; // the run is over (not an await: Asio would throw)
        if (first == 1) {
            // Interrupted: no more input; the broker has a moment to acknowledge what it has.
            co_await race(acknowledged(), sleep(interrupt_grace));
            auto const [code, message] = interrupted_end();
            control_.stop(code, message);
        }
        co_await park();
    }

    void on_connected(bool, bool) override { room_.notify(); } // a publisher waiting for the connection goes on

    void on_publish_complete(mqtt::publish_complete const& c) override
    {
        // PUBACK (QoS 1) or PUBCOMP (QoS 2): the broker has the message; room in the window.
        // MQTT 5: a reason code of 0x80 or more says it refused it.
        if (c.reason_code >= 0x80) refused(c);
        completed_ = true; // done is judged once the whole read is handled: in_flight() counts its later acknowledgements
        room_.notify();
    }

    void after_events() override
    {
        if (std::exchange(completed_, false)) check_done();
    }

    void on_sent(std::size_t bytes) override
    {
        bytes_sent_ += bytes;
        progress_.update(progress_done(), published_);
        room_.notify(); // the backlog shrank
    }

    void on_signal(int signal, int count) override
    {
        signal_ = signal;
        if (count == 1) return interrupt_.notify();
        auto const [code, message] = interrupted_end(); // a second one ends the wait
        control_.finish(code, message);
    }

    /// What ending now would lose, for -W: what is in flight, lines held, or a message not sent.
    std::optional<std::string> unacknowledged() const override
    {
        if (auto lost = in_flight_words()) return lost;
        if (input_done_ || cfg_.line_mode) return std::nullopt;
        auto const left = cfg_.repeat - published_;
        if (cfg_.repeat == 1) return "the message was not published";
        return fmt::format("{} of {} messages were not published", left, cfg_.repeat);
    }

    void on_end() override { progress_.finish(); }
    void before_error() override { progress_.finish(); }
    std::size_t write_step() const override { return progress_.enabled() ? progress_step : 0; }

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
            total = static_cast<std::uint64_t>(payload_.size()) * cfg_.repeat;
            worth_it = *total >= large_input;
        }
        if (cfg_.progress.value_or(worth_it && ::isatty(STDERR_FILENO) == 1)) progress_.start(total);
    }

    /// Bytes of the input done: read from stdin for -l, sent to the broker otherwise.
    std::uint64_t progress_done() const noexcept { return cfg_.line_mode ? stdin_consumed_ : bytes_sent_; }

    net::awaitable<void> interrupted() { co_await interrupt_.wait(); }

    /// Returns once the broker has acknowledged every message sent (or the connection is gone).
    net::awaitable<void> acknowledged()
    {
        while (control_.session().is_connected() && control_.session().in_flight() > 0) {
            co_await room_.wait();
            auto const state = co_await boost::asio::this_coro::cancellation_state;
            if (cancelled(state)) co_return;
        }
    }

    /// Messages in flight, and (-l) lines read from stdin but not handed to the session (it was
    /// reconnecting, or the window was full): never an exit 0 over them.
    std::optional<std::string> in_flight_words() const
    {
        std::vector<std::string> lost;
        if (auto const n = control_.session().in_flight())
            lost.push_back(fmt::format("{} message{} not acknowledged by the broker", n, n == 1 ? "" : "s"));
        if (lines_held_ > 0)
            lost.push_back(fmt::format("{} line{} read from standard input not published", lines_held_, lines_held_ == 1 ? "" : "s"));
        if (lost.empty()) return std::nullopt;
        return fmt::format("{}", fmt::join(lost, "; "));
    }

    /// How an interrupted publisher ends: 128 + the signal when something it was asked to
    /// publish is not with the broker (as a shell reports a process killed by it).
    std::pair<exit_code, std::string> interrupted_end() const
    {
        auto const code = static_cast<exit_code>(to_int(exit_code::signal_base) + signal_);
        if (auto const lost = in_flight_words()) return {code, "interrupted: " + *lost};
        if (!input_done_ && !cfg_.line_mode) {
            auto const left = cfg_.repeat - published_;
            return {code, cfg_.repeat == 1 ? std::string{"interrupted before the message was published"}
                                           : fmt::format("interrupted before {} of {} messages were published", left, cfg_.repeat)};
        }
        return {exit_code::ok, {}};
    }

    net::awaitable<void> produce()
    {
        if (cfg_.line_mode) co_await publish_lines();
        else co_await publish_repeated();
        input_done_ = true;
        check_done();
        co_await park();
    }

    /// -m, -f, -s, -n: the message, --repeat times, --repeat-delay apart.
    net::awaitable<void> publish_repeated()
    {
        for (std::size_t i = 0; i < cfg_.repeat; ++i) {
            if (i > 0 && cfg_.repeat_delay.count() > 0) co_await sleep(cfg_.repeat_delay);
            co_await room_to_publish();
            // The last one takes the payload: a large file is not held twice. (No `?:` with a
            // temporary string here: GCC 12 mis-compiles it in a coroutine.)
            std::string payload;
            if (i + 1 == cfg_.repeat) payload = std::move(payload_);
            else payload = payload_;
            if (!publish_one(cfg_.topics.front(), std::move(payload))) co_await park();
        }
    }

    /// -l: one message per line of stdin, read only while there is room to send it, so that
    /// memory stays bounded however long the input.
    net::awaitable<void> publish_lines()
    {
        auto const executor = co_await net::this_coro::executor;
        stdin_reader input{executor};
        std::string pending;
        bool more = true;
        while (more) {
            std::size_t start = 0;
            lines_held_ = static_cast<std::size_t>(std::count(pending.begin(), pending.end(), '\n'));
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
                auto const line = std::string_view{pending}.substr(start, nl - start);
                start = nl + 1;
                if (cfg_.json_input || pacer_.active()) {
                    co_await paced_line(line);
                    --lines_held_;
                    continue;
                }
                // Most lines find room at once: no coroutine frame for them.
                if (!has_room()) co_await room_to_publish();
                if (!publish_line(line)) co_await park();
                --lines_held_;
            }
            stdin_consumed_ += start;
            progress_.update(progress_done(), published_);
            pending.erase(0, start);
            co_await room_to_publish();
            more = co_await input.read(pending);
            auto const state = co_await boost::asio::this_coro::cancellation_state;
            if (cancelled(state)) co_return; // interrupted: what is left of the input stays unread
        }
        // A last line without a newline is still a message.
        lines_held_ = pending.empty() ? 0 : 1;
        if (!pending.empty() && (cfg_.json_input || pacer_.active())) {
            co_await paced_line(pending);
        } else if (!pending.empty()) {
            co_await room_to_publish();
            if (!publish_line(pending)) co_await park();
        }
        lines_held_ = 0;
        stdin_consumed_ += pending.size();
    }

    /// The in-flight window (-M, and an MQTT 5 broker's Receive Maximum [MQTT-3.3.4-7]) and the
    /// write backlog have room.
    bool has_room() const noexcept
    {
        auto const& session = control_.session();
        auto const window = std::min<std::size_t>(cfg_.max_inflight, session.receive_maximum());
        // With --json each line says its QoS: the window always holds.
        return !control_.ending() && session.is_connected() && session.output().size() < max_write_backlog &&
               ((cfg_.qos == mqtt::qos::at_most_once && !cfg_.json_input) || session.in_flight() < window);
    }

    /// Waits until there is room to publish; the run's end cancels the wait.
    net::awaitable<void> room_to_publish()
    {
        while (!has_room()) {
            co_await room_.wait();
            auto const state = co_await boost::asio::this_coro::cancellation_state;
            if (cancelled(state)) throw boost::system::system_error{net::error::operation_aborted};
        }
    }

    bool publish_line(std::string_view line)
    {
        ++line_number_;
        if (!cfg_.topic_separator) return publish_one(cfg_.topics.front(), std::string{line});
        auto const at = line.find(*cfg_.topic_separator);
        if (at == std::string_view::npos) {
            if (!cfg_.topics.empty()) return publish_one(cfg_.topics.front(), std::string{line});
            return skip(fmt::format("no topic separator '{}'", *cfg_.topic_separator));
        }
        auto const topic = line.substr(0, at);
        if (auto const ec = mqtt::check_topic_name(topic)) return skip(fmt::format("invalid topic '{}': {}", topic, ec.message()));
        return publish_one(topic, std::string{line.substr(at + cfg_.topic_separator->size())});
    }

    /// A line of --json, or of -l with --rate: published when it is due.
    net::awaitable<void> paced_line(std::string_view line)
    {
        std::optional<mqtt::publish> m;
        if (cfg_.json_input) {
            ++line_number_;
            m = json_message_of(line); // nullopt: skipped (a warning), or blank
            if (!m) co_return;
            if (loop_.echo(*m, json_time_, std::chrono::system_clock::now()) && !cfg_.quiet) {
                progress_.clear_line();
                write_stderr("wsmqtt: warning: the last 1000 lines were messages this pub had just published: the source "
                             "subscribes to what it publishes (the same broker and an overlapping filter?), a loop that "
                             "never ends\n");
            }
        }
        // Connected first: the pace counts from the first message that goes, not from the input.
        if (!has_room()) co_await room_to_publish();
        auto const due = pacer_.due(clock::now(), json_time_);
        if (due) {
            co_await sleep(*due - clock::now());
            if (!has_room()) co_await room_to_publish();
        }
        bool const published = m ? publish_message(std::move(*m)) : publish_line(line);
        if (!published) co_await park();
    }

    /// --json: a line as `sub --json` writes it, its fields or else the command line's (-t, -q,
    /// -r, -D; -q wins over the line's qos). nullopt: a blank line, or one reported and skipped.
    std::optional<mqtt::publish> json_message_of(std::string_view line)
    {
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) return std::nullopt;
        std::string error;
        auto j = parse_json_message(line, error);
        json_time_.reset();
        auto const skipped = [&](std::string const& why) -> std::optional<mqtt::publish> {
            skip(why);
            return std::nullopt;
        };
        if (!j) return skipped(error);
        if (!j->topic && cfg_.topics.empty()) return skipped("no topic (and no -t)");
        auto topic = j->topic ? std::move(*j->topic) : cfg_.topics.front();
        if (auto const ec = mqtt::check_topic_name(topic)) return skipped(fmt::format("invalid topic '{}': {}", topic, ec.message()));
        // --pace recorded times each line by its tst: a line without a usable one is a bad line.
        auto const time = j->tst ? parse_rfc3339(*j->tst) : std::nullopt;
        if (cfg_.pace_recorded && !time)
            return skipped(j->tst ? fmt::format("--pace recorded: tst '{}' is not a time (RFC 3339 or ISO 8601)", *j->tst)
                                  : std::string{"--pace recorded: the line has no tst"});
        auto payload = std::move(j->payload).value_or(std::string{});
        if (payload.size() + topic.size() + 16 > mqtt::max_remaining_length) return skipped("message larger than 256 MiB");
        mqtt::publish m{std::move(topic), std::move(payload), cfg_.qos_given ? cfg_.qos : j->qos.value_or(cfg_.qos),
                        cfg_.retain || j->retain.value_or(false), false, 0, {}};
        if (control_.session().version() == mqtt::protocol_version::v5) {
            // The line's properties, then -D's that the line does not have (user properties: all).
            m.props = std::move(j->props);
            for (auto const& p : cfg_.v5.publish)
                if (p.id == mqtt::property_id::user_property || !mqtt::find(m.props, p.id)) m.props.push_back(p);
        } else if (!j->props.empty() && !properties_dropped_) {
            properties_dropped_ = true;
            progress_.clear_line();
            if (!cfg_.quiet)
                write_stderr(fmt::format("wsmqtt: warning: line {}: MQTT 5 properties are not sent over MQTT 3.1.1 (give -V 5 to keep "
                                         "them); this is said once\n",
                                         line_number_));
        }
        json_time_ = time;
        return m;
    }

    /// A bad line of -l --topic-separator is reported and skipped: the lines around it still go
    /// out, and the run ends non-zero (check_done()).
    bool skip(std::string const& why)
    {
        ++skipped_;
        if (!cfg_.quiet) {
            progress_.clear_line();
            write_stderr(fmt::format("wsmqtt: warning: line {} skipped: {}\n", line_number_, why));
        }
        return true;
    }

    bool publish_one(std::string_view topic, std::string&& payload)
    {
        return publish_message({std::string{topic}, std::move(payload), cfg_.qos, cfg_.retain, false, 0, cfg_.v5.publish});
    }

    bool publish_message(mqtt::publish&& m)
    {
        auto const r = control_.session().publish(std::move(m), clock::now());
        if (r.ec) {
            control_.stop(exit_code::usage, fmt::format("cannot publish: {}", r.ec.message()));
            return false;
        }
        ++published_;
        control_.wake_writer();
        return true;
    }

    /// A message the broker refused: the first words are kept for the end; with more than one
    /// message each is a warning too (at most 10 of them).
    void refused(mqtt::publish_complete const& c)
    {
        if (refused_++ == 0) first_refusal_ = reason_words(c.reason_code, c.props);
        bool const one_message = !cfg_.line_mode && cfg_.repeat == 1;
        if (cfg_.quiet || one_message || refused_ > 10) return;
        progress_.clear_line();
        write_stderr(fmt::format("wsmqtt: warning: the broker refused a message: {}{}\n", reason_words(c.reason_code, c.props),
                                 refused_ == 10 ? " (no more of these warnings)" : ""));
    }

    /// All input published and acknowledged: done.
    void check_done()
    {
        if (!input_done_ || control_.session().in_flight() > 0) return;
        if (refused_ > 0) {
            if (!cfg_.line_mode && cfg_.repeat == 1)
                return control_.stop(exit_code::message_refused, fmt::format("the broker refused the message: {}", first_refusal_));
            return control_.stop(exit_code::message_refused,
                                 fmt::format("the broker refused {} of {} messages (the first: {})", refused_, published_, first_refusal_));
        }
        if (skipped_ == 0) return control_.stop(exit_code::ok);
        control_.stop(exit_code::usage, fmt::format("{} line{} skipped (see the warnings above); {}", skipped_, skipped_ == 1 ? " was" : "s were",
                                                    published_ == 0 ? "nothing was published" : "the others were published"));
    }

    config const& cfg_;
    std::string payload_; ///< -m, -f, -s, -n
    run_control& control_;
    wakeup room_;         ///< room in the window or the backlog, a connection, an acknowledgement
    wakeup interrupt_;    ///< the first signal
    int signal_ = 0;
    bool input_done_ = false; ///< every message has been handed to the session
    progress_meter progress_;
    std::size_t line_number_ = 0;
    std::size_t lines_held_ = 0; ///< -l: complete lines read from stdin and not yet handed to the session
    std::size_t skipped_ = 0; ///< bad lines of -l --topic-separator and --json
    std::optional<double> json_time_;      ///< --json: the last line's tst, parsed once (seconds since the epoch)
    pacer pacer_{cfg_.pace_recorded, cfg_.speed, cfg_.max_rate};
    bool properties_dropped_ = false;
    loop_guard loop_;
    bool completed_ = false;  ///< a flow ended in the read being handled
    std::size_t refused_ = 0; ///< MQTT 5: messages the broker refused
    std::string first_refusal_;
    std::uint64_t published_ = 0;      ///< messages handed to the session
    std::uint64_t bytes_sent_ = 0;     ///< bytes written to the transport
    std::uint64_t stdin_consumed_ = 0; ///< -l: bytes of stdin published
};

} // namespace

std::variant<std::string, failure> read_payload(config const& cfg)
{
    std::string payload;
    auto const& source = cfg.payload;
    if (source.from == payload_source::kind::text) {
        payload = source.text;
    } else {
        bool const file = source.from == payload_source::kind::file;
        auto const name = file ? fmt::format("--file '{}'", source.text) : std::string{"standard input (-s)"};
        int const fd = file ? ::open(source.text.c_str(), O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
        auto const cannot = [&] { return failure{exit_code::usage, fmt::format("cannot read {}: {}", name, std::strerror(errno))}; };
        if (fd < 0) return cannot();
        // A regular file is read into one allocation of its size, not a doubling string.
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) payload.reserve(static_cast<std::size_t>(st.st_size));
        std::array<char, 64 * 1024> chunk;
        while (true) {
            auto const n = ::read(fd, chunk.data(), chunk.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) { // EISDIR for a folder, EIO
                auto f = cannot();
                if (file) ::close(fd);
                return f;
            }
            if (n == 0) break;
            payload.append(chunk.data(), static_cast<std::size_t>(n));
        }
        if (file) ::close(fd);
    }
    // The whole PUBLISH must fit the 256 MiB Remaining Length (§2.2.3).
    auto const topic_size = cfg.command == command::rr ? cfg.request_topic.size() : cfg.topics.empty() ? 0 : cfg.topics.front().size();
    if (payload.size() + topic_size + 4 > mqtt::max_remaining_length)
        return failure{exit_code::usage, "message too large: MQTT allows at most 256 MiB per PUBLISH"};
    return payload;
}

std::unique_ptr<role> make_publisher(config const& cfg, std::string payload, run_control& control, net::any_io_executor ex)
{
    return std::make_unique<publisher>(cfg, std::move(payload), control, std::move(ex));
}

} // namespace wsmqtt

// The event loop: one thread, one io_context. Transport bytes go into the session, session
// bytes go out through one write at a time, session events drive the sub/pub behaviour.
#include "wsmqtt/client.hpp"

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/session.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstdio>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

template <class... F>
struct overloaded : F... {
    using F::operator()...;
};

mqtt::session_options session_options_from(config const& cfg)
{
    mqtt::session_options o;
    o.connect.version = cfg.version;
    o.connect.client_id = cfg.client_id;
    o.connect.clean_session = cfg.clean_session;
    o.connect.keep_alive = cfg.keepalive;
    o.connect.username = cfg.username;
    o.connect.password = cfg.password;
    o.connack_timeout = cfg.connect_timeout;
    return o;
}

/// One line per packet for -d; never the password.
void trace_packet(mqtt::direction dir, mqtt::packet const& p)
{
    auto const* const verb = dir == mqtt::direction::sent ? "sent" : "received";
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
            [](mqtt::publish const& m) {
                return fmt::format(" (id {}, q{}, r{}, d{}, '{}', {} bytes)", m.packet_id, static_cast<int>(m.qos),
                                   m.retain ? 1 : 0, m.dup ? 1 : 0, m.topic, m.payload.size());
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
    fmt::print(stderr, "wsmqtt: {} {}{}\n", verb, mqtt::packet_name(mqtt::type_number(p)), detail);
}

class driver {
public:
    driver(net::io_context& ioc, config const& cfg, output_format format)
        : ioc_{ioc}
        , cfg_{cfg}
        , format_{std::move(format)}
        , session_{session_options_from(cfg)}
        , transport_{make_transport(ioc.get_executor(), cfg)}
        , session_timer_{ioc}
        , deadline_timer_{ioc}
        , writer_wakeup_{ioc}
        , signals_{ioc, SIGINT, SIGTERM, SIGHUP}
    {
        if (cfg_.debug) session_.set_trace(trace_packet);
    }

    int run()
    {
        net::co_spawn(ioc_, main_flow(), net::detached);
        ioc_.run();
        return to_int(exit_);
    }

private:
    net::awaitable<void> main_flow()
    {
        signals_.async_wait([this](auto ec, int) {
            if (!ec) stop(exit_code::ok); // Ctrl-C, SIGTERM, SIGHUP: DISCONNECT and exit 0
        });
        if (cfg_.timeout.count() > 0) {
            deadline_timer_.expires_after(cfg_.timeout);
            deadline_timer_.async_wait([this](auto ec) {
                if (!ec) stop(exit_code::timeout, fmt::format("timed out after {} s", cfg_.timeout.count()));
            });
        }

        if (auto f = co_await transport_->connect()) co_return finish(f->code, f->message);
        if (done_) co_return;
        session_.start(clock::now());
        net::co_spawn(ioc_, writer(), net::detached);
        net::co_spawn(ioc_, reader(), net::detached);
        net::co_spawn(ioc_, session_timer(), net::detached);
    }

    /// Transport -> session -> events; stdout is flushed once per read.
    net::awaitable<void> reader()
    {
        while (!done_) {
            auto result = co_await transport_->read();
            if (done_) break;
            if (result.error) {
                // After our DISCONNECT the broker closing the line is the expected end.
                if (closing_) finish(close_code_);
                else finish(result.error->code, result.error->message);
                break;
            }
            session_.receive(result.data, clock::now());
            after_session_input();
        }
    }

    /// Keeps exactly one write in flight; everything queued meanwhile goes out in the next one.
    net::awaitable<void> writer()
    {
        while (!done_) {
            auto& pending = session_.output();
            if (pending.empty()) {
                if (closing_) {
                    // DISCONNECT is out: close the network connection [MQTT-3.14.4-1].
                    co_await transport_->close();
                    finish(close_code_);
                    break;
                }
                writer_wakeup_.expires_at(clock::time_point::max());
                (void)co_await writer_wakeup_.async_wait(use_tuple);
                continue;
            }
            write_buffer_.clear();
            std::swap(write_buffer_, pending);
            auto const error = co_await transport_->write(write_buffer_);
            if (done_) break;
            if (error) {
                finish(error->code, error->message);
                break;
            }
        }
    }

    /// Wakes the session at its next deadline (CONNACK wait, keepalive, PINGRESP wait).
    net::awaitable<void> session_timer()
    {
        while (!done_) {
            armed_deadline_ = session_.next_deadline();
            session_timer_.expires_at(armed_deadline_.value_or(clock::time_point::max()));
            auto [ec] = co_await session_timer_.async_wait(use_tuple);
            if (done_) break;
            if (!ec) {
                session_.on_timer(clock::now());
                after_session_input();
            }
            // Cancelled: the deadline moved; loop and re-arm.
        }
    }

    /// Handles what the session produced, writes stdout, wakes the writer and the timer.
    void after_session_input()
    {
        while (auto e = session_.poll_event()) {
            std::visit([this](auto& ev) { on_event(ev); }, *e);
            if (done_) return;
        }
        if (!out_.buffer().empty() && out_.flush() == stdout_writer::status::closed) {
            // The reader of our stdout is gone (`| head -1`): leave quietly.
            stdout_closed_ = true;
            stop(exit_code::ok);
        }
        writer_wakeup_.cancel();
        if (session_.next_deadline() != armed_deadline_) session_timer_.cancel();
    }

    void on_event(mqtt::connected const&)
    {
        auto const now = clock::now();
        if (cfg_.command == command::sub) {
            std::vector<mqtt::subscription> subs;
            for (auto const& t : cfg_.topics) subs.push_back({t, cfg_.qos});
            if (auto r = session_.subscribe(std::move(subs), now); r.ec)
                finish(exit_code::usage, fmt::format("cannot subscribe: {}", r.ec.message()));
            return;
        }
        auto const r = session_.publish({cfg_.topics.front(), cfg_.payload, cfg_.qos, cfg_.retain, false, 0}, now);
        if (r.ec) return finish(exit_code::usage, fmt::format("cannot publish: {}", r.ec.message()));
        publish_id_ = r.packet_id;
        // QoS 0 is done once written: DISCONNECT follows the PUBLISH in the same write.
        if (cfg_.qos == mqtt::qos::at_most_once) stop(exit_code::ok);
    }

    void on_event(mqtt::message_received const& e)
    {
        if (cfg_.command != command::sub || closing_ || stdout_closed_) return;
        format_.render(e.message, out_.buffer());
        if (cfg_.count > 0 && ++received_ >= cfg_.count) stop(exit_code::ok);
    }

    void on_event(mqtt::publish_complete const& e)
    {
        // PUBACK (QoS 1) or PUBCOMP (QoS 2): the broker has the message.
        if (cfg_.command == command::pub && e.packet_id == publish_id_) stop(exit_code::ok);
    }

    void on_event(mqtt::subscribe_complete const& e)
    {
        for (std::size_t i = 0; i < e.return_codes.size(); ++i) {
            if (e.return_codes[i] == mqtt::suback_failure)
                return finish(exit_code::subscription_refused,
                              fmt::format("subscription to '{}' refused by the broker", e.subscriptions[i].filter));
        }
    }

    void on_event(mqtt::unsubscribe_complete const&) {}

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
            return finish(exit_code::network, e.ec.message());
        finish(exit_code::protocol, fmt::format("protocol error: {}", e.ec.message()));
    }

    /// Ends politely: DISCONNECT, close, then exit with `code`. Before the session is up, at once.
    void stop(exit_code code, std::string message = {})
    {
        if (done_ || closing_) return;
        report(message);
        if (!session_.is_connected()) return finish(code);
        closing_ = true;
        close_code_ = code;
        session_.disconnect(clock::now()); // discards the will [MQTT-3.14.4-3]
        writer_wakeup_.cancel();
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
        signals_.cancel();
    }

    void report(std::string const& message) const
    {
        if (!message.empty() && !cfg_.quiet) fmt::print(stderr, "wsmqtt: error: {}\n", message);
    }

    net::io_context& ioc_;
    config const& cfg_;
    output_format format_;
    stdout_writer out_;
    mqtt::session session_;
    std::unique_ptr<transport> transport_;
    net::steady_timer session_timer_;
    net::steady_timer deadline_timer_;
    net::steady_timer writer_wakeup_;
    net::signal_set signals_;
    mqtt::bytes write_buffer_;
    std::optional<clock::time_point> armed_deadline_;

    bool done_ = false;
    bool closing_ = false;
    bool stdout_closed_ = false;
    exit_code exit_ = exit_code::ok;
    exit_code close_code_ = exit_code::ok;
    std::size_t received_ = 0;
    std::uint16_t publish_id_ = 0;
};

} // namespace

int run(config const& cfg)
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

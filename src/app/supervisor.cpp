// The supervisor: connect, reconnect with backoff, signals, -W, and the run's end.
#include "supervisor.hpp"

#include "../mqtt/overloaded.hpp"
#include "../net/race.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/session_words.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <csignal>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

/// One line per packet for -d; never the password.
/// `keepalive_of_v5`: ours, with MQTT 5 (the CONNACK's limits are shown then).
void trace_packet(mqtt::direction dir, mqtt::packet const& p, std::size_t attached, bool colour, std::optional<std::uint16_t> keepalive_of_v5)
{
    // Sent in cyan, received in green, the packet name in bold: when stderr is a terminal.
    auto const verb = dir == mqtt::direction::sent ? paint("sent", "36", colour) : paint("received", "32", colour);
    std::string detail = std::visit(
        overloaded{
            [](mqtt::connect const& c) {
                auto words = fmt::format(" (client id '{}', clean {}, keepalive {}, user {}, password {}", c.client_id,
                                         c.clean_session ? 1 : 0, c.keep_alive, c.username ? "'" + *c.username + "'" : "none",
                                         c.password ? "****" : "none");
                if (c.will) {
                    words += fmt::format(", will '{}' q{}{}", c.will->topic, static_cast<int>(c.will->qos), c.will->retain ? " retained" : "");
                    if (!c.will->props.empty()) words += " [" + properties_words(c.will->props) + "]";
                }
                return words + ")";
            },
            [&](mqtt::connack const& c) {
                if (keepalive_of_v5) return fmt::format(" (session present {}, reason {})", c.session_present ? 1 : 0, reason_words(c.return_code, {}));
                return fmt::format(" (session present {}, return code {})", c.session_present ? 1 : 0, c.return_code);
            },
            [](mqtt::disconnect const& d) { return d.reason_code ? fmt::format(" (reason {})", reason_words(d.reason_code, {})) : std::string{}; },
            [attached](mqtt::publish const& m) {
                return fmt::format(" (id {}, q{}, r{}, d{}, '{}', {} bytes)", m.packet_id, static_cast<int>(m.qos),
                                   m.retain ? 1 : 0, m.dup ? 1 : 0, m.topic, m.payload.size() + attached);
            },
            [](mqtt::subscribe const& s) {
                std::string filters;
                for (auto const& sub : s.subscriptions)
                    filters += fmt::format(" '{}' q{}{}{}{}", sub.filter, static_cast<int>(sub.qos), sub.no_local ? " no-local" : "",
                                           sub.retain_as_published ? " retain-as-published" : "",
                                           sub.retain_handling ? fmt::format(" retain-handling {}", sub.retain_handling) : "");
                return fmt::format(" (id {},{})", s.packet_id, filters);
            },
            [](mqtt::suback const& s) { return fmt::format(" (id {}, codes {})", s.packet_id, fmt::join(s.return_codes, ",")); },
            [](mqtt::unsubscribe const& u) {
                std::string filters;
                for (auto const& f : u.filters) filters += fmt::format(" '{}'", f);
                return fmt::format(" (id {},{})", u.packet_id, filters);
            },
            [](auto const& other) -> std::string {
                std::string words;
                if constexpr (requires { other.packet_id; }) words = fmt::format(" (id {}", other.packet_id);
                if constexpr (requires { other.reason_code; })
                    if (other.reason_code != 0) words += fmt::format("{}reason {}", words.empty() ? " (" : ", ", reason_words(other.reason_code, {}));
                return words.empty() ? words : words + ")";
            },
        },
        p);
    // MQTT 5: every property, and what the CONNACK allows.
    std::visit([&](auto const& packet) {
        if constexpr (requires { packet.props; })
            if (!packet.props.empty()) detail += " [" + properties_words(packet.props) + "]";
    }, p);
    write_stderr(fmt::format("wsmqtt: {} {}{}\n", verb, paint(mqtt::packet_name(mqtt::type_number(p)), "1", colour), detail));
    if (auto const* c = std::get_if<mqtt::connack>(&p); c && keepalive_of_v5 && c->return_code == 0)
        write_stderr(fmt::format("wsmqtt: the broker allows: {}\n", connack_limits_words(*c, *keepalive_of_v5)));
}

} // namespace

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
    o.connect.props = cfg.v5.connect;
    o.disconnect_props = cfg.v5.disconnect;
    o.connack_timeout = cfg.connect_timeout;
    o.max_packet_size = cfg.max_packet_size;
    return o;
}

transport_options transport_options_from(config const& cfg)
{
    transport_options o;
    o.endpoint = cfg.endpoint;
    o.proxy = cfg.proxy;
    o.tls = cfg.tls;
    o.ws = cfg.ws;
    // MQTT 3.1.1 registers "mqtt"; MQTT 3.1 used "mqttv3.1" [MQTT-6.0.0-3].
    if (o.ws.subprotocol.empty()) o.ws.subprotocol = cfg.version == mqtt::protocol_version::v31 ? "mqttv3.1" : "mqtt";
    o.connect_timeout = cfg.connect_timeout;
    o.max_frame = cfg.max_packet_size;
    return o;
}

supervisor::supervisor(net::any_io_executor ex, config const& cfg, transport_maker make)
    : executor_{ex}
    , cfg_{cfg}
    , make_transport_{std::move(make)}
    , session_{session_options_from(cfg)}
    , retry_timer_{ex}
    , signals_{ex, SIGINT, SIGTERM, SIGHUP}
    , backoff_{std::min<std::chrono::milliseconds>(std::chrono::seconds{1}, cfg.reconnect_max)}
{
    std::optional<std::uint16_t> keepalive_of_v5;
    if (cfg_.version == mqtt::protocol_version::v5) keepalive_of_v5 = cfg_.keepalive;
    if (cfg_.debug)
        session_.set_trace([colour = stderr_wants_colour(), keepalive_of_v5](mqtt::direction dir, mqtt::packet const& p, std::size_t attached) {
            trace_packet(dir, p, attached, colour, keepalive_of_v5);
        });
}

net::awaitable<int> supervisor::run(role& r)
{
    role_ = &r;
    if (cfg_.tls.insecure && uses_tls(cfg_.endpoint.scheme) && !cfg_.quiet)
        write_stderr("wsmqtt: warning: --insecure: the broker's certificate is not verified\n");
    // The connections end the run; the others only watch, and end with it.
    co_await race(connections(), watch_signals(), watch_deadline(), r.run());
    r.on_end();
    co_return to_int(outcome_.value_or(exit_code::ok));
}

net::awaitable<void> supervisor::connections()
{
    while (true) {
        auto t = make_transport_(executor_);
        transport_ = t.get();
        auto error = co_await t->connect();
        bool const connected = !error;
        std::optional<failure> f;
        if (error) {
            error->port_proven = was_connected_;
            f = describe(*error);
        }
        std::string hint;
        if (connected && !outcome_) {
            connection c{executor_, *t, session_, *this, role_->write_step()};
            connection_ = &c;
            accepted_ = false;
            f = co_await c.run();
            connection_ = nullptr;
            // Two clients with the same id knock each other off, every time one reconnects; the
            // broker does not say why (MQTT 3.1.1 has no reason codes) [MQTT-3.1.4-2].
            auto const reason = c.transport_reason();
            bool const closed = reason == transport_errc::closed_by_broker || reason == transport_errc::ws_closed_by_broker;
            closed_after_accept_ = accepted_ && closed ? closed_after_accept_ + 1 : 0;
            if (closed_after_accept_ == 3)
                hint = fmt::format(" (the broker closed the connection 3 times in a row after accepting it: is another client "
                                   "connected with the id '{}'? Give each client its own -i)",
                                   cfg_.client_id);
        }
        transport_ = nullptr;
        session_.on_connection_lost();
        if (outcome_) co_return;
        if (stopping_) { // the end we asked for (DISCONNECT), whatever the broker did then
            outcome_ = stopping_;
            co_return;
        }
        if (!f) f = describe({transport_errc::closed});
        if (!may_retry(*f)) {
            finish(f->code, f->message);
            co_return;
        }
        auto const delay = next_backoff();
        if (!cfg_.quiet) {
            auto const seconds = std::chrono::duration<double>(delay).count();
            // The failure's words already say what happened ("connection lost: …", "no PINGRESP …").
            if (retrying_ && !connected)
                write_stderr(fmt::format("wsmqtt: reconnect failed: {}; retrying in {:.1f} s\n", f->message, seconds));
            else
                write_stderr(fmt::format("wsmqtt: {}{}; reconnecting in {:.1f} s{}\n", was_connected_ ? "" : "cannot connect: ", f->message,
                                         seconds, hint));
        }
        retrying_ = true;
        retry_timer_.expires_after(delay);
        (void)co_await retry_timer_.async_wait(use_tuple); // finish() cancels it
        if (outcome_) co_return;
    }
}

bool supervisor::may_retry(failure const& f) const
{
    // After a connection that had succeeded, sub and pub -l reconnect on network failures, and
    // on a WebSocket upgrade that fails (a reverse proxy answers 503 while the broker behind it
    // restarts; mosquitto_sub retries too); anything else, or --no-reconnect, ends the run with
    // the failure. A refused upgrade on the first connection ends it.
    bool const long_running = cfg_.command == command::sub || cfg_.line_mode;
    bool const retriable = f.code == exit_code::network || (f.code == exit_code::websocket && was_connected_);
    return retriable && !f.final && long_running && !cfg_.no_reconnect && (was_connected_ || cfg_.retry_first);
}

std::chrono::milliseconds supervisor::next_backoff()
{
    // 1 s doubling to --reconnect-max (30 s), each +-20%.
    auto const base = backoff_;
    backoff_ = std::min(backoff_ * 2, cfg_.reconnect_max);
    std::uniform_real_distribution<double> jitter{0.8, 1.2};
    return std::chrono::milliseconds{static_cast<std::int64_t>(static_cast<double>(base.count()) * jitter(random_))};
}

net::awaitable<void> supervisor::watch_signals()
{
    int count = 0;
    while (true) {
        auto [ec, signal] = co_await signals_.async_wait(use_tuple);
        auto const state = co_await boost::asio::this_coro::cancellation_state;
        if (cancelled(state)) co_return;
        if (!ec) role_->on_signal(signal, ++count);
    }
}

net::awaitable<void> supervisor::watch_deadline()
{
    if (cfg_.timeout.count() > 0) {
        net::steady_timer timer{executor_, cfg_.timeout};
        (void)co_await timer.async_wait(use_tuple);
        auto const state = co_await boost::asio::this_coro::cancellation_state;
        if (cancelled(state)) co_return;
        auto const answers = role_->messages_printed();
        auto message = cfg_.command != command::rr ? fmt::format("timed out after {} s", cfg_.timeout.count())
                       : answers == 0 ? fmt::format("no answer on '{}' within {} s (-W)", cfg_.topics.front(), cfg_.timeout.count())
                                      : fmt::format("{} of {} answers on '{}' within {} s (-W)", answers, cfg_.count, cfg_.topics.front(),
                                                    cfg_.timeout.count());
        if (auto const lost = role_->unacknowledged()) message += fmt::format(" ({})", *lost);
        stop(exit_code::timeout, message);
    }
    co_await park();
}

void supervisor::stop(exit_code code, std::string message)
{
    if (outcome_ || stopping_) return;
    // Not connected (connecting, or waiting to reconnect): there is nobody to say DISCONNECT to.
    // What was in flight is the caller's to report (-W and a publisher's signal say it).
    if (!connection_ || !session_.is_connected()) return finish(code, std::move(message));
    report(message);
    stopping_ = code;
    session_.disconnect(clock::now()); // discards the will [MQTT-3.14.4-3]
    connection_->wake_writer();
}

void supervisor::finish(exit_code code, std::string message)
{
    if (outcome_) return;
    outcome_ = code;
    report(message);
    if (connection_) connection_->end(std::nullopt);
    else if (transport_) transport_->cancel();
    retry_timer_.cancel();
}

void supervisor::wake_writer()
{
    if (connection_) connection_->wake_writer();
}

void supervisor::report(std::string const& message)
{
    if (message.empty() || cfg_.quiet) return;
    role_->before_error();
    write_error(message);
}

void supervisor::on_event(mqtt::event& e)
{
    std::visit(overloaded{
                   [&](mqtt::connected const& c) {
                       // A packet after CONNACK in the same read may have failed the session
                       // already: its session_failed event comes next and says why.
                       if (!session_.is_connected()) return;
                       accepted_ = true;
                       bool const reconnected = std::exchange(was_connected_, true);
                       backoff_ = std::min<std::chrono::milliseconds>(std::chrono::seconds{1}, cfg_.reconnect_max);
                       retrying_ = false;
                       if (reconnected && !cfg_.quiet) write_stderr("wsmqtt: reconnected\n");
                       role_->on_connected(reconnected, c.session_present);
                   },
                   [&](mqtt::message_received const& m) { role_->on_message(m.message); },
                   [&](mqtt::publish_complete const& c) { role_->on_publish_complete(c); },
                   [&](mqtt::subscribe_complete const& s) { role_->on_subscribe_complete(s); },
                   [&](mqtt::unsubscribe_complete const& u) { role_->on_unsubscribe_complete(u); },
                   [&](mqtt::ignored_acknowledgement const& a) {
                       if (cfg_.debug)
                           write_stderr(fmt::format("wsmqtt: ignored {} for packet identifier {}, which is not in use\n",
                                                    mqtt::packet_name(a.type), a.packet_id));
                   },
                   [&](mqtt::session_failed const& f) { on_session_failed(f); },
               },
               e);
}

void supervisor::on_session_failed(mqtt::session_failed const& e)
{
    if (!connection_) return;
    auto const* method = mqtt::find(cfg_.v5.connect, mqtt::property_id::authentication_method);
    auto f = describe(e, {host_and_port(cfg_.endpoint), cfg_.connect_timeout, cfg_.keepalive, cfg_.max_packet_size,
                          cfg_.username.has_value(), cfg_.version, method ? method->value : std::string{}});
    // A WebSocket broker is told why we close when the fault is its (RFC 6455 §7.4.1).
    constexpr std::uint16_t protocol_error = 1002, too_big = 1009;
    std::uint16_t ws_status = 0;
    if (f.code == exit_code::protocol && e.ec != mqtt::errc::disconnected_by_broker)
        ws_status = e.ec == mqtt::errc::packet_too_large ? too_big : protocol_error;
    // MQTT 5: when the session queued a DISCONNECT with the reason, it goes out first.
    connection_->end(std::move(f), ws_status, e.disconnect_queued);
}

void supervisor::after_events() { role_->after_events(); }

void supervisor::on_sent(std::size_t bytes) { role_->on_sent(bytes); }

} // namespace wsmqtt

// The supervisor: makes connections and makes them again when they are lost (with backoff),
// watches signals and -W, and decides how the run ends. The session lives here, across
// connections; a role (sub, pub) does the rest.
#pragma once

#include "connection.hpp"
#include "role.hpp"
#include "wsmqtt/config.hpp"
#include "wsmqtt/net/transport.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <random>

namespace wsmqtt {

/// Makes the transport of each connection attempt.
using transport_maker = std::function<std::unique_ptr<transport>(boost::asio::any_io_executor)>;

class supervisor final : public run_control, private connection_handler {
public:
    /// `make` makes the transport of each attempt (tests give a scripted one).
    supervisor(boost::asio::any_io_executor ex, config const& cfg, transport_maker make);

    /// The whole run with `r`; returns the exit code. Every coroutine it starts has ended when
    /// it returns, and any exception from them comes out here.
    boost::asio::awaitable<int> run(role& r);

    // run_control
    mqtt::session& session() override { return session_; }
    void stop(exit_code code, std::string message = {}) override;
    void finish(exit_code code, std::string message = {}) override;
    void wake_writer() override;
    [[nodiscard]] bool ending() const override { return outcome_ || stopping_; }

private:
    boost::asio::awaitable<void> connections();
    boost::asio::awaitable<void> watch_signals();
    boost::asio::awaitable<void> watch_deadline();
    /// Whether a connection that ended with `f` is made again.
    [[nodiscard]] bool may_retry(failure const& f) const;
    std::chrono::milliseconds next_backoff();
    void report(std::string const& message);

    // connection_handler
    void on_event(mqtt::event& e) override;
    void after_events() override;
    void on_sent(std::size_t bytes) override;
    void on_session_failed(mqtt::session_failed const& e);

    boost::asio::any_io_executor executor_;
    config const& cfg_;
    transport_maker make_transport_;
    mqtt::session session_;
    role* role_ = nullptr;
    transport* transport_ = nullptr;   ///< of the attempt under way
    connection* connection_ = nullptr; ///< while one runs
    boost::asio::steady_timer retry_timer_;
    /// SIGINT, SIGTERM, SIGHUP: caught from the start, before the first connection.
    boost::asio::signal_set signals_;
    std::optional<exit_code> outcome_;  ///< finish() was called: the run ends with this
    std::optional<exit_code> stopping_; ///< stop() was called: DISCONNECT is on its way
    bool was_connected_ = false;        ///< a CONNACK was accepted once: failures may reconnect
    bool retrying_ = false;             ///< a loss was reported; attempts go on
    bool accepted_ = false;             ///< the current connection's CONNACK was accepted
    int closed_after_accept_ = 0;       ///< connections in a row the broker closed after accepting them
    std::chrono::milliseconds backoff_{std::chrono::seconds{1}};
    std::mt19937 random_{std::random_device{}()};
};

/// wsmqtt's run (client.hpp) with transports from `make`: tests give a scripted one.
[[nodiscard]] int run(config cfg, transport_maker make);

/// The session options of a run.
[[nodiscard]] mqtt::session_options session_options_from(config const& cfg);
/// The transport options of a run.
[[nodiscard]] transport_options transport_options_from(config const& cfg);

} // namespace wsmqtt

// What the supervisor and a role (wsmqtt sub, wsmqtt pub) say to each other.
#pragma once

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/session.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace wsmqtt {

/// The supervisor, as a role sees it.
class run_control {
public:
    [[nodiscard]] virtual mqtt::session& session() = 0;
    /// Ends politely: DISCONNECT and close, then exit with `code`. `message`, if any, is
    /// reported as an error now.
    virtual void stop(exit_code code, std::string message = {}) = 0;
    /// Ends now with `code`, reporting `message` if any.
    virtual void finish(exit_code code, std::string message = {}) = 0;
    /// The session has bytes to send.
    virtual void wake_writer() = 0;
    /// stop() or finish() was called.
    [[nodiscard]] virtual bool ending() const = 0;

protected:
    ~run_control() = default;
};

/// What `sub` or `pub` does with the connections the supervisor makes.
class role {
public:
    virtual ~role() = default;
    /// The role's own work while the run lasts (a publisher's input, --rate). Ended by
    /// cancellation when the run ends; it must not return before (park() when done).
    virtual boost::asio::awaitable<void> run() = 0;
    /// CONNACK accepted; `reconnected`: not the first connection of the run.
    virtual void on_connected(bool reconnected, bool session_present) = 0;
    virtual void on_message(mqtt::publish const&) {}
    /// A QoS 1/2 message's flow ended: the broker has it, or (MQTT 5) refused it.
    virtual void on_publish_complete(mqtt::publish_complete const&) {}
    virtual void on_subscribe_complete(mqtt::subscribe_complete const&) {}
    virtual void on_unsubscribe_complete(mqtt::unsubscribe_complete const&) {}
    /// Every event of one read is handled.
    virtual void after_events() {}
    /// `bytes` more were written to the broker.
    virtual void on_sent(std::size_t) {}
    /// SIGINT, SIGTERM or SIGHUP; `count`: the how-manieth.
    virtual void on_signal(int signal, int count) = 0;
    /// What ending now would lose ("3 messages not acknowledged by the broker"), if anything.
    [[nodiscard]] virtual std::optional<std::string> unacknowledged() const { return std::nullopt; }
    /// Messages printed so far (rr's -W says how many answers of -C came).
    [[nodiscard]] virtual std::size_t messages_printed() const { return 0; }
    /// The run has ended: write out what is buffered.
    virtual void on_end() {}
    /// An error line is about to be written on stderr (a progress line makes room for it).
    virtual void before_error() {}
    /// Writes larger than this go out in parts (progress); 0: whole.
    [[nodiscard]] virtual std::size_t write_step() const { return 0; }
};

} // namespace wsmqtt

// The client side of an MQTT session (3.1.1 and 3.1; 5.0 as far as CONNACK's limits, reason
// codes and topic aliases go) as a state machine: bytes and time in, bytes and events out. It
// never touches a socket or a clock; the caller does the I/O and the waiting.
#pragma once

#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/packet.hpp"
#include "wsmqtt/mqtt/properties.hpp"

#include <bitset>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <variant>
#include <vector>

namespace wsmqtt::mqtt {

using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::milliseconds;

struct session_options {
    mqtt::connect connect;                           ///< sent on every start(); its version is the session's
    duration connack_timeout = std::chrono::seconds{10};
    std::size_t max_packet_size = default_max_packet_size;
    properties disconnect_props; ///< MQTT 5: sent with our DISCONNECT (-D disconnect …)
};

// Events the session reports to its driver.
struct connected {
    bool session_present = false;
    properties props; ///< MQTT 5: the CONNACK's (the broker's limits, an assigned client id)
};
struct message_received { publish message; };
/// PUBACK (QoS 1) or PUBCOMP (QoS 2); MQTT 5: a PUBACK or PUBREC with a reason code of 0x80 or
/// more ends the flow too, the message refused (`reason_code`, and a Reason String in `props`).
struct publish_complete {
    std::uint16_t packet_id = 0;
    std::uint8_t reason_code = 0;
    properties props;
};
struct subscribe_complete {
    std::uint16_t packet_id = 0;
    std::vector<subscription> subscriptions; ///< as requested
    std::vector<std::uint8_t> return_codes;  ///< one per subscription, 0x80 = refused
    properties props;                        ///< MQTT 5: the SUBACK's (a Reason String)
};
struct unsubscribe_complete {
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;       ///< as requested
    std::vector<std::uint8_t> reason_codes; ///< MQTT 5: one per filter (0x11: there was none); empty in 3.1.1
    properties props;                       ///< MQTT 5: the UNSUBACK's (a Reason String)
};
/// PUBACK, PUBREC or PUBCOMP for an identifier not in use: a harmless broker slip, ignored
/// (as mosquitto_sub and MQTT.js do); reported for -d.
struct ignored_acknowledgement {
    std::uint8_t type = 0; ///< packet type number (4 PUBACK, 5 PUBREC, 7 PUBCOMP)
    std::uint16_t packet_id = 0;
};
/// The session cannot go on: close the connection. `connack_code` is set for a refused CONNECT
/// (MQTT 5: the Connect Reason Code) and for a DISCONNECT from an MQTT 5 broker (its reason
/// code); `props` are that packet's (a Reason String, a Server Reference).
struct session_failed {
    std::error_code ec;
    std::uint8_t connack_code = 0;
    properties props;
    /// MQTT 5: a DISCONNECT saying why is queued in output(): send it before closing.
    bool disconnect_queued = false;
};
using event = std::variant<connected, message_received, publish_complete, subscribe_complete,
                           unsubscribe_complete, ignored_acknowledgement, session_failed>;

/// Result of a request: the packet identifier used (0 for QoS 0) or why it was refused.
struct request {
    std::uint16_t packet_id = 0;
    std::error_code ec;
};

/// Direction of a packet seen by the trace hook.
enum class direction { sent, received };

class session {
public:
    explicit session(session_options options);

    /// The transport is up: queue CONNECT [MQTT-3.1.0-1].
    void start(time_point now);
    /// Bytes from the transport, in any split [MQTT-6.0.0-2].
    void receive(std::span<std::uint8_t const> data, time_point now);
    /// Time has reached next_deadline() (calling it earlier is harmless).
    void on_timer(time_point now);
    /// The transport is gone; unacknowledged QoS 1/2 state is kept for a resend.
    void on_connection_lost();

    [[nodiscard]] request publish(mqtt::publish message, time_point now);
    /// MQTT 5: `props` go with the SUBSCRIBE or UNSUBSCRIBE (a Subscription Identifier, user
    /// properties).
    [[nodiscard]] request subscribe(std::vector<subscription> subscriptions, time_point now, properties props = {});
    [[nodiscard]] request unsubscribe(std::vector<std::string> filters, time_point now, properties props = {});
    /// Queue DISCONNECT; nothing is sent after it [MQTT-3.14.4-2].
    void disconnect(time_point now);

    /// When on_timer() must next be called, if ever.
    [[nodiscard]] std::optional<time_point> next_deadline() const noexcept;
    /// Next event, oldest first. A message is acknowledged (PUBACK, PUBREC) when its event is
    /// taken here, not when it arrives: a message the caller never takes (it stopped after -C,
    /// and sent DISCONNECT) is never acknowledged, so a persistent session gets it again.
    [[nodiscard]] std::optional<event> poll_event();
    /// Bytes to send, all queued packets together; the caller sends and clears them.
    [[nodiscard]] bytes& output() noexcept { return output_; }
    [[nodiscard]] bytes const& output() const noexcept { return output_; }
    /// Drops what output() holds unsent: the messages just taken could not be delivered (stdout
    /// failed), so their PUBACK/PUBREC must not go out; the run ends, and a persistent session
    /// gets them again. A message is never acknowledged without being delivered.
    void discard_output() noexcept
    {
        output_.clear();
        attachments_.clear();
    }

    /// The payload of a large PUBLISH, sent from where it lies instead of copied into output():
    /// it goes `at` bytes into output(). Shared with the session while it may be sent again.
    struct attachment {
        std::size_t at;
        std::shared_ptr<std::string const> payload;
    };
    /// Payloads of at least this size are attached, not copied.
    static constexpr std::size_t attach_threshold = 64 * 1024;
    /// The attachments of output(), in order; the caller takes them with the bytes.
    [[nodiscard]] std::vector<attachment>& attachments() noexcept { return attachments_; }

    [[nodiscard]] bool is_connected() const noexcept { return state_ == state::connected; }
    [[nodiscard]] protocol_version version() const noexcept { return options_.connect.version; }
    /// MQTT 5: QoS 1 and 2 messages the broker takes unacknowledged at once (its Receive
    /// Maximum, §3.2.2.3.3); 65 535 otherwise.
    [[nodiscard]] std::uint16_t receive_maximum() const noexcept { return broker_receive_maximum_; }
    /// The client identifier in use: ours, or the one the broker assigned [MQTT-3.2.2-16].
    [[nodiscard]] std::string const& client_id() const noexcept { return options_.connect.client_id; }
    /// The keepalive in use: ours, or the broker's Server Keep Alive [MQTT-3.2.2-21].
    [[nodiscard]] std::uint16_t keep_alive() const noexcept { return keep_alive_; }
    /// DISCONNECT is queued or sent: the end of this connection is ours.
    [[nodiscard]] bool is_disconnecting() const noexcept { return state_ == state::disconnecting; }
    /// Outgoing QoS 1/2 messages not yet fully acknowledged (including those waiting to be
    /// sent again after a reconnect).
    [[nodiscard]] std::size_t in_flight() const noexcept { return outgoing_.size() + requeued_.size(); }

    /// Called for every packet sent or received (for -d), with the size of an attached payload
    /// (which the packet does not hold); the hook must not print passwords.
    using trace_hook = std::function<void(direction, packet const&, std::size_t attached)>;
    void set_trace(trace_hook trace) { trace_ = std::move(trace); }

private:
    enum class state { idle, awaiting_connack, connected, disconnecting, failed };
    enum class stage { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };

    struct outgoing {
        mqtt::publish message;  ///< without its payload when that is `large`
        stage step;
        std::uint64_t sequence; ///< resend order [MQTT-4.6.0-1]
        std::shared_ptr<std::string const> large;
    };
    struct queued {
        mqtt::publish message;
        std::shared_ptr<std::string const> large;
    };

    void send(packet const& p, time_point now);
    [[nodiscard]] request publish(mqtt::publish message, std::shared_ptr<std::string const> large, time_point now);
    /// Encodes a PUBLISH, its payload attached when `large`.
    /// MQTT 5: a topic the broker knows by its Topic Alias goes as the alias alone.
    [[nodiscard]] std::error_code send_publish(packet& p, std::shared_ptr<std::string const> const& large, time_point now);
    void handle(packet&& p, time_point now);
    void on_connack(connack const& c, time_point now);
    void on_publish(mqtt::publish&& m, time_point now);
    void fail(std::error_code ec, std::uint8_t connack_code = 0, properties props = {});
    /// MQTT 5: an incoming Topic Alias resolved, or set (§3.3.2.3.4).
    [[nodiscard]] std::error_code resolve_alias(mqtt::publish& m);
    void ignore(std::uint8_t type, std::uint16_t packet_id);
    void resend_unacknowledged(time_point now);
    [[nodiscard]] std::uint16_t allocate_packet_id();
    void release_packet_id(std::uint16_t id) noexcept
    {
        if (ids_in_use_) ids_in_use_->reset(id);
    }

    session_options options_;
    state state_ = state::idle;
    decoder decoder_;
    bytes output_;
    std::vector<attachment> attachments_;
    std::vector<event> events_; ///< from events_taken_ on: not yet taken (a deque costs 0.5 KiB a session empty)
    std::size_t events_taken_ = 0;
    trace_hook trace_;

    std::unique_ptr<std::bitset<65536>> ids_in_use_; ///< [MQTT-2.3.1-2]
    std::uint16_t next_id_ = 1;
    std::uint64_t next_sequence_ = 0;
    std::map<std::uint16_t, outgoing> outgoing_;                         ///< QoS 1/2 we sent
    /// Incoming QoS 2 messages delivered, and so acknowledged with PUBREC, until their PUBREL:
    /// a repeated PUBLISH with one of these identifiers is not delivered again (method A of
    /// §4.3.3). Delivering on PUBLISH lets a run stop after -C without having acknowledged
    /// anything it did not print; a PUBREL that comes to the next run is answered all the same.
    std::set<std::uint16_t> received_qos2_;
    /// With CleanSession=1 a reconnect starts a new session: unacknowledged messages are
    /// published again as new ones once it is up, so that none is lost.
    std::vector<queued> requeued_;
    std::map<std::uint16_t, std::vector<subscription>> pending_subscribe_;
    std::map<std::uint16_t, std::vector<std::string>> pending_unsubscribe_;

    // What the broker's CONNACK set (MQTT 5), or the defaults.
    std::uint16_t keep_alive_ = 0;
    std::uint16_t broker_receive_maximum_ = 65535;
    std::size_t broker_max_packet_size_ = max_remaining_length + 5;
    std::uint8_t broker_max_qos_ = 2;
    bool broker_retain_ = true;
    std::uint16_t broker_topic_alias_maximum_ = 0;
    std::map<std::uint16_t, std::string> aliases_;     ///< incoming Topic Aliases, per connection
    std::map<std::uint16_t, std::string> aliases_out_; ///< Topic Aliases the broker has from us, per connection
    std::uint16_t receive_maximum_ = 65535; ///< ours (CONNECT): incoming QoS 1/2 unacknowledged at once
    bool problem_information_ = true;       ///< ours (CONNECT): Reason Strings and user properties wanted everywhere
    std::size_t unacknowledged_qos1_ = 0;   ///< incoming QoS 1 messages not yet taken (so not yet PUBACKed)

    time_point connack_deadline_{};
    time_point last_sent_{};
    time_point last_input_{}; ///< of the last receive(): when poll_event() acknowledges
    bool ping_outstanding_ = false;
    time_point ping_deadline_{};
};

} // namespace wsmqtt::mqtt

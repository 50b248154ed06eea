// MQTT client session: CONNECT/CONNACK, keepalive, packet identifiers, QoS 1 and 2 flows; for
// MQTT 5 also the broker's limits from CONNACK, reason codes and incoming topic aliases.
#include "overloaded.hpp"
#include "wsmqtt/mqtt/session.hpp"

#include "wsmqtt/mqtt/error.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace wsmqtt::mqtt {
namespace {


duration seconds_of(std::uint16_t keep_alive) { return std::chrono::seconds{keep_alive}; }

/// How long to wait for PINGRESP: half the keepalive (at least 1 s), so a dead connection is
/// noticed within 1.5 x keepalive of the last packet sent.
duration ping_timeout_of(std::uint16_t keep_alive)
{
    return std::max<duration>(seconds_of(keep_alive) / 2, std::chrono::seconds{1});
}

/// A property's number, or `otherwise` when it is not there.
std::uint32_t number_of(properties const& props, property_id id, std::uint32_t otherwise)
{
    auto const* p = find(props, id);
    return p ? p->number : otherwise;
}

/// The reason code of the DISCONNECT that closes a connection for `ec`, among those a client may
/// send (§3.14.2.1); 0 when we send none (the broker ended it, or the network did).
std::uint8_t disconnect_reason(std::error_code ec) noexcept
{
    if (ec.category() != mqtt_category()) return 0;
    switch (static_cast<errc>(ec.value())) {
    case errc::malformed_remaining_length: case errc::malformed_packet: case errc::invalid_packet_type: case errc::invalid_flags:
    case errc::invalid_qos: case errc::invalid_utf8: case errc::string_too_long: case errc::invalid_return_code:
    case errc::invalid_connack_flags: case errc::malformed_properties: case errc::zero_packet_id:
        return 0x81; // malformed packet
    case errc::packet_too_large: return 0x95;
    case errc::receive_maximum_exceeded: return 0x93;
    case errc::invalid_topic_alias: return 0x94;
    case errc::invalid_topic: return 0x90; // topic name invalid
    case errc::auth_step_unsupported: return 0x83; // implementation specific: we cannot answer it
    case errc::connack_timeout: case errc::pingresp_timeout: case errc::connection_refused: case errc::disconnected_by_broker:
    case errc::not_connected: case errc::no_packet_id_available:
        return 0;
    default: return 0x82; // protocol error
    }
}

} // namespace

session::session(session_options options)
    : options_{std::move(options)}
    , decoder_{options_.max_packet_size, options_.connect.version}
    , keep_alive_{options_.connect.keep_alive}
    , receive_maximum_{static_cast<std::uint16_t>(number_of(options_.connect.props, property_id::receive_maximum, 65535))}
    , problem_information_{number_of(options_.connect.props, property_id::request_problem_information, 1) != 0}
{
}

void session::start(time_point now)
{
    assert(state_ == state::idle || state_ == state::failed);
    decoder_.reset();
    output_.clear();
    attachments_.clear();
    ping_outstanding_ = false;
    // What a CONNACK sets holds for its connection only.
    keep_alive_ = options_.connect.keep_alive;
    broker_receive_maximum_ = 65535;
    broker_max_packet_size_ = max_remaining_length + 5;
    broker_max_qos_ = 2;
    broker_retain_ = true;
    broker_topic_alias_maximum_ = 0;
    aliases_.clear(); // Topic Aliases do not outlive their connection [MQTT-3.3.2-7]
    aliases_out_.clear();
    unacknowledged_qos1_ = 0;
    if (options_.connect.clean_session) {
        // CleanSession=1: the previous session's state is not reused [MQTT-3.1.2-6]. Messages
        // the broker has not acknowledged go out again as new ones (at least once); those it
        // has received (PUBREC seen) are delivered already.
        std::vector<outgoing const*> order;
        for (auto const& [id, o] : outgoing_)
            if (o.step != stage::awaiting_pubcomp) order.push_back(&o);
        std::sort(order.begin(), order.end(), [](auto a, auto b) { return a->sequence < b->sequence; });
        for (auto const* o : order) requeued_.push_back({o->message, o->large});
        for (auto const& [id, o] : outgoing_) release_packet_id(id);
        outgoing_.clear();
        received_qos2_.clear();
    }
    for (auto const& [id, subs] : pending_subscribe_) release_packet_id(id);
    pending_subscribe_.clear();
    for (auto const& [id, filters] : pending_unsubscribe_) release_packet_id(id);
    pending_unsubscribe_.clear();

    state_ = state::awaiting_connack;
    connack_deadline_ = now + options_.connack_timeout;
    send(options_.connect, now);
}

void session::receive(std::span<std::uint8_t const> data, time_point now)
{
    if (state_ == state::failed || state_ == state::idle) return;
    decoder_.feed(data);
    last_input_ = now;
    std::error_code ec;
    while (state_ != state::failed) {
        auto p = decoder_.next(ec);
        if (!p) break;
        if (trace_) trace_(direction::received, *p, 0);
        handle(std::move(*p), now);
    }
    if (ec) fail(ec); // malformed input: close [MQTT-4.8.0-1]
}

void session::handle(packet&& p, time_point now)
{
    if (state_ == state::disconnecting) return; // DISCONNECT is queued: nothing else matters
    // Asked for no problem information, a broker sends a Reason String or user properties only
    // on PUBLISH, CONNACK and DISCONNECT [MQTT-3.1.2-29].
    if (!problem_information_ && !std::holds_alternative<mqtt::publish>(p) && !std::holds_alternative<connack>(p) &&
        !std::holds_alternative<mqtt::disconnect>(p)) {
        bool const told = std::visit(
            [](auto const& ack) {
                if constexpr (requires { ack.props; })
                    return find(ack.props, property_id::reason_string) || find(ack.props, property_id::user_property);
                else
                    return false;
            },
            p);
        if (told) return fail(errc::problem_information_sent);
    }
    if (state_ == state::awaiting_connack) {
        if (auto const* c = std::get_if<connack>(&p)) return on_connack(*c, now);
        // Enhanced authentication: the broker may challenge before its CONNACK (§4.12).
        if (std::holds_alternative<auth>(p) && find(options_.connect.props, property_id::authentication_method))
            return fail(errc::auth_step_unsupported);
        return fail(errc::connack_not_first); // [MQTT-3.2.0-1]
    }
    std::visit(
        overloaded{
            [&](connack const&) { fail(errc::unexpected_connack); },
            [&](mqtt::publish& m) { on_publish(std::move(m), now); },
            [&](puback& a) {
                auto const it = outgoing_.find(a.packet_id);
                if (it == outgoing_.end()) return ignore(4, a.packet_id);
                if (it->second.step == stage::awaiting_pubrec) return fail(errc::qos2_answered_with_puback);
                if (it->second.step != stage::awaiting_puback) return fail(errc::acknowledgement_out_of_order);
                outgoing_.erase(it);
                release_packet_id(a.packet_id); // [MQTT-2.3.1-3]
                events_.emplace_back(publish_complete{a.packet_id, a.reason_code, std::move(a.props)});
            },
            [&](pubrec& a) {
                auto const it = outgoing_.find(a.packet_id);
                if (it == outgoing_.end()) return ignore(5, a.packet_id);
                if (it->second.step == stage::awaiting_puback) return fail(errc::acknowledgement_out_of_order);
                if (a.reason_code >= 0x80) {
                    // MQTT 5: refused; the flow ends here, without PUBREL (§4.3.3).
                    outgoing_.erase(it);
                    release_packet_id(a.packet_id);
                    events_.emplace_back(publish_complete{a.packet_id, a.reason_code, std::move(a.props)});
                    return;
                }
                // PUBREL with the same id; the PUBLISH is never sent again [MQTT-4.3.3-1].
                it->second.step = stage::awaiting_pubcomp;
                it->second.message.payload = {};
                it->second.large.reset();
                send(pubrel{a.packet_id}, now);
            },
            [&](pubrel const& a) {
                // The identifier may be used again; PUBCOMP even for an unknown id [MQTT-4.3.3-2].
                received_qos2_.erase(a.packet_id);
                send(pubcomp{a.packet_id}, now);
            },
            [&](pubcomp const& a) {
                auto const it = outgoing_.find(a.packet_id);
                if (it == outgoing_.end()) return ignore(7, a.packet_id);
                if (it->second.step != stage::awaiting_pubcomp) return fail(errc::acknowledgement_out_of_order);
                outgoing_.erase(it);
                release_packet_id(a.packet_id);
                events_.emplace_back(publish_complete{a.packet_id});
            },
            [&](suback& a) {
                auto const it = pending_subscribe_.find(a.packet_id);
                if (it == pending_subscribe_.end()) return fail(errc::unknown_packet_id); // [MQTT-2.3.1-7]
                if (a.return_codes.size() != it->second.size())
                    return fail(errc::ack_count_mismatch); // [MQTT-3.9.3-1]
                events_.emplace_back(
                    subscribe_complete{a.packet_id, std::move(it->second), std::move(a.return_codes), std::move(a.props)});
                pending_subscribe_.erase(it);
                release_packet_id(a.packet_id);
            },
            [&](unsuback& a) {
                auto const it = pending_unsubscribe_.find(a.packet_id);
                if (it == pending_unsubscribe_.end()) return fail(errc::unknown_packet_id);
                if (version() == protocol_version::v5 && a.reason_codes.size() != it->second.size())
                    return fail(errc::ack_count_mismatch); // one per filter [MQTT-3.11.3-1]
                events_.emplace_back(unsubscribe_complete{a.packet_id, std::move(it->second), std::move(a.reason_codes), std::move(a.props)});
                pending_unsubscribe_.erase(it);
                release_packet_id(a.packet_id);
            },
            [&](pingresp const&) { ping_outstanding_ = false; },
            // MQTT 5: the broker ends the session, saying why (§3.14); a 3.1.1 server never sends it.
            [&](mqtt::disconnect& d) {
                if (version() != protocol_version::v5) return fail(errc::server_only_packet);
                fail(errc::disconnected_by_broker, d.reason_code, std::move(d.props));
            },
            // Without an Authentication Method a broker has no AUTH to send [MQTT-4.12.0-6/7]; with
            // one, we send its data once and answer no challenge (re-authentication included).
            [&](auth const&) {
                fail(find(options_.connect.props, property_id::authentication_method) ? errc::auth_step_unsupported : errc::unexpected_auth);
            },
            // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and DISCONNECT never flow to a client (§4.8).
            [&](auto const&) { fail(errc::server_only_packet); },
        },
        p);
}

void session::on_connack(connack const& c, time_point now)
{
    if (c.return_code != 0) return fail(errc::connection_refused, c.return_code, c.props); // [MQTT-3.2.2-5]
    if (c.session_present && options_.connect.clean_session)
        return fail(errc::session_present_on_clean); // [MQTT-3.2.2-1]
    if (auto const* method = find(options_.connect.props, property_id::authentication_method)) {
        auto const* theirs = find(c.props, property_id::authentication_method);
        if (!theirs || theirs->value != method->value) return fail(errc::auth_method_mismatch); // [MQTT-4.12.0-5]
    }
    // MQTT 5: the broker's limits hold for this connection (§3.2.2.3).
    keep_alive_ = static_cast<std::uint16_t>(number_of(c.props, property_id::server_keep_alive, keep_alive_)); // [MQTT-3.2.2-21]
    broker_receive_maximum_ = static_cast<std::uint16_t>(number_of(c.props, property_id::receive_maximum, 65535));
    broker_max_packet_size_ = number_of(c.props, property_id::maximum_packet_size, max_remaining_length + 5);
    broker_max_qos_ = static_cast<std::uint8_t>(number_of(c.props, property_id::maximum_qos, 2));
    broker_retain_ = number_of(c.props, property_id::retain_available, 1) != 0;
    broker_topic_alias_maximum_ = static_cast<std::uint16_t>(number_of(c.props, property_id::topic_alias_maximum, 0));
    // An empty client id was given one: later connections resume the session with it [MQTT-3.2.2-16].
    if (auto const* assigned = find(c.props, property_id::assigned_client_identifier)) options_.connect.client_id = assigned->value;
    state_ = state::connected;
    events_.emplace_back(connected{c.session_present, c.props});
    if (!options_.connect.clean_session) resend_unacknowledged(now);
    for (auto& q : std::exchange(requeued_, {})) (void)publish(std::move(q.message), std::move(q.large), now);
}

void session::on_publish(mqtt::publish&& m, time_point now)
{
    if (auto ec = resolve_alias(m)) return fail(ec);
    // Acknowledged when the event is taken (poll_event), not here.
    if (m.qos == qos::exactly_once && !received_qos2_.insert(m.packet_id).second) {
        // Delivered already, PUBREL not yet seen: acknowledged again, not delivered twice
        // [MQTT-4.3.3-2].
        send(pubrec{m.packet_id}, now);
        return;
    }
    if (m.qos == qos::at_least_once) ++unacknowledged_qos1_;
    // MQTT 5: no more unacknowledged at once than our Receive Maximum (§3.3.4): a QoS 2 message
    // counts until its PUBREL.
    if (m.qos != qos::at_most_once && unacknowledged_qos1_ + received_qos2_.size() > receive_maximum_)
        return fail(errc::receive_maximum_exceeded);
    events_.emplace_back(message_received{std::move(m)});
}

std::error_code session::resolve_alias(mqtt::publish& m)
{
    auto const* alias = find(m.props, property_id::topic_alias);
    if (!alias) return {};
    // Only up to the Topic Alias Maximum we sent; none when we sent none [MQTT-3.3.2-10, MQTT-3.1.2-26/27].
    auto const most = number_of(options_.connect.props, property_id::topic_alias_maximum, 0);
    if (alias->number > most) return errc::invalid_topic_alias;
    auto const key = static_cast<std::uint16_t>(alias->number);
    if (!m.topic.empty()) {
        aliases_[key] = m.topic;
        return {};
    }
    auto const known = aliases_.find(key);
    if (known == aliases_.end()) return errc::invalid_topic_alias; // an alias never set
    m.topic = known->second;
    return {};
}

void session::ignore(std::uint8_t type, std::uint16_t packet_id)
{
    events_.emplace_back(ignored_acknowledgement{type, packet_id});
}

void session::resend_unacknowledged(time_point now)
{
    // In the order they were first sent [MQTT-4.6.0-1], PUBLISH with DUP=1 [MQTT-3.3.1-1],
    // PUBREL for those already received by the broker [MQTT-4.4.0-1].
    std::vector<outgoing const*> order;
    order.reserve(outgoing_.size());
    for (auto const& [id, o] : outgoing_) order.push_back(&o);
    std::sort(order.begin(), order.end(), [](auto a, auto b) { return a->sequence < b->sequence; });
    for (auto const* o : order) {
        if (o->step == stage::awaiting_pubcomp) {
            send(pubrel{o->message.packet_id}, now);
        } else {
            packet copy{o->message};
            std::get<mqtt::publish>(copy).dup = true; // its Topic Alias, if any, is set again: aliases_out_ is new
            [[maybe_unused]] auto const ec = send_publish(copy, o->large, now); // it was valid when first sent
            assert(!ec);
        }
    }
}

void session::on_timer(time_point now)
{
    if (state_ == state::awaiting_connack && now >= connack_deadline_) return fail(errc::connack_timeout);
    if (state_ != state::connected || keep_alive_ == 0) return;
    if (ping_outstanding_) {
        if (now >= ping_deadline_) fail(errc::pingresp_timeout); // §3.1.2.10
        return;
    }
    // Never let more than Keep Alive pass between two packets we send [MQTT-3.1.2-23].
    if (now - last_sent_ >= seconds_of(keep_alive_)) {
        send(pingreq{}, now);
        ping_outstanding_ = true;
        ping_deadline_ = now + ping_timeout_of(keep_alive_);
    }
}

std::optional<time_point> session::next_deadline() const noexcept
{
    if (state_ == state::awaiting_connack) return connack_deadline_;
    if (state_ != state::connected || keep_alive_ == 0) return std::nullopt;
    if (ping_outstanding_) return ping_deadline_;
    return last_sent_ + seconds_of(keep_alive_);
}

void session::on_connection_lost()
{
    if (state_ != state::failed) state_ = state::idle;
    ping_outstanding_ = false;
    decoder_.reset();
    output_.clear();
    attachments_.clear();
}

request session::publish(mqtt::publish message, time_point now)
{
    return publish(std::move(message), nullptr, now);
}

request session::publish(mqtt::publish message, std::shared_ptr<std::string const> large, time_point now)
{
    if (state_ != state::connected) return {0, errc::not_connected};
    // MQTT 5: within what the broker's CONNACK allows [MQTT-3.2.2-11, MQTT-3.2.2-14].
    if (static_cast<std::uint8_t>(message.qos) > broker_max_qos_) return {0, errc::qos_not_supported};
    if (message.retain && !broker_retain_) return {0, errc::retain_not_supported};
    message.dup = false; // [MQTT-4.3.1-1, MQTT-4.3.2-1, MQTT-4.3.3-1]
    message.packet_id = 0;
    if (message.qos != qos::at_most_once) {
        message.packet_id = allocate_packet_id();
        if (message.packet_id == 0) return {0, errc::no_packet_id_available};
    }
    if (!large && message.payload.size() >= attach_threshold)
        large = std::make_shared<std::string const>(std::move(message.payload));
    // Encoded from inside a packet: passing the publish itself would copy it into a temporary
    // packet, payload and all.
    packet p{std::move(message)};
    auto const ec = send_publish(p, large, now);
    message = std::move(std::get<mqtt::publish>(p));
    if (ec) {
        release_packet_id(message.packet_id);
        return {0, ec};
    }
    auto const id = message.packet_id;
    if (message.qos != qos::at_most_once) {
        auto const first = message.qos == qos::at_least_once ? stage::awaiting_puback : stage::awaiting_pubrec;
        outgoing_.emplace(id, outgoing{std::move(message), first, next_sequence_++, std::move(large)}); // [MQTT-4.3.2-1]
    }
    return {id, {}};
}

std::error_code session::send_publish(packet& p, std::shared_ptr<std::string const> const& large, time_point now)
{
    auto& message = std::get<mqtt::publish>(p);
    // MQTT 5: a Topic Alias the broker already maps to this topic goes alone (§3.3.2.3.4); none
    // above the broker's Topic Alias Maximum, none if it named none [MQTT-3.2.2-17/18].
    std::optional<std::uint16_t> alias;
    bool alias_only = false;
    if (auto const* a = find(message.props, property_id::topic_alias)) {
        if (a->number > broker_topic_alias_maximum_) return errc::topic_alias_not_allowed;
        alias = static_cast<std::uint16_t>(a->number);
        auto const known = aliases_out_.find(*alias);
        alias_only = known != aliases_out_.end() && known->second == message.topic;
    }
    auto const topic = alias_only ? std::exchange(message.topic, {}) : std::string{};
    auto const before = output_.size();
    auto ec = encode_publish_head(p, large ? large->size() : 0, output_, version());
    if (!ec && output_.size() - before + (large ? large->size() : 0) > broker_max_packet_size_) {
        output_.resize(before); // never larger than the broker's Maximum Packet Size [MQTT-3.2.2-15]
        ec = errc::packet_too_large_for_broker;
    }
    if (!ec && large) attachments_.push_back({output_.size(), large});
    if (!ec && trace_) trace_(direction::sent, p, large ? large->size() : 0);
    if (alias_only) message.topic = topic;
    if (ec) return ec;
    if (alias && !alias_only) aliases_out_[*alias] = message.topic; // the broker maps it from now on
    last_sent_ = now;
    return {};
}

request session::subscribe(std::vector<subscription> subscriptions, time_point now, properties props)
{
    if (state_ != state::connected) return {0, errc::not_connected};
    auto const id = allocate_packet_id();
    if (id == 0) return {0, errc::no_packet_id_available};
    mqtt::subscribe s{id, std::move(subscriptions), std::move(props)};
    if (auto ec = encode(s, output_, version())) {
        release_packet_id(id);
        return {0, ec};
    }
    if (trace_) trace_(direction::sent, s, 0);
    last_sent_ = now;
    pending_subscribe_.emplace(id, std::move(s.subscriptions));
    return {id, {}};
}

request session::unsubscribe(std::vector<std::string> filters, time_point now, properties props)
{
    if (state_ != state::connected) return {0, errc::not_connected};
    auto const id = allocate_packet_id();
    if (id == 0) return {0, errc::no_packet_id_available};
    mqtt::unsubscribe u{id, std::move(filters), std::move(props)};
    if (auto ec = encode(u, output_, version())) {
        release_packet_id(id);
        return {0, ec};
    }
    if (trace_) trace_(direction::sent, u, 0);
    last_sent_ = now;
    pending_unsubscribe_.emplace(id, std::move(u.filters));
    return {id, {}};
}

void session::disconnect(time_point now)
{
    if (state_ != state::connected && state_ != state::awaiting_connack) return;
    send(mqtt::disconnect{0, version() == protocol_version::v5 ? options_.disconnect_props : properties{}}, now);
    state_ = state::disconnecting;
}

std::optional<event> session::poll_event()
{
    if (events_taken_ == events_.size()) return std::nullopt;
    event e = std::move(events_[events_taken_++]);
    if (events_taken_ == events_.size()) {
        events_.clear();
        events_taken_ = 0;
    }
    // The message is handed over now: acknowledge it [MQTT-4.3.2-2, MQTT-4.3.3-2]. Not after
    // DISCONNECT, nor on a connection that failed: the broker then keeps it for the session.
    if (auto const* m = std::get_if<message_received>(&e)) {
        if (m->message.qos == qos::at_least_once && unacknowledged_qos1_ > 0) --unacknowledged_qos1_; // taken: no longer ours to hold
        if (state_ == state::connected && m->message.qos == qos::at_least_once) send(puback{m->message.packet_id}, last_input_);
        else if (state_ == state::connected && m->message.qos == qos::exactly_once) send(pubrec{m->message.packet_id}, last_input_);
    }
    return e;
}

void session::send(packet const& p, time_point now)
{
    // Packets built here are valid by construction; a failure is a bug in this file.
    [[maybe_unused]] auto const ec = encode(p, output_, version());
    assert(!ec);
    if (trace_) trace_(direction::sent, p, 0);
    last_sent_ = now;
}

void session::fail(std::error_code ec, std::uint8_t connack_code, properties props)
{
    if (state_ == state::failed) return;
    // MQTT 5: the broker is told why we close, where a reason code says it [MQTT-4.13.1-1].
    std::uint8_t const reason = state_ == state::connected && version() == protocol_version::v5 ? disconnect_reason(ec) : 0;
    if (reason != 0) send(mqtt::disconnect{reason}, last_input_);
    state_ = state::failed;
    events_.emplace_back(session_failed{ec, connack_code, std::move(props), reason != 0});
}

std::uint16_t session::allocate_packet_id()
{
    // Made on first use: a subscriber never needs it, and 8 KiB a session adds up in a bench.
    if (!ids_in_use_) ids_in_use_ = std::make_unique<std::bitset<65536>>();
    // The next identifier not in use, wrapping 65535 -> 1 and skipping 0 [MQTT-2.3.1-1/2].
    for (std::uint32_t tries = 0; tries < 65535; ++tries) {
        auto const id = next_id_;
        next_id_ = static_cast<std::uint16_t>(next_id_ == 65535 ? 1 : next_id_ + 1);
        if (!ids_in_use_->test(id)) {
            ids_in_use_->set(id);
            return id;
        }
    }
    return 0;
}

} // namespace wsmqtt::mqtt

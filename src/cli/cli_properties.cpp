// MQTT 5 on the command line: mosquitto's `-D COMMAND PROPERTY VALUE`, and the named flags that
// stand for one -D each (-x, --user-property, --content-type, …), checked against what a client
// may send (MQTT 5.0 §2.2.2.2) and turned into the properties of each packet. No CLI11 here.
#include "cli_options.hpp"

#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <random>
#include <string_view>

namespace wsmqtt::cli_detail {
namespace {

using mqtt::property_id;
using mqtt::property_type;

/// The packets a client sends with properties, as -D names them, and where in properties.hpp's
/// terms each is.
struct command_info {
    std::string_view name;
    std::uint8_t where;
    std::string_view packet; ///< for messages
};
constexpr std::array<command_info, 6> commands{{
    {"connect", 1, "CONNECT"},
    {"publish", 3, "PUBLISH"},
    {"subscribe", 8, "SUBSCRIBE"},
    {"unsubscribe", 10, "UNSUBSCRIBE"},
    {"disconnect", 14, "DISCONNECT"},
    {"will", mqtt::will_properties, "will"},
}};

command_info const* find_command(std::string_view name)
{
    auto const it = std::find_if(commands.begin(), commands.end(), [&](auto const& c) { return c.name == name; });
    return it == commands.end() ? nullptr : &*it;
}

/// Whether a client may send `id` in `where`: the spec's table, less what only a server sends
/// there (a Server Reference in DISCONNECT, §3.14.2.2.5) and a Subscription Identifier on
/// PUBLISH [MQTT-3.3.4-6].
bool client_may_send(property_id id, std::uint8_t where)
{
    if (id == property_id::server_reference || (id == property_id::subscription_identifier && where == 3)) return false;
    return mqtt::allowed_in(id, where);
}

/// The -D commands that may carry `id`: "connect or disconnect".
std::string places_of(property_id id)
{
    std::vector<std::string_view> names;
    for (auto const& c : commands)
        if (client_may_send(id, c.where)) names.push_back(c.name);
    if (names.empty()) return {};
    if (names.size() == 1) return std::string{names.front()};
    return fmt::format("{} or {}", fmt::join(names.begin(), names.end() - 1, ", "), names.back());
}

/// One property asked for: by -D or by a named flag (`label` names it in messages).
struct request {
    std::string command;
    std::string name;
    std::string value;
    std::string pair_value; ///< user-property: the value (`value` is the key)
    std::string label;
};

/// Binary data: "hex:0a1b…", "base64:…", or the text as it is.
std::string binary_value(std::string const& text, std::string const& label)
{
    if (text.starts_with("hex:")) {
        std::string_view digits{text};
        digits.remove_prefix(4);
        std::string out;
        bool ok = digits.size() % 2 == 0;
        for (std::size_t i = 0; ok && i < digits.size(); i += 2) {
            unsigned byte = 0;
            auto const [at, ec] = std::from_chars(digits.data() + i, digits.data() + i + 2, byte, 16);
            ok = ec == std::errc{} && at == digits.data() + i + 2;
            out += static_cast<char>(byte);
        }
        if (!ok) throw usage_error(fmt::format("{}: '{}' is not hex, two digits a byte, after 'hex:'", label, text));
        return out;
    }
    if (text.starts_with("base64:")) {
        auto bytes = decode_base64(std::string_view{text}.substr(7));
        if (!bytes) throw usage_error(fmt::format("{}: '{}' is not base64 after 'base64:'", label, text));
        return std::move(*bytes);
    }
    return text;
}

void check_text(std::string const& text, std::string const& label)
{
    if (text.size() > mqtt::max_string_length || !mqtt::is_valid_utf8(text))
        throw usage_error(fmt::format("{} must be valid UTF-8 of at most 65535 bytes", label));
}

/// The property `r` asks for, its value checked against its type and range (§3.1.2.11, §3.3.2.3).
mqtt::property make_property(request const& r, property_id id)
{
    mqtt::property p{id};
    auto const& label = r.label;
    auto const number = [&](std::int64_t min, std::int64_t max) {
        return static_cast<std::uint32_t>(whole_number(r.value, label, min, max));
    };
    switch (id) {
    case property_id::payload_format_indicator:
        if (r.value == "utf8" || r.value == "1") p.number = 1;
        else if (r.value == "unspecified" || r.value == "0") p.number = 0;
        else throw usage_error(fmt::format("{} must be utf8 (1) or unspecified (0), not '{}'", label, r.value));
        return p;
    case property_id::request_problem_information:
    case property_id::request_response_information: p.number = number(0, 1); return p;
    case property_id::receive_maximum: p.number = number(1, 65535); return p;
    case property_id::topic_alias: p.number = number(1, 65535); return p;
    case property_id::topic_alias_maximum: p.number = number(0, 65535); return p;
    case property_id::maximum_packet_size: p.number = number(1, UINT32_MAX); return p;
    case property_id::subscription_identifier: p.number = number(1, 268'435'455); return p;
    case property_id::session_expiry_interval:
        // "never" (or -1, or ∞, as mosquitto's -x): the session does not expire (§3.1.2.11.2).
        if (r.value == "never" || r.value == "-1" || r.value == "\u221E") p.number = UINT32_MAX;
        else p.number = static_cast<std::uint32_t>(whole_number(r.value, label, 0, UINT32_MAX, " of seconds"));
        return p;
    case property_id::message_expiry_interval:
    case property_id::will_delay_interval:
        p.number = static_cast<std::uint32_t>(whole_number(r.value, label, 0, UINT32_MAX, " of seconds"));
        return p;
    case property_id::correlation_data:
    case property_id::authentication_data:
        p.value = binary_value(r.value, label);
        if (p.value.size() > mqtt::max_string_length) throw usage_error(fmt::format("{} must be at most 65535 bytes", label));
        return p;
    case property_id::response_topic:
        // A topic name, without wildcards [MQTT-3.3.2-14].
        if (auto ec = mqtt::check_topic_name(r.value))
            throw usage_error(fmt::format("{} must be a topic name without wildcards, not '{}'", label, r.value));
        p.value = r.value;
        return p;
    case property_id::user_property:
        check_text(r.value, label + " (its key)");
        check_text(r.pair_value, label + " (its value)");
        p.value = r.value;
        p.pair_value = r.pair_value;
        return p;
    default:
        check_text(r.value, label);
        p.value = r.value;
        return p;
    }
}

/// The commands a run of `cmd` sends: a -D for another is a mistake (mosquitto ignores it).
bool sends(command cmd, std::string_view name)
{
    if (name == "publish") return cmd != command::sub;
    if (name == "subscribe") return cmd != command::pub;
    if (name == "unsubscribe") return cmd == command::sub;
    return true;
}

/// Random Correlation Data for a request: 16 bytes, as good as a UUID.
std::string random_correlation_data()
{
    std::random_device rd;
    std::string out;
    for (int i = 0; i < 4; ++i) {
        auto const word = rd();
        for (int b = 0; b < 4; ++b) out += static_cast<char>((word >> (8 * b)) & 0xFF);
    }
    return out;
}

/// What the named flags and -D ask for, in the order given (named flags first).
std::vector<request> requests_of(raw_options const& o, command cmd)
{
    std::vector<request> out;
    auto const named = [&](std::string_view command, std::string_view property, std::optional<std::string> const& value,
                           std::string_view flag) {
        if (value) out.push_back({std::string{command}, std::string{property}, *value, {}, std::string{flag}});
    };
    named("connect", "session-expiry-interval", o.session_expiry, "-x");
    named("connect", "authentication-method", o.auth_method, "--auth-method");
    named("connect", "authentication-data", o.auth_data, "--auth-data");
    auto const packet = cmd == command::sub ? "subscribe" : "publish";
    for (auto const& kv : o.user_properties) {
        auto const eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            throw usage_error(fmt::format("--user-property must be KEY=VALUE, not '{}' (for a key with '=' use -D {} user-property KEY VALUE)", kv,
                                          packet));
        out.push_back({packet, "user-property", kv.substr(0, eq), kv.substr(eq + 1), "--user-property"});
    }
    named("publish", "content-type", o.content_type, "--content-type");
    named("publish", "response-topic", o.response_topic, "--response-topic");
    named("publish", "correlation-data", o.correlation_data, "--correlation-data");
    named("publish", "message-expiry-interval", o.message_expiry, "--message-expiry");
    named("publish", "payload-format-indicator", o.payload_format, "--payload-format");
    named("publish", "topic-alias", o.topic_alias, "--topic-alias");
    named("subscribe", "subscription-identifier", o.subscription_id, "--subscription-id");

    for (auto const& d : o.properties) {
        // cli.cpp gathered each -D with its words: COMMAND PROPERTY VALUE, or KEY VALUE for user-property.
        request r{d.at(0), d.at(1), d.at(2), d.size() > 3 ? d[3] : std::string{}, fmt::format("-D {} {}", d[0], d[1])};
        out.push_back(std::move(r));
    }
    return out;
}

mqtt::properties& properties_of(config& c, std::string_view command)
{
    if (command == "connect") return c.v5.connect;
    if (command == "publish") return c.v5.publish;
    if (command == "subscribe") return c.v5.subscribe;
    if (command == "unsubscribe") return c.v5.unsubscribe;
    if (command == "disconnect") return c.v5.disconnect;
    return c.will->props; // will: checked before
}

} // namespace

void validate_mqtt5(raw_options const& o, config& c)
{
    auto const requests = requests_of(o, c.command);
    // The first MQTT 5 option given, to name in messages.
    std::string first;
    if (!requests.empty()) first = requests.front().label;
    else if (o.no_local) first = "--no-local";
    else if (o.retain_as_published) first = "--retain-as-published";
    else if (o.retain_handling) first = "--retain-handling";
    if (c.command == command::rr && first.empty()) first = "wsmqtt rr"; // Response Topic and Correlation Data are MQTT 5's
    if (!first.empty()) {
        // They choose MQTT 5 when -V does not say, as -D does for mosquitto.
        if (o.protocol_version && c.version != mqtt::protocol_version::v5)
            throw usage_error(fmt::format("{} needs MQTT 5: leave -V out or give -V 5", first));
        c.version = mqtt::protocol_version::v5;
    }
    if (c.version != mqtt::protocol_version::v5) return;

    for (auto const& r : requests) {
        auto const* cmd = find_command(r.command);
        if (!cmd)
            throw usage_error(fmt::format("-D: wsmqtt sends no '{}' with properties: the commands are connect, publish, subscribe, "
                                          "unsubscribe, disconnect and will",
                                          r.command));
        if (!sends(c.command, cmd->name))
            throw usage_error(fmt::format("{}: wsmqtt {} sends no {}", r.label, command_name(c.command), cmd->packet));
        if (cmd->name == "will" && !c.will) throw usage_error(fmt::format("{}: there is no will: give --will-topic", r.label));
        auto const id = mqtt::property_from_name(r.name);
        if (!id) {
            if (r.name == "no-local" || r.name == "retain-as-published" || r.name == "retain-handling")
                throw usage_error(fmt::format("-D: {} is a subscription option, not a property: use --{}", r.name, r.name));
            throw usage_error(fmt::format("-D: unknown property '{}' (the names are MQTT 5's, e.g. content-type, user-property)", r.name));
        }
        if (!client_may_send(*id, cmd->where)) {
            auto const where = places_of(*id);
            throw usage_error(where.empty() ? fmt::format("{}: only a broker sends {}", r.label, r.name)
                                            : fmt::format("{}: {} goes with {}, not {}", r.label, r.name, where, cmd->name));
        }
        auto& props = properties_of(c, cmd->name);
        if (*id != property_id::user_property && mqtt::find(props, *id))
            throw usage_error(fmt::format("{} is given twice ({} may appear once in a {})", r.label, r.name, cmd->packet));
        props.push_back(make_property(r, *id));
    }

    // Authentication Data goes with its method (§3.1.2.11.10).
    if (mqtt::find(c.v5.connect, property_id::authentication_data) && !mqtt::find(c.v5.connect, property_id::authentication_method))
        throw usage_error("--auth-data needs --auth-method");

    // -c keeps the session: with MQTT 5 that takes a Session Expiry Interval, "never" unless -x
    // says (as mosquitto does); without one the broker ends the session at the disconnect.
    auto const* expiry = mqtt::find(c.v5.connect, property_id::session_expiry_interval);
    if (!c.clean_session && !expiry) {
        c.v5.connect.push_back({property_id::session_expiry_interval, UINT32_MAX});
        expiry = &c.v5.connect.back();
    }
    if (expiry && expiry->number > 0 && o.client_id.empty())
        throw usage_error("-x keeps the session for its client id: give one with -i, to find the session again");
    // A session that ends at the disconnect cannot be made to last by the DISCONNECT (§3.14.2.2.2).
    if (auto const* later = mqtt::find(c.v5.disconnect, property_id::session_expiry_interval);
        later && later->number > 0 && (!expiry || expiry->number == 0))
        throw usage_error("-D disconnect session-expiry-interval: a session that expires at the disconnect (no -x, no -c) cannot be "
                          "kept by the DISCONNECT");

    // Our Maximum Packet Size: --max-packet-size is told to the broker [MQTT-3.1.2-24]; a -D one is ours too.
    if (auto const* most = mqtt::find(c.v5.connect, property_id::maximum_packet_size)) {
        if (!o.max_packet_size.empty())
            throw usage_error("--max-packet-size and -D connect maximum-packet-size say the same: give one");
        c.max_packet_size = most->number;
    } else if (c.max_packet_size <= mqtt::max_remaining_length + 5u) {
        c.v5.connect.push_back({property_id::maximum_packet_size, static_cast<std::uint32_t>(c.max_packet_size)});
    }
    // -C below 20: the broker need not send more at once than we will print (mosquitto does the same).
    if (c.count > 0 && c.count < 20 && !mqtt::find(c.v5.connect, property_id::receive_maximum))
        c.v5.connect.push_back({property_id::receive_maximum, static_cast<std::uint32_t>(c.count)});

    c.v5.no_local = o.no_local;
    c.v5.retain_as_published = o.retain_as_published;
    if (c.command == command::rr) {
        // The request says where to answer and carries data of its own to match the answer by
        // (mosquitto_rr takes the first message on the topic). A stale retained message is no
        // answer, nor is our own request when both topics are one.
        // -D publish response-topic T is -e T: the answers are awaited where they are asked to go.
        if (auto const* asked = mqtt::find(c.v5.publish, property_id::response_topic)) c.topics = {asked->value};
        else c.v5.publish.push_back({property_id::response_topic, 0, c.topics.front()});
        if (!mqtt::find(c.v5.publish, property_id::correlation_data))
            c.v5.publish.push_back({property_id::correlation_data, 0, random_correlation_data()});
        c.v5.retain_handling = 2;
        c.v5.no_local = true;
    }
    if (o.retain_handling) {
        auto const& h = *o.retain_handling;
        if (h == "always" || h == "0") c.v5.retain_handling = 0;
        else if (h == "new" || h == "1") c.v5.retain_handling = 1;
        else if (h == "never" || h == "2") c.v5.retain_handling = 2;
        else throw usage_error(fmt::format("--retain-handling must be always, new or never, not '{}'", h));
    }
    if (c.v5.no_local)
        for (auto const& t : c.topics)
            if (t.starts_with("$share/")) // [MQTT-3.8.3-4]
                throw usage_error(fmt::format("--no-local cannot go with a shared subscription ('{}')", t));
}

} // namespace wsmqtt::cli_detail

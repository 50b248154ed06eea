// Rendering messages with a compiled format, and writing stdout in batches.
#include "wsmqtt/output.hpp"

#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/mqtt/topic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <utility>
#include <sys/uio.h>
#include <unistd.h>

namespace wsmqtt {
namespace {

struct split_time {
    std::tm local{};
    long nanoseconds = 0;
};

split_time split(wall_time when)
{
    auto const since_epoch = when.time_since_epoch();
    auto const seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    split_time t;
    auto const tt = static_cast<std::time_t>(seconds.count());
    localtime_r(&tt, &t.local);
    t.nanoseconds = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
    return t;
}

void append_strftime(char const* conversion, std::tm const& tm, std::string& out)
{
    char buffer[256];
    auto const n = std::strftime(buffer, sizeof buffer, conversion, &tm);
    out.append(buffer, n);
}

void append_number(mqtt::properties const& props, mqtt::property_id id, std::string& out)
{
    if (auto const* p = mqtt::find(props, id)) fmt::format_to(std::back_inserter(out), "{}", p->number);
}

void append_text(mqtt::properties const& props, mqtt::property_id id, std::string& out)
{
    if (auto const* p = mqtt::find(props, id)) out += p->value;
}

/// The "properties" object of --json (MQTT 5): the spec's names, as mosquitto_sub's %j has
/// them, in the spec's order; correlation data in base64 (it is binary), every subscription
/// identifier in an array, user properties as a list of one-pair objects in the order they came
/// (duplicates kept).
void append_json_properties(mqtt::properties const& props, std::string& out)
{
    using mqtt::property_id;
    auto it = std::back_inserter(out);
    char const* comma = "";
    out += "\"properties\":{";
    for (auto const id : {property_id::payload_format_indicator, property_id::message_expiry_interval, property_id::topic_alias}) {
        if (auto const* p = mqtt::find(props, id))
            fmt::format_to(it, "{}\"{}\":{}", std::exchange(comma, ","), mqtt::property_name(id), p->number);
    }
    for (auto const id : {property_id::content_type, property_id::response_topic}) {
        if (auto const* p = mqtt::find(props, id)) {
            fmt::format_to(it, "{}\"{}\":", std::exchange(comma, ","), mqtt::property_name(id));
            append_json_string(p->value, out);
        }
    }
    if (auto const* p = mqtt::find(props, property_id::correlation_data)) {
        out.append(std::exchange(comma, ",")).append("\"correlation-data\":\"");
        append_base64(p->value, out);
        out += '"';
    }
    char const* inner = "";
    for (auto const& p : props) {
        if (p.id != property_id::subscription_identifier) continue;
        if (!*inner) out.append(std::exchange(comma, ",")).append("\"subscription-identifier\":[");
        fmt::format_to(it, "{}{}", std::exchange(inner, ","), p.number);
    }
    if (*inner) out += ']';
    inner = "";
    for (auto const& p : props) {
        if (p.id != property_id::user_property) continue;
        if (!*inner) out.append(std::exchange(comma, ",")).append("\"user-properties\":[");
        out.append(std::exchange(inner, ",")).append("{");
        append_json_string(p.value, out);
        out += ':';
        append_json_string(p.pair_value, out);
        out += '}';
    }
    if (*inner) out += ']';
    out += '}';
}

/// The JSON object of %j and --json: RFC 3339 UTC time, and the payload as a string when it
/// is UTF-8, else in base64 with "payload_encoding" saying so (mosquitto's %j loses it).
/// With `raw_json`, a payload that is itself JSON is embedded as a value (%J).
void append_json_object(mqtt::publish const& m, wall_time when, bool raw_json, std::string& out)
{
    auto const since_epoch = when.time_since_epoch();
    auto const seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto const micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds).count();
    std::tm utc{};
    auto const tt = static_cast<std::time_t>(seconds.count());
    gmtime_r(&tt, &utc);
    out += "{\"tst\":\"";
    append_strftime("%Y-%m-%dT%H:%M:%S", utc, out);
    fmt::format_to(std::back_inserter(out), ".{:06}Z\",\"topic\":", micros);
    append_json_string(m.topic, out);
    fmt::format_to(std::back_inserter(out), ",\"qos\":{},\"retain\":{},\"payloadlen\":{}", static_cast<int>(m.qos),
                   m.retain ? "true" : "false", m.payload.size());
    if (m.qos != mqtt::qos::at_most_once) fmt::format_to(std::back_inserter(out), ",\"mid\":{}", m.packet_id);
    if (!m.props.empty()) {
        out += ',';
        append_json_properties(m.props, out);
    }
    out += ",\"payload\":";
    if (raw_json && is_json(m.payload)) {
        out += m.payload;
    } else if (mqtt::is_valid_utf8(m.payload) || m.payload.empty()) {
        append_json_string(m.payload, out);
    } else {
        out += '"';
        append_base64(m.payload, out);
        out += "\",\"payload_encoding\":\"base64\"";
    }
    out += '}';
}

} // namespace

std::optional<output_format> output_format::compile(std::string_view spec, bool no_newline, std::string& error)
{
    output_format f;
    std::string literal;
    auto const push = [&](token t) {
        if (!literal.empty()) f.tokens_.push_back(token::of(field::literal, std::exchange(literal, {})));
        f.tokens_.push_back(std::move(t));
    };
    for (std::size_t i = 0; i < spec.size(); ++i) {
        char const c = spec[i];
        if (c != '%' && c != '\\' && c != '@') {
            literal += c;
            continue;
        }
        if (i + 1 == spec.size()) {
            error = fmt::format("format ends with a lone '{}'", c);
            return std::nullopt;
        }
        if (c == '\\') {
            char const e = spec[++i];
            switch (e) {
            case 'n': literal += '\n'; break;
            case 't': literal += '\t'; break;
            case 'r': literal += '\r'; break;
            case '0': literal += '\0'; break;
            case 'a': literal += '\a'; break;
            case 'e': literal += '\x1b'; break;
            case 'v': literal += '\v'; break;
            case '\\': literal += '\\'; break;
            default: error = fmt::format("invalid escape '\\{}' in format", e); return std::nullopt;
            }
            continue;
        }
        if (c == '@') {
            char const s = spec[++i];
            if (s == '@') {
                literal += '@';
            } else if (s == 'N') {
                push(token::of(field::nanoseconds));
                f.uses_time_ = true;
            } else if (std::isalpha(static_cast<unsigned char>(s))) {
                push(token::of(field::strftime, std::string{'%', s}));
                f.uses_time_ = true;
            } else {
                error = fmt::format("invalid time specifier '@{}' in format", s);
                return std::nullopt;
            }
            continue;
        }
        // %[-0#][width][.precision]specifier
        auto const start = i;
        token t;
        ++i;
        for (; i < spec.size() && (spec[i] == '-' || spec[i] == '0' || spec[i] == '#'); ++i)
            (spec[i] == '-' ? t.left_align : spec[i] == '0' ? t.zero_pad : t.hex) = true;
        for (; i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])); ++i)
            t.width = t.width * 10 + static_cast<std::size_t>(spec[i] - '0');
        if (i < spec.size() && spec[i] == '.') {
            std::size_t p = 0;
            for (++i; i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])); ++i)
                p = p * 10 + static_cast<std::size_t>(spec[i] - '0');
            t.precision = p;
        }
        if (i >= spec.size()) {
            error = fmt::format("format ends inside '{}'", spec.substr(start));
            return std::nullopt;
        }
        switch (spec[i]) {
        case '%': literal += '%'; continue;
        case 't': t.kind = field::topic; break;
        case 'p': t.kind = field::payload; break;
        case 'q': t.kind = field::qos; break;
        case 'r': t.kind = field::retain; break;
        case 'l': t.kind = field::length; break;
        case 'm': t.kind = field::packet_id; break;
        case 'x': t.kind = field::hex_lower; break;
        case 'X': t.kind = field::hex_upper; break;
        case 'b': t.kind = field::base64; break;
        case 'I': t.kind = field::iso_time; break;
        case 'U': t.kind = field::unix_time; break;
        case 'j': t.kind = field::json; break;
        case 'J': t.kind = field::json_raw; break;
        // MQTT 5 properties: a 3.1.1 message has none, so they print nothing (as mosquitto does).
        case 'A': t.kind = field::topic_alias; break;
        case 'C': t.kind = field::content_type; break;
        case 'D': t.kind = field::correlation_data; break;
        case 'E': t.kind = field::message_expiry; break;
        case 'F': t.kind = field::payload_format; break;
        case 'P': t.kind = field::user_properties; break;
        case 'R': t.kind = field::response_topic; break;
        case 'S': t.kind = field::subscription_ids; break;
        default:
            error = fmt::format("invalid format specifier '{}'", spec.substr(start, i + 1 - start));
            return std::nullopt;
        }
        if (t.kind == field::iso_time || t.kind == field::unix_time || t.kind == field::json ||
            t.kind == field::json_raw)
            f.uses_time_ = true;
        push(std::move(t));
    }
    if (!no_newline) literal += '\n';
    if (!literal.empty()) f.tokens_.push_back(token::of(field::literal, std::move(literal)));
    return f;
}

void output_format::render(mqtt::publish const& m, wall_time when, std::string& out) const
{
    render_tokens(m, when, out, nullptr);
}

std::optional<std::size_t> output_format::render_around_payload(mqtt::publish const& m, wall_time when, std::string& out) const
{
    std::optional<std::size_t> at;
    render_tokens(m, when, out, &at);
    return at;
}

void output_format::render_tokens(mqtt::publish const& m, wall_time when, std::string& out, std::optional<std::size_t>* payload_at) const
{
    for (auto const& t : tokens_) {
        if (t.kind == field::literal) {
            out += t.text;
            continue;
        }
        if (payload_at && !*payload_at && t.kind == field::payload && t.width == 0 && !t.precision && !t.hex) {
            *payload_at = out.size();
            continue;
        }
        auto const start = out.size();
        render_field(t, m, when, out);
        if (t.hex) { // `#`: the field's bytes in hex, for values that may be binary (%#D)
            std::string const raw = out.substr(start);
            out.resize(start);
            append_hex(raw, out);
        }
        if (t.precision && out.size() - start > *t.precision) out.resize(start + *t.precision);
        auto const length = out.size() - start;
        if (t.width > length) {
            auto const pad = t.width - length;
            if (t.left_align) out.append(pad, ' ');
            else out.insert(start, pad, t.zero_pad ? '0' : ' ');
        }
    }
}

void output_format::render_field(token const& t, mqtt::publish const& m, wall_time when, std::string& out) const
{
    auto it = std::back_inserter(out);
    switch (t.kind) {
    case field::literal: break;
    case field::topic: out += m.topic; break;
    case field::payload: out += m.payload; break;
    case field::qos: out += static_cast<char>('0' + static_cast<int>(m.qos)); break;
    case field::retain: out += m.retain ? '1' : '0'; break;
    case field::length: fmt::format_to(it, "{}", m.payload.size()); break;
    case field::packet_id: fmt::format_to(it, "{}", m.packet_id); break;
    case field::hex_lower:
    case field::hex_upper: append_hex(m.payload, out, t.kind == field::hex_upper); break;
    case field::base64: append_base64(m.payload, out); break;
    case field::iso_time: append_strftime("%Y-%m-%dT%H:%M:%S%z", split(when).local, out); break;
    case field::unix_time: {
        auto const ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
        fmt::format_to(it, "{}.{:09}", ns / 1'000'000'000, ns % 1'000'000'000);
        break;
    }
    case field::json: append_json_object(m, when, false, out); break;
    case field::json_raw: append_json_object(m, when, true, out); break;
    case field::strftime: append_strftime(t.text.c_str(), split(when).local, out); break;
    case field::topic_alias: append_number(m.props, mqtt::property_id::topic_alias, out); break;
    case field::content_type: append_text(m.props, mqtt::property_id::content_type, out); break;
    case field::correlation_data: append_text(m.props, mqtt::property_id::correlation_data, out); break;
    case field::message_expiry: append_number(m.props, mqtt::property_id::message_expiry_interval, out); break;
    case field::payload_format: append_number(m.props, mqtt::property_id::payload_format_indicator, out); break;
    case field::response_topic: append_text(m.props, mqtt::property_id::response_topic, out); break;
    case field::user_properties: {
        char const* gap = "";
        for (auto const& p : m.props)
            if (p.id == mqtt::property_id::user_property) out.append(std::exchange(gap, " ")).append(p.value).append(":").append(p.pair_value);
        break;
    }
    case field::subscription_ids: {
        char const* comma = "";
        for (auto const& p : m.props)
            if (p.id == mqtt::property_id::subscription_identifier) fmt::format_to(it, "{}{}", std::exchange(comma, ","), p.number);
        break;
    }
    case field::nanoseconds: fmt::format_to(it, "{:09}", split(when).nanoseconds); break;
    }
}

void append_json_string(std::string_view s, std::string& out)
{
    out += '"';
    for (char const c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
                fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
            else
                out += c;
        }
    }
    out += '"';
}

bool stderr_wants_colour() noexcept
{
    char const* const no_color = std::getenv("NO_COLOR");
    return ::isatty(STDERR_FILENO) == 1 && (no_color == nullptr || *no_color == '\0');
}

std::string paint(std::string_view text, std::string_view sgr, bool colour)
{
    if (!colour) return std::string{text};
    return fmt::format("\x1b[{}m{}\x1b[0m", sgr, text);
}

std::string human_bytes(std::uint64_t bytes)
{
    if (bytes < 1024) return fmt::format("{} B", bytes);
    constexpr std::array<char const*, 4> units{"KiB", "MiB", "GiB", "TiB"};
    auto value = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < units.size()) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string progress_text(std::uint64_t done, std::optional<std::uint64_t> total, std::uint64_t messages)
{
    auto const count = fmt::format("{} message{}", messages, messages == 1 ? "" : "s");
    if (!total) return fmt::format("{}, {}", human_bytes(done), count);
    done = std::min(done, *total); // the protocol's own bytes are not the input's
    auto const percent = *total == 0 ? 100 : static_cast<unsigned>(done * 100 / *total);
    return fmt::format("{:3}% {} of {}, {}", percent, human_bytes(done), human_bytes(*total), count);
}

stdout_writer::status stdout_writer::flush()
{
    return flush({}, buffer_.size());
}

stdout_writer::status stdout_writer::flush(std::string_view insert, std::size_t at)
{
    std::array<iovec, 3> parts{{{buffer_.data(), at},
                                {const_cast<char*>(insert.data()), insert.size()},
                                {buffer_.data() + at, buffer_.size() - at}}};
    std::size_t first = 0;
    while (first < parts.size()) {
        if (parts[first].iov_len == 0) {
            ++first;
            continue;
        }
        auto n = ::writev(STDOUT_FILENO, parts.data() + first, static_cast<int>(parts.size() - first));
        if (n < 0) {
            if (errno == EINTR) continue;
            buffer_.clear();
            // EPIPE: the reader has gone (`| head -1`), a normal end. Anything else (ENOSPC, EIO,
            // EBADF) lost output: an error.
            if (errno == EPIPE) return status::closed;
            error_ = errno;
            return status::failed;
        }
        for (; first < parts.size() && n > 0; ++first) { // skip what was written
            auto const step = std::min(static_cast<std::size_t>(n), parts[first].iov_len);
            parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + step;
            parts[first].iov_len -= step;
            n -= static_cast<ssize_t>(step);
            if (parts[first].iov_len > 0) break;
        }
    }
    buffer_.clear();
    return status::ok;
}

void write_stderr(std::string_view text) noexcept
{
    // A closed or full stderr (`2>&-`, `2>/dev/full`, `| head` gone) loses the diagnostic, never
    // the run: no exception, no retry but for a signal.
    while (!text.empty()) {
        auto const n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

void write_error(std::string_view message) noexcept
{
    try {
        write_stderr(fmt::format("wsmqtt: error: {}\n", message));
    } catch (...) { // out of memory for the line itself: the exit code still tells
    }
}

} // namespace wsmqtt

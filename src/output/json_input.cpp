// `pub --json` input: a small RFC 8259 reader for one object per line, and the message in it.
// The same reader tells %J whether a payload is JSON (is_json).
#include "wsmqtt/json_input.hpp"

#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <memory>
#include <vector>

namespace wsmqtt {
namespace {

struct member;

/// A JSON value: its kind, a string's decoded text or a number's text, and the members or
/// elements of an object or array. `raw` is the value's text as written (for a %J payload).
struct value {
    enum class kind { null, boolean, number, string, array, object } type = kind::null;
    bool truth = false;
    std::string text;
    std::string_view raw;
    std::vector<member> members; ///< object, in order
    std::vector<value> elements; ///< array
};

struct member {
    std::string name;
    value v;
};

/// Recursive descent over one line; `error` says what is wrong and where.
class reader {
public:
    explicit reader(std::string_view s) : s_{s} {}

    bool whole(value& v)
    {
        skip_space();
        if (!read(v, 0)) return false;
        skip_space();
        if (i_ != s_.size()) return fail("text after the object");
        return true;
    }
    [[nodiscard]] std::string const& error() const { return error_; }

private:
    static constexpr int max_depth = 64;

    bool fail(std::string_view what)
    {
        if (error_.empty()) error_ = fmt::format("not JSON: {} at column {}", what, i_ + 1);
        return false;
    }

    bool read(value& v, int depth)
    {
        if (depth > max_depth) return fail("nested too deep");
        if (i_ >= s_.size()) return fail("unexpected end");
        auto const start = i_;
        bool ok = false;
        switch (s_[i_]) {
        case '{': ok = object(v, depth); break;
        case '[': ok = array(v, depth); break;
        case '"': v.type = value::kind::string; ok = string(v.text); break;
        case 't': v.type = value::kind::boolean; v.truth = true; ok = word("true"); break;
        case 'f': v.type = value::kind::boolean; ok = word("false"); break;
        case 'n': ok = word("null"); break;
        default: v.type = value::kind::number; ok = number(v.text);
        }
        v.raw = s_.substr(start, i_ - start);
        return ok;
    }

    bool object(value& v, int depth)
    {
        v.type = value::kind::object;
        ++i_;
        skip_space();
        if (peek('}')) return ++i_, true;
        while (true) {
            skip_space();
            std::string key;
            if (!peek('"') || !string(key)) return fail("expected a quoted name");
            skip_space();
            if (!peek(':')) return fail("expected ':'");
            ++i_;
            skip_space();
            value item;
            if (!read(item, depth + 1)) return false;
            v.members.push_back({std::move(key), std::move(item)});
            skip_space();
            if (peek(',')) {
                ++i_;
                continue;
            }
            if (peek('}')) return ++i_, true;
            return fail("expected ',' or '}'");
        }
    }

    bool array(value& v, int depth)
    {
        v.type = value::kind::array;
        ++i_;
        skip_space();
        if (peek(']')) return ++i_, true;
        while (true) {
            skip_space();
            value element;
            if (!read(element, depth + 1)) return false;
            v.elements.push_back(std::move(element));
            skip_space();
            if (peek(',')) {
                ++i_;
                continue;
            }
            if (peek(']')) return ++i_, true;
            return fail("expected ',' or ']'");
        }
    }

    static void append_utf8(std::uint32_t cp, std::string& out)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    bool hex4(std::uint32_t& out)
    {
        if (i_ + 4 > s_.size()) return fail("short \\u escape");
        auto const [end, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, out, 16);
        if (ec != std::errc{} || end != s_.data() + i_ + 4) return fail("bad \\u escape");
        i_ += 4;
        return true;
    }

    bool string(std::string& out)
    {
        ++i_; // the opening quote
        while (i_ < s_.size()) {
            // Runs without escapes are copied at once.
            auto const run = s_.find_first_of("\"\\", i_);
            if (run == std::string_view::npos) break;
            for (auto k = i_; k < run; ++k)
                if (static_cast<unsigned char>(s_[k]) < 0x20) {
                    i_ = k;
                    return fail("control character in a string");
                }
            out.append(s_.substr(i_, run - i_));
            i_ = run;
            if (s_[i_] == '"') {
                ++i_;
                if (!mqtt::is_valid_utf8(out)) return fail("a string that is not UTF-8");
                return true;
            }
            if (++i_ >= s_.size()) break;
            char const e = s_[i_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(cp)) return false;
                if (cp >= 0xD800 && cp < 0xDC00) { // a surrogate pair
                    std::uint32_t low = 0;
                    if (s_.substr(i_, 2) != "\\u") return fail("a lone surrogate");
                    i_ += 2;
                    if (!hex4(low)) return false;
                    if (low < 0xDC00 || low >= 0xE000) return fail("a lone surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp < 0xE000) {
                    return fail("a lone surrogate");
                }
                append_utf8(cp, out);
                break;
            }
            default: return fail("bad escape");
            }
        }
        return fail("unterminated string");
    }

    bool number(std::string& out)
    {
        auto const start = i_;
        auto const digits = [&] {
            auto const from = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            return i_ > from;
        };
        if (peek('-')) ++i_;
        if (peek('0')) ++i_;
        else if (!digits()) return fail("unexpected character");
        if (peek('.')) {
            ++i_;
            if (!digits()) return fail("bad number");
        }
        if (peek('e') || peek('E')) {
            ++i_;
            if (peek('+') || peek('-')) ++i_;
            if (!digits()) return fail("bad number");
        }
        out = s_.substr(start, i_ - start);
        return true;
    }

    bool word(std::string_view w)
    {
        if (s_.substr(i_, w.size()) != w) return fail("unexpected character");
        i_ += w.size();
        return true;
    }
    void skip_space()
    {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string error_;
};

/// A whole number from `min` to `max` in `v`, or nullopt.
std::optional<std::uint32_t> whole(value const& v, std::uint32_t min, std::uint32_t max)
{
    if (v.type != value::kind::number) return std::nullopt;
    std::uint64_t n = 0;
    auto const [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), n);
    if (ec != std::errc{} || end != v.text.data() + v.text.size() || n < min || n > max) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

/// The MQTT 5 properties of a "properties" object, as `sub --json` writes them; what a client
/// may not send on PUBLISH (a subscription identifier, a topic alias of the broker's) is left out.
bool read_properties(value const& object, mqtt::properties& props, std::string& error)
{
    using mqtt::property_id;
    if (object.type != value::kind::object) return error = "properties must be an object", false;
    for (auto const& m : object.members) {
        auto const& name = m.name;
        auto const& v = m.v;
        auto const bad = [&](std::string_view what) {
            error = fmt::format("properties: {} {}", name, what);
            return false;
        };
        if (name == "user-properties") {
            if (v.type != value::kind::array) return bad("must be a list of {\"key\":\"value\"} objects");
            for (auto const& pair : v.elements) {
                if (pair.type != value::kind::object || pair.members.size() != 1 || pair.members.front().v.type != value::kind::string)
                    return bad("must be a list of {\"key\":\"value\"} objects");
                props.push_back({property_id::user_property, 0, pair.members.front().name, pair.members.front().v.text});
            }
        } else if (name == "payload-format-indicator") {
            auto const n = whole(v, 0, 1);
            if (!n) return bad("must be 0 or 1");
            props.push_back({property_id::payload_format_indicator, *n});
        } else if (name == "message-expiry-interval") {
            auto const n = whole(v, 0, UINT32_MAX);
            if (!n) return bad("must be a whole number of seconds");
            props.push_back({property_id::message_expiry_interval, *n});
        } else if (name == "content-type" || name == "response-topic") {
            if (v.type != value::kind::string) return bad("must be a string");
            auto const id = name == "content-type" ? property_id::content_type : property_id::response_topic;
            if (id == property_id::response_topic && mqtt::check_topic_name(v.text)) return bad("must be a topic name without wildcards");
            props.push_back({id, 0, v.text});
        } else if (name == "correlation-data") {
            auto bytes = v.type == value::kind::string ? decode_base64(v.text) : std::nullopt;
            if (!bytes) return bad("must be base64");
            props.push_back({property_id::correlation_data, 0, std::move(*bytes)});
        } else if (name != "subscription-identifier" && name != "topic-alias") {
            // A misspelt name must not vanish: the message would go without what it asked for.
            return bad("is not a property of a PUBLISH (content-type, correlation-data, message-expiry-interval, "
                       "payload-format-indicator, response-topic, user-properties)");
        }
        // subscription-identifier, topic-alias: the broker's, for the subscriber; not sent on.
    }
    return true;
}

} // namespace

std::optional<json_message> parse_json_message(std::string_view line, std::string& error)
{
    value root;
    reader r{line};
    if (!r.whole(root)) {
        error = r.error();
        return std::nullopt;
    }
    if (root.type != value::kind::object) {
        error = "not a JSON object";
        return std::nullopt;
    }
    json_message m;
    value const* payload = nullptr;
    bool base64 = false;
    auto const wrong = [&](std::string words) {
        error = std::move(words);
        return std::nullopt;
    };
    for (auto const& [name, v] : root.members) {
        if (name == "topic") {
            if (v.type != value::kind::string) return wrong("topic must be a string");
            m.topic = v.text;
        } else if (name == "payload") {
            payload = &v;
        } else if (name == "payload_encoding") {
            if (v.type != value::kind::string || v.text != "base64") return wrong("payload_encoding must be \"base64\"");
            base64 = true;
        } else if (name == "qos") {
            auto const n = whole(v, 0, 2);
            if (!n) return wrong("qos must be 0, 1 or 2");
            m.qos = static_cast<mqtt::qos>(*n);
        } else if (name == "retain") {
            if (v.type == value::kind::boolean) m.retain = v.truth;
            else if (auto const n = whole(v, 0, 1)) m.retain = *n == 1; // mosquitto's %j writes 0 and 1
            else return wrong("retain must be true or false");
        } else if (name == "tst") {
            if (v.type == value::kind::string) m.tst = v.text;
        } else if (name == "properties") {
            if (!read_properties(v, m.props, error)) return std::nullopt;
        }
    }
    if (payload) {
        if (base64) {
            auto bytes = payload->type == value::kind::string ? decode_base64(payload->text) : std::nullopt;
            if (!bytes) return wrong("payload is not base64, as payload_encoding says");
            m.payload = std::move(*bytes);
        } else if (payload->type == value::kind::string) {
            m.payload = payload->text;
        } else if (payload->type != value::kind::null) {
            m.payload = std::string{payload->raw}; // %J: a JSON payload, as it was
        }
    } else if (base64) {
        return wrong("payload_encoding without a payload");
    }
    return m;
}

bool is_json(std::string_view s) noexcept
{
    try {
        value v;
        return reader{s}.whole(v);
    } catch (...) { // out of memory for a huge payload: not embedded, written as a string
        return false;
    }
}

std::optional<double> parse_rfc3339(std::string_view text) noexcept
{
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
    auto const number = [&](std::size_t at, std::size_t digits) -> std::optional<int> {
        if (at + digits > text.size()) return std::nullopt;
        int n = 0;
        auto const [end, ec] = std::from_chars(text.data() + at, text.data() + at + digits, n);
        if (ec != std::errc{} || end != text.data() + at + digits) return std::nullopt;
        return n;
    };
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        text[13] != ':' || text[16] != ':')
        return std::nullopt;
    auto const year = number(0, 4), month = number(5, 2), day = number(8, 2);
    auto const hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    std::size_t at = 19;
    double fraction = 0;
    if (at < text.size() && text[at] == '.') {
        double scale = 0.1;
        for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, scale /= 10) fraction += (text[at] - '0') * scale;
    }
    // The offset: Z, or ISO 8601's +HH:MM, +HHMM or +HH. mosquitto_sub -F %j writes both, "Z+0000"
    // (a UTC time, then gmtime's %z): Z rules then.
    int offset = 0;
    bool const utc = at < text.size() && (text[at] == 'Z' || text[at] == 'z');
    if (utc) ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        auto const rest = text.size() - at - 1;
        bool const colon = rest == 5 && text[at + 3] == ':';
        if (rest != 2 && rest != 4 && !colon) return std::nullopt;
        auto const h = number(at + 1, 2);
        auto const m = rest == 2 ? std::optional<int>{0} : number(at + (colon ? 4 : 3), 2);
        if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
        if (!utc) offset = (text[at] == '+' ? 1 : -1) * (*h * 3600 + *m * 60);
        at = text.size();
    } else if (!utc) {
        return std::nullopt;
    }
    if (at != text.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    auto const seconds = ::timegm(&tm);
    return static_cast<double>(seconds - offset) + fraction;
}

} // namespace wsmqtt

// UTF-8 and topic validation, shared by the codec (received packets) and the CLI (user input).
#include "wsmqtt/mqtt/topic.hpp"

#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/packet.hpp"

#include <cstdint>

namespace wsmqtt::mqtt {

bool is_valid_utf8(std::string_view s) noexcept
{
    auto const* p = reinterpret_cast<unsigned char const*>(s.data());
    auto const* const end = p + s.size();
    while (p != end) {
        unsigned char const c = *p;
        if (c == 0) return false; // [MQTT-1.5.3-2]
        if (c < 0x80) { ++p; continue; }
        int extra = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1Fu; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0Fu; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07u; min = 0x10000; }
        else return false;
        if (end - p <= extra) return false;
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are ill-formed [MQTT-1.5.3-1].
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
        p += extra + 1;
    }
    return true;
}

namespace {

std::error_code check_common(std::string_view s) noexcept
{
    if (s.empty()) return errc::invalid_topic;            // [MQTT-4.7.3-1]
    if (s.size() > max_string_length) return errc::string_too_long; // [MQTT-4.7.3-3]
    if (!is_valid_utf8(s)) return errc::invalid_utf8;     // [MQTT-4.7.3-2]
    return {};
}

} // namespace

std::error_code check_topic_name(std::string_view topic) noexcept
{
    if (auto ec = check_common(topic)) return ec;
    if (topic.find_first_of("+#") != std::string_view::npos) return errc::invalid_topic; // [MQTT-4.7.1-1]
    return {};
}

std::error_code check_topic_filter(std::string_view filter) noexcept
{
    if (auto ec = check_common(filter)) return ec;
    // $share/NAME/FILTER: a name of at least one character without '/', '+' or '#', then a
    // filter (MQTT 5 §4.8.2 [MQTT-4.8.2-1/2]).
    if (filter.starts_with("$share/")) {
        auto const rest = filter.substr(7);
        auto const slash = rest.find('/');
        if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return errc::invalid_shared_filter;
        if (rest.substr(0, slash).find_first_of("+#") != std::string_view::npos) return errc::invalid_shared_filter;
        filter = rest.substr(slash + 1);
    }
    for (std::size_t i = 0; i < filter.size(); ++i) {
        char const c = filter[i];
        if (c != '+' && c != '#') continue;
        bool const starts_level = i == 0 || filter[i - 1] == '/';
        bool const ends_level = i + 1 == filter.size() || filter[i + 1] == '/';
        if (!starts_level || !ends_level) return errc::invalid_topic_filter; // [MQTT-4.7.1-2/3]
        if (c == '#' && i + 1 != filter.size()) return errc::invalid_topic_filter; // [MQTT-4.7.1-2]
    }
    return {};
}

bool topic_matches(std::string_view filter, std::string_view topic) noexcept
{
    // Filters starting with a wildcard do not match topics starting with '$' (§4.7.2).
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#'))
        return false;
    std::size_t f = 0;
    std::size_t t = 0;
    while (true) {
        auto const f_end = std::min(filter.find('/', f), filter.size());
        auto const level = filter.substr(f, f_end - f);
        if (level == "#") return true; // matches the parent level too ("a/#" matches "a")
        auto const t_end = std::min(topic.find('/', t), topic.size());
        if (level != "+" && level != topic.substr(t, t_end - t)) return false;
        bool const filter_done = f_end == filter.size();
        bool const topic_done = t_end == topic.size();
        if (filter_done || topic_done) {
            if (filter_done && topic_done) return true;
            // "a/#" against "a": the remaining filter level is "#".
            return topic_done && filter.substr(f_end) == "/#";
        }
        f = f_end + 1;
        t = t_end + 1;
    }
}

} // namespace wsmqtt::mqtt

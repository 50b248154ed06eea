// Counters and histograms as JSON Lines, their merge, and the summary (report.hpp).
#include "wsmqtt/bench/report.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace wsmqtt::bench {
namespace {

constexpr std::array<char const*, figure_count> names{"connect", "tcp", "tls", "websocket", "connack", "suback", "publish", "e2e"};

/// The counters by name, for writing, reading and adding them alike: `f(name, c.field...)` for
/// each field, of one counters or of several side by side.
template <class F, class... Counters>
void each_counter(F&& f, Counters&... c)
{
    f("connected", c.connected...);
    f("connect_failed", c.connect_failed...);
    f("disconnected", c.disconnected...);
    f("published", c.published...);
    f("acked", c.acked...);
    f("received", c.received...);
    f("lost", c.lost...);
    f("duplicated", c.duplicated...);
    f("out_of_order", c.out_of_order...);
    f("overrun", c.overrun...);
    f("bytes_out", c.bytes_out...);
    f("bytes_in", c.bytes_in...);
}

template <class Number>
void append_number(std::string& out, std::string_view key, Number value)
{
    out += '"';
    out += key;
    out += "\":";
    out += std::to_string(value);
    out += ',';
}

/// A reader for the JSON that to_json_line writes: objects, arrays, whole numbers and plain
/// strings. Anything else is an error with its offset.
class reader {
public:
    explicit reader(std::string_view text) : text_{text} {}

    [[nodiscard]] bool failed() const noexcept { return !error_.empty(); }
    [[nodiscard]] std::string const& error() const noexcept { return error_; }

    void fail(std::string why)
    {
        if (error_.empty()) error_ = std::move(why) + " at byte " + std::to_string(at_ + 1);
    }
    bool take(char c)
    {
        skip_space();
        if (at_ < text_.size() && text_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }
    void expect(char c)
    {
        if (!take(c)) fail(std::string{"expected '"} + c + "'");
    }
    [[nodiscard]] char peek()
    {
        skip_space();
        return at_ < text_.size() ? text_[at_] : '\0';
    }
    std::string_view string()
    {
        expect('"');
        auto const end = text_.find('"', at_);
        if (failed() || end == std::string_view::npos) {
            fail("unterminated string");
            return {};
        }
        auto const s = text_.substr(at_, end - at_);
        at_ = end + 1;
        return s;
    }
    std::int64_t number()
    {
        skip_space();
        std::int64_t v = 0;
        auto const [end, ec] = std::from_chars(text_.data() + at_, text_.data() + text_.size(), v);
        if (ec != std::errc{}) {
            fail("expected a whole number");
            return 0;
        }
        at_ = static_cast<std::size_t>(end - text_.data());
        // A fraction (a member this version does not know) is read and dropped.
        if (at_ < text_.size() && text_[at_] == '.') {
            ++at_;
            while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
        }
        return v;
    }
    std::uint64_t count()
    {
        auto const v = number();
        if (v < 0) fail("expected a count");
        return static_cast<std::uint64_t>(v);
    }
    /// Skips one value of any of the kinds above.
    void skip()
    {
        auto const c = peek();
        if (c == '"') {
            (void)string();
        } else if (c == '{' || c == '[') {
            ++at_;
            char const close = c == '{' ? '}' : ']';
            if (take(close)) return;
            do {
                if (c == '{') {
                    (void)string();
                    expect(':');
                }
                skip();
            } while (!failed() && take(','));
            expect(close);
        } else if (text_.substr(at_).starts_with("true") || text_.substr(at_).starts_with("null")) {
            at_ += 4;
        } else if (text_.substr(at_).starts_with("false")) {
            at_ += 5;
        } else {
            (void)number();
        }
    }
    /// Calls `member(key)` for each member of an object; `member` reads the value.
    template <class F>
    void object(F&& member)
    {
        expect('{');
        if (failed() || take('}')) return;
        do {
            auto const key = string();
            expect(':');
            if (failed()) return;
            member(key);
        } while (!failed() && take(','));
        expect('}');
    }
    [[nodiscard]] bool at_end()
    {
        skip_space();
        return at_ == text_.size();
    }

private:
    void skip_space()
    {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\r' || text_[at_] == '\n')) ++at_;
    }

    std::string_view text_;
    std::size_t at_ = 0;
    std::string error_;
};

sparse_histogram read_histogram(reader& in)
{
    sparse_histogram h;
    in.object([&](std::string_view key) {
        if (key == "min") {
            h.min = in.count();
        } else if (key == "max") {
            h.max = in.count();
        } else if (key == "buckets") {
            in.expect('[');
            if (in.take(']')) return;
            do {
                in.expect('[');
                auto const index = in.count();
                in.expect(',');
                auto const times = in.count();
                in.expect(']');
                if (index >= histogram::bucket_count()) in.fail("bucket index out of range");
                if (!in.failed()) h.buckets.emplace_back(static_cast<std::uint32_t>(index), times);
            } while (!in.failed() && in.take(','));
            in.expect(']');
        } else {
            in.skip();
        }
    });
    return h;
}

std::string milliseconds(std::uint64_t us)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", static_cast<double>(us) / 1000);
    return text;
}

constexpr std::array<std::pair<char const*, double>, 6> percentiles{
    {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}, {"p99.99", 99.99}, {"max", 100}}};

} // namespace

char const* figure_name(figure f) noexcept { return names[static_cast<unsigned>(f)]; }

void counters::add(counters const& o) noexcept
{
    each_counter([](char const*, std::uint64_t& mine, std::uint64_t const& theirs) { mine += theirs; }, *this, o);
}

std::uint64_t sparse_histogram::count() const noexcept
{
    std::uint64_t n = 0;
    for (auto const& b : buckets) n += b.second;
    return n;
}

void sparse_histogram::add_to(histogram& h) const
{
    if (buckets.empty()) return;
    for (auto const& [index, times] : buckets) h.add_bucket(index, times);
    h.set_extremes(min, max);
}

sparse_histogram sparse_histogram::of(histogram const& h)
{
    return {h.min(), h.max(), h.nonzero()};
}

void sparse_histogram::merge(sparse_histogram const& o)
{
    if (o.buckets.empty()) return;
    min = buckets.empty() ? o.min : std::min(min, o.min);
    max = std::max(max, o.max);
    std::vector<std::pair<std::uint32_t, std::uint64_t>> both;
    both.reserve(buckets.size() + o.buckets.size());
    std::merge(buckets.begin(), buckets.end(), o.buckets.begin(), o.buckets.end(), std::back_inserter(both),
               [](auto const& a, auto const& b) { return a.first < b.first; });
    buckets.clear();
    for (auto const& b : both) {
        if (!buckets.empty() && buckets.back().first == b.first) buckets.back().second += b.second;
        else buckets.push_back(b);
    }
}

void interval::merge(interval const& o)
{
    connections += o.connections;
    delta.add(o.delta);
    merged += o.merged;
    shards = std::max(shards, o.shards);
    qos = std::max(qos, o.qos);
    for (std::size_t f = 0; f < figure_count; ++f) latency[f].merge(o.latency[f]);
}

std::string to_json_line(interval const& r)
{
    std::string out = "{";
    append_number(out, "time", r.time);
    append_number(out, "shard", std::uint64_t{r.shard});
    append_number(out, "shards", std::uint64_t{r.shards});
    if (r.merged != 1) append_number(out, "merged", std::uint64_t{r.merged});
    append_number(out, "qos", std::uint64_t{r.qos});
    append_number(out, "connections", r.connections);
    each_counter([&](char const* name, std::uint64_t v) { append_number(out, name, v); }, r.delta);
    for (std::size_t f = 0; f < figure_count; ++f) {
        auto const& h = r.latency[f];
        if (h.buckets.empty()) continue;
        out += '"';
        out += names[f];
        out += "\":{";
        append_number(out, "min", h.min);
        append_number(out, "max", h.max);
        out += "\"buckets\":[";
        for (auto const& [index, times] : h.buckets) {
            out += '[';
            out += std::to_string(index);
            out += ',';
            out += std::to_string(times);
            out += "],";
        }
        out.back() = ']';
        out += "},";
    }
    out.back() = '}';
    return out;
}

std::optional<interval> parse_json_line(std::string_view line, std::string& error)
{
    interval r;
    bool has_time = false;
    reader in{line};
    in.object([&](std::string_view key) {
        if (key == "time") {
            r.time = in.number();
            has_time = true;
            return;
        }
        if (key == "shard") return void(r.shard = static_cast<std::uint32_t>(in.count()));
        if (key == "shards") return void(r.shards = static_cast<std::uint32_t>(in.count()));
        if (key == "merged") return void(r.merged = static_cast<std::uint32_t>(in.count()));
        if (key == "qos") return void(r.qos = static_cast<std::uint8_t>(std::min<std::uint64_t>(in.count(), 2)));
        if (key == "connections") return void(r.connections = in.count());
        bool found = false;
        each_counter(
            [&](char const* name, std::uint64_t& v) {
                if (!found && key == name) {
                    v = in.count();
                    found = true;
                }
            },
            r.delta);
        for (std::size_t f = 0; f < figure_count && !found; ++f) {
            if (key == names[f]) {
                r.latency[f] = read_histogram(in);
                found = true;
            }
        }
        if (!found) in.skip();
    });
    if (!in.failed() && !in.at_end()) in.fail("more after the record");
    if (!in.failed() && !has_time) in.fail("no \"time\" member");
    if (in.failed()) {
        error = in.error();
        return std::nullopt;
    }
    return r;
}

void summary::add(interval const& r)
{
    total.add(r.delta);
    peak_connections = std::max(peak_connections, r.connections);
    shards = std::max(shards, r.shards);
    qos = std::max(qos, r.qos);
    for (std::size_t f = 0; f < figure_count; ++f) r.latency[f].add_to(latency[f]);
}

std::string summary_table(summary const& s)
{
    std::string out;
    char line[256];
    if (std::any_of(s.latency.begin(), s.latency.end(), [](histogram const& h) { return h.count() > 0; })) {
        std::snprintf(line, sizeof line, "%-10s %10s %10s %10s %10s %10s %10s %10s   (ms)\n", "", "count", "p50", "p90", "p99", "p99.9", "p99.99",
                      "max");
        out += line;
    }
    for (std::size_t f = 0; f < figure_count; ++f) {
        auto const& h = s.latency[f];
        if (h.count() == 0) continue;
        std::snprintf(line, sizeof line, "%-10s %10llu", names[f], static_cast<unsigned long long>(h.count()));
        out += line;
        for (auto const& [name, p] : percentiles) {
            std::snprintf(line, sizeof line, " %10s", milliseconds(h.value_at(p)).c_str());
            out += line;
        }
        out += '\n';
    }
    auto const& c = s.total;
    std::snprintf(line, sizeof line,
                  "connected %llu, failed %llu, lost after connecting %llu; published %llu, acked %llu, received %llu; "
                  "lost %llu, duplicated %llu, out of order %llu, overrun %llu\n",
                  static_cast<unsigned long long>(c.connected), static_cast<unsigned long long>(c.connect_failed),
                  static_cast<unsigned long long>(c.disconnected), static_cast<unsigned long long>(c.published),
                  static_cast<unsigned long long>(c.acked), static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(c.net_lost()),
                  static_cast<unsigned long long>(c.duplicated), static_cast<unsigned long long>(c.out_of_order),
                  static_cast<unsigned long long>(c.overrun));
    out += line;
    return out;
}

std::string summary_json(summary const& s)
{
    std::string out = "{";
    for (std::size_t f = 0; f < figure_count; ++f) {
        auto const& h = s.latency[f];
        if (h.count() == 0 && f != static_cast<std::size_t>(figure::connect) && f != static_cast<std::size_t>(figure::publish) &&
            f != static_cast<std::size_t>(figure::e2e) && f != static_cast<std::size_t>(figure::suback))
            continue;
        out += '"';
        out += names[f];
        out += "\":{";
        append_number(out, "count", h.count());
        for (auto const& [name, p] : percentiles) append_number(out, name, h.value_at(p));
        out.back() = '}';
        out += ',';
    }
    // The loss is net of the late ones: a run's "lost" is what never came.
    each_counter([&](char const* name, std::uint64_t v) { append_number(out, name, std::string_view{name} == "lost" ? s.total.net_lost() : v); },
                 s.total);
    append_number(out, "peak_connections", s.peak_connections);
    append_number(out, "shards", std::uint64_t{s.shards});
    append_number(out, "qos", std::uint64_t{s.qos});
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", s.seconds);
    out += "\"seconds\":";
    out += seconds;
    out += "}";
    return out;
}

std::string shard_file_name(std::string_view pattern, std::uint32_t shard)
{
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 's') {
            out += std::to_string(shard);
            ++i;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

} // namespace wsmqtt::bench

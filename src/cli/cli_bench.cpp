// wsmqtt bench's options: emqtt-bench's names where it has them (-c clients, -R connection
// rate, -i connection interval, -I message interval, -L limit, -n first number, -s size), the
// connection options of the other commands, and the shard (--shard I/N or auto).
#include "cli_options.hpp"
#include "option_adder.hpp"

#include "wsmqtt/bench/payload.hpp"
#include "wsmqtt/bench/shard.hpp"
#include "wsmqtt/json_input.hpp"
#include "wsmqtt/mqtt/topic.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include <arpa/inet.h>
#include <unistd.h>

namespace wsmqtt::cli_detail {
namespace {

/// The topic with %i and %c given example values, for the checks.
std::string example_topic(std::string const& pattern)
{
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size() && (pattern[i + 1] == 'i' || pattern[i + 1] == 'c')) {
            out += pattern[i + 1] == 'i' ? "1" : "client";
            ++i;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

std::int64_t count_or(std::optional<std::string> const& text, std::int64_t fallback, std::string_view option, std::int64_t min, std::int64_t max)
{
    return text ? whole_number(*text, option, min, max) : fallback;
}

/// --start-at: Unix seconds (decimals allowed) or an RFC 3339 time, as ns since the epoch.
std::int64_t start_time(std::string const& text)
{
    auto value = decimal(text);
    if (!value) value = parse_rfc3339(text);
    if (!value || *value < 0 || *value > 4e9)
        throw usage_error(fmt::format("--start-at must be Unix seconds (e.g. $(($(date +%s) + 10))) or an RFC 3339 time "
                                      "(2026-12-06T10:00:00Z), not '{}'",
                                      text));
    return static_cast<std::int64_t>(std::llround(*value * 1e9));
}

std::string host_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
    return name;
}

} // namespace

void add_bench_options(option_adder& app, raw_options& o)
{
    auto& b = o.bench;
    app.add_positional("mode", b.mode, "conn (connections only), pub (publishers), sub (subscribers) or merge (add shards' --json files up)");
    app.add_positional("files", b.files, "merge: the shards' --json files");
    add_transport_options(app, o, "--url");
    app.add_option("-u,--username", o.username, "User name")->group("Session");
    app.add_option("-P,--password", o.password, "Password")->group("Session");
    app.add_option("-V,--protocol-version", o.protocol_version, "mqttv5 (5), mqttv311 (311 or 4, the default) or mqttv31 (31 or 3)")->group("Session");
    app.add_option("-k,--keepalive", o.keepalive, "Keepalive in seconds, 0 = off (default 60)")->type_name("SECONDS")->group("Session");
    app.add_option("-c,--count", b.clients, "Clients, across all shards (default 1)")->type_name("N")->group("Load");
    app.add_option("-R,--connrate", b.connect_rate, "Connections a second, across all shards (default 1000)")->type_name("N")->group("Load");
    app.add_option("-i,--interval", b.connect_interval, "Milliseconds between connections (another way to say -R)")->type_name("MS")->group("Load");
    app.add_option("-n,--startnumber", b.start_number, "Number of the first client (default 1): ids are <prefix><number>")->type_name("N")->group("Load");
    app.add_option("--prefix", b.prefix, "Client id prefix (default wsmqtt-<host>-<mode>-)")->group("Load");
    app.add_option("-t,--topic", o.topics, "pub: the topic; sub: the filter. %i is the client's number, %c its id")->group("Messages");
    app.add_option("-q,--qos", o.qos, "Quality of service 0, 1 or 2 (default 0)")->type_name("INT")->group("Messages");
    app.add_option("-s,--size", b.size, "Payload bytes, at least 23: the header of publisher, sequence and planned time (default 256)")
        ->type_name("BYTES")->group("Messages");
    app.add_option("-I,--interval_of_msg", b.interval, "Milliseconds between one publisher's messages (default 1000)")->type_name("MS")->group("Messages");
    app.add_option("--rate", b.rate, "Messages a second across all publishers (sets -I)")->type_name("N")->group("Messages");
    app.add_option("-L,--limit", b.limit, "Messages in all: pub publishes them, sub waits for them (default: no limit)")->type_name("N")->group("Messages");
    app.add_option("--duration", b.duration, "Seconds to run (default: until -L, or Ctrl-C)")->type_name("SECONDS")->group("Messages");
    app.add_option("--inflight", b.inflight, "QoS 1/2 messages per publisher awaiting acknowledgement (default 10)")->type_name("N")->group("Messages");
    app.add_option("--shard", b.shard, "This process's part: I/N (0-based), or auto from Open MPI, PMI, Slurm, AWS Batch or "
                                       "Kubernetes (JOB_COMPLETION_INDEX with WSMQTT_SHARD_COUNT)")->group("Shards");
    app.add_option("--processes", b.processes, "Fork this many shards of this one on this machine (one per core), merged live")
        ->type_name("N")->group("Shards");
    app.add_option("--start-at", b.start_at, "Publish from this time (Unix seconds or RFC 3339): shards start together")->group("Shards");
    app.add_option("--bind", b.bind, "Connect from these local addresses, round-robin (ADDR[,ADDR...], repeatable): past the port limit")
        ->group("Connection")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--json", b.json, "Write a JSON Lines record a second (counters, histogram buckets) to FILE; %s: the shard")->group("Output");
    app.add_option("--summary-json", b.summary_json, "Write the summary (percentiles in microseconds, counters) to FILE; %s: the shard")->group("Output");
    app.add_option("--hgrm", b.hgrm, "Write each latency's distribution in HdrHistogram's .hgrm text to PREFIX<figure>.hgrm")->group("Output");
    app.add_flag("--quiet", o.quiet, "No line a second, no summary, no error messages (the exit code still tells)")->group("Output");
    app.footer("Latency counts from each message's planned time (open loop: a stall shows in every message due during it).\n"
               "Figures: connect (and its steps tcp, tls, websocket, connack), suback, publish (to PUBACK/PUBCOMP; QoS 0: to\n"
               "the socket), e2e (publisher's planned time to receipt: clocks must be synchronised across machines).\n"
               "Examples:\n"
               "  wsmqtt bench conn -h localhost -p 8080 -c 1000 -R 200 --duration 60\n"
               "  wsmqtt bench sub -h localhost -p 8080 -c 10 -t 'bench/#' -q 1\n"
               "  wsmqtt bench pub -h localhost -p 8080 -c 100 -t 'bench/%i' -q 1 --rate 10000 --duration 60 --summary-json s.json\n"
               "  srun -n 8 wsmqtt bench pub ... --shard auto --json 'pub-%s.jsonl'; wsmqtt bench merge pub-*.jsonl\n"
               "Exit codes as for pub and sub; 18 messages lost at QoS 1 or 2.");
}

void validate_bench(raw_options const& o, config& c)
{
    auto const& r = o.bench;
    auto& b = c.bench;
    if (r.mode.empty()) throw usage_error("say what to run: wsmqtt bench conn, pub, sub or merge (see wsmqtt bench --help)");
    if (r.mode == "conn") b.what = bench_options::mode::conn;
    else if (r.mode == "pub") b.what = bench_options::mode::pub;
    else if (r.mode == "sub") b.what = bench_options::mode::sub;
    else if (r.mode == "merge") b.what = bench_options::mode::merge;
    else throw usage_error(fmt::format("unknown bench mode '{}': conn, pub, sub or merge", r.mode));
    b.json_file = r.json;
    b.summary_json_file = r.summary_json;
    b.hgrm_prefix = r.hgrm;
    if (b.what == bench_options::mode::merge) {
        if (r.files.empty()) throw usage_error("bench merge needs the shards' --json files");
        b.files = r.files;
        return;
    }
    if (!r.files.empty()) throw usage_error(fmt::format("unexpected argument '{}': only bench merge takes files", r.files.front()));

    b.clients = static_cast<std::uint64_t>(count_or(r.clients, 1, "-c", 1, 100'000'000));
    if (r.connect_rate && r.connect_interval) throw usage_error("-R and -i say the same thing: give one");
    if (r.connect_rate) b.connect_rate = positive_number(r.connect_rate, 1000, "-R");
    if (r.connect_interval) {
        auto const ms = decimal(*r.connect_interval);
        if (!ms || *ms < 0 || *ms > 3.6e6) throw usage_error(fmt::format("-i must be milliseconds from 0 (e.g. 10), not '{}'", *r.connect_interval));
        b.connect_rate = *ms == 0 ? 0 : 1000 / *ms;
    }
    b.start_number = static_cast<std::uint64_t>(count_or(r.start_number, 1, "-n", 0, INT64_MAX / 2));
    b.prefix = r.prefix ? *r.prefix : fmt::format("wsmqtt-{}-{}-", host_name(), r.mode);
    if (b.prefix.size() + 20 > mqtt::max_string_length || !mqtt::is_valid_utf8(b.prefix)) throw usage_error("--prefix must be valid UTF-8, not too long");

    c.topics = o.topics;
    if (b.what != bench_options::mode::conn) {
        if (c.topics.size() != 1) throw usage_error(fmt::format("bench {} needs one topic (-t)", r.mode));
        auto const example = example_topic(c.topics.front());
        if (b.what == bench_options::mode::pub) {
            if (auto ec = mqtt::check_topic_name(example)) throw usage_error(fmt::format("invalid topic '{}': {}", c.topics.front(), ec.message()));
        } else if (auto ec = mqtt::check_topic_filter(example)) {
            throw usage_error(fmt::format("invalid topic filter '{}': {}", c.topics.front(), ec.message()));
        }
    } else if (!c.topics.empty()) {
        throw usage_error("bench conn publishes and subscribes nothing: -t is for pub and sub");
    }
    b.size = static_cast<std::size_t>(count_or(r.size, 256, "-s", static_cast<std::int64_t>(bench::header_size), 256 * 1024 * 1024));
    if (r.interval && r.rate) throw usage_error("-I and --rate say the same thing: give one");
    if (r.interval) {
        auto const ms = decimal(*r.interval);
        if (!ms || *ms <= 0 || *ms > 3.6e6) throw usage_error(fmt::format("-I must be milliseconds above 0 (e.g. 1000 or 0.5), not '{}'", *r.interval));
        b.interval = std::chrono::microseconds{static_cast<std::int64_t>(std::llround(*ms * 1000))};
    }
    if (r.rate) {
        auto const rate = positive_number(r.rate, 0, "--rate");
        // Each publisher at its share of the rate.
        b.interval = std::chrono::microseconds{std::max<std::int64_t>(1, std::llround(static_cast<double>(b.clients) / rate * 1e6))};
    }
    if (b.interval.count() == 0) b.interval = std::chrono::microseconds{1};
    b.limit = static_cast<std::uint64_t>(count_or(r.limit, 0, "-L", 0, INT64_MAX / 2));
    b.duration = std::chrono::milliseconds{std::llround(seconds(r.duration, 0, "--duration", 0, true, 365.0 * 86'400) * 1000)};
    b.inflight = static_cast<std::size_t>(count_or(r.inflight, 10, "--inflight", 1, 65535));

    std::string error;
    std::optional<bench::shard> s = bench::shard{};
    if (r.shard && *r.shard == "auto") s = bench::shard_from_environment([](char const* name) -> char const* { return std::getenv(name); }, error);
    else if (r.shard) s = bench::parse_shard(*r.shard, error);
    if (!s) throw usage_error(error);
    b.shard = s->index;
    b.shards = s->count;
    b.shard_source = s->source;
    if (r.start_at) b.start_at_ns = start_time(*r.start_at);
    for (auto const& list : r.bind) {
        for (std::size_t from = 0; from <= list.size();) {
            auto const comma = std::min(list.find(',', from), list.size());
            auto const address = list.substr(from, comma - from);
            unsigned char bytes[16];
            if (::inet_pton(AF_INET, address.c_str(), bytes) != 1 && ::inet_pton(AF_INET6, address.c_str(), bytes) != 1)
                throw usage_error(fmt::format("--bind takes IP addresses (e.g. 127.0.0.2,127.0.0.3), not '{}'", address));
            b.bind.push_back(address);
            from = comma + 1;
        }
    }
    b.processes = static_cast<unsigned>(count_or(r.processes, 1, "--processes", 1, 256));
    b.progress_line = !c.quiet && ::isatty(STDERR_FILENO) == 1;
}

} // namespace wsmqtt::cli_detail

// The bench's seconds and summary, on stderr and in files; bench merge (bench_report.hpp).
#include "bench_report.hpp"

#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include <unistd.h>

namespace wsmqtt {
namespace {

using bench::figure;

bench_reporter::file open_for_writing(std::string const& name, std::string_view option, failure& error)
{
    // Created at the start, written at the end: a long run does not find out then.
    std::FILE* f = name == "-" ? ::fdopen(::dup(STDOUT_FILENO), "w") : std::fopen(name.c_str(), "w");
    if (!f) error = {exit_code::output, fmt::format("cannot write {} '{}': {}", option, name, std::strerror(errno))};
    return bench_reporter::file{f};
}

std::string ms(std::uint64_t us) { return fmt::format("{:.2f}", static_cast<double>(us) / 1000); }

/// "e2e p50 0.31 p99 1.20 ms": the figure that tells most about this second.
std::string latency_words(bench::interval const& r)
{
    for (auto f : {figure::e2e, figure::publish, figure::connect}) {
        auto const& s = r.latency[static_cast<unsigned>(f)];
        if (s.buckets.empty()) continue;
        bench::histogram h;
        s.add_to(h);
        return fmt::format("  {} p50 {} p99 {} ms", bench::figure_name(f), ms(h.value_at(50)), ms(h.value_at(99)));
    }
    return {};
}

bool write_line(std::FILE* f, std::string const& line)
{
    return std::fwrite(line.data(), 1, line.size(), f) == line.size() && std::fputc('\n', f) != EOF && std::fflush(f) == 0;
}

/// QoS 1 and 2 promise delivery: a subscriber's sequence number that never came, or a message
/// the broker never acknowledged (the run stopped, its grace ran out), is a loss.
std::optional<failure> loss(bench::summary const& s)
{
    if (s.qos == 0) return std::nullopt;
    std::string words;
    if (auto const n = s.total.net_lost()) words = fmt::format("{} of the messages were lost (QoS {}: sequence numbers that never came)", n, s.qos);
    if (s.total.published > s.total.acked)
        words += fmt::format("{}{} of the {} messages published at QoS {} were never acknowledged by the broker", words.empty() ? "" : "; ",
                             s.total.published - s.total.acked, s.total.published, s.qos);
    if (words.empty()) return std::nullopt;
    return failure{exit_code::lost, std::move(words)};
}

std::optional<failure> write_summaries(config const& cfg, bench::summary const& s, std::FILE* summary_file, std::string const& summary_name,
                                       std::uint32_t shard)
{
    if (!cfg.quiet && !cfg.bench.child) write_stderr(bench::summary_table(s));
    if (summary_file && !write_line(summary_file, bench::summary_json(s)))
        return failure{exit_code::output, fmt::format("cannot write --summary-json '{}': {}", summary_name, std::strerror(errno))};
    auto const& b = cfg.bench;
    if (!b.hgrm_prefix.empty()) {
        for (std::size_t f = 0; f < bench::figure_count; ++f) {
            if (s.latency[f].count() == 0) continue;
            auto const name = bench::shard_file_name(b.hgrm_prefix, shard) + bench::figure_name(static_cast<figure>(f)) + ".hgrm";
            std::ofstream out{name, std::ios::binary};
            out << s.latency[f].hgrm();
            if (!out.flush()) return failure{exit_code::output, fmt::format("cannot write --hgrm '{}': {}", name, std::strerror(errno))};
        }
    }
    return loss(s);
}

} // namespace

std::unique_ptr<bench_reporter> bench_reporter::open(config const& cfg, std::uint32_t shard, failure& error)
{
    std::unique_ptr<bench_reporter> r{new bench_reporter{cfg, shard}};
    auto const& b = cfg.bench;
    if (!b.json_file.empty()) {
        r->json_name_ = bench::shard_file_name(b.json_file, shard);
        r->json_ = open_for_writing(r->json_name_, "--json", error);
        if (!r->json_) return nullptr;
    }
    if (!b.summary_json_file.empty()) {
        r->summary_name_ = bench::shard_file_name(b.summary_json_file, shard);
        r->summary_file_ = open_for_writing(r->summary_name_, "--summary-json", error);
        if (!r->summary_file_) return nullptr;
    }
    return r;
}

void bench_reporter::second(bench::interval const& r, double elapsed)
{
    summary_.add(r);
    if (json_ && !write_failed_ && !write_line(json_.get(), bench::to_json_line(r))) {
        write_failed_ = true; // said at the end, once: the run goes on, and its summary is kept
        write_errno_ = errno;
    }
    if (cfg_.quiet || cfg_.bench.child) return;
    auto const& d = r.delta;
    auto line = fmt::format("wsmqtt bench: {:.0f} s  conn {}", elapsed, r.connections);
    if (summary_.total.connect_failed) line += fmt::format(" ({} failed)", summary_.total.connect_failed);
    if (cfg_.bench.what == bench_options::mode::pub) line += fmt::format("  pub {}/s ({})", d.published, summary_.total.published);
    if (cfg_.bench.what == bench_options::mode::pub && cfg_.qos != mqtt::qos::at_most_once) line += fmt::format("  ack {}/s", d.acked);
    if (cfg_.bench.what == bench_options::mode::sub) line += fmt::format("  recv {}/s ({})", d.received, summary_.total.received);
    if (summary_.total.net_lost()) line += fmt::format("  lost {}", summary_.total.net_lost());
    line += latency_words(r);
    if (cfg_.bench.progress_line) {
        write_stderr("\r\033[K" + line);
        progress_shown_ = true;
    } else {
        write_stderr(line + "\n");
    }
}

std::optional<failure> bench_reporter::finish(double elapsed)
{
    if (progress_shown_) write_stderr("\n");
    summary_.seconds = elapsed;
    auto f = write_summaries(cfg_, summary_, summary_file_.get(), summary_name_, shard_);
    if (write_failed_ && write_errno_ != EPIPE && (!f || f->code != exit_code::output))
        return failure{exit_code::output, fmt::format("cannot write --json '{}': {} (the summary above is complete)", json_name_,
                                                      std::strerror(write_errno_))};
    return f;
}

failure run_failure(failure first, bench::counters const& total, std::uint64_t clients)
{
    std::string words;
    if (total.connect_failed && total.disconnected)
        words = fmt::format("{} of {} connections failed and {} were lost", total.connect_failed, clients, total.disconnected);
    else if (total.connect_failed)
        words = fmt::format("{} of {} connections failed", total.connect_failed, clients);
    else if (total.disconnected)
        words = fmt::format("{} of {} connections were lost", total.disconnected, clients);
    if (!words.empty()) first.message = words + ": " + first.message;
    return first;
}

int merge_bench_files(config const& cfg)
{
    auto const fail = [&](failure const& f) {
        if (!cfg.quiet) write_error(f.message);
        return to_int(f.code);
    };
    std::map<std::int64_t, bench::interval> seconds;
    for (auto const& name : cfg.bench.files) {
        std::ifstream in{name, std::ios::binary};
        if (!in) return fail({exit_code::usage, fmt::format("cannot read '{}': {}", name, std::strerror(errno))});
        std::string line;
        for (std::size_t number = 1; std::getline(in, line); ++number) {
            if (line.empty()) continue;
            std::string error;
            auto r = bench::parse_json_line(line, error);
            if (!r) return fail({exit_code::usage, fmt::format("{} line {} is not a wsmqtt bench record: {}", name, number, error)});
            auto [at, fresh] = seconds.try_emplace(r->time, *r);
            if (!fresh) at->second.merge(*r);
        }
    }
    if (seconds.empty()) return fail({exit_code::usage, "no records in the files given"});
    failure error;
    auto const& b = cfg.bench;
    bench_reporter::file json{b.json_file.empty() ? nullptr : open_for_writing(b.json_file, "--json", error).release()};
    bench_reporter::file summary_file{b.summary_json_file.empty() ? nullptr : open_for_writing(b.summary_json_file, "--summary-json", error).release()};
    if ((!b.json_file.empty() && !json) || (!b.summary_json_file.empty() && !summary_file)) return fail(error);
    bench::summary total;
    for (auto& [time, r] : seconds) {
        total.add(r);
        if (json && !write_line(json.get(), bench::to_json_line(r))) {
            if (errno != EPIPE) return fail({exit_code::output, fmt::format("cannot write --json '{}': {}", b.json_file, std::strerror(errno))});
            json.reset(); // a reader that left (| head) is not an error
        }
    }
    total.seconds = static_cast<double>(seconds.rbegin()->first - seconds.begin()->first + 1);
    if (auto f = write_summaries(cfg, total, summary_file.get(), b.summary_json_file, 0)) return fail(*f);
    return 0;
}

} // namespace wsmqtt

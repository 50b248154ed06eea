// Where `wsmqtt bench` puts what it measured: a line a second on stderr, JSON Lines (--json), and
// at the end the summary table, --summary-json and .hgrm files; and `bench merge`, which adds
// shards' JSON Lines up second by second. No Asio: the run (bench.cpp) hands it its seconds.
#pragma once

#include "wsmqtt/bench/report.hpp"
#include "wsmqtt/config.hpp"
#include "wsmqtt/exit_code.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace wsmqtt {

class bench_reporter {
public:
    struct closer {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    using file = std::unique_ptr<std::FILE, closer>;

    /// Opens --json and --summary-json (`shard` replaces %s) before anything runs, so that an
    /// unwritable file is said at once; nullopt with `error` set when one cannot be written.
    static std::unique_ptr<bench_reporter> open(config const& cfg, std::uint32_t shard, failure& error);

    /// One second (or the last part of one): a JSON line, the line on stderr, into the summary.
    void second(bench::interval const& r, double elapsed);
    /// The end: the table on stderr, the summary files. Returns the exit code for what was
    /// measured (a loss at QoS 1 or 2: 18), or a failure to write.
    [[nodiscard]] std::optional<failure> finish(double elapsed);

    [[nodiscard]] bench::summary const& summary() const noexcept { return summary_; }
    /// The reader of --json left (`| head`): the run ends, as on Ctrl-C.
    [[nodiscard]] bool reader_left() const noexcept { return write_failed_ && write_errno_ == EPIPE; }

private:
    bench_reporter(config const& cfg, std::uint32_t shard) : cfg_{cfg}, shard_{shard} {}

    config const& cfg_;
    std::uint32_t shard_;
    file json_;
    std::string json_name_;
    file summary_file_;
    std::string summary_name_;
    bool write_failed_ = false;
    int write_errno_ = 0;
    bool progress_shown_ = false;
    bench::summary summary_;
};

/// The failure a run ends with: `first`, the first failure seen (its reason in words), after
/// "3 of 10 connections failed and 2 were lost: " when connections failed or were lost.
[[nodiscard]] failure run_failure(failure first, bench::counters const& total, std::uint64_t clients);

/// --processes N: forks N shards of this one (each its own process and event loop), merges
/// their seconds as they come and reports them as one run. Returns the exit code.
[[nodiscard]] int run_bench_processes(config const& cfg);

/// `wsmqtt bench merge FILES…`: the shards' seconds added up exactly; merged JSON Lines to
/// --json (or stdout), the table on stderr, --summary-json. Returns the exit code.
[[nodiscard]] int merge_bench_files(config const& cfg);

} // namespace wsmqtt

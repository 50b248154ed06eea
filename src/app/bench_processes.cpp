// --processes N: N shards of this run forked on this machine, one event loop each, merged live
// (bench_report.hpp). Each child writes its JSON Lines into a pipe and its stderr into another;
// the parent adds the children's seconds up once every child still running has sent that
// second, and speaks for them: one line a second, one "subscribed" line, the first error line,
// one summary. Ctrl-C reaches the children from the terminal; a signal sent to the parent alone
// is passed on.
#include "bench_report.hpp"

#include "wsmqtt/bench/shard.hpp"
#include "wsmqtt/client.hpp"
#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace wsmqtt {
namespace {

std::vector<pid_t> children; // for the signal handler: async-signal-safe reads only

/// A signal sent to the parent alone (kill, not the terminal's Ctrl-C, which reaches the whole
/// process group) is passed on to the children, which stop politely and send their summaries.
extern "C" void pass_on(int signal, siginfo_t* info, void*)
{
    if (info && info->si_code != SI_USER && info->si_code != SI_QUEUE) return;
    for (auto pid : children) ::kill(pid, signal);
}

struct child {
    pid_t pid = -1;
    int json = -1;   ///< read end of its --json pipe
    int errors = -1; ///< read end of its stderr
    std::string json_partial;
    std::string error_partial;
    std::int64_t last_time = INT64_MIN; ///< the latest second it sent
    bool subscribed = false;
};

/// Whole lines of what `fd` has now, the rest kept in `partial`; false at the end of the pipe.
bool read_lines(int& fd, std::string& partial, std::vector<std::string>& lines)
{
    char buffer[65536];
    auto const n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
        if (!partial.empty()) lines.push_back(std::exchange(partial, {}));
        ::close(fd);
        fd = -1;
        return false;
    }
    partial.append(buffer, static_cast<std::size_t>(n));
    for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
        lines.push_back(partial.substr(0, nl));
        partial.erase(0, nl + 1);
    }
    return true;
}

} // namespace

int run_bench_processes(config const& cfg)
{
    auto const& b = cfg.bench;
    auto const n = b.processes;
    auto const fail = [&](failure const& f) {
        if (!cfg.quiet) write_error(f.message);
        return to_int(f.code);
    };
    failure error;
    auto reporter = bench_reporter::open(cfg, b.shard, error);
    if (!reporter) return fail(error);

    std::vector<child> kids(n);
    std::fflush(nullptr);
    for (unsigned i = 0; i < n; ++i) {
        int json[2], errors[2];
        if (::pipe(json) != 0 || ::pipe(errors) != 0) return fail({exit_code::internal, fmt::format("pipe: {}", std::strerror(errno))});
        auto const pid = ::fork();
        if (pid < 0) return fail({exit_code::internal, fmt::format("fork: {}", std::strerror(errno))});
        if (pid == 0) {
            for (auto const& k : kids) {
                if (k.json >= 0) ::close(k.json);
                if (k.errors >= 0) ::close(k.errors);
            }
            ::close(json[0]);
            ::close(errors[0]);
            ::dup2(errors[1], STDERR_FILENO);
            ::close(errors[1]);
            config mine = cfg;
            // Shard i of this shard's N: shard (I × N + i) of the run's M × N.
            mine.bench.shard = b.shard * n + i;
            mine.bench.shards = b.shards * n;
            mine.bench.processes = 1;
            mine.bench.child = true;
            mine.bench.progress_line = false;
            mine.bench.json_file = fmt::format("/dev/fd/{}", json[1]);
            mine.bench.summary_json_file.clear();
            mine.bench.hgrm_prefix.clear();
            auto const code = run_bench(mine);
            std::fflush(nullptr);
            ::_exit(code);
        }
        ::close(json[1]);
        ::close(errors[1]);
        kids[i] = {pid, json[0], errors[0]};
        children.push_back(pid);
    }
    struct sigaction forward {};
    forward.sa_sigaction = pass_on;
    forward.sa_flags = SA_SIGINFO | SA_RESTART;
    ::sigemptyset(&forward.sa_mask);
    ::sigaction(SIGTERM, &forward, nullptr);
    ::sigaction(SIGINT, &forward, nullptr);

    auto const started = std::chrono::steady_clock::now();
    auto const elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    std::map<std::int64_t, bench::interval> pending;
    std::string first_error;
    bool subscribed_said = false;
    bool reader_gone = false;
    // A second is complete once every child still sending has sent it (or a later one).
    auto const flush = [&](bool all) {
        auto horizon = INT64_MAX;
        for (auto const& k : kids)
            if (k.json >= 0) horizon = std::min(horizon, k.last_time);
        while (!pending.empty() && (all || pending.begin()->first <= horizon)) {
            reporter->second(pending.begin()->second, elapsed());
            pending.erase(pending.begin());
        }
    };
    while (std::any_of(kids.begin(), kids.end(), [](child const& k) { return k.json >= 0 || k.errors >= 0; })) {
        std::vector<pollfd> fds;
        for (auto const& k : kids) {
            if (k.json >= 0) fds.push_back({k.json, POLLIN, 0});
            if (k.errors >= 0) fds.push_back({k.errors, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
        for (auto& k : kids) {
            std::vector<std::string> lines;
            if (k.json >= 0) {
                auto const fd = k.json;
                if (std::any_of(fds.begin(), fds.end(), [&](pollfd const& p) { return p.fd == fd && p.revents; }))
                    read_lines(k.json, k.json_partial, lines);
            }
            for (auto const& line : lines) {
                std::string why;
                auto r = bench::parse_json_line(line, why);
                if (!r) continue; // cannot happen: written by the child
                k.last_time = std::max(k.last_time, r->time);
                r->shard = b.shard;
                r->shards = b.shards;
                auto [at, fresh] = pending.try_emplace(r->time, *r);
                if (!fresh) at->second.merge(*r);
            }
            lines.clear();
            if (k.errors >= 0) {
                auto const fd = k.errors;
                if (std::any_of(fds.begin(), fds.end(), [&](pollfd const& p) { return p.fd == fd && p.revents; }))
                    read_lines(k.errors, k.error_partial, lines);
            }
            for (auto const& line : lines) {
                if (line.starts_with("wsmqtt: error: ")) {
                    if (first_error.empty()) first_error = line.substr(15);
                } else if (line.find(" subscribed") != std::string::npos) {
                    k.subscribed = true;
                    if (!subscribed_said && std::all_of(kids.begin(), kids.end(), [](child const& c) { return c.subscribed; })) {
                        subscribed_said = true;
                        if (!cfg.quiet) write_stderr(fmt::format("wsmqtt bench: all {} processes subscribed\n", n));
                    }
                } else if (!cfg.quiet) {
                    write_stderr(line + "\n");
                }
            }
        }
        flush(false);
        // The reader of --json left (| head): the run ends, as on Ctrl-C.
        if (reporter->reader_left() && !reader_gone) {
            reader_gone = true;
            for (auto const pid : children) ::kill(pid, SIGTERM);
        }
    }
    flush(true);
    int code = 0;
    for (auto const& k : kids) {
        int status = 0;
        while (::waitpid(k.pid, &status, 0) < 0 && errno == EINTR) {
        }
        int const c = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code == 0) code = c;
    }
    children.clear();
    auto f = reporter->finish(elapsed());
    // Messages missing at QoS 1 or 2 are told once, from the totals of all the processes.
    if (f && f->code == exit_code::lost && code == to_int(exit_code::lost)) return fail(*f);
    if (!first_error.empty()) {
        auto const clients = bench::slice({b.shard, b.shards, {}}, b.clients).second;
        auto const words = run_failure({exit_code::network, first_error}, reporter->summary().total, clients).message;
        if (!cfg.quiet) write_error(words);
        return code != 0 ? code : to_int(exit_code::internal);
    }
    if (f) return fail(*f);
    return code;
}

} // namespace wsmqtt

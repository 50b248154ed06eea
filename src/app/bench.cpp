// `wsmqtt bench conn|pub|sub`: this shard's clients on one single-threaded loop. The run owns
// every client's coroutine (it counts them out and sees their exceptions); a one-second tick,
// on the wall clock's whole seconds so that shards' records line up, reports the second and
// drives keepalive. Ends at -L, --duration or a signal, with the summary of what was measured.
#include "bench_client.hpp"
#include "bench_report.hpp"
#include "supervisor.hpp"
#include "wsmqtt/bench/shard.hpp"
#include "wsmqtt/client.hpp"
#include "wsmqtt/output.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <exception>

#include <sys/resource.h>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

/// How long stopped clients have for their last acknowledgements and DISCONNECT.
constexpr auto stop_grace = std::chrono::seconds{2};

/// Raises the descriptor limit to the hard limit; a failure when `clients` still do not fit.
std::optional<failure> make_room_for(std::uint64_t clients)
{
    ::rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &limit);
        (void)::getrlimit(RLIMIT_NOFILE, &limit);
    }
    auto const needed = clients + 32; // the standard ones, the resolver's, files, the signal pipe
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed)
        return failure{exit_code::usage, fmt::format("{} clients need {} file descriptors, but this process may open {} (ulimit -Hn): "
                                                     "run them as shards (--shard I/N), each in its own process",
                                                     clients, needed, limit.rlim_cur)};
    return std::nullopt;
}

class bench_run {
public:
    bench_run(net::any_io_executor ex, config const& cfg, bench_reporter& reporter)
        : ex_{ex}, cfg_{cfg}, b_{cfg.bench}, reporter_{reporter}, shared_{cfg, transport_options_from(cfg), session_options_from(cfg), ex},
          signals_{ex, SIGINT, SIGTERM}
    {
        auto const [first, count] = bench::slice({b_.shard, b_.shards, {}}, b_.clients);
        first_ = first;
        count_ = count;
        if (b_.what == bench_options::mode::sub)
            for (std::uint64_t k = 0; k < count_; ++k) shared_.subscribers += has_work(first_ + k) ? 1u : 0u;
        shared_.system_offset = std::chrono::system_clock::now().time_since_epoch() - clock::now().time_since_epoch();
        shared_.transport.trace = nullptr;
        // mqtt:// reads land in one buffer for all. The others' buffers (ws://: one WebSocket
        // message a read; TLS records) take a message or a few for a subscriber, a publisher's
        // acknowledgements, or an idle connection's CONNACK and PINGRESP: not 64 KiB each.
        using enum bench_options::mode;
        shared_.transport.shared_buffer = shared_.read_buffer;
        // wss:// and mqtts://: one TLS context (the CA store loaded once), not one a client.
        if (uses_tls(cfg.endpoint.scheme)) shared_.transport.tls_context = make_tls_context(shared_.transport.tls, tls_error_);
        shared_.transport.buffer_size = b_.what == sub ? std::clamp<std::size_t>(b_.size + 64, 2048, 64 * 1024) : b_.what == pub ? 256 : 64;
        // Publishers write batches of messages: in 64 KiB frames a batch is a write or two (one
        // 2 KiB frame a write took twice the CPU a message). The others write a CONNECT, a
        // SUBSCRIBE and acknowledgements: Beast keeps a buffer of this size for each client that
        // wrote, and a longer packet goes in several frames.
        shared_.transport.frame_size = b_.what == pub ? 64 * 1024 : 128;
        // The broker's name is resolved once, not by each client (the Host header and the
        // certificate check still use the name).
        if (!shared_.transport.proxy) {
            boost::system::error_code ec;
            net::ip::tcp::resolver resolver{ex};
            auto const found = resolver.resolve(cfg.endpoint.host, std::to_string(cfg.endpoint.port), ec);
            if (!ec && !found.empty()) shared_.transport.address = found.begin()->endpoint().address().to_string();
        }
    }

    net::awaitable<int> run()
    {
        if (tls_error_) { // a TLS option no client could use: said once
            auto const f = describe(*tls_error_);
            if (!cfg_.quiet) write_error(f.message);
            co_return to_int(f.code);
        }
        started_ = clock::now();
        publish_from_ = started_;
        if (b_.start_at_ns) publish_from_ = clock::time_point{std::chrono::nanoseconds{*b_.start_at_ns} - shared_.system_offset};
        clients_.reserve(count_);
        co_await race(connector(), ticker(), signalled(), lasting(), all_done());
        // Stop: the last acknowledgements and DISCONNECT within the grace, then an end for all.
        for (auto& c : clients_) c->stop();
        co_await race(all_ended(), sleep(stop_grace), signalled());
        for (auto& c : clients_) c->end();
        co_await all_ended();
        if (shared_.error) std::rethrow_exception(shared_.error);
        report_second(true);
        auto const elapsed = std::chrono::duration<double>(clock::now() - started_).count();
        auto f = reporter_.finish(elapsed);
        // A failed or lost connection is why its messages went missing: its words come first.
        // A child of --processes says the reason alone: its parent counts for all of them.
        if (shared_.first_failure && (!f || f->code == exit_code::lost))
            f = b_.child ? *shared_.first_failure : run_failure(*shared_.first_failure, reporter_.summary().total, count_);
        if (f) {
            if (!cfg_.quiet) write_error(f->message);
            co_return to_int(f->code);
        }
        co_return 0;
    }

private:
    /// Starts this shard's clients at -R's pace (this shard's share of it).
    net::awaitable<void> connector()
    {
        auto const rate = b_.connect_rate / b_.shards;
        auto const interval = rate > 0 ? std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1 / rate)) : clock::duration{};
        for (std::uint64_t k = 0; k < count_; ++k) {
            auto const due = started_ + interval * static_cast<clock::rep>(k);
            if (due > clock::now()) {
                co_await sleep(due - clock::now());
                auto const state = co_await net::this_coro::cancellation_state;
                if (cancelled(state)) co_return;
            }
            auto const index = first_ + k; // across all shards
            auto const limit = limit_of(index);
            // Publishers spread over the interval: client i of n starts i/n of it in.
            auto const stagger = std::chrono::duration_cast<clock::duration>(b_.interval * static_cast<double>(index) / static_cast<double>(b_.clients));
            auto const& bind = b_.bind.empty() ? no_bind_ : b_.bind[index % b_.bind.size()];
            if (!has_work(index)) {
                ++skipped_; // -L smaller than -c: this client has nothing to do
                continue;
            }
            auto& c = *clients_.emplace_back(std::make_unique<bench_client>(ex_, shared_, b_.start_number + index, limit, bind));
            shared_.started();
            net::co_spawn(ex_, c.run(publish_from_, stagger), [this](std::exception_ptr e) { shared_.ended(e); });
        }
        created_all_ = true;
        shared_.progress.notify();
        co_await park();
    }

    /// Client `index`'s part of -L (0: no limit).
    [[nodiscard]] std::uint64_t limit_of(std::uint64_t index) const noexcept
    {
        return bench::slice({static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(b_.clients), {}}, b_.limit).second;
    }
    /// Whether client `index` has anything to do: not with -L smaller than -c.
    [[nodiscard]] bool has_work(std::uint64_t index) const noexcept
    {
        return b_.what == bench_options::mode::conn || b_.limit == 0 || limit_of(index) > 0;
    }

    /// A record a second, on the wall clock's whole seconds; keepalive for every client.
    net::awaitable<void> ticker()
    {
        while (true) {
            auto const now = std::chrono::system_clock::now();
            auto const next = std::chrono::ceil<std::chrono::seconds>(now + std::chrono::milliseconds{1});
            co_await sleep(std::chrono::duration_cast<clock::duration>(next - now));
            auto const state = co_await net::this_coro::cancellation_state;
            if (cancelled(state)) co_return;
            report_second(false);
            if (reporter_.reader_left()) co_return; // the run ends, as on Ctrl-C
            auto const at = clock::now();
            for (auto& c : clients_) c->tick(at);
        }
    }

    net::awaitable<void> signalled()
    {
        auto [ec, n] = co_await signals_.async_wait(use_tuple);
        (void)ec;
        (void)n;
    }

    net::awaitable<void> lasting()
    {
        if (b_.duration.count() == 0) co_await park();
        else co_await sleep(b_.duration);
    }

    /// Every client's work is done: -L reached (or nothing left that could reach it).
    net::awaitable<void> all_done()
    {
        // A client finishes when its work is done or it ended (failed, or lost): with `conn`,
        // only the latter.
        while (!created_all_ || shared_.finished + skipped_ < count_) {
            co_await shared_.progress.wait();
            auto const state = co_await net::this_coro::cancellation_state;
            if (cancelled(state)) co_return;
        }
    }

    net::awaitable<void> all_ended()
    {
        while (shared_.live > 0) {
            co_await shared_.progress.wait();
            auto const state = co_await net::this_coro::cancellation_state;
            if (cancelled(state)) co_return;
        }
    }

    void report_second(bool last)
    {
        bench::interval r;
        auto const now = std::chrono::system_clock::now();
        r.time = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch() + std::chrono::milliseconds{last ? 999 : 500}).count();
        r.shard = b_.shard;
        r.shards = b_.shards;
        r.qos = static_cast<std::uint8_t>(cfg_.qos);
        r.connections = shared_.open_connections;
        r.delta = std::exchange(shared_.counters, {});
        for (std::size_t f = 0; f < bench::figure_count; ++f) {
            r.latency[f] = bench::sparse_histogram::of(shared_.latency[f]);
            if (!r.latency[f].buckets.empty()) shared_.latency[f].clear();
        }
        reporter_.second(r, std::chrono::duration<double>(clock::now() - started_).count());
    }

    net::any_io_executor ex_;
    config const& cfg_;
    bench_options const& b_;
    bench_reporter& reporter_;
    bench_shared shared_;
    net::signal_set signals_;
    std::optional<transport_error> tls_error_; ///< making the shared TLS context failed
    std::uint64_t first_ = 0;
    std::uint64_t count_ = 0;
    std::uint64_t skipped_ = 0;
    bool created_all_ = false;
    clock::time_point started_{};
    clock::time_point publish_from_{};
    std::vector<std::unique_ptr<bench_client>> clients_;
    std::string const no_bind_;
};

} // namespace

int run_bench(config const& cfg)
{
    // Writes to a reader that left fail with EPIPE (not an error), not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    if (cfg.bench.what == bench_options::mode::merge) return merge_bench_files(cfg);
    if (cfg.bench.processes > 1) return run_bench_processes(cfg);
    auto const fail = [&](failure const& f) {
        if (!cfg.quiet) write_error(f.message);
        return to_int(f.code);
    };
    auto const count = bench::slice({cfg.bench.shard, cfg.bench.shards, {}}, cfg.bench.clients).second;
    if (auto f = make_room_for(count)) return fail(*f);
    failure error;
    auto reporter = bench_reporter::open(cfg, cfg.bench.shard, error);
    if (!reporter) return fail(error);
    if (auto const& b = cfg.bench; b.shards > 1 && !b.child && !cfg.quiet) {
        // Which part this process is, and from where: the first thing to check under an engine.
        auto const first = bench::slice({b.shard, b.shards, {}}, b.clients).first;
        auto const clients = count == 0 ? std::string{"no clients (more shards than -c)"}
                                        : fmt::format("clients {} to {}", b.start_number + first, b.start_number + first + count - 1);
        write_stderr(fmt::format("wsmqtt bench: shard {} of {} ({}): {}\n", b.shard, b.shards, b.shard_source, clients));
    }

    net::io_context ioc{1};
    bench_run run{ioc.get_executor(), cfg, *reporter};
    int code = to_int(exit_code::internal);
    net::co_spawn(ioc, run.run(), [&](std::exception_ptr e, int result) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (std::exception const& ex) {
                code = fail({exit_code::internal, fmt::format("internal error: {}", ex.what())});
            }
        } else {
            code = result;
        }
        ioc.stop();
    });
    ioc.run();
    return code;
}

} // namespace wsmqtt

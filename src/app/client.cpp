// wsmqtt's run: one thread, one io_context, one supervisor with its role. Everything it starts
// ends before run() returns; an exception anywhere becomes one error line and an exit code.
#include "wsmqtt/client.hpp"

#include "roles.hpp"
#include "supervisor.hpp"
#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/output.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include <csignal>
#include <exception>
#include <new>

#include <fcntl.h>
#include <unistd.h>

namespace wsmqtt {
namespace {

namespace net = boost::asio;

/// Standard descriptors that are closed (`2>&-`) would be taken by the next socket, and a
/// diagnostic would then go to the broker: hold them with /dev/null. stdout is held read-only,
/// so that writing messages there fails (EBADF) and is reported.
void hold_standard_descriptors() noexcept
{
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int const held = ::open("/dev/null", fd == STDERR_FILENO ? O_WRONLY : O_RDONLY);
        if (held != -1 && held != fd) {
            ::dup2(held, fd);
            ::close(held);
        }
    }
}

/// The words and exit code for an exception that reached the top.
int report_exception(std::exception_ptr const& e, bool quiet)
{
    std::string what;
    try {
        std::rethrow_exception(e);
    } catch (std::bad_alloc const&) {
        what = "out of memory";
    } catch (std::exception const& ex) {
        what = fmt::format("internal error: {}", ex.what());
    } catch (...) {
        what = "internal error";
    }
    if (!quiet) write_error(what);
    return to_int(exit_code::internal);
}

} // namespace

int run(config cfg)
{
    if (cfg.command == command::bench) return run_bench(cfg);
    auto options = transport_options_from(cfg);
    if (cfg.debug) options.trace = [](std::string const& line) { write_stderr("wsmqtt: " + line + "\n"); };
    return run(std::move(cfg), [options](net::any_io_executor ex) { return make_transport(std::move(ex), options); });
}

int run(config cfg, transport_maker make)
{
    hold_standard_descriptors();
    std::string error;
    auto format = output_format::compile(cfg.format.empty() ? std::string{default_format} : cfg.format, cfg.no_newline, error);
    if (!format) {
        if (!cfg.quiet) write_error(error);
        return to_int(exit_code::usage);
    }
    // Writes to a closed pipe or socket must fail with EPIPE, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    config const& settings = cfg; // as parsed, from here on
    // The message (a file, standard input) is read before anything is sent: a file that cannot
    // be read is a usage error, and nothing reaches the broker.
    std::string payload;
    if (settings.command != command::sub && !settings.line_mode) {
        auto read = read_payload(settings);
        if (auto const* f = std::get_if<failure>(&read)) {
            if (!settings.quiet) write_error(f->message);
            return to_int(f->code);
        }
        payload = std::move(std::get<std::string>(read));
    }

    net::io_context ioc{1};
    auto const ex = ioc.get_executor();
    supervisor boss{ex, settings, std::move(make)};
    std::unique_ptr<role> role;
    if (settings.command == command::pub) role = make_publisher(settings, std::move(payload), boss, ex);
    else if (settings.command == command::rr) role = make_subscriber(settings, std::move(*format), boss, std::move(payload));
    else role = make_subscriber(settings, std::move(*format), boss);
    int code = to_int(exit_code::internal);
    net::co_spawn(ioc, boss.run(*role), [&](std::exception_ptr e, int result) {
        code = e ? report_exception(e, settings.quiet) : result;
        ioc.stop(); // timers a library left behind do not keep the run going
    });
    ioc.run();
    return code;
}

} // namespace wsmqtt

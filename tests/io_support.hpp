// What the io tests share: a scripted transport (a broker that answers as each test says, fails
// on demand, and counts the transports alive), captured descriptors, configs and brokers.
#pragma once

#include <catch2/catch.hpp>

#include "../src/net/race.hpp"
#include "../src/app/supervisor.hpp"
#include "wsmqtt/mqtt/codec.hpp"

#include <boost/asio/post.hpp>

#include <csignal>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace io_support {

using namespace wsmqtt;
namespace net = boost::asio;

/// What the scripted broker has seen and does.
struct broker_script {
    /// Called for each packet the client sends; `answer` queues bytes (or an end) for it.
    std::function<void(mqtt::packet const&, struct scripted_transport&)> on_packet;
    /// Connection attempts that fail before the transport is up, and how.
    int refuse_connects = 0;
    transport_error refusal{transport_errc::connection_refused, "scripted:1"};
    /// Writes that fail (the 1st write of a connection is 1): connection lost.
    int fail_write = 0;
    std::vector<mqtt::packet> received;   ///< every packet the client sent, over all connections
    int connections = 0;
    int alive = 0;                        ///< transports in existence now
    int most_alive = 0;                   ///< the most at once
    std::vector<std::uint16_t> ws_fail_statuses;
    int shutdowns = 0;
    std::size_t acks_read = 0;            ///< PUBACKs the client has read so far
    mqtt::protocol_version version = mqtt::protocol_version::v311; ///< what the broker speaks
};

struct scripted_transport final : transport {
    scripted_transport(net::any_io_executor ex, broker_script& s) : script{s}, readable{ex}, executor{ex}
    {
        decoder.set_version(s.version);
        script.most_alive = std::max(script.most_alive, ++script.alive);
    }
    ~scripted_transport() override { --script.alive; }

    net::awaitable<std::optional<transport_error>> connect() override
    {
        if (script.refuse_connects > 0) {
            --script.refuse_connects;
            co_return script.refusal;
        }
        ++script.connections;
        co_return std::nullopt;
    }

    net::awaitable<read_result> read() override
    {
        while (inbox.empty() && !end && !cancelled_) {
            co_await readable.wait();
            auto const state = co_await boost::asio::this_coro::cancellation_state;
            if (cancelled(state)) co_return read_result{{}, transport_error{transport_errc::connection_lost, {}, "cancelled"}};
        }
        if (cancelled_) co_return read_result{{}, transport_error{transport_errc::connection_lost, {}, "cancelled"}};
        if (!inbox.empty()) {
            current = std::move(inbox.front());
            inbox.pop_front();
            if (!current.empty() && current[0] == 0x40) ++script.acks_read; // a PUBACK sent alone
            if (throw_on_read) throw std::bad_alloc{};
            co_return read_result{current, std::nullopt};
        }
        co_return read_result{{}, end};
    }

    void read_when_ready(std::function<void(read_result const&)> done) override
    {
        // read() in a coroutine of its own, started on the next turn (`done` is never called
        // inside this call); its exceptions end the test's io_context::run().
        net::co_spawn(
            executor,
            [this, done = std::move(done)]() -> net::awaitable<void> {
                co_await net::post(executor, net::use_awaitable);
                done(co_await read());
            },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
    }

    net::awaitable<std::optional<transport_error>> write(send_buffers const& data) override
    {
        if (cancelled_) co_return transport_error{transport_errc::connection_lost, {}, "cancelled"};
        if (++writes == script.fail_write) co_return transport_error{transport_errc::connection_lost, {}, "Broken pipe"};
        for (auto const& b : data) {
            auto const* p = static_cast<std::uint8_t const*>(b.data());
            decoder.feed({p, b.size()});
        }
        std::error_code ec;
        while (auto p = decoder.next(ec)) {
            script.received.push_back(*p);
            if (script.on_packet) script.on_packet(*p, *this);
        }
        co_return std::nullopt;
    }

    net::awaitable<bool> shutdown() override
    {
        ++script.shutdowns;
        close_by_broker(); // as mosquitto does after DISCONNECT
        co_return true;
    }

    net::awaitable<void> fail(std::uint16_t status) override
    {
        script.ws_fail_statuses.push_back(status);
        co_return;
    }

    void cancel() noexcept override
    {
        cancelled_ = true;
        readable.notify();
    }

    /// The broker sends `p`.
    void send(mqtt::packet const& p)
    {
        mqtt::bytes out;
        REQUIRE(!mqtt::encode(p, out, script.version));
        send_bytes(std::move(out));
    }
    void send_bytes(mqtt::bytes b)
    {
        inbox.push_back(std::move(b));
        readable.notify();
    }
    /// The connection ends from the broker's side with `why` (after what is queued).
    void close_by_broker(transport_error why = {transport_errc::closed_by_broker})
    {
        end = std::move(why);
        readable.notify();
    }

    broker_script& script;
    wakeup readable;
    net::any_io_executor executor;
    std::deque<mqtt::bytes> inbox;
    mqtt::bytes current;
    std::optional<transport_error> end;
    bool cancelled_ = false;
    bool throw_on_read = false;
    int writes = 0;
    mqtt::decoder decoder;
};

/// A descriptor (1 or 2) sent to a file for the test's duration; text() reads what came.
class captured {
public:
    explicit captured(int fd, char const* target = nullptr) : fd_{fd}, saved_{::dup(fd)}
    {
        file_ = target ? nullptr : std::tmpfile();
        int const to = target ? ::open(target, O_WRONLY) : ::fileno(file_);
        REQUIRE(to >= 0);
        ::dup2(to, fd);
        if (target) ::close(to);
    }
    captured(captured const&) = delete;
    captured& operator=(captured const&) = delete;
    ~captured() { restore(); }
    void restore()
    {
        if (saved_ < 0) return;
        ::dup2(saved_, fd_);
        ::close(saved_);
        saved_ = -1;
    }
    std::string text()
    {
        if (!file_) return {};
        std::fflush(file_);
        std::string out;
        std::rewind(file_);
        char buffer[4096];
        while (auto n = std::fread(buffer, 1, sizeof buffer, file_)) out.append(buffer, n);
        return out;
    }

private:
    int fd_;
    int saved_;
    std::FILE* file_ = nullptr;
};

/// Standard input for the test's duration: a pipe holding `lines`, left open (no end of input).
class stdin_pipe {
public:
    explicit stdin_pipe(std::string const& lines) : saved_{::dup(STDIN_FILENO)}
    {
        REQUIRE(::pipe(ends_) == 0);
        REQUIRE(::write(ends_[1], lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()));
        ::dup2(ends_[0], STDIN_FILENO);
    }
    stdin_pipe(stdin_pipe const&) = delete;
    stdin_pipe& operator=(stdin_pipe const&) = delete;
    ~stdin_pipe()
    {
        ::dup2(saved_, STDIN_FILENO);
        for (int fd : {saved_, ends_[0], ends_[1]}) ::close(fd);
    }

private:
    int saved_;
    int ends_[2] = {-1, -1};
};

inline config sub_config(std::vector<std::string> topics = {"t"})
{
    config c;
    c.command = command::sub;
    c.client_id = "io-test";
    c.topics = std::move(topics);
    c.reconnect_max = std::chrono::milliseconds{5}; // reconnect at once: no waiting in tests
    return c;
}

inline config pub_config(std::string payload = "m", mqtt::qos q = mqtt::qos::at_least_once)
{
    config c;
    c.command = command::pub;
    c.client_id = "io-test";
    c.topics = {"t"};
    c.payload = {payload_source::kind::text, std::move(payload)};
    c.qos = q;
    c.progress = false;
    return c;
}

/// Runs wsmqtt with `cfg` against the script; returns the exit code.
inline int run_against(broker_script& script, config cfg)
{
    return run(std::move(cfg), [&script](net::any_io_executor ex) { return std::make_unique<scripted_transport>(ex, script); });
}

/// A broker that accepts CONNECT, grants SUBSCRIBE, acknowledges QoS 1 and 2 PUBLISH, and
/// closes after DISCONNECT.
inline void well_behaved(mqtt::packet const& p, scripted_transport& t)
{
    if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
    if (auto const* s = std::get_if<mqtt::subscribe>(&p)) t.send(mqtt::suback{s->packet_id, {0}});
    if (auto const* m = std::get_if<mqtt::publish>(&p)) {
        if (m->qos == mqtt::qos::at_least_once) t.send(mqtt::puback{m->packet_id});
        if (m->qos == mqtt::qos::exactly_once) t.send(mqtt::pubrec{m->packet_id});
    }
    if (auto const* r = std::get_if<mqtt::pubrel>(&p)) t.send(mqtt::pubcomp{r->packet_id});
}

/// A well-behaved broker that, once it has granted the subscription, publishes `payload` on "t".
inline std::function<void(mqtt::packet const&, scripted_transport&)> publishing(std::string payload)
{
    return [payload = std::move(payload)](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) t.send(mqtt::publish{"t", payload, mqtt::qos::at_most_once, false, false, 0});
    };
}

template <class T>
std::vector<T> all_of(std::vector<mqtt::packet> const& packets)
{
    std::vector<T> out;
    for (auto const& p : packets)
        if (auto const* x = std::get_if<T>(&p)) out.push_back(*x);
    return out;
}

} // namespace io_support

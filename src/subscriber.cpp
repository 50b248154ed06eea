// wsmqtt sub: subscribe on every connection the broker did not keep, print each message as the
// format says (one write to stdout per read from the broker), and -C, -R, -T, -E, -U,
// --retained-only, --remove-retained, --rate.
#include "roles.hpp"

#include "race.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/session_words.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <cstring>
#include <unordered_set>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

/// Payloads from this size on go to stdout without a copy into the output buffer.
constexpr std::size_t large_payload = 1024 * 1024;

class subscriber final : public role {
public:
    subscriber(config const& cfg, output_format format, run_control& control)
        : cfg_{cfg}, format_{std::move(format)}, control_{control}
    {
    }

    net::awaitable<void> run() override
    {
        if (cfg_.rate) co_await rate_meter();
        co_await park();
    }

    void on_connected(bool reconnected, bool session_present) override
    {
        // The broker kept our subscriptions if it kept the session.
        if (reconnected && session_present) return;
        auto& session = control_.session();
        auto const now = clock::now();
        pending_requests_ = 0;
        if (!cfg_.topics.empty()) {
            std::vector<mqtt::subscription> subs;
            for (auto const& t : cfg_.topics)
                subs.push_back({t, cfg_.qos, cfg_.v5.no_local, cfg_.v5.retain_as_published, cfg_.v5.retain_handling});
            if (auto const r = session.subscribe(std::move(subs), now, cfg_.v5.subscribe); r.ec)
                return control_.finish(exit_code::usage, fmt::format("cannot subscribe: {}", r.ec.message()));
            ++pending_requests_;
        }
        if (!cfg_.unsubscribe_topics.empty()) {
            if (auto const r = session.unsubscribe(cfg_.unsubscribe_topics, now, cfg_.v5.unsubscribe); r.ec)
                return control_.finish(exit_code::usage, fmt::format("cannot unsubscribe: {}", r.ec.message()));
            ++pending_requests_;
        }
    }

    void on_message(mqtt::publish const& m) override
    {
        if (control_.ending() || stdout_gone_) return;
        // --remove-retained: the broker forwards our clearing message to us too; not news.
        if (!m.retain && m.payload.empty() && !cleared_topics_.empty() && cleared_topics_.erase(m.topic) > 0) return;
        // --retained-only: the first live message ends the run, unprinted (as mosquitto_sub).
        if (cfg_.retained_only && !m.retain) return control_.stop(exit_code::ok);
        ++rate_messages_;
        rate_bytes_ += m.payload.size();
        bool const hidden = is_hidden(m.topic);
        if (cfg_.remove_retained && m.retain && !hidden) {
            // A retained empty message clears the retained one (§3.3.1.3).
            (void)control_.session().publish({m.topic, {}, mqtt::qos::at_most_once, true, false, 0}, clock::now());
            cleared_topics_.insert(m.topic);
        }
        if (hidden || (cfg_.skip_retained && m.retain)) return;
        print(m);
        // -C: DISCONNECT now, so that no later message is taken, nor acknowledged.
        if (cfg_.count > 0 && ++received_ >= cfg_.count) control_.stop(exit_code::ok);
    }

    void on_subscribe_complete(mqtt::subscribe_complete const& e) override
    {
        // A refused filter ends the run when none was granted; otherwise the others stand, and
        // it is a warning.
        bool const v5 = control_.session().version() == mqtt::protocol_version::v5;
        std::vector<std::pair<std::string const*, std::string>> refused; // filter, reason (MQTT 5)
        for (std::size_t i = 0; i < e.return_codes.size(); ++i)
            if (e.return_codes[i] >= mqtt::suback_failure) // 0x80, and MQTT 5's other refusals above it
                refused.emplace_back(&e.subscriptions[i].filter, v5 ? reason_words(e.return_codes[i], e.props) : std::string{});
        auto const one = [](auto const& r) { return fmt::format("subscription to '{}' refused by the broker{}{}", *r.first, r.second.empty() ? "" : ": ", r.second); };
        if (!refused.empty() && refused.size() == e.return_codes.size()) {
            if (refused.size() == 1) return control_.finish(exit_code::subscription_refused, one(refused.front()));
            std::vector<std::string> each;
            for (auto const& r : refused) each.push_back(fmt::format("'{}'{}{}{}", *r.first, r.second.empty() ? "" : " (", r.second, r.second.empty() ? "" : ")"));
            return control_.finish(exit_code::subscription_refused, fmt::format("every subscription refused by the broker: {}", fmt::join(each, ", ")));
        }
        if (!cfg_.quiet)
            for (auto const& r : refused) write_stderr(fmt::format("wsmqtt: warning: {}; the others stand\n", one(r)));
        request_done();
    }

    void on_unsubscribe_complete() override { request_done(); }

    /// Once per read from the broker: a pipe never waits for a message that has arrived.
    void after_events() override { flush(); }

    void on_signal(int, int count) override
    {
        // Ctrl-C, SIGTERM, SIGHUP: DISCONNECT and exit 0; a second one ends at once.
        if (count == 1) control_.stop(exit_code::ok);
        else control_.finish(exit_code::ok);
    }

    void on_end() override { flush(); }

private:
    /// A SUBSCRIBE or UNSUBSCRIBE was acknowledged: -E, or -U alone, end the run here.
    void request_done()
    {
        if (--pending_requests_ > 0) return;
        if (cfg_.exit_after_subscribe || cfg_.topics.empty()) control_.stop(exit_code::ok);
    }

    bool is_hidden(std::string_view topic) const
    {
        for (auto const& f : cfg_.hidden_topics)
            if (mqtt::topic_matches(f, topic)) return true;
        return false;
    }

    void print(mqtt::publish const& m)
    {
        auto const when = format_.uses_time() ? std::chrono::system_clock::now() : wall_time{};
        if (m.payload.size() < large_payload) return format_.render(m, when, out_.buffer());
        // Large: written from where the decoder put it, not copied into the output buffer.
        if (!flush()) return;
        if (auto const at = format_.render_around_payload(m, when, out_.buffer())) check(out_.flush(m.payload, *at));
    }

    /// Writes what is buffered for stdout; false if stdout is gone.
    bool flush()
    {
        if (stdout_gone_) return false;
        if (out_.buffer().empty()) return true;
        return check(out_.flush());
    }

    bool check(stdout_writer::status status)
    {
        if (status == stdout_writer::status::ok) return true;
        stdout_gone_ = true;
        // The reader of our stdout has gone (`| head -1`): leave quietly. A full disk or an I/O
        // error lost output: that is an error.
        if (status == stdout_writer::status::closed) control_.stop(exit_code::ok);
        else control_.finish(exit_code::output, fmt::format("cannot write to stdout: {}", std::strerror(out_.error())));
        return false;
    }

    /// --rate: once a second, what arrived during that second.
    net::awaitable<void> rate_meter()
    {
        auto const executor = co_await net::this_coro::executor;
        net::steady_timer timer{executor};
        bool const colour = stderr_wants_colour();
        while (!control_.ending()) {
            timer.expires_after(std::chrono::seconds{1});
            auto [ec] = co_await timer.async_wait(use_tuple);
            if (ec || control_.ending()) break;
            if (!cfg_.quiet)
                write_stderr(fmt::format("wsmqtt: rate: {} msg/s, {} B/s\n", paint(std::to_string(rate_messages_), "1", colour),
                                         paint(std::to_string(rate_bytes_), "1", colour)));
            rate_messages_ = 0;
            rate_bytes_ = 0;
        }
    }

    config const& cfg_;
    output_format const format_;
    run_control& control_;
    stdout_writer out_;
    bool stdout_gone_ = false;
    std::size_t received_ = 0;
    int pending_requests_ = 0; ///< SUBSCRIBE/UNSUBSCRIBE not yet acknowledged
    std::size_t rate_messages_ = 0;
    std::size_t rate_bytes_ = 0;
    std::unordered_set<std::string> cleared_topics_; ///< --remove-retained: echoes to skip
};

} // namespace

std::unique_ptr<role> make_subscriber(config const& cfg, output_format format, run_control& control)
{
    return std::make_unique<subscriber>(cfg, std::move(format), control);
}

} // namespace wsmqtt

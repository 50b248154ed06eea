// wsmqtt sub: subscribe on every connection the broker did not keep, print each message as the
// format says (one write to stdout per read from the broker), and -C, -R, -T, -E, -U,
// --retained-only, --remove-retained, --rate. wsmqtt rr is a subscriber too: it sends its request
// once the answers' subscription stands, and takes only the answers with its Correlation Data.
#include "roles.hpp"

#include "../net/race.hpp"
#include "wsmqtt/mqtt/properties.hpp"
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
    subscriber(config const& cfg, output_format format, run_control& control, std::optional<std::string> request)
        : cfg_{cfg}, format_{std::move(format)}, control_{control}, requester_{request.has_value()}, request_{std::move(request).value_or("")}
    {
        if (auto const* data = mqtt::find(cfg_.v5.publish, mqtt::property_id::correlation_data); data && requester_)
            correlation_ = data->value;
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
        if (requester_ && !is_our_answer(m)) return;
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
        auto const one = [](auto const& r) {
            return fmt::format("subscription to '{}' refused by the broker{}{}", *r.first, r.second.empty() ? "" : ": ", r.second);
        };
        if (!refused.empty() && refused.size() == e.return_codes.size()) {
            if (refused.size() == 1) return control_.finish(exit_code::subscription_refused, one(refused.front()));
            std::vector<std::string> each;
            for (auto const& [filter, reason] : refused)
                each.push_back(reason.empty() ? fmt::format("'{}'", *filter) : fmt::format("'{}' ({})", *filter, reason));
            return control_.finish(exit_code::subscription_refused,
                                   fmt::format("every subscription refused by the broker: {}", fmt::join(each, ", ")));
        }
        if (!cfg_.quiet)
            for (auto const& r : refused) write_stderr(fmt::format("wsmqtt: warning: {}; the others stand\n", one(r)));
        if (requester_ && !request_sent_) send_request();
        request_done();
    }

    void on_unsubscribe_complete(mqtt::unsubscribe_complete const& e) override
    {
        // MQTT 5: a refusal is a warning (the filter stays subscribed); 0x11, none existed, is not.
        if (!cfg_.quiet)
            for (std::size_t i = 0; i < e.reason_codes.size() && i < e.filters.size(); ++i)
                if (e.reason_codes[i] >= 0x80)
                    write_stderr(fmt::format("wsmqtt: warning: unsubscribe from '{}' refused by the broker: {}\n", e.filters[i],
                                             reason_words(e.reason_codes[i], e.props)));
        request_done();
    }

    void on_publish_complete(mqtt::publish_complete const& c) override
    {
        // rr's request at QoS 1/2 (MQTT 5: perhaps refused); --remove-retained's are QoS 0.
        if (c.reason_code >= 0x80)
            control_.finish(exit_code::message_refused,
                            fmt::format("the broker refused the request: {}", reason_words(c.reason_code, c.props)));
    }

    /// Once per read from the broker: a pipe never waits for a message that has arrived.
    void after_events() override { flush(); }

    void on_signal(int, int count) override
    {
        // Ctrl-C, SIGTERM, SIGHUP: DISCONNECT and exit 0; a second one ends at once.
        if (count == 1) control_.stop(exit_code::ok);
        else control_.finish(exit_code::ok);
    }

    void on_end() override { flush(); }

    std::size_t messages_printed() const override { return received_; }

private:
    /// rr: the request, once the subscription to its answers stands. It goes once: a reconnect
    /// (the supervisor makes none for rr) would not send it again.
    void send_request()
    {
        request_sent_ = true;
        mqtt::publish m{cfg_.request_topic, std::move(request_), cfg_.qos, false, false, 0, cfg_.v5.publish};
        if (auto const r = control_.session().publish(std::move(m), clock::now()); r.ec)
            control_.finish(exit_code::usage, fmt::format("cannot send the request: {}", r.ec.message()));
    }

    /// rr: an answer carries our Correlation Data; anything else on the topic is someone else's.
    bool is_our_answer(mqtt::publish const& m) const
    {
        auto const* data = mqtt::find(m.props, mqtt::property_id::correlation_data);
        if (data && data->value == correlation_) return true;
        if (cfg_.debug)
            write_stderr(fmt::format("wsmqtt: ignored a message on '{}': {}\n", m.topic,
                                     data ? "its Correlation Data is not our request's" : "it has no Correlation Data"));
        return false;
    }

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
        // What this batch acknowledged was not delivered: the acknowledgements stay unsent.
        control_.session().discard_output();
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
    bool const requester_;               ///< wsmqtt rr
    std::string request_;                ///< rr: the request's payload, until sent
    bool request_sent_ = false;
    std::string correlation_;            ///< rr: the request's Correlation Data
};

} // namespace

std::unique_ptr<role> make_subscriber(config const& cfg, output_format format, run_control& control, std::optional<std::string> request)
{
    return std::make_unique<subscriber>(cfg, std::move(format), control, std::move(request));
}

} // namespace wsmqtt

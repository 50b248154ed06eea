// Structured concurrency for the driver: coroutines that run together and end together.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <tuple>
#include <utility>

namespace wsmqtt {

/// Completion token for awaited operations whose error is a value, not an exception.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Whether `e` is what a cancelled Asio operation throws.
inline bool is_cancellation(std::exception_ptr const& e) noexcept
{
    try {
        std::rethrow_exception(e);
    } catch (boost::system::system_error const& error) {
        return error.code() == boost::asio::error::operation_aborted;
    } catch (...) {
        return false;
    }
}

/// Runs the coroutines together until the first one ends; the others are then cancelled and
/// awaited, so none outlives this call. Returns the index of the first; an exception from any of
/// them (other than one of cancellation) is rethrown here, so that nothing fails unseen.
/// (Asio's `||` waits for the first *success*: an exception would leave the others running.)
template <class... Coroutines>
boost::asio::awaitable<std::size_t> race(boost::asio::awaitable<Coroutines>... branches)
{
    namespace net = boost::asio;
    auto const ex = co_await net::this_coro::executor;
    auto result = co_await net::experimental::make_parallel_group(net::co_spawn(ex, std::move(branches), net::deferred)...)
                      .async_wait(net::experimental::wait_for_one(), net::deferred);
    auto const first = std::get<0>(result)[0];
    std::exception_ptr error;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        // The first one's exception, else any other that is not a cancellation.
        ((I == first && std::get<I + 1>(result) ? void(error = std::get<I + 1>(result)) : void()), ...);
        ((!error && std::get<I + 1>(result) && !is_cancellation(std::get<I + 1>(result)) ? void(error = std::get<I + 1>(result))
                                                                                         : void()),
         ...);
    }(std::index_sequence_for<Coroutines...>{});
    if (error) std::rethrow_exception(error);
    co_return first;
}

/// Whether a coroutine whose `co_await boost::asio::this_coro::cancellation_state` gave `state`
/// has been cancelled (by race(), or its owner). Not an awaitable of our own: a cancelled
/// coroutine that awaits any awaitable gets operation_aborted thrown at it by Asio, so such a
/// check would throw instead of answering (an exception on every run's normal end: 10 % of a
/// one-shot publish's instructions).
inline bool cancelled(boost::asio::cancellation_state const& state) noexcept
{
    return state.cancelled() != boost::asio::cancellation_type::none;
}

/// A wake-up call for one waiting coroutine: notify() before wait() is not lost.
class wakeup {
public:
    explicit wakeup(boost::asio::any_io_executor ex) : timer_{std::move(ex)} {}

    /// Returns after notify(), or when the caller is cancelled.
    boost::asio::awaitable<void> wait()
    {
        if (!std::exchange(notified_, false)) {
            timer_.expires_at(boost::asio::steady_timer::time_point::max());
            auto [ec] = co_await timer_.async_wait(use_tuple);
            (void)ec; // notified or cancelled: the caller looks at its state either way
            notified_ = false;
        }
    }
    void notify()
    {
        notified_ = true;
        timer_.cancel();
    }

private:
    boost::asio::steady_timer timer_;
    bool notified_ = false;
};

/// Waits `d` (or until cancelled).
inline boost::asio::awaitable<void> sleep(std::chrono::steady_clock::duration d)
{
    auto const executor = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer{executor, d};
    (void)co_await timer.async_wait(use_tuple);
}

/// Waits until cancelled: the end of a branch whose work is done but which must not end the race.
inline boost::asio::awaitable<void> park()
{
    auto const executor = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer never{executor, boost::asio::steady_timer::time_point::max()};
    auto [ec] = co_await never.async_wait(use_tuple);
    (void)ec;
}

} // namespace wsmqtt

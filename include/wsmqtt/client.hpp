// The client driver: connects, runs the session over the transport, and returns an exit code.
#pragma once

#include "wsmqtt/config.hpp"

namespace wsmqtt {

/// Runs `wsmqtt sub` or `wsmqtt pub` as configured; returns the process exit code.
/// Asio stays behind this function so that only client.cpp compiles it.
[[nodiscard]] int run(config cfg);

/// Runs `wsmqtt bench` (conn, pub, sub, merge); returns the process exit code.
[[nodiscard]] int run_bench(config const& cfg);

} // namespace wsmqtt

// Exit codes: part of the command-line API, documented in README.md. Keep them stable.
#pragma once

#include <cstdint>
#include <string>

namespace wsmqtt {

enum class exit_code : int {
    ok = 0,                   ///< done; also -C reached, Ctrl-C/SIGTERM, stdout closed
    network = 1,              ///< host not found, connection refused/lost, timeouts
    usage = 2,                ///< bad option, topic, QoS or payload
    tls = 3,                  ///< certificate not trusted, host name mismatch, handshake failed
    websocket = 4,            ///< upgrade refused (HTTP status), subprotocol not accepted
    protocol = 5,             ///< the broker broke MQTT (malformed or unexpected packet)
    subscription_refused = 6, ///< SUBACK 0x80 for a requested filter
    proxy = 7,                ///< the proxy refused, wants authentication, or cannot reach the broker
    output = 8,               ///< stdout could not be written (disk full, I/O error); not EPIPE
    internal = 9,             ///< out of memory, or a bug: an exception reached the top
    connack_base = 10,        ///< 10 + N: broker refused CONNECT with return code N (11..15); 16 another MQTT 5 reason
    message_refused = 17,     ///< MQTT 5: the broker refused a message we published (PUBACK/PUBREC 0x80 or more)
    lost = 18,                ///< bench: messages lost at QoS 1 or 2 (sequence numbers skipped)
    timeout = 27,             ///< -W seconds passed (mosquitto's code)
    signal_base = 128,        ///< 128 + N: pub interrupted by signal N before the broker had every message
};

[[nodiscard]] constexpr int to_int(exit_code c) noexcept { return static_cast<int>(c); }

/// A failure to report: one line on stderr and the process exit code.
struct failure {
    exit_code code = exit_code::network;
    std::string message;
    /// A network failure that trying again would not mend (MQTT 5: the broker said to go
    /// elsewhere, or another client took the session over): no reconnect.
    bool final = false;
};

} // namespace wsmqtt

// The roles: wsmqtt sub (and rr, a subscriber that sends a request), wsmqtt pub.
#pragma once

#include "role.hpp"
#include "wsmqtt/config.hpp"
#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/output.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>
#include <variant>

namespace wsmqtt {

/// The message of -m, -f, -s or -n, read now (a file, standard input); or why it cannot be sent.
[[nodiscard]] std::variant<std::string, failure> read_payload(config const& cfg);

/// `request`: wsmqtt rr's message (read_payload), sent once the answers' subscription stands.
[[nodiscard]] std::unique_ptr<role> make_subscriber(config const& cfg, output_format format, run_control& control,
                                                    std::optional<std::string> request = std::nullopt);
/// `payload`: the message of -m, -f, -s or -n (read_payload).
[[nodiscard]] std::unique_ptr<role> make_publisher(config const& cfg, std::string payload, run_control& control,
                                                   boost::asio::any_io_executor ex);

} // namespace wsmqtt

// The two roles: wsmqtt sub and wsmqtt pub.
#pragma once

#include "role.hpp"
#include "wsmqtt/config.hpp"
#include "wsmqtt/output.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace wsmqtt {

[[nodiscard]] std::unique_ptr<role> make_subscriber(config const& cfg, output_format format, run_control& control);
/// `payload`: the message of -m, -f, -s or -n (taken from the config, so that a large file is
/// held once).
[[nodiscard]] std::unique_ptr<role> make_publisher(config const& cfg, std::string payload, run_control& control,
                                                   boost::asio::any_io_executor ex);

} // namespace wsmqtt

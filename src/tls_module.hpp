// The seam between the wsmqtt binary and its TLS module, wsmqtt-tls.so (transport_tls.cpp):
// the binary loads the module only for wss:// and mqtts://, so that other runs do not load
// OpenSSL (0.7 ms and 2 MiB at every start; bench/run measures it).
#pragma once

#include "wsmqtt/transport.hpp"
#include "wsmqtt/version.hpp"

namespace wsmqtt {

/// The file name of the module; it is looked for next to the binary (the build tree), then in
/// the binary's `WSMQTT_TLS_MODULE_DIR` (relative: where cmake --install puts it).
inline constexpr char const tls_module_file[] = "wsmqtt-tls.so";

/// The module's one entry point, `wsmqtt_tls_transport`: the transport for a wss:// or
/// mqtts:// endpoint, or nullptr when `version` is not the module's own. Binary and module
/// share `config` and the transport's class layout, so they must come from the same build.
using tls_transport_factory = transport*(char const* version, boost::asio::any_io_executor const& executor, config const& cfg);

} // namespace wsmqtt

#define WSMQTT_TLS_EXPORT __attribute__((visibility("default")))

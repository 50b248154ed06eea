// The command line: argv in, a validated config (or an exit code) out.
#pragma once

#include "wsmqtt/config.hpp"

#include <optional>
#include <string>

namespace wsmqtt {

struct parse_result {
    std::optional<config> cfg; ///< set when the program should run
    int exit_code = 0;         ///< when cfg is empty: 0 after --help/--version, else usage error
    std::string error;         ///< the usage error's words (printed on stderr unless --quiet)
};

/// Parses and validates argv. Help and version go to stdout, errors to stderr (one line each).
[[nodiscard]] parse_result parse_command_line(int argc, char const* const* argv);

} // namespace wsmqtt

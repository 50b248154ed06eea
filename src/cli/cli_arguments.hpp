// The arguments of a run, gathered: the options file, then the environment, then the command
// line, each argument with where it came from (for the words of an error); -D taken out with its
// words. No CLI11 here.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace wsmqtt::cli_detail {

/// The arguments to parse, and where each came from (empty: the command line).
struct arguments {
    std::vector<std::string> args;
    std::vector<std::string> origin;

    void add(std::string arg, std::string from = {})
    {
        args.push_back(std::move(arg));
        origin.push_back(std::move(from));
    }
    /// " (FILE line N)" for an argument that came from the options file or the environment.
    [[nodiscard]] std::string where(std::string_view arg) const
    {
        for (std::size_t i = 0; i < args.size(); ++i)
            if (args[i] == arg && !origin[i].empty()) return fmt::format(" ({})", origin[i]);
        return {};
    }
    /// " (FILE line N)" when `message` quotes a value that came from the options file.
    [[nodiscard]] std::string where_quoted(std::string_view message) const
    {
        for (std::size_t i = 0; i < args.size(); ++i)
            if (!origin[i].empty() && !args[i].empty() && message.find("'" + args[i] + "'") != std::string_view::npos)
                return fmt::format(" ({})", origin[i]);
        return {};
    }
};

/// " (did you mean 'X'?)" for the nearest of `known` to `typed`, when one is near enough.
[[nodiscard]] std::string suggestion(std::string_view typed, std::vector<std::string> const& known);

/// Whether `args` holds one of `names` (as "-o", "--opt" or "--opt=X").
[[nodiscard]] bool contains(std::vector<std::string> const& args, std::initializer_list<std::string_view> names);

/// argv with the options file's and the environment's options put before the command line's,
/// so that later ones win: file < environment < command line. Throws usage_error.
[[nodiscard]] arguments gather_arguments(int argc, char const* const* argv);

/// Takes each -D (--property) out of `args` with its words: COMMAND PROPERTY VALUE, or COMMAND
/// user-property KEY VALUE. Throws usage_error.
[[nodiscard]] std::vector<std::vector<std::string>> take_properties(std::vector<std::string>& args);

} // namespace wsmqtt::cli_detail

// Adding CLI11 options for only what the arguments name (option_adder), and the help's
// formatter: shared by cli.cpp and cli_bench.cpp, the translation units that include CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace wsmqtt::cli_detail {

/// Adds a subcommand's options, but only those the arguments name (all of them for --help).
/// CLI11 checks each new option against every option before it: building all ~70 took a third
/// of the instructions of a one-shot publish, as much as loading OpenSSL. Parsing, help and
/// errors are the same: an option the arguments do not name has nothing to parse, and an
/// unknown or mistyped one is refused as before.
class option_adder {
public:
    /// `collect_only`: add nothing, note every option's names (for "did you mean", after an error).
    option_adder(CLI::App& app, std::vector<std::string> const& args, bool collect_only = false)
        : app_{app}, args_{args}, collect_only_{collect_only}
    {
        all_ = std::find(args.begin(), args.end(), "--help") != args.end();
    }

    /// What CLI11's Option* is used for here, on an option that may not have been added.
    class handle {
    public:
        explicit handle(CLI::Option* o) : option_{o} {}
        handle* operator->() { return this; }
        handle* group(std::string const& name)
        {
            if (option_) option_->group(name);
            return this;
        }
        /// The value's name in --help (numbers are parsed as text, checked by validate()).
        handle* type_name(std::string const& name)
        {
            if (option_) option_->type_name(name);
            return this;
        }
        handle* multi_option_policy(CLI::MultiOptionPolicy policy)
        {
            if (option_) option_->multi_option_policy(policy);
            return this;
        }

    private:
        CLI::Option* option_;
    };

    template <class T>
    handle add_option(std::string const& names, T& variable, std::string const& description)
    {
        // One value per option: `-t a b` is not two topics (repeat the option for that).
        return handle{named(names) ? app_.add_option(names, variable, description)->allow_extra_args(false) : nullptr};
    }
    template <class T>
    handle add_flag(std::string const& names, T& variable, std::string const& description)
    {
        return handle{named(names) ? app_.add_flag(names, variable, description) : nullptr};
    }
    template <class F>
    handle add_flag_function(std::string const& names, F&& function, std::string const& description)
    {
        return handle{named(names) ? app_.add_flag_function(names, std::forward<F>(function), description) : nullptr};
    }
    /// A positional argument (always added: it has no name to look for).
    template <class T>
    void add_positional(std::string const& name, T& variable, std::string const& description)
    {
        if (!collect_only_) app_.add_option(name, variable, description);
    }
    void footer(std::string const& text)
    {
        if (!collect_only_) app_.footer(text);
    }
    /// Every option name of the subcommand, added or not: for "did you mean".
    [[nodiscard]] std::vector<std::string> const& names() const { return names_; }

private:
    /// Whether the arguments may name one of `names` ("-h,--host", "!--no-progress"): a long
    /// name as "--name" or "--name=…", a short one anywhere in an argument of one dash (they
    /// combine: -dq1). Taking an option too many is harmless.
    bool named(std::string_view names)
    {
        bool found = all_ && !collect_only_;
        while (!names.empty() && !found) {
            auto const comma = names.find(',');
            auto name = names.substr(0, comma);
            names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
            if (!name.empty() && name.front() == '!') name.remove_prefix(1);
            if (collect_only_) {
                names_.emplace_back(name);
                continue;
            }
            for (std::string_view const arg : args_) {
                if (name.starts_with("--")) {
                    if (arg == name || (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=')) found = true;
                } else if (name.size() == 2 && arg.size() > 1 && arg[0] == '-' && arg[1] != '-' &&
                           arg.find(name[1], 1) != std::string_view::npos) {
                    found = true;
                }
            }
        }
        return found;
    }

    CLI::App& app_;
    std::vector<std::string> const& args_;
    bool const collect_only_;
    bool all_ = false;
    std::vector<std::string> names_;
};

/// Help without CLI11's "{false}" behind a negated flag's name ("--progress,--no-progress").
class help_formatter : public CLI::Formatter {
public:
    std::string make_option_name(CLI::Option const* opt, bool positional) const override
    {
        auto name = CLI::Formatter::make_option_name(opt, positional);
        for (auto open = name.find('{'); open != std::string::npos; open = name.find('{'))
            name.erase(open, name.find('}', open) + 1 - open);
        return name;
    }
};

struct raw_options;
/// The Connection, WebSocket and TLS options (cli.cpp); `url_names`: "-L,--url" or "--url".
void add_transport_options(option_adder& app, raw_options& o, std::string const& url_names);

} // namespace wsmqtt::cli_detail

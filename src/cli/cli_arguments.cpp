// Gathering the arguments of a run: the options file (split as a shell splits a line), the
// environment, the command line; -D with its words.
#include "cli_arguments.hpp"

#include "cli_options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

namespace wsmqtt::cli_detail {
namespace {

bool is_one_of(std::string_view arg, std::initializer_list<std::string_view> names)
{
    for (auto const n : names)
        if (arg == n || (n.size() > 2 && arg.size() > n.size() && arg.substr(0, n.size()) == n && arg[n.size()] == '='))
            return true;
    return false;
}

/// The value of an option given as "-o X", "--opt X" or "--opt=X" in args, if any.
std::optional<std::string> find_value(std::vector<std::string> const& args, std::initializer_list<std::string_view> names)
{
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (!is_one_of(args[i], names)) continue;
        if (auto const eq = args[i].find('='); eq != std::string::npos && args[i].rfind("--", 0) == 0) return args[i].substr(eq + 1);
        if (i + 1 < args.size()) return args[i + 1];
    }
    return std::nullopt;
}


/// How far apart two words are: insertions, deletions, substitutions and swaps of neighbours
/// (optimal string alignment).
std::size_t distance(std::string_view a, std::string_view b)
{
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

} // namespace

/// " (did you mean 'X'?)" for the nearest of `known` to `typed`, when one is near enough.
std::string suggestion(std::string_view typed, std::vector<std::string> const& known)
{
    auto const* best = static_cast<std::string const*>(nullptr);
    std::size_t best_distance = std::max<std::size_t>(1, typed.size() / 3) + 1;
    for (auto const& k : known) {
        // "--top" is the start of "--topic": a prefix is as good as one typo.
        auto const d = k.size() > typed.size() && k.starts_with(typed) && typed.size() > 3 ? 1 : distance(typed, k);
        if (d < best_distance) best = &k, best_distance = d;
    }
    return best ? fmt::format(" (did you mean '{}'?)", *best) : std::string{};
}

bool contains(std::vector<std::string> const& args, std::initializer_list<std::string_view> names)
{
    for (auto const& a : args)
        if (is_one_of(a, names)) return true;
    return false;
}

namespace {

/// The words of `text` as a shell splits them: blanks separate; '…' and "…" group (a backslash
/// escapes the next character outside quotes and before " \\ in "…"); nothing is expanded.
std::vector<std::string> shell_words(std::string_view text, std::string const& where)
{
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char const c = text[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            if (in_word) words.push_back(std::exchange(word, {}));
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
        } else if (c == '\'' || c == '"') {
            auto j = i + 1;
            for (; j < text.size() && text[j] != c; ++j) {
                if (c == '"' && text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == '"' || text[j + 1] == '\\')) ++j;
                word += text[j];
            }
            if (j == text.size()) throw usage_error(fmt::format("{}: a {} quote is not closed", where, c == '"' ? "double" : "single"));
            i = j;
        } else {
            word += c;
        }
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

/// Options from a file, one per line: "-h broker", "--port 8080", "--tls"; '#' starts a comment.
/// A line is split into words as a shell splits them ('-t "a b"', -D publish user-property "a b" c).
arguments read_options_file(std::string const& path, bool must_exist)
{
    std::ifstream in{path};
    if (!in) {
        if (must_exist) throw usage_error(fmt::format("cannot read options file '{}': {}", path, std::strerror(errno)));
        return {};
    }
    arguments result;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        auto const first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        auto const where = fmt::format("{} line {}", path, number);
        auto words = shell_words(line, where);
        auto const option = words.front();
        if (option.size() < 2 || option[0] != '-')
            throw usage_error(fmt::format("{}: '{}' is not an option (one per line, e.g. '--port 8080')", where, option));
        // -D COMMAND PROPERTY VALUE, or COMMAND user-property KEY VALUE: all on its line. An
        // option has one value: unquoted words after it are that value with its spaces, as
        // the file's lines always meant ("-t a b": the topic 'a b').
        bool const property = option == "-D" || option == "--property";
        std::size_t const wanted = property ? (words.size() > 2 && words[2] == "user-property" ? 5u : 4u) : 2u;
        if (property && words.size() < wanted)
            throw usage_error(fmt::format("{}: {} needs COMMAND PROPERTY VALUE (user-property: KEY VALUE), {} word{} given", where, option,
                                          words.size() - 1, words.size() == 2 ? "" : "s"));
        while (words.size() > wanted) {
            words[words.size() - 2] += ' ' + words.back();
            words.pop_back();
        }
        for (auto const& w : words) result.add(w, where);
    }
    return result;
}

std::string default_options_file(std::string_view command)
{
    std::string base;
    if (char const* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) base = xdg;
    else if (char const* home = std::getenv("HOME"); home && *home) base = std::string{home} + "/.config";
    else return {};
    return fmt::format("{}/wsmqtt/{}.conf", base, command);
}

} // namespace

/// argv with the options file's and the environment's options put before the command line's,
/// so that later ones win: file < environment < command line.
arguments gather_arguments(int argc, char const* const* argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    arguments result;
    if (args.empty() || (args[0] != "sub" && args[0] != "pub" && args[0] != "rr")) {
        for (auto& a : args) result.add(std::move(a));
        return result;
    }
    auto const command = args.begin();
    std::vector<std::string> const given(command + 1, args.end());

    arguments injected;
    if (auto const file = find_value(given, {"-o", "--options-file"})) {
        injected = read_options_file(*file, true);
    } else if (auto const path = default_options_file(*command); !path.empty()) {
        injected = read_options_file(path, false);
    }
    bool const url_anywhere = contains(given, {"-L", "--url"}) || contains(injected.args, {"-L", "--url"});
    if (contains(given, {"-L", "--url"}) && contains(given, {"-h", "--host", "-p", "--port"}))
        throw usage_error("-L (--url) and -h/-p exclude each other: the URL names host and port");
    if (contains(given, {"-L", "--url"}) && contains(given, {"--ws-path"}))
        throw usage_error("-L (--url) and --ws-path exclude each other: the URL names the path");
    // Environment defaults apply where neither the file nor the command line says otherwise.
    struct variable {
        char const* name;
        char const* option;
        std::initializer_list<std::string_view> names;
    };
    for (auto const& v : {variable{"WSMQTT_HOST", "--host", {"-h", "--host"}}, variable{"WSMQTT_PORT", "--port", {"-p", "--port"}},
                          variable{"WSMQTT_USERNAME", "--username", {"-u", "--username"}},
                          variable{"WSMQTT_PASSWORD", "--pw", {"-P", "--pw"}}}) {
        char const* value = std::getenv(v.name);
        if (!value || !*value || contains(given, v.names)) continue;
        if (url_anywhere && (v.option == std::string_view{"--host"} || v.option == std::string_view{"--port"})) continue;
        if (v.option == std::string_view{"--port"}) (void)cli_detail::whole_number(value, v.name, 1, 65535);
        injected.add(v.option, v.name);
        injected.add(value, v.name);
    }
    result.add(*command);
    for (std::size_t i = 0; i < injected.args.size(); ++i) result.add(std::move(injected.args[i]), std::move(injected.origin[i]));
    for (auto const& a : given) result.add(a);
    return result;
}

/// Takes each -D (--property) out of `args` with its words: COMMAND PROPERTY VALUE, or COMMAND
/// user-property KEY VALUE. CLI11 wants a fixed number of values, and a value may start with '-'.
std::vector<std::vector<std::string>> take_properties(std::vector<std::string>& args)
{
    std::vector<std::vector<std::string>> taken;
    for (std::size_t i = 0; i < args.size();) {
        if (args[i] != "-D" && args[i] != "--property") {
            ++i;
            continue;
        }
        std::size_t const words = i + 2 < args.size() && args[i + 2] == "user-property" ? 4 : 3;
        if (i + words >= args.size())
            throw usage_error("-D needs COMMAND PROPERTY VALUE, e.g. -D publish content-type text/plain (user-property takes KEY VALUE)");
        taken.emplace_back(args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.begin() + static_cast<std::ptrdiff_t>(i + 1 + words));
        args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i + 1 + words));
    }
    return taken;
}

} // namespace wsmqtt::cli_detail

// What the command-line tests share: argv in, config or usage error out; temporary files and
// environment variables that clean up after themselves.
#pragma once

#include <catch2/catch.hpp>

#include "wsmqtt/cli.hpp"
#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/properties.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace cli_support {

using namespace wsmqtt;

inline parse_result parse(std::vector<char const*> args)
{
    args.insert(args.begin(), "wsmqtt");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

inline config parsed(std::vector<char const*> args)
{
    auto r = parse(std::move(args));
    REQUIRE(r.cfg);
    return *r.cfg;
}

inline void require_usage_error(std::vector<char const*> args)
{
    auto const r = parse(std::move(args));
    CHECK_FALSE(r.cfg);
    CHECK(r.exit_code == to_int(exit_code::usage));
}


/// Sets an environment variable for the life of the object.
class scoped_env {
public:
    scoped_env(char const* name, std::string const& value) : name_{name}
    {
        if (char const* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    scoped_env(scoped_env const&) = delete;
    scoped_env& operator=(scoped_env const&) = delete;
    ~scoped_env()
    {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    char const* name_;
    std::optional<std::string> old_;
};

/// A file in a fresh temporary folder, removed with the object.
class temp_file {
public:
    temp_file(std::string const& relative, std::string const& content)
    {
        char folder[] = "/tmp/wsmqtt-cli-test-XXXXXX";
        REQUIRE(::mkdtemp(folder));
        dir_ = folder;
        path_ = dir_ + "/" + relative;
        std::filesystem::create_directories(std::filesystem::path{path_}.parent_path());
        std::ofstream{path_} << content;
    }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;
    ~temp_file() { std::filesystem::remove_all(dir_); }
    std::string const& dir() const { return dir_; }
    std::string const& path() const { return path_; }

private:
    std::string dir_;
    std::string path_;
};


/// The usage error's words for `args`.
inline std::string usage_error_of(std::vector<char const*> args)
{
    args.insert(args.begin() + (args.empty() ? 0 : 1), "--quiet"); // the words are returned, not printed
    auto const r = parse(std::move(args));
    CHECK_FALSE(r.cfg);
    CHECK(r.exit_code == to_int(exit_code::usage));
    return r.error;
}


inline mqtt::property number(mqtt::property_id id, std::uint32_t n) { return {id, n}; }
inline mqtt::property text(mqtt::property_id id, std::string v) { return {id, 0, std::move(v)}; }
inline mqtt::property user(std::string k, std::string v) { return {mqtt::property_id::user_property, 0, std::move(k), std::move(v)}; }

} // namespace cli_support

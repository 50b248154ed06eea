// Output formats: the default line, mosquitto's -F specifiers, escapes and errors.
#include <catch2/catch.hpp>

#include "wsmqtt/output.hpp"

using namespace wsmqtt;
using wsmqtt::mqtt::publish;
using wsmqtt::mqtt::qos;

namespace {

std::string render(std::string_view spec, publish const& m, bool no_newline = false)
{
    std::string error;
    auto const f = output_format::compile(spec, no_newline, error);
    INFO(error);
    REQUIRE(f);
    std::string out;
    f->render(m, out);
    return out;
}

std::string compile_error(std::string_view spec)
{
    std::string error;
    CHECK_FALSE(output_format::compile(spec, false, error));
    return error;
}

publish const sample{"demo/hello", "hello from wsmqtt", qos::at_least_once, true, false, 12};

} // namespace

TEST_CASE("the default line is 'Topic: <topic> | <payload>' and a newline", "[output]")
{
    CHECK(render(default_format, sample) == "Topic: demo/hello | hello from wsmqtt\n");
}

TEST_CASE("mosquitto specifiers %t %p %q %r %l %m %%", "[output]")
{
    CHECK(render("%t|%p|%q|%r|%l|%m|%%", sample) == "demo/hello|hello from wsmqtt|1|1|17|12|%\n");
}

TEST_CASE("%x and %X print the payload in hex, binary-safe", "[output]")
{
    publish const bin{"b", std::string{"\x00\xAB\xff", 3}, qos::at_most_once, false, false, 0};
    CHECK(render("%x", bin) == "00abff\n");
    CHECK(render("%X", bin) == "00ABFF\n");
}

TEST_CASE("the payload is written byte for byte, NUL included", "[output]")
{
    publish const bin{"b", std::string{"a\0b", 3}, qos::at_most_once, false, false, 0};
    CHECK(render("%p", bin) == std::string{"a\0b\n", 4});
}

TEST_CASE("escape sequences and -N", "[output]")
{
    CHECK(render("%t\\t%p\\0", sample, true) == std::string{"demo/hello\thello from wsmqtt\0", 29});
    CHECK(render("a\\\\b\\n", sample, true) == "a\\b\n");
}

TEST_CASE("an unknown specifier or a dangling % is refused, naming it", "[output]")
{
    CHECK(compile_error("%z") == "invalid format specifier '%z'");
    CHECK(compile_error("\\q") == "invalid escape '\\q' in format");
    CHECK(compile_error("abc%") == "format ends with a lone '%'");
}

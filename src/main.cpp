// wsmqtt: MQTT over WebSocket from the command line.
#include "wsmqtt/cli.hpp"
#include "wsmqtt/client.hpp"

#include <cstdio>
#include <exception>
#include <utility>

int main(int argc, char** argv)
{
    try {
        auto parsed = wsmqtt::parse_command_line(argc, argv);
        if (!parsed.cfg) return parsed.exit_code;
        return wsmqtt::run(std::move(*parsed.cfg));
    } catch (std::exception const& e) {
        std::fprintf(stderr, "wsmqtt: error: %s\n", e.what());
        return 1;
    }
}

// wsmqtt: MQTT over WebSocket from the command line.
#include "wsmqtt/cli.hpp"
#include "wsmqtt/client.hpp"
#include "wsmqtt/exit_code.hpp"

#include <cstdio>
#include <exception>
#include <new>
#include <utility>

int main(int argc, char** argv)
{
    try {
        auto parsed = wsmqtt::parse_command_line(argc, argv);
        if (!parsed.cfg) return parsed.exit_code;
        return wsmqtt::run(std::move(*parsed.cfg));
    } catch (std::bad_alloc const&) {
        std::fputs("wsmqtt: error: out of memory\n", stderr);
        return wsmqtt::to_int(wsmqtt::exit_code::internal);
    } catch (std::exception const& e) {
        // Nothing below main lets an exception out on purpose: this is a bug, not the network.
        std::fprintf(stderr, "wsmqtt: error: internal error: %s\n", e.what());
        return wsmqtt::to_int(wsmqtt::exit_code::internal);
    }
}

// Between the CLI11 parse (cli.cpp) and the config: the raw option values, and their
// validation (cli_validate.cpp, which needs no CLI11). Private to the two.
#pragma once

#include "wsmqtt/config.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace wsmqtt::cli_detail {

/// What the options hold before validation turns them into a config.
struct raw_options {
    std::string host = "localhost";
    std::optional<std::uint16_t> port;
    std::string url;
    std::vector<std::string> topics;
    int qos = 0;
    std::string client_id;
    std::string client_id_prefix;
    std::optional<std::string> username;
    std::optional<std::string> password;
    int keepalive = 60;
    bool tls = false;
    bool tcp = false;
    std::string cafile;
    std::string capath;
    std::string cert;
    std::string key;
    std::string key_password_file;
    std::string tls_version;
    std::string ciphers;
    std::vector<std::string> alpn;
    std::string tls_keylog;
    bool insecure = false;
    std::vector<std::string> headers;
    std::string origin;
    std::string user_agent;
    std::string subprotocol;
    bool compress = false;
    std::optional<std::string> proxy;
    bool no_proxy = false;
    std::string password_file;
    std::optional<std::string> ws_path;
    std::string protocol_version = "mqttv311";
    bool no_clean = false;
    double connect_timeout = 10;
    std::string max_packet_size;
    bool no_reconnect = false;
    bool retry_first = false;
    double reconnect_max = 30;
    std::string options_file;
    std::optional<std::string> will_topic;
    std::optional<std::string> will_payload;
    int will_qos = 0;
    bool will_retain = false;
    bool debug = false;
    bool quiet = false;
    // sub
    int count = 0;
    int timeout = 0;
    std::optional<std::string> format;
    bool json = false;
    bool verbose = false;
    bool no_newline = false;
    std::vector<std::string> hidden;
    std::vector<std::string> unsubscribe;
    bool exit_after_subscribe = false;
    bool retained_only = false;
    bool remove_retained = false;
    bool skip_retained = false;
    bool rate = false;
    // pub
    std::optional<std::string> message;
    std::optional<std::string> file;
    bool null_message = false;
    bool stdin_message = false;
    bool stdin_lines = false;
    std::optional<bool> progress;
    std::optional<std::string> topic_separator;
    bool retain = false;
    int repeat = 1;
    double repeat_delay = 0;
    int max_inflight = 20;
};

class usage_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The config the raw options describe; throws usage_error, naming the option, when they
/// cannot be one.
[[nodiscard]] config validate(raw_options const& o, command cmd);

} // namespace wsmqtt::cli_detail

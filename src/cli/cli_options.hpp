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

/// wsmqtt bench's own options, as given (emqtt-bench's names).
struct raw_bench {
    std::string mode;                 ///< conn, pub, sub or merge
    std::vector<std::string> files;   ///< merge's files
    std::optional<std::string> clients;
    std::optional<std::string> connect_rate;
    std::optional<std::string> connect_interval;
    std::optional<std::string> size;
    std::optional<std::string> interval;
    std::optional<std::string> rate;
    std::optional<std::string> limit;
    std::optional<std::string> duration;
    std::optional<std::string> inflight;
    std::optional<std::string> start_number;
    std::optional<std::string> prefix;
    std::optional<std::string> shard;
    std::optional<std::string> start_at;
    std::string json;
    std::string summary_json;
    std::string hgrm;
    std::vector<std::string> bind;
    std::optional<std::string> processes;
};

/// What the options hold before validation turns them into a config. Numbers are kept as
/// text: validation says what a number must be, in words (CLI11 would say "Could not convert").
struct raw_options {
    std::string host = "localhost";
    std::optional<std::string> port;
    std::string url;
    std::vector<std::string> topics;
    std::optional<std::string> qos;
    std::string client_id;
    std::string client_id_prefix;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::optional<std::string> keepalive;
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
    std::optional<std::string> protocol_version;
    // MQTT 5
    std::vector<std::vector<std::string>> properties; ///< -D COMMAND PROPERTY VALUE (user-property: KEY VALUE)
    std::vector<std::string> property_help;           ///< never filled: -D is taken out before CLI11 (for --help)
    std::optional<std::string> session_expiry;        ///< -x
    std::optional<std::string> auth_method;
    std::optional<std::string> auth_data;
    std::vector<std::string> user_properties;         ///< KEY=VALUE
    std::optional<std::string> content_type;
    std::optional<std::string> response_topic;        ///< pub --response-topic, rr -e
    std::optional<std::string> correlation_data;
    std::optional<std::string> message_expiry;
    std::optional<std::string> payload_format;
    std::optional<std::string> topic_alias;
    std::optional<std::string> subscription_id;
    bool no_local = false;
    bool retain_as_published = false;
    std::optional<std::string> retain_handling;
    bool no_clean = false;
    std::optional<std::string> connect_timeout;
    std::string max_packet_size;
    bool no_reconnect = false;
    bool retry_first = false;
    std::optional<std::string> reconnect_max;
    std::string options_file;
    std::optional<std::string> will_topic;
    std::optional<std::string> will_payload;
    std::optional<std::string> will_qos;
    bool will_retain = false;
    bool debug = false;
    bool quiet = false;
    // sub
    std::optional<std::string> count;
    std::optional<std::string> timeout;
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
    std::optional<std::string> repeat;
    std::optional<std::string> repeat_delay;
    std::optional<std::string> max_inflight;
    std::optional<std::string> pace;
    std::optional<std::string> speed;
    std::optional<std::string> max_rate;
    raw_bench bench;
};

/// `text` as a number, decimals allowed; nullopt if it is not one, whole.
[[nodiscard]] std::optional<double> decimal(std::string const& text);
/// A number of seconds, decimals allowed: from `min` (above it when `above`) to `max`;
/// `fallback` when the option was not given.
[[nodiscard]] double seconds(std::optional<std::string> const& text, double fallback, std::string_view option, double min, bool above, double max);
/// A number above 0, decimals allowed; `fallback` when the option was not given.
[[nodiscard]] double positive_number(std::optional<std::string> const& text, double fallback, std::string_view option);

class option_adder;
/// wsmqtt bench's options (cli_bench.cpp).
void add_bench_options(option_adder& app, raw_options& o);
/// wsmqtt bench's options into c.bench; the connection options are validated as for the others.
void validate_bench(raw_options const& o, config& c);

class usage_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// `text` as a whole number from `min` to `max`, or a usage error that names `option` (and
/// `of`: " of seconds").
[[nodiscard]] std::int64_t whole_number(std::string const& text, std::string_view option, std::int64_t min, std::int64_t max,
                                        std::string_view of = "");

/// The MQTT 5 options (-D, -x and the named flags) into c.v5 and the will, choosing MQTT 5 when
/// -V does not say: after the session options are in `c`.
void validate_mqtt5(raw_options const& o, config& c);

/// The config the raw options describe; throws usage_error, naming the option, when they
/// cannot be one.
[[nodiscard]] config validate(raw_options const& o, command cmd);

/// The name of a command, as typed: "sub", "pub", "rr".
[[nodiscard]] char const* command_name(command cmd) noexcept;

} // namespace wsmqtt::cli_detail

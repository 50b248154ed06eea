// Everything a run needs, filled once by the command line and read by the rest: plain data.
#pragma once

#include "wsmqtt/mqtt/packet.hpp"
#include "wsmqtt/net/endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wsmqtt {

enum class command { sub, pub, rr, bench };

/// MQTT 5 (-V 5): the properties of each packet we send, from -D and the named flags (-x,
/// --user-property, --content-type…), and the options of each subscription. Empty with 3.1.1.
/// The Will Properties are in config::will.
struct mqtt5_options {
    mqtt::properties connect;
    mqtt::properties publish;
    mqtt::properties subscribe;
    mqtt::properties unsubscribe;
    mqtt::properties disconnect;
    bool no_local = false;            ///< --no-local: not our own messages back [MQTT-3.8.3-3]
    bool retain_as_published = false; ///< --retain-as-published
    std::uint8_t retain_handling = 0; ///< --retain-handling: 0 always, 1 new subscriptions only, 2 never
};

/// Where the message of -m, -f, -s or -n comes from. The parser only names it; the run reads it
/// (read_payload), so that the config stays as parsed.
struct payload_source {
    enum class kind { text, file, standard_input } from = kind::text;
    std::string text; ///< -m's text (empty for -n), or -f's path
};

/// wsmqtt bench (a load generator): emqtt-bench's flags. Totals (-c, -L, -R, --rate) are for
/// the whole run, across shards; each shard takes its slice.
struct bench_options {
    enum class mode { conn, pub, sub, merge } what = mode::conn;
    std::uint64_t clients = 1;                      ///< -c, across all shards
    double connect_rate = 1000;                     ///< -R: connections a second, across shards (-i sets it too)
    std::string topic;                              ///< -t: %i the client number, %c its client id
    std::size_t size = 256;                         ///< -s: payload bytes (at least the 23-byte header)
    std::chrono::microseconds interval{std::chrono::seconds{1}}; ///< -I, or --rate's share: per client, between messages
    std::uint64_t limit = 0;                        ///< -L: messages in all (pub: sent; sub: received), 0: no limit
    std::chrono::milliseconds duration{0};          ///< --duration, 0: until -L or a signal
    std::size_t inflight = 10;                      ///< --inflight: QoS 1/2 messages per client awaiting acknowledgement
    std::uint64_t start_number = 1;                 ///< -n: the first client's number
    std::string prefix;                             ///< --prefix: client ids are <prefix><number>
    std::uint32_t shard = 0;                        ///< --shard I/N, or from the engine's environment
    std::uint32_t shards = 1;
    std::string shard_source;                       ///< where the shard came from (said at the start)
    std::optional<std::int64_t> start_at_ns;        ///< --start-at: Unix ns; connections first, then messages from then
    std::string json_file;                          ///< --json FILE: JSON Lines, a record a second (%s: the shard)
    std::string summary_json_file;                  ///< --summary-json FILE (%s: the shard)
    std::string hgrm_prefix;                        ///< --hgrm PREFIX: PREFIX<figure>.hgrm per figure
    std::vector<std::string> bind;                  ///< --bind: local addresses, round-robin
    std::vector<std::string> files;                 ///< merge: the shards' JSON Lines
    bool progress_line = false;                     ///< the per-second line rewrites itself (a terminal)
    unsigned processes = 1;                         ///< --processes: shards forked on this machine, merged live
    bool child = false;                             ///< a shard forked by --processes: no lines a second, no table
};

struct config {
    wsmqtt::command command = command::sub;
    wsmqtt::endpoint endpoint;
    tls_options tls;
    websocket_options ws;
    std::optional<wsmqtt::proxy> proxy; ///< from --proxy or the environment; none when direct

    // Session
    std::string client_id;          ///< never empty after parsing
    bool clean_session = true;
    std::uint16_t keepalive = 60;   ///< seconds, 0 = off
    std::optional<std::string> username;
    std::optional<std::string> password;
    mqtt::protocol_version version = mqtt::protocol_version::v311;
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    std::size_t max_packet_size = 256u * 1024u * 1024u + 5u; ///< larger packets from the broker end the connection
    bool no_reconnect = false;      ///< sub and pub -l: exit when a connection is lost
    bool retry_first = false;       ///< keep trying when the first connection fails
    std::chrono::milliseconds reconnect_max{std::chrono::seconds{30}}; ///< longest wait between attempts

    std::optional<mqtt::will> will;  ///< --will-topic, --will-payload, --will-qos, --will-retain; -D will …
    mqtt5_options v5;                ///< MQTT 5 properties and subscription options

    // sub
    std::vector<std::string> topics; ///< filters for sub; at most one name for pub; rr: the response topic
    std::string request_topic;       ///< rr: where the request goes (its Response Topic and Correlation Data in v5.publish)
    mqtt::qos qos = mqtt::qos::at_most_once;
    std::size_t count = 0;           ///< -C: stop after this many messages, 0 = never
    std::chrono::seconds timeout{0}; ///< -W: give up after this long, 0 = never
    std::string format;              ///< output format (mosquitto -F language)
    bool no_newline = false;         ///< -N
    std::vector<std::string> hidden_topics;      ///< -T: filters whose messages are not printed
    std::vector<std::string> unsubscribe_topics; ///< -U: filters to unsubscribe from
    bool exit_after_subscribe = false;           ///< -E
    bool retained_only = false;                  ///< --retained-only
    bool remove_retained = false;                ///< --remove-retained
    bool skip_retained = false;                  ///< -R
    bool rate = false;                           ///< --rate

    // pub
    payload_source payload;          ///< -m, -f, -s, -n (pub and rr)
    bool line_mode = false;          ///< -l: one message per line of stdin (and --json)
    bool json_input = false;         ///< --json: each line is an object as `sub --json` writes it
    bool qos_given = false;          ///< -q was given: with --json it wins over the lines' "qos"
    bool pace_recorded = false;      ///< --pace recorded: the lines' "tst" spacing, divided by `speed`
    double speed = 1;                ///< --speed
    double max_rate = 0;             ///< --rate N: at most N messages a second; 0: as fast as the broker takes them
    std::optional<std::string> topic_separator; ///< with -l: "topic<SEP>payload" lines
    bool retain = false;
    std::size_t repeat = 1;          ///< --repeat
    std::chrono::milliseconds repeat_delay{0};
    std::size_t max_inflight = 20;   ///< -M: QoS 1/2 messages awaiting acknowledgement
    /// --progress / --no-progress; unset: shown when stderr is a terminal and the size of the
    /// input is known (-f, -s or -l from a regular file).
    std::optional<bool> progress;

    bench_options bench;             ///< wsmqtt bench
    // Diagnostics
    bool debug = false; ///< -d: one line per packet on stderr
    bool quiet = false; ///< --quiet: no error output
};


} // namespace wsmqtt

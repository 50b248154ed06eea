// The command line of MQTT 5, rr and pub --json, and the refusals mosquitto makes: argv in,
// config or usage error out.
#include "cli_support.hpp"

using namespace cli_support;

TEST_CASE("MQTT 5: -V 5 and its spellings, 3.1.1 stays the default", "[cli][mqtt5]")
{
    for (auto const* v : {"5", "mqttv5"}) CHECK(parsed({"sub", "-t", "a", "-V", v}).version == mqtt::protocol_version::v5);
    CHECK(parsed({"sub", "-t", "a", "-V", "311"}).version == mqtt::protocol_version::v311);
    CHECK(parsed({"sub", "-t", "a"}).version == mqtt::protocol_version::v311);
    CHECK(parsed({"sub", "-t", "a", "-V", "5"}).v5.connect.empty()); // nothing asked, nothing sent
    CHECK(usage_error_of({"sub", "-t", "a", "-V", "6"}) ==
          "--protocol-version must be mqttv5, mqttv311 or mqttv31 (or 5, 311, 31), not '6'");
}

TEST_CASE("MQTT 5: the named flags are -D in other words, user properties keep their order", "[cli][mqtt5]")
{
    using id = mqtt::property_id;
    auto const c = parsed({"pub", "-t", "a", "-m", "x", "--user-property", "b=2", "--content-type", "text/plain", "--user-property",
                           "a=1=one", "--response-topic", "r/x", "--correlation-data", "hex:00ff", "--message-expiry", "60",
                           "--payload-format", "utf8", "--topic-alias", "3", "-D", "publish", "user-property", "b", "-dash-"});
    CHECK(c.version == mqtt::protocol_version::v5); // chosen by the flags: -V is not needed
    CHECK(c.v5.publish == mqtt::properties{user("b", "2"), user("a", "1=one"), text(id::content_type, "text/plain"),
                                           text(id::response_topic, "r/x"), text(id::correlation_data, std::string{"\0\xff", 2}),
                                           number(id::message_expiry_interval, 60), number(id::payload_format_indicator, 1),
                                           number(id::topic_alias, 3), user("b", "-dash-")});
    auto const s = parsed({"sub", "-t", "a", "--subscription-id", "7", "--user-property", "k=v", "--no-local", "--retain-as-published",
                           "--retain-handling", "never", "-D", "unsubscribe", "user-property", "u", "v"});
    CHECK(s.v5.subscribe == mqtt::properties{user("k", "v"), number(id::subscription_identifier, 7)});
    CHECK(s.v5.unsubscribe == mqtt::properties{user("u", "v")});
    CHECK(s.v5.no_local);
    CHECK(s.v5.retain_as_published);
    CHECK(s.v5.retain_handling == 2);
    CHECK(parsed({"pub", "-t", "a", "-m", "x", "--correlation-data", "base64:AP8="}).v5.publish ==
          mqtt::properties{text(id::correlation_data, std::string{"\0\xff", 2})});
}

TEST_CASE("MQTT 5: sessions: -c lasts for ever unless -x says, -x needs -i, -C below 20 is the Receive Maximum", "[cli][mqtt5]")
{
    using id = mqtt::property_id;
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-c", "-i", "me"}).v5.connect ==
          mqtt::properties{number(id::session_expiry_interval, UINT32_MAX)});
    CHECK(parsed({"sub", "-t", "a", "-c", "-i", "me", "-x", "300"}).v5.connect == mqtt::properties{number(id::session_expiry_interval, 300)});
    CHECK(parsed({"sub", "-t", "a", "-i", "me", "-x", "never"}).v5.connect ==
          mqtt::properties{number(id::session_expiry_interval, UINT32_MAX)});
    CHECK(usage_error_of({"sub", "-t", "a", "-x", "60"}) == "-x keeps the session for its client id: give one with -i, to find the session again");
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-C", "3"}).v5.connect == mqtt::properties{number(id::receive_maximum, 3)});
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-C", "3", "-D", "connect", "receive-maximum", "9"}).v5.connect ==
          mqtt::properties{number(id::receive_maximum, 9)});
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-C", "30"}).v5.connect.empty());
    auto const limited = parsed({"sub", "-t", "a", "-V", "5", "--max-packet-size", "64K"});
    CHECK(limited.v5.connect == mqtt::properties{number(id::maximum_packet_size, 65536)}); // told to the broker [MQTT-3.1.2-24]
    CHECK(parsed({"sub", "-t", "a", "-D", "connect", "maximum-packet-size", "1000"}).max_packet_size == 1000);
    CHECK(usage_error_of({"sub", "-t", "a", "-i", "me", "-D", "disconnect", "session-expiry-interval", "60"}) ==
          "-D disconnect session-expiry-interval: a session that expires at the disconnect (no -x, no -c) cannot be kept by the DISCONNECT");
}

TEST_CASE("MQTT 5: -D takes exactly what a client may send, and says why not", "[cli][mqtt5]")
{
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect"}) ==
          "-D needs COMMAND PROPERTY VALUE, e.g. -D publish content-type text/plain (user-property takes KEY VALUE)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "publish", "user-property", "k"}) ==
          "-D needs COMMAND PROPERTY VALUE, e.g. -D publish content-type text/plain (user-property takes KEY VALUE)");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connack", "user-property", "k", "v"}) ==
          "-D: wsmqtt sends no 'connack' with properties: the commands are connect, publish, subscribe, unsubscribe, disconnect and will");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "publish", "content-type", "x"}) == "-D publish content-type: wsmqtt sub sends no PUBLISH");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "publish", "subscription-identifier", "1"}) ==
          "-D publish subscription-identifier: subscription-identifier goes with subscribe, not publish"); // [MQTT-3.3.4-6]
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "disconnect", "server-reference", "x"}) ==
          "-D disconnect server-reference: only a broker sends server-reference");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "will", "reason-string", "x", "--will-topic", "w"}) ==
          "-D will reason-string: reason-string goes with disconnect, not will");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "will", "content-type", "x"}) == "-D will content-type: there is no will: give --will-topic");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "subscribe", "retain-handling", "2"}) ==
          "-D: retain-handling is a subscription option, not a property: use --retain-handling");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect", "colour", "2"}) ==
          "-D: unknown property 'colour' (the names are MQTT 5's, e.g. content-type, user-property)");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect", "receive-maximum", "0"}) ==
          "-D connect receive-maximum must be a whole number from 1 to 65535, not '0'");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect", "receive-maximum", "5", "-D", "connect", "receive-maximum", "6"}) ==
          "-D connect receive-maximum is given twice (receive-maximum may appear once in a CONNECT)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--response-topic", "r/#"}) ==
          "--response-topic must be a topic name without wildcards, not 'r/#'");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--correlation-data", "hex:0g"}) ==
          "--correlation-data: 'hex:0g' is not hex, two digits a byte, after 'hex:'");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--correlation-data", "base64:A=B="}) ==
          "--correlation-data: 'base64:A=B=' is not base64 after 'base64:'");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--user-property", "novalue"}) ==
          "--user-property must be KEY=VALUE, not 'novalue' (for a key with '=' use -D publish user-property KEY VALUE)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--payload-format", "json"}) ==
          "--payload-format must be utf8 (1) or unspecified (0), not 'json'");
    CHECK(usage_error_of({"sub", "-t", "a", "--retain-handling", "sometimes"}) == "--retain-handling must be always, new or never, not 'sometimes'");
    CHECK(usage_error_of({"sub", "-t", "$share/g/a", "--no-local"}) == "--no-local cannot go with a shared subscription ('$share/g/a')");
    CHECK(usage_error_of({"sub", "-t", "a", "-V", "311", "--no-local"}) == "--no-local needs MQTT 5: leave -V out or give -V 5");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-V", "mqttv311", "-D", "publish", "content-type", "t"}) ==
          "-D publish content-type needs MQTT 5: leave -V out or give -V 5");
}

TEST_CASE("MQTT 5: -D in an options file, the last value keeping its spaces", "[cli][mqtt5]")
{
    temp_file const file{"opts", "-t a\n-D publish user-property greeting hello world\n-D publish content-type text/plain\n-m x\n"};
    auto const c = parsed({"pub", "-o", file.path().c_str()});
    CHECK(c.v5.publish == mqtt::properties{user("greeting", "hello world"), text(mqtt::property_id::content_type, "text/plain")});
}

TEST_CASE("rr: MQTT 5, one answer printed as its payload, on a topic of its own, matched by fresh Correlation Data", "[cli][mqtt5]")
{
    using id = mqtt::property_id;
    auto const c = parsed({"rr", "-t", "svc/time", "-m", "now", "-i", "me"});
    CHECK(c.command == command::rr);
    CHECK(c.version == mqtt::protocol_version::v5);
    CHECK(c.request_topic == "svc/time");
    CHECK(c.topics == std::vector<std::string>{"wsmqtt/rr/me"});
    CHECK(c.count == 1);
    CHECK(c.format == "%p");
    CHECK(c.v5.retain_handling == 2); // a stale retained message is no answer
    CHECK(c.v5.no_local);             // nor our own request, when both topics are one
    REQUIRE(mqtt::find(c.v5.publish, id::response_topic));
    CHECK(mqtt::find(c.v5.publish, id::response_topic)->value == "wsmqtt/rr/me");
    REQUIRE(mqtt::find(c.v5.publish, id::correlation_data));
    auto const first = mqtt::find(c.v5.publish, id::correlation_data)->value;
    CHECK(first.size() == 16);
    auto const again = parsed({"rr", "-t", "svc/time", "-m", "now", "-i", "me"});
    CHECK(mqtt::find(again.v5.publish, id::correlation_data)->value != first);

    auto const chosen = parsed({"rr", "-t", "q", "-e", "answers/1", "-n", "-C", "3", "--json", "--correlation-data", "abc",
                                "--retain-handling", "always"});
    CHECK(chosen.topics == std::vector<std::string>{"answers/1"});
    CHECK(mqtt::find(chosen.v5.publish, id::correlation_data)->value == "abc");
    CHECK(chosen.count == 3);
    CHECK(chosen.v5.retain_handling == 0);
    CHECK(usage_error_of({"rr", "-m", "x"}) == "give the request topic with -t");
    CHECK(usage_error_of({"rr", "-t", "q"}) == "give the message with -m, -f, -s or -n");
    CHECK(usage_error_of({"rr", "-t", "q", "-m", "x", "-e", "a/+"}) == "--response-topic must be a topic name without wildcards, not 'a/+'");
    CHECK(usage_error_of({"rr", "-t", "q", "-m", "x", "--stdin-line"}) ==
          "unknown option '--stdin-line' for wsmqtt rr (did you mean '--stdin-file'?) (see wsmqtt rr --help)");
    CHECK(usage_error_of({"rr", "-t", "q", "-m", "x", "-i", "a+b"}) ==
          "the response topic 'wsmqtt/rr/a+b' (made of -i) is not a topic name: give one with -e");
    CHECK(usage_error_of({"rx"}) == "unknown command 'rx' (did you mean 'rr'?): the commands are sub, pub, rr and bench (see wsmqtt --help)");
}

TEST_CASE("pub --json: lines from standard input, -t/-q/-r as fallbacks (-q forces), --pace recorded, --rate", "[cli]")
{
    auto const c = parsed({"pub", "--json"});
    CHECK(c.json_input);
    CHECK(c.line_mode); // read as -l reads: as lines arrive, within the window
    CHECK(c.topics.empty());
    CHECK_FALSE(c.qos_given);
    auto const forced = parsed({"pub", "--json", "-q", "1", "-t", "fallback", "--pace", "recorded", "--speed", "10", "--rate", "500"});
    CHECK(forced.qos_given);
    CHECK(forced.topics == std::vector<std::string>{"fallback"});
    CHECK(forced.pace_recorded);
    CHECK(forced.speed == 10);
    CHECK(forced.max_rate == 500);
    CHECK(parsed({"pub", "-t", "a", "-l", "--rate", "2.5"}).max_rate == 2.5);
    CHECK(usage_error_of({"pub", "--json", "-m", "x"}) == "--json reads the messages from standard input: no -m, -f, -s or -n");
    CHECK(usage_error_of({"pub", "--json", "--topic-separator", " "}) ==
          "--json and --topic-separator exclude each other: the lines name their topics");
    CHECK(usage_error_of({"pub", "--json", "--pace", "live"}) == "--pace must be 'recorded', not 'live'");
    CHECK(usage_error_of({"pub", "-t", "a", "-l", "--pace", "recorded"}) == "--pace recorded needs --json: the times are the lines' tst");
    CHECK(usage_error_of({"pub", "--json", "--speed", "2"}) == "--speed needs --pace recorded");
    CHECK(usage_error_of({"pub", "--json", "--rate", "0"}) == "--rate must be a number above 0 (e.g. 10 or 0.5), not '0'");
}

TEST_CASE("options file lines are split as a shell splits them, and a missing value names its option", "[cli]")
{
    // Defect: `-D publish user-property "a b" c` sent the key "a; a value missing at the end of
    // the file said "unexpected argument 'opt2.conf'".
    temp_file const quoted{"opts", "-t 'a b'\n-D publish user-property \"a b\" c\n-V 5\n-m \"say \\\"hi\\\"\"\n"};
    auto const c = parsed({"pub", "-o", quoted.path().c_str()});
    CHECK(c.topics == std::vector<std::string>{"a b"});
    REQUIRE(c.v5.publish.size() == 1);
    CHECK(c.v5.publish[0].value == "a b");
    CHECK(c.v5.publish[0].pair_value == "c");
    CHECK(c.payload.text == "say \"hi\"");
    temp_file const no_value{"opts", "-t\n"};
    CHECK(usage_error_of({"pub", "-m", "x", "-o", no_value.path().c_str()}) == "-t needs a value (" + no_value.path() + " line 1)");
    temp_file const short_property{"opts", "-D publish user-property a\n"};
    CHECK(usage_error_of({"pub", "-t", "t", "-m", "x", "-o", short_property.path().c_str()}) ==
          short_property.path() + " line 1: -D needs COMMAND PROPERTY VALUE (user-property: KEY VALUE), 3 words given");
    temp_file const open_quote{"opts", "-t \"a b\n"};
    CHECK(usage_error_of({"pub", "-m", "x", "-o", open_quote.path().c_str()}) == open_quote.path() + " line 1: a double quote is not closed");
}

TEST_CASE("what mosquitto_pub and mosquitto_sub refuse is refused: a second -m or -V, and options that cannot go together", "[cli]")
{
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-m", "y"}) == "-m given 2 times: give it once");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-V", "5", "-V", "311"}) == "-V given 2 times: give it once");
    CHECK(usage_error_of({"pub", "-t", "a", "--json", "-l"}) == "--json and -l exclude each other: --json reads a message a line already");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--rate", "5"}) ==
          "--rate paces -l and --json; for -m, -f, -s or -n give --repeat with --repeat-delay");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--repeat-delay", "1"}) ==
          "--repeat-delay needs --repeat: it is the time between repeated messages");
    CHECK(usage_error_of({"sub", "-t", "a", "-C", "1", "-E"}) == "-C and -E exclude each other: -E exits once subscribed, before any message");
    // The options file may give -m once more: the command line wins over it, as before.
    temp_file const f{"opts", "-m from-file\n"};
    CHECK(parsed({"pub", "-t", "a", "-o", f.path().c_str(), "-m", "cli"}).payload.text == "cli");
    CHECK(parsed({"pub", "-t", "a", "-l", "--rate", "5"}).max_rate == 5);
}

TEST_CASE("an invalid shared subscription is refused before connecting", "[cli]")
{
    CHECK(usage_error_of({"sub", "-t", "$share/g"}) ==
          "invalid shared subscription '$share/g': it is $share/NAME/FILTER, a name without / + #, then a filter");
    CHECK(parsed({"sub", "-t", "$share/g/a/#"}).topics == std::vector<std::string>{"$share/g/a/#"});
}

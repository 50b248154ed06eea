// wsmqtt bench's command line: emqtt-bench's flags, totals across shards, the shard from the
// engine's environment, and a usage error for each bad value.
#include "cli_support.hpp"

using namespace cli_support;

TEST_CASE("bench pub: emqtt-bench's flags into the config", "[cli][bench]")
{
    auto const c = parsed({"bench", "pub", "-h", "127.0.0.1", "-p", "8080", "-c", "100", "-R", "50", "-t", "bench/%i", "-q", "1", "-s", "64",
                           "-I", "20", "-L", "5000", "--duration", "30", "--inflight", "4", "-n", "7", "--prefix", "load-"});
    CHECK(c.command == command::bench);
    CHECK(c.bench.what == bench_options::mode::pub);
    CHECK(c.endpoint.host == "127.0.0.1");
    CHECK(c.endpoint.port == 8080);
    CHECK(c.bench.clients == 100);
    CHECK(c.bench.connect_rate == 50);
    CHECK(c.topics == std::vector<std::string>{"bench/%i"});
    CHECK(c.qos == mqtt::qos::at_least_once);
    CHECK(c.bench.size == 64);
    CHECK(c.bench.interval == std::chrono::milliseconds{20});
    CHECK(c.bench.limit == 5000);
    CHECK(c.bench.duration == std::chrono::seconds{30});
    CHECK(c.bench.inflight == 4);
    CHECK(c.bench.start_number == 7);
    CHECK(c.bench.prefix == "load-");
    CHECK(c.bench.shard == 0);
    CHECK(c.bench.shards == 1);
    CHECK(c.bench.processes == 1);
    CHECK(parsed({"bench", "conn", "--processes", "2"}).bench.processes == 2);
    // emqtt-bench's protocol numbers: 3 is MQTT 3.1, 4 is 3.1.1, 5 is 5.
    CHECK(parsed({"bench", "conn", "-V", "3"}).version == mqtt::protocol_version::v31);
    CHECK(parsed({"bench", "conn", "-V", "4"}).version == mqtt::protocol_version::v311);
    CHECK(parsed({"bench", "conn", "-V", "5"}).version == mqtt::protocol_version::v5);
}

TEST_CASE("bench: --rate is the total, each publisher gets its share, and -i is -R in milliseconds", "[cli][bench]")
{
    auto const c = parsed({"bench", "pub", "-t", "t", "-c", "100", "--rate", "10000", "-i", "4"});
    CHECK(c.bench.interval == std::chrono::milliseconds{10}); // 100 clients at 100 msg/s each
    CHECK(c.bench.connect_rate == 250);
    auto const d = parsed({"bench", "conn", "-c", "3"});
    CHECK(d.bench.what == bench_options::mode::conn);
    CHECK(d.bench.connect_rate == 1000);
    CHECK(d.bench.prefix.starts_with("wsmqtt-"));
    CHECK(d.bench.prefix.ends_with("-conn-"));
}

TEST_CASE("bench: --shard I/N, and --shard auto from Slurm, Open MPI and Kubernetes", "[cli][bench]")
{
    auto const c = parsed({"bench", "sub", "-t", "#", "--shard", "2/4", "--json", "out-%s.jsonl"});
    CHECK(c.bench.shard == 2);
    CHECK(c.bench.shards == 4);
    CHECK(c.bench.json_file == "out-%s.jsonl");
    {
        scoped_env step{"SLURM_STEP_ID", "0"};
        scoped_env id{"SLURM_PROCID", "3"};
        scoped_env n{"SLURM_NTASKS", "4"};
        auto const s = parsed({"bench", "sub", "-t", "#", "--shard", "auto"});
        CHECK(s.bench.shard == 3);
        CHECK(s.bench.shards == 4);
        scoped_env rank{"OMPI_COMM_WORLD_RANK", "1"}; // Open MPI comes first
        scoped_env size{"OMPI_COMM_WORLD_SIZE", "2"};
        auto const m = parsed({"bench", "sub", "-t", "#", "--shard", "auto"});
        CHECK(m.bench.shard == 1);
        CHECK(m.bench.shards == 2);
    }
    scoped_env index{"JOB_COMPLETION_INDEX", "5"};
    scoped_env count{"WSMQTT_SHARD_COUNT", "6"};
    auto const k = parsed({"bench", "conn", "--shard", "auto"});
    CHECK(k.bench.shard == 5);
    CHECK(k.bench.shards == 6);
    CHECK(k.bench.shard_source == "JOB_COMPLETION_INDEX/WSMQTT_SHARD_COUNT");
}

TEST_CASE("bench merge takes files, --start-at Unix seconds or RFC 3339, --bind addresses", "[cli][bench]")
{
    auto const m = parsed({"bench", "merge", "a.jsonl", "b.jsonl", "--summary-json", "s.json"});
    CHECK(m.bench.what == bench_options::mode::merge);
    CHECK(m.bench.files == std::vector<std::string>{"a.jsonl", "b.jsonl"});
    CHECK(m.bench.summary_json_file == "s.json");
    auto const s = parsed({"bench", "pub", "-t", "t", "--start-at", "1765000000.5", "--bind", "127.0.0.2,127.0.0.3", "--bind", "::1"});
    CHECK(s.bench.start_at_ns == 1'765'000'000'500'000'000);
    CHECK(s.bench.bind == std::vector<std::string>{"127.0.0.2", "127.0.0.3", "::1"});
    auto const r = parsed({"bench", "pub", "-t", "t", "--start-at", "2025-12-06T06:13:20Z"});
    CHECK(r.bench.start_at_ns == 1'765'001'600'000'000'000);
}

TEST_CASE("bench: each bad value is a usage error that names it", "[cli][bench]")
{
    CHECK(usage_error_of({"bench"}).find("conn, pub, sub or merge") != std::string::npos);
    CHECK(usage_error_of({"bench", "flood"}).find("unknown bench mode 'flood'") != std::string::npos);
    CHECK(usage_error_of({"bench", "pub"}).find("-t") != std::string::npos);
    CHECK(usage_error_of({"bench", "pub", "-t", "a/#"}).find("invalid topic") != std::string::npos);
    CHECK(usage_error_of({"bench", "sub", "-t", "a/#/b"}).find("invalid topic filter") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "-t", "a"}).find("-t is for pub and sub") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "-c", "0"}).find("-c") != std::string::npos);
    CHECK(usage_error_of({"bench", "pub", "-t", "t", "-s", "10"}).find("-s") != std::string::npos);
    CHECK(usage_error_of({"bench", "pub", "-t", "t", "-I", "5", "--rate", "9"}).find("give one") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "-R", "5", "-i", "9"}).find("give one") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "--shard", "4/4"}).find("shard index 4 is not below the shard count 4") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "--shard", "x"}).find("I/N") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "--start-at", "soon"}).find("--start-at") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "--bind", "127.0.0.2,nowhere"}).find("'nowhere'") != std::string::npos);
    CHECK(usage_error_of({"bench", "merge"}).find("files") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "extra.jsonl"}).find("only bench merge takes files") != std::string::npos);
    CHECK(usage_error_of({"bench", "pub", "-t", "t", "--inflight", "0"}).find("--inflight") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "--processes", "0"}).find("--processes") != std::string::npos);
    CHECK(usage_error_of({"bench", "conn", "--nonsense"}).find("unknown option '--nonsense'") != std::string::npos);
}

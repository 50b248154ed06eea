// wsmqtt bench's message header, its sequence accounting, and its reports: JSON Lines that
// round-trip and merge exactly, and the summary's figures.
#include <catch2/catch.hpp>

#include "wsmqtt/bench/payload.hpp"
#include "wsmqtt/bench/report.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace wsmqtt::bench;

namespace {

std::span<std::uint8_t const> bytes_of(std::string const& s) { return {reinterpret_cast<std::uint8_t const*>(s.data()), s.size()}; }

interval second_of(std::int64_t time, std::uint32_t shard, std::vector<std::uint64_t> const& e2e, std::uint64_t received)
{
    histogram h;
    for (auto v : e2e) h.record(v);
    interval r;
    r.time = time;
    r.shard = shard;
    r.shards = 2;
    r.qos = 1;
    r.connections = 3;
    r.delta.received = received;
    r.delta.bytes_in = received * 100;
    r.latency[static_cast<unsigned>(figure::e2e)] = sparse_histogram::of(h);
    return r;
}

} // namespace

TEST_CASE("bench payload: the header round-trips at the front of a payload of the size asked", "[bench]")
{
    header const h{4'000'000'000u, 123'456'789'012ull, 1'765'000'000'123'456'789ll};
    auto p = make_payload(h, 256);
    CHECK(p.size() == 256);
    CHECK(read_header(bytes_of(p)) == h);
    CHECK(make_payload(h, 3).size() == header_size); // never shorter than the header
    header const later{7, 8, -9};
    stamp(p, later);
    CHECK(read_header(bytes_of(p)) == later);
    CHECK_FALSE(read_header(bytes_of("hello, not a bench message at all")));
    CHECK_FALSE(read_header(bytes_of(p.substr(0, header_size - 1))));
}

TEST_CASE("bench sequence tracker: gaps are lost until they come late, repeats are duplicates", "[bench]")
{
    sequence_tracker t;
    using v = sequence_tracker::verdict;
    CHECK(t.take(1, 0) == v::in_order);
    CHECK(t.take(1, 1) == v::in_order);
    CHECK(t.take(1, 5) == v::gap); // 2, 3, 4 missing
    CHECK(t.lost() == 3);
    CHECK(t.take(1, 3) == v::late);
    CHECK(t.lost() == 2);
    CHECK(t.out_of_order() == 1);
    CHECK(t.take(1, 3) == v::duplicate);
    CHECK(t.take(1, 5) == v::duplicate);
    CHECK(t.take(1, 2) == v::late);
    CHECK(t.take(1, 4) == v::late);
    CHECK(t.lost() == 0);
    CHECK(t.duplicated() == 2);
    // Publishers are counted apart: publisher 2 starts at 0 whatever publisher 1 did.
    CHECK(t.take(2, 0) == v::in_order);
    CHECK(t.take(2, 2) == v::gap);
    CHECK(t.lost() == 1);
}

TEST_CASE("bench sequence tracker: a shuffled stream with repeats counts exactly", "[bench]")
{
    std::vector<std::uint64_t> order(1000);
    for (std::uint64_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937 random{3};
    // Local disorder (swaps of neighbours), 50 dropped, 20 repeated.
    for (std::size_t i = 0; i + 1 < order.size(); i += 7) std::swap(order[i], order[i + 1]);
    std::vector<std::uint64_t> stream;
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i % 20 == 3) continue;
        stream.push_back(order[i]);
        if (i % 50 == 9) stream.push_back(order[i]);
    }
    sequence_tracker t;
    for (auto s : stream) (void)t.take(9, s);
    auto const highest = *std::max_element(stream.begin(), stream.end());
    std::vector<std::uint64_t> distinct = stream;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    CHECK(t.lost() == highest + 1 - distinct.size());
    CHECK(t.duplicated() == stream.size() - distinct.size());
}

TEST_CASE("bench JSON line: a second round-trips, counters and buckets exactly", "[bench]")
{
    auto r = second_of(1'765'000'000, 1, {5, 17, 17, 250, 12'345, 3'000'000}, 6);
    r.delta.published = 9;
    r.delta.overrun = 2;
    auto const line = to_json_line(r);
    CHECK(line.find('\n') == std::string::npos);
    std::string error;
    auto const back = parse_json_line(line, error);
    REQUIRE(back);
    CHECK(error.empty());
    CHECK(back->time == r.time);
    CHECK(back->shard == 1);
    CHECK(back->shards == 2);
    CHECK(back->qos == 1);
    CHECK(back->connections == 3);
    CHECK(back->delta == r.delta);
    auto const& e2e = back->latency[static_cast<unsigned>(figure::e2e)];
    CHECK(e2e.min == 5);
    CHECK(e2e.max == 3'000'000);
    CHECK(e2e.buckets == r.latency[static_cast<unsigned>(figure::e2e)].buckets);
    CHECK(e2e.count() == 6);
    CHECK(to_json_line(*back) == line);
}

TEST_CASE("bench JSON line: what is not a record is refused with where, unknown members are skipped", "[bench]")
{
    std::string error;
    CHECK_FALSE(parse_json_line("", error));
    CHECK_FALSE(error.empty());
    CHECK_FALSE(parse_json_line(R"({"shard":0})", error));
    CHECK(error.find("time") != std::string::npos);
    CHECK_FALSE(parse_json_line(R"({"time":1,"received":-4})", error));
    CHECK_FALSE(parse_json_line(R"({"time":1,"e2e":{"buckets":[[999999,1]]}})", error));
    CHECK(error.find("bucket") != std::string::npos);
    CHECK_FALSE(parse_json_line(R"({"time":1} trailing)", error));
    auto const r = parse_json_line(R"({"time":7,"future":{"a":[1,2.5,"x",true,null]},"received":3})", error);
    REQUIRE(r);
    CHECK(r->delta.received == 3);
}

TEST_CASE("bench merge: shards' seconds add up to what one histogram of all samples says", "[bench]")
{
    std::mt19937_64 random{11};
    std::vector<std::uint64_t> a, b;
    for (int i = 0; i < 5000; ++i) a.push_back(1 + random() % 100'000);
    for (int i = 0; i < 3000; ++i) b.push_back(1 + random() % 2'000'000);
    auto merged = second_of(100, 0, a, a.size());
    merged.merge(second_of(100, 1, b, b.size()));
    CHECK(merged.merged == 2);
    CHECK(merged.connections == 6);
    CHECK(merged.delta.received == 8000);

    histogram all;
    for (auto v : a) all.record(v);
    for (auto v : b) all.record(v);
    summary s;
    std::string error;
    s.add(*parse_json_line(to_json_line(merged), error)); // through the file format, as bench merge does
    auto const& h = s.latency[static_cast<unsigned>(figure::e2e)];
    CHECK(h.count() == all.count());
    CHECK(h.nonzero() == all.nonzero());
    CHECK(h.min() == all.min());
    CHECK(h.max() == all.max());
    for (double p : {50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) CHECK(h.value_at(p) == all.value_at(p));
}

TEST_CASE("bench summary: the JSON has every figure, the percentiles in µs, and the loss net of late ones", "[bench]")
{
    summary s;
    auto r = second_of(5, 0, {1000, 2000, 3000, 4000}, 4);
    r.delta.lost = 5;
    r.delta.out_of_order = 2;
    s.add(r);
    auto const json = summary_json(s);
    for (auto const* member : {R"("connect":{"count":0)", R"("suback":{"count":0)", R"("publish":{"count":0)", R"("e2e":{"count":4,"p50":2)",
                               R"("max":4000)", R"("lost":3,)", R"("received":4,)", R"("connect_failed":0,)", R"("overrun":0,)", R"("qos":1,)"})
        CHECK(json.find(member) != std::string::npos);
    CHECK(summary_table(s).find("e2e") != std::string::npos);
    CHECK(summary_table(s).find("tls") == std::string::npos); // no row for a figure without values
}

TEST_CASE("bench file names: %s is the shard", "[bench]")
{
    CHECK(shard_file_name("out-%s.jsonl", 3) == "out-3.jsonl");
    CHECK(shard_file_name("plain.jsonl", 3) == "plain.jsonl");
    CHECK(shard_file_name("%s/%s%", 12) == "12/12%");
}

// wsmqtt bench's shards: --shard I/N, --shard auto from each engine's environment, and slices
// that cover every client exactly once.
#include <catch2/catch.hpp>

#include "wsmqtt/bench/shard.hpp"

#include <map>
#include <string>

using namespace wsmqtt::bench;

namespace {

std::map<std::string, std::string> fake_env;
char const* fake_getenv(char const* name)
{
    auto const it = fake_env.find(name);
    return it == fake_env.end() ? nullptr : it->second.c_str();
}

std::optional<shard> from(std::map<std::string, std::string> env, std::string* error_out = nullptr)
{
    fake_env = std::move(env);
    std::string error;
    auto s = shard_from_environment(&fake_getenv, error);
    if (error_out) *error_out = error;
    return s;
}

} // namespace

TEST_CASE("shard: I/N is 0-based, and what is not is refused in words", "[shard]")
{
    std::string error;
    CHECK(parse_shard("2/4", error) == shard{2, 4, "--shard"});
    CHECK_FALSE(parse_shard("4/4", error));
    CHECK(error == "--shard: shard index 4 is not below the shard count 4 (shards are numbered from 0)");
    CHECK_FALSE(parse_shard("1/0", error));
    CHECK_FALSE(parse_shard("a/4", error));
    CHECK(error == "--shard: 'a/4' is not I/N with whole numbers, N at least 1");
    CHECK_FALSE(parse_shard("3", error));
}

TEST_CASE("shard auto: each engine's variables, in order", "[shard]")
{
    CHECK(from({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "8"}, {"PMI_RANK", "1"}, {"PMI_SIZE", "2"}}) ==
          shard{3, 8, "OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE"});
    CHECK(from({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}}) == shard{1, 2, "PMI_RANK/PMI_SIZE"});
    CHECK(from({{"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "4"}, {"SLURM_STEP_ID", "0"}}) == shard{2, 4, "SLURM_PROCID/SLURM_NTASKS"});
    // A batch script (no step) is not a task: its array variables count instead.
    CHECK(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "1"},
                {"SLURM_ARRAY_TASK_COUNT", "4"}}) == shard{2, 4, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"});
    CHECK(from({{"AWS_BATCH_JOB_ARRAY_INDEX", "5"}, {"AWS_BATCH_JOB_ARRAY_SIZE", "10"}}) ==
          shard{5, 10, "AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE"});
    CHECK(from({{"JOB_COMPLETION_INDEX", "0"}, {"WSMQTT_SHARD_COUNT", "3"}}) == shard{0, 3, "JOB_COMPLETION_INDEX/WSMQTT_SHARD_COUNT"});
    std::string error;
    CHECK_FALSE(from({{"JOB_COMPLETION_INDEX", "0"}}, &error)); // Kubernetes gives no count
    CHECK(error == "JOB_COMPLETION_INDEX/WSMQTT_SHARD_COUNT: '0/' is not I/N with whole numbers, N at least 1");
    CHECK_FALSE(from({}, &error));
    CHECK_THAT(error, Catch::StartsWith("--shard auto: no engine's variables found"));
}

TEST_CASE("shard: the slices cover every client once, and differ by one at most", "[shard]")
{
    for (std::uint32_t count : {1u, 2u, 3u, 7u, 16u}) {
        for (std::uint64_t total : {0ull, 1ull, 10ull, 1000ull, 1001ull}) {
            std::uint64_t next = 0;
            for (std::uint32_t i = 0; i < count; ++i) {
                auto const [first, n] = slice(shard{i, count, ""}, total);
                CHECK(first == next);
                CHECK(n + 1 >= total / count);
                CHECK(n <= total / count + 1);
                next = first + n;
            }
            CHECK(next == total);
        }
    }
}

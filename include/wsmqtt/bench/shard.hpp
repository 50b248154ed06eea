// Which part of a `wsmqtt bench` run this process is: --shard I/N given, or --shard auto read
// from the environment of the engine that started it (Open MPI, PMI, Slurm, AWS Batch,
// Kubernetes Indexed Jobs). No coordinator of our own: each shard takes its slice of the client
// numbers and of the rate. Standard library only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace wsmqtt::bench {

struct shard {
    std::uint32_t index = 0; ///< 0-based
    std::uint32_t count = 1;
    std::string source;      ///< where it came from, for -d and errors ("--shard", "SLURM_PROCID/SLURM_NTASKS"...)
    bool operator==(shard const&) const = default;
};

/// "I/N" (0 ≤ I < N); nullopt with `error` set otherwise.
[[nodiscard]] std::optional<shard> parse_shard(std::string_view text, std::string& error);

/// --shard auto: the first engine whose variables are set, in this order: OMPI_COMM_WORLD_RANK/
/// SIZE, PMI_RANK/SIZE, SLURM_PROCID/SLURM_NTASKS (inside a step: SLURM_STEP_ID set),
/// SLURM_ARRAY_TASK_ID/COUNT (from SLURM_ARRAY_TASK_MIN), AWS_BATCH_JOB_ARRAY_INDEX/SIZE,
/// JOB_COMPLETION_INDEX with WSMQTT_SHARD_COUNT (Kubernetes gives no count). `getenv` is passed
/// in so that tests need not touch the process environment.
[[nodiscard]] std::optional<shard> shard_from_environment(char const* (*getenv)(char const*), std::string& error);

/// This shard's part of `total` things numbered from 0: (first, how many). Contiguous, the
/// parts differ by one at most, and together they are all of them.
[[nodiscard]] std::pair<std::uint64_t, std::uint64_t> slice(shard const& s, std::uint64_t total) noexcept;

} // namespace wsmqtt::bench

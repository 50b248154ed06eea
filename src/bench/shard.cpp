// --shard I/N and --shard auto (shard.hpp).
#include "wsmqtt/bench/shard.hpp"

#include <charconv>
#include <initializer_list>

namespace wsmqtt::bench {
namespace {

std::optional<std::uint64_t> number(std::string_view text)
{
    std::uint64_t n = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return n;
}

std::optional<shard> checked(std::optional<std::uint64_t> index, std::optional<std::uint64_t> count, std::string source,
                             std::string_view shown, std::string& error)
{
    if (!index || !count || *count == 0 || *count > UINT32_MAX) {
        error = std::string{source} + ": '" + std::string{shown} + "' is not I/N with whole numbers, N at least 1";
        return std::nullopt;
    }
    if (*index >= *count) {
        error = std::string{source} + ": shard index " + std::to_string(*index) + " is not below the shard count " + std::to_string(*count) +
                " (shards are numbered from 0)";
        return std::nullopt;
    }
    return shard{static_cast<std::uint32_t>(*index), static_cast<std::uint32_t>(*count), std::move(source)};
}

} // namespace

std::optional<shard> parse_shard(std::string_view text, std::string& error)
{
    auto const slash = text.find('/');
    if (slash == std::string_view::npos) return checked(std::nullopt, std::nullopt, "--shard", text, error);
    return checked(number(text.substr(0, slash)), number(text.substr(slash + 1)), "--shard", text, error);
}

std::optional<shard> shard_from_environment(char const* (*getenv)(char const*), std::string& error)
{
    auto const get = [&](char const* name) -> std::optional<std::string_view> {
        char const* v = getenv(name);
        if (!v || !*v) return std::nullopt;
        return std::string_view{v};
    };
    auto const pair = [&](char const* index_name, char const* count_name) -> std::optional<std::optional<shard>> {
        auto const i = get(index_name);
        if (!i) return std::nullopt;
        auto const n = get(count_name);
        std::string const source = std::string{index_name} + "/" + count_name;
        std::string const shown = std::string{*i} + "/" + std::string{n.value_or("")};
        return checked(number(*i), n ? number(*n) : std::nullopt, source, shown, error);
    };
    for (auto const& [index_name, count_name] : {std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"}, std::pair{"PMI_RANK", "PMI_SIZE"}})
        if (auto s = pair(index_name, count_name)) return *s;
    // Slurm: a task of a step (srun), not the batch script itself, which has SLURM_PROCID 0 too.
    if (get("SLURM_STEP_ID"))
        if (auto s = pair("SLURM_PROCID", "SLURM_NTASKS")) return *s;
    if (auto const id = get("SLURM_ARRAY_TASK_ID")) {
        // Array task ids start where --array says (e.g. 1-4): count from SLURM_ARRAY_TASK_MIN.
        auto const first = number(get("SLURM_ARRAY_TASK_MIN").value_or("0"));
        auto const i = number(*id);
        std::optional<std::uint64_t> index;
        if (i && first && *i >= *first) index = *i - *first;
        auto const n = get("SLURM_ARRAY_TASK_COUNT");
        return checked(index, n ? number(*n) : std::nullopt, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT",
                       std::string{*id} + "/" + std::string{n.value_or("")}, error);
    }
    if (auto s = pair("AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE")) return *s;
    if (auto s = pair("JOB_COMPLETION_INDEX", "WSMQTT_SHARD_COUNT")) return *s;
    error = "--shard auto: no engine's variables found (OMPI_COMM_WORLD_RANK, PMI_RANK, SLURM_PROCID in an srun step, "
            "SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX, or JOB_COMPLETION_INDEX with WSMQTT_SHARD_COUNT): give --shard I/N";
    return std::nullopt;
}

std::pair<std::uint64_t, std::uint64_t> slice(shard const& s, std::uint64_t total) noexcept
{
    auto const base = total / s.count, extra = total % s.count;
    auto const first = s.index * base + std::min<std::uint64_t>(s.index, extra);
    return {first, base + (s.index < extra ? 1 : 0)};
}

} // namespace wsmqtt::bench

// A publisher's progress on stderr (pub -f/-s/-l of a large input, or --progress).
#pragma once

#include "wsmqtt/output.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

#include <fmt/format.h>
#include <unistd.h>

namespace wsmqtt {

/// A publisher's progress on stderr: redrawn in place on a terminal at most 10 times a second,
/// a line a second otherwise (--progress to a file or pipe).
class progress_meter {
public:
    void start(std::optional<std::uint64_t> total)
    {
        enabled_ = true;
        total_ = total;
        terminal_ = ::isatty(STDERR_FILENO) == 1;
    }
    [[nodiscard]] bool enabled() const noexcept { return enabled_; }

    /// `done` bytes of the input sent or read, `messages` published so far.
    void update(std::uint64_t done, std::uint64_t messages)
    {
        if (!enabled_) return;
        done_ = done;
        messages_ = messages;
        auto const now = std::chrono::steady_clock::now();
        if (now - drawn_ < (terminal_ ? std::chrono::milliseconds{100} : std::chrono::milliseconds{1000})) return;
        drawn_ = now;
        draw();
    }
    /// Room for a line of its own (a warning) on a terminal; the figures come back with the next
    /// update.
    void clear_line() const
    {
        if (enabled_ && terminal_ && !finished_) write_stderr("\r\x1b[K");
    }
    /// The last figures, then a newline, so that what follows starts on a line of its own.
    void finish()
    {
        if (!enabled_ || finished_) return;
        finished_ = true;
        draw();
        if (terminal_) write_stderr("\n");
    }

private:
    void draw() const
    {
        auto const text = progress_text(done_, total_, messages_);
        write_stderr(terminal_ ? fmt::format("\r\x1b[Kwsmqtt: {}", text) : fmt::format("wsmqtt: progress: {}\n", text));
    }

    bool enabled_ = false;
    bool terminal_ = false;
    bool finished_ = false;
    std::optional<std::uint64_t> total_;
    std::uint64_t done_ = 0;
    std::uint64_t messages_ = 0;
    std::chrono::steady_clock::time_point drawn_{};
};

} // namespace wsmqtt

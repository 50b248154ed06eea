// Runs a command and reports what it cost, for bench/bench.py:
//   rusage OUTFILE COMMAND [ARGS...]
// writes "<exit status> <user µs> <system µs> <peak RSS KiB>" to OUTFILE when COMMAND ends, and
// exits with COMMAND's status. It exists because a process started by Python inherits Python's
// peak RSS: Linux keeps the high-water mark across execve (signal->maxrss), so wait4() in the
// benchmark would report ~19 MiB for every program. Forked from this small program instead, the
// figure is the command's own.
#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

namespace {
pid_t child = 0;
void forward(int signal) { kill(child, signal); } // the benchmark stops some commands with SIGTERM
} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: rusage OUTFILE COMMAND [ARGS...]\n");
        return 125;
    }
    child = fork();
    if (child < 0) return 125;
    if (child == 0) {
        execvp(argv[2], argv + 2);
        std::perror(argv[2]);
        _exit(127);
    }
    struct sigaction action{};
    action.sa_handler = forward;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    int status = 0;
    rusage usage{};
    while (wait4(child, &status, 0, &usage) < 0) {
    }
    int const code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto const micros = [](timeval t) { return static_cast<long long>(t.tv_sec) * 1000000 + t.tv_usec; };
    if (std::FILE* out = std::fopen(argv[1], "w")) {
        std::fprintf(out, "%d %lld %lld %ld\n", code, micros(usage.ru_utime), micros(usage.ru_stime), usage.ru_maxrss);
        std::fclose(out);
    }
    return code;
}

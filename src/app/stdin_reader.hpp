// pub -l's standard input: asynchronous for pipes and terminals, plain reads for regular files.
#pragma once

#include "../net/race.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace wsmqtt {

/// Standard input for `pub -l`: asynchronous for pipes and terminals, plain reads for regular
/// files and /dev/null (which epoll cannot wait on; they never block anyway).
class stdin_reader {
public:
    explicit stdin_reader(boost::asio::any_io_executor executor) : stream_{std::move(executor)}, buffer_(64 * 1024)
    {
        struct stat st {};
        bool const waitable = ::fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode));
        saved_flags_ = ::fcntl(STDIN_FILENO, F_GETFL);
        if (waitable) {
            boost::system::error_code ec;
            stream_.assign(::dup(STDIN_FILENO), ec);
            async_ = !ec;
        }
    }
    stdin_reader(stdin_reader const&) = delete;
    stdin_reader& operator=(stdin_reader const&) = delete;
    ~stdin_reader()
    {
        // Asio made the descriptor non-blocking; the terminal is shared with the shell.
        if (saved_flags_ != -1) ::fcntl(STDIN_FILENO, F_SETFL, saved_flags_);
    }

    /// Appends what is available to `into`; false at the end of input.
    boost::asio::awaitable<bool> read(std::string& into)
    {
        std::size_t n = 0;
        if (async_) {
            auto [ec, got] = co_await stream_.async_read_some(boost::asio::buffer(buffer_), use_tuple);
            if (ec) co_return false;
            n = got;
        } else {
            ssize_t got = 0;
            do got = ::read(STDIN_FILENO, buffer_.data(), buffer_.size());
            while (got < 0 && errno == EINTR);
            if (got <= 0) co_return false;
            n = static_cast<std::size_t>(got);
        }
        into.append(buffer_.data(), n);
        co_return true;
    }

private:
    boost::asio::posix::stream_descriptor stream_;
    std::vector<char> buffer_;
    int saved_flags_ = -1;
    bool async_ = false;
};

} // namespace wsmqtt

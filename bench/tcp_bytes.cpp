// Bytes a TCP socket has received, from the kernel (Linux TCP_INFO). A file of its own because
// <linux/tcp.h> clashes with the <netinet/tcp.h> that Asio includes.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

std::uint64_t tcp_bytes_received(int fd)
{
    tcp_info info{};
    socklen_t size = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return 0;
    return info.tcpi_bytes_received;
}

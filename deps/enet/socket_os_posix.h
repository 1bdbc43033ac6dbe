/* POSIX sockets for socket_layer.c (see socket_os.h): Linux, macOS and the BSDs. One datagram per
 * call with sendmsg / recvmsg, ENet's buffers handed over as they are (ENetBuffer is laid out as
 * struct iovec on POSIX). */
#ifndef GODOT_ENET_SOCKET_OS_POSIX_H
#define GODOT_ENET_SOCKET_OS_POSIX_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/uio.h>
#include <unistd.h>

_Static_assert(sizeof(ENetBuffer) == sizeof(struct iovec) &&
                   offsetof(ENetBuffer, data) == offsetof(struct iovec, iov_base) &&
                   offsetof(ENetBuffer, dataLength) == offsetof(struct iovec, iov_len),
               "ENetBuffer must be laid out as struct iovec");

static ENetSocket os_socket_open(int family, int type) {
#ifdef SOCK_CLOEXEC
    return socket(family, type | SOCK_CLOEXEC, 0);
#else
    /* macOS has no SOCK_CLOEXEC; nothing here forks between the two calls. */
    int fd = socket(family, type, 0);
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
#endif
}

static void os_socket_close(ENetSocket socket) { close(socket); }

/* Descriptors are small process-wide integers: the descriptor is its own slot. */
static int os_socket_slot(ENetSocket socket) {
    return socket >= 0 && socket < MAX_TRACKED_SOCKETS ? socket : -1;
}

static SocketOutcome os_send(ENetSocket socket, const struct sockaddr *to, socklen_t toLength,
                             const ENetBuffer *buffers, size_t bufferCount, size_t *sent) {
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = (void *) to;
    message.msg_namelen = to != NULL ? toLength : 0;
    message.msg_iov = (struct iovec *) buffers;
    message.msg_iovlen = bufferCount;
    ssize_t result = sendmsg(socket, &message, MSG_NOSIGNAL);
    if (result >= 0) {
        *sent = (size_t) result;
        return SOCKET_DONE;
    }
    if (errno == EINTR) return SOCKET_INTERRUPTED;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return SOCKET_WOULD_BLOCK;
    if (errno == EBADF || errno == ENOTSOCK) return SOCKET_BROKEN;
    /* Unreachable destination, no route, message too long for the path, ... */
    return SOCKET_TRANSIENT;
}

/* errno after a failed receive, in socket_os.h's terms. */
static SocketOutcome receive_failure(void) {
    if (errno == EINTR) return SOCKET_INTERRUPTED;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return SOCKET_WOULD_BLOCK;
    if (errno == EBADF || errno == ENOTSOCK || errno == EFAULT || errno == EINVAL) return SOCKET_BROKEN;
    /* An ICMP error reported on the socket (refused, unreachable): not a datagram. */
    return SOCKET_TRANSIENT;
}

static SocketOutcome os_receive(ENetSocket socket, struct sockaddr_storage *from, ENetBuffer *buffers,
                                size_t bufferCount, size_t *received) {
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = from;
    message.msg_namelen = sizeof *from;
    message.msg_iov = (struct iovec *) buffers;
    message.msg_iovlen = bufferCount;
    ssize_t result = recvmsg(socket, &message, 0);
    if (result < 0) return receive_failure();
    if (message.msg_flags & MSG_TRUNC) return SOCKET_TRUNCATED;
    *received = (size_t) result;
    return SOCKET_DONE;
}

#endif

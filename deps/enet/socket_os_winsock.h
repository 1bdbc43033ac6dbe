/* Winsock for socket_layer.c (see socket_os.h). ENet's Windows build already links ws2_32 and calls
 * WSAStartup in enet_initialize. */
#ifndef GODOT_ENET_SOCKET_OS_WINSOCK_H
#define GODOT_ENET_SOCKET_OS_WINSOCK_H

#include <mswsock.h>

#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif

static ENetSocket os_socket_open(int family, int type) {
    SOCKET s = socket(family, type, 0);
    if (s == INVALID_SOCKET) return ENET_SOCKET_NULL;
    SetHandleInformation((HANDLE) s, HANDLE_FLAG_INHERIT, 0);
    if (family == AF_INET6) {
        /* Windows makes IPv6 sockets IPv6-only unless told otherwise. */
        DWORD off = 0;
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *) &off, sizeof off);
    }
    if (type == SOCK_DGRAM) {
        /* Without this, an ICMP "port unreachable" from one remote fails the next receive with
         * WSAECONNRESET; the POSIX layer sees no such thing on an unconnected UDP socket. */
        BOOL report = FALSE;
        DWORD returned = 0;
        WSAIoctl(s, SIO_UDP_CONNRESET, &report, sizeof report, NULL, 0, &returned, NULL, NULL);
    }
    return s;
}

static void os_socket_close(ENetSocket socket) { closesocket(socket); }

/* Socket handles are kernel handles: multiples of 4, small in practice. One that does not fit the
 * table still works; it only has no counters and is taken for dual-stack. */
static int os_socket_slot(ENetSocket socket) {
    if (socket == INVALID_SOCKET || (socket & 3) != 0 || socket / 4 >= MAX_TRACKED_SOCKETS) return -1;
    return (int) (socket / 4);
}

/* ENet's Windows ENetBuffer is { size_t dataLength; void *data; }; WSABUF is { ULONG len; char *buf; }. */
static DWORD to_wsabufs(const ENetBuffer *buffers, size_t bufferCount, WSABUF *out) {
    if (bufferCount > ENET_BUFFER_MAXIMUM) bufferCount = ENET_BUFFER_MAXIMUM;
    for (size_t i = 0; i < bufferCount; i++) {
        out[i].len = (ULONG) buffers[i].dataLength;
        out[i].buf = (char *) buffers[i].data;
    }
    return (DWORD) bufferCount;
}

static SocketOutcome winsock_failure(int error, int receiving) {
    switch (error) {
        case WSAEINTR: return SOCKET_INTERRUPTED;
        case WSAEWOULDBLOCK: return SOCKET_WOULD_BLOCK;
        case WSAEMSGSIZE: return receiving ? SOCKET_TRUNCATED : SOCKET_TRANSIENT;
        case WSAENOTSOCK:
        case WSANOTINITIALISED:
        case WSAEINVAL:
        case WSAEFAULT: return SOCKET_BROKEN;
        default: return SOCKET_TRANSIENT; /* unreachable, reset, no route, ... */
    }
}

static SocketOutcome os_send(ENetSocket socket, const struct sockaddr *to, socklen_t toLength,
                             const ENetBuffer *buffers, size_t bufferCount, size_t *sent) {
    WSABUF wsabufs[ENET_BUFFER_MAXIMUM];
    DWORD count = to_wsabufs(buffers, bufferCount, wsabufs);
    DWORD length = 0;
    if (WSASendTo(socket, wsabufs, count, &length, 0, to, to != NULL ? toLength : 0, NULL, NULL) == SOCKET_ERROR) {
        return winsock_failure(WSAGetLastError(), 0);
    }
    *sent = length;
    return SOCKET_DONE;
}

static SocketOutcome os_receive(ENetSocket socket, struct sockaddr_storage *from, ENetBuffer *buffers,
                                size_t bufferCount, size_t *received) {
    WSABUF wsabufs[ENET_BUFFER_MAXIMUM];
    DWORD count = to_wsabufs(buffers, bufferCount, wsabufs);
    DWORD length = 0, flags = 0;
    INT fromLength = sizeof *from;
    if (WSARecvFrom(socket, wsabufs, count, &length, &flags, (struct sockaddr *) from, &fromLength, NULL, NULL) ==
        SOCKET_ERROR) {
        return winsock_failure(WSAGetLastError(), 1);
    }
    if (flags & MSG_PARTIAL) return SOCKET_TRUNCATED;
    *received = length;
    return SOCKET_DONE;
}

#endif

/* What socket_layer.c needs from the operating system, and nothing more. Included by socket_layer.c
 * only (one translation unit, so the hot receive and send paths stay inlined); it pulls in exactly one
 * implementation, each made of static functions:
 *   socket_os_posix.h     Linux, macOS and other POSIX systems: sendmsg / recvmsg, one datagram a call
 *   socket_os_recvmmsg.h  Linux only: the batch receive (recvmmsg) that servers opt into
 *   socket_os_winsock.h   Windows: WSASendTo / WSARecvFrom
 * Every call reports its outcome in the same terms, so socket_layer.c decides once, for every OS,
 * what each outcome means for ENet (a datagram, "nothing more", a skipped datagram, a failed socket). */
#ifndef GODOT_ENET_SOCKET_OS_H
#define GODOT_ENET_SOCKET_OS_H

#include "enet.h"

typedef enum SocketOutcome {
    SOCKET_DONE,         /* a datagram was sent or received */
    SOCKET_WOULD_BLOCK,  /* nothing to read, or no room to send now */
    SOCKET_INTERRUPTED,  /* a signal interrupted the call: retry it */
    SOCKET_TRUNCATED,    /* the datagram was longer than the buffers; it is gone */
    SOCKET_TRANSIENT,    /* this one datagram failed (an ICMP report, no route, ...); the socket is fine */
    SOCKET_BROKEN,       /* the socket itself is unusable (closed, not a socket) */
} SocketOutcome;

/* The declarations every implementation provides (as static functions):
 *
 *   ENetSocket os_socket_open(int family, int type);   AF_INET6 sockets are dual-stack; not inherited
 *                                                       by child processes; ENET_SOCKET_NULL on failure
 *   void os_socket_close(ENetSocket socket);
 *   int os_socket_slot(ENetSocket socket);              index of the socket in a table of MAX_TRACKED_SOCKETS
 *                                                       entries, or -1 if it does not fit
 *   SocketOutcome os_send(ENetSocket socket, const struct sockaddr *to, socklen_t toLength,
 *                         const ENetBuffer *buffers, size_t bufferCount, size_t *sent);
 *   SocketOutcome os_receive(ENetSocket socket, struct sockaddr_storage *from,
 *                            ENetBuffer *buffers, size_t bufferCount, size_t *received);
 *
 * and where the OS can read several datagrams in one call (SOCKET_OS_BATCH defined):
 *
 *   ReceiveBatch *os_batch_create(void);  NULL if out of memory
 *   void os_batch_free(ReceiveBatch *batch);
 *   SocketOutcome os_batch_receive(ReceiveBatch *batch, ENetSocket socket, struct sockaddr_storage *from,
 *                                  ENetBuffer *buffers, size_t bufferCount, size_t *received);
 *       hands out one datagram of the batch per call, refilling it when it is used up */
typedef struct ReceiveBatch ReceiveBatch;

#define MAX_TRACKED_SOCKETS 65536

#ifdef _WIN32
#include "socket_os_winsock.h"
#else
#include "socket_os_posix.h"
#ifdef __linux__
#include "socket_os_recvmmsg.h"
#endif
#endif

#endif

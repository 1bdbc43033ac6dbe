/* Linux's batch receive for socket_layer.c (see socket_os.h): datagrams are read RECEIVE_BATCH at a
 * time with recvmmsg and handed to ENet one per call. A batch that comes back short also shows the
 * socket is drained, which saves the would-block call that otherwise ends every receive round. */
#ifndef GODOT_ENET_SOCKET_OS_RECVMMSG_H
#define GODOT_ENET_SOCKET_OS_RECVMMSG_H

#include <stdlib.h>

#define SOCKET_OS_BATCH 1
#define RECEIVE_BATCH 16
#define DATAGRAM_CAPACITY ENET_PROTOCOL_MAXIMUM_MTU

struct ReceiveBatch {
    unsigned count, next;
    int drained; /* the last recvmmsg came back short: report "nothing more" once without a call */
    struct mmsghdr messages[RECEIVE_BATCH];
    struct iovec vectors[RECEIVE_BATCH];
    struct sockaddr_storage addresses[RECEIVE_BATCH];
    uint8_t data[RECEIVE_BATCH][DATAGRAM_CAPACITY];
};

static ReceiveBatch *os_batch_create(void) { return calloc(1, sizeof(ReceiveBatch)); }

static void os_batch_free(ReceiveBatch *batch) { free(batch); }

/* The next datagram of the batch, copied into the caller's first buffer if it fits whole. */
static SocketOutcome take_batched(ReceiveBatch *batch, struct sockaddr_storage *from, ENetBuffer *buffers,
                                  size_t bufferCount, size_t *received) {
    unsigned i = batch->next++;
    size_t length = batch->messages[i].msg_len;
    if ((batch->messages[i].msg_hdr.msg_flags & MSG_TRUNC) || (length > 0 && (bufferCount < 1 || buffers[0].dataLength < length))) {
        return SOCKET_TRUNCATED;
    }
    if (length > 0) memcpy(buffers[0].data, batch->data[i], length);
    memcpy(from, &batch->addresses[i], sizeof *from);
    *received = length;
    return SOCKET_DONE;
}

static SocketOutcome os_batch_receive(ReceiveBatch *batch, ENetSocket socket, struct sockaddr_storage *from,
                                      ENetBuffer *buffers, size_t bufferCount, size_t *received) {
    if (batch->next < batch->count) return take_batched(batch, from, buffers, bufferCount, received);
    if (batch->drained) {
        batch->drained = 0;
        return SOCKET_WOULD_BLOCK;
    }
    for (unsigned i = 0; i < RECEIVE_BATCH; i++) {
        batch->vectors[i].iov_base = batch->data[i];
        batch->vectors[i].iov_len = DATAGRAM_CAPACITY;
        memset(&batch->messages[i].msg_hdr, 0, sizeof batch->messages[i].msg_hdr);
        batch->messages[i].msg_hdr.msg_name = &batch->addresses[i];
        batch->messages[i].msg_hdr.msg_namelen = sizeof batch->addresses[i];
        batch->messages[i].msg_hdr.msg_iov = &batch->vectors[i];
        batch->messages[i].msg_hdr.msg_iovlen = 1;
    }
    int count = recvmmsg(socket, batch->messages, RECEIVE_BATCH, MSG_DONTWAIT, NULL);
    if (count < 0) return receive_failure();
    batch->count = (unsigned) count;
    batch->next = 0;
    batch->drained = count < RECEIVE_BATCH;
    if (count == 0) return SOCKET_WOULD_BLOCK;
    return take_batched(batch, from, buffers, bufferCount, received);
}

#endif

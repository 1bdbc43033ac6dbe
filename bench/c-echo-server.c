/* The reference server: plain C on exactly the ENet the addon uses (built by bench/run.js).
 *
 * echo mode: every received packet goes back to its sender on the same channel with the same flags;
 * echoes are flushed once per drained batch (what the Node servers do too).
 * broadcast mode: additionally broadcasts a `--broadcast-size`-byte packet (the first 8 bytes: CLOCK_MONOTONIC
 * ns) unreliably (UNSEQUENCED; with --godot 1 also UNRELIABLE_FRAGMENT, as Godot) on channel 1 to every
 * peer, `--broadcast-hz` times a second.
 * Prints "READY <port>" once listening. Socket buffers 4 MiB and batched receives, as the addon sets
 * them up for a server host. */
#define _GNU_SOURCE
#include "enet.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The addon reads server sockets with recvmmsg (socket_layer.c); so does this server. Weak, so that the
 * benchmark also builds against a socket layer without it. */
extern int godot_enet_socket_batch_receives(int socket) __attribute__((weak));

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

int main(int argc, char **argv) {
    int port = 0, peers = 4095, hz = 0, size = 200;
    int godot = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--peers")) peers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--broadcast-hz")) hz = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--broadcast-size")) size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--godot")) godot = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: c-echo-server [--port P] [--peers N] [--broadcast-hz HZ --broadcast-size B] [--godot 1]\n");
            return 2;
        }
    }
    if (enet_initialize() != 0) return 1;
    ENetAddress address;
    memset(&address, 0, sizeof address);
    enet_address_set_host_ip(&address, "::");
    address.port = (enet_uint16) port;
    ENetHost *host = enet_host_create(&address, (size_t) peers, 0, 0, 0);
    if (!host) {
        fprintf(stderr, "c-echo-server: cannot create the host on port %d\n", port);
        return 1;
    }
    enet_socket_set_option(host->socket, ENET_SOCKOPT_RCVBUF, 4 * 1024 * 1024);
    enet_socket_set_option(host->socket, ENET_SOCKOPT_SNDBUF, 4 * 1024 * 1024);
    if (godot_enet_socket_batch_receives) godot_enet_socket_batch_receives(host->socket);
    printf("READY %u\n", (unsigned) host->address.port);
    fflush(stdout);

    const enet_uint32 keep = ENET_PACKET_FLAG_RELIABLE | ENET_PACKET_FLAG_UNSEQUENCED | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
    const enet_uint32 bcastFlags = godot ? (ENET_PACKET_FLAG_UNSEQUENCED | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT) : ENET_PACKET_FLAG_UNSEQUENCED;
    uint8_t state[4096];
    memset(state, 'S', sizeof state);
    if (size < 8) size = 8;
    if (size > (int) sizeof state) size = (int) sizeof state;
    uint64_t period = hz > 0 ? 1000000000ull / (uint64_t) hz : 0;
    uint64_t next = mono_ns() + period;

    for (;;) {
        enet_uint32 timeout = 10;
        if (period) {
            uint64_t t = mono_ns();
            timeout = t >= next ? 0 : (enet_uint32) ((next - t + 999999) / 1000000);
        }
        ENetEvent event;
        int r = enet_host_service(host, &event, timeout);
        while (r > 0) {
            if (event.type == ENET_EVENT_TYPE_RECEIVE) {
                ENetPacket *in = event.packet;
                ENetPacket *out = enet_packet_create(in->data, in->dataLength, in->flags & keep);
                if (enet_peer_send(event.peer, event.channelID, out) != 0) enet_packet_destroy(out);
                enet_packet_destroy(in);
            }
            r = enet_host_check_events(host, &event);
        }
        enet_host_flush(host);
        if (period) {
            uint64_t t = mono_ns();
            if (t >= next) {
                memcpy(state, &t, 8);
                enet_host_broadcast(host, 1, enet_packet_create(state, (size_t) size, bcastFlags));
                enet_host_flush(host);
                next += period;
                if (next < t) next = t + period;
            }
        }
    }
}

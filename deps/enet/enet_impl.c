/* The one translation unit that compiles ENet (the pinned, patched zpl header).
 *
 * The socket functions we replace are declared weak before the header defines them, so the
 * definitions in socket_layer.c win at link time, also for ENet's own internal calls (a weak
 * definition cannot be bound or inlined locally). test/native-hooks.test.ts checks that the
 * replacement is really in use, so a toolchain that ignores the pragma fails loudly. */
#pragma weak enet_socket_create
#pragma weak enet_socket_bind
#pragma weak enet_socket_get_address
#pragma weak enet_socket_send
#pragma weak enet_socket_receive
#pragma weak enet_socket_destroy

#define ENET_IMPLEMENTATION
#include "enet.h"

#include "enet_impl.h"

/* enet_host_service without its two send passes: the events already queued, else one read of the
 * socket (non-blocking) and the events it produced. Used to keep draining after a full service call,
 * where a send pass would only cost a scan of every peer slot and send ACKs on their own instead of
 * with the replies that follow. */
int godot_enet_host_receive(ENetHost *host, ENetEvent *event) {
    event->type = ENET_EVENT_TYPE_NONE;
    event->peer = NULL;
    event->packet = NULL;
    int result = enet_protocol_dispatch_incoming_commands(host, event);
    if (result != 0) return result;
    host->serviceTime = enet_time_get();
    result = enet_protocol_receive_incoming_commands(host, event);
    if (result != 0) return result;
    return enet_protocol_dispatch_incoming_commands(host, event);
}

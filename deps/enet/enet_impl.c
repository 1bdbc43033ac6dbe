/* The one translation unit that compiles ENet (the pinned, patched zpl header).
 *
 * The header's own socket functions (create, bind, get_address, send, receive, destroy) are left out
 * (patch 0016): deps/enet/socket_layer.c defines them, on every OS, and ENet's internal calls reach
 * ours because no other definition exists. */
#define ENET_EXTERNAL_SOCKET_LAYER
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

/* Our additions to ENet's host API, compiled in the same unit as ENet (enet_impl.c) so that they can
 * use its internal functions. */
#ifndef GODOT_ENET_IMPL_H
#define GODOT_ENET_IMPL_H

#include "enet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Like enet_host_service(host, event, 0) minus its send passes: 1 with an event, 0 if none, -1 on error. */
int godot_enet_host_receive(ENetHost *host, ENetEvent *event);

#ifdef __cplusplus
}
#endif

#endif

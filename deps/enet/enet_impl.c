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

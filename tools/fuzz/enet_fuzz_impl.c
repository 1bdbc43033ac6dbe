/* The ENet translation unit of the fuzz builds: deps/enet/enet_impl.c itself (the pinned, patched
 * header as prepared by deps/enet/prepare.js, plus our additions). The harness's replacements
 * (fake_net.c) take the place of everything that touches the operating system: the socket functions,
 * which enet_impl.c leaves out (patch 0016; deps/enet/socket_layer.c defines them in the addon), and,
 * made weak here so that fake_net.c wins at link time, the socket options, waiting and the clock, so
 * that a fuzz input decides what time it is and nothing ever reaches a real socket. */
#pragma weak enet_socket_set_option
#pragma weak enet_socket_get_option
#pragma weak enet_socket_wait
#pragma weak enet_time_get

#include "../../deps/enet/enet_impl.c"

/* The ENet translation unit of the fuzz builds: deps/enet/enet_impl.c itself (the pinned, patched
 * header as prepared by deps/enet/prepare.js, plus our additions), except that every function that
 * touches the operating system is weak, so the harness's replacements (fake_net.c) win at link time:
 * the socket functions (weak in enet_impl.c too, where deps/enet/socket_layer.c replaces them), and
 * also the socket options, waiting and the clock, so that a fuzz input decides what time it is and
 * nothing ever reaches a real socket. */
#pragma weak enet_socket_set_option
#pragma weak enet_socket_get_option
#pragma weak enet_socket_wait
#pragma weak enet_time_get

#include "../../deps/enet/enet_impl.c"

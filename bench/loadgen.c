/* godot-enet benchmark load generator: many ENet (or raw UDP) clients in one process.
 *
 * Built by bench/run.js against exactly the ENet the addon uses (the prepared, patched zpl header plus
 * deps/enet/socket_layer.c and enet_impl.c). It connects N clients to a server, then runs a plan of
 * workloads and prints one JSON object per line on stdout:
 *   {"type":"connect",...}  time until every client is connected, server RSS before/after
 *   {"type":"window",...}   one measured window of one workload (messages, RTT percentiles, CPU)
 *   {"type":"rss",...}      a steady-load RSS sample
 *   {"type":"done"}
 *
 * Echo protocol: every message is echoed by the server to its sender on the same channel with the same
 * reliability. Each client keeps `inflight` messages outstanding; an echo completes its slot and the
 * slot is refilled at once. Unreliable messages not echoed within 1 s count as lost and are resent.
 *
 * Protocols: enet (plain ENet; reliable = channel 0 RELIABLE, unreliable = channel 1 UNSEQUENCED),
 * godot (Godot 4's ENetMultiplayerPeer wire use: CONNECT data = the client's random id in [2, 2^31-1],
 * 255 channels, reliable = channel 0 flag 1, unreliable = channel 1 flags 10), udp (raw datagrams),
 * dtls (enet inside DTLS: each client host runs deps/enet/dtls_layer.c as a client that does not verify
 * the server's certificate, on the OpenSSL this program is linked with).
 *
 * Workloads (--first: run once each, then --plan: run --rounds times; comma separated; "name:secs"
 * overrides the window length): rel64x10 = reliable, 64 B, 10 in flight per client; unrel, mix
 * (even slots reliable, odd unreliable); idle (no traffic: the server's CPU with idle peers); bcast
 * (the server broadcasts; count what arrives and its one-way latency from the server's timestamp).
 * Message layout (little endian): u8 kind=1, u8 epoch, u16 slot, u32 client, u32 seq, u32 0,
 * u64 send time (CLOCK_MONOTONIC ns), filler. Broadcast packets start with the server's u64
 * CLOCK_MONOTONIC ns. A udp "hello" (kind 2) registers a client socket with the dgram server.
 * --no-throttle 1: each client configures its peer's packet throttle with deceleration 0 (the server
 * adopts it), so ENet never drops unreliable packets on purpose. Each window also reports how long the
 * server and this process were runnable but waiting for a CPU (schedstat), i.e. other load.
 *
 * Replication mode (--repl-hz HZ, with --proto godot; workload "repl"): the clients are Godot 4
 * SceneMultiplayer clients of bench/servers/replication.js, just enough of one: they confirm every path
 * the server offers (CONFIRM_PATH), take their own player's SPAWN as the cue to offer the path of its
 * Input synchronizer, and once the server confirmed it send that input (SYNC, path-based net id) HZ
 * times a second; SYNC / DELTA / SPAWN / DESPAWN from the server are counted (a window's "completed"
 * is the server frames whose SYNC reached a client). See the "replication mode" section below.
 *
 * Scene mode (--proto scene; workloads rpc, bytes, relay): Godot 4 SceneMultiplayer clients of
 * bench/servers/scene-multiplayer.js (godot's wire underneath): an RPC echo, a send_bytes echo and
 * send_bytes relayed to another client, each reliable with 10 in flight per client. See the "scene
 * mode" section below; windows also count "unexpected" packets (anything the server should not send). */
#define _GNU_SOURCE
#include "enet.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PROTO_ENET, PROTO_GODOT, PROTO_UDP, PROTO_DTLS, PROTO_SCENE };
enum { MODE_REL, MODE_UNREL, MODE_MIX, MODE_IDLE, MODE_BCAST, MODE_REPL, MODE_RPC, MODE_BYTES, MODE_RELAY };
/* SceneMultiplayer clients use ENet as Godot's ENetMultiplayerPeer does. */
#define GODOT_WIRE (proto == PROTO_GODOT || proto == PROTO_SCENE)
enum { ST_NONE, ST_CONNECTING, ST_CONNECTED, ST_GONE };

#define MAX_INFLIGHT 64
#define MAX_SIZE 4096
#define HEADER 24
#define LOSS_NS 1000000000ull
#define ENET_FLAG_REL ENET_PACKET_FLAG_RELIABLE
#define ENET_FLAG_UNSEQ ENET_PACKET_FLAG_UNSEQUENCED
#define ENET_FLAG_FRAG ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT

typedef struct Slot {
    uint64_t sent;
    uint32_t seq;
    uint8_t busy;
    uint8_t reliable;
} Slot;

typedef struct Host Host;

typedef struct Client {
    int idx;
    Host *host;
    ENetPeer *peer;
    int state;
    uint32_t seq;
    uint32_t godotId;
    uint64_t helloSent;
    Slot slots[MAX_INFLIGHT];
    /* Replication mode */
    uint16_t replLastSeq;
    uint8_t replHaveSeq;
    uint8_t replInput; /* 0 not offered, 1 offered (SIMPLIFY_PATH sent), 2 confirmed */
    uint16_t replInputSeq;
    uint64_t replNextInput;
    /* Scene mode */
    uint8_t smOffered;  /* our SIMPLIFY_PATH of "Bench": 0 not sent, 1 sent, 2 confirmed */
    uint32_t smServerId; /* the server's cache id of "Bench" (from its SIMPLIFY_PATH), 0 = none yet */
} Client;

struct Host {
    ENetHost *enet;
    int fd;
    int dirty;
    uint64_t lastService;
};

/* Configuration */
static int proto = PROTO_ENET;
static char serverIp[64] = "127.0.0.1";
static int serverPort = 0;
static int nClients = 1;
static int perHost = 1;
static int serverPid = 0;
static int rounds = 1;
static double warmupSecs = 0.5, windowSecs = 2.0, drainSecs = 0.2, settleSecs = 1.0;
static double connectTimeoutSecs = 30.0;
static double steadySecs = 0, sampleSecs = 5;
static char steadyWorkload[32] = "mix64x10";
static char plan[1024] = "";
static char firstPlan[1024] = "";
static int bcastHz = 60;
static int replHz = 0;

/* State */
static Client *clients;
static Host *hosts;
static int nHosts;
static int epfd = -1;
static ENetAddress enetServer;
static struct sockaddr_in udpServer;
static uint64_t now;
static uint8_t sendBuf[MAX_SIZE];
static uint8_t recvBuf[MAX_SIZE + 64];

static int mode = MODE_IDLE, msgSize = 64, inflight = 0, sending = 0, measuring = 0;
static uint8_t epoch = 0;
static int connectedCount = 0, disconnects = 0;
static int debug = 0;
static int noThrottle = 0;
static uint64_t completed, lost, stale, bytesIn, sendFailures, unexpected, unexpectedTotal;

/* RTT histogram: exact below 128 ns, then 64 linear sub-buckets per power of two (~1.5 % precision). */
#define HIST_BUCKETS (128 + 58 * 64)
static uint64_t hist[HIST_BUCKETS];
static uint64_t histCount;

/* Batched receives (recvmmsg) where the socket layer has them, as the addon uses them for hosts with
 * several peers. Weak, so that the load generator also builds against a layer without them. */
extern int godot_enet_socket_batch_receives(int socket) __attribute__((weak));

/* The DTLS layer, for --proto dtls (weak as well: the load generator builds without it). */
typedef struct GodotENetDtls GodotENetDtls;
extern GodotENetDtls *godot_enet_dtls_client_create(ENetSocket socket, const char *serverName, const char *verifyName,
    int verifyNameIsIp, int verifyPeer, const uint8_t *const *trusted, const size_t *trustedLengths, size_t trustedCount,
    char *error, size_t errorLength) __attribute__((weak));
extern int godot_enet_socket_set_dtls(ENetSocket socket, GodotENetDtls *dtls) __attribute__((weak));

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int bucket_of(uint64_t v) {
    if (v < 128) return (int) v;
    int e = 63 - __builtin_clzll(v);
    int b = 128 + (e - 7) * 64 + (int) ((v >> (e - 6)) & 63);
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static double bucket_value(int b) {
    if (b < 128) return b;
    int e = (b - 128) / 64 + 7, sub = (b - 128) % 64;
    double width = (double) (1ull << (e - 6));
    return (64 + sub) * width + width / 2;
}

static void hist_add(uint64_t v) {
    hist[bucket_of(v)]++;
    histCount++;
}

static double hist_pct(double p) {
    if (histCount == 0) return -1;
    uint64_t want = (uint64_t) (p * (double) histCount);
    if (want >= histCount) want = histCount - 1;
    uint64_t seen = 0;
    for (int b = 0; b < HIST_BUCKETS; b++) {
        seen += hist[b];
        if (seen > want) return bucket_value(b);
    }
    return -1;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* CPU seconds (user + system, all threads) of a process, from /proc/<pid>/stat. */
static double proc_cpu(int pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p += 2; /* field 3 */
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field < 14 && p; field++) p = strchr(p, ' '), p = p ? p + 1 : NULL;
    if (!p || sscanf(p, "%llu %llu", &utime, &stime) != 2) return -1;
    return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

/* From the scheduler, in ns, summed over the process's threads (/proc/<pid>/task/<tid>/schedstat):
 * field 0 = time on a CPU, field 1 = time spent runnable but waiting for a CPU. */
static void proc_sched(int pid, double *run, double *wait) {
    char path[64];
    *run = *wait = 0;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *dir = opendir(path);
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char file[300];
        snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", pid, entry->d_name);
        FILE *f = fopen(file, "r");
        if (!f) continue;
        unsigned long long ns = 0, waited = 0;
        if (fscanf(f, "%llu %llu", &ns, &waited) == 2) {
            *run += (double) ns / 1e9;
            *wait += (double) waited / 1e9;
        }
        fclose(f);
    }
    closedir(dir);
}

/* Busy and total jiffies of each core, from /proc/stat. */
#define MAX_CORES 8
typedef struct CoreTimes {
    unsigned long long busy[MAX_CORES], total[MAX_CORES], irq[MAX_CORES];
    int n;
} CoreTimes;

static void core_times(CoreTimes *t) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        int core;
        unsigned long long v[8] = { 0 };
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &core, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                &v[6], &v[7]) < 5 || core < 0 || core >= MAX_CORES)
            continue;
        t->busy[core] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        t->total[core] = t->busy[core] + v[3] + v[4];
        t->irq[core] = v[5] + v[6];
        if (core + 1 > t->n) t->n = core + 1;
    }
    fclose(f);
}

static void print_core_busy(const CoreTimes *a, const CoreTimes *b) {
    printf("\"core_busy\":[");
    for (int i = 0; i < b->n; i++) {
        unsigned long long total = b->total[i] - a->total[i];
        printf("%s%.3f", i ? "," : "", total ? (double) (b->busy[i] - a->busy[i]) / (double) total : 0.0);
    }
    printf("],\"core_irq\":[");
    for (int i = 0; i < b->n; i++) {
        unsigned long long total = b->total[i] - a->total[i];
        printf("%s%.3f", i ? "," : "", total ? (double) (b->irq[i] - a->irq[i]) / (double) total : 0.0);
    }
    printf("]");
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long proc_rss_kb(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* ---------------------------------------------------------------- sending */

static void send_raw(Client *c, const uint8_t *data, int size, int reliable) {
    if (proto == PROTO_UDP) {
        if (send(c->host->fd, data, (size_t) size, MSG_DONTWAIT) < 0) sendFailures++;
        return;
    }
    enet_uint32 flags = reliable ? ENET_FLAG_REL : GODOT_WIRE ? (ENET_FLAG_UNSEQ | ENET_FLAG_FRAG) : ENET_FLAG_UNSEQ;
    ENetPacket *packet = enet_packet_create(data, (size_t) size, flags);
    if (enet_peer_send(c->peer, reliable ? 0 : 1, packet) != 0) {
        enet_packet_destroy(packet);
        sendFailures++;
        return;
    }
    c->host->dirty = 1;
}

/* The message layout's header at p (see the top of the file). */
static void put_header(uint8_t *p, Client *c, int slot) {
    uint16_t slot16 = (uint16_t) slot;
    uint32_t idx = (uint32_t) c->idx, zero = 0;
    p[0] = 1;
    p[1] = epoch;
    memcpy(p + 2, &slot16, 2);
    memcpy(p + 4, &idx, 4);
    memcpy(p + 8, &c->slots[slot].seq, 4);
    memcpy(p + 12, &zero, 4);
    memcpy(p + 16, &now, 8);
}

static void scene_send_slot(Client *c, int slot);

static void send_slot(Client *c, int slot) {
    Slot *s = &c->slots[slot];
    s->seq = ++c->seq;
    s->sent = now;
    s->busy = 1;
    s->reliable = mode == MODE_REL || (mode == MODE_MIX && slot % 2 == 0) || mode == MODE_RPC || mode == MODE_BYTES || mode == MODE_RELAY;
    if (proto == PROTO_SCENE) {
        scene_send_slot(c, slot);
        return;
    }
    put_header(sendBuf, c, slot);
    send_raw(c, sendBuf, msgSize, s->reliable);
}

static void send_hello(Client *c) {
    uint8_t hello[HEADER];
    memset(hello, 0, sizeof hello);
    hello[0] = 2;
    uint32_t idx = (uint32_t) c->idx;
    memcpy(hello + 4, &idx, 4);
    c->helloSent = now;
    send_raw(c, hello, HEADER, 0);
}

static void flush_hosts(void) {
    if (proto == PROTO_UDP) return;
    for (int i = 0; i < nHosts; i++)
        if (hosts[i].dirty) {
            enet_host_flush(hosts[i].enet);
            hosts[i].dirty = 0;
        }
}

/* ---------------------------------------------------------------- receiving */

static void repl_payload(Client *c, const uint8_t *data, size_t len);

static void echo_complete(Client *c, const uint8_t *data, size_t len);
static void scene_payload(Client *c, const uint8_t *data, size_t len);

static void on_payload(Client *c, const uint8_t *data, size_t len) {
    if (replHz > 0) {
        if (c) repl_payload(c, data, len);
        return;
    }
    bytesIn += len;
    if (proto == PROTO_SCENE) {
        if (c) scene_payload(c, data, len);
        return;
    }
    if (mode == MODE_BCAST) {
        if (len < 8) return;
        uint64_t t;
        memcpy(&t, data, 8);
        if (measuring) {
            completed++;
            hist_add(now > t ? now - t : 0);
        }
        return;
    }
    echo_complete(c, data, len);
}

/* An echoed message (the layout at the top of the file) completes its slot of client c (NULL: the
 * client the message names, for udp), or is counted stale. */
static void echo_complete(Client *c, const uint8_t *data, size_t len) {
    if (len < HEADER) return;
    uint32_t idx;
    memcpy(&idx, data + 4, 4);
    if (c == NULL) {
        if (idx >= (uint32_t) nClients) return;
        c = &clients[idx];
    }
    if (data[0] == 2) { /* udp hello echoed */
        if (c->state != ST_CONNECTED) {
            c->state = ST_CONNECTED;
            connectedCount++;
        }
        return;
    }
    if (data[0] != 1 || data[1] != epoch) {
        stale++;
        if (debug) fprintf(stderr, "stale: kind %d epoch %d (now %d) client %u\n", data[0], data[1], epoch, idx);
        return;
    }
    uint16_t slot;
    uint32_t seq;
    uint64_t t;
    memcpy(&slot, data + 2, 2);
    memcpy(&seq, data + 8, 4);
    memcpy(&t, data + 16, 8);
    if (slot >= inflight || !c->slots[slot].busy || c->slots[slot].seq != seq) {
        stale++;
        if (debug) fprintf(stderr, "stale: client %u slot %u seq %u (current %u) age %.3f ms\n", idx, slot, seq, slot < inflight ? c->slots[slot].seq : 0, (double) (now - t) / 1e6);
        return;
    }
    c->slots[slot].busy = 0;
    if (measuring) {
        completed++;
        hist_add(now > t ? now - t : 0);
    }
    if (sending) send_slot(c, slot);
}

static void service_host(Host *h) {
    h->lastService = now;
    if (proto == PROTO_UDP) {
        for (;;) {
            ssize_t n = recv(h->fd, recvBuf, sizeof recvBuf, MSG_DONTWAIT);
            if (n < 0) break;
            on_payload(NULL, recvBuf, (size_t) n);
        }
        return;
    }
    ENetEvent ev;
    int r = enet_host_service(h->enet, &ev, 0);
    while (r > 0) {
        Client *c = (Client *) ev.peer->data;
        switch (ev.type) {
        case ENET_EVENT_TYPE_CONNECT:
            if (c && c->state != ST_CONNECTED) {
                c->state = ST_CONNECTED;
                connectedCount++;
                /* Deceleration 0: ENet's unreliable packet throttle never drops a packet, on either side
                 * (the remote adopts the configuration from the THROTTLE_CONFIGURE command). */
                if (noThrottle) enet_peer_throttle_configure(ev.peer, ENET_PEER_PACKET_THROTTLE_INTERVAL, ENET_PEER_PACKET_THROTTLE_ACCELERATION, 0);
            }
            break;
        case ENET_EVENT_TYPE_DISCONNECT:
        case ENET_EVENT_TYPE_DISCONNECT_TIMEOUT:
            if (c) {
                if (c->state == ST_CONNECTED) connectedCount--;
                c->state = ST_GONE;
                disconnects++;
            }
            break;
        case ENET_EVENT_TYPE_RECEIVE:
            if (c) on_payload(c, ev.packet->data, ev.packet->dataLength);
            enet_packet_destroy(ev.packet);
            break;
        default:
            break;
        }
        r = enet_host_check_events(h->enet, &ev);
    }
    if (h->dirty) {
        enet_host_flush(h->enet);
        h->dirty = 0;
    }
}

/* ---------------------------------------------------------------- replication mode (--repl-hz) */

#define REPL_INPUT_CACHE_ID 1u
#define REPL_PATH_NET_ID 0x80000000u
/* MD5 of "": the checksum of a node without RPCs (the Input synchronizer's script has none). */
static const char REPL_NO_RPCS[33] = "d41d8cd98f00b204e9800998ecf8427e";
static uint64_t replSyncPackets, replSyncEntries, replDeltas, replSpawns, replDespawns, replInputs, replConfirmed;

static void repl_reset_stats(void) {
    replSyncPackets = replSyncEntries = replDeltas = replSpawns = replDespawns = replInputs = 0;
}

/* SIMPLIFY_PATH of our own player's Input synchronizer (our cache id 1). */
static void repl_offer_input(Client *c) {
    uint8_t packet[160];
    char nodePath[96];
    int n = snprintf(nodePath, sizeof nodePath, "World/Players/%u/Input", c->godotId);
    packet[0] = 1;
    memcpy(packet + 1, REPL_NO_RPCS, 33);
    uint32_t id = REPL_INPUT_CACHE_ID;
    memcpy(packet + 34, &id, 4);
    memcpy(packet + 38, nodePath, (size_t) n + 1);
    send_raw(c, packet, 38 + n + 1, 1);
    c->replInput = 1;
}

/* One SYNC of our input: sequence, net id 0x80000000 | 1, size 12, Vector2 direction. */
static void repl_send_input(Client *c) {
    uint8_t packet[3 + 8 + 12];
    uint16_t seq = ++c->replInputSeq;
    uint32_t netId = REPL_PATH_NET_ID | REPL_INPUT_CACHE_ID, size = 12, type = 5;
    float x = (float) (c->replInputSeq % 7) - 3.0f, y = 1.0f;
    packet[0] = 6;
    memcpy(packet + 1, &seq, 2);
    memcpy(packet + 3, &netId, 4);
    memcpy(packet + 7, &size, 4);
    memcpy(packet + 11, &type, 4);
    memcpy(packet + 15, &x, 4);
    memcpy(packet + 19, &y, 4);
    send_raw(c, packet, sizeof packet, 0);
    if (measuring) replInputs++;
}

static void repl_payload(Client *c, const uint8_t *data, size_t len) {
    if (len == 0) return;
    if (measuring) bytesIn += len;
    switch (data[0] & 7) {
    case 1: { /* SIMPLIFY_PATH: we have every node the server names; confirm it */
        if (len < 38) return;
        uint8_t confirm[6] = { 2, 1 };
        memcpy(confirm + 2, data + 34, 4);
        send_raw(c, confirm, 6, 1);
        break;
    }
    case 2: /* CONFIRM_PATH of our Input path */
        if (len == 6 && c->replInput == 1) {
            c->replInput = 2;
            replConfirmed++;
            c->replNextInput = now + (uint64_t) (rand() % 1000) * (1000000000ull / (uint64_t) replHz) / 1000;
        }
        break;
    case 4: { /* SPAWN: ours is the cue to offer our input's path */
        if (measuring) replSpawns++;
        if (len < 18 || c->replInput != 0) break;
        uint32_t syncs, nameLen;
        memcpy(&syncs, data + 10, 4);
        memcpy(&nameLen, data + 14, 4);
        if (syncs > 64 || 18 + 4 * (size_t) syncs + nameLen > len || nameLen < 2) break;
        char name[16];
        snprintf(name, sizeof name, "%u", c->godotId);
        if (nameLen == strlen(name) + 1 && memcmp(data + 18 + 4 * syncs, name, nameLen - 1) == 0) repl_offer_input(c);
        break;
    }
    case 5:
        if (measuring) replDespawns++;
        break;
    case 6: {
        if (data[0] & 0x10) {
            if (measuring) replDeltas++;
            break;
        }
        if (len < 3) break;
        uint16_t seq;
        memcpy(&seq, data + 1, 2);
        if (measuring) {
            replSyncPackets++;
            if (!c->replHaveSeq || seq != c->replLastSeq) completed++; /* a new server frame */
            for (size_t ofs = 3; ofs + 8 < len;) {
                uint32_t size;
                memcpy(&size, data + ofs + 4, 4);
                replSyncEntries++;
                ofs += 8 + (size_t) size;
            }
        }
        c->replLastSeq = seq;
        c->replHaveSeq = 1;
        break;
    }
    default:
        break;
    }
}

/* While the "repl" workload runs: every confirmed client sends its input replHz times a second. */
static void repl_inputs(void) {
    if (mode != MODE_REPL || !sending) return;
    uint64_t period = 1000000000ull / (uint64_t) replHz;
    for (int i = 0; i < nClients; i++) {
        Client *c = &clients[i];
        if (c->state != ST_CONNECTED || c->replInput != 2 || now < c->replNextInput) continue;
        repl_send_input(c);
        c->replNextInput += period;
        if (c->replNextInput < now) c->replNextInput = now + period;
    }
}

/* ---------------------------------------------------------------- scene mode (--proto scene) */

/* Clients of bench/servers/scene-multiplayer.js, speaking as much of Godot 4's SceneMultiplayer as its
 * rows need (spec: scene-multiplayer.md). Both ends know node "Bench" with one script RPC,
 * `@rpc("any_peer") func echo(v: Vector2, n: int)`, so its method id is 0 and its checksum is the MD5
 * of the method names in id order, MD5("echo").
 *   rpc    As a Godot client calls rpc_id(1, "echo", v, n): the first call offers the path
 *          (SIMPLIFY_PATH "Bench", our cache id 1) and, while unconfirmed, calls carry the path inline
 *          (node id 0x80000000 | offset); after the server's CONFIRM_PATH they name cache id 1. n is
 *          seq * 64 + slot, v = (client index, slot + 0.5): the reply must be the same call back (the
 *          server's own cache id for "Bench", or the inline path) with the same arguments. The send time
 *          stays in the slot, here.
 *   bytes  send_bytes(message) to the server (RAW: 0x03 + the 64-byte message); the echo is a RAW back.
 *   relay  send_bytes(message, next client's id): SYS RELAY (07 03, i32 destination, RAW inside). The
 *          server forwards it as 07 03, i32 source, RAW; the message completes (and its slot is refilled)
 *          when the destination receives it, so the latency is one way (client -> server -> client),
 *          measured on this process's one CLOCK_MONOTONIC.
 * The server's ADD_PEER / DEL_PEER are expected (relay is on) and ignored; its SIMPLIFY_PATH of "Bench"
 * is confirmed. Anything else, or a reply that does not match what was sent, counts as unexpected. */

#define SM_BENCH_ID 1u
static const char SM_BENCH_PATH[] = "Bench";
static const char SM_BENCH_MD5[33] = "cbb11ed87dc8a95d81400c7f33c7c171"; /* MD5("echo") */
static uint64_t smAddPeers;

static void sm_unexpected(Client *c, const char *what, const uint8_t *data, size_t len) {
    unexpected++;
    unexpectedTotal++;
    if (!debug) return;
    fprintf(stderr, "unexpected (client %d): %s:", c->idx, what);
    for (size_t i = 0; i < len && i < 48; i++) fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "\n");
}

/* Godot's compressed INT: the smallest of 1, 2, 4, 8 bytes, meta 0x02 | size code << 6. */
static int sm_put_int(uint8_t *p, int64_t v) {
    if (v >= -128 && v <= 127) {
        p[0] = 0x02;
        p[1] = (uint8_t) (int8_t) v;
        return 2;
    }
    if (v >= -32768 && v <= 32767) {
        int16_t x = (int16_t) v;
        p[0] = 0x42;
        memcpy(p + 1, &x, 2);
        return 3;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        int32_t x = (int32_t) v;
        p[0] = 0x82;
        memcpy(p + 1, &x, 4);
        return 5;
    }
    p[0] = 0xC2;
    memcpy(p + 1, &v, 8);
    return 9;
}

/* Returns the bytes read, 0 if not a compressed INT that fits. */
static size_t sm_get_int(const uint8_t *p, size_t len, int64_t *v) {
    if (len < 2 || (p[0] & 0x3F) != 2) return 0;
    switch (p[0] >> 6) {
    case 0: *v = (int8_t) p[1]; return 2;
    case 1: { int16_t x; if (len < 3) return 0; memcpy(&x, p + 1, 2); *v = x; return 3; }
    case 2: { int32_t x; if (len < 5) return 0; memcpy(&x, p + 1, 4); *v = x; return 5; }
    default: if (len < 9) return 0; memcpy(v, p + 1, 8); return 9;
    }
}

/* The echo RPC's arguments: Vector2 as Variant (u32 type 5, two f32) and the compressed int. */
static int sm_put_args(uint8_t *p, Client *c, int slot) {
    uint32_t type = 5;
    float x = (float) c->idx, y = (float) slot + 0.5f;
    memcpy(p, &type, 4);
    memcpy(p + 4, &x, 4);
    memcpy(p + 8, &y, 4);
    return 12 + sm_put_int(p + 12, (int64_t) c->slots[slot].seq * 64 + slot);
}

/* SIMPLIFY_PATH: 0x01, checksum cstring, u32 our cache id, path cstring. */
static void sm_offer(Client *c) {
    uint8_t packet[1 + 33 + 4 + sizeof SM_BENCH_PATH];
    uint32_t id = SM_BENCH_ID;
    packet[0] = 1;
    memcpy(packet + 1, SM_BENCH_MD5, 33);
    memcpy(packet + 34, &id, 4);
    memcpy(packet + 38, SM_BENCH_PATH, sizeof SM_BENCH_PATH);
    send_raw(c, packet, sizeof packet, 1);
    c->smOffered = 1;
}

static void scene_send_slot(Client *c, int slot) {
    uint8_t *p = sendBuf;
    if (mode == MODE_RPC) {
        if (c->smOffered == 0) sm_offer(c); /* Godot's send_object_cache, before every RPC */
        size_t n;
        if (c->smOffered == 2) { /* meta 0x00: u8 node id, u8 method id, argc follows */
            p[0] = 0x00, p[1] = SM_BENCH_ID, p[2] = 0, p[3] = 2;
            n = 4 + (size_t) sm_put_args(p + 4, c, slot);
        } else { /* meta 0x20: u32 node id = 0x80000000 | offset of the path that ends the packet */
            p[0] = 0x20;
            p[5] = 0, p[6] = 2;
            n = 7 + (size_t) sm_put_args(p + 7, c, slot);
            uint32_t node = 0x80000000u | (uint32_t) n;
            memcpy(p + 1, &node, 4);
            memcpy(p + n, SM_BENCH_PATH, sizeof SM_BENCH_PATH);
            n += sizeof SM_BENCH_PATH;
        }
        send_raw(c, p, (int) n, 1);
    } else if (mode == MODE_BYTES) {
        p[0] = 3;
        put_header(p + 1, c, slot);
        send_raw(c, p, 1 + msgSize, 1);
    } else { /* MODE_RELAY */
        int32_t dest = (int32_t) clients[(c->idx + 1) % nClients].godotId;
        p[0] = 7, p[1] = 3;
        memcpy(p + 2, &dest, 4);
        p[6] = 3;
        put_header(p + 7, c, slot);
        send_raw(c, p, 7 + msgSize, 1);
    }
}

/* A REMOTE_CALL from the server: must be echo(v, n) on "Bench" with our arguments. */
static void sm_rpc_reply(Client *c, const uint8_t *data, size_t len) {
    uint8_t meta = data[0];
    int idSize = (meta >> 4) & 3;
    if (idSize == 3 || (meta & 0x80) || (meta & 8)) return sm_unexpected(c, "rpc meta", data, len);
    size_t o = 1, idBytes = idSize == 0 ? 1 : idSize == 1 ? 2 : 4, midBytes = (meta & 0x40) ? 2 : 1;
    if (len < o + idBytes + midBytes + 1) return sm_unexpected(c, "rpc short", data, len);
    uint32_t node = 0;
    uint16_t method = 0;
    memcpy(&node, data + o, idBytes), o += idBytes;
    memcpy(&method, data + o, midBytes), o += midBytes;
    uint8_t argc = data[o++];
    if (method != 0 || argc != 2) return sm_unexpected(c, "rpc method/argc", data, len);
    int64_t n = 0;
    uint32_t type;
    float x, y;
    size_t intBytes;
    if (len < o + 12) return sm_unexpected(c, "rpc args", data, len);
    memcpy(&type, data + o, 4);
    memcpy(&x, data + o + 4, 4);
    memcpy(&y, data + o + 8, 4);
    o += 12;
    if (type != 5 || (intBytes = sm_get_int(data + o, len - o, &n)) == 0) return sm_unexpected(c, "rpc args", data, len);
    o += intBytes;
    if (node & 0x80000000u) { /* inline path, only before we confirmed the server's SIMPLIFY_PATH */
        if ((node & 0x7FFFFFFFu) != o || len != o + sizeof SM_BENCH_PATH || memcmp(data + o, SM_BENCH_PATH, sizeof SM_BENCH_PATH) != 0)
            return sm_unexpected(c, "rpc inline path", data, len);
    } else if (node != c->smServerId || c->smServerId == 0 || len != o) {
        return sm_unexpected(c, "rpc node id", data, len);
    }
    int slot = (int) (n & 63);
    uint32_t seq = (uint32_t) (n >> 6);
    if (n < 0 || x != (float) c->idx || y != (float) slot + 0.5f) return sm_unexpected(c, "rpc arguments differ", data, len);
    Slot *s = &c->slots[slot];
    if (mode != MODE_RPC || slot >= inflight || !s->busy || s->seq != seq) {
        stale++;
        return;
    }
    s->busy = 0;
    if (measuring) {
        completed++;
        hist_add(now > s->sent ? now - s->sent : 0);
    }
    if (sending) send_slot(c, slot);
}

static void scene_payload(Client *c, const uint8_t *data, size_t len) {
    if (len == 0) return sm_unexpected(c, "empty", data, len);
    switch (data[0] & 7) {
    case 0:
        sm_rpc_reply(c, data, len);
        break;
    case 1: { /* the server offers its path of "Bench" before its first RPC to us */
        if (len < 39 || data[len - 1] != 0 || strcmp((const char *) data + 38, SM_BENCH_PATH) != 0 || c->smServerId != 0)
            return sm_unexpected(c, "SIMPLIFY_PATH", data, len);
        uint8_t confirm[6] = { 2, memcmp(data + 1, SM_BENCH_MD5, 33) == 0 };
        if (!confirm[1]) sm_unexpected(c, "SIMPLIFY_PATH checksum", data, len);
        memcpy(&c->smServerId, data + 34, 4);
        memcpy(confirm + 2, data + 34, 4);
        send_raw(c, confirm, 6, 1);
        break;
    }
    case 2: { /* the server confirms our path */
        uint32_t id = 0;
        if (len == 6) memcpy(&id, data + 2, 4);
        if (len != 6 || id != SM_BENCH_ID || c->smOffered != 1 || data[1] != 1) return sm_unexpected(c, "CONFIRM_PATH", data, len);
        c->smOffered = 2;
        break;
    }
    case 3: { /* send_bytes echo */
        uint32_t idx = 0;
        if (len > 8) memcpy(&idx, data + 5, 4);
        if (mode != MODE_BYTES) stale++;
        else if (len != 1 + (size_t) msgSize || idx != (uint32_t) c->idx) sm_unexpected(c, "RAW echo", data, len);
        else echo_complete(c, data + 1, len - 1);
        break;
    }
    case 7: {
        if (len >= 6 && (data[1] == 1 || data[1] == 2)) { /* ADD_PEER / DEL_PEER */
            smAddPeers += data[1] == 1;
            break;
        }
        if (len < 7 || data[1] != 3) return sm_unexpected(c, "SYS", data, len);
        /* RELAY: i32 source, then the source's RAW; we must be its destination. */
        int32_t source;
        uint32_t idx;
        memcpy(&source, data + 2, 4);
        if (mode != MODE_RELAY) {
            stale++;
            break;
        }
        if (len != 7 + (size_t) msgSize || data[6] != 3) return sm_unexpected(c, "RELAY", data, len);
        memcpy(&idx, data + 11, 4);
        if (idx >= (uint32_t) nClients || (int32_t) clients[idx].godotId != source || (int) ((idx + 1) % (uint32_t) nClients) != c->idx)
            return sm_unexpected(c, "RELAY source", data, len);
        echo_complete(&clients[idx], data + 7, len - 7);
        break;
    }
    default:
        sm_unexpected(c, "command", data, len);
    }
}

/* Unreliable slots whose echo did not come back in time are counted lost and refilled. */
static void check_losses(void) {
    for (int i = 0; i < nClients; i++) {
        Client *c = &clients[i];
        if (c->state != ST_CONNECTED) continue;
        for (int s = 0; s < inflight; s++) {
            Slot *slot = &c->slots[s];
            if (!slot->busy || slot->reliable || now - slot->sent < LOSS_NS) continue;
            if (measuring) lost++;
            if (debug) fprintf(stderr, "lost: client %d slot %d seq %u\n", c->idx, s, slot->seq);
            slot->busy = 0;
            if (sending) send_slot(c, s);
        }
    }
}

static uint64_t lastSweep, lastLossCheck;

/* One turn: wait up to 1 ms for readable sockets, service them, and keep ENet's timers running on
 * hosts that have not been serviced lately (retransmits, pings; they need no socket I/O otherwise). */
static void loop_once(void) {
    struct epoll_event evs[1024];
    int n = epoll_wait(epfd, evs, 1024, 1);
    now = mono_ns();
    for (int i = 0; i < n; i++) service_host((Host *) evs[i].data.ptr);
    uint64_t sweep = nHosts > 200 ? 50000000ull : 20000000ull;
    if (proto != PROTO_UDP && now - lastSweep >= sweep) {
        lastSweep = now;
        for (int i = 0; i < nHosts; i++)
            if (now - hosts[i].lastService >= sweep) service_host(&hosts[i]);
    }
    if (now - lastLossCheck >= 50000000ull) {
        lastLossCheck = now;
        check_losses();
        if (proto == PROTO_UDP)
            for (int i = 0; i < nClients; i++)
                if (clients[i].state == ST_CONNECTING && now - clients[i].helloSent > 200000000ull) send_hello(&clients[i]);
    }
    if (replHz > 0) repl_inputs();
    flush_hosts();
}

static void loop_for(double secs) {
    uint64_t end = mono_ns() + (uint64_t) (secs * 1e9);
    do loop_once();
    while (now < end);
}

/* ---------------------------------------------------------------- setup */

static void setup(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (proto == PROTO_UDP && perHost != 1) perHost = 1;
    nHosts = (nClients + perHost - 1) / perHost;
    if ((rlim_t) nHosts + 64 > rl.rlim_cur) die("need %d descriptors, RLIMIT_NOFILE is %llu", nHosts + 64, (unsigned long long) rl.rlim_cur);
    clients = calloc((size_t) nClients, sizeof *clients);
    hosts = calloc((size_t) nHosts, sizeof *hosts);
    epfd = epoll_create1(0);
    if (proto != PROTO_UDP) {
        if (enet_initialize() != 0) die("enet_initialize failed");
        char mapped[80];
        snprintf(mapped, sizeof mapped, strchr(serverIp, ':') ? "%s" : "::ffff:%s", serverIp);
        if (enet_address_set_host_ip(&enetServer, mapped) != 0) die("bad address %s", serverIp);
        enetServer.port = (enet_uint16) serverPort;
    } else {
        memset(&udpServer, 0, sizeof udpServer);
        udpServer.sin_family = AF_INET;
        udpServer.sin_port = htons((uint16_t) serverPort);
        inet_pton(AF_INET, serverIp, &udpServer.sin_addr);
    }
    size_t channels = GODOT_WIRE ? 255 : 2;
    for (int i = 0; i < nHosts; i++) {
        Host *h = &hosts[i];
        int peers = (i == nHosts - 1) ? nClients - i * perHost : perHost;
        if (proto == PROTO_UDP) {
            h->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            int size = 256 * 1024;
            setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
            setsockopt(h->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
            if (h->fd < 0 || connect(h->fd, (struct sockaddr *) &udpServer, sizeof udpServer) != 0) die("udp socket: %s", strerror(errno));
        } else {
            h->enet = enet_host_create(NULL, (size_t) peers, channels, 0, 0);
            if (!h->enet) die("enet_host_create failed for host %d (%s)", i, strerror(errno));
            h->fd = h->enet->socket;
            if (peers > 1 && godot_enet_socket_batch_receives) godot_enet_socket_batch_receives(h->fd);
            if (proto == PROTO_DTLS) {
                char error[256] = "the DTLS layer is not linked in";
                GodotENetDtls *dtls = godot_enet_dtls_client_create && godot_enet_socket_set_dtls
                    ? godot_enet_dtls_client_create(h->fd, NULL, NULL, 0, 0, NULL, NULL, 0, error, sizeof error) : NULL;
                if (dtls == NULL || godot_enet_socket_set_dtls(h->fd, dtls) != 0) die("DTLS client setup failed: %s", error);
            }
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, h->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
    }
    srand((unsigned) (mono_ns() ^ (uint64_t) getpid()));
    for (int i = 0; i < nClients; i++) {
        Client *c = &clients[i];
        c->idx = i;
        c->host = &hosts[i / perHost];
        /* Godot ids: random, in [2, 2^31-1], unique through the low 12 bits. */
        c->godotId = ((uint32_t) (rand() % 0x7FFFF) + 1) << 12 | (uint32_t) (i & 0xFFF);
        if (i >= 4096) c->godotId = 0x10000000u + (uint32_t) i;
    }
    for (int i = 0; i < MAX_SIZE; i++) sendBuf[i] = 'Z';
}

static void connect_all(void) {
    long rssBefore = serverPid ? proc_rss_kb(serverPid) : -1;
    double cpu0 = serverPid ? proc_cpu(serverPid) : 0;
    uint64_t t0 = mono_ns();
    now = t0;
    size_t channels = GODOT_WIRE ? 255 : 2;
    for (int i = 0; i < nClients; i++) {
        Client *c = &clients[i];
        c->state = ST_CONNECTING;
        if (proto == PROTO_UDP) {
            send_hello(c);
            continue;
        }
        enet_uint32 data = GODOT_WIRE ? c->godotId : (enet_uint32) i;
        c->peer = enet_host_connect(c->host->enet, &enetServer, channels, data);
        if (!c->peer) die("enet_host_connect failed for client %d", i);
        c->peer->data = c;
        c->host->dirty = 1;
    }
    flush_hosts();
    uint64_t deadline = t0 + (uint64_t) (connectTimeoutSecs * 1e9);
    uint64_t tAll = 0;
    while (now < deadline) {
        loop_once();
        if (connectedCount >= nClients) {
            tAll = now;
            break;
        }
    }
    int connectedAtEnd = connectedCount;
    loop_for(settleSecs);
    long rssAfter = serverPid ? proc_rss_kb(serverPid) : -1;
    double cpu1 = serverPid ? proc_cpu(serverPid) : 0;
    printf("{\"type\":\"connect\",\"clients\":%d,\"hosts\":%d,\"connected\":%d,\"ms\":%.3f,\"rss_before_kb\":%ld,"
           "\"rss_after_kb\":%ld,\"server_cpu_s\":%.3f,\"disconnects\":%d}\n",
        nClients, nHosts, connectedAtEnd, tAll ? (double) (tAll - t0) / 1e6 : -1.0, rssBefore, rssAfter, cpu1 - cpu0,
        disconnects);
    fflush(stdout);
}

static int parse_workload(const char *name, int *m, int *size, int *infl) {
    *size = 64;
    *infl = 0;
    if (strcmp(name, "idle") == 0) return *m = MODE_IDLE, 1;
    if (strcmp(name, "bcast") == 0) return *m = MODE_BCAST, 1;
    if (strcmp(name, "repl") == 0) return *m = MODE_REPL, replHz > 0;
    /* Scene workloads: reliable, 10 in flight per client, 64-byte messages for bytes and relay. */
    if (strcmp(name, "rpc") == 0 || strcmp(name, "bytes") == 0 || strcmp(name, "relay") == 0) {
        *m = strcmp(name, "rpc") == 0 ? MODE_RPC : strcmp(name, "bytes") == 0 ? MODE_BYTES : MODE_RELAY;
        *infl = 10;
        return proto == PROTO_SCENE && (*m != MODE_RELAY || nClients >= 2);
    }
    const char *p = name;
    if (strncmp(p, "unrel", 5) == 0) *m = MODE_UNREL, p += 5;
    else if (strncmp(p, "rel", 3) == 0) *m = MODE_REL, p += 3;
    else if (strncmp(p, "mix", 3) == 0) *m = MODE_MIX, p += 3;
    else return 0;
    if (sscanf(p, "%dx%d", size, infl) != 2) return 0;
    if (*size < HEADER || *size > MAX_SIZE || *infl < 1 || *infl > MAX_INFLIGHT) return 0;
    return proto != PROTO_SCENE; /* the scene server echoes only its own workloads */
}

/* Starts a workload: a new epoch (echoes of the previous one are ignored), every slot filled. */
static void start_workload(int m, int size, int infl) {
    epoch++;
    mode = m;
    msgSize = size;
    inflight = infl;
    sending = m != MODE_IDLE && m != MODE_BCAST;
    now = mono_ns();
    for (int i = 0; i < nClients; i++) {
        Client *c = &clients[i];
        memset(c->slots, 0, sizeof c->slots);
        if (c->state != ST_CONNECTED || !sending) continue;
        for (int s = 0; s < inflight; s++) send_slot(c, s);
    }
    flush_hosts();
}

static int outstanding(void) {
    int n = 0;
    for (int i = 0; i < nClients; i++)
        if (clients[i].state == ST_CONNECTED)
            for (int s = 0; s < inflight; s++) n += clients[i].slots[s].busy;
    return n;
}

/* Stops sending and waits until every message in flight has come back (or, if unreliable, timed out),
 * at most 3 s, so that no backlog of one workload spills into the next. */
static void stop_workload(void) {
    sending = 0;
    measuring = 0;
    uint64_t deadline = mono_ns() + 3000000000ull;
    while (outstanding() > 0 && now < deadline) loop_once();
    loop_for(drainSecs);
    mode = MODE_IDLE;
    inflight = 0;
}

static void reset_stats(void) {
    completed = lost = stale = bytesIn = sendFailures = unexpected = 0;
    repl_reset_stats();
    memset(hist, 0, sizeof hist);
    histCount = 0;
}

static void run_window(const char *spec, int round) {
    int m, size, infl;
    char name[64];
    double window = windowSecs;
    snprintf(name, sizeof name, "%s", spec);
    char *colon = strchr(name, ':');
    if (colon) {
        *colon = 0;
        window = atof(colon + 1);
    }
    if (!parse_workload(name, &m, &size, &infl) || window <= 0) die("unknown workload %s", spec);
    start_workload(m, size, infl);
    loop_for(warmupSecs);
    reset_stats();
    int disc0 = disconnects;
    CoreTimes c0, c1;
    core_times(&c0);
    double s0 = serverPid ? proc_cpu(serverPid) : 0, l0 = self_cpu(), q0 = 0, w0 = 0, lq0, lw0;
    if (serverPid) proc_sched(serverPid, &q0, &w0);
    proc_sched(getpid(), &lq0, &lw0);
    uint64_t t0 = mono_ns();
    now = t0;
    measuring = 1;
    loop_for(window);
    measuring = 0;
    uint64_t t1 = mono_ns();
    double s1 = serverPid ? proc_cpu(serverPid) : 0, l1 = self_cpu(), q1 = 0, w1 = 0, lq1, lw1;
    if (serverPid) proc_sched(serverPid, &q1, &w1);
    proc_sched(getpid(), &lq1, &lw1);
    core_times(&c1);
    double secs = (double) (t1 - t0) / 1e9;
    long rss = serverPid ? proc_rss_kb(serverPid) : -1;
    printf("{\"type\":\"window\",\"workload\":\"%s\",\"round\":%d,\"clients\":%d,\"connected\":%d,\"secs\":%.4f,"
           "\"completed\":%llu,\"msgs_per_s\":%.1f,\"lost\":%llu,\"stale\":%llu,\"send_failures\":%llu,"
           "\"unexpected\":%llu,\"rtt_p50_us\":%.2f,\"rtt_p99_us\":%.2f,\"rtt_p999_us\":%.2f,\"server_cpu_s\":%.3f,\"loadgen_cpu_s\":%.3f,"
           "\"server_sched_cpu_s\":%.6f,\"server_wait_s\":%.6f,\"loadgen_wait_s\":%.6f,\"server_rss_kb\":%ld,\"disconnects\":%d,\"bytes_in\":%llu,\"expected_per_s\":%d,",
        name, round, nClients, connectedCount, secs, (unsigned long long) completed, (double) completed / secs,
        (unsigned long long) lost, (unsigned long long) stale, (unsigned long long) sendFailures, (unsigned long long) unexpected,
        hist_pct(0.50) / 1e3, hist_pct(0.99) / 1e3, hist_pct(0.999) / 1e3, s1 - s0, l1 - l0, q1 - q0, w1 - w0, lw1 - lw0, rss,
        disconnects - disc0, (unsigned long long) bytesIn, m == MODE_BCAST ? bcastHz * connectedCount : m == MODE_REPL ? replHz * connectedCount : 0);
    if (m == MODE_REPL)
        printf("\"repl_hz\":%d,\"sync_packets\":%llu,\"sync_entries\":%llu,\"deltas\":%llu,\"spawns\":%llu,\"despawns\":%llu,"
               "\"inputs_sent\":%llu,\"inputs_confirmed\":%llu,",
            replHz, (unsigned long long) replSyncPackets, (unsigned long long) replSyncEntries, (unsigned long long) replDeltas,
            (unsigned long long) replSpawns, (unsigned long long) replDespawns, (unsigned long long) replInputs,
            (unsigned long long) replConfirmed);
    print_core_busy(&c0, &c1);
    printf("}\n");
    fflush(stdout);
    stop_workload();
}

/* A constant load for `steadySecs`, the server's RSS sampled every `sampleSecs`. */
static void run_steady(void) {
    int m, size, infl;
    if (!parse_workload(steadyWorkload, &m, &size, &infl)) die("unknown workload %s", steadyWorkload);
    start_workload(m, size, infl);
    reset_stats();
    measuring = 1;
    uint64_t t0 = mono_ns();
    double s0 = proc_cpu(serverPid);
    for (int k = 0;; k++) {
        now = mono_ns();
        double t = (double) (now - t0) / 1e9;
        printf("{\"type\":\"rss\",\"workload\":\"%s\",\"t\":%.3f,\"rss_kb\":%ld,\"completed\":%llu,\"server_cpu_s\":%.3f,"
               "\"connected\":%d,\"lost\":%llu}\n",
            steadyWorkload, t, proc_rss_kb(serverPid), (unsigned long long) completed, proc_cpu(serverPid) - s0,
            connectedCount, (unsigned long long) lost);
        fflush(stdout);
        if (t >= steadySecs - 1e-3) break;
        double next = (k + 1) * sampleSecs;
        if (next > steadySecs) next = steadySecs;
        loop_for(next - t);
    }
    stop_workload();
}

static void usage(void) {
    fprintf(stderr,
        "usage: loadgen --proto enet|godot|udp|dtls|scene --port P [--addr 127.0.0.1] [--clients N] [--per-host K]\n"
        "               [--server-pid PID] [--first w1,...] [--plan w1,w2,...] [--rounds R] [--warmup S]\n"
        "               [--window S] [--drain S]\n"
        "               [--settle S] [--steady S --steady-workload W --sample S] [--bcast-hz HZ]\n"
        "               [--no-throttle 1] [--repl-hz HZ (replication clients: --proto godot, workload repl)]\n"
        "               (--proto scene: SceneMultiplayer clients, workloads rpc, bytes, relay)\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--proto")) {
            proto = !strcmp(v, "enet") ? PROTO_ENET : !strcmp(v, "godot") ? PROTO_GODOT : !strcmp(v, "udp") ? PROTO_UDP
                  : !strcmp(v, "dtls") ? PROTO_DTLS : !strcmp(v, "scene") ? PROTO_SCENE : -1;
            if (proto < 0) usage();
        } else if (!strcmp(a, "--addr")) snprintf(serverIp, sizeof serverIp, "%s", v);
        else if (!strcmp(a, "--port")) serverPort = atoi(v);
        else if (!strcmp(a, "--clients")) nClients = atoi(v);
        else if (!strcmp(a, "--per-host")) perHost = atoi(v);
        else if (!strcmp(a, "--server-pid")) serverPid = atoi(v);
        else if (!strcmp(a, "--plan")) snprintf(plan, sizeof plan, "%s", v);
        else if (!strcmp(a, "--first")) snprintf(firstPlan, sizeof firstPlan, "%s", v);
        else if (!strcmp(a, "--rounds")) rounds = atoi(v);
        else if (!strcmp(a, "--warmup")) warmupSecs = atof(v);
        else if (!strcmp(a, "--window")) windowSecs = atof(v);
        else if (!strcmp(a, "--drain")) drainSecs = atof(v);
        else if (!strcmp(a, "--settle")) settleSecs = atof(v);
        else if (!strcmp(a, "--connect-timeout")) connectTimeoutSecs = atof(v);
        else if (!strcmp(a, "--steady")) steadySecs = atof(v);
        else if (!strcmp(a, "--steady-workload")) snprintf(steadyWorkload, sizeof steadyWorkload, "%s", v);
        else if (!strcmp(a, "--sample")) sampleSecs = atof(v);
        else if (!strcmp(a, "--bcast-hz")) bcastHz = atoi(v);
        else if (!strcmp(a, "--no-throttle")) noThrottle = atoi(v);
        else if (!strcmp(a, "--repl-hz")) replHz = atoi(v);
        else usage();
        i++;
    }
    if (serverPort <= 0 || nClients < 1 || perHost < 1 || rounds < 1 || replHz < 0 || (replHz > 0 && proto != PROTO_GODOT)) usage();
    debug = getenv("LOADGEN_DEBUG") != NULL;
    setup();
    connect_all();
    if (connectedCount < nClients) fprintf(stderr, "loadgen: only %d of %d clients connected\n", connectedCount, nClients);
    if (firstPlan[0]) {
        int r = 0;
        for (char *save = NULL, *w = strtok_r(firstPlan, ",", &save); w; w = strtok_r(NULL, ",", &save)) run_window(w, ++r);
    }
    if (plan[0]) {
        for (int r = 1; r <= rounds; r++) {
            char copy[sizeof plan];
            snprintf(copy, sizeof copy, "%s", plan);
            for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) run_window(w, r);
        }
    }
    if (steadySecs > 0 && serverPid) run_steady();
    printf("{\"type\":\"done\",\"disconnects\":%d,\"unexpected_total\":%llu", disconnects, (unsigned long long) unexpectedTotal);
    if (proto == PROTO_SCENE) { /* how far the path caches got: each client's offer confirmed, the server's offer received */
        int ours = 0, theirs = 0;
        for (int i = 0; i < nClients; i++) ours += clients[i].smOffered == 2, theirs += clients[i].smServerId != 0;
        printf(",\"paths_confirmed\":%d,\"server_paths\":%d,\"add_peers\":%llu", ours, theirs, (unsigned long long) smAddPeers);
    }
    printf("}\n");
    fflush(stdout);
    return 0;
}

/*
 * sockchr.h — a listening socket for the monitor and QMP, as QEMU's socket chardev in
 * server mode: "unix:PATH,server[,nowait]" or "tcp:HOST:PORT,server[,nowait]" (also
 * the newer server=on / wait=off spelling). One client at a time: further clients
 * wait in the listen backlog until the current one leaves. Everything is
 * non-blocking and polled by the front end between slices of guest time.
 *
 *     SockChr s; if (sockchr_open(&s, "unix:/tmp/m.sock,server,nowait", err, n) < 0) ...
 *     if (sockchr_accept(&s)) greet();           // a new client
 *     n = sockchr_read(&s, buf, sizeof buf);     // >0 bytes, 0 none, -1 client left
 *     sockchr_write(&s, "text", 4);
 */
#ifndef DBT86_SOCKCHR_H
#define DBT86_SOCKCHR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct SockChr {
    int listen_fd;   /* -1: not open */
    int client_fd;   /* -1: no client */
    bool wait;       /* wait for a client before the machine starts (no "nowait") */
    char unix_path[108]; /* removed at close (unix sockets) */
    char desc[160];  /* the spec, for messages */
} SockChr;

/* Parses `spec` and listens. 0, or -1 with a one-line message in err. */
int sockchr_open(SockChr *s, const char *spec, char *err, size_t errlen);
/* Blocks until a client connects (for a socket without nowait). */
void sockchr_wait_client(SockChr *s);
/* Accepts a waiting client when none is connected; true when one was accepted. */
bool sockchr_accept(SockChr *s);
/* Reads what the client sent: > 0 bytes, 0 nothing now, -1 the client left (closed). */
int sockchr_read(SockChr *s, char *buf, size_t len);
/* Writes everything to the client (waits a little if its buffer is full; a client
 * that does not read for seconds is dropped). No-op without a client. */
void sockchr_write(SockChr *s, const char *buf, size_t len);
/* Drops the current client. */
void sockchr_disconnect(SockChr *s);
void sockchr_close(SockChr *s);
/* File descriptors worth polling for input (listener while no client, client). */
int sockchr_poll_fd(const SockChr *s);

#endif

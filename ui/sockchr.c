/*
 * sockchr.c — the server sockets behind -monitor and -qmp (see sockchr.h). Clients
 * are non-blocking; writes wait for room at most a few seconds, so a client that
 * stops reading cannot stall the emulator forever.
 */
#include "ui/sockchr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The options after the address: server, nowait, server=on|off, wait=on|off. */
static int parse_flags(SockChr *s, const char *opts, char *err, size_t errlen)
{
    bool server = false;
    s->wait = true;
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", opts);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "server") || !strcmp(t, "server=on")) server = true;
        else if (!strcmp(t, "server=off")) server = false;
        else if (!strcmp(t, "nowait") || !strcmp(t, "wait=off")) s->wait = false;
        else if (!strcmp(t, "wait") || !strcmp(t, "wait=on")) s->wait = true;
        else {
            snprintf(err, errlen, "%s: unknown socket option '%s' (server, nowait)", s->desc, t);
            return -1;
        }
    }
    if (!server) {
        snprintf(err, errlen, "%s: only server sockets are supported (add ,server,nowait)",
                 s->desc);
        return -1;
    }
    return 0;
}

static int open_unix(SockChr *s, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (!*path || strlen(path) >= sizeof(a.sun_path)) {
        snprintf(err, errlen, "%s: bad socket path", s->desc);
        return -1;
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: socket: %s", s->desc, strerror(errno));
        return -1;
    }
    /* a stale socket file from an earlier run is replaced, as QEMU does */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
        snprintf(err, errlen, "%s: %s", s->desc, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(s->unix_path, sizeof(s->unix_path), "%s", path);
    s->listen_fd = fd;
    return 0;
}

static int open_tcp(SockChr *s, const char *hostport, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host)) {
        snprintf(err, errlen, "%s: expected tcp:HOST:PORT", s->desc);
        return -1;
    }
    memcpy(host, hostport, colon - hostport);
    host[colon - hostport] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", s->desc, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4) < 0) {
        snprintf(err, errlen, "%s: %s", s->desc, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    s->listen_fd = fd;
    return 0;
}

int sockchr_open(SockChr *s, const char *spec, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->listen_fd = s->client_fd = -1;
    snprintf(s->desc, sizeof(s->desc), "%s", spec);
    bool is_unix = !strncmp(spec, "unix:", 5);
    if (!is_unix && strncmp(spec, "tcp:", 4)) {
        snprintf(err, errlen, "%s: expected stdio, unix:PATH,server[,nowait], "
                 "tcp:HOST:PORT,server[,nowait] or none", spec);
        return -1;
    }
    const char *addr = spec + (is_unix ? 5 : 4);
    const char *comma = strchr(addr, ',');
    char a[256];
    size_t alen = comma ? (size_t)(comma - addr) : strlen(addr);
    if (alen >= sizeof(a)) {
        snprintf(err, errlen, "%s: address too long", spec);
        return -1;
    }
    memcpy(a, addr, alen);
    a[alen] = 0;
    if (parse_flags(s, comma ? comma + 1 : "", err, errlen) < 0) return -1;
    if ((is_unix ? open_unix(s, a, err, errlen) : open_tcp(s, a, err, errlen)) < 0) return -1;
    set_nonblock(s->listen_fd);
    return 0;
}

void sockchr_wait_client(SockChr *s)
{
    if (s->listen_fd < 0 || s->client_fd >= 0) return;
    fprintf(stderr, "dbt86: waiting for connection on %s\n", s->desc);
    while (!sockchr_accept(s)) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
    }
}

bool sockchr_accept(SockChr *s)
{
    if (s->listen_fd < 0 || s->client_fd >= 0) return false;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) return false;
    set_nonblock(fd);
    s->client_fd = fd;
    return true;
}

int sockchr_read(SockChr *s, char *buf, size_t len)
{
    if (s->client_fd < 0) return 0;
    ssize_t n = recv(s->client_fd, buf, len, 0);
    if (n > 0) return (int)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    sockchr_disconnect(s);
    return -1;
}

void sockchr_write(SockChr *s, const char *buf, size_t len)
{
    int waited_ms = 0;
    while (len && s->client_fd >= 0) {
        ssize_t n = send(s->client_fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waited_ms < 5000) {
            struct pollfd p = {.fd = s->client_fd, .events = POLLOUT};
            poll(&p, 1, 100);
            waited_ms += 100;
            continue;
        }
        sockchr_disconnect(s); /* gone, or not reading */
    }
}

void sockchr_disconnect(SockChr *s)
{
    if (s->client_fd >= 0) close(s->client_fd);
    s->client_fd = -1;
}

void sockchr_close(SockChr *s)
{
    sockchr_disconnect(s);
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->listen_fd = -1;
    if (s->unix_path[0]) unlink(s->unix_path);
    s->unix_path[0] = 0;
}

int sockchr_poll_fd(const SockChr *s)
{
    return s->client_fd >= 0 ? s->client_fd : s->listen_fd;
}

/*
 * qmp.c — QMP, the QEMU Machine Protocol, as QEMU's documentation describes it
 * (docs/interop/qmp-spec): the server greets with {"QMP": {"version": ...,
 * "capabilities": []}}; the client must send qmp_capabilities first (anything else
 * gets CommandNotFound); then {"execute": NAME, "arguments": {...}, "id": ANY} gets
 * {"return": ...} or {"error": {"class": ..., "desc": ...}} with the id echoed, and
 * events {"event": NAME, "data": {...}, "timestamp": {"seconds", "microseconds"}}
 * arrive between replies.
 *
 * Input framing: JSON values are split off the byte stream by bracket depth (outside
 * strings), so a client may send several per line or one over several lines; text at
 * depth 0 that is not an object or array runs to the end of its line and is answered
 * with an error. Each value is then parsed by jansson. Replies end with CRLF as
 * QEMU's do.
 */
#include "ui/qmp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ui/keynames.h"
#include "ui/monitor.h"
#include "ui/sockchr.h"

#define QMP_MAX_INPUT (1u << 20) /* one command may be this large */

struct Qmp {
    SockChr sock;
    Monitor *mon;
    bool negotiated;
    char *buf; /* bytes received, not yet framed */
    size_t len, cap;
};

Qmp *qmp_open(const char *spec, char *err, size_t errlen)
{
    Qmp *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "-qmp: out of memory");
        return NULL;
    }
    char e[400];
    if (sockchr_open(&q->sock, spec, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "-qmp %s", e);
        free(q);
        return NULL;
    }
    return q;
}

int qmp_poll_fd(const Qmp *q) { return sockchr_poll_fd(&q->sock); }

static void send_json(Qmp *q, json_t *v)
{
    char *s = json_dumps(v, JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!s) return;
    sockchr_write(&q->sock, s, strlen(s));
    sockchr_write(&q->sock, "\r\n", 2);
    free(s);
}

static void greet(Qmp *q)
{
    q->negotiated = false;
    q->len = 0;
    unsigned major = 0, minor = 0, micro = 0;
    sscanf(DBT86_VERSION, "%u.%u.%u", &major, &minor, &micro);
    send_json(q, json_pack("{s:{s:{s:{s:i,s:i,s:i},s:s},s:[]}}", "QMP", "version", "qemu",
                           "micro", (int)micro, "minor", (int)minor, "major", (int)major,
                           "package", " (dbt86)", "capabilities"));
}

void qmp_start(Qmp *q, Monitor *mon)
{
    q->mon = mon;
    if (q->sock.wait) {
        sockchr_wait_client(&q->sock);
        greet(q);
    }
}

void qmp_event(Qmp *q, const char *name, const char *data)
{
    if (q->sock.client_fd < 0 || !q->negotiated) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    json_t *ev = json_object();
    json_object_set_new(ev, "timestamp", json_pack("{s:I,s:I}", "seconds", (json_int_t)tv.tv_sec,
                                                   "microseconds", (json_int_t)tv.tv_usec));
    json_object_set_new(ev, "event", json_string(name));
    if (data) {
        json_t *d = json_loads(data, 0, NULL);
        if (d) json_object_set_new(ev, "data", d);
    }
    send_json(q, ev);
}

/* ---- replies ---- */

static void reply(Qmp *q, json_t *ret, json_t *id)
{
    json_t *r = json_object();
    json_object_set_new(r, "return", ret ? ret : json_object());
    if (id) json_object_set(r, "id", id);
    send_json(q, r);
}

static void reply_error(Qmp *q, const char *cls, json_t *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reply_error(Qmp *q, const char *cls, json_t *id, const char *fmt, ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    json_t *r = json_object();
    json_object_set_new(r, "error", json_pack("{s:s,s:s}", "class", cls, "desc", desc));
    if (id) json_object_set(r, "id", id);
    send_json(q, r);
}

/* ---- commands ---- */

typedef struct QmpCmd {
    const char *name;
    const char *const *args; /* accepted argument names (NULL-terminated) */
    const char *const *required;
    /* returns the "return" value (NULL = {}), or NULL with *err set */
    json_t *(*fn)(Qmp *q, json_t *args, char *err, size_t errlen);
} QmpCmd;

static json_t *q_capabilities(Qmp *q, json_t *args, char *err, size_t errlen)
{
    json_t *en = json_object_get(args, "enable");
    if (en && (!json_is_array(en) || json_array_size(en))) {
        snprintf(err, errlen, "Capability '%s' not available",
                 json_is_array(en) && json_is_string(json_array_get(en, 0))
                     ? json_string_value(json_array_get(en, 0))
                     : "?");
        return NULL;
    }
    q->negotiated = true;
    return json_object();
}

static json_t *q_query_status(Qmp *q, json_t *args, char *err, size_t errlen)
{
    bool paused = monitor_paused(q->mon);
    return json_pack("{s:s,s:b,s:b}", "status", paused ? "paused" : "running", "singlestep", 0,
                     "running", !paused);
}

static json_t *q_query_version(Qmp *q, json_t *args, char *err, size_t errlen)
{
    unsigned major = 0, minor = 0, micro = 0;
    sscanf(DBT86_VERSION, "%u.%u.%u", &major, &minor, &micro);
    return json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro", (int)micro, "minor",
                     (int)minor, "major", (int)major, "package", " (dbt86)");
}

static json_t *q_stop(Qmp *q, json_t *args, char *err, size_t errlen)
{
    monitor_stop(q->mon);
    return json_object();
}

static json_t *q_cont(Qmp *q, json_t *args, char *err, size_t errlen)
{
    monitor_cont(q->mon);
    return json_object();
}

static json_t *q_reset(Qmp *q, json_t *args, char *err, size_t errlen)
{
    monitor_system_reset(q->mon);
    return json_object();
}

static json_t *q_powerdown(Qmp *q, json_t *args, char *err, size_t errlen)
{
    monitor_system_powerdown(q->mon);
    return json_object();
}

static json_t *q_quit(Qmp *q, json_t *args, char *err, size_t errlen)
{
    monitor_quit(q->mon);
    return json_object();
}

static json_t *q_hmp(Qmp *q, json_t *args, char *err, size_t errlen)
{
    json_t *cl = json_object_get(args, "command-line");
    if (!json_is_string(cl)) {
        snprintf(err, errlen, "Invalid parameter type for 'command-line', expected: string");
        return NULL;
    }
    MonBuf out = {0};
    monitor_command(q->mon, json_string_value(cl), &out);
    json_t *r = json_string(out.s ? out.s : "");
    monbuf_free(&out);
    return r ? r : json_string("");
}

static json_t *q_screendump(Qmp *q, json_t *args, char *err, size_t errlen)
{
    json_t *fn = json_object_get(args, "filename");
    json_t *fmt = json_object_get(args, "format");
    if (!json_is_string(fn)) {
        snprintf(err, errlen, "Invalid parameter type for 'filename', expected: string");
        return NULL;
    }
    if (fmt && !json_is_string(fmt)) {
        snprintf(err, errlen, "Invalid parameter type for 'format', expected: string");
        return NULL;
    }
    if (monitor_screendump(q->mon, json_string_value(fn), fmt ? json_string_value(fmt) : NULL,
                           false, err, errlen) < 0)
        return NULL;
    return json_object();
}

static json_t *q_send_key(Qmp *q, json_t *args, char *err, size_t errlen)
{
    json_t *keys = json_object_get(args, "keys");
    json_t *hold = json_object_get(args, "hold-time");
    const char *names[16];
    char numbers[16][8];
    size_t n = json_is_array(keys) ? json_array_size(keys) : 0;
    if (!n || n > 16) {
        snprintf(err, errlen, "Parameter 'keys' expects 1 to 16 keys");
        return NULL;
    }
    if (hold && (!json_is_integer(hold) || json_integer_value(hold) < 0)) {
        snprintf(err, errlen, "Invalid parameter type for 'hold-time', expected: integer");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        /* KeyValue: {"type": "qcode", "data": "a"} or {"type": "number", "data": 30} */
        json_t *k = json_array_get(keys, i);
        json_t *type = json_object_get(k, "type"), *data = json_object_get(k, "data");
        if (json_is_string(type) && !strcmp(json_string_value(type), "qcode") &&
            json_is_string(data)) {
            names[i] = json_string_value(data);
        } else if (json_is_string(type) && !strcmp(json_string_value(type), "number") &&
                   json_is_integer(data)) {
            snprintf(numbers[i], sizeof(numbers[i]), "0x%x",
                     (unsigned)(json_integer_value(data) & 0xffff));
            names[i] = numbers[i];
        } else {
            snprintf(err, errlen, "Invalid parameter 'keys': expected {\"type\": \"qcode\", "
                     "\"data\": NAME} or {\"type\": \"number\", \"data\": N}");
            return NULL;
        }
    }
    char bad[64];
    if (monitor_sendkeys(q->mon, names, (int)n, hold ? (int)json_integer_value(hold) : 100, bad,
                         sizeof(bad)) < 0) {
        snprintf(err, errlen, "Invalid parameter '%s'", bad);
        return NULL;
    }
    return json_object();
}

/* vmport: QEMU's input-send-event for pointer events: {"type": "abs", "data": {"axis":
 * "x"|"y", "value": 0..0x7fff}}, {"type": "rel", "data": {"axis", "value"}} and
 * {"type": "btn", "data": {"button": "left"|"right"|"middle"|"wheel-up"|"wheel-down",
 * "down": bool}}; the list is one event for the guest (QEMU syncs after it). */
static json_t *q_input_send_event(Qmp *q, json_t *args, char *err, size_t errlen)
{
    json_t *events = json_object_get(args, "events");
    if (!json_is_array(events) || !json_array_size(events)) {
        snprintf(err, errlen, "Invalid parameter type for 'events', expected: array");
        return NULL;
    }
    int dx = 0, dy = 0, dz = 0, ax = -1, ay = -1, buttons = -1;
    unsigned b = monitor_mouse_buttons(q->mon);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        json_t *type = json_object_get(ev, "type"), *data = json_object_get(ev, "data");
        const char *t = json_is_string(type) ? json_string_value(type) : "";
        if (!json_is_object(data)) {
            snprintf(err, errlen, "Invalid parameter 'events': each needs 'type' and 'data'");
            return NULL;
        }
        if (!strcmp(t, "abs") || !strcmp(t, "rel")) {
            json_t *axis = json_object_get(data, "axis"), *value = json_object_get(data, "value");
            const char *a = json_is_string(axis) ? json_string_value(axis) : "";
            if ((strcmp(a, "x") && strcmp(a, "y")) || !json_is_integer(value)) {
                snprintf(err, errlen, "Invalid parameter 'events': %s needs 'axis' (x or y) "
                         "and an integer 'value'", t);
                return NULL;
            }
            json_int_t v = json_integer_value(value);
            if (t[0] == 'a') {
                /* QEMU's absolute range 0..0x7fff; its vmmouse doubles it (0x7fff ->
                 * 0xfffe), so a guest sees the same numbers here as under QEMU */
                v = v < 0 ? 0 : v > 0x7fff ? 0x7fff : v;
                int pos = (int)(v * 2);
                if (a[0] == 'x') ax = pos;
                else ay = pos;
            } else {
                v = v < -65535 ? -65535 : v > 65535 ? 65535 : v;
                if (a[0] == 'x') dx += (int)v;
                else dy += (int)v;
            }
        } else if (!strcmp(t, "btn")) {
            json_t *button = json_object_get(data, "button"), *down = json_object_get(data, "down");
            const char *n = json_is_string(button) ? json_string_value(button) : "";
            if (!json_is_boolean(down)) {
                snprintf(err, errlen, "Invalid parameter 'events': btn needs 'button' and "
                         "'down'");
                return NULL;
            }
            unsigned bit = !strcmp(n, "left") ? 1 : !strcmp(n, "right") ? 2
                         : !strcmp(n, "middle") ? 4 : 0;
            if (bit) {
                b = json_is_true(down) ? b | bit : b & ~bit;
                buttons = (int)b;
            } else if (!strcmp(n, "wheel-up") || !strcmp(n, "wheel-down")) {
                if (json_is_true(down)) dz += n[6] == 'u' ? -1 : 1;
            } else {
                snprintf(err, errlen, "Invalid parameter 'button': '%s'", n);
                return NULL;
            }
        } else {
            snprintf(err, errlen, "input-send-event: event type '%s' is not supported (abs, "
                     "rel, btn)", t);
            return NULL;
        }
    }
    monitor_mouse(q->mon, dx, dy, dz, ax, ay, buttons);
    return json_object();
}

static json_t *q_query_commands(Qmp *q, json_t *args, char *err, size_t errlen);

static const char *const NO_ARGS[] = {NULL};
static const char *const CAP_ARGS[] = {"enable", NULL};
static const char *const HMP_ARGS[] = {"command-line", "cpu-index", NULL};
static const char *const HMP_REQ[] = {"command-line", NULL};
static const char *const SD_ARGS[] = {"filename", "format", "device", "head", NULL};
static const char *const SD_REQ[] = {"filename", NULL};
static const char *const SK_ARGS[] = {"keys", "hold-time", NULL};
static const char *const SK_REQ[] = {"keys", NULL};
static const char *const IE_ARGS[] = {"events", "device", "head", NULL};
static const char *const IE_REQ[] = {"events", NULL};

static const QmpCmd CMDS[] = {
    {"qmp_capabilities", CAP_ARGS, NO_ARGS, q_capabilities},
    {"query-status", NO_ARGS, NO_ARGS, q_query_status},
    {"query-version", NO_ARGS, NO_ARGS, q_query_version},
    {"query-commands", NO_ARGS, NO_ARGS, q_query_commands},
    {"stop", NO_ARGS, NO_ARGS, q_stop},
    {"cont", NO_ARGS, NO_ARGS, q_cont},
    {"system_reset", NO_ARGS, NO_ARGS, q_reset},
    {"system_powerdown", NO_ARGS, NO_ARGS, q_powerdown},
    {"quit", NO_ARGS, NO_ARGS, q_quit},
    {"human-monitor-command", HMP_ARGS, HMP_REQ, q_hmp},
    {"screendump", SD_ARGS, SD_REQ, q_screendump},
    {"send-key", SK_ARGS, SK_REQ, q_send_key},
    {"input-send-event", IE_ARGS, IE_REQ, q_input_send_event}, /* vmport */
};
#define N_CMDS (sizeof(CMDS) / sizeof(CMDS[0]))

static json_t *q_query_commands(Qmp *q, json_t *args, char *err, size_t errlen)
{
    json_t *a = json_array();
    for (size_t i = 0; i < N_CMDS; i++)
        json_array_append_new(a, json_pack("{s:s}", "name", CMDS[i].name));
    return a;
}

static bool listed(const char *const *names, const char *key)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], key)) return true;
    return false;
}

static void dispatch(Qmp *q, json_t *msg)
{
    if (!json_is_object(msg)) {
        reply_error(q, "GenericError", NULL, "QMP input must be a JSON object");
        return;
    }
    json_t *id = json_object_get(msg, "id");
    json_t *exec = json_object_get(msg, "execute");
    json_t *args = json_object_get(msg, "arguments");
    const char *key;
    json_t *val;
    json_object_foreach(msg, key, val) {
        if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
            reply_error(q, "GenericError", id, "QMP input member '%s' is unexpected", key);
            return;
        }
    }
    if (!exec) {
        reply_error(q, "GenericError", id, "QMP input lacks member 'execute'");
        return;
    }
    if (!json_is_string(exec)) {
        reply_error(q, "GenericError", id, "QMP input member 'execute' must be a string");
        return;
    }
    if (args && !json_is_object(args)) {
        reply_error(q, "GenericError", id, "QMP input member 'arguments' must be an object");
        return;
    }
    const char *name = json_string_value(exec);
    bool caps = !strcmp(name, "qmp_capabilities");
    if (!q->negotiated && !caps) {
        reply_error(q, "CommandNotFound", id,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        return;
    }
    if (q->negotiated && caps) {
        reply_error(q, "CommandNotFound", id,
                    "Capabilities negotiation is already complete, command ignored");
        return;
    }
    const QmpCmd *cmd = NULL;
    for (size_t i = 0; i < N_CMDS; i++)
        if (!strcmp(CMDS[i].name, name)) cmd = &CMDS[i];
    if (!cmd) {
        reply_error(q, "CommandNotFound", id, "The command %s has not been found", name);
        return;
    }
    json_t *empty = NULL;
    if (!args) args = empty = json_object();
    json_object_foreach(args, key, val) {
        if (!listed(cmd->args, key)) {
            reply_error(q, "GenericError", id, "Parameter '%s' is unexpected", key);
            json_decref(empty);
            return;
        }
    }
    for (int i = 0; cmd->required[i]; i++) {
        if (!json_object_get(args, cmd->required[i])) {
            reply_error(q, "GenericError", id, "Parameter '%s' is missing", cmd->required[i]);
            json_decref(empty);
            return;
        }
    }
    char err[512] = "";
    json_t *ret = cmd->fn(q, args, err, sizeof(err));
    json_decref(empty);
    if (!ret) reply_error(q, "GenericError", id, "%s", err);
    else reply(q, ret, id);
}

/* ---- framing ---- */

/* Length of the first complete value in buf[0..len) (after leading blanks, which are
 * counted), 0 if it is not complete yet. */
static size_t frame(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) i++;
    if (i == len) return 0;
    if (buf[i] == '}' || buf[i] == ']') return i + 1; /* unbalanced: an error at once */
    if (buf[i] != '{' && buf[i] != '[') {
        /* a stray token: up to the end of the line */
        const char *nl = memchr(buf + i, '\n', len - i);
        return nl ? (size_t)(nl - buf) + 1 : 0;
    }
    int depth = 0;
    bool str = false, esc = false;
    for (; i < len; i++) {
        char c = buf[i];
        if (str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') str = false;
            continue;
        }
        if (c == '"') str = true;
        else if (c == '{' || c == '[') depth++;
        else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    }
    return 0;
}

static void handle(Qmp *q, const char *text, size_t len)
{
    size_t s = 0;
    while (s < len && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r' || text[s] == '\n'))
        s++;
    if (s == len) return;
    json_error_t je;
    json_t *msg = json_loadb(text + s, len - s, JSON_DECODE_ANY, &je);
    if (!msg) {
        reply_error(q, "GenericError", NULL, "JSON parse error, %s", je.text);
        return;
    }
    dispatch(q, msg);
    json_decref(msg);
}

void qmp_poll(Qmp *q)
{
    if (sockchr_accept(&q->sock)) greet(q);
    for (;;) {
        if (q->cap - q->len < 4096) {
            size_t cap = q->cap ? q->cap * 2 : 8192;
            char *b = realloc(q->buf, cap);
            if (!b) return;
            q->buf = b;
            q->cap = cap;
        }
        int n = sockchr_read(&q->sock, q->buf + q->len, q->cap - q->len);
        if (n < 0) { /* the client left, maybe in the middle of a command */
            q->len = 0;
            q->negotiated = false;
            return;
        }
        if (n == 0) break;
        q->len += n;
        size_t used;
        while (q->sock.client_fd >= 0 && (used = frame(q->buf, q->len)) > 0) {
            handle(q, q->buf, used);
            memmove(q->buf, q->buf + used, q->len - used);
            q->len -= used;
        }
        if (q->len > QMP_MAX_INPUT) {
            reply_error(q, "GenericError", NULL, "JSON parse error, input too large");
            q->len = 0;
        }
        if (q->sock.client_fd < 0) {
            q->len = 0;
            q->negotiated = false;
            return;
        }
    }
}

void qmp_close(Qmp *q)
{
    if (!q) return;
    sockchr_close(&q->sock);
    free(q->buf);
    free(q);
}

/*
 * qmp.h — the QEMU Machine Protocol on a socket (-qmp unix:PATH,server,nowait):
 * JSON objects in, JSON objects out, with QEMU's greeting, capabilities negotiation,
 * error classes and timestamped events. Commands act through the monitor
 * (ui/monitor.h), between slices of guest time.
 */
#ifndef DBT86_QMP_H
#define DBT86_QMP_H

#include <stddef.h>

typedef struct Monitor Monitor;
typedef struct Qmp Qmp;

/* Opens the socket. NULL with a one-line message in err. */
Qmp *qmp_open(const char *spec, char *err, size_t errlen);
/* Remembers the monitor; waits for a client when the socket has no "nowait". */
void qmp_start(Qmp *q, Monitor *mon);
/* Accepts a client (greeting), reads and runs complete commands. */
void qmp_poll(Qmp *q);
/* The fd whose input should end the main loop's wait. */
int qmp_poll_fd(const Qmp *q);
/* Sends an event to a negotiated client: data is a JSON object text or NULL. */
void qmp_event(Qmp *q, const char *name, const char *data);
void qmp_close(Qmp *q);

#endif

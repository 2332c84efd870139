/*
 * chardev.h — a byte sink for serial ports and debug consoles (stdio, a file, nothing).
 * Input in the other direction never comes through here: it enters through the input
 * layer (ui/), which calls the device (uart_receive) so record/replay sees it.
 */
#ifndef DBT86_CHARDEV_H
#define DBT86_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

typedef struct CharSink {
    void (*write)(void *opaque, const uint8_t *buf, size_t len); /* NULL: discard */
    void *opaque;
} CharSink;

static inline void charsink_write(const CharSink *s, const uint8_t *buf, size_t len)
{
    if (s->write) s->write(s->opaque, buf, len);
}

#endif

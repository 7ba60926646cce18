// SPDX-License-Identifier: Apache-2.0
//
// oplog.h - every operation the server executes, in execution order, with a
// sequence number, as JSON lines (stderr or --log FILE).
#pragma once

#include <glib.h>

gboolean oplog_open(const char *path, GError **error);
/* The first line of a server's log: who started, when, from which seq (a
 * restarted server appending to the same file starts at 1 again). */
void oplog_start(const char *server_id, const char *url);
/* fdatasync the log every @interval_ms when something was written (0: never). */
void oplog_set_fsync(guint interval_ms);
/* Lines that could not be written since the start (a full disk). */
guint64 oplog_lost(void);
/* (nullable) the --log file. */
const char *oplog_path(void);
void oplog_close(void);
/* One executed operation. @who names the caller ("uid 1000 (alice)", "key
 * ci"); @via (nullable) the server that relayed it and vouched for @who.
 * @error NULL means it succeeded. */
void oplog_op(const char *peer, const char *who, const char *via, const char *op, const char *path,
              const char *kind, const char *error);
/* Something an element did on its own (a drop, an exit). */
void oplog_event(const char *path, const char *kind, const char *what, gint64 value);

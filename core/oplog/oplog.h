// SPDX-License-Identifier: Apache-2.0
//
// oplog.h - every operation the server executes, in execution order, with a
// sequence number, as JSON lines (stderr or --log FILE).
#pragma once

#include <glib.h>

gboolean oplog_open(const char *path, GError **error);
void oplog_close(void);
/* One executed operation. @error NULL means it succeeded. */
void oplog_op(const char *peer, const char *op, const char *path, const char *kind,
              const char *error);
/* Something an element did on its own (a drop, an exit). */
void oplog_event(const char *path, const char *kind, const char *what, gint64 value);

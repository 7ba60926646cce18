// SPDX-License-Identifier: Apache-2.0
//
// _circuit.c - the CPython extension under the `circuit` package: a thin
// layer over libcircuit (circuit/client.h), nothing of the wire protocol or
// of Noise of its own. Two types:
//   Conn  one CircuitClient (one connection to the dialed server);
//   Call  one CircuitCall on a Conn: a streamed operation (stdin, stdout, a
//         body written in pieces, an output read in pieces).
// and Conn.run(), which does a whole operation (open, input, reply, output
// to its end, acknowledgement) in one C call, the path of every short verb.
//
// libcircuit is thread-compatible: a CircuitClient and its calls are used
// by one thread at a time. Each Conn has a lock, held while libcircuit runs
// on it (with the GIL released), so no misuse from Python can run two
// threads inside one CircuitClient. The package's Client keeps a pool of
// Conns so that threads never wait for each other's blocking calls.
//
// Every wait is cut into slices of CIRCUIT_PY_SLICE_MS: between slices the
// GIL is taken back, signals are checked (KeyboardInterrupt) and the
// caller's timeout is enforced; either ends the call with a reset, which
// cancels it on the server (a withdrawn send, a receive that takes nothing).
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <circuit/client.h>
#include <circuit/error.h>

#include <string.h>

#define CIRCUIT_PY_SLICE_MS 100

/* The exception classes, given by the Python layer (circuit/_errors.py). */
static PyObject *py_error, *py_usage, *py_unreachable, *py_closed, *py_timeout;

/* ---- errors ---------------------------------------------------------------- */

static const char *const py_wire_names[] = {
        "failed",     "invalid",      "not-found", "exists",      "busy",  "closed",     "aborted",
        "wrong-kind", "disconnected", "too-big",   "unavailable", "usage", "permission",
};

static const char *const py_client_names[] = {
        "connect", "wrong-server", "protocol", "timeout",
        "address", "key",          "deadline", "permission",
};

/* The class and code of @error, as the CLI's exit codes class them
 * (circuit_exit_code(), the one mapping). */
static PyObject *
py_error_class(const GError *error, const char **code)
{
	if (error->domain == CIRCUIT_CLIENT_ERROR)
		*code = error->code >= 0 && (gsize)error->code < G_N_ELEMENTS(py_client_names)
		                ? py_client_names[error->code]
		                : "client";
	else if (error->domain == CIRCUIT_ERROR)
		*code = error->code >= 0 && (gsize)error->code < G_N_ELEMENTS(py_wire_names)
		                ? py_wire_names[error->code]
		                : "failed";
	else
		*code = "failed";
	switch (circuit_exit_code(error)) {
	case CIRCUIT_EXIT_USAGE:
		return py_usage;
	case CIRCUIT_EXIT_UNREACHABLE:
		return py_unreachable;
	case CIRCUIT_EXIT_CLOSED:
		return py_closed;
	case CIRCUIT_EXIT_TIMEOUT:
		return py_timeout;
	default:
		return py_error;
	}
}

static void
py_raise(PyObject *cls, const char *message, const char *code)
{
	if (!cls) {
		PyErr_SetString(PyExc_RuntimeError, message);
		return;
	}
	PyObject *exc = PyObject_CallFunction(cls, "ss", message, code);
	if (exc) {
		PyErr_SetObject(cls, exc);
		Py_DECREF(exc);
	}
}

/* Raises @error (freed) as its class; returns NULL for the caller. */
static PyObject *
py_raise_gerror(GError *error)
{
	const char *code = NULL;
	PyObject *cls = py_error_class(error, &code);
	/* The server's message is one line; keep it so whatever sent it. */
	g_autofree char *msg = g_strdup(error->message);
	g_strdelimit(msg, "\r\n", ' ');
	py_raise(cls, msg, code);
	g_error_free(error);
	return NULL;
}

static PyObject *
py_raise_timeout(const char *what, double seconds)
{
	g_autofree char *msg =
	        g_strdup_printf("%s: no answer within %g s: cancelled", what, seconds);
	py_raise(py_timeout, msg, "timeout");
	return NULL;
}

/* ---- Conn ------------------------------------------------------------------ */

typedef struct {
	PyObject ob_base; /* PyObject_HEAD */
	CircuitClient *client;
	PyThread_type_lock lock;
	guint open_calls; /* Calls not yet ended: the client outlives them */
	gboolean closed;
	gboolean broken; /* a call saw the connection fail: not for reuse */
} ConnObject;

typedef struct {
	PyObject ob_base;  /* PyObject_HEAD */
	ConnObject *conn;  /* strong reference */
	CircuitCall *call; /* NULL once ended */
	gboolean eof;
	PyObject *result; /* the reply's JSON text (str) or None, once replied */
	gboolean failed;
	gboolean replied;
} CallObject;

static PyTypeObject ConnType;
static PyTypeObject CallType;

/* Runs @stmt (a blocking libcircuit call) with the GIL released. */
#define PY_UNLOCKED(stmt)                                                                          \
	do {                                                                                       \
		PyThreadState *py_ts_ = PyEval_SaveThread();                                       \
		stmt;                                                                              \
		PyEval_RestoreThread(py_ts_);                                                      \
	} while (0)

/* Runs @stmt, a libcircuit call on @c, with @c's lock held and the GIL
 * released; notes a failure (@error) that ends the connection. */
#define CONN_RUN(c, error, stmt)                                                                   \
	do {                                                                                       \
		conn_lock(c);                                                                      \
		PY_UNLOCKED(stmt);                                                                 \
		conn_note((c), (error));                                                           \
		conn_unlock(c);                                                                    \
	} while (0)

/* Takes @c's lock: first without waiting, else with the GIL released. */
static void
conn_lock(ConnObject *c)
{
	if (PyThread_acquire_lock(c->lock, NOWAIT_LOCK))
		return;
	PY_UNLOCKED(PyThread_acquire_lock(c->lock, WAIT_LOCK));
}

static void
conn_unlock(ConnObject *c)
{
	PyThread_release_lock(c->lock);
}

/* Notes a failure that ends the connection (so the pool drops it). */
static void
conn_note(ConnObject *c, const GError *error)
{
	if (error && error->domain == CIRCUIT_CLIENT_ERROR &&
	    (error->code == CIRCUIT_CLIENT_ERROR_CONNECT ||
	     error->code == CIRCUIT_CLIENT_ERROR_PROTOCOL))
		c->broken = TRUE;
}

static gboolean
conn_usable(ConnObject *c)
{
	if (!c->client || c->closed) {
		PyErr_SetString(PyExc_ValueError, "the connection is closed");
		return FALSE;
	}
	return TRUE;
}

/* Frees the client once it is closed and no call is left on it. */
static void
conn_release_client(ConnObject *c)
{
	if (c->closed && c->open_calls == 0 && c->client) {
		CircuitClient *client = c->client;
		c->client = NULL;
		PY_UNLOCKED(circuit_client_free(client));
	}
}

static int
conn_init(ConnObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"address", "key_file", "timeout_ms", NULL};
	const char *address = NULL, *key_file = NULL;
	int timeout_ms = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|zzi:Conn", kwlist, &address, &key_file,
	                                 &timeout_ms))
		return -1;
	if (self->client) {
		PyErr_SetString(PyExc_RuntimeError, "Conn is initialized already");
		return -1;
	}
	CircuitDialOptions o = {.address = address, .key_file = key_file, .timeout_ms = timeout_ms};
	GError *error = NULL;
	CircuitClient *client;
	PY_UNLOCKED(client = circuit_client_open(&o, &error));
	if (!client) {
		py_raise_gerror(error);
		return -1;
	}
	self->client = client;
	return 0;
}

static PyObject *
conn_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	ConnObject *self = (ConnObject *)type->tp_alloc(type, 0);
	if (!self)
		return NULL;
	self->lock = PyThread_allocate_lock();
	if (!self->lock) {
		Py_DECREF(self);
		return PyErr_NoMemory();
	}
	return (PyObject *)self;
}

static void
conn_dealloc(ConnObject *self)
{
	/* No Call is left (each holds a reference): the client goes now. */
	if (self->client)
		circuit_client_free(self->client);
	if (self->lock)
		PyThread_free_lock(self->lock);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
conn_close(ConnObject *self, PyObject *unused)
{
	conn_lock(self);
	self->closed = TRUE;
	conn_release_client(self);
	conn_unlock(self);
	Py_RETURN_NONE;
}

static PyObject *
conn_get_id(ConnObject *self, void *closure)
{
	if (!conn_usable(self))
		return NULL;
	return PyUnicode_FromString(circuit_client_server_id(self->client));
}

static PyObject *
conn_get_url(ConnObject *self, void *closure)
{
	if (!conn_usable(self))
		return NULL;
	return PyUnicode_FromString(circuit_client_server_url(self->client));
}

static PyObject *
conn_get_broken(ConnObject *self, void *closure)
{
	return PyBool_FromLong(self->broken || self->closed);
}

static PyObject *
conn_set_options(ConnObject *self, PyObject *args)
{
	int call_timeout_ms = 0, direct = 1;
	if (!PyArg_ParseTuple(args, "ip:set_options", &call_timeout_ms, &direct))
		return NULL;
	if (!conn_usable(self))
		return NULL;
	conn_lock(self);
	circuit_client_set_call_timeout(self->client, call_timeout_ms);
	circuit_client_set_direct(self->client, direct);
	conn_unlock(self);
	Py_RETURN_NONE;
}

/* A Python sequence of str as a NULL-terminated vector (free with g_strfreev). */
static char **
py_strv(PyObject *seq)
{
	if (!seq || seq == Py_None)
		return g_new0(char *, 1);
	PyObject *fast = PySequence_Fast(seq, "args must be a sequence of str");
	if (!fast)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
	char **v = g_new0(char *, (gsize)n + 1);
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
		const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
		if (!s) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError, "args must be str");
			g_strfreev(v);
			Py_DECREF(fast);
			return NULL;
		}
		v[i] = g_strdup(s);
	}
	Py_DECREF(fast);
	return v;
}

static PyObject *
py_json_text(JsonNode *node)
{
	if (!node)
		Py_RETURN_NONE;
	g_autofree char *text = json_to_string(node, FALSE);
	return PyUnicode_FromString(text);
}

/* Conn.ls(path, recursive=False, status=False) -> [(path, kind, error,
 * addr, state, status JSON text or None)]. */
static PyObject *
conn_ls(ConnObject *self, PyObject *args)
{
	const char *path;
	int recursive = 0, status = 0;
	if (!PyArg_ParseTuple(args, "s|pp:ls", &path, &recursive, &status))
		return NULL;
	if (!conn_usable(self))
		return NULL;
	GError *error = NULL;
	GPtrArray *entries;
	CONN_RUN(self, error,
	         entries = status ? circuit_ls_status(self->client, path, recursive, &error)
	                          : circuit_ls(self->client, path, recursive, &error));
	if (!entries)
		return py_raise_gerror(error);
	PyObject *list = PyList_New(0);
	for (guint i = 0; list && i < entries->len; i++) {
		CircuitEntry *e = g_ptr_array_index(entries, i);
		g_autofree char *st = e->status ? json_to_string(e->status, FALSE) : NULL;
		PyObject *t = Py_BuildValue("(szzzzz)", e->path, e->kind, e->error, e->addr,
		                            e->state, st);
		if (!t || PyList_Append(list, t) < 0)
			Py_CLEAR(list);
		Py_XDECREF(t);
	}
	g_ptr_array_unref(entries);
	return list;
}

/* ---- sliced waits ------------------------------------------------------------ */

typedef enum { STEP_REPLY, STEP_READ, STEP_WANTS, STEP_WRITE } StepKind;

typedef struct {
	StepKind kind;
	CircuitCall *call;
	/* STEP_REPLY */
	JsonNode *result;
	gboolean failed;
	/* STEP_READ, STEP_WRITE (got: bytes read, or written so far) */
	void *buf;
	gsize len;
	gssize got;
	/* STEP_WANTS */
	gboolean wants;
} Step;

static gboolean
step_run(Step *s, int slice_ms, GError **error)
{
	switch (s->kind) {
	case STEP_REPLY:
		return circuit_call_reply(s->call, &s->result, &s->failed, slice_ms, error);
	case STEP_WANTS:
		s->wants = circuit_call_wants_body_timeout(s->call, slice_ms, error);
		return s->wants || !*error;
	case STEP_WRITE: {
		gssize n = circuit_call_write_some(s->call, (guint8 *)s->buf + s->got,
		                                   s->len - (gsize)s->got, slice_ms, error);
		if (n < 0)
			return FALSE;
		s->got += n;
		if ((gsize)s->got == s->len)
			return TRUE;
		/* The slice passed with input left: look at signals, go on. */
		g_set_error_literal(error, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT,
		                    "slice");
		return FALSE;
	}
	case STEP_READ:
		break;
	}
	s->got = circuit_call_read(s->call, s->buf, s->len, slice_ms, error);
	return s->got >= 0;
}

/*
 * Runs @s in slices on @conn (locked only while libcircuit runs, the GIL
 * released), until it completes, fails, a signal handler raises or
 * @deadline (monotonic µs, 0: none) passes. Returns 1 done, 0 with *@error
 * set (a failure of the call), -1 with a Python exception (a signal, or
 * the deadline: circuit.Timeout naming @what and @timeout).
 */
static int
py_sliced(ConnObject *conn, Step *s, gint64 deadline, const char *what, double timeout,
          GError **error)
{
	for (;;) {
		int slice = CIRCUIT_PY_SLICE_MS;
		if (deadline) {
			gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
			slice = (int)CLAMP(left, 0, CIRCUIT_PY_SLICE_MS);
		}
		GError *local = NULL;
		gboolean ok;
		CONN_RUN(conn, local, ok = step_run(s, slice, &local));
		if (ok)
			return 1;
		if (!g_error_matches(local, CIRCUIT_CLIENT_ERROR, CIRCUIT_CLIENT_ERROR_TIMEOUT)) {
			g_propagate_error(error, local);
			return 0;
		}
		g_error_free(local);
		if (PyErr_CheckSignals() < 0)
			return -1;
		if (deadline && g_get_monotonic_time() >= deadline) {
			py_raise_timeout(what, timeout);
			return -1;
		}
	}
}

static gint64
py_deadline(double timeout)
{
	return timeout >= 0 ? g_get_monotonic_time() + (gint64)(timeout * 1e6) + 1 : 0;
}

/* Opens @verb on @path, with its whole input when @input holds one;
 * @track counts it as a Call that keeps the client alive. */
static CircuitCall *
conn_call_open(ConnObject *c, const char *verb, const char *path, char **argv,
               const Py_buffer *input, gboolean track, GError **error)
{
	const char *const *args = (const char *const *)argv;
	CircuitCall *call;
	conn_lock(c);
	PY_UNLOCKED(call = input->buf
	                           ? circuit_call_open_input(c->client, verb, path, args,
	                                                     input->buf, (gsize)input->len, error)
	                           : circuit_call_open(c->client, verb, path, args, error));
	conn_note(c, error ? *error : NULL);
	if (call && track)
		c->open_calls++;
	conn_unlock(c);
	return call;
}

/* Ends @call without acknowledging (the server keeps or withdraws it). */
static void
py_call_abort(ConnObject *conn, CircuitCall *call)
{
	CONN_RUN(conn, NULL, circuit_call_abort(call));
}

/*
 * Conn.run(verb, path, args, input=None, timeout=-1.0, output=True):
 * one whole operation: opens it with its whole input (bytes or None), waits
 * for the reply, reads the output to its end and acknowledges it. Returns
 * (result JSON text or None, failed, output bytes). With output False, the
 * output is drained without being kept (a wait's end of stream).
 */
static PyObject *
conn_run(ConnObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"verb", "path", "args", "input", "timeout", "output", NULL};
	const char *verb, *path;
	PyObject *argseq = NULL;
	Py_buffer input = {0};
	double timeout = -1;
	int keep_output = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss|Oz*dp:run", kwlist, &verb, &path, &argseq,
	                                 &input, &timeout, &keep_output))
		return NULL;
	PyObject *ret = NULL;
	char **argv = py_strv(argseq);
	if (!argv || !conn_usable(self))
		goto out;
	gint64 deadline = py_deadline(timeout);
	GError *error = NULL;
	CircuitCall *call = conn_call_open(self, verb, path, argv, &input, FALSE, &error);
	if (!call) {
		py_raise_gerror(error);
		goto out;
	}
	Step s = {.kind = STEP_REPLY, .call = call};
	int rc = py_sliced(self, &s, deadline, verb, timeout, &error);
	GByteArray *data = g_byte_array_new();
	guint8 buf[64 * 1024];
	Step r = {.kind = STEP_READ, .call = call, .buf = buf, .len = sizeof buf};
	while (rc == 1) {
		rc = py_sliced(self, &r, deadline, verb, timeout, &error);
		if (rc == 1 && r.got == 0)
			break;
		if (rc == 1 && keep_output)
			g_byte_array_append(data, buf, (guint)r.got);
	}
	if (rc == 1) {
		gboolean acked;
		CONN_RUN(self, error, acked = circuit_call_finish(call, &error));
		if (!acked)
			py_raise_gerror(error);
		else {
			PyObject *text = py_json_text(s.result);
			/* (An empty GByteArray's data is NULL, which y# makes None.) */
			ret = text ? Py_BuildValue("(NOy#)", text, s.failed ? Py_True : Py_False,
			                           data->len ? (const char *)data->data : "",
			                           (Py_ssize_t)data->len)
			           : NULL;
		}
	} else {
		py_call_abort(self, call);
		if (rc == 0)
			py_raise_gerror(error);
	}
	if (s.result)
		json_node_unref(s.result);
	g_byte_array_unref(data);
out:
	g_strfreev(argv);
	if (input.buf)
		PyBuffer_Release(&input);
	return ret;
}

/* Conn.open(verb, path, args, input=None) -> Call: a call to stream. */
static PyObject *
conn_open(ConnObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"verb", "path", "args", "input", NULL};
	const char *verb, *path;
	PyObject *argseq = NULL;
	Py_buffer input = {0};
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss|Oz*:open", kwlist, &verb, &path, &argseq,
	                                 &input))
		return NULL;
	CallObject *obj = NULL;
	char **argv = py_strv(argseq);
	if (!argv || !conn_usable(self))
		goto out;
	GError *error = NULL;
	CircuitCall *call = conn_call_open(self, verb, path, argv, &input, TRUE, &error);
	if (!call) {
		py_raise_gerror(error);
		goto out;
	}
	obj = PyObject_New(CallObject, &CallType);
	if (!obj) {
		py_call_abort(self, call);
		conn_lock(self);
		self->open_calls--;
		conn_unlock(self);
		goto out;
	}
	Py_INCREF(self);
	obj->conn = self;
	obj->call = call;
	obj->eof = FALSE;
	obj->result = NULL;
	obj->failed = FALSE;
	obj->replied = FALSE;
out:
	g_strfreev(argv);
	if (input.buf)
		PyBuffer_Release(&input);
	return (PyObject *)obj;
}

/* ---- Call ------------------------------------------------------------------- */

static gboolean
call_usable(CallObject *self)
{
	if (!self->call) {
		PyErr_SetString(PyExc_ValueError, "the call has ended");
		return FALSE;
	}
	return TRUE;
}

/* Ends the call: acknowledged (finish), reset keeping the server's data
 * (free) or without acknowledging the last read (abort). */
typedef enum { END_FINISH, END_FREE, END_ABORT } EndHow;

static gboolean
call_end(CallObject *self, EndHow how, GError **error)
{
	CircuitCall *call = self->call;
	if (!call)
		return TRUE;
	self->call = NULL;
	ConnObject *c = self->conn;
	gboolean ok = TRUE;
	conn_lock(c);
	if (how == END_FINISH)
		PY_UNLOCKED(ok = circuit_call_finish(call, error));
	else if (how == END_ABORT)
		PY_UNLOCKED(circuit_call_abort(call));
	else
		PY_UNLOCKED(circuit_call_free(call));
	if (!ok)
		conn_note(c, *error);
	c->open_calls--;
	conn_release_client(c);
	conn_unlock(c);
	return ok;
}

static void
call_dealloc(CallObject *self)
{
	if (self->call) {
		/* Dropped unended: as a reader that goes away (nothing is lost). */
		GError *unused = NULL;
		call_end(self, END_FREE, &unused);
	}
	Py_XDECREF(self->result);
	Py_XDECREF(self->conn);
	PyObject_Free(self);
}

static PyObject *call_step_failed(CallObject *self, int rc, GError *error);

/* A sliced input step that did not complete: a failure of the call is
 * raised and the call kept (its reply says more); a signal ends it. */
static PyObject *
call_input_failed(CallObject *self, int rc, GError *error)
{
	if (rc == 0)
		return py_raise_gerror(error);
	return call_step_failed(self, rc, error);
}

/* Call.wants_body() -> bool: whether the operation asks for input. */
static PyObject *
call_wants_body(CallObject *self, PyObject *unused)
{
	if (!call_usable(self))
		return NULL;
	Step s = {.kind = STEP_WANTS, .call = self->call};
	GError *error = NULL;
	int rc = py_sliced(self->conn, &s, 0, "wants_body", -1, &error);
	if (rc != 1)
		return call_input_failed(self, rc, error);
	return PyBool_FromLong(s.wants);
}

/* Call.write(data): sends input bytes, waiting (in slices, so signals are
 * seen: Ctrl-C resets the call) while the server gives no credit (a
 * process that does not read its stdin). */
static PyObject *
call_write(CallObject *self, PyObject *args)
{
	Py_buffer data;
	if (!PyArg_ParseTuple(args, "y*:write", &data))
		return NULL;
	PyObject *ret = NULL;
	if (call_usable(self)) {
		Step s = {.kind = STEP_WRITE,
		          .call = self->call,
		          .buf = data.buf,
		          .len = (gsize)data.len};
		GError *error = NULL;
		int rc = py_sliced(self->conn, &s, 0, "write", -1, &error);
		ret = rc == 1 ? PyLong_FromSsize_t(data.len) : call_input_failed(self, rc, error);
	}
	PyBuffer_Release(&data);
	return ret;
}

static PyObject *
call_close_write(CallObject *self, PyObject *unused)
{
	if (!call_usable(self))
		return NULL;
	GError *error = NULL;
	gboolean ok;
	CONN_RUN(self->conn, error, ok = circuit_call_close_write(self->call, &error));
	if (!ok)
		return py_raise_gerror(error);
	Py_RETURN_NONE;
}

/* A failure, signal or timeout in a sliced step ends the call: the server
 * keeps what was not read (a reset cancels the operation). */
static PyObject *
call_step_failed(CallObject *self, int rc, GError *error)
{
	GError *unused = NULL;
	call_end(self, END_FREE, &unused);
	g_clear_error(&unused);
	if (rc == 0)
		return py_raise_gerror(error);
	return NULL;
}

/* Call.reply(timeout=-1.0) -> (result JSON text or None, failed). */
static PyObject *
call_reply(CallObject *self, PyObject *args)
{
	double timeout = -1;
	if (!PyArg_ParseTuple(args, "|d:reply", &timeout))
		return NULL;
	if (!self->replied) {
		if (!call_usable(self))
			return NULL;
		Step s = {.kind = STEP_REPLY, .call = self->call};
		GError *error = NULL;
		int rc = py_sliced(self->conn, &s, py_deadline(timeout), "reply", timeout, &error);
		if (rc != 1)
			return call_step_failed(self, rc, error);
		self->result = py_json_text(s.result);
		if (s.result)
			json_node_unref(s.result);
		if (!self->result)
			return NULL;
		self->failed = s.failed;
		self->replied = TRUE;
	}
	return Py_BuildValue("(OO)", self->result, self->failed ? Py_True : Py_False);
}

/* Call.readinto(buffer, timeout=-1.0) -> count, 0 at the end of output. */
static PyObject *
call_readinto(CallObject *self, PyObject *args)
{
	Py_buffer buf;
	double timeout = -1;
	if (!PyArg_ParseTuple(args, "w*|d:readinto", &buf, &timeout))
		return NULL;
	PyObject *ret = NULL;
	if (self->eof) {
		ret = PyLong_FromLong(0);
	} else if (call_usable(self)) {
		Step s = {.kind = STEP_READ,
		          .call = self->call,
		          .buf = buf.buf,
		          .len = (gsize)buf.len};
		GError *error = NULL;
		int rc = py_sliced(self->conn, &s, py_deadline(timeout), "read", timeout, &error);
		if (rc != 1) {
			ret = call_step_failed(self, rc, error);
		} else {
			self->eof = s.got == 0 && buf.len > 0;
			ret = PyLong_FromSsize_t(s.got);
		}
	}
	PyBuffer_Release(&buf);
	return ret;
}

/* Call.finish(): ends the call, acknowledging output read to its end. */
static PyObject *
call_finish(CallObject *self, PyObject *unused)
{
	GError *error = NULL;
	if (!call_end(self, END_FINISH, &error))
		return py_raise_gerror(error);
	Py_RETURN_NONE;
}

/* Call.cancel(): ends the call with a reset, without acknowledging the last
 * read; the server keeps what was not taken (a channel message goes back). */
static PyObject *
call_cancel(CallObject *self, PyObject *unused)
{
	GError *unused_error = NULL;
	call_end(self, END_ABORT, &unused_error);
	Py_RETURN_NONE;
}

/* Call.close(): ends the call; output not read to its end stays with the
 * server for the next reader. */
static PyObject *
call_close(CallObject *self, PyObject *unused)
{
	GError *error = NULL;
	if (!call_end(self, self->eof ? END_FINISH : END_FREE, &error))
		return py_raise_gerror(error);
	Py_RETURN_NONE;
}

static PyObject *
call_get_ended(CallObject *self, void *closure)
{
	return PyBool_FromLong(self->call == NULL);
}

static PyObject *
call_get_eof(CallObject *self, void *closure)
{
	return PyBool_FromLong(self->eof);
}

/* ---- module functions ----------------------------------------------------------- */

static PyObject *
py_discover(PyObject *module, PyObject *args)
{
	const char *group, *key_file = NULL;
	int timeout_ms = 0;
	if (!PyArg_ParseTuple(args, "s|zi:discover", &group, &key_file, &timeout_ms))
		return NULL;
	GError *error = NULL;
	gboolean authenticated = FALSE;
	char *url;
	PY_UNLOCKED(url = circuit_discover_checked(group, key_file, timeout_ms, &authenticated,
	                                           &error));
	if (!url)
		return py_raise_gerror(error);
	PyObject *ret = Py_BuildValue("(sO)", url, authenticated ? Py_True : Py_False);
	g_free(url);
	return ret;
}

static PyObject *
py_keygen(PyObject *module, PyObject *unused)
{
	GError *error = NULL;
	char *key = circuit_keygen(&error);
	if (!key)
		return py_raise_gerror(error);
	PyObject *ret = PyUnicode_FromString(key);
	circuit_keygen_free(key);
	return ret;
}

static PyObject *
py_set_errors(PyObject *module, PyObject *args)
{
	PyObject *e, *u, *r, *c, *t;
	if (!PyArg_ParseTuple(args, "OOOOO:_set_errors", &e, &u, &r, &c, &t))
		return NULL;
	PyObject **slots[] = {&py_error, &py_usage, &py_unreachable, &py_closed, &py_timeout};
	PyObject *vals[] = {e, u, r, c, t};
	for (gsize i = 0; i < G_N_ELEMENTS(vals); i++) {
		Py_INCREF(vals[i]);
		Py_XSETREF(*slots[i], vals[i]);
	}
	Py_RETURN_NONE;
}

/* ---- type tables ------------------------------------------------------------------ */

static PyMethodDef conn_methods[] = {
        {"close", (PyCFunction)conn_close, METH_NOARGS, "Closes the connection."},
        {"set_options", (PyCFunction)conn_set_options, METH_VARARGS,
         "set_options(call_timeout_ms, direct): every later call's deadline (0: none) and "
         "whether calls may go straight to the server they are for."},
        {"ls", (PyCFunction)conn_ls, METH_VARARGS,
         "ls(path, recursive=False) -> [(path, kind, error)]"},
        {"run", (PyCFunction)(void (*)(void))conn_run, METH_VARARGS | METH_KEYWORDS,
         "run(verb, path, args, input=None, timeout=-1.0, output=True) -> (result JSON text, "
         "failed, output bytes): one whole operation."},
        {"open", (PyCFunction)(void (*)(void))conn_open, METH_VARARGS | METH_KEYWORDS,
         "open(verb, path, args, input=None) -> Call: an operation to stream."},
        {NULL},
};

static PyGetSetDef conn_getset[] = {
        {"server_id", (getter)conn_get_id, NULL, "X<16 hex> of the dialed server", NULL},
        {"server_url", (getter)conn_get_url, NULL, "the dialed server's URL", NULL},
        {"broken", (getter)conn_get_broken, NULL, "closed, or its connection failed", NULL},
        {NULL},
};

static PyTypeObject ConnType = {
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "circuit._circuit.Conn",
        .tp_doc = PyDoc_STR("Conn(address=None, key_file=None, timeout_ms=0): one libcircuit "
                            "connection (circuit_client_open)."),
        .tp_basicsize = sizeof(ConnObject),
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_new = conn_new,
        .tp_init = (initproc)conn_init,
        .tp_dealloc = (destructor)conn_dealloc,
        .tp_methods = conn_methods,
        .tp_getset = conn_getset,
};

static PyMethodDef call_methods[] = {
        {"wants_body", (PyCFunction)call_wants_body, METH_NOARGS,
         "wants_body() -> bool: whether the operation asks for input."},
        {"write", (PyCFunction)call_write, METH_VARARGS, "write(data) -> count: sends input."},
        {"close_write", (PyCFunction)call_close_write, METH_NOARGS, "Ends the input."},
        {"reply", (PyCFunction)call_reply, METH_VARARGS,
         "reply(timeout=-1.0) -> (result JSON text or None, failed)"},
        {"readinto", (PyCFunction)call_readinto, METH_VARARGS,
         "readinto(buffer, timeout=-1.0) -> count (0 at the end of output)"},
        {"finish", (PyCFunction)call_finish, METH_NOARGS,
         "Ends the call, acknowledging what was read."},
        {"cancel", (PyCFunction)call_cancel, METH_NOARGS,
         "Ends the call with a reset; the last read is not acknowledged."},
        {"close", (PyCFunction)call_close, METH_NOARGS,
         "Ends the call; what was not read stays with the server."},
        {NULL},
};

static PyGetSetDef call_getset[] = {
        {"ended", (getter)call_get_ended, NULL, "whether the call has ended", NULL},
        {"eof", (getter)call_get_eof, NULL, "whether the output was read to its end", NULL},
        {NULL},
};

static PyTypeObject CallType = {
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "circuit._circuit.Call",
        .tp_doc = PyDoc_STR("One operation stream on a Conn (Conn.open)."),
        .tp_basicsize = sizeof(CallObject),
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_dealloc = (destructor)call_dealloc,
        .tp_methods = call_methods,
        .tp_getset = call_getset,
};

static PyMethodDef module_methods[] = {
        {"discover", py_discover, METH_VARARGS,
         "discover(group, key_file=None, timeout_ms=0) -> (url, authenticated)"},
        {"keygen", py_keygen, METH_NOARGS, "keygen() -> a fresh key, one line of base64"},
        {"_set_errors", py_set_errors, METH_VARARGS,
         "_set_errors(Error, UsageError, Unreachable, Closed, Timeout)"},
        {NULL},
};

static struct PyModuleDef circuit_module = {
        PyModuleDef_HEAD_INIT,
        .m_name = "circuit._circuit",
        .m_doc = "libcircuit for Python; use the circuit package, not this module.",
        .m_size = -1,
        .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__circuit(void)
{
	if (PyType_Ready(&ConnType) < 0 || PyType_Ready(&CallType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&circuit_module);
	if (!m)
		return NULL;
	Py_INCREF(&ConnType);
	Py_INCREF(&CallType);
	if (PyModule_AddObject(m, "Conn", (PyObject *)&ConnType) < 0 ||
	    PyModule_AddObject(m, "Call", (PyObject *)&CallType) < 0 ||
	    PyModule_AddIntConstant(m, "SLICE_MS", CIRCUIT_PY_SLICE_MS) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}

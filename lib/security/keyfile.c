// SPDX-License-Identifier: Apache-2.0
//
// keyfile.c - pre-shared key files and key generation.
#include "security/keyfile.h"

#include "security/security.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

GQuark
keyfile_error_quark(void)
{
	return g_quark_from_static_string("circuit-keyfile-error-quark");
}

struct _Keyfile {
	gsize n_keys;
	guint8 keys[KEYFILE_MAX_KEYS][KEYFILE_KEY_LEN];
	/* "NAME" after a key on its line, or "key N" (1-based) without one. */
	char names[KEYFILE_MAX_KEYS][KEYFILE_NAME_MAX + 1];
};

static bool
keyfile_name_ok(const char *name, gsize len)
{
	if (len == 0 || len > KEYFILE_NAME_MAX)
		return false;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && !strchr("-_.", name[i]))
			return false;
	return true;
}

static bool
keyfile_is_base64_char(char c)
{
	return g_ascii_isalnum(c) || c == '+' || c == '/';
}

/*
 * Decodes one trimmed line into @out. g_base64_decode() skips characters
 * it does not know, so the alphabet and padding are checked first, and the
 * result is re-encoded so that only the canonical spelling of a key passes
 * (no stray bits in the last character).
 */
static bool
keyfile_decode_line(const char *line, gsize len, guint lineno, guint8 out[KEYFILE_KEY_LEN],
                    GError **error)
{
	gsize pad = 0;
	bool ok = len > 0 && len % 4 == 0;
	for (gsize i = 0; ok && i < len; i++) {
		if (line[i] == '=') {
			pad++;
			ok = i >= len - 2;
		} else {
			ok = keyfile_is_base64_char(line[i]) && pad == 0;
		}
	}
	if (!ok) {
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_BASE64, "line %u is not base64",
		            lineno);
		return false;
	}
	gsize decoded_len = len / 4 * 3 - pad;
	if (decoded_len != KEYFILE_KEY_LEN) {
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_LENGTH,
		            "line %u holds %" G_GSIZE_FORMAT " bytes, not a %u-byte key", lineno,
		            decoded_len, KEYFILE_KEY_LEN);
		return false;
	}

	char *copy = g_strndup(line, len);
	gsize n = 0;
	guchar *raw = g_base64_decode_inplace(copy, &n);
	char *again = n == KEYFILE_KEY_LEN ? g_base64_encode(raw, n) : NULL;
	ok = again && strlen(again) == len && memcmp(again, line, len) == 0;
	if (ok)
		memcpy(out, raw, KEYFILE_KEY_LEN);
	explicit_bzero(copy, len);
	g_free(copy);
	if (again) {
		explicit_bzero(again, strlen(again));
		g_free(again);
	}
	if (!ok)
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_BASE64,
		            "line %u is not canonical base64", lineno);
	return ok;
}

Keyfile *
keyfile_parse(const char *text, gsize len, GError **error)
{
	g_return_val_if_fail(text != NULL || len == 0, NULL);
	Keyfile *kf = security_alloc(sizeof *kf);
	const char *p = text, *end = text + len;
	guint lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (gsize)(end - p));
		const char *line_end = nl ? nl : end;
		const char *a = p, *b = line_end;
		lineno++;
		p = nl ? nl + 1 : end;
		while (a < b && g_ascii_isspace(*a))
			a++;
		while (b > a && g_ascii_isspace(b[-1]))
			b--;
		if (a == b || *a == '#')
			continue;
		if (kf->n_keys == KEYFILE_MAX_KEYS) {
			g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_TOO_MANY,
			            "more than %u keys", KEYFILE_MAX_KEYS);
			goto fail;
		}
		/* KEY [NAME]: the name, if any, follows the key after blanks. */
		const char *k_end = a;
		while (k_end < b && !g_ascii_isspace(*k_end))
			k_end++;
		const char *n = k_end;
		while (n < b && g_ascii_isspace(*n))
			n++;
		if (!keyfile_decode_line(a, (gsize)(k_end - a), lineno, kf->keys[kf->n_keys],
		                         error))
			goto fail;
		if (n < b && !keyfile_name_ok(n, (gsize)(b - n))) {
			g_set_error(
			        error, KEYFILE_ERROR, KEYFILE_ERROR_NAME,
			        "line %u: a key's name is 1 to %u letters, digits, '-', '_' or '.'",
			        lineno, KEYFILE_NAME_MAX);
			goto fail;
		}
		if (n < b)
			memcpy(kf->names[kf->n_keys], n, (gsize)(b - n));
		else
			g_snprintf(kf->names[kf->n_keys], sizeof kf->names[0], "key %u",
			           (guint)kf->n_keys + 1);
		for (gsize j = 0; j < kf->n_keys; j++)
			if (strcmp(kf->names[j], kf->names[kf->n_keys]) == 0) {
				g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_NAME,
				            "line %u: the name \"%s\" is given to two keys", lineno,
				            kf->names[j]);
				goto fail;
			}
		kf->n_keys++;
	}
	if (kf->n_keys == 0) {
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_EMPTY, "no key found");
		goto fail;
	}
	return kf;

fail:
	keyfile_free(kf);
	return NULL;
}

Keyfile *
keyfile_load(const char *path, GError **error)
{
	g_return_val_if_fail(path != NULL, NULL);

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_IO, "cannot open key file %s: %s",
		            path, g_strerror(e));
		return NULL;
	}
	/* fstat on the open file, so the mode checked is the file's read. */
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_IO, "cannot stat key file %s: %s",
		            path, g_strerror(e));
		return NULL;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(fd);
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_IO, "key file %s is not a file",
		            path);
		return NULL;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH))) {
		close(fd);
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_MODE,
		            "key file %s is %s by group or others (mode %04o): run chmod 600 %s",
		            path, (st.st_mode & (S_IRGRP | S_IROTH)) ? "readable" : "writable",
		            (unsigned)(st.st_mode & 07777), path);
		return NULL;
	}

	/* One byte more than allowed, to tell "too large" from "exactly full". */
	gsize cap = KEYFILE_MAX_SIZE + 1, len = 0;
	char *buf = security_alloc(cap);
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			security_free(buf, cap);
			g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_IO,
			            "cannot read key file %s: %s", path, g_strerror(e));
			return NULL;
		}
		if (n == 0)
			break;
		len += (gsize)n;
	}
	close(fd);
	if (len > KEYFILE_MAX_SIZE) {
		security_free(buf, cap);
		g_set_error(error, KEYFILE_ERROR, KEYFILE_ERROR_TOO_LARGE,
		            "key file %s is larger than %u bytes", path, KEYFILE_MAX_SIZE);
		return NULL;
	}
	Keyfile *kf = keyfile_parse(buf, len, error);
	security_free(buf, cap);
	if (!kf) {
		g_prefix_error(error, "key file %s: ", path);
		return NULL;
	}
	return kf;
}

gsize
keyfile_get_n_keys(const Keyfile *kf)
{
	g_return_val_if_fail(kf != NULL, 0);
	return kf->n_keys;
}

const guint8 *
keyfile_get_key(const Keyfile *kf, gsize i)
{
	g_return_val_if_fail(kf != NULL && i < kf->n_keys, NULL);
	return kf->keys[i];
}

const char *
keyfile_get_name(const Keyfile *kf, gsize i)
{
	g_return_val_if_fail(kf != NULL && i < kf->n_keys, NULL);
	return kf->names[i];
}

const guint8 *
keyfile_get_keys(const Keyfile *kf)
{
	g_return_val_if_fail(kf != NULL, NULL);
	return kf->keys[0];
}

void
keyfile_free(Keyfile *kf)
{
	security_free(kf, sizeof *kf);
}

char *
keyfile_generate(void)
{
	guint8 key[KEYFILE_KEY_LEN];
	gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
	char *s = g_base64_encode(key, sizeof key);
	explicit_bzero(key, sizeof key);
	return s;
}

void
keyfile_free_string(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	g_free(s);
}

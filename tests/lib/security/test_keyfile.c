// SPDX-License-Identifier: Apache-2.0
//
// test_keyfile.c - tests lib/security/keyfile.c: parsing, rotation
// lists, rejection of malformed keys, the permission refusal, keygen.
#include "security/keyfile.h"
#include "security/security.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* base64 of bytes 0..31 and of 32 bytes of 0xff. */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "//////////////////////////////////////////8="

static void
test_assert_key_a(const guint8 *k)
{
	for (guint i = 0; i < KEYFILE_KEY_LEN; i++)
		g_assert_cmpuint(k[i], ==, i);
}

static void
test_assert_key_b(const guint8 *k)
{
	for (guint i = 0; i < KEYFILE_KEY_LEN; i++)
		g_assert_cmpuint(k[i], ==, 0xff);
}

static Keyfile *
test_parse(const char *text, GError **error)
{
	return keyfile_parse(text, strlen(text), error);
}

static void
test_keyfile_whitespace(void)
{
	static const char *const texts[] = {
	        KEY_A,
	        KEY_A "\n",
	        "  \t" KEY_A "  \r\n\n",
	        "\n\n" KEY_A "\r\n",
	        "# the cluster key\n" KEY_A "\n# end\n",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		GError *error = NULL;
		Keyfile *kf = test_parse(texts[i], &error);
		g_assert_no_error(error);
		g_assert_cmpuint(keyfile_get_n_keys(kf), ==, 1);
		test_assert_key_a(keyfile_get_key(kf, 0));
		keyfile_free(kf);
	}
	keyfile_free(NULL);
}

static void
test_keyfile_several(void)
{
	GError *error = NULL;
	Keyfile *kf = test_parse(KEY_B "\n  " KEY_A "\n\n" KEY_B "\n", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(keyfile_get_n_keys(kf), ==, 3);
	/* The first key connects; all are kept in order. */
	test_assert_key_b(keyfile_get_key(kf, 0));
	test_assert_key_a(keyfile_get_key(kf, 1));
	test_assert_key_b(keyfile_get_key(kf, 2));
	const guint8 *all = keyfile_get_keys(kf);
	test_assert_key_a(all + KEYFILE_KEY_LEN);
	keyfile_free(kf);

	GString *many = g_string_new(NULL);
	for (guint i = 0; i < KEYFILE_MAX_KEYS; i++)
		g_string_append(many, KEY_A "\n");
	kf = test_parse(many->str, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(keyfile_get_n_keys(kf), ==, KEYFILE_MAX_KEYS);
	keyfile_free(kf);
	g_string_append(many, KEY_B "\n");
	g_assert_null(test_parse(many->str, &error));
	g_assert_error(error, KEYFILE_ERROR, KEYFILE_ERROR_TOO_MANY);
	g_clear_error(&error);
	g_string_free(many, TRUE);
}

static void
test_keyfile_bad(void)
{
	static const struct {
		const char *text;
		int code;
	} cases[] = {
	        {"", KEYFILE_ERROR_EMPTY},
	        {"  \n\t\n# only a comment\n", KEYFILE_ERROR_EMPTY},
	        /* Not base64 at all, or broken spellings. */
	        {"not a key", KEYFILE_ERROR_BASE64},
	        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", KEYFILE_ERROR_BASE64},
	        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8*", KEYFILE_ERROR_BASE64},
	        {"AAECAwQFBgcICQoLDA0ODx AREhMUFRYXGBkaGxwdHh8=", KEYFILE_ERROR_BASE64},
	        {"AAECAwQFBgcICQoLDA0ODxAR=hMUFRYXGBkaGxwdHh8=", KEYFILE_ERROR_BASE64},
	        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", KEYFILE_ERROR_BASE64},
	        /* Stray bits in the last character: not the canonical spelling. */
	        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", KEYFILE_ERROR_BASE64},
	        /* Good base64, wrong length: 16, 33 and 48 bytes. */
	        {"AAECAwQFBgcICQoLDA0ODw==", KEYFILE_ERROR_LENGTH},
	        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", KEYFILE_ERROR_LENGTH},
	        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v",
	         KEYFILE_ERROR_LENGTH},
	        /* One bad line spoils the file. */
	        {KEY_A "\n" KEY_A "x\n", KEYFILE_ERROR_BASE64},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		GError *error = NULL;
		g_test_message("case %" G_GSIZE_FORMAT, i);
		g_assert_null(test_parse(cases[i].text, &error));
		g_assert_error(error, KEYFILE_ERROR, cases[i].code);
		/* Errors never quote the key material. */
		g_assert_null(strstr(error->message, "AAECAwQF"));
		g_clear_error(&error);
	}
	/* The error names the line. */
	GError *error = NULL;
	g_assert_null(test_parse(KEY_A "\n\n" KEY_A "x\n", &error));
	g_assert_nonnull(strstr(error->message, "line 3"));
	g_clear_error(&error);
	/* Not NUL-terminated input: only @len bytes are read. */
	Keyfile *kf = keyfile_parse(KEY_A "garbage", strlen(KEY_A), &error);
	g_assert_no_error(error);
	test_assert_key_a(keyfile_get_key(kf, 0));
	keyfile_free(kf);
}

static char *
test_write_file(const char *dir, const char *name, const char *text, int mode)
{
	char *path = g_build_filename(dir, name, NULL);
	GError *error = NULL;
	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
	return path;
}

static void
test_keyfile_permissions(void)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("circuit-keyfile-XXXXXX", &error);
	g_assert_no_error(error);
	static const struct {
		int mode;
		const char *refusal; /* substring, or NULL for accepted */
	} cases[] = {
	        {0600, NULL},       {0400, NULL},       {0640, "readable"},
	        {0604, "readable"}, {0620, "writable"}, {0644, "readable"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = test_write_file(dir, "key", KEY_A "\n", cases[i].mode);
		Keyfile *kf = keyfile_load(path, &error);
		if (cases[i].refusal) {
			/* Refused as OpenSSH refuses such a private key, with the fix. */
			g_assert_null(kf);
			g_assert_error(error, KEYFILE_ERROR, KEYFILE_ERROR_MODE);
			g_assert_nonnull(strstr(error->message, cases[i].refusal));
			g_assert_nonnull(strstr(error->message, "chmod 600"));
			g_assert_nonnull(strstr(error->message, path));
			g_assert_null(strstr(error->message, "AAECAwQF"));
			g_clear_error(&error);
		} else {
			g_assert_no_error(error);
			test_assert_key_a(keyfile_get_key(kf, 0));
			keyfile_free(kf);
		}
		g_assert_cmpint(g_unlink(path), ==, 0);
		g_free(path);
	}

	/* Errors: missing file, a directory, a bad key, a huge file. */
	char *missing = g_build_filename(dir, "missing", NULL);
	g_assert_null(keyfile_load(missing, &error));
	g_assert_error(error, KEYFILE_ERROR, KEYFILE_ERROR_IO);
	g_clear_error(&error);
	g_assert_null(keyfile_load(dir, &error));
	g_assert_error(error, KEYFILE_ERROR, KEYFILE_ERROR_IO);
	g_clear_error(&error);
	char *bad = test_write_file(dir, "bad", "AAAA\n", 0600);
	g_assert_null(keyfile_load(bad, &error));
	g_assert_error(error, KEYFILE_ERROR, KEYFILE_ERROR_LENGTH);
	g_assert_nonnull(strstr(error->message, bad));
	g_clear_error(&error);
	char *huge_text = g_strnfill(KEYFILE_MAX_SIZE + 1, '\n');
	char *huge = test_write_file(dir, "huge", huge_text, 0600);
	g_assert_null(keyfile_load(huge, &error));
	g_assert_error(error, KEYFILE_ERROR, KEYFILE_ERROR_TOO_LARGE);
	g_clear_error(&error);

	g_unlink(bad);
	g_unlink(huge);
	g_rmdir(dir);
	g_free(huge_text);
	g_free(huge);
	g_free(bad);
	g_free(missing);
	g_free(dir);
}

static void
test_keyfile_generate(void)
{
	char *a = keyfile_generate();
	char *b = keyfile_generate();
	g_assert_cmpuint(strlen(a), ==, KEYFILE_KEY_BASE64_LEN);
	g_assert_cmpstr(a, !=, b);
	GError *error = NULL;
	Keyfile *kf = test_parse(a, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(keyfile_get_n_keys(kf), ==, 1);
	keyfile_free(kf);
	keyfile_free_string(a);
	keyfile_free_string(b);
	keyfile_free_string(NULL);
}

int
main(int argc, char **argv)
{
	GError *error = NULL;
	g_test_init(&argc, &argv, NULL);
	g_assert_true(security_init(&error));
	g_assert_no_error(error);
	g_test_add_func("/lib/security/keyfile/whitespace", test_keyfile_whitespace);
	g_test_add_func("/lib/security/keyfile/several", test_keyfile_several);
	g_test_add_func("/lib/security/keyfile/bad", test_keyfile_bad);
	g_test_add_func("/lib/security/keyfile/permissions", test_keyfile_permissions);
	g_test_add_func("/lib/security/keyfile/generate", test_keyfile_generate);
	return g_test_run();
}

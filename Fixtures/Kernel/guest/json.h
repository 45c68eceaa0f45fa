/* A small JSON reader and writer for the guest server: enough for the process protocol's requests
 * (objects, arrays, strings without unusual escapes, 64-bit integers, booleans, null). */
#ifndef GUPC_JSON_H
#define GUPC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jkind { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jkind kind;
	bool b;
	bool neg;          /* J_NUM: a leading '-' */
	uint64_t mag;      /* J_NUM: magnitude */
	char *s;           /* J_STR */
	size_t n;          /* J_ARR / J_OBJ: number of items */
	struct jval *items;
	char **keys;       /* J_OBJ */
};

/* Parses one JSON value from text (which it may modify); NULL and a message on error. */
struct jval *json_parse(char *text, const char **error);
void json_free(struct jval *v);

const struct jval *json_get(const struct jval *obj, const char *key);
bool json_i64(const struct jval *v, int64_t *out);
bool json_u64(const struct jval *v, uint64_t *out);

/* A growing output buffer. */
struct jout {
	char *buf;
	size_t len, cap;
};

void jout_raw(struct jout *o, const char *s);
void jout_str(struct jout *o, const char *s);
void jout_i64(struct jout *o, int64_t v);
void jout_u64(struct jout *o, uint64_t v);
void jout_key(struct jout *o, bool *first, const char *key);

#endif

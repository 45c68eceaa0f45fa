#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	char *p;
	const char *error;
	int depth;
};

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')
		ps->p++;
}

static bool parse_value(struct parser *ps, struct jval *v);

static bool parse_string(struct parser *ps, char **out)
{
	char *start, *w;

	if (*ps->p != '"') {
		ps->error = "expected a string";
		return false;
	}
	start = w = ++ps->p;
	while (*ps->p != '"') {
		char c = *ps->p;

		if (c == '\0') {
			ps->error = "unterminated string";
			return false;
		}
		if (c == '\\') {
			ps->p++;
			switch (*ps->p) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			default:
				/* \uXXXX never occurs in the engine's requests (ids and names are ASCII). */
				ps->error = "unsupported escape in string";
				return false;
			}
		}
		*w++ = c;
		ps->p++;
	}
	ps->p++;
	*w = '\0';
	*out = start;
	return true;
}

static bool grow(struct jval *v, size_t *cap, bool keys)
{
	if (v->n < *cap)
		return true;
	*cap = *cap ? *cap * 2 : 8;
	v->items = realloc(v->items, *cap * sizeof(*v->items));
	if (keys)
		v->keys = realloc(v->keys, *cap * sizeof(*v->keys));
	return v->items && (!keys || v->keys);
}

/* A literal (true, false, null): the whole word, or "bad literal". */
static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(ps->p, word, n) != 0) {
		ps->error = "bad literal";
		return false;
	}
	ps->p += n;
	return true;
}

static bool parse_value(struct parser *ps, struct jval *v)
{
	memset(v, 0, sizeof(*v));
	skip_ws(ps);
	if (++ps->depth > 32) {
		ps->error = "nested too deeply";
		return false;
	}
	switch (*ps->p) {
	case '{': {
		size_t cap = 0;

		v->kind = J_OBJ;
		ps->p++;
		skip_ws(ps);
		if (*ps->p == '}') {
			ps->p++;
			break;
		}
		for (;;) {
			char *key;

			skip_ws(ps);
			if (!parse_string(ps, &key))
				return false;
			skip_ws(ps);
			if (*ps->p != ':') {
				ps->error = "expected ':'";
				return false;
			}
			ps->p++;
			if (!grow(v, &cap, true)) {
				ps->error = "out of memory";
				return false;
			}
			v->keys[v->n] = key;
			if (!parse_value(ps, &v->items[v->n]))
				return false;
			v->n++;
			skip_ws(ps);
			if (*ps->p == ',') {
				ps->p++;
				continue;
			}
			if (*ps->p == '}') {
				ps->p++;
				break;
			}
			ps->error = "expected ',' or '}'";
			return false;
		}
		break;
	}
	case '[': {
		size_t cap = 0;

		v->kind = J_ARR;
		ps->p++;
		skip_ws(ps);
		if (*ps->p == ']') {
			ps->p++;
			break;
		}
		for (;;) {
			if (!grow(v, &cap, false)) {
				ps->error = "out of memory";
				return false;
			}
			if (!parse_value(ps, &v->items[v->n]))
				return false;
			v->n++;
			skip_ws(ps);
			if (*ps->p == ',') {
				ps->p++;
				continue;
			}
			if (*ps->p == ']') {
				ps->p++;
				break;
			}
			ps->error = "expected ',' or ']'";
			return false;
		}
		break;
	}
	case '"':
		v->kind = J_STR;
		if (!parse_string(ps, &v->s))
			return false;
		break;
	case 't':
		v->kind = J_BOOL;
		v->b = true;
		if (!literal(ps, "true"))
			return false;
		break;
	case 'f':
		v->kind = J_BOOL;
		if (!literal(ps, "false"))
			return false;
		break;
	case 'n':
		v->kind = J_NULL;
		if (!literal(ps, "null"))
			return false;
		break;
	default: {
		uint64_t mag = 0;
		bool any = false;

		v->kind = J_NUM;
		if (*ps->p == '-') {
			v->neg = true;
			ps->p++;
		}
		while (*ps->p >= '0' && *ps->p <= '9') {
			uint64_t d = (uint64_t)(*ps->p - '0');

			if (mag > (UINT64_MAX - d) / 10) {
				ps->error = "number out of range";
				return false;
			}
			mag = mag * 10 + d;
			any = true;
			ps->p++;
		}
		if (!any || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E') {
			ps->error = "expected an integer";
			return false;
		}
		v->mag = mag;
		break;
	}
	}
	ps->depth--;
	return true;
}

static void free_inner(struct jval *v)
{
	size_t i;

	if (v->kind == J_ARR || v->kind == J_OBJ) {
		for (i = 0; i < v->n; i++)
			free_inner(&v->items[i]);
		free(v->items);
		free(v->keys);
	}
}

struct jval *json_parse(char *text, const char **error)
{
	struct parser ps = { text, NULL, 0 };
	struct jval *v = calloc(1, sizeof(*v));

	if (!v) {
		*error = "out of memory";
		return NULL;
	}
	if (!parse_value(&ps, v)) {
		*error = ps.error;
		free_inner(v);
		free(v);
		return NULL;
	}
	skip_ws(&ps);
	if (*ps.p != '\0') {
		*error = "trailing characters after the JSON value";
		free_inner(v);
		free(v);
		return NULL;
	}
	return v;
}

void json_free(struct jval *v)
{
	if (!v)
		return;
	free_inner(v);
	free(v);
}

const struct jval *json_get(const struct jval *obj, const char *key)
{
	size_t i;

	if (!obj || obj->kind != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

bool json_i64(const struct jval *v, int64_t *out)
{
	if (!v || v->kind != J_NUM)
		return false;
	if (v->neg) {
		if (v->mag > (uint64_t)INT64_MAX + 1)
			return false;
		*out = (int64_t)(0 - v->mag);
	} else {
		if (v->mag > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)v->mag;
	}
	return true;
}

bool json_u64(const struct jval *v, uint64_t *out)
{
	if (!v || v->kind != J_NUM || v->neg)
		return false;
	*out = v->mag;
	return true;
}

static void reserve(struct jout *o, size_t more)
{
	if (o->len + more + 1 <= o->cap)
		return;
	while (o->len + more + 1 > o->cap)
		o->cap = o->cap ? o->cap * 2 : 4096;
	o->buf = realloc(o->buf, o->cap);
	if (!o->buf)
		abort();
}

void jout_raw(struct jout *o, const char *s)
{
	size_t n = strlen(s);

	reserve(o, n);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

void jout_str(struct jout *o, const char *s)
{
	char esc[8];

	jout_raw(o, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
			jout_raw(o, esc);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jout_raw(o, esc);
		} else {
			esc[0] = (char)c;
			esc[1] = '\0';
			jout_raw(o, esc);
		}
	}
	jout_raw(o, "\"");
}

void jout_i64(struct jout *o, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	jout_raw(o, num);
}

void jout_u64(struct jout *o, uint64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	jout_raw(o, num);
}

void jout_key(struct jout *o, bool *first, const char *key)
{
	if (!*first)
		jout_raw(o, ",");
	*first = false;
	jout_str(o, key);
	jout_raw(o, ":");
}

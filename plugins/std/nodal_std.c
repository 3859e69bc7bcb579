/*
 * nodal_std.c: the "std" plugin of Nodal (plugin id "org.nodal.std").
 *
 * Small, dependency-free nodes for text, arithmetic, timing and for testing the engine itself
 * (failures, invalid output, cancellation, serialization of non-thread-safe nodes).
 *
 * Plain C99 against include/nodal.h only. It carries its own small JSON reader (recursive descent
 * into a tree) and writer. Every path frees what it allocated; bad input never crashes a node, it
 * sets an INVALID_INPUT error naming the field and returns NODAL_ERROR.
 *
 * Build alone:
 *   cc -std=c99 -Wall -Wextra -pedantic -O2 -shared -fPIC -I../../include nodal_std.c -o libnodal_std.so
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200112L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200112L /* nanosleep, clock_gettime */
#endif

#include "nodal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ============================================================================================ */
/* Host helpers: tolerate a host struct older (smaller) than ours and NULL services.            */
/* ============================================================================================ */

#define HOST_HAS(host, field)                                                                  \
    ((host) != NULL &&                                                                         \
     (size_t)(host)->struct_size >= offsetof(nodal_host, field) + sizeof((host)->field) &&     \
     (host)->field != NULL)

static void h_error(const nodal_host *host, nodal_call *call, const char *code,
                    const char *message, const char *details, size_t details_len) {
    if (HOST_HAS(host, set_error)) {
        host->set_error(call, code, message, details, details_len);
    }
}

static nodal_status h_output(const nodal_host *host, nodal_call *call, const char *json,
                             size_t len) {
    if (!HOST_HAS(host, write_output)) {
        return NODAL_ERROR;
    }
    return host->write_output(call, json, len);
}

static int h_cancelled(const nodal_host *host, const nodal_call *call) {
    return HOST_HAS(host, is_cancelled) ? host->is_cancelled(call) != 0 : 0;
}

/* ============================================================================================ */
/* JSON tree                                                                                    */
/* ============================================================================================ */

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jval jval;
typedef struct jmember jmember;

struct jval {
    jtype type;
    int boolean;     /* J_BOOL */
    int is_int;      /* J_NUMBER: the literal was an integer that fits int64 (exact in `i`) */
    int64_t i;       /* J_NUMBER when is_int */
    double num;      /* J_NUMBER, always set */
    char *str;       /* J_STRING: UTF-8, NUL-terminated, may contain NUL (see len) */
    size_t len;      /* J_STRING: byte length */
    jval *items;     /* J_ARRAY */
    jmember *members; /* J_OBJECT */
    size_t count;    /* J_ARRAY / J_OBJECT */
};

struct jmember {
    char *key;
    size_t key_len;
    jval value;
};

static void jval_clear(jval *v) {
    size_t k;
    if (v == NULL) {
        return;
    }
    switch (v->type) {
    case J_STRING:
        free(v->str);
        break;
    case J_ARRAY:
        for (k = 0; k < v->count; k++) {
            jval_clear(&v->items[k]);
        }
        free(v->items);
        break;
    case J_OBJECT:
        for (k = 0; k < v->count; k++) {
            free(v->members[k].key);
            jval_clear(&v->members[k].value);
        }
        free(v->members);
        break;
    default:
        break;
    }
    memset(v, 0, sizeof *v);
}

static void jval_free(jval *v) {
    jval_clear(v);
    free(v);
}

static const char *jtype_name(jtype t) {
    switch (t) {
    case J_NULL: return "null";
    case J_BOOL: return "a boolean";
    case J_NUMBER: return "a number";
    case J_STRING: return "a string";
    case J_ARRAY: return "an array";
    case J_OBJECT: return "an object";
    }
    return "unknown";
}

/* Last member with that key wins (as in most JSON readers). */
static const jval *jobj_get(const jval *obj, const char *key) {
    size_t k, n = strlen(key);
    const jval *found = NULL;
    if (obj == NULL || obj->type != J_OBJECT) {
        return NULL;
    }
    for (k = 0; k < obj->count; k++) {
        if (obj->members[k].key_len == n && memcmp(obj->members[k].key, key, n) == 0) {
            found = &obj->members[k].value;
        }
    }
    return found;
}

/* ============================================================================================ */
/* Numbers, independent of the C locale                                                         */
/* ============================================================================================ */

/* The current locale's radix string, found without localeconv() (which is not thread-safe). */
static void locale_radix(char *out, size_t cap) {
    char buf[32];
    size_t n;
    int w = snprintf(buf, sizeof buf, "%.1f", 0.5); /* "0.5", or "0,5" etc. */
    if (w < 3 || (size_t)w >= sizeof buf || (size_t)(w - 2) >= cap) {
        out[0] = '.';
        out[1] = '\0';
        return;
    }
    n = (size_t)w - 2;
    memcpy(out, buf + 1, n);
    out[n] = '\0';
}

/* `text` is a NUL-terminated JSON number literal ('.' as radix). Returns 0 if out of range. */
static int parse_double(const char *text, double *out) {
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == NULL || *end != '\0') {
        /* The locale's radix is not '.': rewrite the literal with it and try again. */
        char radix[16];
        size_t n = strlen(text), rlen, k, o = 0;
        char *copy;
        locale_radix(radix, sizeof radix);
        rlen = strlen(radix);
        copy = (char *)malloc(n * (rlen > 0 ? rlen : 1) + 1);
        if (copy == NULL) {
            return 0;
        }
        for (k = 0; k < n; k++) {
            if (text[k] == '.') {
                memcpy(copy + o, radix, rlen);
                o += rlen;
            } else {
                copy[o++] = text[k];
            }
        }
        copy[o] = '\0';
        v = strtod(copy, &end);
        if (end == NULL || *end != '\0') {
            free(copy);
            return 0;
        }
        free(copy);
    }
    if (!isfinite(v)) {
        return 0;
    }
    *out = v;
    return 1;
}

/* A number as the arithmetic nodes see it: exact int64 when possible, else a double. */
typedef struct {
    int is_int;
    int64_t i;
    double d;
} jnum;

static jnum jnum_of(const jval *v) {
    jnum n;
    n.is_int = v->is_int;
    n.i = v->i;
    n.d = v->num;
    return n;
}

static jnum jnum_double(double d) {
    jnum n;
    n.is_int = 0;
    n.i = 0;
    n.d = d;
    return n;
}

static jnum jnum_int(int64_t i) {
    jnum n;
    n.is_int = 1;
    n.i = i;
    n.d = (double)i;
    return n;
}

/* ============================================================================================ */
/* Output buffer                                                                                */
/* ============================================================================================ */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* out of memory or a non-finite number: the whole output is void */
    int nonfinite;
} sbuf;

static void sb_free(sbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int sb_reserve(sbuf *b, size_t extra) {
    size_t need, cap;
    char *p;
    if (b->failed) {
        return 0;
    }
    if (extra > (size_t)-1 - b->len - 1) {
        b->failed = 1;
        return 0;
    }
    need = b->len + extra + 1;
    if (need <= b->cap) {
        return 1;
    }
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > (size_t)-1 / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = (char *)realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (!sb_reserve(b, n)) {
        return;
    }
    if (n > 0) {
        memcpy(b->data + b->len, s, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }

/* A JSON string literal: escapes '"', '\\' and control characters. `s` must be valid UTF-8. */
static void sb_json_string(sbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t k, run = 0;
    sb_putc(b, '"');
    for (k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        const char *esc = NULL;
        char ubuf[7];
        if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c < 0x20) {
            switch (c) {
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                ubuf[0] = '\\';
                ubuf[1] = 'u';
                ubuf[2] = '0';
                ubuf[3] = '0';
                ubuf[4] = hex[c >> 4];
                ubuf[5] = hex[c & 15];
                ubuf[6] = '\0';
                esc = ubuf;
                break;
            }
        }
        if (esc != NULL) {
            sb_putn(b, s + k - run, run);
            run = 0;
            sb_puts(b, esc);
        } else {
            run++;
        }
    }
    sb_putn(b, s + n - run, run);
    sb_putc(b, '"');
}

/* Integers (integral and within int64) without a decimal point; others in the shortest of
 * %.15g/%.16g/%.17g that reads back to the same double (%.17g always does). Always '.' as radix. */
static void sb_double(sbuf *b, double v) {
    char buf[64], out[64];
    size_t k, o = 0;
    int prec, w = 0, in_radix = 0;
    if (!isfinite(v)) {
        b->failed = 1;
        b->nonfinite = 1;
        return;
    }
    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && v == (double)(int64_t)v) {
        w = snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)v);
        if (w > 0 && (size_t)w < sizeof buf) {
            sb_putn(b, buf, (size_t)w);
        } else {
            b->failed = 1;
        }
        return;
    }
    for (prec = 15; prec <= 17; prec++) {
        char *end = NULL;
        w = snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (w <= 0 || (size_t)w >= sizeof buf) {
            b->failed = 1;
            return;
        }
        if (prec == 17 || (strtod(buf, &end) == v && end != NULL && *end == '\0')) {
            break;
        }
    }
    /* Replace the locale's radix (whatever it is) by '.'. */
    for (k = 0; buf[k] != '\0'; k++) {
        char c = buf[k];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
            out[o++] = c;
            in_radix = 0;
        } else if (!in_radix) {
            out[o++] = '.';
            in_radix = 1;
        }
    }
    sb_putn(b, out, o);
}

static void sb_number(sbuf *b, jnum n) {
    if (n.is_int) {
        char buf[32];
        int w = snprintf(buf, sizeof buf, "%lld", (long long)n.i);
        if (w > 0 && (size_t)w < sizeof buf) {
            sb_putn(b, buf, (size_t)w);
        } else {
            b->failed = 1;
        }
    } else {
        sb_double(b, n.d);
    }
}

/* Compact JSON for any tree value. */
static void sb_value(sbuf *b, const jval *v) {
    size_t k;
    switch (v->type) {
    case J_NULL:
        sb_puts(b, "null");
        break;
    case J_BOOL:
        sb_puts(b, v->boolean ? "true" : "false");
        break;
    case J_NUMBER:
        sb_number(b, jnum_of(v));
        break;
    case J_STRING:
        sb_json_string(b, v->str, v->len);
        break;
    case J_ARRAY:
        sb_putc(b, '[');
        for (k = 0; k < v->count; k++) {
            if (k > 0) {
                sb_putc(b, ',');
            }
            sb_value(b, &v->items[k]);
        }
        sb_putc(b, ']');
        break;
    case J_OBJECT:
        sb_putc(b, '{');
        for (k = 0; k < v->count; k++) {
            if (k > 0) {
                sb_putc(b, ',');
            }
            sb_json_string(b, v->members[k].key, v->members[k].key_len);
            sb_putc(b, ':');
            sb_value(b, &v->members[k].value);
        }
        sb_putc(b, '}');
        break;
    }
}

/* ============================================================================================ */
/* JSON reader (RFC 8259; UTF-8 checked; nesting limited so recursion stays bounded)            */
/* ============================================================================================ */

#define JSON_MAX_DEPTH 256

typedef struct {
    const char *start;
    const char *p;
    const char *end;
    int depth;
    const char *err;  /* static reason, NULL while fine */
    size_t err_at;    /* byte offset of the error */
} jparser;

static int jp_fail(jparser *jp, const char *why) {
    if (jp->err == NULL) {
        jp->err = why;
        jp->err_at = (size_t)(jp->p - jp->start);
    }
    return 0;
}

static void jp_skip_ws(jparser *jp) {
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')) {
        jp->p++;
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    size_t n, k;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) {
            lo = 0xA0;
        } else if (c == 0xED) {
            hi = 0x9F; /* no UTF-16 surrogates */
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) {
            lo = 0x90;
        } else if (c == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (k = 2; k < n; k++) {
        if (p[k] < 0x80 || p[k] > 0xBF) {
            return 0;
        }
    }
    return n;
}

static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int jp_hex4(jparser *jp, uint32_t *out) {
    uint32_t v = 0;
    int k;
    if (jp->end - jp->p < 4) {
        return jp_fail(jp, "truncated \\u escape");
    }
    for (k = 0; k < 4; k++) {
        char c = jp->p[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t)(c - 'A' + 10);
        } else {
            jp->p += k;
            return jp_fail(jp, "invalid hex digit in \\u escape");
        }
    }
    jp->p += 4;
    *out = v;
    return 1;
}

/* Parses a string literal at jp->p (which is '"'). On success *out is malloc'd, NUL-terminated. */
static int jp_string(jparser *jp, char **out, size_t *out_len) {
    const char *q;
    char *buf, *w;
    jp->p++; /* opening quote */
    /* Find the closing quote to size the buffer: decoding never makes a string longer. */
    for (q = jp->p; q < jp->end && *q != '"'; q++) {
        if (*q == '\\') {
            q++;
            if (q >= jp->end) {
                break;
            }
        }
    }
    if (q >= jp->end) {
        return jp_fail(jp, "unterminated string");
    }
    buf = (char *)malloc((size_t)(q - jp->p) + 1);
    if (buf == NULL) {
        return jp_fail(jp, "out of memory");
    }
    w = buf;
    while (*jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c == '\\') {
            char e;
            jp->p++;
            e = *jp->p++;
            switch (e) {
            case '"': *w++ = '"'; break;
            case '\\': *w++ = '\\'; break;
            case '/': *w++ = '/'; break;
            case 'b': *w++ = '\b'; break;
            case 'f': *w++ = '\f'; break;
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (!jp_hex4(jp, &cp)) {
                    free(buf);
                    return 0;
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    free(buf);
                    return jp_fail(jp, "unpaired low surrogate in \\u escape");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u') {
                        free(buf);
                        return jp_fail(jp, "unpaired high surrogate in \\u escape");
                    }
                    jp->p += 2;
                    if (!jp_hex4(jp, &lo)) {
                        free(buf);
                        return 0;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        free(buf);
                        return jp_fail(jp, "unpaired high surrogate in \\u escape");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                w += utf8_encode(cp, w);
                break;
            }
            default:
                jp->p--;
                free(buf);
                return jp_fail(jp, "invalid escape in string");
            }
        } else if (c < 0x20) {
            free(buf);
            return jp_fail(jp, "control character in string");
        } else if (c < 0x80) {
            *w++ = (char)c;
            jp->p++;
        } else {
            size_t n = utf8_seq_len((const unsigned char *)jp->p, (const unsigned char *)q);
            if (n == 0) {
                free(buf);
                return jp_fail(jp, "invalid UTF-8 in string");
            }
            memcpy(w, jp->p, n);
            w += n;
            jp->p += n;
        }
    }
    jp->p++; /* closing quote */
    *w = '\0';
    *out = buf;
    *out_len = (size_t)(w - buf);
    return 1;
}

static int jp_number(jparser *jp, jval *v) {
    const char *s = jp->p;
    int integral = 1;
    size_t n;
    char small[64];
    char *text;
    if (jp->p < jp->end && *jp->p == '-') {
        jp->p++;
    }
    if (jp->p >= jp->end || !(*jp->p >= '0' && *jp->p <= '9')) {
        return jp_fail(jp, "invalid number");
    }
    if (*jp->p == '0') {
        jp->p++;
    } else {
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
            jp->p++;
        }
    }
    if (jp->p < jp->end && *jp->p == '.') {
        integral = 0;
        jp->p++;
        if (jp->p >= jp->end || !(*jp->p >= '0' && *jp->p <= '9')) {
            return jp_fail(jp, "invalid number: digit expected after '.'");
        }
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
            jp->p++;
        }
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        integral = 0;
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-')) {
            jp->p++;
        }
        if (jp->p >= jp->end || !(*jp->p >= '0' && *jp->p <= '9')) {
            return jp_fail(jp, "invalid number: digit expected in exponent");
        }
        while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9') {
            jp->p++;
        }
    }
    n = (size_t)(jp->p - s);
    v->type = J_NUMBER;
    if (integral) {
        /* Exact int64 when it fits. */
        const char *d = s;
        int neg = 0, fits = 1;
        uint64_t acc = 0, limit;
        if (*d == '-') {
            neg = 1;
            d++;
        }
        limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
        for (; d < jp->p; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (acc > (limit - digit) / 10u) {
                fits = 0;
                break;
            }
            acc = acc * 10u + digit;
        }
        if (fits) {
            v->is_int = 1;
            if (neg) {
                v->i = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
            } else {
                v->i = (int64_t)acc;
            }
            v->num = (double)v->i;
            return 1;
        }
    }
    text = n < sizeof small ? small : (char *)malloc(n + 1);
    if (text == NULL) {
        return jp_fail(jp, "out of memory");
    }
    memcpy(text, s, n);
    text[n] = '\0';
    if (!parse_double(text, &v->num)) {
        if (text != small) {
            free(text);
        }
        jp->p = s;
        return jp_fail(jp, "number out of range");
    }
    if (text != small) {
        free(text);
    }
    return 1;
}

static int jp_value(jparser *jp, jval *v);

static int jp_array(jparser *jp, jval *v) {
    size_t cap = 0;
    v->type = J_ARRAY;
    jp->p++; /* '[' */
    jp_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        return 1;
    }
    for (;;) {
        jval item;
        memset(&item, 0, sizeof item);
        if (!jp_value(jp, &item)) {
            return 0; /* item cleared by jp_value; v cleared by the caller */
        }
        if (v->count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            jval *p = ncap <= (size_t)-1 / sizeof *p
                          ? (jval *)realloc(v->items, ncap * sizeof *p)
                          : NULL;
            if (p == NULL) {
                jval_clear(&item);
                return jp_fail(jp, "out of memory");
            }
            v->items = p;
            cap = ncap;
        }
        v->items[v->count++] = item;
        jp_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == ']') {
            jp->p++;
            return 1;
        }
        return jp_fail(jp, "expected ',' or ']' in array");
    }
}

static int jp_object(jparser *jp, jval *v) {
    size_t cap = 0;
    v->type = J_OBJECT;
    jp->p++; /* '{' */
    jp_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        return 1;
    }
    for (;;) {
        jmember m;
        memset(&m, 0, sizeof m);
        jp_skip_ws(jp);
        if (jp->p >= jp->end || *jp->p != '"') {
            return jp_fail(jp, "expected a string key in object");
        }
        if (!jp_string(jp, &m.key, &m.key_len)) {
            return 0;
        }
        jp_skip_ws(jp);
        if (jp->p >= jp->end || *jp->p != ':') {
            free(m.key);
            return jp_fail(jp, "expected ':' after object key");
        }
        jp->p++;
        if (!jp_value(jp, &m.value)) {
            free(m.key);
            return 0;
        }
        if (v->count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            jmember *p = ncap <= (size_t)-1 / sizeof *p
                             ? (jmember *)realloc(v->members, ncap * sizeof *p)
                             : NULL;
            if (p == NULL) {
                free(m.key);
                jval_clear(&m.value);
                return jp_fail(jp, "out of memory");
            }
            v->members = p;
            cap = ncap;
        }
        v->members[v->count++] = m;
        jp_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == '}') {
            jp->p++;
            return 1;
        }
        return jp_fail(jp, "expected ',' or '}' in object");
    }
}

static int jp_literal(jparser *jp, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0) {
        return jp_fail(jp, "invalid literal");
    }
    jp->p += n;
    return 1;
}

/* Parses one value into *v (zeroed by the caller). On failure *v is cleared. */
static int jp_value(jparser *jp, jval *v) {
    int ok;
    jp_skip_ws(jp);
    if (jp->p >= jp->end) {
        return jp_fail(jp, "unexpected end of input");
    }
    switch (*jp->p) {
    case '{':
    case '[':
        if (jp->depth >= JSON_MAX_DEPTH) {
            return jp_fail(jp, "nesting too deep");
        }
        jp->depth++;
        ok = *jp->p == '{' ? jp_object(jp, v) : jp_array(jp, v);
        jp->depth--;
        break;
    case '"':
        v->type = J_STRING;
        ok = jp_string(jp, &v->str, &v->len);
        break;
    case 't':
        v->type = J_BOOL;
        v->boolean = 1;
        ok = jp_literal(jp, "true");
        break;
    case 'f':
        v->type = J_BOOL;
        ok = jp_literal(jp, "false");
        break;
    case 'n':
        v->type = J_NULL;
        ok = jp_literal(jp, "null");
        break;
    default:
        if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9')) {
            ok = jp_number(jp, v);
        } else {
            ok = jp_fail(jp, "unexpected character");
        }
        break;
    }
    if (!ok) {
        jval_clear(v);
    }
    return ok;
}

/* Parses a whole document. Returns a malloc'd tree, or NULL with a message in errbuf. */
static jval *json_parse(const char *json, size_t len, char *errbuf, size_t errcap) {
    jparser jp;
    jval *v;
    if (json == NULL) {
        snprintf(errbuf, errcap, "input is not valid JSON: no input");
        return NULL;
    }
    jp.start = jp.p = json;
    jp.end = json + len;
    jp.depth = 0;
    jp.err = NULL;
    jp.err_at = 0;
    v = (jval *)calloc(1, sizeof *v);
    if (v == NULL) {
        snprintf(errbuf, errcap, "out of memory");
        return NULL;
    }
    if (jp_value(&jp, v)) {
        jp_skip_ws(&jp);
        if (jp.p == jp.end) {
            return v;
        }
        jp_fail(&jp, "unexpected data after the JSON value");
    }
    jval_free(v);
    snprintf(errbuf, errcap, "input is not valid JSON: %s at byte %lu", jp.err,
             (unsigned long)jp.err_at);
    return NULL;
}

/* ============================================================================================ */
/* Per-call context: the parsed input and the output being built                                */
/* ============================================================================================ */

typedef struct {
    const nodal_host *host;
    nodal_call *call;
    jval *in;  /* the parsed input: always a JSON object after ctx_begin succeeded */
    sbuf out;
} ctx;

static void invalid_input(ctx *c, const char *message) {
    h_error(c->host, c->call, "INVALID_INPUT", message, NULL, 0);
}

/* Parses the input, which must be a JSON object. On failure the error is set; returns 0. */
static int ctx_begin(ctx *c, const nodal_host *host, nodal_call *call, const char *json,
                     size_t len) {
    char err[160];
    memset(c, 0, sizeof *c);
    c->host = host;
    c->call = call;
    c->in = json_parse(json, len, err, sizeof err);
    if (c->in == NULL) {
        h_error(host, call, "INVALID_INPUT", err, NULL, 0);
        return 0;
    }
    if (c->in->type != J_OBJECT) {
        char msg[64];
        snprintf(msg, sizeof msg, "input must be a JSON object, got %s", jtype_name(c->in->type));
        invalid_input(c, msg);
        jval_free(c->in);
        c->in = NULL;
        return 0;
    }
    return 1;
}

/* Writes the built output when status is NODAL_OK, frees everything, returns the final status. */
static nodal_status ctx_end(ctx *c, nodal_status status) {
    if (status == NODAL_OK) {
        if (c->out.nonfinite) {
            h_error(c->host, c->call, "OUT_OF_RANGE",
                    "the result is not a finite number and cannot be written as JSON", NULL, 0);
            status = NODAL_ERROR;
        } else if (c->out.failed || c->out.data == NULL) {
            h_error(c->host, c->call, "OUT_OF_MEMORY", "could not build the output", NULL, 0);
            status = NODAL_ERROR;
        } else if (h_output(c->host, c->call, c->out.data, c->out.len) != NODAL_OK) {
            h_error(c->host, c->call, "OUTPUT_REJECTED", "the host refused the output", NULL, 0);
            status = NODAL_ERROR;
        }
    }
    jval_free(c->in);
    c->in = NULL;
    sb_free(&c->out);
    return status;
}

/* Looks up a field of the input. `want` is the required type. Optional fields may be absent or
 * null (then *out is NULL). Returns 0 after setting INVALID_INPUT when missing or mistyped. */
static int field(ctx *c, const char *name, jtype want, int required, const jval **out) {
    const jval *v = jobj_get(c->in, name);
    *out = NULL;
    if (v == NULL || (!required && v->type == J_NULL)) {
        if (required) {
            char msg[160];
            snprintf(msg, sizeof msg, "missing required field '%s' (%s)", name, jtype_name(want));
            invalid_input(c, msg);
            return 0;
        }
        return 1;
    }
    if (v->type != want) {
        char msg[160];
        snprintf(msg, sizeof msg, "field '%s' must be %s, got %s", name, jtype_name(want),
                 jtype_name(v->type));
        invalid_input(c, msg);
        return 0;
    }
    *out = v;
    return 1;
}

/* ============================================================================================ */
/* Sleeping                                                                                     */
/* ============================================================================================ */

#define MAX_SLEEP_MS 86400000.0 /* one day */
#define SLICE_NS INT64_C(5000000) /* 5 ms */

static int64_t now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec * INT64_C(1000000000) + (int64_t)ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
    struct timespec ts;
    if (ns <= 0) {
        return;
    }
    ts.tv_sec = (time_t)(ns / INT64_C(1000000000));
    ts.tv_nsec = (long)(ns % INT64_C(1000000000));
    nanosleep(&ts, NULL); /* EINTR: the caller's loop sleeps the rest */
}

/* Sleeps `total_ns`. When cancellable, in slices of at most 5 ms, polling is_cancelled before
 * each; returns 1 if cancelled, else 0. */
static int sleep_for(const nodal_host *host, nodal_call *call, int64_t total_ns, int cancellable) {
    int64_t deadline = now_ns() + total_ns;
    for (;;) {
        int64_t left = deadline - now_ns();
        if (left <= 0) {
            return 0;
        }
        if (cancellable) {
            if (h_cancelled(host, call)) {
                return 1;
            }
            if (left > SLICE_NS) {
                left = SLICE_NS;
            }
        }
        sleep_ns(left);
    }
}

/* Reads field "ms": a number in [0, one day]. */
static int field_ms(ctx *c, const jval **ms) {
    if (!field(c, "ms", J_NUMBER, 1, ms)) {
        return 0;
    }
    if (!((*ms)->num >= 0.0 && (*ms)->num <= MAX_SLEEP_MS)) {
        invalid_input(c, "field 'ms' must be a number of milliseconds between 0 and 86400000");
        return 0;
    }
    return 1;
}

/* ============================================================================================ */
/* Nodes                                                                                        */
/* ============================================================================================ */

#define FLAGS_PURE (NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING | NODAL_NODE_DETERMINISTIC)

#define NODE_ARGS                                                                              \
    const nodal_node *node, const nodal_host *host, nodal_call *call, const char *input,       \
        size_t input_len

#define NODE_BEGIN(c)                                                                          \
    (void)node;                                                                                \
    if (!ctx_begin(&(c), host, call, input, input_len)) {                                      \
        return NODAL_ERROR;                                                                    \
    }

/* ---- text ---------------------------------------------------------------------------------- */

static nodal_status map_case(NODE_ARGS, int to_upper) {
    ctx c;
    const jval *text;
    size_t k;
    NODE_BEGIN(c)
    if (!field(&c, "text", J_STRING, 1, &text)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    /* Map in place in the tree (we own it), then write. */
    for (k = 0; k < text->len; k++) {
        char ch = text->str[k];
        if (to_upper && ch >= 'a' && ch <= 'z') {
            text->str[k] = (char)(ch - 'a' + 'A');
        } else if (!to_upper && ch >= 'A' && ch <= 'Z') {
            text->str[k] = (char)(ch - 'A' + 'a');
        }
    }
    sb_puts(&c.out, "{\"text\":");
    sb_json_string(&c.out, text->str, text->len);
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_upper(NODE_ARGS) { return map_case(node, host, call, input, input_len, 1); }

static nodal_status node_lower(NODE_ARGS) { return map_case(node, host, call, input, input_len, 0); }

static nodal_status node_concat(NODE_ARGS) {
    ctx c;
    const jval *parts, *sep;
    size_t k;
    sbuf joined;
    NODE_BEGIN(c)
    if (!field(&c, "parts", J_ARRAY, 1, &parts) || !field(&c, "separator", J_STRING, 0, &sep)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    for (k = 0; k < parts->count; k++) {
        if (parts->items[k].type != J_STRING) {
            char msg[256];
            snprintf(msg, sizeof msg, "field 'parts[%lu]' must be a string, got %s",
                     (unsigned long)k, jtype_name(parts->items[k].type));
            h_error(host, call, "INVALID_INPUT", msg, NULL, 0);
            return ctx_end(&c, NODAL_ERROR);
        }
    }
    memset(&joined, 0, sizeof joined);
    sb_putn(&joined, "", 0); /* so an empty result is still a buffer */
    for (k = 0; k < parts->count; k++) {
        if (k > 0 && sep != NULL) {
            sb_putn(&joined, sep->str, sep->len);
        }
        sb_putn(&joined, parts->items[k].str, parts->items[k].len);
    }
    sb_puts(&c.out, "{\"text\":");
    if (joined.failed) {
        c.out.failed = 1;
    } else {
        sb_json_string(&c.out, joined.data, joined.len);
    }
    sb_putc(&c.out, '}');
    sb_free(&joined);
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_length(NODE_ARGS) {
    ctx c;
    const jval *text;
    size_t k;
    int64_t count = 0;
    NODE_BEGIN(c)
    if (!field(&c, "text", J_STRING, 1, &text)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    /* The reader checked the UTF-8: count the bytes that start a code point. */
    for (k = 0; k < text->len; k++) {
        if (((unsigned char)text->str[k] & 0xC0) != 0x80) {
            count++;
        }
    }
    sb_puts(&c.out, "{\"length\":");
    sb_number(&c.out, jnum_int(count));
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

/* ---- arithmetic ---------------------------------------------------------------------------- */

static jnum num_add(jnum a, jnum b) {
    if (a.is_int && b.is_int &&
        !((b.i > 0 && a.i > INT64_MAX - b.i) || (b.i < 0 && a.i < INT64_MIN - b.i))) {
        return jnum_int(a.i + b.i);
    }
    return jnum_double(a.d + b.d);
}

static jnum num_mul(jnum a, jnum b) {
    if (a.is_int && b.is_int) {
        int64_t x = a.i, y = b.i;
        int overflow;
        if (x == 0 || y == 0) {
            return jnum_int(0);
        }
        if (x > 0) {
            overflow = y > 0 ? x > INT64_MAX / y : y < INT64_MIN / x;
        } else {
            overflow = y > 0 ? x < INT64_MIN / y : (x != 0 && y < INT64_MAX / x);
        }
        if (!overflow) {
            return jnum_int(x * y);
        }
    }
    return jnum_double(a.d * b.d);
}

static nodal_status binary_op(NODE_ARGS, int multiply) {
    ctx c;
    const jval *a, *b;
    jnum r;
    NODE_BEGIN(c)
    if (!field(&c, "a", J_NUMBER, 1, &a) || !field(&c, "b", J_NUMBER, 1, &b)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    r = multiply ? num_mul(jnum_of(a), jnum_of(b)) : num_add(jnum_of(a), jnum_of(b));
    sb_puts(&c.out, "{\"result\":");
    sb_number(&c.out, r);
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_add(NODE_ARGS) { return binary_op(node, host, call, input, input_len, 0); }

static nodal_status node_multiply(NODE_ARGS) {
    return binary_op(node, host, call, input, input_len, 1);
}

static nodal_status node_increment(NODE_ARGS) {
    ctx c;
    const jval *value;
    NODE_BEGIN(c)
    if (!field(&c, "value", J_NUMBER, 1, &value)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    sb_puts(&c.out, "{\"value\":");
    sb_number(&c.out, num_add(jnum_of(value), jnum_int(1)));
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

/* ---- plumbing and testing ------------------------------------------------------------------ */

static nodal_status node_echo(NODE_ARGS) {
    (void)node;
    if (input == NULL) {
        input = "";
        input_len = 0;
    }
    if (h_output(host, call, input, input_len) != NODAL_OK) {
        h_error(host, call, "OUTPUT_REJECTED", "the host refused the output", NULL, 0);
        return NODAL_ERROR;
    }
    return NODAL_OK;
}

static nodal_status node_sleep(NODE_ARGS) {
    ctx c;
    const jval *ms, *value;
    NODE_BEGIN(c)
    if (!field_ms(&c, &ms)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    value = jobj_get(c.in, "value");
    if (sleep_for(host, call, (int64_t)(ms->num * 1e6), 1)) {
        return ctx_end(&c, NODAL_CANCELLED);
    }
    sb_puts(&c.out, "{\"slept_ms\":");
    sb_number(&c.out, jnum_of(ms));
    sb_puts(&c.out, ",\"value\":");
    if (value != NULL) {
        sb_value(&c.out, value);
    } else {
        sb_puts(&c.out, "null");
    }
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_sleep_uncancellable(NODE_ARGS) {
    ctx c;
    const jval *ms;
    NODE_BEGIN(c)
    if (!field_ms(&c, &ms)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    sleep_for(host, call, (int64_t)(ms->num * 1e6), 0);
    sb_puts(&c.out, "{\"slept_ms\":");
    sb_number(&c.out, jnum_of(ms));
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_fail(NODE_ARGS) {
    ctx c;
    const jval *code, *message, *details;
    sbuf d;
    NODE_BEGIN(c)
    if (!field(&c, "code", J_STRING, 0, &code) || !field(&c, "message", J_STRING, 0, &message)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    details = jobj_get(c.in, "details");
    memset(&d, 0, sizeof d);
    if (details != NULL && details->type != J_NULL) {
        sb_value(&d, details);
        if (d.failed) {
            sb_free(&d);
            h_error(host, call, "OUT_OF_MEMORY", "could not serialize 'details'", NULL, 0);
            return ctx_end(&c, NODAL_ERROR);
        }
    }
    h_error(host, call, code != NULL ? code->str : "STD_FAIL",
            message != NULL ? message->str : "failed on purpose", d.data, d.len);
    sb_free(&d);
    return ctx_end(&c, NODAL_ERROR);
}

static nodal_status node_bad_output(NODE_ARGS) {
    static const char junk[] = "{not json";
    (void)node;
    (void)input;
    (void)input_len;
    if (h_output(host, call, junk, sizeof junk - 1) != NODAL_OK) {
        h_error(host, call, "OUTPUT_REJECTED", "the host refused the output", NULL, 0);
        return NODAL_ERROR;
    }
    return NODAL_OK;
}

static nodal_status node_log(NODE_ARGS) {
    ctx c;
    const jval *message, *steps;
    int64_t n = 3, k;
    NODE_BEGIN(c)
    if (!field(&c, "message", J_STRING, 1, &message) ||
        !field(&c, "steps", J_NUMBER, 0, &steps)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    if (steps != NULL) {
        if (!(steps->num >= 0.0 && steps->num <= 1000000.0 &&
              steps->num == (double)(int64_t)steps->num)) {
            invalid_input(&c, "field 'steps' must be an integer between 0 and 1000000");
            return ctx_end(&c, NODAL_ERROR);
        }
        n = (int64_t)steps->num;
    }
    if (HOST_HAS(host, log)) {
        host->log(call, NODAL_LOG_INFO, message->str);
    }
    if (HOST_HAS(host, report_progress)) {
        for (k = 1; k <= n; k++) {
            host->report_progress(call, (double)k / (double)n, NULL);
        }
    }
    sb_puts(&c.out, "{\"logged\":");
    sb_json_string(&c.out, message->str, message->len);
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

/* Appends 'line' and a newline to the file at 'path' (created if missing). A side effect on
 * purpose: tests use it to see how often a step really ran (resume must not run it twice). */
static nodal_status node_append_line(NODE_ARGS) {
    ctx c;
    const jval *path, *line;
    FILE *file;
    int failed;
    NODE_BEGIN(c)
    if (!field(&c, "path", J_STRING, 1, &path) || !field(&c, "line", J_STRING, 1, &line)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    file = fopen(path->str, "a");
    if (file == NULL) {
        h_error(host, call, "IO_ERROR", "could not open 'path' for appending", NULL, 0);
        return ctx_end(&c, NODAL_ERROR);
    }
    failed = fwrite(line->str, 1, line->len, file) != line->len || fputc('\n', file) == EOF;
    failed = fclose(file) != 0 || failed;
    if (failed) {
        h_error(host, call, "IO_ERROR", "could not append to 'path'", NULL, 0);
        return ctx_end(&c, NODAL_ERROR);
    }
    sb_puts(&c.out, "{\"appended\":");
    sb_json_string(&c.out, line->str, line->len);
    sb_putc(&c.out, '}');
    return ctx_end(&c, NODAL_OK);
}

/* The plugin's one piece of mutable global state, on purpose without any synchronization: the
 * node is not NODAL_NODE_THREAD_SAFE, so the host must serialize its calls. If it did not, racing
 * calls would read the same value and return repeated counts. */
static int serial_counter_value = 0;

static nodal_status node_serial_counter(NODE_ARGS) {
    int seen, now;
    char buf[48];
    int w;
    (void)node;
    (void)input;
    (void)input_len;
    seen = serial_counter_value;
    sleep_for(host, call, INT64_C(2000000), 0);
    now = seen + 1;
    serial_counter_value = now;
    w = snprintf(buf, sizeof buf, "{\"count\":%d}", now);
    if (w <= 0 || (size_t)w >= sizeof buf || h_output(host, call, buf, (size_t)w) != NODAL_OK) {
        h_error(host, call, "OUTPUT_REJECTED", "could not write the output", NULL, 0);
        return NODAL_ERROR;
    }
    return NODAL_OK;
}

/* ============================================================================================ */
/* Descriptors                                                                                  */
/* ============================================================================================ */

#define S_TEXT_OBJ                                                                             \
    "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}"
#define S_AB_IN                                                                                \
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":"         \
    "\"number\"}},\"required\":[\"a\",\"b\"]}"
#define S_RESULT_OUT                                                                           \
    "{\"type\":\"object\",\"properties\":{\"result\":{\"type\":\"number\"}},\"required\":"      \
    "[\"result\"]}"
#define S_VALUE_NUM                                                                            \
    "{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"number\"}},\"required\":"       \
    "[\"value\"]}"
#define S_ANY "{}"
#define S_MS_PROP "\"ms\":{\"type\":\"number\",\"minimum\":0,\"maximum\":86400000}"

#define NODE(var, nm, desc, fl, in_schema, out_schema, fn)                                     \
    static const nodal_node var = {                                                            \
        sizeof(nodal_node), 0, "org.nodal.std." nm, nm, "1.0.0", desc, (fl), in_schema,        \
        out_schema, NULL, NULL, fn}

NODE(n_upper, "upper", "Maps ASCII letters of 'text' to upper case.", FLAGS_PURE, S_TEXT_OBJ,
     S_TEXT_OBJ, node_upper);

NODE(n_lower, "lower", "Maps ASCII letters of 'text' to lower case.", FLAGS_PURE, S_TEXT_OBJ,
     S_TEXT_OBJ, node_lower);

NODE(n_concat, "concat", "Joins the strings of 'parts' with an optional 'separator'.", FLAGS_PURE,
     "{\"type\":\"object\",\"properties\":{\"parts\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"string\"}},\"separator\":{\"type\":\"string\"}},\"required\":[\"parts\"]}",
     S_TEXT_OBJ, node_concat);

NODE(n_length, "length", "Counts the Unicode code points of 'text'.", FLAGS_PURE, S_TEXT_OBJ,
     "{\"type\":\"object\",\"properties\":{\"length\":{\"type\":\"integer\",\"minimum\":0}},"
     "\"required\":[\"length\"]}",
     node_length);

NODE(n_add, "add", "Adds numbers 'a' and 'b'.", FLAGS_PURE, S_AB_IN, S_RESULT_OUT, node_add);

NODE(n_multiply, "multiply", "Multiplies numbers 'a' and 'b'.", FLAGS_PURE, S_AB_IN,
     S_RESULT_OUT, node_multiply);

NODE(n_increment, "increment", "Adds 1 to 'value'; its output is a valid input for itself.",
     FLAGS_PURE, S_VALUE_NUM, S_VALUE_NUM, node_increment);

NODE(n_increment_pooled, "increment_pooled",
     "Same as increment, but not non-blocking, so the host runs it on its blocking-call pool.",
     NODAL_NODE_THREAD_SAFE | NODAL_NODE_DETERMINISTIC, S_VALUE_NUM, S_VALUE_NUM, node_increment);

NODE(n_echo, "echo", "Outputs its input unchanged.", FLAGS_PURE, S_ANY, S_ANY, node_echo);

NODE(n_sleep, "sleep",
     "Sleeps 'ms' milliseconds, polling for cancellation every 5 ms, then returns 'value'.",
     NODAL_NODE_THREAD_SAFE | NODAL_NODE_CANCELLABLE,
     "{\"type\":\"object\",\"properties\":{" S_MS_PROP ",\"value\":{}},\"required\":[\"ms\"]}",
     "{\"type\":\"object\",\"properties\":{\"slept_ms\":{\"type\":\"number\"},\"value\":{}},"
     "\"required\":[\"slept_ms\",\"value\"]}",
     node_sleep);

NODE(n_sleep_uncancellable, "sleep_uncancellable",
     "Sleeps 'ms' milliseconds and never checks for cancellation.", NODAL_NODE_THREAD_SAFE,
     "{\"type\":\"object\",\"properties\":{" S_MS_PROP "},\"required\":[\"ms\"]}",
     "{\"type\":\"object\",\"properties\":{\"slept_ms\":{\"type\":\"number\"}},"
     "\"required\":[\"slept_ms\"]}",
     node_sleep_uncancellable);

NODE(n_fail, "fail", "Always fails with the given 'code', 'message' and 'details'.",
     NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING,
     "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\",\"default\":"
     "\"STD_FAIL\"},\"message\":{\"type\":\"string\",\"default\":\"failed on purpose\"},"
     "\"details\":{}}}",
     "{\"description\":\"Never produced: the node always fails.\",\"not\":{}}", node_fail);

NODE(n_bad_output, "bad_output", "Writes output that is not valid JSON, to test the host.",
     NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, S_ANY,
     "{\"description\":\"Not JSON: the bytes '{not json'.\"}", node_bad_output);

NODE(n_log, "log", "Logs 'message' once and reports progress in 'steps' steps.",
     NODAL_NODE_THREAD_SAFE,
     "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"},\"steps\":{"
     "\"type\":\"integer\",\"minimum\":0,\"maximum\":1000000,\"default\":3}},"
     "\"required\":[\"message\"]}",
     "{\"type\":\"object\",\"properties\":{\"logged\":{\"type\":\"string\"}},"
     "\"required\":[\"logged\"]}",
     node_log);

NODE(n_serial_counter, "serial_counter",
     "Increments a global counter without locking (not thread-safe: the host must serialize it).",
     0, S_ANY,
     "{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\"}},"
     "\"required\":[\"count\"]}",
     node_serial_counter);

NODE(n_append_line, "append_line", "Appends 'line' and a newline to the file at 'path'.",
     NODAL_NODE_THREAD_SAFE,
     "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"line\":{"
     "\"type\":\"string\"}},\"required\":[\"path\",\"line\"]}",
     "{\"type\":\"object\",\"properties\":{\"appended\":{\"type\":\"string\"}},"
     "\"required\":[\"appended\"]}",
     node_append_line);

static const nodal_node *const std_nodes[] = {
    &n_upper,     &n_lower,    &n_concat,         &n_length,
    &n_add,       &n_multiply, &n_increment,      &n_increment_pooled,
    &n_echo,      &n_sleep,    &n_sleep_uncancellable, &n_fail,
    &n_bad_output, &n_log,     &n_serial_counter, &n_append_line,
};

static const nodal_plugin std_plugin = {
    sizeof(nodal_plugin),
    NODAL_ABI_MAJOR,
    NODAL_ABI_MINOR,
    (uint32_t)(sizeof std_nodes / sizeof std_nodes[0]),
    "org.nodal.std",
    "std",
    "1.0.0",
    "Nodal",
    "Standard nodes: text, arithmetic, timing, and helpers for testing the engine.",
    NULL, /* swift_toolchain: not a Swift plugin */
    std_nodes,
    NULL, /* init */
    NULL, /* license (ABI 1.1): not stated */
    NULL, /* homepage (ABI 1.1) */
};

NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t host_abi_major,
                                                       uint32_t host_abi_minor);

NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t host_abi_major,
                                                       uint32_t host_abi_minor) {
    (void)host_abi_minor; /* ABI 1.0 is all this plugin needs */
    if (host_abi_major != NODAL_ABI_MAJOR) {
        return NULL;
    }
    return &std_plugin;
}

/*
 * nodal_std.c: the "std" plugin of Nodal (plugin id "org.nodal.std").
 *
 * Small, dependency-free nodes for text, arithmetic, timing and for testing the engine itself
 * (failures, invalid output, cancellation, serialization of non-thread-safe nodes).
 *
 * Plain C99 against include/nodal.h only. It reads its inputs and writes its outputs through the
 * host's JSON extension (NODAL_EXT_JSON, ABI 1.2), so it carries no JSON code of its own: it ships
 * with this host, and on a host without the extension its nodes fail with UNSUPPORTED_HOST. Bad
 * input never crashes a node: it sets an INVALID_INPUT error naming the field and returns
 * NODAL_ERROR. Nothing is allocated but the copies `upper`, `lower` and `concat` make (freed on
 * every path); whatever the extension hands out is the host's, freed when the call ends.
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

/* The host's JSON extension, when it offers one that has every function used here. The host's
 * table lives as long as the process, so the first answer is kept (an atomic pointer where the
 * compiler has the builtins: calls run on many threads; the lookup costs about as much as two
 * JSON calls). */
static const nodal_json *h_json(const nodal_host *host) {
    const nodal_json *j;
#if defined(__GNUC__) || defined(__clang__)
    static const nodal_json *kept;
    j = __atomic_load_n(&kept, __ATOMIC_ACQUIRE);
    if (j != NULL) {
        return j;
    }
#endif
    if (!HOST_HAS(host, get_extension)) {
        return NULL;
    }
    j = (const nodal_json *)host->get_extension(host, NODAL_EXT_JSON);
    if (j == NULL ||
        (size_t)j->struct_size < offsetof(nodal_json, writer_json) + sizeof j->writer_json) {
        return NULL;
    }
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(&kept, j, __ATOMIC_RELEASE);
#endif
    return j;
}

static const char *jtype_name(nodal_json_type t) {
    switch (t) {
    case NODAL_JSON_NULL: return "null";
    case NODAL_JSON_BOOL: return "a boolean";
    case NODAL_JSON_NUMBER: return "a number";
    case NODAL_JSON_STRING: return "a string";
    case NODAL_JSON_ARRAY: return "an array";
    case NODAL_JSON_OBJECT: return "an object";
    }
    return "missing";
}

/* ============================================================================================ */
/* Numbers as the arithmetic nodes see them: exact int64 when possible, else a double           */
/* ============================================================================================ */

typedef struct {
    int is_int;
    int64_t i;
    double d;
} jnum;

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
/* Per-call context: the input document and the output's writer                                 */
/* ============================================================================================ */

typedef struct {
    const nodal_host *host;
    nodal_call *call;
    const nodal_json *j;
    nodal_json_value in;   /* the input: always a JSON object after ctx_begin succeeded */
    nodal_json_writer out; /* the output, built member by member */
    int nonfinite;         /* a result was not finite: JSON cannot hold it */
} ctx;

static void invalid_input(ctx *c, const char *message) {
    h_error(c->host, c->call, "INVALID_INPUT", message, NULL, 0);
}

/* Finds the extension and the input, which must be a JSON object, and starts the output's
 * writer. On failure the error is set; returns 0. */
static int ctx_begin(ctx *c, const nodal_host *host, nodal_call *call) {
    memset(c, 0, sizeof *c);
    c->host = host;
    c->call = call;
    c->j = h_json(host);
    if (c->j == NULL) {
        h_error(host, call, "UNSUPPORTED_HOST",
                "this host offers no JSON extension (" NODAL_EXT_JSON ", Nodal ABI 1.2), which "
                "the std plugin reads its input with",
                NULL, 0);
        return 0;
    }
    c->in = c->j->input(call);
    if (c->j->type(call, c->in) != NODAL_JSON_OBJECT) {
        char msg[64];
        snprintf(msg, sizeof msg, "input must be a JSON object, got %s",
                 c->in == NODAL_JSON_NONE ? "text that is not JSON"
                                          : jtype_name(c->j->type(call, c->in)));
        invalid_input(c, msg);
        return 0;
    }
    c->out = c->j->writer(call);
    return 1;
}

/* Writes the built output when status is NODAL_OK; returns the final status. The writer stays
 * failed after any refused step, so its text being there means every step was taken. */
static nodal_status ctx_end(ctx *c, nodal_status status) {
    const char *text;
    size_t len = 0;
    if (status != NODAL_OK) {
        return status;
    }
    if (c->nonfinite) {
        h_error(c->host, c->call, "OUT_OF_RANGE",
                "the result is not a finite number and cannot be written as JSON", NULL, 0);
        return NODAL_ERROR;
    }
    text = c->j->writer_json(c->call, c->out, &len);
    if (text == NULL) {
        h_error(c->host, c->call, "OUTPUT_REFUSED", "the host's JSON writer refused the output",
                NULL, 0);
        return NODAL_ERROR;
    }
    if (h_output(c->host, c->call, text, len) != NODAL_OK) {
        h_error(c->host, c->call, "OUTPUT_REJECTED", "the host refused the output", NULL, 0);
        return NODAL_ERROR;
    }
    return NODAL_OK;
}

/* Judges a field that is not of the type the fast path wanted: fine when it is optional and
 * absent or null (then 1, and the caller treats it as absent); else INVALID_INPUT naming the
 * field, and 0. */
static int field_problem(ctx *c, const char *name, nodal_json_type want, int required,
                         nodal_json_value v) {
    nodal_json_type t = c->j->type(c->call, v);
    char msg[160];
    if (t == NODAL_JSON_MISSING || (!required && t == NODAL_JSON_NULL)) {
        if (!required) {
            return 1;
        }
        snprintf(msg, sizeof msg, "missing required field '%s' (%s)", name, jtype_name(want));
    } else {
        snprintf(msg, sizeof msg, "field '%s' must be %s, got %s", name, jtype_name(want),
                 jtype_name(t));
    }
    invalid_input(c, msg);
    return 0;
}

/* Looks up a field of the input. `want` is the required type. Optional fields may be absent or
 * null (then *out is NODAL_JSON_NONE). Returns 0 after setting INVALID_INPUT when missing or
 * mistyped. Field names here are plain identifiers, so they are paths of themselves. */
static int field(ctx *c, const char *name, nodal_json_type want, int required,
                 nodal_json_value *out) {
    nodal_json_value v = c->j->get(c->call, c->in, name);
    *out = NODAL_JSON_NONE;
    if (c->j->type(c->call, v) == want) {
        *out = v;
        return 1;
    }
    return field_problem(c, name, want, required, v);
}

/* A string field: its bytes (NUL-terminated; *len counts an escaped NUL inside), or NULL when
 * it is optional and absent. Reading the string is the type check, one host call fewer. */
static int field_string(ctx *c, const char *name, int required, const char **s, size_t *len) {
    nodal_json_value v = c->j->get(c->call, c->in, name);
    *s = c->j->string(c->call, v, len);
    return *s != NULL || field_problem(c, name, NODAL_JSON_STRING, required, v);
}

/* A number field, exact when it is an integer within int64 (2.0 counts); *present is 0 when it
 * is optional and absent. */
static int field_number(ctx *c, const char *name, int required, jnum *out, int *present) {
    nodal_json_value v = c->j->get(c->call, c->in, name);
    int64_t i;
    double d;
    *present = 1;
    if (c->j->integer(c->call, v, &i) == NODAL_OK) {
        *out = jnum_int(i);
        return 1;
    }
    if (c->j->number(c->call, v, &d) == NODAL_OK) {
        *out = jnum_double(d);
        return 1;
    }
    *present = 0;
    return field_problem(c, name, NODAL_JSON_NUMBER, required, v);
}

/* ---- writing the output ---- */

static void out_begin(ctx *c) { c->j->begin_object(c->call, c->out); }

static void out_end(ctx *c) { c->j->end_object(c->call, c->out); }

static void out_key(ctx *c, const char *key) { c->j->key(c->call, c->out, key, strlen(key)); }

static void out_string(ctx *c, const char *s, size_t n) {
    c->j->write_string(c->call, c->out, s, n);
}

/* Integers (and integral doubles within int64) without a decimal point; other doubles as the
 * host writes them (the shortest digits that read back the same). */
static void out_number(ctx *c, jnum n) {
    if (n.is_int) {
        c->j->write_integer(c->call, c->out, n.i);
    } else if (!isfinite(n.d)) {
        c->nonfinite = 1;
    } else if (n.d >= -9223372036854775808.0 && n.d < 9223372036854775808.0 &&
               n.d == (double)(int64_t)n.d) {
        c->j->write_integer(c->call, c->out, (int64_t)n.d);
    } else {
        c->j->write_number(c->call, c->out, n.d);
    }
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
static int field_ms(ctx *c, jnum *ms) {
    int present;
    if (!field_number(c, "ms", 1, ms, &present)) {
        return 0;
    }
    if (!(ms->d >= 0.0 && ms->d <= MAX_SLEEP_MS)) {
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
    (void)input;                                                                               \
    (void)input_len;                                                                           \
    if (!ctx_begin(&(c), host, call)) {                                                        \
        return NODAL_ERROR;                                                                    \
    }

/* ---- text ---------------------------------------------------------------------------------- */

static nodal_status map_case(NODE_ARGS, int to_upper) {
    ctx c;
    const char *s;
    char *mapped;
    size_t k, len = 0;
    NODE_BEGIN(c)
    if (!field_string(&c, "text", 1, &s, &len)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    /* The host's string is read-only: map a copy. */
    mapped = (char *)malloc(len + 1);
    if (mapped == NULL) {
        h_error(host, call, "OUT_OF_MEMORY", "could not copy 'text'", NULL, 0);
        return ctx_end(&c, NODAL_ERROR);
    }
    for (k = 0; k < len; k++) {
        char ch = s[k];
        if (to_upper && ch >= 'a' && ch <= 'z') {
            ch = (char)(ch - 'a' + 'A');
        } else if (!to_upper && ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch - 'A' + 'a');
        }
        mapped[k] = ch;
    }
    out_begin(&c);
    out_key(&c, "text");
    out_string(&c, mapped, len);
    out_end(&c);
    free(mapped);
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_upper(NODE_ARGS) { return map_case(node, host, call, input, input_len, 1); }

static nodal_status node_lower(NODE_ARGS) { return map_case(node, host, call, input, input_len, 0); }

static nodal_status node_concat(NODE_ARGS) {
    ctx c;
    nodal_json_value parts;
    const char *sep_text;
    char *joined;
    size_t k, n, sep_len = 0, total = 0, at = 0;
    NODE_BEGIN(c)
    if (!field(&c, "parts", NODAL_JSON_ARRAY, 1, &parts) ||
        !field_string(&c, "separator", 0, &sep_text, &sep_len)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    if (sep_text == NULL) {
        sep_text = "";
        sep_len = 0;
    }
    n = c.j->count(call, parts);
    for (k = 0; k < n; k++) {
        nodal_json_value part = c.j->element(call, parts, k);
        size_t len = 0;
        if (c.j->string(call, part, &len) == NULL) {
            char msg[256];
            snprintf(msg, sizeof msg, "field 'parts[%lu]' must be a string, got %s",
                     (unsigned long)k, jtype_name(c.j->type(call, part)));
            h_error(host, call, "INVALID_INPUT", msg, NULL, 0);
            return ctx_end(&c, NODAL_ERROR);
        }
        /* Lengths of strings already in memory: the sum only overflows on a hostile input. */
        if (len > (size_t)-1 / 2 - total || (k > 0 && sep_len > (size_t)-1 / 2 - total - len)) {
            h_error(host, call, "OUT_OF_MEMORY", "the joined text is too long", NULL, 0);
            return ctx_end(&c, NODAL_ERROR);
        }
        total += len + (k > 0 ? sep_len : 0);
    }
    joined = (char *)malloc(total + 1);
    if (joined == NULL) {
        h_error(host, call, "OUT_OF_MEMORY", "could not join 'parts'", NULL, 0);
        return ctx_end(&c, NODAL_ERROR);
    }
    for (k = 0; k < n; k++) {
        size_t len = 0;
        /* Strings, all of them: the loop above checked. */
        const char *s = c.j->string(call, c.j->element(call, parts, k), &len);
        if (k > 0) {
            memcpy(joined + at, sep_text, sep_len);
            at += sep_len;
        }
        memcpy(joined + at, s, len);
        at += len;
    }
    out_begin(&c);
    out_key(&c, "text");
    out_string(&c, joined, at);
    out_end(&c);
    free(joined);
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_length(NODE_ARGS) {
    ctx c;
    const char *s;
    size_t k, len = 0;
    int64_t count = 0;
    NODE_BEGIN(c)
    if (!field_string(&c, "text", 1, &s, &len)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    /* The host's strings are valid UTF-8: count the bytes that start a code point. */
    for (k = 0; k < len; k++) {
        if (((unsigned char)s[k] & 0xC0) != 0x80) {
            count++;
        }
    }
    out_begin(&c);
    out_key(&c, "length");
    out_number(&c, jnum_int(count));
    out_end(&c);
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
    jnum a, b, r;
    int present;
    NODE_BEGIN(c)
    if (!field_number(&c, "a", 1, &a, &present) || !field_number(&c, "b", 1, &b, &present)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    r = multiply ? num_mul(a, b) : num_add(a, b);
    out_begin(&c);
    out_key(&c, "result");
    out_number(&c, r);
    out_end(&c);
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_add(NODE_ARGS) { return binary_op(node, host, call, input, input_len, 0); }

static nodal_status node_multiply(NODE_ARGS) {
    return binary_op(node, host, call, input, input_len, 1);
}

static nodal_status node_increment(NODE_ARGS) {
    ctx c;
    jnum value;
    int present;
    NODE_BEGIN(c)
    if (!field_number(&c, "value", 1, &value, &present)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    out_begin(&c);
    out_key(&c, "value");
    out_number(&c, num_add(value, jnum_int(1)));
    out_end(&c);
    return ctx_end(&c, NODAL_OK);
}

/* ---- plumbing and testing ------------------------------------------------------------------ */

/* The input bytes as they are: no JSON to read or write. */
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
    nodal_json_value value;
    jnum ms;
    NODE_BEGIN(c)
    if (!field_ms(&c, &ms)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    value = c.j->get(call, c.in, "value");
    if (sleep_for(host, call, (int64_t)(ms.d * 1e6), 1)) {
        return ctx_end(&c, NODAL_CANCELLED);
    }
    out_begin(&c);
    out_key(&c, "slept_ms");
    out_number(&c, ms);
    out_key(&c, "value");
    if (value != NODAL_JSON_NONE) {
        c.j->write_value(call, c.out, value);
    } else {
        c.j->write_null(call, c.out);
    }
    out_end(&c);
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_sleep_uncancellable(NODE_ARGS) {
    ctx c;
    jnum ms;
    NODE_BEGIN(c)
    if (!field_ms(&c, &ms)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    sleep_for(host, call, (int64_t)(ms.d * 1e6), 0);
    out_begin(&c);
    out_key(&c, "slept_ms");
    out_number(&c, ms);
    out_end(&c);
    return ctx_end(&c, NODAL_OK);
}

static nodal_status node_fail(NODE_ARGS) {
    ctx c;
    nodal_json_value details;
    const char *code, *message, *details_json = NULL;
    size_t len, details_len = 0;
    NODE_BEGIN(c)
    if (!field_string(&c, "code", 0, &code, &len) ||
        !field_string(&c, "message", 0, &message, &len)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    details = c.j->get(call, c.in, "details");
    if (details != NODAL_JSON_NONE && c.j->type(call, details) != NODAL_JSON_NULL) {
        /* The details as JSON text, through a writer of their own. */
        nodal_json_writer w = c.j->writer(call);
        c.j->write_value(call, w, details);
        details_json = c.j->writer_json(call, w, &details_len);
        if (details_json == NULL) {
            h_error(host, call, "OUTPUT_REFUSED", "could not write 'details' as JSON", NULL, 0);
            return ctx_end(&c, NODAL_ERROR);
        }
    }
    h_error(host, call, code != NULL ? code : "STD_FAIL",
            message != NULL ? message : "failed on purpose", details_json, details_len);
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
    const char *text;
    size_t text_len = 0;
    jnum steps;
    int present;
    int64_t n = 3, k;
    NODE_BEGIN(c)
    if (!field_string(&c, "message", 1, &text, &text_len) ||
        !field_number(&c, "steps", 0, &steps, &present)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    if (present) {
        if (!(steps.is_int && steps.i >= 0 && steps.i <= 1000000)) {
            invalid_input(&c, "field 'steps' must be an integer between 0 and 1000000");
            return ctx_end(&c, NODAL_ERROR);
        }
        n = steps.i;
    }
    if (HOST_HAS(host, log)) {
        host->log(call, NODAL_LOG_INFO, text);
    }
    if (HOST_HAS(host, report_progress)) {
        for (k = 1; k <= n; k++) {
            host->report_progress(call, (double)k / (double)n, NULL);
        }
    }
    out_begin(&c);
    out_key(&c, "logged");
    out_string(&c, text, text_len);
    out_end(&c);
    return ctx_end(&c, NODAL_OK);
}

/* Appends 'line' and a newline to the file at 'path' (created if missing). A side effect on
 * purpose: tests use it to see how often a step really ran (resume must not run it twice). */
static nodal_status node_append_line(NODE_ARGS) {
    ctx c;
    const char *path, *text;
    size_t path_len = 0, text_len = 0;
    FILE *file;
    int failed;
    NODE_BEGIN(c)
    if (!field_string(&c, "path", 1, &path, &path_len) ||
        !field_string(&c, "line", 1, &text, &text_len)) {
        return ctx_end(&c, NODAL_ERROR);
    }
    file = fopen(path, "a");
    if (file == NULL) {
        h_error(host, call, "IO_ERROR", "could not open 'path' for appending", NULL, 0);
        return ctx_end(&c, NODAL_ERROR);
    }
    failed = fwrite(text, 1, text_len, file) != text_len || fputc('\n', file) == EOF;
    failed = fclose(file) != 0 || failed;
    if (failed) {
        h_error(host, call, "IO_ERROR", "could not append to 'path'", NULL, 0);
        return ctx_end(&c, NODAL_ERROR);
    }
    out_begin(&c);
    out_key(&c, "appended");
    out_string(&c, text, text_len);
    out_end(&c);
    return ctx_end(&c, NODAL_OK);
}

/* The plugin's one piece of mutable global state, on purpose without any synchronization: the
 * node is not NODAL_NODE_THREAD_SAFE, so the host must serialize its calls. If it did not, racing
 * calls would read the same value and return repeated counts. Its output is one integer member:
 * written with snprintf, there is nothing for a JSON writer to escape. */
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
    /* Any 1.x host loads it; its nodes need 1.2's JSON extension and say so when it is missing. */
    (void)host_abi_minor;
    if (host_abi_major != NODAL_ABI_MAJOR) {
        return NULL;
    }
    return &std_plugin;
}

import CNodal
import Foundation
import Synchronization
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// The JSON host extension (`org.nodal.json.v1`, include/nodal.h) as C plugins see it: reading
/// by path and by iteration, writing with its escaping and number formats, refusing misuse, and
/// handles that stay within their call.
@Suite struct JSONExtensionTests {
    /// Helpers every probe node shares: an output buffer, and the extension looked up per call.
    static let prelude = #"""
        #define _POSIX_C_SOURCE 200809L
        #include <errno.h>
        #include <math.h>
        #include <pthread.h>
        #include <stdarg.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include "nodal.h"

        typedef struct { char *data; size_t len, cap; int failed; } buf;

        static void put(buf *b, const char *s, size_t n) {
            if (b->failed) return;
            if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                char *p;
                while (cap < b->len + n + 1) cap *= 2;
                p = (char *)realloc(b->data, cap);
                if (!p) { b->failed = 1; return; }
                b->data = p;
                b->cap = cap;
            }
            memcpy(b->data + b->len, s, n);
            b->len += n;
            b->data[b->len] = 0;
        }

        static void putf(buf *b, const char *format, ...) {
            char text[512];
            int n;
            va_list args;
            va_start(args, format);
            n = vsnprintf(text, sizeof text, format, args);
            va_end(args);
            if (n < 0 || (size_t)n >= sizeof text) { b->failed = 1; return; }
            put(b, text, (size_t)n);
        }

        /* Bytes as lowercase hex in a JSON string: no escaping to get wrong. */
        static void hex(buf *b, const char *s, size_t n) {
            static const char digits[] = "0123456789abcdef";
            size_t k;
            put(b, "\"", 1);
            for (k = 0; k < n; k++) {
                char pair[2];
                pair[0] = digits[(unsigned char)s[k] >> 4];
                pair[1] = digits[(unsigned char)s[k] & 15];
                put(b, pair, 2);
            }
            put(b, "\"", 1);
        }

        static nodal_status answer(const nodal_host *host, nodal_call *call, buf *b) {
            nodal_status status = b->failed ? NODAL_ERROR : host->write_output(call, b->data, b->len);
            free(b->data);
            return status == NODAL_OK ? NODAL_OK : NODAL_ERROR;
        }

        static const nodal_json *json_of(const nodal_host *host) {
            const nodal_json *j = (const nodal_json *)host->get_extension(host, NODAL_EXT_JSON);
            return j != NULL && j->struct_size >= sizeof(nodal_json) ? j : NULL;
        }

        #define NEED_JSON(j) \
            const nodal_json *j = json_of(host); \
            (void)node; (void)input; (void)input_len; \
            if (j == NULL) { host->set_error(call, "NO_JSON", "no JSON extension", NULL, 0); return NODAL_ERROR; }

        #define ARGS const nodal_node *node, const nodal_host *host, nodal_call *call, const char *input, size_t input_len

        /* What every reader says about one value; a reader that refused must leave *out alone. */
        static void describe(const nodal_json *j, nodal_call *call, nodal_json_value v, buf *b) {
            size_t len = 99;
            const char *s = j->string(call, v, &len);
            double d = -1.0;
            int64_t i = -1;
            int32_t flag = -1;
            nodal_status ns = j->number(call, v, &d), is = j->integer(call, v, &i), bs = j->boolean(call, v, &flag);
            putf(b, "{\"type\":%d,\"count\":%lu,\"len\":%lu,\"hex\":", (int)j->type(call, v),
                 (unsigned long)j->count(call, v), (unsigned long)len);
            if (s != NULL) {
                hex(b, s, len);
                putf(b, ",\"terminated\":%s", s[len] == 0 ? "true" : "false");
            } else {
                put(b, "null", 4);
            }
            if (ns == NODAL_OK) putf(b, ",\"number\":%.17g", d);
            else putf(b, ",\"number\":%s", ns == NODAL_INVALID && d == -1.0 ? "null" : "\"touched\"");
            if (is == NODAL_OK) putf(b, ",\"integer\":%lld", (long long)i);
            else putf(b, ",\"integer\":%s", is == NODAL_INVALID && i == -1 ? "null" : "\"touched\"");
            if (bs == NODAL_OK) putf(b, ",\"boolean\":%d}", (int)flag);
            else putf(b, ",\"boolean\":%s}", bs == NODAL_INVALID && flag == -1 ? "null" : "\"touched\"");
        }

        /* {"doc": any, "paths": [string]} -> what get(doc, path) finds, per path. */
        static nodal_status describe_invoke(ARGS) {
            buf b = { 0 };
            nodal_json_value root, doc, paths;
            size_t k, n;
            NEED_JSON(j)
            root = j->input(call);
            doc = j->get(call, root, "doc");
            paths = j->get(call, root, "paths");
            n = j->count(call, paths);
            put(&b, "[", 1);
            for (k = 0; k < n; k++) {
                const char *path = j->string(call, j->element(call, paths, k), NULL);
                if (k > 0) put(&b, ",", 1);
                describe(j, call, j->get(call, doc, path), &b);
            }
            put(&b, "]", 1);
            return answer(host, call, &b);
        }

        /* Copies any value through the readers into a writer: iteration in document order. */
        static int copy(const nodal_json *j, nodal_call *call, nodal_json_writer w, nodal_json_value v) {
            size_t k, n = j->count(call, v), len;
            const char *s;
            double d;
            int64_t i;
            int32_t flag;
            switch (j->type(call, v)) {
            case NODAL_JSON_NULL: return j->write_null(call, w) == NODAL_OK;
            case NODAL_JSON_BOOL: return j->boolean(call, v, &flag) == NODAL_OK && j->write_bool(call, w, flag) == NODAL_OK;
            case NODAL_JSON_NUMBER:
                if (j->integer(call, v, &i) == NODAL_OK) return j->write_integer(call, w, i) == NODAL_OK;
                return j->number(call, v, &d) == NODAL_OK && j->write_number(call, w, d) == NODAL_OK;
            case NODAL_JSON_STRING:
                s = j->string(call, v, &len);
                return s != NULL && j->write_string(call, w, s, len) == NODAL_OK;
            case NODAL_JSON_ARRAY:
                if (j->begin_array(call, w) != NODAL_OK) return 0;
                for (k = 0; k < n; k++) if (!copy(j, call, w, j->element(call, v, k))) return 0;
                return j->end_array(call, w) == NODAL_OK;
            case NODAL_JSON_OBJECT:
                if (j->begin_object(call, w) != NODAL_OK) return 0;
                for (k = 0; k < n; k++) {
                    const char *key = NULL;
                    size_t key_len = 0;
                    nodal_json_value member = j->member(call, v, k, &key, &key_len);
                    if (key == NULL || j->key(call, w, key, key_len) != NODAL_OK || !copy(j, call, w, member)) return 0;
                }
                return j->end_object(call, w) == NODAL_OK;
            default: return 0;
            }
        }

        static nodal_status roundtrip_invoke(ARGS) {
            nodal_json_writer w;
            const char *text;
            size_t len = 0;
            NEED_JSON(j)
            w = j->writer(call);
            if (!copy(j, call, w, j->input(call)) || (text = j->writer_json(call, w, &len)) == NULL) {
                host->set_error(call, "COPY_FAILED", "a reader or the writer refused", NULL, 0);
                return NODAL_ERROR;
            }
            return host->write_output(call, text, len);
        }

        /* Writes one fixed value (plus the input's "pass" field, copied) exercising escapes and numbers. */
        static nodal_status write_invoke(ARGS) {
            static const char text[] = "quote\" backslash\\ slash/ nl\n tab\t cr\r bs\b ff\f ctl\x01\x1f del\x7f"
                                       " ls\xe2\x80\xa8 ps\xe2\x80\xa9 e\xc3\xa9 emoji\xf0\x9f\x98\x80";
            static const char odd_key[] = "k\"ey\n";
            nodal_json_writer w;
            const char *out, *again;
            size_t len = 0, again_len = 0;
            nodal_status s = NODAL_OK;
            NEED_JSON(j)
            w = j->writer(call);
        #define W(step) if (s == NODAL_OK) s = (step)
            W(j->begin_object(call, w));
            W(j->key(call, w, "text", 4)); W(j->write_string(call, w, text, sizeof text - 1));
            W(j->key(call, w, "nul", 3)); W(j->write_string(call, w, "a\0b", 3));
            W(j->key(call, w, "numbers", 7)); W(j->begin_array(call, w));
            W(j->write_number(call, w, 0.1)); W(j->write_number(call, w, 2.0)); W(j->write_number(call, w, -2.5));
            W(j->write_number(call, w, 1e300)); W(j->write_number(call, w, 5e-324)); W(j->write_number(call, w, 1e16));
            W(j->write_number(call, w, 123456.789)); W(j->write_number(call, w, -0.0)); W(j->write_number(call, w, 1.5e-7));
            W(j->write_integer(call, w, 0)); W(j->write_integer(call, w, INT64_MAX)); W(j->write_integer(call, w, INT64_MIN));
            W(j->write_integer(call, w, -42)); W(j->write_integer(call, w, 9007199254740993LL));
            W(j->end_array(call, w));
            W(j->key(call, w, "nested", 6)); W(j->begin_array(call, w));
            W(j->begin_array(call, w)); W(j->end_array(call, w));
            W(j->begin_object(call, w)); W(j->end_object(call, w));
            W(j->begin_array(call, w)); W(j->begin_object(call, w)); W(j->key(call, w, "deep", 4)); W(j->begin_array(call, w));
            W(j->write_bool(call, w, 1)); W(j->write_bool(call, w, 0)); W(j->write_bool(call, w, 7)); W(j->write_null(call, w));
            W(j->end_array(call, w)); W(j->end_object(call, w)); W(j->end_array(call, w));
            W(j->end_array(call, w));
            W(j->key(call, w, "copied", 6)); W(j->write_value(call, w, j->get(call, j->input(call), "pass")));
            W(j->key(call, w, odd_key, sizeof odd_key - 1)); W(j->write_integer(call, w, 1));
            W(j->end_object(call, w));
        #undef W
            out = j->writer_json(call, w, &len);
            again = j->writer_json(call, w, &again_len);
            if (s != NODAL_OK || out == NULL || out[len] != 0 || again != out || again_len != len) {
                host->set_error(call, "WRITE_FAILED", "a step was refused or the text is not stable", NULL, 0);
                return NODAL_ERROR;
            }
            return host->write_output(call, out, len);
        }

        /* Each misuse on a fresh writer: [status of the bad step, status of a good step after it,
         * writer_json NULL (1/0), the length writer_json reported]. */
        static void verdict(const nodal_json *j, nodal_call *call, buf *b, const char *name, nodal_json_writer w,
                            nodal_status bad) {
            size_t len = 99;
            nodal_status later = j->write_null(call, w);
            const char *text = j->writer_json(call, w, &len);
            putf(b, "%s\"%s\":[%d,%d,%d,%lu]", b->len > 1 ? "," : "", name, (int)bad, (int)later, text == NULL,
                 (unsigned long)len);
        }

        static nodal_status misuse_invoke(ARGS) {
            buf b = { 0 };
            nodal_json_writer w;
            nodal_status s;
            size_t len = 99;
            int text_null;
            NEED_JSON(j)
            put(&b, "{", 1);
        #define FRESH w = j->writer(call)
            FRESH; j->begin_object(call, w); verdict(j, call, &b, "valueWhereKeyIsDue", w, j->write_integer(call, w, 1));
            FRESH; j->begin_object(call, w); verdict(j, call, &b, "endArrayInObject", w, j->end_array(call, w));
            FRESH; j->begin_array(call, w); verdict(j, call, &b, "endObjectInArray", w, j->end_object(call, w));
            FRESH; verdict(j, call, &b, "endWithNothingOpen", w, j->end_object(call, w));
            FRESH; j->begin_array(call, w); verdict(j, call, &b, "keyInArray", w, j->key(call, w, "k", 1));
            FRESH; verdict(j, call, &b, "keyAtTopLevel", w, j->key(call, w, "k", 1));
            FRESH; j->begin_object(call, w); j->key(call, w, "a", 1); verdict(j, call, &b, "keyTwice", w, j->key(call, w, "b", 1));
            FRESH; j->begin_object(call, w); j->key(call, w, "a", 1); verdict(j, call, &b, "endAfterKey", w, j->end_object(call, w));
            FRESH; j->write_integer(call, w, 1); verdict(j, call, &b, "secondTopLevelValue", w, j->write_integer(call, w, 2));
            FRESH; j->begin_array(call, w); j->end_array(call, w); verdict(j, call, &b, "afterCompleteArray", w, j->begin_array(call, w));
            FRESH; verdict(j, call, &b, "invalidUTF8", w, j->write_string(call, w, "a\xff", 2));
            FRESH; verdict(j, call, &b, "overlongUTF8", w, j->write_string(call, w, "\xc0\xaf", 2));
            FRESH; verdict(j, call, &b, "surrogateUTF8", w, j->write_string(call, w, "\xed\xa0\x80", 3));
            FRESH; verdict(j, call, &b, "truncatedUTF8", w, j->write_string(call, w, "\xe2\x80", 2));
            FRESH; j->begin_object(call, w); verdict(j, call, &b, "invalidUTF8Key", w, j->key(call, w, "\xff", 1));
            FRESH; verdict(j, call, &b, "nan", w, j->write_number(call, w, nan("")));
            FRESH; verdict(j, call, &b, "infinity", w, j->write_number(call, w, HUGE_VAL));
            FRESH; verdict(j, call, &b, "minusInfinity", w, j->write_number(call, w, -HUGE_VAL));
            FRESH; verdict(j, call, &b, "nullString", w, j->write_string(call, w, NULL, 0));
            FRESH; j->begin_object(call, w); verdict(j, call, &b, "nullKey", w, j->key(call, w, NULL, 0));
            FRESH; verdict(j, call, &b, "hugeLength", w, j->write_string(call, w, "x", (size_t)-1));
            FRESH; verdict(j, call, &b, "valueNone", w, j->write_value(call, w, NODAL_JSON_NONE));
            FRESH; verdict(j, call, &b, "valueMadeUp", w, j->write_value(call, w, (nodal_json_value)0x7777777700000001ULL));
            FRESH; verdict(j, call, &b, "writerAsValue", w, j->write_value(call, w, (nodal_json_value)w));
            /* Not refusals: an incomplete value or none has no text yet, and the steps were fine. */
            /* (Each call's results are read after it: C leaves the order of arguments open.) */
            FRESH; s = j->begin_array(call, w);
            text_null = j->writer_json(call, w, &len) == NULL;
            putf(&b, ",\"incomplete\":[%d,%d,%lu]", (int)s, text_null, (unsigned long)len);
            FRESH; len = 99;
            text_null = j->writer_json(call, w, &len) == NULL;
            putf(&b, ",\"nothingWritten\":[%d,%lu]", text_null, (unsigned long)len);
            /* The incomplete one can still be finished. */
            s = j->begin_array(call, w);
            if (s == NODAL_OK) s = j->end_array(call, w);
            putf(&b, ",\"finishedLater\":[%d,%d]", (int)s, j->writer_json(call, w, &len) != NULL && len == 2);
            /* Handles that are not writers of this call, and NULL out-pointers. */
            putf(&b, ",\"noWriter\":%d,\"madeUpWriter\":%d,\"valueAsWriter\":%d,\"noWriterJSON\":%d,\"nullLength\":%d",
                 (int)j->begin_object(call, 0), (int)j->begin_object(call, (nodal_json_writer)0x5555555500000000ULL),
                 (int)j->begin_object(call, (nodal_json_writer)j->input(call)), j->writer_json(call, 0, &len) == NULL && len == 0,
                 (FRESH, j->write_null(call, w), j->writer_json(call, w, NULL) != NULL));
        #undef FRESH
            put(&b, "}", 1);
            return answer(host, call, &b);
        }

        /* {"depth": n}: n containers nested (every third an object with key "k"), n inside. A
         * second writer ends the wrong kind of container deep down and must be refused. */
        static nodal_status deep_invoke(ARGS) {
            nodal_json_writer w, wrong;
            int64_t depth = 0, level;
            const char *text;
            size_t len = 0;
            nodal_status s = NODAL_OK, refused;
            NEED_JSON(j)
            j->integer(call, j->get(call, j->input(call), "depth"), &depth);
            w = j->writer(call);
            wrong = j->writer(call);
            for (level = 0; level < depth && s == NODAL_OK; level++) {
                if (level % 3 == 0) {
                    s = j->begin_object(call, w);
                    if (s == NODAL_OK) s = j->key(call, w, "k", 1);
                } else {
                    s = j->begin_array(call, w);
                }
                j->begin_array(call, wrong);
            }
            if (s == NODAL_OK) s = j->write_integer(call, w, depth);
            for (level = depth - 1; level >= 0 && s == NODAL_OK; level--) {
                s = level % 3 == 0 ? j->end_object(call, w) : j->end_array(call, w);
            }
            refused = j->end_object(call, wrong);
            text = j->writer_json(call, w, &len);
            if (s != NODAL_OK || text == NULL || refused != NODAL_INVALID) {
                host->set_error(call, "DEEP_FAILED", "a step was refused, or a wrong end was not", NULL, 0);
                return NODAL_ERROR;
            }
            return host->write_output(call, text, len);
        }

        /* {"items": [integers]}: counts and sums them by element. */
        static nodal_status sum_invoke(ARGS) {
            buf b = { 0 };
            nodal_json_value items;
            size_t k, n;
            int64_t sum = 0, value, last = -1;
            int bad = 0;
            NEED_JSON(j)
            items = j->get(call, j->input(call), "items");
            n = j->count(call, items);
            for (k = 0; k < n; k++) {
                if (j->integer(call, j->element(call, items, k), &value) != NODAL_OK) bad++;
                else sum += value;
            }
            j->integer(call, j->get(call, j->input(call), "items[99999]"), &last);
            putf(&b, "{\"count\":%lu,\"sum\":%lld,\"bad\":%d,\"past\":%d,\"last\":%lld}", (unsigned long)n, (long long)sum,
                 bad, (int)j->type(call, j->element(call, items, n)), (long long)last);
            return answer(host, call, &b);
        }

        /* Probes that no path expresses: missing values through every reader, NULL arguments,
         * out-of-range indexes, keys in order, stable pointers. */
        static nodal_status edges_invoke(ARGS) {
            buf b = { 0 };
            nodal_json_value root, obj, arr, num, none = NODAL_JSON_NONE;
            const char *key = "unset", *key2 = NULL, *s1, *s2;
            size_t len = 99, k, n;
            double d = -1.0;
            int64_t i = -1;
            int32_t flag = -1;
            NEED_JSON(j)
            root = j->input(call);
            obj = j->get(call, root, "obj");
            arr = j->get(call, root, "arr");
            num = j->get(call, root, "num");
            putf(&b, "{\"chain\":%d", (int)j->type(call, j->get(call, j->get(call, root, "nope"), "deeper")));
            putf(&b, ",\"nullPath\":%d", j->get(call, root, NULL) == none);
            putf(&b, ",\"noneString\":%d", j->string(call, none, &len) == NULL && len == 0);
            putf(&b, ",\"noneNumber\":%d", j->number(call, none, &d) == NODAL_INVALID && d == -1.0);
            putf(&b, ",\"noneInteger\":%d", j->integer(call, none, &i) == NODAL_INVALID && i == -1);
            putf(&b, ",\"noneBoolean\":%d", j->boolean(call, none, &flag) == NODAL_INVALID && flag == -1);
            putf(&b, ",\"noneCount\":%lu", (unsigned long)j->count(call, none));
            putf(&b, ",\"noneElement\":%d", j->element(call, none, 0) == none);
            len = 99;
            putf(&b, ",\"noneMember\":%d", j->member(call, none, 0, &key, &len) == none && key == NULL && len == 0);
            putf(&b, ",\"noneGet\":%d", j->get(call, none, "") == none);
            putf(&b, ",\"nullOut\":[%d,%d,%d]", (int)j->number(call, num, NULL), (int)j->integer(call, num, NULL),
                 (int)j->boolean(call, j->get(call, root, "t"), NULL));
            putf(&b, ",\"numberOfBool\":%d", (int)j->number(call, j->get(call, root, "t"), &d));
            putf(&b, ",\"boolOfNumber\":%d", (int)j->boolean(call, num, &flag));
            putf(&b, ",\"stringOfNumber\":%d", j->string(call, num, NULL) == NULL);
            putf(&b, ",\"elementPast\":[%d,%d,%d]", j->element(call, arr, j->count(call, arr)) == none,
                 j->element(call, arr, (size_t)-1) == none, j->element(call, obj, 0) == none);
            key = "unset";
            putf(&b, ",\"memberPast\":[%d,%d,%d]", j->member(call, obj, j->count(call, obj), &key, NULL) == none && key == NULL,
                 j->member(call, arr, 0, NULL, NULL) == none, j->member(call, obj, 0, NULL, NULL) != none);
            putf(&b, ",\"countOfScalar\":%lu", (unsigned long)j->count(call, num));
            /* The keys, in document order, as hex; and the same key pointer when asked twice. */
            put(&b, ",\"keys\":[", 9);
            n = j->count(call, obj);
            for (k = 0; k < n; k++) {
                nodal_json_value m = j->member(call, obj, k, &key, &len);
                if (k > 0) put(&b, ",", 1);
                putf(&b, "{\"type\":%d,\"key\":", (int)j->type(call, m));
                hex(&b, key, len);
                putf(&b, ",\"terminated\":%d}", key[len] == 0);
            }
            put(&b, "]", 1);
            j->member(call, obj, 0, &key, NULL);
            j->member(call, obj, 0, &key2, NULL);
            s1 = j->string(call, j->get(call, root, "s"), NULL);
            s2 = j->string(call, j->get(call, root, "s"), NULL);
            putf(&b, ",\"sameKey\":%d,\"sameString\":%d", key == key2, s1 != NULL && s1 == s2);
            /* The same value found twice has the same handle; the input is one document. */
            putf(&b, ",\"sameHandle\":%d,\"sameInput\":%d", j->get(call, root, "obj") == obj, j->input(call) == root);
            putf(&b, ",\"elementIsGet\":%d", j->element(call, arr, 1) == j->get(call, root, "arr[1]"));
            put(&b, "}", 1);
            return answer(host, call, &b);
        }

        /* parse: documents of the call besides the input, and its error messages. */
        static nodal_status parse_invoke(ARGS) {
            static const char bad[] = "{\"a\": [1, 2,\n  }";
            static const char good[] = "{\"deep\": {\"list\": [10, 20, 30]}}";
            buf b = { 0 };
            const char *error = "unset";
            nodal_json_value doc;
            int64_t i = -1;
            int none;
            NEED_JSON(j)
            put(&b, "{\"bad\":[", 8);
            /* (Each call's results are read after it: C leaves the order of arguments open.) */
            none = j->parse(call, bad, sizeof bad - 1, &error) == NODAL_JSON_NONE;
            putf(&b, "%d,", none);
            if (error) hex(&b, error, strlen(error)); else put(&b, "null", 4);
            error = "unset";
            put(&b, "],\"nullText\":[", 14);
            none = j->parse(call, NULL, 0, &error) == NODAL_JSON_NONE;
            putf(&b, "%d,%d", none, error != NULL && strcmp(error, "unset") != 0);
            error = "unset";
            put(&b, "],\"hugeLength\":[", 16);
            none = j->parse(call, good, (size_t)-1, &error) == NODAL_JSON_NONE;
            putf(&b, "%d,%d", none, error != NULL && strcmp(error, "unset") != 0);
            error = "unset";
            put(&b, "],\"tooLarge\":[", 14);
            none = j->parse(call, "[1e400]", 7, &error) == NODAL_JSON_NONE;
            putf(&b, "%d,", none);
            if (error) hex(&b, error, strlen(error)); else put(&b, "null", 4);
            put(&b, "],\"badUTF8\":", 12);
            putf(&b, "%d", j->parse(call, "\"\xff\"", 3, NULL) == NODAL_JSON_NONE);
            error = "unset";
            doc = j->parse(call, good, sizeof good - 1, &error);
            j->integer(call, j->get(call, doc, "deep.list[2]"), &i);
            putf(&b, ",\"good\":[%d,%lld,%d]", error == NULL, (long long)i, doc != j->input(call));
            /* Two parses of the same text are two documents. */
            putf(&b, ",\"twoDocuments\":%d", j->parse(call, good, sizeof good - 1, NULL) != doc);
            put(&b, "}", 1);
            return answer(host, call, &b);
        }

        /* get_extension's answers. */
        static nodal_status extension_invoke(ARGS) {
            buf b = { 0 };
            const nodal_json *a = (const nodal_json *)host->get_extension(host, NODAL_EXT_JSON);
            const nodal_json *again = (const nodal_json *)host->get_extension(host, "org.nodal.json.v1");
            (void)node; (void)input; (void)input_len;
            putf(&b, "{\"json\":%d,\"size\":%d,\"reserved\":%u,\"same\":%d,\"unknown\":%d,\"v2\":%d,\"prefix\":%d,"
                     "\"nullHost\":%d,\"nullID\":%d,\"allSet\":%d}",
                 a != NULL, a != NULL && a->struct_size == sizeof(nodal_json), a != NULL ? a->reserved : 99u, a == again,
                 host->get_extension(host, "org.example.nope.v1") == NULL,
                 host->get_extension(host, "org.nodal.json.v2") == NULL,
                 host->get_extension(host, "org.nodal.json") == NULL,
                 host->get_extension(NULL, NODAL_EXT_JSON) == NULL,
                 host->get_extension(host, NULL) == NULL,
                 a != NULL && a->input && a->parse && a->get && a->type && a->string && a->number && a->integer &&
                     a->boolean && a->count && a->element && a->member && a->writer && a->begin_object &&
                     a->end_object && a->begin_array && a->end_array && a->key && a->write_string &&
                     a->write_number && a->write_integer && a->write_bool && a->write_null && a->write_value &&
                     a->writer_json);
            return answer(host, call, &b);
        }

        /* Reads and writes from a thread started during invoke, which waits for it. */
        typedef struct { const nodal_host *host; const nodal_json *j; nodal_call *call; nodal_status status; } job;

        static void *greet(void *arg) {
            job *t = (job *)arg;
            const nodal_json *j = t->j;
            size_t len = 0, out_len = 0;
            const char *name = j->string(t->call, j->get(t->call, j->input(t->call), "name"), &len);
            nodal_json_writer w = j->writer(t->call);
            const char *out;
            char text[128];
            if (name == NULL || len > 100) { t->status = NODAL_ERROR; return NULL; }
            memcpy(text, "hello ", 6);
            memcpy(text + 6, name, len);
            j->begin_object(t->call, w);
            j->key(t->call, w, "greeting", 8);
            j->write_string(t->call, w, text, 6 + len);
            j->end_object(t->call, w);
            out = j->writer_json(t->call, w, &out_len);
            t->status = out != NULL ? t->host->write_output(t->call, out, out_len) : NODAL_ERROR;
            return NULL;
        }

        static nodal_status threaded_invoke(ARGS) {
            pthread_t thread;
            job t;
            NEED_JSON(j)
            t.host = host; t.j = j; t.call = call; t.status = NODAL_ERROR;
            if (pthread_create(&thread, NULL, greet, &t) != 0) return NODAL_ERROR;
            pthread_join(thread, NULL);
            return t.status;
        }

        /* Keeps this call's handles in statics and uses them in the next call (calls are serialized:
         * the node is not thread-safe). */
        static nodal_call *kept_call;
        static nodal_json_value kept_root, kept_inner;
        static nodal_json_writer kept_writer, kept_done;

        static nodal_status stale_invoke(ARGS) {
            buf b = { 0 };
            nodal_json_value root;
            nodal_json_writer w;
            const char *error = "unset";
            size_t len = 99;
            NEED_JSON(j)
            root = j->input(call);
            putf(&b, "{\"first\":%d", kept_call == NULL);
            if (kept_call != NULL) {
                putf(&b, ",\"rootInNewCall\":%d", (int)j->type(call, kept_root));
                putf(&b, ",\"innerInNewCall\":%d", (int)j->type(call, kept_inner));
                putf(&b, ",\"stringInNewCall\":%d", j->string(call, kept_inner, &len) == NULL && len == 0);
                putf(&b, ",\"getInNewCall\":%d", j->get(call, kept_root, "a") == NODAL_JSON_NONE);
                putf(&b, ",\"countInNewCall\":%lu", (unsigned long)j->count(call, kept_root));
                putf(&b, ",\"writerInNewCall\":%d", (int)j->begin_object(call, kept_writer));
                len = 99;
                putf(&b, ",\"writerJSONInNewCall\":%d", j->writer_json(call, kept_done, &len) == NULL && len == 0);
                putf(&b, ",\"valueInNewWriter\":%d", (int)j->write_value(call, j->writer(call), kept_inner));
                putf(&b, ",\"oldCallInput\":%d", j->input(kept_call) == NODAL_JSON_NONE);
                putf(&b, ",\"oldCallType\":%d", (int)j->type(kept_call, kept_root));
                putf(&b, ",\"oldCallWriter\":%d", j->writer(kept_call) == 0);
                putf(&b, ",\"oldCallParse\":%d", j->parse(kept_call, "1", 1, &error) == NODAL_JSON_NONE && error == NULL);
                putf(&b, ",\"oldCallWrite\":%d", (int)j->write_integer(kept_call, kept_writer, 1));
                putf(&b, ",\"oldCallKey\":%d", (int)j->key(kept_call, kept_writer, "k", 1));
                len = 99;
                putf(&b, ",\"oldCallWriterJSON\":%d", j->writer_json(kept_call, kept_done, &len) == NULL && len == 0);
            }
            putf(&b, ",\"madeUp\":[%d,%d,%d,%d]", (int)j->type(call, (nodal_json_value)0x123456789ULL),
                 (int)j->type(call, root | 0xFFFFFFFFULL), (int)j->type(call, ~(nodal_json_value)0),
                 (int)j->type(call, root + 1000000));
            w = j->writer(call);
            putf(&b, ",\"writerAsValue\":%d", (int)j->type(call, (nodal_json_value)w));
            len = 99;
            putf(&b, ",\"nullCall\":[%d,%d,%d,%d,%d,%d,%d]}", j->input(NULL) == NODAL_JSON_NONE, (int)j->type(NULL, root),
                 j->get(NULL, root, "") == NODAL_JSON_NONE, j->writer(NULL) == 0, (int)j->begin_object(NULL, w),
                 j->string(NULL, j->get(call, root, "a.b"), &len) == NULL && len == 0, j->writer_json(NULL, w, NULL) == NULL);
            kept_call = call;
            kept_root = root;
            kept_inner = j->get(call, root, "a.b");
            kept_writer = w;
            kept_done = j->writer(call);
            j->write_null(call, kept_done);
            return answer(host, call, &b);
        }

        /* Many calls at once: each reads its own input again and again while handles of the other
         * calls (in flight or finished) pass through a shared slot and must read as missing. The
         * first four calls wait for each other, so at least four are in flight together. */
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
        static int entered;
        static nodal_json_value shared_handle;

        static nodal_status concurrent_invoke(ARGS) {
            nodal_json_value root, mine, other, published = NODAL_JSON_NONE;
            int64_t id = -1, again;
            const char *text;
            size_t text_len = 0, again_len, round;
            int mismatches = 0, foreign_seen = 0, foreign_missing = 0, together = 1;
            struct timespec failsafe;
            buf b = { 0 };
            char doc[64];
            int doc_len;
            NEED_JSON(j)
            pthread_mutex_lock(&lock);
            entered++;
            pthread_cond_broadcast(&arrived);
            clock_gettime(CLOCK_REALTIME, &failsafe);
            failsafe.tv_sec += 60; /* only so that a broken pool fails the test instead of hanging it */
            while (entered < 4 && together) together = pthread_cond_timedwait(&arrived, &lock, &failsafe) != ETIMEDOUT;
            pthread_mutex_unlock(&lock);
            root = j->input(call);
            j->integer(call, j->get(call, root, "id"), &id);
            text = j->string(call, j->get(call, root, "text"), &text_len);
            doc_len = snprintf(doc, sizeof doc, "{\"id\": %lld}", (long long)id);
            for (round = 0; round < 300; round++) {
                const char *t = j->string(call, j->get(call, j->input(call), "text"), &again_len);
                again = -1;
                if (j->integer(call, j->get(call, j->input(call), "id"), &again) != NODAL_OK || again != id) mismatches++;
                if (t == NULL || again_len != text_len || memcmp(t, text, text_len) != 0) mismatches++;
                mine = j->parse(call, doc, (size_t)doc_len, NULL);
                again = -1;
                if (j->integer(call, j->get(call, mine, "id"), &again) != NODAL_OK || again != id) mismatches++;
                /* Publishes the input's root or a parsed document, and takes what was there: this
                 * call's own last one (handles are never reused, so equal means own), or another's. */
                pthread_mutex_lock(&lock);
                other = shared_handle;
                shared_handle = (round & 1) ? mine : root;
                pthread_mutex_unlock(&lock);
                if (other != NODAL_JSON_NONE && other != published) {
                    foreign_seen++;
                    if (j->type(call, other) == NODAL_JSON_MISSING && j->get(call, other, "id") == NODAL_JSON_NONE) foreign_missing++;
                }
                published = (round & 1) ? mine : root;
            }
            putf(&b, "{\"id\":%lld,\"text\":", (long long)id);
            hex(&b, text, text_len);
            putf(&b, ",\"mismatches\":%d,\"foreignSeen\":%d,\"foreignMissing\":%d,\"together\":%d}",
                 mismatches, foreign_seen, foreign_missing, together);
            return answer(host, call, &b);
        }

        #define NODE(var, nm, fl) static const nodal_node var = { .struct_size = sizeof(nodal_node), \
            .id = "org.test.jsonext." #nm, .name = #nm, .version = "1.0.0", .flags = (fl), .invoke = nm##_invoke }
        #define PURE (NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING)
        NODE(describe_node, describe, PURE);
        NODE(roundtrip_node, roundtrip, PURE);
        NODE(write_node, write, PURE);
        NODE(misuse_node, misuse, PURE);
        NODE(sum_node, sum, PURE);
        NODE(deep_node, deep, PURE);
        NODE(edges_node, edges, PURE);
        NODE(parse_node, parse, PURE);
        NODE(extension_node, extension, PURE);
        NODE(threaded_node, threaded, NODAL_NODE_THREAD_SAFE);
        NODE(stale_node, stale, 0);
        NODE(concurrent_node, concurrent, NODAL_NODE_THREAD_SAFE);
        static const nodal_node *const nodes[] = {
            &describe_node, &roundtrip_node, &write_node, &misuse_node, &sum_node, &deep_node, &edges_node, &parse_node,
            &extension_node, &threaded_node, &stale_node, &concurrent_node,
        };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = sizeof nodes / sizeof nodes[0], .id = "org.test.jsonext", .name = "jsonext",
            .version = "1.0.0", .nodes = nodes,
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """#

    /// A plugin built against the ABI 1.1 header (commit 30b0790, saved in Fixtures/): no
    /// extensions' sections, an older nodal_host. It must load and run on this host.
    static let abi11Plugin = #"""
        #include <stdio.h>
        #include "nodal-1.1.h"

        static nodal_status echo_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            char out[256];
            int n;
            (void)node;
            n = snprintf(out, sizeof out, "{\"input\":%.*s,\"log\":%d,\"progress\":%d,\"cancelled\":%d,\"unknownExtension\":%d}",
                         (int)input_len, input, (int)host->log(call, NODAL_LOG_DEBUG, "from a 1.1 plugin"),
                         (int)host->report_progress(call, 0.5, NULL), (int)host->is_cancelled(call),
                         host->get_extension(host, "org.example.nope.v1") == NULL);
            if (n < 0 || (size_t)n >= sizeof out) return NODAL_ERROR;
            return host->write_output(call, out, (size_t)n);
        }

        static const nodal_node echo_node = {
            sizeof(nodal_node), 0, "org.test.abi11.echo", "echo", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, echo_invoke
        };
        static const nodal_node *const nodes[] = { &echo_node };
        static const nodal_plugin plugin = {
            sizeof(nodal_plugin), NODAL_ABI_MAJOR, NODAL_ABI_MINOR, 1, "org.test.abi11", "abi11", "1.0.0",
            NULL, NULL, NULL, nodes, NULL, "MIT", NULL
        };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return &plugin;
        }
        """#

    static var fixtures: String { Products.repositoryRoot + "/Tests/NodalTests/Fixtures" }

    /// The probe plugin, built for one test (so its statics are that test's own), and its nodes
    /// for calling directly with exact input bytes.
    struct Probe {
        let engine: Engine
        let nodes: [String: NativeNode]

        init(blockingThreads: Int? = nil) throws {
            let directory = try temporaryDirectory()
            let path = try buildCPlugin(JSONExtensionTests.prelude, name: "jsonext", in: directory, flags: ["-pthread"])
            engine = Engine(blockingThreads: blockingThreads)
            try engine.loadPlugin(at: path)
            let loaded = try PluginLoader.load(path, logger: engine.logger, maxOutputBytes: Engine.defaultMaxOutputBytes)
            nodes = Dictionary(uniqueKeysWithValues: loaded.nodes.map { ($0.info.name, $0) })
        }

        /// Calls `node` on this thread with `input` as its input bytes; returns the output.
        func call(_ node: String, _ input: String) throws -> (json: JSON, bytes: [UInt8]) {
            let native = try #require(nodes[node])
            switch native.call(input: Array(input.utf8), stepID: "s", cancellation: nil) {
            case .success(let payload): return (payload.json, payload.encodedBytes)
            case .failure(let error): throw SetupError("\(node) failed: \(error.code): \(error.message)")
            default: throw SetupError("\(node) neither succeeded nor failed")
            }
        }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func unhex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }

    /// What `describe` reports for a value: its type, count, and what each reader gave (null
    /// where the reader refused and left its out-parameter alone).
    static func described(
        _ type: Int32, count: Int = 0, string: String? = nil, number: Double? = nil, integer: Int? = nil, boolean: Int? = nil
    ) -> JSON {
        var object: JSONObject = [
            "type": .int(Int(type)), "count": .int(count), "len": .int(string?.utf8.count ?? 0),
            "hex": string.map { .string(hex($0.utf8)) } ?? .null,
            "number": number.map { .double($0) } ?? .null, "integer": integer.map { .int($0) } ?? .null,
            "boolean": boolean.map { .int($0) } ?? .null,
        ]
        if string != nil { object["terminated"] = true }
        return .object(object)
    }

    static let document = #"""
        {
          "a": {"b": {"c": 1}},
          "items": [{"name": "zero"}, {"name": "one"}, {"name": "two", "tags": ["x", "y"]}],
          "odd.key": {"[x]": "bracket"},
          "q\"uote": 5,
          "*": "star",
          "s": "a\u0000b",
          "u": "\u00e9😀\u2028",
          "int": 42, "neg": -9223372036854775808, "max": 9223372036854775807, "big": 9007199254740993,
          "half": 2.5, "whole": 2.0, "huge": 1e300, "two64": 18446744073709551616, "tiny": -0.5e-3,
          "t": true, "f": false, "n": null, "empty": [], "eobj": {}
        }
        """#

    @Test func readsValuesByPath() throws {
        let probe = try Probe()
        let object = NODAL_JSON_OBJECT, string = NODAL_JSON_STRING, number = NODAL_JSON_NUMBER
        let missing = Self.described(NODAL_JSON_MISSING)
        let cases: [(path: String, expected: JSON)] = [
            ("a.b.c", Self.described(number, number: 1, integer: 1)),
            ("$.a.b.c", Self.described(number, number: 1, integer: 1)),
            ("$", Self.described(object, count: 21)),
            ("", Self.described(object, count: 21)),
            ("a.b", Self.described(object, count: 1)),
            ("items", Self.described(NODAL_JSON_ARRAY, count: 3)),
            ("items[2].name", Self.described(string, string: "two")),
            ("$.items[0].name", Self.described(string, string: "zero")),
            ("items[2].tags[1]", Self.described(string, string: "y")),
            (#"["odd.key"]["[x]"]"#, Self.described(string, string: "bracket")),
            (#"$['odd.key']['[x]']"#, Self.described(string, string: "bracket")),
            (#"["q\"uote"]"#, Self.described(number, number: 5, integer: 5)),
            ("*", Self.described(string, string: "star")),
            ("s", Self.described(string, string: "a\u{0}b")),
            ("u", Self.described(string, string: "\u{E9}\u{1F600}\u{2028}")),
            ("int", Self.described(number, number: 42, integer: 42)),
            ("neg", Self.described(number, number: -9_223_372_036_854_775_808.0, integer: Int.min)),
            ("max", Self.described(number, number: 9_223_372_036_854_775_807.0, integer: Int.max)),
            // Exact as an integer; the double is the nearest one.
            ("big", Self.described(number, number: 9_007_199_254_740_992.0, integer: 9_007_199_254_740_993)),
            ("half", Self.described(number, number: 2.5)),
            ("whole", Self.described(number, number: 2, integer: 2)),
            ("huge", Self.described(number, number: 1e300)),
            ("two64", Self.described(number, number: 18_446_744_073_709_551_616.0)),
            ("tiny", Self.described(number, number: -0.0005)),
            ("t", Self.described(NODAL_JSON_BOOL, boolean: 1)),
            ("f", Self.described(NODAL_JSON_BOOL, boolean: 0)),
            ("n", Self.described(NODAL_JSON_NULL)),
            ("empty", Self.described(NODAL_JSON_ARRAY, count: 0)),
            ("eobj", Self.described(object, count: 0)),
            // Nothing there, or not a path.
            ("nope", missing), ("a.nope", missing), ("a.b.c.d", missing), ("items[3]", missing),
            ("int[0]", missing), ("items.0", missing), ("items[-1]", missing), ("items[x]", missing),
            ("items[", missing), ("items[1", missing), ("a..b", missing), ("a.", missing), ("$.", missing),
            (".a", missing), ("a]", missing), ("items[0]name", missing), ("items[*]", missing),
            (#"["odd.key"#, missing), ("$a", missing), ("items[99999999999999999999]", missing),
        ]
        let input: JSON = ["doc": .string("placeholder"), "paths": .array(cases.map { .string($0.path) })]
        let text = input.serialized().replacingOccurrences(of: #""placeholder""#, with: Self.document)
        let output = try probe.call("describe", text)
        let results = try #require(output.json.arrayValue)
        #expect(results.count == cases.count)
        for (result, testCase) in zip(results, cases) {
            #expect(result == testCase.expected, "path \(testCase.path)")
        }
    }

    @Test func edgesNoPathReaches() throws {
        let probe = try Probe()
        let input = #"{"obj": {"z": 1, "a\u0000b": [2], "\u00e9": {}, "m": "x"}, "arr": [10, 20], "num": 7, "t": true, "s": "text"}"#
        let output = try probe.call("edges", input).json
        let expected: JSON = [
            "chain": 0, "nullPath": 1, "noneString": 1, "noneNumber": 1, "noneInteger": 1, "noneBoolean": 1,
            "noneCount": 0, "noneElement": 1, "noneMember": 1, "noneGet": 1,
            "nullOut": [.int(Int(NODAL_INVALID)), .int(Int(NODAL_INVALID)), .int(Int(NODAL_INVALID))],
            "numberOfBool": .int(Int(NODAL_INVALID)), "boolOfNumber": .int(Int(NODAL_INVALID)), "stringOfNumber": 1,
            "elementPast": [1, 1, 1], "memberPast": [1, 1, 1], "countOfScalar": 0,
            "keys": [
                ["type": .int(Int(NODAL_JSON_NUMBER)), "key": .string(Self.hex("z".utf8)), "terminated": 1],
                ["type": .int(Int(NODAL_JSON_ARRAY)), "key": .string(Self.hex([0x61, 0, 0x62])), "terminated": 1],
                ["type": .int(Int(NODAL_JSON_OBJECT)), "key": .string(Self.hex("\u{E9}".utf8)), "terminated": 1],
                ["type": .int(Int(NODAL_JSON_STRING)), "key": .string(Self.hex("m".utf8)), "terminated": 1],
            ],
            "sameKey": 1, "sameString": 1, "sameHandle": 1, "sameInput": 1, "elementIsGet": 1,
        ]
        #expect(output == expected)
        // Order, which JSON equality of objects ignores.
        let keys: [[UInt8]] = [Array("z".utf8), [0x61, 0, 0x62], Array("\u{E9}".utf8), Array("m".utf8)]
        #expect(output["keys"]?.arrayValue?.compactMap { $0["key"]?.stringValue } == keys.map { Self.hex($0) })
    }

    @Test func iteratesArraysAndObjectsInDocumentOrder() throws {
        let probe = try Probe()
        let input = #"""
            {"zeta": 1, "alpha": [3, 2.5, -7, 1e300, 0.1, "t\"\\\n\u0001", true, false, null, [], {}],
             "mid": {"y": {"x": [[[]], [{"deep": "\u00e9\u2028😀"}]]}, "b": -9223372036854775808, "a": 9223372036854775807},
             "": "empty key", "a\u0000b": "nul key"}
            """#
        let output = try probe.call("roundtrip", input)
        // Read back through the readers and written by the writer, the same bytes Nodal itself
        // writes for the parsed input: the same values, the same key order.
        #expect(output.bytes == (try JSON(parsing: input)).serializedBytes())
        #expect(String(decoding: output.bytes, as: UTF8.self).hasPrefix(#"{"zeta":1,"alpha":[3,2.5,-7,1e+300,0.1,"#))
    }

    @Test func writesEscapesNumbersAndNesting() throws {
        let probe = try Probe()
        let output = try probe.call("write", #"{"pass": {"z": [1, 2.5, "x"], "a": null}}"#)
        let expected: JSON = [
            "text": .string("quote\" backslash\\ slash/ nl\n tab\t cr\r bs\u{8} ff\u{C} ctl\u{1}\u{1F} del\u{7F} ls\u{2028} ps\u{2029} e\u{E9} emoji\u{1F600}"),
            "nul": "a\u{0}b",
            "numbers": [
                .double(0.1), .double(2.0), .double(-2.5), .double(1e300), .double(.leastNonzeroMagnitude), .double(1e16), .double(123456.789),
                .double(-0.0), .double(1.5e-7), 0, .int(Int.max), .int(Int.min), -42, .int(9_007_199_254_740_993),
            ],
            "nested": [[], [:], [["deep": [true, false, true, nil]]]],
            "copied": ["z": [1, 2.5, "x"], "a": nil],
            "k\"ey\n": 1,
        ]
        // Byte for byte what Nodal writes for the same value (JSONWriter's escapes and numbers).
        #expect(output.bytes == expected.serializedBytes())
        let text = String(decoding: output.bytes, as: UTF8.self)
        for piece in [#"quote\" backslash\\ slash/ nl\n tab\t cr\r bs\b ff\f ctl\u0001\u001f"#, #""nul":"a\u0000b""#,
                      "ls\u{2028} ps\u{2029}", #"[0.1,2.0,-2.5,1e+300,5e-324,1e+16,123456.789,-0.0,1.5e-7,0,9223372036854775807,-9223372036854775808,-42,9007199254740993]"#,
                      #""copied":{"z":[1,2.5,"x"],"a":null}"#, #""k\"ey\n":1}"#] {
            #expect(text.contains(piece), "\(piece) in \(text)")
        }
    }

    @Test func writesDeeplyNestedValues() throws {
        let probe = try Probe()
        // Up to, at and past the 64 levels the writer keeps inline.
        for depth in [1, 63, 64, 65, 200] {
            var expected: JSON = .int(depth)
            for level in (0..<depth).reversed() { expected = level % 3 == 0 ? ["k": expected] : [expected] }
            let output = try probe.call("deep", #"{"depth": \#(depth)}"#)
            #expect(output.bytes == expected.serializedBytes(), "depth \(depth)")
        }
    }

    @Test func writerMisuseIsRefusedAndStaysRefused() throws {
        let probe = try Probe()
        let output = try #require(try probe.call("misuse", "{}").json.objectValue)
        let refused: JSON = [.int(Int(NODAL_INVALID)), .int(Int(NODAL_INVALID)), 1, 0]
        let misuses = ["valueWhereKeyIsDue", "endArrayInObject", "endObjectInArray", "endWithNothingOpen", "keyInArray",
                       "keyAtTopLevel", "keyTwice", "endAfterKey", "secondTopLevelValue", "afterCompleteArray", "invalidUTF8",
                       "overlongUTF8", "surrogateUTF8", "truncatedUTF8", "invalidUTF8Key", "nan", "infinity", "minusInfinity",
                       "nullString", "nullKey", "hugeLength", "valueNone", "valueMadeUp", "writerAsValue"]
        for misuse in misuses {
            #expect(output[misuse] == refused, "\(misuse)")
        }
        #expect(output["incomplete"] == [.int(Int(NODAL_OK)), 1, 0])
        #expect(output["nothingWritten"] == [1, 0])
        #expect(output["finishedLater"] == [.int(Int(NODAL_OK)), 1])
        for notAWriter in ["noWriter", "madeUpWriter", "valueAsWriter"] {
            #expect(output[notAWriter] == .int(Int(NODAL_INVALID)), "\(notAWriter)")
        }
        #expect(output["noWriterJSON"] == 1)
        #expect(output["nullLength"] == 1)
        #expect(output.count == misuses.count + 8)
    }

    @Test func aLargeInputParsesAndCounts() throws {
        let probe = try Probe()
        let count = 100_000
        let input = #"{"items": ["# + (0..<count).map(String.init).joined(separator: ",") + "]}"
        let output = try probe.call("sum", input).json
        #expect(output == ["count": .int(count), "sum": .int(count * (count - 1) / 2), "bad": 0, "past": 0, "last": .int(count - 1)])
    }

    @Test func parseMakesMoreDocumentsAndNamesLineAndColumn() throws {
        let probe = try Probe()
        let output = try probe.call("parse", "{}").json
        let bad = try #require(output["bad"]?.arrayValue)
        #expect(bad.first == 1)
        let message = String(decoding: Self.unhex(bad.last?.stringValue ?? ""), as: UTF8.self)
        #expect(message == "invalid JSON at line 2, column 3: unexpected character '}'")
        let tooLarge = try #require(output["tooLarge"]?.arrayValue)
        #expect(tooLarge.first == 1)
        let rangeMessage = String(decoding: Self.unhex(tooLarge.last?.stringValue ?? ""), as: UTF8.self)
        #expect(rangeMessage.hasPrefix("invalid JSON at line 1, column 2: number out of range"), "\(rangeMessage)")
        #expect(output["nullText"] == [1, 1])
        #expect(output["hugeLength"] == [1, 1])
        #expect(output["badUTF8"] == 1)
        #expect(output["good"] == [1, 30, 1])
        #expect(output["twoDocuments"] == 1)
    }

    @Test func getExtensionOffersJSONOnlyByItsID() throws {
        let probe = try Probe()
        let output = try probe.call("extension", "{}").json
        #expect(output == [
            "json": 1, "size": 1, "reserved": 0, "same": 1, "unknown": 1, "v2": 1, "prefix": 1, "nullHost": 1, "nullID": 1, "allSet": 1,
        ])
        // The table get_extension hands out is the host's one static table.
        let table = NODAL_EXT_JSON.withCString { HostServices.table.pointee.get_extension(HostServices.table, $0) }
        #expect(table == UnsafeRawPointer(JSONExtension.table))
    }

    @Test func aThreadStartedDuringInvokeUsesTheExtension() async throws {
        let probe = try Probe()
        let flow = try Flow(yaml: """
            steps:
              - { id: a, component: /jsonext/threaded, input: { name: Ada } }
              - { id: b, component: /jsonext/threaded, input: { name: "Gr\u{E9}ce \\"G\\"" } }
            output: [{ $step: a }, { $step: b }]
            """)
        let result = await probe.engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == [["greeting": "hello Ada"], ["greeting": "hello Gr\u{E9}ce \"G\""]])
    }

    @Test func handlesKeptForTheNextCallAreMissingThere() async throws {
        let probe = try Probe()
        var yaml = "steps:\n"
        let count = 40
        for index in 0..<count {
            let after = index == 0 ? "" : ", after: { $step: s\(index - 1) }"
            yaml += "  - { id: s\(index), component: /jsonext/stale, input: { a: { b: \"inner \(index)\" }\(after) } }\n"
        }
        yaml += "output: [\((0..<count).map { "{ $step: s\($0) }" }.joined(separator: ", "))]\n"
        let result = await probe.engine.run(try Flow(yaml: yaml), input: [:])
        #expect(result.status == .success)
        let outputs = try #require(result.output?.arrayValue)
        #expect(outputs.count == count)
        let invalid = JSON.int(Int(NODAL_INVALID)), missing = JSON.int(Int(NODAL_JSON_MISSING))
        let always: JSONObject = [
            "madeUp": [missing, missing, missing, missing], "writerAsValue": missing,
            "nullCall": [1, missing, 1, 1, invalid, 1, 1],
        ]
        var stale = always
        for (key, value) in [
            ("rootInNewCall", missing), ("innerInNewCall", missing), ("stringInNewCall", 1), ("getInNewCall", 1),
            ("countInNewCall", 0), ("writerInNewCall", invalid), ("writerJSONInNewCall", 1), ("valueInNewWriter", invalid),
            ("oldCallInput", 1), ("oldCallType", missing), ("oldCallWriter", 1), ("oldCallParse", 1),
            ("oldCallWrite", invalid), ("oldCallKey", invalid), ("oldCallWriterJSON", 1),
        ] as [(String, JSON)] { stale[key] = value }
        var first = always
        first["first"] = 1
        stale["first"] = 0
        #expect(outputs[0] == .object(first))
        for (index, output) in outputs.enumerated().dropFirst() {
            #expect(output == .object(stale), "step s\(index)")
        }
    }

    @Test func manyCallsAtOnceKeepTheirOwnDocuments() async throws {
        let probe = try Probe(blockingThreads: 8)
        let count = 16
        var yaml = "steps:\n"
        for index in 0..<count {
            yaml += "  - { id: s\(index), component: /jsonext/concurrent, input: { id: \(index), text: \"text \(index) \u{E9}\" } }\n"
        }
        yaml += "output: [\((0..<count).map { "{ $step: s\($0) }" }.joined(separator: ", "))]\n"
        let result = await probe.engine.run(try Flow(yaml: yaml), input: [:])
        #expect(result.status == .success)
        let outputs = try #require(result.output?.arrayValue)
        #expect(outputs.count == count)
        var foreign = 0
        for (index, output) in outputs.enumerated() {
            #expect(output["id"] == .int(index))
            #expect(output["text"] == .string(Self.hex("text \(index) \u{E9}".utf8)))
            #expect(output["mismatches"] == 0, "step s\(index)")
            #expect(output["together"] == 1, "step s\(index)")
            #expect(output["foreignMissing"] == output["foreignSeen"], "step s\(index)")
            foreign += output["foreignSeen"]?.intValue ?? 0
        }
        // Other calls' handles did pass through (every call but the first finds one at least).
        #expect(foreign >= count - 1)
    }

    /// README's C example that reads through the extension (`hello.c`, in "In C, outside this
    /// package"), built and run as written there.
    @Test func theDocumentedExampleBuildsAndRuns() async throws {
        let text = try String(contentsOfFile: Products.repositoryRoot + "/README.md", encoding: .utf8)
        let source = try #require(text.components(separatedBy: "```c\n").first { $0.hasPrefix("// hello.c:") }?.components(separatedBy: "```").first)
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(source, name: "hello", in: directory)
        let engine = Engine()
        try engine.loadPlugin(at: path)
        let flow = try Flow(yaml: "steps:\n  - { id: hi, component: /hello/greet, input: { name: { $input: name } } }\noutput: { $step: hi }\n")
        let result = await engine.run(flow, input: ["name": "Ada"])
        #expect(result.output == ["greeting": "Hello, Ada!"])
        let refused = await engine.run(flow, input: ["name": 7])
        #expect(refused.status == .failed)
    }

    /// plugins/std reads and writes through the extension: its nodes called directly (no input
    /// schema in front of them) still refuse bad input naming the field, as they did with their
    /// own JSON reader, and write numbers as before.
    @Test func theStdPluginReadsAndWritesThroughTheExtension() throws {
        let engine = Engine()
        let loaded = try PluginLoader.load(Products.plugin("nodal_std"), logger: engine.logger, maxOutputBytes: Engine.defaultMaxOutputBytes)
        let nodes = Dictionary(uniqueKeysWithValues: loaded.nodes.map { ($0.info.name, $0) })
        func call(_ node: String, _ input: String) throws -> NodeOutcome {
            try #require(nodes[node]).call(input: Array(input.utf8), stepID: "s", cancellation: nil)
        }
        func output(_ node: String, _ input: String) throws -> String? {
            guard case .success(let payload) = try call(node, input) else { return nil }
            return String(decoding: payload.encodedBytes, as: UTF8.self)
        }
        func error(_ node: String, _ input: String) throws -> String? {
            guard case .failure(let error) = try call(node, input) else { return nil }
            return "\(error.code): \(error.message)"
        }
        #expect(try output("upper", #"{"text": "h\u00e9llo \u0000 \"x\""}"#) == #"{"text":"H\#u{E9}LLO \u0000 \"X\""}"#)
        #expect(try output("concat", #"{"parts": ["a", "b", "c"], "separator": ", "}"#) == #"{"text":"a, b, c"}"#)
        #expect(try output("length", #"{"text": "\u00e9\ud83d\ude00a"}"#) == #"{"length":3}"#)
        #expect(try output("add", #"{"a": 1.5, "b": 0.5}"#) == #"{"result":2}"#)
        #expect(try output("add", #"{"a": 0.1, "b": 0.2}"#) == #"{"result":0.30000000000000004}"#)
        #expect(try output("add", #"{"a": 9223372036854775807, "b": 1}"#) == #"{"result":9.223372036854776e+18}"#)
        #expect(try output("multiply", #"{"a": -4, "b": 2.5}"#) == #"{"result":-10}"#)
        #expect(try output("increment", #"{"value": 2.5}"#) == #"{"value":3.5}"#)
        #expect(try output("sleep", #"{"ms": 0, "value": {"z": [1, 2.5], "a": null}}"#) == #"{"slept_ms":0,"value":{"z":[1,2.5],"a":null}}"#)
        #expect(try error("upper", "[1]") == "INVALID_INPUT: input must be a JSON object, got an array")
        #expect(try error("upper", "{}") == "INVALID_INPUT: missing required field 'text' (a string)")
        #expect(try error("upper", #"{"text": 5}"#) == "INVALID_INPUT: field 'text' must be a string, got a number")
        #expect(try error("concat", #"{"parts": ["a", 1]}"#) == "INVALID_INPUT: field 'parts[1]' must be a string, got a number")
        #expect(try error("concat", #"{"parts": "a"}"#) == "INVALID_INPUT: field 'parts' must be an array, got a string")
        #expect(try error("concat", #"{"parts": [], "separator": true}"#) == "INVALID_INPUT: field 'separator' must be a string, got a boolean")
        #expect(try error("add", #"{"a": 1}"#) == "INVALID_INPUT: missing required field 'b' (a number)")
        #expect(try error("add", #"{"a": null, "b": 1}"#) == "INVALID_INPUT: field 'a' must be a number, got null")
        #expect(try error("multiply", #"{"a": 1e308, "b": 10}"#) == "OUT_OF_RANGE: the result is not a finite number and cannot be written as JSON")
        #expect(try error("log", #"{"message": "m", "steps": 2.5}"#) == "INVALID_INPUT: field 'steps' must be an integer between 0 and 1000000")
        #expect(try error("sleep", #"{"ms": -1}"#) == "INVALID_INPUT: field 'ms' must be a number of milliseconds between 0 and 86400000")
        #expect(try error("fail", #"{"code": "E", "message": "m"}"#) == "E: m")
        #expect(try error("fail", #"{"code": 1}"#) == "INVALID_INPUT: field 'code' must be a string, got a number")
    }

    @Test func aPluginBuiltAgainstTheABI11HeaderStillLoadsAndRuns() async throws {
        let header = try String(contentsOfFile: Self.fixtures + "/nodal-1.1.h", encoding: .utf8)
        #expect(header.contains("#define NODAL_ABI_MINOR 1\n"))
        #expect(!header.contains("nodal_json"))
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(Self.abi11Plugin, name: "abi11", in: directory, flags: ["-I", Self.fixtures])
        let engine = Engine()
        let info = try engine.loadPlugin(at: path)
        #expect(info.abiMinor == 1)
        #expect(info.license == "MIT")
        let flow = try Flow(yaml: "steps: [{id: s, component: /abi11/echo, input: {x: [1, 2]}}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == [
            "input": ["x": [1, 2]], "log": .int(Int(NODAL_OK)), "progress": .int(Int(NODAL_OK)), "cancelled": 0, "unknownExtension": 1,
        ])
    }
}

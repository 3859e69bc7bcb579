import NodalTestSupport
@testable import NodalCore
@testable import NodalJSON

/// A C plugin for the blobs and runs extension tests. It carries no JSON library: its nodes pass
/// their input to the extensions as it is (a flow builds the request with expressions) and answer
/// with what the extension replied, so the tests see the host's bytes unchanged.
///
/// - `submit`, `get`, `cancel` (pooled) and `submit_inline`, `get_inline` (non-blocking): the
///   input is the request; on NODAL_OK the reply is the output (or NODAL_CANCELLED when the call
///   was told to stop meanwhile); on NODAL_ERROR the step fails with code `REFUSED` and the reply
///   as the error's details; NODAL_INVALID fails it with code `INVALID`.
/// - `put_flow`, `put_data`: store the input with `blobs.put_json` (type flow, data): `{id}`.
/// - `put_bytes`: stores the bytes 00 ff 61 80 with type `application/octet-stream`: `{id}`.
/// - `get_blob`: the input is a blob id string: `{type, len, hex}`, and `json` for JSON blobs.
/// - `echo` (pooled): the input as output. `check` (pooled): fails with code `ODD` on input `1`,
///   else echoes. `waiter` (pooled): returns NODAL_CANCELLED once is_cancelled says so.
/// - `abi`: calls every function with NULL pointers, a size above PTRDIFF_MAX and a request that
///   is not JSON, and lists the statuses (and whether the reply was left untouched).
/// - `stale`: the first call keeps its handle; the second uses it and lists the statuses.
/// - `aside`: submits its input from a thread of its own while its invoke's thread uses the other
///   services, until the test calls the library's `nodal_test_aside_go()`.
enum ExtensionPlugin {
    static let source = #"""
        #define _POSIX_C_SOURCE 200809L
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include <pthread.h>
        #include "nodal.h"

        static const nodal_runs *runs_of(const nodal_host *host) {
            return (const nodal_runs *)host->get_extension(host, NODAL_EXT_RUNS);
        }
        static const nodal_blobs *blobs_of(const nodal_host *host) {
            return (const nodal_blobs *)host->get_extension(host, NODAL_EXT_BLOBS);
        }

        static nodal_status answer(const nodal_host *host, nodal_call *call, nodal_status status,
                                   const char *reply, size_t len) {
            if (status == NODAL_OK) {
                if (host->is_cancelled(call)) return NODAL_CANCELLED;
                return host->write_output(call, reply, len);
            }
            if (status == NODAL_ERROR) {
                host->set_error(call, "REFUSED", "the runs extension refused the request", reply, len);
            } else {
                host->set_error(call, "INVALID", "the runs extension returned NODAL_INVALID", NULL, 0);
            }
            return NODAL_ERROR;
        }

        #define RUNS_NODE(fn, member) \
            static nodal_status fn(const nodal_node *node, const nodal_host *host, nodal_call *call, \
                                   const char *input, size_t input_len) { \
                const nodal_runs *runs = runs_of(host); \
                const char *reply = NULL; \
                size_t len = 0; \
                nodal_status status; \
                (void)node; \
                if (!runs) { host->set_error(call, "NO_EXTENSION", "no runs extension", NULL, 0); return NODAL_ERROR; } \
                status = runs->member(call, input, input_len, &reply, &len); \
                return answer(host, call, status, reply, len); \
            }
        RUNS_NODE(submit_invoke, submit)
        RUNS_NODE(get_invoke, get)
        RUNS_NODE(cancel_invoke, cancel)

        static nodal_status put(const nodal_host *host, nodal_call *call, const void *data, size_t len,
                                const char *type, int bytes) {
            const nodal_blobs *blobs = blobs_of(host);
            char id[NODAL_BLOB_ID_SIZE], out[128];
            const char *error = NULL;
            nodal_status status;
            int length;
            if (!blobs) { host->set_error(call, "NO_EXTENSION", "no blobs extension", NULL, 0); return NODAL_ERROR; }
            status = bytes ? blobs->put_bytes(call, data, len, type, id, &error)
                           : blobs->put_json(call, (const char *)data, len, type, id, &error);
            if (status != NODAL_OK) {
                host->set_error(call, status == NODAL_ERROR ? "REFUSED" : "INVALID", error ? error : "(no reason)", NULL, 0);
                return NODAL_ERROR;
            }
            length = snprintf(out, sizeof out, "{\"id\":\"%s\"}", id);
            return host->write_output(call, out, (size_t)length);
        }

        static nodal_status put_flow_invoke(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; return put(h, c, in, len, "flow", 0);
        }
        static nodal_status put_data_invoke(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; return put(h, c, in, len, NULL, 0);
        }
        static nodal_status put_bytes_invoke(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            static const unsigned char fixed[] = { 0x00, 0xff, 0x61, 0x80 };
            (void)n; (void)in; (void)len;
            return put(h, c, fixed, sizeof fixed, "application/octet-stream", 1);
        }

        static nodal_status get_blob_invoke(const nodal_node *n, const nodal_host *host, nodal_call *call,
                                            const char *input, size_t input_len) {
            const nodal_blobs *blobs = blobs_of(host);
            char id[128], *out;
            const char *data = NULL, *type = NULL, *error = NULL;
            size_t len = 0, i, at = 0;
            nodal_status status;
            (void)n;
            /* The input is a JSON string: the id between its quotes. */
            if (input_len < 2 || input_len - 2 >= sizeof id) { host->set_error(call, "BAD_INPUT", "not an id", NULL, 0); return NODAL_ERROR; }
            memcpy(id, input + 1, input_len - 2);
            id[input_len - 2] = 0;
            status = blobs->get(call, id, &data, &len, &type, &error);
            if (status != NODAL_OK) {
                host->set_error(call, status == NODAL_ERROR ? "REFUSED" : "INVALID", error ? error : "(no reason)", NULL, 0);
                return NODAL_ERROR;
            }
            if (data[len] != 0) { host->set_error(call, "NOT_TERMINATED", "the data is not NUL-terminated", NULL, 0); return NODAL_ERROR; }
            out = malloc(3 * len + strlen(type) + 64);
            if (!out) return NODAL_ERROR;
            at += (size_t)sprintf(out + at, "{\"type\":\"%s\",\"len\":%zu,\"hex\":\"", type, len);
            for (i = 0; i < len; i++) at += (size_t)sprintf(out + at, "%02x", (unsigned char)data[i]);
            out[at++] = '"';
            if (strcmp(type, "data") == 0 || strcmp(type, "flow") == 0) {
                at += (size_t)sprintf(out + at, ",\"json\":");
                memcpy(out + at, data, len);
                at += len;
            }
            out[at++] = '}';
            status = host->write_output(call, out, at);
            free(out);
            return status;
        }

        static nodal_status echo_invoke(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n; return h->write_output(c, in, len);
        }
        static nodal_status check_invoke(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n;
            if (len == 1 && in[0] == '1') { h->set_error(c, "ODD", "item 1 failed", NULL, 0); return NODAL_ERROR; }
            return h->write_output(c, in, len);
        }
        static nodal_status waiter_invoke(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            struct timespec pause = { 0, 1000000 };
            int i;
            (void)n; (void)in; (void)len;
            for (i = 0; i < 60000; i++) {
                if (h->is_cancelled(c)) return NODAL_CANCELLED;
                nanosleep(&pause, NULL);
            }
            h->set_error(c, "NOT_CANCELLED", "waited 60 s and nothing cancelled the call", NULL, 0);
            return NODAL_ERROR;
        }

        static nodal_status abi_invoke(const nodal_node *n, const nodal_host *host, nodal_call *call, const char *in, size_t in_len) {
            const nodal_runs *runs = runs_of(host);
            const nodal_blobs *blobs = blobs_of(host);
            static const char sentinel[] = "untouched";
            const char *reply = sentinel, *data = sentinel, *error = NULL;
            size_t len = 12345, reply_len = 12345;
            char id[NODAL_BLOB_ID_SIZE], out[4096];
            int s[20], k = 0, at, untouched, i;
            nodal_status garbage;
            const char *garbage_reply = NULL;
            size_t garbage_len = 0;
            (void)n; (void)in; (void)in_len;
            s[k++] = blobs->put_json(call, NULL, 0, NULL, id, &error);
            s[k++] = blobs->put_json(NULL, "1", 1, NULL, id, &error);
            s[k++] = blobs->put_json(call, "1", 1, NULL, NULL, &error);
            s[k++] = blobs->put_json(call, "1", (size_t)-1, NULL, id, &error);
            s[k++] = blobs->put_bytes(call, NULL, 1, NULL, id, &error);
            s[k++] = blobs->put_bytes(call, "x", 1, NULL, NULL, &error);
            s[k++] = blobs->get(call, NULL, &data, &len, NULL, &error);
            s[k++] = blobs->get(call, "00", NULL, &len, NULL, &error);
            s[k++] = blobs->get(call, "00", &data, NULL, NULL, &error);
            s[k++] = blobs->get(NULL, "00", &data, &len, NULL, &error);
            s[k++] = runs->submit(call, NULL, 0, &reply, &reply_len);
            s[k++] = runs->submit(call, "{}", 2, NULL, &reply_len);
            s[k++] = runs->submit(call, "{}", 2, &reply, NULL);
            s[k++] = runs->submit(NULL, "{}", 2, &reply, &reply_len);
            s[k++] = runs->submit(call, "{}", (size_t)-1, &reply, &reply_len);
            s[k++] = runs->get(NULL, "{}", 2, &reply, &reply_len);
            s[k++] = runs->cancel(call, NULL, 2, &reply, &reply_len);
            untouched = reply == sentinel && reply_len == 12345 && data == sentinel && len == 12345;
            /* A request that is not JSON, and a failure with nowhere to put the reason. */
            garbage = runs->submit(call, "{nope", 5, &garbage_reply, &garbage_len);
            s[k++] = blobs->put_json(call, "{nope", 5, NULL, id, NULL);
            at = sprintf(out, "{\"invalid\":[");
            for (i = 0; i < k - 1; i++) at += sprintf(out + at, "%s%d", i ? "," : "", s[i]);
            at += sprintf(out + at, "],\"untouched\":%s,\"unreported\":%d,\"garbage\":%d,\"garbageReply\":", untouched ? "true" : "false", s[k - 1], garbage);
            if (garbage_reply && garbage_len < 2048) { memcpy(out + at, garbage_reply, garbage_len); at += (int)garbage_len; }
            else at += sprintf(out + at, "null");
            out[at++] = '}';
            return host->write_output(call, out, (size_t)at);
        }

        /* aside: a thread of its own submits the input with wait: true while the invoke's thread
         * polls is_cancelled until the test calls nodal_test_aside_go(), then logs "aside" and
         * reports progress, then waits for the thread: the services answer while a wait is on. */
        static int aside_go;
        NODAL_EXPORT void nodal_test_aside_go(void) { __atomic_store_n(&aside_go, 1, __ATOMIC_SEQ_CST); }
        typedef struct { const nodal_host *host; nodal_call *call; const char *in; size_t len;
                         nodal_status status; const char *reply; size_t reply_len; } aside_job;
        static void *aside_thread(void *arg) {
            aside_job *job = (aside_job *)arg;
            job->status = runs_of(job->host)->submit(job->call, job->in, job->len, &job->reply, &job->reply_len);
            return NULL;
        }
        static nodal_status aside_invoke(const nodal_node *n, const nodal_host *host, nodal_call *call, const char *in, size_t len) {
            struct timespec pause = { 0, 1000000 };
            pthread_t thread;
            aside_job job = { host, call, in, len, -1, NULL, 0 };
            (void)n;
            if (pthread_create(&thread, NULL, aside_thread, &job) != 0) return NODAL_ERROR;
            while (!__atomic_load_n(&aside_go, __ATOMIC_SEQ_CST)) {
                if (host->is_cancelled(call) != 0) break;
                nanosleep(&pause, NULL);
            }
            host->log(call, NODAL_LOG_INFO, "aside");
            host->report_progress(call, 0.5, "aside");
            pthread_join(thread, NULL);
            return answer(host, call, job.status, job.reply, job.reply_len);
        }

        static nodal_call *kept;
        static nodal_status stale_invoke(const nodal_node *n, const nodal_host *host, nodal_call *call, const char *in, size_t in_len) {
            const nodal_runs *runs = runs_of(host);
            const nodal_blobs *blobs = blobs_of(host);
            const char *reply = NULL, *data = NULL, *error = NULL;
            size_t len = 0;
            char id[NODAL_BLOB_ID_SIZE], out[256];
            int at;
            (void)n; (void)in; (void)in_len;
            if (!kept) {
                kept = call;
                return host->write_output(call, "\"kept\"", 6);
            }
            at = sprintf(out, "[%d,%d,%d,%d,%d,%d]",
                blobs->put_json(kept, "1", 1, NULL, id, &error),
                blobs->put_bytes(kept, "1", 1, NULL, id, &error),
                blobs->get(kept, "0000000000000000000000000000000000000000000000000000000000000000", &data, &len, NULL, &error),
                runs->submit(kept, "{}", 2, &reply, &len),
                runs->get(kept, "{}", 2, &reply, &len),
                runs->cancel(kept, "{}", 2, &reply, &len));
            return host->write_output(call, out, (size_t)at);
        }

        #define NODE(var, nm, fl, fn) static const nodal_node var = { .struct_size = sizeof(nodal_node), \
            .id = "org.test.ext." nm, .name = nm, .version = "1.0.0", .flags = (fl), .invoke = fn }
        #define POOLED (NODAL_NODE_THREAD_SAFE)
        #define INLINE (NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING)
        NODE(submit_node, "submit", POOLED, submit_invoke);
        NODE(get_node, "get", POOLED, get_invoke);
        NODE(cancel_node, "cancel", POOLED, cancel_invoke);
        NODE(submit_inline_node, "submit_inline", INLINE, submit_invoke);
        NODE(get_inline_node, "get_inline", INLINE, get_invoke);
        NODE(put_flow_node, "put_flow", POOLED, put_flow_invoke);
        NODE(put_data_node, "put_data", POOLED, put_data_invoke);
        NODE(put_bytes_node, "put_bytes", POOLED, put_bytes_invoke);
        NODE(get_blob_node, "get_blob", POOLED, get_blob_invoke);
        NODE(echo_node, "echo", POOLED, echo_invoke);
        NODE(check_node, "check", POOLED, check_invoke);
        NODE(waiter_node, "waiter", POOLED | NODAL_NODE_CANCELLABLE, waiter_invoke);
        NODE(abi_node, "abi", POOLED, abi_invoke);
        NODE(stale_node, "stale", NODAL_NODE_NON_BLOCKING, stale_invoke);
        NODE(aside_node, "aside", POOLED, aside_invoke);
        static const nodal_node *const nodes[] = {
            &submit_node, &get_node, &cancel_node, &submit_inline_node, &get_inline_node, &put_flow_node,
            &put_data_node, &put_bytes_node, &get_blob_node, &echo_node, &check_node, &waiter_node, &abi_node,
            &stale_node, &aside_node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = sizeof nodes / sizeof nodes[0], .id = "org.test.ext", .name = "ext", .version = "1.0.0",
            .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t a, uint32_t b) { (void)a; (void)b; return &plugin; }
        """#

    /// The plugin, built once per test process (each engine loads it from the same file, and
    /// holds its own nodes).
    static let path: Result<String, any Error> = Result {
        try buildCPlugin(source, name: "ext", in: try temporaryDirectory(), flags: ["-pthread"])
    }

    /// An engine with the plugin loaded (and `also`, e.g. a HoldPlugin's file).
    static func engine(blockingThreads: Int? = nil, clock: (any Clock<Duration>)? = nil, also: [String] = []) throws -> Engine {
        let engine = Engine(blockingThreads: blockingThreads, clock: clock ?? ContinuousClock())
        try engine.loadPlugin(at: try path.get())
        for file in also { try engine.loadPlugin(at: file) }
        return engine
    }
}

extension JSON {
    /// The value at a dotted path of object keys and array indexes (`items.success`, `results.0`).
    subscript(path path: String) -> JSON? {
        var value: JSON? = self
        for part in path.split(separator: ".") {
            if let index = Int(part) {
                guard case .array(let items)? = value, items.indices.contains(index) else { return nil }
                value = items[index]
            } else {
                value = value?[String(part)]
            }
        }
        return value
    }
}

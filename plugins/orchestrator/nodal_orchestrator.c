/*
 * nodal_orchestrator.c: the "orchestrator" plugin of Nodal (plugin id "org.nodal.orchestrator").
 *
 * Nodes that run other flows from inside a step, Stepflow's three uses of runs/submit and
 * runs/get: sub-workflow orchestration (`orchestrate`), batch processing (`process_batch`) and
 * asynchronous submission with polling (`submit_and_poll`). Each is a sub-run of the step's run:
 * cancelling that run cancels it, and its items are checkpointed in the run's store.
 *
 * Plain C99 against include/nodal.h only. It uses the three host extensions of ABI 1.2: JSON
 * (NODAL_EXT_JSON) to read its input and build requests and outputs, blobs (NODAL_EXT_BLOBS) to
 * store a flow it is given, and runs (NODAL_EXT_RUNS) to submit and watch it. On a host without
 * them it still loads, and its nodes fail with UNSUPPORTED_HOST. It allocates nothing: every
 * document, string and reply is the host's, freed when the call ends. Bad input never crashes a
 * node: it sets INVALID_INPUT naming the field. A request the host refuses fails the step with
 * the host's own code and message (such as BLOB_NOT_FOUND), the reply as the error's details.
 *
 * Build alone:
 *   cc -std=c99 -Wall -Wextra -pedantic -O2 -shared -fPIC -I../../include nodal_orchestrator.c \
 *      -o libnodal_orchestrator.so
 */
#include "nodal.h"

#include <stdio.h>
#include <string.h>

/* ============================================================================================ */
/* The host and its extensions                                                                  */
/* ============================================================================================ */

/* True when `table` (a host struct of `struct_size` bytes) has `field` and it is set. */
#define HAS(table, type, field)                                                                 \
    ((table) != NULL && (size_t)(table)->struct_size >= offsetof(type, field) + sizeof((table)->field) && \
     (table)->field != NULL)

typedef struct {
    const nodal_host *host;
    nodal_call *call;
    const nodal_json *j;
    const nodal_blobs *blobs;
    const nodal_runs *runs;
    nodal_json_value in; /* the input: a JSON object once begin() succeeded */
} ctx;

static void fail(ctx *c, const char *code, const char *message, const char *details, size_t len) {
    if (HAS(c->host, nodal_host, set_error)) c->host->set_error(c->call, code, message, details, len);
}

/* Finds the three extensions and the input, which must be an object. Returns 0 (error set) when
 * the host lacks an extension or the input is not an object. */
static int begin(ctx *c, const nodal_host *host, nodal_call *call) {
    const void *found;
    memset(c, 0, sizeof *c);
    c->host = host;
    c->call = call;
    if (!HAS(host, nodal_host, get_extension)) {
        fail(c, "UNSUPPORTED_HOST", "this host offers no extensions (Nodal ABI 1.2 needed)", NULL, 0);
        return 0;
    }
    found = host->get_extension(host, NODAL_EXT_JSON);
    c->j = HAS((const nodal_json *)found, nodal_json, writer_json) ? (const nodal_json *)found : NULL;
    found = host->get_extension(host, NODAL_EXT_BLOBS);
    c->blobs = HAS((const nodal_blobs *)found, nodal_blobs, get) ? (const nodal_blobs *)found : NULL;
    found = host->get_extension(host, NODAL_EXT_RUNS);
    c->runs = HAS((const nodal_runs *)found, nodal_runs, cancel) ? (const nodal_runs *)found : NULL;
    if (c->j == NULL || c->blobs == NULL || c->runs == NULL) {
        fail(c, "UNSUPPORTED_HOST",
             "the orchestrator needs the host's JSON, blobs and runs extensions (" NODAL_EXT_JSON ", "
             NODAL_EXT_BLOBS ", " NODAL_EXT_RUNS ")", NULL, 0);
        return 0;
    }
    c->in = c->j->input(call);
    if (c->j->type(call, c->in) != NODAL_JSON_OBJECT) {
        fail(c, "INVALID_INPUT", "the input must be a JSON object", NULL, 0);
        return 0;
    }
    return 1;
}

/* The input field `name` when it has type `want`; NODAL_JSON_NONE when it is absent or null and
 * not required. Otherwise sets INVALID_INPUT naming the field and sets *bad. */
static nodal_json_value field(ctx *c, const char *name, nodal_json_type want, int required, int *bad) {
    char message[160];
    nodal_json_value v = c->j->get(c->call, c->in, name);
    nodal_json_type t = c->j->type(c->call, v);
    if (t == want) return v;
    if (!required && (t == NODAL_JSON_MISSING || t == NODAL_JSON_NULL)) return NODAL_JSON_NONE;
    snprintf(message, sizeof message, "'%s' %s %s", name, t == NODAL_JSON_MISSING ? "is missing: it must be" : "must be",
             want == NODAL_JSON_OBJECT ? "an object" : want == NODAL_JSON_ARRAY ? "an array" :
             want == NODAL_JSON_STRING ? "a string" : "a number");
    fail(c, "INVALID_INPUT", message, NULL, 0);
    *bad = 1;
    return NODAL_JSON_NONE;
}

/* ============================================================================================ */
/* Blobs and runs                                                                               */
/* ============================================================================================ */

/* Stores the flow document `flow` as a flow blob; its id goes to `id`. Returns 0 (error set) when
 * the host refused it (not a valid flow, say). */
static int store_flow(ctx *c, nodal_json_value flow, char id[NODAL_BLOB_ID_SIZE]) {
    const char *text, *error = NULL;
    size_t len = 0;
    nodal_json_writer w = c->j->writer(c->call);
    c->j->write_value(c->call, w, flow);
    text = c->j->writer_json(c->call, w, &len);
    if (text == NULL) {
        fail(c, "INVALID_INPUT", "'flow' could not be written as JSON", NULL, 0);
        return 0;
    }
    if (c->blobs->put_json(c->call, text, len, "flow", id, &error) != NODAL_OK) {
        fail(c, "INVALID_INPUT", error != NULL ? error : "the host refused to store 'flow'", NULL, 0);
        return 0;
    }
    return 1;
}

typedef nodal_status (*runs_fn)(nodal_call *, const char *, size_t, const char **, size_t *);

/* Sends the request built in `w` to `fn` (submit or get). Returns the reply parsed, or NONE with
 * the error set: the host's {code, message} when it refused the request. *cancelled is set when
 * the call was told to stop meanwhile (the node then returns NODAL_CANCELLED). */
static nodal_json_value request(ctx *c, runs_fn fn, nodal_json_writer w, int *cancelled) {
    const char *text, *reply = NULL, *code, *message;
    size_t len = 0, reply_len = 0;
    nodal_status status;
    nodal_json_value parsed;
    text = c->j->writer_json(c->call, w, &len);
    if (text == NULL) {
        fail(c, "INVALID_INPUT", "the request could not be written as JSON", NULL, 0);
        return NODAL_JSON_NONE;
    }
    status = fn(c->call, text, len, &reply, &reply_len);
    if (status == NODAL_INVALID || reply == NULL) {
        fail(c, "HOST_REFUSED", "the runs extension refused the call (NODAL_INVALID)", NULL, 0);
        return NODAL_JSON_NONE;
    }
    parsed = c->j->parse(c->call, reply, reply_len, NULL);
    if (status == NODAL_ERROR) {
        code = c->j->string(c->call, c->j->get(c->call, parsed, "code"), NULL);
        message = c->j->string(c->call, c->j->get(c->call, parsed, "message"), NULL);
        fail(c, code != NULL ? code : "SUBMIT_REFUSED", message != NULL ? message : "the runs extension refused the request",
             reply, reply_len);
        return NODAL_JSON_NONE;
    }
    if (HAS(c->host, nodal_host, is_cancelled) && c->host->is_cancelled(c->call)) {
        *cancelled = 1;
        return NODAL_JSON_NONE;
    }
    return parsed;
}

/* Starts a submit request {flowId, inputs: <items>, wait, maxConcurrency?} in a new writer. */
static nodal_json_writer submit_request(ctx *c, const char *flow_id, nodal_json_value items, int single,
                                        int wait, nodal_json_value max_concurrency) {
    nodal_json_writer w = c->j->writer(c->call);
    c->j->begin_object(c->call, w);
    c->j->key(c->call, w, "flowId", 6);
    c->j->write_string(c->call, w, flow_id, strlen(flow_id));
    c->j->key(c->call, w, "inputs", 6);
    if (single) c->j->begin_array(c->call, w);
    c->j->write_value(c->call, w, items);
    if (single) c->j->end_array(c->call, w);
    c->j->key(c->call, w, "wait", 4);
    c->j->write_bool(c->call, w, wait);
    if (max_concurrency != NODAL_JSON_NONE) {
        c->j->key(c->call, w, "maxConcurrency", 14);
        c->j->write_value(c->call, w, max_concurrency);
    }
    c->j->end_object(c->call, w);
    return w;
}

/* Writes the output built in `w`. */
static nodal_status finish(ctx *c, nodal_json_writer w) {
    size_t len = 0;
    const char *text = c->j->writer_json(c->call, w, &len);
    if (text == NULL) {
        fail(c, "OUTPUT_REFUSED", "the host's JSON writer refused the output", NULL, 0);
        return NODAL_ERROR;
    }
    return c->host->write_output(c->call, text, len);
}

/* Room for a blob id after "sha256:", and its NUL. */
#define ID_ROOM (NODAL_BLOB_ID_SIZE + 7)

/* The flow's blob id into `id`: the input's `flowId` as given (the host checks its digits and
 * reads a "sha256:" prefix), or, when `accept_flow` and there is none, the input's `flow` stored
 * as a blob. Returns 0 with the error set. */
static int flow_id(ctx *c, int accept_flow, char id[ID_ROOM]) {
    int bad = 0;
    size_t len = 0;
    const char *text;
    nodal_json_value given = field(c, "flowId", NODAL_JSON_STRING, !accept_flow, &bad), flow;
    if (bad) return 0;
    if (given != NODAL_JSON_NONE) {
        text = c->j->string(c->call, given, &len);
        if (len >= ID_ROOM || memchr(text, 0, len) != NULL) {
            fail(c, "INVALID_INPUT", "'flowId' is not a blob id (64 hexadecimal digits, optionally after 'sha256:')", NULL, 0);
            return 0;
        }
        memcpy(id, text, len + 1);
        return 1;
    }
    flow = field(c, "flow", NODAL_JSON_OBJECT, 0, &bad);
    if (bad) return 0;
    if (flow == NODAL_JSON_NONE) {
        fail(c, "INVALID_INPUT", "the input needs 'flowId' (a stored flow's blob id) or 'flow' (a flow to store)", NULL, 0);
        return 0;
    }
    return store_flow(c, flow, id);
}

/* ============================================================================================ */
/* Nodes                                                                                        */
/* ============================================================================================ */

/* orchestrate {flow, items, maxConcurrency?}: stores `flow` as a blob, runs it once per item
 * (wait: true) and returns {runId, status, counts, results}: the sub-run's item counts and every
 * item's result in index order. */
static nodal_status orchestrate_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                       const char *input, size_t input_len) {
    ctx c;
    int bad = 0, cancelled = 0;
    char id[NODAL_BLOB_ID_SIZE];
    nodal_json_value flow, items, max_concurrency, status;
    nodal_json_writer out;
    (void)node; (void)input; (void)input_len;
    if (!begin(&c, host, call)) return NODAL_ERROR;
    flow = field(&c, "flow", NODAL_JSON_OBJECT, 1, &bad);
    if (!bad) items = field(&c, "items", NODAL_JSON_ARRAY, 1, &bad);
    if (!bad) max_concurrency = field(&c, "maxConcurrency", NODAL_JSON_NUMBER, 0, &bad);
    if (bad || !store_flow(&c, flow, id)) return NODAL_ERROR;
    status = request(&c, c.runs->submit, submit_request(&c, id, items, 0, 1, max_concurrency), &cancelled);
    if (cancelled) return NODAL_CANCELLED;
    if (status == NODAL_JSON_NONE) return NODAL_ERROR;
    out = c.j->writer(call);
    c.j->begin_object(call, out);
    c.j->key(call, out, "runId", 5);
    c.j->write_value(call, out, c.j->get(call, status, "runId"));
    c.j->key(call, out, "status", 6);
    c.j->write_value(call, out, c.j->get(call, status, "status"));
    c.j->key(call, out, "counts", 6);
    c.j->write_value(call, out, c.j->get(call, status, "items"));
    c.j->key(call, out, "results", 7);
    c.j->write_value(call, out, c.j->get(call, status, "results"));
    c.j->end_object(call, out);
    return finish(&c, out);
}

/* process_batch {flowId, items, maxConcurrency?}: runs a stored flow once per item (wait: true)
 * and returns {processed, failed}: how many items succeeded and failed. */
static nodal_status process_batch_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                         const char *input, size_t input_len) {
    ctx c;
    int bad = 0, cancelled = 0;
    char id[ID_ROOM];
    nodal_json_value items, max_concurrency, status;
    nodal_json_writer out;
    (void)node; (void)input; (void)input_len;
    if (!begin(&c, host, call) || !flow_id(&c, 0, id)) return NODAL_ERROR;
    items = field(&c, "items", NODAL_JSON_ARRAY, 1, &bad);
    if (!bad) max_concurrency = field(&c, "maxConcurrency", NODAL_JSON_NUMBER, 0, &bad);
    if (bad) return NODAL_ERROR;
    status = request(&c, c.runs->submit, submit_request(&c, id, items, 0, 1, max_concurrency), &cancelled);
    if (cancelled) return NODAL_CANCELLED;
    if (status == NODAL_JSON_NONE) return NODAL_ERROR;
    out = c.j->writer(call);
    c.j->begin_object(call, out);
    c.j->key(call, out, "processed", 9);
    c.j->write_value(call, out, c.j->get(call, status, "items.success"));
    c.j->key(call, out, "failed", 6);
    c.j->write_value(call, out, c.j->get(call, status, "items.failed"));
    c.j->end_object(call, out);
    return finish(&c, out);
}

/* submit_and_poll {flowId | flow, input}: submits one item without waiting, then waits for it
 * with runs.get (wait: true, includeResults) and returns the first result,
 * {itemIndex, result: {outcome, value | error}, completedAt}. */
static nodal_status submit_and_poll_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                           const char *input, size_t input_len) {
    ctx c;
    int cancelled = 0;
    char id[ID_ROOM];
    const char *run_id;
    size_t run_id_len = 0;
    nodal_json_value item, status;
    nodal_json_writer w;
    (void)node; (void)input; (void)input_len;
    if (!begin(&c, host, call) || !flow_id(&c, 1, id)) return NODAL_ERROR;
    item = c.j->get(call, c.in, "input");
    if (item == NODAL_JSON_NONE) {
        fail(&c, "INVALID_INPUT", "'input' is missing: it is the input of the one item to run", NULL, 0);
        return NODAL_ERROR;
    }
    status = request(&c, c.runs->submit, submit_request(&c, id, item, 1, 0, NODAL_JSON_NONE), &cancelled);
    if (cancelled) return NODAL_CANCELLED;
    if (status == NODAL_JSON_NONE) return NODAL_ERROR;
    /* The run goes on meanwhile; a node could do other work here before it polls. */
    run_id = c.j->string(call, c.j->get(call, status, "runId"), &run_id_len);
    if (run_id == NULL) {
        fail(&c, "HOST_REFUSED", "the submit reply has no runId", NULL, 0);
        return NODAL_ERROR;
    }
    w = c.j->writer(call);
    c.j->begin_object(call, w);
    c.j->key(call, w, "runId", 5);
    c.j->write_string(call, w, run_id, run_id_len);
    c.j->key(call, w, "wait", 4);
    c.j->write_bool(call, w, 1);
    c.j->key(call, w, "includeResults", 14);
    c.j->write_bool(call, w, 1);
    c.j->end_object(call, w);
    status = request(&c, c.runs->get, w, &cancelled);
    if (cancelled) return NODAL_CANCELLED;
    if (status == NODAL_JSON_NONE) return NODAL_ERROR;
    w = c.j->writer(call);
    c.j->write_value(call, w, c.j->get(call, status, "results[0]"));
    return finish(&c, w);
}

/* ============================================================================================ */
/* Descriptors                                                                                  */
/* ============================================================================================ */

#define FLAGS (NODAL_NODE_THREAD_SAFE | NODAL_NODE_CANCELLABLE)

static const nodal_node orchestrate_node = {
    .struct_size = sizeof(nodal_node),
    .id = "org.nodal.orchestrator.orchestrate",
    .name = "orchestrate",
    .version = "1.0.0",
    .description = "Stores a flow as a blob, runs it once per item and returns the counts and results",
    .flags = FLAGS,
    .input_schema = "{\"type\":\"object\",\"required\":[\"flow\",\"items\"],\"properties\":{"
                    "\"flow\":{\"type\":\"object\"},\"items\":{\"type\":\"array\"},"
                    "\"maxConcurrency\":{\"type\":\"integer\",\"minimum\":1}}}",
    .output_schema = "{\"type\":\"object\",\"required\":[\"runId\",\"status\",\"counts\",\"results\"]}",
    .invoke = orchestrate_invoke,
};

static const nodal_node process_batch_node = {
    .struct_size = sizeof(nodal_node),
    .id = "org.nodal.orchestrator.process_batch",
    .name = "process_batch",
    .version = "1.0.0",
    .description = "Runs a stored flow once per item and returns how many succeeded and failed",
    .flags = FLAGS,
    .input_schema = "{\"type\":\"object\",\"required\":[\"flowId\",\"items\"],\"properties\":{"
                    "\"flowId\":{\"type\":\"string\"},\"items\":{\"type\":\"array\"},"
                    "\"maxConcurrency\":{\"type\":\"integer\",\"minimum\":1}}}",
    .output_schema = "{\"type\":\"object\",\"required\":[\"processed\",\"failed\"],\"properties\":{"
                     "\"processed\":{\"type\":\"integer\"},\"failed\":{\"type\":\"integer\"}}}",
    .invoke = process_batch_invoke,
};

static const nodal_node submit_and_poll_node = {
    .struct_size = sizeof(nodal_node),
    .id = "org.nodal.orchestrator.submit_and_poll",
    .name = "submit_and_poll",
    .version = "1.0.0",
    .description = "Submits one item without waiting, then polls for it and returns its result",
    .flags = FLAGS,
    .input_schema = "{\"type\":\"object\",\"required\":[\"input\"],\"properties\":{"
                    "\"flowId\":{\"type\":\"string\"},\"flow\":{\"type\":\"object\"}}}",
    .invoke = submit_and_poll_invoke,
};

static const nodal_node *const nodes[] = { &orchestrate_node, &process_batch_node, &submit_and_poll_node };

static const nodal_plugin plugin = {
    .struct_size = sizeof(nodal_plugin),
    .abi_major = NODAL_ABI_MAJOR,
    .abi_minor = NODAL_ABI_MINOR,
    .node_count = sizeof nodes / sizeof nodes[0],
    .id = "org.nodal.orchestrator",
    .name = "orchestrator",
    .version = "1.0.0",
    .vendor = "Nodal",
    .description = "Runs flows from inside a step: sub-workflows, batches, and submit-then-poll",
    .nodes = nodes,
};

NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_major;
    (void)host_abi_minor;
    return &plugin;
}

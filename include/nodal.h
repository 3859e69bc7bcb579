/*
 * nodal.h: the Nodal plugin ABI, version 1.
 *
 * This is the only header a plugin author needs. A plugin is a shared library that exports
 * one C function, `nodal_plugin_entry_v1`, returning a description of the plugin and its nodes.
 * The host (the Nodal engine) calls nodes with a JSON input and a table of services; nodes
 * answer through those services. Nothing else crosses the boundary.
 *
 * Rules that hold everywhere in this header:
 *   - Every struct starts with `struct_size` (the size the writer compiled against). Structs only
 *     grow at the end; a reader never touches a field past `struct_size`, and treats the fields
 *     it knows but the writer did not write as zero (NULL). Fill these structs with designated
 *     initializers (`.id = "org.example.text"`), so that the fields a newer header adds start
 *     zeroed and -Wmissing-field-initializers stays quiet.
 *   - No allocator crosses the boundary. Buffers passed to a plugin are borrowed for the duration
 *     of the call. Data a plugin hands to the host is copied by the host before the service returns.
 *   - Errors are a status code plus a structured error set through the host. A plugin never lets a
 *     C++ exception, a Swift error or a longjmp escape through a function of this header.
 *   - All strings are NUL-terminated UTF-8 unless a length is given. JSON is UTF-8 and need not be
 *     NUL-terminated; its length is always passed.
 *
 * Builds as C99 and C++11 without warnings under -Wall -Wextra -pedantic.
 */
#ifndef NODAL_H
#define NODAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Versions                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* The ABI major is also in the entry symbol's name: a host for ABI 1 looks up
 * `nodal_plugin_entry_v1` only, so a plugin built for another major is never called by mistake. */
#define NODAL_ABI_MAJOR 1
/* Minor versions add fields at the end of structs and new host services; they never remove.
 *   1.0: the first version.
 *   1.1: nodal_plugin.license and nodal_plugin.homepage; host->log and host->report_progress
 *        return a status (they returned void in 1.0); stale call handles are detected
 *        (NODAL_INVALID).
 *   1.2: host extensions through host->get_extension: JSON (NODAL_EXT_JSON), blobs
 *        (NODAL_EXT_BLOBS) and runs (NODAL_EXT_RUNS), in the sections at the end of this header.
 *        Nothing of 1.1 changed: a plugin built against 1.1 loads and runs as before. */
#define NODAL_ABI_MINOR 2

#define NODAL_ENTRY_SYMBOL "nodal_plugin_entry_v1"

/* ------------------------------------------------------------------------------------------ */
/* Status codes returned by node calls and host services                                      */
/* ------------------------------------------------------------------------------------------ */

typedef int32_t nodal_status;

/* Success. */
#define NODAL_OK 0
/* The node failed; it set the details with host->set_error (if it did not, the host reports a
 * generic NODE_FAILED error). Returned by invoke and initialize, never by a host service. */
#define NODAL_ERROR 1
/* The node saw host->is_cancelled() return nonzero and stopped early. Returned by invoke only.
 * Returning it when nothing cancelled the call is a bug in the node: the host then fails the
 * step with the error code UNEXPECTED_CANCEL. */
#define NODAL_CANCELLED 2
/* A host service refused its arguments and did nothing: a required pointer was NULL, or the
 * `nodal_call` is not a call in flight (its invoke already returned, or it never was a handle
 * the host gave out). Returned by host services only; a node must not return it from invoke. */
#define NODAL_INVALID 3

/* ------------------------------------------------------------------------------------------ */
/* Node flags: promises a node makes that the scheduler acts on                               */
/* (written as 1ULL shifts, not UINT64_C, so that Swift imports them as UInt64 constants)      */
/* ------------------------------------------------------------------------------------------ */

/* The node may be called from several threads at once. Without it, the host serializes calls. */
#define NODAL_NODE_THREAD_SAFE (1ULL << 0)
/* The node is cheap and never blocks (no I/O, no sleeping, bounded work). The host may call it
 * inline on the scheduler's thread instead of hopping to the blocking-call pool. */
#define NODAL_NODE_NON_BLOCKING (1ULL << 1)
/* Same input, same output, no side effects: the host may cache results. */
#define NODAL_NODE_DETERMINISTIC (1ULL << 2)
/* The node polls host->is_cancelled() during long work and returns NODAL_CANCELLED promptly. */
#define NODAL_NODE_CANCELLABLE (1ULL << 3)

/* Log levels for host->log. */
#define NODAL_LOG_TRACE 0
#define NODAL_LOG_DEBUG 1
#define NODAL_LOG_INFO 2
#define NODAL_LOG_WARNING 3
#define NODAL_LOG_ERROR 4

/* ------------------------------------------------------------------------------------------ */
/* Host services                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* One in-flight node call: a handle the host passes to invoke, and the plugin passes back to the
 * host services. Opaque and owned by the host: it is not a pointer to dereference, compare or
 * free. It is valid from the moment invoke is entered until invoke returns, on any thread.
 * A plugin must not keep it past that; if it does anyway (a detached thread, a handle stashed for
 * a later call), every host service taking it returns NODAL_INVALID and touches no memory of the
 * finished call. A host does not give out a finished call's handle value again for a very long
 * time, so a stale handle is not taken for a live one. */
typedef struct nodal_call nodal_call;

typedef struct nodal_host nodal_host;

struct nodal_host {
    uint32_t struct_size;  /* sizeof(nodal_host) as the host compiled it */
    uint32_t abi_major;    /* NODAL_ABI_MAJOR of the host */
    uint32_t abi_minor;    /* NODAL_ABI_MINOR of the host */
    uint32_t reserved;     /* zero */
    const char *host_name;    /* e.g. "nodal"; static, never NULL */
    const char *host_version; /* SemVer of the engine; static, never NULL */

    /* Sets the call's output to a JSON value.
     * Thread: any thread, while the call's invoke runs (calls from several threads are safe and
     * serialized by the host; the last one wins).
     * Ownership: `json` is borrowed; the host copies the `json_len` bytes before returning.
     * Calling it again replaces the previous output. The host checks the bytes are valid UTF-8
     * JSON when the call returns, and fails the step (saying so) if they are not.
     * Returns NODAL_OK, or NODAL_INVALID (and keeps nothing) if `json` is NULL, `json_len` is
     * above PTRDIFF_MAX (such as (size_t)-1), or `call` is NULL or not in flight. */
    nodal_status (*write_output)(nodal_call *call, const char *json, size_t json_len);

    /* Records a structured error for the call. The node then returns NODAL_ERROR.
     * Thread: any thread, while the call's invoke runs (serialized by the host; the last one wins).
     * Ownership: all strings are borrowed and copied before returning.
     * `code` is a short stable identifier such as "INVALID_INPUT" (NULL or "" means "NODE_FAILED");
     * `message` is for people (NULL means no message); `details_json` is optional JSON (NULL or
     * length 0 for none; text that is not JSON is kept as a string). A later call replaces an
     * earlier one.
     * Returns NODAL_OK, or NODAL_INVALID (and records nothing) if `call` is NULL or not in flight. */
    nodal_status (*set_error)(nodal_call *call, const char *code, const char *message,
                              const char *details_json, size_t details_len);

    /* Writes a log line attributed to the call's step, or to the plugin when `call` is NULL.
     * `level` is a NODAL_LOG_* value (other values log as errors).
     * Thread: any thread. With a `call`: while its invoke runs. With NULL: at any time after the
     * entry function returned.
     * Ownership: `message` is borrowed and copied before returning.
     * Returns NODAL_OK, or NODAL_INVALID (and logs nothing) if `message` is NULL or `call` is not
     * NULL and not in flight. Hosts of ABI 1.0 declared this function void: read the result only
     * when host->abi_minor >= 1. */
    nodal_status (*log)(nodal_call *call, int32_t level, const char *message);

    /* Tells whether the node should stop: the run was cancelled or the step's timeout passed.
     * Thread: any thread, while the call's invoke runs. Cost: an uncontended lock and an atomic
     * load or two, no allocation and no system call: cheap enough to poll between units of work.
     * Ownership: nothing changes hands.
     * Returns 1 if the node should stop and return NODAL_CANCELLED, 0 if not, and NODAL_INVALID
     * if `call` is NULL or not in flight (nonzero, so a node that tests for nonzero stops). */
    int32_t (*is_cancelled)(const nodal_call *call);

    /* Reports progress of a long call. `fraction` is in [0, 1] (values above 1 count as 1), or
     * negative, NaN or infinite when unknown. `message` may be NULL.
     * Thread: any thread, while the call's invoke runs.
     * Ownership: `message` is borrowed and copied before returning.
     * Returns NODAL_OK, or NODAL_INVALID (and reports nothing) if `call` is NULL or not in
     * flight. Hosts of ABI 1.0 declared this function void: read the result only when
     * host->abi_minor >= 1. */
    nodal_status (*report_progress)(nodal_call *call, double fraction, const char *message);

    /* Looks up an optional host extension by versioned id, such as "org.nodal.blobs.v1".
     * Thread: any thread, at any time after the entry function returned.
     * Ownership: `host` and `extension_id` are borrowed for the call. The returned struct is the
     * host's (the plugin never frees or writes it); it starts with struct_size, is defined by the
     * extension's own header, and stays valid for the life of the process.
     * Returns that pointer, or NULL when the host does not offer the extension (or `host` or
     * `extension_id` is NULL). A plugin must treat NULL as "not available", never as an error. */
    const void *(*get_extension)(const nodal_host *host, const char *extension_id);
};

/* ------------------------------------------------------------------------------------------ */
/* Plugin description                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct nodal_node nodal_node;

struct nodal_node {
    uint32_t struct_size;      /* sizeof(nodal_node) as the plugin compiled it: a multiple of 8
                                * (on 64-bit machines) and never less than ABI 1.0's size (up to
                                * and including `invoke`); the host refuses anything else */
    uint32_t reserved;         /* zero */
    const char *id;            /* reverse-DNS, unique in the process: "org.example.text.upper" */
    const char *name;          /* the last part of its route: "upper" is reached as "/text/upper" */
    const char *version;       /* SemVer of the node: "1.2.0" */
    const char *description;   /* one line for people; may be NULL */
    uint64_t flags;            /* NODAL_NODE_* bits */
    const char *input_schema;  /* JSON Schema of the input as JSON text; may be NULL */
    const char *output_schema; /* JSON Schema of the output as JSON text; may be NULL */
    const char *config_schema; /* JSON Schema of the node's configuration; may be NULL */
    void *node_data;           /* the plugin's own pointer, passed back untouched */

    /* Runs the node once.
     * Thread: a thread of the host's blocking-call pool, or the scheduler's thread when the node
     * is NODAL_NODE_NON_BLOCKING. Concurrently with itself only if NODAL_NODE_THREAD_SAFE.
     * Threads the node starts may use `call` until invoke returns; invoke must wait for them to
     * be done with it (see nodal_call).
     * Ownership: `node` and `host` are the plugin's and the host's (valid for the life of the
     * process); `input_json` is borrowed for the call (not NUL-terminated: use input_len); `call`
     * is valid until invoke returns. Answer with host->write_output or host->set_error; nothing
     * the node allocates is handed to the host.
     * Returns NODAL_OK (output written; no output means JSON null), NODAL_ERROR (error set; if
     * none was set the host reports a generic failure) or NODAL_CANCELLED (only after
     * is_cancelled returned nonzero; see NODAL_CANCELLED). Any other value fails the step. */
    nodal_status (*invoke)(const nodal_node *node, const nodal_host *host, nodal_call *call,
                           const char *input_json, size_t input_len);
};

typedef struct nodal_plugin nodal_plugin;

struct nodal_plugin {
    uint32_t struct_size;  /* sizeof(nodal_plugin) as the plugin compiled it: a multiple of 8
                            * (on 64-bit machines) and never less than ABI 1.0's size (up to and
                            * including `initialize`); the host refuses anything else */
    uint32_t abi_major;    /* must be NODAL_ABI_MAJOR of the header the plugin was built with */
    uint32_t abi_minor;    /* NODAL_ABI_MINOR of that header */
    uint32_t node_count;   /* number of entries in `nodes` */
    const char *id;        /* reverse-DNS: "org.example.text" */
    const char *name;      /* short route prefix: nodes are reached as "/<name>/<node name>" */
    const char *version;   /* SemVer of the plugin */
    const char *vendor;    /* may be NULL */
    const char *description; /* may be NULL */
    /* Plugins written in Swift set this to nodal_swift_toolchain() (below); the host refuses a
     * plugin built by another Swift toolchain, since Swift has no stable ABI on Linux.
     * C, C++ and other plugins leave it NULL. */
    const char *swift_toolchain;
    /* `node_count` pointers to node descriptions. Pointers, not an array of structs, so that
     * nodal_node may grow without changing the stride. Static: valid for the life of the process. */
    const nodal_node *const *nodes;

    /* Called after the host accepted the plugin, before any node runs: once per load, like the
     * entry function (see there).
     * Thread: the thread that loads plugins.
     * Ownership: `plugin` is the plugin's own descriptor; `host` is the host's and stays valid
     * for the life of the process (it may be kept).
     * May be NULL. Returns NODAL_OK, or anything else to refuse loading (the host then reports
     * the plugin as failed and never calls its nodes). */
    nodal_status (*initialize)(const nodal_plugin *plugin, const nodal_host *host);

    /* ---- ABI 1.1. A host reads these only when struct_size covers them. ---- */

    /* The plugin's license as an SPDX expression, such as "MIT" or "Apache-2.0 OR MIT"; may be
     * NULL. Static: valid for the life of the process. */
    const char *license;
    /* Where people learn more about the plugin (a URL); may be NULL. Static. */
    const char *homepage;
};

/* The one symbol a plugin exports.
 * Thread: the loading thread, before anything else of the plugin. Called each time a host engine
 * loads the plugin: once in most processes, once per engine in a process that runs several (the
 * library itself is loaded once and never unloaded). Return the same description every time.
 * `host_abi_major`/`host_abi_minor` are the host's NODAL_ABI_MAJOR/MINOR; a plugin that needs a
 * newer minor may return NULL.
 * Ownership: the returned description and everything it points to are the plugin's, in static
 * storage (or memory never freed), valid and unchanged for the life of the process. The host reads
 * each struct only up to its struct_size.
 * Returns that description, or NULL to refuse loading. */
typedef const nodal_plugin *(*nodal_plugin_entry_fn)(uint32_t host_abi_major, uint32_t host_abi_minor);

#if defined(_WIN32)
#define NODAL_EXPORT __declspec(dllexport)
#else
#define NODAL_EXPORT __attribute__((visibility("default")))
#endif

/* Declared here so that a plugin defining the entry with the wrong signature fails to compile. */
NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t host_abi_major, uint32_t host_abi_minor);

/* Identifies the Swift toolchain that compiled the including module. Only meaningful when the
 * header is imported into Swift (the Swift compiler's own clang evaluates it, so two modules agree
 * exactly when they were built by the same toolchain). */
static inline const char *nodal_swift_toolchain(void) {
#if defined(__clang_version__)
    return "clang " __clang_version__;
#else
    return "unknown";
#endif
}


/* ========================================================================================== */
/* Host extensions (ABI 1.2)                                                                  */
/*                                                                                            */
/* Optional services reached with host->get_extension(host, ID). Each is a struct of function */
/* pointers that starts with struct_size and grows only at the end, like every struct here:    */
/* read a function only when struct_size covers it, and treat a NULL result of get_extension  */
/* as "this host does not offer it" (older hosts, other hosts). A plugin that needs none of    */
/* them never looks them up.                                                                  */
/*                                                                                            */
/* Rules all three share:                                                                     */
/*   - Every function takes the `nodal_call` of the invoke it is called from, and works only   */
/*     while that call is in flight (from the invoke's thread or threads it started). With a  */
/*     NULL or finished call it does nothing and reports NODAL_INVALID (or an empty result).   */
/*   - Whatever the host hands back (documents, strings, buffers, JSON replies) is owned by the */
/*     host and stays valid until the invoke returns; then the host frees all of it at once.   */
/*     The plugin never frees it, and copies what it wants to keep past the call.              */
/*   - Nothing the plugin allocates is handed to the host; arguments are borrowed (copied      */
/*     before the function returns).                                                          */
/* ========================================================================================== */

/* ------------------------------------------------------------------------------------------ */
/* JSON: read the input and write the output without a JSON library                            */
/* ------------------------------------------------------------------------------------------ */

#define NODAL_EXT_JSON "org.nodal.json.v1"

/* A value in a read-only document of the call: a handle, not a pointer. 0 (NODAL_JSON_NONE) is
 * "no value": what a lookup that found nothing returns. Every reader accepts 0 and answers as for
 * a missing value, so lookups chain without checks in between. Handles of a finished call are
 * not valid in another call. */
typedef uint64_t nodal_json_value;
#define NODAL_JSON_NONE ((nodal_json_value)0)

/* A writer of the call (0 is no writer), building one JSON value. */
typedef uint64_t nodal_json_writer;

/* Value types, as nodal_json.type returns them. */
typedef int32_t nodal_json_type;
#define NODAL_JSON_MISSING 0 /* NODAL_JSON_NONE, or a handle that is not valid in this call */
#define NODAL_JSON_NULL 1
#define NODAL_JSON_BOOL 2
#define NODAL_JSON_NUMBER 3
#define NODAL_JSON_STRING 4
#define NODAL_JSON_ARRAY 5
#define NODAL_JSON_OBJECT 6

typedef struct nodal_json nodal_json;

struct nodal_json {
    uint32_t struct_size; /* sizeof(nodal_json) as the host compiled it */
    uint32_t reserved;    /* zero */

    /* The call's input, as a document (parsed once per call, on first use).
     * Thread: any thread, while the call is in flight.
     * Returns the root value, or NODAL_JSON_NONE if `call` is not in flight. */
    nodal_json_value (*input)(nodal_call *call);

    /* Parses other JSON text (a reply of the runs extension, a blob) into a document of the call.
     * Thread: any thread, while the call is in flight.
     * Ownership: `json` is borrowed (`len` bytes, need not be NUL-terminated). On failure, when
     * `error` is not NULL, *error is set to a message naming the line and column (owned by the
     * host, valid until the call ends).
     * Returns the root value, or NODAL_JSON_NONE if the text is not JSON, `json` is NULL, or
     * `call` is not in flight. */
    nodal_json_value (*parse)(nodal_call *call, const char *json, size_t len, const char **error);

    /* Looks a value up by path from `value`: object keys separated by dots and array indexes in
     * brackets ("items[2].name", "a.b"); a leading "$" or "$." is allowed; a key with dots or
     * brackets is written ["odd.key"]; "" is `value` itself.
     * Thread: any thread, while the call is in flight. Ownership: `path` is borrowed.
     * Returns the value found, or NODAL_JSON_NONE if nothing is there, the path is malformed,
     * `path` is NULL, or `value` is NODAL_JSON_NONE. */
    nodal_json_value (*get)(nodal_call *call, nodal_json_value value, const char *path);

    /* The type of `value` (NODAL_JSON_MISSING for NODAL_JSON_NONE or a handle not of this call). */
    nodal_json_type (*type)(nodal_call *call, nodal_json_value value);

    /* A string value's UTF-8 bytes, NUL-terminated; its length (which counts an embedded NUL the
     * JSON escaped as \u0000, but not the terminator) goes to *len when `len` is not NULL.
     * Ownership: the host's, valid until the call ends.
     * Returns NULL (and sets *len to 0) if `value` is not a string. */
    const char *(*string)(nodal_call *call, nodal_json_value value, size_t *len);

    /* A number value as a double, into *out.
     * Returns NODAL_OK, or NODAL_INVALID (leaving *out alone) if `value` is not a number or
     * `out` is NULL. */
    nodal_status (*number)(nodal_call *call, nodal_json_value value, double *out);

    /* A number value as an exact int64_t, into *out (2.0 counts; 2.5 and 1e300 do not).
     * Returns NODAL_OK, or NODAL_INVALID (leaving *out alone) if `value` is not a number that is
     * an integer within int64_t's range, or `out` is NULL. */
    nodal_status (*integer)(nodal_call *call, nodal_json_value value, int64_t *out);

    /* A boolean value, 1 or 0, into *out.
     * Returns NODAL_OK, or NODAL_INVALID (leaving *out alone) if `value` is not a boolean or
     * `out` is NULL. */
    nodal_status (*boolean)(nodal_call *call, nodal_json_value value, int32_t *out);

    /* How many elements an array has, or members an object has; 0 for anything else. */
    size_t (*count)(nodal_call *call, nodal_json_value value);

    /* Element `index` (from 0) of an array. Returns NODAL_JSON_NONE past the end or if `value`
     * is not an array. */
    nodal_json_value (*element)(nodal_call *call, nodal_json_value value, size_t index);

    /* Member `index` (from 0, in document order) of an object: its value, and its key into *key
     * (NUL-terminated, the host's until the call ends) and *key_len when those are not NULL.
     * Returns NODAL_JSON_NONE past the end or if `value` is not an object (then *key is NULL). */
    nodal_json_value (*member)(nodal_call *call, nodal_json_value value, size_t index,
                               const char **key, size_t *key_len);

    /* ---- Writing ---- */

    /* Starts a writer for one JSON value. Writers belong to the call and end with it.
     * Returns the writer, or 0 if `call` is not in flight. */
    nodal_json_writer (*writer)(nodal_call *call);

    /* The writer's calls build the value in order, as a streaming writer does: begin_object, then
     * for each member a key followed by a value (a scalar, or a nested begin ... end), then
     * end_object; begin_array, values, end_array. The host escapes strings and formats numbers.
     * Each returns NODAL_OK, or NODAL_INVALID when the step is out of place (a value where a key
     * is due, an end that matches no begin, a second top-level value), a key is one the object
     * has already (or its canonically equivalent Unicode: one key to Nodal), a string is not valid
     * UTF-8, a number is NaN or infinite, or a pointer is NULL; or when the text grew past the
     * host's output limit (the step then fails with OUTPUT_TOO_LARGE). A writer that refused a step stays
     * failed: every later call, and writer_json, report it, so checking the last status suffices.
     * Thread: any thread while the call is in flight, one thread at a time per writer.
     * Ownership: strings are borrowed (`len` bytes, need not be NUL-terminated). */
    nodal_status (*begin_object)(nodal_call *call, nodal_json_writer writer);
    nodal_status (*end_object)(nodal_call *call, nodal_json_writer writer);
    nodal_status (*begin_array)(nodal_call *call, nodal_json_writer writer);
    nodal_status (*end_array)(nodal_call *call, nodal_json_writer writer);
    nodal_status (*key)(nodal_call *call, nodal_json_writer writer, const char *key, size_t len);
    nodal_status (*write_string)(nodal_call *call, nodal_json_writer writer, const char *text, size_t len);
    nodal_status (*write_number)(nodal_call *call, nodal_json_writer writer, double number);
    nodal_status (*write_integer)(nodal_call *call, nodal_json_writer writer, int64_t number);
    nodal_status (*write_bool)(nodal_call *call, nodal_json_writer writer, int32_t value);
    nodal_status (*write_null)(nodal_call *call, nodal_json_writer writer);
    /* Copies a value of one of the call's documents (an input field passed through). */
    nodal_status (*write_value)(nodal_call *call, nodal_json_writer writer, nodal_json_value value);

    /* The finished JSON text, for host->write_output (or a runs or blobs function): `*len` bytes,
     * also NUL-terminated. Ownership: the host's, valid until the call ends or the writer is
     * written to again.
     * Returns NULL (and sets *len to 0) if the value is not complete (an object or array still
     * open, nothing written) or the writer failed. */
    const char *(*writer_json)(nodal_call *call, nodal_json_writer writer, size_t *len);
};

/* ------------------------------------------------------------------------------------------ */
/* Blobs: content-addressed values kept in the run's store                                    */
/* ------------------------------------------------------------------------------------------ */

#define NODAL_EXT_BLOBS "org.nodal.blobs.v1"

/* A blob id: 64 lowercase hexadecimal digits (SHA-256), the same ids /builtin/put_blob gives,
 * plus the terminating NUL. */
#define NODAL_BLOB_ID_SIZE 65

typedef struct nodal_blobs nodal_blobs;

struct nodal_blobs {
    uint32_t struct_size; /* sizeof(nodal_blobs) as the host compiled it */
    uint32_t reserved;    /* zero */

    /* Stores a JSON value and writes its id into `id_out` (NODAL_BLOB_ID_SIZE bytes). The id is
     * the one /builtin/put_blob gives the same value: SHA-256 of its compact JSON.
     * `blob_type` is "data" (or NULL) or "flow"; a "flow" blob must read as a flow, which
     * runs.submit can then run by its id.
     * Thread: any thread while the call is in flight; may block on the store (do not call it from
     * a NODAL_NODE_NON_BLOCKING node's invoke when the store is a file).
     * Ownership: `json` and `blob_type` are borrowed.
     * Returns NODAL_OK; NODAL_ERROR when the value was refused or could not be stored (the reason
     * is then in *error, when `error` is not NULL: the host's, valid until the call ends);
     * NODAL_INVALID if a pointer is NULL or `call` is not in flight. */
    nodal_status (*put_json)(nodal_call *call, const char *json, size_t len, const char *blob_type,
                             char id_out[NODAL_BLOB_ID_SIZE], const char **error);

    /* Stores bytes (any content) with a type of the plugin's choosing ("bytes" if NULL; a media
     * type such as "image/png" is a good one). The id is SHA-256 of the bytes.
     * Thread, ownership and returns as put_json. */
    nodal_status (*put_bytes)(nodal_call *call, const void *bytes, size_t len, const char *blob_type,
                              char id_out[NODAL_BLOB_ID_SIZE], const char **error);

    /* Reads a blob by id (64 hexadecimal digits, optionally after "sha256:"): its content into
     * *data and *len (compact JSON text for a JSON blob, NUL-terminated either way), and its type
     * into *blob_type when that is not NULL ("data", "flow", or the type given to put_bytes).
     * Ownership: all of it the host's, valid until the call ends.
     * Returns NODAL_OK; NODAL_ERROR if there is no such blob or the store failed (reason in
     * *error as for put_json); NODAL_INVALID if a pointer is NULL or `call` is not in flight. */
    nodal_status (*get)(nodal_call *call, const char *blob_id, const char **data, size_t *len,
                        const char **blob_type, const char **error);
};

/* ------------------------------------------------------------------------------------------ */
/* Runs: submit flows and watch them, from inside a node (Stepflow's runs/submit and runs/get)  */
/* ------------------------------------------------------------------------------------------ */

#define NODAL_EXT_RUNS "org.nodal.runs.v1"

typedef struct nodal_runs nodal_runs;

/* Requests and replies are JSON, field for field those of Stepflow's `runs/submit` and
 * `runs/get` methods, so a plugin can forward them unchanged.
 *
 * A reply (on NODAL_OK) is a run status:
 *   {"runId", "flowId", "flowName" (when the flow has a name), "status": "pending" | "running" |
 *    "success" | "failed" | "cancelled", "items": {"total", "pending", "running", "success",
 *    "failed", "cancelled"}, "createdAt", "completedAt" (ISO 8601 UTC; completedAt only once
 *    finished), "parentRunId", "rootRunId",
 *    "results": [{"itemIndex", "result": {"outcome": "success", "value"} |
 *                                        {"outcome": "failed", "error": {"code", "message"}} |
 *                                        {"outcome": "cancelled", "error": {"code", "message"}},
 *                 "completedAt"}]   (only when asked for, and only for finished items)}
 * On NODAL_ERROR the reply is {"code", "message"}: the request was refused (a missing field, an
 * unknown flow id, a run that is not found) and nothing was started.
 *
 * A run submitted here is a sub-run of the calling step's run: it records that run as its parent
 * and the parent's root as its root; cancelling the parent run cancels it (and its own
 * sub-runs); its steps are checkpointed in the parent's store like any run's. It outlives the
 * call when not waited for. */
struct nodal_runs {
    uint32_t struct_size; /* sizeof(nodal_runs) as the host compiled it */
    uint32_t reserved;    /* zero */

    /* Starts a run of a flow stored as a blob, one item per input.
     * Request: {"flowId": blob id (from blobs.put_json with type "flow", or /builtin/put_blob),
     *           "inputs": [item input, ...], "wait": bool (default false),
     *           "maxConcurrency": items at once (default: all), "overrides": {step id:
     *           {"timeoutSecs"?, "onError"?}}, "variables"?: {name: value}}
     * With "wait": true it returns once every item finished, with the results; otherwise at
     * once, with the run pending or running.
     * Thread: the invoke's thread (or one it started), while the call is in flight. Waiting
     * blocks that thread; the host makes up for it (another thread serves the blocking-call pool
     * meanwhile), so the sub-run's own nodes run even when every pool thread is waiting. A
     * NODAL_NODE_NON_BLOCKING node may submit but not wait: its "wait": true is refused.
     * The host bounds how many calls may wait at once (256 by default); past that a wait is
     * refused with the code TOO_MANY_WAITS (and a submit that would wait starts nothing).
     * The call's cancellation (run cancelled, step timeout) ends the wait early: the reply is
     * then the status as it stands and the sub-run is cancelled with the parent.
     * Ownership: `request` is borrowed; *reply and *reply_len are set to the host's JSON (also
     * NUL-terminated), valid until the call ends.
     * Returns NODAL_OK (reply: run status), NODAL_ERROR (reply: {code, message}), or NODAL_INVALID
     * if a pointer is NULL or `call` is not in flight (reply untouched). */
    nodal_status (*submit)(nodal_call *call, const char *request, size_t request_len,
                           const char **reply, size_t *reply_len);

    /* Reads a run's status.
     * Request: {"runId", "wait": bool (default false: the status now), "includeResults": bool
     *           (default false), "resultOrder": "byIndex" (default) | "byCompletion"}
     * Any run this engine started through the extension can be read, from any step (the engine
     * keeps every run in flight and the last 10,000 finished ones).
     * Thread, waiting, ownership and returns as submit. */
    nodal_status (*get)(nodal_call *call, const char *request, size_t request_len,
                        const char **reply, size_t *reply_len);

    /* Cancels a run (its items in flight end cancelled, the rest do not start).
     * Request: {"runId"}. Returns as get, with the status after the cancellation was asked. */
    nodal_status (*cancel)(nodal_call *call, const char *request, size_t request_len,
                           const char **reply, size_t *reply_len);
};

#ifdef __cplusplus
}
#endif

#endif /* NODAL_H */

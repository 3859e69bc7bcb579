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
 *        (NODAL_INVALID). */
#define NODAL_ABI_MINOR 1

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

#ifdef __cplusplus
}
#endif

#endif /* NODAL_H */

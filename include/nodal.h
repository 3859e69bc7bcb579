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
 *     grow at the end; a reader never touches a field past `struct_size`.
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
/* Minor versions add fields at the end of structs and new host services; they never remove. */
#define NODAL_ABI_MINOR 0

#define NODAL_ENTRY_SYMBOL "nodal_plugin_entry_v1"

/* ------------------------------------------------------------------------------------------ */
/* Status codes returned by node calls and host services                                      */
/* ------------------------------------------------------------------------------------------ */

typedef int32_t nodal_status;

#define NODAL_OK 0         /* success                                                         */
#define NODAL_ERROR 1      /* failure; details were (or should have been) set via set_error   */
#define NODAL_CANCELLED 2  /* the node noticed is_cancelled() and stopped early                */
#define NODAL_INVALID 3    /* a host service refused its arguments (NULL, bad UTF-8, too late) */

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

/* One in-flight node call. Opaque: owned by the host, valid only until the node's invoke returns.
 * A plugin must not keep it, nor use it from a thread the node started unless invoke is still
 * running and waits for that thread. */
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
     * Thread: any thread, while the call's invoke is running.
     * Ownership: `json` is borrowed; the host copies it before returning.
     * Calling it again replaces the previous output. The host checks the bytes are valid UTF-8
     * JSON when the call returns, and fails the step (saying so) if they are not.
     * Returns NODAL_OK, or NODAL_INVALID if `call` or `json` is NULL. */
    nodal_status (*write_output)(nodal_call *call, const char *json, size_t json_len);

    /* Records a structured error for the call. The node then returns NODAL_ERROR.
     * Thread: any thread, while the call's invoke is running.
     * Ownership: all strings are borrowed and copied before returning.
     * `code` is a short stable identifier such as "INVALID_INPUT" (NULL means "NODE_FAILED");
     * `message` is for people (NULL means no message); `details_json` is optional JSON (NULL or
     * length 0 for none). A later call replaces an earlier one.
     * Returns NODAL_OK, or NODAL_INVALID if `call` is NULL. */
    nodal_status (*set_error)(nodal_call *call, const char *code, const char *message,
                              const char *details_json, size_t details_len);

    /* Writes a log line attributed to the call's step (or to the plugin when `call` is NULL).
     * Thread: any thread, at any time after the entry function returned.
     * Ownership: `message` is borrowed and copied. Never fails. */
    void (*log)(nodal_call *call, int32_t level, const char *message);

    /* Tells whether the run was cancelled or the step's timeout has passed.
     * Thread: any thread, while the call's invoke is running. Cost: one atomic load.
     * Returns 1 if the node should stop and return NODAL_CANCELLED, else 0. */
    int32_t (*is_cancelled)(const nodal_call *call);

    /* Reports progress of a long call. `fraction` is in [0, 1], or negative when unknown.
     * `message` may be NULL. Thread: any thread, while invoke runs. Ownership: borrowed, copied. */
    void (*report_progress)(nodal_call *call, double fraction, const char *message);

    /* Looks up an optional host extension by versioned id, such as "org.nodal.blobs.v1".
     * Thread: any thread. Returns a pointer to a struct the extension's own header defines
     * (starting with struct_size), valid for the life of the process, or NULL when the host does
     * not offer it. A plugin must treat NULL as "not available", never as an error. */
    const void *(*get_extension)(const nodal_host *host, const char *extension_id);
};

/* ------------------------------------------------------------------------------------------ */
/* Plugin description                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct nodal_node nodal_node;

struct nodal_node {
    uint32_t struct_size;      /* sizeof(nodal_node) as the plugin compiled it */
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
     * Ownership: `input_json` is borrowed for the call (not NUL-terminated: use input_len).
     * `call` is valid until invoke returns. Answer with host->write_output or host->set_error.
     * Returns NODAL_OK (output written; no output means JSON null), NODAL_ERROR (error set; if
     * none was set the host reports a generic failure) or NODAL_CANCELLED. */
    nodal_status (*invoke)(const nodal_node *node, const nodal_host *host, nodal_call *call,
                           const char *input_json, size_t input_len);
};

typedef struct nodal_plugin nodal_plugin;

struct nodal_plugin {
    uint32_t struct_size;  /* sizeof(nodal_plugin) as the plugin compiled it */
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

    /* Called once after the host accepted the plugin, before any node runs.
     * Thread: the thread that loads plugins. `host` stays valid for the life of the process and
     * may be kept. May be NULL. Returns NODAL_OK, or anything else to refuse loading (the host
     * then reports the plugin as failed and never calls its nodes). */
    nodal_status (*initialize)(const nodal_plugin *plugin, const nodal_host *host);
};

/* The one symbol a plugin exports.
 * Thread: called once, on the loading thread, before anything else.
 * `host_abi_major`/`host_abi_minor` are the host's NODAL_ABI_MAJOR/MINOR; a plugin that needs a
 * newer minor may return NULL. Returns a description valid for the life of the process (static
 * storage), or NULL to refuse loading. */
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

/*
 * nodal_process.h: what process isolation needs of the system that Swift cannot call directly.
 *
 * Why C: prctl is variadic, the wait-status macros (WIFEXITED, ...) are macros, memfd_create and
 * the spawn attributes want flags Swift's Glibc module does not always show, and the cancel flags
 * live in memory shared with another process, where Swift's Atomic cannot be placed. Like
 * nodal_dl.h, this header includes only <stdint.h>, so it never clashes with other C modules.
 * Every function sets nothing global besides errno.
 */
#ifndef NODAL_PROCESS_H
#define NODAL_PROCESS_H

#include <stdint.h>

/* Starts `path` with `argv` (NULL-terminated; argv[0] included) in a process group of its own
 * (so a terminal's Ctrl-C reaches the engine, which decides, and not its children), with every
 * signal at its default action and none blocked, and with `fd_for_3` and `fd_for_4` as its file
 * descriptors 3 and 4 (either may be -1: not passed). Descriptors without O_CLOEXEC leak into it as
 * into any exec, so open the rest with it. Thread: any; `argv` is read during the call only.
 * Returns 0 and the child's pid in *pid, or an errno value. */
int nodal_spawn(const char *path, char *const argv[], int fd_for_3, int fd_for_4, int32_t *pid);

/* In the child: asks the kernel to send SIGKILL when the thread that spawned this process ends
 * (on Linux; the engine spawns from one thread that lives as long as it does). Then checks that
 * the parent is still `expected_parent`: if it died before the request, returns 1 (exit then).
 * Returns 0 when armed, 1 when the parent is gone, -1 when this platform has no such signal. */
int nodal_die_with_parent(int32_t expected_parent);

/* A file descriptor of `size` bytes of zeroed memory that can be mapped by another process it is
 * passed to (memfd_create with MFD_CLOEXEC on Linux). Returns the fd or -1 (errno set). */
int nodal_shared_memory(const char *name, int64_t size);

/* Maps `size` bytes of the shared memory `fd`, read-write, shared. NULL on failure (errno set). */
void *nodal_map_shared(int fd, int64_t size);

/* An atomic (sequentially consistent) load and store of a word in shared memory. */
uint32_t nodal_atomic_load_u32(const uint32_t *word);
void nodal_atomic_store_u32(uint32_t *word, uint32_t value);

/* Decodes a waitpid status: returns 1 and the exit status in *value for a normal exit, 2 and the
 * signal in *value for a death by a signal, 0 otherwise (stopped, continued). */
int nodal_wait_status(int status, int *value);

/* Sets the soft and hard limit of RLIMIT_AS (address space) to `bytes`. 0 or errno. */
int nodal_limit_address_space(int64_t bytes);

/* Sets the soft RLIMIT_CPU so that the process gets SIGXCPU (and dies of it, unless it handles the
 * signal) after `seconds` more seconds of CPU time than it has used so far. The hard limit is left
 * as it is (up to it, the soft limit may be raised again for the next call). 0 or errno. */
int nodal_limit_cpu_from_now(int64_t seconds);

/* The signal's name ("SIGSEGV"), or NULL for a number this platform does not name. */
const char *nodal_signal_name(int signal);

#endif /* NODAL_PROCESS_H */

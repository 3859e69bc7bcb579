/*
 * process.c: spawning plugin hosts, parent-death signals, shared cancel flags, wait statuses and
 * resource limits (nodal_process.h). In C because of variadic prctl, wait macros and GNU
 * extensions; the header stays free of system headers.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include "nodal_process.h"
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

extern char **environ;

int nodal_spawn(const char *path, char *const argv[], int fd_for_3, int fd_for_4, int32_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return result;
    }
    /* dup2 onto 3 and 4 clears O_CLOEXEC on the copies. A descriptor already at 3 or 4 is first
     * moved up, so the second dup2 cannot overwrite the first's source. */
    if (fd_for_3 >= 0 && result == 0) result = posix_spawn_file_actions_adddup2(&actions, fd_for_3, 3);
    if (fd_for_4 >= 0 && result == 0) result = posix_spawn_file_actions_adddup2(&actions, fd_for_4, 4);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* Nothing else of the engine's process reaches the child: a pipe another thread opened without
     * O_CLOEXEC (Foundation's Process does) would otherwise stay open in the child, and whoever
     * reads its other end would never see end of file. */
    if (result == 0) result = posix_spawn_file_actions_addclosefrom_np(&actions, 5);
#endif
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (result == 0) result = posix_spawnattr_setsigdefault(&attributes, &all);
    if (result == 0) result = posix_spawnattr_setsigmask(&attributes, &none);
    if (result == 0) result = posix_spawnattr_setpgroup(&attributes, 0);
    if (result == 0) result = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    /* A crash in a child is reported by the engine (PLUGIN_CRASHED): the Swift runtime's own crash
     * report would take seconds to print and only repeat it, so it is off unless the user set
     * SWIFT_BACKTRACE. The environment is otherwise the engine's. */
    size_t count = 0;
    int has_backtrace_setting = 0;
    for (char **entry = environ; *entry != NULL; entry++) {
        if (strncmp(*entry, "SWIFT_BACKTRACE=", 16) == 0) has_backtrace_setting = 1;
        count++;
    }
    char *quiet = "SWIFT_BACKTRACE=enable=no";
    char **environment = environ;
    char *stack_environment[257];
    if (!has_backtrace_setting && count < 256) {
        for (size_t index = 0; index < count; index++) stack_environment[index] = environ[index];
        stack_environment[count] = quiet;
        stack_environment[count + 1] = NULL;
        environment = stack_environment;
    }
    pid_t child = 0;
    if (result == 0) result = posix_spawn(&child, path, &actions, &attributes, argv, environment);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (result == 0) *pid = (int32_t)child;
    return result;
}

int nodal_die_with_parent(int32_t expected_parent) {
#if defined(__linux__)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    return getppid() == (pid_t)expected_parent ? 0 : 1;
#else
    (void)expected_parent;
    return -1;
#endif
}

int nodal_shared_memory(const char *name, int64_t size) {
#if defined(__linux__)
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)size) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
#else
    (void)name;
    (void)size;
    errno = ENOSYS;
    return -1;
#endif
}

void *nodal_map_shared(int fd, int64_t size) {
    void *memory = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return memory == MAP_FAILED ? NULL : memory;
}

uint32_t nodal_atomic_load_u32(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }

void nodal_atomic_store_u32(uint32_t *word, uint32_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }

int nodal_wait_status(int status, int *value) {
    if (WIFEXITED(status)) {
        *value = WEXITSTATUS(status);
        return 1;
    }
    if (WIFSIGNALED(status)) {
        *value = WTERMSIG(status);
        return 2;
    }
    return 0;
}

int nodal_limit_address_space(int64_t bytes) {
    struct rlimit limit = {(rlim_t)bytes, (rlim_t)bytes};
    return setrlimit(RLIMIT_AS, &limit) == 0 ? 0 : errno;
}

int nodal_limit_cpu_from_now(int64_t seconds) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return errno;
    /* Whole seconds used so far, rounded up, so the call gets at least `seconds`. Only the soft
     * limit moves: raising a hard limit once lowered needs CAP_SYS_RESOURCE, so a hard limit set
     * for one call would stay for every later one. */
    struct rlimit limit;
    if (getrlimit(RLIMIT_CPU, &limit) != 0) return errno;
    rlim_t used = (rlim_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1);
    rlim_t soft = used + (rlim_t)seconds;
    if (limit.rlim_max != RLIM_INFINITY && soft > limit.rlim_max) soft = limit.rlim_max;
    limit.rlim_cur = soft;
    return setrlimit(RLIMIT_CPU, &limit) == 0 ? 0 : errno;
}

const char *nodal_signal_name(int signal) {
    switch (signal) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSYS: return "SIGSYS";
    default: return NULL;
    }
}

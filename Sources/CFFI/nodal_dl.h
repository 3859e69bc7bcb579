/*
 * nodal_dl.h: which loaded object defines a symbol.
 *
 * Why: dlsym(handle, name) also searches the libraries `handle` depends on, so allowing all of
 * libm.so.6 would let a flow reach libc's `system` through libm's handle. The allowlist names a
 * library, so Nodal checks that the symbol found is defined in that very library.
 * dlinfo and dladdr1 are GNU extensions that Swift's Glibc module does not show, hence C here.
 */
#ifndef NODAL_DL_H
#define NODAL_DL_H

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <stddef.h>

/* Returns 1 if `address` lies in the object `handle` was opened for, 0 if it lies in another
 * object (then *defined_in, when not NULL, gets that object's file name, owned by the loader),
 * and -1 when this platform cannot tell. Thread: any. */
static inline int nodal_dl_address_in(void *handle, const void *address, const char **defined_in) {
#if defined(__linux__)
    void *map = NULL;
    void *found_map = NULL;
    Dl_info info;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) {
        return -1;
    }
    if (dladdr1(address, &info, &found_map, RTLD_DL_LINKMAP) == 0) {
        return -1;
    }
    if (found_map == map) {
        return 1;
    }
    if (defined_in != NULL) {
        *defined_in = info.dli_fname;
    }
    return 0;
#else
    (void)handle;
    (void)address;
    (void)defined_in;
    return -1;
#endif
}

#endif /* NODAL_DL_H */

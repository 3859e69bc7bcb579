/*
 * nodal_dl.h: which loaded object defines a symbol, and whether it is code.
 *
 * Why: dlsym(handle, name) also searches the libraries `handle` depends on, so allowing all of
 * libm.so.6 would let a flow reach libc's `system` through libm's handle. The allowlist names a
 * library, so Nodal checks that the symbol found is defined in that very library. dlinfo and
 * dladdr1 are GNU extensions that Swift's Glibc module does not show, hence C (in shim.c: this
 * header includes nothing but <stddef.h>, so it never clashes with other C modules).
 */
#ifndef NODAL_DL_H
#define NODAL_DL_H

#include <stddef.h>

/* Returns 1 if `address` lies in the object `handle` was opened for, 0 if it lies in another
 * object (then *defined_in, when not NULL, gets that object's file name, owned by the loader),
 * and -1 when this platform cannot tell. Thread: any. */
int nodal_dl_address_in(void *handle, const void *address, const char **defined_in);

/* Whether `address` (from dlsym) is code that may be called: 1 yes, 0 no (a data symbol such as
 * libm's `signgam`), -1 when this platform cannot tell. Thread: any. */
int nodal_dl_is_code(const void *address);

#endif /* NODAL_DL_H */

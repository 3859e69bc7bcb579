/*
 * nodal_ffi.h: the few libffi entry points Nodal needs, as Swift 6 can use them.
 *
 * Why a shim: libffi's type descriptors are mutable C globals (`ffi_type_double`, ...), and Swift 6
 * strict concurrency refuses `&ffi_type_double`. `FFI_FN` and `FFI_DEFAULT_ABI` are macros. These
 * static inline functions hand them over without Swift touching a global. A system-library target
 * cannot hold .c files, hence `static inline` in a header.
 */
#ifndef NODAL_FFI_H
#define NODAL_FFI_H

#include <ffi.h>
#include <stddef.h>

static inline ffi_type *nodal_ffi_type_void(void) { return &ffi_type_void; }
static inline ffi_type *nodal_ffi_type_uint8(void) { return &ffi_type_uint8; }
static inline ffi_type *nodal_ffi_type_sint8(void) { return &ffi_type_sint8; }
static inline ffi_type *nodal_ffi_type_uint16(void) { return &ffi_type_uint16; }
static inline ffi_type *nodal_ffi_type_sint16(void) { return &ffi_type_sint16; }
static inline ffi_type *nodal_ffi_type_uint32(void) { return &ffi_type_uint32; }
static inline ffi_type *nodal_ffi_type_sint32(void) { return &ffi_type_sint32; }
static inline ffi_type *nodal_ffi_type_uint64(void) { return &ffi_type_uint64; }
static inline ffi_type *nodal_ffi_type_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *nodal_ffi_type_float(void) { return &ffi_type_float; }
static inline ffi_type *nodal_ffi_type_double(void) { return &ffi_type_double; }
static inline ffi_type *nodal_ffi_type_pointer(void) { return &ffi_type_pointer; }

/* Prepares `cif` for a call with the platform's default ABI. `arg_types` must outlive `cif`.
 * Returns FFI_OK, or FFI_BAD_TYPEDEF / FFI_BAD_ABI. */
static inline ffi_status nodal_ffi_prep_cif(ffi_cif *cif, unsigned int nargs, ffi_type *rtype,
                                            ffi_type **arg_types) {
    return ffi_prep_cif(cif, FFI_DEFAULT_ABI, nargs, rtype, arg_types);
}

/* Calls `fn` as `cif` describes. `rvalue` must hold at least sizeof(ffi_arg) bytes (libffi widens
 * narrow integer results to ffi_arg); `avalue` points at one value per argument. */
static inline void nodal_ffi_call(ffi_cif *cif, void *fn, void *rvalue, void **avalue) {
    ffi_call(cif, FFI_FN(fn), rvalue, avalue);
}

#endif /* NODAL_FFI_H */

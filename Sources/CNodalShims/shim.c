/*
 * shim.c: which loaded object defines a symbol, and whether it is code (nodal_dl.h).
 *
 * Here, not in a header, because these need <link.h> and <elf.h> under _GNU_SOURCE: a header
 * that includes them clashes, as a Clang module, with other C modules' copies of the same system
 * types (fd_set) when one Swift module imports both.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif
#include "nodal_dl.h"
#include <dlfcn.h>
#if defined(__linux__)
#include <elf.h>
#include <link.h>
#endif

/* Returns 1 if `address` lies in the object `handle` was opened for, 0 if it lies in another
 * object (then *defined_in, when not NULL, gets that object's file name, owned by the loader),
 * and -1 when this platform cannot tell. Thread: any. */
int nodal_dl_address_in(void *handle, const void *address, const char **defined_in) {
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

#if defined(__linux__)
/* For nodal_dl_is_code: the address to look for and, once found, whether its segment is executable. */
struct nodal_dl_segment_query {
    uintptr_t address;
    int executable; /* -1 not found yet, 0 no, 1 yes */
};

static int nodal_dl_segment_callback(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct nodal_dl_segment_query *query = (struct nodal_dl_segment_query *)data;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD) {
            continue;
        }
        uintptr_t start = (uintptr_t)info->dlpi_addr + (uintptr_t)header->p_vaddr;
        if (query->address >= start && query->address - start < (uintptr_t)header->p_memsz) {
            query->executable = (header->p_flags & PF_X) != 0;
            return 1;
        }
    }
    return 0;
}
#endif

/* Whether `address` (from dlsym) is code that may be called: 1 yes, 0 no (a data symbol such as
 * libm's `signgam`), -1 when this platform cannot tell. Why: calling a data symbol through FFI
 * jumps into data.
 *
 * On Linux: when dladdr1 finds the very symbol at `address`, its ELF type decides (STT_FUNC or
 * STT_GNU_IFUNC are code; STT_OBJECT, STT_TLS, STT_COMMON are not). An IFUNC's dlsym address is
 * the implementation the resolver chose, which usually has no dynamic symbol of its own; then, as
 * for STT_NOTYPE, the address must lie in an executable segment of its object. Thread: any. */
int nodal_dl_is_code(const void *address) {
#if defined(__linux__)
    Dl_info info;
    const ElfW(Sym) *symbol = NULL;
    if (dladdr1(address, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0) {
        return 0; /* not inside any loaded object */
    }
    if (symbol != NULL && info.dli_saddr == address) {
        switch (ELF64_ST_TYPE(symbol->st_info)) /* the same macro body as ELF32_ST_TYPE */ {
        case STT_FUNC:
        case STT_GNU_IFUNC:
            break; /* code, if its segment agrees (checked below) */
        case STT_NOTYPE:
            break;
        default:
            return 0;
        }
    }
    struct nodal_dl_segment_query query = {(uintptr_t)address, -1};
    dl_iterate_phdr(nodal_dl_segment_callback, &query);
    return query.executable == 1 ? 1 : 0;
#else
    (void)address;
    return -1;
#endif
}


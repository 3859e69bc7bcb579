// SwiftPM needs a source file in every C target; this one holds no code, only compile-time
// checks on the header the module map exposes (the same checks as the root package's shim).
#include "../../../../include/nodal.h"

_Static_assert(sizeof(nodal_status) == 4, "nodal_status is a 32-bit int");
_Static_assert(offsetof(nodal_host, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_node, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_plugin, struct_size) == 0, "struct_size comes first");

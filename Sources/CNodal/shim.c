// The C side of the ABI module. It holds no code, only compile-time checks that the layout the
// Swift host relies on is the layout C plugins are built with.
#include "../../include/nodal.h"

_Static_assert(sizeof(nodal_status) == 4, "nodal_status is a 32-bit int");
_Static_assert(offsetof(nodal_host, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_node, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_plugin, struct_size) == 0, "struct_size comes first");

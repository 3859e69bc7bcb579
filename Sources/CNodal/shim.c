// The C side of the ABI module. It holds no code, only compile-time checks that the layout the
// Swift host relies on is the layout C plugins are built with.
#include "../../include/nodal.h"

_Static_assert(sizeof(nodal_status) == 4, "nodal_status is a 32-bit int");
_Static_assert(offsetof(nodal_host, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_node, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_plugin, struct_size) == 0, "struct_size comes first");
_Static_assert(offsetof(nodal_json, struct_size) == 0, "struct_size comes first");
_Static_assert(sizeof(nodal_json_value) == 8 && sizeof(nodal_json_writer) == 8, "handles are 64-bit");

// The layout of ABI 1.0 is frozen: later minors only add fields after these, so a plugin built
// against any 1.x header is read correctly. Checked on 64-bit machines, where the offsets below
// hold (LP64 and LLP64 alike: every field is a 4-byte integer, a uint64_t or a pointer).
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
#define NODAL_FIELD_AT(type, field, offset) \
    _Static_assert(offsetof(type, field) == (offset), #type "." #field " moved: the ABI 1.0 layout is frozen")

NODAL_FIELD_AT(nodal_host, abi_major, 4);
NODAL_FIELD_AT(nodal_host, abi_minor, 8);
NODAL_FIELD_AT(nodal_host, host_name, 16);
NODAL_FIELD_AT(nodal_host, host_version, 24);
NODAL_FIELD_AT(nodal_host, write_output, 32);
NODAL_FIELD_AT(nodal_host, set_error, 40);
NODAL_FIELD_AT(nodal_host, log, 48);
NODAL_FIELD_AT(nodal_host, is_cancelled, 56);
NODAL_FIELD_AT(nodal_host, report_progress, 64);
NODAL_FIELD_AT(nodal_host, get_extension, 72);

NODAL_FIELD_AT(nodal_node, id, 8);
NODAL_FIELD_AT(nodal_node, name, 16);
NODAL_FIELD_AT(nodal_node, version, 24);
NODAL_FIELD_AT(nodal_node, description, 32);
NODAL_FIELD_AT(nodal_node, flags, 40);
NODAL_FIELD_AT(nodal_node, input_schema, 48);
NODAL_FIELD_AT(nodal_node, output_schema, 56);
NODAL_FIELD_AT(nodal_node, config_schema, 64);
NODAL_FIELD_AT(nodal_node, node_data, 72);
NODAL_FIELD_AT(nodal_node, invoke, 80);

NODAL_FIELD_AT(nodal_plugin, abi_major, 4);
NODAL_FIELD_AT(nodal_plugin, abi_minor, 8);
NODAL_FIELD_AT(nodal_plugin, node_count, 12);
NODAL_FIELD_AT(nodal_plugin, id, 16);
NODAL_FIELD_AT(nodal_plugin, name, 24);
NODAL_FIELD_AT(nodal_plugin, version, 32);
NODAL_FIELD_AT(nodal_plugin, vendor, 40);
NODAL_FIELD_AT(nodal_plugin, description, 48);
NODAL_FIELD_AT(nodal_plugin, swift_toolchain, 56);
NODAL_FIELD_AT(nodal_plugin, nodes, 64);
NODAL_FIELD_AT(nodal_plugin, initialize, 72);
// ABI 1.1
NODAL_FIELD_AT(nodal_plugin, license, 80);
NODAL_FIELD_AT(nodal_plugin, homepage, 88);
// ABI 1.2: the JSON extension (org.nodal.json.v1). Frozen like the rest once shipped: later
// versions of the extension only add functions after writer_json.
NODAL_FIELD_AT(nodal_json, reserved, 4);
NODAL_FIELD_AT(nodal_json, input, 8);
NODAL_FIELD_AT(nodal_json, parse, 16);
NODAL_FIELD_AT(nodal_json, get, 24);
NODAL_FIELD_AT(nodal_json, type, 32);
NODAL_FIELD_AT(nodal_json, string, 40);
NODAL_FIELD_AT(nodal_json, number, 48);
NODAL_FIELD_AT(nodal_json, integer, 56);
NODAL_FIELD_AT(nodal_json, boolean, 64);
NODAL_FIELD_AT(nodal_json, count, 72);
NODAL_FIELD_AT(nodal_json, element, 80);
NODAL_FIELD_AT(nodal_json, member, 88);
NODAL_FIELD_AT(nodal_json, writer, 96);
NODAL_FIELD_AT(nodal_json, begin_object, 104);
NODAL_FIELD_AT(nodal_json, end_object, 112);
NODAL_FIELD_AT(nodal_json, begin_array, 120);
NODAL_FIELD_AT(nodal_json, end_array, 128);
NODAL_FIELD_AT(nodal_json, key, 136);
NODAL_FIELD_AT(nodal_json, write_string, 144);
NODAL_FIELD_AT(nodal_json, write_number, 152);
NODAL_FIELD_AT(nodal_json, write_integer, 160);
NODAL_FIELD_AT(nodal_json, write_bool, 168);
NODAL_FIELD_AT(nodal_json, write_null, 176);
NODAL_FIELD_AT(nodal_json, write_value, 184);
NODAL_FIELD_AT(nodal_json, writer_json, 192);
_Static_assert(sizeof(nodal_json) == 200, "nodal_json grew: add its new fields here");

// ABI 1.2: the blobs and runs extensions (their layout is frozen from here on, like the rest).
_Static_assert(offsetof(nodal_blobs, struct_size) == 0, "struct_size comes first");
NODAL_FIELD_AT(nodal_blobs, reserved, 4);
NODAL_FIELD_AT(nodal_blobs, put_json, 8);
NODAL_FIELD_AT(nodal_blobs, put_bytes, 16);
NODAL_FIELD_AT(nodal_blobs, get, 24);
_Static_assert(sizeof(nodal_blobs) == 32, "nodal_blobs grew: new functions go at the end, with a minor version");
_Static_assert(NODAL_BLOB_ID_SIZE == 65, "a blob id is 64 hex digits and a NUL");

_Static_assert(offsetof(nodal_runs, struct_size) == 0, "struct_size comes first");
NODAL_FIELD_AT(nodal_runs, reserved, 4);
NODAL_FIELD_AT(nodal_runs, submit, 8);
NODAL_FIELD_AT(nodal_runs, get, 16);
NODAL_FIELD_AT(nodal_runs, cancel, 24);
_Static_assert(sizeof(nodal_runs) == 32, "nodal_runs grew: new functions go at the end, with a minor version");
#endif

// Reading the host's service table (`nodal_host`) without ever reading past its end.

import CNodal

/// The host's `nodal_host`, read field by field within its `struct_size`: a host built against an
/// older, shorter header is never read past what it wrote, and a service it lacks reads as nil.
///
/// The table is the host's, valid for the life of the process (include/nodal.h), so keeping the
/// pointer and using it from any thread is safe: that is what makes the conformance true.
struct HostTable: @unchecked Sendable {
    let pointer: UnsafePointer<nodal_host>

    /// The value of `field`, or nil when the host's struct does not reach it.
    func field<Value>(_ field: KeyPath<nodal_host, Value>) -> Value? {
        guard let offset = MemoryLayout<nodal_host>.offset(of: field) else { return nil }
        let size = UnsafeRawPointer(pointer).load(as: UInt32.self)  // struct_size comes first
        guard Int(size) >= offset + MemoryLayout<Value>.size else { return nil }
        return UnsafeRawPointer(pointer).load(fromByteOffset: offset, as: Value.self)
    }

    var abiMajor: UInt32 { field(\.abi_major) ?? 0 }
    var abiMinor: UInt32 { field(\.abi_minor) ?? 0 }
    var name: String { field(\.host_name).flatMap { $0 }.map { String(cString: $0) } ?? "unknown host" }
    var version: String { field(\.host_version).flatMap { $0 }.map { String(cString: $0) } ?? "0.0.0" }

    /// The extension table for `id`, or nil when the host does not offer it (or has no
    /// get_extension at all: a host of ABI 1.0 may leave it NULL).
    func extensionTable(_ id: String) -> UnsafeRawPointer? {
        guard let lookup = field(\.get_extension).flatMap({ $0 }) else { return nil }
        return id.withCString { lookup(pointer, $0) }
    }
}

/// Reads an extension's struct (`nodal_runs`, `nodal_blobs`) within its `struct_size`, as
/// `HostTable` reads `nodal_host`: a function the host's version of the struct lacks reads as nil.
struct ExtensionTable<Table>: @unchecked Sendable {
    let pointer: UnsafeRawPointer

    func field<Value>(_ field: KeyPath<Table, Value>) -> Value? {
        guard let offset = MemoryLayout<Table>.offset(of: field) else { return nil }
        let size = pointer.load(as: UInt32.self)  // every extension struct starts with struct_size
        guard Int(size) >= offset + MemoryLayout<Value>.size else { return nil }
        return pointer.load(fromByteOffset: offset, as: Value.self)
    }
}

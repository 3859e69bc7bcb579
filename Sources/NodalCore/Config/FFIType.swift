import NodalJSON
/// One type of an FFI signature, as written in `signature:` (`"(double, double) -> double"`).
///
/// Scalars map to one C argument. `bytes` and `array<T>` take one JSON value but pass two C
/// arguments, a pointer and then a count, whose integer type defaults to `size_t` and can be
/// given: `bytes<uint32>`, `array<double, uint32>`.
package indirect enum FFIType: Sendable, Hashable {
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float, double, bool
    /// `const char *`: a NUL-terminated UTF-8 copy of a JSON string.
    case string
    /// `(const uint8_t *, length)`: from a UTF-8 string, `{"base64": "..."}` or an array of bytes.
    case bytes(length: FFIType)
    /// `(const T *, count)`: from a JSON array of numbers (or booleans for `array<bool>`).
    case array(element: FFIType, count: FFIType)
    /// Return type only.
    case void

    /// The integer type `size_t` is on this platform, the default length of `bytes` and `array`.
    package static let sizeT: FFIType = MemoryLayout<Int>.size == 8 ? .uint64 : .uint32

    /// Canonical names, as signatures are normalized to.
    package static let scalarNames: [String: FFIType] = [
        "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64,
        "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
        "float": .float, "double": .double, "bool": .bool, "string": .string, "void": .void,
    ]

    /// C spellings accepted for convenience; they normalize to the canonical names.
    package static let aliases: [String: FFIType] = [
        "int": .int32, "uint": .uint32, "size_t": sizeT, "ssize_t": sizeT == .uint64 ? .int64 : .int32,
        "long": MemoryLayout<CLong>.size == 8 ? .int64 : .int32,
        "ulong": MemoryLayout<CLong>.size == 8 ? .uint64 : .uint32,
    ]

    package var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: true
        default: false
        }
    }

    package var isNumber: Bool { isInteger || self == .float || self == .double }

    /// Number of C arguments one parameter of this type becomes.
    package var cArgumentCount: Int {
        switch self {
        case .bytes, .array: 2
        case .void: 0
        default: 1
        }
    }

    /// Bytes one value takes in memory (for string, bytes and array: the pointer).
    package var size: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float: 4
        case .int64, .uint64, .double: 8
        case .string, .bytes, .array: MemoryLayout<UnsafeRawPointer>.size
        case .void: 0
        }
    }

    /// The inclusive range of an integer type, as 128-bit-safe bounds.
    package var integerRange: (min: Int64, max: UInt64)? {
        switch self {
        case .int8: (Int64(Int8.min), UInt64(Int8.max))
        case .int16: (Int64(Int16.min), UInt64(Int16.max))
        case .int32: (Int64(Int32.min), UInt64(Int32.max))
        case .int64: (Int64.min, UInt64(Int64.max))
        case .uint8: (0, UInt64(UInt8.max))
        case .uint16: (0, UInt64(UInt16.max))
        case .uint32: (0, UInt64(UInt32.max))
        case .uint64: (0, UInt64.max)
        default: nil
        }
    }

    package var isSigned: Bool {
        switch self {
        case .int8, .int16, .int32, .int64: true
        default: false
        }
    }
}

extension FFIType: CustomStringConvertible {
    /// The canonical spelling; a default (`size_t`) length is left out.
    package var description: String {
        switch self {
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float: "float"
        case .double: "double"
        case .bool: "bool"
        case .string: "string"
        case .void: "void"
        case .bytes(let length): length == FFIType.sizeT ? "bytes" : "bytes<\(length)>"
        case .array(let element, let count):
            count == FFIType.sizeT ? "array<\(element)>" : "array<\(element), \(count)>"
        }
    }
}

import NodalCore
import NodalJSON
import CFFI
import Synchronization

/// A signature prepared for libffi: its `ffi_cif` and argument type table.
///
/// `ffi_prep_cif` costs about 120 ns against 25-30 ns for the call itself, so each distinct
/// signature is prepared once and kept for the life of the process.
/// `@unchecked Sendable`: the cif and its type table are written once in `init` and only read
/// afterwards; libffi reads a prepared cif from any number of threads at once.
final class PreparedSignature: @unchecked Sendable {
    let signature: FFISignature
    let cif: UnsafeMutablePointer<ffi_cif>
    /// One entry per C argument (a `bytes` or `array` parameter has two: pointer, count).
    private let argumentTypes: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    let cArgumentCount: Int

    private init(_ signature: FFISignature) throws(FFIError) {
        self.signature = signature
        var types: [UnsafeMutablePointer<ffi_type>?] = []
        for parameter in signature.parameters {
            switch parameter {
            case .bytes(let length):
                types += [nodal_ffi_type_pointer(), Self.ffiType(length)]
            case .array(_, let count):
                types += [nodal_ffi_type_pointer(), Self.ffiType(count)]
            default:
                types.append(Self.ffiType(parameter))
            }
        }
        cArgumentCount = types.count
        argumentTypes = .allocate(capacity: max(types.count, 1))
        argumentTypes.initialize(from: types, count: types.count)
        cif = .allocate(capacity: 1)
        let status = nodal_ffi_prep_cif(cif, UInt32(types.count), Self.ffiType(signature.result), argumentTypes)
        guard status == FFI_OK else {
            throw FFIError(.badSignature, field: "signature", "libffi cannot prepare '\(signature)' (ffi_prep_cif status \(status.rawValue))")
        }
    }

    deinit {
        cif.deallocate()
        argumentTypes.deallocate()
    }

    private static func ffiType(_ type: FFIType) -> UnsafeMutablePointer<ffi_type> {
        switch type {
        case .int8: nodal_ffi_type_sint8()
        case .int16: nodal_ffi_type_sint16()
        case .int32: nodal_ffi_type_sint32()
        case .int64: nodal_ffi_type_sint64()
        case .uint8, .bool: nodal_ffi_type_uint8()  // C's bool (_Bool) is one byte
        case .uint16: nodal_ffi_type_uint16()
        case .uint32: nodal_ffi_type_uint32()
        case .uint64: nodal_ffi_type_uint64()
        case .float: nodal_ffi_type_float()
        case .double: nodal_ffi_type_double()
        case .string, .bytes, .array: nodal_ffi_type_pointer()
        case .void: nodal_ffi_type_void()
        }
    }

    // MARK: Cache

    /// Keyed both by the text as written and by the normalized signature, so a run-time signature
    /// is parsed once and two spellings of one signature share one cif.
    private static let cache = Mutex<[String: PreparedSignature]>([:])
    /// Signatures computed at run time could otherwise grow the cache without bound; past this,
    /// new signatures are prepared per call (still correct, just slower).
    private static let cacheLimit = 4096

    /// The prepared form of a signature as written in a step (parsed and prepared on first use).
    static func prepared(_ text: String) throws(FFIError) -> PreparedSignature {
        if let hit = cache.withLock({ $0[text] }) { return hit }
        let signature = try FFISignature(parsing: text)
        return try cache.withLock { (cache: inout [String: PreparedSignature]) throws(FFIError) -> PreparedSignature in
            let normalized = signature.description
            if let existing = cache[normalized] {
                if cache.count < cacheLimit { cache[text] = existing }
                return existing
            }
            let prepared = try PreparedSignature(signature)
            if cache.count < cacheLimit {
                cache[normalized] = prepared
                cache[text] = prepared
            }
            return prepared
        }
    }
}

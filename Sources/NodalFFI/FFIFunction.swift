import NodalCore
import NodalJSON
import CFFI

/// A C function ready to call: allowed, found in its library, its signature prepared.
struct FFIFunction: Sendable {
    var library: String
    var symbol: String
    var address: FFILibraries.Address
    var prepared: PreparedSignature
    /// From the allowlist: call inline rather than on the blocking-call pool.
    var nonBlocking: Bool

    var signature: FFISignature { prepared.signature }

    /// Parses the signature, checks the allowlist (library, function and that exact signature),
    /// opens the library, finds the function and prepares the call, in that order (nothing of a
    /// library is loaded before the call is allowed).
    static func bind(library: String, symbol: String, signature: String, allowlist: FFIAllowlist) throws(FFIError) -> FFIFunction {
        let key = FFIAllowlist.BindingKey(library: library, symbol: symbol, signature: signature)
        if let function = allowlist.bound(key) { return function }
        let prepared = try PreparedSignature.prepared(signature)
        let permission = try allowlist.check(library: library, symbol: symbol, signature: prepared.signature)
        let address = try FFILibraries.lookup(library: library, symbol: symbol)
        let function = FFIFunction(library: library, symbol: symbol, address: address, prepared: prepared, nonBlocking: permission.nonBlocking)
        allowlist.remember(function, for: key)
        return function
    }

    /// Checks a count of arguments (known before their values, e.g. from an array expression).
    func checkCount(_ count: Int) throws(FFIError) {
        let expected = signature.parameters.count
        guard count == expected else {
            throw FFIError(.badArgument, field: "args",
                "\(symbol) takes \(expected) argument\(expected == 1 ? "" : "s") \(signature.parameterList), but args has \(count)",
                details: ["expected": .int(expected), "given": .int(count)])
        }
    }

    /// Checks the arguments against the signature and converts them, without calling.
    func convert(_ arguments: [JSON]) throws(FFIError) -> [FFIArgument] {
        try checkCount(arguments.count)
        var converted: [FFIArgument] = []
        converted.reserveCapacity(arguments.count)
        for (index, (value, type)) in zip(arguments, signature.parameters).enumerated() {
            converted.append(try FFIArgument(value, as: type, index: index))
        }
        return converted
    }

    /// Checks and converts the arguments, then calls the function on the current thread.
    func call(_ arguments: [JSON]) throws(FFIError) -> JSON {
        let converted = try convert(arguments)
        // Every C argument value fits 8 bytes (the widest scalar, or a pointer).
        let slotSize = 8
        let count = max(prepared.cArgumentCount, 1)
        return withUnsafeTemporaryAllocation(byteCount: count * slotSize, alignment: 16) { slots in
            withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: count) { values in
                var slot = 0
                func next() -> UnsafeMutableRawPointer {
                    let address = slots.baseAddress! + slot * slotSize
                    values[slot] = address
                    slot += 1
                    return address
                }
                for (argument, type) in zip(converted, signature.parameters) {
                    switch (argument, type) {
                    case (.buffer(_, let length?), .bytes(let lengthType)), (.buffer(_, let length?), .array(_, let lengthType)):
                        argument.store(as: .string, at: next())
                        FFIArgument.bits(length).store(as: lengthType, at: next())
                    default:
                        argument.store(as: type, at: next())
                    }
                }
                // libffi widens integer results narrower than a register to ffi_arg; 16 bytes
                // covers that and every return type here.
                return withUnsafeTemporaryAllocation(byteCount: 16, alignment: 16) { result in
                    withExtendedLifetime(converted) {
                        nodal_ffi_call(prepared.cif, address.pointer, result.baseAddress, values.baseAddress)
                    }
                    return Self.decode(result.baseAddress!, as: signature.result)
                }
            }
        }
    }

    /// The JSON of a return value. uint64 results above Int.max come back as (rounded) doubles,
    /// since JSON numbers here are Int or Double.
    static func decode(_ result: UnsafeMutableRawPointer, as type: FFIType) -> JSON {
        // Integer results narrower than ffi_arg were stored as a whole ffi_arg.
        func integer() -> UInt64 {
            type.size < MemoryLayout<ffi_arg>.size ? UInt64(result.load(as: ffi_arg.self)) : result.load(as: UInt64.self)
        }
        switch type {
        case .void: return .null
        case .bool: return .bool(UInt8(truncatingIfNeeded: integer()) != 0)
        case .int8: return .int(Int(Int8(truncatingIfNeeded: integer())))
        case .int16: return .int(Int(Int16(truncatingIfNeeded: integer())))
        case .int32: return .int(Int(Int32(truncatingIfNeeded: integer())))
        case .int64: return .int(Int(Int64(bitPattern: integer())))
        case .uint8: return .int(Int(UInt8(truncatingIfNeeded: integer())))
        case .uint16: return .int(Int(UInt16(truncatingIfNeeded: integer())))
        case .uint32: return .int(Int(UInt32(truncatingIfNeeded: integer())))
        case .uint64:
            let value = integer()
            return value <= UInt64(Int.max) ? .int(Int(value)) : .double(Double(value))
        case .float: return .double(Double(result.load(as: Float.self)))
        case .double: return .double(result.load(as: Double.self))
        case .string:
            // Borrowed from the library (it owns the memory): copied, never freed.
            guard let text = result.load(as: UnsafePointer<CChar>?.self) else { return .null }
            return .string(String(cString: text))  // invalid UTF-8 is repaired, not trusted
        case .bytes, .array: return .null  // not a return type (the parser refuses it)
        }
    }
}

extension FFISignature {
    /// "(double, double)" for messages.
    var parameterList: String { "(" + parameters.map(\.description).joined(separator: ", ") + ")" }
}

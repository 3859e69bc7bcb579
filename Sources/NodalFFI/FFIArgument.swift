import NodalCore
import NodalJSON
import FoundationEssentials

/// One JSON argument checked against its declared type and turned into what C receives.
///
/// Every check happens here, before anything is called: JSON type, integer range, integral
/// numbers for integer types, NUL bytes in strings. A narrow integer that does not fit is an
/// error, never silently truncated.
enum FFIArgument {
    /// An integer or bool, range-checked, as a bit pattern to store at the declared width.
    case bits(UInt64)
    case float(Float)
    case double(Double)
    /// A NUL-terminated string copy (`count` nil) or a buffer and its length/count (`bytes`, `array`).
    case buffer(FFIBuffer, count: UInt64?)

    /// Checks `value` (argument `index`) against `type`.
    init(_ value: JSON, as type: FFIType, index: Int) throws(FFIError) {
        let field = "args[\(index)]"
        switch type {
        case .string:
            guard case .string(let text) = value else { throw Self.wrongType(value, type, field, index) }
            let utf8 = Array(text.utf8)
            guard !utf8.contains(0) else {
                throw FFIError(.badArgument, field: field, "string contains a NUL character, which C would cut the string at",
                    details: Self.details(index, type))
            }
            self = .buffer(FFIBuffer(copying: utf8 + [0]), count: nil)
        case .bytes(let length):
            let bytes = try Self.bytes(value, field: field, type: type, index: index)
            try Self.checkCount(bytes.count, fits: length, field: field, index: index)
            self = .buffer(FFIBuffer(copying: bytes), count: UInt64(bytes.count))
        case .array(let element, let count):
            guard case .array(let elements) = value else { throw Self.wrongType(value, type, field, index) }
            try Self.checkCount(elements.count, fits: count, field: field, index: index)
            let buffer = FFIBuffer(byteCount: elements.count * element.size)
            for (position, item) in elements.enumerated() {
                let converted = try FFIArgument(scalar: item, as: element, field: "\(field)[\(position)]", index: index)
                converted.store(as: element, at: buffer.pointer + position * element.size)
            }
            self = .buffer(buffer, count: UInt64(elements.count))
        case .void:
            throw FFIError(.badSignature, field: "signature", "'void' is not a parameter type")
        default:
            self = try FFIArgument(scalar: value, as: type, field: field, index: index)
        }
    }

    /// A number or bool for a scalar type.
    private init(scalar value: JSON, as type: FFIType, field: String, index: Int) throws(FFIError) {
        switch type {
        case .bool:
            guard case .bool(let flag) = value else { throw Self.wrongType(value, type, field, index) }
            self = .bits(flag ? 1 : 0)
        case .float:
            guard let number = value.doubleValue else { throw Self.wrongType(value, type, field, index) }
            guard abs(number) <= Double(Float.greatestFiniteMagnitude) else {
                throw FFIError(.badArgument, field: field, "\(number) is out of range for float", details: Self.details(index, type))
            }
            self = .float(Float(number))
        case .double:
            guard let number = value.doubleValue else { throw Self.wrongType(value, type, field, index) }
            self = .double(number)
        default:
            self = .bits(try Self.integer(value, as: type, field: field, index: index))
        }
    }

    /// The bit pattern of an integer argument, after checking it is integral and in range.
    private static func integer(_ value: JSON, as type: FFIType, field: String, index: Int) throws(FFIError) -> UInt64 {
        let range = type.integerRange!
        func outOfRange(_ shown: String) -> FFIError {
            FFIError(.badArgument, field: field, "\(shown) is out of range for \(type) (\(range.min)...\(range.max))",
                details: details(index, type))
        }
        switch value {
        case .int(let number):
            if number < 0 {
                guard Int64(number) >= range.min else { throw outOfRange(String(number)) }
                return UInt64(bitPattern: Int64(number))
            }
            guard UInt64(number) <= range.max else { throw outOfRange(String(number)) }
            return UInt64(number)
        case .double(let number):
            // Large literals arrive as doubles (beyond Int64); they count only if exactly integral.
            guard number.isFinite, number.rounded(.towardZero) == number else {
                throw FFIError(.badArgument, field: field, "\(number) is not an integer, and \(type) takes integers only",
                    details: details(index, type))
            }
            if number < 0 {
                guard number >= Double(range.min) else { throw outOfRange(String(number)) }
                return UInt64(bitPattern: Int64(number))
            }
            guard number < 18_446_744_073_709_551_616.0, UInt64(number) <= range.max else { throw outOfRange(String(number)) }
            return UInt64(number)
        default:
            throw wrongType(value, type, field, index)
        }
    }

    /// The bytes of a `bytes` argument: a UTF-8 string, `{"base64": "..."}` or an array of 0...255.
    private static func bytes(_ value: JSON, field: String, type: FFIType, index: Int) throws(FFIError) -> [UInt8] {
        switch value {
        case .string(let text):
            return Array(text.utf8)
        case .object(let object):
            guard object.count == 1, case .string(let encoded)? = object["base64"] else {
                throw FFIError(.badArgument, field: field, "a bytes object must be {\"base64\": \"...\"} alone", details: details(index, type))
            }
            guard let data = Data(base64Encoded: encoded) else {
                throw FFIError(.badArgument, field: field, "'base64' is not valid base64", details: details(index, type))
            }
            return Array(data)
        case .array(let elements):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(elements.count)
            for (position, element) in elements.enumerated() {
                let bits = try integer(element, as: .uint8, field: "\(field)[\(position)]", index: index)
                bytes.append(UInt8(bits))
            }
            return bytes
        default:
            throw FFIError(.badArgument, field: field,
                "\(type) takes a string (its UTF-8 bytes), {\"base64\": \"...\"} or an array of bytes, not \(value.typeName)",
                details: details(index, type))
        }
    }

    private static func checkCount(_ count: Int, fits type: FFIType, field: String, index: Int) throws(FFIError) {
        guard UInt64(count) <= type.integerRange!.max else {
            throw FFIError(.badArgument, field: field, "\(count) elements do not fit the length type \(type)", details: details(index, type))
        }
    }

    private static func wrongType(_ value: JSON, _ type: FFIType, _ field: String, _ index: Int) -> FFIError {
        let expected = switch type {
        case .bool: "a boolean"
        case .string: "a string"
        case .array: "an array of numbers"
        default: "a number"
        }
        var shown = value.description
        if shown.count > 60 { shown = shown.prefix(57) + "..." }
        return FFIError(.badArgument, field: field, "\(type) takes \(expected), not \(value.typeName) \(shown)",
            details: details(index, type))
    }

    private static func details(_ index: Int, _ type: FFIType) -> JSON {
        ["argument": .int(index), "type": .string(type.description)]
    }

    /// Writes a scalar at `address` with the width of `type` (for slots and array elements).
    func store(as type: FFIType, at address: UnsafeMutableRawPointer) {
        switch self {
        case .bits(let bits):
            switch type.size {
            case 1: address.storeBytes(of: UInt8(truncatingIfNeeded: bits), as: UInt8.self)
            case 2: address.storeBytes(of: UInt16(truncatingIfNeeded: bits), as: UInt16.self)
            case 4: address.storeBytes(of: UInt32(truncatingIfNeeded: bits), as: UInt32.self)
            default: address.storeBytes(of: bits, as: UInt64.self)
            }
        case .float(let value): address.storeBytes(of: value, as: Float.self)
        case .double(let value): address.storeBytes(of: value, as: Double.self)
        case .buffer(let buffer, _): address.storeBytes(of: buffer.pointer, as: UnsafeMutableRawPointer.self)
        }
    }
}

/// Memory handed to C for one call (a string copy, bytes, an array), freed when the call is done.
final class FFIBuffer {
    let pointer: UnsafeMutableRawPointer

    init(byteCount: Int) {
        // Never zero-sized: C gets a valid pointer even for an empty array.
        pointer = .allocate(byteCount: max(byteCount, 1), alignment: 16)
    }

    convenience init(copying bytes: [UInt8]) {
        self.init(byteCount: bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: source.count) }
        }
    }

    deinit { pointer.deallocate() }
}

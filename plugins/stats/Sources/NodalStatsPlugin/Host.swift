// Calling the host's services, and running a node body so that nothing escapes through C.

import CNodal

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A failure a node reports through host->set_error.
struct NodeFailure: Error {
    let code: String
    let message: String

    static func invalidInput(_ message: String) -> NodeFailure {
        NodeFailure(code: "INVALID_INPUT", message: message)
    }
}

/// The host's services for one call. Every service is looked up through `struct_size`, so a host
/// built against an older, smaller `nodal_host` is never read past its end.
struct HostCall {
    let host: UnsafePointer<nodal_host>
    let call: OpaquePointer?

    private func service<Service>(_ field: KeyPath<nodal_host, Service?>) -> Service? {
        guard let offset = MemoryLayout<nodal_host>.offset(of: field) else {
            return nil
        }
        let size = UnsafeRawPointer(host).load(as: UInt32.self) // struct_size comes first
        guard Int(size) >= offset + MemoryLayout<Service?>.size else {
            return nil
        }
        return UnsafeRawPointer(host).load(fromByteOffset: offset, as: Service?.self)
    }

    /// Hands `json` to host->write_output. Returns the host's status.
    func writeOutput(_ json: Data) -> nodal_status {
        guard let write = service(\.write_output) else {
            return NODAL_ERROR
        }
        return json.withUnsafeBytes { bytes -> nodal_status in
            guard let base = bytes.baseAddress else {
                return NODAL_INVALID
            }
            return write(call, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
    }

    /// Records an error with host->set_error (no details).
    func setError(code: String, message: String) {
        guard let setError = service(\.set_error) else {
            return
        }
        // C strings end at the first NUL: drop any NUL so the whole message survives.
        let code = code.replacingNULs()
        let message = message.replacingNULs()
        _ = code.withCString { codePointer in
            message.withCString { messagePointer in
                setError(call, codePointer, messagePointer, nil, 0)
            }
        }
    }

    /// Runs a node body: decodes the input, computes, encodes and writes the output, and turns
    /// every Swift error into a structured host error. Never throws.
    func run<Input: Decodable, Output: Encodable>(
        _ inputType: Input.Type,
        input: UnsafePointer<CChar>?,
        length: Int,
        body: (Input) throws(NodeFailure) -> Output
    ) -> nodal_status {
        let bytes: Data
        if let input, length > 0 {
            bytes = Data(bytes: input, count: length)
        } else {
            bytes = Data()
        }

        let decoded: Input
        do {
            decoded = try JSONDecoder().decode(Input.self, from: bytes)
        } catch {
            setError(code: "INVALID_INPUT", message: describeDecodingFailure(error))
            return NODAL_ERROR
        }

        let result: Output
        do {
            result = try body(decoded)
        } catch {
            setError(code: error.code, message: error.message)
            return NODAL_ERROR
        }

        let encoded: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoded = try encoder.encode(result)
        } catch {
            // The only way to get here is a non-finite double (JSON cannot hold it).
            setError(
                code: "OUT_OF_RANGE",
                message: "the result is not a finite number and cannot be written as JSON"
            )
            return NODAL_ERROR
        }

        guard writeOutput(encoded) == NODAL_OK else {
            setError(code: "OUTPUT_REJECTED", message: "the host refused the output")
            return NODAL_ERROR
        }
        return NODAL_OK
    }
}

/// Runs `body` for a node's invoke, or fails when the host pointer is missing.
func withHostCall(
    _ host: UnsafePointer<nodal_host>?,
    _ call: OpaquePointer?,
    _ body: (HostCall) -> nodal_status
) -> nodal_status {
    guard let host else {
        return NODAL_ERROR
    }
    return body(HostCall(host: host, call: call))
}

// MARK: - Error messages

/// A message for people that names the offending field, such as
/// "field 'values[2]' must be a number".
func describeDecodingFailure(_ error: any Error) -> String {
    guard let error = error as? DecodingError else {
        return "input could not be read: \(error)"
    }
    switch error {
    case .keyNotFound(let key, let context):
        let field = fieldPath(context.codingPath + [key])
        return "missing required field '\(field)'"
    case .valueNotFound(let type, let context):
        if context.codingPath.isEmpty {
            return "input must be a JSON object, got null"
        }
        return "field '\(fieldPath(context.codingPath))' must be \(typeName(type)), got null"
    case .typeMismatch(let type, let context):
        if context.codingPath.isEmpty {
            return "input must be a JSON object"
        }
        return "field '\(fieldPath(context.codingPath))' must be \(typeName(type))"
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty {
            var message = "input is not valid JSON"
            if let underlying = context.underlyingError {
                message += ": \(underlying)"
            }
            return message
        }
        return "field '\(fieldPath(context.codingPath))' is invalid: \(context.debugDescription)"
    @unknown default:
        return "input could not be read: \(error)"
    }
}

/// "values[2]" for the path [values, Index 2]; "a.b" for nested keys.
private func fieldPath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            if !text.isEmpty {
                text += "."
            }
            text += key.stringValue
        }
    }
    return text
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Double.Type, is Float.Type: "a number"
    case is Int.Type: "an integer"
    case is String.Type: "a string"
    case is Bool.Type: "a boolean"
    default:
        String(describing: type).hasPrefix("Array") ? "an array" : "an object"
    }
}

extension String {
    fileprivate func replacingNULs() -> String {
        utf8.contains(0) ? String(map { $0 == "\0" ? "\u{FFFD}" : $0 }) : self
    }
}

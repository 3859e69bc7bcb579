import NodalJSON
/// Why an FFI call was refused or failed, before it becomes a `FlowError` (at validation) or a
/// `StepError` (at run time).
package struct FFIError: Error, Sendable {
    /// Stable codes, as `StepError.code`.
    package enum Code: String, Sendable {
        case notAllowed = "FFI_NOT_ALLOWED"
        case libraryNotFound = "FFI_LIBRARY_NOT_FOUND"
        case symbolNotFound = "FFI_SYMBOL_NOT_FOUND"
        case notAFunction = "FFI_NOT_A_FUNCTION"
        case badSignature = "FFI_BAD_SIGNATURE"
        case badArgument = "FFI_BAD_ARGUMENT"
        case badInput = "FFI_BAD_INPUT"
    }

    package var code: Code
    /// Where in the step's input: "symbol", "signature", "args", "args[2]".
    package var field: String
    package var message: String
    package var details: JSON?

    package init(_ code: Code, field: String, _ message: String, details: JSON? = nil) {
        self.code = code
        self.field = field
        self.message = message
        self.details = details
    }

    package var stepError: StepError {
        var object: JSONObject = ["field": .string(field)]
        if let details { for (key, value) in details.objectValue ?? [:] { object[key] = value } }
        return StepError(code: code.rawValue, message: "\(field): \(message)", details: .object(object))
    }

    package func flowError(file: String?, step: String) -> FlowError {
        FlowError(file: file, step: step, field: "input.\(field)", message)
    }
}

import NodalJSON

/// A `runs.submit` request, checked field by field (include/nodal.h, "Runs"; Stepflow's
/// `runs/submit`). Every refusal names the field.
/// A run service hosting sub-runs (`SubRunHost`) reads them with it too.
package struct SubmitRequest {
    /// The flow's blob id, as 64 lowercase hex digits.
    package var flowID: String
    package var inputs: [JSON]
    package var wait: Bool
    /// Items at once; nil: all of them.
    package var maxConcurrency: Int?
    /// Per step id: `{timeoutSecs?, onError?}`, checked against the flow by `stepOverrides(for:)`.
    package var overrides: [(step: String, value: JSON)]
    package var variables: [String: JSON]

    static let knownKeys = ["flowId", "inputs", "wait", "maxConcurrency", "overrides", "variables", "observability"]

    package init(_ request: JSON) throws(ExtensionError) {
        guard case .object(let object) = request else {
            throw .invalidRequest("submit", "the request must be a JSON object, not \(request.typeName)")
        }
        try RunsExtension.checkKeys(object, known: Self.knownKeys, function: "submit")
        switch object["flowId"] {
        case .string(let text)?:
            guard let id = BlobsExtension.normalizedBlobID(text) else {
                throw .invalidRequest("submit", "'flowId' is not a blob id (64 hexadecimal digits, optionally after 'sha256:'): \"\(RunsExtension.shown(text))\"")
            }
            flowID = id
        case nil, .null?:
            throw .invalidRequest("submit", "the request needs 'flowId': the blob id of a flow (blobs.put_json with type \"flow\", or /builtin/put_blob)")
        case let other?:
            throw .invalidRequest("submit", "'flowId' must be a blob id string, not \(other.typeName)")
        }
        switch object["inputs"] {
        case .array(let items)?: inputs = items
        case nil, .null?: throw .invalidRequest("submit", "the request needs 'inputs': an array with one input per item")
        case let other?: throw .invalidRequest("submit", "'inputs' must be an array (one input per item), not \(other.typeName)")
        }
        wait = try RunsExtension.flag(object, "wait", function: "submit")
        switch object["maxConcurrency"] {
        case nil, .null?: maxConcurrency = nil
        case let value?:
            guard let count = value.exactInteger, count >= 1 else {
                throw .invalidRequest("submit", "'maxConcurrency' must be a whole number of items of at least 1, not \(value.serialized())")
            }
            maxConcurrency = count
        }
        switch object["overrides"] {
        case nil, .null?: overrides = []
        case .object(let steps)?: overrides = steps.map { ($0.key, $0.value) }
        case let other?: throw .invalidRequest("submit", "'overrides' must be an object of step id to {timeoutSecs, onError}, not \(other.typeName)")
        }
        switch object["variables"] {
        case nil, .null?: variables = [:]
        case .object(let values)?: variables = Dictionary(values.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        case let other?: throw .invalidRequest("submit", "'variables' must be an object of name to value, not \(other.typeName)")
        }
    }

    /// The overrides as the run takes them (`StepOverrideRequest`, which the run service shares).
    package func stepOverrides(for flow: Flow) throws(ExtensionError) -> [String: StepOverride] {
        do {
            return try StepOverrideRequest.parse(overrides, for: flow)
        } catch {
            throw .invalidRequest("submit", error.message)
        }
    }
}

extension JSON {
    /// The value as an `Int` when it is a whole number within range (`2` and `2.0`, not `2.5`).
    fileprivate var exactInteger: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.isFinite, value.rounded() == value, abs(value) < 9e15 else { return nil }
            return Int(value)
        default: return nil
        }
    }
}

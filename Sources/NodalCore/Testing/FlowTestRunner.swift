import NodalJSON
/// Checking a run against a flow's `test: cases:` expectations, as `nodal test` does.
///
/// Matching rules (Stepflow's `stepflow test`): objects match as subsets (every expected key must
/// be present and match), arrays need equal length and element-wise matches, scalars must be
/// equal; a `run_id` string matches any `run_id` string and expected `backtrace` keys are ignored
/// (Stepflow normalizes both away). For an expected failure, `error.code` and `error.message`
/// must equal the run's when the case gives them (an integer code matches the same number
/// written as the code's text), and `error.data` (or Nodal's `error.details`) matches the run
/// error's details as a subset. Nodal adds `outcome: paused`, with an optional `key` and `value`
/// (matched like a result) for the interrupt the run waits at.
extension FlowTestCase {
    /// nil when the result is what the case expects, else why not.
    public func mismatch(_ result: RunResult) -> String? {
        var expected = self.expected ?? ["outcome": "success"]
        if expected.isNull { expected = ["outcome": "success"] }
        // An expectation that is not a flow result would otherwise check nothing: `output: 42`
        // (meant as the result) or `outcome: 5` passed whenever the run succeeded.
        guard case .object = expected else {
            return "output: expected a flow result such as {outcome: success, result: ...}, got \(expected.typeName) \(expected.shortDescription())"
        }
        let outcome: String
        switch expected["outcome"] {
        case nil, .null?: outcome = "success"
        case .string(let text)?: outcome = text
        case let other?:
            return "output.outcome: expected success, failed or paused, got \(other.typeName) \(other.shortDescription())"
        }
        switch outcome {
        case "success":
            if let pause = result.pause {
                return "expected success, got paused at step '\(pause.step)', waiting for a value for '\(pause.key)'"
            }
            guard result.status == .success else {
                return "expected success, got \(result.status.rawValue)\(Self.describe(result.error))"
            }
            if let wanted = expected["result"] {
                return Self.mismatch(expected: wanted, actual: result.output ?? .null, path: "$")
            }
            return nil
        case "failed":
            guard result.status == .failed else {
                if let pause = result.pause {
                    return "expected failure, got paused at step '\(pause.step)', waiting for a value for '\(pause.key)'"
                }
                return "expected failure, got \(result.status.rawValue) with output \(result.output ?? .null)"
            }
            guard let wanted = expected["error"], !wanted.isNull else { return nil }
            guard case .object(let error) = wanted else {
                return "error: expected a mapping with 'code' and 'message', got \(wanted.typeName) \(wanted)"
            }
            return Self.errorMismatch(expected: error, actual: result.error)
        case "paused":
            guard let pause = result.pause else {
                return "expected a pause, got \(result.status.rawValue)\(result.error.map { ": \($0.message)" } ?? "")"
            }
            if let key = expected["key"], key != .string(pause.key) {
                return "expected a pause for \(key), got one for \"\(pause.key)\""
            }
            if let wanted = expected["value"] {
                return Self.mismatch(expected: wanted, actual: pause.value, path: "pause.value")
            }
            return nil
        default:
            guard result.status.rawValue == outcome else {
                return "expected outcome \(outcome), got \(result.status.rawValue)"
            }
            return nil
        }
    }

    /// How a failure reads in a FAIL line: ` at step 'x': CODE "message"`.
    private static func describe(_ failure: RunFailure?) -> String {
        guard let failure else { return "" }
        let place = failure.step.map { " at step '\($0)'" } ?? ""
        return "\(place): \(failure.code) \(JSON.string(failure.message))"
    }

    /// Stepflow's comparison of an expected flow error with the run's: code and message exactly,
    /// data as a subset when expected.
    static func errorMismatch(expected: JSONObject, actual failure: RunFailure?) -> String? {
        let code = failure?.code ?? ""
        let message = failure?.message ?? ""
        let from = failure?.step.map { ", from step '\($0)'" } ?? ""
        if let wanted = expected["code"] {
            let matches = switch wanted {
            case .string(let text): text == code
            case .int(let number): String(number) == code
            default: false
            }
            if !matches { return "error.code: expected \(wanted), got \(code) (message \(JSON.string(message))\(from))" }
        }
        if let wanted = expected["message"], wanted != .string(message) {
            return "error.message: expected \(wanted), got \(JSON.string(message)) (code \(code)\(from))"
        }
        for key in ["data", "details"] {
            guard let wanted = expected[key], !wanted.isNull else { continue }
            guard let details = failure?.details else {
                return "error.\(key): expected \(wanted), got an error without details (code \(code)\(from))"
            }
            if let problem = mismatch(expected: wanted, actual: details, path: "error.\(key)") { return problem }
        }
        return nil
    }

    static func mismatch(expected: JSON, actual: JSON, path: String) -> String? {
        switch (expected, actual) {
        case (.object(let wanted), .object(let got)):
            for (key, value) in wanted {
                // Stepflow drops backtraces from both sides and gives every run id one value.
                if key == "backtrace" { continue }
                guard let other = got[key] else { return "\(path).\(key): missing (expected \(value))" }
                if key == "run_id", case .string = value, case .string = other { continue }
                if let problem = mismatch(expected: value, actual: other, path: "\(path).\(key)") { return problem }
            }
            return nil
        case (.array(let wanted), .array(let got)):
            guard wanted.count == got.count else {
                return "\(path): expected \(wanted.count) elements, got \(got.count)"
            }
            for (index, pair) in zip(wanted, got).enumerated() {
                if let problem = mismatch(expected: pair.0, actual: pair.1, path: "\(path)[\(index)]") { return problem }
            }
            return nil
        default:
            return expected == actual ? nil : "\(path): expected \(expected), got \(actual)"
        }
    }
}

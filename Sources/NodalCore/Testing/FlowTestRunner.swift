import NodalJSON
/// Checking a run against a flow's `test: cases:` expectations, as `nodal test` does.
///
/// Matching rules (Stepflow's): objects match as subsets (every expected key must be present
/// and match), arrays need equal length and element-wise matches, scalars must be equal. For an
/// expected failure only the `outcome` must match; the error's wording is the engine's own.
/// Nodal adds `outcome: paused`, with an optional `key` and `value` (matched like a result) for
/// the interrupt the run waits at.
extension FlowTestCase {
    /// nil when the result is what the case expects, else why not.
    public func mismatch(_ result: RunResult) -> String? {
        let expected = self.expected ?? ["outcome": "success"]
        let outcome = expected["outcome"]?.stringValue ?? "success"
        switch outcome {
        case "success":
            if let pause = result.pause {
                return "expected success, got paused at step '\(pause.step)', waiting for a value for '\(pause.key)'"
            }
            guard result.status == .success else {
                return "expected success, got \(result.status.rawValue): \(result.error?.message ?? "")"
            }
            if let wanted = expected["result"] {
                return Self.mismatch(expected: wanted, actual: result.output ?? .null, path: "$")
            }
            return nil
        case "failed":
            guard result.status == .failed else {
                return "expected failure, got \(result.status.rawValue) with output \(result.output ?? .null)"
            }
            return nil
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

    static func mismatch(expected: JSON, actual: JSON, path: String) -> String? {
        switch (expected, actual) {
        case (.object(let wanted), .object(let got)):
            for (key, value) in wanted {
                guard let other = got[key] else { return "\(path).\(key): missing (expected \(value))" }
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

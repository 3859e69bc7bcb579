import NodalJSON
/// Stepflow's `/builtin/sleep`: waits, then returns.
///
/// Input: `{duration_ms, passthrough?}`. `duration_ms` is a number of milliseconds from 0 to
/// 31,536,000,000 (365 days); fractions are allowed, as Stepflow reads it as a floating-point
/// number. Output, as Stepflow's: `{duration_ms, passthrough}` with `duration_ms` as a
/// floating-point number (`10.0`), and `passthrough` only when the input had one that is not null.
///
/// The wait is on the engine's clock (`Engine(clock:)`), so a test clock drives it, and it ends at
/// once when the step is canceled (the run canceled, the step's timeout passed).
enum BuiltinSleep {
    static let durationRange = NumericRange(lowest: 0, highest: 31_536_000_000)

    static func run(_ input: JSON, engine: some BuiltinHost, context: NodeContext) async throws -> JSON {
        guard case .object = input else {
            throw StepError(code: "INVALID_INPUT", message: "sleep needs an object {duration_ms, passthrough?}, not \(input.typeName)")
        }
        guard let raw = input["duration_ms"] else {
            throw StepError(code: "INVALID_INPUT", message: "sleep needs 'duration_ms': how long to wait, in milliseconds")
        }
        guard let milliseconds = durationRange.check(raw) else {
            throw StepError(code: "INVALID_INPUT", message: "sleep: 'duration_ms' must be \(durationRange.text(unit: " of milliseconds")), not \(BuiltinIterate.abbreviated(raw))")
        }
        try await engine.clock.sleep(for: .milliseconds(milliseconds))
        var output: JSONObject = ["duration_ms": .double(milliseconds)]
        if let passthrough = input["passthrough"], !passthrough.isNull { output["passthrough"] = passthrough }
        return .object(output)
    }
}

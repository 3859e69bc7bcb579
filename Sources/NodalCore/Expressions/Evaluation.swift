import NodalJSON
/// What evaluating an expression gave: a value, or the steps that must finish first.
enum Evaluation {
    case value(JSON)
    case needs([Int])
}

/// What a step reference sees of the step it names.
enum StepAvailability {
    case ready(JSON)
    case pending
    /// The step will never produce output (skipped or failed); the reason is for the error.
    case unavailable(String)
}

/// An expression that cannot be evaluated with the values at hand.
struct EvaluationError: Error, Sendable {
    var message: String
    /// Set when the cause is a step that will never have output (skipped, or failed under
    /// `continue`): the reading step is then skipped rather than failed.
    var unavailableStep: Int?
    /// Set when the cause is a path that finds nothing (in the run input or a step's output):
    /// what a reference's `default` stands in for.
    var missingPath = false
}

/// Where expressions read their inputs from. The scheduler implements this over its step table.
protocol EvaluationContext {
    var runInput: JSON { get }
    func variable(_ name: String) -> JSON?
    mutating func stepValue(_ index: Int) throws(EvaluationError) -> StepAvailability
}

extension Expression {
    /// Evaluates lazily, as Stepflow does: `$if` only looks at the taken branch and `$coalesce`
    /// stops at the first option that is not null, so steps on other branches are never asked for.
    ///
    /// Stepflow's rules, which these follow:
    /// - `$if`: only `null` and `false` are false (`0`, `""`, `[]` and `{}` are true), and a
    ///   condition that cannot be evaluated (a path that finds nothing, say) counts as false.
    /// - `$coalesce`: an option that is null, or reads a step that has no output (skipped, or
    ///   failed under `continue`), is passed over; an option that fails to evaluate (a path that
    ///   finds nothing) fails the whole expression with that error.
    /// - `{$step: id, path: p}` on a step whose output is null is null, whatever the path.
    ///
    /// - Parameter unavailableAsNull: an unavailable step yields null (the flow output after
    ///   `continue`).
    func evaluate<Context: EvaluationContext>(in context: inout Context, unavailableAsNull: Bool = false) throws(EvaluationError) -> Evaluation {
        switch self {
        case .literal(let value):
            return .value(value)
        case .input(let path):
            if path.isRoot { return .value(context.runInput) }
            if let value = path.evaluate(context.runInput) { return .value(value) }
            throw EvaluationError(message: "the run input has nothing at '\(path)'", missingPath: true)
        case .step(let index, let id, let path):
            switch try context.stepValue(index) {
            case .pending: return .needs([index])
            case .unavailable(let reason):
                if unavailableAsNull { return .value(.null) }
                throw EvaluationError(message: "step '\(id)' has no output: \(reason)", unavailableStep: index)
            case .ready(let output):
                // A null output is null under any path (Stepflow: so that `$coalesce` can pass
                // over a step that produced nothing).
                if path.isRoot || output.isNull { return .value(output) }
                if let value = path.evaluate(output) { return .value(value) }
                throw EvaluationError(message: "the output of step '\(id)' has nothing at '\(path)'", missingPath: true)
            }
        case .withDefault(let reference, let defaultValue):
            do {
                return try reference.evaluate(in: &context, unavailableAsNull: unavailableAsNull)
            } catch where error.missingPath {
                return try defaultValue.evaluate(in: &context, unavailableAsNull: unavailableAsNull)
            }
        case .variable(let name, let defaultValue):
            if let value = context.variable(name) { return .value(value) }
            if let defaultValue { return try defaultValue.evaluate(in: &context, unavailableAsNull: unavailableAsNull) }
            throw EvaluationError(message: "variable '\(name)' is not set and has no default")
        case .conditional(let condition, let thenBranch, let elseBranch):
            let holds: Bool
            do {
                switch try condition.evaluate(in: &context, unavailableAsNull: unavailableAsNull) {
                case .needs(let steps): return .needs(steps)
                case .value(let value): holds = value.isTruthy
                }
            } catch {
                // Stepflow: a condition that fails to evaluate is false.
                holds = false
            }
            return try (holds ? thenBranch : elseBranch).evaluate(in: &context, unavailableAsNull: unavailableAsNull)
        case .choice(let value, let cases, let defaultCase):
            let chosen: JSON
            switch try value.evaluate(in: &context, unavailableAsNull: unavailableAsNull) {
            case .needs(let steps): return .needs(steps)
            case .value(let v): chosen = v
            }
            let key: String
            switch chosen {
            case .string(let s): key = s
            case .int, .double, .bool, .null: key = chosen.serialized()
            default: throw EvaluationError(message: "'$switch' needs a string, number, boolean or null to choose by, not \(chosen.typeName)")
            }
            if let option = cases.first(where: { $0.key == key }) {
                return try option.value.evaluate(in: &context, unavailableAsNull: unavailableAsNull)
            }
            if let defaultCase { return try defaultCase.evaluate(in: &context, unavailableAsNull: unavailableAsNull) }
            throw EvaluationError(message: "'$switch' value \(chosen) matches no case (cases: \(cases.map(\.key).joined(separator: ", "))) and there is no default")
        case .coalesce(let options):
            for option in options {
                let evaluation: Evaluation
                do {
                    evaluation = try option.evaluate(in: &context, unavailableAsNull: unavailableAsNull)
                } catch where error.unavailableStep != nil {
                    continue  // A step with no output counts as absent, as a skipped step in Stepflow.
                }
                switch evaluation {
                case .needs(let steps): return .needs(steps)
                case .value(let value) where !value.isNull: return .value(value)
                case .value: continue
                }
            }
            return .value(.null)
        case .object(let fields):
            var object = JSONObject()
            object.reserveCapacity(fields.count)
            var needed: [Int] = []
            for field in fields {
                switch try field.value.evaluate(in: &context, unavailableAsNull: unavailableAsNull) {
                case .needs(let steps): needed.append(contentsOf: steps)
                case .value(let value): object.appendUnchecked(field.key, value)
                }
            }
            return needed.isEmpty ? .value(.object(object)) : .needs(needed)
        case .array(let elements):
            var array: [JSON] = []
            array.reserveCapacity(elements.count)
            var needed: [Int] = []
            for element in elements {
                switch try element.evaluate(in: &context, unavailableAsNull: unavailableAsNull) {
                case .needs(let steps): needed.append(contentsOf: steps)
                case .value(let value): array.append(value)
                }
            }
            return needed.isEmpty ? .value(.array(array)) : .needs(needed)
        }
    }
}

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
}

/// Where expressions read their inputs from. The scheduler implements this over its step table.
protocol EvaluationContext {
    var runInput: JSON { get }
    func variable(_ name: String) -> JSON?
    mutating func stepValue(_ index: Int) throws(EvaluationError) -> StepAvailability
}

extension Expression {
    /// Evaluates lazily: `$if` only looks at the taken branch and `$coalesce` stops at the first
    /// non-null option, so steps on other branches are never asked for.
    ///
    /// - Parameters:
    ///   - lenient: a missing path or an unavailable step yields null (inside `$coalesce`).
    ///   - unavailableAsNull: an unavailable step yields null (the flow output after `continue`).
    func evaluate<Context: EvaluationContext>(in context: inout Context, lenient: Bool = false, unavailableAsNull: Bool = false) throws(EvaluationError) -> Evaluation {
        switch self {
        case .literal(let value):
            return .value(value)
        case .input(let path):
            if path.isRoot { return .value(context.runInput) }
            if let value = path.evaluate(context.runInput) { return .value(value) }
            if lenient { return .value(.null) }
            throw EvaluationError(message: "the run input has nothing at '\(path)'")
        case .step(let index, let id, let path):
            switch try context.stepValue(index) {
            case .pending: return .needs([index])
            case .unavailable(let reason):
                if lenient || unavailableAsNull { return .value(.null) }
                throw EvaluationError(message: "step '\(id)' has no output: \(reason)", unavailableStep: index)
            case .ready(let output):
                if path.isRoot { return .value(output) }
                if let value = path.evaluate(output) { return .value(value) }
                if lenient { return .value(.null) }
                throw EvaluationError(message: "the output of step '\(id)' has nothing at '\(path)'")
            }
        case .variable(let name, let defaultValue):
            if let value = context.variable(name) { return .value(value) }
            if let defaultValue { return try defaultValue.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull) }
            throw EvaluationError(message: "variable '\(name)' is not set and has no default")
        case .conditional(let condition, let thenBranch, let elseBranch):
            switch try condition.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull) {
            case .needs(let steps): return .needs(steps)
            case .value(let value):
                return try (value.isTruthy ? thenBranch : elseBranch).evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull)
            }
        case .choice(let value, let cases, let defaultCase):
            let chosen: JSON
            switch try value.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull) {
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
                return try option.value.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull)
            }
            if let defaultCase { return try defaultCase.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull) }
            throw EvaluationError(message: "'$switch' value \(chosen) matches no case (cases: \(cases.map(\.key).joined(separator: ", "))) and there is no default")
        case .coalesce(let options):
            // A missing path or an unavailable step counts as null here: that is what $coalesce is for.
            for option in options {
                switch try option.evaluate(in: &context, lenient: true) {
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
                switch try field.value.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull) {
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
                switch try element.evaluate(in: &context, lenient: lenient, unavailableAsNull: unavailableAsNull) {
                case .needs(let steps): needed.append(contentsOf: steps)
                case .value(let value): array.append(value)
                }
            }
            return needed.isEmpty ? .value(.array(array)) : .needs(needed)
        }
    }
}

import NodalJSON
/// A compiled value expression: what a step's `input` or the flow's `output` says to build.
///
/// Step references are resolved to indexes at load time, so evaluation never looks up ids.
package indirect enum Expression: Sendable {
    /// A constant (also what an object or array without any `$` expression compiles to).
    case literal(JSON)
    /// `{$input: path}`: part of the run's input.
    case input(JSONPath)
    /// `{$step: id, path: p}`: part of a finished step's output (null when the output is null).
    case step(index: Int, id: String, path: JSONPath)
    /// `{$input: p, default: d}` or `{$step: id, path: p, default: d}` (Nodal): the reference, or
    /// `d` when its path finds nothing. `d` is evaluated (and its steps run) only then.
    case withDefault(reference: Expression, defaultValue: Expression)
    /// `{$variable: name, default: expr}`: a run variable.
    case variable(name: String, defaultValue: Expression?)
    /// `{$if: cond, then: a, else: b}`: only the taken branch is evaluated (and its steps run).
    /// Only `null` and `false` are false, and so is a condition that fails to evaluate.
    case conditional(condition: Expression, then: Expression, else: Expression)
    /// `{$switch: value, cases: {name: expr, ...}, default: expr}`: only the chosen case is
    /// evaluated (and its steps run).
    case choice(value: Expression, cases: [(key: String, value: Expression)], defaultCase: Expression?)
    /// `{$coalesce: [a, b, ...]}`: the first value that is not null, evaluated left to right;
    /// options that read a step with no output are passed over, options that fail fail it.
    case coalesce([Expression])
    case object([(key: String, value: Expression)])
    case array([Expression])

    /// Steps this expression needs before it can be evaluated at all (outside lazy branches).
    package func collectEagerSteps(into steps: inout [Int]) {
        switch self {
        case .literal, .input: return
        case .step(let index, _, _): steps.append(index)
        case .withDefault(let reference, _): reference.collectEagerSteps(into: &steps)
        case .variable(_, let defaultValue): defaultValue?.collectEagerSteps(into: &steps)
        case .conditional(let condition, _, _): condition.collectEagerSteps(into: &steps)
        case .choice(let value, _, _): value.collectEagerSteps(into: &steps)
        case .coalesce(let options): options.first?.collectEagerSteps(into: &steps)
        case .object(let fields): for field in fields { field.value.collectEagerSteps(into: &steps) }
        case .array(let elements): for element in elements { element.collectEagerSteps(into: &steps) }
        }
    }

    /// Every step this expression may reference, on any branch (for cycle checks).
    package func collectAllSteps(into steps: inout [Int]) {
        switch self {
        case .literal, .input: return
        case .step(let index, _, _): steps.append(index)
        case .withDefault(let reference, let defaultValue):
            reference.collectAllSteps(into: &steps)
            defaultValue.collectAllSteps(into: &steps)
        case .variable(_, let defaultValue): defaultValue?.collectAllSteps(into: &steps)
        case .conditional(let c, let t, let e):
            c.collectAllSteps(into: &steps)
            t.collectAllSteps(into: &steps)
            e.collectAllSteps(into: &steps)
        case .choice(let value, let cases, let defaultCase):
            value.collectAllSteps(into: &steps)
            for option in cases { option.value.collectAllSteps(into: &steps) }
            defaultCase?.collectAllSteps(into: &steps)
        case .coalesce(let options): for option in options { option.collectAllSteps(into: &steps) }
        case .object(let fields): for field in fields { field.value.collectAllSteps(into: &steps) }
        case .array(let elements): for element in elements { element.collectAllSteps(into: &steps) }
        }
    }

    /// Steps referenced only inside branches that may not be taken (`$if`, `$switch`, later
    /// `$coalesce` options, a reference's `default`): when such a step never runs, it was on a branch not taken.
    package func collectBranchSteps(into steps: inout [Int]) {
        switch self {
        case .literal, .input, .step: return
        case .withDefault(let reference, let defaultValue):
            reference.collectBranchSteps(into: &steps)
            defaultValue.collectAllSteps(into: &steps)
        case .variable(_, let defaultValue): defaultValue?.collectBranchSteps(into: &steps)
        case .conditional(let condition, let thenBranch, let elseBranch):
            condition.collectBranchSteps(into: &steps)
            thenBranch.collectAllSteps(into: &steps)
            elseBranch.collectAllSteps(into: &steps)
        case .choice(let value, let cases, let defaultCase):
            value.collectBranchSteps(into: &steps)
            for option in cases { option.value.collectAllSteps(into: &steps) }
            defaultCase?.collectAllSteps(into: &steps)
        case .coalesce(let options):
            options.first?.collectBranchSteps(into: &steps)
            for option in options.dropFirst() { option.collectAllSteps(into: &steps) }
        case .object(let fields): for field in fields { field.value.collectBranchSteps(into: &steps) }
        case .array(let elements): for element in elements { element.collectBranchSteps(into: &steps) }
        }
    }

    package var isLiteral: Bool { if case .literal = self { true } else { false } }
    package var literalValue: JSON? { if case .literal(let value) = self { value } else { nil } }
}

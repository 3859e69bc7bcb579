import NodalCore
import NodalJSON
/// The builtin component `/builtin/ffi`: a step that calls a C function.
///
/// ```yaml
/// - id: power
///   component: /builtin/ffi
///   input:
///     library: libm.so.6
///     symbol: pow
///     signature: "(double, double) -> double"
///     args: [{$input: base}, {$input: exponent}]
/// ```
/// Output: `{"result": value}` (null for void). When library, symbol and signature are literals
/// (the usual case) everything but the argument values is checked when the flow is validated,
/// and the call is bound then; otherwise the same checks run when the step runs.
enum FFIStep {
    static let nodeID = "builtin/ffi"
    static let inputKeys = ["library", "symbol", "signature", "args"]

    /// Whether a builtin name (as a `builtin` route leaves it: "/builtin/ffi", "/ffi") is this one.
    static func isFFI(_ name: String) -> Bool {
        let bare = name.hasPrefix("/builtin/") ? name.dropFirst(9) : name.drop(while: { $0 == "/" })
        return bare == "ffi"
    }

    /// The route matched; the step is bound by `resolve(step:...)` (which needs the step's input),
    /// and Engine.resolve(flow) always does that before anything can run.
    static func unbound(route: String) -> ResolvedComponent {
        ResolvedComponent(route: route, nodeID: nodeID, executor: .inline { _, _ in
            .failure(StepError(code: "FFI_UNRESOLVED", message: "an FFI step ran without being resolved"))
        })
    }

    /// Checks what can be checked before running and builds the step's executor.
    static func resolve(step: FlowStep, route: String, file: String?, allowlist: FFIAllowlist, pool: BlockingCallPool) throws(FlowError) -> ResolvedComponent {
        let function = try bindAtValidation(step, file: file, allowlist: allowlist)
        if let function, function.nonBlocking {
            return ResolvedComponent(route: route, nodeID: nodeID, executor: .inline { payload, _ in
                outcome { () throws(FFIError) in try function.call(arguments(of: payload.json)) }
            })
        }
        if let function {
            return ResolvedComponent(route: route, nodeID: nodeID, executor: .pooled { payload, _ in
                outcome { () throws(FFIError) in try function.call(arguments(of: payload.json)) }
            })
        }
        // Computed library/symbol/signature: bound when the step runs, on the pool.
        return ResolvedComponent(route: route, nodeID: nodeID, executor: .pooled { payload, _ in
            outcome { () throws(FFIError) in
                let (function, args) = try bindAtRunTime(payload.json, allowlist: allowlist)
                return try function.call(args)
            }
        })
    }

    /// When library, symbol and signature are literals: checks them (allowlist, library, symbol,
    /// signature) and whatever of `args` is known, and returns the bound function. Nil when they
    /// are computed at run time.
    private static func bindAtValidation(_ step: FlowStep, file: String?, allowlist: FFIAllowlist) throws(FlowError) -> FFIFunction? {
        func refuse(_ field: String, _ message: String) -> FlowError {
            FlowError(file: file, step: step.id, field: field, message)
        }
        let fields: [(key: String, value: Expression)]
        switch step.input {
        case .literal(.object(let object)): fields = object.entries.map { ($0.key, .literal($0.value)) }
        case .object(let entries): fields = entries
        case .literal(let other):
            throw refuse("input", "an FFI step's input must be an object with library, symbol, signature and args, not \(other.typeName)")
        default: return nil  // the whole input is computed ({$input: ...}, $if, ...): checked at run time
        }
        for field in fields where !inputKeys.contains(field.key) {
            throw refuse("input.\(field.key)", "unknown key for /builtin/ffi (keys: \(inputKeys.joined(separator: ", ")))")
        }
        /// The string when the field is a literal, nil when it is computed.
        func literalString(_ key: String) throws(FlowError) -> String? {
            guard let expression = fields.last(where: { $0.key == key })?.value else {
                throw refuse("input.\(key)", "/builtin/ffi needs '\(key)'")
            }
            guard case .literal(let value) = expression else { return nil }
            guard case .string(let text) = value, !text.isEmpty else {
                throw refuse("input.\(key)", "'\(key)' must be a non-empty string, not \(value.typeName)")
            }
            return text
        }
        let library = try literalString("library"), symbol = try literalString("symbol"), signature = try literalString("signature")
        guard let library, let symbol, let signature else { return nil }
        do throws(FFIError) {
            let function = try FFIFunction.bind(library: library, symbol: symbol, signature: signature, allowlist: allowlist)
            switch fields.last(where: { $0.key == "args" })?.value {
            case nil: try function.checkCount(0)
            case .literal(.array(let values))?: _ = try function.convert(values)
            case .literal(let other)?:
                throw FFIError(.badInput, field: "args", "'args' must be an array, one value per parameter, not \(other.typeName)")
            case .array(let elements)?:
                try function.checkCount(elements.count)
                for (index, element) in elements.enumerated() {
                    if case .literal(let value) = element { _ = try FFIArgument(value, as: function.signature.parameters[index], index: index) }
                }
            default: break  // computed as a whole: counted and checked at run time
            }
            return function
        } catch {
            throw error.flowError(file: file, step: step.id)
        }
    }

    /// For inputs only known at run time: the same checks as at validation.
    private static func bindAtRunTime(_ input: JSON, allowlist: FFIAllowlist) throws(FFIError) -> (FFIFunction, [JSON]) {
        guard case .object(let object) = input else {
            throw FFIError(.badInput, field: "input", "an FFI step's input must be an object with library, symbol, signature and args, not \(input.typeName)")
        }
        for key in object.keys where !inputKeys.contains(key) {
            throw FFIError(.badInput, field: key, "unknown key for /builtin/ffi (keys: \(inputKeys.joined(separator: ", ")))")
        }
        func string(_ key: String) throws(FFIError) -> String {
            guard case .string(let text)? = object[key], !text.isEmpty else {
                throw FFIError(.badInput, field: key, "/builtin/ffi needs '\(key)' as a non-empty string, not \(object[key]?.typeName ?? "nothing")")
            }
            return text
        }
        let function = try FFIFunction.bind(library: string("library"), symbol: string("symbol"), signature: string("signature"), allowlist: allowlist)
        return (function, try arguments(of: input))
    }

    /// The `args` array of a step input (none means no arguments).
    private static func arguments(of input: JSON) throws(FFIError) -> [JSON] {
        switch input["args"] {
        case nil, .null?: return []
        case .array(let values)?: return values
        case let other?: throw FFIError(.badInput, field: "args", "'args' must be an array, one value per parameter, not \(other.typeName)")
        }
    }

    private static func outcome(_ body: () throws(FFIError) -> JSON) -> NodeOutcome {
        do { return .success(Payload(json: ["result": try body()])) } catch { return .failure(error.stepError) }
    }

    /// Runs `body` on the blocking-call pool: a slow C function must not hold a cooperative thread.
    static func onPool<T: Sendable>(_ pool: BlockingCallPool, _ body: @escaping @Sendable () throws(FFIError) -> T) async -> Result<T, FFIError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, FFIError>, Never>) in
            pool.submit { continuation.resume(returning: Result { () throws(FFIError) in try body() }) }
        }
    }
}

public import NodalCore
public import NodalJSON

/// Calling C functions through libffi from the embedding API (README: Calling C functions).
extension Engine {
    /// Lets flows (and `callFFI`) call functions of `library`, matched exactly as steps write it
    /// ("libm.so.6", or an absolute path), each with the signature given for it:
    /// `["pow": "(double, double) -> double"]`. A call with another signature is refused (it
    /// could pass numbers where the function reads pointers). Set `nonBlocking` only for
    /// functions that are cheap and never block: they are then called inline on the scheduler,
    /// skipping the hop to the blocking-call pool. Allowing is additive (a second call may allow
    /// another signature of the same function); the configuration's `ffi: allow:` entries are
    /// allowed from the start.
    ///
    /// - Throws: `FlowError` naming the function whose signature does not parse, or saying that the
    ///   engine was created without `extensions: [.ffi]`.
    public func allowFFI(library: String, symbols: [String: String], nonBlocking: Bool = false) throws(FlowError) {
        var permission = FFIPermission(library: library, symbols: [:], nonBlocking: nonBlocking)
        for (symbol, text) in symbols {
            do {
                permission.symbols[symbol, default: []].insert(try FFISignature(parsing: text))
            } catch {
                throw FlowError(field: "symbols.\(symbol)", error.message)
            }
        }
        do {
            try ffiProvider().allowlist.allow(permission)
        } catch {
            throw FlowError(field: "engine", error.message)
        }
    }

    /// Calls a C function as a `/builtin/ffi` step would, with the same allowlist and checks,
    /// and returns its result (null for void). Runs on the blocking-call pool unless the library
    /// was allowed as non-blocking.
    ///
    /// ```swift
    /// try engine.allowFFI(library: "libm.so.6", symbols: ["pow": "(double, double) -> double"])
    /// let x = try await engine.callFFI(library: "libm.so.6", symbol: "pow",
    ///                                  signature: "(double, double) -> double", arguments: [2, 10])
    /// ```
    /// - Throws: `StepError` with code `FFI_NOT_ALLOWED` (also for a signature other than the
    ///   allowed one), `FFI_LIBRARY_NOT_FOUND`, `FFI_SYMBOL_NOT_FOUND`, `FFI_NOT_A_FUNCTION`,
    ///   `FFI_BAD_SIGNATURE` or `FFI_BAD_ARGUMENT`.
    public func callFFI(library: String, symbol: String, signature: String, arguments: [JSON]) async throws(StepError) -> JSON {
        let function: FFIFunction
        do {
            function = try FFIFunction.bind(library: library, symbol: symbol, signature: signature, allowlist: ffiProvider().allowlist)
        } catch {
            throw error.stepError
        }
        let result = function.nonBlocking
            ? Result { () throws(FFIError) in try function.call(arguments) }
            : await FFIStep.onPool(pool) { () throws(FFIError) in try function.call(arguments) }
        switch result {
        case .success(let value): return value
        case .failure(let error): throw error.stepError
        }
    }
}

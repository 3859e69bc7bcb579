public import NodalJSON
/// Calling C functions through libffi from the embedding API (see docs/ffi.md).
extension Engine {
    /// Lets flows (and `callFFI`) call functions of `library`, matched exactly as steps write it
    /// ("libm.so.6", or an absolute path). With `symbols`, only those functions. Set
    /// `nonBlocking` only for functions that are cheap and never block: they are then called
    /// inline on the scheduler, skipping the hop to the blocking-call pool.
    /// Allowing is additive; the configuration's `ffi: allow:` entries are allowed from the start.
    public func allowFFI(library: String, symbols: [String]? = nil, nonBlocking: Bool = false) {
        ffiAllowlist.allow(FFIPermission(library: library, symbols: symbols.map(Set.init), nonBlocking: nonBlocking))
    }

    /// Calls a C function as a `/builtin/ffi` step would, with the same allowlist and checks,
    /// and returns its result (null for void). Runs on the blocking-call pool unless the library
    /// was allowed as non-blocking.
    ///
    /// ```swift
    /// engine.allowFFI(library: "libm.so.6", symbols: ["pow"])
    /// let x = try await engine.callFFI(library: "libm.so.6", symbol: "pow",
    ///                                  signature: "(double, double) -> double", arguments: [2, 10])
    /// ```
    /// - Throws: `StepError` with code `FFI_NOT_ALLOWED`, `FFI_LIBRARY_NOT_FOUND`,
    ///   `FFI_SYMBOL_NOT_FOUND`, `FFI_BAD_SIGNATURE` or `FFI_BAD_ARGUMENT`.
    public func callFFI(library: String, symbol: String, signature: String, arguments: [JSON]) async throws(StepError) -> JSON {
        let function: FFIFunction
        do {
            function = try FFIFunction.bind(library: library, symbol: symbol, signature: signature, allowlist: ffiAllowlist)
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

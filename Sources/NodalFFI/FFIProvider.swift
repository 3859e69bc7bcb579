public import NodalCore

/// `/builtin/ffi` for an engine: its allowlist (the configuration's `ffi: allow:` entries plus
/// what `Engine.allowFFI` adds) and the binding of each FFI step.
final class FFIProvider: BuiltinProvider {
    let name = "ffi"
    let allowlist: FFIAllowlist

    init(configuration: NodalConfig) {
        allowlist = FFIAllowlist(configuration.ffiAllowlist)
    }

    func resolve(step: FlowStep, route: String, file: String?, pool: BlockingCallPool) throws -> ResolvedComponent {
        try FFIStep.resolve(step: step, route: route, file: file, allowlist: allowlist, pool: pool)
    }
}

extension EngineExtension {
    /// `/builtin/ffi` steps: C functions called through libffi, as the configuration's
    /// `ffi: allow:` and `Engine.allowFFI` allow. `Engine(extensions: [.ffi])`.
    public static var ffi: EngineExtension {
        EngineExtension { configuration in FFIProvider(configuration: configuration) }
    }
}

extension Engine {
    /// The engine's FFI provider, or the error that says how to get one.
    func ffiProvider() throws(FFIError) -> FFIProvider {
        guard let provider = providers["ffi"] as? FFIProvider else {
            throw FFIError(.notAllowed, field: "engine", "this engine was created without FFI: create it with `Engine(extensions: [.ffi])`")
        }
        return provider
    }
}

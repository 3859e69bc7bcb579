import NodalJSON

/// A builtin the core does not implement itself, provided by another target (FFI steps come
/// from NodalFFI). The engine knows such builtins only through this protocol, so the core
/// depends on none of them.
package protocol BuiltinProvider: Sendable {
    /// The builtin's name under `/builtin/` (`ffi`).
    var name: String { get }
    /// Binds one step to an executor, checking what can be checked before the run (its input's
    /// constants); throws a `FlowError` naming the field otherwise. Called on every resolution of
    /// the flow, from any thread.
    func resolve(step: FlowStep, route: String, file: String?, pool: BlockingCallPool) throws -> ResolvedComponent
}

/// Something an engine is created with that adds builtins: `Engine(extensions: [.ffi])` (from
/// NodalFFI, re-exported by `Nodal`).
public struct EngineExtension: Sendable {
    /// Makes the engine's provider from its configuration (an FFI provider reads `ffi: allow:`).
    package let makeProvider: @Sendable (NodalConfig) -> any BuiltinProvider

    package init(makeProvider: @escaping @Sendable (NodalConfig) -> any BuiltinProvider) {
        self.makeProvider = makeProvider
    }
}

extension String {
    /// For a node id `builtin/NAME`: NAME.
    var providedBuiltinName: String? { hasPrefix("builtin/") ? String(dropFirst(8)) : nil }
}

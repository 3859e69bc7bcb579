import NodalCore
import NodalJSON
import Synchronization

/// The engine's FFI allowlist. Nothing is allowed until the configuration or the embedding app
/// says so: a flow from an untrusted source must not be able to call `system` or `unlink`.
///
/// It also remembers functions already bound under it, because every run resolves its flow
/// again: one lookup then replaces the allowlist, library, symbol and signature lookups.
final class FFIAllowlist: Sendable {
    struct BindingKey: Hashable {
        var library: String
        var symbol: String
        var signature: String
    }

    private struct State {
        var permissions: [FFIPermission]
        /// Cleared whenever the allowlist changes (a new entry may make a function non-blocking).
        var bound: [BindingKey: FFIFunction] = [:]
    }

    private let state: Mutex<State>
    /// Keeps signatures computed at run time from growing `bound` without limit.
    private static let boundLimit = 4096

    init(_ permissions: [FFIPermission]) {
        state = Mutex(State(permissions: permissions))
    }

    func allow(_ permission: FFIPermission) {
        state.withLock { state in
            state.permissions.append(permission)
            state.bound.removeAll()
        }
    }

    func bound(_ key: BindingKey) -> FFIFunction? {
        state.withLock { $0.bound[key] }
    }

    func remember(_ function: FFIFunction, for key: BindingKey) {
        state.withLock { state in
            if state.bound.count < Self.boundLimit { state.bound[key] = function }
        }
    }

    /// The permission that lets `symbol` of `library` be called with `signature`, or an error
    /// saying how to allow it (field `library`, `symbol` or `signature`).
    func check(library: String, symbol: String, signature: FFISignature) throws(FFIError) -> FFIPermission {
        let forLibrary = state.withLock { state in state.permissions.filter { $0.library == library } }
        let forSymbol = forLibrary.filter { $0.allows(symbol) }
        let details: JSON = ["library": .string(library), "symbol": .string(symbol), "signature": .string(signature.description)]
        let snippet = """
              ffi:
                allow:
                  - library: \(library)
                    symbols:
                      \(symbol): "\(signature)"
            or, when embedding, call try engine.allowFFI(library: "\(library)", symbols: ["\(symbol)": "\(signature)"])
            """
        if forLibrary.isEmpty {
            throw FFIError(.notAllowed, field: "library", """
                library '\(library)' is not on the FFI allowlist, so flows may not call it. \
                To allow it, add it to a configuration you trust (one you name with --config FILE, or \
                \(NodalConfig.userFolderDescription)/nodal-config.yml):
                \(snippet)
                """, details: details)
        }
        if forSymbol.isEmpty {
            let allowed = Set(forLibrary.flatMap { $0.symbols.keys }).sorted()
            throw FFIError(.notAllowed, field: "symbol", """
                symbol '\(symbol)' of library '\(library)' is not on the FFI allowlist \
                (allowed: \(allowed.joined(separator: ", "))). To allow it, add it with its signature to the \
                library's symbols in a configuration you trust (one you name with --config FILE, or \
                \(NodalConfig.userFolderDescription)/nodal-config.yml):
                \(snippet)
                """, details: details)
        }
        let matching = forSymbol.filter { $0.symbols[symbol]!.contains(signature) }
        guard let permission = matching.first else {
            let declared = Set(forSymbol.flatMap { $0.symbols[symbol]! }).map(\.description).sorted()
            throw FFIError(.notAllowed, field: "signature", """
                signature '\(signature)' for \(symbol) of library '\(library)' is not the one the FFI allowlist \
                declares: \(declared.map { "'\($0)'" }.joined(separator: " or ")). A call with another \
                signature could pass numbers where the function reads pointers, so it is refused
                """, details: ["library": .string(library), "symbol": .string(symbol), "signature": .string(signature.description),
                               "allowed": .array(declared.map(JSON.string))])
        }
        // Several entries may allow it; any of them flagging it non-blocking is enough.
        return matching.first(where: \.nonBlocking) ?? permission
    }
}

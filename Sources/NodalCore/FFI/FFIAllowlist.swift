import NodalJSON
import Synchronization

/// Permission to call functions of one library through FFI: the `ffi: allow:` entries of the
/// configuration, or `Engine.allowFFI`.
struct FFIPermission: Sendable, Hashable {
    /// Matched exactly as a step writes it: "libm.so.6" or an absolute path.
    var library: String
    /// When present, only these symbols; when nil, every symbol of the library.
    var symbols: Set<String>?
    /// The functions are cheap and never block: call them inline on the scheduler instead of
    /// hopping to the blocking-call pool (which costs microseconds per call).
    var nonBlocking: Bool = false

    func allows(_ symbol: String) -> Bool { symbols?.contains(symbol) ?? true }

    /// Reads the value of the configuration's `ffi:` key:
    /// `{allow: [{library: "libm.so.6", symbols: ["pow"], nonBlocking: true}]}`.
    static func parseConfiguration(_ value: JSON, file: String?) throws(FlowError) -> [FFIPermission] {
        func error(_ field: String, _ message: String) -> FlowError { FlowError(file: file, field: field, message) }
        guard case .object(let ffi) = value else {
            throw error("ffi", "'ffi' must be a mapping with an 'allow' list")
        }
        for (key, _) in ffi where key != "allow" {
            throw error("ffi.\(key)", "unknown key (known: allow)")
        }
        guard let allow = ffi["allow"] else { return [] }
        guard case .array(let entries) = allow else {
            throw error("ffi.allow", "'allow' must be a list of entries such as '- library: libm.so.6'")
        }
        var permissions: [FFIPermission] = []
        for (index, entry) in entries.enumerated() {
            let field = "ffi.allow[\(index)]"
            guard case .object(let object) = entry else {
                throw error(field, "an entry must be a mapping with 'library' and optional 'symbols' and 'nonBlocking'")
            }
            for (key, _) in object where !["library", "symbols", "nonBlocking"].contains(key) {
                throw error("\(field).\(key)", "unknown key (known: library, symbols, nonBlocking)")
            }
            guard case .string(let library)? = object["library"], !library.isEmpty else {
                throw error("\(field).library", "an entry needs 'library: NAME' (such as libm.so.6, or an absolute path)")
            }
            var permission = FFIPermission(library: library)
            switch object["symbols"] {
            case nil, .null?: break
            case .array(let names)?:
                var symbols = Set<String>()
                for (position, name) in names.enumerated() {
                    guard case .string(let symbol) = name, !symbol.isEmpty else {
                        throw error("\(field).symbols[\(position)]", "a symbol must be a non-empty string")
                    }
                    symbols.insert(symbol)
                }
                permission.symbols = symbols
            case let other?:
                throw error("\(field).symbols", "'symbols' must be a list of names such as [pow, sqrt], not \(other.typeName)")
            }
            switch object["nonBlocking"] {
            case nil, .null?: break
            case .bool(let flag)?: permission.nonBlocking = flag
            case let other?: throw error("\(field).nonBlocking", "'nonBlocking' must be true or false, not \(other.typeName)")
            }
            permissions.append(permission)
        }
        return permissions
    }
}

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

    /// The permission that lets `symbol` of `library` be called, or an error saying how to allow it.
    func check(library: String, symbol: String) throws(FFIError) -> FFIPermission {
        let forLibrary = state.withLock { state in state.permissions.filter { $0.library == library } }
        if let permission = forLibrary.first(where: { $0.allows(symbol) }) {
            // Several entries may allow it; any of them flagging it non-blocking is enough.
            return forLibrary.first(where: { $0.allows(symbol) && $0.nonBlocking }) ?? permission
        }
        if forLibrary.isEmpty {
            throw FFIError(.notAllowed, field: "library", """
                library '\(library)' is not on the FFI allowlist, so flows may not call it. \
                To allow it, add it to the engine configuration (nodal-config.yml):
                  ffi:
                    allow:
                      - library: \(library)
                        symbols: [\(symbol)]
                or, when embedding, call engine.allowFFI(library: "\(library)", symbols: ["\(symbol)"])
                """, details: ["library": .string(library), "symbol": .string(symbol)])
        }
        let allowed = forLibrary.flatMap { $0.symbols ?? [] }.sorted()
        throw FFIError(.notAllowed, field: "symbol", """
            symbol '\(symbol)' of library '\(library)' is not on the FFI allowlist \
            (allowed: \(allowed.joined(separator: ", "))). To allow it, add it to the library's \
            symbols in the engine configuration (nodal-config.yml):
              ffi:
                allow:
                  - library: \(library)
                    symbols: [\((allowed + [symbol]).joined(separator: ", "))]
            or, when embedding, call engine.allowFFI(library: "\(library)", symbols: ["\(symbol)"])
            """, details: ["library": .string(library), "symbol": .string(symbol)])
    }
}

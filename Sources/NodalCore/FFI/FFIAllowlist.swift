import NodalJSON
import Synchronization

/// Permission to call functions of one library through FFI: the `ffi: allow:` entries of the
/// configuration, or `Engine.allowFFI`.
///
/// A permission names each function together with its signature: the signature is what makes a
/// call safe (a flow that could declare `strlen` as `(int64) -> uint64` could pass any address
/// as a pointer), so a step whose signature differs is refused, and a library with no declared
/// functions allows nothing.
struct FFIPermission: Sendable, Hashable {
    /// Matched exactly as a step writes it: "libm.so.6" or an absolute path.
    var library: String
    /// The functions allowed and, for each, the signatures it may be called with (normalized).
    var symbols: [String: Set<FFISignature>]
    /// The functions are cheap and never block: call them inline on the scheduler instead of
    /// hopping to the blocking-call pool (which costs microseconds per call).
    var nonBlocking: Bool = false

    func allows(_ symbol: String) -> Bool { symbols[symbol] != nil }

    /// Reads the value of the configuration's `ffi:` key:
    /// `{allow: [{library: "libm.so.6", symbols: {pow: "(double, double) -> double"}, nonBlocking: true}]}`.
    /// A symbol's value is its signature, or a list of the signatures it may be called with.
    static func parseConfiguration(_ value: JSON, file: String?) throws(FlowError) -> [FFIPermission] {
        func error(_ field: String, _ message: String) -> FlowError { FlowError(file: file, field: field, message) }
        guard case .object(let ffi) = value else {
            throw error("ffi", "'ffi' must be a mapping with an 'allow' list")
        }
        for (key, _) in ffi where key != "allow" {
            throw error("ffi.\(key)", "unknown key (known: allow)")
        }
        guard let allow = ffi["allow"], !allow.isNull else { return [] }
        guard case .array(let entries) = allow else {
            throw error("ffi.allow", "'allow' must be a list of entries such as '- library: libm.so.6'")
        }
        var permissions: [FFIPermission] = []
        for (index, entry) in entries.enumerated() {
            let field = "ffi.allow[\(index)]"
            guard case .object(let object) = entry else {
                throw error(field, "an entry must be a mapping with 'library', 'symbols' and optional 'nonBlocking'")
            }
            for (key, _) in object where !["library", "symbols", "nonBlocking"].contains(key) {
                throw error("\(field).\(key)", "unknown key (known: library, symbols, nonBlocking)")
            }
            guard case .string(let library)? = object["library"], !library.isEmpty else {
                throw error("\(field).library", "an entry needs 'library: NAME' (such as libm.so.6, or an absolute path)")
            }
            var permission = FFIPermission(library: library, symbols: [:])
            switch object["symbols"] {
            case .object(let functions)? where !functions.isEmpty:
                for (symbol, signatures) in functions {
                    let at = "\(field).symbols.\(symbol)"
                    guard !symbol.isEmpty else { throw error(at, "a function name must not be empty") }
                    let texts: [JSON]
                    switch signatures {
                    case .string: texts = [signatures]
                    case .array(let list) where !list.isEmpty: texts = list
                    default:
                        throw error(at, "give the function's signature, such as \"(double, double) -> double\" (or a list of them), not \(signatures.typeName)")
                    }
                    for (position, text) in texts.enumerated() {
                        let place = texts.count == 1 && signatures.stringValue != nil ? at : "\(at)[\(position)]"
                        guard case .string(let spelled) = text else {
                            throw error(place, "a signature must be a string such as \"(double, double) -> double\", not \(text.typeName)")
                        }
                        do {
                            permission.symbols[symbol, default: []].insert(try FFISignature(parsing: spelled))
                        } catch let problem {
                            throw error(place, problem.message)
                        }
                    }
                }
            case .array?:
                throw error("\(field).symbols", """
                    'symbols' must map each function to its signature, such as {pow: "(double, double) -> double"}: \
                    the signature is part of the permission, so a list of names allows nothing
                    """)
            case nil, .null?, .object?:
                throw error("\(field).symbols", """
                    an entry must declare the functions it allows and their signatures, such as \
                    symbols: {pow: "(double, double) -> double"}; a library without them allows nothing
                    """)
            case let other?:
                throw error("\(field).symbols", "'symbols' must map function names to signatures, not \(other.typeName)")
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

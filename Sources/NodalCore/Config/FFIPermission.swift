import NodalJSON
/// Permission to call functions of one library through FFI: the `ffi: allow:` entries of the
/// configuration, or `Engine.allowFFI`.
///
/// A permission names each function together with its signature: the signature is what makes a
/// call safe (a flow that could declare `strlen` as `(int64) -> uint64` could pass any address
/// as a pointer), so a step whose signature differs is refused, and a library with no declared
/// functions allows nothing.
package struct FFIPermission: Sendable, Hashable {
    /// Matched exactly as a step writes it: "libm.so.6" or an absolute path.
    package var library: String
    /// The functions allowed and, for each, the signatures it may be called with (normalized).
    package var symbols: [String: Set<FFISignature>]
    /// The functions are cheap and never block: call them inline on the scheduler instead of
    /// hopping to the blocking-call pool (which costs microseconds per call).
    package var nonBlocking: Bool = false

    package init(library: String, symbols: [String: Set<FFISignature>], nonBlocking: Bool = false) {
        self.library = library
        self.symbols = symbols
        self.nonBlocking = nonBlocking
    }

    package func allows(_ symbol: String) -> Bool { symbols[symbol] != nil }

    /// Reads the value of the configuration's `ffi:` key:
    /// `{allow: [{library: "libm.so.6", symbols: {pow: "(double, double) -> double"}, nonBlocking: true}]}`.
    /// A symbol's value is its signature, or a list of the signatures it may be called with.
    package static func parseConfiguration(_ value: JSON, file: String?) throws(FlowError) -> [FFIPermission] {
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

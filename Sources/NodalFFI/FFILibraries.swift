import NodalCore
import NodalJSON
import CFFI
import CNodalShims
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Libraries opened for FFI and the symbols found in them, process-wide.
///
/// A library is opened once and never closed: prepared calls keep raw function addresses, and
/// closing a library that a Swift runtime or another caller still uses can crash later lookups.
enum FFILibraries {
    /// A `dlsym` address. `@unchecked Sendable`: it is a code address in a library that is never
    /// unloaded, so it stays valid on every thread.
    struct Address: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
    }

    private struct State {
        var handles: [String: Address] = [:]
        var symbols: [String: Address] = [:]
    }

    private static let state = Mutex(State())

    /// The address of `symbol` in `library` (opened on first use). Call only after the allowlist
    /// check: opening a library runs its constructors.
    static func lookup(library: String, symbol: String) throws(FFIError) -> Address {
        let key = library + "\u{0}" + symbol
        return try state.withLock { (state: inout State) throws(FFIError) -> Address in
            if let address = state.symbols[key] { return address }
            let handle: Address
            if let open = state.handles[library] {
                handle = open
            } else {
                // RTLD_NOW: an unresolvable dependency fails here, not at the first call.
                guard let opened = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
                    throw FFIError(.libraryNotFound, field: "library",
                        "cannot open library '\(library)': \(lastError()) (give a name the dynamic loader finds, such as libm.so.6, or an absolute path)",
                        details: ["library": .string(library)])
                }
                handle = Address(pointer: opened)
                state.handles[library] = handle
            }
            _ = dlerror()
            guard let found = dlsym(handle.pointer, symbol) else {
                throw FFIError(.symbolNotFound, field: "symbol",
                    "library '\(library)' has no symbol '\(symbol)' (\(lastError()))",
                    details: ["library": .string(library), "symbol": .string(symbol)])
            }
            // dlsym also searches the library's dependencies; only the named library's own
            // functions are allowed (else allowing libm would let a flow reach libc's system).
            var definedIn: UnsafePointer<CChar>?
            if nodal_dl_address_in(handle.pointer, found, &definedIn) == 0 {
                let owner = definedIn.map { String(cString: $0) } ?? "another library"
                throw FFIError(.symbolNotFound, field: "symbol",
                    "library '\(library)' does not define '\(symbol)'; it comes from \(owner), one of its dependencies (name and allow that library to call it)",
                    details: ["library": .string(library), "symbol": .string(symbol), "definedIn": .string(owner)])
            }
            // A data symbol (libm's `signgam`, a table, a function pointer variable) is never
            // called: jumping to data crashes the process, or worse, runs what a flow wrote there.
            if nodal_dl_is_code(found) == 0 {
                throw FFIError(.notAFunction, field: "symbol",
                    "'\(symbol)' in library '\(library)' is data, not a function, so it cannot be called",
                    details: ["library": .string(library), "symbol": .string(symbol)])
            }
            let address = Address(pointer: found)
            state.symbols[key] = address
            return address
        }
    }

    private static func lastError() -> String {
        guard let message = dlerror() else { return "no reason given" }
        return String(cString: message)
    }
}

import Foundation
import Testing
@testable import NodalCore
@testable import NodalFFI
@testable import NodalJSON
@testable import NodalSQLite

/// Issue 11, hostile trial: the FFI allowlist named functions but not their signatures, so a flow
/// could call an allowed `strlen` or `crc32` declaring integers where they read pointers (a crash,
/// or reads of any address), and call a data symbol such as libm's `signgam`.
@Suite struct HardeningFFITests {
    func flow(_ input: String) throws -> Flow {
        try Flow(yaml: """
            steps:
              - id: call
                component: /builtin/ffi
                input: \(input)
            output: { $step: call, path: result }
            """, file: "hostile.yaml")
    }

    func validationError(_ engine: Engine, _ flow: Flow) -> FlowError? {
        do {
            try engine.validate(flow)
            Issue.record("expected validation to fail")
            return nil
        } catch {
            return error as? FlowError
        }
    }

    static let allowed = """
        ffi:
          allow:
            - library: libc.so.6
              symbols: { strlen: "(string) -> size_t" }
            - library: libz.so.1
              symbols: { crc32: "(uint64, bytes<uint32>) -> uint64" }
            - library: libm.so.6
              symbols: { signgam: "() -> int32", pow: "(double, double) -> double" }
        """

    @Test func strlenWithAnIntegerForItsPointerIsRefusedNamingStepFieldAndBothSignatures() async throws {
        let engine = Engine(configuration: try NodalConfig(yaml: Self.allowed), extensions: [.ffi])
        let hostile = try flow("{ library: libc.so.6, symbol: strlen, signature: \"(int64) -> uint64\", args: [4096] }")
        let error = try #require(validationError(engine, hostile))
        #expect(error.file == "hostile.yaml")
        #expect(error.step == "call")
        #expect(error.field == "input.signature")
        #expect(error.message.contains("'(int64) -> uint64'"))
        #expect(error.message.contains("'(string) -> uint64'"))
        // run() refuses it the same way, and the engine goes on.
        let result = await engine.run(hostile, input: [:])
        #expect(result.status == .failed)
        let fine = try flow("{ library: libc.so.6, symbol: strlen, signature: \"(string) -> uint64\", args: [\"four\"] }")
        #expect(await engine.run(fine, input: [:]).output == 4)
    }

    @Test func crc32WithItsPointerAsANumberIsRefused() async throws {
        let engine = Engine(configuration: try NodalConfig(yaml: Self.allowed), extensions: [.ffi])
        let hostile = try flow("{ library: libz.so.1, symbol: crc32, signature: \"(uint64, uint64, uint32) -> uint64\", args: [0, 4096, 64] }")
        let error = try #require(validationError(engine, hostile))
        #expect(error.field == "input.signature")
        #expect(error.message.contains("(uint64, uint64, uint32) -> uint64"))
        #expect(error.message.contains("(uint64, bytes<uint32>) -> uint64"))
    }

    @Test func aSignatureComputedAtRunTimeIsCheckedWhenTheStepRuns() async throws {
        let engine = Engine(configuration: try NodalConfig(yaml: Self.allowed), extensions: [.ffi])
        let computed = try flow("{ library: libc.so.6, symbol: strlen, signature: { $input: signature }, args: { $input: args } }")
        try engine.validate(computed)
        let refused = await engine.run(computed, input: ["signature": "(uint64) -> uint64", "args": [4096]])
        #expect(refused.status == .failed)
        let stepError = try #require(refused.step("call")?.error)
        #expect(stepError.code == "FFI_NOT_ALLOWED")
        #expect(stepError.details?["field"] == "signature")
        #expect(stepError.details?["allowed"] == ["(string) -> uint64"])
        let allowed = await engine.run(computed, input: ["signature": "(string) -> size_t", "args": ["abc"]])
        #expect(allowed.output == 3)
    }

    @Test func callFFIChecksTheSignatureToo() async throws {
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: "libc.so.6", symbols: ["strlen": "(string) -> uint64"])
        do {
            _ = try await engine.callFFI(library: "libc.so.6", symbol: "strlen", signature: "(int64) -> uint64", arguments: [1])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == "FFI_NOT_ALLOWED")
            #expect(error.message.hasPrefix("signature: "))
        }
        // A bad signature in the allowlist itself is refused when allowing.
        #expect(throws: FlowError.self) { try engine.allowFFI(library: "libc.so.6", symbols: ["strlen": "(char*) -> size_t"]) }
    }

    @Test func aDataSymbolIsNeverCalledEvenWhenAllowed() async throws {
        let engine = Engine(configuration: try NodalConfig(yaml: Self.allowed), extensions: [.ffi])
        let hostile = try flow("{ library: libm.so.6, symbol: signgam, signature: \"() -> int32\" }")
        let error = try #require(validationError(engine, hostile))
        #expect(error.field == "input.symbol")
        #expect(error.message.contains("'signgam' in library 'libm.so.6' is data, not a function"))
        do {
            _ = try await engine.callFFI(library: "libm.so.6", symbol: "signgam", signature: "() -> int32", arguments: [])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == "FFI_NOT_A_FUNCTION")
        }
        // libc's `environ` too; and functions, IFUNCs included (strlen), still are code.
        try engine.allowFFI(library: "libc.so.6", symbols: ["environ": "() -> uint64"])
        do {
            _ = try await engine.callFFI(library: "libc.so.6", symbol: "environ", signature: "() -> uint64", arguments: [])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == "FFI_NOT_A_FUNCTION")
        }
        #expect(try await engine.callFFI(library: "libm.so.6", symbol: "pow", signature: "(double, double) -> double", arguments: [2, 3]) == 8.0)
        #expect(try await engine.callFFI(library: "libc.so.6", symbol: "strlen", signature: "(string) -> uint64", arguments: ["ifunc"]) == 5)
    }

    @Test func aWholeLibraryWithoutDeclaredFunctionsAllowsNothing() {
        for yaml in ["ffi:\n  allow:\n    - library: libc.so.6\n", "ffi:\n  allow:\n    - library: libc.so.6\n      symbols: [system]\n",
                     "ffi:\n  allow:\n    - library: libc.so.6\n      symbols: {}\n"] {
            #expect(throws: FlowError.self, "\(yaml)") { try NodalConfig(yaml: yaml) }
        }
    }
}

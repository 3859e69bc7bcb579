import Foundation
import Testing
@testable import NodalCore
@testable import NodalFFI
@testable import NodalJSON
@testable import NodalSQLite

/// `/builtin/ffi` steps and `Engine.callFFI`: real calls into libm, libc, libz and a library
/// these tests compile, and every refusal (allowlist, missing library or symbol, arguments).
@Suite struct FFITests {
    // MARK: Helpers

    /// A flow with one FFI step whose input is `input` (YAML), output the step's result.
    func ffiFlow(_ input: String) throws -> Flow {
        try Flow(yaml: """
            steps:
              - id: call
                component: /builtin/ffi
                input: \(input)
            output: { $step: call, path: result }
            """, file: "ffi-test.yaml")
    }

    func engine(allowing entries: String) throws -> Engine {
        Engine(configuration: try NodalConfig(yaml: "ffi:\n  allow:\n\(entries)"), extensions: [.ffi])
    }

    /// The FlowError `validate` throws for `flow`, or nil (then the test fails on its own).
    func validationError(_ engine: Engine, _ flow: Flow) -> FlowError? {
        do {
            try engine.validate(flow)
            Issue.record("expected validation to fail")
            return nil
        } catch let error as FlowError {
            return error
        } catch {
            Issue.record("expected a FlowError, got \(error)")
            return nil
        }
    }

    func callError(_ body: () async throws(StepError) -> JSON) async -> StepError? {
        do {
            let value = try await body()
            Issue.record("expected the call to fail, got \(value)")
            return nil
        } catch {
            return error
        }
    }

    // MARK: Calls that succeed

    @Test func powFromLibmInAFlowAllowedByConfiguration() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\", sqrt: \"(double) -> double\" }\n")
        let flow = try ffiFlow("""
            { library: libm.so.6, symbol: pow, signature: "(double, double) -> double", args: [{ $input: base }, { $input: exponent }] }
            """)
        try engine.validate(flow)
        let result = await engine.run(flow, input: ["base": 2, "exponent": 10])
        #expect(result.status == .success)
        #expect(result.output == 1024.0)
        #expect(result.step("call")?.output == ["result": 1024.0])
        let fractional = await engine.run(flow, input: ["base": 2.25, "exponent": 0.5])
        #expect(fractional.output == 1.5)
    }

    @Test func powThroughTheEmbeddingAPI() async throws {
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: "libm.so.6", symbols: ["pow": "(double, double) -> double"])
        let value = try await engine.callFFI(library: "libm.so.6", symbol: "pow", signature: "(double, double) -> double", arguments: [3, 4])
        #expect(value == 81.0)
    }

    @Test func strlenFromLibcCopiesTheStringAsUTF8() async throws {
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: "libc.so.6", symbols: ["strlen": "(string) -> size_t"])
        #expect(try await engine.callFFI(library: "libc.so.6", symbol: "strlen", signature: "(string) -> size_t", arguments: ["hello"]) == 5)
        // "wörld" is 6 bytes in UTF-8: the C side sees bytes, not characters.
        #expect(try await engine.callFFI(library: "libc.so.6", symbol: "strlen", signature: "(string) -> uint64", arguments: ["hello, wörld"]) == 13)
        #expect(try await engine.callFFI(library: "libc.so.6", symbol: "strlen", signature: "(string) -> uint64", arguments: [""]) == 0)
    }

    @Test func crc32FromLibzWithBytesInEveryForm() async throws {
        let engine = Engine(extensions: [.ffi])
        // Two signatures for one function: each is allowed on its own (spellings normalize).
        try engine.allowFFI(library: "libz.so.1", symbols: ["crc32": "(uint64, bytes) -> uint64"])
        try engine.allowFFI(library: "libz.so.1", symbols: ["crc32": "(uint64, bytes<uint32>) -> uint64"])
        let expected: JSON = 907_060_870  // crc32("hello")
        // As the issue writes it: the length goes as size_t.
        #expect(try await engine.callFFI(library: "libz.so.1", symbol: "crc32", signature: "(uint64, bytes) -> uint64", arguments: [0, "hello"]) == expected)
        // zlib's real prototype takes the length as uInt.
        let exact = "(ulong, bytes<uint32>) -> ulong"
        #expect(try await engine.callFFI(library: "libz.so.1", symbol: "crc32", signature: exact, arguments: [0, ["base64": "aGVsbG8="]]) == expected)
        #expect(try await engine.callFFI(library: "libz.so.1", symbol: "crc32", signature: exact, arguments: [0, [104, 101, 108, 108, 111]]) == expected)
        #expect(try await engine.callFFI(library: "libz.so.1", symbol: "crc32", signature: exact, arguments: [0, ""]) == 0)
    }

    @Test func crc32InAFlowWithArgumentsFromTheInput() async throws {
        let engine = try engine(allowing: "    - library: libz.so.1\n      symbols: { crc32: \"(uint64, bytes<uint32>) -> uint64\" }\n")
        let flow = try ffiFlow("""
            { library: libz.so.1, symbol: crc32, signature: "(uint64, bytes<uint32>) -> uint64", args: [0, { $input: text }] }
            """)
        try engine.validate(flow)
        let result = await engine.run(flow, input: ["text": "hello"])
        #expect(result.output == 907_060_870)
    }

    @Test func mixedIntegerAndFloatArgumentsInATestLibrary() async throws {
        let library = try await TestLibrary.path()
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: library, symbols: ["mixed": "(int8, double, uint32, float) -> int64"])
        let value = try await engine.callFFI(
            library: library, symbol: "mixed", signature: "(int8, double, uint32, float) -> int64",
            arguments: [-7, 2.5, 4_000_000_000, 0.75])
        let expected = Int64(-7) * 1_000_000_000_000 + 2_500 + 4_000_000_000 + 3
        #expect(value == .int(Int(expected)))
    }

    @Test func arraysArePassedAsPointerAndCount() async throws {
        let library = try await TestLibrary.path()
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: library, symbols: TestLibrary.signatures)
        #expect(try await engine.callFFI(library: library, symbol: "sum", signature: "(array<double>) -> double", arguments: [.array([1.5, 2, 3.25, -1])]) == 5.75)
        #expect(try await engine.callFFI(library: library, symbol: "sum", signature: "(array<double>) -> double", arguments: [[]]) == 0.0)
        #expect(try await engine.callFFI(library: library, symbol: "sum_i32", signature: "(array<int32, uint32>) -> int64", arguments: [.array([2_000_000_000, 2_000_000_000, -5])]) == 3_999_999_995)
        #expect(try await engine.callFFI(library: library, symbol: "byte_sum", signature: "(bytes<uint32>) -> uint32", arguments: [["base64": "AQID/w=="]]) == 261)  // 1 + 2 + 3 + 255
    }

    @Test func returnTypesDecode() async throws {
        let library = try await TestLibrary.path()
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: library, symbols: TestLibrary.signatures)
        func call(_ symbol: String, _ signature: String, _ arguments: [JSON] = []) async throws -> JSON {
            try await engine.callFFI(library: library, symbol: symbol, signature: signature, arguments: arguments)
        }
        #expect(try await call("next_u8", "(uint8) -> uint8", [255]) == 0)
        #expect(try await call("negate_i8", "(int8) -> int8", [5]) == -5)
        #expect(try await call("is_even", "(int64) -> bool", [10]) == true)
        #expect(try await call("is_even", "(int64) -> bool", [7]) == false)
        #expect(try await call("halve", "(float) -> float", [3]) == 1.5)
        #expect(try await call("greeting", "() -> string") == "hello from C")
        #expect(try await call("no_string", "(void) -> string") == .null)
        #expect(try await call("max_u64", "() -> uint64") == .double(18_446_744_073_709_551_615.0))
        #expect(try await call("set_counter", "(int32) -> void", [41]) == .null)
        #expect(try await call("get_counter", "() -> int32") == 41)
        #expect(try await call("flag_to_int", "(bool) -> int32", [true]) == 1)
    }

    @Test func libraryAndSymbolKnownOnlyAtRunTime() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\", sqrt: \"(double) -> double\" }\n")
        let flow = try ffiFlow("""
            { library: libm.so.6, symbol: { $input: function }, signature: { $input: signature }, args: { $input: args } }
            """)
        try engine.validate(flow)  // nothing to check yet: all is checked when the step runs
        let result = await engine.run(flow, input: ["function": "sqrt", "signature": "(double) -> double", "args": [144]])
        #expect(result.output == 12.0)
        let refused = await engine.run(flow, input: ["function": "cbrt", "signature": "(double) -> double", "args": [8]])
        #expect(refused.status == .failed)
        #expect(refused.step("call")?.error?.code == "FFI_NOT_ALLOWED")
    }

    @Test func nonBlockingLibrariesRunInlineWithTheSameResults() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\" }\n      nonBlocking: true\n")
        let flow = try ffiFlow("""
            { library: libm.so.6, symbol: pow, signature: "(double, double) -> double", args: [{ $input: base }, 3] }
            """)
        let components = try engine.resolve(flow)
        if case .inline = components[0].executor {} else { Issue.record("a non-blocking FFI step should run inline") }
        #expect(await engine.run(flow, input: ["base": 2]).output == 8.0)
        let value = try await engine.callFFI(library: "libm.so.6", symbol: "pow", signature: "(double, double) -> double", arguments: [2, 5])
        #expect(value == 32.0)
    }

    @Test func ffiThroughAConfiguredBuiltinRoute() async throws {
        let engine = Engine(configuration: try NodalConfig(yaml: """
            plugins:
              builtin: { type: builtin }
            routes:
              "/native": [{ plugin: builtin }]
            ffi:
              allow:
                - library: libm.so.6
                  symbols: { floor: "(double) -> double" }
            """), extensions: [.ffi])
        let flow = try Flow(yaml: """
            steps:
              - id: call
                component: /native/ffi
                input: { library: libm.so.6, symbol: floor, signature: "(double) -> double", args: [2.7] }
            output: { $step: call, path: result }
            """)
        #expect(await engine.run(flow, input: [:]).output == 2.0)
    }

    @Test func concurrentCallsShareOnePreparedSignature() async throws {
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: "libm.so.6", symbols: ["pow": "(double, double) -> double"])
        let results = await withTaskGroup(of: (Int, JSON?).self) { group in
            for n in 0..<200 {
                group.addTask {
                    (n, try? await engine.callFFI(library: "libm.so.6", symbol: "pow", signature: "(double,double)->double", arguments: [.int(n), 2]))
                }
            }
            var all: [Int: JSON?] = [:]
            for await (n, value) in group { all[n] = value }
            return all
        }
        for n in 0..<200 { #expect(results[n] == .double(Double(n * n))) }
        let a = try PreparedSignature.prepared("(double,double)->double")
        let b = try PreparedSignature.prepared("( double , double ) -> double")
        #expect(a === b)
    }

    // MARK: Refusals

    @Test func libraryNotOnTheAllowlistIsRefusedWithHowToAllowIt() async throws {
        let engine = Engine(extensions: [.ffi])
        let flow = try ffiFlow("""
            { library: libc.so.6, symbol: system, signature: "(string) -> int", args: ["touch /tmp/nodal-ffi-should-not-exist"] }
            """)
        let error = try #require(validationError(engine, flow))
        #expect(error.file == "ffi-test.yaml")
        #expect(error.step == "call")
        #expect(error.field == "input.library")
        #expect(error.message.contains("not on the FFI allowlist"))
        #expect(error.message.contains("ffi:\n    allow:\n      - library: libc.so.6\n        symbols:\n          system: \"(string) -> int32\""), "\(error.message)")
        #expect(error.message.contains("engine.allowFFI(library: \"libc.so.6\""))
        // run() refuses too, without calling anything.
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/nodal-ffi-should-not-exist"))

        let direct = await callError { () async throws(StepError) -> JSON in
            try await engine.callFFI(library: "libc.so.6", symbol: "system", signature: "(string) -> int", arguments: ["true"])
        }
        #expect(direct?.code == "FFI_NOT_ALLOWED")
    }

    @Test func libraryNamesMatchExactly() async throws {
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: "libm.so.6", symbols: ["pow": "(double, double) -> double"])
        let error = await callError { () async throws(StepError) -> JSON in
            try await engine.callFFI(library: "/lib/x86_64-linux-gnu/libm.so.6", symbol: "pow", signature: "(double, double) -> double", arguments: [1, 1])
        }
        #expect(error?.code == "FFI_NOT_ALLOWED")
    }

    @Test func symbolNotOnTheLibrarySymbolListIsRefused() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\" }\n")
        let flow = try ffiFlow("""
            { library: libm.so.6, symbol: sqrt, signature: "(double) -> double", args: [4] }
            """)
        let error = try #require(validationError(engine, flow))
        #expect(error.field == "input.symbol")
        #expect(error.message.contains("symbol 'sqrt' of library 'libm.so.6' is not on the FFI allowlist (allowed: pow)"))
        #expect(error.message.contains("symbols:\n          sqrt: \"(double) -> double\""), "\(error.message)")
    }

    @Test func symbolsOfDependenciesAreNotReachableThroughAnAllowedLibrary() async throws {
        // dlsym(libm) would find libc's `system`; allowing libm must not allow that.
        let engine = Engine(extensions: [.ffi])
        // Even with `system` and its signature listed under libm.
        try engine.allowFFI(library: "libm.so.6", symbols: ["system": "(string) -> int32"])
        let error = await callError { () async throws(StepError) -> JSON in
            try await engine.callFFI(library: "libm.so.6", symbol: "system", signature: "(string) -> int32", arguments: ["true"])
        }
        #expect(error?.code == "FFI_SYMBOL_NOT_FOUND")
        #expect(error?.message.contains("libc.so.6") == true)
    }

    @Test func missingLibraryIsAValidationError() async throws {
        let engine = try engine(allowing: "    - library: libnodal-does-not-exist.so\n      symbols: { f: \"() -> void\" }\n")
        let flow = try ffiFlow("""
            { library: libnodal-does-not-exist.so, symbol: f, signature: "() -> void" }
            """)
        let error = try #require(validationError(engine, flow))
        #expect(error.field == "input.library")
        #expect(error.message.contains("cannot open library 'libnodal-does-not-exist.so'"))
        let direct = await callError { () async throws(StepError) -> JSON in
            try await engine.callFFI(library: "libnodal-does-not-exist.so", symbol: "f", signature: "() -> void", arguments: [])
        }
        #expect(direct?.code == "FFI_LIBRARY_NOT_FOUND")
    }

    @Test func missingSymbolIsAValidationError() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { no_such_function: \"(double) -> double\" }\n")
        let flow = try ffiFlow("""
            { library: libm.so.6, symbol: no_such_function, signature: "(double) -> double", args: [1] }
            """)
        let error = try #require(validationError(engine, flow))
        #expect(error.step == "call")
        #expect(error.field == "input.symbol")
        #expect(error.message.contains("has no symbol 'no_such_function'"))
        let atRunTime = try ffiFlow("{ library: libm.so.6, symbol: { $input: name }, signature: \"(double) -> double\", args: [1] }")
        let result = await engine.run(atRunTime, input: ["name": "no_such_function"])
        #expect(result.step("call")?.error?.code == "FFI_SYMBOL_NOT_FOUND")
    }

    @Test func badSignatureIsAValidationError() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\" }\n")
        for (signature, fragment) in [
            ("double, double -> double", "expected '(parameter types) -> return type'"),
            ("(double, char*) -> double", "write 'string' for const char *"),
            ("(double) -> bytes", "cannot return 'bytes'"),
            ("(array<string>) -> double", "array elements must be numbers or bool"),
            ("(bytes<double>) -> double", "must be an integer type"),
            ("(void, double) -> double", "'void' is only a return type"),
        ] {
            let flow = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"\(signature)\", args: [1, 2] }")
            let error = try #require(validationError(engine, flow))
            #expect(error.field == "input.signature")
            #expect(error.message.contains(fragment), "\(signature): \(error.message)")
        }
    }

    @Test func signaturesNormalize() throws {
        let signature = try FFISignature(parsing: " ( int , size_t,array<double>, bytes<uint32>, array<int8, uint16> )->long")
        #expect(signature.description == "(int32, uint64, array<double>, bytes<uint32>, array<int8, uint16>) -> int64")
        #expect(try FFISignature(parsing: "(void) -> void").parameters.isEmpty)
        #expect(try FFISignature(parsing: "() -> double").description == "() -> double")
    }

    @Test func wrongArgumentCountIsRefused() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\" }\n")
        // Known at validation: a literal list, or a list of expressions.
        let literal = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: [2] }")
        let error = try #require(validationError(engine, literal))
        #expect(error.field == "input.args")
        #expect(error.message.contains("pow takes 2 arguments (double, double), but args has 1"))
        let expressions = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: [{ $input: a }, { $input: b }, 3] }")
        #expect(validationError(engine, expressions)?.field == "input.args")
        // Known only at run time.
        let fromInput = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: { $input: args } }")
        try engine.validate(fromInput)
        let result = await engine.run(fromInput, input: ["args": [1, 2, 3]])
        #expect(result.status == .failed)
        #expect(result.step("call")?.error?.code == "FFI_BAD_ARGUMENT")
        #expect(result.error?.step == "call")
        #expect(result.error?.message.hasPrefix("args: pow takes 2 arguments") == true)
    }

    @Test func wrongArgumentTypeIsRefusedBeforeTheCall() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\" }\n    - library: libc.so.6\n      symbols: { strlen: \"(string) -> uint64\" }\n")
        let literal = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: [2, \"ten\"] }")
        let error = try #require(validationError(engine, literal))
        #expect(error.field == "input.args[1]")
        #expect(error.message.contains("double takes a number, not string \"ten\""))

        let fromInput = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: [{ $input: x }, 2] }")
        let result = await engine.run(fromInput, input: ["x": "two"])
        let stepError = try #require(result.step("call")?.error)
        #expect(stepError.code == "FFI_BAD_ARGUMENT")
        #expect(stepError.message.contains("args[0]"))
        #expect(stepError.details?["argument"] == 0)
        #expect(stepError.details?["type"] == "double")
        #expect(result.error?.steps.first?.id == "call")

        for (value, fragment) in [(JSON.null, "not null"), (.int(3), "not number 3"), (.string("a\u{0}b"), "NUL")] {
            let refused = await callError { () async throws(StepError) -> JSON in
                try await engine.callFFI(library: "libc.so.6", symbol: "strlen", signature: "(string) -> uint64", arguments: [value])
            }
            #expect(refused?.code == "FFI_BAD_ARGUMENT")
            #expect(refused?.message.contains(fragment) == true, "\(refused?.message ?? "")")
        }
    }

    @Test func narrowIntegerOverflowIsRefusedNotTruncated() async throws {
        let library = try await TestLibrary.path()
        let engine = Engine(extensions: [.ffi])
        try engine.allowFFI(library: library, symbols: TestLibrary.signatures)
        let flow = try ffiFlow("{ library: \(library), symbol: next_u8, signature: \"(uint8) -> uint8\", args: [{ $input: n }] }")
        let result = await engine.run(flow, input: ["n": 300])
        #expect(result.status == .failed)
        let error = try #require(result.step("call")?.error)
        #expect(error.code == "FFI_BAD_ARGUMENT")
        #expect(error.message == "args[0]: 300 is out of range for uint8 (0...255)")
        #expect(result.error?.step == "call")
        #expect(result.error?.message == error.message)

        let literal = try ffiFlow("{ library: \(library), symbol: next_u8, signature: \"(uint8) -> uint8\", args: [256] }")
        let validation = try #require(validationError(engine, literal))
        #expect(validation.field == "input.args[0]")
        #expect(validation.message.contains("out of range for uint8"))

        func refused(_ signature: String, _ arguments: [JSON], symbol: String = "mixed") async -> String? {
            await callError { () async throws(StepError) -> JSON in
                try await engine.callFFI(library: library, symbol: symbol, signature: signature, arguments: arguments)
            }?.message
        }
        let mixed = "(int8, double, uint32, float) -> int64"
        #expect(await refused(mixed, [-129, 0, 0, 0]) == "args[0]: -129 is out of range for int8 (-128...127)")
        #expect(await refused(mixed, [0, 0, -1, 0]) == "args[2]: -1 is out of range for uint32 (0...4294967295)")
        #expect(await refused(mixed, [0, 0, 4_294_967_296, 0]) == "args[2]: 4294967296 is out of range for uint32 (0...4294967295)")
        #expect(await refused(mixed, [1.5, 0, 0, 0]) == "args[0]: 1.5 is not an integer, and int8 takes integers only")
        #expect(await refused(mixed, [0, 0, 0, 1e300])?.contains("out of range for float") == true)
        #expect(await refused("(array<int32, uint32>) -> int64", [[1, 3_000_000_000]], symbol: "sum_i32") == "args[0][1]: 3000000000 is out of range for int32 (-2147483648...2147483647)")
        #expect(await refused("(bytes<uint32>) -> uint32", [[1, 256]], symbol: "byte_sum") == "args[0][1]: 256 is out of range for uint8 (0...255)")
        // Integral doubles are integers (large literals arrive as doubles).
        let integral = try await engine.callFFI(library: library, symbol: "mixed", signature: mixed, arguments: [2.0, 0, 4e9, 0])
        #expect(integral == 2_004_000_000_000)
    }

    @Test func unknownInputKeysAndNonStringsAreRefused() async throws {
        let engine = try engine(allowing: "    - library: libm.so.6\n      symbols: { pow: \"(double, double) -> double\" }\n")
        let extra = try ffiFlow("{ library: libm.so.6, symbol: pow, signature: \"(double, double) -> double\", args: [1, 2], arguments: [] }")
        #expect(validationError(engine, extra)?.field == "input.arguments")
        let missing = try ffiFlow("{ library: libm.so.6, signature: \"(double, double) -> double\", args: [1, 2] }")
        #expect(validationError(engine, missing)?.field == "input.symbol")
        let number = try ffiFlow("{ library: libm.so.6, symbol: 7, signature: \"(double, double) -> double\", args: [1, 2] }")
        #expect(validationError(engine, number)?.field == "input.symbol")
    }

    @Test func configurationErrorsNameTheField() {
        func error(_ yaml: String) -> FlowError? {
            do { _ = try NodalConfig(yaml: yaml); return nil } catch { return error }
        }
        #expect(error("ffi:\n  allow:\n    - symbols: [pow]\n")?.field == "ffi.allow[0].library")
        #expect(error("ffi:\n  allow:\n    - library: libm.so.6\n      symbols: pow\n")?.field == "ffi.allow[0].symbols")
        #expect(error("ffi:\n  allow:\n    - library: libm.so.6\n      nonblocking: true\n")?.field == "ffi.allow[0].nonblocking")
        #expect(error("ffi:\n  permit: []\n")?.field == "ffi.permit")
        // The signature is part of the permission: a list of names, or no symbols, allows nothing.
        #expect(error("ffi:\n  allow:\n    - library: libm.so.6\n      symbols: [pow]\n")?.message.contains("must map each function to its signature") == true)
        #expect(error("ffi:\n  allow:\n    - library: libm.so.6\n")?.message.contains("a library without them allows nothing") == true)
        #expect(error("ffi:\n  allow:\n    - library: libm.so.6\n      symbols: { pow: \"(double) -> bytes\" }\n")?.field == "ffi.allow[0].symbols.pow")
    }
}

/// A C library compiled once per test process, with functions of mixed argument types.
enum TestLibrary {
    /// Every function of `source` with its signature, as the allowlist declares them.
    static let signatures: [String: String] = [
        "mixed": "(int8, double, uint32, float) -> int64", "sum": "(array<double>) -> double",
        "sum_i32": "(array<int32, uint32>) -> int64", "byte_sum": "(bytes<uint32>) -> uint32",
        "next_u8": "(uint8) -> uint8", "negate_i8": "(int8) -> int8", "is_even": "(int64) -> bool",
        "halve": "(float) -> float", "greeting": "() -> string", "no_string": "() -> string",
        "max_u64": "() -> uint64", "set_counter": "(int32) -> void", "get_counter": "() -> int32",
        "flag_to_int": "(bool) -> int32",
    ]

    static let source = """
        #include <stdbool.h>
        #include <stddef.h>
        #include <stdint.h>

        int64_t mixed(int8_t a, double b, uint32_t c, float d) {
            return (int64_t)a * 1000000000000LL + (int64_t)(b * 1000.0) + (int64_t)c + (int64_t)(d * 4.0f);
        }
        double sum(const double *values, size_t count) {
            double total = 0;
            for (size_t i = 0; i < count; i++) total += values[i];
            return total;
        }
        int64_t sum_i32(const int32_t *values, uint32_t count) {
            int64_t total = 0;
            for (uint32_t i = 0; i < count; i++) total += values[i];
            return total;
        }
        uint32_t byte_sum(const uint8_t *bytes, uint32_t length) {
            uint32_t total = 0;
            for (uint32_t i = 0; i < length; i++) total += bytes[i];
            return total;
        }
        uint8_t next_u8(uint8_t x) { return (uint8_t)(x + 1); }
        int8_t negate_i8(int8_t x) { return (int8_t)-x; }
        bool is_even(int64_t x) { return x % 2 == 0; }
        float halve(float x) { return x / 2; }
        const char *greeting(void) { return "hello from C"; }
        const char *no_string(void) { return NULL; }
        uint64_t max_u64(void) { return UINT64_MAX; }
        static int32_t counter;
        void set_counter(int32_t value) { counter = value; }
        int32_t get_counter(void) { return counter; }
        int32_t flag_to_int(bool flag) { return flag ? 1 : 0; }
        """

    /// Started on first use; every test awaits the same build. Nothing here blocks a thread of
    /// the cooperative pool (that would stall other suites' async work while cc runs).
    private static let built = Task<String, any Error> { try await build() }

    static func path() async throws -> String { try await built.value }

    struct BuildError: Error, CustomStringConvertible {
        var description: String
    }

    /// Compiles into one shared folder under a name derived from the source, so runs reuse one
    /// file instead of leaving one per process. Each build writes its own files and renames the
    /// library into place, so concurrent test processes never see a half-written one.
    private static func build() async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nodal-ffi-tests")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across processes, unlike hashValue
        for byte in source.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let name = "libffitest-\(String(hash, radix: 16))"
        let unique = "\(name)-\(getpid())"
        let sourceFile = folder.appendingPathComponent("\(unique).c")
        let built = folder.appendingPathComponent("\(unique).so")
        let library = folder.appendingPathComponent("\(name).so")
        try source.write(to: sourceFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: sourceFile) }
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", built.path, sourceFile.path]
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            compiler.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do { try compiler.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else {
            throw BuildError(description: "cc failed with status \(status) building \(sourceFile.path)")
        }
        guard rename(built.path, library.path) == 0 else {
            throw BuildError(description: "cannot move \(built.path) to \(library.path): errno \(errno)")
        }
        return library.path
    }
}

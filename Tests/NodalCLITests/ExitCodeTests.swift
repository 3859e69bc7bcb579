import Foundation
import NodalTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The one exit code table (README "Exit codes", `nodal --help`): each row's cases end with that
/// code, and the README, the help text and these cases list the same codes.
@Suite struct ExitCodeTests {
    /// One way to reach a row of the table, run in a folder of its own with a store of its own.
    struct Case: Sendable, CustomTestStringConvertible {
        let code: Int32
        let name: String
        let run: @Sendable (_ folder: String) throws -> (status: Int32, stdout: String, stderr: String)
        var testDescription: String { "\(code): \(name)" }
    }

    static let hello = Products.repositoryRoot + "/examples/hello"
    static let helloInput = ["--input-file", hello + "/input.json"]

    static func write(_ text: String, _ name: String, in folder: String) throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func nodal(_ arguments: [String], in folder: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let recorded = arguments.first.map { ["run", "resume"].contains($0) } ?? false
        return try runProcess(Products.nodal, arguments + (recorded ? ["--store", folder + "/runs.db"] : []))
    }

    static func store(_ folder: String) -> [String] { ["--store", folder + "/runs.db"] }

    static let cases: [Case] = [
        Case(code: 0, name: "a run that succeeds") { try nodal(["run", hello + "/flow.yaml"] + helloInput, in: $0) },
        Case(code: 1, name: "a step fails") { folder in
            try nodal(["run", try write("steps: [{id: f, component: /std/fail}]\noutput: {$step: f}\n", "fail.yaml", in: folder)], in: folder)
        },
        Case(code: 1, name: "a test case fails") { folder in
            let flow = try write("steps: []\noutput: 1\ntest:\n  cases:\n    - {name: two, input: {}, output: {outcome: success, result: 2}}\n", "t.yaml", in: folder)
            return try nodal(["test", flow], in: folder)
        },
        Case(code: 64, name: "--input and --input-file together") { try nodal(["run", hello + "/flow.yaml", "--input", "{}"] + helloInput, in: $0) },
        Case(code: 64, name: "--var without =") { try nodal(["run", hello + "/flow.yaml", "--var", "limit"] + helloInput, in: $0) },
        Case(code: 64, name: "--events with --inputs-file") { folder in
            try nodal(["run", hello + "/flow.yaml", "--events", "--inputs-file", try write("{}\n", "items.jsonl", in: folder)], in: folder)
        },
        Case(code: 64, name: "resuming a run that succeeded") { folder in
            _ = try nodal(["run", hello + "/flow.yaml", "--run-id", "done"] + helloInput, in: folder)
            return try nodal(["resume", "done"], in: folder)
        },
        Case(code: 65, name: "a flow that is not YAML") { folder in
            try nodal(["run", try write("steps: [\n  - id: a\n  bad", "malformed.yaml", in: folder)], in: folder)
        },
        Case(code: 65, name: "--input that is not JSON") { try nodal(["run", hello + "/flow.yaml", "--input", #"{"name": "#], in: $0) },
        Case(code: 65, name: "an input file that is not JSON") { folder in
            try nodal(["run", hello + "/flow.yaml", "--input-file", try write("{oops", "input.json", in: folder)], in: folder)
        },
        Case(code: 65, name: "a configuration that is not a mapping") { folder in
            try nodal(["validate", hello + "/flow.yaml", "--config", try write("[1, 2]\n", "config.yml", in: folder)], in: folder)
        },
        Case(code: 66, name: "a missing flow file (run)") { try nodal(["run", $0 + "/nope.yaml"], in: $0) },
        Case(code: 66, name: "a missing flow file (validate)") { try nodal(["validate", $0 + "/nope.yaml"], in: $0) },
        Case(code: 66, name: "a missing input file") { try nodal(["run", hello + "/flow.yaml", "--input-file", $0 + "/nope.json"], in: $0) },
        Case(code: 66, name: "a missing JSON-lines file") { try nodal(["run", hello + "/flow.yaml", "--inputs-file", $0 + "/nope.jsonl"], in: $0) },
        Case(code: 66, name: "a missing --config file") { try nodal(["validate", hello + "/flow.yaml", "--config", $0 + "/nope.yml"], in: $0) },
        Case(code: 66, name: "resuming a run id the store does not have") { try nodal(["resume", "nobody"], in: $0) },
        Case(code: 66, name: "showing a run id the store does not have") { try nodal(["runs", "show", "nobody"] + store($0), in: $0) },
        Case(code: 69, name: "a plugin the flow needs is refused") { folder in
            let plugins = folder + "/plugins"
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
            _ = try write("not a library", "plugins/libbroken.so", in: folder)
            let flow = try write("steps: [{id: s, component: /broken/node}]\noutput: {$step: s}", "needs.yaml", in: folder)
            return try nodal(["run", flow, "--plugin-path", plugins], in: folder)
        },
        Case(code: 70, name: "a plugin calls exit()") { folder in
            let plugin = try buildCPlugin(PluginExitCLITests.plugin, name: "quit", in: folder, flags: ["-pthread"])
            let flow = try write("steps: [{ id: q, component: /quit/quit, input: { code: zero } }]\noutput: { $step: q }\n", "quit.yaml", in: folder)
            return try nodal(["run", flow, "--plugin-path", plugin], in: folder)
        },
        Case(code: 73, name: "a run id used again") { folder in
            _ = try nodal(["run", hello + "/flow.yaml", "--run-id", "twice"] + helloInput, in: folder)
            return try nodal(["run", hello + "/flow.yaml", "--run-id", "twice"] + helloInput, in: folder)
        },
        Case(code: 74, name: "a store that is not a database") { folder in
            let notes = try write("hello", "notes.txt", in: folder)
            return try runProcess(Products.nodal, ["run", hello + "/flow.yaml", "--store", notes] + helloInput)
        },
        Case(code: 75, name: "a run that pauses") { folder in
            let example = Products.repositoryRoot + "/examples/interrupt"
            return try nodal(["run", example + "/publish.yaml", "--input-file", example + "/input.json"], in: folder)
        },
        Case(code: 130, name: "Ctrl-C") { folder in try interrupted(in: folder) },
    ]

    @Test(arguments: cases)
    func eachCaseEndsWithItsCode(_ example: Case) throws {
        let folder = try temporaryDirectory()
        let result = try example.run(folder)
        #expect(result.status == example.code, "\(result.stdout)\(result.stderr)")
        // Every refusal says why, on standard error.
        if example.code >= 64 && example.code != 75 { #expect(!result.stderr.isEmpty) }
    }

    @Test func theReadmeTheHelpAndTheCasesListTheSameCodes() throws {
        let readme = try String(contentsOfFile: Products.repositoryRoot + "/README.md", encoding: .utf8)
        let table = try #require(readme.components(separatedBy: "**Exit codes**").dropFirst().first)
        let readmeCodes = table.split(separator: "\n").drop { !$0.hasPrefix("| code") }.dropFirst(2)
            .prefix { $0.hasPrefix("|") }
            .compactMap { Int32($0.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) ?? "") }
        let help = try runProcess(Products.nodal, ["--help"]).stdout
        let listed = try #require(help.components(separatedBy: "Exit codes:\n").dropFirst().first)
        let helpCodes = listed.split(separator: "\n").prefix { $0.hasPrefix("  ") }
            .compactMap { line -> Int32? in line.hasPrefix("      ") ? nil : Int32(line.split(separator: " ").first ?? "") }
        #expect(readmeCodes.count == 11, "\(readmeCodes)")
        #expect(readmeCodes == helpCodes)
        var tested: [Int32] = []
        for example in Self.cases where !tested.contains(example.code) { tested.append(example.code) }
        #expect(tested == readmeCodes)
    }

    /// `nodal run` of a flow whose second step sleeps, interrupted once the first has run.
    static func interrupted(in folder: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let marker = folder + "/started.txt"
        let flow = try write("""
            steps:
              - { id: quick, component: /std/append_line, input: { path: "\(marker)", line: started } }
              - { id: slow, component: /std/sleep, input: { ms: 60000, value: { $step: quick } } }
            output: { $step: slow }
            """, "slow.yaml", in: folder)
        return try interruptOnceFileExists(marker, running: Products.nodal, ["run", flow, "--store", folder + "/runs.db"])
    }
}

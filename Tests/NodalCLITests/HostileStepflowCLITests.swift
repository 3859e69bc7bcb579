import Foundation
import NodalTestSupport
import Testing

/// Issue 12, hostile trial, through `nodal` as a user runs it: hostile flows end with an exit
/// status and a readable message, never a signal or a terminal taken over.
@Suite struct HostileStepflowCLITests {
    func nodal(_ arguments: [String], in directory: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await hostileNodal(arguments, in: directory)
    }

    /// A key holding a terminal escape and a newline was printed raw on standard error: the
    /// warning coloured the terminal and forged a line of its own.
    @Test func unknownKeysCannotDriveTheTerminal() async throws {
        let folder = try temporaryDirectory(containing: [
            "flow.yaml": """
                steps:
                  - id: "s\\e]0;owned\\a"
                    component: /builtin/noop
                    input: 1
                    "\\e[31mRED\\e[0m\\nwarning: forged": 1
                output: 1
                "\\rcursor": 2
                """,
        ])
        for command in [["run", "flow.yaml", "--no-progress"], ["validate", "flow.yaml"]] {
            let result = try await nodal(command, in: folder)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\r") && !result.stderr.contains("\u{7}"),
                    "\(command): \(result.stderr.debugDescription)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 2, "\(command): \(result.stderr)")
            #expect(!lines.contains { $0.hasPrefix("warning: forged") })
            #expect(result.stderr.contains("field '\\u{1B}[31mRED\\u{1B}[0m\\nwarning: forged'"), "\(result.stderr)")
        }
        let strict = try await nodal(["run", "--strict", "flow.yaml"], in: folder)
        #expect(strict.status == 65)
        #expect(!strict.stderr.contains("\u{1B}") && !strict.stderr.contains("\r"), "\(strict.stderr.debugDescription)")
    }

    /// A case name holding a newline printed raw by `nodal test`: a failing case could print a
    /// line that reads as a PASS of another, and a name could drive the terminal.
    @Test func caseNamesCannotForgeTestReportLines() async throws {
        let folder = try temporaryDirectory(containing: [
            "flow.yaml": """
                steps: []
                output: { $input: x }
                test:
                  cases:
                    - { name: "bad\\nPASS  flow.yaml: all good\\e[32m", input: { x: 1 }, output: { outcome: success, result: 2 } }
                """,
        ])
        let result = try await nodal(["test", "flow.yaml"], in: folder)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines == [#"FAIL  flow.yaml: bad\nPASS  flow.yaml: all good\u{1B}[32m: $: expected 2, got 1"#, "0 passed, 1 failed"],
                "\(result.stdout.debugDescription)")
    }

    /// Each of these ended `nodal` with a signal (SIGILL): NaN against an integer schema bound in
    /// `test`, `validate` and `run`, and a batch without a concurrency limit.
    @Test func hostileNumbersEndWithAnExitStatusNotASignal() async throws {
        let folder = try temporaryDirectory(containing: [
            "nan-input.yaml": """
                inputSchema: { type: object, properties: { x: { minimum: 0 } } }
                steps: []
                output: { $input: x }
                test:
                  cases:
                    - { name: nan, input: { x: .nan }, output: { outcome: success } }
                """,
            "nan.yaml": """
                outputSchema: { maximum: 10 }
                steps: []
                output: .nan
                """,
            "id.yaml": "steps: []\noutput: { $input: $ }\n",
            "items.jsonl": "1\n2\n",
            "big.json": "{\"steps\": [], \"output\": 1e400}",
        ])
        let test = try await nodal(["test", "nan-input.yaml"], in: folder)
        #expect(test.status == 1, "\(test)")
        #expect(test.stdout.contains("input.x: expected at least 0, got nan"), "\(test.stdout)")
        let validate = try await nodal(["validate", "nan.yaml"], in: folder)
        #expect(validate.status == 65, "\(validate)")
        #expect(validate.stderr.contains("field 'output': expected at most 10, got nan"), "\(validate.stderr)")
        let run = try await nodal(["run", "--strict-outputs", "nan.yaml", "--input", "{}"], in: folder)
        #expect(run.status == 65, "\(run)")
        let batch = try await nodal(
            ["run", "id.yaml", "--inputs-file", "items.jsonl", "--max-concurrency", "9223372036854775807"], in: folder)
        #expect(batch.status == 0, "\(batch)")
        #expect(batch.stdout.split(separator: "\n").count == 2)
        let big = try await nodal(["run", "big.json"], in: folder)
        #expect(big.status == 65, "\(big)")
        #expect(big.stderr.contains("number out of range: 1e400"), "\(big.stderr)")
        let input = try await nodal(["run", "id.yaml", "--input", "{\"y\": -1e400}"], in: folder)
        #expect(input.status == 65, "\(input)")
        #expect(input.stderr.contains("number out of range"), "\(input.stderr)")
    }
}

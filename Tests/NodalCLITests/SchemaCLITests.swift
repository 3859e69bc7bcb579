import Foundation
import NodalTestSupport
import Testing

/// Schemas from the command line: `nodal validate` naming step and field (exit 65), its warnings,
/// a run refused for its input, and `nodal run --strict-outputs`.
@Suite struct SchemaCLITests {
    func nodal(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(Products.nodal, arguments)
    }

    @Test func validateNamesTheStepAndFieldAndExits65() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": """
                inputSchema: { type: object, properties: { label: { type: string } } }
                steps:
                  - { id: count, component: /std/increment, input: { value: { $input: label } } }
                  - { id: sum, component: /std/add, input: { a: 1 } }
                output: { a: { $step: count }, b: { $step: sum } }
                """
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try nodal(["validate", directory + "/flow.yaml"])
        #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("error: ") == true)
        #expect(lines.first?.contains("step 'count', field 'input.value': expected a number, got a string ($.label in the flow's input schema)") == true, "\(result.stderr)")
        #expect(result.stderr.contains("step 'sum', field 'input.b': missing required property 'b'"), "\(result.stderr)")
        // `nodal run` validates first: the same problem stops it before anything runs.
        let run = try nodal(["run", directory + "/flow.yaml", "--input", #"{"label": "x"}"#])
        #expect(run.status == 65)
    }

    @Test func warningsGoToStandardErrorAndKeepTheExitCode() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": """
                steps:
                  - { id: count, component: /std/increment, input: { value: 1 }, mustExecute: true }
                """
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try nodal(["validate", directory + "/flow.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("valid (1 steps, 0 test cases)\n"))
        #expect(result.stderr.hasPrefix("warning: \(directory)/flow.yaml: field 'output': the flow has no 'output'"), "\(result.stderr)")
    }

    @Test func aRunWhoseInputDoesNotMatchFailsNamingTheField() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": """
                inputSchema:
                  type: object
                  properties:
                    user: { type: object, properties: { age: { type: integer } }, required: [age] }
                    step: { type: integer, default: 1 }
                  required: [user]
                steps:
                  - { id: older, component: /std/add, input: { a: { $input: $.user.age }, b: { $input: step } } }
                output: { $step: older, path: result }
                """
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flow = directory + "/flow.yaml"
        let bad = try nodal(["run", flow, "--input", #"{"user": {"age": "old"}}"#, "--store", "inMemory"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("run failed: the run's input does not match the flow's input schema: input.user.age: expected an integer, got string \"old\""), "\(bad.stderr)")
        #expect(!bad.stderr.contains("nodal resume"), "resuming would refuse it the same way")
        let json = try nodal(["run", flow, "--input", #"{"user": {}}"#, "--format", "json", "--store", "inMemory"])
        #expect(json.stdout.contains(#""code" : "INVALID_INPUT""#) || json.stdout.contains(#""code": "INVALID_INPUT""#), "\(json.stdout)")
        let good = try nodal(["run", flow, "--input", #"{"user": {"age": 41}}"#, "--store", "inMemory"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout == "42\n", "the default step 1 was filled in")
    }

    @Test func strictOutputsIsAFlag() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": """
                outputSchema: { type: object, properties: { n: { maximum: 3 } } }
                steps:
                  - { id: count, component: /std/increment, input: { value: 4 } }
                output: { n: { $step: count, path: value } }
                """
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flow = directory + "/flow.yaml"
        let lenient = try nodal(["run", flow, "--store", "inMemory"])
        #expect(lenient.status == 0, "\(lenient.stderr)")
        let strict = try nodal(["run", flow, "--strict-outputs", "--store", "inMemory"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("the flow's output does not match its output schema: output.n: expected at most 3, got 5"), "\(strict.stderr)")
    }
}

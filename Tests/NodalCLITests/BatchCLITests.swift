import Foundation
import NodalTestSupport
import Testing

/// `nodal run FLOW --inputs-file FILE`: one result line per item, a summary, exit codes.
@Suite struct BatchCLITests {
    static let flow = """
        steps:
          - { id: inc, component: /std/increment, input: { value: { $input: value } } }
        output: { $step: inc, path: value }
        """

    func files(_ lines: String) throws -> (flow: String, items: String) {
        let directory = try temporaryDirectory()
        let flow = directory + "/flow.yaml", items = directory + "/items.jsonl"
        try Self.flow.write(toFile: flow, atomically: true, encoding: .utf8)
        try lines.write(toFile: items, atomically: true, encoding: .utf8)
        return (flow, items)
    }

    func nodal(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(Products.nodal, arguments + ["--plugin-path", Products.plugin("nodal_std")])
    }

    /// Each stdout line as a JSON object.
    func resultLines(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func everyLineGetsAResultLineInInputOrder() throws {
        let (flow, items) = try files((0..<50).map { "{\"value\": \($0)}" }.joined(separator: "\n") + "\n")
        let result = try nodal(["run", flow, "--inputs-file", items, "--max-concurrency", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try resultLines(result.stdout)
        #expect(lines.count == 50)
        #expect(lines.map { $0["index"] as? Int } == (0..<50).map { $0 })
        #expect(lines.map { $0["line"] as? Int } == (1...50).map { $0 })
        #expect(lines.map { $0["output"] as? Int } == (1...50).map { $0 })
        #expect(lines.allSatisfy { $0["status"] as? String == "success" && $0["error"] is NSNull })
        // The documented keys, in order.
        let first = try #require(result.stdout.split(separator: "\n").first)
        #expect(first.hasPrefix(#"{"index":0,"line":1,"runId":""#))
        #expect(first.contains(#"","status":"success","output":1,"error":null,"durationMs":"#))
        #expect(result.stderr.contains("batch: 50 items: 50 succeeded, 0 failed, 0 canceled"))
    }

    @Test func aMalformedLineFailsItsItemAndTheExitStatusIsOne() throws {
        let (flow, items) = try files("{\"value\": 1}\n\n{\"value\": oops}\n{\"nothing\": 1}\n{\"value\": 3}")
        let result = try nodal(["run", flow, "--inputs-file", items])
        #expect(result.status == 1)
        let lines = try resultLines(result.stdout)
        #expect(lines.map { $0["index"] as? Int } == [0, 1, 2, 3])
        #expect(lines.map { $0["line"] as? Int } == [1, 3, 4, 5])
        #expect(lines.map { $0["status"] as? String } == ["success", "failed", "failed", "success"])
        let bad = try #require(lines[1]["error"] as? [String: Any])
        #expect(bad["code"] as? String == "INVALID_INPUT")
        #expect((bad["message"] as? String)?.hasPrefix("line 3 of \(items): invalid JSON") == true)
        let missing = try #require(lines[2]["error"] as? [String: Any])
        #expect(missing["code"] as? String == "INPUT_ERROR")
        #expect((missing["steps"] as? [[String: Any]])?.first?["id"] as? String == "inc")
        #expect(result.stderr.contains("batch: 4 items: 2 succeeded, 2 failed, 0 canceled"))
    }

    @Test func completionOrderStillNamesEachItem() throws {
        let (flow, items) = try files((0..<200).map { "{\"value\": \($0)}" }.joined(separator: "\n"))
        let result = try nodal(["run", flow, "--inputs-file", items, "--order", "completion", "--max-concurrency", "8"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try resultLines(result.stdout)
        #expect(Set(lines.compactMap { $0["index"] as? Int }) == Set(0..<200))
        #expect(lines.allSatisfy { ($0["output"] as? Int) == ($0["index"] as? Int).map { $0 + 1 } })
    }

    @Test func standardInputAndEmptyFiles() throws {
        let (flow, items) = try files("")
        let empty = try nodal(["run", flow, "--inputs-file", items])
        #expect(empty.status == 0)
        #expect(empty.stdout.isEmpty)
        #expect(empty.stderr.contains("batch: 0 items"))
        let piped = try runProcess("/bin/sh", ["-c", "printf '{\"value\": 41}\\n' | '\(Products.nodal)' run '\(flow)' --inputs-file - --plugin-path '\(Products.plugin("nodal_std"))'"])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try resultLines(piped.stdout).first?["output"] as? Int == 42)
    }

    @Test func usageErrors() throws {
        let (flow, items) = try files("{}\n")
        let missing = try nodal(["run", flow, "--inputs-file", items + ".missing"])
        #expect(missing.status == 66)  // not found (README: Exit codes)
        #expect(missing.stderr.contains("--inputs-file: \(items).missing: No such file or directory"))
        #expect(try nodal(["run", flow, "--inputs-file", items, "--input", "{}"]).status == 64)
        #expect(try nodal(["run", flow, "--inputs-file", items, "--order", "random"]).status == 64)
        #expect(try nodal(["run", flow, "--inputs-file", items, "--max-concurrency", "0"]).status == 64)
    }
}

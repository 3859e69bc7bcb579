import Foundation
import NodalTestSupport
import Testing

/// `nodal run --events`: standard output is JSON lines only, the last one `run.finished` with
/// the result; `step.succeeded` carries the step's output and duration.
@Suite struct EventsCLITests {
    func write(_ text: String) throws -> String {
        let path = try temporaryDirectory() + "/flow.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every line of standard output, parsed; fails the test on a line that is not a JSON object.
    func jsonLines(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func aSucceedingRunEndsWithItsOutput() throws {
        let hello = Products.repositoryRoot + "/examples/hello"
        let result = try runProcess(Products.nodal, ["run", hello + "/flow.yaml", "--input-file", hello + "/input.json", "--events", "--store", "inMemory"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try jsonLines(result.stdout)
        #expect(lines.allSatisfy { $0["event"] is String })
        let finished = try #require(lines.last)
        #expect(finished["event"] as? String == "run.finished")
        #expect(finished["status"] as? String == "success")
        #expect((finished["output"] as? [String: Any])?["greeting"] as? String == "Hello, ADA!")
        #expect(finished["error"] is NSNull)
        #expect(finished["result"] == nil)  // only with --format json

        // step.succeeded: the step's own output and its duration in milliseconds.
        let succeeded = lines.filter { $0["event"] as? String == "step.succeeded" }
        #expect(Set(succeeded.compactMap { $0["step"] as? String }) == ["shout", "greeting", "scores", "prompt"])
        let shout = try #require(succeeded.first { $0["step"] as? String == "shout" })
        #expect((shout["output"] as? [String: Any])?["text"] as? String == "ADA")
        let duration = try #require(shout["durationMs"] as? Double)
        #expect(duration >= 0 && duration < 60_000)
        #expect(finished["durationMs"] as? Double ?? -1 >= duration)
    }

    @Test func aFailedRunEndsWithItsErrorAndTheJSONFormatAddsTheWholeResult() throws {
        let flow = try write("steps: [{id: f, component: /std/fail}]\noutput: {$step: f}\n")
        let result = try runProcess(Products.nodal, ["run", flow, "--events", "--format", "json", "--store", "inMemory"])
        #expect(result.status == 1)
        let lines = try jsonLines(result.stdout)
        #expect(lines.map { $0["event"] as? String }.suffix(2) == ["run.failed", "run.finished"])
        let finished = try #require(lines.last)
        #expect(finished["status"] as? String == "failed")
        #expect(finished["output"] is NSNull)
        let error = try #require(finished["error"] as? [String: Any])
        #expect(error["step"] as? String == "f")
        let whole = try #require(finished["result"] as? [String: Any])
        #expect((whole["steps"] as? [[String: Any]])?.first?["status"] as? String == "failed")
        // What it says on standard error is as without --events.
        let text = try runProcess(Products.nodal, ["run", flow, "--events", "--store", "inMemory"])
        #expect(text.status == 1)
        #expect(text.stderr.contains("run failed at step 'f'"), "\(text.stderr)")
        #expect(try jsonLines(text.stdout).last?["event"] as? String == "run.finished")
    }

    @Test func aPausedRunEndsWithWhatItWaitsFor() throws {
        let example = Products.repositoryRoot + "/examples/interrupt"
        let result = try runProcess(Products.nodal, ["run", example + "/publish.yaml", "--input-file", example + "/input.json", "--events", "--store", "inMemory"])
        #expect(result.status == 75)
        let finished = try #require(try jsonLines(result.stdout).last)
        #expect(finished["status"] as? String == "paused")
        let pause = try #require(finished["pause"] as? [String: Any])
        #expect(pause["key"] as? String == "review.decision")
        #expect((pause["value"] as? [String: Any])?["question"] as? String == "Publish this announcement?")
    }

    @Test func aDryRunEndsWithItsPlan() throws {
        let flow = try write("steps: [{id: up, component: /std/upper, input: {text: a}}]\noutput: {$step: up}\n")
        let result = try runProcess(Products.nodal, ["run", flow, "--events", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        let finished = try #require(try jsonLines(result.stdout).last)
        #expect(finished["event"] as? String == "run.finished")
        #expect((finished["plan"] as? [String: Any])?["steps"] is [Any])
    }

    @Test func eventsAreForOneRunNotABatch() throws {
        let flow = try write("steps: []\noutput: 1\n")
        let items = try temporaryDirectory() + "/items.jsonl"
        try "{}\n".write(toFile: items, atomically: true, encoding: .utf8)
        let result = try runProcess(Products.nodal, ["run", flow, "--events", "--inputs-file", items])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--events is for one run"))
    }
}

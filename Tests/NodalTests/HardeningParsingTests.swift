import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Issue 11, hostile trial: documents that cost without bound. A 645-byte YAML alias bomb made
/// `validate` grow without end (89 s, 375 MB); values nested deep enough to overflow the stack;
/// and a UTF-8 byte order mark that made a flow file "malformed YAML".
@Suite struct HardeningParsingTests {
    func readError(_ body: () throws -> Flow) -> FlowError? {
        do {
            _ = try body()
            Issue.record("expected the flow to be refused")
            return nil
        } catch {
            return error as? FlowError
        }
    }

    // MARK: YAML aliases

    /// Anchors under `metadata` (a key flows may have), each level ten aliases of the one before.
    static func billionLaughs(levels: Int) -> String {
        var lines = ["metadata:", #"  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for level in 1...levels {
            lines.append("  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]")
        }
        return (lines + ["steps: []", "output: { $literal: *a\(levels) }"]).joined(separator: "\n") + "\n"
    }

    @Test func aBillionLaughsDocumentIsRefusedAtOnce() throws {
        let text = Self.billionLaughs(levels: 7)
        #expect(text.utf8.count < 700)
        let error = try #require(readError { try Flow(yaml: text, file: "bomb.yaml") })
        #expect(error.file == "bomb.yaml")
        #expect(error.message.contains("YAML aliases expand the document to more than 1000000 nodes"))
        #expect(error.message.contains("line "))
        // The same as a configuration, and as a file load_file reads.
        #expect(throws: FlowError.self) { try NodalConfig(yaml: text.replacingOccurrences(of: "metadata:", with: "storageConfig:")) }
    }

    @Test func aliasesUsedAsMappingKeysAreMeasuredBeforeYamsHashesThem() throws {
        var lines = [#"a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for level in 1...6 { lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]") }
        lines.append("m: {" + (0..<200).map { "? [*a6, \($0)] : \($0)" }.joined(separator: ", ") + "}")
        #expect(throws: FlowError.self) { try Flow(yaml: lines.joined(separator: "\n") + "\nsteps: []\n") }
    }

    @Test func aFewAliasesStillRead() throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: a, component: /builtin/create_messages, input: &prompt { user_prompt: hi }, onError: &retry { action: retry, maxRetries: 2 } }
              - { id: b, component: /builtin/create_messages, input: *prompt, onError: *retry }
            output: { a: { $step: a }, b: { $step: b } }
            """)
        #expect(flow.stepIDs == ["a", "b"])
        // Expanding to many nodes is fine below the limit: 10^5 here.
        #expect(throws: Never.self) { try Flow(yaml: Self.billionLaughs(levels: 4)) }
    }

    // MARK: deep values

    @Test func deeplyNestedYAMLAndJSONAreRefusedWithAClearError() throws {
        for depth in [600, 5_000, 200_000] {
            let yaml = "steps: []\noutput: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
            let error = try #require(readError { try Flow(yaml: yaml, file: "deep.yaml") })
            #expect(error.message.contains("nests deeper than 512 levels"), "\(depth): \(error)")
            let json = "{\"steps\": [], \"output\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
            let jsonError = try #require(readError { try Flow(json: json, file: "deep.json") })
            #expect(jsonError.message.contains("malformed JSON at line 1"), "\(jsonError)")
            #expect(jsonError.message.contains("nesting deeper than 512"), "\(jsonError)")
        }
        // Depth reached through an alias counts too.
        let anchored = "deep: &d " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let used = "\nsteps: []\noutput: " + String(repeating: "[", count: 300) + "*d" + String(repeating: "]", count: 300) + "\n"
        #expect(readError { try Flow(yaml: anchored + used) }?.message.contains("nests deeper than 512 levels") == true)
        // 512 levels are fine.
        _ = try Flow(yaml: "steps: []\noutput: " + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + "\n")
    }

    @Test func aFlowBuiltAtRunTimeDeeperThanTheLimitFailsItsStep() async throws {
        var deep: JSON = "leaf"
        for _ in 0..<1_000 { deep = ["x": deep] }
        let document: JSON = ["steps": [], "output": deep]
        let engine = Engine()
        let flow = try Flow(yaml: "steps: [{ id: e, component: /builtin/eval, input: { flow: { $input: flow }, input: {} } }]\noutput: { $step: e }\n")
        let result = await engine.run(flow, input: ["flow": document])
        #expect(result.step("e")?.error?.code == "INVALID_INPUT")
        #expect(result.step("e")?.error?.message.contains("nested deeper than 512 levels") == true)
    }

    @Test func iterateRefusesAValueThatGrowsDeeperEachRun() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: loop
                component: /builtin/iterate
                input:
                  initial_input: { v: 0 }
                  max_iterations: 100000
                  flow: { $literal: { steps: [], output: { next: { v: { w: { $input: v } } } } } }
            output: { $step: loop }
            """)
        let result = await Engine().run(flow, input: [:])
        let error = try #require(result.step("loop")?.error)
        #expect(error.code == "INVALID_OUTPUT")
        #expect(error.message.contains("nests deeper than 512 levels"))
    }

    // MARK: byte order marks

    @Test func aByteOrderMarkStartsAFlowOrAConfiguration() throws {
        let bom = "\u{FEFF}"
        #expect(try Flow(yaml: bom + "steps: []\noutput: 1\n").stepIDs.isEmpty)
        #expect(try Flow(json: bom + #"{"steps": [], "output": 1}"#).stepIDs.isEmpty)
        #expect(try NodalConfig(yaml: bom + "plugins:\n  b: { type: builtin }\nroutes:\n  \"/b\": [{ plugin: b }]\n").routes.count == 1)
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": bom + "steps: [{ id: s, flow: sub.json }]\noutput: { $step: s }\n",
            "sub.json": bom + #"{"steps": [], "output": "ok"}"#,
            "input.json": bom + #"{"a": 1}"#,
            "nodal-config.yml": bom + "plugins: {}\n",
        ])
        _ = try Flow(contentsOfFile: directory + "/flow.yaml")
        #expect(try JSON(contentsOfFile: directory + "/input.json") == ["a": 1])
        _ = try NodalConfig(contentsOfFile: directory + "/nodal-config.yml", origin: .discovered)
    }
}

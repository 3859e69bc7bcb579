import Foundation
import NodalTestSupport
import Testing

/// `--input-file -` reads the run's input from standard input, as `--inputs-file -` does.
@Suite struct StandardInputCLITests {
    let flow = Products.repositoryRoot + "/examples/hello/flow.yaml"

    func piped(_ input: String, _ arguments: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess("/bin/sh", ["-c", "printf '%s' '\(input)' | '\(Products.nodal)' run '\(flow)' --store inMemory \(arguments)"])
    }

    @Test func theInputComesFromStandardInput() throws {
        let result = try piped(#"{"name": "Bo", "scores": [4, 6]}"#, "--input-file - --format json")
        #expect(result.status == 0, "\(result.stderr)")
        let whole = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((whole["input"] as? [String: Any])?["name"] as? String == "Bo")
        #expect((whole["output"] as? [String: Any])?["greeting"] as? String == "Hello, BO!")
    }

    @Test func standardInputThatIsNotJSONIsInvalid() throws {
        let result = try piped("{oops", "--input-file -")
        #expect(result.status == 65)
        #expect(result.stderr.contains("standard input"), "\(result.stderr)")
    }
}

import Foundation
import NodalTestSupport
import Testing

/// The CLI mends of issue 13 (exit-code table, `--input-file -`, `--run-id`) against what a
/// hostile user pipes or types.
@Suite struct Hostile13CLITests {
    let flow = Products.repositoryRoot + "/examples/hello/flow.yaml"

    /// `nodal run hello --input-file -` with `bytes` on standard input (from a file, so any bytes).
    func piped(_ bytes: [UInt8]) throws -> (status: Int32, stdout: String, stderr: String) {
        let folder = try temporaryDirectory()
        let file = folder + "/stdin"
        _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        return try runProcess("/bin/sh", ["-c", "'\(Products.nodal)' run '\(flow)' --store inMemory --input-file - < '\(file)'"])
    }

    /// Bytes that are not UTF-8 exited 66 ("not found, cannot be read") from standard input
    /// but 65 from a file: the table says input that is not JSON is 65, wherever it comes from.
    @Test func standardInputThatIsNotTextIsInvalidAsAFileIs() throws {
        let bytes: [UInt8] = [0xFF, 0xFE, 0x7B, 0x7D]
        let piped = try piped(bytes)
        #expect(piped.status == 65, "\(piped.stderr)")
        #expect(piped.stderr.contains("--input-file - (standard input) is not valid JSON: it is not valid UTF-8 text"), "\(piped.stderr)")
        let file = try temporaryDirectory() + "/input.json"
        _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        let fromFile = try runProcess(Products.nodal, ["run", flow, "--store", "inMemory", "--input-file", file])
        #expect(fromFile.status == piped.status, "\(fromFile.stderr)")
    }

    @Test(arguments: ["", "  \n\t\n"]) func emptyStandardInputSaysItIsEmpty(_ text: String) throws {
        let result = try piped(Array(text.utf8))
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("standard input is empty"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// A run id with an escape sequence was stored and printed raw ("go on with `nodal resume
    /// ...`" on a terminal) and could not be typed back for resume.
    @Test(arguments: ["evil\u{1B}[2J", "two\nlines", "tab\there", "del\u{7F}", "c1\u{85}"])
    func aRunIDWithAControlCharacterIsAUsageError(_ id: String) throws {
        let result = try runProcess(Products.nodal, ["run", flow, "--store", "inMemory", "--run-id", id, "--input", #"{"name": "a", "scores": [1]}"#])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--run-id must not hold control characters (it has U+"), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}"), "the escape is named, not printed")
    }

    @Test func aRunIDWithUnicodeAndPunctuationIsFine() throws {
        let id = "r\u{E9}sum\u{E9}-\u{65E5}\u{672C}-\u{1F600}/a b"
        let result = try runProcess(Products.nodal, ["run", flow, "--store", "inMemory", "--run-id", id, "--input", #"{"name": "a", "scores": [1]}"#, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let whole = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(whole?["runId"] as? String == id, "\(result.stdout)")
    }

    /// `runs list` padded by Characters: a CJK id (two columns a character on a terminal)
    /// pushed its row's STATUS two columns right per character.
    @Test func runsListLinesUpWideCharacters() throws {
        let store = "sqlite:" + (try temporaryDirectory()) + "/runs.db"
        for id in ["abc", "\u{65E5}\u{672C}\u{8A9E}", "\u{1F600}x"] {
            let result = try runProcess(Products.nodal, ["run", flow, "--store", store, "--run-id", id, "--input", #"{"name": "a", "scores": [1]}"#])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let list = try runProcess(Products.nodal, ["runs", "list", "--store", store])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        // Six columns wide: "RUN ID" and the three ideographs.
        #expect(lines.first?.hasPrefix("RUN ID  STATUS") == true, "\(list.stdout)")
        for start in ["abc     success", "\u{65E5}\u{672C}\u{8A9E}  success", "\u{1F600}x     success"] {
            #expect(lines.contains { $0.hasPrefix(start) }, "\(start) in\n\(list.stdout)")
        }
    }

    /// Ctrl-C during a batch exited 1 ("an item failed") with every item canceled and none
    /// failed; one run exits 130 for the same key. Every result line is still JSON.
    @Test func ctrlCDuringABatchExits130LikeOneRun() throws {
        let directory = try temporaryDirectory()
        let marker = directory + "/started.txt"
        let flow = directory + "/flow.yaml"
        try """
            steps:
              - { id: quick, component: /std/append_line, input: { path: "\(marker)", line: started } }
              - { id: slow, component: /std/sleep, input: { ms: 60000, value: { $step: quick } } }
            output: { $step: slow }
            """.write(toFile: flow, atomically: true, encoding: .utf8)
        try "{}\n{}\n".write(toFile: directory + "/items.jsonl", atomically: true, encoding: .utf8)
        let (status, stdout, stderr) = try interruptOnceFileExists(
            marker, running: Products.nodal, ["run", flow, "--store", "inMemory", "--inputs-file", directory + "/items.jsonl"])
        #expect(status == 130, "\(stderr)")
        #expect(stderr.contains("0 failed"), "\(stderr)")
        #expect(stderr.contains("canceled: the rest of"), "\(stderr)")
        let lines = stdout.split(separator: "\n")
        // The second item may not have been read yet when the key was pressed.
        #expect((1...2).contains(lines.count), "\(stdout)")
        for line in lines {
            let item = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(item?["status"] as? String == "canceled", "\(line)")
        }
    }

    /// `plugins inspect /std` said "unknown component route '/std'" while listing /std among the
    /// known prefixes: a plugin's route prefix now shows that plugin, as its name does.
    @Test(arguments: ["/std", "/std/"]) func inspectOfARoutePrefixShowsThePlugin(_ prefix: String) throws {
        let result = try runProcess(Products.nodal, ["plugins", "inspect", prefix], environment: ["NODAL_PLUGIN_PATH": ""])
        #expect(result.status == 0, "\(result.stderr)")
        let plugin = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(plugin?["id"] as? String == "org.nodal.std", "\(result.stdout)")
        #expect((plugin?["nodes"] as? [Any])?.isEmpty == false)
        // Not a prefix of any plugin, or more than a prefix: a route as before.
        for route in ["/nope", "/std//", "/"] {
            let other = try runProcess(Products.nodal, ["plugins", "inspect", route], environment: ["NODAL_PLUGIN_PATH": ""])
            #expect(other.status != 0, "\(route): \(other.stdout)")
            #expect(other.stdout.isEmpty, "\(route): \(other.stdout)")
            #expect(other.stderr.hasPrefix("error: "), "\(route): \(other.stderr)")
        }
    }
}

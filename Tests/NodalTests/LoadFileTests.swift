import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `/builtin/load_file`: JSON, YAML and text files next to the flow, and nothing outside it
/// unless the configuration's `files: allow:` says so.
@Suite struct LoadFileTests {
    /// `root/project/flow.yaml` (one load_file step taking the run's input), files under
    /// `root/project/data/`, and `root/outside/secret.json`.
    struct Layout {
        var root: String
        var project: String { root + "/project" }
        var outside: String { root + "/outside" }
        var flowFile: String { project + "/flow.yaml" }

        init() throws {
            root = FileSystem.realPath(try temporaryDirectory())!
            let files = FileManager.default
            try files.createDirectory(atPath: project + "/data", withIntermediateDirectories: true)
            try files.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try write("steps: [{ id: load, component: /builtin/load_file, input: { $input: $ } }]\noutput: { $step: load }", "project/flow.yaml")
            try write(#"{"name": "Ada", "langs": ["en", "fr"], "n": 1.5}"#, "project/data/config.json")
            try write("name: Ada\nactive: yes\nport: 8080\nlist:\n  - 1\n  - true\n", "project/data/settings.yml")
            try write("hello\nwörld\n", "project/data/notes.txt")
            try write(#"{"secret": true}"#, "outside/secret.json")
        }

        func write(_ text: String, _ name: String) throws {
            try text.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
        }

        func load(_ input: JSON, engine: Engine = Engine()) async throws -> (output: JSON?, error: StepError?) {
            let result = await engine.run(try Flow(contentsOfFile: flowFile), input: input)
            return (result.output, result.step("load")?.error)
        }
    }

    @Test func readsJSONYAMLAndTextRelativeToTheFlowFile() async throws {
        let layout = try Layout()
        let json = try await layout.load(["path": "data/config.json"])
        #expect(json.error == nil)
        #expect(json.output?["data"] == ["name": "Ada", "langs": ["en", "fr"], "n": 1.5])
        #expect(json.output?["metadata"] == [
            "resolved_path": .string(layout.project + "/data/config.json"), "size_bytes": 48, "format": "json",
        ])

        let yaml = try await layout.load(["path": "./data/../data/settings.yml"])
        #expect(yaml.error == nil)
        // YAML 1.2 core schema, as flows are read: `yes` stays a string.
        #expect(yaml.output?["data"] == ["name": "Ada", "active": "yes", "port": 8080, "list": [1, true]])
        #expect(yaml.output?["metadata"]?["format"] == "yaml")
        #expect(yaml.output?["metadata"]?["resolved_path"] == .string(layout.project + "/data/settings.yml"))

        let text = try await layout.load(["path": "data/notes.txt"])
        #expect(text.output?["data"] == "hello\nwörld\n")
        #expect(text.output?["metadata"] == [
            "resolved_path": .string(layout.project + "/data/notes.txt"), "size_bytes": 13, "format": "text",
        ])

        // `format` overrides the extension.
        let asText = try await layout.load(["path": "data/config.json", "format": "text"])
        #expect(asText.output?["data"] == #"{"name": "Ada", "langs": ["en", "fr"], "n": 1.5}"#)
        try layout.write("[1, 2]", "project/data/list.txt")
        let asJSON = try await layout.load(["path": "data/list.txt", "format": "json"])
        #expect(asJSON.output?["data"] == [1, 2])
        let badFormat = try await layout.load(["path": "data/list.txt", "format": "xml"])
        #expect(badFormat.error?.code == "INVALID_INPUT")
        #expect(badFormat.error?.message.contains("'format'") == true)
    }

    @Test func parentEscapesAndAbsolutePathsElsewhereAreRefused() async throws {
        let layout = try Layout()
        let escape = try await layout.load(["path": "../outside/secret.json"])
        #expect(escape.output == nil)
        #expect(escape.error?.code == "PATH_NOT_ALLOWED")
        let message = escape.error?.message ?? ""
        #expect(message.contains("load_file: '../outside/secret.json'"))
        #expect(message.contains(layout.outside + "/secret.json"))
        #expect(message.contains("files: { allow: [\"\(layout.outside)\"] }"))

        let absolute = try await layout.load(["path": "/etc/passwd"])
        #expect(absolute.error?.code == "PATH_NOT_ALLOWED")
        #expect(absolute.error?.message.contains("'/etc/passwd'") == true)
        // Missing files outside are refused too, not reported missing.
        let missingOutside = try await layout.load(["path": "../outside/nothing.json"])
        #expect(missingOutside.error?.code == "PATH_NOT_ALLOWED")
    }

    @Test func symlinksLeadingOutAreRefused() async throws {
        let layout = try Layout()
        let files = FileManager.default
        try files.createSymbolicLink(atPath: layout.project + "/data/link.json", withDestinationPath: layout.outside + "/secret.json")
        try files.createSymbolicLink(atPath: layout.project + "/out", withDestinationPath: "../outside")
        let link = try await layout.load(["path": "data/link.json"])
        #expect(link.error?.code == "PATH_NOT_ALLOWED")
        #expect(link.error?.message.contains("'data/link.json'") == true)
        #expect(link.error?.message.contains("after following symlinks") == true)
        let throughFolder = try await layout.load(["path": "out/secret.json"])
        #expect(throughFolder.error?.code == "PATH_NOT_ALLOWED")
        let missingThroughFolder = try await layout.load(["path": "out/nothing.json"])
        #expect(missingThroughFolder.error?.code == "PATH_NOT_ALLOWED")
        // A symlink that stays inside is fine.
        try files.createSymbolicLink(atPath: layout.project + "/inside.json", withDestinationPath: "data/config.json")
        let inside = try await layout.load(["path": "inside.json"])
        #expect(inside.error == nil)
        #expect(inside.output?["metadata"]?["resolved_path"] == .string(layout.project + "/data/config.json"))
    }

    @Test func theConfigurationCanAllowMoreFolders() async throws {
        let layout = try Layout()
        try layout.write("files:\n  allow: [../outside]\n", "project/nodal-config.yml")
        let configuration = try NodalConfig(contentsOfFile: layout.project + "/nodal-config.yml")
        #expect(configuration.allowedFileFolders == [layout.project + "/../outside"])
        let engine = Engine(configuration: configuration)
        let allowed = try await layout.load(["path": "../outside/secret.json"], engine: engine)
        #expect(allowed.error == nil)
        #expect(allowed.output?["data"] == ["secret": true])
        #expect(try await layout.load(["path": "/etc/passwd"], engine: engine).error?.code == "PATH_NOT_ALLOWED")

        let everything = Engine(configuration: try NodalConfig(yaml: "files: { allow: [/] }"))
        let passwd = try await layout.load(["path": "/etc/passwd", "format": "text"], engine: everything)
        #expect(passwd.error == nil)
        #expect(passwd.output?["data"]?.stringValue?.contains("root:") == true)
    }

    @Test func theFilesKeyIsParsedStrictly() throws {
        func message(_ yaml: String) -> String? {
            do {
                _ = try NodalConfig(yaml: yaml, file: "/cfg/nodal-config.yml")
                return nil
            } catch {
                return error.description
            }
        }
        #expect(message("files: { allow: [data, /srv/x] }") == nil)
        #expect(try NodalConfig(yaml: "files: { allow: [data, /srv/x] }", file: "/cfg/nodal-config.yml").allowedFileFolders == ["/cfg/data", "/srv/x"])
        #expect(message("files: { deny: [x] }")?.contains("field 'files.deny': unknown key (known: allow)") == true)
        #expect(message("files: [x]")?.contains("field 'files'") == true)
        #expect(message("files: { allow: data }")?.contains("field 'files.allow'") == true)
        #expect(message("files: { allow: [data, 3] }")?.contains("field 'files.allow[1]'") == true)
        #expect(message("file: { allow: [x] }")?.contains("unknown configuration key") == true)
    }

    @Test func missingAndMalformedFiles() async throws {
        let layout = try Layout()
        let missing = try await layout.load(["path": "data/nope.json"])
        #expect(missing.error?.code == "FILE_NOT_FOUND")
        #expect(missing.error?.message.contains("'data/nope.json'") == true)
        #expect(missing.error?.message.contains(layout.project + "/data/nope.json") == true)

        try layout.write("{\n  \"a\": 1,\n  \"b\": \n}\n", "project/data/broken.json")
        let brokenJSON = try await layout.load(["path": "data/broken.json"])
        #expect(brokenJSON.error?.code == "INVALID_FILE")
        #expect(brokenJSON.error?.message.contains(layout.project + "/data/broken.json") == true)
        #expect(brokenJSON.error?.message.contains("line 4") == true)

        try layout.write("a: [1, 2\nb: 3\n", "project/data/broken.yaml")
        let brokenYAML = try await layout.load(["path": "data/broken.yaml"])
        #expect(brokenYAML.error?.code == "INVALID_FILE")
        #expect(brokenYAML.error?.message.contains("broken.yaml is not valid YAML") == true)

        try Data([0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: layout.project + "/data/blob.bin"))
        let binary = try await layout.load(["path": "data/blob.bin"])
        #expect(binary.error?.code == "INVALID_FILE")
        #expect(binary.error?.message.contains("not UTF-8") == true)

        let folder = try await layout.load(["path": "data"])
        #expect(folder.error?.code == "INVALID_INPUT")
        #expect(folder.error?.message.contains("is a folder") == true)
        let noPath = try await layout.load(["format": "json"])
        #expect(noPath.error?.code == "INVALID_INPUT")
        #expect(noPath.error?.message.contains("'path'") == true)
    }

    @Test func filesOverTheLimitAreRefused() async throws {
        let layout = try Layout()
        let path = layout.project + "/data/big.txt"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(BuiltinLoadFile.maximumBytes + 1))  // sparse: no disk used
        try handle.close()
        let big = try await layout.load(["path": "data/big.txt"])
        #expect(big.error?.code == "FILE_TOO_LARGE")
        #expect(big.error?.message.contains("'data/big.txt'") == true)
        #expect(big.error?.message.contains("64 MiB") == true)
    }

    @Test func withoutAFlowFileTheWorkingDirectoryIsTheLimit() async throws {
        let flow = try Flow(yaml: "steps: [{ id: load, component: /builtin/load_file, input: { $input: $ } }]\noutput: { $step: load }")
        let cwd = FileSystem.realPath(FileSystem.currentDirectory)!
        let outside = await Engine().run(flow, input: ["path": "/etc/passwd"])
        #expect(outside.step("load")?.error?.code == "PATH_NOT_ALLOWED")
        #expect(outside.step("load")?.error?.message.contains("the working directory (\(cwd))") == true)
    }
}

import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Issue 11, hostile trial: `flow: FILE` could point anywhere, and the errors then told whether a
/// file existed and showed its keys and lines of its content (a password line, an SSH key line).
/// Sub-flow files are now confined like `load_file`, and a file that is not a flow is named by
/// its path, line and column only.
@Suite struct HardeningSubflowTests {
    func loadError(_ path: String, configuration: NodalConfig? = nil) -> FlowError? {
        do {
            _ = try Flow(contentsOfFile: path, configuration: configuration)
            Issue.record("expected \(path) to be refused")
            return nil
        } catch {
            return error
        }
    }

    /// A project folder and a folder beside it holding secrets.
    func layout(subflow: String) throws -> (project: String, outside: String) {
        let root = try temporaryDirectory()
        let project = root + "/project", outside = root + "/outside"
        for folder in [project, outside] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try "password: hunter2\napi_key: sk-very-secret\n".write(toFile: outside + "/secrets.yaml", atomically: true, encoding: .utf8)
        try "steps: []\noutput: fine\n".write(toFile: outside + "/shared.yaml", atomically: true, encoding: .utf8)
        try "steps: [{ id: leak, flow: \"\(subflow)\" }]\noutput: { $step: leak }\n".write(toFile: project + "/flow.yaml", atomically: true, encoding: .utf8)
        return (project, outside)
    }

    @Test func aSubflowOutsideTheFlowsFolderIsRefusedWithoutReadingIt() throws {
        for target in ["/etc/passwd", "../outside/secrets.yaml", "../../../../../../etc/shadow"] {
            let (project, _) = try layout(subflow: target)
            let error = try #require(loadError(project + "/flow.yaml"))
            #expect(error.file == project + "/flow.yaml")
            #expect(error.step == "leak")
            #expect(error.field == "flow")
            #expect(error.message.contains("sub-flow '\(target)' is outside the flow's folder"))
            #expect(error.message.contains("--config"))
            for secret in ["root:", "hunter2", "password", "sk-very-secret", "api_key"] {
                #expect(!error.description.contains(secret), "\(target): \(error)")
            }
        }
    }

    @Test func whetherAnOutsideFileExistsDoesNotShow() throws {
        let (project, outside) = try layout(subflow: "../outside/secrets.yaml")
        let existing = try #require(loadError(project + "/flow.yaml")).message
        try FileManager.default.removeItem(atPath: outside + "/secrets.yaml")
        let missing = try #require(loadError(project + "/flow.yaml")).message
        #expect(existing == missing)
    }

    @Test func aSymlinkLeadingOutIsRefused() throws {
        let (project, outside) = try layout(subflow: "link.yaml")
        try FileManager.default.createSymbolicLink(atPath: project + "/link.yaml", withDestinationPath: outside + "/secrets.yaml")
        let error = try #require(loadError(project + "/flow.yaml"))
        #expect(error.message.contains("outside the flow's folder"))
        #expect(!error.description.contains("hunter2"))
    }

    @Test func aTrustedConfigurationsFilesAllowLetsSubflowsComeFromItsFolders() async throws {
        let (project, outside) = try layout(subflow: "../outside/shared.yaml")
        let configuration = try NodalConfig(yaml: "files:\n  allow: [\"\(outside)\"]\n")
        let flow = try Flow(contentsOfFile: project + "/flow.yaml", configuration: configuration)
        #expect(await Engine(configuration: configuration).run(flow, input: [:]).output == "fine")
        // The folder is allowed, not everything: a secret elsewhere stays out.
        try "steps: [{ id: leak, flow: /etc/passwd }]\noutput: 1\n".write(toFile: outside + "/shared.yaml", atomically: true, encoding: .utf8)
        #expect(loadError(project + "/flow.yaml", configuration: configuration)?.message.contains("outside the flow's folder") == true)
    }

    @Test func aFileInsideThatIsNotAFlowIsNamedByPathLineAndColumnOnly() throws {
        let secretLines = [
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ada@laptop\npassword: [hunter2\n",  // malformed YAML
            "password: hunter2\napi_key: sk-very-secret\n",  // YAML, but not a flow
            "root:x:0:0:root:/root:/bin/bash\n",  // a plain scalar
            "password: hunter2\n  bad: indentation\n",  // malformed mapping
            "{\"password\": \"hunter2\", \"key\" \"sk-very-secret\"}",  // malformed JSON
            "\"hunter2\" 'sk-very-secret'\n",
            "a: 1\na: hunter2\n",  // duplicate key
        ]
        for (index, content) in secretLines.enumerated() {
            let name = index == 4 ? "notes.json" : "notes.txt"
            let project = try temporaryDirectory(containing: [
                name: content,
                "flow.yaml": "steps: [{ id: leak, flow: \(name) }]\noutput: { $step: leak }\n",
            ])
            let error = try #require(loadError(project + "/flow.yaml"))
            let text = error.description
            #expect(text.contains(name), "\(text)")
            for secret in ["hunter2", "sk-very-secret", "AAAAB3", "ada@laptop", "/bin/bash", "password", "api_key"] {
                #expect(!text.contains(secret), "case \(index): \(text)")
            }
        }
        // Malformed text is located.
        let project = try temporaryDirectory(containing: [
            "notes.txt": "first: line\nsecond: [hunter2\n",
            "flow.yaml": "steps: [{ id: leak, flow: notes.txt }]\noutput: 1\n",
        ])
        #expect(loadError(project + "/flow.yaml")?.message.contains("line ") == true)
    }
}

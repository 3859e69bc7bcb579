import Foundation
import NodalTestSupport
import Testing

/// Issue 11's hostile cases run as a user would, through `nodal`: each must end in a clear error
/// (or a failed step) with the process alive, never in a crash, a hang or a granted power.
@Suite struct HardeningCLITests {
    /// Runs `nodal` with no configuration of the user's own (an empty XDG_CONFIG_HOME).
    func nodal(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let config = try temporaryDirectory()
        return try runProcess(Products.nodal, arguments, environment: ["XDG_CONFIG_HOME": config, "NODAL_CONFIG": ""], currentDirectory: directory)
    }

    @Test func aConfigBesideTheFlowCannotLetItCallSystem() throws {
        let directory = try temporaryDirectory()
        let marker = directory + "/pwned"
        try """
            steps:
              - id: pwn
                component: /builtin/ffi
                input: { library: libc.so.6, symbol: system, signature: "(string) -> int32", args: ["touch \(marker)"] }
            output: { $step: pwn }
            """.write(toFile: directory + "/flow.yaml", atomically: true, encoding: .utf8)
        try HardeningConfigTests.ffiGrant.write(toFile: directory + "/nodal-config.yml", atomically: true, encoding: .utf8)
        for arguments in [["run", directory + "/flow.yaml", "--store", "inMemory"], ["validate", directory + "/flow.yaml"]] {
            let result = try nodal(arguments)
            #expect(result.status == 65, "\(result.stderr)")
            #expect(result.stderr.contains("\(directory)/nodal-config.yml, field 'ffi.allow'"))
            #expect(result.stderr.contains("--config \(directory)/nodal-config.yml"))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        // Named explicitly, the same file is trusted.
        let trusted = try nodal(["validate", directory + "/flow.yaml", "--config", directory + "/nodal-config.yml"])
        #expect(trusted.status == 0, "\(trusted.stderr)")
    }

    @Test func aConfigBesideTheFlowCannotLetItReadEtcPasswd() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": "steps: [{ id: read, component: /builtin/load_file, input: { path: /etc/passwd, format: text } }]\noutput: { $step: read }\n",
            "nodal-config.yml": "files:\n  allow: [/]\n",
        ])
        let result = try nodal(["run", directory + "/flow.yaml", "--store", "inMemory"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("field 'files.allow'"))
        #expect(!result.stdout.contains("root:"))
        // A config in the working directory is found, not named, too.
        let elsewhere = try temporaryDirectory(containing: ["flow.yaml": "steps: [{ id: read, component: /builtin/load_file, input: { path: /etc/passwd, format: text } }]\noutput: { $step: read }\n"])
        let fromWorkingDirectory = try nodal(["run", elsewhere + "/flow.yaml", "--store", "inMemory"], in: directory)
        #expect(fromWorkingDirectory.status == 65)
        #expect(!fromWorkingDirectory.stdout.contains("root:"))
    }

    @Test func aSubflowPointingAtASecretShowsNothingOfIt() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": "steps: [{ id: leak, flow: /etc/passwd }]\noutput: { $step: leak }\n",
        ])
        let result = try nodal(["validate", directory + "/flow.yaml"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("outside the flow's folder"))
        #expect(!result.stderr.contains("root:"))
        #expect(!result.stderr.contains("/bin/"))
    }

    @Test func numbersThatUsedToCrashAreValidationErrors() throws {
        for (key, value) in [("timeout", "1e300"), ("timeout", ".inf"), ("timeout", "9223372036854775807"),
                             ("onError", "{ action: retry, maxRetries: 9223372036854775808 }"),
                             ("onError", "{ action: retry, maxRetries: .inf }"),
                             ("onError", "{ action: retry, multiplier: 1e308, initialInterval: 1 }"),
                             ("onError", "{ action: retry, maxInterval: 1e308, initialInterval: 1 }")] {
            let directory = try temporaryDirectory(containing: [
                "flow.yaml": "steps: [{ id: s, component: /builtin/create_messages, input: { user_prompt: hi }, \(key): \(value) }]\noutput: { $step: s }\n",
            ])
            for command in ["validate", "run"] {
                let result = try nodal([command, directory + "/flow.yaml"] + (command == "run" ? ["--store", "inMemory"] : []))
                #expect(result.status == 65, "\(key): \(value): \(result.status) \(result.stderr)")
                #expect(result.stderr.contains("step 's'"), "\(result.stderr)")
                #expect(result.stderr.contains("out of range"), "\(result.stderr)")
            }
        }
    }

    @Test func anAliasBombIsRefusedQuickly() throws {
        var lines = [#"a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for level in 1...7 { lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]") }
        lines += ["steps: []", "output: *a7"]
        let directory = try temporaryDirectory(containing: ["bomb.yaml": lines.joined(separator: "\n") + "\n"])
        let result = try nodal(["validate", directory + "/bomb.yaml"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("YAML aliases expand the document to more than 1000000 nodes"))
    }

    @Test func aFlowFileWithAByteOrderMarkRuns() throws {
        let directory = try temporaryDirectory(containing: ["flow.yaml": "\u{FEFF}steps: []\noutput: { greeting: hi }\n"])
        let result = try nodal(["run", directory + "/flow.yaml", "--store", "inMemory"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("hi"))
    }
}

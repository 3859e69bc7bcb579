import Foundation
import NodalTestSupport
import Testing

/// `nodal test` finds a flow's configuration as `stepflow test` does, with Nodal's rules on which
/// configurations may grant powers, and says how a case's error differs from the expected one.
@Suite struct TestConfigCLITests {
    /// A configuration whose `/m/which` answers `{from: name}`.
    func config(_ name: String, extra: String = "") -> String {
        """
        plugins:
          mock: { type: mock, components: { /which: { behaviors: { q: { outcome: success, result: { from: \(name) } } } } } }
        routes:
          "/m": [{ plugin: mock }]
        \(extra)
        """
    }

    /// A flow whose one case expects the configuration `expected` to answer; `test` goes in its
    /// `test:` section.
    func flow(expecting expected: String, test: String = "") -> String {
        """
        steps:
          - { id: which, component: /m/which, input: q }
        output: { $step: which, path: from }
        test:
        \(test)
          cases:
            - { name: which, input: {}, output: { outcome: success, result: \(expected) } }
        """
    }

    /// Runs `nodal test` in a working folder of its own, with an empty user configuration
    /// folder unless `user` gives one.
    func nodalTest(_ arguments: [String], in folder: String, user: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let userFolder = try user ?? temporaryDirectory()
        return try runProcess(Products.nodal, ["test"] + arguments, environment: ["XDG_CONFIG_HOME": userFolder, "NODAL_CONFIG": ""], currentDirectory: folder)
    }

    func files(_ files: [String: String]) throws -> String {
        let root = try temporaryDirectory()
        for (name, text) in files {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return root
    }

    func expectPass(_ result: (status: Int32, stdout: String, stderr: String), sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.hasSuffix("1 passed, 0 failed\n"), "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func theFlowsConfigFileComesFirstThenItsInlineConfig() throws {
        let root = try files([
            "flows/named.yaml": flow(expecting: "named", test: "  config_file: configs/test.yml"),
            "flows/configs/test.yml": config("named"),
            "flows/inline.yaml": flow(expecting: "inline", test: """
                  config:
                    plugins:
                      mock: { type: mock, components: { /which: { behaviors: { q: { outcome: success, result: { from: inline } } } } } }
                    routes:
                      "/m": [{ plugin: mock }]
                """),
            // Beside both, and ignored by both.
            "flows/stepflow-config.test.yml": config("test-file"),
            "flows/stepflow-config.yml": config("beside"),
        ])
        expectPass(try nodalTest([root + "/flows/named.yaml"], in: root))
        expectPass(try nodalTest([root + "/flows/inline.yaml"], in: root))
    }

    @Test func thenTheTestFileBesideTheFlowThenTheUsualOneThenTheWorkingFolder() throws {
        let root = try files([
            "a/flow.yaml": flow(expecting: "test-file"),
            "a/stepflow-config.test.yml": config("test-file"),
            "a/stepflow-config.yml": config("beside"),
            "b/flow.yaml": flow(expecting: "beside"),
            "b/stepflow-config.yml": config("beside"),
            "c/flow.yaml": flow(expecting: "working-folder"),
            "work/stepflow-config.yml": config("working-folder"),
        ])
        expectPass(try nodalTest([root + "/a/flow.yaml"], in: root + "/work"))
        expectPass(try nodalTest([root + "/b/flow.yaml"], in: root + "/work"))
        expectPass(try nodalTest([root + "/c/flow.yaml"], in: root + "/work"))
    }

    @Test func anExplicitConfigWinsOverTheFlowsOwn() throws {
        let root = try files([
            "flow.yaml": flow(expecting: "chosen", test: "  config_file: mine.yml"),
            "mine.yml": config("flow's own"),
            "chosen.yml": config("chosen"),
        ])
        expectPass(try nodalTest([root + "/flow.yaml", "--config", root + "/chosen.yml"], in: root))
        let fromEnvironment = try runProcess(
            Products.nodal, ["test", root + "/flow.yaml"],
            environment: ["XDG_CONFIG_HOME": try temporaryDirectory(), "NODAL_CONFIG": root + "/chosen.yml"], currentDirectory: root)
        expectPass(fromEnvironment)
    }

    @Test func configurationsTheFlowBringsMayNotGrantPowers() throws {
        let root = try files([
            "inline.yaml": flow(expecting: "x", test: """
                  config:
                    plugins: { b: { type: builtin } }
                    files: { allow: [/] }
                """),
            "named.yaml": flow(expecting: "x", test: "  config_file: grants.yml"),
            "grants.yml": config("x", extra: "files: { allow: [/] }"),
            "sub/test.yaml": flow(expecting: "x"),
            "sub/stepflow-config.test.yml": config("x", extra: "files: { allow: [/] }"),
        ])
        let inline = try nodalTest([root + "/inline.yaml"], in: root)
        #expect(inline.status == 1)
        #expect(inline.stdout.contains("ERROR \(root)/inline.yaml: \(root)/inline.yaml, field 'test.config.files.allow': 'files.allow' lets flows read files outside their folder, and this configuration is written in the flow file rather than chosen by you"), "\(inline.stdout)")
        #expect(inline.stdout.contains("put it in a file of its own and name that: --config FILE"))
        let named = try nodalTest([root + "/named.yaml"], in: root)
        #expect(named.stdout.contains("ERROR \(root)/named.yaml: \(root)/grants.yml, field 'files.allow'"), "\(named.stdout)")
        #expect(named.stdout.contains("To trust it, name it: --config \(root)/grants.yml"))
        let testFile = try nodalTest([root + "/sub/test.yaml"], in: root)
        #expect(testFile.stdout.contains("\(root)/sub/stepflow-config.test.yml, field 'files.allow'"), "\(testFile.stdout)")
        // Named by the user, the same file may grant.
        expectPass(try nodalTest([root + "/named.yaml", "--config", root + "/grants.yml"], in: root))
    }

    @Test func aConfigFileOutsideTheFlowsFolderOrBesideAnInlineOneIsRefused() throws {
        let root = try files([
            "flows/out.yaml": flow(expecting: "x", test: "  config_file: ../elsewhere.yml"),
            "elsewhere.yml": config("x"),
            "flows/both.yaml": flow(expecting: "x", test: "  config_file: c.yml\n  config: { plugins: {} }"),
            "flows/missing.yaml": flow(expecting: "x", test: "  config_file: nowhere.yml"),
            "flows/string.yaml": flow(expecting: "x", test: "  config: test-config.yml"),
        ])
        let out = try nodalTest([root + "/flows/out.yaml"], in: root)
        #expect(out.stdout.contains("field 'test.config_file': \(root)/flows/../elsewhere.yml is outside the flow's folder"), "\(out.stdout)")
        #expect(out.stdout.contains("--config \(root)/flows/../elsewhere.yml"))
        let both = try nodalTest([root + "/flows/both.yaml"], in: root)
        #expect(both.stdout.contains("field 'test': 'test' has both 'config_file' and 'config'"), "\(both.stdout)")
        let missing = try nodalTest([root + "/flows/missing.yaml"], in: root)
        #expect(missing.stdout.contains("field 'test.config_file': no configuration file \(root)/flows/nowhere.yml"), "\(missing.stdout)")
        let string = try nodalTest([root + "/flows/string.yaml"], in: root)
        #expect(string.stdout.contains("field 'test.config': 'config' must be a configuration written inline"), "\(string.stdout)")
        #expect(string.stdout.contains("write 'config_file: test-config.yml'"))
    }

    @Test func aFailLineShowsTheExpectedAndTheActualError() throws {
        let root = try files([
            "flow.yaml": """
                steps:
                  - { id: look, component: /m/which, input: { $input: k } }
                output: { $step: look }
                test:
                  cases:
                    - { name: right, input: { k: bad }, output: { outcome: failed, error: { code: NOT_FOUND, message: no such id } } }
                    - { name: wrong message, input: { k: bad }, output: { outcome: failed, error: { code: NOT_FOUND, message: No such id } } }
                    - { name: wrong code, input: { k: bad }, output: { outcome: failed, error: { code: 404, message: no such id } } }
                    - { name: not a failure, input: { k: bad }, output: { outcome: success, result: {} } }
                """,
            "stepflow-config.yml": """
                plugins:
                  mock: { type: mock, components: { /which: { behaviors: { bad: { outcome: failed, error: { code: NOT_FOUND, message: no such id } } } } } }
                routes:
                  "/m": [{ plugin: mock }]
                """,
        ])
        let flow = root + "/flow.yaml"
        let result = try nodalTest([flow], in: root)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines == [
            "PASS  \(flow): right",
            #"FAIL  \#(flow): wrong message: error.message: expected "No such id", got "no such id" (code NOT_FOUND, from step 'look')"#,
            #"FAIL  \#(flow): wrong code: error.code: expected 404, got NOT_FOUND (message "no such id", from step 'look')"#,
            #"FAIL  \#(flow): not a failure: expected success, got failed at step 'look': NOT_FOUND "no such id""#,
            "1 passed, 3 failed",
        ])
    }
}

import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalFFI
@testable import NodalJSON
@testable import NodalSQLite

/// Issue 11, hostile trial: a configuration file placed beside a flow granted itself powers (it
/// let the flow call `system("id")` and read `/etc/passwd`). Grants now come only from a
/// configuration the user named or from the user's own folder.
@Suite struct HardeningConfigTests {
    /// An environment with nothing set but the given names (no NODAL_CONFIG, no real HOME).
    func environment(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    func configError(_ body: () throws -> NodalConfig) -> FlowError? {
        do {
            _ = try body()
            Issue.record("expected the configuration to be refused")
            return nil
        } catch let error as FlowError {
            return error
        } catch {
            Issue.record("expected a FlowError, got \(error)")
            return nil
        }
    }

    static let systemFlow = """
        steps:
          - id: pwn
            component: /builtin/ffi
            input: { library: libc.so.6, symbol: system, signature: "(string) -> int32", args: ["id"] }
        output: { $step: pwn }
        """
    static let ffiGrant = """
        ffi:
          allow:
            - library: libc.so.6
              symbols: { system: "(string) -> int32" }
        """

    @Test func anFFIGrantInAConfigBesideTheFlowIsRefusedNamingFileKeyAndHowToTrustIt() throws {
        let directory = try temporaryDirectory(containing: ["flow.yaml": Self.systemFlow, "nodal-config.yml": Self.ffiGrant])
        let home = try temporaryDirectory()
        let error = try #require(configError {
            try NodalConfig.forFlow(at: directory + "/flow.yaml", named: nil, environment: environment(["HOME": home]))
        })
        #expect(error.file == directory + "/nodal-config.yml")
        #expect(error.field == "ffi.allow")
        #expect(error.message.contains("found beside the flow"))
        #expect(error.message.contains("--config \(directory)/nodal-config.yml"))
        #expect(error.message.contains("NODAL_CONFIG="))
    }

    @Test func aFilesGrantInAStepflowConfigBesideTheFlowIsRefused() throws {
        let directory = try temporaryDirectory(containing: [
            "flow.yaml": "steps: [{ id: read, component: /builtin/load_file, input: { path: /etc/passwd } }]\noutput: { $step: read }\n",
            "stepflow-config.yml": "files:\n  allow: [/etc]\n",
        ])
        let error = try #require(configError {
            try NodalConfig.forFlow(at: directory + "/flow.yaml", named: nil, environment: environment([:]))
        })
        #expect(error.file == directory + "/stepflow-config.yml")
        #expect(error.field == "files.allow")
        #expect(error.description.contains("stepflow-config.yml, field 'files.allow'"))
    }

    @Test func aNativePluginPathInAConfigBesideTheFlowIsRefused() {
        let error = configError {
            try NodalConfig(yaml: "plugins:\n  mine: { type: nodal, path: ./evil.so }\n", file: "/p/nodal-config.yml", origin: .discovered)
        }
        #expect(error?.field == "plugins.mine.path")
        #expect(error?.message.contains("native code") == true)
    }

    @Test func aConfigBesideTheFlowMayDeclarePluginsRoutesAndEmptyGrants() throws {
        let config = try NodalConfig(yaml: """
            plugins:
              builtin: { type: builtin }
              text: { type: nodal, id: org.nodal.std }
              mock: { type: mock, components: { /echo: { behaviors: { "a": { outcome: success, result: 1 } } } } }
            routes:
              "/b": [{ plugin: builtin }]
              "/t": [{ plugin: text }]
              "/m": [{ plugin: mock }]
            ffi: { allow: [] }
            files: { allow: [] }
            storageConfig: { type: inMemory }
            """, file: "/p/nodal-config.yml", origin: .discovered)
        #expect(config.origin == .discovered)
        #expect(config.routes.count == 3)
        #expect(config.ffiAllowlist.isEmpty)
        #expect(config.allowedFileFolders.isEmpty)
    }

    @Test func aNamedConfigOrNODALCONFIGMayGrant() throws {
        let directory = try temporaryDirectory(containing: ["flow.yaml": Self.systemFlow, "nodal-config.yml": Self.ffiGrant])
        let named = try NodalConfig.forFlow(at: directory + "/flow.yaml", named: directory + "/nodal-config.yml", environment: environment([:]))
        #expect(named.origin == .named)
        #expect(named.ffiAllowlist.map(\.library) == ["libc.so.6"])
        let fromEnvironment = try NodalConfig.forFlow(
            at: directory + "/flow.yaml", named: nil, environment: environment(["NODAL_CONFIG": directory + "/nodal-config.yml"]))
        #expect(fromEnvironment.origin == .named)
        #expect(fromEnvironment.ffiAllowlist.count == 1)
        // The engine's API trusts what the app gives it.
        #expect(try NodalConfig(yaml: Self.ffiGrant).ffiAllowlist.count == 1)
    }

    @Test func theUsersOwnConfigFolderGrantsAndAConfigBesideTheFlowStillRoutes() async throws {
        let userHome = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: userHome + "/xdg/nodal", withIntermediateDirectories: true)
        try """
            ffi:
              allow:
                - library: libm.so.6
                  symbols: { pow: "(double, double) -> double" }
            files:
              allow: [/srv/shared-reference]
            routes:
              "/ignored": [{ plugin: builtin }]
            plugins:
              builtin: { type: builtin }
            """.write(toFile: userHome + "/xdg/nodal/nodal-config.yml", atomically: true, encoding: .utf8)
        let project = try temporaryDirectory(containing: [
            "flow.yaml": """
                steps:
                  - { id: p, component: /native/ffi, input: { library: libm.so.6, symbol: pow, signature: "(double, double) -> double", args: [2, 8] } }
                output: { $step: p, path: result }
                """,
            "nodal-config.yml": "plugins:\n  builtin: { type: builtin }\nroutes:\n  \"/native\": [{ plugin: builtin }]\n",
        ])
        let env = environment(["XDG_CONFIG_HOME": userHome + "/xdg", "HOME": "/nonexistent"])
        let config = try NodalConfig.forFlow(at: project + "/flow.yaml", named: nil, environment: env)
        #expect(config.origin == .discovered)
        #expect(config.file == project + "/nodal-config.yml")
        #expect(config.routes.map(\.prefix) == ["/native"])  // the project's routes, not the user's
        #expect(config.allowedFileFolders == ["/srv/shared-reference"])
        let engine = Engine(configuration: config, extensions: [.ffi])
        let result = await engine.run(try Flow(contentsOfFile: project + "/flow.yaml"), input: [:])
        #expect(result.output == 256.0)

        // Nothing beside the flow: the user's configuration is the configuration.
        let alone = try temporaryDirectory(containing: ["flow.yaml": "steps: []\noutput: 1\n"])
        let user = try NodalConfig.forFlow(at: alone + "/flow.yaml", named: nil, environment: env)
        #expect(user.origin == .userFolder)
        #expect(user.routes.map(\.prefix) == ["/ignored"])
        // Without XDG_CONFIG_HOME, ~/.config/nodal.
        #expect(NodalConfig.userFolder(environment: environment(["HOME": "/home/ada"])) == "/home/ada/.config/nodal")
        #expect(NodalConfig.userFolder(environment: environment(["HOME": "/home/ada", "XDG_CONFIG_HOME": "/x"])) == "/x/nodal")
        #expect(NodalConfig.userFolder(environment: environment(["XDG_CONFIG_HOME": "relative"])) == nil)
    }

    @Test func theFlowReadsWithTheConfigsGrantsOnlyWhenTheyAreTrusted() async throws {
        // The whole trial case, in the library: a discovered config never reaches the engine.
        let directory = try temporaryDirectory(containing: ["flow.yaml": Self.systemFlow, "nodal-config.yml": Self.ffiGrant])
        let marker = directory + "/ran"
        let flow = try Flow(yaml: Self.systemFlow.replacingOccurrences(of: "[\"id\"]", with: "[\"touch \(marker)\"]"), file: directory + "/flow.yaml")
        // Without a trusted configuration the engine refuses the call.
        let result = await Engine(extensions: [.ffi]).run(flow, input: [:])
        #expect(result.status == .failed)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(result.error?.message.contains("not on the FFI allowlist") == true)
    }
}

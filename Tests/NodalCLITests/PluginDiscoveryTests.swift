import Foundation
import NodalCore
import NodalTestSupport
import Testing

/// Plugin discovery says what it did: where it looked, what it refused there, which known route
/// is closest to a mistyped one; `plugins inspect` takes routes and `plugins list` shows builtins.
@Suite struct PluginDiscoveryTests {
    /// A folder with one flow calling `component`.
    func flow(_ component: String) throws -> (directory: String, flow: String) {
        let directory = try temporaryDirectory()
        let flow = directory + "/flow.yaml"
        try "steps: [{id: s, component: \(component), input: {text: a}}]\noutput: {$step: s}\n"
            .write(toFile: flow, atomically: true, encoding: .utf8)
        return (directory, flow)
    }

    @Test func aMistypedRouteSuggestsTheClosestAndListsTheFoldersSearchedInOrder() async throws {
        let (directory, flow) = try flow("/std/uper")
        let plugins = directory + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        _ = try buildCPlugin(TestPlugins.echo, name: "echo", in: plugins)
        let result = try await hostileNodal(["validate", flow, "--plugin-path", plugins])
        #expect(result.status == 65)
        #expect(result.stderr.contains("step 's', field 'component'"), "\(result.stderr)")
        #expect(result.stderr.contains("did you mean '/std/upper'?"), "\(result.stderr)")

        // An unknown plugin name: the whole list of what was searched, the explicit folder first.
        let (_, other) = try self.flow("/sdt/upper")
        let unknown = try await hostileNodal(["validate", other, "--plugin-path", plugins])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("unknown component route '/sdt/upper': did you mean '/std/upper'?"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("1. \(plugins) (folder, 1 plugin file)"), "\(unknown.stderr)")
        let lines = unknown.stderr.split(separator: "\n").map(String.init)
        let explicit = try #require(lines.firstIndex { $0.contains(plugins) })
        let defaults = try #require(lines.firstIndex { $0.contains("/usr/local/lib/nodal/plugins") })
        #expect(explicit < defaults, "\(unknown.stderr)")
        #expect(lines.contains { $0.contains("libnodal_std.so (file)") }, "\(unknown.stderr)")
    }

    @Test func aBuiltinNameIsSuggestedToo() async throws {
        let (_, flow) = try flow("/builtin/mapp")
        let result = try await hostileNodal(["validate", flow])
        #expect(result.status == 65)
        #expect(result.stderr.contains("did you mean '/builtin/map'?"), "\(result.stderr)")
        // Nothing close: no suggestion.
        let (_, far) = try self.flow("/zzzzzz/qqqq")
        let none = try await hostileNodal(["validate", far])
        #expect(none.status == 65)
        #expect(!none.stderr.contains("did you mean"), "\(none.stderr)")
    }

    @Test func aPluginRefusedInAFolderIsListedUnderIt() async throws {
        let (directory, flow) = try flow("/echo/echo")
        let plugins = directory + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try "not a library".write(toFile: plugins + "/libbroken.so", atomically: true, encoding: .utf8)
        let result = try await hostileNodal(["validate", flow, "--plugin-path", plugins])
        #expect(result.status == 69)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let folder = try #require(lines.firstIndex { $0.hasSuffix("1. \(plugins) (folder, 1 plugin file)") }, "\(result.stderr)")
        #expect(lines[folder + 1].contains("refused libbroken.so: not a shared library"), "\(result.stderr)")
    }

    /// A folder named like a library (`e.so/`) was counted as a plugin file and refused as "no
    /// such file": it is not a plugin, and is passed over.
    @Test func aFolderNamedLikeALibraryIsNotAPluginFile() async throws {
        let (directory, flow) = try flow("/std/upper")
        let plugins = directory + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins + "/e.so", withIntermediateDirectories: true)
        let result = try await hostileNodal(["validate", flow, "--plugin-path", plugins])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("e.so"), "\(result.stderr)")
    }

    @Test func aPluginPathThatDoesNotExistIsNamedNotFound() async throws {
        let (directory, flow) = try flow("/std/upper")
        let missing = directory + "/no-such-folder"
        for command in [["run", flow], ["validate", flow], ["test", flow], ["plugins", "list"]] {
            let result = try await hostileNodal(command + ["--plugin-path", missing])
            #expect(result.status == 66, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--plugin-path \(missing): no such file or folder"), "\(result.stderr)")
        }
        // An existing one is fine.
        #expect(try await hostileNodal(["run", flow, "--plugin-path", directory]).status == 0)
    }

    @Test func inspectTakesARoute() async throws {
        let node = try await hostileNodal(["plugins", "inspect", "/std/upper"])
        #expect(node.status == 0, "\(node.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(node.stdout.utf8)) as? [String: Any])
        #expect(json["id"] as? String == "org.nodal.std.upper")
        #expect(json["route"] as? String == "/std/upper")
        #expect(json["plugin"] as? String == "org.nodal.std")
        #expect((json["file"] as? String)?.hasSuffix("libnodal_std.so") == true)
        #expect(json["inputSchema"] != nil)

        let builtin = try await hostileNodal(["plugins", "inspect", "/builtin/map"])
        #expect(builtin.status == 0, "\(builtin.stderr)")
        #expect(builtin.stdout.contains(#""builtin": "map""#), "\(builtin.stdout)")

        let typo = try await hostileNodal(["plugins", "inspect", "/std/uper"])
        #expect(typo.status == 66)
        #expect(typo.stderr.contains("did you mean '/std/upper'?"), "\(typo.stderr)")
    }

    @Test func listShowsBuiltinsAndWhereItLooked() async throws {
        let text = try await hostileNodal(["plugins", "list"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("org.nodal.std "), "\(text.stdout)")
        #expect(text.stdout.contains("builtin  /builtin/map\n"), "\(text.stdout)")
        #expect(text.stdout.contains("searched, in order:\n"), "\(text.stdout)")
        #expect(text.stdout.contains("/usr/local/lib/nodal/plugins ("), "\(text.stdout)")

        let json = try await hostileNodal(["plugins", "list", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let builtins = (object["builtins"] as? [[String: Any]])?.compactMap { $0["route"] as? String } ?? []
        #expect(builtins.contains("/builtin/map") && builtins.contains("/builtin/put_blob"), "\(builtins)")
        let searched = object["searched"] as? [[String: Any]] ?? []
        #expect(searched.contains { ($0["path"] as? String)?.hasSuffix("libnodal_std.so") == true && $0["found"] as? String == "file" })
    }

    /// An app that never loaded plugins is told so, rather than shown an empty list.
    @Test func anEngineThatSearchedNowhereSaysSo() throws {
        let engine = Engine()
        let flow = try Flow(yaml: "steps: [{id: s, component: /std/upper}]\noutput: {$step: s}")
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.message.contains("no plugins were searched for (Engine.loadPlugins(searchPath:) was not called)") == true, "\(String(describing: error))")
        #expect(engine.searchedPluginLocations.isEmpty)
        engine.loadPlugins(searchPath: ["/definitely/not/here"])
        #expect(engine.searchedPluginLocations == [SearchedLocation(path: "/definitely/not/here", kind: .missing)])
    }
}

enum TestPlugins {
    /// One node, `/echo/echo`, returning its input.
    static let echo = """
        #include "nodal.h"
        static nodal_status echo(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            (void)n;
            return h->write_output(c, in, len);
        }
        static const nodal_node node = { sizeof(nodal_node), 0, "org.test.echo.echo", "echo", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE, NULL, NULL, NULL, NULL, echo };
        static const nodal_node *const nodes[] = { &node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.test.echo", .name = "echo", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t a, uint32_t b) { (void)a; (void)b; return &plugin; }
        """
}

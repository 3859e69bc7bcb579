import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Every refusal the loader makes names the file and the cause, and never brings the process down.
@Suite struct PluginLoaderTests {
    func refusal(_ source: TestPluginSource, name: String = "bad") throws -> PluginLoadError? {
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(source.text, name: name, in: directory)
        let engine = Engine()
        let error = #expect(throws: PluginLoadError.self) { try engine.loadPlugin(at: path) }
        #expect(error?.file == path)
        #expect(engine.plugins.isEmpty)
        #expect(engine.pluginLoadErrors.count == 1)
        return error
    }

    @Test func aGoodPluginLoadsAndRuns() async throws {
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(TestPluginSource().text, name: "good", in: directory)
        let engine = Engine()
        let info = try engine.loadPlugin(at: path)
        #expect(info.id == "org.test.sample")
        #expect(info.nodes.map(\.id) == ["org.test.sample.echo"])
        #expect(info.nodes[0].flags == [.threadSafe, .nonBlocking])
        let flow = try Flow(yaml: "steps: [{id: e, component: /sample/echo, input: {a: [1, 2]}}]\noutput: {$step: e}")
        let result = await engine.run(flow, input: [:])
        #expect(result.output == ["a": [1, 2]])
    }

    @Test func notASharedLibrary() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/libtext.so"
        try "just text".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: PluginLoadError.self) { try Engine().loadPlugin(at: path) }
        #expect(error?.file == path)
        #expect(error?.reason.contains("not a shared library") == true)
    }

    @Test func noEntrySymbol() throws {
        let directory = try temporaryDirectory()
        let path = try buildCPlugin("int not_a_plugin(void) { return 1; }\n", name: "noentry", in: directory)
        let error = #expect(throws: PluginLoadError.self) { try Engine().loadPlugin(at: path) }
        #expect(error?.reason.contains("no entry symbol nodal_plugin_entry_v1") == true)
    }

    @Test func otherABIMajorByEntryName() throws {
        var source = TestPluginSource()
        source.entrySymbol = "nodal_plugin_entry_v2"
        let error = try refusal(source)
        #expect(error?.reason.contains("ABI 2") == true)
        #expect(error?.reason.contains("ABI 1") == true)
    }

    @Test func otherABIMajorInTheDescriptor() throws {
        var source = TestPluginSource()
        source.descriptorABIMajor = "3"
        let error = try refusal(source)
        #expect(error?.reason.contains("ABI 3") == true)
        #expect(error?.reason.contains("ABI 1") == true)
    }

    @Test func entryReturnsNull() throws {
        var source = TestPluginSource()
        source.returnsNull = true
        let error = try refusal(source)
        #expect(error?.reason.contains("returned NULL") == true)
    }

    @Test func swiftPluginFromAnotherToolchain() throws {
        var source = TestPluginSource()
        source.swiftToolchain = "clang 17.0.0 (some other swift toolchain)"
        let error = try refusal(source)
        #expect(error?.reason.contains("another Swift toolchain") == true)
        #expect(error?.reason.contains("clang 17.0.0") == true)
    }

    @Test func invalidSemVer() throws {
        var source = TestPluginSource()
        source.version = "1.0"
        let error = try refusal(source)
        #expect(error?.reason.contains("SemVer") == true)
    }

    @Test func duplicateNodeID() throws {
        let directory = try temporaryDirectory()
        let first = try buildCPlugin(TestPluginSource().text, name: "first", in: directory)
        var other = TestPluginSource()
        other.pluginID = "org.test.other"
        other.pluginName = "other"  // same node id as the first plugin's
        let second = try buildCPlugin(other.text, name: "second", in: directory)
        let engine = Engine()
        try engine.loadPlugin(at: first)
        let error = #expect(throws: PluginLoadError.self) { try engine.loadPlugin(at: second) }
        #expect(error?.file == second)
        #expect(error?.reason.contains("duplicate node id 'org.test.sample.echo'") == true)
        #expect(error?.reason.contains(first) == true)
        #expect(engine.plugins.map(\.id) == ["org.test.sample"])
    }

    @Test func folderScanLoadsTheGoodAndReportsTheBad() throws {
        let directory = try temporaryDirectory()
        _ = try buildCPlugin(TestPluginSource().text, name: "a_good", in: directory)
        var bad = TestPluginSource()
        bad.returnsNull = true
        _ = try buildCPlugin(bad.text, name: "b_bad", in: directory)
        let engine = Engine()
        let refusals = engine.loadPlugins(searchPath: [directory, directory + "/does-not-exist"])
        #expect(engine.plugins.map(\.id) == ["org.test.sample"])
        #expect(refusals.map(\.file) == [directory + "/libb_bad.so"])
    }

    @Test func aRouteToARefusedPluginSaysSo() throws {
        var bad = TestPluginSource()
        bad.returnsNull = true
        let directory = try temporaryDirectory()
        _ = try buildCPlugin(bad.text, name: "bad", in: directory)
        let engine = Engine()
        engine.loadPlugins(searchPath: [directory])
        let flow = try Flow(yaml: "steps: [{id: e, component: /sample/echo}]\noutput: {$step: e}")
        let error = #expect(throws: PluginLoadError.self) { try engine.validate(flow) }
        #expect(error?.reason.contains("/sample/echo") == true)
        #expect(error?.reason.contains("returned NULL") == true)
    }

    @Test func searchPathOrder() throws {
        setenv("NODAL_PLUGIN_PATH", "/env/one:/env/two", 1)
        defer { unsetenv("NODAL_PLUGIN_PATH") }
        var config = try NodalConfig(yaml: "plugins:\n  mine: { type: nodal, path: plugins }\n", file: "/cfg/nodal-config.yml")
        config.file = "/cfg/nodal-config.yml"
        let path = Engine.pluginSearchPath(explicit: ["/cli"], configuration: config)
        #expect(Array(path.prefix(4)) == ["/cli", "/env/one", "/env/two", "/cfg/plugins"])
        #expect(path.contains("/usr/local/lib/nodal/plugins"))
    }
}

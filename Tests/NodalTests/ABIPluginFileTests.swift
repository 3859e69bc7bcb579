import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

#if os(Linux)
/// A damaged plugin file is refused before dlopen, which would otherwise map a truncated file's
/// missing pages and kill the process with SIGBUS.
@Suite struct ABIPluginFileTests {
    /// The usual test plugin, padded past 30,000 bytes so that every truncation below cuts into a
    /// loaded segment.
    static let paddedSource = TestPluginSource().text + """

        const unsigned char nodal_test_padding[40000] = { 1 };
        NODAL_EXPORT int nodal_test_padding_byte(unsigned i) { return nodal_test_padding[i % sizeof nodal_test_padding]; }
        """

    static func builtPlugin() throws -> (directory: String, path: String, bytes: Data) {
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(paddedSource, name: "whole", in: directory)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        return (directory, path, bytes)
    }

    static func write(_ bytes: Data, as name: String, in directory: String) throws -> String {
        let path = directory + "/lib\(name).so"
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    static func refusal(_ path: String) -> PluginLoadError? {
        let engine = Engine()
        let error = #expect(throws: PluginLoadError.self) { try engine.loadPlugin(at: path) }
        #expect(error?.file == path)
        #expect(engine.plugins.isEmpty)
        return error
    }

    @Test func theWholeFileLoads() throws {
        let plugin = try Self.builtPlugin()
        #expect(plugin.bytes.count > 30_000)
        let copy = try Self.write(plugin.bytes, as: "copy", in: plugin.directory)
        #expect(try Engine().loadPlugin(at: copy).id == "org.test.sample")
    }

    @Test func aTruncatedPluginIsRefusedNeverLoaded() throws {
        let plugin = try Self.builtPlugin()
        let size = plugin.bytes.count
        for length in [1_000, 4_096, 10_000, 30_000, size - 1] {
            let path = try Self.write(plugin.bytes.prefix(length), as: "cut\(length)", in: plugin.directory)
            let error = Self.refusal(path)
            #expect(error?.reason.hasPrefix("truncated: ") == true, "\(length) bytes: \(error?.reason ?? "loaded")")
            #expect(error?.reason.contains("past the end of the file (\(length) bytes)") == true, "\(length) bytes: \(error?.reason ?? "loaded")")
        }
    }

    /// The library the engine ships with, cut the same way.
    @Test func aTruncatedStdPluginIsRefused() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Products.plugin("nodal_std")))
        let directory = try temporaryDirectory()
        for length in [1_000, 4_096, 10_000, 30_000, bytes.count - 1] where length < bytes.count {
            let path = try Self.write(bytes.prefix(length), as: "std\(length)", in: directory)
            let error = Self.refusal(path)
            #expect(error?.reason.hasPrefix("truncated: ") == true, "\(length) bytes: \(error?.reason ?? "loaded")")
        }
    }

    @Test func shorterThanAnELFHeader() throws {
        let plugin = try Self.builtPlugin()
        let empty = try Self.write(Data(), as: "empty", in: plugin.directory)
        #expect(Self.refusal(empty)?.reason.contains("not a shared library (no ELF header)") == true)
        let stub = try Self.write(plugin.bytes.prefix(40), as: "stub", in: plugin.directory)
        #expect(Self.refusal(stub)?.reason == "truncated: the file has 40 bytes, fewer than an ELF header (64)")
    }

    struct Patch: Sendable, CustomTestStringConvertible {
        var name: String
        var offset: Int
        var bytes: [UInt8]
        var reason: String
        var testDescription: String { name }
    }

    static let patches: [Patch] = [
        Patch(name: "32-bit", offset: 4, bytes: [1], reason: "not a 64-bit ELF file (EI_CLASS is 1"),
        Patch(name: "big-endian", offset: 5, bytes: [2], reason: "ELF data encoding is big-endian (EI_DATA)"),
        Patch(name: "executable", offset: 16, bytes: [2, 0], reason: "not a shared library (ELF e_type is 2, an executable"),
        Patch(name: "other machine", offset: 18, bytes: ELFCheck.hostMachine == 183 ? [62, 0] : [183, 0],
              reason: "built for another machine (ELF e_machine is"),
        Patch(name: "program header size", offset: 54, bytes: [32, 0], reason: "ELF e_phentsize is 32, expected 56"),
        Patch(name: "program headers past the end", offset: 32, bytes: [0, 0, 0, 0x40, 0, 0, 0, 0],
              reason: "truncated: the program header table (e_phoff 1073741824"),
        Patch(name: "section header size", offset: 58, bytes: [40, 0], reason: "ELF e_shentsize is 40, expected 64"),
    ]

    /// Headers this process could not load: each refused, saying which field is wrong.
    @Test(arguments: patches)
    func aDamagedHeaderIsRefusedByField(_ patch: Patch) throws {
        let plugin = try Self.builtPlugin()
        var bytes = plugin.bytes
        bytes.replaceSubrange(patch.offset..<patch.offset + patch.bytes.count, with: patch.bytes)
        let path = try Self.write(bytes, as: "patched", in: plugin.directory)
        let error = Self.refusal(path)
        #expect(error?.reason.contains(patch.reason) == true, "\(error?.reason ?? "loaded")")
    }
}
#endif

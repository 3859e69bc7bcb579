import CNodal
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// The loader reads the structs a plugin hands over exactly as far as their struct_size says:
/// an older, shorter layout may end where the plugin's readable memory ends, and a newer, longer
/// one carries fields this host does not know.
@Suite struct ABIStructSizeTests {
    /// Helpers every plugin below shares: `at_end_of_page` copies a struct so that it ends exactly
    /// at the end of a readable page, followed by a page that is not readable at all.
    static let common = #"""
        #define _DEFAULT_SOURCE
        #include <stddef.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <unistd.h>
        #include "nodal.h"

        static void *at_end_of_page(const void *data, size_t size) {
            size_t page = (size_t)sysconf(_SC_PAGESIZE);
            char *base = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            char *at;
            if (base == MAP_FAILED) return NULL;
            if (mprotect(base + page, page, PROT_NONE) != 0) return NULL;
            at = base + page - size;
            memcpy(at, data, size);
            if (mprotect(base, page, PROT_READ) != 0) return NULL;
            return at;
        }

        static int initialized;

        static nodal_status init(const nodal_plugin *plugin, const nodal_host *host) {
            (void)plugin; (void)host;
            initialized = 1;
            return NODAL_OK;
        }

        static nodal_status echo_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            (void)node; (void)input; (void)input_len;
            return initialized ? host->write_output(call, "{\"initialized\":true}", 20)
                               : host->write_output(call, "{\"initialized\":false}", 21);
        }

        static const nodal_node echo_node = {
            sizeof(nodal_node), 0, "org.test.layout.echo", "echo", "1.0.0", NULL,
            NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, echo_invoke
        };
        static const nodal_node *nodes[1];
        """#

    /// A plugin built against ABI 1.0's nodal_plugin: no license, no homepage. Both its
    /// descriptor and its node end at a page's end.
    static let olderLayout = common + #"""

        struct plugin_v1_0 {
            uint32_t struct_size, abi_major, abi_minor, node_count;
            const char *id, *name, *version, *vendor, *description, *swift_toolchain;
            const nodal_node *const *nodes;
            nodal_status (*initialize)(const nodal_plugin *plugin, const nodal_host *host);
        };
        /* The same as nodal_plugin up to `initialize`, and shorter than today's nodal_plugin. */
        typedef char same_prefix[offsetof(struct plugin_v1_0, initialize) == offsetof(nodal_plugin, initialize) ? 1 : -1];
        typedef char shorter[sizeof(struct plugin_v1_0) < sizeof(nodal_plugin) ? 1 : -1];

        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            struct plugin_v1_0 plugin = {
                sizeof(struct plugin_v1_0), NODAL_ABI_MAJOR, 0, 1, "org.test.layout", "layout", "1.0.0",
                "Tests", "an ABI 1.0 plugin", NULL, nodes, init
            };
            (void)major; (void)minor;
            nodes[0] = at_end_of_page(&echo_node, sizeof echo_node);
            if (!nodes[0]) return NULL;
            return at_end_of_page(&plugin, sizeof plugin);
        }
        """#

    /// A plugin built against a later 1.x header that added fields this host does not know.
    static let newerLayout = common + #"""

        struct plugin_v1_9 {
            nodal_plugin known;
            const char *future_text;
            uint64_t future_flags;
            void (*future_function)(void);
        };
        struct node_v1_9 {
            nodal_node known;
            const char *future_text;
            uint64_t future_numbers[5];
        };

        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            static struct node_v1_9 node;
            struct plugin_v1_9 plugin;
            (void)major; (void)minor;
            node.known = echo_node;
            node.known.struct_size = sizeof node;
            node.future_text = (const char *)(uintptr_t)1;  /* not a pointer: never to be read */
            memset(node.future_numbers, 0xEE, sizeof node.future_numbers);
            memset(&plugin, 0, sizeof plugin);
            plugin.known.struct_size = sizeof plugin;
            plugin.known.abi_major = NODAL_ABI_MAJOR;
            plugin.known.abi_minor = NODAL_ABI_MINOR + 8;
            plugin.known.node_count = 1;
            plugin.known.id = "org.test.layout";
            plugin.known.name = "layout";
            plugin.known.version = "1.9.0";
            plugin.known.nodes = nodes;
            plugin.known.initialize = init;
            plugin.known.license = "Apache-2.0 OR MIT";
            plugin.known.homepage = "https://example.org/layout";
            plugin.future_text = (const char *)(uintptr_t)1;
            plugin.future_flags = ~(uint64_t)0;
            plugin.future_function = NULL;
            nodes[0] = &node.known;
            return at_end_of_page(&plugin, sizeof plugin);
        }
        """#

    /// Today's layout with the struct_size fields set to `pluginSize` and `nodeSize`; only that
    /// many bytes of each (at least 4, at most the struct) are readable.
    static func sized(pluginSize: Int, nodeSize: Int) -> String {
        common + """

            NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
                nodal_plugin plugin = {
                    sizeof(nodal_plugin), NODAL_ABI_MAJOR, NODAL_ABI_MINOR, 1, "org.test.layout", "layout", "1.0.0",
                    NULL, NULL, NULL, nodes, init, NULL, NULL
                };
                nodal_node node = echo_node;
                /* At least struct_size itself is readable. */
                size_t node_bytes = \(max(nodeSize, 4)) < sizeof node ? \(max(nodeSize, 4)) : sizeof node;
                size_t plugin_bytes = \(max(pluginSize, 4)) < sizeof plugin ? \(max(pluginSize, 4)) : sizeof plugin;
                (void)major; (void)minor;
                node.struct_size = \(nodeSize);
                plugin.struct_size = \(pluginSize);
                nodes[0] = at_end_of_page(&node, node_bytes);
                if (!nodes[0]) return NULL;
                return at_end_of_page(&plugin, plugin_bytes);
            }
            """
    }

    static func load(_ source: String, name: String) throws -> (Engine, String) {
        let directory = try temporaryDirectory()
        let path = try buildCPlugin(source, name: name, in: directory)
        return (Engine(), path)
    }

    static let echo = try! Flow(yaml: "steps: [{id: e, component: /layout/echo}]\noutput: {$step: e}")

    @Test func anOlderShorterDescriptorAtTheEndOfAPageLoads() async throws {
        let (engine, path) = try Self.load(Self.olderLayout, name: "older")
        let info = try engine.loadPlugin(at: path)
        #expect(info.id == "org.test.layout")
        #expect(info.abiMinor == 0)
        #expect(info.vendor == "Tests")
        #expect(info.description == "an ABI 1.0 plugin")
        // Fields of 1.1 the plugin did not write read as absent.
        #expect(info.license == nil)
        #expect(info.homepage == nil)
        #expect(info.nodes.map(\.id) == ["org.test.layout.echo"])
        // `initialize`, the last field the plugin wrote, was read and called.
        let result = await engine.run(Self.echo, input: [:])
        #expect(result.output == ["initialized": true])
    }

    @Test func aNewerLongerDescriptorLoadsAndItsUnknownFieldsAreIgnored() async throws {
        let (engine, path) = try Self.load(Self.newerLayout, name: "newer")
        let info = try engine.loadPlugin(at: path)
        #expect(info.version == "1.9.0")
        #expect(info.abiMinor == Int(NODAL_ABI_MINOR) + 8)
        #expect(info.license == "Apache-2.0 OR MIT")
        #expect(info.homepage == "https://example.org/layout")
        #expect(info.nodes.map(\.id) == ["org.test.layout.echo"])
        let result = await engine.run(Self.echo, input: [:])
        #expect(result.output == ["initialized": true])
    }

    @Test func aDescriptorOfExactlyTodaysSizeAtTheEndOfAPageLoads() async throws {
        let size = MemoryLayout<nodal_plugin>.size, nodeSize = MemoryLayout<nodal_node>.size
        let (engine, path) = try Self.load(Self.sized(pluginSize: size, nodeSize: nodeSize), name: "exact")
        let info = try engine.loadPlugin(at: path)
        #expect(info.abiMinor == Int(NODAL_ABI_MINOR))
        let result = await engine.run(Self.echo, input: [:])
        #expect(result.output == ["initialized": true])
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var pluginSize: Int
        var nodeSize: Int
        var reason: String
        var testDescription: String { "plugin \(pluginSize) bytes, node \(nodeSize) bytes" }
    }

    static let refusals: [Refusal] = {
        let pluginSize = MemoryLayout<nodal_plugin>.size, nodeSize = MemoryLayout<nodal_node>.size
        let firstPlugin = PluginLoader.firstPluginSize, firstNode = PluginLoader.firstNodeSize
        return [
            Refusal(pluginSize: 8, nodeSize: nodeSize,
                    reason: "nodal_plugin.struct_size is 8, smaller than nodal_plugin of ABI 1.0 (\(firstPlugin) bytes)"),
            Refusal(pluginSize: firstPlugin - 8, nodeSize: nodeSize,
                    reason: "nodal_plugin.struct_size is \(firstPlugin - 8), smaller than nodal_plugin of ABI 1.0 (\(firstPlugin) bytes)"),
            Refusal(pluginSize: firstPlugin + 4, nodeSize: nodeSize,
                    reason: "nodal_plugin.struct_size is \(firstPlugin + 4), not a multiple of 8"),
            Refusal(pluginSize: pluginSize, nodeSize: firstNode - 8,
                    reason: "nodes[0].struct_size is \(firstNode - 8), smaller than nodal_node of ABI 1.0 (\(firstNode) bytes)"),
            Refusal(pluginSize: pluginSize, nodeSize: 0,
                    reason: "nodes[0].struct_size is 0, smaller than nodal_node of ABI 1.0"),
        ]
    }()

    /// Too small to be a descriptor of ABI 1: refused by name, never read past its end.
    @Test(arguments: refusals)
    func aStructSizeBelowABI1IsRefused(_ refusal: Refusal) throws {
        let (engine, path) = try Self.load(Self.sized(pluginSize: refusal.pluginSize, nodeSize: refusal.nodeSize), name: "small")
        let error = #expect(throws: PluginLoadError.self) { try engine.loadPlugin(at: path) }
        #expect(error?.file == path)
        #expect(error?.reason.contains(refusal.reason) == true, "\(error?.reason ?? "no error")")
        #expect(error?.description.contains(path) == true)
        #expect(engine.plugins.isEmpty)
    }
}

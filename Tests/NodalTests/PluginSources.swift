/// C source for small test plugins, varied one property at a time to provoke each refusal.
struct TestPluginSource {
    var pluginID = "org.test.sample"
    var pluginName = "sample"
    var nodeID = "org.test.sample.echo"
    var nodeName = "echo"
    var entrySymbol = "nodal_plugin_entry_v1"
    var descriptorABIMajor = "NODAL_ABI_MAJOR"
    var returnsNull = false
    var swiftToolchain: String?
    var version = "1.0.0"

    var text: String {
        """
        #include "nodal.h"

        static nodal_status echo_invoke(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                        const char *input, size_t input_len) {
            (void)node;
            return host->write_output(call, input, input_len);
        }

        static const nodal_node echo_node = {
            sizeof(nodal_node), 0, "\(nodeID)", "\(nodeName)", "1.0.0", "echoes its input",
            NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, echo_invoke
        };
        static const nodal_node *const nodes[] = { &echo_node };

        static const nodal_plugin plugin = {
            sizeof(nodal_plugin), \(descriptorABIMajor), NODAL_ABI_MINOR, 1,
            "\(pluginID)", "\(pluginName)", "\(version)", "Tests", "a test plugin",
            \(swiftToolchain.map { "\"\($0)\"" } ?? "NULL"), nodes, NULL, NULL, NULL
        };

        NODAL_EXPORT const nodal_plugin *\(entrySymbol)(uint32_t major, uint32_t minor) {
            (void)major; (void)minor;
            return \(returnsNull ? "major == 999 ? &plugin : NULL" : "&plugin");
        }
        """
    }
}

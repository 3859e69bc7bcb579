/// The files of a new plugin folder (`nodal plugins new`): sources with one node, a build file,
/// a flow whose `test: cases:` pass with `nodal test`, and a README saying how.
struct PluginScaffold {
    enum Language: String, CaseIterable {
        case c, swift
    }

    let name: String
    let language: Language
    /// The `nodal` to run the flow with, as the README and Makefile write it.
    let nodal: String
    /// For C: the compiler flags that find nodal.h, as the Makefile writes them (Makefile text).
    let headerFlags: String
    /// For Swift: the package with NodalPluginKit, and its identity (its folder's name).
    let kitPackage: String

    /// 255 bytes of a file name, less "lib" and ".so".
    static let maximumNameLength = 249

    /// Why `name` cannot name a plugin, or nil when it can: it becomes the route prefix, part of
    /// the plugin id, the library's name and (in Swift) a product of the package.
    static func problem(withName name: String, language: Language) -> String? {
        let scalars = Array(name.unicodeScalars)
        let isLetter = { (s: Unicode.Scalar) in ("a"..."z").contains(s) || ("A"..."Z").contains(s) || s == "_" }
        guard let first = scalars.first, isLetter(first), scalars.allSatisfy({ isLetter($0) || ("0"..."9").contains($0) }) else {
            return "'\(name)' is not a valid plugin name: use an identifier (letters, digits and '_', not starting with a digit), such as 'greet'"
        }
        // libNAME.so (and the default folder ./NAME) must fit in a file name: 255 bytes.
        if name.utf8.count > maximumNameLength {
            return "'\(name.prefix(20))...' is not a valid plugin name: at most \(maximumNameLength) characters, so that its library libNAME.so fits in a file name"
        }
        if language == .swift, name.lowercased().hasPrefix("nodal") {
            return "'\(name)' is not a valid Swift plugin name: names starting with 'nodal' are taken by products of the Nodal package the plugin depends on"
        }
        return nil
    }

    /// The Swift target: `my_tool` is `MyToolPlugin`.
    var swiftTarget: String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "Plugin"
    }

    var library: String { "lib\(name).so" }

    /// Relative path to text, in the order they are written.
    var files: [(path: String, text: String)] {
        switch language {
        case .c: [("\(name).c", cSource), ("Makefile", makefile), ("flow.yaml", flow), ("README.md", readme), (".gitignore", "\(library)\n")]
        case .swift: [("Package.swift", package), ("Sources/\(swiftTarget)/Plugin.swift", swiftSource), ("flow.yaml", flow), ("README.md", readme), (".gitignore", ".build/\nPackage.resolved\n")]
        }
    }

    /// Where `nodal test` finds the built plugin.
    var builtPlugin: String { language == .c ? library : ".build/debug/\(library)" }

    // MARK: Files

    var flow: String {
        """
        # Calls the \(name) plugin's node. `nodal test flow.yaml --plugin-path \(builtPlugin)` runs the cases.
        name: \(name) example
        steps:
          - id: hello
            component: /\(name)/hello
            input: { $input: "$" }
        output: { $step: hello }
        test:
          cases:
            - name: greets
              input: { name: Ada }
              output:
                outcome: success
                result: \(language == .c ? "{ hello: { name: Ada } }" : "{ greeting: \"Hello, Ada!\" }")
            - name: \(language == .c ? "an input that is not an object is refused" : "an empty name is refused")
              input: \(language == .c ? "[1, 2]" : "{ name: \"\" }")
              output:
                outcome: failed
                error: { code: INVALID_INPUT }

        """
    }

    var cSource: String {
        """
        /* \(name).c: a Nodal plugin with one node, /\(name)/hello, that answers {"hello": INPUT}.
         * Everything it uses is in nodal.h; its comments say who owns what and on which thread. */
        #include <stdlib.h>
        #include <string.h>
        #include "nodal.h"

        static nodal_status hello(const nodal_node *node, const nodal_host *host, nodal_call *call,
                                  const char *input, size_t len) {
            static const char head[] = "{\\"hello\\":";
            size_t start = 0;
            char *out;
            nodal_status status;
            (void)node;
            while (start < len && strchr(" \\t\\r\\n", input[start]) != NULL) start++;
            if (start == len || input[start] != '{') {
                host->set_error(call, "INVALID_INPUT", "the input must be a JSON object", NULL, 0);
                return NODAL_ERROR;
            }
            /* The input is JSON the host wrote, so it goes into the output as it is. The host
             * copies the output before write_output returns: the buffer is freed right after. */
            out = malloc(sizeof head - 1 + len + 1);
            if (out == NULL) {
                host->set_error(call, "OUT_OF_MEMORY", "no memory for the output", NULL, 0);
                return NODAL_ERROR;
            }
            memcpy(out, head, sizeof head - 1);
            memcpy(out + sizeof head - 1, input, len);
            out[sizeof head - 1 + len] = '}';
            status = host->write_output(call, out, sizeof head - 1 + len + 1);
            free(out);
            return status == NODAL_OK ? NODAL_OK : NODAL_ERROR;
        }

        static const nodal_node hello_node = {
            .struct_size = sizeof(nodal_node), .id = "org.example.\(name).hello", .name = "hello",
            .version = "0.1.0", .description = "Answers {\\"hello\\": INPUT} for an object INPUT.",
            .flags = NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING | NODAL_NODE_DETERMINISTIC,
            .output_schema = "{\\"type\\": \\"object\\", \\"required\\": [\\"hello\\"]}",
            .invoke = hello,
        };
        static const nodal_node *const nodes[] = { &hello_node };
        static const nodal_plugin plugin = {
            .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR, .abi_minor = NODAL_ABI_MINOR,
            .node_count = 1, .id = "org.example.\(name)", .name = "\(name)", .version = "0.1.0",
            .description = "The \(name) plugin.", .nodes = nodes,
        };

        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t major, uint32_t minor) {
            (void)minor;
            return major == NODAL_ABI_MAJOR ? &plugin : NULL;
        }

        """
    }

    var makefile: String {
        """
        # Builds \(library), the \(name) plugin; `make test` runs flow.yaml's test cases.
        NODAL ?= \(ShellWord.forMake(ShellWord.quoted(nodal)))
        # Where nodal.h is.
        NODAL_CFLAGS ?= \(headerFlags)
        CFLAGS ?= -std=c99 -O2 -Wall -Wextra -pedantic

        \(library): \(name).c
        \t$(CC) $(CFLAGS) $(NODAL_CFLAGS) -shared -fPIC \(name).c -o $@

        test: \(library)
        \t$(NODAL) test flow.yaml --plugin-path \(library)

        clean:
        \trm -f \(library)

        .PHONY: test clean

        """
    }

    var package: String {
        let identity = kitPackage.split(separator: "/").last.map { $0.lowercased() } ?? "nodal"
        return """
            // swift-tools-version:6.1
            // The \(name) plugin: `swift build` writes .build/debug/\(library).
            import PackageDescription

            let package = Package(
                name: "\(name)",
                products: [
                    .library(name: "\(name)", type: .dynamic, targets: ["\(swiftTarget)"]),
                ],
                dependencies: [
                    // NodalPluginKit, the Swift plugin SDK. A path dependency is known by its folder's
                    // name: "\(identity)" below.
                    .package(path: "\(ShellWord.swiftLiteral(kitPackage))"),
                ],
                targets: [
                    .target(name: "\(swiftTarget)", dependencies: [.product(name: "NodalPluginKit", package: "\(ShellWord.swiftLiteral(identity))")]),
                ],
                swiftLanguageModes: [.v6]
            )

            """
    }

    var swiftSource: String {
        """
        // The \(name) plugin: one node, /\(name)/hello. NodalPluginKit turns it into what the host
        // reads (include/nodal.h); nothing here is unsafe.
        import NodalPluginKit

        /// Greets `name`: {"name": "Ada"} gives {"greeting": "Hello, Ada!"}.
        struct Hello: CodableNode {
            struct Input: Decodable { var name: String }
            struct Output: Encodable { var greeting: String }

            let name = "hello"
            let description: String? = "Greets 'name'."
            let flags: NodeFlags = .pure
            let inputSchema: JSON? = ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]]
            let outputSchema: JSON? = ["type": "object", "properties": ["greeting": ["type": "string"]], "required": ["greeting"]]

            func run(_ input: Input, context: NodeContext) throws -> Output {
                guard !input.name.isEmpty else { throw NodeError.invalidInput("field 'name' must not be empty") }
                return Output(greeting: "Hello, \\(input.name)!")
            }
        }

        let plugin = Plugin(id: "org.example.\(name)", name: "\(name)", version: "0.1.0", nodes: [Hello()])

        /// The one function the host looks up.
        @_cdecl("nodal_plugin_entry_v1")
        public func entry(_ major: UInt32, _ minor: UInt32) -> PluginEntry { plugin.entry(major, minor) }

        """
    }

    var readme: String {
        let nodal = ShellWord.quoted(nodal)
        let build = language == .c
            ? """
            make                # builds \(library)
            make test           # runs flow.yaml's test cases
            """
            : """
            swift build         # builds .build/debug/\(library)
            \(nodal) test flow.yaml --plugin-path \(builtPlugin)
            """
        let what = language == .c
            ? "`\(name).c` is the whole plugin: one node, `hello`, that answers `{\"hello\": INPUT}` and refuses an input that is not an object. The Makefile finds `nodal.h` with `\(headerFlags)`."
            : "`Sources/\(swiftTarget)/Plugin.swift` is the whole plugin: one node, `hello`, declared with NodalPluginKit (`CodableNode`: a decoded input, an encoded output, errors as `NodeError`). The package depends on NodalPluginKit at `\(kitPackage)`."
        return """
            # \(name): a Nodal plugin in \(language == .c ? "C" : "Swift")

            Written by `nodal plugins new \(name) --lang \(language.rawValue)`. \(what)

            ```sh
            \(build)
            \(nodal) run flow.yaml --input '{"name": "Ada"}' --plugin-path \(builtPlugin)
            \(nodal) plugins inspect /\(name)/hello --plugin-path \(builtPlugin)
            ```

            `flow.yaml` calls the node as `/\(name)/hello`; its `test: cases:` are what `nodal test`
            checks. To use the plugin from anywhere, put \(library) in a folder on the plugin
            search path (`nodal plugins list` shows where it looks), or pass `--plugin-path`.

            """
    }
}

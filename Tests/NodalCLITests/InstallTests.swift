import Foundation
import NodalTestSupport
import Testing

/// scripts/install into a temporary prefix, from the products this test run was built with
/// (`--from`: `swift build -c release` cannot run inside `swift test`), then used from outside
/// the repository as an installed Nodal is.
@Suite struct InstallTests {
    /// Installs into a fresh prefix; returns it.
    func install() async throws -> String {
        let prefix = try temporaryDirectory() + "/prefix"
        let result = try await offThePool {
            try runProcess(Products.repositoryRoot + "/scripts/install", [prefix, "--from", Products.directory])
        }
        guard result.status == 0 else { throw SetupError("scripts/install failed: \(result.stderr)") }
        #expect(result.stdout == prefix + "\n", "standard output is the prefix alone: \(result.stdout)")
        return prefix
    }

    /// The installed nodal, with no configuration, home or plugin path of the test machine's.
    func nodal(_ prefix: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let home = try temporaryDirectory()
        return try await offThePool {
            try runProcess(prefix + "/bin/nodal", arguments, environment: [
                "HOME": home, "XDG_CONFIG_HOME": home, "NODAL_CONFIG": "", "NODAL_PLUGIN_PATH": "",
            ].merging(environment) { $1 }, currentDirectory: directory)
        }
    }

    static let shout = """
        #include <ctype.h>
        #include <stdlib.h>
        #include "nodal.h"
        /* Upper-cases the whole input text (JSON keeps its shape: only letters change). */
        static nodal_status shout(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
            char *out = malloc(len ? len : 1);
            size_t i;
            nodal_status status;
            (void)n;
            if (out == NULL) return NODAL_ERROR;
            for (i = 0; i < len; i++) out[i] = (char)toupper((unsigned char)in[i]);
            status = h->write_output(c, out, len);
            free(out);
            return status;
        }
        static const nodal_node node = { .struct_size = sizeof(nodal_node), .id = "org.test.loud.shout", .name = "shout",
            .version = "1.0.0", .flags = NODAL_NODE_THREAD_SAFE, .invoke = shout };
        static const nodal_node *const nodes[] = { &node };
        static const nodal_plugin plugin = { .struct_size = sizeof(nodal_plugin), .abi_major = NODAL_ABI_MAJOR,
            .abi_minor = NODAL_ABI_MINOR, .node_count = 1, .id = "org.test.loud", .name = "loud", .version = "1.0.0", .nodes = nodes };
        NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t a, uint32_t b) { (void)a; (void)b; return &plugin; }
        """

    @Test(.timeLimit(.minutes(2))) func anInstalledNodalRunsItsPluginsAndOnesBuiltWithPkgConfig() async throws {
        let prefix = try await install()
        for file in ["bin/nodal", "lib/nodal/plugins/libnodal_std.so", "lib/nodal/plugins/libnodal_stats.so", "include/nodal.h",
                     "lib/nodal/plugins/libnodal_orchestrator.so",
                     "lib/pkgconfig/nodal.pc", "share/nodal/NodalPluginKit/Package.swift",
                     "share/nodal/NodalPluginKit/Sources/NodalPluginKit/Plugin.swift", "share/nodal/NodalPluginKit/include/nodal.h"] {
            #expect(FileManager.default.fileExists(atPath: prefix + "/" + file), "\(file) was not installed")
        }
        let pc = try String(contentsOfFile: prefix + "/lib/pkgconfig/nodal.pc", encoding: .utf8)
        #expect(pc.contains("prefix=\(prefix)\n"), "\(pc)")

        // A C plugin written outside the repository, built with the pkg-config line alone.
        let work = try temporaryDirectory()
        #expect(!work.hasPrefix(Products.repositoryRoot))
        try Self.shout.write(toFile: work + "/loud.c", atomically: true, encoding: .utf8)
        let build = try await offThePool {
            try runProcess("/bin/sh", ["-c", "cc -std=c99 -Wall -Wextra -pedantic -Werror -shared -fPIC $(pkg-config --cflags nodal) loud.c -o libloud.so"],
                           environment: ["PKG_CONFIG_PATH": prefix + "/lib/pkgconfig"], currentDirectory: work)
        }
        #expect(build.status == 0, "\(build.stderr)")
        // Installed beside the shipped plugins, it is found as they are: no --plugin-path.
        try FileManager.default.copyItem(atPath: work + "/libloud.so", toPath: prefix + "/lib/nodal/plugins/libloud.so")
        try """
            steps:
              - { id: up, component: /std/upper, input: { text: { $input: name } } }
              - { id: loud, component: /loud/shout, input: { greeting: { $step: up, path: text } } }
              - { id: mean, component: /stats/mean, input: { values: [2, 4] } }
            output: { loud: { $step: loud }, mean: { $step: mean, path: mean } }
            """.write(toFile: work + "/flow.yaml", atomically: true, encoding: .utf8)
        let run = try await nodal(prefix, ["run", "flow.yaml", "--input", #"{"name": "ada"}"#, "--format", "json", "--store", work + "/runs.db"], in: work)
        #expect(run.status == 0, "\(run.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let output = try #require(result["output"] as? [String: Any])
        #expect((output["loud"] as? [String: Any])?["GREETING"] as? String == "ADA", "\(run.stdout)")
        #expect(output["mean"] as? Int == 3, "\(run.stdout)")

        // Every plugin came from the prefix, none from the build folder the files were copied from.
        let list = try await nodal(prefix, ["plugins", "list", "--format", "json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let files = (listed["plugins"] as? [[String: Any]])?.compactMap { $0["file"] as? String } ?? []
        // std, stats, orchestrator and loud.
        #expect(files.count == 4 && files.allSatisfy { $0.hasPrefix(prefix + "/lib/nodal/plugins/") }, "\(files)")
    }

    /// `nodal plugins new` from an installed nodal: the C Makefile asks pkg-config for the
    /// installed header, the Swift package depends on the installed NodalPluginKit.
    @Test(.timeLimit(.minutes(10))) func anInstalledNodalScaffoldsPluginsThatBuildAgainstTheInstallation() async throws {
        let prefix = try await install()
        let work = try temporaryDirectory()

        let c = try await nodal(prefix, ["plugins", "new", "clip", "--lang", "c"], in: work)
        #expect(c.status == 0, "\(c.stderr)")
        let makefile = try String(contentsOfFile: work + "/clip/Makefile", encoding: .utf8)
        #expect(makefile.contains("PKG_CONFIG_PATH=\(prefix)/lib/pkgconfig"), "\(makefile)")
        #expect(makefile.contains("NODAL ?= \(prefix)/bin/nodal"), "\(makefile)")
        let make = try await offThePool { try runProcess("/usr/bin/env", ["make", "test"], currentDirectory: work + "/clip") }
        #expect(make.status == 0, "\(make.stdout)\(make.stderr)")
        #expect(make.stdout.contains("-I\(prefix)/include"), "\(make.stdout)")
        #expect(make.stdout.contains("2 passed, 0 failed"), "\(make.stdout)")

        let swift = try await nodal(prefix, ["plugins", "new", "clap", "--lang", "swift"], in: work)
        #expect(swift.status == 0, "\(swift.stderr)")
        let manifest = try String(contentsOfFile: work + "/clap/Package.swift", encoding: .utf8)
        #expect(manifest.contains(".package(path: \"\(prefix)/share/nodal/NodalPluginKit\")"), "\(manifest)")
        let build = try await offThePool { try runProcess("/usr/bin/env", ["swift", "build"], currentDirectory: work + "/clap") }
        #expect(build.status == 0, "\(build.stdout)\(build.stderr)")
        let test = try await nodal(prefix, ["test", "flow.yaml", "--plugin-path", ".build/debug/libclap.so"], in: work + "/clap")
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("2 passed, 0 failed"), "\(test.stdout)")
    }

    @Test func badArgumentsAreRefused() async throws {
        let script = Products.repositoryRoot + "/scripts/install"
        let prefix = try temporaryDirectory()
        let twoPrefixes = try await offThePool { try runProcess(script, [prefix, prefix + "/other", "--from", Products.directory]) }
        #expect(twoPrefixes.status == 64, "\(twoPrefixes.stderr)")
        let unknown = try await offThePool { try runProcess(script, [prefix, "--frm", Products.directory]) }
        #expect(unknown.status == 64, "\(unknown.stderr)")
        let empty = try temporaryDirectory()
        let nothingBuilt = try await offThePool { try runProcess(script, [prefix, "--from", empty]) }
        #expect(nothingBuilt.status == 66, "\(nothingBuilt.stderr)")
        #expect(nothingBuilt.stderr.contains("no nodal in \(empty)"), "\(nothingBuilt.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: prefix).isEmpty, "nothing was installed")
    }
}

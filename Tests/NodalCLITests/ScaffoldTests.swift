import Foundation
import NodalTestSupport
import Testing

/// `nodal plugins new`: the folders it writes build as they are, outside the repository, and
/// their flows' test cases pass with `nodal test`.
@Suite struct ScaffoldTests {
    @Test(.timeLimit(.minutes(2))) func aCPluginBuildsWithMakeAndPassesItsTest() async throws {
        let directory = try temporaryDirectory()
        #expect(!directory.hasPrefix(Products.repositoryRoot))
        let created = try await hostileNodal(["plugins", "new", "greet", "--lang", "c"], in: directory)
        #expect(created.status == 0, "\(created.stderr)")
        let folder = directory + "/greet"
        for file in ["greet.c", "Makefile", "flow.yaml", "README.md"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(file) is missing")
        }
        // Warnings are errors here: the scaffold is what authors start from.
        let make = try await offThePool {
            try runProcess("/usr/bin/env", ["make", "CFLAGS=-std=c99 -O2 -Wall -Wextra -pedantic -Werror"], currentDirectory: folder)
        }
        #expect(make.status == 0, "\(make.stdout)\(make.stderr)")
        let test = try await offThePool { try runProcess("/usr/bin/env", ["make", "test"], currentDirectory: folder) }
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("2 passed, 0 failed"), "\(test.stdout)")

        // The README's run and inspect commands work as written.
        let run = try await hostileNodal(["run", "flow.yaml", "--input", #"{"name": "Ada"}"#, "--plugin-path", "libgreet.so", "--format", "json"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#""hello""#), "\(run.stdout)")
        let inspect = try await hostileNodal(["plugins", "inspect", "/greet/hello", "--plugin-path", "libgreet.so"], in: folder)
        #expect(inspect.stdout.contains(#""id": "org.example.greet.hello""#), "\(inspect.stdout)\(inspect.stderr)")
    }

    /// `swift build` resolves the Nodal package by path and builds in the plugin's own folder
    /// (never the repository's .build, which `swift test` holds).
    @Test(.timeLimit(.minutes(10))) func aSwiftPluginBuildsWithSwiftPMAndPassesItsTest() async throws {
        let directory = try temporaryDirectory()
        let folder = directory + "/tally_ho"
        let created = try await hostileNodal(["plugins", "new", "tally_ho", "--lang", "swift", folder])
        #expect(created.status == 0, "\(created.stderr)")
        let manifest = try String(contentsOfFile: folder + "/Package.swift", encoding: .utf8)
        #expect(manifest.contains(".package(path: \"\(Products.repositoryRoot)\")"), "\(manifest)")
        #expect(FileManager.default.fileExists(atPath: folder + "/Sources/TallyHoPlugin/Plugin.swift"))

        let build = try await offThePool { try runProcess("/usr/bin/env", ["swift", "build"], currentDirectory: folder) }
        #expect(build.status == 0, "\(build.stdout)\(build.stderr)")
        #expect(!build.stdout.contains("warning:"), "\(build.stdout)")
        let test = try await hostileNodal(["test", "flow.yaml", "--plugin-path", ".build/debug/libtally_ho.so"], in: folder)
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("2 passed, 0 failed"), "\(test.stdout)")
        // Beside another Kit plugin (stats): each has its own copy of the Kit, and both work.
        let both = try temporaryDirectory(containing: ["flow.yaml": """
            steps:
              - { id: hi, component: /tally_ho/hello, input: { name: Bo } }
              - { id: mean, component: /stats/mean, input: { values: [1, 2] } }
            output: { greeting: { $step: hi, path: greeting }, mean: { $step: mean, path: mean } }
            """])
        let run = try await hostileNodal(["run", both + "/flow.yaml", "--plugin-path", folder + "/.build/debug/libtally_ho.so", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(#""greeting": "Hello, Bo!""#) && run.stdout.contains(#""mean": 1.5"#), "\(run.stdout)")
    }

    @Test(arguments: [
        (["9lives", "--lang", "c"], "is not a valid plugin name"),
        (["a-b", "--lang", "c"], "is not a valid plugin name"),
        (["", "--lang", "c"], "is not a valid plugin name"),
        (["nodal_things", "--lang", "swift"], "names starting with 'nodal' are taken"),
        (["ok", "--lang", "rust"], "--lang must be c or swift"),
        (["ok", "--lang", "swift", "--nodal-package", "/nowhere"], "--nodal-package /nowhere: no Package.swift there"),
    ])
    func badArgumentsAreUsageErrors(arguments: [String], message: String) async throws {
        let directory = try temporaryDirectory()
        let result = try await hostileNodal(["plugins", "new"] + arguments, in: directory)
        #expect(result.status == 64, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing is written")
    }

    @Test func aFolderThatIsNotEmptyIsRefusedAndAnEmptyOneIsUsed() async throws {
        let directory = try temporaryDirectory(containing: ["notes.txt": "mine"])
        let refused = try await hostileNodal(["plugins", "new", "greet", "--lang", "c", directory])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("exists and is not empty"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["notes.txt"])

        let empty = try temporaryDirectory()
        let used = try await hostileNodal(["plugins", "new", "greet", "--lang", "c", empty])
        #expect(used.status == 0, "\(used.stderr)")
        #expect(FileManager.default.fileExists(atPath: empty + "/greet.c"))
    }
}

import Foundation
import NodalTestSupport
import Testing

/// scripts/install and `nodal plugins new` given the prefixes and folders a hostile (or merely
/// unlucky) user has: relative, with blanks, quotes, '$', '#', and sed's delimiters in them, or
/// a prefix that is a file.
@Suite struct Hostile13InstallTests {
    static var script: String { Products.repositoryRoot + "/scripts/install" }

    /// A prefix no shell, make or sed takes as it is.
    static let oddName = "pre fix 'q' $HOME #x&|y"

    func install(_ arguments: [String], in directory: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await offThePool { try runProcess(Self.script, arguments, currentDirectory: directory) }
    }

    @Test(.timeLimit(.minutes(2))) func aRelativePrefixIsTheCallersFolderNotTheRepositorys() async throws {
        let caller = try temporaryDirectory()
        let result = try await install(["relative/prefix", "--from", Products.directory], in: caller)
        #expect(result.status == 0, "\(result.stderr)")
        // It used to land in <repository>/relative/prefix: the script cd's to the repository first.
        #expect(result.stdout == caller + "/relative/prefix\n", "\(result.stdout)")
        #expect(FileManager.default.isExecutableFile(atPath: caller + "/relative/prefix/bin/nodal"))
        #expect(!FileManager.default.fileExists(atPath: Products.repositoryRoot + "/relative/prefix"))
    }

    @Test(.timeLimit(.minutes(2))) func aRelativeBuildFolderIsTheCallersToo() async throws {
        let caller = try temporaryDirectory()
        let products = URL(fileURLWithPath: Products.directory)
        let parent = products.deletingLastPathComponent().path
        let result = try await install([caller + "/prefix", "--from", products.lastPathComponent], in: parent)
        #expect(result.status == 0, "\(result.stderr)")
        let elsewhere = try await install([caller + "/other", "--from", products.lastPathComponent], in: caller)
        #expect(elsewhere.status == 66, "\(elsewhere.stderr)")
        #expect(elsewhere.stderr.contains("--from \(caller)/\(products.lastPathComponent) is not a folder"), "\(elsewhere.stderr)")
        #expect(!FileManager.default.fileExists(atPath: caller + "/other"), "a failed install makes no prefix")
    }

    @Test func aPrefixThatIsAFileIsAUsageError() async throws {
        let folder = try temporaryDirectory()
        _ = FileManager.default.createFile(atPath: folder + "/file", contents: Data("x".utf8))
        let result = try await install([folder + "/file", "--from", Products.directory])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("PREFIX \(folder)/file exists and is not a folder"), "\(result.stderr)")
    }

    /// pkg-config splits a value at blanks unless nodal.pc escapes them: what a Makefile's shell
    /// (or `eval`) reads back from `pkg-config --cflags nodal` is the include folder, one word.
    @Test(.timeLimit(.minutes(2))) func pkgConfigNamesAPrefixWithBlanksAndSedDelimitersAsOneWord() async throws {
        let prefix = try temporaryDirectory() + "/pre fix&x|y"
        let result = try await install([prefix, "--from", Products.directory])
        #expect(result.status == 0, "\(result.stderr)")
        let words = try await offThePool {
            try runProcess("/bin/sh", ["-c", ##"eval "set -- $(pkg-config --cflags nodal)" && printf '%s\n' "$#" "$1""##],
                           environment: ["PKG_CONFIG_PATH": prefix + "/lib/pkgconfig"])
        }
        #expect(words.status == 0, "\(words.stderr)")
        #expect(words.stdout == "1\n-I\(prefix)/include\n", "\(words.stdout)")
    }

    /// sed's `s|@PREFIX@|...|` stopped at a '|' (and read '&' as the match) with the install half
    /// done; pkg-config split the include folder at its blank; the scaffold's Makefile split the
    /// nodal's path and read '#' as a comment and '$' as a variable.
    @Test(.timeLimit(.minutes(3))) func anOddPrefixInstallsAndItsScaffoldedCPluginBuildsAndPasses() async throws {
        let prefix = try temporaryDirectory() + "/" + Self.oddName
        let result = try await install([prefix, "--from", Products.directory])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == prefix + "\n")
        #expect(result.stderr.contains("is not a plain shell word"), "\(result.stderr)")

        let work = try temporaryDirectory() + "/work dir"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let home = try temporaryDirectory()
        let new = try await offThePool {
            try runProcess(prefix + "/bin/nodal", ["plugins", "new", "greet", "--lang", "c"],
                           environment: ["HOME": home, "NODAL_PLUGIN_PATH": ""], currentDirectory: work)
        }
        #expect(new.status == 0, "\(new.stderr)")
        #expect(new.stdout.contains("next: cd '\(work)/greet' && make"), "\(new.stdout)")
        let make = try await offThePool {
            try runProcess("/usr/bin/env", ["make", "test"], environment: ["HOME": home, "NODAL_PLUGIN_PATH": ""], currentDirectory: work + "/greet")
        }
        #expect(make.status == 0, "\(make.stdout)\(make.stderr)")
        #expect(make.stdout.contains("2 passed, 0 failed"), "\(make.stdout)")
        // The README's commands paste as they are: the nodal is one shell word there.
        let readme = try String(contentsOfFile: work + "/greet/README.md", encoding: .utf8)
        let quoted = "'" + prefix.replacingOccurrences(of: "'", with: #"'\''"#) + "/bin/nodal'"
        #expect(readme.contains(quoted + " run flow.yaml"), "\(readme)")
    }
}

/// `nodal plugins new` given names and folders that cannot work: refused up front, as usage
/// errors that say why, not as a failed write half-way.
@Suite struct Hostile13ScaffoldTests {
    func new(_ arguments: [String], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProcess(Products.nodal, ["plugins", "new"] + arguments, currentDirectory: directory)
    }

    /// A 300-letter name failed (exit 1) with "The file name is invalid" once it was written.
    @Test func aNameTooLongForItsLibraryFileIsAUsageError() throws {
        let work = try temporaryDirectory()
        let longest = String(repeating: "a", count: 249)
        let fits = try new([longest, "--lang", "c"], in: work)
        #expect(fits.status == 0, "\(fits.stderr)")
        #expect(FileManager.default.fileExists(atPath: work + "/" + longest + "/" + longest + ".c"))
        let tooLong = try new([longest + "a", "--lang", "c"], in: work)
        #expect(tooLong.status == 64, "\(tooLong.stderr)")
        #expect(tooLong.stderr.contains("at most 249 characters"), "\(tooLong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/" + longest + "a"))
    }

    /// A symbolic link to nowhere failed (exit 1) with "A file with the same name already exists".
    @Test func aFolderThatIsADanglingSymbolicLinkIsAUsageError() throws {
        let work = try temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: work + "/dangling", withDestinationPath: work + "/nowhere")
        let result = try new(["greet", "--lang", "c", "dangling"], in: work)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("\(work)/dangling is a symbolic link to \(work)/nowhere, which does not exist"), "\(result.stderr)")
        // A link to an empty folder is that folder.
        try FileManager.default.createDirectory(atPath: work + "/real", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: work + "/link", withDestinationPath: work + "/real")
        let linked = try new(["greet", "--lang", "c", "link"], in: work)
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(FileManager.default.fileExists(atPath: work + "/real/greet.c"))
    }
}

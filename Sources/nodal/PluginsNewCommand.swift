import ArgumentParser
import Foundation

extension PluginsCommand {
    /// `nodal plugins new NAME --lang c|swift [DIR]`: a plugin folder that builds as it is.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new plugin folder (one node, a build file, a flow with test cases, a README) that builds as it is.",
            discussion: """
                C: a Makefile (`make`, `make test`) finding nodal.h through pkg-config when this nodal is \
                installed, else in the repository this nodal was built from. Swift: a Package.swift \
                depending on NodalPluginKit (the repository, or the installed copy under \
                PREFIX/share/nodal; --nodal-package overrides).
                """)

        @Argument(help: "The plugin's name: its route prefix (/NAME/hello) and library (libNAME.so); an identifier.")
        var name: String

        @Option(help: "c or swift.")
        var lang: String

        @Argument(help: "The folder to write (default: ./NAME); it must not exist, or be empty.")
        var directory: String?

        @Option(name: .customLong("nodal-package"), help: "For --lang swift: the Nodal package (or installed NodalPluginKit package) to depend on.")
        var nodalPackage: String?

        func run() throws {
            guard let language = PluginScaffold.Language(rawValue: lang) else {
                throw usage("--lang must be c or swift, not '\(lang)'")
            }
            if let problem = PluginScaffold.problem(withName: name, language: language) { throw usage(problem) }
            let folder = absolute(directory ?? name)
            let manager = FileManager.default
            var isFolder: ObjCBool = false
            // A symbolic link to nowhere: fileExists follows it and says no, then writing there
            // failed with "a file with the same name already exists".
            if let target = try? manager.destinationOfSymbolicLink(atPath: folder), !manager.fileExists(atPath: folder) {
                throw usage("\(folder) is a symbolic link to \(target), which does not exist")
            }
            if manager.fileExists(atPath: folder, isDirectory: &isFolder) {
                guard isFolder.boolValue else { throw usage("\(folder) exists and is not a folder") }
                guard (try? manager.contentsOfDirectory(atPath: folder))?.isEmpty == true else {
                    throw usage("\(folder) exists and is not empty: choose a new folder")
                }
            }

            let installation = NodalInstallation.find()
            var headerFlags = ""
            var kitPackage = ""
            switch language {
            case .c:
                guard let include = installation.includeFolder else {
                    throw usage("cannot find nodal.h beside this nodal (\(installation.executable)): install Nodal (scripts/install) or run the nodal of a build folder of the repository")
                }
                // An installed nodal's own nodal.pc, else the header folder itself. pkg-config
                // cannot hand a shell every path (it drops quotes and '$'), so a prefix that is not
                // a plain shell word gets the folder itself, quoted for the recipe's shell and for
                // make (outside a function, where every make reads '\#' and '$$' alike).
                let includeFlag = ShellWord.forMake(ShellWord.quoted("-I" + include))
                headerFlags = installation.pkgConfigFolder.flatMap { folder in
                    ShellWord.quoted(folder) == folder
                        ? "$(shell PKG_CONFIG_PATH=\(folder):$$PKG_CONFIG_PATH pkg-config --cflags nodal 2>/dev/null || echo -I\(include))"
                        : nil
                } ?? includeFlag
            case .swift:
                guard let package = nodalPackage.map(absolute) ?? installation.swiftPackage else {
                    throw usage("cannot find NodalPluginKit beside this nodal (\(installation.executable)): pass --nodal-package PATH (the Nodal repository, or PREFIX/share/nodal/NodalPluginKit)")
                }
                guard manager.fileExists(atPath: package + "/Package.swift") else {
                    throw usage("--nodal-package \(package): no Package.swift there")
                }
                kitPackage = package
            }

            let scaffold = PluginScaffold(
                name: name, language: language, nodal: installation.executable, headerFlags: headerFlags, kitPackage: kitPackage)
            do {
                for file in scaffold.files {
                    let path = folder + "/" + file.path
                    try manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try file.text.write(toFile: path, atomically: true, encoding: .utf8)
                }
            } catch {
                printError("error: could not write \(folder): \(error.localizedDescription)")
                throw ExitStatus.failed.exitCode
            }
            print("wrote \(folder): \(scaffold.files.map(\.path).joined(separator: ", "))")
            // Commands to paste: the folder and the nodal as shell words.
            switch language {
            case .c: print("next: cd \(ShellWord.quoted(folder)) && make && make test")
            case .swift: print("next: cd \(ShellWord.quoted(folder)) && swift build && \(ShellWord.quoted(installation.executable)) test flow.yaml --plugin-path \(scaffold.builtPlugin)")
            }
        }

        private func usage(_ message: String) -> any Error {
            printError("error: \(message)")
            return ExitStatus.usage.exitCode
        }

        private func absolute(_ path: String) -> String {
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
            return url.standardizedFileURL.path
        }
    }
}

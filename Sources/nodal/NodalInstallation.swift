import Foundation

/// Where the running `nodal` comes from, found from its own executable: a build folder of the
/// Nodal repository (`<repository>/.build/<triple>/debug/nodal`) or an installation
/// (`<prefix>/bin/nodal`, laid out by scripts/install). What a new plugin builds against.
struct NodalInstallation {
    /// The running executable, symlinks resolved.
    let executable: String
    /// The folder holding nodal.h.
    let includeFolder: String?
    /// For an installed nodal: the prefix (`<prefix>/bin/nodal`), with nodal.pc under lib/pkgconfig.
    let prefix: String?
    /// A package with the NodalPluginKit product: the repository, or `<prefix>/share/nodal/NodalPluginKit`.
    let swiftPackage: String?

    static func find() -> NodalInstallation {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let executable = URL(fileURLWithPath: link).resolvingSymlinksInPath().path
        return NodalInstallation(executable: executable)
    }

    init(executable: String) {
        self.executable = executable
        let exists = { (path: String) in FileManager.default.fileExists(atPath: path) }
        let binFolder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        let parent = binFolder.deletingLastPathComponent().path
        if binFolder.lastPathComponent == "bin", exists(parent + "/include/nodal.h") {
            prefix = parent
            includeFolder = parent + "/include"
            let kit = parent + "/share/nodal/NodalPluginKit"
            swiftPackage = exists(kit + "/Package.swift") ? kit : nil
            return
        }
        prefix = nil
        // A build folder: the repository is a few folders up (.build/<triple>/debug/nodal).
        var folder = binFolder
        for _ in 0..<4 {
            folder.deleteLastPathComponent()
            let path = folder.path
            if exists(path + "/include/nodal.h"), exists(path + "/Package.swift"), exists(path + "/Sources/NodalPluginKit") {
                includeFolder = path + "/include"
                swiftPackage = path
                return
            }
        }
        includeFolder = nil
        swiftPackage = nil
    }

    /// nodal.pc of an installation, when it has one.
    var pkgConfigFolder: String? {
        guard let prefix, FileManager.default.fileExists(atPath: prefix + "/lib/pkgconfig/nodal.pc") else { return nil }
        return prefix + "/lib/pkgconfig"
    }
}

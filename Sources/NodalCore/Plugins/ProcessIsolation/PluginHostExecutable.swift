/// Where the executable that runs plugin hosts is: `nodal` (its `plugin-host` command) or
/// `nodal-plugin-host` (the same, alone).
package enum PluginHostExecutable {
    /// The path and the arguments that come before the host's own.
    package struct Command: Sendable {
        package var path: String
        package var arguments: [String]
    }

    /// The first of: `explicit`, `NODAL_PLUGIN_HOST`, the running executable when it is `nodal`,
    /// `nodal-plugin-host` then `nodal` beside the running executable (an app's bundle, a test
    /// runner in `.build/debug`), then both on `PATH`.
    package static func locate(explicit: String?) -> Command? {
        candidates(explicit: explicit).first { FileSystem.isExecutableFile($0) }.map { path in
            Command(path: path, arguments: FileSystem.baseName(path) == "nodal-plugin-host" ? [] : ["plugin-host"])
        }
    }

    static func candidates(explicit: String?) -> [String] {
        if let explicit { return [explicit] }
        if let environment = FileSystem.environment("NODAL_PLUGIN_HOST"), !environment.isEmpty { return [environment] }
        var candidates: [String] = []
        if let executable = FileSystem.executablePath {
            if FileSystem.baseName(executable) == "nodal" { candidates.append(executable) }
            let folder = FileSystem.directoryName(executable)
            candidates += [FileSystem.join(folder, "nodal-plugin-host"), FileSystem.join(folder, "nodal")]
        }
        for folder in (FileSystem.environment("PATH") ?? "").split(separator: ":") where !folder.isEmpty {
            candidates += [FileSystem.join(String(folder), "nodal-plugin-host"), FileSystem.join(String(folder), "nodal")]
        }
        return candidates
    }

    static func searched(explicit: String?) -> String {
        if let explicit { return "pluginHost / hostExecutable \(explicit) is not an executable file" }
        if let environment = FileSystem.environment("NODAL_PLUGIN_HOST"), !environment.isEmpty {
            return "NODAL_PLUGIN_HOST=\(environment) is not an executable file"
        }
        return "looked for the running nodal, then nodal-plugin-host and nodal beside the running executable and on PATH; set NODAL_PLUGIN_HOST or the plugin entry's pluginHost"
    }
}

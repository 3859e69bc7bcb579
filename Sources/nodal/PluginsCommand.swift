import ArgumentParser
import Nodal

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List and inspect native plugins on the search path, and write new ones.",
        subcommands: [List.self, Inspect.self, New.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List loaded plugins, the builtins, where plugins were searched for, and refused plugin files (exit 69 if any was refused).")

        @Option(help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var engineOptions: EngineOptions

        func run() async throws {
            let engine = try await makeEngine(engineOptions)
            let plugins = engine.plugins, refused = engine.pluginLoadErrors
            switch format {
            case .json:
                let json: JSON = [
                    "plugins": .array(plugins.map(\.summaryJSON)),
                    "builtins": .array(engine.builtinRoutes.map { ["route": .string($0), "builtin": true] }),
                    "searched": .array(engine.searchedPluginLocations.map(\.json)),
                    "refused": .array(refused.map { ["file": .string($0.file), "reason": .string($0.reason)] }),
                ]
                print(json.prettyPrinted())
            case .text:
                if plugins.isEmpty { print("no plugins loaded") }
                for plugin in plugins {
                    print("\(plugin.id) \(plugin.version)  /\(plugin.name)  \(plugin.nodes.count) nodes  \(plugin.file)")
                }
                for route in engine.builtinRoutes { print("builtin  \(route)") }
                print("searched, in order:")
                for location in engine.searchedPluginLocations { print("  \(location)") }
                for refusal in refused { print("refused: \(refusal)") }
            }
            if !refused.isEmpty { throw ExitCode(69) }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a plugin (by id or name), a node (by id) or what a route leads to ('/std/upper'): metadata, flags and schemas, as JSON.")

        @Argument(help: "A plugin id ('org.nodal.std'), plugin name ('std'), node id ('org.nodal.std.upper') or route ('/std/upper', '/builtin/map').")
        var id: String

        @Option(help: "Accepted like on the other commands; the output is JSON either way (it holds JSON Schemas).")
        var format: OutputFormat = .text

        @OptionGroup var engineOptions: EngineOptions

        func run() async throws {
            let engine = try await makeEngine(engineOptions)
            let plugins = engine.plugins
            var json: JSON
            // "/std" (or "/std/") is the route prefix of a plugin: that plugin, not "unknown route".
            let prefix = id.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            if id.hasPrefix("/"), prefix.count <= 2, prefix.last.map({ prefix.count == 1 || $0.isEmpty }) == true,
               let plugin = plugins.first(where: { $0.name == prefix.first.map(String.init) }) {
                json = plugin.detailJSON
            } else if id.hasPrefix("/") {
                json = try route(id, engine)
            } else if let plugin = plugins.first(where: { $0.id == id || $0.name == id }) {
                json = plugin.detailJSON
            } else if let plugin = plugins.first(where: { $0.nodes.contains { $0.id == id } }) {
                json = plugin.nodes.first { $0.id == id }!.json(route: "/\(plugin.name)")
            } else {
                printError("error: no loaded plugin or node '\(id)' (loaded: \(plugins.map(\.id).joined(separator: ", "))); a route starts with '/'")
                throw (engine.pluginLoadErrors.isEmpty ? ExitStatus.notFound : ExitStatus.plugin).exitCode
            }
            print(json.prettyPrinted())
        }

        /// What the route resolves to, as a step's component would; an unknown route says where
        /// plugins were searched for and which known route is closest.
        private func route(_ route: String, _ engine: Engine) throws -> JSON {
            let component: ComponentDescription
            do {
                component = try engine.describeComponent(at: route)
            } catch let error as PluginLoadError {
                printError("error: \(error)")
                throw ExitStatus.plugin.exitCode
            } catch {
                printError("error: \(error)")
                throw ExitStatus.notFound.exitCode
            }
            switch component.kind {
            case .pluginNode(let plugin, let node):
                guard case .object(var object) = node.json(route: "/\(plugin.name)") else { return .null }
                object["plugin"] = .string(plugin.id)
                object["file"] = .string(plugin.file)
                if object["route"] != .string(route) { object["requestedRoute"] = .string(route) }
                return .object(object)
            case .builtin(let name):
                return ["route": .string(route), "id": .string(component.nodeID), "builtin": .string(name)]
            case .swiftNode, .other:
                return ["route": .string(route), "id": .string(component.nodeID)]
            }
        }
    }
}

private func makeEngine(_ options: EngineOptions) async throws -> Engine {
    var engine: Engine?
    try await exiting { engine = try options.makeEngine(forFlowAt: nil) }
    return engine!
}

extension PluginInfo {
    var summaryJSON: JSON {
        ["id": .string(id), "name": .string(name), "version": .string(version), "file": .string(file),
         "nodes": .array(nodes.map { .string($0.id) })]
    }

    var detailJSON: JSON {
        var object: JSONObject = [
            "id": .string(id), "name": .string(name), "version": .string(version),
            "vendor": vendor.map(JSON.string) ?? .null, "description": description.map(JSON.string) ?? .null,
            "file": .string(file), "abi": .string("1.\(abiMinor)"),
        ]
        if let license { object["license"] = .string(license) }
        if let homepage { object["homepage"] = .string(homepage) }
        if let swiftToolchain { object["swiftToolchain"] = .string(swiftToolchain) }
        object["nodes"] = .array(nodes.map { $0.json(route: "/\(name)") })
        return .object(object)
    }
}

extension NodeInfo {
    func json(route: String) -> JSON {
        var object: JSONObject = [
            "id": .string(id), "route": .string("\(route)/\(name)"), "version": .string(version),
            "description": description.map(JSON.string) ?? .null,
            "flags": .array(flags.names.map(JSON.string)),
        ]
        if let inputSchema { object["inputSchema"] = inputSchema }
        if let outputSchema { object["outputSchema"] = outputSchema }
        if let configSchema { object["configSchema"] = configSchema }
        return .object(object)
    }
}

extension SearchedLocation {
    var json: JSON {
        var object: JSONObject = ["path": .string(path)]
        switch kind {
        case .folder(let count):
            object["found"] = "folder"
            object["pluginFiles"] = .int(count)
        case .file: object["found"] = "file"
        case .missing: object["found"] = "nothing"
        }
        return .object(object)
    }
}

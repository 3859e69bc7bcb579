import ArgumentParser
import Nodal

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List and inspect native plugins on the search path.",
        subcommands: [List.self, Inspect.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List loaded plugins and refused plugin files (exit 69 if any was refused).")

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
                    "refused": .array(refused.map { ["file": .string($0.file), "reason": .string($0.reason)] }),
                ]
                print(json.prettyPrinted())
            case .text:
                if plugins.isEmpty { print("no plugins loaded") }
                for plugin in plugins {
                    print("\(plugin.id) \(plugin.version)  /\(plugin.name)  \(plugin.nodes.count) nodes  \(plugin.file)")
                }
                for refusal in refused { print("refused: \(refusal)") }
            }
            if !refused.isEmpty { throw ExitCode(69) }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a plugin (by id or name) or a node (by id): metadata, flags and schemas, as JSON.")

        @Argument(help: "A plugin id ('org.nodal.std'), plugin name ('std') or node id ('org.nodal.std.upper').")
        var id: String

        @Option(help: "Accepted like on the other commands; the output is JSON either way (it holds JSON Schemas).")
        var format: OutputFormat = .text

        @OptionGroup var engineOptions: EngineOptions

        func run() async throws {
            let engine = try await makeEngine(engineOptions)
            let plugins = engine.plugins
            var json: JSON
            if let plugin = plugins.first(where: { $0.id == id || $0.name == id }) {
                json = plugin.detailJSON
            } else if let plugin = plugins.first(where: { $0.nodes.contains { $0.id == id } }) {
                json = plugin.nodes.first { $0.id == id }!.json(route: "/\(plugin.name)")
            } else {
                printError("error: no loaded plugin or node '\(id)' (loaded: \(plugins.map(\.id).joined(separator: ", ")))")
                throw ExitCode(engine.pluginLoadErrors.isEmpty ? 1 : 69)
            }
            print(json.prettyPrinted())
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

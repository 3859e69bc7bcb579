import NodalJSON

/// A plugin's metadata as a plugin host sends it back after loading the file (`ready`), so the
/// engine knows the plugin's nodes without ever loading its code into its own process.
package enum PluginDescription {
    package static func json(_ info: PluginInfo) -> JSON {
        var object: JSONObject = [
            "id": .string(info.id), "name": .string(info.name), "version": .string(info.version),
            "file": .string(info.file), "abiMinor": .int(info.abiMinor),
        ]
        object["vendor"] = info.vendor.map(JSON.string)
        object["description"] = info.description.map(JSON.string)
        object["license"] = info.license.map(JSON.string)
        object["homepage"] = info.homepage.map(JSON.string)
        object["swiftToolchain"] = info.swiftToolchain.map(JSON.string)
        object["nodes"] = .array(info.nodes.map { node in
            var entry: JSONObject = [
                "id": .string(node.id), "name": .string(node.name), "version": .string(node.version),
                "flags": .string(String(node.flags.rawValue)),
            ]
            entry["description"] = node.description.map(JSON.string)
            entry["inputSchema"] = node.inputSchema
            entry["outputSchema"] = node.outputSchema
            entry["configSchema"] = node.configSchema
            return .object(entry)
        })
        return .object(object)
    }

    /// The metadata back; nil for a document a plugin host would not have sent.
    static func info(_ json: JSON) -> PluginInfo? {
        guard let id = json["id"]?.stringValue, let name = json["name"]?.stringValue,
              let version = json["version"]?.stringValue, let file = json["file"]?.stringValue,
              let abiMinor = json["abiMinor"]?.intValue, let nodes = json["nodes"]?.arrayValue
        else { return nil }
        var infos: [NodeInfo] = []
        for node in nodes {
            guard let id = node["id"]?.stringValue, let name = node["name"]?.stringValue,
                  let version = node["version"]?.stringValue,
                  let flags = node["flags"]?.stringValue.flatMap({ UInt64($0) })
            else { return nil }
            infos.append(NodeInfo(
                id: id, name: name, version: version, description: node["description"]?.stringValue,
                flags: NodeFlags(rawValue: flags), inputSchema: node["inputSchema"], outputSchema: node["outputSchema"],
                configSchema: node["configSchema"]))
        }
        return PluginInfo(
            id: id, name: name, version: version, vendor: json["vendor"]?.stringValue,
            description: json["description"]?.stringValue, file: file, abiMinor: abiMinor,
            license: json["license"]?.stringValue, homepage: json["homepage"]?.stringValue,
            swiftToolchain: json["swiftToolchain"]?.stringValue, nodes: infos)
    }
}

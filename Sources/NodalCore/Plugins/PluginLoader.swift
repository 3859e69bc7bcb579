import NodalJSON
import CNodal
package import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens plugin files and checks them against the ABI before anything of theirs runs.
package enum PluginLoader {
    package struct Loaded {
        package var info: PluginInfo
        package var nodes: [NativeNode]
    }

    /// The host's Swift toolchain, as Swift plugins must report it.
    static let hostSwiftToolchain = String(cString: nodal_swift_toolchain())

    /// Loads one plugin file. Every refusal names the file and the cause.
    package static func load(_ path: String, logger: Logger, maxOutputBytes: Int) throws(PluginLoadError) -> Loaded {
        func refuse(_ reason: String) -> PluginLoadError { PluginLoadError(file: path, reason: reason) }

        guard FileSystem.isFile(path) else { throw refuse("no such file") }
        #if os(Linux)
        // dlopen maps segments as the headers describe them, even past the end of a truncated
        // file, and the process dies of SIGBUS when they are touched: check the headers first.
        if let problem = ELFCheck.problem(path) { throw refuse(problem) }
        #else
        guard let header = try? FileSystem.readPrefix(path, count: 4) else { throw refuse("cannot be read") }
        let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
        let machOMagics: [[UInt8]] = [[0xCF, 0xFA, 0xED, 0xFE], [0xCE, 0xFA, 0xED, 0xFE]]
        guard header == elfMagic || machOMagics.contains(header) else {
            throw refuse("not a shared library (no ELF or Mach-O header)")
        }
        #endif

        // RTLD_NODELETE: never unload. A Swift plugin's metadata stays registered with the Swift
        // runtime, and unloading it makes a later type lookup crash.
        // An absolute path: dlopen treats a name without '/' as a library to search for.
        let absolute = FileSystem.realPath(path) ?? path
        _ = dlerror()
        guard let handle = dlopen(absolute, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw refuse("dlopen failed: \(message)")
        }

        guard let symbol = dlsym(handle, NODAL_ENTRY_SYMBOL) else {
            for major in 2...16 {
                if dlsym(handle, "nodal_plugin_entry_v\(major)") != nil {
                    throw refuse("built for plugin ABI \(major), but this Nodal supports ABI \(NODAL_ABI_MAJOR) (it exports nodal_plugin_entry_v\(major), not \(NODAL_ENTRY_SYMBOL))")
                }
            }
            throw refuse("no entry symbol \(NODAL_ENTRY_SYMBOL) (export it with NODAL_EXPORT from include/nodal.h)")
        }
        typealias Entry = @convention(c) (UInt32, UInt32) -> UnsafePointer<nodal_plugin>?
        let entry = unsafeBitCast(symbol, to: Entry.self)
        guard let plugin = entry(UInt32(NODAL_ABI_MAJOR), UInt32(NODAL_ABI_MINOR)) else {
            throw refuse("\(NODAL_ENTRY_SYMBOL) returned NULL (the plugin refused host ABI \(NODAL_ABI_MAJOR).\(NODAL_ABI_MINOR))")
        }
        let descriptor = try readPlugin(plugin, refuse)
        let toolchain = descriptor.swift_toolchain.map { String(cString: $0) }
        if let toolchain, toolchain != hostSwiftToolchain {
            throw refuse("built by another Swift toolchain (\(toolchain)); this Nodal was built by \(hostSwiftToolchain). Swift has no stable ABI on Linux: rebuild the plugin with the same toolchain")
        }

        let id = try requiredString(descriptor.id, "plugin id", refuse)
        let name = try requiredString(descriptor.name, "plugin name", refuse)
        let version = try requiredString(descriptor.version, "plugin version", refuse)
        guard isReverseDNS(id) else { throw refuse("plugin id '\(id)' is not a reverse-DNS id such as 'org.example.text'") }
        guard isRouteSegment(name) else { throw refuse("plugin name '\(name)' must be a route segment (letters, digits, '_', '-', '.')") }
        guard isSemVer(version) else { throw refuse("plugin version '\(version)' is not SemVer (MAJOR.MINOR.PATCH)") }

        var nodes: [NativeNode] = []
        var seenIDs = Set<String>(), seenNames = Set<String>()
        guard descriptor.node_count == 0 || descriptor.nodes != nil else {
            throw refuse("node_count is \(descriptor.node_count) but nodes is NULL")
        }
        for index in 0..<Int(descriptor.node_count) {
            guard let nodePointer = descriptor.nodes[index] else { throw refuse("nodes[\(index)] is NULL") }
            let node = try readStruct(
                nodePointer, as: nodal_node.self, name: "nodes[\(index)]", cType: "nodal_node",
                minimumSize: firstNodeSize, refuse)
            let nodeID = try requiredString(node.id, "nodes[\(index)].id", refuse)
            let nodeName = try requiredString(node.name, "node \(nodeID): name", refuse)
            let nodeVersion = try requiredString(node.version, "node \(nodeID): version", refuse)
            guard isReverseDNS(nodeID) else { throw refuse("node id '\(nodeID)' is not a reverse-DNS id") }
            guard isRouteSegment(nodeName) else { throw refuse("node \(nodeID): name '\(nodeName)' must be a route segment") }
            guard isSemVer(nodeVersion) else { throw refuse("node \(nodeID): version '\(nodeVersion)' is not SemVer") }
            guard let invoke = node.invoke else { throw refuse("node \(nodeID): invoke is NULL") }
            guard seenIDs.insert(nodeID).inserted else { throw refuse("two nodes have the id '\(nodeID)'") }
            guard seenNames.insert(nodeName).inserted else { throw refuse("two nodes have the name '\(nodeName)'") }
            func schema(_ text: UnsafePointer<CChar>?, _ what: String) throws(PluginLoadError) -> JSON? {
                guard let text else { return nil }
                do { return try JSON(parsing: String(cString: text)) } catch {
                    throw refuse("node \(nodeID): \(what) is not valid JSON (\(error))")
                }
            }
            let info = NodeInfo(
                id: nodeID, name: nodeName, version: nodeVersion,
                description: node.description.map { String(cString: $0) },
                flags: NodeFlags(rawValue: node.flags),
                inputSchema: try schema(node.input_schema, "input_schema"),
                outputSchema: try schema(node.output_schema, "output_schema"),
                configSchema: try schema(node.config_schema, "config_schema"))
            nodes.append(NativeNode(info: info, descriptor: nodePointer, invoke: invoke, logger: logger, maxOutputBytes: maxOutputBytes))
        }

        if let initialize = descriptor.initialize {
            let status = initialize(plugin, HostServices.table)
            guard status == NODAL_OK else { throw refuse("init returned status \(status); the plugin refused to start") }
        }

        return Loaded(
            info: PluginInfo(
                id: id, name: name, version: version,
                vendor: descriptor.vendor.map { String(cString: $0) },
                description: descriptor.description.map { String(cString: $0) },
                file: path, abiMinor: Int(descriptor.abi_minor),
                license: descriptor.license.map { String(cString: $0) },
                homepage: descriptor.homepage.map { String(cString: $0) },
                swiftToolchain: toolchain,
                nodes: nodes.map(\.info)),
            nodes: nodes)
    }

    /// ABI 1.0's sizes: up to and including the last field of 1.0. No plugin of ABI 1 writes less.
    static let firstPluginSize = MemoryLayout<nodal_plugin>.offset(of: \nodal_plugin.initialize)! + MemoryLayout<UnsafeRawPointer>.size
    static let firstNodeSize = MemoryLayout<nodal_node>.offset(of: \nodal_node.invoke)! + MemoryLayout<UnsafeRawPointer>.size

    /// The plugin descriptor, read within its struct_size. Its ABI major is checked first (from
    /// the two fields every ABI shares), so that a descriptor of another major is reported as such.
    private static func readPlugin(
        _ plugin: UnsafePointer<nodal_plugin>, _ refuse: (String) -> PluginLoadError
    ) throws(PluginLoadError) -> nodal_plugin {
        let raw = UnsafeRawPointer(plugin)
        let size = raw.load(as: UInt32.self)
        if size >= 8 {
            let major = raw.load(fromByteOffset: 4, as: UInt32.self)
            guard major == UInt32(NODAL_ABI_MAJOR) else {
                throw refuse("built for plugin ABI \(major), but this Nodal supports ABI \(NODAL_ABI_MAJOR)")
            }
        }
        return try readStruct(plugin, as: nodal_plugin.self, name: "nodal_plugin", cType: "nodal_plugin", minimumSize: firstPluginSize, refuse)
    }

    /// Copies a struct the plugin handed over without reading a byte past the struct_size the
    /// plugin wrote in its first four bytes. A plugin built against an older header writes less
    /// than this host knows: the rest reads as zero (NULL, absent). One built against a newer minor
    /// writes more: the host reads only what it knows.
    ///
    /// The struct may end right where the plugin's readable memory ends, so the copy is exact, never
    /// `pointee` (which reads `MemoryLayout<T>.size` bytes).
    static func readStruct<T>(
        _ pointer: UnsafePointer<T>, as _: T.Type, name: String, cType typeName: String, minimumSize: Int,
        _ refuse: (String) -> PluginLoadError
    ) throws(PluginLoadError) -> T {
        let raw = UnsafeRawPointer(pointer)
        let size = Int(raw.load(as: UInt32.self))
        guard size >= minimumSize else {
            throw refuse("\(name).struct_size is \(size), smaller than \(typeName) of ABI 1.0 (\(minimumSize) bytes): not a descriptor of this ABI, or a corrupt one")
        }
        // sizeof a C struct is a multiple of its alignment; anything else would cut a field in two.
        guard size % MemoryLayout<T>.alignment == 0 else {
            throw refuse("\(name).struct_size is \(size), not a multiple of \(MemoryLayout<T>.alignment) (sizeof(\(typeName)) always is): a corrupt descriptor")
        }
        let count = min(size, MemoryLayout<T>.size)
        return withUnsafeTemporaryAllocation(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment) { buffer in
            let base = buffer.baseAddress!
            base.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
            base.copyMemory(from: raw, byteCount: count)
            return base.load(as: T.self)
        }
    }

    private static func requiredString(
        _ pointer: UnsafePointer<CChar>?, _ what: String, _ refuse: (String) -> PluginLoadError
    ) throws(PluginLoadError) -> String {
        guard let pointer else { throw refuse("\(what) is NULL") }
        guard let text = String(validatingCString: pointer), !text.isEmpty else {
            throw refuse("\(what) is empty or not UTF-8")
        }
        return text
    }

    static func isReverseDNS(_ id: String) -> Bool {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "-" }
        }
    }

    static func isRouteSegment(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// MAJOR.MINOR.PATCH with optional -prerelease and +build, per semver.org.
    static func isSemVer(_ version: String) -> Bool {
        var core = Substring(version)
        if let plus = core.firstIndex(of: "+") {
            let build = core[core.index(after: plus)...]
            guard !build.isEmpty, build.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier) else { return false }
            core = core[..<plus]
        }
        if let dash = core.firstIndex(of: "-") {
            let pre = core[core.index(after: dash)...]
            guard !pre.isEmpty, pre.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier) else { return false }
            core = core[..<dash]
        }
        let numbers = core.split(separator: ".", omittingEmptySubsequences: false)
        return numbers.count == 3 && numbers.allSatisfy { part in
            !part.isEmpty && part.allSatisfy(\.isASCIIDigit) && (part == "0" || part.first != "0")
        }
    }

    private static func isIdentifier(_ part: Substring) -> Bool {
        !part.isEmpty && part.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" }
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

import NodalJSON

/// `isolation:` and the limits of a `nodal` plugin entry:
///
/// ```yaml
/// plugins:
///   risky:
///     type: nodal
///     path: plugins/librisky.so
///     isolation: process        # or in-process (the default)
///     memoryLimit: 512MiB       # bytes, or a number with KiB, MiB, GiB (KB, MB, GB: powers of 1000)
///     cpuSecondsPerCall: 10
///     maxOutputBytes: 1048576
///     maxChildren: 4
///     callsPerChild: 4
///     idleTimeoutSecs: 30
///     pluginHost: /usr/local/bin/nodal   # a grant: the executable that runs the children
/// ```
extension PluginEntry {
    static let isolationKeys = ["memoryLimit", "cpuSecondsPerCall", "maxOutputBytes", "maxChildren", "callsPerChild", "idleTimeoutSecs", "pluginHost"]

    /// The entry's process isolation; nil for `in-process` (or no `isolation`).
    static func processIsolation(_ options: JSONObject, field: String, file: String?) throws(FlowError) -> ProcessIsolation? {
        let mode: String
        switch options["isolation"] {
        case nil, .null?: mode = "in-process"
        case .string(let text)?: mode = text
        case let other?: throw FlowError(file: file, field: "\(field).isolation", "isolation must be \"process\" or \"in-process\", not \(other.typeName)")
        }
        guard mode == "process" || mode == "in-process" else {
            throw FlowError(file: file, field: "\(field).isolation", "isolation must be \"process\" or \"in-process\", not \"\(mode)\"")
        }
        guard mode == "process" else {
            if let key = isolationKeys.first(where: { options[$0] != nil }) {
                throw FlowError(file: file, field: "\(field).\(key)", "'\(key)' applies to a plugin run in child processes: add isolation: process")
            }
            return nil
        }
        guard options["path"] != nil else {
            throw FlowError(file: file, field: "\(field).isolation", "isolation: process needs the plugin's 'path' (a file, or a folder of plugins), so that its code is never loaded into the engine")
        }
        func count(_ key: String, _ range: ClosedRange<Int>) throws(FlowError) -> Int? {
            guard let value = options[key], !value.isNull else { return nil }
            guard let number = value.intValue, range.contains(number) else {
                throw FlowError(file: file, field: "\(field).\(key)", "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(value.serialized())")
            }
            return number
        }
        var settings = ProcessIsolation()
        if let memory = options["memoryLimit"], !memory.isNull {
            guard let bytes = byteCount(memory), bytes >= ProcessIsolation.minimumMemoryLimitBytes else {
                throw FlowError(file: file, field: "\(field).memoryLimit", "memoryLimit must be a size of at least 256MiB (bytes, or a number with KiB, MiB, GiB, KB, MB or GB), not \(memory.serialized())")
            }
            settings.memoryLimitBytes = bytes
        }
        settings.cpuSecondsPerCall = try count("cpuSecondsPerCall", 1...86_400)
        settings.maxOutputBytes = try count("maxOutputBytes", 0...Int(Int32.max))
        if let children = try count("maxChildren", 1...256) { settings.maxChildren = children }
        if let calls = try count("callsPerChild", 1...ProcessIsolation.maximumCallsPerChild) { settings.callsPerChild = calls }
        if let idle = try count("idleTimeoutSecs", 0...86_400) { settings.idleTimeout = .seconds(idle) }
        if let host = options["pluginHost"], !host.isNull {
            guard case .string(let path) = host, !path.isEmpty else {
                throw FlowError(file: file, field: "\(field).pluginHost", "pluginHost must be the path of a nodal executable")
            }
            settings.hostExecutable = path
        }
        return settings
    }

    /// 536870912, "512MiB", "1 GiB", "2GB".
    static func byteCount(_ value: JSON) -> Int? {
        if let number = value.intValue { return number }
        guard case .string(let text) = value else { return nil }
        let trimmed = text.filter { $0 != " " }
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Int(trimmed.dropLast(suffix.count)), number >= 0 else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
            return overflow ? nil : bytes
        }
        return Int(trimmed)
    }
}

extension NodalConfig {
    /// How a plugin file should run, by its `nodal` entry: one whose `path` is the file, or the
    /// folder holding it. Nil when no entry says `isolation: process`.
    func isolation(forPluginFile path: String) -> PluginIsolation? {
        let base = directory ?? FileSystem.currentDirectory
        let file = FileSystem.realPath(path) ?? path
        let folder = FileSystem.directoryName(file)
        for entry in plugins.values.sorted(by: { $0.name < $1.name }) {
            guard let settings = entry.isolation, let entryPath = entry.options["path"]?.stringValue else { continue }
            let named = FileSystem.join(base, entryPath)
            let resolved = FileSystem.realPath(named) ?? named
            if resolved == file || resolved == folder { return .process(settings) }
        }
        return nil
    }
}

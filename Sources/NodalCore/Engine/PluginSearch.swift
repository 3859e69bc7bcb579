// What plugin discovery did, for messages: where it looked, what it found there, and the known
// route closest to one that matched nothing.

/// One entry of the plugin search path as `Engine.loadPlugins` found it.
public struct SearchedLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A folder, with this many `*.so`/`*.dylib` files in it.
        case folder(pluginFiles: Int)
        case file
        case missing
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// `/usr/local/lib/nodal/plugins (folder, 2 plugin files)`.
    public var description: String {
        let what = switch kind {
        case .folder(let count): "folder, \(count) plugin file\(count == 1 ? "" : "s")"
        case .file: "file"
        case .missing: "does not exist"
        }
        return "\(path) (\(what))"
    }

    /// The lines an "unknown component route" error ends with: every location searched, in
    /// order, and under each the plugins refused there.
    static func report(_ searched: [SearchedLocation], failures: [PluginLoadError]) -> String {
        guard !searched.isEmpty else {
            return "\n  no plugins were searched for (Engine.loadPlugins(searchPath:) was not called)"
        }
        var lines = ["plugins were searched for in, in order:"]
        var reported = Set<String>()
        for (index, location) in searched.enumerated() {
            lines.append("  \(index + 1). \(location)")
            for failure in failures where !reported.contains(failure.file) && location.contains(failure.file) {
                reported.insert(failure.file)
                lines.append("     refused \(FileSystem.baseName(failure.file)): \(failure.reason)")
            }
        }
        for failure in failures where !reported.contains(failure.file) {
            lines.append("  refused \(failure.file): \(failure.reason)")
        }
        return lines.map { "\n  " + $0 }.joined()
    }

    /// Whether `file` was found through this location.
    func contains(_ file: String) -> Bool {
        switch kind {
        case .file: file == path
        case .folder: FileSystem.directoryName(file) == path || FileSystem.directoryName(file) == FileSystem.lexicallyNormalized(path)
        case .missing: false
        }
    }
}

/// The known name closest to a mistyped one, by edit distance.
enum RouteSuggestion {
    /// The candidate nearest to `wanted` (Levenshtein distance, case-insensitive), when it is
    /// near enough to be a typo: at most a third of the name's length and at most 3 edits.
    static func closest(to wanted: String, among candidates: [String]) -> String? {
        let target = Array(wanted.lowercased())
        let allowed = max(1, min(3, target.count / 3))
        var best: (name: String, distance: Int)?
        for candidate in candidates.sorted() where candidate != wanted {
            let distance = Self.distance(target, Array(candidate.lowercased()), limit: allowed)
            if distance <= allowed, distance < best?.distance ?? .max { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance, giving up (returning `limit + 1`) once it must exceed `limit`.
    static func distance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        guard abs(a.count - b.count) <= limit else { return limit + 1 }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension Engine {
    /// Every entry of the plugin search path `loadPlugins` looked at, in order, and what it found.
    public var searchedPluginLocations: [SearchedLocation] { registrySnapshot.searched }

    /// Every route a step could name that resolves without a configuration's routes: Swift
    /// nodes, loaded plugins' nodes and builtins.
    func knownRoutes(_ registry: Registry) -> [String] {
        var routes = Array(registry.swiftNodes.keys)
        for (name, plugin) in registry.pluginsByName {
            routes += plugin.nodesByName.keys.map { "/\(name)/\($0)" }
        }
        routes += builtinNames.map { "/builtin/\($0)" }
        return routes
    }
}

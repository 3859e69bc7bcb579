import NodalJSON
import Synchronization

/// Plugins run in child processes (`PluginIsolation.process`): loading them there, and stopping
/// the children with the engine.
extension Engine {
    /// Loads `path` in a plugin host child, which describes the plugin; the engine never maps the
    /// plugin's code. Its nodes call into a pool of such children.
    func loadInChildren(_ path: String, _ settings: ProcessIsolation) throws(PluginLoadError) -> PluginLoader.Loaded {
        guard FileSystem.isFile(path) else { throw PluginLoadError(file: path, reason: "no such file") }
        guard let executable = PluginHostExecutable.locate(explicit: settings.hostExecutable) else {
            throw PluginLoadError(file: path, reason: "PLUGIN_HOST_NOT_FOUND: isolation: process needs the nodal executable (its plugin-host command) and none was found: \(PluginHostExecutable.searched(explicit: settings.hostExecutable))")
        }
        let absolute = FileSystem.realPath(path) ?? path
        let outputLimit = min(maxOutputBytes, settings.maxOutputBytes ?? maxOutputBytes)
        let pool = PluginHostPool(pluginFile: absolute, isolation: settings, executable: executable, maxOutputBytes: outputLimit, clock: clock)
        var info: PluginInfo
        do {
            info = try pool.describe()
        } catch {
            throw PluginLoadError(file: path, reason: error.code == "PLUGIN_LOAD_FAILED" ? error.message : "\(error.code): \(error.message)")
        }
        info.file = path
        let nodes = info.nodes.enumerated().map { index, node in NativeNode(info: node, index: index, pool: pool, logger: logger) }
        processPools.withLock { $0.append(pool) }
        return PluginLoader.Loaded(info: info, nodes: nodes)
    }

    func stopPluginHosts() {
        for pool in processPools.withLock({ $0 }) { pool.shutdown() }
    }

    /// How the configuration says `path` should run: its `nodal` plugin entry's `isolation`
    /// (an entry whose `path` is the file or the folder holding it); in this process by default.
    func configuredIsolation(forPluginFile path: String) -> PluginIsolation {
        configuration.isolation(forPluginFile: path) ?? .inProcess
    }

    /// The process ids of the children running a process-isolated plugin now (for tests).
    package func pluginHostProcessIDs(pluginFile path: String) -> [Int32] {
        let absolute = FileSystem.realPath(path) ?? path
        return processPools.withLock { $0 }.filter { $0.pluginFile == absolute }.flatMap(\.childProcessIDs)
    }
}

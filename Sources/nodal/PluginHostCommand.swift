import ArgumentParser
import NodalPluginHost
#if canImport(Glibc)
import Glibc
#endif

/// `nodal plugin-host`: what the engine starts for a plugin loaded with `isolation: process`
/// (README: Process isolation). Hidden: it is not run by hand.
struct PluginHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-host",
        abstract: "Run one plugin for an engine, in a child process (started by the engine).",
        shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough)
    var arguments: [String] = []

    func run() throws {
        // A plugin that calls exit() here ends only this child, with its own status, which the
        // engine reports as the step's failure (PLUGIN_CRASHED): no guard turns it into 70.
        NativeExitGuard.disarm()
        Glibc.exit(PluginHost.main(arguments: arguments))
    }
}

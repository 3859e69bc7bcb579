// `nodal-plugin-host`: the plugin host alone, for apps that embed the engine and run plugins with
// isolation: process without shipping the whole `nodal` command (`nodal plugin-host` is the same).
import NodalPluginHost
#if canImport(Glibc)
import Glibc
#endif

exit(PluginHost.main(arguments: Array(CommandLine.arguments.dropFirst())))

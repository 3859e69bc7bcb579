// The umbrella: `import Nodal` gives the engine with everything that ships in this package
// (the core, FFI steps, the SQLite store). An app that only runs flows in memory can depend on
// `NodalCore` alone and build neither SQLite nor NIO.
@_exported public import NodalCore
@_exported public import NodalJSON
@_exported public import NodalFFI
@_exported public import NodalSQLite

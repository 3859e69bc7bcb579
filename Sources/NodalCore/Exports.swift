// The engine's API speaks JSON values, so `import NodalCore` brings NodalJSON with it.
@_exported public import NodalJSON

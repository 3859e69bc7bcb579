// A plugin author imports this module alone: the JSON value type comes with it.
@_exported public import NodalJSON

extension ServiceError {
    /// 400 `INVALID_INPUT`: an item's body cannot become the flow's input (a key that names no
    /// input, a fixed input set, a file URI refused). `field` is the full path into the request.
    package static func invalidInput(_ field: String, _ message: String) -> ServiceError {
        ServiceError(status: 400, code: "INVALID_INPUT", message, field: field)
    }
}

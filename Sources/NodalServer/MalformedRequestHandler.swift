import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NodalJSON
import NodalService

/// Answers a request the HTTP parser could not read (a head past its 80 KiB limit, a malformed
/// request line or header) with the JSON error every other refusal has, then closes the
/// connection. Without it Hummingbird answers those with an empty 400.
///
/// Sits in the channel pipeline after the HTTP codec, where the parser's error arrives as
/// `errorCaught`. Only an error outside a request is answered here: one in the middle of a body
/// reaches the route reading it, which answers it.
final class MalformedRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// Between a request's head and its end.
    private var inRequest = false
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: inRequest = true
        case .end: inRequest = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !inRequest else {
            context.fireErrorCaught(error)
            return
        }
        // The parser stops at its first error; later ones on the same connection add nothing.
        guard !answered else { return }
        answered = true
        let refusal = Self.refusal(parserError)
        let body = refusal.json.serializedBytes()
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: HTTPResponse.Status(code: refusal.status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        // Closed once the answer is out (the context stays on its event loop).
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }

    static func refusal(_ error: HTTPParserError) -> ServiceError {
        switch error {
        case .headerOverflow:
            ServiceError(
                status: 431, code: "REQUEST_HEAD_TOO_LARGE",
                "the request line and headers are longer than the server reads (80 KiB); send long values in a JSON body", field: "request")
        case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost, .invalidPort:
            ServiceError(status: 400, code: "MALFORMED_REQUEST", "the request's target is not a valid URL (\(error))", field: "path")
        case .invalidMethod:
            ServiceError(status: 400, code: "MALFORMED_REQUEST", "the request's method is not valid HTTP", field: "method")
        default:
            ServiceError(status: 400, code: "MALFORMED_REQUEST", "the request is not valid HTTP/1.1 (\(error))", field: "request")
        }
    }
}

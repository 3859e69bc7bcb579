@testable import NodalClient
import Testing

@Suite struct ServerSentEventParserTests {
    /// Feeds `text` in pieces of `size` bytes.
    func events(_ text: String, size: Int) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        let bytes = Array(text.utf8)
        var events: [ServerSentEvent] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            events += try parser.feed(Array(bytes[start..<end]))
            start = end
        }
        return events
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func eventsAreTheSameHoweverTheBytesAreCut(size: Int) throws {
        let text = "id: 1\nevent: run_created\ndata: {\"a\":1}\n\n: keep-alive\n\nid:2\r\nevent:step_started\r\ndata: x\r\ndata:  y\r\n\r\nid: 3\rdata: é\r\r"
        let parsed = try events(text, size: size)
        #expect(parsed == [
            ServerSentEvent(id: "1", name: "run_created", data: "{\"a\":1}"),
            ServerSentEvent(id: "2", name: "step_started", data: "x\n y"),
            ServerSentEvent(id: "3", name: nil, data: "é"),
        ])
    }

    @Test func aBlockWithoutDataIsNoEventAndTheFieldsDoNotCarryOver() throws {
        let parsed = try events("id: 9\nevent: ignored\n\ndata: only\n\n", size: 4)
        #expect(parsed == [ServerSentEvent(id: nil, name: nil, data: "only")])
    }

    @Test func anEventCutOffByTheEndOfTheStreamIsNotDelivered() throws {
        #expect(try events("id: 1\ndata: whole\n\nid: 2\ndata: cut", size: 5).map(\.id) == ["1"])
    }

    @Test func aByteOrderMarkOpeningTheStreamAndUnknownFieldsAreSkipped() throws {
        let parsed = try events("\u{FEFF}data: a\nfoo: bar\ndata\n\n", size: 2)
        #expect(parsed == [ServerSentEvent(data: "a\n")])
    }

    @Test func retryIsTakenAtOnceWhenItIsDigits() throws {
        var parser = ServerSentEventParser()
        _ = try parser.feed(Array("retry: 1500\n\n".utf8))
        #expect(parser.retryMilliseconds == 1500)
        _ = try parser.feed(Array("retry: soon\n\n".utf8))
        #expect(parser.retryMilliseconds == 1500)
    }

    @Test func aLineLongerThanTheLimitIsRefused() throws {
        var parser = ServerSentEventParser(maximumLineLength: 8)
        #expect(throws: ServerSentEventParser.LineTooLong.self) { try parser.feed(Array("data: 123456789\n".utf8)) }
    }
}

import NodalCore
import NodalJSON
import FoundationEssentials
import PostgresNIO

/// One row read by name, with the store's types: text, integers, millisecond times, JSON text.
/// A value that does not read back is a `corruptRecord` error naming the column (the store adds
/// the record and the database).
struct StoredRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    /// Decodes one record, naming it (`run 'r1'`) in the error if a column cannot be read.
    static func decoding<T>(_ record: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as RunStoreError where error.kind == .corruptRecord {
            throw RunStoreError(.corruptRecord, "\(record): \(error.message)")
        }
    }

    private func cell(_ column: String) throws -> PostgresCell {
        guard row.contains(column) else { throw RunStoreError(.corruptRecord, "the run store has no column '\(column)'") }
        return row[column]
    }

    private func decode<T: PostgresDecodable>(_ column: String, as type: T.Type, _ what: String) throws -> T {
        do { return try cell(column).decode(T.self) } catch let error as RunStoreError { throw error } catch {
            throw RunStoreError(.corruptRecord, "column '\(column)' of the run store is not \(what)")
        }
    }

    func text(_ column: String) throws -> String { try decode(column, as: String.self, "text") }

    func optionalText(_ column: String) -> String? { try? decode(column, as: String?.self, "text") ?? nil }

    func int(_ column: String) throws -> Int { try decode(column, as: Int.self, "an integer") }

    func bool(_ column: String) throws -> Bool { try decode(column, as: Bool.self, "a boolean") }

    func bytes(_ column: String) throws -> [UInt8] {
        Array(try decode(column, as: ByteBuffer.self, "bytes").readableBytesView)
    }

    func time(_ column: String) throws -> Date { Date(storeMilliseconds: Int64(try int(column))) }

    func optionalTime(_ column: String) throws -> Date? {
        guard let value = try decode(column, as: Int?.self, "an integer") else { return nil }
        return Date(storeMilliseconds: Int64(value))
    }

    func runStatus(_ column: String) throws -> RunRecord.Status {
        let text = try text(column)
        guard let status = RunRecord.Status(rawValue: text) else {
            throw RunStoreError(.corruptRecord, "column '\(column)' holds an unknown run status '\(text)'")
        }
        return status
    }

    func json(_ column: String) throws -> JSON {
        let text = try text(column)
        do {
            return try JSON(parsing: text, maximumDepth: JSONParser.recordDepth)
        } catch {
            throw RunStoreError(.corruptRecord, "column '\(column)' of the run store holds invalid JSON: \(error)")
        }
    }

    func optionalJSON(_ column: String) throws -> JSON? {
        guard try decode(column, as: String?.self, "text") != nil else { return nil }
        return try json(column)
    }
}

import VaporCSQLite

/// A value bound to, or read from, an SQLite statement.
enum SQLiteData: Sendable, Equatable {
    case null
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob([UInt8])

    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The length of a text or blob value in bytes (0 for the others).
    var byteCount: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .blob(let bytes): bytes.count
        default: 0
        }
    }

    /// The value as text, as the sqlite3 shell would print it (nil for NULL).
    var string: String? {
        switch self {
        case .null: nil
        case .integer(let value): String(value)
        case .float(let value): String(value)
        case .text(let text): text
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// One row of a statement's result: values by column name.
struct SQLiteRow {
    /// A statement's column names, shared by all its rows.
    final class Columns {
        let names: [String]
        init(_ statement: OpaquePointer) {
            let count = sqlite_nio_sqlite3_column_count(statement)
            names = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
        }
        func index(of name: String) -> Int? { names.firstIndex(of: name) }
    }

    let columns: Columns
    let values: [SQLiteData]

    /// The value of the column named `name`, or nil if the statement has no such column.
    func column(_ name: String) -> SQLiteData? {
        columns.index(of: name).map { values[$0] }
    }

    /// Every column with its name, in the statement's order.
    var namedValues: [(name: String, data: SQLiteData)] {
        zip(columns.names, values).map { ($0, $1) }
    }
}

/// A failure SQLite reported: its extended result code and message.
struct SQLiteError: Error, CustomStringConvertible {
    /// SQLite's extended result code (`SQLITE_CONSTRAINT_FOREIGNKEY`, say); `code & 0xff` is the primary one.
    let code: Int32
    let message: String

    var primaryCode: Int32 { code & 0xff }
    /// `SQLITE_CONSTRAINT_FOREIGNKEY` (a macro Swift does not import).
    static let foreignKeyConstraint = SQLITE_CONSTRAINT | (3 << 8)
    var description: String { message }
}

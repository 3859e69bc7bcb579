import NodalJSON
/// Why a store call failed. The message names the database file (or the PostgreSQL URL, without its
/// password) where there is one.
public struct RunStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A location (`--store`, `NODAL_STORE`, `storageConfig`) this Nodal cannot open.
        case unsupportedLocation
        /// The file is not an SQLite database, or is damaged.
        case notADatabase
        /// The file is an SQLite database, but another program's.
        case notANodalStore
        /// The database was written by a newer Nodal (a higher schema version than this one knows).
        case newerSchema
        /// The database could not be opened or created (permissions, missing folder, a PostgreSQL
        /// database that does not exist, ...).
        case cannotOpen
        /// The PostgreSQL server could not be reached (refused, no such host or socket, timed out,
        /// the connection dropped): trying again later may work.
        case unreachable
        /// The PostgreSQL server refused the user name or password.
        case authenticationFailed
        /// No run with the given id.
        case runNotFound
        /// A stored value could not be read back (e.g. JSON that does not parse); the message names
        /// the record.
        case corruptRecord
        /// The database file is damaged (its integrity check failed, or SQLite found it malformed):
        /// nothing is written into it.
        case damaged
        /// The store was closed.
        case closed
        /// Any other database failure.
        case database
    }

    public var kind: Kind
    public var message: String
    /// The database file, or the PostgreSQL URL without its password, when the error concerns one.
    public var path: String?

    public init(_ kind: Kind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    public var description: String { message }
}

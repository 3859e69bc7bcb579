#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock on a file (`flock`), held for the life of this object. The kernel drops it when
/// the process ends in any way, kill -9 included, so a crashed holder never leaves it stale.
///
/// `nodal serve` takes one on its SQLite store: two servers recovering each other's runs from one file
/// would each take the other's in-flight runs for abandoned. `flock` locks do not interact with the
/// `fcntl` locks SQLite itself uses (Linux keeps the two apart), so holding one does not block the
/// database. The descriptor is close-on-exec: a child process never inherits the lock.
package final class ExclusiveFileLock: Sendable {
    package let path: String
    private let descriptor: Int32

    /// Why a lock was not taken: `held` when another open file description holds it.
    package struct Failure: Error, CustomStringConvertible {
        package var path: String
        package var held: Bool
        package var reason: String
        package var description: String { "\(path): \(reason)" }
    }

    /// Takes the lock without waiting; throws `Failure(held: true)` when someone holds it.
    package init(path: String) throws(Failure) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(path: path, held: false, reason: FileSystem.errnoText()) }
        var result: Int32
        repeat { result = flock(descriptor, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK {
                throw Failure(path: path, held: true, reason: "in use by another process (it holds the file's lock)")
            }
            throw Failure(path: path, held: false, reason: FileSystem.errnoText(code))
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}

public import NodalJSON
/// One item of a streamed batch: the run's input, or why the item has none (a malformed line of
/// a JSON-lines file). An item without input is not run; its result is `failed` with code
/// `INVALID_INPUT` and the error's message.
public struct BatchInput: Sendable {
    public var value: Result<JSON, BatchInputError>
    /// The 1-based line of the file the item came from, if any.
    public var line: Int?

    public init(_ value: JSON, line: Int? = nil) {
        self.value = .success(value)
        self.line = line
    }

    public init(error: BatchInputError) {
        value = .failure(error)
        line = error.line
    }
}

/// An input that could not be read: a malformed or overlong line, or a file that cannot be read.
public struct BatchInputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, when the input came from one.
    public var path: String?
    /// The 1-based line, when the error is about one line.
    public var line: Int?
    public var reason: String

    public init(path: String? = nil, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    /// "line 3 of items.jsonl: invalid JSON at column 7: expected ',' or '}'".
    public var description: String {
        switch (line, path) {
        case (let line?, let path?): "line \(line) of \(path): \(reason)"
        case (let line?, nil): "line \(line): \(reason)"
        case (nil, let path?): "\(path): \(reason)"
        case (nil, nil): reason
        }
    }
}

/// Lists that cannot be combined into batch items.
public struct BatchInputsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The lists involved and their lengths, in the order the message names them.
    public var lengths: [String: Int]
    public var description: String
}

/// Builds batch items from list-valued inputs.
///
/// ```swift
/// // [{"model": "m", "prompt": "a", "n": 1}, {"model": "m", "prompt": "b", "n": 2}]
/// let items = try BatchInputs.zip(["prompt": ["a", "b"], "n": [1, 2]], base: ["model": "m"])
/// // 2 × 3 = 6 items: temperature 0 with each size, then temperature 1 with each size
/// let grid = try BatchInputs.product(["temperature": [0, 1], "size": ["s", "m", "l"]])
/// ```
///
/// Each item is `base` (an object; `{}` by default) with one field per list set to that list's
/// element; a list's field replaces a `base` field of the same name. Fields are top-level keys
/// (a key containing a dot is one key, not a path).
public enum BatchInputs {
    /// The most items `product` builds; more is an error rather than a memory blow-up.
    public static let defaultProductLimit = 1_000_000

    /// Item `i` takes element `i` of every list. The lists must have equal lengths; otherwise the
    /// error names every list and its length. No lists is an error too.
    public static func zip(_ lists: [String: [JSON]], base: JSON = [:]) throws(BatchInputsError) -> [JSON] {
        let ordered = lists.sorted { $0.key < $1.key }
        guard let first = ordered.first else {
            throw BatchInputsError(lengths: [:], description: "zip needs at least one list")
        }
        let baseObject = try object(base, lengths: lists)
        if ordered.contains(where: { $0.value.count != first.value.count }) {
            let named = ordered.map { "'\($0.key)' has \($0.value.count) items" }.joined(separator: ", ")
            throw BatchInputsError(
                lengths: lists.mapValues(\.count),
                description: "zip needs lists of equal length: \(named)")
        }
        return (0..<first.value.count).map { index in
            var item = baseObject
            for (key, values) in ordered { item[key] = values[index] }
            return .object(item)
        }
    }

    /// Every combination of one element from each list (cartesian product), ordered as nested
    /// loops over the keys in sorted order: the last key varies fastest. An empty list gives no
    /// items; no lists gives one item, `base`. More than `limit` items is an error naming the
    /// lists' lengths.
    public static func product(
        _ lists: [String: [JSON]], base: JSON = [:], limit: Int = defaultProductLimit
    ) throws(BatchInputsError) -> [JSON] {
        let ordered = lists.sorted { $0.key < $1.key }
        let baseObject = try object(base, lengths: lists)
        var count = 1
        for (_, values) in ordered {
            let (product, overflow) = count.multipliedReportingOverflow(by: values.count)
            if overflow || product > limit {
                let named = ordered.map { "'\($0.key)' has \($0.value.count) items" }.joined(separator: ", ")
                throw BatchInputsError(
                    lengths: lists.mapValues(\.count),
                    description: "product would build more than \(limit) items (\(named))")
            }
            count = product
        }
        var items: [JSON] = []
        items.reserveCapacity(count)
        var digits = [Int](repeating: 0, count: ordered.count)
        for _ in 0..<count {
            var item = baseObject
            for (position, (key, values)) in ordered.enumerated() { item[key] = values[digits[position]] }
            items.append(.object(item))
            // Advance the odometer: the last key fastest.
            var position = ordered.count - 1
            while position >= 0 {
                digits[position] += 1
                if digits[position] < ordered[position].value.count { break }
                digits[position] = 0
                position -= 1
            }
        }
        return items
    }

    private static func object(_ base: JSON, lengths: [String: [JSON]]) throws(BatchInputsError) -> JSONObject {
        guard case .object(let object) = base else {
            throw BatchInputsError(lengths: lengths.mapValues(\.count), description: "the base of batch items must be an object, not \(base.typeName)")
        }
        return object
    }
}

/// Orders the names a request could have used by how close each is to the one it used, so the
/// likely meant one comes first in the error.
enum NameSuggestions {
    /// `names` nearest first (case-insensitive edit distance; ties keep their order), at most
    /// `limit` of them, then how many were left out.
    static func listed(_ names: [String], nearestTo wanted: String, limit: Int = 20) -> String {
        listed(names.map { (shown: "'\($0)'", names: [$0]) }, nearestTo: wanted, limit: limit)
    }

    /// The same for candidates known by several names (a property's name and title), each shown
    /// once as given and ranked by the nearest of its names.
    static func listed(_ candidates: [(shown: String, names: [String])], nearestTo wanted: String, limit: Int = 20) -> String {
        let target = Array(wanted.lowercased())
        let ranked = candidates.enumerated()
            .map { candidate in
                (offset: candidate.offset, shown: candidate.element.shown,
                 distance: candidate.element.names.map { distance(target, Array($0.lowercased())) }.min() ?? .max)
            }
            .sorted { ($0.distance, $0.offset) < ($1.distance, $1.offset) }
            .map(\.shown)
        var text = ranked.prefix(limit).joined(separator: ", ")
        if ranked.count > limit { text += " and \(ranked.count - limit) more" }
        return text
    }

    /// Levenshtein distance; names are short, so the full table is cheap. Keys longer than a
    /// name can plausibly be are cut first so a huge key costs no more than a long one.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        let a = Array(a.prefix(64)), b = Array(b.prefix(64))
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1), previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

import PostgresNIO

/// A WHERE clause assembled from fixed SQL fragments, each value bound as a parameter (`$1`, `$2`...):
/// the SQL text only ever holds placeholders, never a value.
///
///     var filter = PostgresFilter()
///     filter.add("agent_id = \(filter.bind(id.description))")
///     let query = filter.query(select: "SELECT ... FROM sessions", then: "ORDER BY ...")
struct PostgresFilter {
    private(set) var clauses: [String] = []
    private(set) var bindings = PostgresBindings()

    /// Binds `value`; returns its placeholder, to be written into a fragment.
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    /// Adds a condition (ANDed with the others). `clause` is fixed SQL with placeholders from `bind`.
    mutating func add(_ clause: String) { clauses.append(clause) }

    /// `select WHERE ... then`. Values bound after the clauses (a LIMIT) go in `then` through `bind`.
    func query(select: String, then tail: String = "") -> PostgresQuery {
        let whereClause = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return PostgresQuery(unsafeSQL: select + whereClause + (tail.isEmpty ? "" : " " + tail), binds: bindings)
    }
}

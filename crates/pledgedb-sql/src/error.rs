//! Why a query could not run. No message ever contains stored data: errors
//! name tables, columns, functions and types, never a value read from the
//! domain.

/// The error of [`execute`](crate::execute).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The text is not SQL (the message is the parser's).
    #[error("syntax error: {0}")]
    Syntax(String),
    /// The text holds no statement.
    #[error("empty query: there is no statement to run")]
    Empty,
    /// More than one statement was given.
    #[error("one statement at a time: found {0}")]
    MultipleStatements(usize),
    /// The text is longer than the engine accepts.
    #[error("query too long: at most {max} bytes")]
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// An expression is nested deeper than the engine accepts.
    #[error("expression too deeply nested: at most {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A statement that would change data or schema.
    #[error("PledgeDB's SQL is read-only: {0} is not allowed")]
    ReadOnly(String),
    /// A construct this engine does not run (joins, subqueries, unions,
    /// window functions, common table expressions, ...).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The table does not exist.
    #[error("no such table: {name} (tables: {available})")]
    UnknownTable {
        /// The name as written.
        name: String,
        /// The tables that exist, comma-separated.
        available: String,
    },
    /// The column does not exist in the table.
    #[error("no such column: {name} in {table} (columns: {available})")]
    UnknownColumn {
        /// The name as written.
        name: String,
        /// The table queried.
        table: String,
        /// The table's columns, comma-separated.
        available: String,
    },
    /// A column that would hold an IP address was asked for.
    #[error(
        "no such column: {name} — PledgeDB stores no IP addresses \
         (the IP is used once for the country, then dropped)"
    )]
    NoIpAddress {
        /// The name as written.
        name: String,
    },
    /// The function does not exist.
    #[error("no such function: {name} (functions: {available})")]
    UnknownFunction {
        /// The name as written.
        name: String,
        /// The functions that exist, comma-separated.
        available: String,
    },
    /// Operand types do not fit the operation.
    #[error("type error: {0}")]
    Type(String),
    /// A `LIMIT` above the cap.
    #[error("LIMIT too large: at most {max} rows")]
    LimitTooLarge {
        /// The cap.
        max: u64,
    },
    /// A division or modulo by zero.
    #[error("division by zero (use NULLIF(divisor, 0) to get NULL instead)")]
    DivisionByZero,
    /// An integer result does not fit in 64 bits.
    #[error("integer overflow")]
    Overflow,
    /// The query would hold more rows in memory than allowed.
    #[error(
        "too many rows: the query would hold more than {max} rows in memory; \
         narrow the day range, aggregate, or add a LIMIT"
    )]
    TooManyRows {
        /// The cap.
        max: usize,
    },
    /// Anything else wrong with the query (a misplaced aggregate, a bad
    /// `ORDER BY` position, an invalid day literal, ...).
    #[error("invalid query: {0}")]
    Invalid(String),
    /// The engine could not read the domain.
    #[error(transparent)]
    Read(#[from] pledgedb_core::ReadError),
}

/// Shorthand for results of this crate.
pub(crate) type Result<T> = std::result::Result<T, SqlError>;

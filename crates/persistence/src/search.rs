//! Text search over standards and service matters: an exact, case-insensitive
//! substring match, served by a gram index.
//!
//! The match itself is the scan it always was: `lower(column) LIKE '%term%'`
//! on any searched column, with the term lower-cased by Rust and its `%`,
//! `_` and `\` taken literally. The `text_gram` table only narrows the rows
//! that scan reads. For every searched row it holds each distinct character
//! and each distinct pair of adjacent characters of `lower(column)`, column
//! by column (a pair never spans two columns). A search looks up the term's
//! grams by the primary key (kind, gram, key): its only character when it has
//! one, else its rarest pair, and checks the scan's predicate on the rows
//! that hold it. A term of one or two characters is its own only gram, and
//! holding it is the match itself, so neither the scan nor (for a search
//! with no other filter) a read of the rows is needed to count it. Pairs serve the two-character words Chinese is written in,
//! which a trigram index cannot.
//!
//! The rule that keeps the narrowing sound: the grams are cut by the
//! database, from its own `lower()` of the stored text, so they are
//! substrings of exactly the text the scan compares, whatever that
//! backend's folding is (SQLite folds ASCII only; PostgreSQL follows the
//! database's locale, which may fold `K` (Kelvin) to `k`, or `I` to `ı` in
//! Turkish). A row the scan matches contains the lowered term in some
//! lowered column, so it holds every gram of the term. (A term with no
//! cased letter is compared with the unlowered column, as before; lowering
//! changes only cased letters, so it is a substring of the lowered column
//! too.) Nothing is folded in Rust on the write side, so no Rust table can
//! disagree with a backend's.
//!
//! Every path that writes a standard's or a matter's searched columns calls
//! [`reindex`] (or [`rebuild`]) in its own transaction. Both keep
//! `text_gram_count`, how many rows hold each gram, in step with the grams,
//! so that counting a short term's matches reads one row.

use std::collections::BTreeSet;

use sea_orm::sea_query::{
    ColumnRef, Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, Query, SelectStatement,
};
use sea_orm::{
    Condition, ConnectionTrait, DatabaseConnection, DbBackend, JoinType, Statement,
    TransactionTrait,
};

use crate::StoreError;
use crate::queries::constant;

/// The kinds of rows that text search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Searched {
    Standard,
    Matter,
}

impl Searched {
    /// The value of `text_gram.kind` for these rows.
    fn kind(self) -> &'static str {
        match self {
            Searched::Standard => "STANDARD",
            Searched::Matter => "MATTER",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Searched::Standard => "standard",
            Searched::Matter => "service_matter",
        }
    }

    /// The primary key, which `text_gram.key` holds.
    fn key(self) -> &'static str {
        "code"
    }

    /// The primary key, as a column of the searched table.
    pub(crate) fn key_column(self) -> ColumnRef {
        (self.table(), self.key()).into_column_ref()
    }

    /// The columns a search matches, in both languages and the code.
    fn columns(self) -> [&'static str; 3] {
        match self {
            Searched::Standard => ["title_zh", "title_en", "code"],
            Searched::Matter => ["name_zh", "name_en", "code"],
        }
    }
}

/// The alias of `text_gram` joined to a searched table.
const HELD: &str = "held";

/// Keys per re-indexing statement, well under both backends' limits on
/// bound parameters.
const KEYS_PER_STATEMENT: usize = 500;

/// How many of a gram's rows are counted, at most, when looking for a
/// term's rarest pair: past this, a pair is too common to be worth reading
/// its rows one by one instead of scanning.
const COMMON: usize = 2000;

/// A search term, lower-cased as the scan compares it, and the gram whose
/// rows a search reads.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    lowered: String,
    /// The gram every matching row holds, whose rows are read; `None` when
    /// every gram of the term is common and the scan alone serves it.
    via: Option<String>,
}

impl Term {
    /// Prepares a search for `text`, which must not be empty. A term of one
    /// or two characters is its own gram. A longer one is looked up by its
    /// rarest pair of adjacent characters (each pair's rows counted up to
    /// [`COMMON`], in one statement) and checked by the scan; when every
    /// pair is that common, reading a pair's rows one by one would cost
    /// about what the scan does, so the scan alone serves it. (Requiring
    /// every pair, by `GROUP BY key HAVING COUNT(*) = pairs` or by one
    /// semi-join per pair, read every pair's rows or let PostgreSQL pick a
    /// common pair to drive: 26 to 180 ms at scale 1 for terms such as
    /// 服务规范 or "service", against 4 to 15 ms for the scan.)
    pub(crate) async fn prepare<C: ConnectionTrait>(
        conn: &C,
        searched: Searched,
        text: &str,
    ) -> Result<Term, StoreError> {
        let lowered = text.to_lowercase();
        let grams = term_grams(&lowered);
        if grams.len() == 1 && lowered.chars().count() <= 2 {
            return Ok(Term {
                via: Some(lowered.clone()),
                lowered,
            });
        }
        let backend = conn.get_database_backend();
        let counts: Vec<String> = placeholders(backend, grams.len())
            .split(", ")
            .map(|gram| {
                format!(
                    "(SELECT COUNT(*) FROM (SELECT 1 AS one FROM text_gram \
                     WHERE kind = '{}' AND gram = {gram} LIMIT {COMMON}) AS g)",
                    searched.kind()
                )
            })
            .collect();
        let statement = Statement::from_sql_and_values(
            backend,
            format!("SELECT {}", counts.join(", ")),
            grams.iter().map(|gram| gram.as_str().into()),
        );
        let row = conn
            .query_one_raw(statement)
            .await?
            .ok_or_else(|| StoreError::Corrupt("counting grams returned no row".into()))?;
        let mut rarest: Option<(i64, &String)> = None;
        for (i, gram) in grams.iter().enumerate() {
            let count: i64 = row.try_get_by_index(i)?;
            if rarest.is_none_or(|(least, _)| count < least) {
                rarest = Some((count, gram));
            }
        }
        let via = rarest
            .filter(|&(count, _)| count < COMMON as i64)
            .map(|(_, gram)| gram.clone());
        Ok(Term { lowered, via })
    }

    /// True when holding the term's gram is the match itself: a term of
    /// one or two characters is its own only gram, and the grams are
    /// substrings of exactly what the scan compares, so the rows that hold
    /// it are the rows the scan finds.
    pub(crate) fn is_exact(&self) -> bool {
        self.lowered.chars().count() <= 2
    }

    /// The keys of the rows holding the gram the search reads.
    pub(crate) fn keys(&self, searched: Searched) -> SelectStatement {
        Query::select()
            .column("key")
            .from("text_gram")
            .and_where(Expr::col("kind").eq(constant(searched.kind())))
            .and_where(Expr::col("gram").is_in(self.via.iter().cloned()))
            .to_owned()
    }

    /// Whether the gram the search reads is held by the row of the
    /// searched table that the enclosing statement reads: a subquery for
    /// `EXISTS`.
    pub(crate) fn held_by(&self, searched: Searched) -> SelectStatement {
        Query::select()
            .expr(constant(1))
            .from("text_gram")
            .and_where(Expr::col(("text_gram", "key")).equals((searched.table(), searched.key())))
            .and_where(Expr::col(("text_gram", "kind")).eq(constant(searched.kind())))
            .and_where(Expr::col(("text_gram", "gram")).is_in(self.via.iter().cloned()))
            .to_owned()
    }

    /// Narrows `query`, over the searched table, to the rows whose text
    /// contains the term, and names the column to order and cut its page
    /// by: the key as the index holds it, joined, when the index serves the
    /// term, else the table's own key. Both hold the same values in the
    /// same collation. Ordered by the index's key, the database walks the
    /// gram's keys in order and stops at the end of the page; ordered by
    /// the table's, SQLite first reads every key that holds the gram (all
    /// 20,000 standards for 服务) and sorts them.
    pub(crate) fn narrow(&self, query: &mut SelectStatement, searched: Searched) -> ColumnRef {
        let Some(gram) = &self.via else {
            query.cond_where(scan(searched, &self.lowered));
            return searched.key_column();
        };
        query.join_as(
            JoinType::InnerJoin,
            "text_gram",
            HELD,
            Condition::all()
                .add(Expr::col((HELD, "key")).equals((searched.table(), searched.key())))
                .add(Expr::col((HELD, "kind")).eq(constant(searched.kind())))
                .add(Expr::col((HELD, "gram")).eq(gram.as_str())),
        );
        if !self.is_exact() {
            query.cond_where(scan(searched, &self.lowered));
        }
        (HELD, "key").into_column_ref()
    }

    /// The rows whose searched text contains the term, ignoring case.
    pub(crate) fn matching(&self, searched: Searched) -> Condition {
        let scanned = scan(searched, &self.lowered);
        if self.via.is_none() {
            return scanned;
        }
        let held = Expr::col((searched.table(), searched.key())).in_subquery(self.keys(searched));
        if self.is_exact() {
            Condition::all().add(held)
        } else {
            Condition::all().add(held).add(scanned)
        }
    }

    /// How many rows hold the term's gram, one row of the kept counts: the
    /// number of rows matching it when [`Term::is_exact`] (standards and
    /// matters are never deleted, so no gram outlives its row).
    pub(crate) fn holding(&self, searched: Searched) -> SelectStatement {
        // At most one row; a gram no row holds has none, or a zero.
        Query::select()
            .expr(Func::coalesce([Expr::col("keys").max(), constant(0i64)]))
            .from("text_gram_count")
            .and_where(Expr::col("kind").eq(constant(searched.kind())))
            .and_where(Expr::col("gram").is_in(self.via.iter().cloned()))
            .to_owned()
    }
}

/// The grams every row containing `lowered` holds: its one character, or
/// its distinct pairs of adjacent characters, sorted.
fn term_grams(lowered: &str) -> Vec<String> {
    let chars: Vec<char> = lowered.chars().collect();
    let mut grams: Vec<String> = if chars.len() == 1 {
        vec![lowered.to_owned()]
    } else {
        chars.windows(2).map(|pair| pair.iter().collect()).collect()
    };
    grams.sort();
    grams.dedup();
    grams
}

/// A case-insensitive substring match on any searched column, with the
/// pattern's own `%` and `_` taken literally. `lowered` is the term as
/// Rust lower-cases it.
fn scan(searched: Searched, lowered: &str) -> Condition {
    let escaped = lowered
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let caseless = is_caseless(lowered);
    searched
        .columns()
        .into_iter()
        .fold(Condition::any(), |any, column| {
            let column = Expr::col((searched.table(), column));
            // Folding every row's text is most of a search's cost; a pattern
            // that no case folding can produce matches the folded text exactly
            // where it matches the text itself.
            let haystack = if caseless {
                column
            } else {
                Expr::expr(Func::lower(column))
            };
            any.add(haystack.like(LikeExpr::new(pattern.clone()).escape('\\')))
        })
}

/// True when no character of `text` is a cased letter or the lower case
/// of one: ASCII other than letters, and the CJK ideographs, symbols and
/// punctuation that Chinese titles are written in. (Case folding maps
/// letters to letters, and a few, like the Kelvin sign to `k`, across
/// blocks; none lands in these ranges.)
fn is_caseless(text: &str) -> bool {
    text.chars().all(|c| {
        (c.is_ascii() && !c.is_ascii_alphabetic())
            || matches!(c,
                '\u{3000}'..='\u{303F}'   // CJK symbols and punctuation
                | '\u{3400}'..='\u{4DBF}' // CJK extension A
                | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
                | '\u{FF01}'..='\u{FF20}' // full-width punctuation and digits
                | '\u{FF5B}'..='\u{FF65}')
    })
}

/// Replaces the grams of the rows with these keys by those of their text as
/// now stored. Run it in the transaction that wrote the rows, after the
/// writes. A key with no row is left without grams.
pub async fn reindex<C: ConnectionTrait>(
    conn: &C,
    searched: Searched,
    keys: &[String],
) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    // Each key once: on PostgreSQL a key's grams are read once per listing.
    let keys: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    let keys: Vec<&str> = keys.into_iter().collect();
    if backend == DbBackend::Postgres && !keys.is_empty() {
        without_jit(conn).await?;
    }
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let list = placeholders(backend, chunk.len());
        let statement = |sql: String| {
            let values = chunk.iter().map(|key| (*key).into()).collect::<Vec<_>>();
            Statement::from_sql_and_values(backend, sql, values)
        };
        let (grams, filter) = keyed_grams(backend, searched, &list);
        let counted = Counted::OfKeys(&grams, &filter);
        conn.execute_raw(statement(count_grams(searched, counted, Sign::Less)))
            .await?;
        let delete = match backend {
            DbBackend::Postgres => format!(
                "DELETE FROM text_gram WHERE ctid = ANY (ARRAY(SELECT g.ctid FROM {grams} WHERE {filter}))"
            ),
            _ => format!("DELETE FROM {grams} WHERE {filter}"),
        };
        conn.execute_raw(statement(delete)).await?;
        let only = format!("WHERE r.{} IN ({list})", searched.key());
        conn.execute_raw(statement(insert_grams(backend, searched, &only)))
            .await?;
        conn.execute_raw(statement(count_grams(searched, counted, Sign::More)))
            .await?;
    }
    Ok(())
}

/// The grams (`g`) of a kind's rows whose keys are the parameters `list`,
/// as a `FROM` clause and its condition, read through the index on (kind,
/// key) whatever the planner knows of the table. Without statistics (a
/// node filling its gram table by sync before anything analyses it), both
/// backends would rather read every gram of the kind and test each against
/// the list: SQLite in primary-key order, 0.29 s a statement for scale 1's
/// standards against 5 ms through the index; PostgreSQL, whose generic plan
/// tests a row against each parameter in turn, over 20 s against 32 ms.
fn keyed_grams(backend: DbBackend, searched: Searched, list: &str) -> (String, String) {
    let kind = searched.kind();
    match backend {
        // One index look-up per key: `OFFSET 0` keeps the lateral subquery
        // from being pulled up into a join, which could be hashed instead.
        DbBackend::Postgres => (
            format!(
                "unnest(ARRAY[{list}]) AS k(key) CROSS JOIN LATERAL \
                 (SELECT ctid, gram FROM text_gram WHERE kind = '{kind}' AND key = k.key OFFSET 0) AS g"
            ),
            "TRUE".to_owned(),
        ),
        _ => (
            "text_gram AS g INDEXED BY ix_text_gram_key".to_owned(),
            format!("g.kind = '{kind}' AND g.key IN ({list})"),
        ),
    }
}

/// Which grams of a kind [`count_grams`] counts.
#[derive(Clone, Copy)]
enum Counted<'a> {
    /// All of them.
    All,
    /// Those that a `FROM` clause and its condition read ([`keyed_grams`]).
    OfKeys(&'a str, &'a str),
}

/// Whether [`count_grams`] adds the grams it counts or takes them away.
#[derive(Clone, Copy)]
enum Sign {
    More,
    Less,
}

/// The statement that adds to (or takes from) `text_gram_count` how many of
/// the `counted` grams of a kind each gram has. Run before the grams it
/// counts are deleted, or after they are inserted, in the same transaction,
/// so the counts are always those of `text_gram`.
fn count_grams(searched: Searched, counted: Counted, sign: Sign) -> String {
    let kind = searched.kind();
    let sign = match sign {
        Sign::More => "",
        Sign::Less => "-",
    };
    let of_kind = format!("g.kind = '{kind}'");
    let (grams, filter) = match counted {
        Counted::All => ("text_gram AS g", of_kind.as_str()),
        Counted::OfKeys(grams, filter) => (grams, filter),
    };
    format!(
        "INSERT INTO text_gram_count (kind, gram, keys) \
         SELECT '{kind}', g.gram, {sign}COUNT(*) FROM {grams} WHERE {filter} GROUP BY g.gram \
         ON CONFLICT (kind, gram) DO UPDATE SET keys = text_gram_count.keys + excluded.keys"
    )
}

/// Cuts the grams of every row of a kind afresh, in one statement: for bulk
/// loads, and for a database that predates the index.
pub async fn rebuild<C: ConnectionTrait>(conn: &C, searched: Searched) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres {
        // For the rest of this transaction, the grams are sorted in memory
        // rather than in files (about 250 MB for scale 1's standards).
        conn.execute_unprepared("SET LOCAL work_mem = '256MB'")
            .await?;
        without_jit(conn).await?;
    }
    for table in ["text_gram", "text_gram_count"] {
        conn.execute_raw(Statement::from_string(
            backend,
            format!("DELETE FROM {table} WHERE kind = '{}'", searched.kind()),
        ))
        .await?;
    }
    conn.execute_raw(Statement::from_string(
        backend,
        insert_grams(backend, searched, ""),
    ))
    .await?;
    conn.execute_raw(Statement::from_string(
        backend,
        count_grams(searched, Counted::All, Sign::More),
    ))
    .await?;
    Ok(())
}

/// Keeps PostgreSQL from JIT-compiling the statements of the rest of the
/// transaction. Not knowing how many positions each text has, the planner
/// expects a gram insert to be huge and compiles it, which made inserting
/// the grams of 500 standards take 1.2 s instead of 0.6 s.
async fn without_jit<C: ConnectionTrait>(conn: &C) -> Result<(), StoreError> {
    conn.execute_unprepared("SET LOCAL jit = off").await?;
    Ok(())
}

/// Builds the index of a database whose rows were stored before it existed:
/// when the index is empty but some searched row exists. Called after the
/// migrations, so an upgraded database finds what it found before.
pub async fn build_if_missing(db: &DatabaseConnection) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let exists = |sql: &str| {
        let statement = Statement::from_string(backend, format!("SELECT 1 WHERE EXISTS ({sql})"));
        async move { Ok::<_, StoreError>(db.query_one_raw(statement).await?.is_some()) }
    };
    if exists("SELECT 1 FROM text_gram").await? {
        return Ok(());
    }
    if !exists("SELECT 1 FROM standard").await? && !exists("SELECT 1 FROM service_matter").await? {
        return Ok(());
    }
    let txn = db.begin().await?;
    rebuild(&txn, Searched::Standard).await?;
    rebuild(&txn, Searched::Matter).await?;
    txn.commit().await?;
    Ok(())
}

/// `count` bound parameters, as `backend` writes them.
fn placeholders(backend: DbBackend, count: usize) -> String {
    (1..=count)
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement that inserts the grams of the rows of `searched` (aliased
/// `r`) that `filter` keeps: each distinct character and pair of adjacent
/// characters of each searched column's `lower()`.
fn insert_grams(backend: DbBackend, searched: Searched, filter: &str) -> String {
    let [first, second, third] = searched.columns();
    let (kind, table, key) = (searched.kind(), searched.table(), searched.key());
    // One row per searched column of each row, lowered by the database.
    let source = format!(
        "SELECT r.{key} AS k, lower(CASE c.col WHEN 1 THEN r.{first} WHEN 2 THEN r.{second} \
         ELSE r.{third} END) AS t \
         FROM {table} AS r, (SELECT 1 AS col UNION ALL SELECT 2 UNION ALL SELECT 3) AS c {filter}"
    );
    let widths = "(SELECT 1 AS n UNION ALL SELECT 2) AS w";
    // The grams go in ordered by key, then gram: the index on (kind, key)
    // then grows at its end, and the primary key (kind, gram, key) at the
    // end of each gram's run, a few thousand pages that stay in the cache.
    // In any other order a bulk load inserts all over both trees, and once
    // they outgrow the cache most inserts read a page back: over a million
    // page reads for the 1.8 million grams of scale 1's standards on
    // PostgreSQL, against 54,000 in this order.
    match backend {
        // Sorted byte by byte (COLLATE "C"): the values stored are the
        // same, and so are the distinct ones, but sorting them under the
        // database's locale took four times as long (8.8 s against 2.0 s
        // for scale 1's standards, in psql). Where the locale orders
        // differently, each key's grams still arrive together.
        DbBackend::Postgres => format!(
            "INSERT INTO text_gram (kind, gram, key) \
             SELECT DISTINCT '{kind}', substr(s.t, i, w.n) COLLATE \"C\", s.k COLLATE \"C\" \
             FROM ({source}) AS s CROSS JOIN {widths} \
             CROSS JOIN LATERAL generate_series(1, length(s.t) - w.n + 1) AS i \
             ORDER BY 3, 2"
        ),
        // SQLite has no generate_series without an extension: the
        // positions come from a recursive query. The primary key drops a
        // repeated gram (every key's grams were deleted first), which
        // costs less than sorting for DISTINCT as well as for the order.
        _ => format!(
            "WITH RECURSIVE s(k, t) AS ({source}), \
             p(k, t, i) AS (SELECT k, t, 1 FROM s WHERE length(t) > 0 \
             UNION ALL SELECT k, t, i + 1 FROM p WHERE i < length(t)) \
             INSERT OR IGNORE INTO text_gram (kind, gram, key) \
             SELECT '{kind}', substr(p.t, p.i, w.n), p.k FROM p, {widths} \
             WHERE p.i + w.n - 1 <= length(p.t) ORDER BY 3, 2"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_caseless, term_grams};

    #[test]
    fn only_text_without_case_skips_folding() {
        for text in ["服务", "社会保障卡", "2024", "（试行）", "/ -2026", "、。"] {
            assert!(is_caseless(text), "{text}");
        }
        for text in ["db31/t", "Service", "服务 guide", "ｇｂ", "é", "\u{212A}"] {
            assert!(!is_caseless(text), "{text}");
        }
    }

    #[test]
    fn a_term_needs_its_character_or_all_its_pairs() {
        assert_eq!(term_grams("服"), ["服"]);
        assert_eq!(term_grams("服务"), ["服务"]);
        assert_eq!(term_grams("abab"), ["ab", "ba"]);
        assert_eq!(term_grams("%_"), ["%_"]);
        assert_eq!(term_grams("i\u{307}"), ["i\u{307}"]);
    }
}

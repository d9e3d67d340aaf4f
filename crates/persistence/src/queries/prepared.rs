//! A page's statement written so that PostgreSQL plans it once per
//! connection, not once per request.
//!
//! sqlx prepares each statement once per connection, and PostgreSQL then
//! chooses, on each execution, between a plan made for the values bound
//! ("custom") and one made for any values ("generic"), which it keeps. It
//! keeps the generic plan only when that plan is priced no higher than the
//! custom ones. A `LIMIT` bound as a parameter defeats that: without its
//! value, the generic plan is priced as if the limit kept a tenth of the
//! rows. The zone page's statement, four arms each limited to 21 of a
//! region's 500 guides, was priced at 263 generic against 111 custom, so
//! PostgreSQL planned it afresh on every request: 45 % of PostgreSQL's CPU
//! on that page went to planning. With the limit written into the SQL as a
//! number, both plans are priced alike and the generic one is kept after
//! the fifth execution.
//!
//! The cost is one prepared statement per distinct page size, which a
//! request cannot choose beyond a hundred.
//!
//! For the same reason the values the code fixes, such as the status a
//! reader may see or the kind of row searched, are written in as
//! [`constant`]s; only what a request chooses is bound.

use std::fmt::{self, Write};

use sea_orm::sea_query::{
    Expr, PostgresQueryBuilder, QueryBuilder, SelectStatement, SqlWriter, SqliteQueryBuilder,
    Value, Values,
};
use sea_orm::{DbBackend, Statement};

/// `query` for `backend`, with every unsigned integer written into the
/// SQL as a number and every other value bound. sea-query binds a
/// `LIMIT` (and an `OFFSET`) as an unsigned integer, and the columns these
/// statements compare are text or signed, so in practice this writes the
/// limit in and binds the rest as [`DbBackend::build`] does.
pub(super) fn statement(backend: DbBackend, query: &SelectStatement) -> Statement {
    let mut written = Written::default();
    match backend {
        DbBackend::Postgres => query.build_collect_any_into(&PostgresQueryBuilder, &mut written),
        DbBackend::Sqlite => query.build_collect_any_into(&SqliteQueryBuilder, &mut written),
        // Concord stores nothing elsewhere; any other backend binds as usual.
        _ => return backend.build(query),
    }
    Statement::from_sql_and_values(backend, written.sql, Values(written.values))
}

/// `value`, one the code fixes rather than one a request chooses, written
/// into the SQL.
///
/// Bound, PostgreSQL's plan for any values cannot know it. A standards
/// search shows what that costs: `status <> $1`, on a column with one
/// distinct value, was estimated to keep one row, so the plan for any
/// values read every standard (132 ms where the plan for the values at hand
/// took 0.8), and PostgreSQL planned the search afresh on every request,
/// 1 ms each. Written in, the plan for any values is the good one and is
/// kept. Only for fixed values: each distinct SQL text is prepared apart.
pub(crate) fn constant(value: impl Into<Value>) -> Expr {
    Expr::Constant(value.into())
}

/// SQL being written, and the values bound so far.
#[derive(Default)]
struct Written {
    sql: String,
    values: Vec<Value>,
}

impl Write for Written {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.sql.push_str(text);
        Ok(())
    }
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

impl SqlWriter for Written {
    fn push_param<T: QueryBuilder>(&mut self, value: Value, query_builder: &T) {
        match value {
            Value::BigUnsigned(Some(number)) => {
                let _ = write!(self.sql, "{number}");
            }
            Value::Unsigned(Some(number)) => {
                let _ = write!(self.sql, "{number}");
            }
            value => {
                let (placeholder, numbered) = query_builder.placeholder();
                self.sql.push_str(placeholder);
                self.values.push(value);
                if numbered {
                    let _ = write!(self.sql, "{}", self.values.len());
                }
            }
        }
    }

    fn as_writer(&mut self) -> &mut dyn Write {
        self
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, UnionType};

    use super::*;

    /// Two limited arms of a union, as a nested page builds them.
    fn union() -> SelectStatement {
        let arm = |owner: &str| {
            let limited = Query::select()
                .column(Asterisk)
                .from(Alias::new("service_guide"))
                .and_where(Expr::col(Alias::new("region_code")).eq(owner))
                .limit(21)
                .to_owned();
            Query::select()
                .column(Asterisk)
                .from_subquery(limited, Alias::new("arm"))
                .to_owned()
        };
        let mut union = arm("310000");
        union.union(UnionType::All, arm("320000"));
        union
    }

    #[test]
    fn limits_are_written_in_and_every_other_value_is_bound_in_order() {
        let built = statement(DbBackend::Postgres, &union());
        assert!(built.sql.contains("LIMIT 21"), "{}", built.sql);
        assert!(!built.sql.contains("$3"), "{}", built.sql);
        let bound = built.values.expect("two values are bound").0;
        assert_eq!(bound, vec![Value::from("310000"), Value::from("320000")]);
        // The rest of the SQL is what sea-orm would have built.
        let bound_limits = DbBackend::Postgres.build(&union());
        assert_eq!(
            built.sql,
            bound_limits
                .sql
                .replace("$2", "21")
                .replace("$3", "$2")
                .replace("$4", "21")
        );

        let sqlite = statement(DbBackend::Sqlite, &union());
        assert_eq!(sqlite.sql.matches('?').count(), 2, "{}", sqlite.sql);
        assert_eq!(sqlite.sql.matches("LIMIT 21").count(), 2, "{}", sqlite.sql);
    }
}

//! A transaction's queued PostgreSQL writes sent as one statement.
//!
//! PostgreSQL's protocol takes one statement with parameters per request, and a
//! login's transaction queues three to six writes whose results it does not read
//! (`WriteTxn::defer`): one after the other they cost a round trip each, and most of
//! PostgreSQL's CPU per write is that request's own handling. Written as the
//! data-modifying `WITH` parts of one statement they are one request. The parts run
//! against one snapshot — none sees another's rows — and foreign keys are checked
//! when the whole statement ends, so a row may reference one an earlier part inserts.

use std::fmt::Write as _;

use sea_orm::{DbBackend, Statement};

/// PostgreSQL's limit on one statement's parameters (its protocol counts them in 16
/// bits).
const MAX_PARAMETERS: usize = 65_535;

/// A queued write.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub(crate) statement: Statement,
    /// PostgreSQL only: the write must change a row (it ends with `RETURNING`), or the
    /// statement it is sent in fails with this message (`fedgate_expect`, SQLSTATE
    /// 40001) and writes nothing.
    pub(crate) expected: Option<&'static str>,
}

impl Queued {
    pub(crate) fn write(statement: Statement) -> Self {
        Self {
            statement,
            expected: None,
        }
    }

    /// The statement, sent as it is on SQLite (where nothing queues an expected row).
    pub(crate) fn into_sqlite(self) -> Statement {
        debug_assert!(self.expected.is_none(), "an expected row on SQLite");
        self.statement
    }
}

/// `statements` as few statements as PostgreSQL's parameter limit allows, in order.
pub(crate) fn postgres_batches(statements: Vec<Queued>) -> Vec<Statement> {
    let mut groups: Vec<Vec<Queued>> = Vec::new();
    let mut counted = 0;
    for s in statements {
        let n = parameters(&s);
        match groups.last_mut() {
            Some(group) if counted + n <= MAX_PARAMETERS => group.push(s),
            _ => {
                counted = 0;
                groups.push(vec![s]);
            }
        }
        counted += n;
    }
    groups.into_iter().map(joined).collect()
}

/// A write's parameters, and the message of its expected row if it has one.
fn parameters(q: &Queued) -> usize {
    q.statement.values.as_ref().map_or(0, |v| v.0.len()) + usize::from(q.expected.is_some())
}

/// One statement for a group of writes: `WITH w0 AS (first), w1 AS (second) last`,
/// each write's `$n` parameters numbered after the ones before it. When some must
/// change a row, every write is a `WITH` part and the statement ends by asking
/// `fedgate_expect` whether each of those returned one: `SELECT fedgate_expect(EXISTS
/// (SELECT 1 FROM w0), $n) AND …`.
fn joined(mut group: Vec<Queued>) -> Statement {
    let expecting = group.iter().any(|q| q.expected.is_some());
    if group.len() == 1 && !expecting {
        return group.remove(0).statement;
    }
    let parts = if expecting {
        group.len()
    } else {
        group.len() - 1
    };
    let mut sql = String::with_capacity(group.iter().map(|q| q.statement.sql.len() + 16).sum());
    let mut values = Vec::with_capacity(group.iter().map(parameters).sum());
    let mut expected = Vec::new();
    for (i, q) in group.into_iter().enumerate() {
        match i {
            0 => sql.push_str("WITH w0 AS ("),
            i if i == parts => sql.push_str(") "),
            i => {
                let _ = write!(sql, "), w{i} AS (");
            }
        }
        renumber(&q.statement.sql, values.len(), &mut sql);
        values.extend(q.statement.values.map(|v| v.0).unwrap_or_default());
        if let Some(what) = q.expected {
            expected.push((i, what));
        }
    }
    if expecting {
        sql.push_str(") SELECT ");
        for (n, (i, what)) in expected.into_iter().enumerate() {
            values.push(what.into());
            let and = if n == 0 { "" } else { " AND " };
            let _ = write!(
                sql,
                "{and}fedgate_expect(EXISTS (SELECT 1 FROM w{i}), ${})",
                values.len()
            );
        }
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Appends `sql` to `out` with each parameter `$n` written `$(n + by)`. Outside quotes
/// a `$` followed by a digit is always a parameter in PostgreSQL (a dollar-quote's tag
/// cannot start with a digit); inside `'…'` and `"…"` nothing is changed (a doubled
/// quote closes and reopens, which leaves the text as it was).
fn renumber(sql: &str, by: usize, out: &mut String) {
    let mut quote = None;
    let mut chars = sql.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' => {
                let digits = &sql[i + 1..];
                let digits = &digits[..digits.bytes().take_while(u8::is_ascii_digit).count()];
                if let Ok(n) = digits.parse::<usize>() {
                    let _ = write!(out, "${}", n + by);
                    // Past the digits just written (ASCII, one char each).
                    chars.nth(digits.len() - 1);
                    continue;
                }
            }
            None => {}
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Value;

    use super::*;

    fn statement(sql: &str, values: Vec<Value>) -> Queued {
        Queued::write(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
    }

    #[test]
    fn parameters_are_numbered_after_the_earlier_writes() {
        let batches = postgres_batches(vec![
            statement(
                r#"UPDATE "t" SET "a" = $1 WHERE "id" = $2"#,
                vec![1.into(), 2.into()],
            ),
            statement(r#"INSERT INTO "u" ("x") VALUES ($1)"#, vec![3.into()]),
            statement(
                r#"INSERT INTO "v" ("y", "z") VALUES ($1, $2), ($3, $4)"#,
                vec![4.into(), 5.into(), 6.into(), 7.into()],
            ),
        ]);
        assert_eq!(batches.len(), 1);
        assert_eq!(
            batches[0].sql,
            r#"WITH w0 AS (UPDATE "t" SET "a" = $1 WHERE "id" = $2), w1 AS (INSERT INTO "u" ("x") VALUES ($3)) INSERT INTO "v" ("y", "z") VALUES ($4, $5), ($6, $7)"#
        );
        let values = batches[0].values.as_ref().map(|v| v.0.clone());
        assert_eq!(values, Some((1..=7).map(Value::from).collect()));
    }

    #[test]
    fn quoted_text_and_multi_digit_parameters_are_kept_apart() {
        let mut out = String::new();
        renumber(
            r#"SELECT '$1 it''s', "col$2", $10, $9::text FROM "t""#,
            5,
            &mut out,
        );
        assert_eq!(
            out,
            r#"SELECT '$1 it''s', "col$2", $15, $14::text FROM "t""#
        );
    }

    #[test]
    fn one_write_is_sent_as_it_is() {
        let one = statement(r#"DELETE FROM "t" WHERE "id" = $1"#, vec![1.into()]);
        let batches = postgres_batches(vec![one.clone()]);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].sql, one.statement.sql);
    }

    #[test]
    fn writes_expecting_a_row_are_checked_by_the_statement_s_last_part() {
        let mut guarded = statement(
            r#"UPDATE "t" SET "a" = $1 WHERE "id" = $2 AND "a" = $3 RETURNING "id""#,
            vec![1.into(), 2.into(), 0.into()],
        );
        guarded.expected = Some("t changed");
        let batches = postgres_batches(vec![
            guarded.clone(),
            statement(r#"INSERT INTO "u" ("x") VALUES ($1)"#, vec![3.into()]),
        ]);
        assert_eq!(
            batches[0].sql,
            r#"WITH w0 AS (UPDATE "t" SET "a" = $1 WHERE "id" = $2 AND "a" = $3 RETURNING "id"), w1 AS (INSERT INTO "u" ("x") VALUES ($4)) SELECT fedgate_expect(EXISTS (SELECT 1 FROM w0), $5)"#
        );
        let values = batches[0].values.as_ref().map(|v| v.0.clone());
        assert_eq!(
            values,
            Some(vec![
                1.into(),
                2.into(),
                0.into(),
                3.into(),
                "t changed".into()
            ])
        );
        // Alone, it is still checked.
        let alone = postgres_batches(vec![guarded]);
        assert_eq!(
            alone[0].sql,
            r#"WITH w0 AS (UPDATE "t" SET "a" = $1 WHERE "id" = $2 AND "a" = $3 RETURNING "id") SELECT fedgate_expect(EXISTS (SELECT 1 FROM w0), $4)"#
        );
    }

    #[test]
    fn writes_past_the_parameter_limit_start_another_statement() {
        let wide = |n: usize| {
            statement(
                r#"INSERT INTO "t" ("x") VALUES ($1)"#,
                (0..n).map(|i| Value::from(i as i64)).collect(),
            )
        };
        let batches = postgres_batches(vec![wide(40_000), wide(20_000), wide(10_000)]);
        let sizes: Vec<usize> = batches
            .iter()
            .map(|b| b.values.as_ref().map_or(0, |v| v.0.len()))
            .collect();
        assert_eq!(sizes, vec![60_000, 10_000]);
        assert!(batches[1].sql.starts_with("INSERT"));
    }
}

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

/// `statements` as few statements as PostgreSQL's parameter limit allows, in order.
pub(crate) fn postgres_batches(statements: Vec<Statement>) -> Vec<Statement> {
    let mut groups: Vec<Vec<Statement>> = Vec::new();
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

fn parameters(s: &Statement) -> usize {
    s.values.as_ref().map_or(0, |v| v.0.len())
}

/// One statement for a group of writes: `WITH w0 AS (first), w1 AS (second) last`,
/// each write's `$n` parameters numbered after the ones before it.
fn joined(mut group: Vec<Statement>) -> Statement {
    if group.len() == 1 {
        return group.remove(0);
    }
    let last = group.len() - 1;
    let mut sql = String::with_capacity(group.iter().map(|s| s.sql.len() + 16).sum());
    let mut values = Vec::with_capacity(group.iter().map(parameters).sum());
    for (i, s) in group.into_iter().enumerate() {
        match i {
            0 => sql.push_str("WITH w0 AS ("),
            i if i == last => sql.push_str(") "),
            i => {
                let _ = write!(sql, "), w{i} AS (");
            }
        }
        renumber(&s.sql, values.len(), &mut sql);
        values.extend(s.values.map(|v| v.0).unwrap_or_default());
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

    fn statement(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
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
        assert_eq!(batches[0].sql, one.sql);
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
        let sizes: Vec<usize> = batches.iter().map(parameters).collect();
        assert_eq!(sizes, vec![60_000, 10_000]);
        assert!(batches[1].sql.starts_with("INSERT"));
    }
}

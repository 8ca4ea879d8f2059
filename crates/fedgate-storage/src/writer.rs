//! SQLite's write transactions, run on the thread that asks for them.
//!
//! sqlx runs every SQLite connection on a thread of its own: each statement, `BEGIN`
//! and `COMMIT` is a message to that thread and an answer back, two thread hand-offs
//! for a few microseconds of SQLite's work, and the pool pings a connection whenever
//! it goes back. A login's transaction made five such round trips. Here the write
//! transactions of this process run on one connection of their own, opened with
//! rusqlite, directly on the calling thread, while their turn (the async mutex in
//! `SeaStore`) keeps them one at a time. A statement takes microseconds; the cost is
//! that a write waiting for another *process's* write lock (the busy timeout) waits
//! on the calling thread.
//!
//! The repositories keep writing sea-orm queries: [`WriterTxn`] is a sea-orm
//! `ConnectionTrait` that binds each statement's values the way sqlx encodes them on
//! SQLite (so the readers, still on sqlx, read the same bytes) and hands rows back as
//! sea-orm rows, each value typed by its column's declared type.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use rusqlite::config::DbConfig;
use rusqlite::types::{ToSql, ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::Value;
use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, MockDatabase, MockExecResult, QueryResult,
    RuntimeErr, Statement,
};
use uuid::Uuid;

/// Prepared statements the writer keeps, the least recently used dropped first: the
/// hot paths' statements stay parsed beside multi-row inserts of many lengths.
const STATEMENT_CACHE: usize = 128;

/// Opens the writer's connection to the existing file at `path`.
///
/// With the query planner stability guarantee (QPSG) a statement's plan never depends
/// on the values bound to it. Without it SQLite marks a statement whose plan *could*
/// depend on a value — every `LIMIT ?`, which sea-orm writes for each `.one()` — and
/// re-parses and re-plans it whenever that parameter is bound again, that is, on every
/// run: a kept statement was prepared anew each time (5 % of a new login's CPU, most
/// of its locator look-up).
fn connect(path: &Path, busy: Duration, cache_kib: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA foreign_keys = ON; PRAGMA mmap_size = 0; PRAGMA cache_size = {cache_kib};"
    ))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// The connection every write transaction of this process runs on.
#[derive(Debug)]
pub(crate) struct WriterConnection(Mutex<Connection>);

impl WriterConnection {
    /// Opens the existing database file at `path` with the service's settings: WAL,
    /// `synchronous = NORMAL`, a busy timeout, foreign keys, plans that do not depend
    /// on bound values, and a page cache of `cache_kib` that it keeps (no memory map: a
    /// map nothing drops would count every page ever touched as this process's memory).
    pub(crate) fn open(path: &Path, busy: Duration, cache_kib: &str) -> Result<Self, DbErr> {
        connect(path, busy, cache_kib)
            .map(|c| Self(Mutex::new(c)))
            .map_err(|e| {
                DbErr::Conn(RuntimeErr::Internal(format!(
                    "sqlite writer {}: {e}",
                    path.display()
                )))
            })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a statement leaves nothing half-done in the connection that a
        // later `ROLLBACK` would not undo.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `BEGIN IMMEDIATE`, `COMMIT` or `ROLLBACK` as a kept statement, parsed once.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// One write transaction on the writer's connection: `BEGIN IMMEDIATE` when made,
/// `COMMIT` by [`WriterTxn::commit`], `ROLLBACK` when dropped uncommitted. The caller
/// holds the writer's turn for as long as it lives.
#[derive(Debug)]
pub(crate) struct WriterTxn {
    conn: Arc<WriterConnection>,
    open: bool,
}

impl WriterTxn {
    /// Takes SQLite's write lock at once (the busy timeout waits for another process's
    /// writer there): a deferred transaction that read first would be refused when it
    /// then wrote.
    pub(crate) fn begin(conn: Arc<WriterConnection>) -> Result<Self, DbErr> {
        {
            let c = conn.lock();
            // A transaction that a failed `ROLLBACK` left open is undone first, so the
            // writer cannot stay stuck refusing every `BEGIN`.
            if !c.is_autocommit() {
                control(&c, "ROLLBACK").map_err(|e| exec_err(&e))?;
            }
            control(&c, "BEGIN IMMEDIATE").map_err(|e| exec_err(&e))?;
        }
        Ok(Self { conn, open: true })
    }

    pub(crate) fn commit(mut self) -> Result<(), DbErr> {
        // A failed COMMIT leaves the transaction open; dropping `self` rolls it back.
        control(&self.conn.lock(), "COMMIT").map_err(|e| exec_err(&e))?;
        self.open = false;
        Ok(())
    }

    /// Runs `stmt` to its end; `rows` gets each row it returns. `fail` tells what a
    /// failure of SQLite's was (an execution or a query).
    fn run(
        &self,
        stmt: &Statement,
        fail: fn(&rusqlite::Error) -> DbErr,
        mut rows: impl FnMut(&rusqlite::Row<'_>, &[Column]) -> Result<(), DbErr>,
    ) -> Result<MockExecResult, DbErr> {
        let conn = self.conn.lock();
        let mut prepared = conn.prepare_cached(&stmt.sql).map_err(|e| fail(&e))?;
        let columns: Vec<Column> = prepared
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_owned(),
                kind: Kind::of(c.decl_type()),
            })
            .collect();
        let values = stmt.values.as_ref().map_or(&[][..], |v| v.0.as_slice());
        let mut result = prepared
            .query(rusqlite::params_from_iter(values.iter().map(Param)))
            .map_err(|e| fail(&e))?;
        while let Some(row) = result.next().map_err(|e| fail(&e))? {
            rows(row, &columns)?;
        }
        drop(result);
        drop(prepared);
        Ok(outcome(&conn))
    }

    async fn query(&self, stmt: &Statement, limit: usize) -> Result<Vec<QueryResult>, DbErr> {
        let mut rows = Vec::new();
        self.run(stmt, query_err, |row, columns| {
            if rows.len() < limit {
                rows.push(row_values(row, columns)?);
            }
            Ok(())
        })?;
        handed_over(MockDatabase::new(DbBackend::Sqlite).append_query_results([rows]))
            .query_all_raw(nothing())
            .await
    }
}

impl Drop for WriterTxn {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: should the `ROLLBACK` fail, the next `begin` sees
            // the transaction still open and rolls it back then.
            let _ = control(&self.conn.lock(), "ROLLBACK");
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriterTxn {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let done = self.run(&stmt, exec_err, |_, _| Ok(()))?;
        executed(done).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let done = {
            let conn = self.conn.lock();
            conn.execute_batch(sql).map_err(|e| exec_err(&e))?;
            outcome(&conn)
        };
        executed(done).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query(&stmt, 1).await?.pop())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.query(&stmt, usize::MAX).await
    }
}

// sea-orm 2.0.4 makes its rows and execution results only inside its own drivers.
// The two containers it offers for values read elsewhere are its proxy rows, which do
// not compile beside its sqlx-sqlite driver in this release, and its mock database,
// which hands back, once, the rows it is given. Here the mock database carries the
// writer's real rows and counts to sea-orm and nothing else: a throwaway one per
// statement, asked an empty statement (so it copies no SQL into its log), answering
// with what SQLite returned.

/// A connection that answers its one request with what `db` holds.
fn handed_over(db: MockDatabase) -> sea_orm::DatabaseConnection {
    db.into_connection()
}

/// The statement a carrier is asked, unread by it.
fn nothing() -> Statement {
    Statement::from_string(DbBackend::Sqlite, String::new())
}

async fn executed(done: MockExecResult) -> Result<ExecResult, DbErr> {
    handed_over(MockDatabase::new(DbBackend::Sqlite).append_exec_results([done]))
        .execute_raw(nothing())
        .await
}

/// What the connection's last statement did: its last inserted row id and the rows it
/// changed.
fn outcome(conn: &Connection) -> MockExecResult {
    MockExecResult {
        last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or(0),
        rows_affected: conn.changes(),
    }
}

/// A result column: its name and what its declared type makes of its values.
struct Column {
    name: String,
    kind: Kind,
}

/// The sea-orm value a column's declared type asks for. sea-query declares
/// `uuid_text`, `timestamp_with_timezone_text`, `boolean`, `integer`, `text`,
/// `varchar(n)`, `blob`, `json_text`; an expression (`COUNT(*)`) declares nothing and
/// is taken by what SQLite holds.
#[derive(Clone, Copy)]
enum Kind {
    Uuid,
    Timestamp,
    Bool,
    /// sea-query declares 32- and 64-bit integers alike: a value that fits 32 bits
    /// comes back as one (Fedgate's integer columns are all 32-bit).
    Int,
    Real,
    Json,
    Bytes,
    Text,
    Undeclared,
}

impl Kind {
    fn of(declared: Option<&str>) -> Self {
        let Some(declared) = declared else {
            return Self::Undeclared;
        };
        let d = declared.to_ascii_lowercase();
        if d.contains("uuid") {
            Self::Uuid
        } else if d.contains("timestamp") || d.contains("datetime") {
            Self::Timestamp
        } else if d.starts_with("bool") {
            Self::Bool
        } else if d.contains("int") {
            Self::Int
        } else if d.contains("real") || d.contains("double") || d.contains("float") {
            Self::Real
        } else if d.contains("json") {
            Self::Json
        } else if d.contains("blob") || d.contains("binary") {
            Self::Bytes
        } else {
            Self::Text
        }
    }
}

fn row_values(
    row: &rusqlite::Row<'_>,
    columns: &[Column],
) -> Result<BTreeMap<String, Value>, DbErr> {
    let mut values = BTreeMap::new();
    for (i, c) in columns.iter().enumerate() {
        let raw = row.get_ref(i).map_err(|e| query_err(&e))?;
        let value =
            decode(c.kind, raw).map_err(|why| DbErr::Type(format!("column {}: {why}", c.name)))?;
        values.insert(c.name.clone(), value);
    }
    Ok(values)
}

fn decode(kind: Kind, raw: ValueRef<'_>) -> Result<Value, String> {
    let text = |t: &[u8]| {
        std::str::from_utf8(t)
            .map(str::to_owned)
            .map_err(|e| e.to_string())
    };
    Ok(match (kind, raw) {
        (Kind::Uuid, ValueRef::Null) => Value::Uuid(None),
        (Kind::Uuid, ValueRef::Blob(b)) => {
            Value::Uuid(Some(Uuid::from_slice(b).map_err(|e| e.to_string())?))
        }
        (Kind::Uuid, ValueRef::Text(t)) => {
            Value::Uuid(Some(Uuid::parse_str(&text(t)?).map_err(|e| e.to_string())?))
        }
        (Kind::Timestamp, ValueRef::Null) => Value::ChronoDateTimeUtc(None),
        (Kind::Timestamp, ValueRef::Text(t)) => Value::ChronoDateTimeUtc(Some(
            timestamp(&text(t)?).ok_or_else(|| "not a timestamp".to_owned())?,
        )),
        (Kind::Timestamp, ValueRef::Integer(secs)) => Value::ChronoDateTimeUtc(Some(
            Utc.timestamp_opt(secs, 0)
                .single()
                .ok_or_else(|| "timestamp out of range".to_owned())?,
        )),
        (Kind::Bool, ValueRef::Null) => Value::Bool(None),
        (Kind::Bool, ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
        (Kind::Int, ValueRef::Null) => Value::Int(None),
        (Kind::Int, ValueRef::Integer(i)) => match i32::try_from(i) {
            Ok(small) => Value::Int(Some(small)),
            Err(_) => Value::BigInt(Some(i)),
        },
        (Kind::Real, ValueRef::Null) => Value::Double(None),
        (Kind::Json, ValueRef::Null) => Value::Json(None),
        (Kind::Json, ValueRef::Text(t)) => Value::Json(Some(Box::new(
            serde_json::from_slice(t).map_err(|e| e.to_string())?,
        ))),
        (Kind::Bytes, ValueRef::Null) => Value::Bytes(None),
        (Kind::Bytes, ValueRef::Blob(b) | ValueRef::Text(b)) => Value::Bytes(Some(b.to_vec())),
        (Kind::Text, ValueRef::Null) => Value::String(None),
        (Kind::Text | Kind::Undeclared, ValueRef::Text(t)) => Value::String(Some(text(t)?)),
        (Kind::Text, ValueRef::Integer(i)) => Value::String(Some(i.to_string())),
        (Kind::Text, ValueRef::Real(f)) => Value::String(Some(f.to_string())),
        (Kind::Real | Kind::Undeclared, ValueRef::Real(f)) => Value::Double(Some(f)),
        (Kind::Real, ValueRef::Integer(i)) => Value::Double(Some(i as f64)),
        (Kind::Undeclared, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
        (Kind::Undeclared, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
        // An undeclared NULL has no type to be; sea-orm reads any mismatch as NULL.
        (Kind::Undeclared, ValueRef::Null) => Value::String(None),
        (_, other) => return Err(format!("unexpected {:?} value", other.data_type())),
    })
}

/// A timestamp as sqlx stores one on SQLite (RFC 3339), or in SQLite's own
/// `YYYY-MM-DD HH:MM:SS[.fff]` form.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%F %T%.f", "%FT%T%.f", "%F %R"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| Utc.from_utc_datetime(&t))
}

/// A statement's value, bound as sqlx binds it on SQLite: UUIDs as 16-byte blobs,
/// timestamps as RFC 3339 text, booleans as integers.
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        fn owned<T>(v: Option<T>, f: impl FnOnce(T) -> SqlValue) -> ToSqlOutput<'static> {
            ToSqlOutput::Owned(v.map_or(SqlValue::Null, f))
        }
        let int = SqlValue::Integer;
        Ok(match self.0 {
            Value::Bool(v) => owned(*v, |b| int(i64::from(b))),
            Value::TinyInt(v) => owned(*v, |i| int(i64::from(i))),
            Value::SmallInt(v) => owned(*v, |i| int(i64::from(i))),
            Value::Int(v) => owned(*v, |i| int(i64::from(i))),
            Value::BigInt(v) => owned(*v, int),
            Value::TinyUnsigned(v) => owned(*v, |i| int(i64::from(i))),
            Value::SmallUnsigned(v) => owned(*v, |i| int(i64::from(i))),
            Value::Unsigned(v) => owned(*v, |i| int(i64::from(i))),
            Value::BigUnsigned(Some(i)) => {
                let i = i64::try_from(*i)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
                ToSqlOutput::Owned(int(i))
            }
            Value::BigUnsigned(None) => ToSqlOutput::Owned(SqlValue::Null),
            Value::Float(v) => owned(*v, |f| SqlValue::Real(f64::from(f))),
            Value::Double(v) => owned(*v, SqlValue::Real),
            Value::String(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Char(v) => owned(*v, |c| SqlValue::Text(c.to_string())),
            Value::Bytes(Some(b)) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Uuid(Some(u)) => ToSqlOutput::Borrowed(ValueRef::Blob(u.as_bytes())),
            Value::ChronoDateTimeUtc(v) => owned(*v, |t| {
                SqlValue::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
            }),
            Value::Json(Some(j)) => ToSqlOutput::Owned(SqlValue::Text(j.to_string())),
            Value::String(None) | Value::Bytes(None) | Value::Uuid(None) | Value::Json(None) => {
                ToSqlOutput::Owned(SqlValue::Null)
            }
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("no SQLite binding for {other:?}").into(),
                ));
            }
        })
    }
}

/// SQLite's own failure, as a sqlx database error: the repositories tell a unique-key
/// violation from other failures the same way on every path.
#[derive(Debug)]
struct SqliteFailure {
    /// SQLite's extended result code.
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for SqliteFailure {}

impl DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            rusqlite::ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            rusqlite::ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

fn runtime_err(e: &rusqlite::Error) -> RuntimeErr {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => RuntimeErr::SqlxError(Arc::new(
            sea_orm::sqlx::Error::Database(Box::new(SqliteFailure {
                code: failure.extended_code,
                message: message.clone().unwrap_or_else(|| failure.to_string()),
            })),
        )),
        other => RuntimeErr::Internal(format!("sqlite: {other}")),
    }
}

fn exec_err(e: &rusqlite::Error) -> DbErr {
    DbErr::Exec(runtime_err(e))
}

fn query_err(e: &rusqlite::Error) -> DbErr {
    DbErr::Query(runtime_err(e))
}

#[cfg(test)]
mod tests {
    use super::{WriterConnection, WriterTxn};
    use crate::unique_violation;
    use chrono::{TimeZone, Utc};
    use rusqlite::StatementStatus;
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait,
        QueryFilter, QueryOrder, QuerySelect, QueryTrait, Schema,
    };
    use std::sync::Arc;
    use std::time::Duration;

    mod sample {
        use sea_orm::entity::prelude::*;

        /// One column of each type Fedgate's entities use, nullable and not.
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "samples")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub name: String,
            pub note: Option<String>,
            pub flag: bool,
            pub count: i32,
            pub maybe_count: Option<i32>,
            pub bytes: Vec<u8>,
            pub maybe_bytes: Option<Vec<u8>>,
            pub at: DateTimeUtc,
            pub maybe_at: Option<DateTimeUtc>,
            pub other: Option<Uuid>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    fn full(n: u8) -> sample::Model {
        sample::Model {
            id: uuid::Uuid::from_bytes([n; 16]),
            name: format!("name {n} — ünïcode"),
            note: Some("a note".into()),
            flag: true,
            count: -7,
            maybe_count: Some(i32::MAX),
            bytes: vec![0, 1, 2, 255],
            maybe_bytes: Some(vec![9; 40]),
            at: Utc.timestamp_opt(1_800_000_000, 123_456_789).unwrap(),
            maybe_at: Some(Utc.timestamp_opt(1_700_000_000, 0).unwrap()),
            other: Some(uuid::Uuid::from_bytes([n ^ 0xff; 16])),
        }
    }

    fn sparse(n: u8) -> sample::Model {
        sample::Model {
            note: None,
            flag: false,
            maybe_count: None,
            bytes: Vec::new(),
            maybe_bytes: None,
            maybe_at: None,
            other: None,
            ..full(n)
        }
    }

    /// What the writer writes, sqlx's pool reads back unchanged, and the other way
    /// round; uniqueness violations are recognised; a dropped transaction is undone.
    /// Whether the writer's next transaction, begun and committed here, finds no row
    /// `id`.
    async fn absent(writer: &Arc<WriterConnection>, id: uuid::Uuid) -> bool {
        let txn = WriterTxn::begin(Arc::clone(writer)).unwrap();
        let found = sample::Entity::find_by_id(id).one(&txn).await.unwrap();
        txn.commit().unwrap();
        found.is_none()
    }

    /// A database file with the samples table, sqlx's pool on it and the writer.
    async fn sample_database() -> (
        tempfile::TempDir,
        sea_orm::DatabaseConnection,
        Arc<WriterConnection>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.sqlite3");
        let pool = Database::connect(format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
        let schema = Schema::new(sea_orm::DbBackend::Sqlite);
        pool.execute(&schema.create_table_from_entity(sample::Entity))
            .await
            .unwrap();
        let writer =
            Arc::new(WriterConnection::open(&file, Duration::from_secs(1), "-2000").unwrap());
        (dir, pool, writer)
    }

    #[tokio::test]
    async fn the_writer_and_the_pool_read_each_others_rows() {
        let (_dir, pool, writer) = sample_database().await;

        let txn = WriterTxn::begin(Arc::clone(&writer)).unwrap();
        // Inserted with RETURNING, then read back in the same transaction.
        let returned = sample::ActiveModel::from(full(1))
            .insert(&txn)
            .await
            .unwrap();
        assert_eq!(returned, full(1));
        sample::Entity::insert(sample::ActiveModel::from(sparse(2)))
            .exec(&txn)
            .await
            .unwrap();
        let found = sample::Entity::find_by_id(sparse(2).id)
            .one(&txn)
            .await
            .unwrap();
        assert_eq!(found, Some(sparse(2)));
        assert_eq!(sample::Entity::find().count(&txn).await.unwrap(), 2);
        // Not visible to the pool before the commit.
        assert_eq!(sample::Entity::find().count(&pool).await.unwrap(), 0);
        txn.commit().unwrap();

        let all = sample::Entity::find()
            .order_by_asc(sample::Column::Name)
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(all, vec![full(1), sparse(2)]);

        // A row the pool wrote reads the same through the writer.
        sample::ActiveModel::from(full(3))
            .insert(&pool)
            .await
            .unwrap();
        let txn = WriterTxn::begin(Arc::clone(&writer)).unwrap();
        let found = sample::Entity::find_by_id(full(3).id)
            .one(&txn)
            .await
            .unwrap();
        assert_eq!(found, Some(full(3)));

        // The primary key taken: a uniqueness violation, told as one.
        let err = sample::ActiveModel::from(sparse(1))
            .insert(&txn)
            .await
            .unwrap_err();
        assert!(unique_violation(&err).is_some(), "{err:?}");

        // Dropped without a commit: undone, and the writer free for the next.
        sample::ActiveModel::from(full(4))
            .insert(&txn)
            .await
            .unwrap();
        drop(txn);
        assert_eq!(sample::Entity::find().count(&pool).await.unwrap(), 3);
        assert!(absent(&writer, full(4).id).await);

        // A transaction left open (as a failed ROLLBACK would leave it) is undone by
        // the next one's begin instead of refusing it.
        let stuck = WriterTxn::begin(Arc::clone(&writer)).unwrap();
        sample::ActiveModel::from(full(5))
            .insert(&stuck)
            .await
            .unwrap();
        std::mem::forget(stuck);
        assert!(absent(&writer, full(5).id).await);
        assert_eq!(sample::Entity::find().count(&pool).await.unwrap(), 3);
    }

    /// A kept statement is parsed once: `.one()`'s `LIMIT ?`, bound anew on each run,
    /// does not make SQLite prepare it again (its own counter says so).
    #[tokio::test]
    async fn kept_statements_are_not_prepared_again() {
        let (_dir, _pool, writer) = sample_database().await;
        let find = sample::Entity::find().filter(sample::Column::Name.eq(full(1).name));
        let sql = find.clone().limit(1).build(sea_orm::DbBackend::Sqlite).sql;

        let txn = WriterTxn::begin(Arc::clone(&writer)).unwrap();
        sample::ActiveModel::from(full(1))
            .insert(&txn)
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(find.clone().one(&txn).await.unwrap(), Some(full(1)));
        }
        txn.commit().unwrap();

        let conn = writer.lock();
        let kept = conn.prepare_cached(&sql).unwrap();
        assert!(
            kept.get_status(StatementStatus::VmStep) > 0,
            "{sql} was not kept"
        );
        assert_eq!(kept.get_status(StatementStatus::RePrepare), 0, "{sql}");
    }
}

//! Fedgate's durable storage: sea-orm entities and the repositories that implement
//! the domain's ports, on SQLite (embedded default) and PostgreSQL (production).
//!
//! Tenant scoping lives in the queries: every read or write of a tenant-owned row
//! names its application (and, for management, the owning subscriber), so a row of
//! another tenant is simply not found.

mod access_keys;
mod applications;
mod batch;
pub mod entity;
mod events;
mod federation;
mod held;
mod login;
mod properties;
pub mod sealed;
mod subscribers;
mod tokens;
mod users;
mod webhooks;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fedgate_domain::ports::{Store, StoreError, StoreResult};
use fedgate_migrations::Migrator;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, QueryTrait, RuntimeErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// The database behind every repository.
#[derive(Debug, Clone)]
pub struct SeaStore {
    /// The pool shared by every thread (on PostgreSQL, by those without one of their
    /// own: background tasks, command-line work).
    db: DatabaseConnection,
    /// On PostgreSQL, the pools of the threads that serve requests.
    threads: Option<Arc<ThreadPools>>,
    /// SQLite's one writer; `None` on PostgreSQL.
    writer: Option<SqliteWriter>,
    /// Applications recently read to have no webhook (the outbox skips them).
    webhooks: Arc<webhooks::SubscriptionCache>,
}

/// PostgreSQL connections of the threads that serve requests, each thread's opened
/// by that thread and used by it alone.
///
/// A connection's socket is registered with the reactor of the runtime that opened it
/// (tokio), and each actix worker runs a runtime of its own on its thread. Through one
/// shared pool a worker was handed connections another thread had opened: each of
/// their answers woke that thread, which then woke the worker — two wake-ups per round
/// trip instead of one, and the pool's first connections, opened at start, were
/// driven by the main thread. A serving thread ([`SeaStore::serve_from_this_thread`])
/// gets a pool of its own instead: its share of `max_connections`, none opened before
/// it is needed.
#[derive(Debug)]
struct ThreadPools {
    /// A serving thread's pool: its share of the connections, opened on demand.
    options: ConnectOptions,
    /// How many more threads may take a pool of their own.
    left: std::sync::atomic::AtomicUsize,
    own: thread_local::ThreadLocal<ThreadPool>,
}

/// One serving thread's pool.
#[derive(Debug)]
struct ThreadPool {
    db: DatabaseConnection,
    /// Connections its logins gave back, for its next logins ([`held::Parking`]).
    parking: Arc<held::Parking>,
    /// The thread it belongs to (`ThreadLocal` hands an ended thread's value to a new
    /// thread that reuses its slot).
    thread: std::thread::ThreadId,
    /// Held by a task of the runtime its connections were opened on, so gone once that
    /// runtime has ended and its connections with it.
    runtime: std::sync::Weak<()>,
}

/// SQLite has one writer at a time. Write transactions of this process queue for
/// their turn here instead of colliding in the database and sleeping in its busy
/// handler (other processes still meet the busy timeout), and all of them run on one
/// connection of their own, on the thread that runs the transaction ([`writer`]).
///
/// That connection keeps what it has read: an SQLite connection drops its page cache
/// and its memory map of the file whenever another connection has written since its
/// last transaction. Had the write transactions taken turns on every pooled
/// connection, each would have found its connection's cache dropped by the one
/// before, and read its B-tree pages afresh: a page fault per page, more of them the
/// larger the database, and the whole map torn down and mapped again. The writer reads
/// without a memory map, into the page cache it keeps (`SQLITE_WRITER_CACHE_KIB`).
#[derive(Debug, Clone)]
struct SqliteWriter {
    turn: Arc<tokio::sync::Mutex<()>>,
    /// `None` when a test wraps a connection of its own (`from_connection`), whose
    /// pool then serves the writes too.
    conn: Option<Arc<writer::WriterConnection>>,
}

/// A write transaction's connection: the SQLite writer's, or one of the pool's
/// (PostgreSQL; SQLite under `from_connection`), or — on PostgreSQL, until something
/// is read after a write — none yet ([`SeaStore::begin_write_unbegun`]).
pub(crate) enum Txn {
    Pool(DatabaseTransaction),
    Writer(writer::WriterTxn),
    /// No transaction begun: a read runs on its own, against what is committed, and
    /// the writes wait in the queue. The first flush begins the transaction; a commit
    /// with nothing flushed sends the writes as one statement, atomic on its own.
    Unbegun(held::Held),
}

#[async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Pool(t) => t.get_database_backend(),
            Self::Writer(t) => t.get_database_backend(),
            Self::Unbegun(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Pool(t) => t.execute_raw(stmt).await,
            Self::Writer(t) => t.execute_raw(stmt).await,
            Self::Unbegun(held) => held.execute(&stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Pool(t) => t.execute_unprepared(sql).await,
            Self::Writer(t) => t.execute_unprepared(sql).await,
            Self::Unbegun(held) => held.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Pool(t) => t.query_one_raw(stmt).await,
            Self::Writer(t) => t.query_one_raw(stmt).await,
            Self::Unbegun(held) => held.query_one(&stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Pool(t) => t.query_all_raw(stmt).await,
            Self::Writer(t) => t.query_all_raw(stmt).await,
            Self::Unbegun(held) => held.query_all(&stmt).await,
        }
    }
}

/// A write transaction, holding this process's SQLite writer turn until dropped.
pub(crate) struct WriteTxn {
    /// Declared before the turn: an uncommitted transaction is rolled back before the
    /// next one may begin.
    pub(crate) txn: Txn,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Where the outbox finds the webhook subscriptions.
    pub(crate) webhooks: Arc<webhooks::SubscriptionCache>,
    /// Writes whose results nothing reads, sent together before the transaction's next
    /// read ([`WriteTxn::flush`]) or its commit.
    deferred: Vec<batch::Queued>,
}

impl WriteTxn {
    /// Queues a write to be sent with the others before the next read or the commit.
    /// Its failure (a unique key taken, say) is then the flush's or the commit's. Only
    /// query-builder statements are queued: on SQLite their parameters are all plain
    /// `?`, which the flush can join. A queued write must not depend on what an earlier
    /// queued write changed (on PostgreSQL they run as parts of one statement, against
    /// one snapshot), except through a foreign key, checked once all of them have run.
    pub(crate) fn defer(&mut self, statement: &impl QueryTrait) {
        self.deferred.push(batch::Queued::write(
            statement.build(self.txn.get_database_backend()),
        ));
    }

    /// Queues a PostgreSQL statement written by hand, as [`WriteTxn::defer`] queues a
    /// built one (its parameters `$1`, `$2`, … are renumbered when it is joined).
    pub(crate) fn defer_statement(&mut self, statement: Statement) {
        debug_assert_eq!(statement.db_backend, DbBackend::Postgres);
        self.deferred.push(batch::Queued::write(statement));
    }

    /// Queues a PostgreSQL write that must change a row (it ends with `RETURNING`):
    /// if it changes none, the statement it is sent in fails with `what` as a
    /// serialization failure (`fedgate_expect`), and nothing it carries is written.
    pub(crate) fn defer_expecting_row(&mut self, statement: Statement, what: &'static str) {
        debug_assert_eq!(statement.db_backend, DbBackend::Postgres);
        self.deferred.push(batch::Queued {
            statement,
            expected: Some(what),
        });
    }

    /// Begins the transaction if none is yet ([`Txn::Unbegun`]).
    async fn begin(&mut self) -> Result<(), DbErr> {
        if let Txn::Unbegun(held) = &mut self.txn {
            // The held connection goes back before the transaction takes one: holding
            // it meanwhile, logins as many as a thread's connections would each wait
            // for a second one that none gives back. (Parked, it leaves the pool an
            // idle connection or room for one.)
            held.give_back();
            let db = held.db.clone();
            self.txn = Txn::Pool(db.begin().await?);
        }
        Ok(())
    }

    /// Sends the queued writes, in order. Through sqlx on SQLite they go as one
    /// multi-statement request — one round trip to the connection's thread instead of
    /// one per write (SQLite binds each statement's `?` parameters from the shared list
    /// in turn); on PostgreSQL as one statement whose `WITH` parts are the writes
    /// ([`batch`]: its protocol takes one statement per request with parameters); on
    /// the SQLite writer, which has no round trip to save, one after the other.
    /// Whoever reads in the transaction after queuing writes calls this first, so every
    /// read sees every write before it.
    pub(crate) async fn flush(&mut self) -> Result<(), DbErr> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        self.begin().await?;
        let statements = std::mem::take(&mut self.deferred);
        match (&self.txn, self.txn.get_database_backend()) {
            (_, DbBackend::Postgres) => {
                for s in batch::postgres_batches(statements) {
                    self.txn.execute_raw(s).await?;
                }
            }
            (Txn::Pool(_), DbBackend::Sqlite) if statements.len() > 1 => {
                let mut sql = String::new();
                let mut values = Vec::new();
                for s in statements {
                    let s = s.into_sqlite();
                    sql.push_str(&s.sql);
                    sql.push_str(";\n");
                    values.extend(s.values.map(|v| v.0).unwrap_or_default());
                }
                self.txn
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        sql,
                        values,
                    ))
                    .await?;
            }
            _ => {
                for s in statements {
                    self.txn.execute_raw(s.into_sqlite()).await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn commit(mut self) -> Result<(), DbErr> {
        if let Txn::Unbegun(_) = &self.txn {
            // Nothing was read after a write: the writes go as one statement, which
            // commits or fails whole — no `BEGIN` and no `COMMIT` to wait for. (Past
            // PostgreSQL's parameter limit they take a transaction after all.)
            let mut batches = batch::postgres_batches(std::mem::take(&mut self.deferred));
            match batches.len() {
                0 => return Ok(()),
                1 => return self.txn.execute_raw(batches.remove(0)).await.map(|_| ()),
                _ => {
                    self.begin().await?;
                    for s in batches {
                        self.txn.execute_raw(s).await?;
                    }
                }
            }
        }
        self.flush().await?;
        match self.txn {
            Txn::Pool(t) => t.commit().await,
            Txn::Writer(t) => t.commit(),
            Txn::Unbegun(_) => Ok(()),
        }
    }
}

/// Database failures seen by this process (metrics).
static DATABASE_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many database operations of this process failed (connection lost, timeout,
/// statement refused) since it started; uniqueness conflicts are not failures.
#[must_use]
pub fn database_errors() -> u64 {
    DATABASE_ERRORS.load(std::sync::atomic::Ordering::Relaxed)
}

fn backend_err(e: &DbErr) -> StoreError {
    DATABASE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    StoreError::Backend(format!("database: {e}"))
}

/// `text` cut to at most `max` characters: provider-supplied values must fit their
/// columns instead of failing the write (PostgreSQL enforces lengths, SQLite does not).
pub(crate) fn clamp(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The database's message when `e` is a unique-key violation, whichever connection
/// reported it (sqlx's, or the SQLite writer's).
pub(crate) fn unique_violation(e: &DbErr) -> Option<&str> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                sea_orm::sqlx::Error::Database(d) if d.is_unique_violation() => Some(d.message()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A serialization failure (SQLSTATE 40001): on PostgreSQL what `fedgate_expect`
/// raises when a write expected to change a row changed none.
fn serialization_failure(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(e.as_ref(), sea_orm::sqlx::Error::Database(d) if d.code().as_deref() == Some("40001"))
        }
        _ => false,
    }
}

/// Maps a unique-constraint violation or a serialization failure to
/// `Conflict(what)`, anything else to `Backend`.
fn conflict_or_backend(e: &DbErr, what: &'static str) -> StoreError {
    if unique_violation(e).is_some() || serialization_failure(e) {
        StoreError::Conflict(what)
    } else {
        backend_err(e)
    }
}

/// How long a PostgreSQL connection may sit idle in the pool before it is pinged when
/// handed out again.
pub(crate) const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(2);

/// The SQLite writer's page cache: the interior pages of a million users' indexes fit
/// (`cache_size` in KiB when negative).
const SQLITE_WRITER_CACHE_KIB: &str = "-8192";

/// How long an SQLite connection waits for another's write lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an SQLite database file read through a shared memory map (1 GiB).
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// The pool's SQLite settings (the writer's are the same but for the memory map: see
/// `writer::WriterConnection::open`). WAL lets readers run beside the single writer;
/// the busy timeout makes writers queue instead of failing; foreign keys make cascades
/// real; the readers read the file through a memory map — the system's page cache, no
/// copy in each connection's own 2 MB page cache.
fn sqlite_settings(o: SqliteConnectOptions) -> SqliteConnectOptions {
    o.journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
}

/// On PostgreSQL, the connections of each of `serving_threads` threads and those of
/// the shared pool, together `max_connections`: `None` when there are too few to give
/// every serving thread some and keep some shared.
fn thread_share(max_connections: u32, serving_threads: usize) -> Option<(u32, u32)> {
    let threads = u32::try_from(serving_threads).ok().filter(|t| *t > 0)?;
    let each = max_connections / (threads + 1);
    (each > 0).then(|| (each, max_connections - each * threads))
}

impl SeaStore {
    /// Connects to `url`: `sqlite://path?mode=rwc` or `postgres://...`.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        Self::connect_serving(url, max_connections, 0).await
    }

    /// [`Self::connect`] for a server whose `serving_threads` threads each run a
    /// runtime of their own and call [`Self::serve_from_this_thread`]: on PostgreSQL
    /// each of them gets a share of `max_connections` (see `ThreadPools`), the rest
    /// stay shared.
    pub async fn connect_serving(
        url: &str,
        max_connections: u32,
        serving_threads: usize,
    ) -> StoreResult<Self> {
        let sqlite = url.starts_with("sqlite:");
        let share = thread_share(max_connections, serving_threads).filter(|_| !sqlite);
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(share.map_or(max_connections, |(_, shared)| shared))
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        // sqlx pings a pooled connection when it is handed out (and again when it is
        // given back): on SQLite a round trip to the connection's thread, on
        // PostgreSQL one to the server. A local SQLite file cannot drop a connection,
        // so it is never pinged when handed out; a PostgreSQL connection is when it
        // has been idle long enough for a server restart, proxy or firewall to have
        // dropped it, while a connection in steady use goes straight to work.
        if sqlite {
            options
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(sqlite_settings);
        } else {
            options.test_before_acquire_if_idle_for(POSTGRES_PING_AFTER_IDLE);
        }
        let threads = share.map(|(each, _)| {
            let mut own = options.clone();
            own.max_connections(each)
                .min_connections(0)
                .connect_lazy(true);
            Arc::new(ThreadPools {
                options: own,
                left: std::sync::atomic::AtomicUsize::new(serving_threads),
                own: thread_local::ThreadLocal::new(),
            })
        });
        // With the serving threads on pools of their own, the shared pool serves
        // background work (the event writer, webhook deliveries, the sweeper): its
        // connections are tested whenever handed out, a round trip that work can
        // spare, so that after the server or a proxy dropped them it never meets one
        // (a connection idle under 2 s would otherwise go out untested and fail).
        if threads.is_some() {
            options.test_before_acquire_if_idle_for(Duration::ZERO);
        }
        // The pool's first connection creates the file (`mode=rwc`) that the writer
        // then opens.
        let db = Database::connect(options)
            .await
            .map_err(|e| backend_err(&e))?;
        let writer = if sqlite {
            let file = url
                .parse::<SqliteConnectOptions>()
                .map_err(|e| StoreError::Backend(format!("database url: {e}")))?
                .get_filename()
                .to_owned();
            // An in-memory database lives in the pool's shared cache (sqlx names it
            // `file:sqlx-in-memory-…`, and tells nothing else), which the writer cannot
            // join: its writes stay on the pool, as under `from_connection`.
            if file.to_string_lossy().starts_with("file:") {
                None
            } else {
                let open = move || {
                    writer::WriterConnection::open(
                        &file,
                        SQLITE_BUSY_TIMEOUT,
                        SQLITE_WRITER_CACHE_KIB,
                    )
                };
                let conn = tokio::task::spawn_blocking(open)
                    .await
                    .map_err(|e| StoreError::Backend(format!("sqlite writer: {e}")))?
                    .map_err(|e| backend_err(&e))?;
                Some(Arc::new(conn))
            }
        } else {
            None
        };
        let mut store = Self::with_writer(db, writer);
        store.threads = threads;
        Ok(store)
    }

    /// Gives the calling thread — one that serves requests on a runtime of its own,
    /// such as an actix worker — PostgreSQL connections of its own, opened by it as it
    /// needs them (see `ThreadPools`). Nothing on SQLite, outside a runtime, or once
    /// every serving thread has its pool; those threads use the shared pool.
    pub fn serve_from_this_thread(&self) {
        use futures_util::FutureExt as _;
        use std::sync::atomic::Ordering;
        let Some(threads) = &self.threads else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if threads.own.get().is_some()
            || threads
                .left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_err()
        {
            return;
        }
        // A lazy pool is made without waiting for anything; its upkeep task runs on
        // this thread's runtime.
        let db = match Database::connect(threads.options.clone()).now_or_never() {
            Some(Ok(db)) => db,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "no PostgreSQL pool of its own for this thread; it shares");
                return;
            }
            None => return,
        };
        let token = Arc::new(());
        let runtime_alive = Arc::downgrade(&token);
        runtime.spawn(async move {
            let _held = token;
            std::future::pending::<()>().await;
        });
        threads.own.get_or(|| ThreadPool {
            db,
            parking: Arc::default(),
            thread: std::thread::current().id(),
            runtime: runtime_alive,
        });
    }

    /// This thread's own pool, while it serves requests.
    fn own(&self) -> Option<&ThreadPool> {
        let own = self.threads.as_ref()?.own.get()?;
        (own.runtime.strong_count() > 0 && own.thread == std::thread::current().id()).then_some(own)
    }

    /// The pool for a query from this thread: its own while it serves requests, else
    /// the shared one.
    fn db(&self) -> &DatabaseConnection {
        self.own().map_or(&self.db, |own| &own.db)
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes instances
    /// starting together take turns.
    pub async fn migrate(&self) -> StoreResult<()> {
        if self.db.get_database_backend() == DbBackend::Postgres {
            let txn = self.db.begin().await.map_err(|e| backend_err(&e))?;
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7207316931)")
                .await
                .map_err(|e| backend_err(&e))?;
            Migrator::up(&txn, None)
                .await
                .map_err(|e| backend_err(&e))?;
            txn.commit().await.map_err(|e| backend_err(&e))?;
        } else {
            Migrator::up(&self.db, None)
                .await
                .map_err(|e| backend_err(&e))?;
        }
        Ok(())
    }

    /// Wraps an existing connection (tests reach under the API with it).
    #[must_use]
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self::with_writer(db, None)
    }

    /// `writer`: on SQLite, the connection write transactions run on.
    fn with_writer(db: DatabaseConnection, writer: Option<Arc<writer::WriterConnection>>) -> Self {
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        Self {
            db,
            threads: None,
            writer: sqlite.then(|| SqliteWriter {
                turn: Arc::new(tokio::sync::Mutex::new(())),
                conn: writer,
            }),
            webhooks: Arc::default(),
        }
    }

    /// Begins a transaction that will write.
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let (txn, turn) = match &self.writer {
            Some(writer) => {
                let turn = Arc::clone(&writer.turn).lock_owned().await;
                // The write lock is taken at `BEGIN IMMEDIATE`, where the busy handler
                // waits for another writer (an autocommit write, another process). A
                // deferred transaction that read first and then wrote would instead be
                // refused at once with "database is locked": SQLite cannot wait there
                // without risking deadlock.
                let txn = match &writer.conn {
                    Some(conn) => Txn::Writer(writer::WriterTxn::begin(Arc::clone(conn))?),
                    None => Txn::Pool(
                        self.db()
                            .begin_with_options(TransactionOptions {
                                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                                ..TransactionOptions::default()
                            })
                            .await?,
                    ),
                };
                (txn, Some(turn))
            }
            None => (Txn::Pool(self.db().begin().await?), None),
        };
        Ok(WriteTxn {
            txn,
            _turn: turn,
            webhooks: Arc::clone(&self.webhooks),
            deferred: Vec::new(),
        })
    }

    /// A write transaction on PostgreSQL that begins only when something is read
    /// after a write ([`Txn::Unbegun`]); on SQLite, [`SeaStore::begin_write`].
    pub(crate) async fn begin_write_unbegun(&self) -> Result<WriteTxn, DbErr> {
        if self.writer.is_some() {
            return self.begin_write().await;
        }
        Ok(WriteTxn {
            txn: Txn::Unbegun(match self.own() {
                Some(own) => held::Held::new(own.db.clone(), Some(Arc::clone(&own.parking))),
                None => held::Held::new(self.db.clone(), None),
            }),
            _turn: None,
            webhooks: Arc::clone(&self.webhooks),
            deferred: Vec::new(),
        })
    }

    /// The connection, for tests that need to reach under the repositories.
    #[must_use]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The database connections: (open, idle), the SQLite writer's included (idle
    /// while no write transaction holds its turn), and on PostgreSQL those a serving
    /// thread keeps for its next login ([`SeaStore::parked_connections`]) among the idle.
    #[must_use]
    pub fn pool_connections(&self) -> (u32, usize) {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                self.serving_pools()
                    .fold((pool.size(), pool.num_idle()), |(open, idle), own| {
                        let pool = own.db.get_postgres_connection_pool();
                        (
                            open + pool.size(),
                            idle + pool.num_idle() + own.parking.len(),
                        )
                    })
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                let (open, idle) = (pool.size(), pool.num_idle());
                match &self.writer {
                    Some(SqliteWriter {
                        turn,
                        conn: Some(_),
                    }) => (open + 1, idle + usize::from(turn.try_lock().is_ok())),
                    _ => (open, idle),
                }
            }
        }
    }

    /// On PostgreSQL, the connections the serving threads' logins gave back and keep,
    /// out of their pools, for their next logins: idle, and not tested by the pool
    /// between two logins (see `held::Parking`).
    #[must_use]
    pub fn parked_connections(&self) -> usize {
        self.serving_pools().map(|own| own.parking.len()).sum()
    }

    /// The serving threads' pools. A pool whose runtime has ended serves no one (its
    /// thread's queries went to the shared pool since).
    fn serving_pools(&self) -> impl Iterator<Item = &ThreadPool> {
        self.threads
            .iter()
            .flat_map(|t| t.own.iter())
            .filter(|own| own.runtime.strong_count() > 0)
    }

    /// A fact about the installation (e.g. the master-key check value), if recorded.
    pub async fn instance_fact(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        use sea_orm::EntityTrait;
        Ok(entity::instance_meta::Entity::find_by_id(name.to_owned())
            .one(self.db())
            .await
            .map_err(|e| backend_err(&e))?
            .map(|m| m.value))
    }

    /// Records a fact unless one is recorded already (of concurrent first starts, one
    /// wins); the fact now recorded.
    pub async fn record_instance_fact(&self, name: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
        use sea_orm::EntityTrait;
        entity::instance_meta::Entity::insert(entity::instance_meta::ActiveModel {
            name: sea_orm::Set(name.to_owned()),
            value: sea_orm::Set(value.to_vec()),
        })
        .on_conflict_do_nothing_on([entity::instance_meta::Column::Name])
        .exec_without_returning(self.db())
        .await
        .map_err(|e| backend_err(&e))?;
        self.instance_fact(name)
            .await?
            .ok_or(StoreError::Conflict("the instance fact vanished"))
    }
}

#[async_trait]
impl Store for SeaStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db().ping().await.map_err(|e| backend_err(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::thread_share;

    #[test]
    fn serving_threads_share_the_connections_with_the_shared_pool() {
        assert_eq!(thread_share(10, 2), Some((3, 4)), "3 each, 4 shared: 10");
        assert_eq!(thread_share(3, 2), Some((1, 1)));
        assert_eq!(thread_share(64, 7), Some((8, 8)));
        // Too few to give every thread one and keep one shared: all shared.
        assert_eq!(thread_share(2, 2), None);
        assert_eq!(thread_share(10, 0), None);
    }
}

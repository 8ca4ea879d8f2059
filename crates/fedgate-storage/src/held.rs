//! One PostgreSQL connection held for the statements of a write that has not begun its
//! transaction ([`crate::Txn::Unbegun`]), and the connections a serving thread keeps
//! between such writes.
//!
//! sqlx tests every connection given back to its pool with a round trip — a `Sync` and
//! its answer, in a task of its own —: through sea-orm's pool each statement would
//! give its connection back and pay that test. A held connection serves the read and
//! the writes of a login's first attempt and pays it once; parked by a serving thread
//! (an actix worker), it goes on to the thread's next login without it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{PgPool, Postgres};
use sea_orm::{DatabaseConnection, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;

/// How long a connection may stay parked and still be used: past it, it goes back to
/// the pool, which tests it before anyone uses it again (a server restart, a proxy or
/// a firewall may have dropped it meanwhile). The pool's own threshold for testing an
/// idle connection.
const PARKED_AT_MOST: Duration = crate::POSTGRES_PING_AFTER_IDLE;

/// How long a connection goes from login to login before it goes back to the pool
/// once, so that the pool's upkeep — its connections' lifetime — sees it too.
const OUT_OF_THE_POOL_AT_MOST: Duration = Duration::from_secs(60);

/// A connection taken out of its pool.
struct Taken {
    conn: PoolConnection<Postgres>,
    /// When it left the pool.
    since: Instant,
    /// Its last statement ran to its end: false while one runs, and after one that was
    /// cut off (its future dropped midway, the connection perhaps mid-message) or that
    /// failed on the socket. Only a settled connection is parked.
    settled: bool,
}

impl Taken {
    fn settle<T>(&mut self, done: &Result<T, sea_orm::sqlx::Error>) {
        self.settled = matches!(done, Ok(_) | Err(sea_orm::sqlx::Error::Database(_)));
    }
}

/// The connections a serving thread's writes gave back, kept out of its pool for its
/// next ones (one pool per serving thread: see `ThreadPools`).
///
/// A connection is parked only when its last statement settled, while the pool can
/// still serve a statement at once without it — an idle connection left, or room to
/// open one —, and for at most [`PARKED_AT_MOST`]. So a read through the pool never
/// waits for a parked connection, and a parked one is never used untested after
/// sitting longer than the pool lets an idle connection go untested.
#[derive(Default)]
pub(crate) struct Parking(Mutex<Vec<(Taken, Instant)>>);

impl std::fmt::Debug for Parking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Parking({} connections)", self.len())
    }
}

impl Parking {
    /// How many connections are parked.
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The connection parked last, unless it has been parked too long; then it and
    /// every other (parked before it) go back to the pool, to be tested there.
    fn take(&self) -> Option<Taken> {
        let mut parked = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if parked.last()?.1.elapsed() < PARKED_AT_MOST {
            return parked.pop().map(|(taken, _)| taken);
        }
        // Given back outside the lock.
        let stale = std::mem::take(&mut *parked);
        drop(parked);
        drop(stale);
        None
    }

    /// Parks `taken`, or gives it back to `pool` (see [`Parking`]).
    fn park(&self, taken: Taken, pool: &PgPool) {
        let room = pool.num_idle() > 0 || pool.size() < pool.options().get_max_connections();
        if taken.settled && room && taken.since.elapsed() < OUT_OF_THE_POOL_AT_MOST {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((taken, Instant::now()));
        }
    }
}

impl Drop for Parking {
    fn drop(&mut self) {
        let parked = std::mem::take(self.0.get_mut().unwrap_or_else(PoisonError::into_inner));
        // sqlx gives a connection back to its pool in a task, which needs a runtime;
        // without one (the store dropped after its runtime ended), the connections are
        // closed: their pool goes with the store.
        if tokio::runtime::Handle::try_current().is_err() {
            for (taken, _) in parked {
                drop(taken.conn.leak());
            }
        }
    }
}

/// One connection, taken at the first statement — from the thread's parked ones, else
/// from the pool — and kept until given back ([`Held::give_back`], or when dropped).
pub(crate) struct Held {
    pub(crate) db: DatabaseConnection,
    /// Where the connection goes back to on a serving thread; `None` elsewhere (the
    /// pool then takes it back).
    parking: Option<Arc<Parking>>,
    conn: tokio::sync::Mutex<Option<Taken>>,
}

impl Held {
    pub(crate) fn new(db: DatabaseConnection, parking: Option<Arc<Parking>>) -> Self {
        Self {
            db,
            parking,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// The connection for a statement about to run (unsettled until it has).
    async fn conn(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Taken>, DbErr> {
        let mut conn = self.conn.lock().await;
        if conn.is_none() {
            *conn = Some(match self.parking.as_deref().and_then(Parking::take) {
                Some(parked) => parked,
                None => Taken {
                    conn: self
                        .db
                        .get_postgres_connection_pool()
                        .acquire()
                        .await
                        .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?,
                    since: Instant::now(),
                    settled: true,
                },
            });
        }
        let mut taken = tokio::sync::MutexGuard::map(conn, |c| {
            c.as_mut().unwrap_or_else(|| unreachable!("taken above"))
        });
        taken.settled = false;
        Ok(taken)
    }

    /// Parks the connection for the thread's next write, or gives it back to the pool.
    pub(crate) fn give_back(&mut self) {
        // Without a parking place, the connection taken here goes back to the pool.
        if let Some(taken) = self.conn.get_mut().take()
            && let Some(parking) = &self.parking
        {
            parking.park(taken, self.db.get_postgres_connection_pool());
        }
    }

    pub(crate) async fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        let mut taken = self.conn().await?;
        let done = query(stmt).execute(&mut *taken.conn).await;
        taken.settle(&done);
        done.map(ExecResult::from).map_err(exec_failed)
    }

    pub(crate) async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut taken = self.conn().await?;
        let done = sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(sql))
            .execute(&mut *taken.conn)
            .await;
        taken.settle(&done);
        done.map(ExecResult::from).map_err(exec_failed)
    }

    pub(crate) async fn query_one(&self, stmt: &Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut taken = self.conn().await?;
        let done = query(stmt).fetch_optional(&mut *taken.conn).await;
        taken.settle(&done);
        done.map(|row| row.map(QueryResult::from))
            .map_err(query_failed)
    }

    pub(crate) async fn query_all(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut taken = self.conn().await?;
        let done = query(stmt).fetch_all(&mut *taken.conn).await;
        taken.settle(&done);
        done.map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(query_failed)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.give_back();
    }
}

/// A sea-orm statement as sqlx's query, bound as sea-orm binds it.
fn query(stmt: &Statement) -> sea_orm::sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sea_orm::sqlx::query_with(
        sea_orm::sqlx::AssertSqlSafe(stmt.sql.as_str()),
        SqlxValues(values),
    )
}

fn exec_failed(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_failed(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

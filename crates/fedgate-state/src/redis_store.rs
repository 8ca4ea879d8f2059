//! The Redis state store, on one Redis or on a Redis Cluster. On a cluster every
//! operation names one key (the counter script takes that key as its only `KEYS`
//! entry), so no operation spans hash slots and a cluster serves them as one Redis
//! does. On one Redis, the charges of an event and the record it stores or spends go in
//! one script: one round trip for a login callback. A login start's charges make none:
//! they are judged on counts kept here and added to Redis every
//! [`FLUSH_EVERY`](crate::tally::FLUSH_EVERY) (`tally.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use fedgate_domain::ports::{
    Charge, Charged, StateStore, StoreError, StoreResult, charge_each, put_if_absent_charged_each,
    take_marking_charged_each, take_marking_each,
};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::tally::{FLUSH_EVERY, Pending, Tallies, Unjudged};

/// INCR, and set the expiry only when the counter was just created: atomic in Redis.
const INCREMENT_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// A script that first counts the charges in order (`KEYS[1..n]`; `ARGV[1]` is `n`,
/// then each counter's window in ms and limit), stopping at the first past its limit:
/// `over` is that charge's 1-based index, or 0 with none past. `$rest` follows, with
/// its own keys from `KEYS[n+1]` and arguments from `ARGV[2n+2]`.
macro_rules! charging_script {
    ($rest:literal) => {
        concat!(
            r"
local n = tonumber(ARGV[1])
local over = 0
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i]) end
  if count > tonumber(ARGV[2 * i + 1]) then over = i; break end
end
",
            $rest
        )
    };
}

/// The charges counted, then — with none past its limit — the record `KEYS[n+1]`
/// stored when given (its value and ttl in ms follow in `ARGV`): the index past its
/// limit, or 0. Atomic in Redis.
const CHARGE_SCRIPT: &str = charging_script!(
    r"
if over > 0 then return over end
if #KEYS > n then
  redis.call('SET', KEYS[n + 1], ARGV[2 * n + 2], 'PX', ARGV[2 * n + 3])
end
return 0
"
);

/// Takes a record (`KEYS[1]`) and, when there was one, leaves its marker (`KEYS[2]`,
/// value `ARGV[1]`, for `ARGV[2]` ms): one round trip, and no moment when the record
/// is gone but the marker not there.
const TAKE_MARKING_SCRIPT: &str = r"
local taken = redis.call('GETDEL', KEYS[1])
if taken then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
return taken
";

/// The charges counted, then — with none past its limit — the take-marking script's
/// work on `KEYS[n+1]` and its marker `KEYS[n+2]` (`ARGV[2n+2]`, for `ARGV[2n+3]`
/// ms): `{index past its limit or 0, the value taken}`. A login callback's one round
/// trip when its record is kept in the store.
const TAKE_MARKING_CHARGED_SCRIPT: &str = charging_script!(
    r"
if over > 0 then return {over, false} end
local taken = redis.call('GETDEL', KEYS[n + 1])
if taken then redis.call('SET', KEYS[n + 2], ARGV[2 * n + 2], 'PX', ARGV[2 * n + 3]) end
return {0, taken}
"
);

/// The charges counted, then — with none past its limit — `SET NX` of `KEYS[n+1]`
/// (`ARGV[2n+2]`, for `ARGV[2n+3]` ms): `{index past its limit or 0, 1 when stored}`.
/// A login callback's one round trip when its record travelled sealed.
const PUT_IF_ABSENT_CHARGED_SCRIPT: &str = charging_script!(
    r"
if over > 0 then return {over, 0} end
if redis.call('SET', KEYS[n + 1], ARGV[2 * n + 2], 'NX', 'PX', ARGV[2 * n + 3]) then
  return {0, 1}
end
return {0, 0}
"
);

/// INCRBY, and set the expiry only when the counter was just created by it: the new
/// count and the ms its window has left. Atomic in Redis.
const ADD_SCRIPT: &str = r"
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {n, redis.call('PTTL', KEYS[1])}
";

/// How often an instance with nothing to add to the shared counters checks that Redis
/// answers (the login starts it judges on its own counts are refused while it does not).
const PING_EVERY: Duration = Duration::from_secs(1);

/// A connection to one Redis (reconnecting on its own) or to a cluster (following
/// its slots), for one operation.
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Where the store's operations go.
#[derive(Clone)]
enum Server {
    Single(Arc<Single>),
    Cluster(ClusterConnection),
}

/// How long a thread whose own connection could not be opened uses the shared one
/// before it tries again.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// One Redis, reached from each thread through a connection of the thread's own.
///
/// A connection's reading and writing runs as a task of the runtime that opened it.
/// Shared by every thread, each round trip crossed threads twice: the request handed
/// to that task on another thread, the reply handed back, each a wake-up of a
/// sleeping thread. Each thread that uses the store (an actix worker runs a runtime
/// of its own on its thread) therefore opens its own connection on its own runtime,
/// and a round trip stays on the thread. Until it is open, and for a while after
/// opening it failed, the thread uses the shared connection.
struct Single {
    client: redis::Client,
    config: ConnectionManagerConfig,
    shared: ConnectionManager,
    local: Mutex<HashMap<ThreadId, Local>>,
}

/// A thread's own connection.
enum Local {
    /// Being opened by a task of the thread's runtime, which then holds the runtime's
    /// token for as long as that runtime runs.
    Opening(Alive),
    Open(ConnectionManager, Alive),
    /// Could not be opened; the shared connection serves the thread until then.
    Failed(Instant),
}

/// Whether a thread's own connection can still serve: its thread and the runtime that
/// runs the connection are both still there. A connection whose thread has ended (a
/// blocking-pool thread, say) is closed when the next thread opens one.
struct Alive {
    runtime: Weak<()>,
    thread: Weak<()>,
}

thread_local! {
    /// Dropped when the thread ends.
    static THREAD: Arc<()> = Arc::new(());
}

impl Alive {
    fn here(runtime: &Arc<()>) -> Self {
        Self {
            runtime: Arc::downgrade(runtime),
            thread: THREAD.with(Arc::downgrade),
        }
    }

    fn still(&self) -> bool {
        self.runtime.strong_count() > 0 && self.thread.strong_count() > 0
    }
}

impl Single {
    /// The shared connection and every thread's own.
    fn every_connection(&self) -> Vec<Connection> {
        let local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        std::iter::once(self.shared.clone())
            .chain(local.values().filter_map(|l| match l {
                Local::Open(conn, alive) if alive.still() => Some(conn.clone()),
                _ => None,
            }))
            .map(Connection::Single)
            .collect()
    }

    /// This thread's own connection, or the shared one while it has none.
    fn connection(self: &Arc<Self>) -> ConnectionManager {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.shared.clone();
        };
        let thread = std::thread::current().id();
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        match local.get(&thread) {
            Some(Local::Open(conn, alive)) if alive.still() => return conn.clone(),
            Some(Local::Opening(alive)) if alive.still() => return self.shared.clone(),
            Some(Local::Failed(until)) if Instant::now() < *until => return self.shared.clone(),
            // None yet, or its runtime has ended (a thread that ran a runtime before
            // the one it runs now: the connection's task ended with the old one).
            _ => {}
        }
        let now = Instant::now();
        local.retain(|_, l| match l {
            Local::Opening(alive) | Local::Open(_, alive) => alive.still(),
            Local::Failed(until) => now < *until,
        });
        let alive = Arc::new(());
        local.insert(thread, Local::Opening(Alive::here(&alive)));
        drop(local);
        let this = Arc::clone(self);
        let here = Alive::here(&alive);
        runtime.spawn(async move {
            let opened =
                ConnectionManager::new_with_config(this.client.clone(), this.config.clone()).await;
            let state = match opened {
                Ok(conn) => Local::Open(conn, here),
                Err(_) => Local::Failed(Instant::now() + REOPEN_AFTER),
            };
            let open = matches!(state, Local::Open(..));
            this.local
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(thread, state);
            drop(this);
            if open {
                // The runtime's token: dropped with this task when the runtime ends.
                std::future::pending::<()>().await;
                drop(alive);
            }
        });
        self.shared.clone()
    }
}

/// Where keys go: the server, and the prefix of every key.
#[derive(Clone)]
struct Link {
    server: Server,
    prefix: String,
}

impl Link {
    /// The connection for one operation from this thread.
    fn conn(&self) -> Connection {
        match &self.server {
            Server::Single(single) => Connection::Single(single.connection()),
            Server::Cluster(cluster) => Connection::Cluster(cluster.clone()),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING").query_async::<()>(&mut self.conn()).await
    }

    /// Whether every connection open to Redis answers a PING. A connection that lost
    /// Redis fails its next command and reconnects meanwhile: pinging them all after an
    /// outage spends those failures here, not on a login's callback.
    async fn ping_every_connection(&self) -> bool {
        let connections = match &self.server {
            Server::Single(single) => single.every_connection(),
            Server::Cluster(cluster) => vec![Connection::Cluster(cluster.clone())],
        };
        let mut answered = true;
        for mut conn in connections {
            answered &= redis::cmd("PING")
                .query_async::<()>(&mut conn)
                .await
                .is_ok();
        }
        answered
    }

    /// Adds `pending` to its shared counter: the new count and the time its window
    /// has left.
    async fn add(&self, script: &redis::Script, pending: &Pending) -> StoreResult<(u64, Duration)> {
        let (count, left): (u64, i64) = script
            .key(self.key(&pending.key))
            .arg(pending.add)
            .arg(millis(pending.window))
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| backend(&e))?;
        let left = u64::try_from(left).map_or(pending.window, Duration::from_millis);
        Ok((count, left))
    }
}

/// Adds what `tallies` counted to the shared counters every [`FLUSH_EVERY`], and
/// checks Redis answers when there is nothing to add; ends with the store.
async fn keep_flushing(link: Link, script: redis::Script, tallies: Weak<Tallies>) {
    let mut heard = Instant::now();
    let mut forgot = Instant::now();
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        let Some(tallies) = tallies.upgrade() else {
            return;
        };
        let now = Instant::now();
        if now.duration_since(forgot) >= PING_EVERY {
            tallies.forget_ended(now);
            forgot = now;
        }
        if now.duration_since(heard) >= PING_EVERY || !tallies.reachable() {
            let answered = link.ping_every_connection().await;
            tallies.set_reachable(answered);
            if !answered {
                continue;
            }
            heard = now;
        }
        let pending = tallies.take_pending(now);
        if !pending.is_empty() {
            let mut sends = tokio::task::JoinSet::new();
            for p in pending {
                let (link, script) = (link.clone(), script.clone());
                sends.spawn(async move {
                    let added = link.add(&script, &p).await;
                    (p, added)
                });
            }
            let mut answered = true;
            while let Some(joined) = sends.join_next().await {
                match joined {
                    Ok((p, Ok((count, left)))) => tallies.settle(&p, count, left, Instant::now()),
                    Ok((p, Err(_))) => {
                        tallies.unsent(&p);
                        answered = false;
                    }
                    Err(_) => answered = false,
                }
            }
            tallies.set_reachable(answered);
            if answered {
                heard = now;
            }
        }
    }
}

/// State in Redis, shared by every instance. Keys are `{prefix}{key}`.
#[derive(Clone)]
pub struct RedisStateStore {
    link: Link,
    /// Login-start charges, counted here and added to Redis soon after.
    tallies: Arc<Tallies>,
    add: redis::Script,
    increment: redis::Script,
    charge: redis::Script,
    take_marking: redis::Script,
    take_marking_charged: redis::Script,
    put_if_absent_charged: redis::Script,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateStore")
            .field("prefix", &self.link.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(e: &redis::RedisError) -> StoreError {
    StoreError::Backend(format!("redis: {e}"))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisStateStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379/0`); keys get `prefix`.
    /// Fails at once if Redis does not answer, so a bad URL stops start-up.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let client = redis::Client::open(url).map_err(|e| backend(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2);
        let shared = ConnectionManager::new_with_config(client.clone(), config.clone())
            .await
            .map_err(|e| backend(&e))?;
        let single = Single {
            client,
            config,
            shared,
            local: Mutex::default(),
        };
        Self::over(Server::Single(Arc::new(single)), prefix).await
    }

    /// Connects to the Redis Cluster that `nodes` (some of its nodes' URLs) belong to;
    /// keys get `prefix`. Fails at once if the cluster does not answer.
    pub async fn connect_cluster(nodes: &[String], prefix: &str) -> StoreResult<Self> {
        if nodes.is_empty() {
            return Err(StoreError::Backend(
                "redis: a cluster needs at least one node URL".into(),
            ));
        }
        let client = ClusterClient::builder(nodes.iter().map(String::as_str))
            .connection_timeout(Duration::from_secs(5))
            .response_timeout(Duration::from_secs(5))
            .retries(2)
            .build()
            .map_err(|e| backend(&e))?;
        let conn = client
            .get_async_connection()
            .await
            .map_err(|e| backend(&e))?;
        Self::over(Server::Cluster(conn), prefix).await
    }

    async fn over(server: Server, prefix: &str) -> StoreResult<Self> {
        let store = Self {
            link: Link {
                server,
                prefix: prefix.to_owned(),
            },
            tallies: Arc::default(),
            add: redis::Script::new(ADD_SCRIPT),
            increment: redis::Script::new(INCREMENT_SCRIPT),
            charge: redis::Script::new(CHARGE_SCRIPT),
            take_marking: redis::Script::new(TAKE_MARKING_SCRIPT),
            take_marking_charged: redis::Script::new(TAKE_MARKING_CHARGED_SCRIPT),
            put_if_absent_charged: redis::Script::new(PUT_IF_ABSENT_CHARGED_SCRIPT),
        };
        store.ping().await?;
        tokio::spawn(keep_flushing(
            store.link.clone(),
            store.add.clone(),
            Arc::downgrade(&store.tallies),
        ));
        Ok(store)
    }

    fn conn(&self) -> Connection {
        self.link.conn()
    }

    /// An operation failed: when Redis did not answer, login starts are not judged on
    /// counts that cannot be shared until it answers again (the flusher checks).
    fn failed(&self, e: &redis::RedisError) -> StoreError {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            self.tallies.set_reachable(false);
        }
        backend(e)
    }

    fn key(&self, key: &str) -> String {
        self.link.key(key)
    }

    /// A counting script's first keys and arguments: how many `charges`, then each
    /// one's counter, window and limit.
    fn charging(&self, invocation: &mut redis::ScriptInvocation<'_>, charges: &[Charge]) {
        invocation.arg(charges.len());
        for c in charges {
            invocation
                .key(self.key(&c.key))
                .arg(millis(c.window))
                .arg(c.limit);
        }
    }

    /// The charge script over `charges` and, when given, a record to store: the index
    /// of the charge past its limit. One Redis only (its keys span hash slots).
    async fn charge_script(
        &self,
        charges: &[Charge],
        record: Option<(&str, &[u8], Duration)>,
    ) -> StoreResult<Option<usize>> {
        let mut invocation = self.charge.prepare_invoke();
        self.charging(&mut invocation, charges);
        if let Some((key, value, ttl)) = record {
            invocation.key(self.key(key)).arg(value).arg(millis(ttl));
        }
        let over: usize = invocation
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(over.checked_sub(1))
    }
}

#[async_trait]
impl StateStore for RedisStateStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<()> {
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))
    }

    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))
    }

    async fn take_marking(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl: Duration,
    ) -> StoreResult<Option<Vec<u8>>> {
        // On a cluster the two keys live in different slots: one at a time.
        if let Server::Cluster(_) = self.link.server {
            return take_marking_each(self, key, marker, mark, ttl).await;
        }
        self.take_marking
            .key(self.key(key))
            .key(self.key(marker))
            .arg(mark)
            .arg(millis(ttl))
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))
    }

    async fn take_marking_charged(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Charged<Option<Vec<u8>>>> {
        // On a cluster the keys live in different slots: one step after the other.
        if let Server::Cluster(_) = self.link.server {
            return take_marking_charged_each(self, key, marker, mark, ttl, charges).await;
        }
        let mut invocation = self.take_marking_charged.prepare_invoke();
        self.charging(&mut invocation, charges);
        invocation
            .key(self.key(key))
            .key(self.key(marker))
            .arg(mark)
            .arg(millis(ttl));
        let (over, taken): (usize, Option<Vec<u8>>) = invocation
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(match over.checked_sub(1) {
            Some(over) => Charged::Over(over),
            None => Charged::Done(taken),
        })
    }

    async fn put_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> StoreResult<bool> {
        let reply: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(reply.is_some())
    }

    async fn put_if_absent_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Charged<bool>> {
        // On a cluster the keys live in different slots: one step after the other.
        if let Server::Cluster(_) = self.link.server {
            return put_if_absent_charged_each(self, key, value, ttl, charges).await;
        }
        let mut invocation = self.put_if_absent_charged.prepare_invoke();
        self.charging(&mut invocation, charges);
        invocation.key(self.key(key)).arg(value).arg(millis(ttl));
        let (over, stored): (usize, usize) = invocation
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))?;
        Ok(match over.checked_sub(1) {
            Some(over) => Charged::Over(over),
            None => Charged::Done(stored == 1),
        })
    }

    async fn increment(&self, key: &str, ttl: Duration) -> StoreResult<u64> {
        self.increment
            .key(self.key(key))
            .arg(millis(ttl))
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))
    }

    async fn charge(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        match self.link.server {
            Server::Single(_) if !charges.is_empty() => self.charge_script(charges, None).await,
            _ => charge_each(self, charges).await,
        }
    }

    async fn put_new_charged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        charges: &[Charge],
    ) -> StoreResult<Option<usize>> {
        if let Server::Single(_) = self.link.server {
            return self.charge_script(charges, Some((key, value, ttl))).await;
        }
        if let Some(over) = charge_each(self, charges).await? {
            return Ok(Some(over));
        }
        self.put(key, value, ttl).await.map(|()| None)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(|e| self.failed(&e))
    }

    async fn charge_soon(&self, charges: &[Charge]) -> StoreResult<Option<usize>> {
        match self.tallies.charge(charges, Instant::now()) {
            Ok(judged) => Ok(judged),
            Err(Unjudged::Crowded) => self.charge(charges).await,
            Err(Unjudged::Unreachable) => Err(StoreError::Backend(
                "redis: did not answer the last time counts were shared".into(),
            )),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        self.link.ping().await.map_err(|e| self.failed(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread that used the store and ended (a blocking-pool thread whose runtime
    /// lives on) gives its connection up when the next thread opens one.
    #[test]
    fn an_ended_threads_connection_is_closed() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_keep_alive(Duration::from_millis(50))
            .enable_all()
            .build()
            .unwrap();
        let url =
            std::env::var("FG_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("fedgate-test:{}:", uuid::Uuid::new_v4());
        let store = runtime
            .block_on(RedisStateStore::connect(&url, &prefix))
            .unwrap();
        let Server::Single(single) = &store.link.server else {
            unreachable!("one Redis")
        };
        let owns = |thread: ThreadId| {
            matches!(
                single.local.lock().unwrap().get(&thread),
                Some(Local::Open(..))
            )
        };
        // A blocking-pool thread of the runtime uses the store until its own
        // connection is open.
        let handle = runtime.handle().clone();
        let first = store.clone();
        let blocking = runtime
            .block_on(runtime.spawn_blocking(move || {
                for _ in 0..100 {
                    handle
                        .block_on(first.put("k", b"v", Duration::from_secs(60)))
                        .unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
                std::thread::current().id()
            }))
            .unwrap();
        assert!(
            owns(blocking),
            "the blocking thread opened its own connection"
        );
        // Past the pool's keep-alive the thread has ended; the next thread to open a
        // connection drops the ended one's.
        std::thread::sleep(Duration::from_millis(500));
        let handle = runtime.handle().clone();
        let second = store.clone();
        let next = std::thread::spawn(move || {
            handle.block_on(second.get("k")).unwrap().map(|v| v == b"v")
        })
        .join()
        .unwrap();
        assert_eq!(next, Some(true));
        assert!(
            !single.local.lock().unwrap().contains_key(&blocking),
            "the ended thread's connection is gone"
        );
    }
}

//! The same contract, checked against both implementations. Redis must be reachable
//! (FG_TEST_REDIS_URL, default redis://127.0.0.1:6379): these tests fail, not
//! skip, when it is not.

#![expect(
    clippy::unwrap_used,
    reason = "shared contract helpers outside #[test] fns fail loudly by design"
)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use fedgate_domain::ports::{Charge, Charged, StateStore};
use fedgate_state::{MemoryStateStore, RedisStateStore};

async fn redis() -> RedisStateStore {
    let url =
        std::env::var("FG_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("fedgate-test:{}:", uuid::Uuid::new_v4());
    RedisStateStore::connect(&url, &prefix)
        .await
        .unwrap_or_else(|e| {
            panic!("Redis at {url} is required for these tests and is not reachable: {e}")
        })
}

/// The 3-node cluster `scripts/redis-cluster` starts (FG_TEST_REDIS_CLUSTER_URLS,
/// comma-separated).
async fn redis_cluster() -> RedisStateStore {
    let urls = std::env::var("FG_TEST_REDIS_CLUSTER_URLS").unwrap_or_else(|_| {
        "redis://127.0.0.1:7101,redis://127.0.0.1:7102,redis://127.0.0.1:7103".into()
    });
    let nodes: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let prefix = format!("fedgate-test:{}:", uuid::Uuid::new_v4());
    RedisStateStore::connect_cluster(&nodes, &prefix)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "a Redis Cluster at {urls} is required for these tests (./scripts/redis-cluster starts one): {e}"
            )
        })
}

async fn put_get_delete(s: &dyn StateStore) {
    assert_eq!(s.get("a").await.unwrap(), None);
    s.put("a", b"1", Duration::from_secs(60)).await.unwrap();
    assert_eq!(s.get("a").await.unwrap().as_deref(), Some(&b"1"[..]));
    s.put("a", b"2", Duration::from_secs(60)).await.unwrap();
    assert_eq!(s.get("a").await.unwrap().as_deref(), Some(&b"2"[..]));
    s.delete("a").await.unwrap();
    assert_eq!(s.get("a").await.unwrap(), None);
    s.ping().await.unwrap();
}

async fn values_expire(s: &dyn StateStore) {
    s.put("e", b"x", Duration::from_millis(150)).await.unwrap();
    assert!(
        s.put_if_absent("n", b"x", Duration::from_millis(150))
            .await
            .unwrap()
    );
    assert_eq!(
        s.increment("c", Duration::from_millis(150)).await.unwrap(),
        1
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.get("e").await.unwrap(), None);
    assert_eq!(s.take("e").await.unwrap(), None);
    assert!(
        s.put_if_absent("n", b"x", Duration::from_secs(60))
            .await
            .unwrap(),
        "expired nonce must be free again"
    );
    assert_eq!(
        s.increment("c", Duration::from_secs(60)).await.unwrap(),
        1,
        "expired counter restarts"
    );
}

/// Runs `take` 32 times at once on a store holding `b"record"`: how many got it.
async fn concurrent_takers<F, T>(s: &Arc<dyn StateStore>, take: F) -> usize
where
    F: Fn(Arc<dyn StateStore>) -> T,
    T: Future<Output = Option<Vec<u8>>> + Send + 'static,
{
    let tasks: Vec<_> = (0..32).map(|_| tokio::spawn(take(Arc::clone(s)))).collect();
    let mut winners = 0;
    for t in tasks {
        if let Some(v) = t.await.unwrap() {
            assert_eq!(v, b"record");
            winners += 1;
        }
    }
    winners
}

async fn take_is_once_under_concurrency(s: Arc<dyn StateStore>) {
    s.put("t", b"record", Duration::from_secs(60))
        .await
        .unwrap();
    let winners = concurrent_takers(&s, |s| async move { s.take("t").await.unwrap() }).await;
    assert_eq!(winners, 1);
    assert_eq!(s.take("t").await.unwrap(), None);
}

async fn take_marking_is_once_and_leaves_its_marker(s: Arc<dyn StateStore>) {
    let ttl = Duration::from_millis(800);
    // Nothing to take: no marker either.
    assert_eq!(
        s.take_marking("m", "m-used", b"1", ttl).await.unwrap(),
        None
    );
    assert_eq!(s.get("m-used").await.unwrap(), None);
    s.put("m", b"record", Duration::from_secs(60))
        .await
        .unwrap();
    let winners = concurrent_takers(&s, move |s| async move {
        s.take_marking("m", "m-used", b"1", ttl).await.unwrap()
    })
    .await;
    assert_eq!(winners, 1);
    assert_eq!(s.get("m-used").await.unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(s.get("m").await.unwrap(), None);
    // The marker lives for its own time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(s.get("m-used").await.unwrap(), None);
}

async fn put_if_absent_has_one_winner(s: Arc<dyn StateStore>) {
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                s.put_if_absent("nonce", b"1", Duration::from_secs(60))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn counters_count_and_keep_their_window(s: Arc<dyn StateStore>) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.increment("k", Duration::from_millis(400)).await.unwrap() })
        })
        .collect();
    let mut seen: Vec<u64> = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<_>>());
    // Later increments do not extend the window.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(s.increment("k", Duration::from_secs(60)).await.unwrap(), 21);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(s.increment("k", Duration::from_secs(60)).await.unwrap(), 1);
}

fn charge(key: &str, limit: u64, window: Duration) -> Charge {
    Charge {
        key: key.to_owned(),
        window,
        limit,
    }
}

/// Charges count in order and stop at the first past its limit; a record is stored
/// only when none is.
async fn charges_stop_at_the_first_limit_passed(s: Arc<dyn StateStore>) {
    let minute = Duration::from_secs(60);
    let short = Duration::from_millis(300);
    let both = [charge("address", 2, short), charge("app", 3, minute)];
    assert_eq!(s.charge(&both).await.unwrap(), None);
    assert_eq!(
        s.put_new_charged("rec:1", b"one", minute, &both)
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.get("rec:1").await.unwrap().as_deref(), Some(&b"one"[..]));
    // The address's third event is refused, and the application's counter is spared.
    assert_eq!(
        s.put_new_charged("rec:2", b"two", minute, &both)
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(s.get("rec:2").await.unwrap(), None);
    assert_eq!(s.increment("app", minute).await.unwrap(), 3);
    // The application's limit, for another address.
    let other = [charge("address-2", 2, minute), charge("app", 3, minute)];
    assert_eq!(s.charge(&other).await.unwrap(), Some(1));
    assert_eq!(
        s.put_new_charged("rec:3", b"three", minute, &other)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(s.get("rec:3").await.unwrap(), None);
    // A counter's window starts at its first event: the address may start again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s.charge(&both[..1]).await.unwrap(), None);
    // Nothing to charge: the record alone, with its lifetime.
    assert_eq!(
        s.put_new_charged("rec:4", b"four", short, &[])
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.get("rec:4").await.unwrap().as_deref(), Some(&b"four"[..]));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(s.get("rec:4").await.unwrap(), None);
}

/// A callback's take: charged first, the record taken once (with its marker) only
/// when no limit was passed; a refused take leaves the record where it was.
async fn charged_takes_count_first_and_take_once(s: Arc<dyn StateStore>) {
    let minute = Duration::from_secs(60);
    let limits = [
        charge("cb-address", 2, minute),
        charge("cb-app", 100, minute),
    ];
    s.put("login:x", b"record", minute).await.unwrap();
    let take = |s: Arc<dyn StateStore>, limits: [Charge; 2]| async move {
        s.take_marking_charged("login:x", "login-used:x", b"1", minute, &limits)
            .await
            .unwrap()
    };
    assert_eq!(
        take(Arc::clone(&s), limits.clone()).await,
        Charged::Done(Some(b"record".to_vec()))
    );
    assert_eq!(
        s.get("login-used:x").await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    // Taken already: nothing, and still counted.
    assert_eq!(
        take(Arc::clone(&s), limits.clone()).await,
        Charged::Done(None)
    );
    // Past the address's limit the record is not touched, and the application's
    // counter is spared.
    s.put("login:x", b"again", minute).await.unwrap();
    assert_eq!(take(Arc::clone(&s), limits.clone()).await, Charged::Over(0));
    assert_eq!(
        s.get("login:x").await.unwrap().as_deref(),
        Some(&b"again"[..])
    );
    assert_eq!(s.increment("cb-app", minute).await.unwrap(), 3);
    // Nothing to charge: the take alone; of concurrent takers, one gets the record.
    s.put("login:x", b"record", minute).await.unwrap();
    let winners = concurrent_takers(&s, move |s| async move {
        match s
            .take_marking_charged("login:x", "login-used:x", b"1", minute, &[])
            .await
            .unwrap()
        {
            Charged::Done(taken) => taken,
            Charged::Over(_) => panic!("nothing was charged"),
        }
    })
    .await;
    assert_eq!(winners, 1);
    assert_eq!(s.get("login:x").await.unwrap(), None);
}

/// A callback spending a round that travelled sealed: charged first, the round's
/// marker stored once (one winner among concurrent callbacks) only when no limit was
/// passed, and for its lifetime only.
async fn charged_claims_count_first_and_claim_once(s: Arc<dyn StateStore>) {
    let minute = Duration::from_secs(60);
    let limits = [
        charge("claim-address", 2, minute),
        charge("claim-app", 100, minute),
    ];
    let claim = |s: Arc<dyn StateStore>, key: &'static str, limits: Vec<Charge>| async move {
        s.put_if_absent_charged(key, b"1", minute, &limits)
            .await
            .unwrap()
    };
    assert_eq!(
        claim(Arc::clone(&s), "spent:a", limits.to_vec()).await,
        Charged::Done(true)
    );
    assert_eq!(s.get("spent:a").await.unwrap().as_deref(), Some(&b"1"[..]));
    // Spent already: refused, and still counted.
    assert_eq!(
        claim(Arc::clone(&s), "spent:a", limits.to_vec()).await,
        Charged::Done(false)
    );
    // Past the address's limit nothing is stored, and the application's counter is
    // spared.
    assert_eq!(
        claim(Arc::clone(&s), "spent:b", limits.to_vec()).await,
        Charged::Over(0)
    );
    assert_eq!(s.get("spent:b").await.unwrap(), None);
    assert_eq!(s.increment("claim-app", minute).await.unwrap(), 3);
    // Nothing to charge: of concurrent callbacks, one spends the round.
    let winners = concurrent_takers(&s, move |s| async move {
        match s
            .put_if_absent_charged("spent:c", b"1", minute, &[])
            .await
            .unwrap()
        {
            Charged::Done(true) => Some(b"record".to_vec()),
            Charged::Done(false) => None,
            Charged::Over(_) => panic!("nothing was charged"),
        }
    })
    .await;
    assert_eq!(winners, 1);
    // The marker lives as long as it was given.
    let short = Duration::from_millis(150);
    assert_eq!(
        s.put_if_absent_charged("spent:d", b"1", short, &[])
            .await
            .unwrap(),
        Charged::Done(true)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.get("spent:d").await.unwrap(), None);
}

async fn contract(s: Arc<dyn StateStore>) {
    put_get_delete(s.as_ref()).await;
    values_expire(s.as_ref()).await;
    take_is_once_under_concurrency(Arc::clone(&s)).await;
    take_marking_is_once_and_leaves_its_marker(Arc::clone(&s)).await;
    put_if_absent_has_one_winner(Arc::clone(&s)).await;
    counters_count_and_keep_their_window(Arc::clone(&s)).await;
    charges_stop_at_the_first_limit_passed(Arc::clone(&s)).await;
    charged_takes_count_first_and_take_once(Arc::clone(&s)).await;
    charged_claims_count_first_and_claim_once(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_meets_the_contract() {
    contract(Arc::new(MemoryStateStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_meets_the_contract() {
    contract(Arc::new(redis().await)).await;
}

#[tokio::test]
async fn redis_cluster_store_meets_the_contract() {
    contract(Arc::new(redis_cluster().await)).await;
}

#[tokio::test]
async fn on_a_cluster_keys_spread_over_every_node_and_each_operation_stays_on_one() {
    // Many keys land in every slot range, so every node serves some; each operation
    // names one key, so none is refused with CROSSSLOT.
    let s = redis_cluster().await;
    for i in 0..60 {
        let key = format!("login:state-{i}");
        s.put(&key, b"v", Duration::from_secs(60)).await.unwrap();
        assert_eq!(
            s.increment(&format!("throttle:x:{i}"), Duration::from_secs(60))
                .await
                .unwrap(),
            1
        );
        assert!(
            s.put_if_absent(&format!("nonce:{i}"), b"1", Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert_eq!(s.take(&key).await.unwrap().as_deref(), Some(&b"v"[..]));
    }
}

#[tokio::test]
async fn redis_prefixes_keep_stores_apart() {
    let (a, b) = (redis().await, redis().await);
    a.put("same", b"a", Duration::from_secs(60)).await.unwrap();
    assert_eq!(b.get("same").await.unwrap(), None);
}

#[tokio::test]
async fn unreachable_redis_is_an_error_at_connect() {
    assert!(
        RedisStateStore::connect("redis://127.0.0.1:1", "x:")
            .await
            .is_err()
    );
}

/// Each thread reaches Redis through a connection run by its own runtime. A thread
/// whose runtime ended and that runs a new one must not be handed the connection the
/// old runtime ran (its task ended with it): its first operation on the new runtime
/// works. Other threads are served throughout.
#[tokio::test]
async fn a_thread_that_runs_a_new_runtime_is_served_at_once() {
    let store = redis().await;
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for round in 0..3 {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        // Long enough for the thread's own connection to open and
                        // serve: its first operations go through the shared one.
                        for i in 0..40 {
                            let key = format!("t{t}r{round}i{i}");
                            store
                                .put(&key, b"v", Duration::from_secs(60))
                                .await
                                .unwrap_or_else(|e| panic!("round {round}, op {i}: {e}"));
                            assert_eq!(store.take(&key).await.unwrap().as_deref(), Some(&b"v"[..]));
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                    });
                }
            })
        })
        .collect();
    // Joined off this runtime: it runs the shared connection those threads start on.
    for t in threads {
        tokio::task::spawn_blocking(move || t.join())
            .await
            .unwrap()
            .unwrap();
    }
    // The store's own runtime is still served.
    store
        .put("after", b"v", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store.get("after").await.unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

/// Login-start charges on Redis: judged at once by the counts a store knows, and shared
/// with the other stores (instances) within a flush. A store that never counted on a
/// counter lets one event through before it hears the others' counts — the bound on
/// what a limit lets through across instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soon_charges_hold_at_once_in_one_store_and_across_stores_within_a_flush() {
    let url =
        std::env::var("FG_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("fedgate-test:{}:", uuid::Uuid::new_v4());
    let a = RedisStateStore::connect(&url, &prefix).await.unwrap();
    let b = RedisStateStore::connect(&url, &prefix).await.unwrap();
    let minute = Duration::from_secs(60);
    let limit = [charge("starts", 3, minute)];
    for _ in 0..3 {
        assert_eq!(a.charge_soon(&limit).await.unwrap(), None);
    }
    assert_eq!(a.charge_soon(&limit).await.unwrap(), Some(0), "at once");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.charge_soon(&limit).await.unwrap(), None, "not heard yet");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.charge_soon(&limit).await.unwrap(), Some(0), "heard");
    // A counter near its limit is heard without counting: `a` knows of `b`'s.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        a.increment("starts", minute).await.unwrap(),
        7,
        "all shared"
    );
    // The same charges on the in-process store are exact, as `charge` is.
    let memory = MemoryStateStore::new();
    for _ in 0..3 {
        assert_eq!(memory.charge_soon(&limit).await.unwrap(), None);
    }
    assert_eq!(memory.charge_soon(&limit).await.unwrap(), Some(0));
}

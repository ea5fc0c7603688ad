//! One conformance suite for every [`IdempotencyStore`]: the state machine of the trait's docs, edge by
//! edge, and exactly one claim among concurrent ones, run against the memory store always and against
//! a real Redis and PostgreSQL when the features `redis` and `postgres` are on.
//!
//! The servers are named by `STRIPE_WEBHOOK_TEST_REDIS_URL` and `STRIPE_WEBHOOK_TEST_POSTGRES_URL`;
//! `bash scripts/test.sh` starts throwaway ones and sets both. A store test whose variable is missing or
//! whose server cannot be reached fails, saying so: it never passes without having run.
//!
//! To hold your own store to the contract, call [`conformance`] with four handles on it.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tower_stripe_webhook::{Claim, IdempotencyStore, MemoryStore};

/// A lease no test outlives.
const LONG: Duration = Duration::from_secs(60);
/// A lease or retention the tests wait out: short, but far above a round trip to a local server.
const SHORT: Duration = Duration::from_millis(300);
/// How long past [`SHORT`] the tests sleep: expiry is the store's to judge, on its own clock.
const PAST_SHORT: Duration = Duration::from_millis(700);

/// A prefix no other run of these tests uses, so that reruns against the same server do not collide.
fn run_prefix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!(
        "test-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn in_progress(claim: Claim, lease: Duration, edge: &str) {
    match claim {
        Claim::InProgress { retry_after } => assert!(
            retry_after <= lease,
            "{edge}: retry_after {retry_after:?} is longer than the lease {lease:?}"
        ),
        other => panic!("{edge}: expected InProgress, got {other:?}"),
    }
}

/// The whole contract, against four handles on one store (clones, or separate connections or pools to
/// the same server), under keys starting with `run`.
async fn conformance<S: IdempotencyStore>(stores: [S; 4], run: &str) {
    let store = &stores[0];
    let key = |name: &str| format!("{run}:{name}");

    // absent -> Claimed; processing -> InProgress for anyone, the owner included, within the lease.
    let k = key("claim");
    assert_eq!(
        store.claim(&k, "a", LONG).await.unwrap(),
        Claim::Claimed,
        "claim of an absent key"
    );
    in_progress(
        store.claim(&k, "b", LONG).await.unwrap(),
        LONG,
        "claim while processing",
    );
    in_progress(
        store.claim(&k, "a", LONG).await.unwrap(),
        LONG,
        "the owner's second claim",
    );
    in_progress(
        stores[1].claim(&k, "b", LONG).await.unwrap(),
        LONG,
        "claim through another handle",
    );

    // Another owner's complete or release changes nothing.
    assert!(
        !store.complete(&k, "b", LONG).await.unwrap(),
        "complete by another owner"
    );
    assert!(!store.release(&k, "b").await.unwrap(), "release by another owner");
    in_progress(
        store.claim(&k, "c", LONG).await.unwrap(),
        LONG,
        "after another owner's complete and release",
    );

    // complete by the owner -> Done, for everyone; nothing completes or releases a done key.
    assert!(
        store.complete(&k, "a", LONG).await.unwrap(),
        "complete by the owner"
    );
    assert_eq!(
        store.claim(&k, "b", LONG).await.unwrap(),
        Claim::Done,
        "claim of a done key"
    );
    assert_eq!(
        stores[2].claim(&k, "a", LONG).await.unwrap(),
        Claim::Done,
        "the owner's claim of its done key"
    );
    assert!(
        !store.complete(&k, "a", LONG).await.unwrap(),
        "complete of a done key"
    );
    assert!(!store.release(&k, "a").await.unwrap(), "release of a done key");
    assert_eq!(
        store.claim(&k, "b", LONG).await.unwrap(),
        Claim::Done,
        "done stays done"
    );

    // release by the owner -> absent: the next claim, anyone's, is Claimed.
    let k = key("release");
    assert_eq!(store.claim(&k, "a", LONG).await.unwrap(), Claim::Claimed);
    assert!(store.release(&k, "a").await.unwrap(), "release by the owner");
    assert!(!store.release(&k, "a").await.unwrap(), "a second release");
    assert!(
        !store.complete(&k, "a", LONG).await.unwrap(),
        "complete after release"
    );
    assert_eq!(
        stores[3].claim(&k, "b", LONG).await.unwrap(),
        Claim::Claimed,
        "claim after release"
    );
    in_progress(
        store.claim(&k, "a", LONG).await.unwrap(),
        LONG,
        "the released owner's claim after another's",
    );

    // Namespaced keys are independent.
    let (one, two) = (key("ns-one:evt_1"), key("ns-two:evt_1"));
    assert_eq!(store.claim(&one, "a", LONG).await.unwrap(), Claim::Claimed);
    assert_eq!(
        store.claim(&two, "a", LONG).await.unwrap(),
        Claim::Claimed,
        "the same event in another namespace"
    );
    assert!(store.complete(&one, "a", LONG).await.unwrap());
    in_progress(
        store.claim(&two, "b", LONG).await.unwrap(),
        LONG,
        "the other namespace after complete",
    );
    assert!(store.release(&two, "a").await.unwrap());
    assert_eq!(
        store.claim(&one, "b", LONG).await.unwrap(),
        Claim::Done,
        "the first namespace after release"
    );

    // The expiry edges, each waiting out a short lease or retention, run side by side.
    tokio::join!(
        // An expired lease is absent: another owner claims it, and the first owner's late complete and
        // release change nothing.
        async {
            let k = key("expired-lease");
            assert_eq!(store.claim(&k, "a", SHORT).await.unwrap(), Claim::Claimed);
            in_progress(
                store.claim(&k, "b", SHORT).await.unwrap(),
                SHORT,
                "claim within a short lease",
            );
            tokio::time::sleep(PAST_SHORT).await;
            assert_eq!(
                stores[1].claim(&k, "b", LONG).await.unwrap(),
                Claim::Claimed,
                "claim after the lease"
            );
            assert!(
                !store.complete(&k, "a", LONG).await.unwrap(),
                "the first owner's late complete"
            );
            assert!(
                !store.release(&k, "a").await.unwrap(),
                "the first owner's late release"
            );
            in_progress(
                store.claim(&k, "c", LONG).await.unwrap(),
                LONG,
                "the new owner's claim survives",
            );
            assert!(
                store.complete(&k, "b", LONG).await.unwrap(),
                "the new owner's complete"
            );
            assert_eq!(store.claim(&k, "c", LONG).await.unwrap(), Claim::Done);
        },
        // An owner whose lease ran out no longer holds it, even with nobody else there.
        async {
            let k = key("expired-unclaimed");
            assert_eq!(store.claim(&k, "a", SHORT).await.unwrap(), Claim::Claimed);
            tokio::time::sleep(PAST_SHORT).await;
            assert!(
                !store.complete(&k, "a", LONG).await.unwrap(),
                "complete after the lease"
            );
            assert!(!store.release(&k, "a").await.unwrap(), "release after the lease");
            assert_eq!(
                store.claim(&k, "b", LONG).await.unwrap(),
                Claim::Claimed,
                "claim of the expired key"
            );
        },
        // An expired retention is absent.
        async {
            let k = key("expired-retention");
            assert_eq!(store.claim(&k, "a", LONG).await.unwrap(), Claim::Claimed);
            assert!(store.complete(&k, "a", SHORT).await.unwrap());
            assert_eq!(
                store.claim(&k, "b", LONG).await.unwrap(),
                Claim::Done,
                "claim within the retention"
            );
            tokio::time::sleep(PAST_SHORT).await;
            assert_eq!(
                stores[2].claim(&k, "b", LONG).await.unwrap(),
                Claim::Claimed,
                "claim after the retention"
            );
            assert!(store.complete(&k, "b", LONG).await.unwrap());
        },
    );

    // Exactly once under concurrency: 64 claims of one key at once, spread over the four handles,
    // make one owner; again after it releases; and none once it is done.
    for round in 0..3 {
        let k = key(&format!("concurrent-{round}"));
        for phase in ["absent", "released", "done"] {
            let mut claims = tokio::task::JoinSet::new();
            for i in 0..64 {
                let store = stores[i % 4].clone();
                let k = k.clone();
                claims.spawn(async move {
                    let owner = format!("{phase}-{i}");
                    let claim = store.claim(&k, &owner, LONG).await.unwrap();
                    (owner, claim)
                });
            }
            let results = claims.join_all().await;
            let owners: Vec<&str> = results
                .iter()
                .filter(|(_, claim)| *claim == Claim::Claimed)
                .map(|(owner, _)| owner.as_str())
                .collect();
            match phase {
                "done" => {
                    assert!(owners.is_empty(), "claims of a done key: {owners:?} claimed it");
                    assert!(results.iter().all(|(_, claim)| *claim == Claim::Done));
                }
                _ => {
                    assert_eq!(
                        owners.len(),
                        1,
                        "{phase} key, 64 concurrent claims: {owners:?} claimed it"
                    );
                    for (_, claim) in &results {
                        if *claim != Claim::Claimed {
                            in_progress(*claim, LONG, "a concurrent claim that lost");
                        }
                    }
                    let owner = owners[0];
                    if phase == "absent" {
                        assert!(
                            store.release(&k, owner).await.unwrap(),
                            "release by the one owner"
                        );
                    } else {
                        assert!(
                            store.complete(&k, owner, LONG).await.unwrap(),
                            "complete by the one owner"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_conformance() {
    let store = MemoryStore::new();
    conformance(
        [store.clone(), store.clone(), store.clone(), store],
        &run_prefix(),
    )
    .await;
}

/// The variable naming a test server, or a failure saying how to start one.
#[cfg(any(feature = "redis", feature = "postgres"))]
fn server_url(variable: &str, what: &str) -> String {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{variable} is not set, so the {what} store cannot be tested: run the tests with \
             `bash scripts/test.sh`, which starts a throwaway Redis and PostgreSQL and sets \
             STRIPE_WEBHOOK_TEST_REDIS_URL and STRIPE_WEBHOOK_TEST_POSTGRES_URL (or point {variable} at a \
             {what} you can write to)"
        ),
    }
}

#[cfg(any(feature = "redis", feature = "postgres"))]
fn unreachable(variable: &str, url: &str, what: &str, error: impl std::fmt::Display) -> ! {
    panic!(
        "cannot reach the {what} server at {url} ({variable}): {error}. Start one with \
         `bash scripts/test.sh` (it runs the tests between starting and stopping a throwaway Redis and \
         PostgreSQL)"
    )
}

#[cfg(feature = "redis")]
mod redis_store {
    use super::*;
    use redis::aio::ConnectionManager;
    use tower_stripe_webhook::{RedisStore, DEFAULT_REDIS_PREFIX};

    const VARIABLE: &str = "STRIPE_WEBHOOK_TEST_REDIS_URL";

    /// A connection of its own to the test server.
    async fn connection() -> ConnectionManager {
        let url = server_url(VARIABLE, "Redis");
        let client = redis::Client::open(url.as_str())
            .unwrap_or_else(|error| unreachable(VARIABLE, &url, "Redis", error));
        let config = redis::aio::ConnectionManagerConfig::new().set_number_of_retries(1);
        match tokio::time::timeout(
            Duration::from_secs(10),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => unreachable(VARIABLE, &url, "Redis", error),
            Err(_) => unreachable(VARIABLE, &url, "Redis", "no answer in 10 s"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn redis_store_conformance() {
        let run = run_prefix();
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(RedisStore::new(connection().await));
        }
        let stores: [RedisStore; 4] = stores.try_into().unwrap();
        conformance(stores, &run).await;
    }

    #[tokio::test]
    async fn redis_store_keeps_its_keys_under_its_prefix_and_expiring() {
        let mut connection = connection().await;
        let run = run_prefix();
        let prefix = format!("{DEFAULT_REDIS_PREFIX}{run}:");
        let store = RedisStore::new(connection.clone()).prefix(prefix.clone());
        assert_eq!(
            store.claim("evt_1", "owner-a", LONG).await.unwrap(),
            Claim::Claimed
        );
        let key = format!("{prefix}evt_1");
        let value: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(value, "p:owner-a");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(0 < ttl && ttl <= 60_000, "{ttl}");
        assert!(store
            .complete("evt_1", "owner-a", Duration::from_secs(3600))
            .await
            .unwrap());
        let value: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(value, "done");
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(60_000 < ttl && ttl <= 3_600_000, "{ttl}");
        // An owner called "done" cannot pass for a done key.
        assert_eq!(store.claim("evt_2", "done", LONG).await.unwrap(), Claim::Claimed);
        assert!(matches!(
            store.claim("evt_2", "b", LONG).await.unwrap(),
            Claim::InProgress { .. }
        ));
        let _: () = redis::cmd("DEL")
            .arg(&key)
            .arg(format!("{prefix}evt_2"))
            .query_async(&mut connection)
            .await
            .unwrap();
    }
}

#[cfg(feature = "postgres")]
mod postgres_store {
    use super::*;
    use deadpool_postgres::{tokio_postgres::NoTls, Pool};
    use tower_stripe_webhook::PostgresStore;

    const VARIABLE: &str = "STRIPE_WEBHOOK_TEST_POSTGRES_URL";

    /// A pool of its own on the test server, checked by one connection.
    async fn pool() -> Pool {
        let url = server_url(VARIABLE, "PostgreSQL");
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.clone());
        let pool = config
            .create_pool(None, NoTls)
            .unwrap_or_else(|error| unreachable(VARIABLE, &url, "PostgreSQL", error));
        match tokio::time::timeout(Duration::from_secs(10), pool.get()).await {
            Ok(Ok(_)) => pool,
            Ok(Err(error)) => unreachable(VARIABLE, &url, "PostgreSQL", error),
            Err(_) => unreachable(VARIABLE, &url, "PostgreSQL", "no answer in 10 s"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_store_conformance() {
        let run = run_prefix();
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(PostgresStore::new(pool().await));
        }
        // migrate is idempotent, and concurrent tests share the default table.
        stores[0].migrate().await.unwrap();
        stores[1].migrate().await.unwrap();
        let stores: [PostgresStore; 4] = stores.try_into().unwrap();
        conformance(stores, &run).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_store_in_its_own_table_deletes_expired_rows() {
        let pool = pool().await;
        let table = format!("events_{}", run_prefix().replace('-', "_"));
        let store = PostgresStore::new(pool.clone()).table(&table);
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.claim("evt_live", "a", LONG).await.unwrap(), Claim::Claimed);
        assert_eq!(
            store
                .claim("evt_lease", "a", Duration::from_millis(1))
                .await
                .unwrap(),
            Claim::Claimed
        );
        assert_eq!(store.claim("evt_done", "a", LONG).await.unwrap(), Claim::Claimed);
        assert!(store
            .complete("evt_done", "a", Duration::from_millis(1))
            .await
            .unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(store.delete_expired().await.unwrap(), 2);
        let client = pool.get().await.unwrap();
        let keys: Vec<String> = client
            .query(&format!("SELECT key FROM \"{table}\" ORDER BY key"), &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(keys, ["evt_live"]);
        client
            .batch_execute(&format!("DROP TABLE \"{table}\""))
            .await
            .unwrap();
    }

    #[test]
    #[should_panic(expected = "not an identifier")]
    fn postgres_store_refuses_a_table_name_that_is_not_an_identifier() {
        let mut config = deadpool_postgres::Config::new();
        config.dbname = Some("unused".into());
        let pool = config.create_pool(None, NoTls).unwrap();
        let _ = PostgresStore::new(pool).table("events; DROP TABLE users");
    }
}

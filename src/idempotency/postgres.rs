//! [`PostgresStore`]: the idempotency store on PostgreSQL (feature `postgres`).

use std::{sync::Arc, time::Duration};

use deadpool_postgres::Pool;

use super::store::{Claim, IdempotencyStore, StoreError};

/// The table [`PostgresStore::new`] uses.
///
/// ```
/// assert_eq!(tower_stripe_webhook::DEFAULT_POSTGRES_TABLE, "stripe_webhook_events");
/// ```
pub const DEFAULT_POSTGRES_TABLE: &str = "stripe_webhook_events";

/// How many times a claim reads again when the row it collided with went away (released, or expired)
/// between its two statements: each time, someone else made progress.
const CLAIM_ATTEMPTS: usize = 8;

/// An idempotency store on PostgreSQL: one row per event in a table (default
/// [`DEFAULT_POSTGRES_TABLE`]), with the event key as primary key, its state (`processing` or `done`),
/// its owner, and `expires_at` (the end of the lease, then of the retention), judged by the database's
/// `now()`.
///
/// A claim is one `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expires_at <= now() RETURNING`:
/// it inserts an absent key, takes over an expired one, and leaves a live one alone (then a second
/// statement reads what holds it). Complete and release change the row only `WHERE owner = $2 AND
/// state = 'processing' AND expires_at > now()`. Expired rows stay until [`delete_expired`]
/// (call it now and then, for example daily); they count as absent meanwhile.
///
/// The pool is yours, and so is its TLS connector. Create the table with [`migrate`] (or with your
/// own migrations: [`migrate`]'s SQL is its documentation). Clones share the pool.
///
/// [`delete_expired`]: Self::delete_expired
/// [`migrate`]: Self::migrate
///
/// ```no_run
/// use deadpool_postgres::tokio_postgres::NoTls;
/// use tower_stripe_webhook::{IdempotencyLayer, PostgresStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut config = deadpool_postgres::Config::new();
/// config.url = Some("postgres://webhooks@127.0.0.1/shop".into());
/// let pool = config.create_pool(None, NoTls)?;
/// let store = PostgresStore::new(pool);
/// store.migrate().await?;
/// let layer = IdempotencyLayer::new(store).namespace("billing");
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub struct PostgresStore {
    pool: Pool,
    sql: Arc<Sql>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("table", &self.sql.table)
            .finish_non_exhaustive()
    }
}

/// The statements, written once for the table's name.
#[derive(Debug)]
struct Sql {
    table: String,
    migrate: String,
    claim: String,
    holder: String,
    complete: String,
    release: String,
    delete_expired: String,
}

impl Sql {
    fn new(table: &str) -> Self {
        let quoted = table
            .split('.')
            .map(|part| format!("\"{part}\""))
            .collect::<Vec<_>>()
            .join(".");
        let index = format!("\"{}_expires_at\"", table.rsplit('.').next().unwrap_or(table));
        Self {
            table: table.to_owned(),
            migrate: format!(
                "CREATE TABLE IF NOT EXISTS {quoted} (
                    key text PRIMARY KEY,
                    state text NOT NULL CHECK (state IN ('processing', 'done')),
                    owner text NOT NULL,
                    expires_at timestamptz NOT NULL
                );
                CREATE INDEX IF NOT EXISTS {index} ON {quoted} (expires_at)"
            ),
            claim: format!(
                "INSERT INTO {quoted} AS t (key, state, owner, expires_at)
                 VALUES ($1, 'processing', $2, now() + $3::bigint * interval '1 millisecond')
                 ON CONFLICT (key) DO UPDATE
                    SET state = 'processing', owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
                    WHERE t.expires_at <= now()
                 RETURNING 1::int4"
            ),
            holder: format!(
                "SELECT state, ceil(extract(epoch FROM expires_at - now()) * 1000)::int8
                 FROM {quoted} WHERE key = $1"
            ),
            complete: format!(
                "UPDATE {quoted}
                 SET state = 'done', expires_at = now() + $3::bigint * interval '1 millisecond'
                 WHERE key = $1 AND owner = $2 AND state = 'processing' AND expires_at > now()"
            ),
            release: format!(
                "DELETE FROM {quoted}
                 WHERE key = $1 AND owner = $2 AND state = 'processing' AND expires_at > now()"
            ),
            delete_expired: format!("DELETE FROM {quoted} WHERE expires_at <= now()"),
        }
    }
}

/// Whether `table` is a plain identifier, or two joined by a dot (`schema.table`): the name goes into
/// the SQL, so nothing else is accepted.
fn valid_table(table: &str) -> bool {
    let parts: Vec<&str> = table.split('.').collect();
    parts.len() <= 2
        && parts.iter().all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && part.len() <= 63
        })
}

/// Whole milliseconds, rounded up (a lease is never shorter than asked), as the `bigint` the SQL takes.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos().div_ceil(1_000_000))
        .unwrap_or(i64::MAX)
        // Postgres's timestamps end in 294276 AD: a century is plenty.
        .min(100 * 365 * 86_400 * 1000)
}

impl PostgresStore {
    /// A store on `pool`, in the table [`DEFAULT_POSTGRES_TABLE`].
    ///
    /// ```no_run
    /// # fn run(pool: deadpool_postgres::Pool) {
    /// let store = tower_stripe_webhook::PostgresStore::new(pool);
    /// # let _ = store;
    /// # }
    /// ```
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            sql: Arc::new(Sql::new(DEFAULT_POSTGRES_TABLE)),
        }
    }

    /// The table the store uses: an identifier of ASCII letters, digits and `_` (not starting with a
    /// digit, at most 63 bytes), or `schema.table`. It is quoted in the SQL, so it is case-sensitive.
    ///
    /// # Panics
    ///
    /// If `table` is not such a name.
    ///
    /// ```no_run
    /// # fn run(pool: deadpool_postgres::Pool) {
    /// let store = tower_stripe_webhook::PostgresStore::new(pool).table("billing.stripe_events");
    /// # let _ = store;
    /// # }
    /// ```
    #[must_use]
    pub fn table(mut self, table: &str) -> Self {
        assert!(
            valid_table(table),
            "PostgresStore::table: {table:?} is not an identifier ([A-Za-z_][A-Za-z0-9_]*, optionally schema.table)"
        );
        self.sql = Arc::new(Sql::new(table));
        self
    }

    /// Creates the table (and an index on `expires_at`) if absent:
    ///
    /// ```sql
    /// CREATE TABLE IF NOT EXISTS "stripe_webhook_events" (
    ///     key text PRIMARY KEY,
    ///     state text NOT NULL CHECK (state IN ('processing', 'done')),
    ///     owner text NOT NULL,
    ///     expires_at timestamptz NOT NULL
    /// );
    /// CREATE INDEX IF NOT EXISTS "stripe_webhook_events_expires_at" ON "stripe_webhook_events" (expires_at)
    /// ```
    ///
    /// ```no_run
    /// # async fn run(pool: deadpool_postgres::Pool) -> Result<(), tower_stripe_webhook::StoreError> {
    /// tower_stripe_webhook::PostgresStore::new(pool).migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(StoreError::new)?;
        client
            .batch_execute(&self.sql.migrate)
            .await
            .map_err(StoreError::new)
    }

    /// Deletes the rows whose lease or retention has ended (they already count as absent); answers how
    /// many went.
    ///
    /// ```no_run
    /// # async fn run(store: tower_stripe_webhook::PostgresStore) -> Result<(), tower_stripe_webhook::StoreError> {
    /// let deleted = store.delete_expired().await?;
    /// println!("{deleted} expired webhook events deleted");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await.map_err(StoreError::new)?;
        client
            .execute(&self.sql.delete_expired, &[])
            .await
            .map_err(StoreError::new)
    }

    /// Runs `statement` (prepared once per connection) with `params`; answers the rows it changed.
    async fn execute(
        &self,
        statement: &str,
        params: &[&(dyn deadpool_postgres::tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.pool.get().await.map_err(StoreError::new)?;
        let statement = client.prepare_cached(statement).await.map_err(StoreError::new)?;
        client.execute(&statement, params).await.map_err(StoreError::new)
    }
}

impl IdempotencyStore for PostgresStore {
    async fn claim(&self, key: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let client = self.pool.get().await.map_err(StoreError::new)?;
        let claim = client
            .prepare_cached(&self.sql.claim)
            .await
            .map_err(StoreError::new)?;
        let holder = client
            .prepare_cached(&self.sql.holder)
            .await
            .map_err(StoreError::new)?;
        let lease = millis(lease);
        for _ in 0..CLAIM_ATTEMPTS {
            let claimed = client
                .query_opt(&claim, &[&key, &owner, &lease])
                .await
                .map_err(StoreError::new)?;
            if claimed.is_some() {
                return Ok(Claim::Claimed);
            }
            // A live row holds the key. Read it; if it went away meanwhile (released, or it expired),
            // claim again.
            let row = client
                .query_opt(&holder, &[&key])
                .await
                .map_err(StoreError::new)?;
            let Some(row) = row else { continue };
            let state: &str = row.try_get(0).map_err(StoreError::new)?;
            let left: i64 = row.try_get(1).map_err(StoreError::new)?;
            if left <= 0 {
                continue;
            }
            return Ok(match state {
                "done" => Claim::Done,
                _ => Claim::InProgress {
                    retry_after: Duration::from_millis(left as u64),
                },
            });
        }
        Err(StoreError::msg(format!(
            "idempotency store error: the key {key:?} changed hands {CLAIM_ATTEMPTS} times during one claim"
        )))
    }

    async fn complete(&self, key: &str, owner: &str, retention: Duration) -> Result<bool, StoreError> {
        let changed = self
            .execute(&self.sql.complete, &[&key, &owner, &millis(retention)])
            .await?;
        Ok(changed == 1)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let changed = self.execute(&self.sql.release, &[&key, &owner]).await?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_identifiers() {
        for good in ["stripe_webhook_events", "billing.events", "_t", "T1"] {
            assert!(valid_table(good), "{good}");
        }
        for bad in [
            "",
            "1t",
            "a.b.c",
            "t; DROP TABLE x",
            "t\"",
            "a.",
            ".a",
            "événements",
            &"t".repeat(64),
        ] {
            assert!(!valid_table(bad), "{bad}");
        }
    }

    #[test]
    fn millis_round_up() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_secs(300)), 300_000);
        assert_eq!(millis(Duration::MAX), 100 * 365 * 86_400 * 1000);
    }

    #[test]
    fn the_schema_and_table_are_quoted() {
        let sql = Sql::new("billing.events");
        assert!(sql.migrate.contains("\"billing\".\"events\""), "{}", sql.migrate);
        assert!(sql.migrate.contains("\"events_expires_at\""), "{}", sql.migrate);
    }
}

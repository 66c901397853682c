//! Postgres through sqlx: one pool per service, scoped to the service's own schema.
//!
//! All connection checkouts go through [`Db`], so the pool metrics see every one: callers
//! waiting, how long they waited, and how long each connection was held ([`Conn`], [`Tx`]).

use std::{
    ops::{Deref, DerefMut},
    str::FromStr as _,
    time::Instant,
};

use anyhow::Context as _;
use sqlx::{
    PgConnection, PgPool, Postgres, Transaction,
    migrate::Migrator,
    pool::PoolConnection,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{config::DatabaseSettings, metrics::Metrics};

#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    metrics: Metrics,
}

impl Db {
    /// Creates `schema` if needed and returns a pool whose connections use it as `search_path`.
    /// `schema` is a compile-time identifier of the service, never user input.
    pub async fn connect(
        settings: &DatabaseSettings,
        schema: &'static str,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let base = PgConnectOptions::from_str(&settings.url).context("parsing DATABASE_URL")?;
        let bootstrap = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(base.clone())
            .await
            .context("connecting to Postgres")?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&bootstrap)
            .await
            .with_context(|| format!("creating schema {schema}"))?;
        bootstrap.close().await;

        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(base.options([("search_path", schema)]))
            .await
            .context("opening the connection pool")?;
        Ok(Self {
            pool,
            metrics: metrics.clone(),
        })
    }

    /// Applies the service's migrations (inside its schema).
    pub async fn migrate(&self, migrator: &Migrator) -> anyhow::Result<()> {
        migrator
            .run(&self.pool)
            .await
            .context("running database migrations")
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A connection from the pool, timing the wait; the hold is timed until it is dropped.
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        let conn = self.checkout(self.pool.acquire()).await?;
        Ok(Conn {
            inner: conn,
            _held: Held::since_now(&self.metrics),
        })
    }

    /// A transaction on a pooled connection, timing the wait; the hold is timed until it is
    /// committed, rolled back or dropped.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let tx = self.checkout(self.pool.begin()).await?;
        Ok(Tx {
            inner: Some(tx),
            _held: Held::since_now(&self.metrics),
        })
    }

    /// Counts the caller as waiting and times the wait.
    async fn checkout<T>(
        &self,
        waiting: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let started = Instant::now();
        self.metrics.pool_waiting(1);
        let _done = OnDrop(|| self.metrics.pool_waiting(-1));
        let got = waiting.await;
        self.metrics.observe_pool_wait(started.elapsed());
        got
    }

    /// Readiness: can we run a query right now?
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        Ok(())
    }
}

/// Runs a closure when dropped (also when the future holding it is cancelled).
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Times how long a connection is held.
struct Held {
    since: Instant,
    metrics: Metrics,
}

impl Held {
    fn since_now(metrics: &Metrics) -> Self {
        Self {
            since: Instant::now(),
            metrics: metrics.clone(),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.metrics.observe_pool_use(self.since.elapsed());
    }
}

/// A pooled connection; derefs to the connection, for queries: `.execute(&mut *conn)`.
pub struct Conn {
    inner: PoolConnection<Postgres>,
    _held: Held,
}

impl Deref for Conn {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.inner
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.inner
    }
}

/// A transaction on a pooled connection; derefs to the connection, for queries.
pub struct Tx {
    inner: Option<Transaction<'static, Postgres>>,
    _held: Held,
}

impl Tx {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        match self.inner.take() {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        match self.inner.take() {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }
}

impl Deref for Tx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.inner.as_deref().expect("a live transaction")
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.inner.as_deref_mut().expect("a live transaction")
    }
}

/// A client span for one database operation, named and attributed per the OTel database
/// semantic conventions: `db_span!("INSERT", "ledger.transfers")`.
#[macro_export]
macro_rules! db_span {
    ($operation:expr, $collection:expr) => {
        ::tracing::info_span!(
            "db",
            otel.name = concat!($operation, " ", $collection),
            otel.kind = "client",
            db.system = "postgresql",
            db.system.name = "postgresql",
            db.operation.name = $operation,
            db.collection.name = $collection,
        )
    };
}

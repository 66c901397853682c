//! Postgres through sqlx: one pool per service, scoped to the service's own schema.
//!
//! All connection checkouts go through [`Db`] so the pool-wait histogram sees every one.

use std::{str::FromStr as _, time::Instant};

use anyhow::Context as _;
use sqlx::{
    PgPool, Postgres, Transaction,
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

    /// A connection from the pool, timing the wait.
    pub async fn acquire(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let started = Instant::now();
        let conn = self.pool.acquire().await;
        self.metrics.observe_pool_wait(started.elapsed());
        conn
    }

    /// A transaction on a pooled connection, timing the wait.
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let started = Instant::now();
        let tx = self.pool.begin().await;
        self.metrics.observe_pool_wait(started.elapsed());
        tx
    }

    /// Readiness: can we run a query right now?
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        Ok(())
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

//! What a test reads from a running service, and how it switches one.

use contract::scenario::{Mode, Scenario};
use serde_json::json;

use crate::ADMIN_TOKEN;

/// One sample (`name` or `name{labels}`) of `<url>/metrics`; NaN when it is not exported.
pub async fn metric(http: &reqwest::Client, url: &str, series: &str) -> f64 {
    let text = metrics(http, url).await;
    kit::testing::metric_value(&text, series).unwrap_or(f64::NAN)
}

/// `<url>/metrics` as text.
pub async fn metrics(http: &reqwest::Client, url: &str) -> String {
    http.get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics scraped")
        .text()
        .await
        .expect("metrics text")
}

/// `metric{spawn_site}` of `<url>/metrics`, summed over the spawn sites in `file`.
pub async fn per_file(http: &reqwest::Client, url: &str, metric: &str, file: &str) -> f64 {
    let in_file = |labels: &std::collections::BTreeMap<String, String>| {
        labels
            .get("spawn_site")
            .is_some_and(|site| site.starts_with(&format!("{file}:")))
    };
    let series = contract::prom_text::parse(&metrics(http, url).await);
    contract::prom_text::sum(&series, metric, in_file).unwrap_or(0.0)
}

/// Switches `scenario` on the service at `url` through its admin API.
pub async fn set_scenario(http: &reqwest::Client, url: &str, scenario: Scenario, mode: Mode) {
    http.put(format!("{url}/admin/scenarios/{scenario}"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "mode": mode }))
        .send()
        .await
        .expect("admin API answers")
        .error_for_status()
        .expect("switched");
}

/// One number from the database (`SELECT count(*) ...`), for what the API does not show.
pub async fn scalar(database_url: &str, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(database_url).await.expect("connect");
    let value: i64 = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .expect("query");
    pool.close().await;
    value
}

//! `leakstorm top` as a person sees it: in a real terminal (tmux, 80×24, `NO_COLOR`), during a
//! short leaky storm against a native fleet, read back with `tmux capture-pane`. The screen must
//! show risk's alive tasks over the alert threshold and the spawn site in `deep_scoring.rs`, a
//! plain line for a service that does not answer, the mode switch on `m`, and quit on `q`.

use std::time::{Duration, Instant};

use crate::support::{API_KEY, CARD, Fleet, tmux::Tmux};

/// `leakstorm top` on `fleet`, with the ledger at `ledger` (a dead URL, or the fleet's own).
fn top_command(fleet: &Fleet, ledger: &str) -> String {
    let url = |name| fleet.fleet().url(name).expect("service URL");
    format!(
        "{} top --gateway-url {} --payments-url {} --risk-url {} --ledger-url {ledger} --admin-token {}",
        env!("CARGO_BIN_EXE_leakstorm"),
        url("gateway"),
        url("payments"),
        url("risk"),
        crate::support::ADMIN_TOKEN
    )
}

/// The alive-task figure of risk's row, if it carries the alert mark (`!`).
fn risk_tasks_over_threshold(screen: &str) -> Option<u64> {
    let row = screen
        .lines()
        .find(|l| l.trim_start().starts_with("risk "))?;
    let marked = row.split_whitespace().find(|w| w.starts_with('!'))?;
    marked.trim_start_matches('!').parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_shows_a_leaky_storm_live_in_an_80_by_24_terminal() {
    let fleet = Fleet::start(vec![
        ("risk", "RISK_MODE", "leaky"),
        ("risk", "RISK_SLOW_DEPENDENCY_MS", "20000"),
        ("risk", "RISK_SLOW_DEPENDENCY_CAPACITY", "0"),
    ])
    .await;
    let url = |name| fleet.fleet().url(name).expect("service URL");
    // A ledger URL nobody answers on: top must say so and keep going.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let dead = format!("http://{}", nobody.local_addr().expect("address"));
    drop(nobody);
    let command = top_command(&fleet, &dead);
    let tmux = Tmux::start("leakstorm-top", 80, 24, &command);
    tmux.wait_for("the table", Duration::from_secs(10), |s| {
        s.contains("gateway")
    })
    .await;

    // A short leaky storm: 40 deep payments whose callers give up after a second.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let gateway = url("gateway");
    let storm = (0..40).map(|i| {
        let (http, gateway) = (http.clone(), gateway.clone());
        async move {
            let body = serde_json::json!({
                "amount": 75_000, "currency": "EUR", "merchant_id": "merchant_demo",
                "customer_id": format!("cus_top_{i}"),
                "payment_method": {"type": "card", "card": {"number": CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"}}
            });
            let _ = http
                .post(format!("{gateway}/v1/payments"))
                .bearer_auth(API_KEY)
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await;
        }
    });
    futures::future::join_all(storm).await;

    let screen = tmux
        .wait_for(
            "risk's tasks over the alert and the leaking spawn site",
            Duration::from_secs(20),
            |s| {
                risk_tasks_over_threshold(s).is_some_and(|n| n >= 100)
                    && s.contains("services/risk/src/deep_scoring.rs:")
            },
        )
        .await;
    eprintln!("{screen}");
    assert!(screen.contains("risk: LEAKY"), "{screen}");
    assert!(
        screen.contains(&format!("ledger unreachable at {dead}: connection refused")),
        "a service that does not answer gets a line saying so:\n{screen}"
    );
    assert!(screen.lines().count() <= 24, "fits the 24 lines");

    tmux.keys("m");
    tmux.wait_for("the switch to fixed", Duration::from_secs(10), |s| {
        s.contains("risk switched to fixed") && s.contains("risk: FIXED")
    })
    .await;
    tmux.keys("q");
    let started = Instant::now();
    while tmux.alive() && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!tmux.alive(), "q quits");
    fleet.stop().await;
}

/// The same storm with the fix on: risk's row never carries the alert mark, no spawn site in
/// `deep_scoring.rs` piles up on screen, and the shards were there (cancelled at the deadline,
/// counted in risk's own metrics): the quiet screen is the fix, not an empty storm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_stays_quiet_through_the_same_storm_with_the_fix_on() {
    let fleet = Fleet::start(vec![
        ("risk", "RISK_MODE", "fixed"),
        ("risk", "RISK_SLOW_DEPENDENCY_MS", "20000"),
        ("risk", "RISK_SLOW_DEPENDENCY_CAPACITY", "0"),
    ])
    .await;
    let url = |name| fleet.fleet().url(name).expect("service URL");
    let command = top_command(&fleet, &url("ledger"));
    let tmux = Tmux::start("leakstorm-top", 80, 24, &command);
    tmux.wait_for("the table", Duration::from_secs(10), |s| {
        s.contains("risk: FIXED")
    })
    .await;
    let storm = (0..40).map(|_| fleet.pay(75_000));
    let statuses: Vec<u16> = futures::future::join_all(storm)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    // A few refreshes after the storm.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let screen = tmux.screen();
    eprintln!("{screen}");
    assert!(screen.contains("risk: FIXED"), "{screen}");
    assert_eq!(risk_tasks_over_threshold(&screen), None, "{screen}");
    assert!(
        !screen.contains("services/risk/src/deep_scoring.rs:"),
        "no deep-scoring site holds tasks:\n{screen}"
    );
    let text = reqwest::get(format!("{}/metrics", url("risk")))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let cancelled = kit::testing::metric_value(&text, "risk_deep_scoring_cancelled_total");
    assert!(
        cancelled.is_some_and(|c| c >= 40.0),
        "the deep path ran, its shards cancelled at the deadline: {cancelled:?}"
    );
    fleet.stop().await;
}

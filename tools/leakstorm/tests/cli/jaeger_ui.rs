//! The Jaeger UI served by the native trace store, loaded as a person loads it: in a headless
//! Chromium (Debian's `chromium`), which runs the UI's JavaScript against the store's API, and
//! read from the rendered page. Search, Trace, System Architecture and Monitor must each show
//! what the fleet did — and the same checks fail against a store that answers empty dependencies
//! and no metrics (a proxy in front of the real one), so they cannot pass by accident.

use std::{process::Command, time::Duration};

use crate::support::Fleet;
use axum::{Router, body::Body, extract::Request, response::Response};

/// One page and what its rendered text must (and must not) contain.
struct Page {
    name: &'static str,
    path: String,
    expect: Vec<&'static str>,
    reject: Vec<&'static str>,
}

/// The page's text after the UI's scripts ran (tags, scripts and styles left out).
fn rendered_text(url: &str) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium runs (apt-get install chromium)");
    let dom = String::from_utf8_lossy(&out.stdout);
    let mut text = String::new();
    let (mut in_tag, mut skip_until) = (false, None::<&str>);
    let mut rest = dom.as_ref();
    while let Some(c) = rest.chars().next() {
        if let Some(end) = skip_until {
            match rest.find(end) {
                Some(i) => rest = &rest[i + end.len()..],
                None => break,
            }
            skip_until = None;
            continue;
        }
        if rest.starts_with("<script") {
            skip_until = Some("</script>");
        } else if rest.starts_with("<style") {
            skip_until = Some("</style>");
        } else if rest.starts_with("<!--") {
            skip_until = Some("-->");
        } else if c == '<' {
            in_tag = true;
        } else if c == '>' {
            in_tag = false;
            text.push(' ');
        } else if !in_tag {
            text.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    let text = text
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every page's problems, if any: `(page, missing, unwanted)`.
fn check(base: &str, pages: &[Page]) -> Vec<(String, Vec<String>, Vec<String>)> {
    pages
        .iter()
        .filter_map(|page| {
            let text = rendered_text(&format!("{base}{}", page.path));
            let missing: Vec<String> = page
                .expect
                .iter()
                .filter(|e| !text.contains(*e))
                .map(|e| (*e).to_owned())
                .collect();
            let unwanted: Vec<String> = page
                .reject
                .iter()
                .filter(|r| text.contains(*r))
                .map(|r| (*r).to_owned())
                .collect();
            (!missing.is_empty() || !unwanted.is_empty())
                .then(|| (page.name.to_owned(), missing, unwanted))
        })
        .collect()
}

fn pages(trace_id: &str) -> Vec<Page> {
    let services = vec!["gateway", "payments", "risk", "ledger"];
    vec![
        Page {
            name: "Search",
            path: "/search?service=gateway&lookback=1h&limit=20".into(),
            expect: [services.clone(), vec!["Service (4)", "gateway: POST"]].concat(),
            reject: vec![],
        },
        Page {
            name: "Trace",
            path: format!("/trace/{trace_id}"),
            expect: [services.clone(), vec!["Services 4", "POST /v1/transfers"]].concat(),
            reject: vec![],
        },
        Page {
            name: "System Architecture",
            path: "/dependencies".into(),
            expect: services,
            reject: vec!["No service dependencies found"],
        },
        Page {
            name: "Monitor",
            path: "/monitor".into(),
            expect: vec![
                "Latency (ms)",
                "Operations metrics under gateway",
                "POST /v1/payments",
            ],
            reject: vec!["No data yet"],
        },
    ]
}

/// A store in front of `upstream` that answers like one with no dependencies and no metrics.
async fn hollow_store(upstream: String) -> String {
    let http = reqwest::Client::new();
    let app = Router::new().fallback(move |request: Request| {
        let (http, upstream) = (http.clone(), upstream.clone());
        async move {
            let path = request.uri().path().to_owned();
            if path == "/api/dependencies" {
                return Response::new(Body::from(
                    r#"{"data":[],"total":0,"limit":0,"offset":0,"errors":null}"#,
                ));
            }
            if path.starts_with("/api/metrics/") {
                return Response::new(Body::from(
                    r#"{"name":"","type":"GAUGE","help":"","metrics":[]}"#,
                ));
            }
            let query = request
                .uri()
                .query()
                .map_or(String::new(), |q| format!("?{q}"));
            let answer = http
                .get(format!("{upstream}{path}{query}"))
                .send()
                .await
                .expect("upstream answers");
            let mut response = Response::builder().status(answer.status().as_u16());
            if let Some(kind) = answer.headers().get("content-type") {
                response = response.header("content-type", kind.as_bytes());
            }
            response
                .body(Body::from(answer.bytes().await.expect("body")))
                .expect("response")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_trace_system_architecture_and_monitor_show_the_fleet() {
    let fleet = Fleet::start(vec![("risk", "RISK_MODE", "fixed")]).await;
    let mut trace_id = String::new();
    for _ in 0..5 {
        let (status, id) = fleet.pay(1_000).await;
        assert_eq!(status, 201);
        trace_id = id;
    }
    fleet.trace(&trace_id, |t| t.spans.len() >= 15).await;
    let ui = fleet.fleet().jaeger_url();
    let dependencies: serde_json::Value = reqwest::get(format!("{ui}/api/dependencies"))
        .await
        .expect("dependencies")
        .json()
        .await
        .expect("JSON");
    let edges = dependencies["data"].as_array().expect("links").clone();
    assert!(
        edges
            .iter()
            .any(|e| e["parent"] == "payments" && e["child"] == "ledger"),
        "payments calls the ledger: {edges:?}"
    );

    let ui_for_check = ui.clone();
    let id = trace_id.clone();
    let problems = tokio::task::spawn_blocking(move || check(&ui_for_check, &pages(&id)))
        .await
        .expect("checked");
    assert!(
        problems.is_empty(),
        "pages not showing the fleet: {problems:?}"
    );

    // The checks bite: the same pages from a store with no dependencies and no metrics.
    let hollow = hollow_store(ui.clone()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let failed = tokio::task::spawn_blocking(move || check(&hollow, &pages(&trace_id)))
        .await
        .expect("checked");
    let names: Vec<&str> = failed.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["System Architecture", "Monitor"],
        "an empty store fails exactly those two: {failed:?}"
    );
    fleet.stop().await;
}

//! Traces from the real binaries, exported over OTLP/gRPC to the embedded trace store and read
//! back through its Jaeger API: structure, semantic conventions, and the leak's signature.

use crate::support::{ADMIN_TOKEN, CARD, Fleet};
use fleet::jaeger::{JaegerClient, Span, Trace};
use serde_json::{Value, json};

fn services(trace: &Trace) -> Vec<&str> {
    let mut names: Vec<&str> = trace.spans.iter().map(|s| trace.service_of(s)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn server_span<'a>(trace: &'a Trace, service: &str) -> &'a Span {
    trace
        .spans
        .iter()
        .find(|s| trace.service_of(s) == service && s.tag_str("http.route").is_some())
        .unwrap_or_else(|| panic!("{service} has a server span"))
}

#[tokio::test]
async fn one_payment_is_one_trace_across_all_four_services_with_semantic_conventions() {
    let fleet = Fleet::start(vec![("risk", "RISK_MODE", "fixed")]).await;
    let (status, trace_id) = fleet.pay(1_999).await;
    assert_eq!(status, 201);
    let trace = fleet
        .trace(&trace_id, |t| {
            services(t).len() == 4
                && t.spans
                    .iter()
                    .any(|s| s.operation_name == "INSERT ledger.transfers")
        })
        .await;
    assert_eq!(services(&trace), ["gateway", "ledger", "payments", "risk"]);

    // The gateway's server span is the root; each service's server span is a child of its
    // caller's client span, which is a child of the caller's own server span (via handlers).
    let root = trace.root().expect("root");
    assert_eq!(trace.service_of(root), "gateway");
    assert_eq!(root.operation_name, "POST /v1/payments");
    for (service, caller) in [
        ("payments", "gateway"),
        ("risk", "payments"),
        ("ledger", "payments"),
    ] {
        let server = server_span(&trace, service);
        let client = trace
            .span(server.parent_id().expect("has a parent"))
            .expect("parent in trace");
        assert_eq!(
            trace.service_of(client),
            caller,
            "{service} is called by {caller}"
        );
        assert!(
            client
                .tag_str("url.full")
                .is_some_and(|u| u.contains("/v1/")),
            "client span has url.full"
        );
        assert_eq!(client.tag_str("http.request.method"), Some("POST"));
        assert!(client.tag_str("server.address").is_some());
        // Walk up: the client span descends from the caller's server span.
        let mut ancestor = client;
        while ancestor.tag_str("http.route").is_none() {
            ancestor = trace
                .span(ancestor.parent_id().expect("parent"))
                .expect("in trace");
        }
        assert_eq!(trace.service_of(ancestor), caller);
    }

    // HTTP server semantic conventions (current names, not the deprecated http.method & co).
    assert_eq!(root.tag_str("http.request.method"), Some("POST"));
    assert_eq!(root.tag_str("http.route"), Some("/v1/payments"));
    assert_eq!(root.tag_str("url.path"), Some("/v1/payments"));
    assert_eq!(root.tag("http.response.status_code"), Some(&json!(201)));
    assert!(root.tag("http.method").is_none() && root.tag("http.status_code").is_none());

    // Database spans.
    let db_spans: Vec<&Span> = trace
        .spans
        .iter()
        .filter(|s| s.tag_str("db.system") == Some("postgresql"))
        .collect();
    assert!(db_spans.len() >= 4, "DB calls are traced in every service");
    assert!(
        db_spans
            .iter()
            .all(|s| s.tag_str("db.operation.name").is_some()
                && s.tag_str("db.collection.name").is_some())
    );
    let db_services: Vec<&str> = db_spans.iter().map(|s| trace.service_of(s)).collect();
    for service in ["gateway", "payments", "risk", "ledger"] {
        assert!(db_services.contains(&service), "{service} has DB spans");
    }

    // No card number anywhere in what was exported.
    let jaeger = JaegerClient::new(&fleet.fleet().jaeger_url());
    let exported = jaeger.trace_json(&trace_id).await.expect("raw trace");
    assert!(exported.contains("merchant_demo") && !exported.contains(CARD));

    // JSON logs carry the trace id, and no card number either.
    let logs: String = ["gateway", "payments", "risk", "ledger"]
        .iter()
        .map(|s| {
            std::fs::read_to_string(fleet.run_dir.join(format!("{s}.log"))).unwrap_or_default()
        })
        .collect();
    assert!(!logs.contains(CARD), "no card number in any log line");
    let traced_line = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|line| line.to_string().contains(&trace_id));
    assert!(traced_line, "some log line carries the payment's trace id");
    fleet.stop().await;
}

#[tokio::test]
async fn leaky_work_outlives_its_request_in_the_trace_and_fixed_work_ends_cancelled_with_it() {
    let fleet = Fleet::start(vec![
        ("risk", "RISK_MODE", "leaky"),
        ("risk", "RISK_SLOW_DEPENDENCY_MS", "2500"),
        ("risk", "RISK_SHARD_BUFFER_BYTES", "65536"),
        ("risk", "RISK_SHARD_DB_HOLD_MS", "10"),
        ("gateway", "UPSTREAM_TIMEOUT_MS", "1000"),
    ])
    .await;
    let shards = |t: &Trace| -> Vec<Span> {
        t.spans
            .iter()
            .filter(|s| s.operation_name == "deep_scoring shard")
            .cloned()
            .collect()
    };

    // Leaky: risk answers at its 300 ms budget (a timeout around the detached shards); the
    // shards run on to 2.5 s.
    let (status, trace_id) = fleet.pay(60_000).await;
    assert_eq!(status, 201);
    let trace = fleet.trace(&trace_id, |t| shards(t).len() == 4).await;
    let root_end = trace.root().expect("root").end_time();
    let outliving = trace.outliving_spans();
    if let Some(path) = std::env::var_os("LEAKSTORM_RECORD_TRACE") {
        let jaeger = JaegerClient::new(&fleet.fleet().jaeger_url());
        std::fs::write(path, jaeger.trace_json(&trace_id).await.expect("raw trace"))
            .expect("recorded");
    }
    assert!(
        shards(&trace)
            .iter()
            .all(|s| s.end_time() > root_end + 1_000_000),
        "every shard ran on for over a second after its request ended"
    );
    assert!(
        outliving
            .iter()
            .filter(|s| s.operation_name == "deep_scoring shard")
            .count()
            == 4
    );

    // Switch to fixed at run time; the same payment now ends at risk's budget, shards cancelled.
    let risk = fleet.fleet().url("risk").expect("risk");
    let switched = reqwest::Client::new()
        .put(format!("{risk}/admin/mode"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"mode": "fixed"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(switched.status(), 200);
    let (status, trace_id) = fleet.pay(60_000).await;
    assert_eq!(status, 201);
    let trace = fleet
        .trace(&trace_id, |t| {
            shards(t).len() == 4 && services(t).len() >= 3
        })
        .await;
    assert!(
        trace.outliving_spans().is_empty(),
        "nothing outlives the request"
    );
    for shard in shards(&trace) {
        assert_eq!(shard.tag("leakstorm.cancelled"), Some(&Value::Bool(true)));
        assert_eq!(shard.tag_str("error.type"), Some("cancelled"));
    }
    fleet.stop().await;
}

#[tokio::test]
async fn no_card_number_or_secret_reaches_a_span_a_log_line_or_an_error_message() {
    let fleet = Fleet::start(vec![("risk", "RISK_MODE", "fixed")]).await;
    let gateway = fleet.fleet().url("gateway").expect("gateway");
    let http = reqwest::Client::new();
    // Realistic test cards of three networks, and bad requests that carry card data too.
    let cards = [
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        "4111 1111 1111 1111",
    ];
    let mut bodies: Vec<Value> = cards
        .iter()
        .map(|number| json!({"number": number, "exp_month": 12, "exp_year": 2099, "cvc": "7374"}))
        .collect();
    bodies.push(
        json!({"number": 4111111111111111_u64, "exp_month": 12, "exp_year": 2099, "cvc": "7374"}),
    );
    bodies.push(
        json!({"number": "4111111111111112", "exp_month": 12, "exp_year": 2099, "cvc": "7374"}),
    );
    bodies.push(
        json!({"number": "4111111111111111", "exp_month": 12, "exp_year": 2001, "cvc": "7374"}),
    );
    bodies.push(
        json!({"number": "4111111111111111", "exp_month": 12, "exp_year": 2099, "cvc": 7374}),
    );
    let mut answers = String::new();
    for card in bodies {
        let response = http
            .post(format!("{gateway}/v1/payments"))
            .bearer_auth(crate::support::API_KEY)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({"amount": 1234, "currency": "EUR", "merchant_id": "merchant_demo",
                          "customer_id": "cus_hygiene", "payment_method": {"type": "card", "card": card}}))
            .send()
            .await
            .expect("sent");
        answers.push_str(&response.text().await.expect("body"));
    }
    assert!(
        answers.contains("\"status\":\"authorized\""),
        "the good cards were paid: {answers}"
    );

    // Everything exported: every trace the store holds, and every log line.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let jaeger = fleet.fleet().jaeger_url();
    let mut exported = String::new();
    for service in ["gateway", "payments", "risk", "ledger"] {
        exported.push_str(
            &http
                .get(format!("{jaeger}/api/traces?service={service}&limit=1000"))
                .send()
                .await
                .expect("trace API")
                .text()
                .await
                .expect("traces"),
        );
    }
    assert!(
        exported.matches("\"POST /v1/payments\"").count() >= 4,
        "the payments' spans were exported"
    );
    let logs: String = ["gateway", "payments", "risk", "ledger"]
        .iter()
        .map(|s| {
            std::fs::read_to_string(fleet.run_dir.join(format!("{s}.log"))).unwrap_or_default()
        })
        .collect();
    let secrets = [
        "4111111111111111",
        "4111 1111 1111 1111",
        "5555555555554444",
        "378282246310005",
        "4111111111111112",
        crate::support::API_KEY,
        ADMIN_TOKEN,
    ];
    for (place, text) in [
        ("error messages", &answers),
        ("spans", &exported),
        ("logs", &logs),
    ] {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret:?} appears in {place}");
        }
        // The CVC is short enough to occur inside hex trace/span ids and UUIDs by chance: look
        // for it as a value of its own.
        assert!(
            !contains_standalone(text, "7374"),
            "the CVC appears in {place}"
        );
    }
    fleet.stop().await;
}

/// `needle` with neither a hex digit nor a '-' on either side (so not part of an id).
fn contains_standalone(text: &str, needle: &str) -> bool {
    let part_of_id = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit() || c == '-');
    text.match_indices(needle).any(|(at, _)| {
        !part_of_id(text[..at].chars().next_back())
            && !part_of_id(text[at + needle.len()..].chars().next())
    })
}

#[test]
fn a_cvc_inside_an_id_is_not_a_leak_but_a_cvc_value_is() {
    assert!(!contains_standalone(
        r#"{"traceID":"9f7374ab","id":"0191-7374-aa"}"#,
        "7374"
    ));
    assert!(contains_standalone(r#"{"cvc":"7374"}"#, "7374"));
    assert!(contains_standalone("invalid type: integer `7374`", "7374"));
}

//! The trace store over the wire, as the SDKs and a browser use it: OTLP/gRPC batches in, the
//! Jaeger HTTP API out. No fleet: spans are made here, in the shapes the services send.

mod harness;

use harness::{
    Harness, Json, SECOND_NS, T0_NS, payment_spans, resource_spans, send_payments, services_in,
    trace_id_hex,
};

#[tokio::test]
async fn the_newest_traces_are_kept_within_both_bounds_however_long_it_runs() {
    const MAX_TRACES: u64 = 500;
    let mut harness = Harness::start(MAX_TRACES as u32, 64 << 20).await;
    // 40 rounds of 300 payments: 24 times more than the store keeps, every trace rewritten by
    // four services, so any drift in the bookkeeping would build up.
    let mut sent = 0;
    for round in 0..40 {
        send_payments(&mut harness, sent, 300).await;
        sent += 300;
        let stats = harness.stats().await;
        assert!(
            stats["traces"].as_u64().unwrap() <= MAX_TRACES,
            "round {round}: {stats}"
        );
        let (estimated, max) = (
            stats["estimated_bytes"].as_u64().expect("estimated_bytes"),
            stats["max_bytes"].as_u64().expect("max_bytes"),
        );
        assert!(estimated <= max, "round {round}: {stats}");
        let newest = harness
            .trace(sent - 1)
            .await
            .unwrap_or_else(|| panic!("round {round}: the newest trace is found by id ({stats})"));
        assert_eq!(
            services_in(&newest),
            ["gateway", "ledger", "payments", "risk"]
        );
        assert_eq!(newest["spans"].as_array().unwrap().len(), 8);
    }
    let stats = harness.stats().await;
    assert_eq!(
        stats["traces"].as_u64(),
        Some(MAX_TRACES),
        "full, not emptied: {stats}"
    );
    assert!(
        harness.trace(sent - MAX_TRACES).await.is_some(),
        "the oldest kept"
    );
    assert!(
        harness.trace(sent - MAX_TRACES - 1).await.is_none(),
        "older ones evicted"
    );
    let (_, listed) = harness.get("/api/traces?service=risk&limit=100000").await;
    assert_eq!(listed["data"].as_array().unwrap().len() as u64, MAX_TRACES);
    harness.stop().await;
}

#[tokio::test]
async fn the_memory_bound_holds_and_evicts_oldest_first() {
    let max_bytes = 256 * 1024;
    let mut harness = Harness::start(1_000_000, max_bytes).await;
    let mut sent = 0;
    for _ in 0..20 {
        send_payments(&mut harness, sent, 200).await;
        sent += 200;
        let stats = harness.stats().await;
        let bytes = stats["estimated_bytes"].as_u64().unwrap();
        assert!(bytes <= max_bytes as u64, "{stats}");
        assert!(
            bytes > max_bytes as u64 / 2,
            "evicting far below the bound: {stats}"
        );
        assert!(
            harness.trace(sent - 1).await.is_some(),
            "the fresh trace is kept"
        );
    }
    let kept = harness.stats().await["traces"].as_u64().unwrap();
    assert!(
        kept < sent,
        "the memory bound, not the count, limited the store"
    );
    assert!(harness.trace(sent - kept).await.is_some());
    assert!(harness.trace(sent - kept - 1).await.is_none());
    harness.stop().await;
}

#[tokio::test]
async fn every_service_that_sent_a_span_is_listed_with_its_operations() {
    let mut harness = Harness::start(1_000, 64 << 20).await;
    send_payments(&mut harness, 0, 3).await;
    let (_, services) = harness.get("/api/services").await;
    assert_eq!(
        services["data"],
        serde_json::json!(["gateway", "ledger", "payments", "risk"])
    );
    let (_, operations) = harness.get("/api/services/risk/operations").await;
    assert_eq!(
        operations["data"],
        serde_json::json!(["POST /risk", "call next"])
    );
    let (_, server) = harness
        .get("/api/operations?service=risk&spanKind=server")
        .await;
    assert_eq!(
        server["data"],
        serde_json::json!([{"name": "POST /risk", "spanKind": "server"}])
    );
    let (_, none) = harness.get("/api/services/billing/operations").await;
    assert_eq!(none["data"], serde_json::json!([]));
    harness.stop().await;
}

#[tokio::test]
async fn a_partial_trace_is_found_by_id_and_completes_when_its_parent_arrives() {
    let mut harness = Harness::start(1_000, 64 << 20).await;
    // Risk's spans arrive first (the leaky shards end after their request's other spans)...
    harness
        .export(resource_spans(2, payment_spans(7, 2, 20 * SECOND_NS)))
        .await;
    let partial = harness
        .trace(7)
        .await
        .expect("a partial trace is found by id");
    assert_eq!(services_in(&partial), ["risk"]);
    assert!(
        partial["warnings"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
    );
    let (_, listed) = harness.get("/api/traces?service=risk&limit=10").await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "partial traces are searchable"
    );
    // ...then the rest of the trace.
    for service in [0, 1, 3] {
        harness
            .export(resource_spans(
                service,
                payment_spans(7, service, SECOND_NS),
            ))
            .await;
    }
    let complete = harness.trace(7).await.expect("the trace");
    assert_eq!(
        services_in(&complete),
        ["gateway", "ledger", "payments", "risk"]
    );
    assert!(
        complete["warnings"].is_null(),
        "complete now: {}",
        complete["warnings"]
    );
    harness.stop().await;
}

#[tokio::test]
async fn search_takes_jaegers_parameters() {
    let mut harness = Harness::start(1_000, 64 << 20).await;
    send_payments(&mut harness, 0, 10).await;
    // One slow risk span in trace 42.
    harness
        .export(resource_spans(2, payment_spans(42, 2, 3 * SECOND_NS)))
        .await;
    let count = |body: &Json| body["data"].as_array().map_or(0, Vec::len);
    let ids = |body: &Json| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["traceID"].as_str().unwrap().to_owned())
            .collect()
    };

    let (_, all) = harness.get("/api/traces?service=gateway&limit=100").await;
    assert_eq!(count(&all), 10);
    let (_, limited) = harness.get("/api/traces?service=gateway&limit=3").await;
    assert_eq!(count(&limited), 3);
    let (_, slow) = harness
        .get("/api/traces?service=risk&minDuration=1s&limit=100")
        .await;
    assert_eq!(ids(&slow), [trace_id_hex(42)]);
    let (_, fast) = harness
        .get("/api/traces?service=risk&maxDuration=10ms&limit=100")
        .await;
    assert_eq!(count(&fast), 10);
    let (_, op) = harness
        .get("/api/traces?service=risk&operation=POST%20%2Frisk&minDuration=2.5s")
        .await;
    assert_eq!(ids(&op), [trace_id_hex(42)]);
    let tags = "%7B%22payment.outcome%22%3A%22declined%22%7D"; // {"payment.outcome":"declined"}
    let (_, declined) = harness
        .get(&format!(
            "/api/traces?service=payments&tags={tags}&limit=100"
        ))
        .await;
    assert_eq!(count(&declined), 5);
    let (_, kind) = harness
        .get("/api/traces?service=risk&tags=%7B%22span.kind%22%3A%22client%22%7D&limit=100")
        .await;
    assert_eq!(count(&kind), 11);
    // Span start times: trace n starts at T0 + n ms.
    let (t0_us, ms) = (T0_NS / 1_000, 1_000);
    let (_, window) = harness
        .get(&format!(
            "/api/traces?service=gateway&start={}&end={}&limit=100",
            t0_us + 2 * ms,
            t0_us + 4 * ms
        ))
        .await;
    assert_eq!(count(&window), 3);
    let (_, lookback) = harness
        .get("/api/traces?service=gateway&lookback=1h&limit=100")
        .await;
    assert_eq!(count(&lookback), 0, "T0 is long past");
    let (_, by_ids) = harness
        .get(&format!(
            "/api/traces?traceID={}&traceID={}",
            trace_id_hex(1),
            trace_id_hex(2)
        ))
        .await;
    assert_eq!(count(&by_ids), 2);
    let (_, ui_defaults) = harness
        .get("/api/traces?service=gateway&limit=20&lookback=custom&maxDuration=&minDuration=&start=0")
        .await;
    assert_eq!(count(&ui_defaults), 10);

    for bad in [
        "/api/traces?service=risk&minDuration=fast",
        "/api/traces?service=risk&limit=-1",
        "/api/traces?service=risk&tags=notjson",
        "/api/traces?service=risk&minDuration=2s&maxDuration=1s",
        "/api/traces?limit=10",
        "/api/traces/not-hex",
    ] {
        let (status, body) = harness.get(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["errors"][0]["msg"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{bad}: {body}"
        );
    }
    let (status, missing) = harness
        .get(&format!("/api/traces/{}", trace_id_hex(999)))
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["errors"][0]["code"], 404);
    harness.stop().await;
}

#[tokio::test]
async fn the_jaeger_ui_is_served_beside_the_api() {
    let harness = Harness::start(10, 1 << 20).await;
    let response = reqwest::get(format!("{}/search", harness.api))
        .await
        .expect("UI answers");
    assert_eq!(
        response.status(),
        200,
        "a client-side route answers 200, as Jaeger does"
    );
    let root = reqwest::get(&harness.api).await.expect("UI answers");
    assert_eq!(root.status(), 200, "/ answers 200 (healthchecks probe it)");
    let page = response.text().await.expect("a page");
    assert!(
        page.contains("<base href=\"/\""),
        "the Jaeger UI's index page"
    );
    harness.stop().await;
}

#[tokio::test]
async fn dependencies_and_service_performance_answer_in_jaegers_shapes() {
    let mut harness = Harness::start(1_000, 64 << 20).await;
    send_payments(&mut harness, 0, 10).await;
    let end_ms = T0_NS / 1_000_000 + 60_000;

    let (status, deps) = harness
        .get(&format!(
            "/api/dependencies?endTs={end_ms}&lookback=3600000"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        deps["data"],
        serde_json::json!([
            {"parent": "gateway", "child": "payments", "callCount": 10},
            {"parent": "payments", "child": "risk", "callCount": 10},
            {"parent": "risk", "child": "ledger", "callCount": 10},
        ])
    );
    let (_, before) = harness
        .get(&format!(
            "/api/dependencies?endTs={}&lookback=60000",
            end_ms - 3_600_000
        ))
        .await;
    assert_eq!(
        before["data"],
        serde_json::json!([]),
        "nothing outside the window"
    );

    let window = format!("endTs={end_ms}&lookback=600000&step=60000&ratePer=600000");
    let (_, calls) = harness
        .get(&format!(
            "/api/metrics/calls?service=risk&spanKind=server&{window}"
        ))
        .await;
    assert_eq!(calls["name"], "service_call_rate");
    assert_eq!(
        calls["metrics"][0]["labels"],
        serde_json::json!([{"name": "service_name", "value": "risk"}])
    );
    let last = |family: &Json| {
        family["metrics"][0]["metricPoints"]
            .as_array()
            .and_then(|p| p.last())
            .map(|p| p["gaugeValue"]["doubleValue"].as_f64().expect("a number"))
            .expect("a point")
    };
    assert!((last(&calls) - 10.0 / 600.0).abs() < 1e-9, "{calls}");
    let (_, errors) = harness
        .get(&format!(
            "/api/metrics/errors?service=risk&spanKind=server&{window}"
        ))
        .await;
    assert_eq!(
        (errors["name"].as_str(), last(&errors)),
        (Some("service_error_rate"), 0.0)
    );
    let (_, latencies) = harness
        .get(&format!(
            "/api/metrics/latencies?service=risk&spanKind=server&quantile=0.95&{window}"
        ))
        .await;
    assert!(
        (4.0..6.3).contains(&last(&latencies)),
        "the spans took 5 ms: {latencies}"
    );
    let (_, by_operation) = harness
        .get(&format!(
            "/api/metrics/latencies?service=risk&groupByOperation=true&quantile=0.5&{window}"
        ))
        .await;
    assert_eq!(by_operation["name"], "service_operation_latencies");
    let operations: Vec<&str> = by_operation["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m["labels"][1]["value"].as_str())
        .collect();
    assert_eq!(operations, ["POST /risk", "call next"]);

    let (missing, body) = harness.get("/api/metrics/latencies?quantile=0.5").await;
    assert_eq!(missing, 400, "{body}");
    assert!(
        body["errors"][0]["msg"]
            .as_str()
            .is_some_and(|m| m.contains("service"))
    );
    let (bad, _) = harness
        .get("/api/metrics/latencies?service=risk&quantile=2")
        .await;
    assert_eq!(bad, 400);
    let (unknown, _) = harness.get("/api/metrics/bogus?service=risk").await;
    assert_eq!(unknown, 404);
    harness.stop().await;
}

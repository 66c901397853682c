//! Bad input gets the right 4xx with the JSON error shape, and writes nothing.

use crate::support::{API_KEY, FleetOptions, TestFleet, new_key, payment_body};
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    body: String,
    content_type: &'static str,
    api_key: Option<&'static str>,
    idempotency_key: Option<String>,
    status: u16,
    code: &'static str,
}

fn case(name: &'static str, body: Value, status: u16, code: &'static str) -> Case {
    Case {
        name,
        body: body.to_string(),
        content_type: "application/json",
        api_key: Some(API_KEY),
        idempotency_key: Some(new_key()),
        status,
        code,
    }
}

fn with(path: &[&str], value: Value) -> Value {
    let mut body = payment_body(1_000, "cus_x");
    let mut target = &mut body;
    for key in &path[..path.len() - 1] {
        target = &mut target[*key];
    }
    target[path[path.len() - 1]] = value;
    body
}

fn without(key: &str) -> Value {
    let mut body = payment_body(1_000, "cus_x");
    body.as_object_mut().expect("object").remove(key);
    body
}

#[tokio::test]
async fn bad_requests_get_the_right_status_and_code_and_write_nothing() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let valid = payment_body(1_000, "cus_x");
    let cases = vec![
        case(
            "zero amount",
            with(&["amount"], json!(0)),
            422,
            "invalid_body",
        ),
        case(
            "negative amount",
            with(&["amount"], json!(-100)),
            422,
            "invalid_body",
        ),
        case(
            "fractional amount",
            with(&["amount"], json!(10.5)),
            422,
            "invalid_body",
        ),
        case(
            "amount as string",
            with(&["amount"], json!("1000")),
            422,
            "invalid_body",
        ),
        case(
            "enormous amount",
            with(&["amount"], json!(1e300)),
            422,
            "invalid_body",
        ),
        case(
            "amount beyond i64",
            with(&["amount"], json!(u64::MAX)),
            422,
            "invalid_body",
        ),
        case(
            "unknown currency",
            with(&["currency"], json!("ABC")),
            422,
            "invalid_body",
        ),
        case(
            "lower-case currency",
            with(&["currency"], json!("eur")),
            422,
            "invalid_body",
        ),
        case("missing amount", without("amount"), 422, "invalid_body"),
        case(
            "missing payment method",
            without("payment_method"),
            422,
            "invalid_body",
        ),
        case(
            "unknown field",
            with(&["surprise"], json!(true)),
            422,
            "invalid_body",
        ),
        case(
            "bad customer id",
            with(&["customer_id"], json!("a b\u{0000}c")),
            422,
            "invalid_body",
        ),
        case(
            "merchant of another key",
            with(&["merchant_id"], json!("someone_else")),
            403,
            "merchant_mismatch",
        ),
        case(
            "card fails Luhn",
            with(
                &["payment_method", "card", "number"],
                json!("4242424242424241"),
            ),
            422,
            "invalid_body",
        ),
        case(
            "card number as number",
            with(
                &["payment_method", "card", "number"],
                json!(4242424242424242_u64),
            ),
            422,
            "invalid_body",
        ),
        case(
            "bad cvc",
            with(&["payment_method", "card", "cvc"], json!("12")),
            422,
            "invalid_body",
        ),
        case(
            "expired card",
            with(&["payment_method", "card", "exp_year"], json!(2001)),
            422,
            "card_expired",
        ),
        case(
            "month 13",
            with(&["payment_method", "card", "exp_month"], json!(13)),
            422,
            "invalid_expiry",
        ),
        case(
            "unknown payment method",
            with(&["payment_method", "type"], json!("iou")),
            422,
            "invalid_body",
        ),
        Case {
            body: "{\"amount\": 10,".to_owned(),
            ..case("malformed JSON", json!(null), 400, "malformed_json")
        },
        Case {
            body: "[]".to_owned(),
            ..case("JSON array", json!(null), 422, "invalid_body")
        },
        Case {
            content_type: "text/plain",
            ..case(
                "wrong content type",
                valid.clone(),
                415,
                "unsupported_media_type",
            )
        },
        Case {
            body: json!({"pad": "x".repeat(64 * 1024)}).to_string(),
            ..case("oversize body", json!(null), 413, "payload_too_large")
        },
        Case {
            api_key: None,
            ..case("missing API key", valid.clone(), 401, "unauthorized")
        },
        Case {
            api_key: Some("sk_test_wrong"),
            ..case("invalid API key", valid.clone(), 401, "unauthorized")
        },
        Case {
            idempotency_key: None,
            ..case(
                "missing idempotency key",
                valid.clone(),
                400,
                "invalid_idempotency_key",
            )
        },
        Case {
            idempotency_key: Some("x".repeat(300)),
            ..case(
                "overlong idempotency key",
                valid.clone(),
                400,
                "invalid_idempotency_key",
            )
        },
    ];
    for case in cases {
        let mut request = fleet
            .http
            .post(format!("{}/v1/payments", fleet.gateway))
            .header("content-type", case.content_type)
            .body(case.body.clone());
        if let Some(key) = case.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(key) = &case.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("request sent");
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        let error: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", case.name));
        assert_eq!(error["error"]["code"], case.code, "{}: {error}", case.name);
        let message = error["error"]["message"].as_str().expect("message");
        assert!(
            !message.contains("4242424242424241"),
            "{}: card number echoed",
            case.name
        );
    }
    fleet.assert_written(0, 0).await;
    guard.verify().await;
}

#[tokio::test]
async fn payments_are_private_to_their_merchant_and_unknown_ids_are_404() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let payment: Value = fleet
        .pay(&new_key(), &payment_body(300, "cus_y"))
        .await
        .json()
        .await
        .expect("JSON");
    let id = payment["id"].as_str().expect("id");

    let no_key = fleet
        .http
        .get(format!("{}/v1/payments/{id}", fleet.gateway))
        .send()
        .await
        .expect("sent");
    assert_eq!(no_key.status(), 401);
    assert_eq!(
        no_key
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );

    for unknown in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        let response = fleet.get_payment(&unknown).await;
        assert_eq!(response.status(), 404, "{unknown}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["code"], "not_found");
    }
    guard.verify().await;
}

#[tokio::test]
async fn the_admin_api_is_not_reachable_through_the_gateway_and_refuses_without_the_token() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let through_gateway = fleet
        .http
        .put(format!("{}/admin/mode", fleet.gateway))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .json(&json!({"mode": "leaky"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(through_gateway.status(), 404);

    let put = |token: Option<&'static str>| {
        let mut request = fleet
            .http
            .put(format!("{}/admin/mode", fleet.risk))
            .json(&json!({"mode": "leaky"}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(put(None).await.expect("sent").status(), 401);
    assert_eq!(put(Some("admin_wrong")).await.expect("sent").status(), 401);
    let mode = async |name: &str| {
        let series = format!("risk_mode{{mode=\"{name}\"}}");
        test_fleet::http::metric(&fleet.http, &fleet.risk, &series).await
    };
    assert_eq!(mode("fixed").await, 1.0, "mode unchanged");

    let switched = put(Some(crate::support::ADMIN_TOKEN)).await.expect("sent");
    assert_eq!(switched.status(), 200);
    let read: Value = fleet
        .http
        .get(format!("{}/admin/mode", fleet.risk))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(read, json!({"mode": "leaky"}));
    assert_eq!(mode("leaky").await, 1.0);
    assert_eq!(mode("fixed").await, 0.0);
    guard.verify().await;
}

#[tokio::test]
async fn inputs_generators_miss_are_refused_cleanly() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let valid = payment_body(1_000, "cus_x").to_string();
    let cases = [
        (
            "duplicate JSON keys",
            valid.replacen("\"amount\":1000", "\"amount\":1000,\"amount\":1", 1),
        ),
        (
            "Cyrillic look-alike currency",
            valid.replace("\"EUR\"", "\"\u{415}UR\""),
        ),
        ("unicode customer id", valid.replace("cus_x", "cüs_☃")),
        (
            "escaped NUL in merchant id",
            valid.replace("merchant_test", "merchant_test\\u0000"),
        ),
        (
            "huge integer literal",
            valid.replace("1000", "123456789012345678901234567890"),
        ),
        ("negative zero", valid.replace("1000", "-0")),
        ("exponent amount", valid.replace("1000", "1e3")),
        (
            "deeply nested",
            format!("{}1{}", "[".repeat(5000), "]".repeat(5000)),
        ),
    ];
    for (name, body) in cases {
        assert!(body != valid, "{name}: the case changed the body");
        let response = fleet
            .http
            .post(format!("{}/v1/payments", fleet.gateway))
            .bearer_auth(API_KEY)
            .header("Idempotency-Key", new_key())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{name}: got {status}");
        let error: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        assert!(error["error"]["code"].is_string(), "{name}: {error}");
    }
    assert_eq!(
        fleet.scalar("SELECT count(*) FROM payments.payments").await,
        0
    );
    guard.verify().await;
}

/// Writes a request by hand: headers, then `body` in `pieces`, `pause` apart; `close_early`
/// hangs up before the declared length has been sent.
async fn raw_request(
    gateway: &str,
    body: &str,
    pieces: usize,
    pause: std::time::Duration,
    close_early: bool,
) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = gateway.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\nIdempotency-Key: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        new_key(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let bytes = body.as_bytes();
    let sent = if close_early {
        bytes.len() / 2
    } else {
        bytes.len()
    };
    for chunk in bytes[..sent].chunks(sent.div_ceil(pieces).max(1)) {
        stream.write_all(chunk).await.expect("chunk");
        tokio::time::sleep(pause).await;
    }
    if close_early {
        stream.shutdown().await.expect("half-close");
    }
    let mut response = String::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await;
    response
}

#[tokio::test]
async fn slow_bodies_are_served_and_partial_bodies_write_nothing() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let body = payment_body(1_000, "cus_slow").to_string();

    let partial = raw_request(
        &fleet.gateway,
        &body,
        3,
        std::time::Duration::from_millis(100),
        true,
    )
    .await;
    assert!(
        !partial.starts_with("HTTP/1.1 2"),
        "a truncated body is never accepted: {partial}"
    );
    assert_eq!(
        fleet.scalar("SELECT count(*) FROM payments.payments").await,
        0,
        "nothing half-written"
    );

    let slow = raw_request(
        &fleet.gateway,
        &body,
        10,
        std::time::Duration::from_millis(200),
        false,
    )
    .await;
    assert!(
        slow.starts_with("HTTP/1.1 201"),
        "a slow but complete body is a payment: {slow}"
    );
    fleet.assert_written(1, 1).await;
    guard.verify().await;
}

#[tokio::test]
async fn api_keys_are_stored_as_digests_only() {
    let guard = kit::testing::leak_guard();
    let fleet = TestFleet::spawn(FleetOptions::default()).await;
    let in_clear = fleet
        .scalar(&format!("SELECT count(*) FROM gateway.api_keys WHERE key_sha256 = '{API_KEY}' OR label = '{API_KEY}'"))
        .await;
    let as_digest = fleet
        .scalar("SELECT count(*) FROM gateway.api_keys WHERE length(key_sha256) = 64 AND key_sha256 ~ '^[0-9a-f]+$'")
        .await;
    assert_eq!((in_clear, as_digest), (0, 1));
    guard.verify().await;
}

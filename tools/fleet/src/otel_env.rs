//! The OpenTelemetry variables a user sets for the native fleet (`OTEL_*`, the SDK's own
//! names): passed through to every service, so traces can go to the user's collector or be
//! switched off; and where, given them, the fleet's traces end up.

/// Per-service identity is the fleet's to set; a shell-wide value would name all four alike.
const NOT_PASSED: [&str; 1] = ["OTEL_SERVICE_NAME"];

/// `OTEL_*` variables from `vars` that the services receive (after the fleet's defaults, so
/// they win).
pub fn passed_through(vars: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    vars.filter(|(name, _)| name.starts_with("OTEL_") && !NOT_PASSED.contains(&name.as_str()))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceDestination {
    /// The embedded store: its Jaeger UI shows them.
    Embedded,
    /// The user's endpoint; the embedded UI stays empty.
    Elsewhere(String),
    /// Export switched off.
    Off,
}

/// Where the services' traces go, read as the SDK reads the variables: the traces-specific
/// endpoint wins over the general one.
pub fn trace_destination(passed: &[(String, String)], embedded_endpoint: &str) -> TraceDestination {
    let var = |name: &str| {
        passed
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let lower = |name: &str| var(name).unwrap_or_default().to_ascii_lowercase();
    if lower("OTEL_SDK_DISABLED") == "true" || lower("OTEL_TRACES_EXPORTER") == "none" {
        return TraceDestination::Off;
    }
    match var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT")) {
        Some(endpoint) if endpoint.trim_end_matches('/') != embedded_endpoint => {
            TraceDestination::Elsewhere(endpoint)
        }
        _ => TraceDestination::Embedded,
    }
}

#[cfg(test)]
mod tests {
    use super::{TraceDestination, passed_through, trace_destination};

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const EMBEDDED: &str = "http://127.0.0.1:4317";

    #[test]
    fn otel_variables_pass_through_except_the_service_name() {
        let passed = passed_through(
            vars(&[
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_SERVICE_NAME", "everything"),
                ("HOME", "/root"),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "deployment.environment.name=lab",
                ),
            ])
            .into_iter(),
        );
        assert_eq!(
            passed,
            vars(&[
                ("OTEL_TRACES_EXPORTER", "none"),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "deployment.environment.name=lab"
                )
            ])
        );
    }

    #[test]
    fn the_destination_is_read_as_the_sdk_reads_it() {
        assert_eq!(trace_destination(&[], EMBEDDED), TraceDestination::Embedded);
        assert_eq!(
            trace_destination(&vars(&[("OTEL_TRACES_EXPORTER", "NONE")]), EMBEDDED),
            TraceDestination::Off
        );
        assert_eq!(
            trace_destination(&vars(&[("OTEL_SDK_DISABLED", "true")]), EMBEDDED),
            TraceDestination::Off
        );
        let elsewhere = vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4317"),
        ]);
        assert_eq!(
            trace_destination(&elsewhere, EMBEDDED),
            TraceDestination::Elsewhere("http://tempo:4317".into())
        );
        assert_eq!(
            trace_destination(
                &vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317/")]),
                EMBEDDED
            ),
            TraceDestination::Embedded
        );
    }
}

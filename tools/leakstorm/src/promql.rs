//! The metric names a PromQL expression reads — enough to check that dashboards and alert rules
//! only use names the services really export.

use std::collections::BTreeSet;

const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
    // Aggregation operators, which may be followed by `by (...)` rather than `(`.
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Metric names in `expr`: identifiers that are not functions (followed by `(`), keywords,
/// label names (inside `{}` or a `by (...)` list) or parts of numbers and durations.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let (mut i, mut braces, mut grouping) = (0, 0_usize, false);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => braces += 1,
            '}' => braces = braces.saturating_sub(1),
            ')' => grouping = false,
            '"' | '\'' => {
                // Skip string literals (label values).
                i += 1;
                while i < chars.len() && chars[i] != c {
                    i += 1;
                }
            }
            '[' => {
                // Skip range durations like [1m].
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i + 1 < chars.len()
                    && (chars[i + 1].is_ascii_alphanumeric() || matches!(chars[i + 1], '_' | ':'))
                {
                    i += 1;
                }
                let word: String = chars[start..=i].iter().collect();
                let preceded_by_digit = start > 0 && chars[start - 1].is_ascii_digit();
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace()).copied();
                if matches!(
                    word.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) {
                    grouping = true;
                } else if braces == 0
                    && !grouping
                    && !preceded_by_digit
                    && next != Some('(')
                    && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str())
                {
                    names.insert(word);
                }
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// `name` without a histogram or summary suffix.
pub fn base_name(name: &str) -> &str {
    ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::{base_name, metric_names};

    fn names(expr: &str) -> Vec<String> {
        metric_names(expr).into_iter().collect()
    }

    #[test]
    fn finds_metrics_and_skips_functions_labels_and_durations() {
        assert_eq!(
            names(
                r#"histogram_quantile(0.99, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{http_route!~"/healthz|/metrics"}[1m])))"#
            ),
            ["http_server_request_duration_seconds_bucket"]
        );
        assert_eq!(names("runtime_alive_tasks > 100"), ["runtime_alive_tasks"]);
        assert_eq!(
            names("predict_linear(process_heap_allocated_bytes[1m], 600) > 2 * 1024 * 1024 * 1024"),
            ["process_heap_allocated_bytes"]
        );
        assert_eq!(names(r#"risk_mode{mode="fixed"}"#), ["risk_mode"]);
        assert_eq!(
            names("sum(rate(k6_http_reqs_total[30s])) / ignoring (x) rate(made_up_metric[5m])"),
            ["k6_http_reqs_total", "made_up_metric"]
        );
    }

    #[test]
    fn histogram_suffixes_are_stripped() {
        assert_eq!(
            base_name("http_server_request_duration_seconds_bucket"),
            "http_server_request_duration_seconds"
        );
        assert_eq!(base_name("runtime_alive_tasks"), "runtime_alive_tasks");
    }
}

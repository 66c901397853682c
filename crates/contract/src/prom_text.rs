//! Reading the Prometheus text exposition format (what every service's `/metrics` serves): the
//! one parser of the workspace, for the CLI, the test support and the tests.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses sample lines; comments and malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Series> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Series> {
    let (head, value) = line.trim().rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match head.split_once('{') {
        Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}')?)?),
        None => (head, BTreeMap::new()),
    };
    Some(Series {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn parse_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => value.push(chars.next()?.1),
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    Some(labels)
}

/// The value of an unlabelled series, or the sum over a labelled one.
pub fn sum(
    series: &[Series],
    name: &str,
    filter: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Option<f64> {
    let matching: Vec<f64> = series
        .iter()
        .filter(|s| s.name == name && filter(&s.labels))
        .map(|s| s.value)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

/// `GET <base>/metrics`, parsed: one scrape of one service, or `None` when it does not answer
/// within `timeout`.
pub async fn scrape(
    http: &reqwest::Client,
    base: &str,
    timeout: std::time::Duration,
) -> Option<Vec<Series>> {
    let text = http
        .get(format!("{}/metrics", base.trim_end_matches('/')))
        .timeout(timeout)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    Some(parse(&text))
}

/// The value of one series of an exposition: `name` alone, or `name{label="value",...}` with
/// exactly those labels (in any order), as a test or a script names it.
pub fn value(exposition: &str, selector: &str) -> Option<f64> {
    let wanted = parse_line(&format!("{selector} 0"))?;
    parse(exposition)
        .into_iter()
        .find(|s| s.name == wanted.name && s.labels == wanted.labels)
        .map(|s| s.value)
}

#[cfg(test)]
mod tests {
    use super::{parse, sum, value};

    #[test]
    fn a_series_is_found_by_its_selector_whatever_the_label_order() {
        let text = "risk_mode{mode=\"fixed\"} 1\nx{a=\"1\",b=\"2\"} 5\nplain 3\n";
        assert_eq!(value(text, "plain"), Some(3.0));
        assert_eq!(value(text, "risk_mode{mode=\"fixed\"}"), Some(1.0));
        assert_eq!(value(text, "x{b=\"2\",a=\"1\"}"), Some(5.0));
        assert_eq!(value(text, "x{a=\"1\"}"), None, "every label must match");
        assert_eq!(value(text, "risk_mode"), None);
    }

    #[test]
    fn parses_labelled_and_plain_samples() {
        let text = "# HELP x y\n# TYPE runtime_alive_tasks gauge\nruntime_alive_tasks 42\n\
            risk_mode{mode=\"fixed\"} 1\nrisk_mode{mode=\"leaky\"} 0\n\
            http_server_request_duration_seconds_count{http_request_method=\"POST\",http_response_status_code=\"201\",http_route=\"/v1/payments\"} 7\n\
            http_server_request_duration_seconds_count{http_request_method=\"POST\",http_response_status_code=\"504\",http_route=\"/v1/payments\"} 3\n";
        let series = parse(text);
        assert_eq!(sum(&series, "runtime_alive_tasks", |_| true), Some(42.0));
        assert_eq!(
            sum(&series, "risk_mode", |l| l["mode"] == "fixed"),
            Some(1.0)
        );
        let payments = sum(&series, "http_server_request_duration_seconds_count", |l| {
            l.get("http_route").map(String::as_str) == Some("/v1/payments")
        });
        assert_eq!(payments, Some(10.0));
        assert_eq!(sum(&series, "absent", |_| true), None);
    }
}

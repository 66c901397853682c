//! Drawing `leakstorm top`: a table of the services, the top spawn sites, and sparklines of the
//! last minutes — laid out to fit 80×24 and to use more room when there is more. Colour marks
//! the alert thresholds, and goes away with `NO_COLOR` (the marks stay: `!` and bold).

use ratatui::{
    Frame,
    layout::{Constraint, Layout},
    style::{Color, Modifier, Style},
    text::{Line, Span},
    widgets::{Cell, Paragraph, Row, Sparkline, Table},
};

use super::model::{Figures, ServiceState};

/// The alert thresholds the view marks (DetachedTaskLeak counts tasks; p99 in ms).
pub const TASKS_ALERT: f64 = 100.0;
const P99_ALERT_MS: f64 = 1_000.0;

/// What the screen shows besides the services.
pub struct Header<'a> {
    pub target: &'a str,
    pub clock: String,
    /// The last key's effect, or a hint.
    pub status: &'a str,
}

pub struct Palette {
    color: bool,
}

impl Palette {
    /// No colour when `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn alert(&self) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            style.fg(Color::Red)
        } else {
            style
        }
    }

    fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    fn line(&self, hot: bool) -> Style {
        match (self.color, hot) {
            (false, _) => Style::default(),
            (true, true) => Style::default().fg(Color::Red),
            (true, false) => Style::default().fg(Color::Cyan),
        }
    }
}

fn bytes(n: f64) -> String {
    match n {
        n if n >= 1_073_741_824.0 => format!("{:.1}G", n / 1_073_741_824.0),
        n if n >= 1_048_576.0 => format!("{:.0}M", n / 1_048_576.0),
        n => format!("{:.0}K", n / 1024.0),
    }
}

fn ms(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) if v.is_infinite() => ">60s".into(),
        Some(v) if v >= 1000.0 => format!("{:.1}s", v / 1000.0),
        Some(v) => format!("{v:.0}ms"),
    }
}

pub fn draw(
    frame: &mut Frame<'_>,
    header: &Header<'_>,
    services: &[ServiceState],
    palette: &Palette,
) {
    let area = frame.area();
    let spark_rows = area.height.saturating_sub(18).clamp(4, 12);
    let down: Vec<Line<'_>> = services
        .iter()
        .filter_map(|s| s.figures.as_ref().err().map(|why| (s, why)))
        .map(|(s, why)| {
            Line::styled(
                format!("{} unreachable at {}: {why}; retrying", s.name, s.url),
                palette.alert(),
            )
        })
        .collect();
    let [top, table, problems, sites, sparks, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(down.len().max(1) as u16),
        Constraint::Length(5),
        Constraint::Length(spark_rows),
        Constraint::Length(1),
    ])
    .areas(area);

    let risk_mode = services
        .iter()
        .find_map(|s| s.figures.as_ref().ok().and_then(|f| f.risk_mode))
        .unwrap_or("?");
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                "leakstorm top",
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(" · {} · {} · risk: ", header.target, header.clock)),
            Span::styled(
                risk_mode.to_uppercase(),
                if risk_mode == "leaky" {
                    palette.alert()
                } else {
                    Style::default()
                },
            ),
        ])),
        top,
    );
    frame.render_widget(service_table(services, palette), table);
    frame.render_widget(Paragraph::new(down), problems);
    frame.render_widget(site_lines(services, palette), sites);
    draw_sparklines(frame, sparks, services, palette);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("q quit · m switch risk leaky/fixed · {}", header.status),
            palette.dim(),
        )),
        help,
    );
}

fn service_table<'a>(services: &'a [ServiceState], palette: &Palette) -> Table<'a> {
    let head = Row::new([
        "service",
        "heap",
        "rss",
        "tasks",
        "req/s",
        "p50",
        "p99",
        "err",
        "db use/wait",
    ])
    .style(Style::default().add_modifier(Modifier::BOLD));
    let rows = services.iter().map(|s| match &s.figures {
        // The reason is on a line of its own under the table.
        Err(_) => Row::new(vec![
            Cell::from(s.name.clone()),
            Cell::from(Line::styled("down", palette.alert())),
        ]),
        Ok(f) => figures_row(&s.name, f, palette),
    });
    Table::new(
        rows,
        [
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Min(11),
        ],
    )
    .header(head)
}

fn figures_row<'a>(name: &str, f: &Figures, palette: &Palette) -> Row<'a> {
    let tasks_hot = f.alive_tasks > TASKS_ALERT;
    let p99_hot = f.p99_ms.is_some_and(|p| p > P99_ALERT_MS);
    let marked = |text: String, hot: bool| {
        if hot {
            Cell::from(Line::styled(format!("!{text}"), palette.alert()))
        } else {
            Cell::from(text)
        }
    };
    Row::new(vec![
        Cell::from(name.to_owned()),
        Cell::from(bytes(f.heap_bytes)),
        Cell::from(bytes(f.rss_bytes)),
        marked(format!("{:.0}", f.alive_tasks), tasks_hot),
        Cell::from(f.requests_per_s.map_or("–".into(), |r| format!("{r:.1}"))),
        Cell::from(ms(f.p50_ms)),
        marked(ms(f.p99_ms), p99_hot),
        Cell::from(
            f.error_rate
                .map_or("–".into(), |e| format!("{:.0}%", e * 100.0)),
        ),
        marked(
            format!("{:.0}/{:.0} {:.0}", f.db_used, f.db_max, f.db_waiting),
            f.db_waiting > 0.0,
        ),
    ])
}

/// The spawn sites holding the most alive tasks, over the fleet.
fn site_lines<'a>(services: &'a [ServiceState], palette: &Palette) -> Paragraph<'a> {
    let mut sites: Vec<(&str, usize, f64, &str)> = services
        .iter()
        .filter_map(|s| s.tasks.as_ref().map(|t| (s.name.as_str(), t)))
        .flat_map(|(service, t)| {
            t.sites.iter().map(move |site| {
                (
                    service,
                    site.tasks,
                    site.oldest_age_seconds,
                    site.site.as_str(),
                )
            })
        })
        .collect();
    sites.sort_by_key(|s| std::cmp::Reverse(s.1));
    let mut lines = vec![Line::styled(
        "top spawn sites (alive · oldest · where)",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    for (service, alive, oldest, site) in sites.into_iter().take(4) {
        let text = format!("{service:<9}{alive:>6} · {oldest:>5.1}s · {site}");
        let hot = alive as f64 > TASKS_ALERT;
        lines.push(if hot {
            Line::styled(text, palette.alert())
        } else {
            Line::raw(text)
        });
    }
    Paragraph::new(lines)
}

fn draw_sparklines(
    frame: &mut Frame<'_>,
    area: ratatui::layout::Rect,
    services: &[ServiceState],
    palette: &Palette,
) {
    let risk = services.iter().find(|s| s.name == "risk");
    let gateway = services.iter().find(|s| s.name == "gateway");
    let rows = Layout::vertical([Constraint::Ratio(1, 4); 4]).split(area);
    let charts: [(&str, Option<&std::collections::VecDeque<u64>>, String, bool); 4] = [
        (
            "risk heap MiB",
            risk.map(|s| &s.heap_history),
            risk.and_then(|s| s.heap_history.back())
                .map_or("–".into(), |v| v.to_string()),
            false,
        ),
        (
            "risk tasks",
            risk.map(|s| &s.tasks_history),
            risk.and_then(|s| s.tasks_history.back())
                .map_or("–".into(), |v| format!("{v} (alert>{TASKS_ALERT:.0})")),
            risk.and_then(|s| s.tasks_history.back())
                .is_some_and(|v| *v as f64 > TASKS_ALERT),
        ),
        (
            "gateway p99 ms",
            gateway.map(|s| &s.p99_history),
            gateway
                .and_then(|s| s.p99_history.back())
                .map_or("–".into(), |v| v.to_string()),
            gateway
                .and_then(|s| s.p99_history.back())
                .is_some_and(|v| *v as f64 > P99_ALERT_MS),
        ),
        (
            "gateway req/s",
            gateway.map(|s| &s.rate_history),
            gateway
                .and_then(|s| s.rate_history.back())
                .map_or("–".into(), |v| v.to_string()),
            false,
        ),
    ];
    for ((label, history, now, hot), row) in charts.into_iter().zip(rows.iter()) {
        let [name, chart] =
            Layout::horizontal([Constraint::Length(31), Constraint::Min(10)]).areas(*row);
        frame.render_widget(Paragraph::new(format!("{label:<15}{now:>15} ")), name);
        let width = usize::from(chart.width);
        let data: Vec<u64> = history
            .map(|h| h.iter().rev().take(width).rev().copied().collect())
            .unwrap_or_default();
        frame.render_widget(
            Sparkline::default().data(&data).style(palette.line(hot)),
            chart,
        );
    }
}

//! `leakstorm top`'s arguments and its loop: scrape, draw, read a key.

use contract::{admin::ScenarioClient, service::Service};
use std::time::{Duration, Instant};

use clap::Args;
use contract::scenario::{Mode, Scenario};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use super::{
    model::ServiceState,
    view::{Header, Palette},
};
use fleet::cli_args::{AdminArgs, ServiceUrls};

#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    #[command(flatten)]
    pub urls: ServiceUrls,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Seconds between two scrapes.
    #[arg(long, default_value_t = 1.0)]
    pub interval_secs: f64,
}

pub async fn run(args: TopArgs) -> anyhow::Result<()> {
    let urls = args.urls.services();
    let mut services: Vec<ServiceState> =
        urls.iter().map(|(n, u)| ServiceState::new(n, u)).collect();
    let switches = ScenarioClient::new(urls, &args.admin.admin_token)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(900))
        .build()?;
    let palette = Palette::from_env();
    let target = if args.urls.gateway_url == Service::Gateway.local_url() {
        "fleet on 127.0.0.1".to_owned()
    } else {
        args.urls.gateway_url.clone()
    };
    let interval = Duration::from_secs_f64(args.interval_secs.max(0.2));
    // Restores the terminal on every exit, a panic included.
    let mut terminal = ratatui::init();
    let mut status = String::from("scraping…");
    let outcome: anyhow::Result<()> = async {
        let mut next = Instant::now();
        loop {
            if Instant::now() >= next {
                scrape(&http, &args.admin.admin_token, &mut services).await;
                next = Instant::now() + interval;
            }
            let header = Header {
                target: &target,
                clock: chrono::Local::now().format("%H:%M:%S").to_string(),
                status: &status,
            };
            terminal.draw(|frame| super::view::draw(frame, &header, &services, &palette))?;
            let wait = next.saturating_duration_since(Instant::now());
            if !event::poll(wait.min(Duration::from_millis(250)))? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            match key.code {
                KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return Ok(());
                }
                KeyCode::Char('m') => status = switch_risk(&switches).await,
                _ => {}
            }
        }
    }
    .await;
    ratatui::restore();
    outcome
}

/// One scrape of every service, side by side.
async fn scrape(http: &reqwest::Client, admin_token: &str, services: &mut [ServiceState]) {
    let fetched = futures::future::join_all(services.iter().map(|s| async move {
        let metrics = fetch_text(http, &format!("{}/metrics", s.url)).await;
        let tasks = match &metrics {
            Ok(_) => fetch_tasks(http, &s.url, admin_token).await,
            Err(_) => None,
        };
        (metrics, tasks)
    }))
    .await;
    for (service, (metrics, tasks)) in services.iter_mut().zip(fetched) {
        service.update(metrics, tasks);
    }
}

async fn fetch_text(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let response = http.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer within 0.9 s".to_owned()
        } else if e.is_connect() {
            "connection refused".to_owned()
        } else {
            e.to_string()
        }
    })?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    response.text().await.map_err(|e| e.to_string())
}

async fn fetch_tasks(
    http: &reqwest::Client,
    url: &str,
    admin_token: &str,
) -> Option<taskleak::report::TasksReport> {
    http.get(format!("{url}/debug/tasks"))
        .query(&[("limit", "5")])
        .bearer_auth(admin_token)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

/// `m`: risk's detached-spawn scenario to the other mode.
async fn switch_risk(switches: &ScenarioClient) -> String {
    let scenario = Scenario::DetachedSpawn;
    let result = async {
        let now = switches.get(scenario).await?;
        let next = match now {
            Mode::Leaky => Mode::Fixed,
            Mode::Fixed => Mode::Leaky,
        };
        switches.set(scenario, next).await
    }
    .await;
    match result {
        Ok(mode) => format!("risk switched to {}", mode.as_str()),
        Err(e) => format!("switching risk failed: {e:#}"),
    }
}

//! The admin API's client, as the CLI (replay, drill, `leakstorm scenario`, `leakstorm mode`)
//! uses it: each leak scenario's mode on the service that hosts it
//! (`GET|PUT /admin/scenarios/{name}`), and risk's own `GET|PUT /admin/mode`.

use std::time::Duration;

use anyhow::Context as _;

use crate::scenario::{Mode, ModeBody, Scenario, ScenarioState};

/// Where each service answers, and the admin token.
#[derive(Debug, Clone)]
pub struct ScenarioClient {
    http: reqwest::Client,
    services: Vec<(String, String)>,
    admin_token: String,
}

impl ScenarioClient {
    /// `services`: (name, base URL) of the fleet's services.
    pub fn new(services: Vec<(String, String)>, admin_token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()?,
            services,
            admin_token: admin_token.to_owned(),
        })
    }

    fn url(&self, scenario: Scenario) -> anyhow::Result<String> {
        let host = scenario.host();
        let (_, base) = self
            .services
            .iter()
            .find(|(name, _)| name == host)
            .with_context(|| format!("no URL for {host}, which hosts {scenario}"))?;
        Ok(format!("{base}/admin/scenarios/{scenario}"))
    }

    /// Risk's `detached-spawn` mode through its own endpoint, `GET /admin/mode`.
    pub async fn risk_mode(&self) -> anyhow::Result<Mode> {
        let body: ModeBody = self
            .http
            .get(self.risk_mode_url()?)
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .context("reading risk's mode")?
            .error_for_status()
            .context("reading risk's mode")?
            .json()
            .await?;
        Ok(body.mode)
    }

    /// `PUT /admin/mode`: takes effect for risk's next request.
    pub async fn set_risk_mode(&self, mode: Mode) -> anyhow::Result<Mode> {
        let body: ModeBody = self
            .http
            .put(self.risk_mode_url()?)
            .bearer_auth(&self.admin_token)
            .json(&ModeBody { mode })
            .send()
            .await
            .with_context(|| format!("switching risk to {}", mode.as_str()))?
            .error_for_status()
            .with_context(|| format!("switching risk to {}", mode.as_str()))?
            .json()
            .await?;
        Ok(body.mode)
    }

    fn risk_mode_url(&self) -> anyhow::Result<String> {
        let (_, base) = self
            .services
            .iter()
            .find(|(name, _)| name == "risk")
            .context("no URL for risk")?;
        Ok(format!("{base}/admin/mode"))
    }

    pub async fn get(&self, scenario: Scenario) -> anyhow::Result<Mode> {
        let state: ScenarioState = self
            .http
            .get(self.url(scenario)?)
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .with_context(|| format!("reading {scenario}'s mode"))?
            .error_for_status()
            .with_context(|| format!("reading {scenario}'s mode"))?
            .json()
            .await?;
        Ok(state.mode)
    }

    pub async fn set(&self, scenario: Scenario, mode: Mode) -> anyhow::Result<Mode> {
        let state: ScenarioState = self
            .http
            .put(self.url(scenario)?)
            .bearer_auth(&self.admin_token)
            .json(&ModeBody { mode })
            .send()
            .await
            .with_context(|| format!("switching {scenario} to {}", mode.as_str()))?
            .error_for_status()
            .with_context(|| format!("switching {scenario} to {}", mode.as_str()))?
            .json()
            .await?;
        Ok(state.mode)
    }

    /// Every scenario's mode, to put back later ([`Self::restore`]).
    pub async fn snapshot(&self) -> anyhow::Result<Vec<(Scenario, Mode)>> {
        let mut modes = Vec::new();
        for scenario in Scenario::ALL {
            modes.push((scenario, self.get(scenario).await?));
        }
        Ok(modes)
    }

    /// Puts every scenario back as [`Self::snapshot`] found it, saying what it did.
    pub async fn restore(&self, modes: &[(Scenario, Mode)]) {
        for &(scenario, mode) in modes {
            match self.set(scenario, mode).await {
                Ok(_) => {}
                Err(e) => eprintln!(
                    "leakstorm: WARNING: could not put {scenario} back into {} mode ({e:#}); \
                     check with `leakstorm scenario`",
                    mode.as_str()
                ),
            }
        }
        let leaky: Vec<&str> = modes
            .iter()
            .filter(|(_, m)| *m == Mode::Leaky)
            .map(|(s, _)| s.as_str())
            .collect();
        eprintln!(
            "leakstorm: scenarios back as they were before the replay (leaky: {})",
            if leaky.is_empty() {
                "none".to_owned()
            } else {
                leaky.join(", ")
            }
        );
    }
}

//! What a drill round is about, and what a player said: the same shape for both, so that a
//! round is scored field by field. The truth is the lab's answer key: the scenario on the card,
//! the service that hosts it, and where it leaks — for the two task leaks, the spawn line itself,
//! read from the source so that the key follows the code.

use std::path::Path;

use contract::scenario::Scenario;
use serde::{Deserialize, Serialize};

use super::deck::Card;

/// A claim about a round: which leak (none: no leak), in which service, where.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub scenario: Option<Scenario>,
    pub service: Option<String>,
    pub site: Option<String>,
}

/// Where each scenario leaks: a spawn call (file, and text unique to its line), or a resource.
enum LeakSite {
    Spawn {
        file: &'static str,
        marker: &'static str,
    },
    Resource(&'static str),
}

fn leak_site(scenario: Scenario) -> LeakSite {
    match scenario {
        Scenario::DetachedSpawn => LeakSite::Spawn {
            file: "services/risk/src/deep_scoring.rs",
            marker: "tokio::spawn(shard)",
        },
        Scenario::OrphanedLoop => LeakSite::Spawn {
            file: "services/payments/src/lease.rs",
            marker: "self.loops.spawn(",
        },
        Scenario::HeldConnection => LeakSite::Resource("ledger's connection pool"),
        Scenario::BlockingPileup => LeakSite::Resource("risk's blocking pool"),
        Scenario::UnboundedQueue => LeakSite::Resource("channel payments_webhooks"),
    }
}

impl Claim {
    /// The truth behind `card`; `repo` is the checkout whose source holds the spawn lines.
    pub fn truth(card: Card, repo: &Path) -> anyhow::Result<Self> {
        let Some(scenario) = card else {
            return Ok(Self::default());
        };
        let site = match leak_site(scenario) {
            LeakSite::Resource(name) => name.to_owned(),
            LeakSite::Spawn { file, marker } => spawn_line(repo, file, marker)?,
        };
        Ok(Self {
            scenario: Some(scenario),
            service: Some(scenario.host().to_owned()),
            site: Some(site),
        })
    }

    /// `orphaned-loop in payments at <site>`, or `no leak`; the site wrapped in `quote` (a
    /// backtick for Markdown, nothing for a terminal).
    pub fn describe(&self, quote: &str) -> String {
        match (&self.scenario, &self.service) {
            (Some(kind), Some(service)) => format!(
                "{kind} in {service}{}",
                self.site
                    .as_ref()
                    .map(|site| format!(" at {quote}{site}{quote}"))
                    .unwrap_or_default()
            ),
            _ => "no leak".to_owned(),
        }
    }

    /// Whether the truth names a spawn site (`file:line`): only then is the site scored.
    pub fn has_spawn_site(&self) -> bool {
        self.scenario
            .is_some_and(|s| matches!(leak_site(s), LeakSite::Spawn { .. }))
    }
}

/// `file:line` of the one line of `file` holding `marker`.
fn spawn_line(repo: &Path, file: &str, marker: &str) -> anyhow::Result<String> {
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "reading {} for the drill's answer key: {e} (run from the repository, or pass --repo)",
            path.display()
        )
    })?;
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(marker))
        .map(|(i, _)| i + 1)
        .collect();
    match lines.as_slice() {
        [line] => Ok(format!("{file}:{line}")),
        _ => anyhow::bail!(
            "{file} holds {marker:?} on {} lines, not one: the drill's answer key needs updating",
            lines.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use contract::scenario::Scenario;

    use super::Claim;

    #[test]
    fn the_answer_key_finds_each_spawn_line_in_the_source() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for scenario in Scenario::ALL {
            let truth = Claim::truth(Some(scenario), &repo).expect("the key is unambiguous");
            assert_eq!(truth.service.as_deref(), Some(scenario.host()));
            let site = truth.site.clone().expect("a site");
            if truth.has_spawn_site() {
                let (file, line) = site.rsplit_once(':').expect("file:line");
                let text = std::fs::read_to_string(repo.join(file)).expect("source");
                let spawn = text
                    .lines()
                    .nth(line.parse::<usize>().unwrap() - 1)
                    .unwrap();
                assert!(spawn.contains("spawn("), "{site}: {spawn}");
            }
        }
        assert_eq!(Claim::truth(None, &repo).unwrap(), Claim::default());
    }
}

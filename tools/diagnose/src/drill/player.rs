//! Who answers a round: a person at the prompt, or `diagnose` (`--auto`).

use std::io::Write as _;

use contract::{scenario::Scenario, service::Service};
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines, Stdin};

use super::truth::Claim;
use crate::{Finding, watcher::Watcher};

pub enum Player {
    /// `diagnose`, looking every two seconds; its first finding is its answer.
    Auto(Box<Watcher>),
    /// A person typing at the prompt.
    Human(Lines<BufReader<Stdin>>),
}

/// An answer, and what supported it (auto: the finding's evidence).
pub struct Answer {
    pub claim: Claim,
    pub evidence: Vec<String>,
}

impl Player {
    pub fn human() -> Self {
        Self::Human(BufReader::new(tokio::io::stdin()).lines())
    }

    /// Waits for the next answer: `None` means none yet (auto: nothing found at this look; a
    /// person: a line that was not an answer). Cancel-safe: a storm's end may cut it short.
    pub async fn listen(&mut self) -> Option<Answer> {
        match self {
            Player::Auto(watcher) => {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let diagnosis = watcher.step().await.ok()?;
                diagnosis.findings.first().map(answer_of)
            }
            Player::Human(lines) => {
                let Ok(Some(line)) = lines.next_line().await else {
                    // Standard input closed: no answer will come from it.
                    return std::future::pending().await;
                };
                match parse(&line) {
                    Ok(claim) => Some(Answer {
                        claim,
                        evidence: Vec::new(),
                    }),
                    Err(why) => {
                        println!("  {why}");
                        prompt();
                        None
                    }
                }
            }
        }
    }

    pub fn is_human(&self) -> bool {
        matches!(self, Player::Human(_))
    }
}

fn answer_of(finding: &Finding) -> Answer {
    Answer {
        claim: Claim {
            scenario: Some(finding.scenario),
            service: Some(finding.service.clone()),
            site: finding.site.clone(),
        },
        evidence: finding.evidence.clone(),
    }
}

/// How to answer, as the prompt shows it.
pub fn help() -> String {
    let kinds: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
    format!(
        "Answer: <kind> <service> [<where>], or `none` for no leak.\n  kinds: {}\n  services: {}\n  where: the spawn site (file:line) if there is one, else the resource\n  e.g. `detached-spawn risk services/risk/src/deep_scoring.rs:109`",
        kinds.join(", "),
        Service::ALL.map(Service::name).join(", ")
    )
}

pub fn prompt() {
    print!("answer> ");
    let _ = std::io::stdout().flush();
}

/// `none`, or a kind and a service (either order) and optionally where.
pub fn parse(line: &str) -> Result<Claim, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => Err("an empty line is no answer".to_owned()),
        ["none" | "no" | "no-leak"] => Ok(Claim::default()),
        [a, b, rest @ ..] => {
            let (kind, service) = match (a.parse::<Scenario>(), b.parse::<Scenario>()) {
                (Ok(kind), _) => (kind, *b),
                (_, Ok(kind)) => (kind, *a),
                _ => return Err(format!("no kind of leak in {line:?}\n{}", help())),
            };
            if service.parse::<Service>().is_err() {
                return Err(format!("{service:?} is not a service\n{}", help()));
            }
            Ok(Claim {
                scenario: Some(kind),
                service: Some(service.to_owned()),
                site: (!rest.is_empty()).then(|| rest.join(" ")),
            })
        }
        _ => Err(format!("{line:?} is not an answer\n{}", help())),
    }
}

#[cfg(test)]
mod tests {
    use contract::scenario::Scenario;

    use super::{Claim, parse};

    #[test]
    fn answers_parse_in_either_order_and_nonsense_is_refused() {
        assert_eq!(parse(" none ").unwrap(), Claim::default());
        let claim = parse("orphaned-loop payments services/payments/src/lease.rs:95").unwrap();
        assert_eq!(claim.scenario, Some(Scenario::OrphanedLoop));
        assert_eq!(claim.service.as_deref(), Some("payments"));
        assert_eq!(
            claim.site.as_deref(),
            Some("services/payments/src/lease.rs:95")
        );
        assert_eq!(
            parse("risk blocking-pileup").unwrap().scenario,
            Some(Scenario::BlockingPileup)
        );
        assert!(parse("leak risk").is_err());
        assert!(parse("detached-spawn redis").is_err());
        assert!(parse("").is_err());
    }
}

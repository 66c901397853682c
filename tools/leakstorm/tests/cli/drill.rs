//! `leakstorm drill` as a person plays it: in a real terminal (tmux, `NO_COLOR`), one round on a
//! native fleet, answered at the prompt — a line that is no answer first (the prompt explains
//! and asks again), then the right one — and the reveal, the score and `drill.json` read back.

use std::{path::Path, time::Duration};

use crate::support::tmux::Tmux;
use diagnose::drill::{deck, truth::Claim};
use kit::{scenarios::Scenario, testing::TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_plays_a_round_at_the_prompt_and_gets_the_reveal_and_the_score() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // A seed whose first card is held-connection: the person knows the answer, the drill does not
    // say it.
    let seed = (0..1000)
        .find(|s| deck::deal(*s, 1)[0] == Some(Scenario::HeldConnection))
        .expect("some seed deals it first");
    let truth = Claim::truth(Some(Scenario::HeldConnection), &repo).expect("the answer key");
    let db = TestDatabase::create().await;
    let dir =
        std::env::temp_dir().join(format!("leakstorm-drill-{}", uuid::Uuid::new_v4().simple()));
    let ports: String = [
        "gateway", "payments", "risk", "ledger", "otlp", "ui", "postgres",
    ]
    .iter()
    .map(|p| format!(" --{p}-port 0"))
    .collect();
    let command = format!(
        "{} drill --rounds 1 --seed {seed} --storm-secs 15 --rate 5 --answer-grace-secs 5{ports} \
         --no-prometheus --database-url {} --run-dir {} --out {} --k6-dir {} --repo {}",
        env!("CARGO_BIN_EXE_leakstorm"),
        db.url(),
        dir.join("run").display(),
        dir.join("out").display(),
        repo.join("k6").display(),
        repo.display(),
    );
    // The terminal stays open once the drill exits, so that its last screen can be read.
    let tmux = Tmux::start(
        "leakstorm-drill",
        100,
        40,
        &format!("{command}; echo \"drill exited $?\"; sleep 120"),
    );
    let screen = tmux
        .wait_for("the round's prompt", Duration::from_secs(60), |s| {
            s.contains("answer>")
        })
        .await;
    assert!(screen.contains("=== Round 1 of 1 ==="), "{screen}");
    assert!(
        !screen.contains("held-connection in"),
        "the round does not give its truth away:\n{screen}"
    );

    tmux.keys("leak somewhere");
    tmux.keys("Enter");
    tmux.wait_for(
        "the prompt explaining itself",
        Duration::from_secs(5),
        |s| s.contains("no kind of leak in \"leak somewhere\""),
    )
    .await;
    tmux.keys("held-connection ledger");
    tmux.keys("Enter");
    tmux.wait_for("the answer taken", Duration::from_secs(5), |s| {
        s.contains("answer recorded at +")
    })
    .await;
    tmux.wait_for("the drill's end", Duration::from_secs(60), |s| {
        s.contains("drill exited")
    })
    .await;
    let screen = tmux.history(200);
    assert!(screen.contains("drill exited 0"), "{screen}");
    assert!(screen.contains("Score: 1 of 1 rounds right"), "{screen}");
    eprintln!("{screen}");
    assert!(
        screen.contains("--- round 1: the truth was held-connection in ledger"),
        "{screen}"
    );
    assert!(
        screen.contains("detection right, service right, kind right"),
        "{screen}"
    );

    let written = std::fs::read_dir(dir.join("out"))
        .expect("the drill wrote its report")
        .flatten()
        .next()
        .expect("a drill folder")
        .path();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(written.join("drill.json")).expect("drill.json"),
    )
    .expect("JSON");
    let round = &json["rounds"][0];
    assert_eq!(round["truth"]["scenario"], "held-connection");
    assert_eq!(
        round["truth"]["site"],
        truth.site.as_deref().unwrap_or_default()
    );
    assert_eq!(round["answer"]["scenario"], "held-connection");
    assert_eq!(round["answer"]["service"], "ledger");
    assert!(
        round["seconds_to_answer"]
            .as_f64()
            .is_some_and(|t| t >= 0.0)
    );
    assert_eq!(json["score"]["right"], 1);
    assert!(
        std::fs::read_to_string(written.join("drill.md"))
            .expect("drill.md")
            .contains("Confusion matrix")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

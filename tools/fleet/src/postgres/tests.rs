use std::path::{Path, PathBuf};

use super::{find_script, run};

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakstorm-pg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn the_repository_script_is_found_and_its_absence_says_what_to_do() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh");
    let found = find_script([
        PathBuf::from("/nonexistent/scripts/pg-cluster.sh"),
        real.clone(),
    ]);
    assert_eq!(found.expect("found"), real);
    let error =
        find_script([PathBuf::from("/nonexistent/scripts/pg-cluster.sh")]).expect_err("no script");
    let message = format!("{error:#}");
    assert!(
        message.contains("repository root") && message.contains("--database-url"),
        "{message}"
    );
}

#[tokio::test]
async fn the_scripts_explanation_becomes_the_error() {
    let dir = temp_dir();
    let script = dir.join("pg-cluster.sh");
    std::fs::write(
        &script,
        "echo 'no PostgreSQL server binaries found: brew install postgresql@16' >&2\nexit 1\n",
    )
    .expect("write");
    let error = run(&script, &["start", "/tmp/x", "5432"])
        .await
        .expect_err("fails");
    let message = format!("{error:#}");
    assert!(message.contains("brew install postgresql@16"), "{message}");
    assert!(message.contains("--database-url"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_script_answers_a_wrong_call_with_its_usage() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh");
    let output = std::process::Command::new("bash")
        .arg(&script)
        .arg("restart")
        .output()
        .expect("runs");
    // No server binaries here is exit 1 from the lookup, a wrong call exit 2: either way it
    // refuses, and says why.
    assert!(!output.status.success());
    assert!(!output.stderr.is_empty());
}

//! A test suite that installs a `tracing_subscriber::fmt` subscriber of its own, before any
//! guard: the guard wraps it for the test's thread. That sees every spawn of a current-thread
//! test; on a multi-thread runtime the guard cannot see the workers' spawns, and fails loudly
//! saying so instead of passing.

#![cfg(tokio_unstable)]

use std::time::Duration;

use taskleak::Guard;

const SHORT: Duration = Duration::from_millis(200);

fn install_fmt() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
}

#[tokio::test]
async fn a_current_thread_test_is_guarded_under_a_global_fmt_subscriber() {
    install_fmt();
    let guard = Guard::new().settle(SHORT);
    tracing::info!("logs still reach the fmt subscriber");
    let line = line!() + 1;
    drop(tokio::spawn(std::future::pending::<()>()));
    let leaks = guard.check().await.expect_err("the task outlives the test");
    assert_eq!(leaks.tasks(), 1, "{leaks}");
    assert!(
        leaks.sites[0]
            .site
            .ends_with(&format!("with_fmt.rs:{line}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_thread_test_whose_spawns_it_cannot_see_fails_loudly() {
    install_fmt();
    let guard = Guard::new().settle(SHORT);
    tokio::spawn(async { drop(tokio::spawn(std::future::pending::<()>())) })
        .await
        .expect("the parent ends");
    let leaks = guard.check().await.expect_err("an unseen task is no pass");
    assert_eq!(leaks.unattributed, 1, "{leaks}");
    let message = leaks.to_string();
    assert!(
        message.contains("taskleak::wrap(your_subscriber)"),
        "{message}"
    );
}

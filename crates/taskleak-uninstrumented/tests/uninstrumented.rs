//! Built without `--cfg tokio_unstable`, tokio opens no spawn spans: the census and the guard
//! must say so, never answer "0 tasks" or pass. CI builds this file without the flag:
//! `RUSTFLAGS= CARGO_TARGET_DIR=target/uninstrumented cargo test -p taskleak-uninstrumented`.
#![cfg(not(tokio_unstable))]

use taskleak::{Census, CensusError, Guard};

#[tokio::test]
async fn without_tokio_unstable_the_census_and_the_guard_say_so() {
    drop(tokio::spawn(std::future::pending::<()>()));
    assert_eq!(Census::global().snapshot(), Err(CensusError::NotCompiled));

    let leaks = Guard::new().check().await.expect_err("a blind guard fails");
    assert_eq!(leaks.cannot_see, Some(CensusError::NotCompiled));
    let message = leaks.to_string();
    assert!(message.contains("--cfg tokio_unstable"), "{message}");
}

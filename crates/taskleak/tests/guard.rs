//! The guard, both ways: it fails a test whose tasks outlive it, naming the spawn site, and
//! passes one whose tasks end — also when they end during the settle wait, when tests run in
//! parallel in one process, and on the runtimes of a server the test started.
//!
//! No subscriber is installed here: the first guard installs the census itself (the common
//! set-up of a test suite with no subscriber of its own; `tests/with_fmt.rs` covers the other).

#![cfg(tokio_unstable)]

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use taskleak::{Guard, Leaks};

const SHORT: Duration = Duration::from_millis(200);

/// A task that waits for something that never comes: alive until its runtime goes away.
fn park_forever() -> impl Future<Output = ()> + Send + 'static {
    wait_for_nobody()
}

/// Parked on a tokio resource, where a task dump can see it.
async fn wait_for_nobody() {
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
}

fn this_file_line(leaks: &Leaks, index: usize) -> (String, u32) {
    let (file, line) = leaks.sites[index].site.rsplit_once(':').expect("file:line");
    (file.to_owned(), line.parse().expect("a line number"))
}

#[tokio::test]
async fn a_detached_task_fails_the_test_and_is_named_by_its_spawn_site() {
    let guard = Guard::new().settle(SHORT);
    let line = line!() + 1;
    let detached = tokio::spawn(park_forever());
    drop(detached); // dropping a JoinHandle detaches its task; it does not stop it
    tokio::task::yield_now().await;

    let leaks = guard.check().await.expect_err("the task outlives the test");
    assert_eq!(leaks.tasks(), 1);
    assert_eq!(leaks.sites.len(), 1);
    assert_eq!(
        this_file_line(&leaks, 0),
        ("crates/taskleak/tests/guard.rs".to_owned(), line)
    );
    assert!(leaks.sites[0].oldest >= SHORT, "{leaks:?}");
    let message = leaks.to_string();
    assert!(
        message.contains(&format!("1 × crates/taskleak/tests/guard.rs:{line}")),
        "{message}"
    );
    assert!(
        message.contains(".ignore(\""),
        "the message says how to ignore it: {message}"
    );
    if taskleak::dump::AVAILABLE {
        // Where the task waits: in this file's `wait_for_nobody` (named by function where debug
        // info names it, else by file:line).
        let parked = leaks.sites[0].parked_in.as_deref().unwrap_or_default();
        assert!(
            parked.contains("wait_for_nobody") || parked.contains("tests/guard.rs:"),
            "parked in: {message}"
        );
    }
}

#[tokio::test]
async fn tasks_that_end_pass_and_one_ending_during_the_settle_wait_passes_too() {
    let strict = Guard::new().settle(Duration::ZERO);
    let patient = Guard::new();
    let done = tokio::spawn(async { 40 + 2 });
    assert_eq!(done.await.expect("task ends"), 42);
    // Still running when the body ends, finished 50 ms later: not a leak.
    drop(tokio::spawn(tokio::time::sleep(Duration::from_millis(50))));
    assert!(
        strict.check().await.is_err(),
        "without a settle wait the late task would be reported"
    );
    patient.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_tasks_spawned_by_tasks_are_caught_too() {
    let guard = Guard::new().settle(SHORT);
    let line = line!() + 2;
    let parent = tokio::spawn(async {
        drop(tokio::spawn(park_forever()));
    });
    parent.await.expect("the parent ends");
    let leaks = guard
        .check()
        .await
        .expect_err("the child outlives the test");
    assert_eq!(leaks.tasks(), 1, "{leaks}");
    assert_eq!(this_file_line(&leaks, 0).1, line);
}

#[tokio::test]
async fn ignored_sites_and_tasks_alive_before_the_guard_do_not_fail_the_test() {
    let before = tokio::spawn(park_forever());
    let line = line!() + 5;
    let guard = Guard::new()
        .settle(SHORT)
        .ignore_current()
        .ignore(&format!("*/tests/guard.rs:{line}"));
    drop(tokio::spawn(park_forever()));
    guard.verify().await;
    before.abort();
}

#[test]
fn of_two_tests_running_in_parallel_only_the_leaking_one_fails() {
    let both_started = Arc::new(Barrier::new(2));
    let run = |leak: bool| {
        let both_started = both_started.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let guard = Guard::new().settle(SHORT);
                both_started.wait();
                if leak {
                    drop(tokio::spawn(park_forever()));
                } else {
                    tokio::spawn(async {}).await.expect("task ends");
                }
                // Both guards look while the other test's task is alive.
                tokio::time::sleep(Duration::from_millis(50)).await;
                guard.check().await
            })
        })
    };
    let (leaky, clean) = (run(true), run(false));
    let leaky = leaky.join().expect("no panic");
    let clean = clean.join().expect("no panic");
    assert_eq!(
        clean,
        Ok(()),
        "the clean test does not see its neighbour's task"
    );
    assert_eq!(leaky.expect_err("the leaky test fails").tasks(), 1);
}

#[tokio::test]
async fn a_task_leaked_on_a_server_worker_runtime_fails_the_test_that_started_the_server() {
    let guard = Guard::new().settle(SHORT);
    // A server in the style of actix-web: worker threads with runtimes of their own, each
    // registering itself in the server's `Runtimes` (created on the test's runtime).
    let runtimes = taskleak::Runtimes::new();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (spawned_tx, spawned_rx) = tokio::sync::oneshot::channel();
    let line = line!() + 11;
    let worker = std::thread::spawn({
        let runtimes = runtimes.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            // The worker runs (and its task lives) until the server stops.
            runtime.block_on(async {
                runtimes.register_current();
                drop(tokio::spawn(park_forever()));
                let _ = spawned_tx.send(());
                let _ = stop_rx.await;
            });
        }
    });
    spawned_rx.await.expect("the worker spawned");

    let leaks = guard
        .check()
        .await
        .expect_err("the worker's task outlives the test");
    assert_eq!(leaks.tasks(), 1, "{leaks}");
    assert_eq!(this_file_line(&leaks, 0).1, line);
    drop(stop_tx);
    worker.join().expect("worker stops");
}

#[test]
fn a_task_spawned_onto_the_test_runtime_from_a_plain_thread_is_counted() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let handle = runtime.handle().clone();
    let leaks = runtime.block_on(async move {
        let guard = Guard::new().settle(SHORT);
        // `Handle::spawn` from outside any runtime: the census learns the task's runtime at
        // its first poll.
        std::thread::spawn(move || drop(handle.spawn(park_forever())))
            .join()
            .expect("spawned");
        guard.check().await
    });
    let leaks = leaks.expect_err("the task outlives the test");
    assert_eq!((leaks.tasks(), leaks.unattributed), (1, 0), "{leaks}");
}

#[test]
fn dropping_the_guard_checks_on_a_multi_thread_runtime_and_asks_for_verify_on_a_current_thread_one()
{
    let panic_text = |flavor_multi: bool| {
        let mut builder = if flavor_multi {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        let runtime = builder.enable_all().build().expect("runtime");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {
                let _guard = Guard::new().settle(SHORT);
                drop(tokio::spawn(park_forever()));
            })
        }));
        let panic = outcome.expect_err("the guard panics");
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let multi = panic_text(true);
    assert!(
        multi.contains("1 task spawned during this test is still alive"),
        "{multi}"
    );
    let current = panic_text(false);
    assert!(current.contains("guard.verify().await"), "{current}");
}

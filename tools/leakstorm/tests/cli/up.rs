//! `leakstorm up` as a user runs it: the whole native fleet (throwaway Postgres included) starts,
//! answers, and on SIGTERM stops completely — no process or port left behind.

use std::{
    io::{BufRead as _, BufReader},
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

fn free_ports(n: usize) -> Vec<u16> {
    // Hold them all at once so they differ, then release them for the fleet.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

fn processes_mentioning(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

fn up_command(run_dir: &std::path::Path, ports: &[u16]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_leakstorm"));
    command.arg("up").arg("--run-dir").arg(run_dir);
    for (flag, port) in [
        "--gateway-port",
        "--payments-port",
        "--risk-port",
        "--ledger-port",
        "--otlp-port",
        "--ui-port",
        "--postgres-port",
        "--prometheus-port",
    ]
    .iter()
    .zip(ports)
    {
        command.arg(flag).arg(port.to_string());
    }
    command.env_remove("LEAKSTORM_DATABASE_URL");
    command
}

#[test]
fn up_starts_the_fleet_and_sigterm_stops_everything_it_started() {
    let run_dir =
        std::env::temp_dir().join(format!("leakstorm-up-{}", uuid::Uuid::new_v4().simple()));
    let ports = free_ports(8);
    let mut child = up_command(&run_dir, &ports)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("leakstorm up starts");
    // Lines arrive on a thread of their own, so that a silent `leakstorm up` fails the test at
    // its limit instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let limit = Instant::now() + Duration::from_secs(120);
    let mut printed = String::new();
    loop {
        let left = limit.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line.starts_with("Try:") {
                    break;
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("fleet did not come up within 120 s (or its output ended):\n{printed}");
            }
        }
    }
    let get = |port: u16, path: &str| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        use std::io::{Read as _, Write as _};
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    };
    assert!(printed.contains("leakstorm fleet is up"), "{printed}");
    assert!(printed.contains(&format!("Jaeger UI http://127.0.0.1:{}", ports[5])));
    if std::process::Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok()
    {
        assert!(
            printed.contains(&format!("Prometheus http://127.0.0.1:{}/alerts", ports[7])),
            "{printed}"
        );
        assert!(
            get(ports[7], "/api/v1/rules").contains("DetachedTaskLeak"),
            "Prometheus evaluates the leak alerts"
        );
    } else {
        assert!(printed.contains("Prometheus not found"), "{printed}");
    }

    assert!(
        get(ports[0], "/readyz").starts_with("HTTP/1.1 200"),
        "gateway ready"
    );
    assert!(
        get(ports[5], "/api/services").starts_with("HTTP/1.1 200"),
        "Jaeger API up"
    );
    assert!(
        !processes_mentioning(&run_dir.display().to_string()).is_empty(),
        "Postgres runs from the run dir"
    );

    nix::sys::signal::kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM)
        .expect("SIGTERM sent");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "leakstorm up did not stop within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "clean exit: {status}");
    for port in &ports {
        assert!(
            TcpListener::bind(("127.0.0.1", *port)).is_ok(),
            "port {port} is free again"
        );
    }
    assert!(
        processes_mentioning(&run_dir.display().to_string()).is_empty(),
        "no Postgres (nor Prometheus) left running"
    );
    let _ = std::fs::remove_dir_all(&run_dir);
}

#[test]
fn up_refuses_a_taken_port_with_a_clear_error() {
    let run_dir =
        std::env::temp_dir().join(format!("leakstorm-up-{}", uuid::Uuid::new_v4().simple()));
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut ports = free_ports(8);
    ports[0] = taken.local_addr().expect("addr").port();
    let output = up_command(&run_dir, &ports).output().expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("port {} for gateway is taken", ports[0])),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&run_dir);
}

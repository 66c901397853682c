//! `<service> healthcheck`: GET `/healthz` on the local instance and exit 0 when it answers 200.
//! Container images without a shell or curl use it as their healthcheck command.

use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    time::Duration,
};

use anyhow::{Context as _, bail};

/// Probes `127.0.0.1:$PORT/healthz` (PORT as the service reads it).
pub fn probe(default_port: u16) -> anyhow::Result<()> {
    let port: u16 = crate::config::env_or("PORT", default_port)?;
    let timeout = Duration::from_secs(2);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status_line = response.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        bail!("unhealthy: {status_line}")
    }
}

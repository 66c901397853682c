//! CPU time per process from /proc: the services, Postgres (postmaster, its backends and the
//! backends that already exited), this process (which hosts the trace store) and its reaped
//! children (k6, the only child that exits during a measurement).

use std::{collections::HashMap, path::Path};

/// Linux reports CPU times in clock ticks of `USER_HZ`, 100 on every Linux ABI in use.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime, stime, cutime, cstime of one process, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Times {
    own: u64,
    reaped_children: u64,
}

fn times(pid: &str) -> Option<(u32, Times)> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// (ppid, times) from a `/proc/<pid>/stat` line.
fn parse_stat(stat: &str) -> Option<(u32, Times)> {
    // The command name is in parentheses and may contain spaces: fields start after ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let ppid = u32::try_from(field(4)?).ok()?;
    Some((
        ppid,
        Times {
            own: field(14)? + field(15)?,
            reaped_children: field(16)? + field(17)?,
        },
    ))
}

/// CPU seconds so far of each process group the benchmark measures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuSnapshot {
    pub seconds: HashMap<String, f64>,
}

impl CpuSnapshot {
    /// `services`: name and pid; `postmaster`: the cluster's postmaster pid, if ours.
    pub fn take(services: &[(String, u32)], postmaster: Option<u32>) -> Self {
        let mut seconds = HashMap::new();
        let to_s = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
        for (name, pid) in services {
            if let Some((_, t)) = times(&pid.to_string()) {
                seconds.insert(name.clone(), to_s(t.own));
            }
        }
        if let Some((_, me)) = times("self") {
            seconds.insert("trace store (leakstorm)".to_owned(), to_s(me.own));
            seconds.insert("k6".to_owned(), to_s(me.reaped_children));
        }
        if let Some(postmaster) = postmaster {
            let mut ticks =
                times(&postmaster.to_string()).map_or(0, |(_, t)| t.own + t.reaped_children);
            ticks += children_ticks(postmaster);
            seconds.insert("postgres".to_owned(), to_s(ticks));
        }
        Self { seconds }
    }

    /// CPU seconds spent per group between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuSnapshot) -> HashMap<String, f64> {
        self.seconds
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v - earlier.seconds.get(k).copied().unwrap_or(0.0),
                )
            })
            .collect()
    }
}

/// Own CPU of the live children of `parent`.
fn children_ticks(parent: u32) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|pid| times(&pid))
        .filter(|(ppid, _)| *ppid == parent)
        .map(|(_, t)| t.own)
        .sum()
}

/// The postmaster of the cluster whose data directory is `data_dir` (`postmaster.pid`'s first
/// line), if it runs.
pub fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let pid: u32 = text.lines().next()?.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_lines_whose_command_has_spaces_and_parens() {
        let line = "4242 (tokio (worker) 1) S 17 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 7 3 20 0 9 0 1000 2000000 500 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some((
                17,
                Times {
                    own: 300,
                    reaped_children: 10
                }
            ))
        );
        assert_eq!(parse_stat("garbage"), None);
    }
}

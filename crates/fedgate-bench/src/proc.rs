//! What the benchmark reads of other processes, from `/proc`: CPU time, context
//! switches, resident memory — of Fedgate, and of PostgreSQL and Redis when they run
//! on this machine.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `utime + stime` of `/proc/<pid>/stat` (every thread, dead ones included).
fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (in parentheses, which may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn command_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat[stat.find('(')? + 1..stat.rfind(')')?].to_owned())
}

/// Every process whose command name is `name` (PostgreSQL's backends are all
/// `postgres`; Redis is `redis-server`).
#[must_use]
pub fn processes_named(name: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| command_of(*pid).as_deref() == Some(name))
        .collect()
}

/// The CPU time of a group of processes (read fresh each time: PostgreSQL starts a
/// backend per connection).
#[derive(Debug, Clone)]
pub enum Group {
    /// These processes.
    Pids(Vec<u32>),
    /// Every process with this command name.
    Named(&'static str),
}

impl Group {
    /// Their CPU time so far, per process.
    fn cpu(&self) -> HashMap<u32, Duration> {
        let pids = match self {
            Self::Pids(p) => p.clone(),
            Self::Named(n) => processes_named(n),
        };
        pids.into_iter()
            .filter_map(|p| Some((p, cpu_of(p)?)))
            .collect()
    }
}

/// CPU used by a group between two readings: processes that appeared count from
/// zero, processes that vanished count until their last reading.
#[derive(Debug)]
pub struct CpuReading {
    group: Group,
    start: HashMap<u32, Duration>,
}

impl CpuReading {
    /// Starts reading `group`.
    #[must_use]
    pub fn start(group: Group) -> Self {
        let start = group.cpu();
        Self { group, start }
    }

    /// The CPU used since the start.
    #[must_use]
    pub fn used(&self) -> Duration {
        self.group
            .cpu()
            .iter()
            .map(|(pid, now)| now.saturating_sub(self.start.get(pid).copied().unwrap_or_default()))
            .sum()
    }
}

/// Voluntary + involuntary context switches of every thread of `pid` so far.
fn switches_by_thread(pid: u32) -> HashMap<u32, u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return HashMap::new();
    };
    dir.filter_map(|e| {
        let tid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
        let n: u64 = status
            .lines()
            .filter(|l| {
                l.starts_with("voluntary_ctxt_switches:")
                    || l.starts_with("nonvoluntary_ctxt_switches:")
            })
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        Some((tid, n))
    })
    .collect()
}

/// Switches per thread id: at the start, and at the latest reading.
type Readings = (HashMap<u32, u64>, HashMap<u32, u64>);

/// Counts the context switches of a process's threads while it runs: `/proc` keeps
/// them per thread and forgets a thread when it ends (a blocking-pool thread going
/// idle), so the threads are read every 20 ms and each one's last reading kept.
#[derive(Debug)]
pub struct SwitchCounter {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Readings>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SwitchCounter {
    /// Starts counting for `pid`.
    #[must_use]
    pub fn start(pid: u32) -> Self {
        let first = switches_by_thread(pid);
        let seen = Arc::new(Mutex::new((first.clone(), first)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                    let now = switches_by_thread(pid);
                    let mut seen = seen
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    seen.1.extend(now);
                }
            })
        };
        Self {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// Stops counting; the switches since the start.
    #[must_use]
    pub fn finish(mut self, pid: u32) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.1.extend(switches_by_thread(pid));
        let (first, last) = &*seen;
        last.iter()
            .map(|(tid, n)| n.saturating_sub(first.get(tid).copied().unwrap_or(0)))
            .sum()
    }
}

/// The whole machine's CPU time from `/proc/stat`, in ticks: idle (with I/O wait)
/// and all.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineTicks {
    /// Idle and waiting for I/O.
    pub idle: u64,
    /// Every state.
    pub total: u64,
}

impl MachineTicks {
    /// The counters now (zero when unreadable).
    #[must_use]
    pub fn now() -> Self {
        let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
            return Self::default();
        };
        let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
            return Self::default();
        };
        // user nice system idle iowait irq softirq steal (guest time is in user).
        let ticks: Vec<u64> = cpu
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|t| t.parse().ok())
            .collect();
        Self {
            idle: ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0),
            total: ticks.iter().sum(),
        }
    }

    /// The ticks from `earlier` to `self`.
    #[must_use]
    pub fn since(self, earlier: Self) -> Self {
        Self {
            idle: self.idle.saturating_sub(earlier.idle),
            total: self.total.saturating_sub(earlier.total),
        }
    }

    /// The idle share in per cent, if any time passed.
    #[must_use]
    pub fn idle_percent(self) -> Option<f64> {
        (self.total > 0).then(|| 100.0 * self.idle as f64 / self.total as f64)
    }
}

impl std::ops::Add for MachineTicks {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            idle: self.idle + other.idle,
            total: self.total + other.total,
        }
    }
}

/// A field of `/proc/<pid>/status` in KiB (0 when unreadable).
#[must_use]
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory now.
#[must_use]
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The highest resident memory the process has had.
#[must_use]
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

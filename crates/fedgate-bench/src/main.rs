//! Fedgate's benchmark: complete hosted logins, login starts, token verification
//! through the signed API, memory and size behaviour — against a separately running
//! release `fedgate` process and a fast fake Google in this process. Each scenario
//! prints its throughput, p50/p99 latency, the CPU per operation of Fedgate (and of
//! PostgreSQL and Redis when they run on this machine), Fedgate's context switches
//! per operation and its resident memory, all read from `/proc`.
//!
//! ```text
//! fedgate-bench [--n N] [--c C] [POSTGRES_BASE_URL REDIS_URL]
//!     the whole matrix: every scenario on the embedded default, then (with the URLs)
//!     on PostgreSQL + Redis, the fill from an empty PostgreSQL database, the size
//!     comparison (1 k vs 1 M users) and the memory run
//! fedgate-bench logins [--n N] [--c C] [POSTGRES_BASE_URL REDIS_URL]
//! fedgate-bench fill POSTGRES_BASE_URL REDIS_URL [--n USERS]
//! fedgate-bench size [--n USERS] [POSTGRES_BASE_URL REDIS_URL]
//! fedgate-bench memory [--n LOGINS]
//! fedgate-bench two-instances POSTGRES_BASE_URL REDIS_URL [--n N] [--c C]
//! ```

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark driver fails loudly"
)]

mod bare;
mod proc;
mod raw;
mod scenarios;
mod server;

use std::time::Duration;

/// Command-line options shared by the modes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Logins per login scenario (other scenarios scale from it).
    pub n: Option<usize>,
    /// Concurrent browsers / connections.
    pub c: usize,
    /// PostgreSQL server (without a database) and Redis, for the shared setup.
    pub shared: Option<(String, String)>,
}

fn parse(args: impl Iterator<Item = String>) -> Options {
    let mut options = Options {
        n: None,
        c: 8,
        shared: None,
    };
    let mut urls = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--n" => options.n = args.next().and_then(|v| v.parse().ok()),
            "--c" => options.c = args.next().and_then(|v| v.parse().ok()).expect("--c C"),
            _ => urls.push(arg),
        }
    }
    match urls.as_slice() {
        [] => {}
        [pg, redis] => options.shared = Some((pg.clone(), redis.clone())),
        other => panic!("expected POSTGRES_BASE_URL REDIS_URL, got {other:?}"),
    }
    options
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mode = match args.peek().map(String::as_str) {
        Some(m @ ("logins" | "fill" | "size" | "memory" | "two-instances" | "bare-redirect")) => {
            let m = m.to_owned();
            args.next();
            m
        }
        _ => "matrix".to_owned(),
    };
    if mode == "bare-redirect" {
        let port = args.next().and_then(|p| p.parse().ok()).expect("PORT");
        return bare::serve(port, args.next()).expect("bare redirect server");
    }
    let options = parse(args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        match mode.as_str() {
            "logins" => scenarios::logins(&options).await,
            "fill" => scenarios::fill(&options).await,
            "size" => scenarios::size(&options).await,
            "memory" => scenarios::memory(&options).await,
            "two-instances" => scenarios::two_instances(&options).await,
            _ => {
                scenarios::logins(&Options {
                    shared: None,
                    ..options.clone()
                })
                .await;
                if options.shared.is_some() {
                    println!();
                    scenarios::logins(&options).await;
                    println!();
                    scenarios::fill(&options).await;
                }
                println!();
                scenarios::size(&Options {
                    shared: None,
                    ..options.clone()
                })
                .await;
                println!();
                scenarios::memory(&Options {
                    n: None,
                    ..options.clone()
                })
                .await;
            }
        }
    });
    // Children are killed when their handles drop; give them a moment to go.
    std::thread::sleep(Duration::from_millis(100));
}

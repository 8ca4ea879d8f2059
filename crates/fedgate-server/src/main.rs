//! `fedgate [serve] | migrate | rotate-master-key`, with `--config FILE` (or
//! `FEDGATE_CONFIG`).

use std::path::PathBuf;

use anyhow::bail;
use fedgate_server::{Application, Settings, startup, telemetry};

/// jemalloc, configured in `.cargo/config.toml`: memory freed after a burst (a flood
/// of login starts whose records expire, the Argon2 working memory of a wave of
/// sign-ins) goes back to the system within seconds, with or without later traffic.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "usage: fedgate [serve | migrate | rotate-master-key] [--config FILE]

  serve               run the service (default)
  migrate             apply database migrations and exit
  rotate-master-key   re-seal every secret under master_key, accepting
                      previous_master_keys meanwhile; the service may keep
                      running (docs/operations.md, Rotating the master key)

Configuration: defaults, then FILE (or $FEDGATE_CONFIG), then FEDGATE_* variables.
See docs/configuration.md.";

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut command = None;
    let mut config = std::env::var_os("FEDGATE_CONFIG").map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "serve" | "migrate" | "rotate-master-key" if command.is_none() => {
                command = Some(arg);
            }
            "--config" => match args.next() {
                Some(path) => config = Some(PathBuf::from(path)),
                None => bail!("--config needs a file\n\n{USAGE}"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "-V" | "--version" => {
                println!("fedgate {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    let settings = Settings::load(config.as_deref())?;
    telemetry::init(&settings);
    match command.as_deref() {
        Some("migrate") => {
            startup::open_database(&settings).await?;
            tracing::info!("migrations applied");
            return Ok(());
        }
        Some("rotate-master-key") => {
            let r = fedgate_server::master_key::rotate(&settings).await?;
            for (column, n) in &r.resealed {
                println!("re-sealed {n:>7}  {column:?}");
            }
            println!(
                "{} secrets re-sealed, {} were already current: everything is sealed with the \
                 master key of version {}.\nRemove previous_master_keys from every instance's \
                 configuration; keep a backup of the old key until backups made before now expire.",
                r.total_resealed(),
                r.already_current,
                r.key_version
            );
            return Ok(());
        }
        _ => {}
    }
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}

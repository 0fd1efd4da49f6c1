//! Starting and stopping the HTTP server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::net::SocketAddr;

use anyhow::{bail, Context};

use crate::api::access::RateLimits;
use crate::api::{self, AppState};
use crate::auth::Keyring;
use crate::config::Config;
use crate::termbase::{Termbase, Workflow};
use crate::tm::{OpenMode, Tm};

/// Runs the server until SIGTERM or Ctrl-C. In-flight requests finish, the index writer
/// finishes what it was given (every acknowledged write is already committed), then it exits.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let keyring = Keyring::from_config(&config.auth).context("the [auth] configuration")?;
    check_open_only_on_loopback(&keyring, config.server.listen)?;
    let data_dir: PathBuf = config.storage.dir.clone();
    let tm = tokio::task::spawn_blocking(move || Tm::open(&data_dir, OpenMode::ReadWrite))
        .await
        .context("opening the index")??;
    let tm = Arc::new(tm);
    remove_abandoned_uploads(tm.dir());
    let termbase_data = config.storage.dir.clone();
    let glossary_dir = config.termbase.dir.clone();
    let termbase =
        tokio::task::spawn_blocking(move || open_termbase(&termbase_data, &glossary_dir))
            .await
            .context("opening the termbase")??;
    let termbase = Arc::new(termbase);
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        data_dir = %tm.dir().display(),
        segments = tm.count(),
        terms = termbase.len(),
        "attache is serving"
    );
    // A plain line on stdout for scripts and tests that start the server on port 0.
    println!("attache listening on http://{address}");
    if keyring.is_open() {
        tracing::warn!(
            %address,
            "no API keys are configured: the server is open to every local user and program, \
             with every right; add keys with `attache keys add NAME --role ROLE --config FILE`"
        );
    } else {
        tracing::info!(keys = keyring.list().len(), "API keys required");
    }
    let state = AppState {
        tm: tm.clone(),
        termbase,
        rate_limits: Arc::new(RateLimits::new(config.limits.requests_per_key_per_second)),
        config: Arc::new(config),
        metrics: Arc::default(),
        keyring: Arc::new(keyring),
    };
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    tracing::info!("shutting down: waiting for the index writer");
    tokio::task::spawn_blocking(move || tm.close()).await?;
    Ok(())
}

/// Without keys every request may do everything, which is only acceptable when no other
/// machine can reach the server.
fn check_open_only_on_loopback(keyring: &Keyring, listen: SocketAddr) -> anyhow::Result<()> {
    if keyring.is_open() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} without API keys: anyone who can reach it could \
             read, change and delete everything. Add a key with \
             `attache keys add NAME --role admin --config FILE` and start with \
             `--config FILE`, or listen on a loopback address such as 127.0.0.1"
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}

/// Uploads are spooled to `<data dir>/incoming` and removed when their import ends; a crash
/// can leave some behind. They were never acknowledged, so they are simply deleted.
fn remove_abandoned_uploads(data_dir: &std::path::Path) {
    let incoming = data_dir.join(crate::api::files::INCOMING_DIR);
    let Ok(entries) = std::fs::read_dir(&incoming) else {
        return;
    };
    for entry in entries.flatten() {
        if let Err(error) = std::fs::remove_file(entry.path()) {
            tracing::warn!(path = %entry.path().display(), %error, "cannot remove an abandoned upload");
        }
    }
}

/// Opens the termbase; on the very first start (an empty journal) loads the shipped glossary,
/// every `*.tbx` file of `glossary_dir`, as approved entries.
pub fn open_termbase(data_dir: &Path, glossary_dir: &Path) -> anyhow::Result<Termbase> {
    let termbase = Termbase::open(data_dir)?;
    if !termbase.is_new() {
        return Ok(termbase);
    }
    let Ok(listing) = std::fs::read_dir(glossary_dir) else {
        tracing::warn!(dir = %glossary_dir.display(), "no glossary folder; the termbase starts empty");
        return Ok(termbase);
    };
    let mut files: Vec<PathBuf> = listing
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "tbx"))
        .collect();
    files.sort();
    for file in files {
        let parsed = crate::formats::tbx::read_file(&file, Workflow::Approved)
            .with_context(|| format!("the shipped glossary {} is invalid", file.display()))?;
        let loaded = termbase.import(
            parsed.entries,
            Some("attache (shipped glossary)".to_owned()),
        )?;
        tracing::info!(
            file = %file.display(),
            entries = loaded.entries.len(),
            "loaded the shipped glossary"
        );
    }
    Ok(termbase)
}

//! Starting and stopping the HTTP server.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::tm::{OpenMode, Tm};

/// Runs the server until SIGTERM or Ctrl-C. In-flight requests finish, the index writer
/// finishes what it was given (every acknowledged write is already committed), then it exits.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir: PathBuf = config.storage.dir.clone();
    let tm = tokio::task::spawn_blocking(move || Tm::open(&data_dir, OpenMode::ReadWrite))
        .await
        .context("opening the index")??;
    let tm = Arc::new(tm);
    remove_abandoned_uploads(tm.dir());
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        data_dir = %tm.dir().display(),
        segments = tm.count(),
        "attache is serving"
    );
    // A plain line on stdout for scripts and tests that start the server on port 0.
    println!("attache listening on http://{address}");
    let state = AppState {
        tm: tm.clone(),
        config: Arc::new(config),
    };
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    tracing::info!("shutting down: waiting for the index writer");
    tokio::task::spawn_blocking(move || tm.close()).await?;
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

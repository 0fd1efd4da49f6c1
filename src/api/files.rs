//! File import and export (`/api/v1/import`, `/api/v1/export`).
//!
//! An upload streams to a temporary file in the data directory (never into memory), within
//! its own size limit, and is parsed on the blocking pool. Nothing is stored unless the whole
//! file parses; then all its units go to the writer as one commit, so an import is all or
//! nothing even if the server dies half-way.

use std::collections::HashMap;
use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Serialize;

use super::access::CallerOf;
use super::error::ApiError;
use super::params::reject_unknown;
use super::segments::check_lang;
use super::wire::{Reply, WireFormat};
use super::AppState;
use crate::auth::Role;
use crate::formats::{self, Format, ImportOptions, Parsed, Skipped};
use crate::tm::{Status, TmError, DEFAULT_COLLECTION};

/// Folder of the data directory where uploads are spooled while they are parsed.
pub const INCOMING_DIR: &str = "incoming";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResponse {
    pub imported: usize,
    pub duplicates: usize,
    pub skipped: usize,
    pub errors: Vec<Skipped>,
}

const IMPORT_PARAMETERS: [&str; 7] = [
    "format",
    "source_lang",
    "target_lang",
    "collection",
    "status",
    "columns",
    "states",
];

fn parse_format(params: &HashMap<String, String>) -> Result<Format, ApiError> {
    let name = params.get("format").ok_or_else(|| {
        ApiError::bad_request(
            "missing_field",
            "`format` is required (tsv, csv, tmx or xliff)",
        )
    })?;
    Format::parse(name).ok_or_else(|| {
        ApiError::invalid_field(
            "format",
            format!("`{name}` is not one of tsv, csv, tmx, xliff"),
        )
    })
}

#[utoipa::path(post, path = "/api/v1/import", tag = "tm",
    params(("format" = String, Query, description = "tsv, csv, tmx or xliff"), ("source_lang" = String, Query), ("target_lang" = String, Query),
           ("collection" = Option<String>, Query), ("status" = Option<String>, Query), ("columns" = Option<String>, Query), ("states" = Option<String>, Query)),
    request_body(content = String, description = "The file", content_type = "application/octet-stream"),
    responses((status = 200, body = ImportResponse), (status = 400, body = super::error::ErrorResponse), (status = 413, body = super::error::ErrorResponse)))]
pub async fn import(
    State(state): State<AppState>,
    format: WireFormat,
    caller: CallerOf,
    Query(params): Query<HashMap<String, String>>,
    request: Request,
) -> Result<Reply<ImportResponse>, ApiError> {
    caller.require(Role::Admin)?;
    // Check the parameters before reading a byte of a possibly huge body.
    reject_unknown(&params, &IMPORT_PARAMETERS)?;
    let file_format = parse_format(&params)?;
    let mut languages = Vec::new();
    for field in ["source_lang", "target_lang"] {
        let tag = params.get(field).cloned().ok_or_else(|| {
            ApiError::bad_request("missing_field", format!("`{field}` is required"))
        })?;
        check_lang(field, &tag)?;
        languages.push(tag);
    }
    let collection = params
        .get("collection")
        .cloned()
        .unwrap_or_else(|| DEFAULT_COLLECTION.to_owned());
    if collection.trim().is_empty() {
        return Err(ApiError::invalid_field("collection", "is empty"));
    }
    let status = match params.get("status").map(String::as_str) {
        None | Some("approved") => Status::Approved,
        Some("draft") => Status::Draft,
        Some(other) => {
            return Err(ApiError::invalid_field(
                "status",
                format!("`{other}` is not one of approved, draft"),
            ))
        }
    };
    let options = ImportOptions {
        target_lang: languages.pop().expect("two languages"),
        source_lang: languages.pop().expect("two languages"),
        collection,
        status,
        author: None,
        max_text_chars: state.config.limits.max_text_chars,
    };

    let columns = match params.get("columns") {
        None => None,
        Some(_) if file_format == Format::Tmx => {
            return Err(ApiError::invalid_field(
                "columns",
                "applies to csv and tsv only",
            ))
        }
        Some(list) => Some(
            formats::table::parse_columns(list)
                .map_err(|problem| ApiError::invalid_field("columns", problem))?,
        ),
    };

    let states: Option<Vec<String>> = match params.get("states") {
        None => None,
        Some(_) if file_format != Format::Xliff => {
            return Err(ApiError::invalid_field("states", "applies to xliff only"))
        }
        Some(list) => {
            let states: Vec<String> = list
                .split(',')
                .map(|state| state.trim().to_owned())
                .filter(|state| !state.is_empty())
                .collect();
            if states.is_empty() {
                return Err(ApiError::invalid_field("states", "is empty"));
            }
            Some(states)
        }
    };

    let spool = spool_body(&state, request.into_body()).await?;
    // The file is read on the blocking pool and its units stream straight into the writer,
    // which commits once at the end: memory stays flat, and a malformed file stores nothing.
    let (feed, committed) = state.tm.begin_import()?;
    let read = tokio::task::spawn_blocking(move || {
        let mut parsed = formats::read_pairs_file(
            &spool,
            file_format,
            columns,
            states,
            &options,
            None,
            Parsed::streaming(feed),
        )?;
        if let Some(feed) = parsed.feed.take() {
            feed.finish()?;
        }
        Ok::<_, ApiError>(parsed.skipped)
    })
    .await?;
    // When the writer gives up (a full disk, say), the reader only sees its feed close: the
    // writer's own answer says why.
    let writer_answer = committed
        .await
        .map_err(|_| crate::tm::TmError::WriterStopped)?;
    match (read, writer_answer) {
        (Ok(skipped), Ok(counts)) => finish_import(format, file_format, skipped, counts),
        // A malformed file: the writer rolled back because the reader stopped.
        (Err(read_error), Err(TmError::ImportAborted) | Ok(_)) => Err(read_error),
        (_, Err(writer_error)) => Err(writer_error.into()),
    }
}

fn finish_import(
    format: WireFormat,
    file_format: Format,
    skipped: Vec<Skipped>,
    counts: crate::tm::ImportCounts,
) -> Result<Reply<ImportResponse>, ApiError> {
    tracing::info!(
        imported = counts.imported,
        duplicates = counts.duplicates,
        skipped = skipped.len(),
        format = %file_format,
        "import finished"
    );
    Ok(Reply::ok(
        format,
        ImportResponse {
            imported: counts.imported,
            duplicates: counts.duplicates,
            skipped: skipped.len(),
            errors: skipped,
        },
    ))
}

/// How much of an upload is gathered before each write to its spool file.
const SPOOL_WRITE_BYTES: usize = 1024 * 1024;

/// Streams the request body into a temporary file in the data directory, refusing it once
/// it passes the import size limit. The file is removed when the returned handle drops.
pub(crate) async fn spool_body(
    state: &AppState,
    body: Body,
) -> Result<tempfile::TempPath, ApiError> {
    let limit = state.config.limits.import_body_bytes;
    let incoming = state.tm.dir().join(INCOMING_DIR);
    std::fs::create_dir_all(&incoming).map_err(|error| {
        ApiError::internal(format!("cannot create {}: {error}", incoming.display()))
    })?;
    let file = tempfile::NamedTempFile::new_in(&incoming)
        .map_err(|error| ApiError::internal(format!("cannot create an upload file: {error}")))?;
    let (file, path) = file.into_parts();
    // Every write to a `tokio::fs::File` is a trip to the blocking pool; body chunks are a
    // few KiB, so they are gathered into writes of a MiB.
    let mut file =
        tokio::io::BufWriter::with_capacity(SPOOL_WRITE_BYTES, tokio::fs::File::from_std(file));
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk: Bytes = chunk.map_err(|error| super::limits::body_read_error(&error))?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(ApiError::too_large(limit));
        }
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .map_err(|error| ApiError::internal_or_disk_full(&error))?;
    }
    // The last buffered MiB is written here, so a full disk can surface here too.
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .map_err(|error| ApiError::internal_or_disk_full(&error))?;
    if received == 0 {
        return Err(ApiError::bad_request(
            "bad_body",
            "the request body is empty; send the file as the body",
        ));
    }
    Ok(path)
}

const EXPORT_PARAMETERS: [&str; 3] = ["format", "collection", "source_lang"];

/// Sends written bytes to the HTTP response in chunks.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

const EXPORT_CHUNK_BYTES: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= EXPORT_CHUNK_BYTES {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

#[utoipa::path(get, path = "/api/v1/export", tag = "tm",
    params(("format" = Option<String>, Query, description = "tmx"), ("collection" = Option<String>, Query), ("source_lang" = Option<String>, Query)),
    responses((status = 200, description = "A TMX 1.4 document", content_type = "application/x-tmx+xml", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    caller: CallerOf,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    reject_unknown(&params, &EXPORT_PARAMETERS)?;
    let file_format = match params.get("format") {
        None => Format::Tmx,
        Some(_) => parse_format(&params)?,
    };
    if file_format != Format::Tmx {
        return Err(ApiError::invalid_field(
            "format",
            "export supports tmx only",
        ));
    }
    let source_lang = params
        .get("source_lang")
        .cloned()
        .unwrap_or_else(|| "*all*".to_owned());
    if source_lang != "*all*" {
        check_lang("source_lang", &source_lang)?;
    }
    let collection = params.get("collection").cloned();
    // A collection hidden from the caller exports as an empty memory, like one that does not
    // exist; a whole-memory export leaves its units out.
    let caller = caller.0.clone();
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let tm = state.tm.clone();
    tokio::task::spawn_blocking(move || {
        let error_sender = sender.clone();
        let writer = ChannelWriter {
            sender,
            buffer: Vec::with_capacity(EXPORT_CHUNK_BYTES),
        };
        let result = (|| -> Result<(), std::io::Error> {
            let header = match collection.as_deref() {
                Some(name) if !caller.may_see(name) => None,
                Some(name) => tm
                    .file_header(name)
                    .map_err(|error| std::io::Error::other(error.to_string()))?,
                None => None,
            };
            let mut tmx = formats::tmx::TmxWriter::begin(writer, &source_lang, header.as_ref())?;
            tm.for_each_unit(collection.as_deref(), |unit| {
                if !caller.may_see(&unit.collection) {
                    return Ok(());
                }
                tmx.write_unit(&unit)
                    .map_err(|error| crate::tm::TmError::CommitFailed(error.to_string()))
            })
            .map_err(|error| std::io::Error::other(error.to_string()))?;
            tmx.finish()?;
            Ok(())
        })();
        if let Err(error) = result {
            // The status line is already sent: end the body with an error so the client sees
            // a truncated transfer rather than a complete-looking file.
            tracing::warn!(%error, "export stopped");
            let _ = error_sender.blocking_send(Err(error));
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-tmx+xml; charset=utf-8"),
    );
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"attache-export.tmx\""),
    );
    Ok(response)
}

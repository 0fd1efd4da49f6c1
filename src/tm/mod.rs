//! The translation memory: a durable Tantivy index of units, one writer, many readers.
//!
//! [`Tm`] is the handle the rest of the program holds. Reads take a searcher snapshot and
//! never wait for the writer; writes go to the writer thread ([`writer`]) and return once
//! committed. Nothing outside this module sees Tantivy types.

mod candidates;
pub mod lengths;
mod per_segment;
mod reach;
pub mod schema;
pub mod search;
pub mod stems;
#[cfg(test)]
mod testing;
pub mod unit;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tantivy::directory::error::LockError;
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyError};
use tokio::sync::oneshot;

pub use search::{ConcordanceHit, ConcordanceQuery, ConcordanceResult, LookupQuery, Match};
pub use unit::{FileHeader, NewUnit, Origin, Prop, Status, Unit, Variant};
pub use writer::{AddOutcome, ImportCounts, UnitEdit};

use schema::Fields;
use writer::{Command, ImportMessage, WriterTask};

/// Units sent to the writer per message during an import.
const IMPORT_CHUNK_UNITS: usize = 1000;

/// Feeds a running import: units pushed here reach the writer in chunks (the channel is
/// bounded, so a fast reader waits for the writer instead of filling memory). Call
/// [`ImportFeed::finish`] after the last unit; dropping the feed without it aborts the import
/// and stores nothing.
pub struct ImportFeed {
    sender: std::sync::mpsc::SyncSender<ImportMessage>,
    buffer: Vec<NewUnit>,
}

impl ImportFeed {
    pub fn push(&mut self, unit: NewUnit) -> Result<(), TmError> {
        self.buffer.push(unit);
        if self.buffer.len() >= IMPORT_CHUNK_UNITS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TmError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buffer);
        self.sender
            .send(ImportMessage::Units(chunk))
            .map_err(|_| TmError::WriterStopped)
    }

    /// Keeps the imported file's header for `collection`, once the import commits.
    pub fn header(&mut self, collection: &str, header: FileHeader) -> Result<(), TmError> {
        self.sender
            .send(ImportMessage::Header {
                collection: collection.to_owned(),
                header,
            })
            .map_err(|_| TmError::WriterStopped)
    }

    /// Sends what is left and tells the writer to commit.
    pub fn finish(mut self) -> Result<(), TmError> {
        self.flush()?;
        self.sender
            .send(ImportMessage::Finished)
            .map_err(|_| TmError::WriterStopped)
    }
}

/// The collection a unit lands in when none is named.
pub const DEFAULT_COLLECTION: &str = "default";

/// Memory budget of the index writer (split across its indexing threads).
const WRITER_MEMORY_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TmError {
    #[error("segment {0} not found")]
    NotFound(u64),
    #[error("the change would make segment {id} a duplicate of segment {existing}")]
    Duplicate { id: u64, existing: u64 },
    #[error("{0}")]
    InvalidEdit(String),
    #[error(
        "the data directory {} is in use by another attache process (it holds the index writer lock)",
        .0.display()
    )]
    Locked(PathBuf),
    #[error("cannot use the data directory {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the index in {} was built by analyzer version {found}, this build uses {expected}; \
         rebuild it by exporting with the old version and importing again",
        dir.display()
    )]
    AnalyzerMismatch {
        dir: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("index error: {0}")]
    Index(#[from] TantivyError),
    #[error("corrupt index: {0}")]
    Corrupt(String),
    #[error("the write was not committed: {0}")]
    CommitFailed(String),
    #[error("the index is open read-only")]
    ReadOnly,
    #[error("the index writer has stopped")]
    WriterStopped,
    #[error("the import was stopped before the whole file was read; nothing of it was stored")]
    ImportAborted,
}

/// Lookups fetch about a hundred stored units at random per query, so the doc store is kept
/// uncompressed in small blocks: a fetch then reads a few KiB instead of decompressing a
/// 16 KiB block. Segment text is small (a 1M-unit TM stores a few hundred MiB).
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::None,
        docstore_blocksize: 4096,
        ..tantivy::IndexSettings::default()
    }
}

/// Blocks of the doc store each searcher keeps decoded.
const DOC_STORE_CACHE_BLOCKS: usize = 512;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Refuses an index built by another version of the analyzer.
fn check_analyzer_version(index: &Index, dir: &Path) -> Result<(), TmError> {
    match writer::last_commit_payload(index)? {
        Some(payload) if payload.analyzer_version != schema::ANALYZER_VERSION => {
            Err(TmError::AnalyzerMismatch {
                dir: dir.to_owned(),
                found: payload.analyzer_version,
                expected: schema::ANALYZER_VERSION,
            })
        }
        _ => Ok(()),
    }
}

/// Whether to take the index writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Take the writer lock and start the writer thread.
    ReadWrite,
    /// Search only; works while a server holds the writer.
    ReadOnly,
}

/// The open translation memory.
pub struct Tm {
    dir: PathBuf,
    reader: IndexReader,
    fields: Fields,
    commands: Mutex<Option<Sender<Command>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    /// Commits made by the writer since the index was opened.
    commits: Arc<AtomicU64>,
    /// Token counts per segment and language, built as lookups need them.
    length_tables: lengths::LengthTables,
    /// Words by stem per segment and language, built as concordance needs them.
    stem_tables: stems::StemTables,
}

impl Tm {
    /// Opens the index in `dir`, creating it (and the directory) if it does not exist.
    pub fn open(dir: &Path, mode: OpenMode) -> Result<Tm, TmError> {
        if mode == OpenMode::ReadOnly && !dir.join("meta.json").exists() {
            return Err(TmError::DataDir {
                path: dir.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "it holds no translation memory (import into it, or start the server on it, first)",
                ),
            });
        }
        std::fs::create_dir_all(dir).map_err(|source| TmError::DataDir {
            path: dir.to_owned(),
            source,
        })?;
        let (schema, fields) = schema::build_schema();
        let directory = MmapDirectory::open(dir).map_err(|error| TmError::DataDir {
            path: dir.to_owned(),
            source: std::io::Error::other(error.to_string()),
        })?;
        let index = if Index::exists(&directory).map_err(|error| TmError::DataDir {
            path: dir.to_owned(),
            source: std::io::Error::other(error.to_string()),
        })? {
            let index = Index::open(directory)?;
            // An index of another analyzer version has another schema too: say which.
            check_analyzer_version(&index, dir)?;
            if index.schema() != schema {
                return Err(TmError::Corrupt(format!(
                    "the index in {} has a different schema than this version of attache expects",
                    dir.display()
                )));
            }
            index
        } else {
            Index::create(directory, schema, index_settings())?
        };
        let payload = writer::last_commit_payload(&index)?;
        let reader = index
            .reader_builder()
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .reload_policy(match mode {
                // The writer reloads after each commit, so its answers are read-your-writes.
                OpenMode::ReadWrite => ReloadPolicy::Manual,
                OpenMode::ReadOnly => ReloadPolicy::OnCommitWithDelay,
            })
            .try_into()?;
        let mut tm = Tm {
            dir: dir.to_owned(),
            reader: reader.clone(),
            fields: fields.clone(),
            commands: Mutex::new(None),
            writer_thread: Mutex::new(None),
            commits: Arc::default(),
            length_tables: lengths::LengthTables::default(),
            stem_tables: stems::StemTables::default(),
        };
        if mode == OpenMode::ReadWrite {
            let index_writer = index
                .writer(WRITER_MEMORY_BYTES)
                .map_err(|error| match error {
                    TantivyError::LockFailure(LockError::LockBusy, _) => {
                        TmError::Locked(dir.to_owned())
                    }
                    other => TmError::Index(other),
                })?;
            let task = WriterTask {
                writer: index_writer,
                reader,
                fields,
                next_id: payload.as_ref().map_or(1, |payload| payload.next_id),
                headers: payload.map(|payload| payload.headers).unwrap_or_default(),
                commits: tm.commits.clone(),
            };
            let (sender, receiver) = std::sync::mpsc::channel();
            let handle = std::thread::Builder::new()
                .name("index-writer".to_owned())
                .spawn(move || task.run(receiver))
                .map_err(|source| TmError::DataDir {
                    path: dir.to_owned(),
                    source,
                })?;
            tm.commands = Mutex::new(Some(sender));
            tm.writer_thread = Mutex::new(Some(handle));
        }
        Ok(tm)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn send(&self, command: Command) -> Result<(), TmError> {
        let guard = self.commands.lock().expect("command channel lock");
        let sender = guard.as_ref().ok_or(TmError::ReadOnly)?;
        sender.send(command).map_err(|_| TmError::WriterStopped)
    }

    /// Adds units; each gets a new id, or the id of an identical stored unit.
    pub async fn add(&self, units: Vec<NewUnit>) -> Result<Vec<AddOutcome>, TmError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Add { units, reply })?;
        answer.await.map_err(|_| TmError::WriterStopped)?
    }

    /// [`Tm::add`] for callers outside the async runtime (the command-line import).
    pub fn add_blocking(&self, units: Vec<NewUnit>) -> Result<Vec<AddOutcome>, TmError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Add { units, reply })?;
        answer.blocking_recv().map_err(|_| TmError::WriterStopped)?
    }

    /// Starts an import: push units into the feed, then `finish` it; the receiver answers
    /// once the import is committed (or rolled back).
    #[allow(clippy::type_complexity)]
    pub fn begin_import(
        &self,
    ) -> Result<(ImportFeed, oneshot::Receiver<Result<ImportCounts, TmError>>), TmError> {
        let (sender, chunks) = std::sync::mpsc::sync_channel(4);
        let (reply, answer) = oneshot::channel();
        self.send(Command::Import { chunks, reply })?;
        Ok((
            ImportFeed {
                sender,
                buffer: Vec::with_capacity(IMPORT_CHUNK_UNITS),
            },
            answer,
        ))
    }

    /// Applies `edit` to the stored unit and returns the new version.
    pub async fn update(
        &self,
        id: u64,
        changed_by: Option<String>,
        edit: UnitEdit,
    ) -> Result<Unit, TmError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Update {
            id,
            edit,
            changed_by,
            reply,
        })?;
        answer.await.map_err(|_| TmError::WriterStopped)?
    }

    /// Deletes a unit and returns what it was.
    pub async fn delete(&self, id: u64) -> Result<Unit, TmError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Delete { id, reply })?;
        answer.await.map_err(|_| TmError::WriterStopped)?
    }

    pub fn get(&self, id: u64) -> Result<Option<Unit>, TmError> {
        search::unit_by_id(&self.reader.searcher(), &self.fields, id)
    }

    pub fn lookup(&self, query: &LookupQuery) -> Result<Vec<Match>, TmError> {
        search::lookup(
            &self.reader.searcher(),
            &self.fields,
            &self.length_tables,
            query,
        )
    }

    pub fn concordance(&self, query: &ConcordanceQuery) -> Result<ConcordanceResult, TmError> {
        search::concordance(
            &self.reader.searcher(),
            &self.fields,
            &self.stem_tables,
            query,
        )
    }

    /// The header of the TMX file last imported into `collection`, as of the last commit.
    pub fn file_header(&self, collection: &str) -> Result<Option<FileHeader>, TmError> {
        let searcher = self.reader.searcher();
        Ok(writer::last_commit_payload(searcher.index())?
            .and_then(|mut payload| payload.headers.remove(collection)))
    }

    /// Number of stored units.
    pub fn count(&self) -> u64 {
        search::count(&self.reader.searcher())
    }

    /// Commits made since the index was opened.
    pub fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether writes can be taken: the index is open for writing and its writer runs.
    pub fn accepts_writes(&self) -> bool {
        let has_channel = self
            .commands
            .lock()
            .expect("command channel lock")
            .is_some();
        let running = self
            .writer_thread
            .lock()
            .expect("writer thread lock")
            .as_ref()
            .is_some_and(|handle| !handle.is_finished());
        has_channel && running
    }

    /// Number of Tantivy segments in the current snapshot.
    pub fn index_segment_count(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Number of units in `collection`, or in the whole TM.
    pub fn count_in(&self, collection: Option<&str>) -> Result<u64, TmError> {
        let searcher = self.reader.searcher();
        match collection {
            Some(name) => search::count_in(&searcher, &self.fields, name),
            None => Ok(search::count(&searcher)),
        }
    }

    /// Visits every unit (of `collection`, if given) in id order, on one snapshot.
    pub fn for_each_unit<F>(&self, collection: Option<&str>, visit: F) -> Result<(), TmError>
    where
        F: FnMut(Unit) -> Result<(), TmError>,
    {
        search::for_each_unit(&self.reader.searcher(), &self.fields, collection, visit)
    }

    /// Stops accepting writes, lets the writer finish what it was given and waits for it.
    /// Everything acknowledged before is already committed.
    pub fn close(&self) {
        self.commands.lock().expect("command channel lock").take();
        if let Some(handle) = self
            .writer_thread
            .lock()
            .expect("writer thread lock")
            .take()
        {
            if handle.join().is_err() {
                tracing::error!("index writer thread panicked");
            }
        }
    }
}

impl Drop for Tm {
    fn drop(&mut self) {
        self.close();
    }
}

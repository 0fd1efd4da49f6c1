//! The one task that owns the Tantivy `IndexWriter`.
//!
//! Writes arrive as [`Command`]s on a channel. The writer thread takes every command that is
//! waiting (group commit), applies them in order, commits once, reloads the shared reader and
//! only then answers each command. So an answered write is durable (Tantivy's commit fsyncs
//! the segment files and then atomically replaces `meta.json`) and already visible to the
//! next search; a write that was not answered may be lost by a crash, never half-applied,
//! because a commit is all or nothing.
//!
//! The commit payload records the next unit id and the analyzer version, so ids are never
//! reused, even after the newest unit is deleted and its segment merged away.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{Receiver, TryRecvError};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, IndexWriter, Term};
use tokio::sync::oneshot;

use crate::tm::schema::{self, Fields};
use crate::tm::search;
use crate::tm::unit::{same_content, FileHeader, NewUnit, Unit};
use crate::tm::TmError;

/// A change to an existing unit, applied by the writer to the current stored version. It
/// may refuse the change (for example when the result would be invalid).
pub type UnitEdit = Box<dyn FnOnce(&mut Unit) -> Result<(), TmError> + Send>;

/// What happened to one submitted unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOutcome {
    pub id: u64,
    /// `false` when an identical unit was already stored and its id is returned instead.
    pub created: bool,
}

pub(crate) enum Command {
    Add {
        units: Vec<NewUnit>,
        reply: oneshot::Sender<Result<Vec<AddOutcome>, TmError>>,
    },
    Update {
        id: u64,
        edit: UnitEdit,
        changed_by: Option<String>,
        reply: oneshot::Sender<Result<Unit, TmError>>,
    },
    Delete {
        id: u64,
        reply: oneshot::Sender<Result<Unit, TmError>>,
    },
    /// A file import: units arrive in chunks while the file is read, and are committed once,
    /// at the end, so the import is all or nothing.
    Import {
        chunks: Receiver<ImportMessage>,
        reply: oneshot::Sender<Result<ImportCounts, TmError>>,
    },
}

/// What an import feed sends to the writer.
pub(crate) enum ImportMessage {
    Units(Vec<NewUnit>),
    /// The imported file's header, kept for `collection` once the import commits.
    Header {
        collection: String,
        header: FileHeader,
    },
    /// The whole file was read: commit.
    Finished,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub imported: usize,
    pub duplicates: usize,
}

/// The metadata kept in each commit's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CommitPayload {
    pub next_id: u64,
    pub analyzer_version: u32,
    /// Per collection, the header of the TMX file last imported into it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, FileHeader>,
}

/// An import of at least this many units is followed by a merge of all segments into one, in
/// the background: a lookup then walks one posting list per term instead of one per segment
/// (at 1M units, five segments cost about a third of the lookup time).
const MERGE_AFTER_IMPORT_UNITS: usize = 50_000;

/// Commands taken together into one commit at most. Bounds the time a single writer
/// acknowledgement can wait behind others.
const MAX_COMMANDS_PER_COMMIT: usize = 512;

pub(crate) struct WriterTask {
    pub writer: IndexWriter,
    pub reader: IndexReader,
    pub fields: Fields,
    pub next_id: u64,
    /// The file headers of the last commit, rewritten into every commit's payload.
    pub headers: BTreeMap<String, FileHeader>,
    /// Counts commits, for the metrics.
    pub commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The answer to one command, held until the group's commit has succeeded.
enum PendingReply {
    Add(
        oneshot::Sender<Result<Vec<AddOutcome>, TmError>>,
        Result<Vec<AddOutcome>, TmError>,
    ),
    /// Boxed: a unit is large next to the other answers.
    Unit(
        oneshot::Sender<Result<Unit, TmError>>,
        Box<Result<Unit, TmError>>,
    ),
}

impl PendingReply {
    fn send(self) {
        // A client that went away no longer wants the answer; the write stands.
        match self {
            PendingReply::Add(sender, result) => {
                let _ = sender.send(result);
            }
            PendingReply::Unit(sender, result) => {
                let _ = sender.send(*result);
            }
        }
    }

    fn fail(self, message: &str) {
        let error = || TmError::CommitFailed(message.to_owned());
        match self {
            PendingReply::Add(sender, _) => {
                let _ = sender.send(Err(error()));
            }
            PendingReply::Unit(sender, _) => {
                let _ = sender.send(Err(error()));
            }
        }
    }
}

/// Units changed by the commands of the current group, not yet visible to the searcher.
#[derive(Default)]
struct GroupState {
    /// id → the unit as it will be after the commit (`None`: deleted).
    units: HashMap<u64, Option<Unit>>,
    /// content key → ids of units with that content added or edited in this group.
    by_content: HashMap<u128, Vec<u64>>,
    changed: bool,
}

impl WriterTask {
    pub fn run(mut self, commands: Receiver<Command>) {
        while let Ok(first) = commands.recv() {
            let mut group = vec![first];
            // An import runs alone, after the commands queued before it are committed.
            while group.len() < MAX_COMMANDS_PER_COMMIT
                && !matches!(group.last(), Some(Command::Import { .. }))
            {
                match commands.try_recv() {
                    Ok(command) => group.push(command),
                    Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
                }
            }
            let import = match group.last() {
                Some(Command::Import { .. }) => group.pop(),
                _ => None,
            };
            if !group.is_empty() {
                self.apply_group(group);
            }
            if let Some(Command::Import { chunks, reply }) = import {
                let result = self.run_import(chunks);
                let _ = reply.send(result);
            }
        }
        tracing::info!("index writer stopping: all handles dropped");
        // Wait for background merges so the index is left tidy; failures are harmless.
        if let Err(error) = self.writer.wait_merging_threads() {
            tracing::warn!(%error, "waiting for index merges failed");
        }
    }

    fn apply_group(&mut self, group: Vec<Command>) {
        let mut state = GroupState::default();
        let next_id_before = self.next_id;
        let mut replies = Vec::with_capacity(group.len());
        for command in group {
            let reply = match command {
                Command::Add { units, reply } => {
                    PendingReply::Add(reply, self.add(&mut state, units))
                }
                Command::Update {
                    id,
                    edit,
                    changed_by,
                    reply,
                } => PendingReply::Unit(
                    reply,
                    Box::new(self.update(&mut state, id, edit, changed_by)),
                ),
                Command::Delete { id, reply } => {
                    PendingReply::Unit(reply, Box::new(self.delete(&mut state, id)))
                }
                Command::Import { .. } => unreachable!("imports run on their own"),
            };
            replies.push(reply);
        }
        if state.changed {
            if let Err(error) = self.commit() {
                tracing::error!(%error, "index commit failed; rolling back the group");
                self.next_id = next_id_before;
                self.roll_back();
                let message = error.to_string();
                for reply in replies {
                    reply.fail(&message);
                }
                return;
            }
        }
        for reply in replies {
            reply.send();
        }
    }

    /// Adds every unit the feed sends, then commits once. If the feed goes away without
    /// finishing (the file turned out to be malformed, the client disconnected), everything
    /// is rolled back. Memory stays bounded: Tantivy flushes segments within its budget, and
    /// duplicates inside the file are recognized by their 128-bit content hash alone.
    fn run_import(&mut self, chunks: Receiver<ImportMessage>) -> Result<ImportCounts, TmError> {
        // No merges of the import's own segments while it runs: a large import is merged
        // whole at the end, and a policy merge started meanwhile would hold some of its
        // segments and make that merge fail.
        self.writer
            .set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let result = self.import_units(chunks);
        self.writer
            .set_merge_policy(Box::new(tantivy::indexer::LogMergePolicy::default()));
        result
    }

    fn import_units(&mut self, chunks: Receiver<ImportMessage>) -> Result<ImportCounts, TmError> {
        let next_id_before = self.next_id;
        let mut counts = ImportCounts::default();
        // Content keys of the units this import added (128-bit hashes, 16 bytes each).
        let mut seen: std::collections::HashSet<u128> = std::collections::HashSet::new();
        let empty_group = GroupState::default();
        let now = crate::tm::now_millis();
        let mut header: Option<(String, FileHeader)> = None;
        let outcome = loop {
            let units = match chunks.recv() {
                Ok(ImportMessage::Units(units)) => units,
                Ok(ImportMessage::Header {
                    collection,
                    header: file_header,
                }) => {
                    header = Some((collection, file_header));
                    continue;
                }
                Ok(ImportMessage::Finished) => break Ok(true),
                Err(_) => break Ok(false),
            };
            let added = (|| -> Result<(), TmError> {
                for new_unit in units {
                    let key = new_unit.content_key();
                    if seen.contains(&key)
                        || self
                            .existing_with_content(
                                &empty_group,
                                key,
                                &new_unit.variants,
                                &new_unit.collection,
                                None,
                            )?
                            .is_some()
                    {
                        counts.duplicates += 1;
                        continue;
                    }
                    let id = self.next_id;
                    self.next_id += 1;
                    self.writer.add_document(schema::unit_document(
                        &self.fields,
                        &new_unit.into_unit(id, now),
                    ))?;
                    seen.insert(key);
                    counts.imported += 1;
                }
                Ok(())
            })();
            if let Err(error) = added {
                break Err(error);
            }
        };
        let headers_before = self.headers.clone();
        let committed = match outcome {
            Ok(true) if counts.imported == 0 => return Ok(counts),
            Ok(true) => {
                if let Some((collection, file_header)) = header {
                    self.headers.insert(collection, file_header);
                }
                self.commit()
            }
            Ok(false) => Err(TmError::ImportAborted),
            Err(error) => Err(error),
        };
        if let Err(error) = committed {
            self.next_id = next_id_before;
            self.headers = headers_before;
            self.roll_back();
            return Err(error);
        }
        if counts.imported >= MERGE_AFTER_IMPORT_UNITS {
            self.merge_all_in_background();
            release_freed_memory();
        }
        Ok(counts)
    }

    /// Starts merging every committed segment into one and reloads the reader once the merged
    /// segment is published. The merge keeps the commit payload, and writes go on meanwhile.
    fn merge_all_in_background(&mut self) {
        let segments: Vec<_> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|segment| segment.segment_id())
            .collect();
        if segments.len() < 2 {
            return;
        }
        let merging = self.writer.merge(&segments);
        let reader = self.reader.clone();
        let spawned = std::thread::Builder::new()
            .name("index-merge".to_owned())
            .spawn(move || match merging.wait() {
                Ok(_) => {
                    if let Err(error) = reader.reload() {
                        tracing::warn!(%error, "reloading after a merge failed");
                    }
                    release_freed_memory();
                }
                // Another merge may hold some of the segments; the index stays as it is.
                Err(error) => tracing::info!(%error, "merge after import not done"),
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the merge thread");
        }
    }

    /// Drops everything since the last commit, and the files it had written: after a full
    /// disk, the space an aborted import took is what lets the next small write succeed.
    fn roll_back(&mut self) {
        if let Err(error) = self.writer.rollback() {
            tracing::error!(%error, "index rollback failed");
            return;
        }
        if let Err(error) = self.writer.garbage_collect_files().wait() {
            tracing::warn!(%error, "removing the files of a rolled-back write failed");
        }
    }

    fn commit(&mut self) -> Result<(), TmError> {
        let payload = CommitPayload {
            next_id: self.next_id,
            analyzer_version: schema::ANALYZER_VERSION,
            headers: self.headers.clone(),
        };
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).expect("payload serializes"));
        prepared.commit()?;
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.reader.reload()?;
        Ok(())
    }

    /// The current version of a unit: this group's pending change, else the committed one.
    fn current_unit(&self, state: &GroupState, id: u64) -> Result<Option<Unit>, TmError> {
        if let Some(pending) = state.units.get(&id) {
            return Ok(pending.clone());
        }
        let searcher = self.reader.searcher();
        search::unit_by_id(&searcher, &self.fields, id)
    }

    /// An already stored (or pending) unit with the same content as `variants`, other than
    /// `except`.
    fn existing_with_content(
        &self,
        state: &GroupState,
        key: u128,
        variants: &[crate::tm::Variant],
        collection: &str,
        except: Option<u64>,
    ) -> Result<Option<u64>, TmError> {
        let mut candidates: Vec<u64> = state.by_content.get(&key).cloned().unwrap_or_default();
        let searcher = self.reader.searcher();
        candidates.extend(
            search::units_by_content(&searcher, &self.fields, key)?
                .into_iter()
                .map(|unit| unit.id),
        );
        for id in candidates {
            if Some(id) == except {
                continue;
            }
            if let Some(unit) = self.current_unit(state, id)? {
                if unit.collection == collection && same_content(&unit.variants, variants) {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    fn put(&mut self, state: &mut GroupState, unit: Unit) -> Result<(), TmError> {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.id, unit.id));
        self.writer
            .add_document(schema::unit_document(&self.fields, &unit))?;
        state
            .by_content
            .entry(unit.content_key())
            .or_default()
            .push(unit.id);
        state.units.insert(unit.id, Some(unit));
        state.changed = true;
        Ok(())
    }

    fn add(
        &mut self,
        state: &mut GroupState,
        units: Vec<NewUnit>,
    ) -> Result<Vec<AddOutcome>, TmError> {
        let now = crate::tm::now_millis();
        let mut outcomes = Vec::with_capacity(units.len());
        for new_unit in units {
            let key = new_unit.content_key();
            if let Some(existing) = self.existing_with_content(
                state,
                key,
                &new_unit.variants,
                &new_unit.collection,
                None,
            )? {
                outcomes.push(AddOutcome {
                    id: existing,
                    created: false,
                });
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            self.put(state, new_unit.into_unit(id, now))?;
            outcomes.push(AddOutcome { id, created: true });
        }
        Ok(outcomes)
    }

    fn update(
        &mut self,
        state: &mut GroupState,
        id: u64,
        edit: UnitEdit,
        changed_by: Option<String>,
    ) -> Result<Unit, TmError> {
        let Some(mut unit) = self.current_unit(state, id)? else {
            return Err(TmError::NotFound(id));
        };
        edit(&mut unit)?;
        unit.id = id;
        unit.updated_at = crate::tm::now_millis().max(unit.created_at);
        if changed_by.is_some() {
            unit.changed_by = changed_by;
        }
        if let Some(existing) = self.existing_with_content(
            state,
            unit.content_key(),
            &unit.variants,
            &unit.collection,
            Some(id),
        )? {
            return Err(TmError::Duplicate { id, existing });
        }
        self.put(state, unit.clone())?;
        Ok(unit)
    }

    fn delete(&mut self, state: &mut GroupState, id: u64) -> Result<Unit, TmError> {
        let Some(unit) = self.current_unit(state, id)? else {
            return Err(TmError::NotFound(id));
        };
        self.writer
            .delete_term(Term::from_field_u64(self.fields.id, id));
        state.units.insert(id, None);
        state.changed = true;
        Ok(unit)
    }
}

/// Returns memory freed after an import or a merge to the system. Tantivy's indexing arena
/// (hundreds of MiB during a large import) is freed when a segment is written, but glibc keeps
/// freed memory in its heaps, so without this a server that imported once would hold it while
/// serving.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and shrinks glibc's own heaps; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Reads the payload of the index's last commit.
pub(crate) fn last_commit_payload(index: &Index) -> Result<Option<CommitPayload>, TmError> {
    let metas = index.load_metas()?;
    match metas.payload {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| TmError::Corrupt(format!("commit payload {text:?}: {error}"))),
    }
}

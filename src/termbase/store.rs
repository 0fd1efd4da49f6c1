//! The termbase store: an append-only journal of changes, replayed into memory at start.
//!
//! Every change is one JSON line in `<data dir>/termbase/journal.jsonl` — who, when, what
//! changed and the entry as it is afterwards — written and fsynced before the change is
//! acknowledged. The journal is therefore both the durable store and the history (deleting an
//! entry appends a record; nothing is ever removed). A crash can only leave a torn last line,
//! which was never acknowledged: replay drops it and truncates the file back to the last whole
//! record. A glossary is small (tens of thousands of entries), so all of it lives in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::model::{Entry, EntryError, EntryInput, Workflow};
use super::recognize::Matchers;

const JOURNAL_FILE: &str = "journal.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum TermbaseError {
    #[error("{0}")]
    Invalid(#[from] EntryError),
    #[error("entry {0} not found")]
    NotFound(u64),
    #[error(
        "the approved entry {existing} already has the term `{term}`; \
         send \"allow_duplicate\": true to create another entry anyway"
    )]
    Duplicate { existing: u64, term: String },
    #[error("cannot write the termbase journal {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the termbase in {} is in use by another attache process",
        .0.display()
    )]
    Locked(PathBuf),
    #[error("the termbase journal is damaged at line {line}: {message}")]
    Corrupt { line: usize, message: String },
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Approve,
    Reject,
    Delete,
    Import,
}

/// One journal record: a change to one entry, or an import of many.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    pub seq: u64,
    /// RFC 3339, UTC.
    pub at: String,
    pub by: Option<String>,
    pub action: Action,
    /// The changed entry (absent for imports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The entries as they are after the change; empty after a delete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Entry>,
}

/// A change as the history endpoint shows it for one entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryItem {
    pub seq: u64,
    pub at: String,
    pub by: Option<String>,
    pub action: Action,
    pub changes: Vec<String>,
    pub entry: Option<Entry>,
}

#[derive(Default)]
struct State {
    entries: BTreeMap<u64, Entry>,
    history: HashMap<u64, Vec<HistoryItem>>,
    next_id: u64,
    next_seq: u64,
}

impl State {
    fn apply(&mut self, change: &Change) {
        self.next_seq = self.next_seq.max(change.seq + 1);
        let item = |entry: Option<Entry>| HistoryItem {
            seq: change.seq,
            at: change.at.clone(),
            by: change.by.clone(),
            action: change.action,
            changes: change.changes.clone(),
            entry,
        };
        if change.action == Action::Delete {
            if let Some(id) = change.entry_id {
                self.entries.remove(&id);
                self.history.entry(id).or_default().push(item(None));
                self.next_id = self.next_id.max(id + 1);
            }
            return;
        }
        for entry in &change.entries {
            self.next_id = self.next_id.max(entry.id + 1);
            self.history
                .entry(entry.id)
                .or_default()
                .push(item(Some(entry.clone())));
            self.entries.insert(entry.id, entry.clone());
        }
    }
}

/// Fields a PATCH may set; absent fields stay as they are, an empty string clears a text.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPatch {
    pub subject_field: Option<String>,
    pub definition: Option<String>,
    pub note: Option<String>,
    pub source: Option<String>,
    pub workflow: Option<Workflow>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub terms: Option<Vec<super::model::Term>>,
}

pub struct Termbase {
    journal_path: PathBuf,
    /// Held while a change is written, so changes are applied in journal order.
    journal: Mutex<File>,
    state: RwLock<State>,
    matchers: RwLock<Arc<Matchers>>,
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Termbase {
    /// Opens (or creates) the termbase in `<data_dir>/termbase`.
    pub fn open(data_dir: &Path) -> Result<Termbase, TermbaseError> {
        let dir = data_dir.join("termbase");
        let io = |source| TermbaseError::Io {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let journal_path = dir.join(JOURNAL_FILE);
        let journal_is_new = !journal_path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&journal_path)
            .map_err(io)?;
        // One process owns the journal, as one owns the index writer.
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(TermbaseError::Locked(dir)),
            Err(std::fs::TryLockError::Error(error)) => return Err(io(error)),
        }
        if journal_is_new {
            // Make the new file's directory entry durable too.
            File::open(&dir)
                .and_then(|directory| directory.sync_all())
                .map_err(io)?;
        }
        let mut state = State {
            next_id: 1,
            next_seq: 1,
            ..State::default()
        };
        let good_length = replay(&mut file, &mut state)?;
        let file_length = file.metadata().map_err(io)?.len();
        if good_length < file_length {
            tracing::warn!(
                dropped_bytes = file_length - good_length,
                "termbase journal ends with a torn record (an unacknowledged write); dropping it"
            );
            file.set_len(good_length).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let matchers = Matchers::build(state.entries.values());
        Ok(Termbase {
            journal_path,
            journal: Mutex::new(file),
            state: RwLock::new(state),
            matchers: RwLock::new(Arc::new(matchers)),
        })
    }

    /// The entries in `<data_dir>/termbase` as of the last whole journal record, read without
    /// taking the journal: works while a server owns it.
    pub fn read_entries(data_dir: &Path) -> Result<Vec<Entry>, TermbaseError> {
        let journal_path = data_dir.join("termbase").join(JOURNAL_FILE);
        let mut file = File::open(&journal_path).map_err(|source| TermbaseError::Io {
            path: journal_path.clone(),
            source,
        })?;
        let mut state = State::default();
        replay(&mut file, &mut state)?;
        Ok(state.entries.into_values().collect())
    }

    /// Has nothing ever been written (a fresh data directory)?
    pub fn is_new(&self) -> bool {
        self.state.read().expect("termbase state").next_seq == 1
    }

    pub fn len(&self) -> usize {
        self.state.read().expect("termbase state").entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current recognizers; a change swaps in new ones, readers keep theirs.
    pub fn matchers(&self) -> Arc<Matchers> {
        self.matchers.read().expect("matchers").clone()
    }

    pub fn get(&self, id: u64) -> Option<Entry> {
        self.state
            .read()
            .expect("termbase state")
            .entries
            .get(&id)
            .cloned()
    }

    /// Every entry, in id order.
    pub fn entries(&self) -> Vec<Entry> {
        self.state
            .read()
            .expect("termbase state")
            .entries
            .values()
            .cloned()
            .collect()
    }

    /// The history of an entry, oldest first; kept after the entry is deleted.
    pub fn history(&self, id: u64) -> Option<Vec<HistoryItem>> {
        self.state
            .read()
            .expect("termbase state")
            .history
            .get(&id)
            .cloned()
    }

    /// The last `limit` changes to any entry, newest first, with the entry's id.
    pub fn recent_changes(&self, limit: usize) -> Vec<(u64, HistoryItem)> {
        let state = self.state.read().expect("termbase state");
        let mut changes: Vec<(u64, &HistoryItem)> = state
            .history
            .iter()
            .flat_map(|(id, items)| items.iter().map(move |item| (*id, item)))
            .collect();
        changes.sort_unstable_by_key(|(_, item)| std::cmp::Reverse(item.seq));
        changes
            .into_iter()
            .take(limit)
            .map(|(id, item)| (id, item.clone()))
            .collect()
    }

    /// Writes one change durably, then applies it and rebuilds the recognizers.
    fn commit(&self, journal: &mut File, mut change: Change) -> Result<Change, TermbaseError> {
        change.seq = self.state.read().expect("termbase state").next_seq;
        change.at = now_rfc3339();
        let mut line = serde_json::to_string(&change).expect("a change serializes");
        line.push('\n');
        let io = |source| TermbaseError::Io {
            path: self.journal_path.clone(),
            source,
        };
        let length_before = journal.metadata().map_err(io)?.len();
        let written = journal
            .write_all(line.as_bytes())
            .and_then(|()| journal.sync_data());
        if let Err(error) = written {
            // Not acknowledged: take the record back out, so the next change is not appended
            // to half a line and replay never sees it.
            if let Err(undo) = journal
                .set_len(length_before)
                .and_then(|()| journal.sync_data())
            {
                tracing::error!(%undo, "cannot remove a failed termbase record");
            }
            return Err(io(error));
        }
        let mut state = self.state.write().expect("termbase state");
        state.apply(&change);
        let matchers = Matchers::build(state.entries.values());
        drop(state);
        *self.matchers.write().expect("matchers") = Arc::new(matchers);
        Ok(change)
    }

    /// An approved entry other than `except` with one of `entry`'s terms.
    fn approved_duplicate(&self, entry: &Entry, except: Option<u64>) -> Option<(u64, String)> {
        let state = self.state.read().expect("termbase state");
        for term in &entry.terms {
            let key = crate::text::normalize(term.text.trim());
            let primary = crate::lang::primary_subtag(&term.lang);
            for other in state.entries.values() {
                if Some(other.id) == except || other.workflow != Workflow::Approved {
                    continue;
                }
                let clash = other.terms.iter().any(|existing| {
                    crate::lang::primary_subtag(&existing.lang) == primary
                        && crate::text::normalize(existing.text.trim()) == key
                });
                if clash {
                    return Some((other.id, term.text.clone()));
                }
            }
        }
        None
    }

    pub fn create(&self, input: EntryInput, by: Option<String>) -> Result<Entry, TermbaseError> {
        let mut journal = self.journal.lock().expect("journal lock");
        let id = self.state.read().expect("termbase state").next_id;
        let allow_duplicate = input.allow_duplicate;
        let entry = input.into_entry(id)?;
        if !allow_duplicate {
            if let Some((existing, term)) = self.approved_duplicate(&entry, None) {
                return Err(TermbaseError::Duplicate { existing, term });
            }
        }
        let change = Change {
            seq: 0,
            at: String::new(),
            by,
            action: Action::Create,
            entry_id: Some(id),
            changes: vec!["created".to_owned()],
            entries: vec![entry.clone()],
        };
        self.commit(&mut journal, change)?;
        Ok(entry)
    }

    /// Applies `edit` to the current entry and records the result as `action`.
    fn change_entry<F>(
        &self,
        id: u64,
        action: Action,
        by: Option<String>,
        edit: F,
    ) -> Result<Entry, TermbaseError>
    where
        F: FnOnce(&Entry) -> Result<Entry, TermbaseError>,
    {
        let mut journal = self.journal.lock().expect("journal lock");
        let before = self.get(id).ok_or(TermbaseError::NotFound(id))?;
        let mut after = edit(&before)?;
        after.id = id;
        after.validate()?;
        let changes = after.describe_changes(&before);
        let change = Change {
            seq: 0,
            at: String::new(),
            by,
            action,
            entry_id: Some(id),
            changes,
            entries: vec![after.clone()],
        };
        self.commit(&mut journal, change)?;
        Ok(after)
    }

    /// PUT: replaces the entry with `input` (keeping its id).
    pub fn replace(
        &self,
        id: u64,
        input: EntryInput,
        by: Option<String>,
    ) -> Result<Entry, TermbaseError> {
        let allow_duplicate = input.allow_duplicate;
        let keep_workflow = input.workflow.is_none();
        let replacement = input.into_entry(id)?;
        if !allow_duplicate {
            if let Some((existing, term)) = self.approved_duplicate(&replacement, Some(id)) {
                return Err(TermbaseError::Duplicate { existing, term });
            }
        }
        self.change_entry(id, Action::Update, by, move |before| {
            let mut after = replacement;
            if keep_workflow {
                after.workflow = before.workflow;
            }
            Ok(after)
        })
    }

    /// PATCH: changes only the fields given.
    pub fn patch(
        &self,
        id: u64,
        patch: EntryPatch,
        by: Option<String>,
    ) -> Result<Entry, TermbaseError> {
        let parse_date = |field: &str, text: &str| -> Result<Option<time::Date>, TermbaseError> {
            if text.is_empty() {
                return Ok(None);
            }
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text, format).map(Some).map_err(|_| {
                TermbaseError::Invalid(EntryError {
                    field: field.to_owned(),
                    message: format!("`{text}` is not a date as YYYY-MM-DD"),
                })
            })
        };
        let valid_from = patch
            .valid_from
            .as_deref()
            .map(|text| parse_date("valid_from", text))
            .transpose()?;
        let valid_until = patch
            .valid_until
            .as_deref()
            .map(|text| parse_date("valid_until", text))
            .transpose()?;
        self.change_entry(id, Action::Update, by, move |before| {
            let mut after = before.clone();
            let text = |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
            if let Some(value) = patch.subject_field {
                after.subject_field = text(value);
            }
            if let Some(value) = patch.definition {
                after.definition = text(value);
            }
            if let Some(value) = patch.note {
                after.note = text(value);
            }
            if let Some(value) = patch.source {
                after.source = text(value);
            }
            if let Some(workflow) = patch.workflow {
                after.workflow = workflow;
            }
            if let Some(date) = valid_from {
                after.valid_from = date;
            }
            if let Some(date) = valid_until {
                after.valid_until = date;
            }
            if let Some(terms) = patch.terms {
                after.terms = terms;
            }
            Ok(after)
        })
    }

    pub fn set_workflow(
        &self,
        id: u64,
        workflow: Workflow,
        by: Option<String>,
    ) -> Result<Entry, TermbaseError> {
        let action = match workflow {
            Workflow::Approved => Action::Approve,
            Workflow::Rejected => Action::Reject,
            Workflow::Proposed => Action::Update,
        };
        self.change_entry(id, action, by, move |before| {
            let mut after = before.clone();
            after.workflow = workflow;
            Ok(after)
        })
    }

    pub fn delete(&self, id: u64, by: Option<String>) -> Result<Entry, TermbaseError> {
        let mut journal = self.journal.lock().expect("journal lock");
        let before = self.get(id).ok_or(TermbaseError::NotFound(id))?;
        let change = Change {
            seq: 0,
            at: String::new(),
            by,
            action: Action::Delete,
            entry_id: Some(id),
            changes: vec!["deleted".to_owned()],
            entries: Vec::new(),
        };
        self.commit(&mut journal, change)?;
        Ok(before)
    }

    /// Adds many entries as one record: after a crash either all of them are there or none.
    /// Entries are validated first; the first invalid one rejects the whole import.
    /// Entries with exactly the same terms as an entry already stored (or earlier in the same
    /// import) are left out and counted: importing a file twice changes nothing.
    pub fn import(
        &self,
        inputs: Vec<EntryInput>,
        by: Option<String>,
    ) -> Result<ImportOutcome, TermbaseError> {
        let mut journal = self.journal.lock().expect("journal lock");
        let first_id = self.state.read().expect("termbase state").next_id;
        let mut known: HashSet<Vec<(String, String)>> = self
            .state
            .read()
            .expect("termbase state")
            .entries
            .values()
            .map(term_signature)
            .collect();
        let mut entries = Vec::new();
        let mut duplicates = 0;
        for (index, input) in inputs.into_iter().enumerate() {
            let entry = input
                .into_entry(first_id + entries.len() as u64)
                .map_err(|error| {
                    TermbaseError::Invalid(EntryError {
                        field: format!("entry {}: {}", index + 1, error.field),
                        message: error.message,
                    })
                })?;
            if known.insert(term_signature(&entry)) {
                entries.push(entry);
            } else {
                duplicates += 1;
            }
        }
        if entries.is_empty() {
            return Ok(ImportOutcome {
                entries,
                duplicates,
            });
        }
        let change = Change {
            seq: 0,
            at: String::new(),
            by,
            action: Action::Import,
            entry_id: None,
            changes: vec![format!("imported {} entries", entries.len())],
            entries: entries.clone(),
        };
        self.commit(&mut journal, change)?;
        Ok(ImportOutcome {
            entries,
            duplicates,
        })
    }
}

/// What an import stored.
#[derive(Debug)]
pub struct ImportOutcome {
    pub entries: Vec<Entry>,
    /// Entries left out because an identical one was already there.
    pub duplicates: usize,
}

/// The terms of an entry as a comparable set: language and normalized text.
fn term_signature(entry: &Entry) -> Vec<(String, String)> {
    let mut signature: Vec<(String, String)> = entry
        .terms
        .iter()
        .map(|term| {
            (
                term.lang.to_ascii_lowercase(),
                crate::text::normalize(term.text.trim()),
            )
        })
        .collect();
    signature.sort();
    signature
}

/// Replays the journal into `state`; returns the length of its whole, valid records.
fn replay(file: &mut File, state: &mut State) -> Result<u64, TermbaseError> {
    file.seek(SeekFrom::Start(0))
        .map_err(|source| TermbaseError::Corrupt {
            line: 0,
            message: source.to_string(),
        })?;
    let mut reader = BufReader::new(&*file);
    let mut good_length = 0u64;
    let mut line = String::new();
    let mut line_number = 0;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|source| TermbaseError::Corrupt {
                line: line_number + 1,
                message: source.to_string(),
            })?;
        if read == 0 {
            break;
        }
        line_number += 1;
        // A last record without its newline was cut short by a crash before it was
        // acknowledged: drop it.
        if !line.ends_with('\n') {
            break;
        }
        match serde_json::from_str::<Change>(line.trim_end()) {
            Ok(change) => {
                state.apply(&change);
                good_length += read as u64;
            }
            Err(error) => {
                // A damaged last record is treated as torn too; one followed by more records
                // is damage we refuse to guess about.
                let mut rest = String::new();
                let is_last = reader.read_line(&mut rest).map(|n| n == 0).unwrap_or(false);
                if is_last {
                    break;
                }
                return Err(TermbaseError::Corrupt {
                    line: line_number,
                    message: error.to_string(),
                });
            }
        }
    }
    Ok(good_length)
}

//! `attache backup` and `attache restore`: a consistent copy of a data directory, taken while
//! the server runs on it.
//!
//! A backup holds every write acknowledged before it started. The index part is the commit
//! named by `meta.json` at one instant: under Tantivy's meta lock (the lock its own readers
//! take to load a commit, and its garbage collector takes before deleting), `meta.json` is read
//! and every file of that commit is opened. Once open, a file can be copied even if a later
//! merge deletes it. The glossary journal is append-only and fsynced before a change is
//! acknowledged, so its complete lines are a consistent prefix.
//!
//! `meta.json` is written last, so a backup cut short never looks like an index; a manifest
//! records every file's size and xxh3 checksum, and `restore` checks them before it copies.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::{Directory, MmapDirectory, META_LOCK};
use tantivy::Index;

use crate::termbase::Termbase;
use crate::tm::{OpenMode, Tm};

/// The manifest's file name inside a backup.
pub const MANIFEST: &str = "attache-backup.json";
const META_FILE: &str = "meta.json";
const TERMBASE_JOURNAL: &str = "termbase/journal.jsonl";
/// Tantivy's list of the files it manages (and may delete once unused).
const MANAGED_FILE: &str = ".managed.json";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("{0}")]
    Refused(String),
    #[error("the backup in {} is damaged: {problem}", dir.display())]
    Damaged { dir: PathBuf, problem: String },
    #[error("the copy does not open: {0}")]
    Unreadable(String),
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    attache_version: String,
    created_at: String,
    /// Path relative to the backup → size and checksum.
    files: BTreeMap<String, FileRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileRecord {
    bytes: u64,
    xxh3: String,
}

/// What a backup or restore holds, checked by opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    pub segments: u64,
    pub glossary_entries: usize,
    pub bytes: u64,
}

/// Copies a consistent snapshot of `data_dir` into `target`, which must not exist or be empty.
/// Safe while a server runs on `data_dir`.
pub fn backup(data_dir: &Path, target: &Path) -> Result<Contents, BackupError> {
    if !data_dir.join(META_FILE).exists() {
        return Err(BackupError::Refused(format!(
            "{} holds no translation memory",
            data_dir.display()
        )));
    }
    require_empty(target)?;
    std::fs::create_dir_all(target).map_err(io_at(target))?;
    let (meta, units, index_files) = open_commit(data_dir)?;
    let mut files = BTreeMap::new();
    let mut total = 0;
    for (name, mut file) in index_files {
        let record = copy_into(&mut file, &target.join(&name))?;
        total += record.bytes;
        files.insert(name, record);
    }
    let journal_path = data_dir.join(TERMBASE_JOURNAL);
    if journal_path.exists() {
        let mut journal = Vec::new();
        File::open(&journal_path)
            .and_then(|mut file| file.read_to_end(&mut journal))
            .map_err(io_at(&journal_path))?;
        // A line still being appended is not acknowledged yet: leave it out.
        let complete = journal
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |last| last + 1);
        let destination = target.join(TERMBASE_JOURNAL);
        std::fs::create_dir_all(destination.parent().expect("journal has a folder"))
            .map_err(io_at(&destination))?;
        let record = copy_into(&mut &journal[..complete], &destination)?;
        total += record.bytes;
        files.insert(TERMBASE_JOURNAL.to_owned(), record);
    }
    // Tantivy manages (and will collect, once unused) the copied segment files.
    let managed: Vec<&String> = files
        .keys()
        .filter(|name| name.as_str() != TERMBASE_JOURNAL)
        .collect();
    write_synced(
        &target.join(MANAGED_FILE),
        &serde_json::to_vec(&managed).expect("file names serialize"),
    )?;
    let manifest = Manifest {
        attache_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        files: {
            let mut listed = files.clone();
            listed.insert(
                META_FILE.to_owned(),
                stream(&mut &meta[..], &target.join(META_FILE), None)?,
            );
            listed
        },
    };
    write_synced(
        &target.join(MANIFEST),
        &serde_json::to_vec_pretty(&manifest).expect("the manifest serializes"),
    )?;
    // Last: until meta.json is there, the folder is not an index.
    write_synced(&target.join(META_FILE), &meta)?;
    sync_dir(target)?;
    let mut contents = verify_opens(target)?;
    if contents.segments != units {
        return Err(BackupError::Damaged {
            dir: target.to_owned(),
            problem: format!(
                "the copy holds {} segments, the commit it was taken from {units}",
                contents.segments
            ),
        });
    }
    contents.bytes = total + meta.len() as u64;
    Ok(contents)
}

/// Copies the backup in `backup_dir` into `data_dir`, which must not exist or be empty (the
/// server must not be running on it). Every file is checked against the manifest first, so a
/// damaged backup restores nothing.
pub fn restore(backup_dir: &Path, data_dir: &Path) -> Result<Contents, BackupError> {
    let manifest_path = backup_dir.join(MANIFEST);
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).map_err(io_at(&manifest_path))?)
            .map_err(|error| BackupError::Damaged {
                dir: backup_dir.to_owned(),
                problem: format!("{MANIFEST}: {error}"),
            })?;
    for (name, expected) in &manifest.files {
        let path = backup_dir.join(name);
        let mut file = File::open(&path).map_err(|error| BackupError::Damaged {
            dir: backup_dir.to_owned(),
            problem: format!("{name}: {error}"),
        })?;
        let found = stream(&mut file, &path, None)?;
        if found.bytes != expected.bytes || found.xxh3 != expected.xxh3 {
            return Err(BackupError::Damaged {
                dir: backup_dir.to_owned(),
                problem: format!(
                    "{name} has {} bytes and checksum {}, the manifest says {} and {}",
                    found.bytes, found.xxh3, expected.bytes, expected.xxh3
                ),
            });
        }
    }
    require_empty(data_dir)?;
    std::fs::create_dir_all(data_dir).map_err(io_at(data_dir))?;
    let mut total = 0;
    // meta.json last, as in the backup.
    let mut names: Vec<&String> = manifest.files.keys().collect();
    names.sort_by_key(|name| name.as_str() == META_FILE);
    for name in names
        .into_iter()
        .chain(std::iter::once(&MANAGED_FILE.to_owned()))
    {
        let source = backup_dir.join(name);
        if !source.exists() {
            continue;
        }
        let destination = data_dir.join(name);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent).map_err(io_at(parent))?;
        }
        let mut file = File::open(&source).map_err(io_at(&source))?;
        total += copy_into(&mut file, &destination)?.bytes;
    }
    sync_dir(data_dir)?;
    let mut contents = verify_opens(data_dir)?;
    contents.bytes = total;
    Ok(contents)
}

/// `meta.json`, the number of units of the commit it names, and an open handle on every file
/// of that commit, by file name.
#[allow(clippy::type_complexity)]
fn open_commit(data_dir: &Path) -> Result<(Vec<u8>, u64, Vec<(String, File)>), BackupError> {
    let directory = MmapDirectory::open(data_dir).map_err(tantivy::TantivyError::from)?;
    let meta_path = data_dir.join(META_FILE);
    // A commit may land between reading meta.json and parsing it: read it before and after,
    // and try again until both agree.
    for _attempt in 0..100 {
        let _meta_lock = directory
            .acquire_lock(&META_LOCK)
            .map_err(|error| BackupError::Refused(format!("cannot take the meta lock: {error}")))?;
        let before = std::fs::read(&meta_path).map_err(io_at(&meta_path))?;
        let metas = Index::open(directory.clone())?.load_metas()?;
        let after = std::fs::read(&meta_path).map_err(io_at(&meta_path))?;
        if before != after {
            continue;
        }
        let mut opened = Vec::new();
        // The candidates of every component; some need not exist (a delete file of a segment
        // without deletes). Opening the copy afterwards proves none that matters is missing.
        for relative in metas.list_segment_files() {
            let path = data_dir.join(&relative);
            match File::open(&path) {
                Ok(file) => opened.push((relative.to_string_lossy().into_owned(), file)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_at(&path)(error)),
            }
        }
        let units = metas
            .segments
            .iter()
            .map(|segment| segment.num_docs() as u64)
            .sum();
        return Ok((before, units, opened));
    }
    Err(BackupError::Refused(
        "the index kept committing; no stable snapshot after 100 attempts".to_owned(),
    ))
}

fn require_empty(dir: &Path) -> Result<(), BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::Refused(format!(
                    "{} is not empty; give a new or empty folder",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_at(dir)(error)),
    }
}

/// Reads `reader` to its end, writing every byte to `copy` if given; returns the size and
/// checksum of what was read. `path` names the file in errors.
fn stream(
    reader: &mut impl Read,
    path: &Path,
    mut copy: Option<&mut File>,
) -> Result<FileRecord, BackupError> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0;
    loop {
        let read = reader.read(&mut buffer).map_err(io_at(path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        if let Some(out) = copy.as_deref_mut() {
            out.write_all(&buffer[..read]).map_err(io_at(path))?;
        }
        bytes += read as u64;
    }
    Ok(FileRecord {
        bytes,
        xxh3: format!("{:016x}", hasher.digest()),
    })
}

/// Copies `reader` into a new file at `path`, fsynced; returns its size and checksum.
fn copy_into(reader: &mut impl Read, path: &Path) -> Result<FileRecord, BackupError> {
    let mut out = File::create(path).map_err(io_at(path))?;
    let record = stream(reader, path, Some(&mut out))?;
    out.sync_all().map_err(io_at(path))?;
    Ok(record)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    copy_into(&mut &bytes[..], path).map(|_| ())
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(io_at(dir))
}

/// Opens the copy as the server would, and counts what it holds.
fn verify_opens(dir: &Path) -> Result<Contents, BackupError> {
    let tm = Tm::open(dir, OpenMode::ReadOnly)
        .map_err(|error| BackupError::Unreadable(error.to_string()))?;
    let segments = tm.count();
    let termbase =
        Termbase::open(dir).map_err(|error| BackupError::Unreadable(error.to_string()))?;
    Ok(Contents {
        segments,
        glossary_entries: termbase.len(),
        bytes: 0,
    })
}

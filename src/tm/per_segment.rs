//! Tables derived from one index segment, built the first time a search needs them and kept
//! while the segment lives.
//!
//! Segments are immutable (deletions live in Tantivy's alive bitset), so a table derived from
//! one never goes stale; it only has to go once the segment is merged away. The token counts
//! of `lengths` and the words by stem of `stems` are such tables.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

/// The tables built so far, by segment and `K` (what the table is of: a language, say),
/// shared by all searches of one index.
pub struct PerSegment<K, T> {
    tables: Mutex<HashMap<(SegmentId, K), Arc<T>>>,
}

impl<K, T> Default for PerSegment<K, T> {
    fn default() -> Self {
        PerSegment {
            tables: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, T> PerSegment<K, T> {
    /// The table `key` of `segment`, one of the segments of `searcher`, made by `build` the
    /// first time it is asked for. Building a table forgets those of segments the searcher
    /// no longer has (merged away).
    pub fn get_or_build<E>(
        &self,
        searcher: &Searcher,
        segment: &SegmentReader,
        key: K,
        build: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let key = (segment.segment_id(), key);
        if let Some(table) = self.lock().get(&key) {
            return Ok(table.clone());
        }
        // Built outside the lock: two searches may build the same table once each, but
        // neither waits for the other.
        let table = Arc::new(build()?);
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        let mut tables = self.lock();
        tables.retain(|(segment, _), _| live.contains(segment));
        tables.insert(key, table.clone());
        Ok(table)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(SegmentId, K), Arc<T>>> {
        // A panic while holding the lock leaves a consistent map (inserts are single calls).
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

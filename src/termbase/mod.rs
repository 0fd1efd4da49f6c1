//! The termbase: the approved glossary of official titles and policy phrases.
//!
//! [`model`] is the concept-oriented entry (terms in several languages, TBX statuses,
//! workflow, validity dates); [`store`] keeps entries durable in an append-only journal that is
//! also their history; [`recognize`] finds glossary terms in a segment; [`qa`] checks a
//! translation against the glossary. TBX reading and writing live in
//! [`crate::formats::tbx`].

pub mod model;
pub mod qa;
pub mod recognize;
pub mod store;

pub use model::{Entry, EntryInput, Term, TermStatus, TermType, Workflow};
pub use store::{EntryPatch, HistoryItem, Termbase, TermbaseError};

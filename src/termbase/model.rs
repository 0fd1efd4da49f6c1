//! The termbase's model: concept-oriented entries with terms in several languages, as in TBX.

use serde::{Deserialize, Serialize};
use time::Date;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Review state of a whole entry. Only approved entries are used by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Workflow {
    #[default]
    Proposed,
    Approved,
    Rejected,
}

impl Workflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Proposed => "proposed",
            Workflow::Approved => "approved",
            Workflow::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Workflow> {
        match text {
            "proposed" => Some(Workflow::Proposed),
            "approved" => Some(Workflow::Approved),
            "rejected" => Some(Workflow::Rejected),
            _ => None,
        }
    }
}

/// TBX-Basic's administrativeStatus. `Deprecated` means must not be used; `Superseded` is an
/// older rendering that has been replaced.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Default,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TermStatus {
    Preferred,
    #[default]
    Admitted,
    Superseded,
    Deprecated,
}

impl TermStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TermStatus::Preferred => "preferred",
            TermStatus::Admitted => "admitted",
            TermStatus::Superseded => "superseded",
            TermStatus::Deprecated => "deprecated",
        }
    }

    pub fn parse(text: &str) -> Option<TermStatus> {
        match text {
            "preferred" => Some(TermStatus::Preferred),
            "admitted" => Some(TermStatus::Admitted),
            "superseded" => Some(TermStatus::Superseded),
            "deprecated" => Some(TermStatus::Deprecated),
            _ => None,
        }
    }

    /// May a translation use this term?
    pub fn is_allowed(self) -> bool {
        matches!(self, TermStatus::Preferred | TermStatus::Admitted)
    }
}

/// TBX termType values used by the glossary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TermType {
    FullForm,
    Acronym,
    Abbreviation,
    ShortForm,
    Variant,
    Phrase,
}

impl TermType {
    pub fn as_str(self) -> &'static str {
        match self {
            TermType::FullForm => "fullForm",
            TermType::Acronym => "acronym",
            TermType::Abbreviation => "abbreviation",
            TermType::ShortForm => "shortForm",
            TermType::Variant => "variant",
            TermType::Phrase => "phrase",
        }
    }

    pub fn parse(text: &str) -> Option<TermType> {
        match text {
            "fullForm" => Some(TermType::FullForm),
            "acronym" => Some(TermType::Acronym),
            "abbreviation" => Some(TermType::Abbreviation),
            "shortForm" => Some(TermType::ShortForm),
            "variant" => Some(TermType::Variant),
            "phrase" => Some(TermType::Phrase),
            _ => None,
        }
    }
}

/// One designation of a concept in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub lang: String,
    pub text: String,
    #[serde(default)]
    pub status: TermStatus,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub term_type: Option<TermType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of_speech: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Acronyms such as `BRI` match only as written.
    #[serde(default)]
    pub case_sensitive: bool,
}

/// One concept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who issued the rendering (a Ministry of Foreign Affairs release, a work report…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default)]
    pub workflow: Workflow,
    #[serde(
        default,
        with = "iso_date::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_from: Option<Date>,
    #[serde(
        default,
        with = "iso_date::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<Date>,
    pub terms: Vec<Term>,
}

/// An entry as a client submits it (the id comes from the store).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub subject_field: Option<String>,
    #[serde(default)]
    pub definition: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub workflow: Option<Workflow>,
    #[serde(default, with = "iso_date::option")]
    pub valid_from: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub valid_until: Option<Date>,
    pub terms: Option<Vec<Term>>,
    /// Create even if an approved entry already has one of these terms.
    #[serde(default)]
    pub allow_duplicate: bool,
}

/// The longest term text, in characters.
const MAX_TERM_CHARS: usize = 500;

/// Why an entry was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {message}")]
pub struct EntryError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> EntryError {
    EntryError {
        field: field.into(),
        message: message.into(),
    }
}

/// Trims optional text and turns empty text into `None`.
fn clean(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

impl EntryInput {
    /// Checks the input and builds the entry it describes under `id`.
    pub fn into_entry(self, id: u64) -> Result<Entry, EntryError> {
        let terms = self
            .terms
            .ok_or_else(|| invalid("terms", "is required: an entry needs at least one term"))?;
        let entry = Entry {
            id,
            subject_field: clean(self.subject_field),
            definition: clean(self.definition),
            note: clean(self.note),
            source: clean(self.source),
            workflow: self.workflow.unwrap_or_default(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            terms,
        };
        entry.validate()?;
        Ok(entry)
    }
}

impl Entry {
    /// The invariants every stored entry keeps.
    pub fn validate(&self) -> Result<(), EntryError> {
        if self.terms.is_empty() {
            return Err(invalid(
                "terms",
                "is empty: an entry needs at least one term",
            ));
        }
        for (index, term) in self.terms.iter().enumerate() {
            crate::lang::validate(&term.lang)
                .map_err(|error| invalid(format!("terms[{index}].lang"), error.to_string()))?;
            if let Some(problem) = crate::formats::text_problem(&term.text, MAX_TERM_CHARS) {
                return Err(invalid(format!("terms[{index}].text"), problem.to_string()));
            }
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until) {
            if until < from {
                return Err(invalid(
                    "valid_until",
                    format!("({until}) is before valid_from ({from})"),
                ));
            }
        }
        Ok(())
    }

    /// The entry's terms in `lang` (by the `zh` matches `zh-CN` rule), best status first.
    pub fn terms_in<'a>(&'a self, lang: &'a str) -> Vec<&'a Term> {
        let mut terms: Vec<&Term> = self
            .terms
            .iter()
            .filter(|term| crate::lang::compatible(lang, &term.lang))
            .collect();
        terms.sort_by_key(|term| term.status);
        terms
    }

    /// The preferred (else admitted) term in `lang`.
    pub fn best_term_in<'a>(&'a self, lang: &'a str) -> Option<&'a Term> {
        self.terms_in(lang)
            .into_iter()
            .find(|term| term.status.is_allowed())
    }

    /// What changed from `before` to `self`, as short human-readable lines for the history.
    pub fn describe_changes(&self, before: &Entry) -> Vec<String> {
        let mut changes = Vec::new();
        let mut field = |name: &str, old: &Option<String>, new: &Option<String>| {
            if old != new {
                changes.push(format!(
                    "{name}: {} → {}",
                    old.as_deref().unwrap_or("(none)"),
                    new.as_deref().unwrap_or("(none)")
                ));
            }
        };
        field("subject_field", &before.subject_field, &self.subject_field);
        field("definition", &before.definition, &self.definition);
        field("note", &before.note, &self.note);
        field("source", &before.source, &self.source);
        let date = |date: Option<Date>| date.map(|date| date.to_string());
        field(
            "valid_from",
            &date(before.valid_from),
            &date(self.valid_from),
        );
        field(
            "valid_until",
            &date(before.valid_until),
            &date(self.valid_until),
        );
        if before.workflow != self.workflow {
            changes.push(format!(
                "workflow: {} → {}",
                before.workflow.as_str(),
                self.workflow.as_str()
            ));
        }
        for term in &self.terms {
            match before
                .terms
                .iter()
                .find(|old| old.lang == term.lang && old.text == term.text)
            {
                None => changes.push(format!("term added: {} {}", term.lang, term.text)),
                Some(old) if old != term => {
                    changes.push(format!("term changed: {} {}", term.lang, term.text))
                }
                Some(_) => {}
            }
        }
        for old in &before.terms {
            if !self
                .terms
                .iter()
                .any(|term| term.lang == old.lang && term.text == old.text)
            {
                changes.push(format!("term removed: {} {}", old.lang, old.text));
            }
        }
        changes
    }
}

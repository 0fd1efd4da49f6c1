//! TBX: the termbase exchange format.
//!
//! Reading accepts both TBX generations: ISO 30042:2019 (`<tbx>`, `conceptEntry` /
//! `langSec` / `termSec`, as TBX-Basic writes it) and the older TBX v2 (`<martif>`,
//! `termEntry` / `langSet` / `tig` or `ntig`, as OmegaT, Okapi, MultiTerm and Translate
//! Toolkit exchange it), in any encoding (see [`super::xml`]).
//!
//! Writing produces TBX-Basic (ISO 30042:2019, DCA style) that validates against the TBX core
//! structure schema. What TBX-Basic has no data category for travels in Attaché's documented
//! extension, so a round trip keeps it:
//!
//! | data                   | written as                                                  |
//! |------------------------|-------------------------------------------------------------|
//! | workflow state         | `<admin type="x-attache-workflow">approved</admin>` (entry) |
//! | validity dates         | `<admin type="x-attache-validFrom">2025-01-01</admin>`, `x-attache-validUntil` |
//! | case-sensitive matching| `<termNote type="x-attache-caseSensitive">true</termNote>`  |

use std::io::{BufRead, Write};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::xml::{locate_offsets, next_event, open_decoded, resolve_reference, XmlError};
use super::FormatError;
use crate::termbase::{Entry, EntryInput, Term, TermStatus, TermType, Workflow};

const EXT_WORKFLOW: &str = "x-attache-workflow";
const EXT_VALID_FROM: &str = "x-attache-validFrom";
const EXT_VALID_UNTIL: &str = "x-attache-validUntil";
const EXT_CASE_SENSITIVE: &str = "x-attache-caseSensitive";

/// Entries read from a TBX file, before the store gives them ids.
#[derive(Debug, Default)]
pub struct ParsedTermbase {
    pub entries: Vec<EntryInput>,
    /// Empty terms and entries left without a term, with where they were. MultiTerm writes an
    /// empty `<term/>` as a placeholder for a language nobody has filled in yet.
    pub skipped: Vec<super::Skipped>,
}

/// Sets the workflow state of every entry when `workflow` is given; otherwise each keeps what
/// its file said (or the reader's default).
pub fn with_workflow(mut entries: Vec<EntryInput>, workflow: Option<Workflow>) -> Vec<EntryInput> {
    if let Some(workflow) = workflow {
        for entry in &mut entries {
            entry.workflow = Some(workflow);
        }
    }
    entries
}

/// Reads a TBX file; a malformed file or an entry without a usable term is refused with its
/// line and column.
pub fn read_file(path: &Path, default_workflow: Workflow) -> Result<ParsedTermbase, FormatError> {
    let input = open_decoded(path)?;
    match read(input, default_workflow) {
        Ok((mut parsed, offsets)) => {
            let lines = locate_offsets(path, &offsets)?;
            for (skipped, (line, _)) in parsed.skipped.iter_mut().zip(lines) {
                skipped.at = format!("line {line}");
            }
            Ok(parsed)
        }
        Err(error) => Err(error.located(path)),
    }
}

fn attribute(element: &BytesStart, names: &[&str]) -> Option<String> {
    element.attributes().flatten().find_map(|attribute| {
        names.contains(&attribute.key.0).then(|| {
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|value| value.into_owned())
                .unwrap_or_default()
        })
    })
}

/// TBX administrativeStatus (and TBX v2 normativeAuthorization) values to our statuses.
fn parse_status(value: &str) -> TermStatus {
    let value = value.to_ascii_lowercase();
    if value.contains("preferred") {
        TermStatus::Preferred
    } else if value.contains("deprecated") || value.contains("forbidden") {
        TermStatus::Deprecated
    } else if value.contains("superseded") || value.contains("obsolete") {
        TermStatus::Superseded
    } else {
        TermStatus::Admitted
    }
}

fn status_value(status: TermStatus) -> &'static str {
    match status {
        TermStatus::Preferred => "preferredTerm-admn-sts",
        TermStatus::Admitted => "admittedTerm-admn-sts",
        TermStatus::Deprecated => "deprecatedTerm-admn-sts",
        TermStatus::Superseded => "supersededTerm-admn-sts",
    }
}

/// What the text being read belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Capture {
    TermText,
    TermNote(String),
    Descrip(String),
    Admin(String),
    Note,
}

fn parse_date(field: &str, text: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format)
        .map_err(|_| format!("{field} `{text}` is not a date as YYYY-MM-DD"))
}

/// Reads TBX; also returns the byte offset of each skipped item, for its line number.
fn read<R: BufRead>(
    input: R,
    default_workflow: Workflow,
) -> Result<(ParsedTermbase, Vec<u64>), XmlError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut parsed = ParsedTermbase::default();
    let mut buffer = Vec::new();
    let mut depth = 0;
    let mut entry: Option<(EntryInput, u64)> = None;
    let mut lang: Option<String> = None;
    let mut term: Option<Term> = None;
    let mut capture: Option<(Capture, String)> = None;
    let mut saw_root = false;
    let mut skipped_offsets = Vec::new();
    let mut term_offset = 0;

    loop {
        let offset = reader.buffer_position();
        let syntax = |message: String| XmlError::Syntax { offset, message };
        let event = next_event(&mut reader, &mut buffer, &mut depth)?;
        match event {
            Event::Eof => break,
            Event::Start(ref element) | Event::Empty(ref element) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = element.local_name();
                let name: &str = local.as_ref();
                if !saw_root {
                    if name != "tbx" && name != "martif" {
                        return Err(syntax(format!(
                            "the root element is <{name}>, not <tbx> or <martif>: not a TBX file"
                        )));
                    }
                    saw_root = true;
                }
                match name {
                    "conceptEntry" | "termEntry" => {
                        entry = Some((
                            EntryInput {
                                id: None,
                                subject_field: None,
                                definition: None,
                                note: None,
                                source: None,
                                workflow: Some(default_workflow),
                                valid_from: None,
                                valid_until: None,
                                terms: Some(Vec::new()),
                                allow_duplicate: true,
                            },
                            offset,
                        ));
                    }
                    "langSec" | "langSet" if entry.is_some() => {
                        lang = attribute(element, &["xml:lang", "lang"]);
                        if lang.is_none() {
                            return Err(syntax(format!("<{name}> has no xml:lang")));
                        }
                    }
                    "termSec" | "tig" | "ntig" if lang.is_some() => {
                        term_offset = offset;
                        term = Some(Term {
                            lang: lang.clone().unwrap_or_default(),
                            text: String::new(),
                            status: TermStatus::Admitted,
                            term_type: None,
                            part_of_speech: None,
                            context: None,
                            note: None,
                            case_sensitive: false,
                        });
                    }
                    _ if is_empty || entry.is_none() => {}
                    "term" if term.is_some() => capture = Some((Capture::TermText, String::new())),
                    "termNote" if term.is_some() => {
                        let kind = attribute(element, &["type"]).unwrap_or_default();
                        capture = Some((Capture::TermNote(kind), String::new()));
                    }
                    "descrip" => {
                        let kind = attribute(element, &["type"]).unwrap_or_default();
                        capture = Some((Capture::Descrip(kind), String::new()));
                    }
                    "admin" => {
                        let kind = attribute(element, &["type"]).unwrap_or_default();
                        capture = Some((Capture::Admin(kind), String::new()));
                    }
                    "note" => capture = Some((Capture::Note, String::new())),
                    _ => {}
                }
            }
            Event::Text(ref text) => {
                if let Some((_, content)) = capture.as_mut() {
                    content.push_str(&text.xml10_content());
                }
            }
            Event::CData(ref data) => {
                if let Some((_, content)) = capture.as_mut() {
                    content.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(ref reference) => {
                let resolved = resolve_reference(reference).map_err(syntax)?;
                if let Some((_, content)) = capture.as_mut() {
                    content.push_str(&resolved);
                }
            }
            Event::End(ref element) => {
                let local = element.local_name();
                let name: &str = local.as_ref();
                match name {
                    "term" | "termNote" | "descrip" | "admin" | "note" => {
                        if let Some((kind, content)) = capture.take() {
                            apply_capture(kind, content.trim(), entry.as_mut(), term.as_mut())
                                .map_err(syntax)?;
                        }
                    }
                    "termSec" | "tig" | "ntig" => {
                        if let (Some(finished), Some((current, _))) = (term.take(), entry.as_mut())
                        {
                            if finished.text.trim().is_empty() {
                                parsed.skipped.push(super::Skipped {
                                    at: String::new(),
                                    message: format!(
                                        "an empty term in {} (a placeholder) was left out",
                                        finished.lang
                                    ),
                                });
                                skipped_offsets.push(term_offset);
                            } else {
                                current.terms.get_or_insert_with(Vec::new).push(finished);
                            }
                        }
                    }
                    "langSec" | "langSet" => lang = None,
                    "conceptEntry" | "termEntry" => {
                        if let Some((finished, start)) = entry.take() {
                            if finished.terms.as_ref().is_none_or(|terms| terms.is_empty()) {
                                parsed.skipped.push(super::Skipped {
                                    at: String::new(),
                                    message: "an entry without any term was left out".to_owned(),
                                });
                                skipped_offsets.push(start);
                            } else {
                                parsed.entries.push(finished);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buffer.clear();
    }
    if !saw_root {
        return Err(XmlError::Syntax {
            offset: 0,
            message: "the file holds no <tbx> or <martif> element".to_owned(),
        });
    }
    Ok((parsed, skipped_offsets))
}

fn apply_capture(
    kind: Capture,
    content: &str,
    entry: Option<&mut (EntryInput, u64)>,
    term: Option<&mut Term>,
) -> Result<(), String> {
    let Some((entry, _)) = entry else {
        return Ok(());
    };
    let text = (!content.is_empty()).then(|| content.to_owned());
    match (kind, term) {
        (Capture::TermText, Some(term)) => term.text = content.to_owned(),
        (Capture::TermNote(kind), Some(term)) => match kind.as_str() {
            "administrativeStatus" | "normativeAuthorization" => {
                term.status = parse_status(content)
            }
            "termType" => term.term_type = TermType::parse(content),
            "partOfSpeech" => term.part_of_speech = text,
            EXT_CASE_SENSITIVE => term.case_sensitive = content == "true",
            _ => {}
        },
        (Capture::Descrip(kind), Some(term)) if kind == "context" => term.context = text,
        (Capture::Note, Some(term)) => term.note = text,
        (Capture::Descrip(kind), _) => match kind.as_str() {
            "subjectField" if entry.subject_field.is_none() => entry.subject_field = text,
            "definition" if entry.definition.is_none() => entry.definition = text,
            _ => {}
        },
        // Appended in place: rebuilding the note for every <note> is quadratic in their number.
        (Capture::Note, None) => match (entry.note.as_mut(), text) {
            (Some(existing), Some(more)) => {
                existing.push('\n');
                existing.push_str(&more);
            }
            (None, more) => entry.note = more,
            (Some(_), None) => {}
        },
        (Capture::Admin(kind), None) => match kind.as_str() {
            "source" if entry.source.is_none() => entry.source = text,
            EXT_WORKFLOW => {
                entry.workflow = Some(Workflow::parse(content).ok_or_else(|| {
                    format!("{EXT_WORKFLOW} `{content}` is not proposed, approved or rejected")
                })?)
            }
            EXT_VALID_FROM => entry.valid_from = Some(parse_date(EXT_VALID_FROM, content)?),
            EXT_VALID_UNTIL => entry.valid_until = Some(parse_date(EXT_VALID_UNTIL, content)?),
            _ => {}
        },
        _ => {}
    }
    Ok(())
}

fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// The two TBX generations Attaché writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// TBX-Basic, ISO 30042:2019 (`<tbx>`), DCA style.
    Basic2019,
    /// TBX v2 (`<martif>`, ISO 30042:2008), which OmegaT, Okapi, Weblate and Translate
    /// Toolkit read.
    Martif,
}

/// Element names of a dialect: root, header, entry, language section, term section.
struct Names {
    header: &'static str,
    entry: &'static str,
    language: &'static str,
    term: &'static str,
}

impl Dialect {
    fn names(self) -> Names {
        match self {
            Dialect::Basic2019 => Names {
                header: "tbxHeader",
                entry: "conceptEntry",
                language: "langSec",
                term: "termSec",
            },
            Dialect::Martif => Names {
                header: "martifHeader",
                entry: "termEntry",
                language: "langSet",
                term: "tig",
            },
        }
    }
}

/// Writes entries as TBX: TBX-Basic (ISO 30042:2019, DCA) or TBX v2 (martif).
pub fn write_tbx<W: Write>(
    mut out: W,
    entries: &[Entry],
    description: &str,
    dialect: Dialect,
) -> std::io::Result<W> {
    let names = dialect.names();
    let root = match dialect {
        Dialect::Basic2019 => {
            "<tbx type=\"TBX-Basic\" style=\"dca\" xml:lang=\"en\" xmlns=\"urn:iso:std:iso:30042:ed-2\">"
        }
        Dialect::Martif => "<!DOCTYPE martif SYSTEM \"TBXcoreStructV02.dtd\">\n<martif type=\"TBX\" xml:lang=\"en\">",
    };
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         {root}\n\
         \x20 <{header}>\n\
         \x20   <fileDesc>\n\
         \x20     <sourceDesc>\n\
         \x20       <p>{}</p>\n\
         \x20     </sourceDesc>\n\
         \x20   </fileDesc>\n\
         \x20 </{header}>\n\
         \x20 <text>\n\
         \x20   <body>\n",
        escape(description),
        header = names.header,
    )?;
    for entry in entries {
        writeln!(out, "      <{} id=\"c{}\">", names.entry, entry.id)?;
        if let Some(subject) = &entry.subject_field {
            writeln!(
                out,
                "        <descrip type=\"subjectField\">{}</descrip>",
                escape(subject)
            )?;
        }
        if let Some(definition) = &entry.definition {
            writeln!(
                out,
                "        <descrip type=\"definition\">{}</descrip>",
                escape(definition)
            )?;
        }
        if let Some(source) = &entry.source {
            writeln!(
                out,
                "        <admin type=\"source\">{}</admin>",
                escape(source)
            )?;
        }
        writeln!(
            out,
            "        <admin type=\"{EXT_WORKFLOW}\">{}</admin>",
            entry.workflow.as_str()
        )?;
        if let Some(date) = entry.valid_from {
            writeln!(
                out,
                "        <admin type=\"{EXT_VALID_FROM}\">{date}</admin>"
            )?;
        }
        if let Some(date) = entry.valid_until {
            writeln!(
                out,
                "        <admin type=\"{EXT_VALID_UNTIL}\">{date}</admin>"
            )?;
        }
        if let Some(note) = &entry.note {
            writeln!(out, "        <note>{}</note>", escape(note))?;
        }
        // One langSec per language, in the order languages first appear.
        let mut languages: Vec<&str> = Vec::new();
        for term in &entry.terms {
            if !languages.contains(&term.lang.as_str()) {
                languages.push(&term.lang);
            }
        }
        for language in languages {
            writeln!(
                out,
                "        <{} xml:lang=\"{}\">",
                names.language,
                escape(language)
            )?;
            for term in entry.terms.iter().filter(|term| term.lang == language) {
                writeln!(out, "          <{}>", names.term)?;
                writeln!(out, "            <term>{}</term>", escape(&term.text))?;
                writeln!(
                    out,
                    "            <termNote type=\"administrativeStatus\">{}</termNote>",
                    status_value(term.status)
                )?;
                if let Some(term_type) = term.term_type {
                    writeln!(
                        out,
                        "            <termNote type=\"termType\">{}</termNote>",
                        term_type.as_str()
                    )?;
                }
                if let Some(part_of_speech) = &term.part_of_speech {
                    writeln!(
                        out,
                        "            <termNote type=\"partOfSpeech\">{}</termNote>",
                        escape(part_of_speech)
                    )?;
                }
                if term.case_sensitive {
                    writeln!(
                        out,
                        "            <termNote type=\"{EXT_CASE_SENSITIVE}\">true</termNote>"
                    )?;
                }
                if let Some(context) = &term.context {
                    writeln!(
                        out,
                        "            <descrip type=\"context\">{}</descrip>",
                        escape(context)
                    )?;
                }
                if let Some(note) = &term.note {
                    writeln!(out, "            <note>{}</note>", escape(note))?;
                }
                writeln!(out, "          </{}>", names.term)?;
            }
            writeln!(out, "        </{}>", names.language)?;
        }
        writeln!(out, "      </{}>", names.entry)?;
    }
    let root_name = match dialect {
        Dialect::Basic2019 => "tbx",
        Dialect::Martif => "martif",
    };
    writeln!(out, "    </body>\n  </text>\n</{root_name}>")?;
    out.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tbx_basic_round_trips_status_workflow_dates_and_case() {
        let entry = Entry {
            id: 7,
            subject_field: Some("foreign affairs".into()),
            definition: Some("China's initiative <2013>".into()),
            note: Some("Use the full form on first mention.".into()),
            source: Some("MFA".into()),
            workflow: Workflow::Approved,
            valid_from: Some(time::macros::date!(2015 - 09 - 01)),
            valid_until: None,
            terms: vec![
                Term {
                    lang: "zh-CN".into(),
                    text: "一带一路".into(),
                    status: TermStatus::Preferred,
                    term_type: Some(TermType::FullForm),
                    part_of_speech: Some("noun".into()),
                    context: None,
                    note: None,
                    case_sensitive: false,
                },
                Term {
                    lang: "en".into(),
                    text: "BRI".into(),
                    status: TermStatus::Admitted,
                    term_type: Some(TermType::Acronym),
                    part_of_speech: None,
                    context: Some("BRI partner countries".into()),
                    note: Some("after the full form".into()),
                    case_sensitive: true,
                },
                Term {
                    lang: "en".into(),
                    text: "One Belt, One Road".into(),
                    status: TermStatus::Deprecated,
                    term_type: None,
                    part_of_speech: None,
                    context: None,
                    note: None,
                    case_sensitive: false,
                },
            ],
        };
        for dialect in [Dialect::Basic2019, Dialect::Martif] {
            let written =
                write_tbx(Vec::new(), std::slice::from_ref(&entry), "test", dialect).unwrap();
            let (parsed, _) =
                read(&written[..], Workflow::Proposed).unwrap_or_else(|_| panic!("reads back"));
            assert_eq!(parsed.entries.len(), 1);
            let back = parsed
                .entries
                .into_iter()
                .next()
                .unwrap()
                .into_entry(7)
                .unwrap();
            assert_eq!(back, entry, "{dialect:?}");
        }
    }
}

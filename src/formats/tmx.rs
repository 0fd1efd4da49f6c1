//! TMX 1.4 (and 1.1) reading and TMX 1.4 writing.
//!
//! Reading streams through the file with quick-xml. quick-xml reads only UTF-8, so files in
//! UTF-16 (with or without a BOM) or in a legacy encoding named by the XML declaration are
//! transcoded on the fly with encoding_rs. No entity is ever expanded beyond XML's five
//! predefined ones and character references; a DTD is neither fetched nor read.
//!
//! Every `tu` with text in both requested languages becomes one unit that keeps all of its
//! variants, its `tuid`, dates, `creationid`/`changeid`, `prop`s and `note`s. Inline codes
//! (`bpt`, `ept`, `ph`, `it`, `ut`) are left out of the text; the text of `hi` is kept.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use time::macros::format_description;
use time::PrimitiveDateTime;

use super::xml::{locate_offsets, next_event, open_decoded_counting, resolve_reference, XmlError};
use super::{text_problem, FormatError, ImportOptions, Parsed, Skipped};
use crate::tm::{FileHeader, NewUnit, Origin, Prop, Status, Unit, Variant};

/// Props through which Attaché keeps its own metadata in a TMX file.
const PROP_COLLECTION: &str = "x-attache-collection";
const PROP_DOCUMENT: &str = "x-attache-document";
const PROP_STATUS: &str = "x-attache-status";
const PROP_ORIGIN: &str = "x-attache-origin";

use super::inline::TMX_CODE_ELEMENTS as CODE_ELEMENTS;

/// Reads a TMX file. A malformed file is refused with the line and column of the fault.
pub fn read_file(path: &Path, options: &ImportOptions) -> Result<Parsed, FormatError> {
    read_file_counting(path, options, None, Parsed::default())
}

/// [`read_file`], adding the number of bytes read so far to `counter`.
pub fn read_file_counting(
    path: &Path,
    options: &ImportOptions,
    counter: Option<Arc<AtomicU64>>,
    parsed: Parsed,
) -> Result<Parsed, FormatError> {
    let input = open_decoded_counting(path, counter)?;
    let (mut parsed, skipped_offsets) =
        read(input, options, parsed).map_err(|error| error.located(path))?;
    let lines = locate_offsets(path, &skipped_offsets)?;
    for (skipped, (line, _)) in parsed.skipped.iter_mut().zip(lines) {
        skipped.at = format!("{} (line {line})", skipped.at);
    }
    Ok(parsed)
}

/// Attributes TMX 1.4 allows on `header`, `tu` and `tuv` (besides `xml:lang`). Others that
/// a file carries (TMX 1.1's, tools' own) are not kept, so every export stays valid.
const HEADER_ATTRIBUTES: [&str; 12] = [
    "creationtool",
    "creationtoolversion",
    "segtype",
    "o-tmf",
    "adminlang",
    "srclang",
    "datatype",
    "o-encoding",
    "creationdate",
    "creationid",
    "changedate",
    "changeid",
];
const TU_ATTRIBUTES: [&str; 14] = [
    "tuid",
    "o-encoding",
    "datatype",
    "usagecount",
    "lastusagedate",
    "creationtool",
    "creationtoolversion",
    "creationdate",
    "creationid",
    "changedate",
    "segtype",
    "changeid",
    "o-tmf",
    "srclang",
];
const TUV_ATTRIBUTES: [&str; 11] = [
    "o-encoding",
    "datatype",
    "usagecount",
    "lastusagedate",
    "creationtool",
    "creationtoolversion",
    "creationdate",
    "creationid",
    "changedate",
    "o-tmf",
    "changeid",
];
const SEGTYPES: [&str; 4] = ["block", "paragraph", "sentence", "phrase"];

/// What is being collected while inside a `tu`.
#[derive(Default)]
struct TuBuilder {
    number: u64,
    offset: u64,
    tuid: Option<String>,
    creation_date: Option<i64>,
    change_date: Option<i64>,
    creation_id: Option<String>,
    change_id: Option<String>,
    usage_count: Option<u64>,
    last_used_at: Option<i64>,
    /// The tu's other attributes TMX 1.4 allows, kept for export.
    other_attributes: Vec<Prop>,
    props: Vec<Prop>,
    notes: Vec<String>,
    variants: Vec<Variant>,
}

enum Capture {
    Prop { kind: String, value: String },
    Note(String),
}

/// The element's attributes among `allowed`, in document order, values unescaped.
fn attributes_among(element: &BytesStart, allowed: &[&str]) -> Result<Vec<Prop>, String> {
    let mut kept = Vec::new();
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let name = attribute.key.0.to_owned();
        if !allowed.contains(&name.as_str()) {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|error| error.to_string())?
            .into_owned();
        if name == "segtype" && !SEGTYPES.contains(&value.as_str()) {
            continue;
        }
        kept.push(Prop { kind: name, value });
    }
    Ok(kept)
}

fn attribute(element: &BytesStart, names: &[&str]) -> Result<Option<String>, String> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        if names.contains(&attribute.key.0) {
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|error| error.to_string())?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// `20241107T122621Z` → milliseconds since the epoch.
pub fn parse_tmx_date(text: &str) -> Option<i64> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let date = PrimitiveDateTime::parse(text.trim(), format).ok()?;
    Some(date.assume_utc().unix_timestamp() * 1000)
}

/// Milliseconds since the epoch → `20241107T122621Z`.
pub fn format_tmx_date(millis: i64) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .ok()
        .and_then(|date| date.format(format).ok())
        .unwrap_or_else(|| "19700101T000000Z".to_owned())
}

fn read<R: BufRead>(
    input: R,
    options: &ImportOptions,
    mut parsed: Parsed,
) -> Result<(Parsed, Vec<u64>), XmlError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut skipped_offsets = Vec::new();
    let mut buffer = Vec::new();
    let mut depth = 0;
    let mut tu: Option<TuBuilder> = None;
    let mut tu_count: u64 = 0;
    let mut tuv_lang: Option<String> = None;
    let mut seg_text: Option<String> = None;
    // The segment's inner markup, re-serialized event by event while inside <seg>.
    let mut seg_markup: Option<quick_xml::Writer<Vec<u8>>> = None;
    let mut seg_has_codes = false;
    // Props and notes of the tuv being read.
    let mut tuv_props: Vec<Prop> = Vec::new();
    let mut tuv_notes: Vec<String> = Vec::new();
    let mut tuv_attributes: Vec<Prop> = Vec::new();
    let mut code_depth = 0usize;
    // `i` of the <bpt>s open in the current segment.
    // The `i` of the <bpt>s open in the current segment (a set: a crafted segment may open
    // tens of thousands).
    let mut open_pairs: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut capture: Option<Capture> = None;
    let mut saw_root = false;
    // The file's header, while its props and notes are read.
    let mut header: Option<FileHeader> = None;

    let syntax = |reader: &Reader<R>, message: String| XmlError::Syntax {
        offset: reader
            .error_position()
            .max(reader.buffer_position().saturating_sub(1)),
        message,
    };

    loop {
        let event_offset = reader.buffer_position();
        let event = next_event(&mut reader, &mut buffer, &mut depth)?;
        let closes_seg = matches!(&event, Event::End(element) if element.name().0 == "seg");
        if let (Some(markup), false) = (seg_markup.as_mut(), closes_seg) {
            if matches!(event, Event::Start(_) | Event::Empty(_)) {
                seg_has_codes = true;
            }
            if matches!(
                event,
                Event::Start(_)
                    | Event::Empty(_)
                    | Event::End(_)
                    | Event::Text(_)
                    | Event::CData(_)
                    | Event::GeneralRef(_)
            ) {
                markup.write_event(event.borrow()).map_err(|error| {
                    XmlError::Format(FormatError::Io(std::io::Error::other(error.to_string())))
                })?;
            }
        }
        match event {
            Event::Eof => break,
            Event::Start(ref element) | Event::Empty(ref element) => {
                let is_empty = matches!(event, Event::Empty(_));
                let name = element.name().0.to_owned();
                if !saw_root {
                    if name != "tmx" {
                        return Err(syntax(
                            &reader,
                            format!("the root element is <{name}>, not <tmx>"),
                        ));
                    }
                    saw_root = true;
                }
                let fail = |message: String| XmlError::Syntax {
                    offset: event_offset,
                    message,
                };
                match name.as_str() {
                    "header" if tu.is_none() => {
                        let file_header = FileHeader {
                            attributes: attributes_among(element, &HEADER_ATTRIBUTES)
                                .map_err(fail)?,
                            ..FileHeader::default()
                        };
                        if is_empty {
                            parsed
                                .set_header(&options.collection, file_header)
                                .map_err(XmlError::Format)?;
                        } else {
                            header = Some(file_header);
                        }
                    }
                    "tu" => {
                        tu_count += 1;
                        let mut builder = TuBuilder {
                            number: tu_count,
                            offset: event_offset,
                            ..TuBuilder::default()
                        };
                        for Prop { kind, value } in
                            attributes_among(element, &TU_ATTRIBUTES).map_err(fail)?
                        {
                            match kind.as_str() {
                                "tuid" => builder.tuid = Some(value),
                                "creationdate" => builder.creation_date = parse_tmx_date(&value),
                                "changedate" => builder.change_date = parse_tmx_date(&value),
                                "creationid" => builder.creation_id = Some(value),
                                "changeid" => builder.change_id = Some(value),
                                "usagecount" => builder.usage_count = value.trim().parse().ok(),
                                "lastusagedate" => builder.last_used_at = parse_tmx_date(&value),
                                _ => builder.other_attributes.push(Prop { kind, value }),
                            }
                        }
                        tu = Some(builder);
                    }
                    "tuv" if tu.is_some() => {
                        tuv_lang = attribute(element, &["xml:lang", "lang"]).map_err(fail)?;
                        tuv_props.clear();
                        tuv_notes.clear();
                        tuv_attributes =
                            attributes_among(element, &TUV_ATTRIBUTES).map_err(fail)?;
                        // Some tools (OmegaT) date and sign the variants, not the unit: take
                        // the first variant's values where the unit has none.
                        let builder = tu.as_mut().expect("inside a tu");
                        if builder.creation_id.is_none() {
                            builder.creation_id =
                                attribute(element, &["creationid"]).map_err(fail)?;
                        }
                        if builder.change_id.is_none() {
                            builder.change_id = attribute(element, &["changeid"]).map_err(fail)?;
                        }
                        if builder.creation_date.is_none() {
                            builder.creation_date = attribute(element, &["creationdate"])
                                .map_err(fail)?
                                .and_then(|text| parse_tmx_date(&text));
                        }
                        if builder.change_date.is_none() {
                            builder.change_date = attribute(element, &["changedate"])
                                .map_err(fail)?
                                .and_then(|text| parse_tmx_date(&text));
                        }
                    }
                    "seg" if tuv_lang.is_some() && !is_empty => {
                        seg_text = Some(String::new());
                        seg_markup = Some(quick_xml::Writer::new(Vec::new()));
                        seg_has_codes = false;
                        open_pairs.clear();
                    }
                    "seg" if tuv_lang.is_some() => {
                        // <seg/>: an empty segment.
                    }
                    "prop" if (tu.is_some() || header.is_some()) && !is_empty => {
                        let kind = attribute(element, &["type"]).map_err(fail)?;
                        capture = Some(Capture::Prop {
                            kind: kind.unwrap_or_default(),
                            value: String::new(),
                        });
                    }
                    "note" if (tu.is_some() || header.is_some()) && !is_empty => {
                        capture = Some(Capture::Note(String::new()))
                    }
                    code if seg_text.is_some() && CODE_ELEMENTS.contains(&code) => {
                        // Paired codes must pair up inside their segment (TMX 1.4b, 3.6):
                        // a <bpt> opens `i`, the <ept> with the same `i` closes it.
                        let pair_id = attribute(element, &["i"]).map_err(fail)?;
                        match (code, pair_id) {
                            ("bpt", Some(id)) if open_pairs.contains(&id) => {
                                return Err(fail(format!(
                                    "a second <bpt i=\"{id}\"> opens inside one segment"
                                )));
                            }
                            ("bpt", Some(id)) => {
                                open_pairs.insert(id);
                            }
                            // Closing removes the pair; an <ept> that closes nothing is an error.
                            ("ept", Some(id)) if !open_pairs.remove(&id) => {
                                return Err(fail(format!(
                                    "<ept i=\"{id}\"> closes no <bpt i=\"{id}\"> before it in the segment"
                                )));
                            }
                            ("bpt" | "ept", None) => {
                                return Err(fail(format!(
                                    "<{code}> lacks its required `i` attribute"
                                )));
                            }
                            _ => {}
                        }
                        if !is_empty {
                            code_depth += 1
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref element) => {
                let name = element.name().0;
                match name {
                    "header" => {
                        if let Some(file_header) = header.take() {
                            parsed
                                .set_header(&options.collection, file_header)
                                .map_err(XmlError::Format)?;
                        }
                    }
                    "tu" => {
                        if let Some(builder) = tu.take() {
                            finish_tu(builder, options, &mut parsed, &mut skipped_offsets)?;
                        }
                    }
                    "tuv" => tuv_lang = None,
                    "seg" => {
                        if let Some(unclosed) = open_pairs.first() {
                            return Err(XmlError::Syntax {
                                offset: event_offset,
                                message: format!(
                                    "<bpt i=\"{unclosed}\"> is never closed by an <ept> in its segment"
                                ),
                            });
                        }
                        if let (Some(text), Some(lang), Some(builder)) =
                            (seg_text.take(), tuv_lang.as_ref(), tu.as_mut())
                        {
                            let markup = seg_markup
                                .take()
                                .filter(|_| seg_has_codes)
                                .and_then(|writer| String::from_utf8(writer.into_inner()).ok());
                            builder.variants.push(Variant {
                                lang: lang.clone(),
                                text: text.trim().to_owned(),
                                markup,
                                props: std::mem::take(&mut tuv_props),
                                notes: std::mem::take(&mut tuv_notes),
                                tmx_attributes: std::mem::take(&mut tuv_attributes),
                            });
                        }
                        code_depth = 0;
                        seg_markup = None;
                    }
                    "prop" | "note" if header.is_some() => {
                        if let (Some(captured), Some(file_header)) =
                            (capture.take(), header.as_mut())
                        {
                            match captured {
                                Capture::Prop { kind, value } => {
                                    file_header.props.push(Prop { kind, value })
                                }
                                Capture::Note(note) => file_header.notes.push(note),
                            }
                        }
                    }
                    "prop" | "note" => {
                        if let (Some(captured), Some(builder)) = (capture.take(), tu.as_mut()) {
                            // Inside a tuv they belong to that variant, else to the unit.
                            let inside_tuv = tuv_lang.is_some();
                            match captured {
                                Capture::Prop { kind, value } if inside_tuv => {
                                    tuv_props.push(Prop { kind, value })
                                }
                                Capture::Note(note) if inside_tuv => tuv_notes.push(note),
                                Capture::Prop { kind, value } => {
                                    builder.props.push(Prop { kind, value })
                                }
                                Capture::Note(note) => builder.notes.push(note),
                            }
                        }
                    }
                    code if CODE_ELEMENTS.contains(&code) && seg_text.is_some() => {
                        code_depth = code_depth.saturating_sub(1)
                    }
                    _ => {}
                }
            }
            Event::Text(ref text) => {
                let content = text.xml10_content();
                append_text(&mut capture, &mut seg_text, code_depth, &content);
            }
            Event::CData(ref data) => {
                let content: String = data.xml10_content().into_owned();
                append_text(&mut capture, &mut seg_text, code_depth, &content);
            }
            Event::GeneralRef(ref reference) => {
                let resolved =
                    resolve_reference(reference).map_err(|message| XmlError::Syntax {
                        offset: event_offset,
                        message,
                    })?;
                append_text(&mut capture, &mut seg_text, code_depth, &resolved);
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buffer.clear();
    }
    if !saw_root {
        return Err(XmlError::Syntax {
            offset: 0,
            message: "the file holds no <tmx> element".to_owned(),
        });
    }
    Ok((parsed, skipped_offsets))
}

fn append_text(
    capture: &mut Option<Capture>,
    seg_text: &mut Option<String>,
    code_depth: usize,
    content: &str,
) {
    match capture {
        Some(Capture::Prop { value, .. }) => value.push_str(content),
        Some(Capture::Note(note)) => note.push_str(content),
        None => {
            if let (Some(text), 0) = (seg_text.as_mut(), code_depth) {
                text.push_str(content);
            }
        }
    }
}

fn finish_tu(
    builder: TuBuilder,
    options: &ImportOptions,
    parsed: &mut Parsed,
    skipped_offsets: &mut Vec<u64>,
) -> Result<(), XmlError> {
    let mut skip = |message: String| {
        parsed.skipped.push(Skipped {
            at: format!("tu {}", builder.number),
            message,
        });
        skipped_offsets.push(builder.offset);
    };
    let variants: Vec<Variant> = builder
        .variants
        .iter()
        .filter(|variant| !variant.text.is_empty())
        .cloned()
        .collect();
    for (role, requested) in [
        ("source", &options.source_lang),
        ("target", &options.target_lang),
    ] {
        let Some(variant) = variants
            .iter()
            .find(|variant| crate::lang::matches(requested, &variant.lang))
        else {
            skip(format!("no {role} text in {requested}"));
            return Ok(());
        };
        if let Some(problem) = text_problem(&variant.text, options.max_text_chars) {
            skip(format!("the {role} text {problem}"));
            return Ok(());
        }
    }
    if let Some(problem) = variants
        .iter()
        .find_map(|variant| text_problem(&variant.text, options.max_text_chars))
    {
        skip(format!("a variant's text {problem}"));
        return Ok(());
    }
    if let Some(problem) = variants
        .iter()
        .filter_map(|variant| variant.markup.as_deref())
        .find_map(super::inline::markup_problem)
    {
        skip(problem);
        return Ok(());
    }
    let mut unit = NewUnit {
        variants,
        collection: options.collection.clone(),
        document: None,
        author: builder.creation_id.or_else(|| options.author.clone()),
        status: options.status,
        origin: Origin::Import,
        created_at: builder.creation_date,
        updated_at: builder.change_date,
        changed_by: builder.change_id,
        tuid: builder.tuid,
        props: Vec::new(),
        notes: builder.notes,
        usage_count: builder.usage_count,
        last_used_at: builder.last_used_at,
        tmx_attributes: builder.other_attributes,
    };
    for prop in builder.props {
        match prop.kind.as_str() {
            PROP_DOCUMENT => unit.document = Some(prop.value),
            PROP_STATUS if prop.value == "draft" => unit.status = Status::Draft,
            PROP_STATUS => unit.status = Status::Approved,
            PROP_ORIGIN => {
                unit.origin = match prop.value.as_str() {
                    "human" => Origin::Human,
                    "mt" => Origin::Mt,
                    _ => Origin::Import,
                }
            }
            // The collection is chosen by whoever imports.
            PROP_COLLECTION => {}
            _ => unit.props.push(prop),
        }
    }
    parsed.push(unit).map_err(XmlError::Format)
}

/// Streams units out as a TMX 1.4 document that validates against the TMX 1.4 DTD.
pub struct TmxWriter<W: Write> {
    out: W,
}

fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// `<note>`s, each after `indent` and followed by `end`.
fn write_notes<W: Write>(
    out: &mut W,
    indent: &str,
    notes: &[String],
    end: &str,
) -> std::io::Result<()> {
    for note in notes {
        write!(out, "{indent}<note>{}</note>{end}", escape(note))?;
    }
    Ok(())
}

/// `<prop type="kind">value</prop>`s, each after `indent` and followed by `end`.
fn write_props<'a, W: Write>(
    out: &mut W,
    indent: &str,
    props: impl IntoIterator<Item = (&'a str, &'a str)>,
    end: &str,
) -> std::io::Result<()> {
    for (kind, value) in props {
        write!(
            out,
            "{indent}<prop type=\"{}\">{}</prop>{end}",
            escape(kind),
            escape(value)
        )?;
    }
    Ok(())
}

/// Kept attributes among those TMX 1.4 allows on the element, so an export stays valid.
fn write_allowed_attributes<W: Write>(
    out: &mut W,
    attributes: &[Prop],
    allowed: &[&str],
) -> std::io::Result<()> {
    for attribute in attributes
        .iter()
        .filter(|attribute| allowed.contains(&attribute.kind.as_str()))
    {
        write!(out, " {}=\"{}\"", attribute.kind, escape(&attribute.value))?;
    }
    Ok(())
}

impl<W: Write> TmxWriter<W> {
    /// Writes the prologue and header. `source_lang` is the header's `srclang` (`*all*`
    /// when units may have any source language). `imported` is the header of the file the
    /// exported collection came from: its attributes, props and notes are written back, except
    /// the creating tool and date, which are this export's.
    pub fn begin(
        mut out: W,
        source_lang: &str,
        imported: Option<&FileHeader>,
    ) -> std::io::Result<Self> {
        let stored = |name: &str| {
            imported.and_then(|header| {
                header
                    .attributes
                    .iter()
                    .find(|attribute| attribute.kind == name)
                    .map(|attribute| attribute.value.as_str())
            })
        };
        let srclang = match source_lang {
            "*all*" => stored("srclang").unwrap_or("*all*"),
            chosen => chosen,
        };
        let version = env!("CARGO_PKG_VERSION");
        let created = format_tmx_date(crate::tm::now_millis());
        let mut attributes: Vec<(&str, &str)> = vec![
            ("creationtool", "Attache"),
            ("creationtoolversion", version),
            ("segtype", stored("segtype").unwrap_or("sentence")),
            ("o-tmf", stored("o-tmf").unwrap_or("attache")),
            ("adminlang", stored("adminlang").unwrap_or("en")),
            ("srclang", srclang),
            ("datatype", stored("datatype").unwrap_or("plaintext")),
            ("creationdate", &created),
        ];
        for optional in ["o-encoding", "creationid", "changedate", "changeid"] {
            if let Some(value) = stored(optional) {
                attributes.push((optional, value));
            }
        }
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <!DOCTYPE tmx SYSTEM \"tmx14.dtd\">\n\
             <tmx version=\"1.4\">\n  <header"
        )?;
        for (name, value) in attributes {
            write!(out, " {name}=\"{}\"", escape(value))?;
        }
        match imported.filter(|header| !header.props.is_empty() || !header.notes.is_empty()) {
            None => out.write_all(b"/>\n")?,
            Some(header) => {
                out.write_all(b">\n")?;
                write_notes(&mut out, "    ", &header.notes, "\n")?;
                let props = header
                    .props
                    .iter()
                    .map(|prop| (prop.kind.as_str(), prop.value.as_str()));
                write_props(&mut out, "    ", props, "\n")?;
                out.write_all(b"  </header>\n")?;
            }
        }
        out.write_all(b"  <body>\n")?;
        Ok(TmxWriter { out })
    }

    pub fn write_unit(&mut self, unit: &Unit) -> std::io::Result<()> {
        let out = &mut self.out;
        let tuid = unit.tuid.clone().unwrap_or_else(|| unit.id.to_string());
        write!(
            out,
            "    <tu tuid=\"{}\" creationdate=\"{}\" changedate=\"{}\"",
            escape(&tuid),
            format_tmx_date(unit.created_at),
            format_tmx_date(unit.updated_at),
        )?;
        if let Some(author) = &unit.author {
            write!(out, " creationid=\"{}\"", escape(author))?;
        }
        if let Some(changed_by) = &unit.changed_by {
            write!(out, " changeid=\"{}\"", escape(changed_by))?;
        }
        if let Some(count) = unit.usage_count {
            write!(out, " usagecount=\"{count}\"")?;
        }
        if let Some(last_used) = unit.last_used_at {
            write!(out, " lastusagedate=\"{}\"", format_tmx_date(last_used))?;
        }
        write_allowed_attributes(out, &unit.tmx_attributes, &TU_ATTRIBUTES)?;
        out.write_all(b">\n")?;
        write_notes(out, "      ", &unit.notes, "\n")?;
        let mut props: Vec<(&str, &str)> = vec![
            (PROP_COLLECTION, unit.collection.as_str()),
            (PROP_STATUS, unit.status.as_str()),
            (PROP_ORIGIN, unit.origin.as_str()),
        ];
        if let Some(document) = &unit.document {
            props.push((PROP_DOCUMENT, document));
        }
        props.extend(
            unit.props
                .iter()
                .map(|prop| (prop.kind.as_str(), prop.value.as_str())),
        );
        write_props(out, "      ", props, "\n")?;
        for variant in &unit.variants {
            let seg = match &variant.markup {
                // Imported inline codes go back exactly as they came.
                Some(markup) => std::borrow::Cow::Borrowed(markup.as_str()),
                None => escape(&variant.text),
            };
            write!(out, "      <tuv xml:lang=\"{}\"", escape(&variant.lang))?;
            write_allowed_attributes(out, &variant.tmx_attributes, &TUV_ATTRIBUTES)?;
            out.write_all(b">")?;
            write_notes(out, "", &variant.notes, "")?;
            let props = variant
                .props
                .iter()
                .map(|prop| (prop.kind.as_str(), prop.value.as_str()));
            write_props(out, "", props, "")?;
            writeln!(out, "<seg>{seg}</seg></tuv>")?;
        }
        out.write_all(b"    </tu>\n")
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(b"  </body>\n</tmx>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_header_is_kept_with_its_notes_and_props() {
        let document = r#"<tmx version="1.4"><header creationtool="t" creationtoolversion="1" segtype="block" o-tmf="x" adminlang="en" srclang="zh-CN" datatype="html" bogus="dropped"><note>desk</note><prop type="x-client">MFA</prop></header><body/></tmx>"#;
        let (parsed, _) = read(
            document.as_bytes(),
            &ImportOptions::for_tests(1000),
            Parsed::default(),
        )
        .unwrap_or_else(|_| panic!("reads"));
        let header = parsed.header.expect("a header");
        assert_eq!(header.notes, ["desk"]);
        assert_eq!(header.props[0].kind, "x-client");
        let names: Vec<&str> = header.attributes.iter().map(|a| a.kind.as_str()).collect();
        assert!(
            names.contains(&"segtype") && !names.contains(&"bogus"),
            "{names:?}"
        );
    }

    #[test]
    fn tmx_dates_round_trip() {
        let millis = parse_tmx_date("20241107T122621Z").unwrap();
        assert_eq!(format_tmx_date(millis), "20241107T122621Z");
    }
}

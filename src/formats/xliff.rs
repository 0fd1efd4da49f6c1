//! XLIFF 1.2 and 2.0 bilingual files, as Trados, memoQ, OmegaT and Okapi write them: the
//! translated segments become units.
//!
//! Only segments in an accepted state are imported: by default `final`, `signed-off` and
//! `translated` (and `approved="yes"`) in XLIFF 1.2, `final` in 2.0; a caller can pass its own
//! list, where `none` stands for a target without a state. Inline codes (`ph`, `bpt`, `ept`,
//! `it`, `x`, `bx`, `ex`, `g`, `sc`, `ec`, `pc`) are left out of the text and kept as TMX
//! inline markup on the variant (a `g` or `pc` becomes a `bpt`/`ept` pair around its text), so
//! they are shown as placeholders and written to TMX exports; `mrk` annotations are dropped,
//! their text kept.

use std::io::BufRead;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::xml::{locate_offsets, next_event, open_decoded, resolve_reference, XmlError};
use super::{pair_problem, FormatError, ImportOptions, Parsed, Skipped};
use crate::tm::NewUnit;

/// States imported when the caller does not say.
pub const DEFAULT_STATES_1_2: [&str; 3] = ["final", "signed-off", "translated"];
pub const DEFAULT_STATES_2_0: [&str; 1] = ["final"];

/// A source or target being read: its plain text and the same content as TMX inline markup.
#[derive(Default)]
struct Content {
    text: String,
    markup: String,
    has_codes: bool,
    /// Numbers given to codes, one sequence per segment side: TMX `i` of pairs, `x` of others.
    last_number: u32,
    /// Numbers of the `g`/`pc` elements open around the current position.
    open_spans: Vec<u32>,
    /// XLIFF id (or `rid`/`startRef`) of an opening code → its number, to pair the closing one.
    pair_numbers: std::collections::HashMap<String, u32>,
    /// The code element whose native content is being read: its TMX start tag, end tag and
    /// the content so far.
    native: Option<(String, &'static str, String)>,
    /// Elements open inside that native content (`sub`).
    native_depth: usize,
    /// The pair number of the XLIFF 1.2 `bpt` whose native content is being read.
    native_pair: Option<u32>,
    /// Opening codes written as `<bpt>` whose closing code has not come yet: number → byte
    /// offsets of the `<bpt …>` tag and of its `</bpt>` in `markup`.
    unclosed_bpts: std::collections::HashMap<u32, (usize, usize)>,
}

impl Content {
    fn next_number(&mut self) -> u32 {
        self.last_number += 1;
        self.last_number
    }

    fn push_text(&mut self, text: &str) {
        match &mut self.native {
            Some((_, _, native)) => native.push_str(text),
            None => {
                self.text.push_str(text);
                self.markup
                    .push_str(&quick_xml::escape::partial_escape(text));
            }
        }
    }

    /// Writes one TMX inline code holding `native` (escaped); returns the byte offsets of its
    /// start tag and of its end tag in `markup`.
    fn push_code(&mut self, start_tag: &str, end_tag: &str, native: &str) -> (usize, usize) {
        self.has_codes = true;
        let start = self.markup.len();
        self.markup.push_str(start_tag);
        self.markup
            .push_str(&quick_xml::escape::partial_escape(native));
        let end = self.markup.len();
        self.markup.push_str(end_tag);
        (start, end)
    }

    /// The number pairing an XLIFF opening code `id` with its closing code.
    fn open_pair(&mut self, id: Option<String>) -> u32 {
        let number = self.next_number();
        if let Some(id) = id {
            self.pair_numbers.insert(id, number);
        }
        number
    }

    fn close_pair(&mut self, id: Option<String>) -> Option<u32> {
        let number = id.and_then(|id| self.pair_numbers.remove(&id))?;
        self.unclosed_bpts.remove(&number);
        Some(number)
    }

    /// An XLIFF code element starts (or is empty). Returns false for elements that are not codes.
    fn start_code(&mut self, name: &str, element: &BytesStart, is_empty: bool) -> bool {
        let id = attribute(element, "id");
        let native_tag = |closing: bool| match (&id, closing) {
            (Some(id), false) => format!("<{name} id=\"{id}\"{}>", if is_empty { "/" } else { "" }),
            (None, false) => format!("<{name}{}>", if is_empty { "/" } else { "" }),
            (_, true) => format!("</{name}>"),
        };
        match name {
            // Spans whose text is translatable: a bpt/ept pair around it.
            "g" | "pc" if !is_empty => {
                let number = self.next_number();
                self.open_spans.push(number);
                self.push_code(
                    &format!("<bpt i=\"{number}\">"),
                    "</bpt>",
                    &native_tag(false),
                );
            }
            "g" | "pc" | "x" => {
                let number = self.next_number();
                self.push_code(&format!("<ph x=\"{number}\">"), "</ph>", &native_tag(false));
            }
            "bx" => {
                let number = self.next_number();
                self.push_code(
                    &format!("<it pos=\"begin\" x=\"{number}\">"),
                    "</it>",
                    &native_tag(false),
                );
            }
            "ex" => {
                let number = self.next_number();
                self.push_code(
                    &format!("<it pos=\"end\" x=\"{number}\">"),
                    "</it>",
                    &native_tag(false),
                );
            }
            // XLIFF 2.0 standalone and paired codes, always empty.
            "ph" if is_empty => {
                let number = self.next_number();
                self.push_code(&format!("<ph x=\"{number}\">"), "</ph>", &native_tag(false));
            }
            "sc" => {
                let isolated = attribute(element, "isolated").as_deref() == Some("yes");
                let number = self.open_pair(id.clone());
                let tag = if isolated {
                    format!("<it pos=\"begin\" x=\"{number}\">")
                } else {
                    format!("<bpt i=\"{number}\">")
                };
                let end = if isolated { "</it>" } else { "</bpt>" };
                let offsets = self.push_code(&tag, end, &native_tag(false));
                if !isolated {
                    self.unclosed_bpts.insert(number, offsets);
                }
            }
            "ec" => {
                let paired = self.close_pair(attribute(element, "startRef"));
                let (tag, end) = match paired {
                    Some(number) => (format!("<ept i=\"{number}\">"), "</ept>"),
                    None => {
                        let number = self.next_number();
                        (format!("<it pos=\"end\" x=\"{number}\">"), "</it>")
                    }
                };
                self.push_code(&tag, end, &native_tag(false));
            }
            // XLIFF 1.2 codes whose content is the native markup.
            "bpt" | "ept" | "ph" | "it" => {
                let pair_id = attribute(element, "rid").or(id);
                let (tag, end) = match name {
                    "bpt" => {
                        let number = self.open_pair(pair_id);
                        self.native_pair = Some(number);
                        (format!("<bpt i=\"{number}\">"), "</bpt>")
                    }
                    "ept" => match self.close_pair(pair_id) {
                        Some(number) => (format!("<ept i=\"{number}\">"), "</ept>"),
                        None => {
                            let number = self.next_number();
                            (format!("<it pos=\"end\" x=\"{number}\">"), "</it>")
                        }
                    },
                    "it" => {
                        let number = self.next_number();
                        let position = match attribute(element, "pos").as_deref() {
                            Some("close") => "end",
                            _ => "begin",
                        };
                        (format!("<it pos=\"{position}\" x=\"{number}\">"), "</it>")
                    }
                    _ => {
                        let number = self.next_number();
                        (format!("<ph x=\"{number}\">"), "</ph>")
                    }
                };
                if is_empty {
                    let offsets = self.push_code(&tag, end, "");
                    if let Some(number) = self.native_pair.take() {
                        self.unclosed_bpts.insert(number, offsets);
                    }
                } else {
                    self.native = Some((tag, end, String::new()));
                }
            }
            _ => return false,
        }
        true
    }

    /// An XLIFF element ends inside a source or target.
    fn end_element(&mut self, name: &str) {
        match name {
            "g" | "pc" => {
                if let Some(number) = self.open_spans.pop() {
                    self.push_code(
                        &format!("<ept i=\"{number}\">"),
                        "</ept>",
                        &format!("</{name}>"),
                    );
                }
            }
            "bpt" | "ept" | "ph" | "it" => {
                if let Some((tag, end, native)) = self.native.take() {
                    let offsets = self.push_code(&tag, end, &native);
                    if let Some(number) = self.native_pair.take() {
                        self.unclosed_bpts.insert(number, offsets);
                    }
                }
            }
            _ => {}
        }
    }

    /// The TMX markup, when the content had codes. An opening code whose closing code is not
    /// in this segment (XLIFF 2.0 lets `sc` and `ec` sit in different segments of a unit)
    /// becomes an isolated `it`: TMX requires a `bpt` and its `ept` in one segment.
    fn into_parts(mut self) -> (String, Option<String>) {
        // One pass over the markup, however many codes are left open.
        let mut unclosed: Vec<(usize, usize, u32)> = self
            .unclosed_bpts
            .iter()
            .map(|(&number, &(start, end))| (start, end, number))
            .collect();
        if !unclosed.is_empty() {
            unclosed.sort_unstable();
            let mut rewritten = String::with_capacity(self.markup.len() + 16 * unclosed.len());
            let mut copied = 0;
            for (start, end, number) in unclosed {
                let content_start = start + format!("<bpt i=\"{number}\">").len();
                rewritten.push_str(&self.markup[copied..start]);
                rewritten.push_str(&format!("<it pos=\"begin\" x=\"{number}\">"));
                rewritten.push_str(&self.markup[content_start..end]);
                rewritten.push_str("</it>");
                copied = end + "</bpt>".len();
            }
            rewritten.push_str(&self.markup[copied..]);
            self.markup = rewritten;
        }
        let markup = self.has_codes.then(|| self.markup.trim().to_owned());
        (self.text, markup)
    }
}

/// Reads an XLIFF file. `states`: the accepted target states (`None`: the version's default).
pub fn read_file(
    path: &Path,
    options: &ImportOptions,
    states: Option<&[String]>,
    parsed: Parsed,
) -> Result<Parsed, FormatError> {
    let input = open_decoded(path)?;
    match read(input, options, states, parsed) {
        Ok((mut parsed, offsets)) => {
            let lines = locate_offsets(path, &offsets)?;
            for (skipped, (line, _)) in parsed.skipped.iter_mut().zip(lines) {
                skipped.at = format!("{} (line {line})", skipped.at);
            }
            Ok(parsed)
        }
        Err(error) => Err(error.located(path)),
    }
}

fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    element.attributes().flatten().find_map(|attribute| {
        (attribute.key.0 == name).then(|| {
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|value| value.into_owned())
                .unwrap_or_default()
        })
    })
}

/// The segment being read.
#[derive(Default)]
struct Segment {
    id: String,
    offset: u64,
    source: Option<(String, Option<String>)>,
    target: Option<(String, Option<String>)>,
    state: Option<String>,
    approved: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Source,
    Target,
}

fn read<R: BufRead>(
    input: R,
    options: &ImportOptions,
    states: Option<&[String]>,
    mut parsed: Parsed,
) -> Result<(Parsed, Vec<u64>), XmlError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    let mut depth = 0;
    let mut version_2 = false;
    let mut saw_root = false;
    let mut source_lang: Option<String> = None;
    let mut target_lang: Option<String> = None;
    let mut segment: Option<Segment> = None;
    let mut unit_id = String::new();
    let mut reading: Option<(Side, Content)> = None;
    let mut skipped_offsets = Vec::new();

    loop {
        let offset = reader.buffer_position();
        let event = next_event(&mut reader, &mut buffer, &mut depth)?;
        match event {
            Event::Eof => break,
            Event::Start(ref element) | Event::Empty(ref element) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = element.local_name();
                let name: &str = local.as_ref();
                if !saw_root {
                    if name != "xliff" {
                        return Err(XmlError::Syntax {
                            offset,
                            message: format!("the root element is <{name}>, not <xliff>"),
                        });
                    }
                    saw_root = true;
                    version_2 = attribute(element, "version")
                        .is_some_and(|version| version.starts_with('2'));
                    if version_2 {
                        source_lang = attribute(element, "srcLang");
                        target_lang = attribute(element, "trgLang");
                    }
                    continue;
                }
                match name {
                    "file" if !version_2 => {
                        source_lang = attribute(element, "source-language");
                        target_lang = attribute(element, "target-language").or(target_lang);
                    }
                    "trans-unit" if !version_2 => {
                        segment = Some(Segment {
                            id: attribute(element, "id").unwrap_or_default(),
                            offset,
                            approved: attribute(element, "approved").as_deref() == Some("yes"),
                            ..Segment::default()
                        });
                    }
                    "unit" if version_2 => unit_id = attribute(element, "id").unwrap_or_default(),
                    "segment" if version_2 => {
                        let id = attribute(element, "id")
                            .map(|id| format!("{unit_id}/{id}"))
                            .unwrap_or_else(|| unit_id.clone());
                        segment = Some(Segment {
                            id,
                            offset,
                            state: attribute(element, "state"),
                            ..Segment::default()
                        });
                    }
                    "source" if segment.is_some() && !is_empty => {
                        reading = Some((Side::Source, Content::default()))
                    }
                    "target" if segment.is_some() && !is_empty => {
                        if !version_2 {
                            if let Some(current) = segment.as_mut() {
                                current.state = attribute(element, "state");
                            }
                        }
                        reading = Some((Side::Target, Content::default()))
                    }
                    "cp" if reading.is_some() => {
                        // XLIFF 2.0's escape for characters XML cannot carry.
                        let character = attribute(element, "hex")
                            .and_then(|hex| u32::from_str_radix(&hex, 16).ok())
                            .and_then(char::from_u32);
                        if let (Some(character), Some((_, content))) = (character, reading.as_mut())
                        {
                            content.push_text(character.encode_utf8(&mut [0; 4]));
                        }
                    }
                    code if reading.is_some() => {
                        if let Some((_, content)) = reading.as_mut() {
                            // Elements inside a code's native content (`sub`) are native too.
                            if content.native.is_none() {
                                content.start_code(code, element, is_empty);
                            } else if !is_empty {
                                content.native_depth += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(ref text) => {
                if let Some((_, content)) = reading.as_mut() {
                    content.push_text(&text.xml10_content());
                }
            }
            Event::CData(ref data) => {
                if let Some((_, content)) = reading.as_mut() {
                    content.push_text(&data.xml10_content());
                }
            }
            Event::GeneralRef(ref reference) => {
                let resolved = resolve_reference(reference)
                    .map_err(|message| XmlError::Syntax { offset, message })?;
                if let Some((_, content)) = reading.as_mut() {
                    content.push_text(&resolved);
                }
            }
            Event::End(ref element) => {
                let local = element.local_name();
                let name: &str = local.as_ref();
                match name {
                    "source" | "target" if reading.is_some() => {
                        if let (Some((side, content)), Some(current)) =
                            (reading.take(), segment.as_mut())
                        {
                            match side {
                                Side::Source => current.source = Some(content.into_parts()),
                                Side::Target => current.target = Some(content.into_parts()),
                            }
                        }
                    }
                    element if reading.is_some() => {
                        if let Some((_, content)) = reading.as_mut() {
                            if content.native.is_some() && content.native_depth > 0 {
                                content.native_depth -= 1;
                            } else {
                                content.end_element(element);
                            }
                        }
                    }
                    "trans-unit" | "segment" => {
                        if let Some(finished) = segment.take() {
                            let context = Languages {
                                source: source_lang.as_deref(),
                                target: target_lang.as_deref(),
                                version_2,
                            };
                            match finish(finished, &context, options, states) {
                                Ok(unit) => parsed.push(unit).map_err(XmlError::Format)?,
                                Err((offset, skipped)) => {
                                    parsed.skipped.push(skipped);
                                    skipped_offsets.push(offset);
                                }
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
            message: "the file holds no <xliff> element".to_owned(),
        });
    }
    Ok((parsed, skipped_offsets))
}

struct Languages<'a> {
    source: Option<&'a str>,
    target: Option<&'a str>,
    version_2: bool,
}

/// The unit for a finished segment, or why it was skipped.
fn finish(
    segment: Segment,
    languages: &Languages,
    options: &ImportOptions,
    states: Option<&[String]>,
) -> Result<NewUnit, (u64, Skipped)> {
    let skip = |message: String| {
        (
            segment.offset,
            Skipped {
                at: format!("segment {}", segment.id),
                message,
            },
        )
    };
    let state = segment.state.clone().unwrap_or_else(|| "none".to_owned());
    let accepted = match states {
        Some(states) => states.contains(&state),
        None if languages.version_2 => DEFAULT_STATES_2_0.contains(&state.as_str()),
        None => segment.approved || DEFAULT_STATES_1_2.contains(&state.as_str()),
    };
    if !accepted {
        return Err(skip(format!(
            "its state `{state}` is not one of the imported states"
        )));
    }
    let (source, source_markup) = segment.source.clone().unwrap_or_default();
    let (target, target_markup) = segment.target.clone().unwrap_or_default();
    let (source, target) = (source.trim(), target.trim());
    if let Some(message) = pair_problem(source, target, options.max_text_chars) {
        return Err(skip(message));
    }
    for (role, file_lang, requested) in [
        ("source", languages.source, &options.source_lang),
        ("target", languages.target, &options.target_lang),
    ] {
        if let Some(file_lang) = file_lang {
            if !crate::lang::compatible(requested, file_lang) {
                return Err(skip(format!(
                    "the file's {role} language is {file_lang}, the import asked for {requested}"
                )));
            }
        }
    }
    if let Some(problem) = [&source_markup, &target_markup]
        .into_iter()
        .flatten()
        .find_map(|markup| super::inline::markup_problem(markup))
    {
        return Err(skip(problem));
    }
    let mut unit = options.pair(source, target);
    unit.variants[0].markup = source_markup;
    unit.variants[1].markup = target_markup;
    if let Some(file_lang) = languages.source {
        unit.variants[0].lang = file_lang.to_owned();
    }
    if let Some(file_lang) = languages.target {
        unit.variants[1].lang = file_lang.to_owned();
    }
    Ok(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ImportOptions {
        ImportOptions::for_tests(1000)
    }

    fn units(document: &str, states: Option<&[String]>) -> (Vec<NewUnit>, Vec<Skipped>) {
        let (parsed, _) = read(document.as_bytes(), &options(), states, Parsed::default())
            .unwrap_or_else(|_| panic!("reads"));
        (parsed.units, parsed.skipped)
    }

    #[test]
    fn xliff_1_2_imports_final_targets_without_inline_codes() {
        let document = r#"<?xml version="1.0"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file source-language="zh-CN" target-language="en-US" datatype="plaintext" original="a.txt">
  <body>
   <trans-unit id="1"><source>会议<g id="1">由</g>区委书记<x id="2"/>主持。</source>
     <target state="final">The meeting was <g id="1">chaired</g> by the Secretary.<ph id="3">&lt;br/&gt;</ph></target></trans-unit>
   <trans-unit id="2"><source>草稿。</source><target state="needs-review-translation">Draft.</target></trans-unit>
   <trans-unit id="3" approved="yes"><source>批准。</source><target>Approved.</target></trans-unit>
  </body>
 </file>
</xliff>"#;
        let (units, skipped) = units(document, None);
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].variants[0].text, "会议由区委书记主持。");
        assert_eq!(
            units[0].variants[1].text,
            "The meeting was chaired by the Secretary."
        );
        assert_eq!(units[0].variants[1].lang, "en-US");
        let tagged = |variant: &crate::tm::Variant| {
            crate::formats::inline::placeholder_text(variant.markup.as_deref().unwrap_or(""))
        };
        assert_eq!(
            tagged(&units[0].variants[0]),
            "会议{1}由{/1}区委书记{2/}主持。"
        );
        assert_eq!(
            tagged(&units[0].variants[1]),
            "The meeting was {1}chaired{/1} by the Secretary.{2/}"
        );
        // The native code travels inside the TMX code element.
        assert!(units[0].variants[1]
            .markup
            .as_deref()
            .unwrap()
            .contains(r#"<ph x="2">&lt;br/&gt;</ph>"#));
        assert_eq!(units[1].variants[0].markup, None);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].message.contains("needs-review-translation"));
        let all = ["needs-review-translation".to_owned(), "final".to_owned()];
        assert_eq!(self::units(document, Some(&all)).0.len(), 2);
    }

    #[test]
    fn xliff_2_0_start_and_end_codes_pair_up_across_text() {
        let document = r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
 <file id="f1"><unit id="u1">
  <segment state="final"><source><sc id="a"/>加粗<ec startRef="a"/>文字<mrk id="m1" type="term">术语</mrk>。</source><target><sc id="a"/>Bold<ec startRef="a"/> text, <mrk id="m1" type="term">term</mrk>.</target></segment>
 </unit></file>
</xliff>"#;
        let (units, _) = units(document, None);
        assert_eq!(units[0].variants[0].text, "加粗文字术语。");
        let markup = units[0].variants[1].markup.as_deref().unwrap();
        assert_eq!(
            crate::formats::inline::placeholder_text(markup),
            "{1}Bold{/1} text, term."
        );
    }

    #[test]
    fn a_start_code_closed_in_another_segment_becomes_an_isolated_code() {
        let document = r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
 <file id="f1"><unit id="u1">
  <segment state="final"><source><sc id="b"/>第一句。</source><target><sc id="b"/>First.</target></segment>
  <segment state="final"><source>第二句。<ec startRef="b"/></source><target>Second.<ec startRef="b"/></target></segment>
 </unit></file>
</xliff>"#;
        let (units, _) = units(document, None);
        let first = units[0].variants[1].markup.as_deref().unwrap();
        assert!(first.starts_with(r#"<it pos="begin" x="1">"#), "{first}");
        assert!(!first.contains("bpt"), "{first}");
        let second = units[1].variants[1].markup.as_deref().unwrap();
        assert!(second.contains(r#"<it pos="end""#), "{second}");
    }

    #[test]
    fn xliff_2_0_imports_final_segments() {
        let document = r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
 <file id="f1"><unit id="u1">
  <segment id="s1" state="final"><source>推进<pc id="1">一带一路</pc>建设<ph id="2"/>。</source><target>Advance the <pc id="1">Belt and Road</pc>.</target></segment>
  <segment id="s2" state="translated"><source>其他。</source><target>Other.</target></segment>
 </unit></file>
</xliff>"#;
        let (units, skipped) = units(document, None);
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].variants[0].text, "推进一带一路建设。");
        assert_eq!(units[0].variants[1].text, "Advance the Belt and Road.");
        assert_eq!(
            crate::formats::inline::placeholder_text(
                units[0].variants[0].markup.as_deref().unwrap()
            ),
            "推进{1}一带一路{/1}建设{2/}。"
        );
        assert_eq!(skipped[0].at, "segment u1/s2");
    }
}

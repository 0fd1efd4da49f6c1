//! A small DTD validator, enough for the TMX 1.4 DTD, so export tests validate against the
//! real DTD file without an external tool: element content models (sequences, choices,
//! `* + ?`, mixed content, EMPTY), required, fixed and enumerated attributes, undeclared
//! elements and attributes. Parameter entities are expanded before parsing. Where `xmllint`
//! is installed the tests run it too.

use std::collections::HashMap;

use quick_xml::events::Event;
use regex::Regex;

struct ElementRule {
    /// Matches the sequence of child element names, each written as `<name>`.
    children: Regex,
    allows_text: bool,
}

struct AttributeRule {
    required: bool,
    fixed: Option<String>,
    choices: Option<Vec<String>>,
}

pub struct Dtd {
    elements: HashMap<String, ElementRule>,
    attributes: HashMap<String, HashMap<String, AttributeRule>>,
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Declarations `<!KEYWORD ... >` of the DTD, in order.
fn declarations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!") {
        let mut in_quote: Option<char> = None;
        let mut end = None;
        for (offset, character) in rest[start..].char_indices() {
            match (in_quote, character) {
                (Some(quote), c) if c == quote => in_quote = None,
                (None, '"') | (None, '\'') => in_quote = Some(character),
                (None, '>') => {
                    end = Some(start + offset);
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("a declaration ends");
        out.push(rest[start + 2..end].trim().to_owned());
        rest = &rest[end + 1..];
    }
    out
}

fn content_model_regex(model: &str) -> (Regex, bool) {
    let model = model.trim();
    if model == "EMPTY" {
        return (Regex::new("^$").unwrap(), false);
    }
    if model == "ANY" {
        return (Regex::new("^.*$").unwrap(), true);
    }
    let allows_text = model.contains("#PCDATA");
    let mut pattern = String::from("^");
    let mut name = String::new();
    let flush = |name: &mut String, pattern: &mut String| {
        if !name.is_empty() {
            if name != "#PCDATA" {
                pattern.push_str(&format!("(?:<{}>)", regex::escape(name)));
            } else {
                pattern.push_str("(?:)");
            }
            name.clear();
        }
    };
    for character in model.chars() {
        match character {
            '(' => {
                flush(&mut name, &mut pattern);
                pattern.push_str("(?:");
            }
            ')' => {
                flush(&mut name, &mut pattern);
                pattern.push(')');
            }
            '|' => {
                flush(&mut name, &mut pattern);
                pattern.push('|');
            }
            ',' => flush(&mut name, &mut pattern),
            '*' | '+' | '?' => {
                flush(&mut name, &mut pattern);
                pattern.push(character);
            }
            c if c.is_whitespace() => flush(&mut name, &mut pattern),
            c => name.push(c),
        }
    }
    flush(&mut name, &mut pattern);
    pattern.push('$');
    (Regex::new(&pattern).unwrap(), allows_text)
}

impl Dtd {
    pub fn parse(text: &str) -> Dtd {
        let text = strip_comments(text);
        let mut parameter_entities: HashMap<String, String> = HashMap::new();
        let mut dtd = Dtd {
            elements: HashMap::new(),
            attributes: HashMap::new(),
        };
        for declaration in declarations(&text) {
            let mut expanded = declaration.clone();
            for (name, value) in &parameter_entities {
                expanded = expanded.replace(&format!("%{name};"), value);
            }
            if let Some(rest) = expanded.strip_prefix("ENTITY") {
                let rest = rest.trim();
                if let Some(parameter) = rest.strip_prefix('%') {
                    let parameter = parameter.trim();
                    let (name, value) = parameter.split_once(char::is_whitespace).unwrap();
                    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                    parameter_entities.insert(name.to_owned(), value.to_owned());
                }
            } else if let Some(rest) = expanded.strip_prefix("ELEMENT") {
                let rest = rest.trim();
                let (name, model) = rest.split_once(char::is_whitespace).unwrap();
                let (children, allows_text) = content_model_regex(model);
                dtd.elements.insert(
                    name.to_owned(),
                    ElementRule {
                        children,
                        allows_text,
                    },
                );
            } else if let Some(rest) = expanded.strip_prefix("ATTLIST") {
                let mut words = tokenize_attlist(rest);
                let element = words.remove(0);
                let rules = dtd.attributes.entry(element).or_default();
                let mut index = 0;
                while index + 2 <= words.len() {
                    let name = words[index].clone();
                    let kind = words[index + 1].clone();
                    let default = words.get(index + 2).cloned().unwrap_or_default();
                    let choices = kind.starts_with('(').then(|| {
                        kind.trim_matches(|c| c == '(' || c == ')')
                            .split('|')
                            .map(|choice| choice.trim().to_owned())
                            .collect()
                    });
                    let (required, fixed, consumed) = match default.as_str() {
                        "#REQUIRED" => (true, None, 3),
                        "#IMPLIED" => (false, None, 3),
                        "#FIXED" => (
                            false,
                            words
                                .get(index + 3)
                                .map(|value| value.trim_matches('"').to_owned()),
                            4,
                        ),
                        _ => (false, None, 3),
                    };
                    rules.insert(
                        name,
                        AttributeRule {
                            required,
                            fixed,
                            choices,
                        },
                    );
                    index += consumed;
                }
            }
        }
        dtd
    }

    /// Validates a document; returns every violation found.
    pub fn validate(&self, document: &str, root: &str) -> Vec<String> {
        let mut errors = Vec::new();
        let mut reader = quick_xml::Reader::from_str(document);
        // (element name, children seen, had text)
        let mut stack: Vec<(String, String, bool)> = Vec::new();
        let mut saw_root = false;
        loop {
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    errors.push(format!("not well-formed: {error}"));
                    break;
                }
            };
            match event {
                Event::Eof => break,
                Event::Start(ref element) | Event::Empty(ref element) => {
                    let name = element.name().0.to_owned();
                    if !saw_root && name != root {
                        errors.push(format!("root element is <{name}>, expected <{root}>"));
                    }
                    saw_root = true;
                    if let Some(parent) = stack.last_mut() {
                        parent.1.push_str(&format!("<{name}>"));
                    }
                    if !self.elements.contains_key(&name) {
                        errors.push(format!("element <{name}> is not declared"));
                    }
                    let rules = self.attributes.get(&name);
                    let mut present = HashMap::new();
                    for attribute in element.attributes() {
                        let attribute = attribute.unwrap();
                        let key = attribute.key.0.to_owned();
                        let value = attribute
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned();
                        match rules.and_then(|rules| rules.get(&key)) {
                            None => errors.push(format!("<{name}> has undeclared attribute {key}")),
                            Some(rule) => {
                                if let Some(choices) = &rule.choices {
                                    if !choices.contains(&value) {
                                        errors.push(format!(
                                            "<{name} {key}=\"{value}\"> is not one of {choices:?}"
                                        ));
                                    }
                                }
                                if let Some(fixed) = &rule.fixed {
                                    if &value != fixed {
                                        errors.push(format!("<{name} {key}> must be {fixed}"));
                                    }
                                }
                            }
                        }
                        present.insert(key, value);
                    }
                    if let Some(rules) = rules {
                        for (key, rule) in rules {
                            if rule.required && !present.contains_key(key) {
                                errors.push(format!("<{name}> lacks required attribute {key}"));
                            }
                        }
                    }
                    if matches!(event, Event::Start(_)) {
                        stack.push((name, String::new(), false));
                    } else {
                        self.check_children(&name, "", false, &mut errors);
                    }
                }
                Event::End(_) => {
                    let (name, children, had_text) = stack.pop().unwrap();
                    self.check_children(&name, &children, had_text, &mut errors);
                }
                Event::Text(ref text) if !text.xml10_content().trim().is_empty() => {
                    if let Some(current) = stack.last_mut() {
                        current.2 = true;
                    }
                }
                Event::GeneralRef(_) | Event::CData(_) => {
                    if let Some(current) = stack.last_mut() {
                        current.2 = true;
                    }
                }
                _ => {}
            }
        }
        errors
    }

    fn check_children(&self, name: &str, children: &str, had_text: bool, errors: &mut Vec<String>) {
        let Some(rule) = self.elements.get(name) else {
            return;
        };
        if !rule.children.is_match(children) {
            errors.push(format!(
                "<{name}> has children {children:?}, not allowed by the DTD"
            ));
        }
        if had_text && !rule.allows_text {
            errors.push(format!(
                "<{name}> holds text but its content model has no #PCDATA"
            ));
        }
    }
}

fn tokenize_attlist(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    let mut in_quote = false;
    for character in text.chars() {
        match character {
            '"' => {
                in_quote = !in_quote;
                current.push(character);
            }
            '(' if !in_quote => {
                depth += 1;
                current.push(character);
            }
            ')' if !in_quote => {
                depth -= 1;
                current.push(character);
            }
            c if c.is_whitespace() && depth == 0 && !in_quote => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() => {}
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Validates a TMX document against the shared TMX 1.4 DTD (and with xmllint, if present).
pub fn assert_valid_tmx(document: &str) {
    let dtd_path = super::shared().join("data/formats/schemas/tmx14.dtd");
    let dtd = Dtd::parse(&std::fs::read_to_string(&dtd_path).unwrap());
    let errors = dtd.validate(document, "tmx");
    assert!(errors.is_empty(), "export does not validate: {errors:#?}");
    if let Ok(output) = std::process::Command::new("xmllint")
        .args(["--noout", "--dtdvalid"])
        .arg(&dtd_path)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(document.as_bytes())?;
            child.wait_with_output()
        })
    {
        assert!(
            output.status.success(),
            "xmllint rejects the export: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_validator_rejects_what_the_dtd_forbids() {
    let dtd_path = super::shared().join("data/formats/schemas/tmx14.dtd");
    let dtd = Dtd::parse(&std::fs::read_to_string(dtd_path).unwrap());
    let good = r#"<tmx version="1.4"><header creationtool="t" creationtoolversion="1" segtype="sentence" o-tmf="x" adminlang="en" srclang="en" datatype="plaintext"/><body><tu><prop type="a">b</prop><tuv xml:lang="en"><seg>hi</seg></tuv></tu></body></tmx>"#;
    assert_eq!(dtd.validate(good, "tmx"), Vec::<String>::new());
    let bad_order = good.replace(
        r#"<prop type="a">b</prop><tuv xml:lang="en"><seg>hi</seg></tuv>"#,
        r#"<tuv xml:lang="en"><seg>hi</seg></tuv><prop type="a">b</prop>"#,
    );
    assert!(!dtd.validate(&bad_order, "tmx").is_empty());
    let bad_segtype = good.replace("sentence", "chapter");
    assert!(!dtd.validate(&bad_segtype, "tmx").is_empty());
    let missing_lang = good.replace(r#" xml:lang="en""#, "");
    assert!(!dtd.validate(&missing_lang, "tmx").is_empty());
    let undeclared = good.replace("<seg>hi</seg>", "<seg>hi<b>x</b></seg>");
    assert!(!dtd.validate(&undeclared, "tmx").is_empty());
}

//! The translation unit: aligned text in two or more languages plus its metadata.

use serde::{Deserialize, Serialize};

/// Text of one language in a unit. `lang` is the BCP 47 tag as given (`zh-CN`, `en-GB`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Variant {
    pub lang: String,
    /// Plain text: what is scored, indexed and shown. Inline codes are left out of it.
    pub text: String,
    /// The segment's inner markup as imported (TMX `bpt`, `ept`, `ph`, `it`, `hi`, `ut`,
    /// `sub`), when it had inline codes: written back unchanged on export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup: Option<String>,
    /// TMX `prop`s and `note`s of this language's `tuv`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Prop>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The TMX `tuv`'s attributes other than its language (dates, ids, usage count…), as
    /// imported, written back on export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmx_attributes: Vec<Prop>,
}

impl Variant {
    /// Text without inline codes or TMX metadata.
    pub fn plain(lang: &str, text: &str) -> Variant {
        Variant {
            lang: lang.to_owned(),
            text: text.to_owned(),
            ..Variant::default()
        }
    }
}

/// Review state of a unit: approved translations are preferred over drafts on equal score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Approved,
    Draft,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Approved => "approved",
            Status::Draft => "draft",
        }
    }
}

/// Where a unit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    #[default]
    Human,
    Import,
    Mt,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Human => "human",
            Origin::Import => "import",
            Origin::Mt => "mt",
        }
    }
}

/// A TMX `prop`: typed free-form metadata kept as imported and written back on export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Prop {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// The header of a TMX file imported into a collection (its attributes other than the
/// creating tool and date, its `prop`s and `note`s), written back when that collection is
/// exported. Kept in the index's commit payload, so it lands with the import's commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHeader {
    #[serde(default)]
    pub attributes: Vec<Prop>,
    #[serde(default)]
    pub props: Vec<Prop>,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A stored translation unit. Serialized with MessagePack (named fields, so new optional
/// fields can be added without rewriting the index) into the index's stored `unit` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    /// Stable id, never reused, independent of Tantivy's document addresses.
    pub id: u64,
    pub variants: Vec<Variant>,
    pub collection: String,
    #[serde(default)]
    pub document: Option<String>,
    /// Who created the unit (TMX `creationid`).
    #[serde(default)]
    pub author: Option<String>,
    /// Who changed it last (TMX `changeid`).
    #[serde(default)]
    pub changed_by: Option<String>,
    pub status: Status,
    pub origin: Origin,
    /// Milliseconds since the Unix epoch, UTC.
    pub created_at: i64,
    pub updated_at: i64,
    /// TMX `tuid`, kept for round trips.
    #[serde(default)]
    pub tuid: Option<String>,
    #[serde(default)]
    pub props: Vec<Prop>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// How often the unit was used, as the tool that exported it counted (TMX `usagecount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_count: Option<u64>,
    /// When it was last used (TMX `lastusagedate`), milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    /// The TMX `tu`'s other attributes (`datatype`, `segtype`, `o-tmf`…), as imported,
    /// written back on export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmx_attributes: Vec<Prop>,
}

impl Unit {
    /// The variants whose tag falls under `requested` (see [`crate::lang::matches`]).
    pub fn variants_in<'a>(&'a self, requested: &'a str) -> impl Iterator<Item = &'a Variant> {
        self.variants
            .iter()
            .filter(move |variant| crate::lang::matches(requested, &variant.lang))
    }

    /// The first variant under `requested`, if any.
    pub fn variant_in<'a>(&'a self, requested: &'a str) -> Option<&'a Variant> {
        self.variants_in(requested).next()
    }

    /// Identity of the unit's content for duplicate detection: the same languages with the
    /// same texts in the same collection, whatever the other metadata.
    pub fn content_key(&self) -> u128 {
        content_key(&self.variants, &self.collection)
    }
}

/// A unit as submitted, before the store gives it an id and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    pub variants: Vec<Variant>,
    pub collection: String,
    pub document: Option<String>,
    pub author: Option<String>,
    pub status: Status,
    pub origin: Origin,
    /// Times carried over from an imported file; `None` means "now".
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub changed_by: Option<String>,
    pub tuid: Option<String>,
    pub props: Vec<Prop>,
    pub notes: Vec<String>,
    pub usage_count: Option<u64>,
    pub last_used_at: Option<i64>,
    pub tmx_attributes: Vec<Prop>,
}

impl NewUnit {
    /// A plain bilingual pair with default metadata.
    pub fn pair(source_lang: &str, source: &str, target_lang: &str, target: &str) -> Self {
        NewUnit {
            variants: vec![
                Variant::plain(source_lang, source),
                Variant::plain(target_lang, target),
            ],
            collection: crate::tm::DEFAULT_COLLECTION.to_owned(),
            document: None,
            author: None,
            status: Status::Approved,
            origin: Origin::Human,
            created_at: None,
            updated_at: None,
            changed_by: None,
            tuid: None,
            props: Vec::new(),
            notes: Vec::new(),
            usage_count: None,
            last_used_at: None,
            tmx_attributes: Vec::new(),
        }
    }

    pub fn content_key(&self) -> u128 {
        content_key(&self.variants, &self.collection)
    }

    pub fn into_unit(self, id: u64, now_millis: i64) -> Unit {
        let created_at = self.created_at.unwrap_or(now_millis);
        Unit {
            id,
            variants: self.variants,
            collection: self.collection,
            document: self.document,
            author: self.author,
            changed_by: self.changed_by,
            status: self.status,
            origin: self.origin,
            created_at,
            updated_at: self.updated_at.unwrap_or(created_at),
            tuid: self.tuid,
            props: self.props,
            notes: self.notes,
            usage_count: self.usage_count,
            last_used_at: self.last_used_at,
            tmx_attributes: self.tmx_attributes,
        }
    }
}

/// Exact identity of a set of variants in a collection: language tags compared
/// case-insensitively, texts byte for byte, order of the variants irrelevant. Collections are
/// separate memories, so the same pair in two collections is two units. Hashed for the
/// index's `content` term; the store still compares the variants themselves before calling two
/// units the same.
fn content_key(variants: &[Variant], collection: &str) -> u128 {
    let mut parts: Vec<(String, &str)> = variants
        .iter()
        .map(|variant| (variant.lang.to_ascii_lowercase(), variant.text.as_str()))
        .collect();
    parts.sort();
    let mut joined = String::new();
    joined.push_str(collection);
    joined.push('\u{0}');
    for (lang, text) in parts {
        joined.push_str(&lang);
        joined.push('\u{0}');
        joined.push_str(text);
        joined.push('\u{0}');
    }
    xxhash_rust::xxh3::xxh3_128(joined.as_bytes())
}

/// Are two variant lists the same content (see [`content_key`])?
pub fn same_content(left: &[Variant], right: &[Variant]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let normalize = |variants: &[Variant]| {
        let mut parts: Vec<(String, String)> = variants
            .iter()
            .map(|variant| (variant.lang.to_ascii_lowercase(), variant.text.clone()))
            .collect();
        parts.sort();
        parts
    };
    normalize(left) == normalize(right)
}

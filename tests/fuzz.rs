//! Fuzzing the parsers: every reader of client input (TMX, TBX, XLIFF, TSV, CSV/TSV tables,
//! JSON and MessagePack request bodies, inline-code placeholders) is fed mutated input and
//! must answer `Ok` or `Err`: never panic, never hang, never take time or memory out of
//! proportion to its input.
//!
//! # How
//!
//! * **Mutation fuzzing with proptest, in process.** A case is a seed plus up to six random
//!   edits: flipped or replaced bytes, random bytes, tokens that hurt parsers (`&#0;`,
//!   `&#x110000;`, `]]>`, an entity-defining DOCTYPE, BOMs, UTF-16 surrogates, NUL, element
//!   tags of the format, JSON escapes, MessagePack length prefixes claiming 4 GiB…), deleted
//!   or duplicated slices, a truncation, a deep nesting (up to 160 levels, past
//!   `MAX_XML_DEPTH`), a long value (up to 100 kB) or the whole input re-encoded as UTF-16.
//!   Shrinking reduces a failure to the seed and the few edits that cause it, printed as
//!   `minimal failing input`. Each test prints how many inputs were accepted and refused.
//! * **Seeds.** TMX and TBX: the real files under `../shared/data/formats/{tmx,tbx}` (UTF-16,
//!   BOMs, legacy encodings, inline codes, broken files), read in place: they are the corpus
//!   and are not copied here. XLIFF 1.2/2.0, TSV, CSV, JSON and MessagePack seeds are small
//!   documents written inline below.
//! * **The path the server uses.** Files go through `formats::read_pairs_file` (the import
//!   endpoint's entry point) and `tbx::read_file`, from a temporary file; bodies go through
//!   the `api::wire::Payload` extractor into the real request types (`LookupRequest`,
//!   `AddRequest`, …). A rejected body must be a 4xx with a `{"error":{"code","message"}}`
//!   body; a refused file must be a syntax error at a line inside the file (an I/O error
//!   would be answered 500); every unit a reader returns must be storable (non-empty, within
//!   the length limit, XML-safe), and its inline markup, which TMX export writes back as it
//!   is, well-formed XML.
//! * **The real server.** `server_answers_fuzzed_bodies_with_2xx_or_4xx` sends mutated JSON
//!   and MessagePack bodies to the running binary: never a 5xx, never a dropped connection,
//!   and `/health` still answers afterwards.
//! * **Hangs.** Each parse runs on its own thread and fails the case after `CASE_TIME_LIMIT`.
//! * **Time and memory.** `pathological_inputs_finish_in_bounded_time_and_memory` builds
//!   inputs made to hurt (200,000 nested elements, a 4 MB attribute, a million unclosed
//!   `<tu>`s, a 4 MB TSV line, a MessagePack header claiming a 4 GiB string, 200,000 inline
//!   codes in one segment…) at 1 MB and at 4 MB and reads each in a child process (this test
//!   binary running the ignored `pathological_input_worker`) under `ulimit -v`, so a runaway
//!   allocation fails there instead of taking the machine. Each read must finish within
//!   `PATHOLOGICAL_TIME_LIMIT`, its time must grow about linearly from 1 MB to 4 MB, and the
//!   peak resident memory (`VmHWM`) must stay under `PATHOLOGICAL_MEMORY_LIMIT_KIB`.
//!
//! # Regressions
//!
//! Fuzzing found six bugs, each now with its own test at the end of this module: quadratic
//! time in the TMX reader (`<bpt>`s open in one segment), the XLIFF reader (unpaired opening
//! codes in one segment) and the TBX reader (`<note>`s of one entry), and inline markup that
//! is not well-formed XML (a control character in a code, a bad attribute list inside
//! `<seg>`, a U+0000 or a non-name character in an attribute name) imported so that the TMX
//! export was not well-formed. A future input that shows a
//! bug goes into `KNOWN_BUGS` with an `#[ignore]`d test of its own until it is fixed.
//!
//! # Running more
//!
//! `ATTACHE_FUZZ_CASES=20000 cargo test --test tests fuzz` runs that many cases in every
//! property test (and sends that many bodies to the server) instead of the defaults, for a
//! long local run. The cases come from a fixed seed, so CI runs the same ones every time and a
//! red run always means the change broke something; `ATTACHE_FUZZ_SEED=<u64>` picks other
//! cases and `ATTACHE_FUZZ_SEED=random` a new seed per test, printed with its result. Nothing
//! is written into the repository (failure persistence is off): a failure prints the seed
//! file and the edits, which reproduce it exactly.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use attache::api::error::ApiError;
use attache::api::segments::{AddRequest, BatchLookupRequest, LookupRequest, UpdateRequest};
use attache::api::terms::{QaRequest, RecognizeRequest};
use attache::api::wire::Payload;
use attache::formats::table::{self, ColumnRole};
use attache::formats::{self, inline, tbx, tmx, Format, FormatError, ImportOptions, Parsed};
use attache::termbase::{EntryInput, EntryPatch, Workflow};
use attache::tm::Status;
use axum::extract::FromRequest;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Value};

use crate::support::{shared, Server};

/// How long one mutated input may take to parse. Seeds are at most 533 kB and a case adds at
/// most a few hundred kB, which every reader handles in milliseconds.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(20);

/// How long one pathological input (a few MB) may take to parse, child process included.
const PATHOLOGICAL_TIME_LIMIT: Duration = Duration::from_secs(30);

/// The peak resident memory a child process parsing one pathological input may reach: the
/// inputs are about 4 MB, so this is some sixty times the input (the readers keep what they
/// read: 200,000 TSV pairs held as units peak at about 140 MB). A reader whose memory grows
/// with anything but its input passes it by far.
const PATHOLOGICAL_MEMORY_LIMIT_KIB: u64 = 256 * 1024;

/// The address space of that child (`ulimit -v`): an allocation of gigabytes fails there
/// (and aborts the child) instead of being granted and left untouched, which resident
/// memory alone would not see.
const PATHOLOGICAL_ADDRESS_SPACE_KIB: u64 = 2 * 1024 * 1024;

/// Pathological inputs that show a known bug (none now); each gets its own `#[ignore]`d
/// test, and the bounded-memory test leaves them out until the bug is fixed.
const KNOWN_BUGS: &[&str] = &[];

// -------------------------------------------------------------------------------------------
// Running cases

/// The number of cases a property test runs: `ATTACHE_FUZZ_CASES`, or the test's default.
fn cases(default: u32) -> u32 {
    match std::env::var("ATTACHE_FUZZ_CASES") {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("ATTACHE_FUZZ_CASES={value:?} is not a number")),
        Err(_) => default,
    }
}

/// The seed cases come from: fixed unless `ATTACHE_FUZZ_SEED` names one or asks for a
/// `random` one. A random seed found the sixth bug (a U+0000 in an attribute name) on an
/// unrelated change's CI run; exploring belongs in long local runs, not in CI.
fn rng_seed() -> u64 {
    const FIXED_SEED: u64 = 20_261_127;
    match std::env::var("ATTACHE_FUZZ_SEED") {
        Err(_) => FIXED_SEED,
        Ok(value) if value.trim() == "random" => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(FIXED_SEED, |since| since.as_nanos() as u64),
        Ok(value) => value.trim().parse().unwrap_or_else(|_| {
            panic!("ATTACHE_FUZZ_SEED={value:?} is neither a number nor \"random\"")
        }),
    }
}

fn config(default_cases: u32, seed: u64) -> Config {
    Config {
        cases: cases(default_cases),
        rng_seed: RngSeed::Fixed(seed),
        // No `proptest-regressions/` files in the repository: a failure prints its input.
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..Config::default()
    }
}

/// Runs `test` on `cases` values of `strategy`, shrinking and printing any failure.
fn fuzz<S>(default_cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: fmt::Debug,
{
    let seed = rng_seed();
    let config = config(default_cases, seed);
    let cases = config.cases;
    let started = Instant::now();
    TALLY.set((0, 0));
    let mut runner = TestRunner::new(config);
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure} (ATTACHE_FUZZ_SEED={seed})");
    }
    let tally = match TALLY.get() {
        (0, 0) => String::new(),
        (accepted, refused) => format!(" ({accepted} inputs accepted, {refused} refused)"),
    };
    eprintln!(
        "fuzz: {cases} cases of {} in {:.1?}{tally}, ATTACHE_FUZZ_SEED={seed}",
        std::thread::current().name().unwrap_or("a test"),
        started.elapsed()
    );
}

thread_local! {
    /// Inputs accepted and refused by the parsers in the current test: a fuzzer whose inputs
    /// are all refused at the first byte would test little.
    static TALLY: std::cell::Cell<(u32, u32)> = const { std::cell::Cell::new((0, 0)) };
}

fn tally(accepted: bool) {
    TALLY.with(|tally| {
        let (yes, no) = tally.get();
        tally.set(if accepted {
            (yes + 1, no)
        } else {
            (yes, no + 1)
        });
    });
}

/// Runs `job` on its own thread; a panic there is raised here, and a job still running after
/// `limit` is a hang.
fn bounded<T: Send + 'static>(limit: Duration, job: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("fuzz-case".into())
        .spawn(move || {
            let value = job();
            let _ = done.send(());
            value
        })
        .expect("a thread for the case");
    match finished.recv_timeout(limit) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("the parser did not return within {limit:?}: it hangs on this input")
        }
    }
}

/// Writes `bytes` to a temporary file and parses it with `parse`, bounded in time.
fn on_file<T: Send + 'static>(
    bytes: &[u8],
    extension: &str,
    parse: impl FnOnce(&Path) -> T + Send + 'static,
) -> T {
    let file = tempfile::Builder::new()
        .prefix("attache-fuzz-")
        .suffix(&format!(".{extension}"))
        .tempfile()
        .expect("a temporary file");
    std::fs::write(file.path(), bytes).expect("the case is written");
    let path = file.path().to_owned();
    bounded(CASE_TIME_LIMIT, move || parse(&path))
}

// -------------------------------------------------------------------------------------------
// Seeds

/// One seed input, shown by its name in failure reports.
struct Seed {
    name: String,
    bytes: Vec<u8>,
}

impl fmt::Debug for Seed {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name)
    }
}

fn seed(name: &str, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        name: name.to_owned(),
        bytes: bytes.into(),
    }
}

fn files_with_extension(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files_with_extension(&path, extension, found);
        } else if path
            .extension()
            .is_some_and(|found| found.eq_ignore_ascii_case(extension))
        {
            found.push(path);
        }
    }
}

/// The real files of `../shared/data/formats/<folder>` with that extension: the corpus.
fn shared_seeds(folder: &str, extension: &str) -> Vec<Seed> {
    let root = shared().join("data/formats");
    let mut paths = Vec::new();
    files_with_extension(&root.join(folder), extension, &mut paths);
    paths.sort();
    assert!(
        paths.len() >= 5,
        "expected the {extension} corpus under {}",
        root.join(folder).display()
    );
    paths
        .iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string();
            seed(&name, std::fs::read(path).expect("a seed file"))
        })
        .collect()
}

fn tmx_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| shared_seeds("tmx", "tmx"))
}

fn tbx_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| shared_seeds("tbx", "tbx"))
}

const XLIFF_1_2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file source-language="zh-CN" target-language="en-US" datatype="plaintext" original="a.txt">
  <body>
   <trans-unit id="1"><source>会议<g id="1">由</g>区委书记<x id="2"/>主持。</source>
     <target state="final">The meeting was <g id="1">chaired</g> by the Secretary.<x id="2"/></target></trans-unit>
   <trans-unit id="2"><source><bpt id="3">&lt;b&gt;</bpt>加粗<ept id="3">&lt;/b&gt;</ept><ph id="4">&lt;br/&gt;</ph>文字</source>
     <target state="translated"><bpt id="3">&lt;b&gt;</bpt>Bold<ept id="3">&lt;/b&gt;</ept><ph id="4">&lt;br/&gt;</ph> text</target></trans-unit>
   <trans-unit id="3" approved="yes"><source><it id="5" pos="open">&lt;i&gt;</it>斜体<bx id="6"/>与<ex id="6"/><mrk mtype="term">术语</mrk></source>
     <target><it id="5" pos="close">&lt;/i&gt;</it>Italic<bx id="6"/> and <ex id="6"/><mrk mtype="term">term</mrk></target></trans-unit>
   <trans-unit id="4"><source>带<ph id="7">&lt;a href="<sub>链接</sub>"&gt;</ph>子流</source>
     <target state="needs-review-translation">With <ph id="7">&lt;a href="<sub>link</sub>"&gt;</ph> a sub flow</target></trans-unit>
   <trans-unit id="5"><source><![CDATA[<CDATA> 文本]]> &amp; &#x4E00; &#19968;</source>
     <target state="signed-off"><![CDATA[<CDATA> text]]> &amp; one</target></trans-unit>
  </body>
 </file>
</xliff>
"#;

const XLIFF_2_0: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh" trgLang="en">
 <file id="f1">
  <unit id="u1">
   <segment id="s1" state="final"><source>推进<pc id="1">一带一路</pc>建设<ph id="2"/>。</source>
     <target>Advance the <pc id="1">Belt and Road</pc>.<ph id="2"/></target></segment>
   <segment id="s2" state="final"><source><sc id="a"/>加粗<ec startRef="a"/>文字<mrk id="m1" type="term">术语</mrk><cp hex="4E00"/>。</source>
     <target><sc id="a"/>Bold<ec startRef="a"/> text <mrk id="m1" type="term">term</mrk><cp hex="1F600"/>.</target></segment>
  </unit>
  <unit id="u2">
   <segment state="final"><source><sc id="b" isolated="yes"/>第一句。</source><target><sc id="b"/>First.</target></segment>
   <segment state="translated"><source>第二句。<ec startRef="b"/></source><target>Second.<ec startRef="b"/></target></segment>
  </unit>
 </file>
</xliff>
"#;

/// `text` as UTF-16 with a BOM, its declaration saying so.
fn utf16_le_with_bom(text: &str) -> Vec<u8> {
    let text = text.replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1);
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

fn xliff_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        vec![
            seed("inline:xliff-1.2", XLIFF_1_2),
            seed("inline:xliff-2.0", XLIFF_2_0),
            seed("inline:xliff-1.2-utf16le-bom", utf16_le_with_bom(XLIFF_1_2)),
        ]
    })
}

fn tsv_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        vec![
            seed(
                "inline:tsv-pairs",
                "\u{feff}会议开始。\tThe meeting began.\r\n\n空\t\n第二句。\t\"Quoted\" second.\n\
                 {1}代码{/1}\t{1}Code{/1}\n",
            ),
            seed("inline:tsv-short", "甲\tA\n乙\tB"),
        ]
    })
}

/// Tables with a header row, for the CSV reader and the TSV reader given `columns`.
fn table_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        vec![
            seed(
                "inline:csv-all-roles",
                "target,source,document,author,collection,status\n\
                 \"Hello, \"\"world\"\"\",你好，世界,doc-1,alice,fuzz,approved\n\
                 \"Two\nlines\",两行,,,,draft\n\
                 x,y,,,,bogus\n",
            ),
            seed(
                "inline:csv-bom-crlf",
                "\u{feff}source,target\r\n甲,A\r\n\"乙,丙\",\"B, C\"\r\n",
            ),
            seed(
                "inline:tsv-table",
                "source\ttarget\tauthor\n会议\tMeeting\talice\n\"两\t行\"\t\"Two\nlines\"\tbob\n",
            ),
        ]
    })
}

/// The request bodies the API decodes, each with the endpoint that takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    Lookup,
    BatchLookup,
    Add,
    Update,
    Recognize,
    Qa,
    Entry,
    EntryPatch,
}

impl Body {
    const ALL: [Body; 8] = [
        Body::Lookup,
        Body::BatchLookup,
        Body::Add,
        Body::Update,
        Body::Recognize,
        Body::Qa,
        Body::Entry,
        Body::EntryPatch,
    ];

    /// Where the real server takes this body by POST (`None`: by PUT or PATCH on an id).
    fn post_path(self) -> Option<&'static str> {
        match self {
            Body::Lookup => Some("/api/v1/lookup"),
            Body::BatchLookup => Some("/api/v1/lookup/batch"),
            Body::Add => Some("/api/v1/segments"),
            Body::Recognize => Some("/api/v1/terms/recognize"),
            Body::Qa => Some("/api/v1/qa"),
            Body::Entry => Some("/api/v1/terms"),
            Body::Update | Body::EntryPatch => None,
        }
    }

    /// Decodes `bytes` through the server's own extractor into this body's type.
    async fn decode(self, content_type: &'static str, bytes: Vec<u8>) -> Result<(), ApiError> {
        async fn into<T: serde::de::DeserializeOwned>(
            content_type: &'static str,
            bytes: Vec<u8>,
        ) -> Result<(), ApiError> {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri("/fuzz")
                .header("content-type", content_type)
                .body(axum::body::Body::from(bytes))
                .expect("a request");
            Payload::<T>::from_request(request, &()).await.map(|_| ())
        }
        match self {
            Body::Lookup => into::<LookupRequest>(content_type, bytes).await,
            Body::BatchLookup => into::<BatchLookupRequest>(content_type, bytes).await,
            Body::Add => into::<AddRequest>(content_type, bytes).await,
            Body::Update => into::<UpdateRequest>(content_type, bytes).await,
            Body::Recognize => into::<RecognizeRequest>(content_type, bytes).await,
            Body::Qa => into::<QaRequest>(content_type, bytes).await,
            Body::Entry => into::<EntryInput>(content_type, bytes).await,
            Body::EntryPatch => into::<EntryPatch>(content_type, bytes).await,
        }
    }
}

/// One valid body of each kind (two for the lookup and the add), as JSON values.
fn body_values() -> Vec<(Body, &'static str, Value)> {
    vec![
        (
            Body::Lookup,
            "lookup",
            json!({"text": "会议{1}开始{/1}。{2/}", "source_lang": "zh", "target_lang": "en",
                   "min_score": 70, "limit": 5, "collections": ["default", "fuzz"],
                   "terms": true, "placeholders": true}),
        ),
        (
            Body::Lookup,
            "lookup-en",
            json!({"text": "The meeting began.", "source_lang": "en", "target_lang": "zh-CN",
                   "min_score": 50.5}),
        ),
        (
            Body::BatchLookup,
            "batch-lookup",
            json!({"texts": ["会议开始。", "第二句{1/}"], "source_lang": "zh", "target_lang": "en",
                   "limit": 3, "min_score": 60, "collections": ["fuzz"], "placeholders": true}),
        ),
        (
            Body::Add,
            "add-one",
            json!({"source_lang": "zh", "target_lang": "en", "source": "会议开始。",
                   "target": "The meeting began.", "collection": "fuzz", "document": "doc-1",
                   "author": "tester", "status": "draft"}),
        ),
        (
            Body::Add,
            "add-many",
            json!({"segments": [
                {"source_lang": "zh", "target_lang": "en", "source": "甲", "target": "A"},
                {"source_lang": "zh", "target_lang": "en", "source": "乙", "target": "B",
                 "status": "approved", "collection": "fuzz"}]}),
        ),
        (
            Body::Update,
            "update",
            json!({"source": "新", "source_lang": "zh", "target": "New", "target_lang": "en",
                   "collection": "fuzz", "status": "approved"}),
        ),
        (
            Body::Recognize,
            "recognize",
            json!({"text": "推进一带一路建设", "lang": "zh", "target_lang": "en"}),
        ),
        (
            Body::Qa,
            "qa",
            json!({"source": "十四五规划", "target": "The 14th Five-Year Plan",
                   "source_lang": "zh", "target_lang": "en"}),
        ),
        (
            Body::Entry,
            "term-entry",
            json!({"subject_field": "diplomacy", "definition": "d", "note": "n", "source": "s",
                   "workflow": "approved", "valid_from": "2025-01-01", "valid_until": "2026-01-01",
                   "terms": [{"lang": "zh", "text": "一带一路", "status": "preferred",
                              "type": "fullForm", "case_sensitive": false},
                             {"lang": "en", "text": "Belt and Road", "part_of_speech": "noun"}],
                   "allow_duplicate": false}),
        ),
        (
            Body::EntryPatch,
            "term-patch",
            json!({"note": "", "workflow": "proposed", "valid_from": "2025-02-30",
                   "terms": [{"lang": "en", "text": "BRI"}]}),
        ),
    ]
}

struct BodySeed {
    body: Body,
    seed: Seed,
}

impl fmt::Debug for BodySeed {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:?} {:?}", self.body, self.seed)
    }
}

fn json_seeds() -> &'static [BodySeed] {
    static SEEDS: OnceLock<Vec<BodySeed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        body_values()
            .into_iter()
            .map(|(body, name, value)| BodySeed {
                body,
                seed: seed(
                    &format!("inline:json-{name}"),
                    serde_json::to_vec(&value).unwrap(),
                ),
            })
            .collect()
    })
}

fn msgpack_seeds() -> &'static [BodySeed] {
    static SEEDS: OnceLock<Vec<BodySeed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds: Vec<BodySeed> = body_values()
            .into_iter()
            .map(|(body, name, value)| BodySeed {
                body,
                seed: seed(
                    &format!("inline:msgpack-{name}"),
                    rmp_serde::to_vec_named(&value).unwrap(),
                ),
            })
            .collect();
        // A struct may also come as an array of its fields, in order (this one is a field
        // short of `LookupRequest` as it grows, which is as good a seed).
        let positional = (
            "会议开始。",
            "zh",
            "en",
            70.0f64,
            5i64,
            vec!["fuzz"],
            true,
            false,
        );
        seeds.push(BodySeed {
            body: Body::Lookup,
            seed: seed(
                "inline:msgpack-lookup-as-array",
                rmp_serde::to_vec(&positional).unwrap(),
            ),
        });
        seeds
    })
}

// -------------------------------------------------------------------------------------------
// Mutations

/// What kind of input a mutation works on: it picks the tokens, the nesting and the long
/// values that mean something there.
#[derive(Clone, Copy, Debug)]
enum Dialect {
    Xml,
    Text,
    Json,
    MsgPack,
}

#[rustfmt::skip]
const XML_TOKENS: &[&[u8]] = &[
    b"<", b">", b"/>", b"</", b"&", b";", b"\"", b"'", b"=", b"&amp;", b"&lt;", b"&#0;",
    b"&#1;", b"&#x110000;", b"&#xD800;", b"&#65;", b"&#x1F600;", b"&#-1;", b"&#99999999999;",
    b"&#x;", b"&undefined;", b"&a;", b"]]>", b"<![CDATA[", b"<!--", b"-->", b"<?pi x?>",
    b"<?xml version=\"1.0\"?>", b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>",
    b"<?xml version=\"1.0\" encoding=\"iso-2022-kr\"?>",
    b"<?xml version=\"1.0\" encoding=\"x-bogus\"?>", b"<!DOCTYPE x [<!ENTITY a \"&a;\">]>",
    b"<!DOCTYPE x [<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>&b;",
    b"<!DOCTYPE x SYSTEM \"file:///etc/passwd\">",
    b"<!ENTITY c SYSTEM \"http://127.0.0.1:1/\">&c;", b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF",
    b"\xED\xA0\x80", b"\x00\xD8", b"\x00\xDC\x00\xD8", b"\xF4\x90\x80\x80", b"\xC0\x80",
    b"\xFF", b"\x00", b"\x01", b"\r", b"\n", b"\t",
    // TMX
    b"<tmx version=\"1.4\">", b"<header srclang=\"en\">", b"</header>", b"<body>", b"</body>",
    b"<tu>", b"</tu>",
    b"<tu tuid=\"1\" creationdate=\"20241107T122621Z\" usagecount=\"-1\" segtype=\"bogus\">",
    b"<tu changedate=\"99999999T999999Z\" lastusagedate=\"\">", b"<tuv xml:lang=\"en\">",
    b"<tuv lang=\"fr\">", b"<tuv xml:lang=\"zh\">", b"<tuv xml:lang=\"\">", b"</tuv>", b"<seg>",
    b"</seg>", b"<seg/>", b"<bpt i=\"1\">", b"</bpt>", b"<ept i=\"1\">", b"</ept>", b"<bpt>",
    b"<ept i=\"9\">", b"<ph x=\"1\"/>", b"<it pos=\"end\"/>", b"<ut>", b"<hi>", b"<sub>",
    b"</sub>", b"<prop type=\"x-attache-status\">draft</prop>",
    b"<prop type=\"x-attache-origin\">", b"<prop>", b"</prop>", b"<note>", b"</note>",
    // TBX
    b"<tbx>", b"<martif>", b"<conceptEntry>", b"</conceptEntry>", b"<termEntry>",
    b"</termEntry>", b"<langSec xml:lang=\"en\">", b"<langSec>", b"</langSec>",
    b"<langSet lang=\"fr\">", b"<termSec>", b"</termSec>", b"<tig>", b"<ntig>", b"<term>",
    b"</term>", b"<term/>", b"<termNote type=\"administrativeStatus\">",
    b"<termNote type=\"x-attache-caseSensitive\">", b"<termNote type=\"termType\">",
    b"</termNote>", b"<descrip type=\"definition\">", b"<descrip type=\"context\">",
    b"</descrip>", b"<admin type=\"x-attache-workflow\">",
    b"<admin type=\"x-attache-validFrom\">2025-13-45", b"<admin type=\"x-attache-validUntil\">",
    b"</admin>",
    // XLIFF
    b"<xliff version=\"1.2\">", b"<xliff version=\"2.0\">",
    b"<file source-language=\"zh\" target-language=\"en\">", b"<trans-unit id=\"1\">",
    b"</trans-unit>", b"<unit id=\"u\">", b"<segment state=\"final\">", b"</segment>",
    b"<source>", b"</source>", b"<target state=\"final\">", b"</target>", b"<g id=\"1\">",
    b"</g>", b"<x id=\"2\"/>", b"<bx id=\"3\"/>", b"<ex id=\"3\"/>", b"<bpt id=\"4\">",
    b"<ept id=\"4\">", b"<bpt rid=\"4\">", b"<ph id=\"5\">", b"</ph>", b"<ph id=\"5\"/>",
    b"<it pos=\"close\">", b"</it>", b"<pc id=\"6\">", b"</pc>", b"<sc id=\"7\"/>",
    b"<ec startRef=\"7\"/>", b"<sc id=\"7\" isolated=\"yes\"/>", b"<ec/>",
    b"<cp hex=\"FFFFFFFF\"/>", b"<cp hex=\"D800\"/>", b"<cp hex=\"0\"/>", b"<cp/>",
    b"<mrk id=\"m\">", b"</mrk>", b" xml:lang=\"\"", b" id=\"\"", b" i=\"1\" i=\"1\"", b" a=b",
    b" a=\"&#0;\"", b"<bpt i=\"1\">&#1;</bpt>", b"<ph x=\"&#1;\"/>", b"<ph id=\"5\">&#x1;</ph>",
    b"<cp hex=\"1\"/>",
    // Placeholders
    b"{1}", b"{/1}", b"{2/}", b"{999999999}", b"{1234567890}", b"{", b"}",
];

#[rustfmt::skip]
const TEXT_TOKENS: &[&[u8]] = &[
    b"\t", b"\n", b"\r\n", b"\r", b"\"", b"\"\"", b",", b"\xEF\xBB\xBF", b"\xEF\xBF\xBE",
    b"\xFF", b"\xFE\xFF", b"\xED\xA0\x80", b"\xF4\x90\x80\x80", b"\xC0\x80", b"\x00", b"\x01",
    b"\x0B", b"   ", b"source", b"target", b"author", b"document", b"collection", b"status",
    b"-", b"skip", b"approved", b"draft", b"bogus", b"{1}", b"{/1}", b"{2/}",
    b"<seg>&#0;</seg>",
];

#[rustfmt::skip]
const JSON_TOKENS: &[&[u8]] = &[
    b"{", b"}", b"[", b"]", b"\"", b":", b",", b"\\", b"\\u0000", b"\\ud800", b"\\udc00\\ud800",
    b"\\uZZZZ", b"\\u0001", b"null", b"true", b"false", b"-0", b"1e999", b"-1e999", b"NaN",
    b"Infinity", b"18446744073709551616", b"-9223372036854775809", b"0.1e-400", b"100.5", b"-5",
    b"\"text\"", b"\"texts\"", b"\"source\"", b"\"target\"", b"\"source_lang\"",
    b"\"target_lang\"", b"\"limit\"", b"\"min_score\"", b"\"collections\"", b"\"segments\"",
    b"\"terms\"", b"\"status\"", b"\"draft\"", b"\"workflow\"", b"\"valid_from\"",
    b"\"placeholders\"", b"\"x-unknown\"", b"\"\"", b"\"   \"", b"\"zz-qq\"", b"\"en\"",
    b"\xFF", b"\xED\xA0\x80", b"\x00", b"\xEF\xBB\xBF", b"{1}", b"{/1}", b"{2/}", b"//", b"/*",
];

#[rustfmt::skip]
const MSGPACK_TOKENS: &[&[u8]] = &[
    b"\xC0", b"\xC1", b"\xC2", b"\xC3", b"\xCB\x7F\xF8\x00\x00\x00\x00\x00\x00",
    b"\xCB\x7F\xF0\x00\x00\x00\x00\x00\x00", b"\xCA\xFF\xC0\x00\x00",
    b"\xCF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", b"\xD3\x80\x00\x00\x00\x00\x00\x00\x00",
    b"\xDD\xFF\xFF\xFF\xFF", b"\xDF\xFF\xFF\xFF\xFF", b"\xDB\xFF\xFF\xFF\xFF",
    b"\xC6\xFF\xFF\xFF\xFF", b"\xC9\xFF\xFF\xFF\xFF\x01", b"\xD9\xFF", b"\xDE\xFF\xFF",
    b"\xDC\xFF\xFF", b"\x91", b"\x81", b"\x80", b"\x90", b"\xA0", b"\xD6\xFF\x00\x00\x00\x00",
    b"\xD7\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", b"\xA4text", b"\xA5texts", b"\xA6source",
    b"\xABsource_lang", b"\xABtarget_lang", b"\xA5limit", b"\xA8segments", b"\xA6status",
    b"\xA5draft", b"\xA2\xFF\xFE", b"\xA3\xED\xA0\x80", b"\xA1\x00", b"\xA3{1}",
];

impl Dialect {
    fn tokens(self) -> &'static [&'static [u8]] {
        match self {
            Dialect::Xml => XML_TOKENS,
            Dialect::Text => TEXT_TOKENS,
            Dialect::Json => JSON_TOKENS,
            Dialect::MsgPack => MSGPACK_TOKENS,
        }
    }

    /// `depth` levels of nesting, closed again or left open.
    fn nest(self, depth: usize, closed: bool) -> Vec<u8> {
        let (open, close): (&[u8], &[u8]) = match self {
            Dialect::Xml => (b"<n>", b"</n>"),
            Dialect::Text => (b"\"", b"\""),
            Dialect::Json => (b"[", b"]"),
            // An array of one element holding the next; closed by a nil at the bottom.
            Dialect::MsgPack => (b"\x91", b""),
        };
        let mut bytes = open.repeat(depth);
        if closed {
            if matches!(self, Dialect::MsgPack) {
                bytes.push(0xC0);
            }
            bytes.extend(close.repeat(depth));
        }
        bytes
    }

    /// A value `length` bytes long, written as the dialect writes values.
    fn long_value(self, length: usize) -> Vec<u8> {
        let filler = b"x".repeat(length);
        match self {
            Dialect::Xml => [&b" a=\""[..], &filler, b"\""].concat(),
            Dialect::Text => filler,
            Dialect::Json => [&b"\""[..], &filler, b"\""].concat(),
            Dialect::MsgPack => {
                let mut bytes = vec![0xDB];
                bytes.extend((length as u32).to_be_bytes());
                bytes.extend(filler);
                bytes
            }
        }
    }
}

/// Bytes shown as an escaped byte string in failure reports.
#[derive(Clone)]
struct Shown(Vec<u8>);

impl fmt::Debug for Shown {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "b\"{}\"", self.0.escape_ascii())
    }
}

/// One edit of a seed. Positions are `Index`es, scaled to the input's length when applied.
#[derive(Clone, Debug)]
enum Edit {
    FlipBit {
        at: Index,
        bit: u8,
    },
    SetByte {
        at: Index,
        byte: u8,
    },
    Insert {
        at: Index,
        bytes: Shown,
    },
    Delete {
        at: Index,
        length: usize,
    },
    Truncate {
        at: Index,
    },
    Duplicate {
        from: Index,
        length: usize,
        to: Index,
    },
    Nest {
        at: Index,
        depth: usize,
        closed: bool,
    },
    LongValue {
        at: Index,
        length: usize,
    },
    /// Re-encodes the (lossily decoded) input as UTF-16 (XML only).
    ToUtf16 {
        big_endian: bool,
        bom: bool,
    },
}

fn edit(dialect: Dialect) -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Edit::FlipBit { at, bit }),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::SetByte { at, byte }),
        2 => (any::<Index>(), vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert { at, bytes: Shown(bytes) }),
        6 => (any::<Index>(), select(dialect.tokens()))
            .prop_map(|(at, token)| Edit::Insert { at, bytes: Shown(token.to_vec()) }),
        2 => (any::<Index>(), 1..64usize).prop_map(|(at, length)| Edit::Delete { at, length }),
        1 => any::<Index>().prop_map(|at| Edit::Truncate { at }),
        1 => (any::<Index>(), 1..512usize, any::<Index>())
            .prop_map(|(from, length, to)| Edit::Duplicate { from, length, to }),
        1 => (any::<Index>(), 1..=160usize, any::<bool>())
            .prop_map(|(at, depth, closed)| Edit::Nest { at, depth, closed }),
        1 => (any::<Index>(), 1..100_000usize)
            .prop_map(|(at, length)| Edit::LongValue { at, length }),
        1 => (any::<bool>(), any::<bool>())
            .prop_map(|(big_endian, bom)| Edit::ToUtf16 { big_endian, bom }),
    ]
}

fn insert(bytes: &mut Vec<u8>, at: &Index, inserted: &[u8]) {
    let position = at.index(bytes.len() + 1);
    bytes.splice(position..position, inserted.iter().copied());
}

fn apply(dialect: Dialect, mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let length = bytes.len();
        match edit {
            Edit::FlipBit { at, bit } if length > 0 => bytes[at.index(length)] ^= 1 << bit,
            Edit::SetByte { at, byte } if length > 0 => bytes[at.index(length)] = *byte,
            Edit::Insert {
                at,
                bytes: inserted,
            } => insert(&mut bytes, at, &inserted.0),
            Edit::Delete { at, length: count } if length > 0 => {
                let start = at.index(length);
                bytes.drain(start..(start + count).min(length));
            }
            Edit::Truncate { at } => bytes.truncate(at.index(length + 1)),
            Edit::Duplicate {
                from,
                length: count,
                to,
            } if length > 0 => {
                let start = from.index(length);
                let slice = bytes[start..(start + count).min(length)].to_vec();
                insert(&mut bytes, to, &slice);
            }
            Edit::Nest { at, depth, closed } => {
                insert(&mut bytes, at, &dialect.nest(*depth, *closed))
            }
            Edit::LongValue { at, length } => insert(&mut bytes, at, &dialect.long_value(*length)),
            Edit::ToUtf16 { big_endian, bom } if matches!(dialect, Dialect::Xml) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut encoded = Vec::with_capacity(text.len() * 2 + 2);
                if *bom {
                    encoded.extend(if *big_endian {
                        [0xFE, 0xFF]
                    } else {
                        [0xFF, 0xFE]
                    });
                }
                for unit in text.encode_utf16() {
                    encoded.extend(if *big_endian {
                        unit.to_be_bytes()
                    } else {
                        unit.to_le_bytes()
                    });
                }
                bytes = encoded;
            }
            _ => {}
        }
    }
    bytes
}

/// A seed and the edits made to it.
#[derive(Clone, Debug)]
struct Mutated {
    seed: &'static Seed,
    dialect: Dialect,
    edits: Vec<Edit>,
}

impl Mutated {
    fn bytes(&self) -> Vec<u8> {
        apply(self.dialect, self.seed.bytes.clone(), &self.edits)
    }
}

fn mutated(seeds: &'static [Seed], dialect: Dialect) -> impl Strategy<Value = Mutated> {
    let seeds: Vec<&'static Seed> = seeds.iter().collect();
    (select(seeds), vec(edit(dialect), 0..=6)).prop_map(move |(seed, edits)| Mutated {
        seed,
        dialect,
        edits,
    })
}

/// A request body and the edits made to it.
#[derive(Clone, Debug)]
struct MutatedBody {
    seed: &'static BodySeed,
    dialect: Dialect,
    edits: Vec<Edit>,
}

impl MutatedBody {
    fn bytes(&self) -> Vec<u8> {
        apply(self.dialect, self.seed.seed.bytes.clone(), &self.edits)
    }

    fn content_type(&self) -> &'static str {
        match self.dialect {
            Dialect::MsgPack => "application/msgpack",
            _ => "application/json",
        }
    }
}

fn mutated_body(
    seeds: &'static [BodySeed],
    dialect: Dialect,
) -> impl Strategy<Value = MutatedBody> {
    let seeds: Vec<&'static BodySeed> = seeds.iter().collect();
    (select(seeds), vec(edit(dialect), 0..=6)).prop_map(move |(seed, edits)| MutatedBody {
        seed,
        dialect,
        edits,
    })
}

// -------------------------------------------------------------------------------------------
// What every answer must look like

/// Language pairs found in the seeds (and one in none), so the readers get past the language
/// checks as often as not.
const LANGUAGE_PAIRS: &[(&str, &str)] = &[
    ("en-US", "fr-CA"),
    ("en", "fr"),
    ("en", "de"),
    ("EN-US", "be"),
    ("en-us", "ja-jp"),
    ("en", "es"),
    ("zh", "en"),
    ("zh-CN", "en-US"),
];

fn import_options() -> impl Strategy<Value = ImportOptions> {
    (select(LANGUAGE_PAIRS), select(&[12usize, 10_000][..])).prop_map(
        |((source, target), max_text_chars)| ImportOptions {
            source_lang: source.to_owned(),
            target_lang: target.to_owned(),
            collection: "fuzz".to_owned(),
            status: Status::Approved,
            author: Some("fuzzer".to_owned()),
            max_text_chars,
        },
    )
}

fn lines_in(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64 + 1
}

/// A refused file is refused as a client error: a syntax error at a line inside the file.
/// (A decoded `\n` always comes from a 0x0A byte, in UTF-8, UTF-16 and the legacy encodings.)
fn check_refusal(error: &FormatError, bytes: &[u8]) -> Result<(), TestCaseError> {
    tally(false);
    match error {
        FormatError::Syntax {
            line,
            column,
            message,
        } => {
            prop_assert!(
                !message.trim().is_empty(),
                "a syntax error without a message"
            );
            prop_assert!(
                (1..=lines_in(bytes)).contains(line) && *column >= 1,
                "the error points at line {line}, column {column} of a file of {} lines: {message}",
                lines_in(bytes)
            );
        }
        FormatError::Io(error) => prop_assert!(
            false,
            "a readable file was refused with an I/O error, which the import endpoint \
             answers with 500: {error}"
        ),
        FormatError::Aborted(message) => {
            prop_assert!(false, "aborted without an import to abort: {message}")
        }
    }
    Ok(())
}

/// Every unit a reader hands over must be storable and exportable.
fn check_units(parsed: &Parsed, max_text_chars: usize) -> Result<(), TestCaseError> {
    tally(true);
    for unit in &parsed.units {
        prop_assert!(unit.variants.len() >= 2, "a unit with one variant");
        for variant in &unit.variants {
            if let Some(problem) = formats::text_problem(&variant.text, max_text_chars) {
                prop_assert!(
                    false,
                    "an imported text {problem}: {:?} (in {})",
                    variant.text,
                    variant.lang
                );
            }
            if let Some(markup) = &variant.markup {
                // What a lookup shows of it: must not panic either.
                let _ = inline::placeholder_text(markup);
                let _ = inline::codes_in_markup(markup);
            }
        }
    }
    Ok(())
}

fn check_pairs(
    result: Result<Parsed, FormatError>,
    bytes: &[u8],
    max_text_chars: usize,
) -> Result<(), TestCaseError> {
    match result {
        Ok(parsed) => check_units(&parsed, max_text_chars),
        Err(error) => check_refusal(&error, bytes),
    }
}

/// Reads `bytes` as `format` through the import endpoint's entry point.
fn read_pairs(
    bytes: &[u8],
    format: Format,
    columns: Option<Vec<ColumnRole>>,
    states: Option<Vec<String>>,
    options: ImportOptions,
) -> Result<Parsed, FormatError> {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    on_file(bytes, &format.to_string(), move |path| {
        formats::read_pairs_file(
            path,
            format,
            columns,
            states,
            &options,
            Some(counter),
            Parsed::default(),
        )
    })
}

/// A rejected body is a 4xx whose body is `{"error":{"code","message"}}`.
async fn check_rejection(error: ApiError) -> Result<(), TestCaseError> {
    let status = error.status;
    let code = error.code;
    prop_assert!(
        status.is_client_error(),
        "a body was rejected with {status} ({code}): {}",
        error.message
    );
    let response = axum::response::IntoResponse::into_response(error);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the error body");
    let body: Value = serde_json::from_slice(&bytes).expect("an error body in JSON");
    prop_assert!(
        body["error"]["code"]
            .as_str()
            .is_some_and(|code| !code.is_empty())
            && body["error"]["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
        "not an error body: {body}"
    );
    Ok(())
}

fn new_runtime() -> tokio::runtime::Runtime {
    // The extractor needs no I/O or timer driver.
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// Decodes a mutated body as every request type (its own first), as the server would.
fn check_body(runtime: &tokio::runtime::Runtime, case: &MutatedBody) -> Result<(), TestCaseError> {
    let bytes = case.bytes();
    let content_type = case.content_type();
    let own = case.seed.body;
    let order: Vec<Body> = std::iter::once(own)
        .chain(Body::ALL.into_iter().filter(|body| *body != own))
        .collect();
    let results = bounded(CASE_TIME_LIMIT, move || {
        let decoder = new_runtime();
        order
            .into_iter()
            .map(|body| decoder.block_on(body.decode(content_type, bytes.clone())))
            .collect::<Vec<_>>()
    });
    for (index, result) in results.into_iter().enumerate() {
        // The body's own type first: only that one counts in the tally.
        if index == 0 {
            tally(result.is_ok());
        }
        if let Err(error) = result {
            runtime.block_on(check_rejection(error))?;
        }
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------
// The property tests

#[test]
fn tmx_reader_never_panics_on_mutated_real_files() {
    fuzz(
        2048,
        (mutated(tmx_seeds(), Dialect::Xml), import_options()),
        |(case, options)| {
            let bytes = case.bytes();
            let max = options.max_text_chars;
            let result = read_pairs(&bytes, Format::Tmx, None, None, options);
            check_pairs(result, &bytes, max)
        },
    );
}

#[test]
fn tbx_reader_never_panics_on_mutated_real_files() {
    let workflows = select(&[Workflow::Proposed, Workflow::Approved][..]);
    fuzz(
        1024,
        (mutated(tbx_seeds(), Dialect::Xml), workflows),
        |(case, workflow)| {
            let bytes = case.bytes();
            match on_file(&bytes, "tbx", move |path| tbx::read_file(path, workflow)) {
                Ok(parsed) => {
                    tally(true);
                    for entry in &parsed.entries {
                        let terms = entry.terms.as_deref().unwrap_or_default();
                        prop_assert!(!terms.is_empty(), "an entry without terms was kept");
                        for term in terms {
                            prop_assert!(!term.text.trim().is_empty(), "an empty term was kept");
                        }
                    }
                    Ok(())
                }
                Err(error) => check_refusal(&error, &bytes),
            }
        },
    );
}

#[test]
fn xliff_reader_never_panics_on_mutated_documents() {
    let states = select(vec![
        None,
        Some(vec!["final".to_owned(), "none".to_owned()]),
        Some(Vec::new()),
    ]);
    fuzz(
        2048,
        (
            mutated(xliff_seeds(), Dialect::Xml),
            import_options(),
            states,
        ),
        |(case, options, states)| {
            let bytes = case.bytes();
            let max = options.max_text_chars;
            let result = read_pairs(&bytes, Format::Xliff, None, states, options);
            check_pairs(result, &bytes, max)
        },
    );
}

/// Why a variant's markup could not be written back into a TMX `<seg>` as it is: TMX export
/// writes it unchanged, so it must be well-formed XML made of XML 1.0 characters.
#[derive(Debug)]
enum MarkupProblem {
    /// A character XML 1.0 cannot carry, raw or as a reference. A known bug: see
    /// `imported_markup_can_be_exported_as_well_formed_xml`.
    NotXmlCharacter(String),
    /// An attribute list that is not well-formed (`<hi x=1>`, `<bpt i="1" junk>`, a repeated
    /// attribute). The same known bug.
    BadAttribute(String),
    Malformed(String),
}

fn not_xml_character(text: &str) -> Option<MarkupProblem> {
    text.chars()
        .find(|&character| !formats::is_xml_char(character))
        .map(|character| {
            MarkupProblem::NotXmlCharacter(format!("holds U+{:04X}", character as u32))
        })
}

fn markup_problem(markup: &str) -> Option<MarkupProblem> {
    use quick_xml::events::Event;
    if let Some(problem) = not_xml_character(markup) {
        return Some(problem);
    }
    let wrapped = format!("<seg>{markup}</seg>");
    let mut reader = quick_xml::Reader::from_str(&wrapped);
    reader.config_mut().check_end_names = true;
    let malformed = |what: String| Some(MarkupProblem::Malformed(what));
    let mut depth = 0i64;
    loop {
        let event = match reader.read_event() {
            Err(error) => return malformed(format!("is not well-formed: {error}")),
            Ok(Event::Eof) => break,
            Ok(event) => event,
        };
        if let Event::Start(element) | Event::Empty(element) = &event {
            let names = std::iter::once(element.name().0.to_owned()).chain(
                element
                    .attributes()
                    .flatten()
                    .map(|attribute| attribute.key.0.to_owned()),
            );
            for name in names {
                if !formats::is_xml_name(&name) {
                    return malformed(format!("names {name:?}, which is not an XML name"));
                }
            }
            for attribute in element.attributes() {
                let value = attribute
                    .map_err(|error| error.to_string())
                    .and_then(|attribute| {
                        attribute
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map(|value| value.into_owned())
                            .map_err(|error| error.to_string())
                    });
                match value {
                    Err(error) => {
                        return Some(MarkupProblem::BadAttribute(format!(
                            "has a bad attribute: {error}"
                        )))
                    }
                    Ok(value) => {
                        if let Some(problem) = not_xml_character(&value) {
                            return Some(problem);
                        }
                    }
                }
            }
        }
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth -= 1,
            Event::GeneralRef(reference) => match formats::xml::resolve_reference(&reference) {
                Err(message) => return malformed(format!("has a bad reference: {message}")),
                Ok(text) => {
                    if let Some(problem) = not_xml_character(&text) {
                        return Some(problem);
                    }
                }
            },
            _ => {}
        }
    }
    (depth != 0).then(|| MarkupProblem::Malformed(format!("leaves {depth} elements open")))
}

/// The first markup among the units read that could not be exported, and why.
fn first_markup_problem(parsed: &Parsed) -> Option<(String, MarkupProblem)> {
    parsed
        .units
        .iter()
        .flat_map(|unit| &unit.variants)
        .filter_map(|variant| variant.markup.as_ref())
        .find_map(|markup| markup_problem(markup).map(|problem| (markup.clone(), problem)))
}

#[test]
fn imported_inline_markup_is_well_formed_xml() {
    let documents = prop_oneof![
        mutated(tmx_seeds(), Dialect::Xml).prop_map(|case| (case, Format::Tmx)),
        mutated(xliff_seeds(), Dialect::Xml).prop_map(|case| (case, Format::Xliff)),
    ];
    fuzz(
        2048,
        (documents, import_options()),
        |((case, format), options)| {
            let bytes = case.bytes();
            let Ok(parsed) = read_pairs(&bytes, format, None, None, options) else {
                tally(false);
                return Ok(());
            };
            tally(true);
            if let Some((markup, problem)) = first_markup_problem(&parsed) {
                prop_assert!(
                    false,
                    "the markup of an imported variant {problem:?}: {markup:?}"
                );
            }
            Ok(())
        },
    );
}

#[test]
fn tsv_reader_never_panics_on_mutated_pairs() {
    fuzz(
        2048,
        (mutated(tsv_seeds(), Dialect::Text), import_options()),
        |(case, options)| {
            let bytes = case.bytes();
            let max = options.max_text_chars;
            let result = read_pairs(&bytes, Format::Tsv, None, None, options);
            check_pairs(result, &bytes, max)
        },
    );
}

#[test]
fn csv_and_tsv_table_readers_never_panic_on_mutated_tables() {
    use ColumnRole::*;
    let layouts = select(vec![
        (Format::Csv, None),
        (Format::Csv, Some(vec![Source, Target])),
        (
            Format::Csv,
            Some(vec![Target, Source, Document, Author, Collection, Status]),
        ),
        (Format::Tsv, Some(vec![Source, Target, Author])),
        (Format::Tsv, Some(vec![Ignore, Source, Target])),
    ]);
    fuzz(
        2048,
        (
            mutated(table_seeds(), Dialect::Text),
            import_options(),
            layouts,
        ),
        |(case, options, (format, columns))| {
            let bytes = case.bytes();
            let max = options.max_text_chars;
            let result = read_pairs(&bytes, format, columns, None, options);
            check_pairs(result, &bytes, max)
        },
    );
}

#[test]
fn json_bodies_are_decoded_or_refused_with_a_4xx() {
    let runtime = new_runtime();
    fuzz(2048, mutated_body(json_seeds(), Dialect::Json), |case| {
        check_body(&runtime, &case)
    });
}

#[test]
fn msgpack_bodies_are_decoded_or_refused_with_a_4xx() {
    let runtime = new_runtime();
    fuzz(
        2048,
        mutated_body(msgpack_seeds(), Dialect::MsgPack),
        |case| check_body(&runtime, &case),
    );
}

#[test]
fn the_inline_seeds_are_valid_inputs() {
    let runtime = new_runtime();
    for seed in json_seeds().iter().chain(msgpack_seeds()) {
        if seed.seed.name.ends_with("-as-array") {
            // Positional: it decodes only while the struct has exactly these fields.
            continue;
        }
        let content_type = if seed.seed.name.contains("msgpack") {
            "application/msgpack"
        } else {
            "application/json"
        };
        if let Err(error) =
            runtime.block_on(seed.body.decode(content_type, seed.seed.bytes.clone()))
        {
            panic!("{:?} does not decode: {}", seed, error.message);
        }
    }
    let options = ImportOptions {
        source_lang: "zh".into(),
        target_lang: "en".into(),
        collection: "fuzz".into(),
        status: Status::Approved,
        author: None,
        max_text_chars: 10_000,
    };
    for seed in xliff_seeds() {
        let parsed = read_pairs(&seed.bytes, Format::Xliff, None, None, options.clone())
            .unwrap_or_else(|error| panic!("{seed:?}: {error}"));
        assert!(parsed.units.len() >= 3, "{seed:?}: {parsed:?}");
    }
    let parsed = read_pairs(
        &tsv_seeds()[0].bytes,
        Format::Tsv,
        None,
        None,
        options.clone(),
    )
    .expect("the TSV seed reads");
    assert_eq!(parsed.units.len(), 3, "{parsed:?}");
    let parsed = read_pairs(&table_seeds()[0].bytes, Format::Csv, None, None, options)
        .expect("the CSV seed reads");
    assert_eq!(parsed.units.len(), 2, "{parsed:?}");
}

#[test]
fn inline_code_parsers_never_panic() {
    // Segment markup as the TMX and XLIFF readers keep it, and client text with placeholders.
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    let seeds = SEEDS.get_or_init(|| {
        vec![
            seed(
                "inline:tmx-markup",
                r#"会议<bpt i="1">&lt;b&gt;</bpt>由<ept i="1">&lt;/b&gt;</ept>主持<ph x="2">&lt;br/&gt;</ph><it pos="end" x="3"/><ut>u</ut><hi>强调</hi>&amp;"#,
            ),
            seed(
                "inline:placeholders",
                "会议{1}开始{/1}了{2/}。{ {x} {/} {1234567890} {12/}",
            ),
        ]
    });
    fuzz(
        4096,
        (mutated(seeds, Dialect::Xml), mutated(seeds, Dialect::Xml)),
        |(left, right)| {
            let left = String::from_utf8_lossy(&left.bytes()).into_owned();
            let right = String::from_utf8_lossy(&right.bytes()).into_owned();
            bounded(CASE_TIME_LIMIT, move || {
                let _ = inline::placeholder_text(&left);
                let found = inline::codes_in_markup(&left);
                let (plain, query) = inline::split_placeholders(&right);
                assert!(plain.len() <= right.len());
                let penalty = inline::code_penalty(&query, &found);
                assert!(penalty as usize <= query.len().max(found.len()));
                let _ = table::parse_columns(&right);
                let _ = Format::parse(&right);
                let _ = tmx::parse_tmx_date(&right);
            });
            Ok(())
        },
    );
}

// -------------------------------------------------------------------------------------------
// The real server

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answers_fuzzed_bodies_with_2xx_or_4xx() {
    // Draw the bodies first: mutated JSON and MessagePack bodies for every POST endpoint.
    let count = cases(400) as usize;
    let seed = rng_seed();
    eprintln!("fuzz: bodies for the server drawn with ATTACHE_FUZZ_SEED={seed}");
    let mut runner = TestRunner::new(config(400, seed));
    let json = mutated_body(json_seeds(), Dialect::Json);
    let msgpack = mutated_body(msgpack_seeds(), Dialect::MsgPack);
    let mut bodies = Vec::with_capacity(count);
    while bodies.len() < count {
        let strategy = if bodies.len() % 2 == 0 {
            &json
        } else {
            &msgpack
        };
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        if case.seed.body.post_path().is_some() {
            bodies.push(case);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for case in &bodies {
        let path = case.seed.body.post_path().expect("a POST endpoint");
        let bytes = case.bytes();
        let shown = || format!("{case:?} → POST {path} {:?}", Shown(bytes.clone()));
        let response = server
            .client
            .post(server.url(path))
            .header("content-type", case.content_type())
            .body(bytes.clone())
            .send()
            .await
            .unwrap_or_else(|error| panic!("no answer ({error}) to {}", shown()));
        let status = response.status().as_u16();
        *statuses.entry(status).or_default() += 1;
        let answer = response
            .bytes()
            .await
            .unwrap_or_else(|error| panic!("the answer was cut ({error}) for {}", shown()));
        assert!(
            status < 500,
            "{status} {} for {}",
            String::from_utf8_lossy(&answer),
            shown()
        );
        if status >= 400 {
            let body: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            assert!(
                body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                "{status} without an error body ({}) for {}",
                String::from_utf8_lossy(&answer),
                shown()
            );
        }
    }
    let (status, health) = server.get("/health").await;
    assert_eq!(status, 200, "{health}");
    eprintln!(
        "fuzz: {} bodies answered in {:.1?}, by status: {statuses:?}",
        bodies.len(),
        started.elapsed()
    );
}

// -------------------------------------------------------------------------------------------
// Pathological inputs: bounded time and memory

/// What a pathological input is read as.
#[derive(Clone, Copy, Debug)]
enum Reader {
    Tmx,
    Tbx,
    Xliff,
    Tsv,
    TsvTable,
    Csv,
    Json(Body),
    MsgPack(Body),
}

/// What reading it must end in.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Either answer, as long as it comes in time and memory.
    Either,
    /// A refusal whose message contains this.
    Refused(&'static str),
}

struct Pathological {
    name: &'static str,
    reader: Reader,
    expect: Expect,
    /// The input at about this many bytes (JSON and MessagePack bodies: a fifth of it, as
    /// the server takes at most 1 MiB).
    build: fn(usize) -> Vec<u8>,
}

/// About the size of each pathological input. Each is also read at a quarter of this size, and
/// the time must grow about linearly between the two.
const SIZE: usize = 4 << 20;

const TMX_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header creationtool="t" creationtoolversion="1" segtype="sentence" o-tmf="x" adminlang="en" srclang="en" datatype="plaintext"/><body>
"#;
const TMX_TAIL: &str = "</body></tmx>\n";
const TBX_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"><tbxHeader><fileDesc><sourceDesc><p>fuzz</p></sourceDesc></fileDesc></tbxHeader><text><body>
"#;
const TBX_TAIL: &str = "</body></text></tbx>\n";
const XLIFF_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"><file source-language="en" target-language="fr" datatype="plaintext" original="a"><body>
"#;
const XLIFF_TAIL: &str = "</body></file></xliff>\n";
const XLIFF2_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="fr"><file id="f"><unit id="u">
"#;
const XLIFF2_TAIL: &str = "</unit></file></xliff>\n";

/// `head`, then `piece` repeated to about `size` bytes, then `tail`.
fn filled(size: usize, head: &str, piece: &str, tail: &str) -> Vec<u8> {
    let mut text = String::with_capacity(size + head.len() + tail.len());
    text.push_str(head);
    text.push_str(&piece.repeat(size / piece.len()));
    text.push_str(tail);
    text.into_bytes()
}

/// `head`, then `piece(k)` for k = 0, 1, … to about `size` bytes, then `tail`.
fn numbered(size: usize, head: &str, piece: impl Fn(usize) -> String, tail: &str) -> Vec<u8> {
    let mut text = String::with_capacity(size + head.len() + tail.len() + 64);
    text.push_str(head);
    let mut k = 0;
    while text.len() < size {
        text.push_str(&piece(k));
        k += 1;
    }
    text.push_str(tail);
    text.into_bytes()
}

fn tmx_unit(k: usize) -> String {
    format!(
        "<tu tuid=\"{k}\"><tuv xml:lang=\"en\"><seg>Unit {k}.</seg></tuv><tuv xml:lang=\"fr\"><seg>Unité {k}.</seg></tuv></tu>\n"
    )
}

fn msgpack_map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = vec![0x80 | entries.len() as u8];
    for (key, value) in entries {
        bytes.push(0xA0 | key.len() as u8);
        bytes.extend(key.as_bytes());
        bytes.extend(value);
    }
    bytes
}

fn msgpack_str(text: &str) -> Vec<u8> {
    rmp_serde::to_vec(text).unwrap()
}

fn pathological_inputs() -> Vec<Pathological> {
    use Expect::*;
    use Reader::*;
    vec![
        // ---- TMX
        Pathological {
            name: "tmx_deep_nesting",
            reader: Tmx,
            expect: Refused("nest deeper"),
            build: |size| filled(size, TMX_HEAD, "<n>", ""),
        },
        Pathological {
            name: "tmx_long_attribute",
            reader: Tmx,
            expect: Either,
            build: |size| {
                let mut bytes = filled(size, &format!("{TMX_HEAD}<tu tuid=\""), "a", "\">");
                bytes.extend(tmx_unit(1).as_bytes());
                bytes.extend(format!("</tu>{TMX_TAIL}").as_bytes());
                bytes
            },
        },
        Pathological {
            name: "tmx_unclosed_tus",
            reader: Tmx,
            expect: Either,
            build: |size| filled(size, TMX_HEAD, "<tu>", ""),
        },
        Pathological {
            name: "tmx_long_segment",
            reader: Tmx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg>"),
                    "word ",
                    &format!(
                        "</seg></tuv><tuv xml:lang=\"fr\"><seg>mot</seg></tuv></tu>{TMX_TAIL}"
                    ),
                )
            },
        },
        Pathological {
            name: "tmx_many_units",
            reader: Tmx,
            expect: Either,
            build: |size| numbered(size, TMX_HEAD, tmx_unit, TMX_TAIL),
        },
        Pathological {
            name: "tmx_many_variants_in_one_tu",
            reader: Tmx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{TMX_HEAD}<tu>"),
                    "<tuv xml:lang=\"en\"><seg>x</seg></tuv>",
                    &format!("</tu>{TMX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tmx_many_props_in_one_tu",
            reader: Tmx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{TMX_HEAD}<tu>"),
                    "<prop type=\"x\">v</prop>",
                    &format!("</tu>{TMX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tmx_many_header_notes",
            reader: Tmx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    "<tmx version=\"1.4\"><header srclang=\"en\">",
                    "<note>n</note>",
                    &format!("</header><body>{}</body></tmx>", tmx_unit(0)),
                )
            },
        },
        Pathological {
            name: "tmx_many_open_bpt_in_one_segment",
            reader: Tmx,
            expect: Refused("never closed"),
            build: |size| {
                numbered(
                    size,
                    &format!("{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg>"),
                    |k| format!("<bpt i=\"{k}\">b</bpt>"),
                    &format!("</seg></tuv></tu>{TMX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tmx_many_paired_codes_in_one_segment",
            reader: Tmx,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    &format!("{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg>"),
                    |k| format!("<bpt i=\"{k}\">b</bpt>x<ept i=\"{k}\">e</ept>"),
                    &format!("</seg></tuv><tuv xml:lang=\"fr\"><seg>y</seg></tuv></tu>{TMX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tmx_many_attributes",
            reader: Tmx,
            expect: Either,
            build: |size| {
                numbered(size,
                    &format!("{TMX_HEAD}<tu"),
                    |k| format!(" a{k}=\"v\""),
                    &format!(
                        "><tuv xml:lang=\"en\"><seg>x</seg></tuv><tuv xml:lang=\"fr\"><seg>y</seg></tuv></tu>{TMX_TAIL}"
                    ),
                )
            },
        },
        Pathological {
            name: "tmx_many_entities",
            reader: Tmx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg>"),
                    "&amp;",
                    &format!("</seg></tuv><tuv xml:lang=\"fr\"><seg>y</seg></tuv></tu>{TMX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tmx_unterminated_comment",
            reader: Tmx,
            expect: Refused(""),
            build: |size| filled(size, &format!("{TMX_HEAD}<!--"), "a", ""),
        },
        Pathological {
            name: "tmx_unterminated_cdata",
            reader: Tmx,
            expect: Refused(""),
            build: |size| {
                filled(
                    size,
                    &format!("{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg><![CDATA["),
                    "a",
                    "",
                )
            },
        },
        Pathological {
            name: "tmx_billion_laughs",
            reader: Tmx,
            expect: Refused("entit"),
            build: |_| {
                let mut doctype = String::from(
                    "<?xml version=\"1.0\"?>\n<!DOCTYPE tmx [\n<!ENTITY lol0 \"lol\">\n",
                );
                for level in 1..10 {
                    let previous = format!("&lol{};", level - 1);
                    doctype.push_str(&format!(
                        "<!ENTITY lol{level} \"{}\">\n",
                        previous.repeat(10)
                    ));
                }
                doctype.push_str("]>\n<tmx version=\"1.4\"><header srclang=\"en\"/><body><tu><tuv xml:lang=\"en\"><seg>&lol9;</seg></tuv></tu></body></tmx>\n");
                doctype.into_bytes()
            },
        },
        Pathological {
            name: "tmx_utf16_many_units",
            reader: Tmx,
            expect: Either,
            build: |size| {
                // Two bytes a character: half as many units for the same size.
                let text = numbered(size / 2, TMX_HEAD, tmx_unit, TMX_TAIL);
                utf16_le_with_bom(&String::from_utf8(text).expect("UTF-8"))
            },
        },
        // ---- TBX
        Pathological {
            name: "tbx_deep_nesting",
            reader: Tbx,
            expect: Refused("nest deeper"),
            build: |size| filled(size, TBX_HEAD, "<n>", ""),
        },
        Pathological {
            name: "tbx_long_attribute",
            reader: Tbx,
            expect: Either,
            build: |size| {
                filled(size,
                    &format!("{TBX_HEAD}<conceptEntry id=\""),
                    "a",
                    &format!("\"><langSec xml:lang=\"en\"><termSec><term>t</term></termSec></langSec></conceptEntry>{TBX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tbx_unclosed_entries",
            reader: Tbx,
            expect: Either,
            build: |size| filled(size, TBX_HEAD, "<conceptEntry>", ""),
        },
        Pathological {
            name: "tbx_long_term",
            reader: Tbx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!(
                        "{TBX_HEAD}<conceptEntry id=\"c\"><langSec xml:lang=\"en\"><termSec><term>"
                    ),
                    "word ",
                    &format!("</term></termSec></langSec></conceptEntry>{TBX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tbx_many_entries",
            reader: Tbx,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    TBX_HEAD,
                    |k| {
                        format!("<conceptEntry id=\"c{k}\"><langSec xml:lang=\"en\"><termSec><term>term {k}</term></termSec></langSec><langSec xml:lang=\"fr\"><termSec><term>terme {k}</term></termSec></langSec></conceptEntry>\n")
                    },
                    TBX_TAIL,
                )
            },
        },
        Pathological {
            name: "tbx_many_terms_in_one_entry",
            reader: Tbx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{TBX_HEAD}<conceptEntry id=\"c\"><langSec xml:lang=\"en\">"),
                    "<termSec><term>t</term></termSec>",
                    &format!("</langSec></conceptEntry>{TBX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tbx_many_notes_in_one_entry",
            reader: Tbx,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{TBX_HEAD}<conceptEntry id=\"c\">"),
                    "<note>a note</note>",
                    &format!("<langSec xml:lang=\"en\"><termSec><term>t</term></termSec></langSec></conceptEntry>{TBX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tbx_many_attributes",
            reader: Tbx,
            expect: Either,
            build: |size| {
                numbered(size,
                    &format!("{TBX_HEAD}<conceptEntry id=\"c\"><langSec"),
                    |k| format!(" a{k}=\"v\""),
                    &format!(" xml:lang=\"en\"><termSec><term>t</term></termSec></langSec></conceptEntry>{TBX_TAIL}"),
                )
            },
        },
        Pathological {
            name: "tbx_unterminated_comment",
            reader: Tbx,
            expect: Refused(""),
            build: |size| filled(size, &format!("{TBX_HEAD}<!--"), "a", ""),
        },
        // ---- XLIFF
        Pathological {
            name: "xliff_deep_nesting",
            reader: Xliff,
            expect: Refused("nest deeper"),
            build: |size| filled(size, XLIFF_HEAD, "<n>", ""),
        },
        Pathological {
            name: "xliff_long_attribute",
            reader: Xliff,
            expect: Either,
            build: |size| {
                filled(size,
                    &format!("{XLIFF_HEAD}<trans-unit id=\""),
                    "a",
                    &format!("\"><source>s</source><target state=\"final\">t</target></trans-unit>{XLIFF_TAIL}"),
                )
            },
        },
        Pathological {
            name: "xliff_unclosed_trans_units",
            reader: Xliff,
            expect: Either,
            build: |size| filled(size, XLIFF_HEAD, "<trans-unit>", ""),
        },
        Pathological {
            name: "xliff_long_source",
            reader: Xliff,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{XLIFF_HEAD}<trans-unit id=\"1\"><source>"),
                    "word ",
                    &format!(
                        "</source><target state=\"final\">t</target></trans-unit>{XLIFF_TAIL}"
                    ),
                )
            },
        },
        Pathological {
            name: "xliff_many_trans_units",
            reader: Xliff,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    XLIFF_HEAD,
                    |k| {
                        format!("<trans-unit id=\"{k}\"><source>Unit {k} <g id=\"1\">bold</g><x id=\"2\"/></source><target state=\"final\">Unité {k} <g id=\"1\">gras</g><x id=\"2\"/></target></trans-unit>\n")
                    },
                    XLIFF_TAIL,
                )
            },
        },
        Pathological {
            name: "xliff_many_codes_in_one_source",
            reader: Xliff,
            expect: Either,
            build: |size| {
                filled(
                    size,
                    &format!("{XLIFF_HEAD}<trans-unit id=\"1\"><source>"),
                    "a<x id=\"1\"/><g id=\"2\">b</g>",
                    &format!(
                        "</source><target state=\"final\">t</target></trans-unit>{XLIFF_TAIL}"
                    ),
                )
            },
        },
        Pathological {
            name: "xliff_many_unpaired_bpt_in_one_source",
            reader: Xliff,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    &format!("{XLIFF_HEAD}<trans-unit id=\"1\"><source>"),
                    |k| format!("<bpt id=\"{k}\">b</bpt>"),
                    &format!(
                        "</source><target state=\"final\">t</target></trans-unit>{XLIFF_TAIL}"
                    ),
                )
            },
        },
        Pathological {
            name: "xliff_2_many_unclosed_sc_in_one_source",
            reader: Xliff,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    &format!("{XLIFF2_HEAD}<segment state=\"final\"><source>"),
                    |k| format!("<sc id=\"{k}\"/>"),
                    &format!("</source><target>t</target></segment>{XLIFF2_TAIL}"),
                )
            },
        },
        Pathological {
            name: "xliff_2_many_segments",
            reader: Xliff,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    XLIFF2_HEAD,
                    |k| {
                        format!("<segment id=\"s{k}\" state=\"final\"><source>Unit {k}<pc id=\"1\">b</pc><cp hex=\"41\"/></source><target>Unité {k}<pc id=\"1\">g</pc></target></segment>\n")
                    },
                    XLIFF2_TAIL,
                )
            },
        },
        Pathological {
            name: "xliff_many_attributes",
            reader: Xliff,
            expect: Either,
            build: |size| {
                numbered(size,
                    &format!("{XLIFF_HEAD}<trans-unit"),
                    |k| format!(" a{k}=\"v\""),
                    &format!(" id=\"1\"><source>s</source><target state=\"final\">t</target></trans-unit>{XLIFF_TAIL}"),
                )
            },
        },
        // ---- TSV and CSV
        Pathological {
            name: "tsv_long_line",
            reader: Tsv,
            expect: Either,
            build: |size| filled(size, "", "word ", "\tmot\n"),
        },
        Pathological {
            name: "tsv_long_line_without_tab",
            reader: Tsv,
            expect: Refused("tab-separated"),
            build: |size| filled(size, "", "word ", "\n"),
        },
        Pathological {
            name: "tsv_line_of_tabs",
            reader: Tsv,
            expect: Refused("tab-separated"),
            build: |size| filled(size, "a", "\t", "\n"),
        },
        Pathological {
            name: "tsv_many_pairs",
            reader: Tsv,
            expect: Either,
            build: |size| numbered(size, "", |k| format!("源{k}\ttarget {k}\n"), ""),
        },
        Pathological {
            name: "tsv_blank_lines",
            reader: Tsv,
            expect: Either,
            build: |size| filled(size, "", "\n", ""),
        },
        Pathological {
            name: "tsv_table_long_quoted_field",
            reader: TsvTable,
            expect: Either,
            build: |size| filled(size, "source\ttarget\n\"", "word ", "\"\tmot\n"),
        },
        Pathological {
            name: "csv_unclosed_quote",
            reader: Csv,
            expect: Either,
            build: |size| filled(size, "source,target\n\"", "a", ""),
        },
        Pathological {
            name: "csv_long_field",
            reader: Csv,
            expect: Either,
            build: |size| filled(size, "source,target\n\"", "word, ", "\",mot\n"),
        },
        Pathological {
            name: "csv_wide_header",
            reader: Csv,
            expect: Either,
            build: |size| filled(size, "source,target", ",-", "\na,b\n"),
        },
        Pathological {
            name: "csv_wide_row",
            reader: Csv,
            expect: Refused("fields"),
            build: |size| filled(size, "source,target\n", "a,", "\n"),
        },
        Pathological {
            name: "csv_many_rows",
            reader: Csv,
            expect: Either,
            build: |size| {
                numbered(
                    size,
                    "source,target\n",
                    |k| format!("源{k},\"t, {k}\"\n"),
                    "",
                )
            },
        },
        // ---- JSON and MessagePack bodies (the server refuses bodies over 1 MiB)
        Pathological {
            name: "json_deeply_nested_arrays",
            reader: Json(Body::Lookup),
            // The typed fields stop it at the first `[` where a string belongs.
            expect: Refused("collections"),
            build: |size| [&b"{\"collections\":"[..], &b"[".repeat(size / 8)].concat(),
        },
        Pathological {
            name: "json_long_text",
            reader: Json(Body::Lookup),
            expect: Either,
            build: |size| {
                format!(
                    "{{\"text\":\"{}\",\"source_lang\":\"zh\",\"target_lang\":\"en\"}}",
                    "字".repeat(size / 15)
                )
                .into_bytes()
            },
        },
        Pathological {
            name: "json_many_collections",
            reader: Json(Body::Lookup),
            expect: Either,
            build: |size| {
                format!("{{\"collections\":[{}\"c\"]}}", "\"c\",".repeat(size / 20)).into_bytes()
            },
        },
        Pathological {
            name: "json_many_segments",
            reader: Json(Body::Add),
            expect: Either,
            build: |size| {
                let segment =
                    r#"{"source_lang":"zh","target_lang":"en","source":"甲","target":"A"},"#;
                format!(
                    "{{\"segments\":[{}{}]}}",
                    segment.repeat(size / 5 / segment.len()),
                    &segment[..segment.len() - 1]
                )
                .into_bytes()
            },
        },
        Pathological {
            name: "json_long_number",
            reader: Json(Body::Lookup),
            expect: Refused(""),
            build: |size| format!("{{\"limit\":{}}}", "9".repeat(size / 5)).into_bytes(),
        },
        Pathological {
            name: "json_many_escapes",
            reader: Json(Body::Lookup),
            expect: Either,
            build: |size| format!("{{\"text\":\"{}\"}}", "\\u4e00".repeat(size / 30)).into_bytes(),
        },
        Pathological {
            name: "msgpack_array_claiming_4g_elements",
            reader: MsgPack(Body::Lookup),
            expect: Refused(""),
            build: |_| msgpack_map(&[("collections", b"\xDD\xFF\xFF\xFF\xFF\xA1c".to_vec())]),
        },
        Pathological {
            name: "msgpack_string_claiming_4gb",
            reader: MsgPack(Body::Lookup),
            expect: Refused(""),
            build: |_| msgpack_map(&[("text", b"\xDB\xFF\xFF\xFF\xFFabc".to_vec())]),
        },
        Pathological {
            name: "msgpack_map_claiming_4g_entries",
            reader: MsgPack(Body::Lookup),
            expect: Refused(""),
            build: |_| b"\xDF\xFF\xFF\xFF\xFF\xA4text\xA1a".to_vec(),
        },
        Pathological {
            name: "msgpack_binary_claiming_4gb",
            reader: MsgPack(Body::Lookup),
            expect: Refused(""),
            build: |_| msgpack_map(&[("text", b"\xC6\xFF\xFF\xFF\xFFabc".to_vec())]),
        },
        Pathological {
            name: "msgpack_deeply_nested_arrays",
            reader: MsgPack(Body::Lookup),
            expect: Refused(""),
            build: |size| msgpack_map(&[("collections", b"\x91".repeat(size / 8))]),
        },
        Pathological {
            name: "msgpack_many_segments",
            reader: MsgPack(Body::Add),
            expect: Either,
            build: |size| {
                let segment = msgpack_map(&[
                    ("source_lang", msgpack_str("zh")),
                    ("target_lang", msgpack_str("en")),
                    ("source", msgpack_str("甲")),
                    ("target", msgpack_str("A")),
                ]);
                let count = (size / 5 / segment.len()) as u32;
                let mut array = vec![0xDD];
                array.extend(count.to_be_bytes());
                array.extend(segment.repeat(count as usize));
                msgpack_map(&[("segments", array)])
            },
        },
        Pathological {
            name: "msgpack_long_text",
            reader: MsgPack(Body::Lookup),
            expect: Either,
            build: |size| msgpack_map(&[("text", msgpack_str(&"字".repeat(size / 15)))]),
        },
    ]
}

/// The name the test harness knows the worker by (`fuzz::pathological_input_worker`).
fn worker_test_name() -> String {
    let module = module_path!();
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    format!("{module}::pathological_input_worker")
}

/// Runs in a child process: reads the pathological input named by `ATTACHE_FUZZ_PATHOLOGICAL`
/// and prints how it ended and the peak resident memory. Run by the tests below; by itself
/// (without the variable) it does nothing.
#[test]
#[ignore = "worker: run in a child process by pathological_inputs_finish_in_bounded_time_and_memory"]
fn pathological_input_worker() {
    let Ok(name) = std::env::var("ATTACHE_FUZZ_PATHOLOGICAL") else {
        return;
    };
    let case = pathological_inputs()
        .into_iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no pathological input {name}"));
    let size = std::env::var("ATTACHE_FUZZ_SIZE")
        .ok()
        .and_then(|size| size.parse().ok())
        .unwrap_or(SIZE);
    let bytes = (case.build)(size);
    let size = bytes.len();
    let options = ImportOptions {
        source_lang: "en".into(),
        target_lang: "fr".into(),
        collection: "fuzz".into(),
        status: Status::Approved,
        author: None,
        max_text_chars: 10_000,
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(format!("{name}.input"));
    std::fs::write(&path, &bytes).expect("the input is written");
    drop(bytes);
    let started = Instant::now();
    let pairs = |format, columns| {
        formats::read_pairs_file(
            &path,
            format,
            columns,
            None,
            &options,
            None,
            Parsed::default(),
        )
        .map(|parsed| {
            format!(
                "{} units, {} skipped",
                parsed.units.len(),
                parsed.skipped.len()
            )
        })
        .map_err(|error| error.to_string())
    };
    let outcome: Result<String, String> = match case.reader {
        Reader::Tmx => pairs(Format::Tmx, None),
        Reader::Xliff => pairs(Format::Xliff, None),
        Reader::Tsv => pairs(Format::Tsv, None),
        Reader::TsvTable => pairs(
            Format::Tsv,
            Some(vec![ColumnRole::Source, ColumnRole::Target]),
        ),
        Reader::Csv => pairs(Format::Csv, None),
        Reader::Tbx => tbx::read_file(&path, Workflow::Proposed)
            .map(|parsed| {
                format!(
                    "{} entries, {} skipped",
                    parsed.entries.len(),
                    parsed.skipped.len()
                )
            })
            .map_err(|error| error.to_string()),
        Reader::Json(body) | Reader::MsgPack(body) => {
            let content_type = match case.reader {
                Reader::MsgPack(_) => "application/msgpack",
                _ => "application/json",
            };
            let bytes = std::fs::read(&path).expect("the input");
            new_runtime()
                .block_on(body.decode(content_type, bytes))
                .map(|()| "decoded".to_owned())
                .map_err(|error| format!("{} {}: {}", error.status, error.code, error.message))
        }
    };
    let elapsed = started.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let (peak_kib, virtual_kib) = (kib("VmHWM:"), kib("VmPeak:"));
    let (verdict, detail) = match &outcome {
        Ok(detail) => ("ok", detail.as_str()),
        Err(message) => ("refused", message.as_str()),
    };
    let detail: String = detail
        .chars()
        .take(300)
        .collect::<String>()
        .replace('\n', " ");
    println!(
        "ATTACHE-FUZZ verdict={verdict} size={size} parse_ms={} peak_kib={peak_kib} \
         virtual_kib={virtual_kib} detail={detail}",
        elapsed.as_millis()
    );
}

/// What a child process reported for one pathological input at one size.
struct Report {
    elapsed: Duration,
    /// The worker's line: `verdict=… size=… parse_ms=… peak_kib=… detail=…`.
    line: Option<String>,
    /// Why it did not report: killed after the time limit, or died.
    died: Option<String>,
}

impl Report {
    fn field(&self, key: &str) -> Option<&str> {
        let line = self.line.as_deref()?;
        let start = line.find(&format!(" {key}="))? + key.len() + 2;
        let rest = &line[start..];
        Some(if key == "detail" {
            rest
        } else {
            rest.split(' ').next().unwrap_or("")
        })
    }

    fn number(&self, key: &str) -> u64 {
        self.field(key)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    }
}

/// Parses one pathological input, built at about `size` bytes, in a child process.
fn run_pathological(case: &Pathological, size: usize) -> Report {
    let exe = std::env::current_exe().expect("the test binary");
    let started = Instant::now();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {PATHOLOGICAL_ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(&exe)
        .arg(worker_test_name())
        .args(["--exact", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("ATTACHE_FUZZ_PATHOLOGICAL", case.name)
        .env("ATTACHE_FUZZ_SIZE", size.to_string())
        .env("RUST_BACKTRACE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the worker starts");
    // Drain both pipes on threads so a chatty child never blocks.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let status = loop {
        if let Some(status) = child.try_wait().expect("the worker's status") {
            break Some(status);
        }
        if started.elapsed() > PATHOLOGICAL_TIME_LIMIT {
            // Our own child, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let line = stdout
        .lines()
        .find_map(|line| line.split_once("ATTACHE-FUZZ").map(|(_, report)| report))
        .map(str::to_owned);
    let tail = |text: &str| -> String {
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    };
    let died = match (status, &line) {
        (None, _) => Some(format!(
            "did not finish within {PATHOLOGICAL_TIME_LIMIT:?} (killed): the reader hangs \
             or is super-linear on this input"
        )),
        (Some(status), None) => Some(format!(
            "the worker died ({status}) without a report: a panic, or an allocation past \
             the {} MiB address-space limit:\n{}\n{}",
            PATHOLOGICAL_ADDRESS_SPACE_KIB / 1024,
            tail(&stdout),
            tail(&stderr)
        )),
        (Some(_), Some(_)) => None,
    };
    Report {
        elapsed,
        line,
        died,
    }
}

/// How much longer reading four times the input may take: 4 for a linear reader, 16 for a
/// quadratic one; the slack absorbs the noise of a busy machine on small times.
const GROWTH_FACTOR: u64 = 6;
const GROWTH_SLACK_MS: u64 = 2_000;

/// What is wrong with how `case` was read at a quarter of `SIZE` and at `SIZE`, if anything.
fn judge(case: &Pathological, quarter: &Report, full: &Report) -> Option<String> {
    for (report, size) in [(quarter, SIZE / 4), (full, SIZE)] {
        if let Some(died) = &report.died {
            return Some(format!("at {size} bytes: {died}"));
        }
        let verdict = report.field("verdict").unwrap_or("");
        let detail = report.field("detail").unwrap_or("");
        match case.expect {
            Expect::Refused(_) if verdict != "refused" => {
                return Some(format!("expected a refusal, got {verdict}: {detail}"));
            }
            Expect::Refused(fragment) if !detail.contains(fragment) => {
                return Some(format!(
                    "expected a refusal mentioning {fragment:?}, got: {detail}"
                ));
            }
            _ => {}
        }
    }
    let peak = full.number("peak_kib");
    if peak > PATHOLOGICAL_MEMORY_LIMIT_KIB {
        return Some(format!(
            "peak resident memory {} MiB is over the limit of {} MiB",
            peak / 1024,
            PATHOLOGICAL_MEMORY_LIMIT_KIB / 1024
        ));
    }
    let (small, large) = (quarter.number("parse_ms"), full.number("parse_ms"));
    if large > GROWTH_FACTOR * small + GROWTH_SLACK_MS {
        return Some(format!(
            "reading took {small} ms at {} bytes and {large} ms at {} bytes: it grows faster \
             than the input",
            quarter.number("size"),
            full.number("size")
        ));
    }
    None
}

/// Reads the named pathological inputs, each at two sizes, two child processes at a time;
/// panics listing every input not read in bounded time and memory.
fn assert_pathological_inputs_are_handled(names: &[&str]) {
    let all = pathological_inputs();
    let cases: Vec<&Pathological> = all
        .iter()
        .filter(|case| names.contains(&case.name))
        .collect();
    assert_eq!(
        cases.len(),
        names.len(),
        "unknown pathological inputs among {names:?}"
    );
    // Largest first, so the two workers finish together.
    let jobs: Vec<(usize, usize)> = (0..cases.len())
        .map(|index| (index, SIZE / 4))
        .chain((0..cases.len()).map(|index| (index, SIZE)))
        .collect();
    let queue = Mutex::new(jobs);
    let reports: Mutex<Vec<(usize, usize, Report)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let Some((index, size)) = queue.lock().unwrap().pop() else {
                    break;
                };
                let report = run_pathological(cases[index], size);
                reports.lock().unwrap().push((index, size, report));
            });
        }
    });
    let reports = reports.into_inner().unwrap();
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let report = |wanted: usize| {
            reports
                .iter()
                .find(|(at, size, _)| *at == index && *size == wanted)
                .map(|(_, _, report)| report)
                .expect("a report for every job")
        };
        let (quarter, full) = (report(SIZE / 4), report(SIZE));
        eprintln!(
            "fuzz: {:<40} {:>5} ms at 1/4 size, {:>7.2?} {}",
            case.name,
            quarter.number("parse_ms"),
            full.elapsed,
            full.line.as_deref().unwrap_or("(no report)")
        );
        if let Some(failure) = judge(case, quarter, full) {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "pathological inputs not read in bounded time and memory:\n{}",
        failures.join("\n")
    );
}

#[test]
fn pathological_inputs_finish_in_bounded_time_and_memory() {
    let all = pathological_inputs();
    let names: Vec<&str> = all
        .iter()
        .map(|case| case.name)
        .filter(|name| !KNOWN_BUGS.contains(name))
        .collect();
    assert_pathological_inputs_are_handled(&names);
}

// -------------------------------------------------------------------------------------------
// Regressions: the bugs fuzzing found, one test each.

#[test]
fn tmx_reader_is_linear_in_the_codes_open_in_a_segment() {
    assert_pathological_inputs_are_handled(&["tmx_many_open_bpt_in_one_segment"]);
}

#[test]
fn xliff_reader_is_linear_in_the_unpaired_codes_of_a_segment() {
    assert_pathological_inputs_are_handled(&[
        "xliff_many_unpaired_bpt_in_one_source",
        "xliff_2_many_unclosed_sc_in_one_source",
    ]);
}

#[test]
fn tbx_reader_is_linear_in_the_notes_of_an_entry() {
    assert_pathological_inputs_are_handled(&["tbx_many_notes_in_one_entry"]);
}

/// Inline markup the readers accept but no XML document can carry: a character XML 1.0
/// cannot carry in a code's content or attributes, or an attribute list that is not
/// well-formed on an element inside `<seg>` (the TMX reader reads no attribute of `hi`,
/// `sub` and the like, and only up to `i` on `bpt`/`ept`, then keeps the tag as it was).
const UNEXPORTABLE_MARKUP: &[(&str, Format, &str)] = &[
    (
        "tmx-bpt-content",
        Format::Tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg><bpt i="1">&#1;</bpt>Hello<ept i="1">x</ept></seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu></body></tmx>"#,
    ),
    (
        "tmx-ph-attribute",
        Format::Tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg>Hello<ph x="1" type="&#1;"/></seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu></body></tmx>"#,
    ),
    (
        "tmx-hi-unquoted-attribute",
        Format::Tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg>Hello<hi x=1>!</hi></seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu></body></tmx>"#,
    ),
    (
        "tmx-bpt-junk-after-i",
        Format::Tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg><bpt i="1" junk>b</bpt>Hello<ept i="1">e</ept></seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu></body></tmx>"#,
    ),
    (
        "tmx-bpt-repeated-attribute",
        Format::Tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg><bpt i="1" x="1" x="2">b</bpt>Hello<ept i="1">e</ept></seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu></body></tmx>"#,
    ),
    (
        // Found by the fuzzer in a UTF-16 file cut mid-character: the raw U+0000 sat in an
        // attribute name, where no check looked.
        "tmx-hi-nul-in-attribute-name",
        Format::Tmx,
        "<tmx version=\"1.4\"><header srclang=\"en\"/><body><tu><tuv xml:lang=\"en\"><seg>Hello<hi x='1' a\u{0}ype=\"b\">!</hi></seg></tuv><tuv xml:lang=\"fr\"><seg>Bonjour</seg></tuv></tu></body></tmx>",
    ),
    (
        "tmx-hi-attribute-name-not-an-xml-name",
        Format::Tmx,
        r#"<tmx version="1.4"><header srclang="en"/><body><tu><tuv xml:lang="en"><seg>Hello<hi x='1' a☀b="b">!</hi></seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu></body></tmx>"#,
    ),
    (
        "xliff-ph-content",
        Format::Xliff,
        r#"<xliff version="1.2"><file source-language="en" target-language="fr"><body><trans-unit id="1"><source>Hello<ph id="1">&#1;</ph></source><target state="final">Bonjour</target></trans-unit></body></file></xliff>"#,
    ),
    (
        "xliff-cp-in-native-content",
        Format::Xliff,
        r#"<xliff version="1.2"><file source-language="en" target-language="fr"><body><trans-unit id="1"><source>Hello<ph id="1"><cp hex="1"/></ph></source><target state="final">Bonjour</target></trans-unit></body></file></xliff>"#,
    ),
];

#[test]
fn imported_markup_can_be_exported_as_well_formed_xml() {
    let options = ImportOptions {
        source_lang: "en".into(),
        target_lang: "fr".into(),
        collection: "fuzz".into(),
        status: Status::Approved,
        author: None,
        max_text_chars: 10_000,
    };
    let mut problems = Vec::new();
    for (name, format, document) in UNEXPORTABLE_MARKUP {
        let parsed = read_pairs(document.as_bytes(), *format, None, None, options.clone())
            .unwrap_or_else(|error| panic!("{name} reads: {error}"));
        if let Some((markup, problem)) = first_markup_problem(&parsed) {
            let (MarkupProblem::NotXmlCharacter(what)
            | MarkupProblem::BadAttribute(what)
            | MarkupProblem::Malformed(what)) = problem;
            problems.push(format!("{name}: the markup {what}: {markup:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "imported markup that no TMX export can carry:\n{}",
        problems.join("\n")
    );
}

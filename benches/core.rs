//! Criterion benchmarks of the hot paths: normalization, the match score and an in-process
//! lookup on a TM of real pairs. Run: `cargo bench --bench core`.

use std::hint::black_box;
use std::path::Path;

use attache::termbase::recognize::Recognizer;
use attache::termbase::{Entry, Term, TermStatus, Workflow};
use attache::text::{normalize, score, token_ids, QueryScorer};
use attache::tm::{LookupQuery, NewUnit, OpenMode, Tm};
use criterion::{criterion_group, criterion_main, Criterion};

const SENTENCE: &str = "会议强调，要坚持以习近平外交思想为指导，统筹推进北京国际交往中心功能建设，\
                        高质量共建“一带一路”，为“十五五”开好局起好步营造良好外部环境。";
const CANDIDATE: &str = "会议指出，要坚持以习近平外交思想为指导，统筹推进国际交往中心功能建设，\
                         高质量共建“一带一路”，为“十四五”规划圆满收官营造良好外部环境。";

fn real_pairs(limit: usize) -> Vec<(String, String)> {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/corpora");
    let mut pairs = Vec::new();
    let mut add = |zh_path: &Path, en_path: &Path| {
        let zh = std::fs::read_to_string(zh_path).unwrap();
        let en = std::fs::read_to_string(en_path).unwrap();
        for (zh, en) in zh.lines().zip(en.lines()) {
            if !zh.trim().is_empty() && !en.trim().is_empty() {
                pairs.push((zh.trim().to_owned(), en.trim().to_owned()));
            }
        }
    };
    add(
        &corpora.join("un-devset/UNv1.0.devset.zh"),
        &corpora.join("un-devset/UNv1.0.devset.en"),
    );
    for year in ["2017", "2018", "2019", "2020"] {
        let folder = corpora.join("wmt-newstest");
        add(
            &folder.join(format!("newstest{year}.zh-en.zh")),
            &folder.join(format!("newstest{year}.zh-en.en")),
        );
    }
    pairs.truncate(limit);
    pairs
}

fn text_benches(criterion: &mut Criterion) {
    criterion.bench_function("normalize/zh-sentence", |bencher| {
        bencher.iter(|| normalize(black_box(SENTENCE)))
    });
    criterion.bench_function("tokenize/zh-sentence", |bencher| {
        bencher.iter(|| token_ids(black_box(SENTENCE)))
    });
    criterion.bench_function("score/one-pair", |bencher| {
        bencher.iter(|| score(black_box(SENTENCE), black_box(CANDIDATE)))
    });
    let scorer = QueryScorer::new(SENTENCE);
    let candidate_tokens = token_ids(CANDIDATE);
    criterion.bench_function("score/prepared-query-pretokenized-candidate", |bencher| {
        bencher.iter(|| scorer.score_tokens(black_box(CANDIDATE), black_box(&candidate_tokens)))
    });
}

fn lookup_benches(criterion: &mut Criterion) {
    let pairs = real_pairs(20_000);
    let dir = tempfile::tempdir().unwrap();
    let tm = Tm::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let units = pairs
        .iter()
        .map(|(zh, en)| NewUnit::pair("zh-CN", zh, "en", en))
        .collect();
    tm.add_blocking(units).unwrap();
    // Queries: every 97th stored sentence with its last character changed.
    let queries: Vec<String> = pairs
        .iter()
        .step_by(97)
        .map(|(zh, _)| {
            let mut chars: Vec<char> = zh.chars().collect();
            if let Some(last) = chars.last_mut() {
                *last = '国';
            }
            chars.into_iter().collect()
        })
        .collect();
    let mut next = 0;
    criterion.bench_function("lookup/in-process-17k-real-pairs", |bencher| {
        bencher.iter(|| {
            next = (next + 1) % queries.len();
            let query = LookupQuery {
                text: queries[next].clone(),
                source_lang: "zh".to_owned(),
                target_lang: "en".to_owned(),
                min_score: 50,
                limit: 5,
                collections: Vec::new(),
                hidden_collections: Vec::new(),
            };
            black_box(tm.lookup(&query).unwrap())
        })
    });
    tm.close();
}

/// A 10,000-entry glossary made of real phrases: the opening 4–8 characters of Chinese
/// clauses and 2–4-word English phrases from the corpora.
fn synthetic_glossary(pairs: &[(String, String)], size: usize) -> Vec<Entry> {
    let mut chinese = std::collections::BTreeSet::new();
    let mut english = std::collections::BTreeSet::new();
    for (zh, en) in pairs {
        for clause in zh.split(['，', '。', '、', '；']) {
            let characters: Vec<char> = clause.chars().collect();
            if characters.len() >= 8 {
                let length = 4 + characters.len() % 5;
                chinese.insert(characters[..length].iter().collect::<String>());
            }
        }
        let words: Vec<&str> = en.split_whitespace().collect();
        for window in words.chunks(3) {
            if window.len() >= 2 {
                english.insert(window.join(" "));
            }
        }
    }
    chinese
        .into_iter()
        .zip(english)
        .take(size)
        .enumerate()
        .map(|(index, (zh, en))| Entry {
            id: index as u64 + 1,
            subject_field: None,
            definition: None,
            note: None,
            source: None,
            workflow: Workflow::Approved,
            valid_from: None,
            valid_until: None,
            terms: vec![
                Term {
                    lang: "zh".into(),
                    text: zh,
                    status: TermStatus::Preferred,
                    term_type: None,
                    part_of_speech: None,
                    context: None,
                    note: None,
                    case_sensitive: false,
                },
                Term {
                    lang: "en".into(),
                    text: en,
                    status: TermStatus::Preferred,
                    term_type: None,
                    part_of_speech: None,
                    context: None,
                    note: None,
                    case_sensitive: false,
                },
            ],
        })
        .collect()
}

fn recognition_benches(criterion: &mut Criterion) {
    let pairs = real_pairs(20_000);
    let glossary = synthetic_glossary(&pairs, 10_000);
    assert_eq!(glossary.len(), 10_000);
    criterion.bench_function("recognize/build-10k-entries", |bencher| {
        bencher.iter(|| Recognizer::build(black_box(glossary.iter())))
    });
    let recognizer = Recognizer::build(glossary.iter());
    // Real segments of about 100 characters.
    let chinese: Vec<&str> = pairs
        .iter()
        .map(|(zh, _)| zh.as_str())
        .filter(|zh| (90..=110).contains(&zh.chars().count()))
        .take(50)
        .collect();
    let english: Vec<&str> = pairs
        .iter()
        .map(|(_, en)| en.as_str())
        .filter(|en| (90..=110).contains(&en.chars().count()))
        .take(50)
        .collect();
    let mut next = 0;
    criterion.bench_function("recognize/zh-100-chars-10k-entries", |bencher| {
        bencher.iter(|| {
            next = (next + 1) % chinese.len();
            black_box(recognizer.recognize(chinese[next], "zh", Some("en")))
        })
    });
    criterion.bench_function("recognize/en-100-chars-10k-entries", |bencher| {
        bencher.iter(|| {
            next = (next + 1) % english.len();
            black_box(recognizer.recognize(english[next], "en", Some("zh")))
        })
    });
}

criterion_group!(benches, text_benches, lookup_benches, recognition_benches);
criterion_main!(benches);

//! A lookup is correct only if no stored segment scores higher than the best one returned:
//! checked against an exhaustive scan on a 20,000-pair TM made from the real corpora.

use std::path::Path;
use std::process::Command;

use attache::text::{token_ids, QueryScorer};

use crate::support::{shared, Server};

fn make_corpus(out: &Path) {
    let status = Command::new("python3")
        .arg(shared().join("bench/corpus.py"))
        .args(["--size", "20000", "--queries", "200", "--out"])
        .arg(out)
        .status()
        .expect("python3 is needed to run the shared corpus generator (bench/corpus.py)");
    assert!(status.success(), "corpus.py failed");
}

#[tokio::test]
async fn recall_at_1_against_an_exhaustive_scan_on_20k_real_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    make_corpus(&corpus);
    let tm_tsv = std::fs::read_to_string(corpus.join("tm.tsv")).unwrap();
    let queries: Vec<String> = std::fs::read_to_string(corpus.join("queries.tsv"))
        .unwrap()
        .lines()
        .map(|line| line.split_once('\t').unwrap().1.to_owned())
        .collect();
    assert_eq!(queries.len(), 200);

    let server = Server::start(&dir.path().join("data"));
    let (status, report) = server
        .import_tsv(&tm_tsv, "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 200, "{report}");
    assert!(server.segment_count().await >= 19_000, "{report}");

    let sources: Vec<&str> = tm_tsv
        .lines()
        .map(|line| line.split_once('\t').unwrap().0)
        .collect();
    let source_tokens: Vec<Vec<u64>> = sources.iter().map(|source| token_ids(source)).collect();

    let mut judged = 0;
    let mut misses = Vec::new();
    for query in &queries {
        let scorer = QueryScorer::new(query);
        let truth = sources
            .iter()
            .zip(&source_tokens)
            .map(|(source, tokens)| scorer.score_tokens(source, tokens))
            .max()
            .unwrap_or(0);
        if truth < 50 {
            continue;
        }
        judged += 1;
        let body = server.lookup(query).await;
        let best = body["matches"][0]["score"].as_u64().unwrap_or(0) as u8;
        assert!(
            best <= truth,
            "the server reported {best} above the true best {truth}"
        );
        if best < truth {
            misses.push(format!("{query}: got {best}, best is {truth}"));
        }
    }
    // About half the queries are real sentences kept out of the TM and have no good match.
    assert!(
        judged >= 60,
        "only {judged} queries have a match of 50 or more"
    );
    eprintln!(
        "recall test: {} misses among {judged} judged queries",
        misses.len()
    );
    let recall = (judged - misses.len()) as f64 / judged as f64;
    assert!(
        recall >= 0.99,
        "recall@1 {recall:.3} over {judged} judged queries; misses:\n{}",
        misses.join("\n")
    );
}

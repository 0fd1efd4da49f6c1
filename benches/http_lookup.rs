//! Lookup latency over HTTP and recall@1 against an exhaustive scan, on a TM made by the
//! shared benchmark kit. The way BENCHMARKS.md's figures are made:
//!
//! ```text
//! cargo bench --bench http_lookup                     # 100,000 pairs, 400 queries
//! ATTACHE_BENCH_SIZE=20000 cargo bench --bench http_lookup
//! ```
//!
//! It runs `../shared/bench/corpus.py` into `target/bench-tm-<size>` (unless that folder has
//! a `tm.tsv` already, or `ATTACHE_BENCH_DIR` points at one), computes the exhaustive best
//! score of every query with Attaché's own scorer (checked against the reference
//! implementation by the golden test) and writes it as `truth-attache.tsv`, starts the
//! release server on a loopback port, imports the TM over HTTP, then sends the queries one at
//! a time, as a translator's CAT tool would. It prints one line in the format of
//! `../shared/bench/peers.py`, so the peers can be run on the same folder in the same session.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use attache::text::{token_ids, QueryScorer};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The exhaustive best score of each query, computed on both cores.
fn exhaustive_truth(sources: &[String], queries: &[String]) -> Vec<u8> {
    let tokens: Vec<Vec<u64>> = sources.iter().map(|source| token_ids(source)).collect();
    let mut truth = vec![0u8; queries.len()];
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = queries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for (query_chunk, truth_chunk) in queries.chunks(chunk).zip(truth.chunks_mut(chunk)) {
            let tokens = &tokens;
            scope.spawn(move || {
                for (query, best) in query_chunk.iter().zip(truth_chunk.iter_mut()) {
                    let scorer = QueryScorer::new(query);
                    *best = sources
                        .iter()
                        .zip(tokens)
                        .map(|(source, ids)| scorer.score_tokens(source, ids))
                        .max()
                        .unwrap_or(0);
                }
            });
        }
    });
    truth
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is ignored.
    let size: usize = std::env::var("ATTACHE_BENCH_SIZE")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let query_count: usize = std::env::var("ATTACHE_BENCH_QUERIES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(400);
    let dir = std::env::var("ATTACHE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-tm-{size}"))
        });
    if !dir.join("tm.tsv").exists() {
        let status = Command::new("python3")
            .arg(shared().join("bench/corpus.py"))
            .args([
                "--size",
                &size.to_string(),
                "--queries",
                &query_count.to_string(),
                "--out",
            ])
            .arg(&dir)
            .status()
            .expect("python3 runs the shared corpus generator");
        assert!(status.success());
    }
    let tm_text = std::fs::read_to_string(dir.join("tm.tsv")).unwrap();
    let sources: Vec<String> = tm_text
        .lines()
        .map(|line| line.split_once('\t').unwrap().0.to_owned())
        .collect();
    let queries: Vec<String> = std::fs::read_to_string(dir.join("queries.tsv"))
        .unwrap()
        .lines()
        .map(|line| line.split_once('\t').unwrap().1.to_owned())
        .collect();

    let started = Instant::now();
    let truth = exhaustive_truth(&sources, &queries);
    eprintln!(
        "exhaustive truth for {} queries over {} segments in {:.1}s",
        queries.len(),
        sources.len(),
        started.elapsed().as_secs_f64()
    );
    let mut truth_file = std::fs::File::create(dir.join("truth-attache.tsv")).unwrap();
    for (index, best) in truth.iter().enumerate() {
        writeln!(truth_file, "{index}\t{best}").unwrap();
    }
    // Cross-check against the kit's own truth when it has been computed.
    if let Ok(kit_truth) = std::fs::read_to_string(dir.join("truth.tsv")) {
        let disagreements = kit_truth
            .lines()
            .zip(&truth)
            .filter(|(line, ours)| {
                line.split('\t').nth(1).and_then(|v| v.parse::<u8>().ok()) != Some(**ours)
            })
            .count();
        eprintln!(
            "truth.py agrees on {} of {} queries",
            truth.len() - disagreements,
            truth.len()
        );
    }

    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_attache"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(address) = line.strip_prefix("attache listening on ") {
            break address.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let response = client
            .post(format!(
                "{base}/api/v1/import?format=tsv&source_lang=zh&target_lang=en"
            ))
            .body(tm_text.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let load_seconds = started.elapsed().as_secs_f64();

        let lookup = |text: String| {
            let client = client.clone();
            let url = format!("{base}/api/v1/lookup");
            async move {
                let response = client
                    .post(url)
                    .json(&serde_json::json!({"text": text, "source_lang": "zh", "target_lang": "en", "min_score": 50, "limit": 5}))
                    .send()
                    .await
                    .unwrap();
                let body: serde_json::Value = response.json().await.unwrap();
                body["matches"][0]["score"].as_u64().unwrap_or(0) as u8
            }
        };
        for query in queries.iter().take(50) {
            lookup(query.clone()).await;
        }
        let mut latencies = Vec::with_capacity(queries.len());
        let mut best = Vec::with_capacity(queries.len());
        for query in &queries {
            let started = Instant::now();
            let score = lookup(query.clone()).await;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            best.push(score);
        }
        let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
        latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let judged: Vec<(u8, u8)> = best
            .iter()
            .zip(&truth)
            .filter(|(_, truth)| **truth >= 50)
            .map(|(best, truth)| (*best, *truth))
            .collect();
        let hits = judged.iter().filter(|(best, truth)| best >= truth).count();
        println!(
            "attache-http: tm={} load={:.1}s p50={:.2}ms p95={:.2}ms p99={:.2}ms mean={:.2}ms recall@1={}/{}={:.3}",
            sources.len(),
            load_seconds,
            percentile(&latencies, 50.0),
            percentile(&latencies, 95.0),
            percentile(&latencies, 99.0),
            mean,
            hits,
            judged.len(),
            hits as f64 / judged.len().max(1) as f64
        );
        for ((query, got), want) in queries.iter().zip(&best).zip(&truth) {
            if *want >= 50 && got < want {
                eprintln!("miss: got {got}, best {want}: {query}");
            }
        }
    });
    let _ = server.kill();
    let _ = server.wait();
}

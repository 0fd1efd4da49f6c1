//! The load benchmark: a TM made by the shared benchmark kit, imported over HTTP, looked up
//! over HTTP by 1 and by 8 concurrent clients in both directions, against the exhaustive
//! truth — and the peers on the same folder in the same run. BENCHMARKS.md's figures come
//! from it:
//!
//! ```text
//! ATTACHE_BENCH_SIZE=1000000 ATTACHE_BENCH_TMX=1 ATTACHE_BENCH_PEERS=pg cargo bench --bench load
//! ```
//!
//! Settings (environment):
//! - `ATTACHE_BENCH_SIZE` (100000), `ATTACHE_BENCH_QUERIES` (400): the TM and query set, made
//!   by `../shared/bench/corpus.py` into `target/bench-tm-<size>` unless it is there already
//!   (`ATTACHE_BENCH_DIR` names another folder). `benches/en_queries.py` makes its
//!   English-source twin (`<dir>-en`) for en→zh lookups.
//! - `ATTACHE_BENCH_SEED` (the kit's default, 20261127): another seed makes another TM and
//!   query set (give `ATTACHE_BENCH_DIR` too, e.g. `target/bench-tm-1000000-seed7`).
//! - `ATTACHE_BENCH_CLIENTS` (`1,8`): the concurrent clients of each run.
//! - `ATTACHE_BENCH_TMX=1`: also time the import of the same TM as TMX, into a second server.
//! - `ATTACHE_BENCH_PEERS` (`pg`, `scan 40`, …, `;`-separated): peers run by
//!   `../shared/bench/peers.py` on the same folders after Attaché is stopped.
//! - `ATTACHE_BENCH_INDEX`: a data directory kept between runs; when it already holds the
//!   TM, the import is skipped (for tuning lookups without re-importing).
//! - `ATTACHE_BENCH_RECALL=0`: skip the exhaustive truth (minutes at 5M pairs); recall is then
//!   not reported.
//!
//! The exhaustive truth is computed once per folder with Attaché's own scorer (pinned to the
//! reference implementation by the golden test) and kept as `truth-attache.tsv`; the kit's
//! `truth.tsv` is written from it where the kit has not made one, so `peers.py` can judge the
//! English-source folder too. recall@1 is counted as the kit counts it: among queries whose
//! exhaustive best scores at least 50, the share whose best returned score equals it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use attache::text::{token_ids, QueryScorer};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// One direction's TM folder, queries and truth.
struct QuerySet {
    source_lang: &'static str,
    target_lang: &'static str,
    dir: PathBuf,
    queries: Vec<String>,
    truth: Vec<u8>,
}

/// The TM's source column of `dir/tm.tsv`.
fn sources_of(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("tm.tsv"))
        .unwrap()
        .lines()
        .map(|line| line.split_once('\t').unwrap().0.to_owned())
        .collect()
}

fn queries_of(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("queries.tsv"))
        .unwrap()
        .lines()
        .map(|line| line.split_once('\t').unwrap().1.to_owned())
        .collect()
}

/// The exhaustive best score of each query (and one TM line reaching it), on every core.
fn exhaustive_truth(sources: &[String], queries: &[String]) -> Vec<(u8, i64)> {
    let tokens: Vec<Vec<u64>> = sources.iter().map(|source| token_ids(source)).collect();
    let mut truth = vec![(0u8, -1i64); queries.len()];
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = queries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for (query_chunk, truth_chunk) in queries.chunks(chunk).zip(truth.chunks_mut(chunk)) {
            let tokens = &tokens;
            scope.spawn(move || {
                for (query, best) in query_chunk.iter().zip(truth_chunk.iter_mut()) {
                    let scorer = QueryScorer::new(query);
                    for (line, (source, ids)) in sources.iter().zip(tokens).enumerate() {
                        let score = scorer.score_tokens(source, ids);
                        if score > best.0 {
                            *best = (score, line as i64);
                        }
                    }
                }
            });
        }
    });
    truth
}

/// The truth of `dir`, computed once and kept beside the TM (empty when recall is not wanted).
fn truth_of(dir: &Path, queries: &[String], wanted: bool) -> Vec<u8> {
    if !wanted {
        return Vec::new();
    }
    let cached = dir.join("truth-attache.tsv");
    if let Ok(text) = std::fs::read_to_string(&cached) {
        let truth: Vec<u8> = text
            .lines()
            .filter_map(|line| line.split('\t').nth(1)?.parse().ok())
            .collect();
        if truth.len() == queries.len() {
            return truth;
        }
    }
    let started = Instant::now();
    let truth = exhaustive_truth(&sources_of(dir), queries);
    eprintln!(
        "exhaustive truth of {} in {:.0}s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    let rows: String = truth
        .iter()
        .enumerate()
        .map(|(index, (best, line))| format!("{index}\t{best}\t{line}\n"))
        .collect();
    std::fs::write(&cached, &rows).unwrap();
    let kit_truth = dir.join("truth.tsv");
    match std::fs::read_to_string(&kit_truth) {
        Err(_) => std::fs::write(&kit_truth, &rows).unwrap(),
        Ok(text) => {
            let agree = text
                .lines()
                .zip(&truth)
                .filter(|(line, ours)| {
                    line.split('\t').nth(1).and_then(|v| v.parse::<u8>().ok()) == Some(ours.0)
                })
                .count();
            eprintln!("truth.py agrees on {agree} of {} queries", truth.len());
        }
    }
    truth.into_iter().map(|(best, _)| best).collect()
}

fn python(script: &Path, arguments: &[&str]) -> String {
    let output = Command::new("python3")
        .arg(script)
        .args(arguments)
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{} {arguments:?} failed",
        script.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A release server on a loopback port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_attache"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("server output").unwrap();
            if let Some(address) = line.strip_prefix("attache listening on ") {
                break address.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }

    /// Resident memory now and at its peak, from /proc (MiB): total, anonymous, file-backed.
    fn memory(&self) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map_or(0, |kib| kib / 1024)
        };
        format!(
            "rss={}MiB (anon {}MiB, file {}MiB) peak={}MiB",
            field("VmRSS:"),
            field("RssAnon:"),
            field("RssFile:"),
            field("VmHWM:")
        )
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn directory_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => directory_bytes(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Imports `path` over HTTP; the seconds it took.
async fn import(client: &reqwest::Client, base: &str, path: &Path, format: &str) -> f64 {
    let started = Instant::now();
    let body = tokio::fs::read(path).await.unwrap();
    let response = client
        .post(format!(
            "{base}/api/v1/import?format={format}&source_lang=zh&target_lang=en"
        ))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let report = response.text().await.unwrap();
    assert_eq!(status, 200, "{report}");
    started.elapsed().as_secs_f64()
}

async fn health(client: &reqwest::Client, base: &str) -> serde_json::Value {
    client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn segment_count(client: &reqwest::Client, base: &str) -> u64 {
    health(client, base).await["segments"].as_u64().unwrap_or(0)
}

/// Waits (up to five minutes) for the merge that follows a large import, so lookups are
/// measured on the index as it will serve; the seconds it took.
async fn settle(client: &reqwest::Client, base: &str) -> f64 {
    let started = Instant::now();
    while started.elapsed().as_secs() < 300 {
        if health(client, base).await["index_segments"].as_u64() == Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    started.elapsed().as_secs_f64()
}

/// The same TM as a TMX file (written once, with Attaché's TMX writer).
fn tmx_of(dir: &Path) -> PathBuf {
    let path = dir.join("tm.tmx");
    if path.exists() {
        return path;
    }
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut tmx = attache::formats::tmx::TmxWriter::begin(file, "zh", None).unwrap();
    let text = std::fs::read_to_string(dir.join("tm.tsv")).unwrap();
    for (index, line) in text.lines().enumerate() {
        let (zh, en) = line.split_once('\t').unwrap();
        let unit = attache::tm::NewUnit::pair("zh", zh, "en", en)
            .into_unit(index as u64 + 1, 1_700_000_000_000);
        tmx.write_unit(&unit).unwrap();
    }
    tmx.finish().unwrap().flush().unwrap();
    path
}

/// One lookup; the best score returned.
async fn lookup(client: &reqwest::Client, url: &str, set: &QuerySet, text: &str) -> u8 {
    let body: serde_json::Value = client
        .post(url)
        .json(&serde_json::json!({
            "text": text,
            "source_lang": set.source_lang,
            "target_lang": set.target_lang,
            "min_score": 50,
            "limit": 5,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["matches"][0]["score"].as_u64().unwrap_or(0) as u8
}

/// `clients` clients each send every query once (each from its own starting point), one
/// request at a time. Returns the sorted latencies (ms), wall time (s) and, for one client,
/// the best score of each query.
async fn run_clients(
    client: &reqwest::Client,
    base: &str,
    set: &QuerySet,
    clients: usize,
) -> (Vec<f64>, f64, Vec<u8>) {
    let url = format!("{base}/api/v1/lookup");
    let started = Instant::now();
    let runs = (0..clients).map(|number| {
        let url = url.clone();
        async move {
            let count = set.queries.len();
            let offset = number * count / clients;
            let mut latencies = Vec::with_capacity(count);
            let mut best = vec![0u8; count];
            for step in 0..count {
                let index = (offset + step) % count;
                let sent = Instant::now();
                best[index] = lookup(client, &url, set, &set.queries[index]).await;
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            (latencies, best)
        }
    });
    let results = futures_util::future::join_all(runs).await;
    let wall = started.elapsed().as_secs_f64();
    let best = results[0].1.clone();
    let mut latencies: Vec<f64> = results.into_iter().flat_map(|(l, _)| l).collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (latencies, wall, best)
}

fn main() {
    let size: usize = setting("ATTACHE_BENCH_SIZE", 100_000);
    let query_count: usize = setting("ATTACHE_BENCH_QUERIES", 400);
    let dir = std::env::var("ATTACHE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-tm-{size}"))
        });
    let clients: Vec<usize> = setting("ATTACHE_BENCH_CLIENTS", "1,8".to_owned())
        .split(',')
        .filter_map(|count| count.trim().parse().ok())
        .collect();
    let also_tmx = setting("ATTACHE_BENCH_TMX", 0u8) == 1;
    let with_recall = setting("ATTACHE_BENCH_RECALL", 1u8) == 1;
    let seed = setting("ATTACHE_BENCH_SEED", 20_261_127u64).to_string();
    let peers: Vec<String> = setting("ATTACHE_BENCH_PEERS", String::new())
        .split(';')
        .map(|peer| peer.trim().to_owned())
        .filter(|peer| !peer.is_empty())
        .collect();

    if !dir.join("tm.tsv").exists() {
        let arguments = [
            "--size",
            &size.to_string(),
            "--queries",
            &query_count.to_string(),
            "--seed",
            &seed,
            "--out",
            dir.to_str().unwrap(),
        ];
        eprint!("{}", python(&shared().join("bench/corpus.py"), &arguments));
    }
    let en_dir = dir.with_file_name(format!("{}-en", dir.file_name().unwrap().to_string_lossy()));
    if !en_dir.join("queries.tsv").exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/en_queries.py");
        eprint!(
            "{}",
            python(&script, &[dir.to_str().unwrap(), "--seed", &seed])
        );
    }
    let sets: Vec<QuerySet> = [(&dir, "zh", "en"), (&en_dir, "en", "zh")]
        .into_iter()
        .map(|(folder, source_lang, target_lang)| {
            let queries = queries_of(folder);
            let truth = truth_of(folder, &queries, with_recall);
            QuerySet {
                source_lang,
                target_lang,
                dir: folder.clone(),
                queries,
                truth,
            }
        })
        .collect();

    let temporary = tempfile::tempdir().unwrap();
    let data_dir = std::env::var("ATTACHE_BENCH_INDEX")
        .map(PathBuf::from)
        .unwrap_or_else(|_| temporary.path().join("data"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let server = Server::start(&data_dir);
    let tm_size = runtime.block_on(async {
        let stored = segment_count(&client, &server.base).await;
        if stored == 0 {
            let seconds = import(&client, &server.base, &dir.join("tm.tsv"), "tsv").await;
            println!(
                "attache import tsv: {} pairs in {seconds:.1}s; server {}",
                segment_count(&client, &server.base).await,
                server.memory()
            );
            let merged = settle(&client, &server.base).await;
            println!(
                "attache merge after import: {merged:.1}s more, in the background; server {}",
                server.memory()
            );
        } else {
            println!("attache: reusing the index in {}", data_dir.display());
        }
        segment_count(&client, &server.base).await
    });
    if also_tmx {
        let tmx = tmx_of(&dir);
        let tmx_data = temporary.path().join("tmx-data");
        let tmx_server = Server::start(&tmx_data);
        runtime.block_on(async {
            let seconds = import(&client, &tmx_server.base, &tmx, "tmx").await;
            println!(
                "attache import tmx ({} MiB): {} units in {seconds:.1}s; server {}",
                std::fs::metadata(&tmx).unwrap().len() / (1 << 20),
                segment_count(&client, &tmx_server.base).await,
                tmx_server.memory()
            );
        });
        tmx_server.stop();
    }
    println!(
        "attache index: {} MiB on disk for {tm_size} units",
        directory_bytes(&data_dir) / (1 << 20)
    );

    runtime.block_on(async {
        for set in &sets {
            let url = format!("{}/api/v1/lookup", server.base);
            for query in set.queries.iter().take(50) {
                lookup(&client, &url, set, query).await;
            }
            for &count in &clients {
                let (latencies, wall, best) = run_clients(&client, &server.base, set, count).await;
                let judged: Vec<(u8, u8)> = best
                    .iter()
                    .zip(&set.truth)
                    .filter(|(_, truth)| **truth >= 50)
                    .map(|(best, truth)| (*best, *truth))
                    .collect();
                let hits = judged.iter().filter(|(best, truth)| best >= truth).count();
                let recall = if set.truth.is_empty() {
                    "not measured".to_owned()
                } else {
                    format!(
                        "{hits}/{}={:.3}",
                        judged.len(),
                        hits as f64 / judged.len().max(1) as f64
                    )
                };
                println!(
                    "attache-http {}→{} clients={count}: tm={tm_size} p50={:.2}ms p95={:.2}ms p99={:.2}ms \
                     throughput={:.0}/s recall@1={recall}",
                    set.source_lang,
                    set.target_lang,
                    percentile(&latencies, 50.0),
                    percentile(&latencies, 95.0),
                    percentile(&latencies, 99.0),
                    latencies.len() as f64 / wall,
                );
                if count == 1 {
                    for ((query, got), want) in set.queries.iter().zip(&best).zip(&set.truth) {
                        if *want >= 50 && got < want {
                            eprintln!("miss: got {got}, best {want}: {query}");
                        }
                    }
                }
            }
        }
        println!("attache serving: {}", server.memory());
    });
    server.stop();

    for peer in &peers {
        for set in &sets {
            let mut arguments = vec![set.dir.to_str().unwrap()];
            arguments.extend(peer.split_whitespace());
            let line = python(&shared().join("bench/peers.py"), &arguments);
            print!("peer {}→{} {line}", set.source_lang, set.target_lang);
        }
    }
}

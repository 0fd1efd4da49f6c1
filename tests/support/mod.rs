//! Test support: the real `attache` binary on a loopback port, and the shared data.

pub mod dtd;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `../shared`, beside the repository.
pub fn shared() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        path.join("data").is_dir(),
        "the shared data folder is expected at {}",
        path.display()
    );
    path
}

/// The first `count` aligned pairs of the UN dev set (real UN documents).
pub fn un_pairs(count: usize) -> Vec<(String, String)> {
    let corpora = shared().join("data/corpora/un-devset");
    let zh = std::fs::read_to_string(corpora.join("UNv1.0.devset.zh")).unwrap();
    let en = std::fs::read_to_string(corpora.join("UNv1.0.devset.en")).unwrap();
    zh.lines()
        .zip(en.lines())
        .map(|(zh, en)| (zh.trim().to_owned(), en.trim().to_owned()))
        .filter(|(zh, en)| {
            !zh.is_empty() && !en.is_empty() && !zh.contains('\t') && !en.contains('\t')
        })
        .take(count)
        .collect()
}

pub fn tsv_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(zh, en)| format!("{zh}\t{en}\n"))
        .collect()
}

/// A running server process on its own data directory.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub client: reqwest::Client,
}

impl Server {
    /// Starts `attache serve` on a free loopback port with the embedded defaults.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_attache"))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            // The open-server warning would repeat for every test server.
            .env("RUST_LOG", "warn,attache::server=error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the attache binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let started = Instant::now();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(address) = line.strip_prefix("attache listening on ") {
                        break address.trim().to_owned();
                    }
                }
                _ => {
                    let status = child.wait().ok();
                    panic!("the server exited before listening: {status:?}");
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server start timed out"
            );
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child: Some(child),
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request and reads the answer as JSON (`null` if it is not JSON).
    async fn send_json(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.send_json(self.client.post(self.url(path)).json(&body))
            .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        self.send_json(request).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send_json(self.client.get(self.url(path))).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub async fn segment_count(&self) -> u64 {
        let (status, health) = self.get("/health").await;
        assert_eq!(status, 200);
        health["segments"].as_u64().unwrap()
    }

    pub async fn import_tsv(&self, tsv: &str, query: &str) -> (u16, Value) {
        self.post_raw(
            &format!("/api/v1/import?format=tsv&{query}"),
            "text/tab-separated-values",
            tsv.as_bytes().to_vec(),
        )
        .await
    }

    pub async fn lookup(&self, text: &str) -> Value {
        let (status, body) = self
            .post_json(
                "/api/v1/lookup",
                serde_json::json!({"text": text, "source_lang": "zh", "target_lang": "en"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// SIGKILL: no chance to flush or commit anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM and wait for a graceful exit; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            if started.elapsed() > Duration::from_secs(30) {
                child.kill().unwrap();
                child.wait().unwrap();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs the CLI with arguments; returns (success, stdout, stderr).
pub fn cli(arguments: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_attache"))
        .args(arguments)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the attache binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes a copy of the repository's config.toml with replacements, returns its path.
pub fn config_with(replacements: &[(&str, &str)], dir: &Path) -> PathBuf {
    let mut text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "config.toml has no {from:?}");
        text = text.replace(from, to);
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Validates a TBX file against the TBX core structure RelaxNG schema with xmllint. CI
/// installs xmllint (`.ci/run`); elsewhere a missing xmllint skips this check loudly.
pub fn assert_valid_tbx(path: &Path) {
    let schema = shared().join("data/formats/schemas/tbx-basic/TBXcoreStructV03.rng");
    match Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(&schema)
        .arg(path)
        .output()
    {
        Ok(output) => assert!(
            output.status.success(),
            "the TBX export does not validate: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "WARNING: xmllint not found; TBX export not validated against the RelaxNG schema"
            )
        }
        Err(error) => panic!("xmllint is required in CI: {error}"),
    }
}

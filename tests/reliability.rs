//! Crashes, a full disk, shutdown, backups and a soak under mixed load: nothing acknowledged
//! is lost, nothing unacknowledged is half there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{cli, tsv_of, un_pairs, Server};

/// `count` distinct pairs: UN pairs, numbered.
fn numbered_pairs(count: usize) -> Vec<(String, String)> {
    let base = un_pairs(4000);
    (0..count)
        .map(|index| {
            let (zh, en) = &base[index % base.len()];
            let copy = index / base.len();
            (format!("{zh}（第{copy}号）"), format!("{en} (No. {copy})"))
        })
        .collect()
}

fn pair(zh: &str, en: &str) -> Value {
    json!({"source_lang": "zh", "target_lang": "en", "source": zh, "target": en})
}

/// Writes single pairs until told to stop; records each acknowledged one with its id.
fn spawn_writer(
    server: &Server,
    prefix: String,
    acknowledged: Arc<Mutex<Vec<(u64, String, String)>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let client = server.client.clone();
    let url = server.url("/api/v1/segments");
    tokio::spawn(async move {
        let mut number = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            number += 1;
            let zh = format!("{prefix}第{number}句：双方同意继续加强合作。");
            let en = format!(
                "{prefix} sentence {number}: both sides agreed to keep strengthening cooperation."
            );
            let Ok(response) = client.post(&url).json(&pair(&zh, &en)).send().await else {
                break;
            };
            if response.status().as_u16() != 201 {
                break;
            }
            let Ok(body) = response.json::<Value>().await else {
                break;
            };
            acknowledged
                .lock()
                .unwrap()
                .push((body["id"].as_u64().unwrap(), zh, en));
        }
    })
}

async fn assert_all_there(server: &Server, acknowledged: &[(u64, String, String)]) {
    for (id, zh, en) in acknowledged {
        let (status, segment) = server.get(&format!("/api/v1/segments/{id}")).await;
        assert_eq!(status, 200, "acknowledged segment {id} was lost");
        assert_eq!(segment["source"], zh.as_str());
        assert_eq!(segment["target"], en.as_str());
    }
}

/// SIGKILL while a large import is being read into the index (its whole body sent, no answer
/// yet) and single-pair writes are acknowledged beside it.
#[tokio::test]
async fn kill_9_in_the_middle_of_a_large_import_keeps_acknowledged_writes_and_none_of_the_import() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let acknowledged: Arc<Mutex<Vec<(u64, String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|number| {
            spawn_writer(
                &server,
                format!("写入者{number}"),
                acknowledged.clone(),
                stop.clone(),
            )
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // 150,000 pairs: long enough to be killed in the middle of.
    let body = tsv_of(&numbered_pairs(150_000));
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut upload = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/import?format=tsv&source_lang=zh&target_lang=en&collection=bulk HTTP/1.1\r\n\
         host: x\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    upload.write_all(head.as_bytes()).await.unwrap();
    upload.write_all(body.as_bytes()).await.unwrap();
    upload.flush().await.unwrap();
    // The body is in; the server spools it and starts feeding the index.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut answer = [0u8; 64];
    let answered = tokio::time::timeout(
        Duration::from_millis(10),
        tokio::io::AsyncReadExt::read(&mut upload, &mut answer),
    )
    .await
    .is_ok();
    assert!(
        !answered,
        "the import finished before the kill; make it larger"
    );
    server.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        let _ = writer.await;
    }

    let server = Server::start(dir.path());
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_all_there(&server, &acknowledged).await;
    let (_, export) = server
        .get_text("/api/v1/export?format=tmx&collection=bulk")
        .await;
    assert_eq!(
        export.matches("<tu ").count(),
        0,
        "part of an unacknowledged import is there"
    );
    assert_eq!(server.segment_count().await, acknowledged.len() as u64);
    let (id, zh, _) = &acknowledged[acknowledged.len() / 2];
    let found = server.lookup(zh).await;
    assert_eq!(found["matches"][0]["id"].as_u64(), Some(*id));
}

/// A tmpfs of a few megabytes, unmounted on drop.
struct SmallDisk {
    mount_point: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` where mounting is not allowed (not root); under CI that is a failure.
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mount_point = dir.path().join("disk");
        std::fs::create_dir(&mount_point).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&mount_point)
            .status()
            .is_ok_and(|status| status.success());
        if !mounted {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must be able to mount a tmpfs for the disk-full test (run as root)"
            );
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(SmallDisk {
            mount_point,
            _dir: dir,
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mount_point)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_and_corrupts_nothing() {
    let Some(disk) = SmallDisk::mount(12) else {
        return;
    };
    let data = disk.mount_point.join("data");
    let mut server = Server::start(&data);
    let pairs = numbered_pairs(100_000);
    // Fill the disk with imports of 5,000 pairs until one is refused.
    let mut acknowledged_imports = 0;
    let mut refusal = None;
    for (number, chunk) in pairs.chunks(5_000).enumerate() {
        let (status, body) = server
            .import_tsv(
                &tsv_of(chunk),
                &format!("source_lang=zh&target_lang=en&collection=part{number}"),
            )
            .await;
        if status == 200 {
            acknowledged_imports += 1;
            continue;
        }
        refusal = Some((status, body));
        break;
    }
    let (status, body) = refusal.expect("12 MB held 100,000 pairs");
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["error"]["code"], "disk_full", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing of this request was stored"),
        "{body}"
    );
    assert!(acknowledged_imports >= 1, "not even one import fitted");
    // The refused import's files are removed, so a small write fits again; lookups go on.
    let (status, single) = server
        .post_json(
            "/api/v1/segments",
            pair(
                "磁盘已满之后的新句子。",
                "A new sentence after the disk filled up.",
            ),
        )
        .await;
    assert_eq!(status, 201, "{single}");
    let found = server.lookup(&pairs[17].0).await;
    assert_eq!(found["matches"][0]["score"], 100, "{found}");

    // After a kill and a restart on the same disk every acknowledged write is whole, and the
    // refused import is not there at all.
    server.kill9();
    let server = Server::start(&data);
    for number in 0..=acknowledged_imports {
        let (_, export) = server
            .get_text(&format!(
                "/api/v1/export?format=tmx&collection=part{number}"
            ))
            .await;
        let expected = if number < acknowledged_imports {
            5_000
        } else {
            0
        };
        assert_eq!(
            export.matches("<tu ").count(),
            expected,
            "collection part{number}"
        );
    }
    let (status, _) = server
        .get(&format!("/api/v1/segments/{}", single["id"]))
        .await;
    assert_eq!(status, 200);
    drop(server);
    drop(disk);
}

/// SIGTERM while a request is being served: it is answered, then the server exits cleanly.
#[tokio::test]
async fn sigterm_lets_an_in_flight_import_finish_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let body = tsv_of(&numbered_pairs(40_000));
    let client = server.client.clone();
    let url = server.url("/api/v1/import?format=tsv&source_lang=zh&target_lang=en");
    let import = tokio::spawn(async move {
        let response = client.post(url).body(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !import.is_finished(),
        "the import finished before SIGTERM; make it larger"
    );
    assert!(server.stop(), "the server did not exit cleanly");
    let (status, report) = import.await.unwrap();
    assert_eq!(status, 200, "{report}");
    let imported = report["imported"].as_u64().unwrap();
    let server = Server::start(dir.path());
    assert_eq!(server.segment_count().await, imported);
}

fn backup(data: &Path, to: &Path) -> String {
    let (ok, _, stderr) = cli(&[
        "backup",
        to.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    stderr
}

#[tokio::test]
async fn a_backup_taken_during_writes_restores_every_write_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let pairs = un_pairs(3000);
    let (status, _) = server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 200);
    let (status, entry) = server
        .post_json(
            "/api/v1/terms",
            json!({"workflow": "approved", "terms": [{"lang": "zh", "text": "全过程人民民主"},
                   {"lang": "en", "text": "whole-process people's democracy"}]}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");

    let acknowledged: Arc<Mutex<Vec<(u64, String, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|number| {
            spawn_writer(
                &server,
                format!("备份中{number}"),
                acknowledged.clone(),
                stop.clone(),
            )
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before_backup = acknowledged.lock().unwrap().clone();
    let backup_dir = dir.path().join("backup");
    let data_for_backup = data.clone();
    let backup_dir_for_task = backup_dir.clone();
    let report =
        tokio::task::spawn_blocking(move || backup(&data_for_backup, &backup_dir_for_task))
            .await
            .unwrap();
    assert!(report.contains("glossary entries"), "{report}");
    let during = acknowledged.lock().unwrap().len();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(
        during > before_backup.len(),
        "no write was acknowledged while the backup ran"
    );

    // A backup will not overwrite a folder that holds something.
    let (ok, _, stderr) = cli(&[
        "backup",
        backup_dir.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("not empty"), "{stderr}");

    let restored = dir.path().join("restored");
    let (ok, _, stderr) = cli(&[
        "restore",
        backup_dir.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let restored_server = Server::start(&restored);
    assert_all_there(&restored_server, &before_backup).await;
    let count = restored_server.segment_count().await;
    assert!(count >= 3000 + before_backup.len() as u64);
    assert!(
        count <= 3000 + during as u64 + 3,
        "the backup holds writes made after it"
    );
    let (status, _) = restored_server
        .get(&format!("/api/v1/terms/{}", entry["id"]))
        .await;
    assert_eq!(status, 200, "the glossary entry is not in the backup");
    let found = restored_server.lookup(&pairs[1234].0).await;
    assert_eq!(found["matches"][0]["score"], 100);
    // The restored memory takes new writes with new ids.
    let (status, body) = restored_server
        .post_json(
            "/api/v1/segments",
            pair("恢复之后的新句子。", "A new sentence after the restore."),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let max_acknowledged = before_backup.iter().map(|(id, _, _)| *id).max().unwrap();
    assert!(body["id"].as_u64().unwrap() > max_acknowledged);

    // A damaged backup restores nothing.
    let victim = std::fs::read_dir(&backup_dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.extension()
                .is_some_and(|extension| extension == "store")
        })
        .unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();
    let elsewhere = dir.path().join("restored-again");
    let (ok, _, stderr) = cli(&[
        "restore",
        backup_dir.to_str().unwrap(),
        "--data-dir",
        elsewhere.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("damaged"), "{stderr}");
    assert!(!elsewhere.exists(), "a damaged backup was partly restored");
}

/// Several clients look up, write and edit terms at once for a bounded time
/// (`ATTACHE_SOAK_SECONDS`, default 15); every answer must be right and every acknowledged
/// write readable afterwards, and after a restart.
#[tokio::test]
async fn soak_mixed_load_keeps_every_answer_right_and_every_write() {
    let seconds: u64 = std::env::var("ATTACHE_SOAK_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(15);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let pairs = un_pairs(3000);
    server
        .import_tsv(&tsv_of(&pairs), "source_lang=zh&target_lang=en")
        .await;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let acknowledged: Arc<Mutex<Vec<(u64, String, String)>>> = Arc::default();
    let operations = Arc::new(std::sync::atomic::AtomicU64::new(0));

    let mut clients = Vec::new();
    // Three lookup clients: a stored sentence must come back whole at 100.
    for client_number in 0..3usize {
        let client = server.client.clone();
        let url = server.url("/api/v1/lookup");
        let pairs = pairs.clone();
        let operations = operations.clone();
        clients.push(tokio::spawn(async move {
            let mut index = client_number * 7;
            while Instant::now() < deadline {
                index = (index + 13) % pairs.len();
                let (zh, en) = &pairs[index];
                let body: Value = client
                    .post(&url)
                    .json(&json!({"text": zh, "source_lang": "zh", "target_lang": "en"}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                // The corpus repeats some sources with other targets: any exact match may
                // come first, but this pair must be among them.
                let exact: Vec<&Value> = body["matches"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|found| found["score"] == 100)
                    .collect();
                assert!(
                    exact.iter().any(|found| found["target"] == en.as_str()),
                    "{zh}: {body}"
                );
                operations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    // Two writers: each acknowledged pair is read back at once.
    for client_number in 0..2usize {
        let client = server.client.clone();
        let base = server.base.clone();
        let acknowledged = acknowledged.clone();
        let operations = operations.clone();
        clients.push(tokio::spawn(async move {
            let mut number = 0;
            while Instant::now() < deadline {
                number += 1;
                let zh = format!("压力测试{client_number}号第{number}句：会议在北京举行。");
                let en = format!(
                    "Soak {client_number}, sentence {number}: the meeting was held in Beijing."
                );
                let response = client
                    .post(format!("{base}/api/v1/segments"))
                    .json(&pair(&zh, &en))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 201);
                let id = response.json::<Value>().await.unwrap()["id"]
                    .as_u64()
                    .unwrap();
                let segment: Value = client
                    .get(format!("{base}/api/v1/segments/{id}"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(segment["source"], zh.as_str());
                acknowledged.lock().unwrap().push((id, zh, en));
                operations.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    // One terminologist: creates an entry, changes its note, approves it, checks each step.
    let expected_terms: Arc<Mutex<HashMap<u64, String>>> = Arc::default();
    {
        let client = server.client.clone();
        let base = server.base.clone();
        let expected_terms = expected_terms.clone();
        let operations = operations.clone();
        clients.push(tokio::spawn(async move {
            let mut number = 0;
            while Instant::now() < deadline {
                number += 1;
                let entry: Value = client
                    .post(format!("{base}/api/v1/terms"))
                    .json(&json!({"terms": [{"lang": "zh", "text": format!("测试术语{number}")},
                                            {"lang": "en", "text": format!("soak term {number}")}]}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let id = entry["id"].as_u64().expect("entry created");
                let note = format!("note {number}");
                let patched = client
                    .patch(format!("{base}/api/v1/terms/{id}"))
                    .json(&json!({"note": note}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(patched.status().as_u16(), 200);
                let approved: Value = client
                    .post(format!("{base}/api/v1/terms/{id}/approve"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(approved["workflow"], "approved");
                assert_eq!(approved["note"], note.as_str());
                expected_terms.lock().unwrap().insert(id, note);
                operations.fetch_add(3, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    let total = operations.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "soak: {total} operations in {seconds} s by 6 clients ({:.0}/s), {} pairs written, {} entries curated",
        total as f64 / seconds as f64,
        acknowledged.lock().unwrap().len(),
        expected_terms.lock().unwrap().len()
    );
    assert!(server.stop(), "graceful shutdown failed after the soak");
    let server = Server::start(dir.path());
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(!acknowledged.is_empty());
    assert_all_there(&server, &acknowledged).await;
    let expected_terms = expected_terms.lock().unwrap().clone();
    for (id, note) in &expected_terms {
        let (status, entry) = server.get(&format!("/api/v1/terms/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(entry["workflow"], "approved");
        assert_eq!(entry["note"], note.as_str());
    }
}

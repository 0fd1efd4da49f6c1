use crate::support::{cli, tsv_of, un_pairs, Server};

#[tokio::test]
async fn cli_import_refuses_a_running_servers_index_and_names_the_http_import() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pairs.tsv");
    std::fs::write(&file, tsv_of(&un_pairs(50))).unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let (ok, _, stderr) = cli(&[
        "import",
        file.to_str().unwrap(),
        "--format",
        "tsv",
        "--source-lang",
        "zh",
        "--target-lang",
        "en",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("/api/v1/import"), "{stderr}");
    assert_eq!(server.segment_count().await, 0);
}

#[test]
fn cli_import_then_lookup_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = un_pairs(100);
    let file = dir.path().join("pairs.tsv");
    std::fs::write(&file, tsv_of(&pairs)).unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let (ok, stdout, stderr) = cli(&[
        "import",
        file.to_str().unwrap(),
        "--format",
        "tsv",
        "--source-lang",
        "zh",
        "--target-lang",
        "en",
        "--data-dir",
        data_arg,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("imported"), "{stdout}");

    let (ok, stdout, stderr) = cli(&[
        "lookup",
        &pairs[3].0,
        "--source-lang",
        "zh",
        "--target-lang",
        "en",
        "--data-dir",
        data_arg,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("100%"), "{stdout}");
    assert!(stdout.contains(&pairs[3].1));

    let output = dir.path().join("out.tmx");
    let (ok, _, stderr) = cli(&[
        "export",
        "--output",
        output.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    assert!(ok, "{stderr}");
    let document = std::fs::read_to_string(output).unwrap();
    crate::support::dtd::assert_valid_tmx(&document);
    assert_eq!(
        document.matches("<tu ").count() as u64,
        stdout_count(&stderr)
    );
}

fn stdout_count(stderr: &str) -> u64 {
    stderr
        .split_whitespace()
        .skip_while(|word| *word != "exported")
        .nth(1)
        .and_then(|number| number.parse().ok())
        .expect("export reports its count")
}

#[test]
fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let (ok, _, stderr) = cli(&["serve", "--config", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("missing.toml"), "{stderr}");

    let broken = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"))
        .unwrap()
        .replace("max_text_chars = 10000", "max_text_chars = \"many\"");
    std::fs::write(&broken, text).unwrap();
    let (ok, _, stderr) = cli(&["serve", "--config", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("max_text_chars"), "{stderr}");
}

#[test]
fn cli_termbase_import_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let file =
        crate::support::shared().join("data/formats/tbx/ltac/Example_Astronomy_DCA_VALID.tbx");
    let (ok, stdout, stderr) = cli(&[
        "termbase",
        "import",
        file.to_str().unwrap(),
        "--workflow",
        "approved",
        "--data-dir",
        data_arg,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("imported "), "{stdout}");
    let output = dir.path().join("out.tbx");
    let (ok, _, stderr) = cli(&[
        "termbase",
        "export",
        "--output",
        output.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    assert!(ok, "{stderr}");
    let document = std::fs::read_to_string(&output).unwrap();
    // The shipped glossary (loaded on first use) and the imported astronomy entries.
    assert!(document.contains("Xi Jinping Thought on Diplomacy"));
    assert!(document.contains("open cluster"));
    crate::support::assert_valid_tbx(&output);
}

#[tokio::test]
async fn cli_termbase_export_works_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let (status, _) = server
        .post_json(
            "/api/v1/terms",
            serde_json::json!({"workflow": "approved", "terms": [{"lang": "zh", "text": "全球发展倡议"}, {"lang": "en", "text": "Global Development Initiative"}]}),
        )
        .await;
    assert_eq!(status, 201);
    let output = dir.path().join("out.tbx");
    let (ok, _, stderr) = cli(&[
        "termbase",
        "export",
        "--output",
        output.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let document = std::fs::read_to_string(&output).unwrap();
    assert!(document.contains("Global Development Initiative"));
    assert!(document.contains("Xi Jinping Thought on Diplomacy"));
}

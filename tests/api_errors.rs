//! Every 4xx says what was wrong and where, and a rejected request changes nothing.

use serde_json::{json, Value};

use crate::support::Server;

async fn expect_error(server: &Server, status: u16, body: &Value, code: &str, mentions: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(mentions),
        "{message:?} should mention {mentions:?}"
    );
    assert!((400..500).contains(&status));
    assert_eq!(
        server.segment_count().await,
        1,
        "a rejected request changed the TM"
    );
}

#[tokio::test]
async fn bad_requests_are_explained_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, _) = server
        .post_json(
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"已有。","target":"Existing."}),
        )
        .await;
    assert_eq!(status, 201);

    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","target":"x"}),
            400,
            "missing_field",
            "`source`",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"  ","target":"x"}),
            400,
            "invalid_field",
            "`source` is empty",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zz-qq","target_lang":"en","source":"a","target":"x"}),
            400,
            "invalid_language",
            "`source_lang`",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"english","source":"a","target":"x"}),
            400,
            "invalid_language",
            "`target_lang`",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"a","target":"x","status":"final"}),
            400,
            "bad_body",
            "status",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"a","target":"x","sauce":"y"}),
            400,
            "bad_body",
            "sauce",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"字".repeat(10_001),"target":"x"}),
            400,
            "text_too_long",
            "10000",
        ),
        (
            "/api/v1/segments",
            json!({"source_lang":"zh","target_lang":"en","source":"a\u{1}b","target":"x"}),
            400,
            "invalid_field",
            "U+0001",
        ),
        (
            "/api/v1/segments",
            json!({"segments":[{"source_lang":"zh","target_lang":"en","source":"新的。","target":"New."},{"source_lang":"zh","target_lang":"en","source":"","target":"x"}]}),
            400,
            "invalid_field",
            "segments[1].source",
        ),
        (
            "/api/v1/segments",
            json!({"segments":[]}),
            400,
            "invalid_field",
            "segments",
        ),
        (
            "/api/v1/lookup",
            json!({"source_lang":"zh","target_lang":"en"}),
            400,
            "missing_field",
            "`text`",
        ),
        (
            "/api/v1/lookup",
            json!({"text":"","source_lang":"zh","target_lang":"en"}),
            400,
            "invalid_field",
            "`text`",
        ),
        (
            "/api/v1/lookup",
            json!({"text":"a","source_lang":"zh","target_lang":"en","min_score":101}),
            400,
            "invalid_field",
            "min_score",
        ),
        (
            "/api/v1/lookup",
            json!({"text":"a","source_lang":"zh","target_lang":"en","min_score":-1}),
            400,
            "invalid_field",
            "min_score",
        ),
        (
            "/api/v1/lookup",
            json!({"text":"a","source_lang":"zh","target_lang":"en","limit":101}),
            400,
            "invalid_field",
            "limit",
        ),
        (
            "/api/v1/lookup",
            json!({"text":"a","source_lang":"zh","target_lang":"en","min_score":"high"}),
            400,
            "bad_body",
            "min_score",
        ),
        (
            "/api/v1/lookup",
            json!({"text":"字".repeat(10_001),"source_lang":"zh","target_lang":"en"}),
            400,
            "text_too_long",
            "`text`",
        ),
    ];
    for (path, body, expected_status, code, mentions) in cases {
        let (status, answer) = server.post_json(path, body.clone()).await;
        assert_eq!(status, expected_status, "{path} {body}: {answer}");
        expect_error(&server, status, &answer, code, mentions).await;
    }

    // Malformed JSON names the line and column.
    let (status, answer) = server
        .post_raw(
            "/api/v1/lookup",
            "application/json",
            b"{\"text\": \"a\",\n \"source_lang\": }".to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    expect_error(&server, status, &answer, "bad_body", "line 2 column").await;

    // A body over the JSON limit (1 MiB by default).
    let huge = format!("{{\"text\":\"{}\"}}", "a".repeat(1_100_000));
    let (status, answer) = server
        .post_raw("/api/v1/lookup", "application/json", huge.into_bytes())
        .await;
    assert_eq!(status, 413);
    expect_error(&server, status, &answer, "payload_too_large", "limit").await;

    // Unknown ids and ids that are not numbers.
    let (status, answer) = server.get("/api/v1/segments/424242").await;
    assert_eq!(status, 404);
    expect_error(&server, status, &answer, "not_found", "424242").await;
    let (status, answer) = server.get("/api/v1/segments/abc").await;
    assert_eq!(status, 400);
    expect_error(&server, status, &answer, "invalid_id", "abc").await;
    let response = server
        .client
        .put(server.url("/api/v1/segments/424242"))
        .json(&json!({"target":"x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // Concordance parameters.
    let (status, answer) = server.get("/api/v1/concordance?lang=zh").await;
    assert_eq!(status, 400);
    expect_error(&server, status, &answer, "missing_field", "`q`").await;
    let (status, answer) = server.get("/api/v1/concordance?q=a&lang=zh&limit=0").await;
    assert_eq!(status, 400);
    expect_error(&server, status, &answer, "invalid_field", "limit").await;

    // Imports: malformed TSV names the line and column; nothing of the file is stored.
    let tsv = "好的。\tGood.\n坏行没有制表符\n";
    let (status, answer) = server
        .import_tsv(tsv, "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 400);
    expect_error(
        &server,
        status,
        &answer,
        "malformed_file",
        "line 2, column 8",
    )
    .await;
    let (status, answer) = server.import_tsv("a\tb\n", "source_lang=zh").await;
    assert_eq!(status, 400);
    expect_error(&server, status, &answer, "missing_field", "`target_lang`").await;
    let (status, answer) = server
        .post_raw(
            "/api/v1/import?format=xlsx&source_lang=zh&target_lang=en",
            "text/plain",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(status, 400);
    expect_error(&server, status, &answer, "invalid_field", "xlsx").await;

    // Unknown routes answer in the same shape.
    let (status, answer) = server.get("/api/v1/nothing-here").await;
    assert_eq!(status, 404);
    expect_error(
        &server,
        status,
        &answer,
        "not_found",
        "/api/v1/nothing-here",
    )
    .await;
}

#[tokio::test]
async fn configured_limits_apply_and_an_oversized_import_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml"))
        .unwrap()
        .replace("import_body_bytes = 2147483648", "import_body_bytes = 2000")
        .replace("max_text_chars = 10000", "max_text_chars = 50")
        .replace("max_batch = 1000", "max_batch = 2");
    let config_path = dir.path().join("small.toml");
    std::fs::write(&config_path, config).unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        &["--config", config_path.to_str().unwrap()],
    );
    let pairs = crate::support::un_pairs(100);
    let (status, answer) = server
        .import_tsv(
            &crate::support::tsv_of(&pairs),
            "source_lang=zh&target_lang=en",
        )
        .await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["error"]["code"], "payload_too_large");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2000"));
    assert_eq!(server.segment_count().await, 0);

    let (status, answer) = server
        .post_json(
            "/api/v1/lookup",
            json!({"text":"字".repeat(51),"source_lang":"zh","target_lang":"en"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(answer["error"]["message"].as_str().unwrap().contains("50"));

    let one = json!({"source_lang":"zh","target_lang":"en","source":"一。","target":"One."});
    let (status, answer) = server
        .post_json(
            "/api/v1/segments",
            json!({"segments":[one.clone(), one.clone(), one]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 2"),
        "{answer}"
    );
    assert_eq!(server.segment_count().await, 0);
}

/// Sends the head of a request and part of its body, then goes quiet; returns the status line.
async fn stall_after(server: &Server, head: &str, partial_body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(partial_body).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut answer))
        .await
        .expect("the server kept waiting for a stalled body")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[tokio::test]
async fn hostile_xml_and_stalled_bodies_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::support::config_with(
        &[("body_idle_seconds = 30", "body_idle_seconds = 1")],
        dir.path(),
    );
    let server = Server::start_with(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let import = "/api/v1/import?format=tmx&source_lang=zh&target_lang=en";
    let tmx = |doctype: &str, seg: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n{doctype}\n<tmx version=\"1.4\"><header srclang=\"zh\" datatype=\"plaintext\" segtype=\"sentence\" adminlang=\"en\" o-tmf=\"x\" creationtool=\"x\" creationtoolversion=\"1\"/><body>\n\
             <tu><tuv xml:lang=\"zh\"><seg>会议举行。</seg></tuv><tuv xml:lang=\"en\"><seg>The meeting was held.</seg></tuv></tu>\n\
             <tu><tuv xml:lang=\"zh\"><seg>{seg}</seg></tuv><tuv xml:lang=\"en\"><seg>Text.</seg></tuv></tu>\n</body></tmx>\n"
        )
    };
    // An external entity is never fetched, an internal one never expanded.
    let external = tmx(
        "<!DOCTYPE tmx [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
        "&xxe;",
    );
    let laughs = tmx(
        "<!DOCTYPE tmx [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>",
        "&lol2;",
    );
    for (name, document) in [("external entity", external), ("entity expansion", laughs)] {
        let (status, answer) = server
            .post_raw(import, "application/x-tmx+xml", document.into_bytes())
            .await;
        assert_eq!(status, 400, "{name}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("not expanded"), "{name}: {message}");
        assert!(message.contains("line 5"), "{name}: {message}");
    }
    // Elements nested a thousand deep stop at the depth limit, with the place.
    let deep = tmx(
        "",
        &format!("{}x{}", "<hi>".repeat(1000), "</hi>".repeat(1000)),
    );
    let (status, answer) = server
        .post_raw(import, "application/x-tmx+xml", deep.into_bytes())
        .await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("nest deeper than"), "{message}");
    assert!(message.contains("line 5"), "{message}");
    assert_eq!(server.segment_count().await, 0);

    // A client that stops sending its body gets 408, on JSON and on uploads alike.
    let json_head = "POST /api/v1/segments HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n";
    let answer = stall_after(&server, json_head, b"{\"source_lang\":\"zh\",").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_idle_seconds"), "{answer}");
    let upload_head = "POST /api/v1/import?format=tsv&source_lang=zh&target_lang=en HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n";
    let answer = stall_after(
        &server,
        upload_head,
        "会议举行。\tThe meeting was held.\n".as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(server.segment_count().await, 0);
    let incoming = dir.path().join("data/incoming");
    let spooled = std::fs::read_dir(&incoming)
        .map(|list| list.count())
        .unwrap_or(0);
    assert_eq!(spooled, 0, "the stalled upload's spool file was kept");
}

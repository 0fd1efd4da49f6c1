//! API keys, roles, restricted collections and the per-key rate limit, on a server started
//! with a config file whose keys were made by `attache keys add`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::support::{cli, config_with, tsv_of, un_pairs, Server};

/// A config file with one key per role (made by the CLI, as an operator would), a reader who
/// may see the `drafts` collection, and the given extra replacements. Returns the server and
/// the keys by name.
fn keyed_server(
    dir: &Path,
    replacements: &[(&str, &str)],
) -> (Server, HashMap<&'static str, String>) {
    let config = config_with(replacements, dir);
    let config_arg = config.to_str().unwrap();
    let mut keys = HashMap::new();
    for (name, role) in [
        ("reader", "reader"),
        ("insider", "reader"),
        ("translator", "translator"),
        ("other.translator", "translator"),
        ("terminologist", "terminologist"),
        ("admin", "admin"),
    ] {
        let (ok, stdout, stderr) =
            cli(&["keys", "add", name, "--role", role, "--config", config_arg]);
        assert!(ok, "{stderr}");
        let key = stdout.trim().to_owned();
        assert!(key.starts_with("attache_") && key.len() > 60, "{key}");
        assert!(stderr.contains("shown once"), "{stderr}");
        keys.insert(name, key);
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        !text.contains(keys["admin"].as_str()),
        "the config holds the key itself, not only its hash"
    );
    // The restriction names keys, so it can only be written once they exist.
    let restricted = text.replace(
        "restricted_collections = {}",
        "restricted_collections = { drafts = [\"insider\"] }",
    );
    std::fs::write(&config, restricted).unwrap();
    let server = Server::start_with(&dir.join("index"), &["--config", config_arg]);
    (server, keys)
}

async fn call(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server.client.request(method, server.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// POSTs `body` with `key` and returns what was created (the answer must be 201).
async fn created(server: &Server, path: &str, key: &str, body: Value) -> Value {
    let (status, answer) = call(server, "POST", path, Some(key), Some(body)).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

fn pair(zh: &str, en: &str) -> Value {
    json!({"source_lang": "zh", "target_lang": "en", "source": zh, "target": en})
}

#[tokio::test]
async fn every_route_but_the_probes_refuses_a_request_without_a_known_key() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _keys) = keyed_server(dir.path(), &[]);
    let (status, description) = server.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200, "the API description is public");
    let mut checked = 0;
    let paths = description["paths"].as_object().unwrap();
    for (path, methods) in paths {
        let concrete = path
            .replace("{id}", "1")
            .replace("{source_lang}", "zh")
            .replace("{target_lang}", "en");
        for method in methods.as_object().unwrap().keys() {
            let public = concrete == "/health";
            for key in [None, Some("attache_not-a-key")] {
                let response = server
                    .client
                    .request(
                        reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                        server.url(&concrete),
                    )
                    .header(
                        "authorization",
                        key.map(|k| format!("Bearer {k}")).unwrap_or_default(),
                    )
                    .send()
                    .await
                    .unwrap();
                if public {
                    assert_eq!(response.status().as_u16(), 200, "{method} {path}");
                    continue;
                }
                assert_eq!(
                    response.status().as_u16(),
                    401,
                    "{method} {path} with {key:?}"
                );
                assert_eq!(
                    response.headers()["www-authenticate"],
                    "Bearer",
                    "{method} {path}"
                );
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "unauthorized", "{method} {path}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} route checks");
    // Routes outside the description: the CAT-tool protocols and the metrics.
    for path in [
        "/metrics",
        "/get?q=x&langpair=zh|en",
        "/tmserver/zh/en/unit/x",
    ] {
        let (status, _) = server.get(path).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, _) = server.get("/ready").await;
    assert_eq!(status, 200);
    // The workbench page and its assets load without a key: the page asks for one.
    for path in ["/", "/assets/app.js", "/assets/app.css"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
    }
}

#[tokio::test]
async fn roles_decide_what_a_key_may_do_and_the_author_is_the_keys_name() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(dir.path(), &[]);
    let key = |name: &str| Some(keys[name].clone());

    // A reader looks up but does not write.
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/segments",
        key("reader").as_deref(),
        Some(pair("会议在北京举行。", "The meeting was held in Beijing.")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("translator"),
        "{body}"
    );

    // A translator adds a pair; the author is the key's name, whatever the body says.
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/segments",
        key("translator").as_deref(),
        Some(pair("会议在北京举行。", "The meeting was held in Beijing.")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let own_id = body["id"].as_u64().unwrap();
    let (_, segment) = call(
        &server,
        "GET",
        &format!("/api/v1/segments/{own_id}"),
        key("reader").as_deref(),
        None,
    )
    .await;
    assert_eq!(segment["author"], "translator");
    let mut claimed = pair(
        "双方同意加强合作。",
        "Both sides agreed to strengthen cooperation.",
    );
    claimed["author"] = json!("chief.wang");
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/segments",
        key("translator").as_deref(),
        Some(claimed),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("`author`"));

    // Their own segment they may edit; another translator's they may not; an admin may.
    let edit = json!({"target": "The meeting took place in Beijing."});
    let path = format!("/api/v1/segments/{own_id}");
    let (status, body) = call(
        &server,
        "PUT",
        &path,
        key("other.translator").as_deref(),
        Some(edit.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &server,
        "PUT",
        &path,
        key("translator").as_deref(),
        Some(edit.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&server, "PUT", &path, key("admin").as_deref(), Some(edit)).await;
    assert_eq!(status, 200);

    // Deleting and bulk import are an admin's.
    let (status, _) = call(
        &server,
        "DELETE",
        &path,
        key("terminologist").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let tsv = tsv_of(&un_pairs(20));
    let import_path = "/api/v1/import?format=tsv&source_lang=zh&target_lang=en";
    for (name, expected) in [("terminologist", 403), ("admin", 200)] {
        let response = server
            .client
            .post(server.url(import_path))
            .bearer_auth(&keys[name])
            .body(tsv.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{name}");
    }
    assert_eq!(
        server.segment_count().await,
        21,
        "the refused import stored nothing"
    );

    // Terms: a translator proposes; approving, or creating approved, is a terminologist's.
    let entry = |workflow: &str| {
        json!({"workflow": workflow, "terms": [
            {"lang": "zh", "text": "全过程人民民主"},
            {"lang": "en", "text": "whole-process people's democracy"}]})
    };
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/terms",
        key("translator").as_deref(),
        Some(entry("approved")),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/terms",
        key("translator").as_deref(),
        Some(entry("proposed")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let term_id = body["id"].as_u64().unwrap();
    let approve = format!("/api/v1/terms/{term_id}/approve");
    let (status, _) = call(
        &server,
        "POST",
        &approve,
        key("translator").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &server,
        "POST",
        &approve,
        key("terminologist").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, history) = call(
        &server,
        "GET",
        &format!("/api/v1/terms/{term_id}/history"),
        key("reader").as_deref(),
        None,
    )
    .await;
    let authors: Vec<&str> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["by"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(authors, ["translator", "terminologist"], "{history}");

    // Anyone may ask who they are.
    let (status, me) = call(
        &server,
        "GET",
        "/api/v1/whoami",
        key("terminologist").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({"open": false, "name": "terminologist", "role": "terminologist"})
    );
    // The glossary's latest changes, newest first, by key name.
    let (status, recent) = call(
        &server,
        "GET",
        "/api/v1/terms/changes?limit=2",
        key("reader").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{recent}");
    let latest = &recent["changes"][0];
    assert_eq!(latest["entry_id"], term_id);
    assert_eq!(latest["by"], "terminologist");
    assert_eq!(latest["action"], "approve", "{recent}");
    assert_eq!(recent["changes"].as_array().unwrap().len(), 2);

    // Key listing is an admin's, and never shows a key or a hash.
    let (status, _) = call(
        &server,
        "GET",
        "/api/v1/keys",
        key("terminologist").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, listing) = call(
        &server,
        "GET",
        "/api/v1/keys",
        key("admin").as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listing["open"], false);
    assert_eq!(listing["keys"].as_array().unwrap().len(), 6);
    assert_eq!(
        listing["restricted_collections"]["drafts"],
        json!(["insider"])
    );
    assert!(!listing.to_string().contains(&keys["admin"]));
}

#[tokio::test]
async fn a_restricted_collection_is_invisible_to_keys_not_named_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(dir.path(), &[]);
    let secret = (
        "中方对此表示严重关切并已提出严正交涉。",
        "China has expressed grave concern and lodged stern representations.",
    );
    let mut draft = pair(secret.0, secret.1);
    draft["collection"] = json!("drafts");
    let body = created(&server, "/api/v1/segments", &keys["admin"], draft.clone()).await;
    let secret_id = body["id"].as_u64().unwrap();
    created(
        &server,
        "/api/v1/segments",
        &keys["admin"],
        pair(
            "双方同意加强合作。",
            "Both sides agreed to strengthen cooperation.",
        ),
    )
    .await;

    let lookup = json!({"text": secret.0, "source_lang": "zh", "target_lang": "en"});
    let concordance = "/api/v1/concordance?q=%E4%B8%A5%E6%AD%A3%E4%BA%A4%E6%B6%89&lang=zh";
    for (name, sees) in [("reader", false), ("insider", true), ("admin", true)] {
        let (status, body) = call(
            &server,
            "POST",
            "/api/v1/lookup",
            Some(&keys[name]),
            Some(lookup.clone()),
        )
        .await;
        assert_eq!(status, 200);
        let found = body["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == secret_id);
        assert_eq!(found, sees, "lookup by {name}: {body}");
        let (_, body) = call(&server, "GET", concordance, Some(&keys[name]), None).await;
        assert_eq!(
            body["total"].as_u64().unwrap() > 0,
            sees,
            "concordance by {name}: {body}"
        );
        let export = server
            .client
            .get(server.url("/api/v1/export"))
            .bearer_auth(&keys[name])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(export.contains("严正交涉"), sees, "export by {name}");
        assert!(export.contains("加强合作"), "export by {name}");
        let (status, body) = call(
            &server,
            "GET",
            &format!("/api/v1/segments/{secret_id}"),
            Some(&keys[name]),
            None,
        )
        .await;
        if sees {
            assert_eq!(status, 200);
        } else {
            // The same answer as for an id that was never given out.
            let (missing_status, missing) = call(
                &server,
                "GET",
                "/api/v1/segments/999999",
                Some(&keys[name]),
                None,
            )
            .await;
            assert_eq!((status, missing_status), (404, 404));
            assert_eq!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .replace(&secret_id.to_string(), "N"),
                missing["error"]["message"]
                    .as_str()
                    .unwrap()
                    .replace("999999", "N")
            );
        }
    }
    // Someone who may not see the collection may not write into it either.
    let mut other = pair(
        "外交部发言人就此答记者问。",
        "The spokesperson answered a question on this.",
    );
    other["collection"] = json!("drafts");
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/segments",
        Some(&keys["translator"]),
        Some(other),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(
        dir.path(),
        &[(
            "requests_per_key_per_second = 200",
            "requests_per_key_per_second = 2",
        )],
    );
    let mut limited = None;
    for _ in 0..20 {
        let response = server
            .client
            .get(server.url("/api/v1/terms?q=x"))
            .bearer_auth(&keys["reader"])
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status().as_u16(), 200);
    }
    let response = limited.expect("20 requests at once stayed under a rate of 2 a second");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another key has its own allowance.
    let (status, _) = call(
        &server,
        "GET",
        "/api/v1/terms?q=x",
        Some(&keys["admin"]),
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[test]
fn without_keys_the_server_refuses_to_listen_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("index");
    let (ok, _, stderr) = cli(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!ok);
    assert!(stderr.contains("without API keys"), "{stderr}");
    assert!(stderr.contains("attache keys add"), "{stderr}");
}

/// Every route that changes something, called by the role just below the one it needs: 403,
/// naming the role, and nothing changes.
#[tokio::test]
async fn every_write_route_refuses_the_role_below_its_own_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(dir.path(), &[]);
    let segment = created(
        &server,
        "/api/v1/segments",
        &keys["admin"],
        pair("会议在北京举行。", "The meeting was held in Beijing."),
    )
    .await;
    let segment_id = segment["id"].as_u64().unwrap();
    let entry = json!({"workflow": "proposed", "terms": [{"lang": "zh", "text": "数字丝绸之路"},
                        {"lang": "en", "text": "Digital Silk Road"}]});
    let term = created(&server, "/api/v1/terms", &keys["admin"], entry.clone()).await;
    let term_id = term["id"].as_u64().unwrap();
    let segments_before = server.segment_count().await;
    let (_, terms_before) = call(
        &server,
        "GET",
        "/api/v1/terms/changes?limit=100",
        Some(&keys["reader"]),
        None,
    )
    .await;

    let segment_path = format!("/api/v1/segments/{segment_id}");
    let term_path = format!("/api/v1/terms/{term_id}");
    let approve = format!("{term_path}/approve");
    let reject = format!("{term_path}/reject");
    let cases: Vec<(&str, &str, Option<Value>, &str, &str)> = vec![
        (
            "POST",
            "/api/v1/segments",
            Some(pair("新句子。", "A new one.")),
            "reader",
            "translator",
        ),
        (
            "PUT",
            &segment_path,
            Some(json!({"target": "Changed."})),
            "reader",
            "translator",
        ),
        ("DELETE", &segment_path, None, "terminologist", "admin"),
        (
            "POST",
            "/api/v1/terms",
            Some(entry.clone()),
            "reader",
            "translator",
        ),
        (
            "PUT",
            &term_path,
            Some(entry.clone()),
            "translator",
            "terminologist",
        ),
        (
            "PATCH",
            &term_path,
            Some(json!({"note": "changed"})),
            "translator",
            "terminologist",
        ),
        ("POST", &approve, None, "translator", "terminologist"),
        ("POST", &reject, None, "translator", "terminologist"),
        ("DELETE", &term_path, None, "terminologist", "admin"),
        ("GET", "/api/v1/keys", None, "terminologist", "admin"),
    ];
    for (method, path, body, below, needed) in cases {
        let (status, answer) = call(&server, method, path, Some(&keys[below]), body).await;
        assert_eq!(status, 403, "{method} {path} by a {below}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(needed), "{method} {path}: {message}");
    }
    for (path, below) in [
        (
            "/api/v1/import?format=tsv&source_lang=zh&target_lang=en",
            "terminologist",
        ),
        ("/api/v1/termbase/import?format=tbx", "translator"),
    ] {
        let response = server
            .client
            .post(server.url(path))
            .bearer_auth(&keys[below])
            .body("会议。\tA meeting.\n")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path} by a {below}");
    }
    assert_eq!(server.segment_count().await, segments_before);
    let (_, terms_after) = call(
        &server,
        "GET",
        "/api/v1/terms/changes?limit=100",
        Some(&keys["reader"]),
        None,
    )
    .await;
    assert_eq!(
        terms_after, terms_before,
        "a refused request changed the glossary"
    );
    let (_, unchanged) = call(&server, "GET", &segment_path, Some(&keys["reader"]), None).await;
    assert_eq!(unchanged["target"], "The meeting was held in Beijing.");
}

//! The web workbench in a real browser: headless Chromium driven over WebDriver (chromedriver
//! on a loopback port) against the real server. Each test starts its own server, chromedriver
//! and browser, and asserts on what a user sees on the page.
//!
//! Chromium and chromedriver come from the system (`chromium`, `chromium-driver` on Debian; CI
//! installs them). Without chromedriver the tests are skipped loudly, except under CI, where
//! they fail. `ATTACHE_SCREENSHOTS=1` also writes `docs/workbench-*.png`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::{cli, config_with, tsv_of, un_pairs, Server};

/// How long the page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// The browser

/// chromedriver, in its own process group so that dropping it also ends the browser it
/// started.
struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session; `None` (after a loud notice) when chromedriver is not installed and the
/// tests do not run under CI.
struct Browser {
    client: Client,
    _driver: Driver,
}

impl Browser {
    async fn start() -> Option<Browser> {
        use std::os::unix::process::CommandExt;

        if let Err(error) = Command::new("chromedriver").arg("--version").output() {
            if std::env::var_os("CI").is_some() {
                panic!("chromedriver is required in CI for the browser tests: {error}");
            }
            eprintln!(
                "SKIPPED: browser test not run: chromedriver not found ({error}); \
                 install chromium and chromium-driver"
            );
            return None;
        }
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { child };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let http = reqwest::Client::new();
        while http.get(format!("{url}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                "--lang=en-US",
                "--force-device-scale-factor=1",
            ]
        });
        if Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a browser session starts");
        Some(Browser {
            client,
            _driver: driver,
        })
    }

    async fn close(self) {
        let Browser { client, _driver } = self;
        let _ = client.close().await;
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css}: {error}"))
    }

    async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// Clicks an element, first scrolled to the middle of the window (as a user would, so that
    /// the sticky tab bar never covers it).
    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.js(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await;
        element.click().await.unwrap();
    }

    /// Replaces the value of a text field by typing into it.
    async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap();
    }

    /// Runs a script and gives back its answer.
    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// The visible text of the first element matching `css`, once `ready` holds for it.
    async fn text_when(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if ready(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            assert!(
                started.elapsed() < PATIENCE,
                "{css} never showed what was expected; last text: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn text_containing(&self, css: &str, needle: &str) -> String {
        self.text_when(css, |text| text.contains(needle)).await
    }

    /// Presses keys together (modifiers first) on whatever has the focus, and lets them go.
    async fn press(&self, keys: &[&str]) {
        let mut actions = KeyActions::new("keyboard".into());
        let chars: Vec<char> = keys
            .iter()
            .map(|key| key.chars().next().expect("a key"))
            .collect();
        for &value in &chars {
            actions = actions.then(KeyAction::Down { value });
        }
        for &value in chars.iter().rev() {
            actions = actions.then(KeyAction::Up { value });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Enters an API key in the header's key form and waits until the page says who it is.
    async fn sign_in(&self, key: &str, name: &str) {
        let details_open = self
            .js("return document.querySelector('#key-details').open", vec![])
            .await;
        if details_open != json!(true) {
            self.click("#key-details > summary").await;
        }
        self.fill("#key-input", key).await;
        self.click("#key-form button[type=submit]").await;
        self.text_containing("#who", &format!("Signed in as {name}"))
            .await;
    }

    /// Writes `docs/workbench-NAME.png` when ATTACHE_SCREENSHOTS is set.
    async fn screenshot(&self, name: &str) {
        if std::env::var_os("ATTACHE_SCREENSHOTS").is_none() {
            return;
        }
        // Let the toast fade and the layout settle before the picture.
        self.js(
            "document.querySelector('#toast').classList.remove('show'); \
             if (document.activeElement) document.activeElement.blur(); \
             window.scrollTo(0, 0);",
            vec![],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("workbench-{name}.png")), png).unwrap();
    }
}

/// What every state of the page must keep: unique ids (labels and ARIA point at them), a label
/// for every form control, a name for every button, the language of the page, and its style
/// sheet (allowed by the Content-Security-Policy).
async fn assert_accessible_basics(browser: &Browser) {
    let report = browser
        .js(
            "const ids = [...document.querySelectorAll('[id]')].map(e => e.id); \
             const duplicate = ids.filter((id, i) => ids.indexOf(id) !== i); \
             const unlabeled = [...document.querySelectorAll('input, select, textarea')] \
               .filter(e => !e.classList.contains('copy-buffer') && e.labels.length === 0 \
                 && !e.getAttribute('aria-label')) \
               .map(e => e.id || e.outerHTML.slice(0, 80)); \
             const unnamed = [...document.querySelectorAll('button')] \
               .filter(b => !b.textContent.trim() && !b.getAttribute('aria-label')) \
               .map(b => b.outerHTML.slice(0, 80)); \
             return {duplicate, unlabeled, unnamed, lang: document.documentElement.lang, \
               main: document.querySelectorAll('main').length, \
               styled: getComputedStyle(document.querySelector('.banner')).display};",
            vec![],
        )
        .await;
    assert_eq!(
        report,
        json!({"duplicate": [], "unlabeled": [], "unnamed": [], "lang": "en", "main": 1,
               "styled": "flex"})
    );
}

// ---------------------------------------------------------------------------------------------
// Servers and data

/// An open server (no keys) holding the first 2,000 UN pairs.
async fn open_server_with_pairs(dir: &Path) -> Server {
    let server = Server::start(&dir.join("index"));
    let (status, body) = server
        .import_tsv(&tsv_of(&un_pairs(2000)), "source_lang=zh&target_lang=en")
        .await;
    assert_eq!(status, 200, "{body}");
    server
}

/// A server with one key per (name, role), made by `attache keys add` as an operator would.
fn keyed_server(dir: &Path, people: &[(&str, &str)]) -> (Server, HashMap<String, String>) {
    let config_dir = dir.join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_with(&[], &config_dir);
    let config_arg = config.to_str().unwrap();
    let mut keys = HashMap::new();
    for (name, role) in people {
        let (ok, stdout, stderr) =
            cli(&["keys", "add", name, "--role", role, "--config", config_arg]);
        assert!(ok, "{stderr}");
        keys.insert(name.to_string(), stdout.trim().to_owned());
    }
    let server = Server::start_with(&dir.join("index"), &["--config", config_arg]);
    (server, keys)
}

async fn api_get(server: &Server, path: &str, key: &str) -> Value {
    let response = server
        .client
        .get(server.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.unwrap()
}

/// A UN pair by its Chinese text, so the tests can say what the TM holds.
fn un_target(zh: &str) -> String {
    un_pairs(2000)
        .into_iter()
        .find(|(source, _)| source == zh)
        .unwrap_or_else(|| panic!("{zh} is not among the imported UN pairs"))
        .1
}

/// In the TM, and edited in the paragraph: 这些 → 基本 (a 94% match).
const STORED_ONE: &str =
    "联合国的任何改革都不应重新定义《宪章》的这些原则，也不应破坏这些原则的实行。";
const EDITED_ONE: &str =
    "联合国的任何改革都不应重新定义《宪章》的基本原则，也不应破坏这些原则的实行。";
/// In the TM as it stands (100%), with the glossary term 全体会议 → Plenary Meeting.
const EXACT_TWO: &str = "在全体会议上，一致通过了一份最终文件，内容包括《北京宣言和行动纲要》。";
/// The first half of a stored sentence (a low fuzzy match), with 首都 → the capital.
const SHORTENED_THREE: &str = "首都金沙萨也感受到了北京会议的影响。";

fn paragraph() -> String {
    format!("{EDITED_ONE}{EXACT_TWO}{SHORTENED_THREE}")
}

fn query_component(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Waits until every sentence of the draft assistant has its lookup answer.
async fn wait_for_analysis(browser: &Browser, sentences: usize) -> Vec<Element> {
    let summary = match sentences {
        1 => "1 sentence:".to_owned(),
        n => format!("{n} sentences:"),
    };
    browser.text_containing("#draft-status", &summary).await;
    let items = browser.find_all("#draft-results > li.sentence").await;
    assert_eq!(items.len(), sentences);
    items
}

async fn selected_sentence(browser: &Browser) -> Value {
    browser
        .js(
            "const s = document.querySelector('#draft-results > li.selected'); \
             return s ? [s.id, document.activeElement === s] : null;",
            vec![],
        )
        .await
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn a_pasted_paragraph_shows_each_sentence_with_scored_matches_a_diff_and_its_terms() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = open_server_with_pairs(dir.path()).await;
    browser.goto(&server.base).await;
    browser.text_containing("#who", "Open server").await;

    browser.fill("#draft-text", &paragraph()).await;
    browser.click("#draft-analyse").await;
    let items = wait_for_analysis(&browser, 3).await;

    // Sentence 1: the edited sentence finds its stored original at 94%, in the 85–94 band,
    // with the edit shown: 这些 only in the stored sentence, 基本 only in the draft.
    let first = &items[0];
    assert_eq!(
        first
            .find(Locator::Css(".source"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        EDITED_ONE
    );
    let best = first.find(Locator::Css(".match")).await.unwrap();
    assert_eq!(best.attr("class").await.unwrap().unwrap(), "match band-85");
    assert!(best.text().await.unwrap().contains("94% high fuzzy"));
    assert_eq!(
        best.find(Locator::Css("del"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "这些"
    );
    assert_eq!(
        best.find(Locator::Css("ins"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "基本"
    );
    assert_eq!(
        best.find(Locator::Css(".match-target"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        un_target(STORED_ONE)
    );

    // Sentence 2: an exact match, and 全体会议 underlined with its approved rendering.
    let second = &items[1];
    let head = second
        .find(Locator::Css(".sentence-head .score"))
        .await
        .unwrap();
    assert_eq!(head.attr("class").await.unwrap().unwrap(), "score band-100");
    assert_eq!(head.text().await.unwrap(), "100% exact");
    assert_eq!(
        second
            .find(Locator::Css(".match-target"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        un_target(EXACT_TWO)
    );
    let term = second.find(Locator::Css(".source .term")).await.unwrap();
    assert_eq!(term.text().await.unwrap(), "全体会议");
    assert_eq!(
        term.attr("title").await.unwrap().unwrap(),
        "Glossary: Plenary Meeting"
    );
    assert_eq!(
        term.css_value("text-decoration-line").await.unwrap(),
        "underline"
    );
    // Keyboard users see the rendering too: focusing the term shows its tooltip.
    let tooltip = browser
        .js(
            "const t = arguments[0]; t.focus(); const after = getComputedStyle(t, '::after'); \
             return [after.content, after.visibility];",
            vec![serde_json::to_value(&term).unwrap()],
        )
        .await;
    assert_eq!(tooltip, json!(["\"Plenary Meeting\"", "visible"]));
    // The term list under the sentence gives the rendering and a copy button.
    let listed = second
        .find(Locator::Css(".term-list .term-item"))
        .await
        .unwrap();
    assert_eq!(
        listed
            .find(Locator::Css(".term-rendering"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Plenary Meeting"
    );
    assert_eq!(
        listed
            .find(Locator::Css("button.copy-term"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Copy"
    );

    // Sentence 3: a low fuzzy match (50–74 band) and 首都 → the capital.
    let third = &items[2];
    let band = third
        .find(Locator::Css(".sentence-head .score"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(band, "score band-50");
    assert_eq!(
        third
            .find(Locator::Css(".term-rendering"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "the capital"
    );

    // The copy button under a term says what it copied.
    second
        .find(Locator::Css(".copy-term"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.text_containing("#toast", "“Plenary Meeting”").await;

    // Chinese text is marked as Chinese, English as English.
    let langs = browser
        .js(
            "const s = document.querySelector('#sentence-2'); return [\
             s.querySelector('.source').lang, s.querySelector('.match-source').lang, \
             s.querySelector('.match-target').lang, document.querySelector('#draft-text').lang];",
            vec![],
        )
        .await;
    assert_eq!(langs, json!(["zh", "zh", "en", "zh"]));

    // Every sentence carries its own add-to-TM form: still one label per control.
    browser.click("#sentence-1 .add-tm > summary").await;
    assert_accessible_basics(&browser).await;
    browser.click("#sentence-1 .add-tm > summary").await;

    browser.client.set_window_size(1280, 1500).await.unwrap();
    browser.screenshot("draft").await;
    browser.close().await;
}

#[tokio::test]
async fn keys_move_between_sentences_and_copy_but_not_while_typing() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = open_server_with_pairs(dir.path()).await;
    browser.goto(&server.base).await;
    browser.fill("#draft-text", &paragraph()).await;
    browser.click("#draft-analyse").await;
    wait_for_analysis(&browser, 3).await;
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-1", false])
    );

    // j and Alt+ArrowDown go forward, k and Alt+ArrowUp back; the focus follows.
    browser.press(&["j"]).await;
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-2", true])
    );
    browser.press(&[&*Key::Alt, &*Key::Down]).await;
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-3", true])
    );
    browser.press(&["j"]).await;
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-3", true]),
        "the last sentence stays selected"
    );
    browser.press(&["k"]).await;
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-2", true])
    );

    // t copies the first term's rendering, c the best match's translation.
    browser.press(&["t"]).await;
    browser
        .text_containing(
            "#toast",
            "Copied the rendering of 全体会议: “Plenary Meeting”",
        )
        .await;
    browser.press(&["c"]).await;
    let expected = format!(
        "Copied the best match of sentence 2: “{}”",
        un_target(EXACT_TWO)
    );
    browser.text_containing("#toast", &expected).await;
    browser.press(&[&*Key::Alt, &*Key::Up]).await;
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-1", true])
    );

    // Typing j or k in the text area types them: the selection stays.
    browser.click("#draft-text").await;
    browser.press(&["j"]).await;
    browser.press(&["k"]).await;
    browser.press(&[&*Key::Alt, &*Key::Down]).await;
    let value = browser
        .js("return document.querySelector('#draft-text').value", vec![])
        .await;
    assert!(value.as_str().unwrap().ends_with("jk"), "{value}");
    assert_eq!(
        selected_sentence(&browser).await,
        json!(["sentence-1", false])
    );
    // The shortcuts are listed on the page.
    let help = browser
        .text_when("#draft-help", |text| !text.is_empty())
        .await;
    for shortcut in ["j", "k", "Alt", "c", "t"] {
        assert!(help.contains(shortcut), "{help}");
    }
    browser.close().await;
}

#[tokio::test]
async fn a_shared_link_opens_the_draft_assistant_with_the_text_analysed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = open_server_with_pairs(dir.path()).await;
    let text = format!("{EXACT_TWO}{SHORTENED_THREE}");
    let link = format!(
        "{}/?text={}&source_lang=zh&target_lang=en",
        server.base,
        query_component(&text)
    );
    browser.goto(&link).await;
    let items = wait_for_analysis(&browser, 2).await;
    assert_eq!(
        items[0]
            .find(Locator::Css(".sentence-head .score"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "100% exact"
    );
    let field = browser
        .js(
            "return [document.querySelector('#draft-text').value, \
             document.querySelector('#draft-source').value, \
             document.querySelector('#draft-target').value, \
             document.querySelector('#tab-draft').getAttribute('aria-selected')]",
            vec![],
        )
        .await;
    assert_eq!(field, json!([text, "zh", "en", "true"]));

    // "Copy link" gives a link that opens this analysis again.
    browser.click("#draft-link").await;
    let toast = browser
        .text_containing("#toast", "Copied the link to this analysis")
        .await;
    let copied = browser
        .js("return document.body.dataset.lastCopied", vec![])
        .await;
    let copied = copied.as_str().unwrap().to_owned();
    assert!(toast.contains(&copied), "{toast}");
    let reopened = browser
        .js(
            "const u = new URL(arguments[0]); return [u.searchParams.get('text'), \
             u.searchParams.get('source_lang'), u.searchParams.get('target_lang'), u.hash]",
            vec![json!(copied)],
        )
        .await;
    assert_eq!(reopened, json!([text, "zh", "en", "#draft"]));
    browser.close().await;
}

#[tokio::test]
async fn concordance_shows_each_hit_in_context_with_the_phrase_highlighted() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = open_server_with_pairs(dir.path()).await;
    browser.goto(&format!("{}/#concordance", server.base)).await;
    browser.fill("#conc-q", "全体会议").await;
    browser.click("#conc-form button[type=submit]").await;
    let status = browser
        .text_containing("#conc-status", "contain “全体会议”")
        .await;
    let (status_api, expected) = server
        .get(&format!(
            "/api/v1/concordance?q={}&lang=zh&limit=20",
            query_component("全体会议")
        ))
        .await;
    assert_eq!(status_api, 200);
    let total = expected["total"].as_u64().unwrap();
    assert!(total >= 3, "{expected}");
    assert!(status.starts_with(&format!("{total} units")), "{status}");
    let hits = browser.find_all("#conc-results > li").await;
    assert_eq!(hits.len() as u64, total.min(20));
    for hit in &hits {
        let key = hit
            .find(Locator::Css(".kwic-key mark"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(key, "全体会议");
    }
    // The line reads as the stored sentence around the phrase, and the translation follows.
    let first = &expected["hits"][0];
    let line = hits[0]
        .find(Locator::Css(".kwic-line"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let context = line.replace('\n', "");
    assert!(context.contains("全体会议"), "{line}");
    for part in context.split('…').filter(|part| !part.is_empty()) {
        assert!(
            first["source"].as_str().unwrap().contains(part),
            "{part} is not in {}",
            first["source"]
        );
    }
    assert_eq!(
        hits[0]
            .find(Locator::Css(".kwic-target"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        first["target"].as_str().unwrap()
    );
    assert!(browser
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("concordance=%E5%85%A8%E4%BD%93%E4%BC%9A%E8%AE%AE&lang=zh#concordance"));
    browser.screenshot("concordance").await;

    // A shared link runs its search in English, stems and all.
    browser
        .goto(&format!(
            "{}/?concordance=plenary%20meetings&lang=en",
            server.base
        ))
        .await;
    browser
        .text_containing("#conc-status", "contain “plenary meetings”")
        .await;
    let marks = browser.find_all("#conc-results .kwic-key mark").await;
    assert!(!marks.is_empty());
    for mark in marks {
        assert!(
            mark.text()
                .await
                .unwrap()
                .to_lowercase()
                .starts_with("plenary meeting"),
            "an English hit is highlighted"
        );
    }
    assert_eq!(
        browser
            .js(
                "return document.querySelector('#conc-results .kwic-line').lang",
                vec![]
            )
            .await,
        json!("en")
    );
    browser.close().await;
}

#[tokio::test]
async fn a_translator_adds_a_pair_from_the_page_under_their_own_name() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(dir.path(), &[("li.wei", "translator")]);
    browser.goto(&server.base).await;
    browser
        .text_containing("#who", "this server needs an API key")
        .await;
    browser.sign_in(&keys["li.wei"], "li.wei").await;
    browser.text_containing("#who", "role: translator").await;

    let source = "会议由中共昌平区委书记主持。";
    let target =
        "The meeting was chaired by the Secretary of the CPC Changping District Committee.";
    browser.fill("#draft-text", source).await;
    browser.click("#draft-analyse").await;
    wait_for_analysis(&browser, 1)
        .await
        .into_iter()
        .next()
        .unwrap();
    browser
        .text_containing("#sentence-1 .no-match", "No stored translation")
        .await;
    browser.click("#sentence-1 .add-tm > summary").await;
    let form_source = browser
        .js(
            "return document.querySelector('#sentence-1 .tm-form textarea').value",
            vec![],
        )
        .await;
    assert_eq!(
        form_source,
        json!(source),
        "the form starts from the sentence"
    );
    browser
        .fill("#sentence-1 .tm-form textarea:nth-of-type(2)", target)
        .await;
    browser
        .click("#sentence-1 .tm-form button[type=submit]")
        .await;
    let result = browser
        .text_containing("#sentence-1 .form-result", "segment #")
        .await;
    assert!(
        result.starts_with("Added to the translation memory as segment #"),
        "{result}"
    );
    let id: u64 = result
        .rsplit('#')
        .next()
        .unwrap()
        .trim_end_matches('.')
        .parse()
        .unwrap();

    let segment = api_get(&server, &format!("/api/v1/segments/{id}"), &keys["li.wei"]).await;
    assert_eq!(segment["source"], source);
    assert_eq!(segment["target"], target);
    assert_eq!(segment["author"], "li.wei");

    // Analysed again, the sentence now finds the pair just added.
    browser.click("#draft-analyse").await;
    browser
        .text_containing("#sentence-1 .sentence-head .score", "100% exact")
        .await;
    let meta = browser
        .text_containing("#sentence-1 .match-meta", "li.wei")
        .await;
    assert!(meta.starts_with(&format!("#{id}")), "{meta}");
    browser.close().await;
}

#[tokio::test]
async fn a_translator_proposes_a_term_and_a_terminologist_approves_it_on_the_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(
        dir.path(),
        &[("li.wei", "translator"), ("zhang.min", "terminologist")],
    );
    browser.goto(&format!("{}/#glossary", server.base)).await;
    browser.sign_in(&keys["li.wei"], "li.wei").await;
    browser
        .text_containing("#gl-status", "58 entries found")
        .await;

    // The translator proposes an entry.
    browser.click("#gl-new").await;
    browser.text_containing("#editor-title", "New entry").await;
    assert_accessible_basics(&browser).await;
    assert!(
        !browser
            .find("#ed-workflow")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "a translator cannot choose the workflow"
    );
    browser.fill("#ed-subject", "policy phrase").await;
    let rows = browser.find_all("#ed-terms .term-row").await;
    assert_eq!(rows.len(), 2);
    rows[0]
        .find(Locator::Css(".term-text"))
        .await
        .unwrap()
        .send_keys("新质生产力")
        .await
        .unwrap();
    rows[1]
        .find(Locator::Css(".term-text"))
        .await
        .unwrap()
        .send_keys("new quality productive forces")
        .await
        .unwrap();
    browser.click("#ed-save").await;
    let title = browser.text_containing("#entry-title", "新质生产力").await;
    let id: u64 = title
        .trim_start_matches("Entry #")
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    browser
        .text_containing("#entry-status", &format!("Entry #{id} created (proposed)"))
        .await;
    browser
        .text_containing("#entry-body .entry-workflow", "proposed")
        .await;
    // Approving is not the translator's: the button is disabled and says why.
    assert!(!browser
        .find("#entry-approve")
        .await
        .is_enabled()
        .await
        .unwrap());
    browser
        .text_containing(
            "#entry-panel .curation .role-note",
            "need the terminologist role; your key “li.wei” has the role translator",
        )
        .await;
    browser.text_containing("#recent-list", "新质生产力").await;

    // The terminologist signs in on the same page, finds the proposal and approves it.
    browser.sign_in(&keys["zhang.min"], "zhang.min").await;
    browser.click("#gl-proposals").await;
    browser.text_containing("#gl-status", "1 entry found").await;
    browser
        .text_containing("#gl-results", "new quality productive forces")
        .await;
    browser.click("#gl-results .open-entry").await;
    browser
        .text_containing("#entry-title", &format!("Entry #{id}"))
        .await;
    assert!(browser
        .find("#entry-approve")
        .await
        .is_enabled()
        .await
        .unwrap());
    assert!(!browser
        .find("#entry-panel .curation .role-note")
        .await
        .is_displayed()
        .await
        .unwrap());
    browser.click("#entry-approve").await;
    browser
        .text_containing("#entry-status", &format!("Entry #{id} is now approved."))
        .await;
    browser.text_containing("#entry-history", "approve").await;
    let history = browser.text_containing("#entry-history", "zhang.min").await;
    assert!(history.contains("li.wei"), "{history}");
    browser
        .text_containing("#recent-list li:first-child", "approve")
        .await;

    let entry = api_get(&server, &format!("/api/v1/terms/{id}"), &keys["li.wei"]).await;
    assert_eq!(entry["workflow"], "approved");
    let history = api_get(
        &server,
        &format!("/api/v1/terms/{id}/history"),
        &keys["li.wei"],
    )
    .await;
    let by: Vec<&str> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["li.wei", "zhang.min"]);

    // The terminologist also edits the entry in place: a definition, and an admitted variant.
    browser.click("#entry-edit").await;
    browser
        .text_containing("#editor-title", &format!("Edit entry #{id}"))
        .await;
    browser
        .fill(
            "#ed-definition",
            "Productive forces driven by innovation in science and technology.",
        )
        .await;
    browser.click("#ed-add-term").await;
    let rows = browser.find_all("#ed-terms .term-row").await;
    assert_eq!(rows.len(), 3);
    rows[2]
        .find(Locator::Css(".term-text"))
        .await
        .unwrap()
        .send_keys("new productive forces")
        .await
        .unwrap();
    browser.click("#ed-save").await;
    browser
        .text_containing("#entry-status", &format!("Entry #{id} saved."))
        .await;
    browser
        .text_containing("#entry-body", "new productive forces")
        .await;
    let edited = api_get(&server, &format!("/api/v1/terms/{id}"), &keys["li.wei"]).await;
    assert_eq!(
        edited["definition"],
        "Productive forces driven by innovation in science and technology."
    );
    assert_eq!(edited["workflow"], "approved", "editing keeps the workflow");
    assert_eq!(edited["terms"][2]["text"], "new productive forces");
    assert_eq!(edited["terms"][2]["status"], "admitted");

    // The picture: the whole glossary's first page beside the approved entry.
    browser.select("#gl-workflow", "").await;
    browser.click("#gl-form button[type=submit]").await;
    browser
        .text_containing("#gl-status", "59 entries found")
        .await;
    assert_accessible_basics(&browser).await;
    browser.client.set_window_size(1280, 1100).await.unwrap();
    browser.screenshot("glossary").await;
    browser.close().await;
}

#[tokio::test]
async fn a_reader_sees_curation_and_writing_disabled_with_the_role_they_need() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = keyed_server(dir.path(), &[("guest", "reader")]);
    browser.goto(&format!("{}/#glossary", server.base)).await;
    // Without a key the page asks for one and says why nothing shows.
    browser
        .text_containing("#gl-error", "Enter an API key")
        .await;
    browser.sign_in(&keys["guest"], "guest").await;
    browser.text_containing("#gl-status", "entries found").await;
    browser.fill("#gl-q", "一带一路").await;
    browser.click("#gl-form button[type=submit]").await;
    browser
        .text_containing("#gl-results", "the Belt and Road Initiative")
        .await;
    browser.click("#gl-results .open-entry").await;
    browser.text_containing("#entry-title", "一带一路").await;

    for button in ["#entry-approve", "#entry-reject", "#entry-edit", "#gl-new"] {
        assert!(
            !browser.find(button).await.is_enabled().await.unwrap(),
            "{button} is disabled for a reader"
        );
    }
    browser
        .text_containing(
            "#entry-panel .curation .role-note",
            "Approve, Reject and Edit need the terminologist role; your key “guest” has the role reader.",
        )
        .await;
    browser
        .text_containing(
            "#gl-form .role-note",
            "New entry needs the translator role; your key “guest” has the role reader.",
        )
        .await;
    let described = browser
        .js(
            "const b = document.querySelector('#entry-approve'); \
             return document.getElementById(b.getAttribute('aria-describedby')).textContent",
            vec![],
        )
        .await;
    assert!(described.as_str().unwrap().contains("terminologist role"));

    // Adding to the TM is a translator's too.
    browser.click("#tab-draft").await;
    browser.click("#pair-details > summary").await;
    assert!(!browser
        .find("#pair-form button[type=submit]")
        .await
        .is_enabled()
        .await
        .unwrap());
    browser
        .text_containing(
            "#pair-form .role-note",
            "Add to TM needs the translator role; your key “guest” has the role reader.",
        )
        .await;
    browser.close().await;
}

#[tokio::test]
async fn qa_marks_missing_terms_deprecated_renderings_and_numbers_in_place() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("index"));
    browser.goto(&format!("{}/#qa", server.base)).await;
    let source =
        "会议由中共昌平区委书记主持，强调推进中国特色大国外交，落实“十四五”规划3项重点任务。";
    let target =
        "The meeting, chaired by the district party chief, stressed great power diplomacy \
                  and four key tasks of the 14th Five-Year Plan.";
    browser.fill("#qa-source", source).await;
    browser.fill("#qa-target", target).await;
    browser.click("#qa-form button[type=submit]").await;
    let status = browser.text_containing("#qa-status", "issues:").await;
    assert_eq!(
        status,
        "4 issues: 2 missing terms, 1 deprecated rendering, 1 number mismatch."
    );

    // In the source: the title without its rendering and the number that did not cross.
    let missing: Vec<String> = texts(&browser, "#qa-marked-source mark.issue-missing_term").await;
    assert_eq!(missing, ["中共昌平区委书记", "中国特色大国外交"]);
    let numbers = texts(&browser, "#qa-marked-source mark.issue-number_mismatch").await;
    assert_eq!(numbers, ["3"]);
    // In the translation: the deprecated rendering.
    let deprecated = texts(&browser, "#qa-marked-target mark.issue-deprecated_term").await;
    assert_eq!(deprecated, ["great power diplomacy"]);
    // The marks leave the text as it was.
    let plain = browser
        .js(
            "const p = document.querySelector('#qa-marked-source').cloneNode(true); \
             p.querySelectorAll('sup').forEach(s => s.remove()); return p.textContent",
            vec![],
        )
        .await;
    assert_eq!(plain, json!(source));

    let issues = texts(&browser, "#qa-issues > li").await;
    assert_eq!(issues.len(), 4);
    assert!(issues[0].starts_with("Missing term"), "{issues:?}");
    assert!(
        issues[0].contains("Secretary of the CPC Changping District Committee"),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|issue| issue.starts_with("Number mismatch") && issue.contains("the number 3")),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|issue| issue.starts_with("Deprecated rendering")
                && issue.contains("major-country diplomacy")),
        "{issues:?}"
    );
    assert_accessible_basics(&browser).await;
    browser.client.set_window_size(1280, 1000).await.unwrap();
    browser.screenshot("qa").await;
    browser.close().await;
}

async fn texts(browser: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in browser.find_all(css).await {
        out.push(element.text().await.unwrap());
    }
    out
}

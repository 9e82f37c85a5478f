//! The page cases: one hostile script each (`host/src/audit/pages/`), what
//! must happen, and the checks of both sides: what the page got, and what
//! the host logged.

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::Page;
use crate::audit::{Area, AuditEnv, Case, Outcome};
use crate::bridge::limits::SECURITY_LOG_QUOTA;

/// The app's page, as WebKit reports the main frame's URL.
pub(super) const APP_PAGE: &str = "tollgate://localhost/index.html";
/// The about window's page.
const ABOUT_PAGE: &str = "tollgate://localhost/about.html";
/// Clicks the main page's About button (the user's way to the about
/// window); whether the page has one.
const CLICK_ABOUT: &str = "async () => { const b = document.getElementById(\"about-open\"); if (!b) return false; b.click(); return true; }";
/// One app:info / app:ping call through the page's own client, settled.
const CALL_APP_INFO: &str = "async ({ settle }) => settle(window.tollgate.invoke(\"app:info\", {}))";
const CALL_APP_PING: &str = "async ({ settle }) => settle(window.tollgate.invoke(\"app:ping\", {}))";
/// `app:open-about` calls in a burst, against its burst of 3.
const OPEN_ABOUT_BURST: u64 = 8;
/// app:info round trips the about window measures, quiet and during the
/// main window's flood, one every [`MEASURE_GAP_MS`] (under its own quota
/// of 20/s).
const ABOUT_SAMPLES: u64 = 20;
const MEASURE_GAP_MS: u64 = 90;
/// The app page another page of the app navigates to.
const SECOND_PAGE: &str = "tollgate://localhost/index.html?audit=after-navigation";
/// How long a security event may take to appear after what caused it.
const LOG_WAIT: Duration = Duration::from_secs(3);
/// Guesses of the per-webview secret in the brute-force case.
const BRUTE_FORCE_GUESSES: u64 = 1000;
/// Calls to one channel in the flood case.
const FLOOD_CALLS: u64 = 2000;
/// Quiet round trips measured before the flood.
const QUIET_SAMPLES: u64 = 50;
/// The bound the flood cases state: while one channel (or window) is
/// flooded, the measured calls' median round trip stays under
/// [`FLOOD_MEDIAN_MS`], or within this many times their quiet median plus
/// [`FLOOD_SLACK_MS`] on a machine so busy with other work (CI) that this
/// is more. Refusals are cheap, but each one is still an answer the host
/// evaluates in a page, on the one UI thread the measured calls share.
const FLOOD_SLOWDOWN: f64 = 4.0;
const FLOOD_SLACK_MS: f64 = 25.0;
const FLOOD_MEDIAN_MS: f64 = 100.0;
/// No measured call may take longer than this during a flood: nothing is
/// starved, however loaded the machine.
const FLOOD_STALL: Duration = Duration::from_secs(2);
/// Time for the security log's quota to refill after a case that spends it
/// (the brute force), so the next case's events are logged.
const LOG_QUOTA_REFILL: Duration = Duration::from_millis(2500);
/// The upload cap of `diag:upload`.
/// The body `page/huge-body-refused-unread` sends, in MiB.
const HUGE_BODY_MIB: usize = 128;

/// This process's resident memory in MiB (Linux), for the audit's notes.
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib / 1024)
}

/// The string `page/huge-post-refused-unread` posts, in MiB: 64 times the
/// message cap, small enough for any machine that runs the audit.
const HUGE_POST_MIB: usize = 64;

const UPLOAD_CAP: usize = crate::app::channels::MAX_DIAG_BYTES;

/// What the about window is not given, read from the app's own registry
/// and event declarations: every channel and event the about window may
/// not use, by kind.
#[derive(Clone, Debug, Default)]
pub(super) struct AboutReach {
    json: Vec<&'static str>,
    upload: Vec<&'static str>,
    download: Vec<&'static str>,
    allowed: Vec<&'static str>,
    event: Option<&'static str>,
}

impl AboutReach {
    pub(super) fn of(bridge: &crate::bridge::Bridge) -> Self {
        use crate::bridge::WindowLabel;
        use crate::bridge::registry::Body;
        let mut reach = Self::default();
        for channel in bridge.registry().channels() {
            let spec = &channel.spec;
            if spec.windows.contains(&WindowLabel::About) {
                reach.allowed.push(spec.name);
                continue;
            }
            match spec.body {
                Body::Json => reach.json.push(spec.name),
                Body::BinaryUpload => reach.upload.push(spec.name),
                Body::BinaryDownload => reach.download.push(spec.name),
            }
        }
        // The sign-in events first: they say who is signed in.
        let refused = || bridge.events().declared().iter().filter(|e| !e.windows.contains(&WindowLabel::About));
        reach.event = refused().find(|e| e.name.starts_with("auth:")).or_else(|| refused().next()).map(|e| e.name);
        reach
    }

    fn refused(&self) -> usize {
        self.json.len() + self.upload.len() + self.download.len()
    }
}

/// A case's checks: what happened, and what was wrong.
#[derive(Default)]
struct Checks {
    seen: Vec<String>,
    wrong: Vec<String>,
}

impl Checks {
    fn saw(&mut self, what: impl Into<String>) {
        self.seen.push(what.into());
    }

    fn expect(&mut self, holds: bool, otherwise: impl Into<String>) {
        if !holds {
            self.wrong.push(otherwise.into());
        }
    }

    /// The page's own call (`{ok, data}` or a refusal) answered.
    fn still_works(&mut self, answer: &Value, what: &str) {
        self.expect(answer["ok"] == true, format!("the page's own {what} failed afterwards: {answer}"));
    }

    fn outcome(self) -> Outcome {
        let mut text = self.seen.join("; ");
        if !self.wrong.is_empty() {
            text = format!("WRONG: {} | {text}", self.wrong.join("; "));
        }
        Outcome::check(self.wrong.is_empty(), text)
    }
}

/// The fields of a JSON log line (`fields` in tracing's JSON format, or
/// the line itself if flattened).
fn fields(line: &Value) -> &Value {
    line.get("fields").filter(|f| f.is_object()).unwrap_or(line)
}

/// Security events (target `tollgate::security`) logged since `mark`, as their fields.
fn security_since(env: &AuditEnv, mark: usize) -> Vec<Value> {
    env.log()
        .lines()
        .into_iter()
        .skip(mark)
        .filter(|l| l.get("target").and_then(Value::as_str) == Some("tollgate::security"))
        .map(|l| fields(&l).clone())
        .collect()
}

/// Security events `event` since `mark`, waiting up to [`LOG_WAIT`] for at least `at_least`.
fn events(env: &AuditEnv, mark: usize, event: &str, at_least: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let found: Vec<Value> = security_since(env, mark).into_iter().filter(|f| f["event"] == event).collect();
        if found.len() >= at_least || started.elapsed() > LOG_WAIT {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many log lines there are now: later lines are the case's.
fn mark(env: &AuditEnv) -> usize {
    env.log().lines().len()
}

fn count(events: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

/// A page case: runs `body` once the page is ready.
fn case(
    page: &Page,
    ready: &Result<(), String>,
    id: &'static str,
    file: &str,
    must: &'static str,
    body: impl FnOnce(&Page, &AuditEnv) -> Outcome + 'static,
) -> Case {
    let page = page.clone();
    let ready = ready.clone();
    let artifact = if file.contains(".js") { format!("host/src/audit/pages/{file}") } else { file.to_owned() };
    Case::new(id, Area::Page, artifact, must, move |env| {
        let outcome = match ready {
            Ok(()) => body(&page, env),
            Err(e) => Outcome::fail(format!("the app's page never came up: {e}")),
        };
        // What the host told the page goes to the secrets search too.
        for observed in page.take_observed() {
            env.heard(observed);
        }
        outcome
    })
}

/// Runs a script; a script that threw or vanished fails the case with why.
macro_rules! run_or_fail {
    ($page:expr, $source:expr, $args:expr) => {
        match $page.run($source, &$args) {
            Ok(value) => value,
            Err(e) => return Outcome::fail(e),
        }
    };
}

fn base64url(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text.as_bytes())
}

/// Every page case, in order: those that spend the security log's quota
/// (the brute force, the flood) come last, then the log check.
pub(super) fn cases(page: &Page, ready: Result<(), String>, first_line: usize, about: &AboutReach) -> Vec<Case> {
    let ready = &ready;
    let about = about.clone();
    vec![
        case(page, ready, "page/replace-bridge", "replace-bridge.js",
            "assigning, redefining, deleting or extending window.tollgate, its functions and the host's delivery hooks throws TypeError; the client stays frozen and answers",
            |page, _| {
                let r = run_or_fail!(page, include_str!("../pages/replace-bridge.js"), json!({}));
                let mut c = Checks::default();
                let attempts = ["assignGlobal", "assignInvoke", "defineGlobal", "deleteGlobal", "addMember", "replaceDeliver", "defineDeliver", "replaceEmit", "setPrototype"];
                let typed = attempts.iter().filter(|a| r[**a] == "TypeError").count();
                c.saw(format!("{typed}/{} attempts threw TypeError", attempts.len()));
                for a in attempts {
                    c.expect(r[a] == "TypeError", format!("{a}: {}", r[a]));
                }
                c.expect(r["writable"] == false && r["configurable"] == false && r["frozen"] == true, format!("descriptor {r}"));
                c.expect(r["invokeIsFake"] == false, "invoke was replaced");
                c.saw("window.tollgate non-writable, non-configurable, frozen");
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/read-secret", "read-secret.js",
            "hooks on Headers, JSON, String, Array, Map, fetch and getters on Object.prototype, the client's source and the document show no 64-hex secret",
            |page, _| {
                let r = run_or_fail!(page, include_str!("../pages/read-secret.js"), json!({}));
                let mut c = Checks::default();
                let seen = r["seenIn"].as_array().cloned().unwrap_or_default();
                c.expect(seen.is_empty(), format!("the secret's form was seen in {seen:?} (a stolen secret was {})", r["stolenCall"]));
                c.saw(format!("hex64 seen in {} places", seen.len()));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/prototype-pollution", "prototype-pollution.js",
            "__proto__, constructor and prototype keys (top level, nested, in arrays, escaped) sent through the real client get VALIDATION_ERROR; Object.prototype and Array.prototype are untouched",
            |page, _| {
                let r = run_or_fail!(page, include_str!("../pages/prototype-pollution.js"), json!({}));
                let mut c = Checks::default();
                let answers = r["answers"].as_object().cloned().unwrap_or_default();
                c.expect(!answers.is_empty(), "no answers");
                for (name, a) in &answers {
                    c.expect(a["code"] == "VALIDATION_ERROR", format!("{name} on {}: {}", a["channel"], a["code"]));
                }
                c.saw(format!("{} payloads: {}", answers.len(), summarize_codes(answers.values())));
                c.expect(r["prototypeUntouched"] == true, format!("a prototype changed: before {} after {}", r["before"], r["after"]));
                c.saw("Object.prototype untouched");
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/prototype-pollution-in-answers", "prototype-pollution-in-answers.js",
            "a token whose header and claims carry __proto__ and constructor keys decodes; the answer pollutes no prototype and the page sees the claims as plain own keys (nothing inherited)",
            |page, _| {
                let header = base64url(r#"{"alg":"HS256","typ":"JWT","__proto__":{"polluted":true}}"#);
                let claims = base64url(r#"{"sub":"audit","__proto__":{"polluted":true,"admin":true},"constructor":{"prototype":{"admin":true}}}"#);
                let token = format!("{header}.{claims}.{}", base64url("signature"));
                let r = run_or_fail!(page, include_str!("../pages/prototype-pollution-in-answers.js"), json!({ "token": token }));
                let mut c = Checks::default();
                c.saw(format!("jwt:decode {}", r["code"]));
                c.expect(r["prototypeUntouched"] == true, "Object.prototype changed");
                if r["code"] == "answered" {
                    c.saw(format!("payload own keys {}, shown as {}", r["payloadOwnKeys"], r["shownAs"]));
                    c.expect(r["payloadInheritsPolluted"] == false && r["payloadPrototypeIsObject"] == true,
                        format!("the answer's __proto__ key became the payload's prototype (payload.polluted inherited: {}, own keys {})", r["payloadInheritsPolluted"], r["payloadOwnKeys"]));
                }
                c.saw("Object.prototype untouched");
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/malformed-calls", "malformed-calls.js",
            "wrong types, unknown or missing fields, non-object requests, nesting past 32, unsafe numbers, non-string channels and values JSON can't carry get VALIDATION_ERROR through the real client; none reaches a handler",
            |page, _| {
                let r = run_or_fail!(page, include_str!("../pages/malformed-calls.js"), json!({}));
                let mut c = Checks::default();
                let answers = r["answers"].as_object().cloned().unwrap_or_default();
                for (name, a) in &answers {
                    c.expect(a["code"] == "VALIDATION_ERROR", format!("{name}: {}", a["code"]));
                    c.expect(a["message"].as_str().is_some_and(|m| !m.is_empty()), format!("{name}: no message"));
                }
                c.saw(format!("{} requests: {}", answers.len(), summarize_codes(answers.values())));
                c.expect(r["echoed"] == 0, format!("{} malformed diag:emit calls reached the handler", r["echoed"]));
                c.saw("no echo");
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/oversized-calls", "oversized-calls.js",
            "requests over their channel's cap and messages over the 1 MiB envelope cap (client and raw) get PAYLOAD_TOO_LARGE with the limit, logged without the payload; the page keeps working",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/oversized-calls.js"), json!({ "uploadCap": UPLOAD_CAP }));
                let mut c = Checks::default();
                let answers = r["answers"].as_object().cloned().unwrap_or_default();
                for (name, a) in &answers {
                    c.expect(a["code"] == "PAYLOAD_TOO_LARGE", format!("{name}: {}", a["code"]));
                }
                c.saw(answers.iter().map(|(n, a)| format!("{n} {} (limit {})", a["code"].as_str().unwrap_or("?"), a["limit"])).collect::<Vec<_>>().join(", "));
                let logged = events(env, m, "PAYLOAD_TOO_LARGE", 3);
                c.expect(count(&logged, |e| e["channel"] == "jwt:decode") >= 1, "no PAYLOAD_TOO_LARGE event for jwt:decode");
                c.expect(count(&logged, |e| e["channel"] == "<malformed>") >= 1, "no PAYLOAD_TOO_LARGE event for the raw 1.1 MiB message");
                let leaked = logged.iter().any(|e| e.to_string().contains("xxxxxxxx") || e.to_string().contains("aaaaaaaa"));
                c.expect(!leaked, "a logged event carries the payload");
                c.saw(format!("{} PAYLOAD_TOO_LARGE events logged", logged.len()));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/huge-post-refused-unread", "huge-post.js",
            "a 64 MiB string posted straight to the message handler is refused by its length, before it is converted to a Rust string (PAYLOAD_TOO_LARGE, \"refused unread\"); an object, a number and an array are refused as not strings (VALIDATION_ERROR); the page keeps working",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/huge-post.js"), json!({ "mib": HUGE_POST_MIB }));
                let mut c = Checks::default();
                c.saw(format!("posted {} UTF-16 units", r["posted"]));
                let too_large = events(env, m, "PAYLOAD_TOO_LARGE", 1);
                let unread = count(&too_large, |e| e["reason"].as_str().is_some_and(|r| r.contains("refused unread")));
                c.expect(unread >= 1, format!("no PAYLOAD_TOO_LARGE event refusing the {HUGE_POST_MIB} MiB post unread ({} events)", too_large.len()));
                let not_strings = events(env, m, "VALIDATION_ERROR", 3);
                let refused = count(&not_strings, |e| e["reason"] == "a message that is not a string");
                c.expect(refused >= 3, format!("{refused} of 3 non-string posts refused as not strings"));
                c.saw(format!("{unread} refused unread, {refused} refused as not strings"));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/huge-body-refused-unread", "huge-body.js",
            "a 128 MiB POST body to an asset path gets 405 and one to the binary path with no secret 400 (IPC_UNAUTHORIZED), each refused before its body is read (both security events); through the page's own client, over diag:upload's cap, reading stops one byte past the cap (PAYLOAD_TOO_LARGE for exactly cap + 1 bytes); app:ping keeps answering meanwhile",
            |page, env| {
                let m = mark(env);
                let rss_before = resident_mib();
                let r = run_or_fail!(page, include_str!("../pages/huge-body.js"), json!({ "mib": HUGE_BODY_MIB }));
                let rss_after = resident_mib();
                let mut c = Checks::default();
                c.expect(r["assetStatus"] == 405, format!("the asset path answered {}", r["assetStatus"]));
                c.expect(r["noSecretStatus"] == 400, format!("the binary path without a secret answered {}", r["noSecretStatus"]));
                c.expect(r["overCap"] == "PAYLOAD_TOO_LARGE", format!("the client's upload over the cap: {}", r["overCap"]));
                // Reading stops one byte past the cap: the bridge saw exactly cap + 1.
                let stopped = format!("payload is {} bytes", UPLOAD_CAP + 1);
                let at_cap = r["overCapMessage"].as_str().is_some_and(|m| m.contains(&stopped));
                c.expect(at_cap, format!("the over-cap upload was not cut at cap + 1 bytes: {}", r["overCapMessage"]));
                let asset_events = events(env, m, "VALIDATION_ERROR", 1);
                let unread = count(&asset_events, |e| e["reason"].as_str().is_some_and(|r| r.contains("asset path, refused unread")));
                c.expect(unread >= 1, "no security event for the POST to an asset path");
                let unauthorized = events(env, m, "IPC_UNAUTHORIZED", 1);
                c.expect(count(&unauthorized, |e| e["channel"] == "diag:upload") >= 1, "no IPC_UNAUTHORIZED event for the binary path");
                let pings = millis(&r["pings"]);
                let max = pings.iter().copied().fold(0.0, f64::max);
                c.expect(max <= FLOOD_STALL.as_secs_f64() * 1000.0, format!("app:ping took {max:.0} ms once meanwhile"));
                c.saw(format!(
                    "asset {} / no secret {} / over cap {}; {} app:ping meanwhile, p50 {:.1} / max {max:.1} ms; all settled in {:.0} ms; host RSS {} -> {} MiB",
                    r["assetStatus"], r["noSecretStatus"], r["overCap"], pings.len(), percentile(&pings, 50.0),
                    r["totalMs"].as_f64().unwrap_or(0.0), rss_before.map_or("?".into(), |v| v.to_string()), rss_after.map_or("?".into(), |v| v.to_string())
                ));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/odd-bodies", "odd-bodies.js",
            "Blob, FormData and ReadableStream bodies (WebKitGTK 2.50 crashes the host inside webkit_uri_scheme_request_get_http_body on them) never reach it: the client refuses them (VALIDATION_ERROR), raw ones lack the secret and are refused before the body is touched (400) or are not sent by WebKit at all; none hangs and the host keeps serving",
            |page, _env| {
                let r = run_or_fail!(page, include_str!("../pages/odd-bodies.js"), json!({}));
                let mut c = Checks::default();
                let answers = r["answers"].as_object().cloned().unwrap_or_default();
                c.expect(answers.len() == 6, format!("{} of 6 bodies sent", answers.len()));
                for (name, a) in &answers {
                    let a = a.as_str().unwrap_or("?");
                    // Raw: refused by the host without the secret, or not sent
                    // at all (WebKit refuses a stream body to a custom scheme).
                    let ok = if name.starts_with("raw") { a == "accepted:400" || a.starts_with("FETCH_REFUSED:") } else { a == "VALIDATION_ERROR" };
                    c.expect(ok, format!("{name}: {a}"));
                }
                c.saw(answers.iter().map(|(n, a)| format!("{n} {}", a.as_str().unwrap_or("?"))).collect::<Vec<_>>().join(", "));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/unknown-channel", "unknown-channel.js",
            "undeclared and malformed channel names get UNKNOWN_CHANNEL (logged; malformed names as <malformed>), a binary channel over invoke gets VALIDATION_ERROR (logged)",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/unknown-channel.js"), json!({}));
                let mut c = Checks::default();
                let answers = r["answers"].as_object().cloned().unwrap_or_default();
                for (name, a) in &answers {
                    let want = if name == "binaryOverJson" { "VALIDATION_ERROR" } else { "UNKNOWN_CHANNEL" };
                    c.expect(a["code"] == want, format!("{name}: {} instead of {want}", a["code"]));
                }
                c.saw(format!("{} calls: {}", answers.len(), summarize_codes(answers.values())));
                let unknown = events(env, m, "UNKNOWN_CHANNEL", 5);
                c.expect(count(&unknown, |e| e["channel"] == "audit:missing" && e["origin"] == "tollgate://localhost") == 1, "no UNKNOWN_CHANNEL event for audit:missing from tollgate://localhost");
                c.expect(count(&unknown, |e| e["channel"] == "<malformed>") >= 3, "malformed names not logged as <malformed>");
                let validation = events(env, m, "VALIDATION_ERROR", 1);
                c.expect(count(&validation, |e| e["channel"] == "diag:upload") == 1, "no VALIDATION_ERROR event for diag:upload over invoke");
                c.saw(format!("logged {} UNKNOWN_CHANNEL, {} VALIDATION_ERROR", unknown.len(), validation.len()));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/renderer-sandboxed", "renderer-sandbox.js",
            "every web process of the app runs inside WebKit's bubblewrap sandbox: its mount, PID and network namespaces differ from the host's, and a file planted in the user's home does not exist in its view of the filesystem; the page's own file:// reads of it fail; skipped, with the reason the app logged, where bubblewrap can't run",
            |page, _| {
                let planted = match plant_in_home() {
                    Ok(p) => p,
                    Err(e) => return Outcome::fail(format!("could not plant a file in the home directory: {e}")),
                };
                let r = page.run(include_str!("../pages/renderer-sandbox.js"), &json!({ "path": planted.path.display().to_string() }));
                let web = web_processes();
                if std::env::var_os(crate::app::platform::SANDBOX_ENV).is_none() {
                    let why = crate::app::platform::renderer_sandbox_available().err().unwrap_or_else(|| "the sandbox was not turned on".to_owned());
                    return Outcome::skip(format!("the renderer sandbox can't run here: {why}"));
                }
                let mut c = Checks::default();
                c.expect(!web.is_empty(), "found no WebKitWebProcess below this process");
                let (mut own, mut blind) = (0, 0);
                for pid in &web {
                    let mut separate = true;
                    for ns in ["mnt", "pid", "net"] {
                        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{ns}"));
                        let ours = std::fs::read_link(format!("/proc/self/ns/{ns}"));
                        let differs = matches!((&theirs, &ours), (Ok(t), Ok(o)) if t != o);
                        separate &= differs;
                        c.expect(differs, format!("web process {pid} shares the host's {ns} namespace (or it is unreadable: {theirs:?} {ours:?})"));
                    }
                    own += usize::from(separate);
                    let seen = std::path::Path::new(&format!("/proc/{pid}/root")).join(planted.path.strip_prefix("/").unwrap_or(&planted.path));
                    let visible = seen.exists();
                    blind += usize::from(!visible);
                    c.expect(!visible, format!("web process {pid} sees the planted file at {}", planted.path.display()));
                }
                c.saw(format!(
                    "{} web process(es): {own} with mount, PID and network namespaces of their own; the planted file absent from {blind} of their filesystems",
                    web.len()
                ));
                match r {
                    Ok(r) => {
                        for how in ["fetch", "xhr", "img"] {
                            let got = r[how].as_str().unwrap_or("");
                            c.expect(!got.starts_with("read") && got != "loaded", format!("the page read the planted file by {how}: {got}"));
                        }
                        c.saw(format!("page reads: fetch {}, xhr {}, img {}", r["fetch"], r["xhr"], r["img"]));
                        c.still_works(&r["ping"], "app:ping");
                    }
                    Err(e) => c.expect(false, format!("the page script failed: {e}")),
                }
                drop(planted);
                c.outcome()
            }),
        case(page, ready, "page/devtools-caller", "devtools-caller.js",
            "with the web inspector open on the main window (the host opens it as a developer would; WebKit can't tell console code from page code), every channel that signs, seals, saves, deletes, signs out, trusts or moves bytes answers IPC_FORBIDDEN (logged, after a WEB_INSPECTOR_OPEN event); app:ping, app:info, plugins:list and settings:get still answer; once it closes, calls answer again; a release build has developer extras off",
            |page, env| {
                let m = mark(env);
                let windows_before = page.windows().unwrap_or(0);
                let was_on = match page.inspector(true) {
                    Ok(was_on) => was_on,
                    Err(e) => return Outcome::fail(format!("could not open the inspector: {e}")),
                };
                let r = run_or_fail!(page, include_str!("../pages/devtools-caller.js"), json!({ "inspected": true }));
                let windows_open = page.windows().unwrap_or(0);
                let closed = page.inspector(false);
                if !cfg!(debug_assertions) && was_on {
                    return Outcome::fail("a release build has developer extras (the inspector) on");
                }
                // Refused: the inspector opened and the gate engaged. Not
                // refused while an inspector window appeared: the gate
                // failed. Neither: WebKit did not open an inspector here
                // (the gate itself is covered by tests/all/bridge.rs).
                if r["probe"]["code"] != "IPC_FORBIDDEN" && windows_open <= windows_before {
                    return Outcome::skip(format!(
                        "the web inspector did not open on this machine ({windows_before} windows before, {windows_open} with it; developer extras were {}); page calls kept answering",
                        if was_on { "on" } else { "off" }
                    ));
                }
                let mut c = Checks::default();
                c.expect(cfg!(debug_assertions) || !was_on, "a release build has developer extras (the inspector) on");
                c.saw(format!("developer extras were {} before the host opened the inspector", if was_on { "on (debug build)" } else { "off" }));
                c.expect(r["probe"]["code"] == "IPC_FORBIDDEN", format!("diag:emit was never refused while inspected: {}", r["probe"]));
                let refused = r["refused"].as_object().cloned().unwrap_or_default();
                c.expect(refused.len() >= 9, format!("only {} channels tried", refused.len()));
                for (channel, code) in &refused {
                    c.expect(code == "IPC_FORBIDDEN", format!("{channel}: {code} while inspected"));
                }
                let read_only = r["readOnly"].as_object().cloned().unwrap_or_default();
                for (channel, code) in &read_only {
                    c.expect(code == "ok", format!("{channel}: {code} while inspected (read-only)"));
                }
                c.saw(format!("inspected after {} ms: {}; read-only: {}", r["waitedMs"], tally(refused.values()), tally(read_only.values())));
                let opened = events(env, m, "WEB_INSPECTOR_OPEN", 1);
                c.expect(count(&opened, |e| e["window"] == "main") >= 1, "no WEB_INSPECTOR_OPEN event for the main window");
                let forbidden = events(env, m, "IPC_FORBIDDEN", refused.len());
                for channel in refused.keys() {
                    c.expect(count(&forbidden, |e| e["channel"] == channel.as_str()) >= 1, format!("no IPC_FORBIDDEN event for {channel}"));
                }
                c.saw(format!("logged WEB_INSPECTOR_OPEN and {} IPC_FORBIDDEN", forbidden.len()));
                if let Err(e) = closed {
                    c.expect(false, format!("could not close the inspector: {e}"));
                    return c.outcome();
                }
                let after = run_or_fail!(page, include_str!("../pages/devtools-caller.js"), json!({ "inspected": false }));
                c.still_works(&after["probe"], "diag:emit after the inspector closed");
                c.outcome()
            }),
        case(page, ready, "page/guessed-secret", "guessed-secret.js",
            "raw messages with made-up secrets (zeros, random, empty, not hex, wrong length, upper case) and the binary path without the secret get IPC_UNAUTHORIZED, each logged; non-string messages are refused; nothing reaches a handler; the page keeps working",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/guessed-secret.js"), json!({}));
                let mut c = Checks::default();
                let forged = r["forged"].as_u64().unwrap_or(0) as usize;
                c.expect(r["echoed"] == 0, format!("{} forged diag:emit calls reached the handler", r["echoed"]));
                c.saw(format!("{forged} forged envelopes, no echo"));
                for (name, code) in r["binary"].as_object().cloned().unwrap_or_default() {
                    c.expect(code == "IPC_UNAUTHORIZED", format!("binary path {name}: {code}"));
                }
                c.saw(format!("binary path: {}", r["binary"]));
                let refused = events(env, m, "IPC_UNAUTHORIZED", forged + 2);
                let on_emit = count(&refused, |e| e["channel"] == "diag:emit" && e["window"] == "main" && e["origin"] == "tollgate://localhost");
                c.expect(on_emit >= forged, format!("{on_emit} IPC_UNAUTHORIZED events on diag:emit for {forged} forged messages"));
                c.expect(count(&refused, |e| e["channel"] == "diag:upload") >= 2, "the binary path's refusals were not logged");
                let malformed = events(env, m, "VALIDATION_ERROR", 1);
                c.expect(count(&malformed, |e| e["channel"] == "<malformed>") >= 1, "non-string messages were not logged as malformed");
                c.saw(format!("logged {} IPC_UNAUTHORIZED, {} malformed", refused.len(), malformed.len()));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/replayed-request-id", "replayed-request-id.js",
            "page script can't replay a request id: the client never reuses one; a used or predicted id sent on diag:emit (state-changing) without the secret gets IPC_UNAUTHORIZED before the replay check, so the real call that later uses the predicted id still succeeds",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/replayed-request-id.js"), json!({}));
                let mut c = Checks::default();
                c.expect(r["idsUnique"] == true, format!("the client reused a request id: {} then {}", r["ids"], r["afterwardsId"]));
                c.saw(format!("learned ids {} from refusals, predicted {}", r["ids"], r["next"]));
                if r["realCall"]["ok"] != true {
                    let accepted = if r["realEchoed"] == 1 { "which the host accepted and ran (its echo arrived)" } else { "which the host did not run" };
                    c.expect(false, format!(
                        "the real call with id {} was settled as {} by the host's answer to the forged message that used its id first, {accepted}: a script without the secret can fail the page's pending calls",
                        r["next"], r["realCall"]["code"]
                    ));
                }
                c.expect(r["realEchoed"] == 1, format!("the real call echoed {} times", r["realEchoed"]));
                c.expect(r["forgedEchoed"] == 0, format!("a forged replay reached the handler {} times", r["forgedEchoed"]));
                c.expect(r["binary"] == "IPC_UNAUTHORIZED", format!("binary path with a used id: {}", r["binary"]));
                let refused = events(env, m, "IPC_UNAUTHORIZED", 5);
                c.expect(count(&refused, |e| e["channel"] == "diag:emit") >= 4, format!("{} IPC_UNAUTHORIZED events on diag:emit for 4 forged replays", refused.len()));
                c.expect(events(env, m, "REPLAYED_REQUEST", 0).is_empty(), "a replay reached the replay check (it had the secret)");
                c.saw(format!("real call {}, forged replays refused ({} logged), binary path {}", if r["realCall"]["ok"] == true { "ok" } else { "FAILED" }, refused.len(), r["binary"]));
                c.outcome()
            }),
        case(page, ready, "page/iframe-srcdoc", "iframe-srcdoc.js",
            "an iframe page script makes with srcdoc has no bridge client; raw posts through its message handler (guessed or no secret) get IPC_UNAUTHORIZED and are logged; nothing reaches a handler",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/iframe-srcdoc.js"), json!({}));
                let mut c = Checks::default();
                c.saw(format!("frame {} at {}, client there: {}, handler reachable: {}", if r["created"] == true { "made" } else { "not made" }, r["href"], r["clientInFrame"], r["handlerReachable"]));
                c.expect(r["clientInFrame"] != "object", "the frame has a bridge client");
                c.expect(r["deliverInFrame"] != "function", "the frame has the host's delivery hook");
                c.expect(r["echoed"] == 0, format!("a post from the frame reached the handler {} times", r["echoed"]));
                let posted = r["posted"].as_u64().unwrap_or(0) as usize;
                c.expect(posted > 0, "no post was made through the frame: nothing was tried");
                let refused = events(env, m, "IPC_UNAUTHORIZED", posted);
                let from_frame = count(&refused, |e| e["channel"] == "diag:emit");
                c.expect(from_frame >= posted, format!("{from_frame} IPC_UNAUTHORIZED events for {posted} posts from the frame"));
                c.saw(format!("{posted} posts from the frame, {from_frame} refused and logged (an inline script in srcdoc {})", if from_frame > posted { "ran" } else { "did not run (CSP)" }));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/iframe-same-origin", "iframe-same-origin.js",
            "iframes pointed at the app's own page (absolute and relative) do not load the app (CSP frame-src 'none', frame-ancestors 'none') and get no bridge client; their posts are refused IPC_UNAUTHORIZED and logged",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/iframe-same-origin.js"), json!({}));
                let mut c = Checks::default();
                let frames = r["frames"].as_array().cloned().unwrap_or_default();
                let mut posted = 0;
                for f in &frames {
                    c.expect(f["appLoaded"] != true, format!("{} loaded the app in a frame", f["src"]));
                    c.expect(f["clientInFrame"] != "object", format!("{} has a bridge client", f["src"]));
                    if f["posted"] == true {
                        posted += 1;
                    }
                    c.saw(format!("{} -> {}{}", f["src"], f["href"], f["error"].as_str().map(|e| format!(" ({e})")).unwrap_or_default()));
                }
                c.expect(r["echoed"] == 0, format!("a post from a frame reached the handler {} times", r["echoed"]));
                c.expect(posted > 0, "no post was made through any frame: nothing was tried");
                let refused = events(env, m, "IPC_UNAUTHORIZED", posted);
                c.expect(count(&refused, |e| e["channel"] == "diag:emit") >= posted, format!("{} IPC_UNAUTHORIZED events for {posted} posts", refused.len()));
                c.saw(format!("{posted} posts refused and logged, no echo"));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/iframe-data-blob", "iframe-data-blob.js",
            "iframes with data: and blob: documents whose scripts post to the host get nothing through (no handler reached); posts the page makes through those frames' handlers are refused IPC_UNAUTHORIZED and logged",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/iframe-data-blob.js"), json!({}));
                let mut c = Checks::default();
                let mut posted = 0;
                for f in r["frames"].as_array().cloned().unwrap_or_default() {
                    c.saw(format!("{}: {}{}", f["kind"], f["href"], f["error"].as_str().map(|e| format!(" ({e})")).unwrap_or_default()));
                    if f["posted"] == true {
                        posted += 1;
                    }
                }
                c.expect(r["echoed"] == 0, format!("a post from a data:/blob: frame reached the handler {} times", r["echoed"]));
                c.expect(posted > 0, "no post was made through any data:/blob: frame: nothing was tried");
                let refused = events(env, m, "IPC_UNAUTHORIZED", posted);
                c.expect(count(&refused, |e| e["channel"] == "diag:emit") >= posted, format!("{} IPC_UNAUTHORIZED events for {posted} posts", refused.len()));
                let security = security_since(env, m);
                c.saw(format!("no echo; host logged {}", summarize_events(&security)));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/navigate-off-origin", "navigate-off-origin.js",
            "the main frame can't leave the app's origin for data:, blob:, about:blank or https (location, replace, link click, window.open _self, meta refresh): it stays on the app page, each refusal is logged NAVIGATION_REFUSED with the origin only (never the path or query), and the page keeps working",
            |page, env| {
                let marker = format!("audit-nav-token-{}", random_hex());
                env.plant("a refused navigation's query token", marker.clone());
                let m = mark(env);
                let r = page.run(include_str!("../pages/navigate-off-origin.js"), &json!({ "marker": marker }));
                let mut c = Checks::default();
                let url = page.url().unwrap_or_default();
                c.expect(url == APP_PAGE, format!("the main frame now shows {url}"));
                let r = match r {
                    Ok(r) => r,
                    Err(e) => return Outcome::fail(format!("{e} (the page left the app's origin?)")),
                };
                c.saw(format!("page stayed on {url} after {} attempts", r["tried"].as_array().map_or(0, Vec::len)));
                let refused = events(env, m, "NAVIGATION_REFUSED", 5);
                for origin in ["data:", "blob:", "about:", "https://audit.example.invalid"] {
                    c.expect(count(&refused, |e| e["origin"] == origin && e["window"] == "main") >= 1, format!("no NAVIGATION_REFUSED logged for {origin}"));
                }
                let leaked = env.log().lines().iter().skip(m).any(|l| l.to_string().contains(&marker));
                c.expect(!leaked, "the refused URL's query reached the log");
                c.saw(format!("logged {} NAVIGATION_REFUSED ({}), query not logged", refused.len(), distinct(&refused, "origin")));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/window-open", "window-open.js",
            "window.open of the app's page and of other origins (with and without features), a target=_blank link and form: no second window appears and window.open returns null; where WebKit asks the host, it refuses and logs NEW_WINDOW_REFUSED with the origin only",
            |page, env| {
                let m = mark(env);
                let before = page.windows().unwrap_or(usize::MAX);
                let r = run_or_fail!(page, include_str!("../pages/window-open.js"), json!({}));
                let mut c = Checks::default();
                let windows = page.windows().unwrap_or(usize::MAX);
                c.expect(windows == before, format!("{windows} windows are shown, {before} before"));
                c.expect(r["windowsOpened"] == 0, format!("window.open returned a window {} times: {}", r["windowsOpened"], r["opened"]));
                c.expect(r["href"] == APP_PAGE, format!("the page moved to {}", r["href"]));
                let refused = events(env, m, "NEW_WINDOW_REFUSED", 0);
                let leaked = refused.iter().any(|e| e["origin"].as_str().is_some_and(|o| o.contains("/audit") || o.contains("index.html")));
                c.expect(!leaked, "a NEW_WINDOW_REFUSED event carries a path");
                c.saw(format!(
                    "{} attempts, all null; {windows} window shown; host asked and refused {} times ({})",
                    r["opened"].as_array().map_or(0, Vec::len),
                    refused.len(),
                    distinct(&refused, "origin")
                ));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/file-dialog-without-the-user", "file-dialogs.js",
            "keys:import-file, keys:save-jwks, jwt:verify-key-set-file and jwt:verify-key-set-url (a host never allowed) from page script, directly, after every input page script can fake (click() on the app's own buttons, synthetic mouse and key events) and in a burst: no dialog opens (the window count stays), every call is refused IPC_FORBIDDEN (or RATE_LIMITED past the quota) at once, and each refusal is a DIALOG_REFUSED security event; no answer carries a path",
            |page, env| {
                let m = mark(env);
                let before = page.windows().unwrap_or(usize::MAX);
                let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhdWRpdCJ9.c2ln";
                let r = run_or_fail!(page, include_str!("../pages/file-dialogs.js"), json!({ "waitMs": 3000, "token": token }));
                let mut c = Checks::default();
                let windows = page.windows().unwrap_or(usize::MAX);
                c.expect(windows == before, format!("{windows} windows are shown, {before} before: a dialog opened"));
                let answers = r["answers"].as_array().cloned().unwrap_or_default();
                c.expect(answers.len() == 16, format!("{} answers of 16", answers.len()));
                let forbidden = answers.iter().filter(|a| a["code"] == "IPC_FORBIDDEN").count();
                let limited = answers.iter().filter(|a| a["code"] == "RATE_LIMITED").count();
                c.expect(forbidden + limited == answers.len(), format!("answers other than IPC_FORBIDDEN or RATE_LIMITED: {answers:?}"));
                c.expect(answers.iter().filter(|a| a["how"] != "burst").all(|a| a["code"] == "IPC_FORBIDDEN"), format!("a paced call was not IPC_FORBIDDEN: {answers:?}"));
                let refused = events(env, m, "DIALOG_REFUSED", forbidden);
                c.expect(refused.len() >= forbidden, format!("{} DIALOG_REFUSED events for {forbidden} refusals", refused.len()));
                let text = r.to_string();
                c.expect(!text.contains("/tmp") && !text.contains("/home") && !text.contains("/root"), "an answer names a path");
                c.saw(format!("{forbidden} IPC_FORBIDDEN, {limited} RATE_LIMITED, {} DIALOG_REFUSED; {windows} window shown", refused.len()));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/navigate-within-origin", "navigate-within-origin.js + after-navigation.js",
            "after the page navigates to another page of the app's origin (allowed, not logged as refused), the new document has the client again and its calls work, while forged messages from it are still refused",
            |page, env| {
                let m = mark(env);
                let before = run_or_fail!(page, include_str!("../pages/navigate-within-origin.js"), json!({ "url": SECOND_PAGE }));
                if let Err(e) = page.wait_ready(SECOND_PAGE) {
                    return Outcome::fail(format!("the second page never came up: {e}"));
                }
                let r = run_or_fail!(page, include_str!("../pages/after-navigation.js"), json!({}));
                let mut c = Checks::default();
                c.expect(r["client"] == "object" && r["frozen"] == true, format!("the new document's client: {}", r["client"]));
                c.expect(r["emit"]["ok"] == true && r["realEchoed"] == 1, format!("the new document's own diag:emit: {} (echoed {})", r["emit"], r["realEchoed"]));
                c.expect(r["forgedEchoed"] == 0, "a forged message from the new document reached the handler");
                let refused_nav = events(env, m, "NAVIGATION_REFUSED", 0);
                c.expect(refused_nav.is_empty(), format!("a navigation within the origin was refused: {refused_nav:?}"));
                let unauthorized = events(env, m, "IPC_UNAUTHORIZED", 1);
                c.expect(!unauthorized.is_empty(), "the forged message was not logged");
                c.saw(format!("client {} before, {} after at {}; own call ok, forged refused and logged", before["before"], r["client"], r["href"]));
                c.still_works(&r["ping"], "app:ping");
                c.outcome()
            }),
        case(page, ready, "page/brute-force-secret", "brute-force-secret.js",
            "1000 random guesses of the 256-bit secret are all refused (none reaches a handler); the page's real calls made in between all answer; the log gets at most the security-log quota (burst 100 + 50/s), not 1000 lines",
            |page, env| {
                let m = mark(env);
                let started = Instant::now();
                let r = run_or_fail!(page, include_str!("../pages/brute-force-secret.js"), json!({ "guesses": BRUTE_FORCE_GUESSES }));
                let elapsed = started.elapsed();
                let mut c = Checks::default();
                c.expect(r["echoed"] == 0, format!("{} guesses reached the handler", r["echoed"]));
                c.expect(r["pingsOk"] == r["pings"] && r["pings"].as_u64().unwrap_or(0) >= 9, format!("real calls during the guesses: {}/{} answered", r["pingsOk"], r["pings"]));
                let logged = events(env, m, "IPC_UNAUTHORIZED", 1).len();
                let cap = SECURITY_LOG_QUOTA.burst as usize + SECURITY_LOG_QUOTA.per_second as usize * (elapsed.as_secs() as usize + 1);
                c.expect((1..=cap).contains(&logged), format!("{logged} IPC_UNAUTHORIZED lines (allowed 1..={cap})"));
                c.saw(format!(
                    "{BRUTE_FORCE_GUESSES} guesses in {:.0} ms, none accepted; {}/{} real calls answered; {logged} lines logged (cap {cap})",
                    r["elapsedMs"].as_f64().unwrap_or(0.0),
                    r["pingsOk"],
                    r["pings"]
                ));
                c.still_works(&r["after"], "app:ping");
                std::thread::sleep(LOG_QUOTA_REFILL);
                c.outcome()
            }),
        case(page, ready, "page/flood-expensive-channel", "flood-expensive.js",
            "jwt:generate on an RSA-4096 profile (~40 ms a call) flooded at its quota for 3 s: past its (window, channel) backlog the host answers RATE_LIMITED with retryAfterMs at once instead of queueing; profiles:load, in the light lane, keeps its round trip (p95 under 100 ms, or 4x its quiet median + 25 ms) and never fails; the last flood answer arrives within 1 s of the flood's end",
            |page, _env| {
                let pem = match rsa_4096_pem() {
                    Ok(pem) => pem,
                    Err(e) => return Outcome::fail(e),
                };
                let r = run_or_fail!(page, include_str!("../pages/flood-expensive.js"), json!({ "pem": pem.as_str(), "floodMs": 3000, "perTick": 2 }));
                let mut c = Checks::default();
                c.expect(r["failed"].is_null(), format!("the set-up failed: {}", r["failed"]));
                c.expect(r["loadFailed"].is_null(), format!("profiles:load failed during the flood: {}", r["loadFailed"]));
                let quiet = millis(&r["quiet"]);
                let loads = millis(&r["loads"]);
                c.expect(loads.len() >= 5, format!("only {} profiles:load calls measured during the flood", loads.len()));
                let bound = flood_bound(&quiet);
                let p95 = percentile(&loads, 95.0);
                c.expect(p95 <= bound, format!("profiles:load p95 {p95:.1} ms during the flood is over {bound:.1} ms"));
                let max = loads.iter().copied().fold(0.0, f64::max);
                c.expect(max <= FLOOD_STALL.as_secs_f64() * 1000.0, format!("profiles:load took {max:.0} ms once during the flood"));
                let codes = &r["codes"];
                let ok = codes["ok"].as_u64().unwrap_or(0);
                let limited = codes["RATE_LIMITED"].as_u64().unwrap_or(0);
                let retry = r["retryAfter"].as_u64().unwrap_or(0);
                c.expect(ok >= 1, format!("no jwt:generate succeeded during the flood: {codes}"));
                c.expect(retry >= 1, format!("no refusal carried retryAfterMs (backlog refusals): {codes}"));
                let drain = r["drainMs"].as_f64().unwrap_or(f64::INFINITY);
                c.expect(drain <= EXPENSIVE_DRAIN_MS, format!("the last flood answer came {drain:.0} ms after the flood's end (bound {EXPENSIVE_DRAIN_MS} ms)"));
                c.saw(format!(
                    "jwt:generate {ok} ok, {limited} RATE_LIMITED ({retry} with retryAfterMs) in {:.1} s, drained {drain:.0} ms after; profiles:load quiet p50 {:.1} ms, during p50 {:.1} / p95 {p95:.1} / max {max:.1} ms over {} calls (bound {bound:.1} ms)",
                    r["floodMs"].as_f64().unwrap_or(0.0) / 1000.0,
                    percentile(&quiet, 50.0),
                    percentile(&loads, 50.0),
                    loads.len()
                ));
                c.outcome()
            }),
        case(page, ready, "page/flood-while-measured", "flood-while-measured.js",
            "2000 calls to app:info (quota 20/s, burst 20) in 2 s: beyond the quota they get RATE_LIMITED (logged, log capped by its quota); meanwhile app:ping never fails, its median round trip stays under 100 ms (or 4x its quiet median + 25 ms on a machine slow enough that that is more) and none takes over 2 s",
            |page, env| {
                let m = mark(env);
                let r = run_or_fail!(page, include_str!("../pages/flood-while-measured.js"), json!({ "flood": FLOOD_CALLS, "quietSamples": QUIET_SAMPLES }));
                let mut c = Checks::default();
                let quiet = millis(&r["quiet"]);
                let during = millis(&r["during"]);
                c.expect(r["failed"].is_null(), format!("app:ping failed during the flood: {}", r["failed"]));
                c.expect(during.len() >= 5, format!("only {} round trips measured during the flood", during.len()));
                let p95 = percentile(&during, 95.0);
                let bound = flood_bound(&quiet);
                check_flood(&mut c, "app:ping", &during, bound);
                let codes = &r["codes"];
                let ok = codes["ok"].as_u64().unwrap_or(0);
                let limited = codes["RATE_LIMITED"].as_u64().unwrap_or(0);
                let flood_secs = r["floodMs"].as_f64().unwrap_or(0.0) / 1000.0;
                let allowed = 20 + (20.0 * flood_secs).ceil() as u64 + 5;
                c.expect(ok >= 1 && ok <= allowed, format!("{ok} app:info calls succeeded (quota allows about {allowed})"));
                c.expect(ok + limited == FLOOD_CALLS, format!("other answers in the flood: {codes}"));
                let logged = events(env, m, "RATE_LIMITED", 1);
                c.expect(count(&logged, |e| e["channel"] == "app:info") >= 1, "no RATE_LIMITED event logged");
                let cap = SECURITY_LOG_QUOTA.burst as usize + SECURITY_LOG_QUOTA.per_second as usize * (flood_secs.ceil() as usize + 2);
                c.expect(logged.len() <= cap, format!("{} RATE_LIMITED lines (cap {cap})", logged.len()));
                c.saw(format!(
                    "app:info {ok} ok, {limited} RATE_LIMITED in {flood_secs:.1} s ({} lines logged); app:ping quiet p50 {:.1} / p95 {:.1} ms, during the flood p50 {:.1} / p95 {p95:.1} / max {:.1} ms over {} calls (bound: median <= {bound:.1} ms, max <= {} ms)",
                    logged.len(),
                    percentile(&quiet, 50.0),
                    percentile(&quiet, 95.0),
                    percentile(&during, 50.0),
                    during.iter().copied().fold(0.0, f64::max),
                    during.len(),
                    FLOOD_STALL.as_millis()
                ));
                c.outcome()
            }),
        case(page, ready, "page/second-window-by-host-only", "open-about.js",
            "the About button's app:open-about (the one way to a second window) opens the host's about page in a window of its own; asked again it opens nothing more, and past its quota (burst 3) the host answers RATE_LIMITED; the about page's app:info answers for window \"about\"",
            |page, env| {
                let m = mark(env);
                let before = page.windows().unwrap_or(usize::MAX);
                // The user's way: the header's About button.
                let clicked = run_or_fail!(page, CLICK_ABOUT, json!({}));
                let mut c = Checks::default();
                c.expect(clicked == true, "the page has no About button");
                let about = page.in_window(crate::bridge::WindowLabel::About);
                if let Err(e) = about.wait_ready(ABOUT_PAGE) {
                    return Outcome::fail(format!("the about window never came up: {e}"));
                }
                let burst = run_or_fail!(page, include_str!("../pages/open-about.js"), json!({ "calls": OPEN_ABOUT_BURST }));
                let answers = burst["answers"].as_array().cloned().unwrap_or_default();
                let ok = answers.iter().filter(|a| a["ok"] == true).count();
                let limited = answers.iter().filter(|a| a["code"] == "RATE_LIMITED").count();
                c.expect(ok + limited == answers.len() && limited >= 1 && ok <= 3, format!("{ok} ok, {limited} RATE_LIMITED of {}: {burst}", answers.len()));
                std::thread::sleep(Duration::from_millis(300));
                let after = page.windows().unwrap_or(usize::MAX);
                c.expect(after == before + 1, format!("{after} windows shown after {} requests, {before} before", 1 + answers.len()));
                let shows = about.url().unwrap_or_default();
                c.expect(shows == ABOUT_PAGE, format!("the about window shows {shows}"));
                let info = run_or_fail!(about, CALL_APP_INFO, json!({}));
                c.expect(info["ok"] == true && info["data"]["window"] == "about", format!("the about page's app:info: {info}"));
                let logged = events(env, m, "RATE_LIMITED", 1);
                c.expect(count(&logged, |e| e["channel"] == "app:open-about") >= 1, "the refused requests were not logged");
                c.saw(format!(
                    "{before} -> {after} windows after {} requests ({ok} more ok, {limited} RATE_LIMITED); the about window shows {shows} and its app:info answers window {}",
                    1 + answers.len(),
                    info["data"]["window"]
                ));
                c.still_works(&run_or_fail!(page, CALL_APP_PING, json!({})), "app:ping");
                std::thread::sleep(LOG_QUOTA_REFILL);
                c.outcome()
            }),
        case(page, ready, "page/second-window-reach", "about-reach.js",
            "the about window's page, with its own valid secret through its own client, calls every channel it is not given (JSON, upload, download) and subscribes to a main-window event: each is refused IPC_FORBIDDEN and logged for window about; its own app:info answers",
            {
                let reach = about.clone();
                move |page, env| {
                    let m = mark(env);
                    let about = match open_about(page) {
                        Ok(about) => about,
                        Err(not_open) => return not_open,
                    };
                    let args = json!({ "json": reach.json, "upload": reach.upload, "download": reach.download, "event": reach.event.unwrap_or("auth:login-success") });
                    let r = run_or_fail!(about, include_str!("../pages/about-reach.js"), args);
                    let mut c = Checks::default();
                    let answers = r["answers"].as_object().cloned().unwrap_or_default();
                    c.expect(answers.len() == reach.refused() && reach.refused() > 0, format!("{} answers for {} channels", answers.len(), reach.refused()));
                    for (channel, a) in &answers {
                        c.expect(a["ok"] == false && a["code"] == "IPC_FORBIDDEN", format!("{channel}: {a}"));
                    }
                    c.expect(r["subscribed"]["code"] == "IPC_FORBIDDEN", format!("subscribing to {:?}: {}", reach.event, r["subscribed"]));
                    c.expect(r["info"]["ok"] == true && r["info"]["data"]["window"] == "about", format!("app:info: {}", r["info"]));
                    let logged = security_since(env, m);
                    let from_about = count(&logged, |e| e["window"] == "about" && e["event"] == "IPC_FORBIDDEN");
                    c.expect(from_about >= 1, format!("no IPC_FORBIDDEN logged for window about ({})", summarize_events(&logged)));
                    c.saw(format!(
                        "{} channels refused ({}), event {} refused {}; {from_about} IPC_FORBIDDEN logged for window about; allowed: {}",
                        answers.len(),
                        summarize_codes(answers.values()),
                        reach.event.unwrap_or("-"),
                        r["subscribed"]["code"],
                        reach.allowed.join(", ")
                    ));
                    std::thread::sleep(LOG_QUOTA_REFILL);
                    c.outcome()
                }
            }),
        case(page, ready, "page/second-window-navigation", "about-navigate.js",
            "the about window's page tries to become the main page (index.html, same origin) and to leave the origin: NAVIGATION_REFUSED for window about each time; it still shows about.html and its app:info answers",
            |page, env| {
                let m = mark(env);
                let about = match open_about(page) {
                    Ok(about) => about,
                    Err(not_open) => return not_open,
                };
                let r = run_or_fail!(about, include_str!("../pages/about-navigate.js"), json!({ "mainPage": APP_PAGE }));
                let mut c = Checks::default();
                let shows = about.url().unwrap_or_default();
                c.expect(shows == ABOUT_PAGE && r["href"] == ABOUT_PAGE, format!("the about window went to {shows} (script saw {})", r["href"]));
                let refused = events(env, m, "NAVIGATION_REFUSED", 4);
                let ours = count(&refused, |e| e["window"] == "about");
                c.expect(ours >= 4, format!("{ours} NAVIGATION_REFUSED logged for window about, 4 expected ({})", summarize_events(&refused)));
                let info = run_or_fail!(about, CALL_APP_INFO, json!({}));
                c.still_works(&info, "app:info (about)");
                c.saw(format!("{} attempts; {ours} NAVIGATION_REFUSED for window about ({}); still on {shows}", r["tried"].as_array().map_or(0, Vec::len), distinct(&refused, "origin")));
                std::thread::sleep(LOG_QUOTA_REFILL);
                c.outcome()
            }),
        case(page, ready, "page/flood-other-window", "flood-info.js + measure-info.js",
            "the main window floods app:info (2000 calls in 2 s, quota 20/s per window) while the about window calls app:info every 90 ms: main's excess gets RATE_LIMITED, none of about's calls is refused (quotas are per window), their median round trip stays under 100 ms (or 4x the quiet median + 25 ms on a machine slow enough that that is more) and none takes over 2 s",
            |page, env| {
                let about = match open_about(page) {
                    Ok(about) => about,
                    Err(not_open) => return not_open,
                };
                let measure = json!({ "samples": ABOUT_SAMPLES, "gapMs": MEASURE_GAP_MS });
                let quiet = run_or_fail!(about, include_str!("../pages/measure-info.js"), measure);
                let m = mark(env);
                let flood = match page.start(include_str!("../pages/flood-info.js"), &json!({ "flood": FLOOD_CALLS })) {
                    Ok(run) => run,
                    Err(e) => return Outcome::fail(e),
                };
                let during = run_or_fail!(about, include_str!("../pages/measure-info.js"), measure);
                let flooded = match page.wait(&flood) {
                    Ok(r) => r,
                    Err(e) => return Outcome::fail(e),
                };
                let mut c = Checks::default();
                c.expect(quiet["failed"].is_null() && during["failed"].is_null(), format!("about's app:info failed: quiet {}, during {}", quiet["failed"], during["failed"]));
                let quiet_ms = millis(&quiet["rtts"]);
                let during_ms = millis(&during["rtts"]);
                c.expect(during_ms.len() as u64 == ABOUT_SAMPLES, format!("{} of {ABOUT_SAMPLES} round trips during the flood", during_ms.len()));
                let p95 = percentile(&during_ms, 95.0);
                let bound = flood_bound(&quiet_ms);
                check_flood(&mut c, "about's app:info", &during_ms, bound);
                let codes = &flooded["codes"];
                let ok = codes["ok"].as_u64().unwrap_or(0);
                let limited = codes["RATE_LIMITED"].as_u64().unwrap_or(0);
                c.expect(limited >= FLOOD_CALLS / 2 && ok + limited == FLOOD_CALLS, format!("main's flood: {codes}"));
                let logged = events(env, m, "RATE_LIMITED", 1);
                c.expect(count(&logged, |e| e["window"] == "about") == 0, "an about call was logged RATE_LIMITED");
                c.saw(format!(
                    "main: {ok} ok, {limited} RATE_LIMITED in {:.1} s; about's app:info quiet p50 {:.1} / p95 {:.1} ms, during the flood p50 {:.1} / p95 {p95:.1} / max {:.1} ms, {} of {ABOUT_SAMPLES} answered (bound: median <= {bound:.1} ms, max <= {} ms)",
                    flooded["floodMs"].as_f64().unwrap_or(0.0) / 1000.0,
                    percentile(&quiet_ms, 50.0),
                    percentile(&quiet_ms, 95.0),
                    percentile(&during_ms, 50.0),
                    during_ms.iter().copied().fold(0.0, f64::max),
                    during_ms.len(),
                    FLOOD_STALL.as_millis()
                ));
                c.outcome()
            }),
        case(page, ready, "page/second-window-closed-and-reopened", "the about window's close button, then the About button",
            "closing the about window (GTK's delete event, as its close button) closes it alone: the main page keeps working; the About button opens a new about window whose page works with a fresh secret",
            |page, _| {
                let about = match open_about(page) {
                    Ok(about) => about,
                    Err(not_open) => return not_open,
                };
                let mut c = Checks::default();
                let before = page.windows().unwrap_or(usize::MAX);
                c.expect(about.close_window() == Ok(true), "the about window was not found to close");
                let started = Instant::now();
                while (page.windows().unwrap_or(usize::MAX) >= before || !about.url().unwrap_or_default().is_empty())
                    && started.elapsed() < LOG_WAIT
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let closed = page.windows().unwrap_or(usize::MAX);
                let gone = about.url().unwrap_or_default().is_empty();
                c.expect(closed + 1 == before && gone, format!("{closed} windows after closing ({before} before), about webview gone: {gone}"));
                let ping = run_or_fail!(page, CALL_APP_PING, json!({}));
                c.still_works(&ping, "app:ping (main, after the about window closed)");
                let clicked = run_or_fail!(page, CLICK_ABOUT, json!({}));
                c.expect(clicked == true, "the page has no About button");
                if let Err(e) = about.wait_ready(ABOUT_PAGE) {
                    return Outcome::fail(format!("the about window did not come back: {e}"));
                }
                let reopened = page.windows().unwrap_or(usize::MAX);
                c.expect(reopened == before, format!("{reopened} windows after reopening, {before} before closing"));
                let info = run_or_fail!(about, CALL_APP_INFO, json!({}));
                c.expect(info["ok"] == true && info["data"]["window"] == "about", format!("the new about page's app:info: {info}"));
                c.saw(format!("{before} -> {closed} windows on close (main answers), {reopened} after the About button; the new about page's app:info answers window {}", info["data"]["window"]));
                c.outcome()
            }),
        case(page, ready, "page/no-secret-in-log", "the log lines written since the window opened",
            "no log line written since the window opened holds 64 hex digits in a row (the page secret's form), and every refusal logged the page's origin only",
            move |_, env| {
                let lines = env.log().lines();
                let ours = lines.get(first_line..).unwrap_or_default();
                let mut c = Checks::default();
                let with_hex = ours.iter().filter(|l| has_hex64(&l.to_string())).count();
                c.expect(with_hex == 0, format!("{with_hex} log lines hold 64 hex digits in a row"));
                let security: Vec<&Value> = ours.iter().filter(|l| l.get("target").and_then(Value::as_str) == Some("tollgate::security")).map(fields).collect();
                let with_path = security
                    .iter()
                    .filter(|e| e["origin"].as_str().is_some_and(|o| !is_bare_origin(o)))
                    .count();
                c.expect(with_path == 0, format!("{with_path} security events log more than an origin"));
                c.saw(format!("{} lines, {} security events, none with the secret's form or a path", ours.len(), security.len()));
                c.outcome()
            }),
    ]
}

/// Whether `origin` is `scheme:` or `scheme://host[:port]` (as the host
/// logs origins), with no path, query or fragment.
fn is_bare_origin(origin: &str) -> bool {
    if origin == "<unparseable>" {
        return true;
    }
    let Some((scheme, rest)) = origin.split_once(':') else { return false };
    !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && (rest.is_empty() || rest.strip_prefix("//").is_some_and(|host| !host.contains(['/', '?', '#'])))
}

/// Whether `text` holds 64 hex digits in a row.
fn has_hex64(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= 64 {
            return true;
        }
    }
    false
}

/// `{"IPC_FORBIDDEN": 9}`-style counts of string values.
fn tally<'a>(values: impl Iterator<Item = &'a Value>) -> String {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for v in values {
        *counts.entry(v.as_str().unwrap_or("?")).or_default() += 1;
    }
    counts.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
}

fn summarize_codes<'a>(answers: impl Iterator<Item = &'a Value>) -> String {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for a in answers {
        *counts.entry(a["code"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
    }
    counts.into_iter().map(|(code, n)| format!("{n} {code}")).collect::<Vec<_>>().join(", ")
}

fn summarize_events(events: &[Value]) -> String {
    if events.is_empty() {
        return "no security event".into();
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for e in events {
        *counts.entry(format!("{} {}", e["event"].as_str().unwrap_or("?"), e["origin"].as_str().unwrap_or(""))).or_default() += 1;
    }
    counts.into_iter().map(|(what, n)| format!("{n}x {what}")).collect::<Vec<_>>().join(", ")
}

fn distinct(events: &[Value], field: &str) -> String {
    let mut values: Vec<&str> = events.iter().filter_map(|e| e[field].as_str()).collect();
    values.sort_unstable();
    values.dedup();
    values.join(", ")
}

/// The about window's page driver, when a case before opened it
/// (`page/second-window-by-host-only`); else the case fails with why.
fn open_about(page: &Page) -> Result<Page, Outcome> {
    let about = page.in_window(crate::bridge::WindowLabel::About);
    if about.url().unwrap_or_default() == ABOUT_PAGE {
        Ok(about)
    } else {
        Err(Outcome::fail("the about window is not open (page/second-window-by-host-only opens it)"))
    }
}

/// How long after the end of `page/flood-expensive-channel`'s flood its
/// last answer may arrive: the host idle again.
const EXPENSIVE_DRAIN_MS: f64 = 1000.0;

/// A fresh RSA-4096 key for `page/flood-expensive-channel`, as PKCS#8 PEM
/// (made here, never stored; the most expensive key a profile can have).
fn rsa_4096_pem() -> Result<zeroize::Zeroizing<String>, String> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let mut rng = <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed(seed);
    let key = rsa::RsaPrivateKey::new(&mut rng, 4096).map_err(|e| format!("no RSA key: {e}"))?;
    key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).map_err(|e| format!("no PEM: {e}"))
}

/// The flood cases' bound on the measured median, from the quiet samples.
fn flood_bound(quiet: &[f64]) -> f64 {
    (percentile(quiet, 50.0) * FLOOD_SLOWDOWN + FLOOD_SLACK_MS).max(FLOOD_MEDIAN_MS)
}

/// The measured calls during a flood: median within `bound`, none stalled.
fn check_flood(c: &mut Checks, what: &str, during: &[f64], bound: f64) {
    let median = percentile(during, 50.0);
    c.expect(median <= bound, format!("{what} median {median:.1} ms during the flood is over {bound:.1} ms"));
    let max = during.iter().copied().fold(0.0, f64::max);
    c.expect(max <= FLOOD_STALL.as_secs_f64() * 1000.0, format!("{what} took {max:.0} ms once during the flood (over {FLOOD_STALL:?})"));
}

fn millis(value: &Value) -> Vec<f64> {
    value.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// A file with a random name in the user's home, removed on drop.
struct Planted {
    path: std::path::PathBuf,
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn plant_in_home() -> Result<Planted, String> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or("HOME is not set")?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
    let path = std::path::PathBuf::from(home).join(format!(".tollgate-audit-planted-{}", hex::encode(nonce)));
    std::fs::write(&path, "planted by tollgate audit: a web process must not see this\n").map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Planted { path })
}

/// The WebKit web processes below this process (children of children:
/// bubblewrap sits between), by walking /proc's parent links.
fn web_processes() -> Vec<u32> {
    let me = std::process::id();
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may hold spaces: the
        // fields after the last ')' are state, then the parent's PID.
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
    };
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end().starts_with("WebKitWebProces")))
        .filter(|pid| {
            let mut at = *pid;
            for _ in 0..8 {
                match parent_of(at) {
                    Some(p) if p == me => return true,
                    Some(p) if p > 1 => at = p,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

//! The bridge contract as data: every channel, event and error code with
//! its types. Two things are made from it: the TypeScript declarations the
//! page is type-checked against (`webview-assets/bridge.d.ts`) and the
//! checked-in snapshot (`contract/bridge.json`) that versioning is judged
//! against. Tests fail when either is stale, and when a change removes or
//! alters something without a major version bump.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::Bridge;
use crate::channels::CONTRACT_VERSION;
use crate::error::ErrorCode;
use crate::registry::{DEPRECATION_MINOR_VERSIONS, Body, Quota};

/// One channel as the contract records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelContract {
    /// `namespace:action`.
    pub name: String,
    /// One line.
    pub summary: String,
    /// `webview-to-host`.
    pub direction: String,
    /// Windows allowed to call it.
    pub windows: Vec<String>,
    /// `json`, `binary-upload` or `binary-download`.
    pub body: String,
    /// Request TypeScript type.
    pub request: String,
    /// Response TypeScript type.
    pub response: String,
    /// Payload cap in bytes.
    pub max_payload_bytes: usize,
    /// Calls per second.
    pub per_second: u32,
    /// Burst.
    pub burst: u32,
    /// Refuses replayed request ids.
    pub state_changing: bool,
    /// Version it appeared in.
    pub since: String,
    /// What to use instead, when deprecated.
    pub deprecated: Option<String>,
    /// The contract version that deprecated it (absent when it is not
    /// deprecated, and in snapshots before 1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
}

/// One event as the contract records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventContract {
    /// The name.
    pub name: String,
    /// One line.
    pub summary: String,
    /// Payload TypeScript type.
    pub payload: String,
    /// Windows that may subscribe (absent in snapshots before 1.4, when
    /// the app had one window).
    #[serde(default)]
    pub windows: Vec<String>,
    /// Version it appeared in.
    pub since: String,
}

/// The whole contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contract {
    /// `major.minor`.
    pub version: String,
    /// Channels, in registration order.
    pub channels: Vec<ChannelContract>,
    /// Events.
    pub events: Vec<EventContract>,
    /// The closed set of error codes.
    pub error_codes: Vec<String>,
    /// Every TypeScript declaration the channels and events use, by name.
    pub types: BTreeMap<String, String>,
}

/// The TypeScript name of the error-code union (`ErrorCode`).
const ERROR_CODE_TYPE: &str = "TollgateErrorCode";

fn ts_config() -> ts_rs::Config {
    ts_rs::Config::new().with_large_int("number")
}

impl Contract {
    /// The contract of a bridge as built.
    pub fn of(bridge: &Bridge) -> Self {
        let cfg = ts_config();
        let mut types = BTreeMap::new();
        let channels = bridge
            .registry()
            .channels()
            .iter()
            .map(|c| {
                c.collect_type_decls(&cfg, &mut types);
                let s = &c.spec;
                ChannelContract {
                    name: s.name.to_owned(),
                    summary: s.summary.to_owned(),
                    direction: "webview-to-host".to_owned(),
                    windows: s.windows.iter().map(|w| w.as_str().to_owned()).collect(),
                    body: match s.body {
                        Body::Json => "json",
                        Body::BinaryUpload => "binary-upload",
                        Body::BinaryDownload => "binary-download",
                    }
                    .to_owned(),
                    request: c.request_type(&cfg),
                    response: c.response_type(&cfg),
                    max_payload_bytes: s.max_payload_bytes,
                    per_second: s.quota.per_second,
                    burst: s.quota.burst,
                    state_changing: s.state_changing,
                    since: s.since.to_owned(),
                    deprecated: s.deprecated.map(|d| d.use_instead.to_owned()),
                    deprecated_since: s.deprecated.map(|d| d.since.to_owned()),
                }
            })
            .collect();
        let events = bridge
            .events()
            .declared()
            .iter()
            .map(|e| {
                e.collect_type_decls(&cfg, &mut types);
                EventContract {
                    name: e.name.to_owned(),
                    summary: e.summary.to_owned(),
                    payload: e.payload_type(&cfg),
                    windows: e.windows.iter().map(|w| w.as_str().to_owned()).collect(),
                    since: e.since.to_owned(),
                }
            })
            .collect();
        crate::registry::collect_decls::<ErrorCode>(&cfg, &mut types);
        Self {
            version: CONTRACT_VERSION.to_owned(),
            channels,
            events,
            error_codes: ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect(),
            types,
        }
    }

    /// The snapshot file's text.
    pub fn to_snapshot(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The TypeScript declarations for the page.
    pub fn to_typescript(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "// Generated from the Rust channel and event declarations (bridge/src, app/src/channels).\n\
             // Do not edit: run `just contract` after changing a declaration.\n\
             // Bridge contract version {}.\n",
            self.version
        );
        for decl in self.types.values() {
            let _ = writeln!(out, "{}\n", decl.trim_end());
        }
        let section = |out: &mut String, name: &str, rows: Vec<String>| {
            let _ = writeln!(out, "interface {name} {{");
            for row in rows {
                let _ = writeln!(out, "  {row}");
            }
            let _ = writeln!(out, "}}\n");
        };
        let by_body = |body: &'static str| self.channels.iter().filter(move |c| c.body == body);
        let doc = |c: &ChannelContract| {
            let deprecated = c.deprecated.as_ref().map(|d| format!(" @deprecated use {d}")).unwrap_or_default();
            format!("/** {}{deprecated} */\n  ", c.summary)
        };
        section(
            &mut out,
            "TollgateChannels",
            by_body("json")
                .map(|c| format!("{}{:?}: {{ request: {}, response: {} }};", doc(c), c.name, c.request, c.response))
                .collect(),
        );
        section(
            &mut out,
            "TollgateUploadChannels",
            by_body("binary-upload").map(|c| format!("{}{:?}: {{ response: {} }};", doc(c), c.name, c.response)).collect(),
        );
        section(
            &mut out,
            "TollgateDownloadChannels",
            by_body("binary-download").map(|c| format!("{}{:?}: {{ request: {} }};", doc(c), c.name, c.request)).collect(),
        );
        section(
            &mut out,
            "TollgateEvents",
            self.events.iter().map(|e| format!("/** {} */\n  {:?}: {};", e.summary, e.name, e.payload)).collect(),
        );
        out.push_str(BRIDGE_API_TS);
        out
    }
}

/// The fixed part of the page's API (the injected client implements it).
const BRIDGE_API_TS: &str = r#"/** How every failed call rejects. */
interface TollgateError {
  readonly code: TollgateErrorCode;
  readonly message: string;
  readonly details: unknown;
  readonly requestId: string | null;
}

interface TollgateBridge {
  /** Calls a declared channel; rejects with a TollgateError. */
  invoke<C extends keyof TollgateChannels>(channel: C, request: TollgateChannels[C]["request"]): Promise<TollgateChannels[C]["response"]>;
  /** Subscribes to a declared event; resolves to a function that unsubscribes. */
  on<E extends keyof TollgateEvents>(event: E, listener: (payload: TollgateEvents[E]) => void): Promise<() => Promise<void>>;
  /** Sends raw bytes to a binary upload channel (no base64, no JSON). */
  upload<C extends keyof TollgateUploadChannels>(channel: C, body: ArrayBuffer | Uint8Array): Promise<TollgateUploadChannels[C]["response"]>;
  /** Fetches raw bytes from a binary download channel. */
  download<C extends keyof TollgateDownloadChannels>(channel: C, request: TollgateDownloadChannels[C]["request"]): Promise<ArrayBuffer>;
}

interface Window { readonly tollgate: TollgateBridge }
declare const tollgate: TollgateBridge;
"#;

/// Parses `major.minor`.
fn version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// What `new` removes or alters relative to `old`: each entry a sentence.
pub fn breaking_changes(old: &Contract, new: &Contract) -> Vec<String> {
    let mut out = Vec::new();
    // A type only the host sends (a response or an event payload, never
    // part of a request) may gain fields: a page reads the fields it knows.
    let sent_by_page = reachable(old, old.channels.iter().map(|c| c.request.as_str()));
    for o in &old.channels {
        match new.channels.iter().find(|n| n.name == o.name) {
            None => out.push(format!("channel {} was removed", o.name)),
            Some(n) => {
                if n.request != o.request || n.response != o.response || n.body != o.body {
                    out.push(format!("channel {} changed its request, response or body", o.name));
                }
                if o.windows.iter().any(|w| !n.windows.contains(w)) {
                    out.push(format!("channel {} no longer allows a window it allowed", o.name));
                }
                if n.max_payload_bytes < o.max_payload_bytes {
                    out.push(format!("channel {} lowered its payload cap", o.name));
                }
            }
        }
    }
    for o in &old.events {
        match new.events.iter().find(|n| n.name == o.name) {
            None => out.push(format!("event {} was removed", o.name)),
            Some(n) if n.payload != o.payload => out.push(format!("event {} changed its payload", o.name)),
            Some(n) if o.windows.iter().any(|w| !n.windows.contains(w)) => {
                out.push(format!("event {} no longer reaches a window it reached", o.name));
            }
            Some(_) => {}
        }
    }
    for code in &old.error_codes {
        if !new.error_codes.contains(code) {
            out.push(format!("error code {code} was removed"));
        }
    }
    for (name, decl) in &old.types {
        // The code union only grows when a code is added (a minor change);
        // a removed code is caught by the error-code check above.
        if name == ERROR_CODE_TYPE {
            continue;
        }
        match new.types.get(name) {
            Some(d) if d == decl => {}
            Some(d) if !sent_by_page.contains(name.as_str()) && only_adds_fields(decl, d) => {}
            // A request may gain optional fields: an older page leaves them
            // out and is answered as before.
            Some(d) if sent_by_page.contains(name.as_str()) && only_adds_optional_fields(decl, d) => {}
            Some(_) => out.push(format!("type {name} changed")),
            None => {
                let still_used = new.channels.iter().any(|c| c.request == *name || c.response == *name);
                if still_used {
                    out.push(format!("type {name} was removed"));
                }
            }
        }
    }
    out
}

/// The type names `roots` use, directly or through other types of
/// `contract` (a name counts when it appears as a whole word in a
/// declaration).
fn reachable<'a>(contract: &'a Contract, roots: impl Iterator<Item = &'a str>) -> std::collections::BTreeSet<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    let mut queue: Vec<&str> = roots.collect();
    while let Some(name) = queue.pop() {
        let Some((key, decl)) = contract.types.get_key_value(name) else { continue };
        if !seen.insert(key.as_str()) {
            continue;
        }
        let words = decl.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        queue.extend(words.filter(|w| contract.types.contains_key(*w)));
    }
    seen
}

/// The `name: type` fields of an object type declaration (doc comments
/// dropped), or `None` for anything that is not `type X = { … };`.
fn object_fields(decl: &str) -> Option<Vec<String>> {
    let mut text = String::new();
    let mut rest = decl;
    while let Some(start) = rest.find("/**") {
        text.push_str(&rest[..start]);
        rest = rest[start..].split_once("*/").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let body = text.split_once("= {")?.1.trim_end().strip_suffix("};")?;
    // Split at the commas between fields, not those inside a field's type
    // (`Record<string, unknown>`).
    let (mut fields, mut field, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in body.chars() {
        match c {
            '<' | '{' | '(' | '[' => depth += 1,
            '>' | '}' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                fields.push(std::mem::take(&mut field));
                continue;
            }
            _ => {}
        }
        field.push(c);
    }
    fields.push(field);
    Some(fields.iter().map(|f| f.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|f| !f.is_empty()).collect())
}

/// Whether `new` is `old` with fields added (every old field still there,
/// with the same type).
fn only_adds_fields(old: &str, new: &str) -> bool {
    match (object_fields(old), object_fields(new)) {
        (Some(o), Some(n)) => o.iter().all(|f| n.contains(f)),
        _ => false,
    }
}

/// Whether `new` is `old` with optional fields (`name?: type`) added.
fn only_adds_optional_fields(old: &str, new: &str) -> bool {
    match (object_fields(old), object_fields(new)) {
        (Some(o), Some(n)) => o.iter().all(|f| n.contains(f)) && n.iter().filter(|f| !o.contains(f)).all(|f| f.split_once(':').is_some_and(|(name, _)| name.ends_with('?'))),
        _ => false,
    }
}

/// Judges `new` against the checked-in `old`: breaking changes need a
/// major bump; any change needs some bump; versions never go down.
pub fn check_versioning(old: &Contract, new: &Contract) -> Result<(), String> {
    let (Some(ov), Some(nv)) = (version(&old.version), version(&new.version)) else {
        return Err(format!("contract versions must be major.minor (snapshot {}, code {})", old.version, new.version));
    };
    if nv < ov {
        return Err(format!("contract version went down from {} to {}", old.version, new.version));
    }
    let breaking = breaking_changes(old, new);
    if !breaking.is_empty() && nv.0 <= ov.0 {
        return Err(format!(
            "breaking contract changes without a major version bump (still {}):\n  {}",
            new.version,
            breaking.join("\n  ")
        ));
    }
    if old != new && nv == ov {
        return Err(format!("the contract changed but its version is still {}: bump the minor for additions", new.version));
    }
    check_deprecations(old, new, ov, nv)
}

/// The deprecation rule: a deprecated channel says since when, that
/// version is no later than the contract's, and it is removed only once it
/// has stayed [`DEPRECATION_MINOR_VERSIONS`] minor versions (counted in
/// the major it was deprecated in: across a major bump, the last snapshot
/// of that major must already be two minors past it).
fn check_deprecations(old: &Contract, new: &Contract, ov: (u32, u32), nv: (u32, u32)) -> Result<(), String> {
    for c in &new.channels {
        match (&c.deprecated, &c.deprecated_since) {
            (None, None) => {}
            (Some(_), Some(since)) => match version(since) {
                Some(s) if s <= nv => {}
                Some(_) => return Err(format!("channel {} is deprecated since {since}, later than the contract's {}", c.name, new.version)),
                None => return Err(format!("channel {}: deprecated since {since:?} is not major.minor", c.name)),
            },
            _ => return Err(format!("channel {}: a deprecation needs both what to use instead and the version that made it", c.name)),
        }
    }
    for o in old.channels.iter().filter(|o| !new.channels.iter().any(|n| n.name == o.name)) {
        let Some(since) = o.deprecated_since.as_deref().and_then(version) else {
            return Err(format!("channel {} was removed without being deprecated first", o.name));
        };
        let lived = if nv.0 == since.0 { nv } else { ov };
        if lived.0 != since.0 || lived.1 < since.1 + DEPRECATION_MINOR_VERSIONS {
            return Err(format!(
                "channel {} was removed at {}, but deprecated only at {}.{}: a deprecated channel stays {DEPRECATION_MINOR_VERSIONS} minor versions",
                o.name, new.version, since.0, since.1
            ));
        }
    }
    Ok(())
}

/// Checks that every deprecated channel of `contract` is marked in the
/// IPC contract's docs (`docs_text`, docs/ipc-contract.md): its table row
/// (the line starting `` | `name` ``) says `Deprecated since <version>`.
pub fn deprecations_marked_in_docs(contract: &Contract, docs_text: &str) -> Result<(), String> {
    let mut missing = Vec::new();
    for c in contract.channels.iter().filter(|c| c.deprecated.is_some()) {
        let row_start = format!("| `{}` |", c.name);
        let mark = format!("Deprecated since {}", c.deprecated_since.as_deref().unwrap_or("?"));
        let marked = docs_text.lines().any(|line| line.starts_with(&row_start) && line.contains(&mark));
        if !marked {
            missing.push(format!("{} (its row must say \"{mark}\")", c.name));
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(format!("deprecated channels not marked in docs/ipc-contract.md: {}", missing.join(", "))) }
}

/// Quota in the contract's terms (used by docs).
pub fn quota_text(q: Quota) -> String {
    format!("{}/s, burst {}", q.per_second, q.burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Contract {
        Contract {
            version: "1.0".into(),
            channels: vec![ChannelContract {
                name: "a:b".into(),
                summary: "s".into(),
                direction: "webview-to-host".into(),
                windows: vec!["main".into()],
                body: "json".into(),
                request: "Req".into(),
                response: "Res".into(),
                max_payload_bytes: 10,
                per_second: 1,
                burst: 1,
                state_changing: false,
                since: "1.0".into(),
                deprecated: None,
                deprecated_since: None,
            }],
            events: vec![],
            error_codes: vec!["NOT_FOUND".into()],
            types: BTreeMap::from([("Req".into(), "type Req = { a: string };".into())]),
        }
    }

    #[test]
    fn removing_a_channel_needs_a_major_bump() {
        let old = sample();
        let mut new = sample();
        new.channels.clear();
        new.version = "1.1".into();
        assert!(check_versioning(&old, &new).expect_err("minor is not enough").contains("a:b was removed"));
        new.version = "2.0".into();
        assert!(check_versioning(&old, &new).expect_err("never deprecated").contains("without being deprecated first"));
    }

    /// `sample()` at `version` with a:b deprecated at `since`.
    fn deprecated_at(version: &str, since: &str) -> Contract {
        let mut c = sample();
        c.version = version.into();
        c.channels[0].deprecated = Some("a:c".into());
        c.channels[0].deprecated_since = Some(since.into());
        c
    }

    fn without_channels(version: &str) -> Contract {
        let mut c = sample();
        c.version = version.into();
        c.channels.clear();
        c
    }

    #[test]
    fn a_deprecated_channel_stays_two_minor_versions_before_it_is_removed() {
        // Deprecated at 1.1; removal is a major change, and the major's
        // last snapshot must be at least 1.3.
        let removed = without_channels("2.0");
        for (old, allowed) in [("1.1", false), ("1.2", false), ("1.3", true), ("1.7", true)] {
            let result = check_versioning(&deprecated_at(old, "1.1"), &removed);
            assert_eq!(result.is_ok(), allowed, "deprecated at 1.1, last {old}, removed at 2.0: {result:?}");
            if let Err(e) = result {
                assert!(e.contains("stays 2 minor versions"), "{e}");
            }
        }
        // Deprecating is an addition (a minor bump), and says since when.
        check_versioning(&sample(), &deprecated_at("1.1", "1.1")).expect("deprecating at 1.1");
        let mut half = deprecated_at("1.1", "1.1");
        half.channels[0].deprecated_since = None;
        assert!(check_versioning(&sample(), &half).expect_err("no version").contains("needs both"));
        let future = deprecated_at("1.1", "1.4");
        assert!(check_versioning(&sample(), &future).expect_err("future").contains("later than"));
    }

    #[test]
    fn a_deprecated_channel_must_be_marked_in_the_docs() {
        let contract = deprecated_at("1.1", "1.1");
        let unmarked = "| `a:b` | `{}` | `{}` | main | 10 B | 1/s | Does a thing. |";
        assert!(deprecations_marked_in_docs(&contract, unmarked).expect_err("unmarked").contains("a:b"));
        let marked = "| `a:b` | `{}` | `{}` | main | 10 B | 1/s | Deprecated since 1.1: use `a:c`. |";
        deprecations_marked_in_docs(&contract, marked).expect("marked");
        deprecations_marked_in_docs(&sample(), unmarked).expect("nothing deprecated");
    }

    #[test]
    fn a_snapshot_without_deprecated_since_reads_and_writes_as_before() {
        let text = serde_json::to_string(&sample()).expect("json");
        assert!(!text.contains("deprecatedSince"), "{text}");
        let back: Contract = serde_json::from_str(&text).expect("reads");
        assert_eq!(back, sample());
    }

    #[test]
    fn altering_a_type_needs_a_major_bump() {
        let old = sample();
        let mut new = sample();
        new.types.insert("Req".into(), "type Req = { a: number };".into());
        new.version = "1.1".into();
        assert!(check_versioning(&old, &new).expect_err("breaking").contains("type Req changed"));
    }

    #[test]
    fn an_addition_needs_a_minor_bump() {
        let old = sample();
        let mut new = sample();
        let mut extra = new.channels[0].clone();
        extra.name = "a:c".into();
        new.channels.push(extra);
        assert!(check_versioning(&old, &new).expect_err("same version").contains("still 1.0"), "same version");
        new.version = "1.1".into();
        check_versioning(&old, &new).expect("minor bump");
    }

    #[test]
    fn a_type_only_the_host_sends_may_gain_fields_but_a_request_type_only_optional_ones() {
        let mut old = sample();
        old.channels[0].response = "Res".into();
        old.types.insert("Res".into(), "type Res = { \n/**\n * Doc.\n */\nok: boolean, \nwhy: Why, };".into());
        old.types.insert("Why".into(), "type Why = \"A\" | \"B\";".into());
        let mut added = old.clone();
        added.version = "1.1".into();
        added.types.insert("Res".into(), "type Res = { \n/**\n * Doc.\n */\nok: boolean, \n/**\n * New.\n */\nmessage: string, \nwhy: Why, };".into());
        check_versioning(&old, &added).expect("a response field added is a minor change");
        let mut retyped = added.clone();
        retyped.types.insert("Res".into(), "type Res = { ok: string, why: Why, message: string, };".into());
        assert!(check_versioning(&old, &retyped).expect_err("retyped").contains("type Res changed"));
        let mut dropped = added.clone();
        dropped.types.insert("Res".into(), "type Res = { message: string, why: Why, };".into());
        assert!(check_versioning(&old, &dropped).expect_err("dropped").contains("type Res changed"));
        let mut request = old.clone();
        request.version = "1.1".into();
        request.types.insert("Req".into(), "type Req = { a: string, b?: string, };".into());
        check_versioning(&old, &request).expect("an optional request field: an older page leaves it out");
        request.types.insert("Req".into(), "type Req = { a: string, b: string, };".into());
        assert!(check_versioning(&old, &request).expect_err("request").contains("type Req changed"), "a page type gained a required field");
        let mut union = added.clone();
        union.types.insert("Why".into(), "type Why = \"A\" | \"B\" | \"C\";".into());
        assert!(check_versioning(&old, &union).expect_err("union").contains("type Why changed"));
    }

    #[test]
    fn versions_are_major_minor_and_never_go_down() {
        let mut bad = sample();
        bad.version = "1".into();
        assert!(check_versioning(&sample(), &bad).expect_err("no minor").contains("must be major.minor"));
        bad.version = "1.x".into();
        assert!(check_versioning(&sample(), &bad).expect_err("not a number").contains("must be major.minor"));
        let mut old = sample();
        old.version = "1.3".into();
        let mut new = sample();
        new.version = "1.2".into();
        assert!(check_versioning(&old, &new).expect_err("down").contains("went down from 1.3 to 1.2"));
        let mut malformed = deprecated_at("1.1", "soon");
        assert!(check_versioning(&sample(), &malformed).expect_err("since").contains("is not major.minor"));
        malformed.channels[0].deprecated = None;
        assert!(check_versioning(&sample(), &malformed).expect_err("half").contains("needs both"));
    }

    #[test]
    fn narrowing_a_channel_is_breaking() {
        let mut old = sample();
        old.channels[0].windows.push("about".into());
        let mut new = old.clone();
        new.version = "1.1".into();
        new.channels[0].windows = vec!["main".into()];
        assert!(check_versioning(&old, &new).expect_err("window").contains("a:b no longer allows a window it allowed"));
        let mut smaller = old.clone();
        smaller.version = "1.1".into();
        smaller.channels[0].max_payload_bytes = 9;
        assert!(check_versioning(&old, &smaller).expect_err("cap").contains("a:b lowered its payload cap"));
        let mut larger = old.clone();
        larger.version = "1.1".into();
        larger.channels[0].max_payload_bytes = 11;
        check_versioning(&old, &larger).expect("a higher cap is an addition");
        let mut body = old.clone();
        body.version = "1.1".into();
        body.channels[0].body = "binary".into();
        assert!(check_versioning(&old, &body).expect_err("body").contains("a:b changed its request, response or body"));
    }

    #[test]
    fn events_may_not_vanish_change_their_payload_or_reach_fewer_windows() {
        let mut old = sample();
        old.events.push(EventContract {
            name: "a:happened".into(),
            summary: "s".into(),
            windows: vec!["main".into(), "about".into()],
            payload: "Req".into(),
            since: "1.0".into(),
        });
        let mut gone = old.clone();
        gone.version = "1.1".into();
        gone.events.clear();
        assert!(check_versioning(&old, &gone).expect_err("gone").contains("event a:happened was removed"));
        let mut retyped = old.clone();
        retyped.version = "1.1".into();
        retyped.events[0].payload = "Res".into();
        assert!(check_versioning(&old, &retyped).expect_err("payload").contains("event a:happened changed its payload"));
        let mut narrower = old.clone();
        narrower.version = "1.1".into();
        narrower.events[0].windows = vec!["main".into()];
        let e = check_versioning(&old, &narrower).expect_err("windows");
        assert!(e.contains("event a:happened no longer reaches a window it reached"), "{e}");
        for breaking in [gone, retyped, narrower] {
            let mut major = breaking;
            major.version = "2.0".into();
            check_versioning(&old, &major).expect("a major bump allows it");
        }
    }

    #[test]
    fn quotas_read_as_the_docs_write_them() {
        assert_eq!(quota_text(Quota { per_second: 20, burst: 40 }), "20/s, burst 40");
    }

    #[test]
    fn removing_an_error_code_is_breaking() {
        let old = sample();
        let mut new = sample();
        new.error_codes.clear();
        new.version = "1.1".into();
        assert!(check_versioning(&old, &new).expect_err("breaking").contains("error code NOT_FOUND was removed"));
    }
}

#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ (checked in).

Each seed is a meaningful input in the target's own format (see the doc
comment at the top of fuzz/fuzz_targets/<target>.rs): a valid envelope,
each channel's valid request, a valid handshake frame, the repository's
real manifests, a real signer token, real linter findings, well-formed
guest return areas. Regression inputs found by fuzzing are checked in
beside them by hand (named `regression-*`) and are left alone here.

Run from anywhere: python3 fuzz/seeds/generate.py
"""

import json
import pathlib
import struct

SEEDS = pathlib.Path(__file__).resolve().parent
ROOT = SEEDS.parent.parent


def write(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def frame(body):
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode()
    return struct.pack(">I", len(body)) + body


def compact(v):
    return json.dumps(v, separators=(",", ":"))


# --- bridge_envelope: flag byte, then the message ("S" = the real secret).
for name, flags, text in [
    ("ping", 0, "tg1\nS\nr-1\napp:ping\n{}"),
    ("subscribe", 0, 'tg1\nS\nr-2\nevents:subscribe\n{"event":"diag:echo"}'),
    ("unsubscribe-about", 1, 'tg1\nS\nr-3\nevents:unsubscribe\n{"event":"diag:echo"}'),
    ("app-origin-only", 2, "tg1\nS\nr-4\napp:ping\n{}"),
    ("foreign-origin", 4, "tg1\nS\nr-5\napp:ping\n{}"),
    ("url-from-input", 6, "tollgate://localhost/index.html?x=1#y\ntg1\nS\nr-6\napp:ping\n{}"),
    ("lookalike-origin", 6, "tollgate://localhost.evil/\ntg1\nS\nr-7\napp:ping\n{}"),
    ("wrong-secret", 0, "tg1\n" + "0" * 64 + "\nr-8\napp:ping\n{}"),
    ("unknown-channel", 0, "tg1\nS\nr-9\nno:such\n{}"),
    ("nested-payload", 0, 'tg1\nS\nr-10\nevents:subscribe\n{"event":"diag:echo","a":[1,{"b":[null,true,-9007199254740991,1.5e3,"\\ud83d\\ude00"]}]}'),
    ("proto-key", 0, 'tg1\nS\nr-11\nevents:subscribe\n{"__proto__":{"admin":true}}'),
    ("unsafe-number", 0, 'tg1\nS\nr-12\nevents:subscribe\n{"event":9007199254740992}'),
    ("binary-path", 8, "S\nb-1\napp:ping\n{}"),
    ("multiline-payload", 0, 'tg1\nS\nr-13\nevents:subscribe\n{\n"event": "diag:echo"\n}'),
]:
    write("bridge_envelope", name, bytes([flags]) + text.encode())

# --- bridge_channels: channel name, newline, flag byte, payload
# ("@profile" = the id of the target's start-up profile, "@sealed" = an
# HS256 key sealed by the target's install).
HS_KEY = "fuzz-secret-fuzz-secret-fuzz-secret-0123"
TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
    "eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6ImZ1enoifQ."
    "-v6204FaWB-KyXIT9qEdBhO2hmu560esctIyTFvhGnc"
)
EC_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\n"
    "OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n"
    "1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n"
    "-----END PRIVATE KEY-----\n"
)
channels = [
    ("app:ping", {}),
    ("events:subscribe", {"event": "diag:echo"}),
    ("events:unsubscribe", {"event": "diag:echo"}),
    ("app:info", {}),
    ("plugins:list", {}),
    ("jwt:decode", {"token": TOKEN}),
    ("diag:emit", {"message": "hello"}),
    ("diag:download", {"bytes": 16}),
    ("profiles:load", {}),
    ("profiles:get", {"id": "@profile"}),
    ("profiles:save", {"name": "api", "algorithm": "HS256", "encryptedKey": "@sealed",
                       "payload": {"sub": "ada", "role": "admin"}, "expirationPreset": "1h"}),
    ("profiles:delete", {"id": "@profile"}),
    ("crypto:encrypt", {"algorithm": "HS256", "key": HS_KEY}),
    ("crypto:encrypt", {"algorithm": "ES256", "key": EC_KEY}),
    ("crypto:encrypt", {"algorithm": "HS384", "key": "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy", "encoding": "base64"}),
    ("jwt:generate", {"profileId": "@profile"}),
    ("jwt:generate", {"profileId": "@profile", "overrides": {"aud": "other", "n": 1}}),
    ("jwt:verify", {"token": TOKEN, "profileId": "@profile"}),
    ("settings:get", {}),
    ("settings:save", {"theme": "dark", "windowBounds": {"x": 0, "y": 0, "width": 800, "height": 600}}),
    ("settings:save", {"lastSelectedProfileId": "@profile", "version": 1}),
    ("auth:get-session", {}),
    ("auth:github-login", {}),
    ("auth:select-installation", {"installationId": 42}),
    ("auth:logout", {}),
    ("auth:check-offline-status", {}),
    ("lint:claims", {"claims": {"iss": "me", "aud": "api", "sub": "u1"}}),
    ("lint:claims", {"claims": {"email": "ada@example.com", "exp": "soon"}, "maxLifetimeSeconds": 60}),
]
for i, (channel, payload) in enumerate(channels):
    write("bridge_channels", f"{i:02}-{channel.replace(':', '-')}", channel.encode() + b"\n\x00" + compact(payload).encode())
write("bridge_channels", "diag-upload", b"diag:upload\n\x00" + bytes(range(256)))
write("bridge_channels", "about-window-info", b"app:info\n\x01{}")
write("bridge_channels", "open-about", b"app:open-about\n\x00{}")
write("bridge_channels", "about-window-subscribe", b"events:subscribe\n\x01" + compact({"event": "auth:login-success"}).encode())

# --- worker_socket: mode byte, then the peer's bytes.
TOKEN_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
hello = {"type": "HANDSHAKE", "token": TOKEN_HEX}
write("worker_socket", "server-valid-handshake", b"\x00" + frame(hello))
write("worker_socket", "server-wrong-token", b"\x00" + frame({"type": "HANDSHAKE", "token": "f" * 64}))
write("worker_socket", "server-oversized-prefix", b"\x00" + struct.pack(">I", 0xFFFFFFFF))
write("worker_socket", "server-truncated", b"\x00" + frame(hello)[:40])
write("worker_socket", "server-valid-then-more", b"\x00" + frame(hello) + frame({"id": 1}))
write("worker_socket", "worker-reply-ok", b"\x01" + frame({"type": "HANDSHAKE_OK"}))
write("worker_socket", "worker-reply-failed", b"\x01" + frame({"type": "HANDSHAKE_FAILED", "code": "INVALID_TOKEN"}))
requests = [
    {"id": 1, "call": {"function": "sign", "alg": "HS256", "key": "Zm9vYmFyZm9vYmFy", "kid": None, "typ": None,
                       "claims": '{"sub":"fuzz"}'}},
    {"id": 2, "call": {"function": "decode", "token": TOKEN}},
    {"id": 3, "call": {"function": "verify", "token": TOKEN, "key": "Zm9v", "allowed": ["HS256"], "leeway": 0}},
]
responses = [
    {"id": 1, "outcome": {"outcome": "text", "value": TOKEN}},
    {"id": 2, "outcome": {"outcome": "decoded", "parts": {"header": '{"alg":"HS256"}', "payload": "{}", "signature": "x"}}},
    {"id": 3, "outcome": {"outcome": "guest", "error": {"kind": "invalid-key", "message": "short"}}},
    {"id": 4, "outcome": {"outcome": "guest", "error": {"kind": "expired"}}},
    {"id": 5, "outcome": {"outcome": "runtime", "code": "PLUGIN_TRAPPED", "message": "unreachable"}},
]
write("worker_socket", "frames-requests", b"\x02" + b"".join(frame(r) for r in requests))
write("worker_socket", "frames-responses", b"\x02" + b"".join(frame(r) for r in responses))

# --- manifest: the repository's real manifests.
for path in sorted(ROOT.glob("guest-plugins/**/tollgate.toml")):
    if "target" in path.parts or "node_modules" in path.parts:
        continue
    rel = path.parent.relative_to(ROOT / "guest-plugins")
    write("manifest", "-".join(rel.parts) + ".toml", path.read_bytes())
write("manifest", "with-sha256.toml",
      'name = "p"\nversion = "1.2.3"\nworld = "tollgate:lint/claims-linter@0.1.0"\n'
      'sha256 = "' + "ab" * 32 + '"\n[limits]\ndeadline-ms = 10\nmemory-mib = 1\n[quotas.lint]\nper-second = 1\nburst = 1\n')

# --- guest_output: mode byte, then the guest's answer (see the target).
# The token is the real jwt-signer guest's output for the target's fixed
# request (`tollgate jwt sign --alg HS256 --claims '{"sub":"fuzz","exp":4102444800}'`).
HEADER, PAYLOAD, SIG = TOKEN.split(".")
write("guest_output", "sign-real-token", b"\x00" + TOKEN.encode())
write("guest_output", "sign-guest-error", b"\x00!\x00short key")
write("guest_output", "decode-real-parts",
      b"\x01" + f'{TOKEN}\n{{"typ":"JWT","alg":"HS256"}}\n{{"exp":4102444800,"sub":"fuzz"}}\n{SIG}'.encode())
write("guest_output", "decode-guest-error", b"\x01" + f"{TOKEN}\n!\x03not a token".encode())
write("guest_output", "verify-real-claims", b"\x02" + f'{TOKEN}\n{{"exp":4102444800,"sub":"fuzz"}}'.encode())
write("guest_output", "verify-guest-expired", b"\x02" + f"{TOKEN}\n!\x06".encode())
# Real findings: what the first-party claims linter answers for these
# claims (tests/all/lint.rs asserts the same list).
write("guest_output", "lint-real-findings", b"\x03" + "\n".join([
    compact({"email": "ada@example.com", "exp": "soon"}),
    "NOT_A_NUMBER\terror\texp\t`exp` must be a number of seconds since the Unix epoch",
    "MISSING_AUD\twarning\t\tno audience: add an `aud` claim so that only the service it is meant for accepts the token",
    "PERSONAL_DATA\twarning\temail\tthe name suggests personal data; anyone holding the token can read it",
    "MISSING_ISS\tinfo\t\tno issuer: add an `iss` claim naming who issues the token",
]).encode())
write("guest_output", "lint-no-findings", b"\x03" + compact({"iss": "me", "aud": "api", "sub": "u1"}).encode())


# --- component_values: call byte, then the guest's memory from address 0
# (the return area is at 0). Layouts follow the canonical ABI.
def strings_after(base, texts):
    """(ptr, len) pairs for texts laid out from `base`, and their bytes."""
    pairs, blob, at = [], b"", base
    for t in texts:
        t = t.encode()
        pairs.append((at, len(t)))
        blob += t
        at += len(t)
    return pairs, blob


LINT, SIGN, DECODE, VERIFY = 0, 1, 2, 3
# lint: result<list<finding>, lint-error>; finding = {code, severity, path, message} (28 bytes).
write("component_values", "lint-ok-empty", bytes([LINT]) + struct.pack("<BxxxII", 0, 16, 0))
(code, msg), blob = strings_after(16 + 28, ["MISSING_ISS", "no issuer: add an `iss` claim naming who issues the token"])
finding = struct.pack("<IIBxxxIIII", *code, 2, 0, 0, *msg)
write("component_values", "lint-ok-one-finding", bytes([LINT]) + struct.pack("<BxxxII", 0, 16, 1) + b"\0" * 4 + finding + blob)
(code, path, msg), blob = strings_after(16 + 28, ["PERSONAL_DATA", "x", "the value looks like an email address; anyone holding the token can read it"])
finding = struct.pack("<IIBxxxIIII", *code, 1, *path, *msg)
write("component_values", "lint-ok-path", bytes([LINT]) + struct.pack("<BxxxII", 0, 16, 1) + b"\0" * 4 + finding + blob)
[(p, n)], blob = strings_after(16, ["not an object"])
write("component_values", "lint-err", bytes([LINT]) + struct.pack("<BxxxBxxxII", 1, 0, p, n) + blob)
# sign / verify: result<string, jwt-error>.
[(p, n)], blob = strings_after(16, [TOKEN])
write("component_values", "sign-ok", bytes([SIGN]) + struct.pack("<BxxxII", 0, p, n) + b"\0" * 4 + blob)
[(p, n)], blob = strings_after(16, ['{"exp":4102444800,"sub":"fuzz"}'])
write("component_values", "verify-ok", bytes([VERIFY]) + struct.pack("<BxxxII", 0, p, n) + b"\0" * 4 + blob)
for case in range(11):
    [(p, n)], blob = strings_after(16, ["why"])
    write("component_values", f"jwt-error-{case}", bytes([SIGN + case % 3]) + struct.pack("<BxxxBxxxII", 1, case, p, n) + blob)
# decode: result<decoded-token, jwt-error>; decoded-token = 3 strings.
(h, pl, s), blob = strings_after(32, ['{"typ":"JWT","alg":"HS256"}', '{"exp":4102444800,"sub":"fuzz"}', SIG])
write("component_values", "decode-ok", bytes([DECODE]) + struct.pack("<BxxxIIIIII", 0, *h, *pl, *s) + b"\0" * 4 + blob)

# Tollgate's recipes. CI and the README run exactly these, through
# ./bootstrap, which installs what they need first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The release binary (builds the guests on the way, see host/build.rs).
build:
    cargo build --release --locked -p tollgate-host

# The main job: sign a sample token through the guest, then decode it.
run: build
    #!/usr/bin/env bash
    set -euo pipefail
    dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
    head -c 32 /dev/urandom | base64 | tr -d '\n' > "$dir/secret"
    echo "signing a sample token with HS256 and a fresh random secret, inside the jwt-signer guest:" >&2
    token="$(target/release/tollgate jwt sign --alg HS256 --key-file "$dir/secret" \
        --claims "{\"sub\":\"demo-user\",\"iat\":$(date +%s),\"exp\":$(( $(date +%s) + 3600 ))}" --kid demo)"
    echo "$token"
    echo "decoded (no verification):" >&2
    target/release/tollgate jwt decode "$token"
    echo "verified by the guest and re-verified by the host:" >&2
    target/release/tollgate jwt verify "$token" --key-file "$dir/secret" --alg HS256

# The whole test suite: lints, unit tests, integration tests (guests built from source).
test:
    cargo clippy --locked --workspace --all-targets -- -D warnings
    cargo test --locked --workspace
    scripts/verify-ipc-handshake

# Benchmarks: one JSON object on stdout.
bench: build
    cargo run --release --locked -p tollgate-bench

# What the host would link for a component: `just inspect path/to.wasm`.
inspect file: build
    target/release/tollgate plugin inspect {{file}}

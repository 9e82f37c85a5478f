# Tollgate's recipes. CI and the README run exactly these, through
# ./bootstrap, which installs what they need first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The release binaries, `tollgate` and `tollgate-worker` (builds the guests
# on the way, see guest-artifacts/build.rs). Every release build here
# selects the whole workspace and names the binaries it wants: cargo
# resolves dependency features over the selected packages, so the tests
# (scripts/test-and-cover), this build, the bench and the fuzz targets
# (scripts/fuzz-smoke) all link one set of compiled dependencies instead
# of rebuilding wasmtime and the rest for each (issue 16: CI time).
build:
    cargo build --release --locked --workspace --bin tollgate --bin tollgate-worker

# The Debian package: target/package/tollgate_<version>-<revision>_<arch>.deb
# (cargo-deb; docs/packaging.md): both release binaries, the desktop entry,
# the icons, the AppStream metadata, the man pages and shell completions
# generated from the CLI's own definition. Dependencies come from the
# libraries the binaries link (dpkg-shlibdeps).
package: build
    rm -rf target/release/package-files target/package
    target/release/tollgate package-files --out target/release/package-files
    gzip -9n target/release/package-files/man/*.1
    cargo deb --locked --no-build --strip -p tollgate-host --output target/package/
    ls target/package/*.deb

# Builds the package, then checks it as a user's machine would meet it:
# lintian, the desktop entry, AppStream, and the binaries run from the
# unpacked package (scripts/check-package).
package-check: package
    scripts/check-package

# The app: opens the window. With no display, runs it on a private Xvfb
# server instead, saves a screenshot and says where.
run: build
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
        exec target/release/tollgate
    fi
    shot="$PWD/target/tollgate-window.png"
    echo "no display here (DISPLAY and WAYLAND_DISPLAY are unset): running the window under Xvfb and taking a screenshot" >&2
    scripts/with-display target/release/tollgate --data-dir "$PWD/target/demo-data" --screenshot "$shot"
    echo "the window as it looked: $shot" >&2

# Sign a sample token through the guest from the command line, then decode it.
demo: build
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

# The whole test suite: lints, unit tests, integration tests (guests built
# from source), coverage, the package, the fuzz targets.
# The window tests drive the real window through WebKitWebDriver, so the
# suite builds with the test-only `automation` feature and runs where a
# window can open (Xvfb when there is no display).
# scripts/test-and-cover is the one build and run of the tests: the
# workspace's crates are compiled through scripts/ci-rustc, clippy's driver
# with every warning an error and coverage instrumentation of our code, so
# a lint fails the build before a test runs and the same run enforces the
# contracts' coverage floors. `just lint` is the lint alone.
test:
    scripts/check-crate-deps
    cargo deny check licenses bans sources
    cd webview-assets && npm ci --no-audit --no-fund --loglevel=error && npx tsc -p . --noEmit
    scripts/test-and-cover
    just package-check
    just fuzz-smoke

# How long one fuzz input may run before libFuzzer calls it a hang and
# fails the run. The targets' set-up (compiling guests: 7 s idle, over 20 s
# on a loaded machine) runs before the timer, in their `init:` blocks; one
# input takes milliseconds, so this bound only has to tell a hang from a
# machine busy with other work.
fuzz_input_timeout := '60'

# The fuzz targets (fuzz/, libFuzzer, docs/security.md "Fuzzing"): build
# them all with our crates instrumented (scripts/fuzz-rustc; the build
# reuses the release build's dependencies), then run each for `seconds`
# from its seeds (fuzz/seeds/<target>/) and what earlier runs kept
# (fuzz/corpus/, not checked in). No sanitizer: the targets are safe Rust
# over wasmtime, a panic or a failed check is what they look for. A crash
# leaves its input in fuzz/artifacts/<target>/ and fails the recipe.
fuzz-smoke seconds='20':
    scripts/fuzz-smoke {{seconds}} {{fuzz_input_timeout}}

# Clippy over every target of the workspace, warnings as errors, without
# building or running the tests (`just test` lints inside its test build).
lint:
    cargo clippy --locked --workspace --all-targets --features tollgate-host/automation -- -D warnings

# One fuzz target for longer, or every target one after another:
# `just fuzz`, `just fuzz bridge_channels 600`, `just fuzz '' 300 address`
# (a sanitizer needs the nightly toolchain; this installs it on first use).
fuzz target='' seconds='300' sanitizer='none':
    #!/usr/bin/env bash
    set -euo pipefail
    # cargo fuzz instruments every crate, dependencies included; it is
    # not part of the set-up (`just test` builds the targets itself).
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
    cd fuzz
    cargo=(cargo)
    if [ "{{sanitizer}}" != none ]; then
        rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
        # guest-artifacts/build.rs builds the guests with the same toolchain.
        rustup target list --installed --toolchain nightly | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2 --toolchain nightly
        cargo=(cargo +nightly)
    fi
    targets="{{target}}"
    if [ -z "$targets" ]; then targets="$("${cargo[@]}" fuzz list)"; fi
    [ -n "$targets" ] || { echo "cargo fuzz list found no fuzz targets" >&2; exit 1; }
    for target in $targets; do
        mkdir -p "corpus/$target"
        echo "fuzzing $target for {{seconds}} s (sanitizer: {{sanitizer}})" >&2
        "${cargo[@]}" fuzz run -s {{sanitizer}} --codegen-units 16 "$target" "corpus/$target" "seeds/$target" -- \
            -max_total_time={{seconds}} -timeout={{fuzz_input_timeout}} -print_final_stats=1
    done

# Coverage of the parts the IPC and handshake contracts name (the bridge,
# the channel handlers, the worker handshake): `just test`'s own test step
# (scripts/test-and-cover), which builds our crates instrumented, runs every
# test and prints scripts/coverage-report's JSON; fails under the floors
# written there. The report is also left in target/coverage.json.
coverage:
    scripts/test-and-cover

# Everything deny.toml checks, advisories included: needs the RustSec
# database from GitHub, which `just test` (run where only the package
# registries are reachable) can't fetch.
deny:
    cargo deny check

# The hostile corpus against the release build (docs/security.md): every
# case's table row, exit 1 on any failure. Under Xvfb when there is no
# display (the page cases need the real window), with a Secret Service of
# its own (the audit's keychain entries never touch the user's).
audit *args: build
    scripts/with-display target/release/tollgate audit {{args}}

# The JavaScript guest's build tools (ComponentizeJS), as ./bootstrap
# installs them (the lock file left as checked in); guest-artifacts/build.rs builds
# the guest from them offline.
js-guest-deps:
    cd guest-plugins/claims-linter-js && npm install --no-save --no-audit --no-fund --loglevel=error

# Regenerate the bridge contract snapshot and the page's TypeScript from the
# Rust channel declarations.
contract:
    cargo run --locked -p tollgate-host -- contract --write

# The reference sign-in backend against a fake GitHub that approves every
# sign-in (for trying the app's "Sign in with GitHub" without a GitHub App).
auth-backend-fake:
    cargo run --release --locked -p tollgate-auth-backend --features fake-github -- --fake-github

# Benchmarks: one JSON object on stdout.
bench: build
    cargo build --release --locked --workspace --bin tollgate-bench --bin bare-window
    # The raw wry transfer floor, a workspace of its own (its wry has the
    # linux-body feature, which must not reach the app's).
    cargo build --release --locked --manifest-path bench/wry-floor/Cargo.toml --target-dir target/wry-floor
    scripts/with-display target/release/tollgate-bench

# A plugin crate under guest-plugins/ (`tollgate plugin new <name>` makes
# one): build it, pack it into target/plugins/<name>/ (the component and
# its manifest with the component's SHA-256), and run its calls.json
# through the real runtime. The guest builds first: a crate new to the
# guest workspace enters its lock file there, which the host's build (whose
# build script builds the first-party guests with --locked) then finds.
plugin name:
    cd guest-plugins && cargo build --release --target wasm32-wasip2 -p {{name}}
    just build
    target/release/tollgate plugin pack guest-plugins/{{name}} --wasm guest-plugins/target/wasm32-wasip2/release/$(echo {{name}} | tr - _).wasm --out target/plugins/{{name}}
    target/release/tollgate plugin test guest-plugins/{{name}} --wasm target/plugins/{{name}}/{{name}}.wasm

# What the host would link for a component: `just inspect path/to.wasm`.
inspect file: build
    target/release/tollgate plugin inspect {{file}}

#!/usr/bin/env bash
# Installs what building and testing need and is missing: a Rust toolchain, PostgreSQL's server
# binaries, Redis, and the C tools some crates build with. Uses apt-get as root; otherwise prints
# the exact command to run.
set -euo pipefail

missing=()
need() { # need <command-or-path> <debian package>
    if [[ "$1" == /* ]]; then compgen -G "$1" >/dev/null || missing+=("$2")
    else command -v "$1" >/dev/null 2>&1 || missing+=("$2"); fi
}
need '/usr/lib/postgresql/*/bin/initdb' postgresql
need psql postgresql-client
need redis-server redis-server
need redis-cli redis-tools
need cc build-essential
need pkg-config pkg-config
need curl curl
need jq jq   # the README tour (a test runs it)
need /bin/kill procps
need python3 python3-venv
# OCR and PDF: leptess binds libtesseract/libleptonica through bindgen (which needs libclang);
# tessdata for each language is a separate package; poppler renders and reads PDFs, each tool under
# util-linux's prlimit (a memory bound per child).
need /usr/include/tesseract/baseapi.h libtesseract-dev
need /usr/include/leptonica/allheaders.h libleptonica-dev
need '/usr/lib/llvm-*/lib/libclang.so*' libclang-dev
need '/usr/share/tesseract-ocr/*/tessdata/eng.traineddata' tesseract-ocr-eng
# The other languages we read: a page in one of them is recognised again with its data.
need '/usr/share/tesseract-ocr/*/tessdata/fra.traineddata' tesseract-ocr-fra
need '/usr/share/tesseract-ocr/*/tessdata/deu.traineddata' tesseract-ocr-deu
need '/usr/share/tesseract-ocr/*/tessdata/nld.traineddata' tesseract-ocr-nld
need '/usr/share/tesseract-ocr/*/tessdata/spa.traineddata' tesseract-ocr-spa
need pdftoppm poppler-utils
need prlimit util-linux
# The QuickBooks conformance test runs node-quickbooks; the console's browser test drives
# Debian's Chromium with playwright-core.
need npm npm
need chromium chromium

if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [[ $(id -u) -eq 0 ]]; then
        echo "deps: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "deps: missing packages; run:  sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        echo "deps: add \$HOME/.cargo/bin to PATH (source \$HOME/.cargo/env)" >&2
        exit 1
    fi
    echo "deps: installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    echo "deps: Rust installed; run: source \$HOME/.cargo/env, then retry" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

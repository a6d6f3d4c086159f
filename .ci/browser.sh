# Sourced by .ci/run: Debian's chromium for the Playwright UI tests (never a downloaded browser).
# Installs it with apt-get when missing and we are root; exports UDS_CHROMIUM when it is present.
ensure_chromium() {
    if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "CI: installing Debian chromium"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || echo "CI: apt-get install chromium failed"
    fi
    if [ -x /usr/bin/chromium ]; then
        export UDS_CHROMIUM=/usr/bin/chromium
    else
        echo "CI: no chromium available; the browser UI tests will be skipped"
    fi
}

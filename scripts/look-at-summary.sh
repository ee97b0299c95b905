#!/usr/bin/env bash
# Renders the written summary of the example CMR (examples/cmr) as a person would see it, for a look:
# the HTML page in headless Chromium (at 100% and at 200% zoom, and printed to PDF by the browser's
# print stylesheet) and the server's own PDF page by page with pdftoppm. Needs the Debian packages
# chromium and poppler-utils. Never part of npm test. Output: PNGs and the raw files in $OUT.
#   scripts/look-at-summary.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-/tmp/cmr-summary-look}"
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.pdf
DATA="$(mktemp -d)"
PORT="${PORT:-18931}"
BASE="http://127.0.0.1:$PORT/fhir"

# node itself (not npx) so that $! is the server and the trap stops it; its output goes to a log.
DATA_DIR="$DATA" PORT="$PORT" LOG_LEVEL=warn VALIDATION_WORKERS=1 node_modules/.bin/node --require tsx/cjs src/main.ts >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 120); do curl -sf "$BASE/metadata" >/dev/null && break; sleep 0.5; done

curl -sf -X POST "$BASE" -H 'Content-Type: application/fhir+json' --data-binary @examples/cmr/completed-cmr.bundle.json >/dev/null
TASK=$(curl -sf "$BASE/Task?code=http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr&status=completed" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).entry[0].resource.id))')

curl -sf "$BASE/Task/$TASK/\$cmr-summary" -H 'Accept: text/html' -o "$OUT/summary.html"
curl -sf "$BASE/Task/$TASK/\$cmr-summary" -H 'Accept: application/pdf' -o "$OUT/summary.pdf"

CHROME=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars)
"${CHROME[@]}" --window-size=1000,5200 --screenshot="$OUT/html-100.png" "file://$OUT/summary.html" 2>/dev/null
# 200% zoom: a device scale factor of 2 in a window half as wide is what a reader zooming in sees.
# One part at a time (the others hidden by an added rule), so each shot shows the top of its part.
for part in cover-letter medication-action-plan personal-medication-list; do
  sed "s|</style>|.part:not(#$part), main > h1 { display: none !important; }</style>|" "$OUT/summary.html" >"$OUT/only-$part.html"
  "${CHROME[@]}" --window-size=640,1000 --force-device-scale-factor=2 --screenshot="$OUT/html-200-$part.png" "file://$OUT/only-$part.html" 2>/dev/null
done
"${CHROME[@]}" --no-pdf-header-footer --print-to-pdf="$OUT/html-print.pdf" "file://$OUT/summary.html" 2>/dev/null
pdftoppm -png -r 60 "$OUT/html-print.pdf" "$OUT/html-print"
pdftoppm -png -r 80 "$OUT/summary.pdf" "$OUT/pdf"
pdftotext -layout "$OUT/summary.pdf" "$OUT/summary.txt"
ls -1 "$OUT"

# docs/openapi.yaml must be a valid OpenAPI 3.1 document: checked with a stock validator
# (@seriousme/openapi-schema-validator, which checks against the specification's own JSON
# schemas), installed from the npm registry at the version package-lock.json pins.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SPEC=$HERE/../../docs/openapi.yaml
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed (make deps installs them)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$HERE/package.json" "$HERE/package-lock.json" "$WORK/"
(cd "$WORK" && npm ci --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1) || { cat "$WORK/npm.log"; exit 1; }
grep -q '^openapi: 3\.1\.' "$SPEC" || { echo "FAIL - docs/openapi.yaml does not declare OpenAPI 3.1"; exit 1; }
out=$("$WORK/node_modules/.bin/validate-api" "$SPEC" 2>&1) || true
if ! grep -q '"valid": true' <<<"$out"; then
    echo "FAIL - docs/openapi.yaml is not a valid OpenAPI 3.1 document:"
    echo "$out"
    exit 1
fi
echo "ok   - docs/openapi.yaml is a valid OpenAPI 3.1 document"

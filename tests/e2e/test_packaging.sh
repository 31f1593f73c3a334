# Running as a service: `make install` (cmake --install, PREFIX and DESTDIR), the systemd unit
# (systemd-analyze verify clean, security exposure under 2.0), the Debian package (its files,
# dependencies and the script that creates the serambi user), and `serambi serve` reading
# /etc/serambi/serambi.toml, a link to a deployment's own, when no --config is given.
source "$(dirname "$0")/lib.sh"
BUILD_DIR=$(cd "$(dirname "$SERAMBI")/.." && pwd)
[ -f "$BUILD_DIR/CMakeCache.txt" ] || { echo "no CMake build directory above $SERAMBI"; exit 1; }

ROOT=$WORK/root
check "cmake --install puts the files under the prefix" cmake --install "$BUILD_DIR" --prefix "$ROOT/usr"
check "the installed binary runs" "$ROOT/usr/bin/serambi" --version
UNIT=$ROOT/usr/lib/systemd/system/serambi.service
check "the systemd unit is installed" test -s "$UNIT"
same "it starts the installed binary, with the default configuration" "ExecStart=$ROOT/usr/bin/serambi serve" "$(grep '^ExecStart=' "$UNIT")"
check "the default policy and the guides are installed" \
    test -s "$ROOT/usr/share/serambi/default.toml" -a -s "$ROOT/usr/share/doc/serambi/operator-guide.md"
check "the manual pages are installed, one per command" \
    test -s "$ROOT/usr/share/man/man1/serambi.1.gz" -a -s "$ROOT/usr/share/man/man1/serambi-push.1.gz" -a -s "$ROOT/usr/share/man/man1/serambi-audit.1.gz"
check "compressed, as Debian wants them, and whole" gzip -t "$ROOT/usr/share/man/man1/serambi.1.gz"
check "and the bash completion" test -s "$ROOT/usr/share/bash-completion/completions/serambi"
out=$(systemd-analyze verify "$UNIT" 2>&1)
same "systemd-analyze verify finds nothing to say about the unit" "" "$out"
exposure=$(systemd-analyze security --offline=true "$UNIT" 2>&1 | sed -n 's/.*Overall exposure level for serambi.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security rates its exposure (got '$exposure')" test -n "$exposure"
check "under 2.0" awk -v e="$exposure" 'BEGIN {exit !(e < 2.0)}'
for setting in "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes" "UMask=0077" "SystemCallFilter=@system-service" \
               "ExecReload=/bin/kill -HUP \$MAINPID" "User=serambi"; do
    check "the unit sets $setting" grep -qxF "$setting" "$UNIT"
done

check "DESTDIR stages an install without changing the paths it names" \
    env DESTDIR="$WORK/stage" cmake --install "$BUILD_DIR" --prefix /opt/serambi
check "the files land under DESTDIR" test -x "$WORK/stage/opt/serambi/bin/serambi"
same "and the unit names the final path" "ExecStart=/opt/serambi/bin/serambi serve" \
    "$(grep '^ExecStart=' "$WORK/stage/opt/serambi/lib/systemd/system/serambi.service")"

check "cpack builds the Debian package" cpack --config "$BUILD_DIR/CPackConfig.cmake" -G DEB -B "$WORK/pkg"
DEB=$(ls "$WORK"/pkg/serambi_*_amd64.deb 2>/dev/null | head -1)
check "it is there" test -s "$DEB"
info=$(dpkg-deb -I "$DEB")
contains "it depends on adduser, for its user" "adduser" "$info"
contains "and on the libraries the binary links" "libsqlcipher0" "$info"
files=$(dpkg-deb -c "$DEB")
contains "it installs /usr/bin/serambi" "./usr/bin/serambi" "$files"
contains "and /usr/lib/systemd/system/serambi.service" "./usr/lib/systemd/system/serambi.service" "$files"
contains "and the manual page" "./usr/share/man/man1/serambi.1.gz" "$files"
contains "and the bash completion" "./usr/share/bash-completion/completions/serambi" "$files"
dpkg-deb -x "$DEB" "$WORK/deb"
dpkg-deb -e "$DEB" "$WORK/deb-control"
same "the packaged unit runs /usr/bin/serambi" "ExecStart=/usr/bin/serambi serve" \
    "$(grep '^ExecStart=' "$WORK/deb/usr/lib/systemd/system/serambi.service")"
check "the packaged binary runs" "$WORK/deb/usr/bin/serambi" --version
check "the package's postinst creates the serambi system user" grep -q "adduser --system --group" "$WORK/deb-control/postinst"
check "and the state directory 0700" grep -q "install -d -m 0700 -o serambi -g serambi /var/lib/serambi" "$WORK/deb-control/postinst"
check "its scripts are valid shell" sh -n "$WORK/deb-control/postinst"
refuse "removing the package never deletes the data" grep -q "rm -" "$WORK/deb-control/postrm"

# /etc/serambi/serambi.toml, the unit's default, as a link to the deployment's own file.
if [ ! -e /etc/serambi/serambi.toml ]; then
    out=$("$SERAMBI" serve 2>&1)
    same "without --config, serve reads /etc/serambi/serambi.toml: a missing one is a clear error" 2 "$?"
    contains "naming it" "/etc/serambi/serambi.toml does not exist" "$out"
fi
init_deployment
mkdir -p "$WORK/etc"
ln -s "$DEP/serambi.toml" "$WORK/etc/serambi.toml"
"$SERAMBI" serve --config "$WORK/etc/serambi.toml" >>"$WORK/gateway.log" 2>&1 &
GW_PID=$!
check "a configuration reached through a link serves the deployment it belongs to" wait_for 15 \
    curl -sf -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/healthz"
check "and nothing was made beside the link" test "$(ls "$WORK/etc")" = serambi.toml
stop_gateway
finish

#!/usr/bin/env bash
# Shared by the benchmark scripts: sourced, never run.

die() { echo "bench: $*" >&2; exit 1; }

make_work_dir() { # NAME: WORK=$BASE/NAME.XXXXXX, removed at exit with the gateway (GW_PID) and
                  # nginx (NGX_PID) stopped first; BENCH_KEEP_LOG keeps WORK/gateway.log.
                  # Only this directory is ever removed, never BASE's other contents.
    mkdir -p "$BASE"
    WORK=$(mktemp -d "$BASE/$1.XXXXXX")
    GW_PID='' NGX_PID=''
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}
cleanup() {
    set +e
    [ -n "$GW_PID" ] && stop "$GW_PID"
    [ -n "$NGX_PID" ] && stop "$NGX_PID"
    [ -n "${BENCH_KEEP_LOG:-}" ] && [ -f "$WORK/gateway.log" ] && cp "$WORK/gateway.log" "$BENCH_KEEP_LOG"
    rm -rf "$WORK"
    rmdir "$BASE" 2>/dev/null
}

stop() { # PID: TERM, up to 10 s, then KILL; returns the exit status
    local pid=$1 i rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

free_port() { # a random loopback port nobody answers on (bounded tries)
    local i p
    for ((i = 0; i < 50; i++)); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    die "found no free loopback port"
}

wait_port() { # PID PORT LOG: until PORT answers, PID still alive, at most 15 s
    local pid=$1 port=$2 log=$3 i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "process $pid exited before listening on $port"; }
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$log" >&2; die "nothing listens on 127.0.0.1:$port after 15 s"
}

children_of() { # PID: the PIDs whose parent is PID
    local parent=$1 stat f
    for stat in /proc/[0-9]*/stat; do
        read -r -a f <<<"$(sed 's/.*) //' "$stat" 2>/dev/null)" || continue
        # After the ")" that ends the command name, the parent PID is the 2nd field.
        [ "${f[1]:-}" = "$parent" ] && { stat=${stat#/proc/}; echo "${stat%/stat}"; }
    done
    return 0
}

cpu_ticks() { # PID...: user + system clock ticks of these processes, all threads
    local pid sum=0 f
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        # After the ")" that ends the command name: utime is the 12th field, stime the 13th.
        read -r -a f <<<"$(sed 's/.*) //' "/proc/$pid/stat")"
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}

start_nginx_webdav() { # DIR [CLIENT_CA]: nginx serving DIR/root over TLS 1.3 (GET, and PUT of new
                       # files) on a free port, with a fresh P-256 certificate in DIR/cert.pem;
                       # with CLIENT_CA it requires client certificates from that CA. Sets
                       # NGX_PORT and NGX_PID.
    local dir=$1 client_ca=${2:-} verify=''
    [ -n "$client_ca" ] && verify="ssl_client_certificate $client_ca; ssl_verify_client on;"
    mkdir -p "$dir"/{root,logs,tmp/body,tmp/proxy,tmp/fastcgi,tmp/uwsgi,tmp/scgi}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    NGX_PORT=$(free_port)
    {
        [ "$(id -u)" -eq 0 ] && echo 'user root;'   # workers must write into root and tmp
        cat <<EOF
worker_processes auto;
worker_rlimit_nofile 8192;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 1000000;
    client_max_body_size 0;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT ssl;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
        ssl_protocols TLSv1.3;
        $verify
        root $dir/root;
        location / {
            dav_methods PUT;
            create_full_put_path on;
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>"$dir/logs/stderr.log" &
    NGX_PID=$!
    wait_port "$NGX_PID" "$NGX_PORT" "$dir/logs/error.log"
}

#!/usr/bin/env bash
# Shared by the benchmark scripts: sourced, never run.

die() { echo "bench: $*" >&2; exit 1; }

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

// The gateway process: it opens and checks what it keeps, listens, deals connections to the worker
// threads, and issues checkpoints, reloads certificates on SIGHUP and stops on SIGTERM. What a
// connection does is in session.cpp; what a request does is the Handler's.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>
#include <tuple>

#include "crypto/tlog.h"
#include "gateway/expiry.h"
#include "gateway/handler.h"
#include "gateway/net.h"
#include "gateway/notifier.h"
#include "gateway/refusals.h"
#include "gateway/session.h"
#include "gateway/startup.h"
#include "gateway/tls.h"
#include "gateway/witnesses.h"

namespace serambi::gateway {
namespace {
std::mutex log_mutex;
}  // namespace

std::string printable(std::string_view text, std::size_t max) {
    std::string out;
    for (const char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

namespace {
bool log_json = false;
int log_threshold = 0;  // 0 info, 1 warning, 2 error

int level_of(std::string_view line) {
    if (line.starts_with("warning: ")) return 1;
    if (line.starts_with("access log: cannot") || line.starts_with("cannot ") ||
        line.starts_with("offloaded job failed") || line.starts_with("access log: an entry was not"))
        return 2;
    return 0;
}
}  // namespace

void configure_log(const std::string& format, const std::string& level) {
    std::lock_guard lock(log_mutex);
    log_json = format == "json";
    log_threshold = level == "error" ? 2 : level == "warning" ? 1 : 0;
}

void log_line(const std::string& line) {
    const int level = level_of(line);
    std::lock_guard lock(log_mutex);
    if (level < log_threshold) return;
    if (!log_json) {
        std::cerr << utc_now() << " " << line << std::endl;
        return;
    }
    static constexpr const char* kNames[] = {"info", "warning", "error"};
    const std::string_view message = level == 1 ? std::string_view(line).substr(9) : std::string_view(line);
    std::cerr << boost::json::serialize(
                     boost::json::object{{"time", utc_now()}, {"level", kNames[level]}, {"message", message}})
              << std::endl;
}

namespace {

Awaitable<void> accept_loop(Shared& shared, Acceptor& acceptor,
                            std::vector<std::unique_ptr<net::io_context>>& workers) {
    std::size_t next = 0;
    for (;;) {
        // Connections are dealt to the workers in turn.
        auto& worker = *workers[next++ % workers.size()];
        auto [ec, socket] = co_await acceptor.async_accept(worker.get_executor(), use_tuple);
        if (ec == net::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors, say: do not spin on the error while it lasts.
            Timer pause(acceptor.get_executor());
            pause.expires_after(std::chrono::milliseconds(50));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        const auto peer = socket.remote_endpoint(ec);
        if (ec) continue;
        std::string address = peer.address().to_string();
        socket.set_option(tcp::no_delay(true), ec);
        auto executor = socket.get_executor();
        net::co_spawn(executor, serve_connection(shared, std::move(socket), std::move(address)),
                      [](std::exception_ptr e) {
                          if (!e) return;
                          try {
                              std::rethrow_exception(e);
                          } catch (const std::exception& ex) {
                              log_line(std::string("session ended by an unexpected error: ") + printable(ex.what()));
                          }
                      });
    }
}

// Certificates that end within 30 days, or have ended, are named in the log: the gateway's own
// and its CA's, as the files now say, and principals' (not revoked), so that they are renewed
// while they still can be.
void warn_expiring_certificates(storage::Store& store, const RevokedSerials& revoked, const Config& config) {
    const auto now = now_seconds();
    std::vector<CertificateEnd> ends;
    // The gateway's own: a lapsed TLS certificate stops every client, a lapsed CA every certificate.
    for (const auto& [name, path] : {std::pair<std::string, std::filesystem::path>{"tls", config.tls_cert},
                                     {"signing", config.signing_cert},
                                     {"", config.ca_cert}}) {
        auto text = storage::read_small_file(path, 1 << 20);
        if (!text || !bundle_ends(name.empty() ? "ca" : "gateway", name, *text, ends))
            log_line("cannot check the expiry of " + path.string() + ": " +
                     (text ? "no certificate in it" : text.error().message));
    }
    if (auto counted = principal_ends(store, revoked, ends); !counted)
        log_line("cannot check certificate expiry: " + counted.error().message);
    for (const auto& e : ends) {
        if (!ends_soon(e.not_after, now)) continue;
        const bool ended = e.not_after <= now;
        const std::string what =
            e.kind == "principal" ? "the certificate of " + e.name
            : e.kind == "ca"      ? "the CA certificate (" + e.name + ")"
                             : "the gateway's " + std::string(e.name == "tls" ? "TLS" : "signing") + " certificate";
        const std::string remedy = e.kind == "principal"
                                       ? (ended ? "register the unit again" : "have it run serambi renew")
                                   : e.kind == "ca" ? "plan a new CA before it ends"
                                                    : "issue a new one and send SIGHUP";
        log_line("warning: " + what + (ended ? " expired at " : " expires at ") + e.not_after_text + "; " + remedy);
    }
}

// Every connection is a descriptor, and the usual soft limit (1024) is below what the connection
// limits allow: raise it to the hard limit, and say so if even that is too low.
void raise_descriptor_limit(const Config& config) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    const rlim_t wanted = rlim_t{config.max_connections} + config.max_pending_handshakes + 2 * config.threads + 64;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
        log_line("warning: only " + std::to_string(limit.rlim_cur) +
                 " file descriptors may be open, but the connection limits need about " + std::to_string(wanted) +
                 "; raise LimitNOFILE (systemd) or ulimit -n");
}

// SIGHUP: the gateway's TLS and manifest-signing certificates are read again. New connections
// and pushes use them; open connections and pushes under way finish with the old ones. A file
// that does not load changes nothing.
void reload(const Config& config, RevokedSerials& revoked, AuditTrail& audit, TlsContexts& tls, Handler& handler,
            GatewayCounters& counters) {
    std::string next_tls_pem, next_signing_pem;
    auto next_tls = make_tls(config, revoked, next_tls_pem);
    auto next_signer = load_signer(config, next_signing_pem);
    if (!next_tls) log_line("reload: TLS certificate not replaced: " + next_tls.error().message);
    if (!next_signer) log_line("reload: signing certificate not replaced: " + next_signer.error().message);
    // The gateway's identity changing is an access-log entry, made durable before the swap: if it
    // cannot be written, nothing is replaced.
    auto serial_of = [](const std::string& pem) {
        auto info = certs::inspect(pem);
        return info ? info->serial_hex : std::string();
    };
    const auto entry = AuditTrail::reload_entry(
        next_tls ? serial_of(next_tls_pem) : "", next_signer ? serial_of(next_signing_pem) : "",
        next_tls && next_signer ? "" : (!next_tls ? next_tls.error().message : next_signer.error().message));
    if ((next_tls || next_signer) && !audit.record(entry)) {
        log_line("reload: nothing replaced: the access log cannot be written");
        counters.reloads_failed.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (!next_tls && !next_signer) (void)audit.record(entry);  // a refused reload is worth a line too
    if (next_tls) {
        tls.set(std::move(next_tls).value());
        handler.set_served_tls_certificate(std::move(next_tls_pem));
    }
    if (next_signer) {
        handler.replace_signer(std::move(next_signer).value());
        handler.set_served_signing_certificate(std::move(next_signing_pem));
    }
    if (next_tls && next_signer) log_line("reload: TLS and signing certificates replaced");
    (next_tls && next_signer ? counters.reloads : counters.reloads_failed).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int serve(const Config& config, const ServeOptions& options) {
    if (auto s = crypto::initialise(); !s) {
        std::cerr << "serambi: " << s.error().message << "\n";
        return 1;
    }
    ::signal(SIGPIPE, SIG_IGN);
    configure_log(config.log_format, config.log_level);
    raise_descriptor_limit(config);
    auto fail = [](const std::string& what) {
        std::cerr << "serambi: cannot start: " << what << "\n";
        return 1;
    };
    // One gateway per deployment, and never beside a key rotation.
    if (std::error_code ec; !std::filesystem::exists(config.blobs, ec))
        std::filesystem::create_directories(config.blobs, ec);
    auto lock = storage::DeploymentLock::acquire(config.blobs, config.database, storage::DeploymentLock::Mode::serve);
    if (!lock) return fail(lock.error().message);
    auto rotation = storage::finish_master_key_rotation({config.master_key, config.database});
    if (!rotation) return fail(rotation.error().message);
    if (!rotation->empty()) log_line("warning: " + *rotation);
    auto master = storage::read_master_key(config.master_key);
    if (!master) return fail(master.error().message);
    auto store = storage::Store::open({config.database, config.blobs, config.aead}, *master);
    if (!store) return fail(store.error().message);
    auto policy = policies::Policy::load(config.policy);
    if (!policy) return fail(policy.error().message);

    auto ca_cert = storage::read_small_file(config.ca_cert, 1 << 20);
    if (!ca_cert) return fail(ca_cert.error().message);
    auto ca_key = crypto::read_private_key_file(config.ca_key, 1 << 20);
    if (!ca_key) return fail(ca_key.error().message);
    std::string signing_pem, tls_pem;
    auto signer = load_signer(config, signing_pem);
    if (!signer) return fail(signer.error().message);

    auto log_signer = load_log_key(config, *store->get(), log_line);
    if (!log_signer) return fail(log_signer.error().message);
    AuditTrail audit(*store->get(), std::move(log_signer).value());

    // The database is trusted only once it is not behind what was already published; only then
    // may blobs it does not know be called orphans (and even then they are kept aside).
    RevokedSerials revoked;
    auto state = reconcile_state(config, *store->get(), audit, revoked, options.accept_rollback, log_line);
    if (!state) return fail(state.error().message);
    // The database is trusted now: a rotation's new key it never recorded is destroyed.
    if (auto discarded = storage::discard_pending_log_key(config.log_key); !discarded)
        return fail(discarded.error().message);
    else if (!discarded->empty())
        log_line("warning: " + *discarded);
    audit.keep_state(state->get());
    revoked.persist_with([&state](const std::string& serial) {
        if (auto s = (*state)->record_revoked(serial); !s)
            log_line("warning: revoked serial " + serial +
                     " is in the database but not in the state file: " + s.error().message);
    });
    auto quarantined = recover_storage(*store->get(), audit, log_line);
    if (!quarantined) return fail("crash recovery: " + quarantined.error().message);
    // Every new checkpoint goes to the witnesses; their answers arrive on a thread of their own.
    Witnesses witnesses(config.witnesses, audit);
    audit.on_issue([&witnesses] { witnesses.checkpoint_issued(); });
    if (auto note = audit.checkpoint(); !note)
        return fail("cannot issue the first checkpoint: " + note.error().message);
    witnesses.start();
    auto first_tls = make_tls(config, revoked, tls_pem);
    if (!first_tls) return fail(first_tls.error().message);
    TlsContexts tls(std::move(first_tls).value());
    GatewayCounters counters;
    counters.started_at = now_seconds();
    counters.witnesses = &witnesses;
    Handler handler({store->get(), *policy, *signer, certs::Authority{*ca_cert, std::move(*ca_key)}, &config, &audit,
                     &revoked, &counters});
    // Webhooks: from the committed log to receivers, on a thread of its own.
    Notifier notifier(handler, *store->get());
    notifier.start();

    // Declared before the io_contexts: sessions destroyed with them give their slots back here,
    // and their event streams their places.
    EventStreams streams;
    ConnectionTable connections({config.max_connections, config.max_connections_per_principal,
                                 config.max_pending_handshakes, config.max_pending_handshakes_per_address});
    std::vector<std::unique_ptr<net::io_context>> workers;
    for (unsigned i = 0; i < config.threads; ++i) workers.push_back(std::make_unique<net::io_context>(1));
    std::vector<net::executor_work_guard<Executor>> keep_running;
    for (auto& w : workers) keep_running.push_back(net::make_work_guard(w->get_executor()));
    net::io_context& main_context = *workers.front();

    boost::system::error_code ec;
    const auto address = net::ip::make_address(config.listen_host, ec);
    if (ec) return fail("server.listen: " + config.listen_host + " is not an IP address");
    Acceptor acceptor(main_context.get_executor());
    const tcp::endpoint endpoint(address, config.listen_port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        return fail("cannot listen on " + config.listen_host + ":" + std::to_string(config.listen_port) + ": " +
                    ec.message());

    // More offload threads than network threads: most of an offload job's time is a wait for the
    // disk or for its group commit, and a commit waited for by more threads is a larger group
    // (4 KiB pushes from 64 clients: 1,900/s with as many as the network threads, 2,500/s with
    // four times as many).
    net::thread_pool offload_pool(config.threads * 4);
    RefusalBudget refusals(config.refused_handshake_entries_per_minute);
    Shared shared{config, handler, audit, tls, offload_pool.get_executor(), refusals, counters, connections, streams};
    counters.connections = &connections;
    handler.set_served_tls_certificate(std::move(tls_pem));
    handler.set_served_signing_certificate(std::move(signing_pem));
    net::co_spawn(main_context.get_executor(), accept_loop(shared, acceptor, workers), net::detached);
    // A signed checkpoint at least every second while entries arrive (signing when nothing
    // changed is skipped inside).
    Timer checkpoint_timer(main_context.get_executor());
    std::uint64_t ticks = 0;
    std::function<void()> issue_checkpoints = [&] {
        checkpoint_timer.expires_after(std::chrono::seconds(1));
        checkpoint_timer.async_wait([&](const boost::system::error_code& wait_error) {
            if (wait_error) return;
            // Expired uploads are looked for once a minute: they expire by the hour.
            const bool sweep_uploads = ++ticks % 60 == 0;
            const bool trim_memory = ticks % 10 == 0;
            net::post(offload_pool, [&audit, &refusals, &counters, &handler, sweep_uploads, trim_memory] {
                // The allocator keeps what a burst of requests freed, in every thread's arena,
                // unless asked to give it back: after a load, RSS returns to near its start.
                if (trim_memory) malloc_trim(0);
                record_counted_refusals(audit, refusals, counters);
                if (auto note = audit.checkpoint(); !note)
                    log_line("access log: cannot issue a checkpoint: " + note.error().message);
                if (sweep_uploads)
                    for (const auto& problem : handler.expire_uploads()) log_line("uploads: " + problem);
            });
            issue_checkpoints();
        });
    };
    issue_checkpoints();
    net::basic_signal_set<Executor> reload_signal(main_context.get_executor(), SIGHUP);
    std::function<void()> await_reload = [&] {
        reload_signal.async_wait([&](const boost::system::error_code& wait_error, int) {
            if (wait_error) return;
            // PEM parsing and an fsynced log entry: work for the offload pool, not a network
            // thread. The next signal is awaited once this reload is over.
            net::post(offload_pool, [&] {
                reload(config, revoked, audit, tls, handler, counters);
                net::post(main_context, await_reload);
            });
        });
    };
    await_reload();
    Timer expiry_timer(main_context.get_executor());
    std::function<void()> check_expiry = [&] {
        net::post(offload_pool,
                  [&store, &revoked, &config] { warn_expiring_certificates(*store->get(), revoked, config); });
        expiry_timer.expires_after(std::chrono::hours(24));
        expiry_timer.async_wait([&](const boost::system::error_code& wait_error) {
            if (!wait_error) check_expiry();
        });
    };
    check_expiry();
    // Event streams (auditors following the log) end themselves within a poll once told, each
    // with its closing entry; the network threads stop when they have, or after 3 s regardless.
    Timer stop_timer(main_context.get_executor());
    std::function<void(int)> stop_after_streams = [&](int rounds_left) {
        if (streams.open.load() == 0 || rounds_left == 0) {
            for (auto& w : workers) w->stop();
            return;
        }
        stop_timer.expires_after(std::chrono::milliseconds(100));
        stop_timer.async_wait(
            [&, rounds_left](const boost::system::error_code&) { stop_after_streams(rounds_left - 1); });
    };
    net::basic_signal_set<Executor> signals(main_context.get_executor(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        log_line("stopping");
        checkpoint_timer.cancel();
        expiry_timer.cancel();
        reload_signal.cancel();
        acceptor.close();
        streams.stopping.store(true);
        stop_after_streams(30);
    });

    log_line("serambi gateway listening on https://" + config.listen_host + ":" + std::to_string(config.listen_port) +
             " (blobs quarantined at start: " + std::to_string(*quarantined) + ")");
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers.size(); ++i) threads.emplace_back([&workers, i] { workers[i]->run(); });
    main_context.run();
    for (auto& t : threads) t.join();
    offload_pool.join();
    notifier.stop();
    (*store)->log().flush();  // entries still queued are written while their io_contexts exist
    record_counted_refusals(audit, refusals, counters, true);
    if (auto note = audit.checkpoint(); !note)
        log_line("access log: cannot issue the last checkpoint: " + note.error().message);
    return 0;
}

}  // namespace serambi::gateway

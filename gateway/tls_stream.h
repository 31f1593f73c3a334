// Internal to gateway/: a TLS stream for the gateway's connections. OpenSSL reads and writes the
// non-blocking socket itself, and Asio only waits for the socket to become ready.
//
// Why not asio::ssl::stream: it moves ciphertext through a 17 KiB BIO pair, so every TLS record
// costs its own socket read or write, a copy, and a trip through the reactor. Here one recv fills
// OpenSSL's 256 KiB read-ahead buffer, a read_some decrypts every record that is already there,
// and a write_some encrypts and sends as many records as the socket takes. Uploads and downloads
// of official packages are gigabytes; the per-record overhead was the gateway's bottleneck.
//
// Contract: at most one read and one write operation outstanding, from the stream's own thread;
// cut() may be called between operations (the deadline watchdog) and fails what is pending.
#pragma once

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

namespace serambi::gateway {

template <class Socket>
class TlsStream {
  public:
    using executor_type = typename Socket::executor_type;
    using error_code = boost::system::error_code;

    // Records are encrypted at most 16 KiB at a time; this many bytes of ciphertext are pulled
    // from the kernel per recv.
    static constexpr std::size_t kReadAheadBytes = 256 * 1024;

    TlsStream(Socket socket, SSL_CTX* context) : socket_(std::move(socket)) {
        ssl_ = SSL_new(context);
        if (ssl_ == nullptr) throw std::bad_alloc();
        // A blocking descriptor would stall the worker thread, and the watchdog with it.
        socket_.non_blocking(true);
        if (SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle())) != 1) {
            SSL_free(ssl_);
            throw std::bad_alloc();
        }
        SSL_set_read_ahead(ssl_, 1);
        // The read buffer is sized now: OpenSSL keeps the one it allocates first.
        SSL_set_default_read_buffer_len(ssl_, kReadAheadBytes);
        // A write may be retried with the same bytes from another address (a re-gathered
        // scratch buffer), and may finish part of its records before the socket is full.
        // Until the handshake authenticates the peer, buffers are released whenever empty, so
        // that idle strangers do not hold them; see handshake_done().
        SSL_set_mode(ssl_,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
        SSL_set_accept_state(ssl_);
    }
    ~TlsStream() {
        SSL_free(ssl_);
        forget_gathered();
    }
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    SSL* native_handle() noexcept { return ssl_; }

    // Ends the connection now: pending and later operations fail. The descriptor stays open
    // until the stream is destroyed, so OpenSSL never touches a number the kernel reused.
    void cut() noexcept {
        cut_ = true;
        error_code ignored;
        socket_.shutdown(Socket::shutdown_both, ignored);
        socket_.cancel(ignored);
    }

    template <class Token>
    auto async_handshake(Token&& token) {
        return async_run(Handshake{}, std::forward<Token>(token));
    }

    // After a successful handshake: an authenticated peer keeps its buffers for the life of
    // the connection instead of paying an allocation per read.
    void handshake_done() { SSL_clear_mode(ssl_, SSL_MODE_RELEASE_BUFFERS); }

    // Between requests: gives back the record buffers (a 256 KiB read-ahead among them) if they
    // hold nothing, so that a thousand kept-alive clients cost kilobytes each, not a quarter of a
    // megabyte; the next record allocates them again. Buffers holding a pipelined request stay.
    void release_idle_buffers() {
        // Before 3.0.14, SSL_free_buffers freed a read buffer holding part of a record, which a
        // client could then have read from (CVE-2024-4741): older libraries keep their buffers.
        static const bool safe = OpenSSL_version_num() >= 0x300000e0L;
        if (safe) SSL_free_buffers(ssl_);
        forget_gathered();
    }

    // Sends close_notify; does not wait for the peer's, which a client that already has its
    // answer often never sends.
    template <class Token>
    auto async_shutdown(Token&& token) {
        return async_run(Shutdown{}, std::forward<Token>(token));
    }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        return async_run(Read<Buffers>{buffers}, std::forward<Token>(token));
    }

    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        return async_run(Write<Buffers>{buffers}, std::forward<Token>(token));
    }

  private:
    enum class Need { nothing, readable, writable };
    struct Step {
        error_code ec;
        std::size_t bytes = 0;
        Need need = Need::nothing;
    };

    // Turns an OpenSSL failure into either "wait for the socket" or an error code. errno must
    // have been cleared before the call that failed (see call()).
    Step failure(int result) {
        const int kind = SSL_get_error(ssl_, result);
        switch (kind) {
            case SSL_ERROR_WANT_READ:
                return {{}, 0, Need::readable};
            case SSL_ERROR_WANT_WRITE:
                return {{}, 0, Need::writable};
            case SSL_ERROR_ZERO_RETURN:
                return {boost::asio::error::eof};
            case SSL_ERROR_SYSCALL: {
                const int saved = errno;
                ERR_clear_error();
                if (saved == 0) return {boost::asio::ssl::error::stream_truncated};
                return {error_code(saved, boost::system::system_category())};
            }
            default: {
                const unsigned long code = ERR_peek_last_error();
                ERR_clear_error();
                if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
                    return {boost::asio::ssl::error::stream_truncated};
                if (code == 0) return {boost::asio::error::connection_aborted};
                return {error_code(static_cast<int>(code), boost::asio::error::get_ssl_category())};
            }
        }
    }

    // OpenSSL's error queue and errno both explain the next failure only if they start clean.
    static void prepare() noexcept {
        ERR_clear_error();
        errno = 0;
    }

    struct Handshake {
        Step operator()(TlsStream& s) {
            prepare();
            const int r = SSL_do_handshake(s.ssl_);
            return r == 1 ? Step{} : s.failure(r);
        }
    };

    struct Shutdown {
        Step operator()(TlsStream& s) {
            prepare();
            const int r = SSL_shutdown(s.ssl_);
            if (r >= 0) return {};  // 0: ours is sent, the peer's is not awaited
            return s.failure(r);
        }
    };

    // Decrypts everything already received, up to the buffers' size, without waiting.
    template <class Buffers>
    struct Read {
        Buffers buffers;
        Step operator()(TlsStream& s) {
            // An error met after bytes that were handed over; OpenSSL would not say it again.
            if (s.read_error_) return {s.read_error_};
            std::size_t total = 0;
            for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
                 ++it) {
                boost::asio::mutable_buffer b = *it;
                auto* at = static_cast<char*>(b.data());
                std::size_t left = b.size();
                while (left > 0) {
                    prepare();
                    std::size_t got = 0;
                    const int r = SSL_read_ex(s.ssl_, at, left, &got);
                    if (r != 1) {
                        Step stop = s.failure(r);
                        if (total == 0) return stop;
                        // Hand over what was read; the error is for the next read.
                        if (stop.ec) s.read_error_ = stop.ec;
                        return {{}, total};
                    }
                    at += got;
                    left -= got;
                    total += got;
                }
            }
            return {{}, total};
        }
    };

    // Encrypts and sends as much as the socket takes, without waiting.
    template <class Buffers>
    struct Write {
        Buffers buffers;
        Step operator()(TlsStream& s) {
            // Small pieces (an HTTP head in several buffers) are gathered so that they leave in
            // one record instead of one record each.
            constexpr std::size_t kGather = 16 * 1024;
            const char* data = nullptr;
            std::size_t size = 0;
            auto first = boost::asio::buffer_sequence_begin(buffers);
            const auto end = boost::asio::buffer_sequence_end(buffers);
            while (first != end && boost::asio::const_buffer(*first).size() == 0) ++first;
            if (first == end) return {};
            const boost::asio::const_buffer head = *first;
            if (head.size() >= kGather || std::next(first) == end) {
                data = static_cast<const char*>(head.data());
                size = head.size();
            } else {
                s.gather_.resize(kGather);
                size = boost::asio::buffer_copy(boost::asio::buffer(s.gather_), buffers);
                data = s.gather_.data();
            }
            std::size_t total = 0;
            while (total < size) {
                prepare();
                std::size_t sent = 0;
                const int r = SSL_write_ex(s.ssl_, data + total, size - total, &sent);
                if (r != 1) {
                    Step stop = s.failure(r);
                    if (total > 0) return {{}, total};
                    return stop;
                }
                total += sent;
            }
            return {{}, total};
        }
    };

    // Runs a step; while it needs the socket, waits for it and runs it again. A result that is
    // ready at once is still delivered through the executor, never from inside the initiation.
    template <class Action>
    struct Operation {
        TlsStream& stream;
        Action action;
        enum class State { fresh, waiting, posted } state = State::fresh;
        Step result;

        template <class Self>
        void operator()(Self& self, error_code wait_error = {}) {
            if (state == State::posted) return self.complete(result.ec, result.bytes);
            const bool initiating = state == State::fresh;
            if (wait_error || stream.cut_)
                result = {wait_error ? wait_error : boost::asio::error::operation_aborted};
            else
                result = action(stream);
            switch (result.need) {
                case Need::readable:
                    state = State::waiting;
                    return stream.socket_.async_wait(Socket::wait_read, std::move(self));
                case Need::writable:
                    state = State::waiting;
                    return stream.socket_.async_wait(Socket::wait_write, std::move(self));
                case Need::nothing:
                    break;
            }
            if (initiating) {
                state = State::posted;
                return boost::asio::post(stream.socket_.get_executor(), std::move(self));
            }
            self.complete(result.ec, result.bytes);
        }
    };

    template <class Action, class Token>
    auto async_run(Action action, Token&& token) {
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
            Operation<Action>{*this, std::move(action), Operation<Action>::State::fresh, Step{}}, token, socket_);
    }

    Socket socket_;
    SSL* ssl_ = nullptr;
    bool cut_ = false;
    error_code read_error_;
    std::vector<char> gather_;
    // The gather buffer can hold a small payload's plaintext (its head and body are written
    // together): wiped before it is given back, like the session's payload buffer.
    void forget_gathered() noexcept {
        if (!gather_.empty()) OPENSSL_cleanse(gather_.data(), gather_.size());
        std::vector<char>().swap(gather_);
    }
};

}  // namespace serambi::gateway

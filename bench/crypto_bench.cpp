// Throughput of the at-rest primitives on this machine, to choose the AEAD by measurement:
// our STREAM sealer and opener over AES-256-GCM and ChaCha20-Poly1305, SHA-256, and libsodium's
// secretstream as the peer DESIGN.md names.
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "crypto/crypto.h"

using namespace serambi::crypto;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kTotal = 512u << 20;  // bytes processed per measurement
constexpr std::size_t kPiece = 256u << 10;  // as the gateway receives them

double mbps(Clock::duration d) { return static_cast<double>(kTotal) / 1e6 / std::chrono::duration<double>(d).count(); }

template <class F>
double best_of_three(F&& run) {
    double best = 0;
    for (int i = 0; i < 3; ++i) {
        const auto start = Clock::now();
        run();
        best = std::max(best, mbps(Clock::now() - start));
    }
    return best;
}

}  // namespace

int main() {
    if (!initialise()) return 1;
    Bytes input(kPiece);
    random_bytes(input);
    std::printf("%-44s %10s\n", "operation (512 MiB, best of 3)", "MB/s");

    for (auto aead : {Aead::aes_256_gcm, Aead::chacha20_poly1305}) {
        auto key = SecretKey::random();
        Bytes sealed;
        const double seal = best_of_three([&] {
            StreamSealer sealer(aead, key, as_bytes("bench"));
            Bytes out;
            out.reserve(2 * kPiece);
            for (std::size_t done = 0; done < kTotal; done += kPiece) {
                out.clear();
                (void)sealer.update(input, out);
            }
            (void)sealer.finish(out);
        });
        // Open a sealed 256 KiB stream repeatedly: same work per byte as opening a long one.
        StreamSealer sealer(aead, key, as_bytes("bench"));
        (void)sealer.update(input, sealed);
        (void)sealer.finish(sealed);
        Bytes plain(kStreamChunkBytes);
        const std::size_t chunks = sealed.size() / kSealedChunkBytes;
        const double open = best_of_three([&] {
            StreamOpener opener(aead, key, as_bytes("bench"));
            for (std::size_t done = 0; done < kTotal; done += kPiece)
                for (std::size_t i = 0; i < chunks; ++i)
                    (void)opener.open_chunk(
                        i, i + 1 == chunks,
                        ByteView(sealed).subspan(i * kSealedChunkBytes,
                                                 std::min(kSealedChunkBytes, sealed.size() - i * kSealedChunkBytes)),
                        plain);
        });
        std::printf("STREAM seal, %-31s %10.0f\nSTREAM open, %-31s %10.0f\n", aead_name(aead), seal, aead_name(aead),
                    open);
    }

    const double sha = best_of_three([&] {
        Sha256 h;
        for (std::size_t done = 0; done < kTotal; done += kPiece) h.update(input);
        (void)h.finish();
    });
    std::printf("%-44s %10.0f\n", "SHA-256 (OpenSSL)", sha);

    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    crypto_secretstream_xchacha20poly1305_keygen(key);
    std::vector<unsigned char> out(kStreamChunkBytes + crypto_secretstream_xchacha20poly1305_ABYTES);
    const double sodium = best_of_three([&] {
        crypto_secretstream_xchacha20poly1305_state st;
        unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
        crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
        for (std::size_t done = 0; done < kTotal; done += kStreamChunkBytes)
            crypto_secretstream_xchacha20poly1305_push(&st, out.data(), nullptr, input.data(), kStreamChunkBytes,
                                                       nullptr, 0, 0);
    });
    std::printf("%-44s %10.0f\n", "libsodium secretstream push (peer)", sodium);
    sodium_memzero(key, sizeof key);
    return 0;
}

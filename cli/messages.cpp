#include "cli/messages.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace serambi::cli {
namespace {

using enum Msg;

// One line per message: what it is, English, Bahasa Indonesia. Terms of the mandate keep their
// Indonesian names in both (biasa, rahasia, walidata), as the policy and the portal use them.
constexpr std::array<Message, static_cast<std::size_t>(Msg::count_)> kCatalogue{{
    {push_sent, "Sent: {} → {}, {}, package {}", "Terkirim: {} → {}, {}, paket {}"},
    {push_log_index, ", log index {}", ", indeks log {}"},
    {status_profile, "Profile", "Profil"},
    {status_gateway, "Gateway", "Gateway"},
    {status_connected, "connected", "terhubung"},
    {status_not_connected, "not connected: {}", "tidak terhubung: {}"},
    {status_certificate, "Certificate", "Sertifikat"},
    {status_expired, "EXPIRED on {} — ask an administrator to reissue it (serambi principal reissue)",
     "KEDALUWARSA sejak {} — minta administrator menerbitkan ulang (serambi principal reissue)"},
    {status_valid_until, "valid until {} ({} days left)", "berlaku sampai {} ({} hari lagi)"},
    {status_renew, " — renew it: serambi renew", " — perbarui: serambi renew"},
    {status_requests, "Requests", "Permintaan"},
    {status_requests_open, "{} waiting for a decision", "{} menunggu keputusan"},
    {column_index, "INDEX", "INDEKS"},
    {column_time, "TIME", "WAKTU"},
    {column_principal, "PRINCIPAL", "PRINCIPAL"},
    {column_action, "ACTION", "AKSI"},
    {column_decision, "DECISION", "KEPUTUSAN"},
    {column_class, "CLASS", "KLASIFIKASI"},
    {column_object, "OBJECT", "OBJEK"},
    {column_package, "PACKAGE", "PAKET"},
    {column_dataset, "DATASET", "DATASET"},
    {column_file, "FILE", "BERKAS"},
    {column_size, "SIZE", "UKURAN"},
    {column_access, "ACCESS", "AKSES"},
    {column_producer, "PRODUCER", "PRODUSEN"},
    {column_id, "ID", "ID"},
    {column_title, "TITLE", "JUDUL"},
    {column_partner, "PARTNER", "MITRA"},
    {column_custodian, "CUSTODIAN", "WALIDATA"},
    {column_state, "STATE", "STATUS"},
    {column_valid_until, "VALID UNTIL", "BERLAKU S.D."},
    {column_datasets, "DATASETS", "DATASET"},
    {column_purpose, "PURPOSE", "TUJUAN"},
    {column_expires, "EXPIRES", "BERAKHIR"},
    {column_name, "NAME", "NAMA"},
    {column_roles, "ROLES", "PERAN"},
    {column_certificate_end, "CERTIFICATE ENDS", "SERTIFIKAT BERAKHIR"},
    {column_removed, "REMOVED", "DIHAPUS"},
    {access_released, "pull", "unduh"},
    {access_request, "request", "minta rilis"},
    {object_package, "package {}", "paket {}"},
    {ls_shown_of, "{} of {} packages shown, newest first; --all for every one, or narrow with --since, --name",
     "{} dari {} paket ditampilkan, terbaru dahulu; --all untuk semuanya, atau saring dengan --since, --name"},
    {ls_none, "No packages match.", "Tidak ada paket yang cocok."},
    {list_empty, "Nothing to list.", "Tidak ada yang dapat ditampilkan."},
    {list_more, "{} of {} shown, the oldest; serambi ls --dataset shows the newest first",
     "{} dari {} ditampilkan, yang terlama; serambi ls --dataset menampilkan yang terbaru lebih dahulu"},
    {app_description, "Serambi: secure exchange of official data packages (persandian gateway)",
     "Serambi: pertukaran paket data resmi yang aman (gateway persandian)"},
    {column_downloads, "DOWNLOADS", "UNDUHAN"},
    {column_valid_from, "VALID FROM", "BERLAKU DARI"},
    {column_reason, "REASON", "ALASAN"},
    {dataset_created, "Dataset created: {} ({}), \"{}\", owned by {}", "Dataset dibuat: {} ({}), \"{}\", milik {}"},
    {agreement_added, "Agreement {}: {} may read {} up to {}, from {} until {}",
     "Perjanjian {}: {} boleh membaca {} sampai klasifikasi {}, dari {} hingga {}"},
    {agreement_revoked, "Agreement {} revoked: the partner's access stops at once",
     "Perjanjian {} dicabut: akses mitra langsung terhenti"},
    {approved, "Approval {}: package {} for {}, until {}", "Persetujuan {}: paket {} kepada {}, hingga {}"},
    {approved_downloads, ", at most {} downloads", ", paling banyak {} unduhan"},
    {approval_withdrawn, "Approval {} withdrawn: the next download is refused",
     "Persetujuan {} ditarik: unduhan berikutnya akan ditolak"},
    {requested, "Release request {} sent: package {} ({}); the walidata see it among their requests",
     "Permintaan rilis {} terkirim: paket {} ({}); walidata akan melihatnya di daftar permintaan"},
    {request_refused, "Request {} refused: {}", "Permintaan {} ditolak: {}"},
    {whoami_line, "{} ({}): {}, certificate {}", "{} ({}): {}, sertifikat {}"},
    {push_count, "{} of {} files sent", "{} dari {} berkas terkirim"},
    {push_not_sent, "; not sent: {}", "; tidak terkirim: {}"},
    {help_topics, "Topics (serambi help TOPIC):", "Topik (serambi help TOPIK):"},
    {help_commands, "Commands (serambi help COMMAND, or serambi COMMAND --help):",
     "Perintah (serambi help PERINTAH, atau serambi PERINTAH --help):"},
    {help_more, "The manual pages (man serambi) and docs/ have the whole guide.",
     "Panduan lengkap ada di halaman manual (man serambi) dan docs/."},
    {help_unknown, "no help topic or command named '{}'", "tidak ada topik bantuan atau perintah bernama '{}'"},
    {help_also_command, "The command of that name: serambi {} --help", "Perintah dengan nama itu: serambi {} --help"},
    {hook_added, "Webhook {} registered: {} is told of {}", "Webhook {} terdaftar: {} diberi tahu tentang {}"},
    {hook_secret, "Signing secret, shown only now (keep it with the receiver): {}",
     "Rahasia penanda tangan, hanya ditampilkan sekarang (simpan di penerima): {}"},
    {hook_removed, "Webhook {} removed: nothing more is sent to it",
     "Webhook {} dihapus: tidak ada lagi yang dikirim ke sana"},
    {hook_confirm_sent,
     "Nothing is sent until the address is confirmed: a code is on its way to {}. Then: serambi hook confirm {} CODE",
     "Belum ada yang dikirim sebelum alamat dikonfirmasi: kode sedang dikirim ke {}. Lalu: serambi hook confirm {} "
     "KODE"},
    {hook_confirmed, "Webhook {} confirmed: {} is told from now on",
     "Webhook {} dikonfirmasi: {} diberi tahu mulai sekarang"},
    {column_events, "EVENTS", "PERISTIWA"},
    {column_url, "URL", "ALAMAT"},
    {column_owner, "OWNER", "PEMILIK"},
    {column_event, "EVENT", "PERISTIWA"},
    {column_recipient, "FOR", "UNTUK"},
    {column_attempts, "ATTEMPTS", "PERCOBAAN"},
    {column_last_answer, "LAST ANSWER", "JAWABAN TERAKHIR"},
    {column_created, "CREATED", "DIBUAT"},
}};

constexpr HelpTopic kTopics[] = {
    {"classification", "klasifikasi", "the four classifications and who may read each",
     "empat klasifikasi dan siapa yang boleh membaca masing-masing",
     R"(Every dataset and package has a classification. Under the default policy:
  biasa           every registered organisation may read it
  terbatas        the dataset's owner, the walidata (custodians), and a partner whose
                  MOU agreement is in force and covers the dataset
  rahasia         the same; a partner also needs a release of that package from one
                  custodian (serambi request, then serambi approve), and receives it
                  encrypted to its age recipient
  sangat-rahasia  the dataset's owner and the readers named at the push, each with
                  releases from two different custodians
A push may classify a package above its dataset (--class), never below. What you may not
read is left out of every list and answers 404, as if it did not exist.)",
     R"(Setiap dataset dan paket memiliki klasifikasi. Menurut kebijakan bawaan:
  biasa           semua organisasi terdaftar boleh membacanya
  terbatas        pemilik dataset, walidata, dan mitra yang perjanjian MOU-nya berlaku
                  dan mencakup dataset itu
  rahasia         sama; mitra juga memerlukan rilis paket itu dari satu walidata
                  (serambi request, lalu serambi approve), dan menerimanya terenkripsi
                  untuk penerima age-nya
  sangat-rahasia  pemilik dataset dan pembaca yang disebut saat push, masing-masing
                  dengan rilis dari dua walidata yang berbeda
Push boleh mengklasifikasikan paket di atas datasetnya (--class), tidak pernah di bawahnya.
Yang tidak boleh Anda baca tidak muncul di daftar mana pun dan dijawab 404, seolah tidak ada.)"},
    {"roles", "peran", "producers, partners, custodians, auditors and admins",
     "produsen, mitra, walidata, auditor dan admin",
     R"(A principal is an organisation with a certificate; its roles say what it may do:
  producer   (produsen data) pushes packages to the datasets it owns: serambi push
  partner    (mitra MOU) pulls what its agreements allow: serambi ls, serambi pull,
             serambi request for a rahasia package
  custodian  (walidata) manages datasets and agreements, answers release requests:
             serambi agreement, serambi approve, serambi requests
  auditor    reads the access log and proves it complete: serambi audit
  admin      registers principals and runs the gateway; reads nothing above biasa
serambi status shows your own roles.)",
     R"(Principal adalah organisasi dengan sertifikat; perannya menentukan apa yang boleh dilakukan:
  producer   (produsen data) mengirim paket ke dataset miliknya: serambi push
  partner    (mitra MOU) mengambil yang diizinkan perjanjiannya: serambi ls, serambi pull,
             serambi request untuk paket rahasia
  custodian  (walidata) mengelola dataset dan perjanjian, menjawab permintaan rilis:
             serambi agreement, serambi approve, serambi requests
  auditor    membaca log akses dan membuktikan kelengkapannya: serambi audit
  admin      mendaftarkan principal dan menjalankan gateway; tidak membaca di atas biasa
serambi status menampilkan peran Anda.)"},
    {"profile", "profil", "your profile directory, SERAMBI_PROFILE and the language",
     "direktori profil Anda, SERAMBI_PROFILE dan bahasa",
     R"(A profile is the directory the operator gave you: profile.toml, client.crt, ca.crt and
the SECRET client.key (and age.key). Keep the secret files mode 0600; never e-mail them.
Every client command takes --profile DIR; without it, $SERAMBI_PROFILE names the directory.
  serambi status                   the profile, the gateway, the certificate's end date
  serambi renew                    a new key and certificate before the old one ends
  serambi profile language id      messages in Bahasa Indonesia (en: English; auto: from
                                   the locale, Indonesian when LANG is id_*)
  serambi profile export-p12 --out FILE   the profile for a browser (the web portal))",
     R"(Profil adalah direktori yang diberikan operator: profile.toml, client.crt, ca.crt dan
client.key yang RAHASIA (serta age.key). Simpan berkas rahasia dengan mode 0600; jangan pernah
mengirimnya lewat surel. Setiap perintah klien menerima --profile DIR; tanpanya,
$SERAMBI_PROFILE menunjuk direktorinya.
  serambi status                   profil, gateway, tanggal akhir sertifikat
  serambi renew                    kunci dan sertifikat baru sebelum yang lama berakhir
  serambi profile language id      pesan dalam Bahasa Indonesia (en: Inggris; auto: dari
                                   locale, Indonesia bila LANG adalah id_*)
  serambi profile export-p12 --out BERKAS   profil untuk peramban (portal web))"},
    {"output", "keluaran", "tables for people, JSON for scripts, exit status",
     "tabel untuk orang, JSON untuk skrip, status keluar",
     R"(On a terminal, commands print short summaries and tables with local times and sizes such
as 1.2 MiB. Piped, or with --json, they print the machine form instead: JSON, one object per
line for ls and the audit search (JSON Lines), the API's own JSON for other lists, with sizes in bytes and times in RFC 3339 UTC. Those field names
never change with the language. audit search also has --csv for spreadsheets.
Exit status: 0 success, 1 a failure (the message on stderr says what and what to do), 2 a
command line that does not parse. serambi push with several files exits 1 if any was not sent.)",
     R"(Di terminal, perintah mencetak ringkasan singkat dan tabel dengan waktu setempat dan ukuran
seperti 1,2 MiB. Bila disalurkan (pipe), atau dengan --json, yang dicetak adalah bentuk mesin:
JSON, satu objek per baris untuk ls dan audit search (JSON Lines), JSON API apa adanya untuk daftar lain, ukuran dalam byte dan waktu dalam RFC 3339
UTC. Nama field JSON-nya tidak pernah berubah menurut bahasa. audit search juga punya --csv untuk
spreadsheet. Status keluar: 0 berhasil, 1 gagal (pesan di stderr menjelaskan apa dan apa yang
harus dilakukan), 2 baris perintah yang tidak dapat diurai. serambi push dengan beberapa berkas
keluar dengan 1 bila ada yang tidak terkirim.)"},
    {"refused", "ditolak", "what the gateway's refusals mean and what to do",
     "arti penolakan gateway dan apa yang harus dilakukan",
     R"(The gateway refuses with a status and a request id: give the id to the operator.
  400  something in the request is malformed; the message says what
  401  your certificate is not the one registered for you; ask the operator
  403  you may see the dataset but not push to it, or not create datasets
  404  it does not exist, or you may not know that it exists; ask the walidata
  409  the id is taken, or the rules refuse an approval
  413  the payload is over the gateway's limit
  503  storage or the access log is unavailable: nothing is served; try again later
  507  the gateway's disk is nearly full; nothing was stored
A TLS handshake failure means your certificate was refused (expired or revoked: see
serambi status) or the gateway's certificate does not match profile.toml.)",
     R"(Gateway menolak dengan sebuah status dan id permintaan: berikan id itu kepada operator.
  400  ada yang salah bentuk dalam permintaan; pesannya menyebutkan apa
  401  sertifikat Anda bukan yang terdaftar untuk Anda; tanyakan operator
  403  Anda boleh melihat dataset tetapi tidak boleh mengirim ke sana, atau membuat dataset
  404  tidak ada, atau Anda tidak boleh tahu bahwa itu ada; tanyakan walidata
  409  id sudah dipakai, atau aturan menolak persetujuan
  413  muatan melebihi batas gateway
  503  penyimpanan atau log akses tidak tersedia: tidak ada yang dilayani; coba lagi nanti
  507  disk gateway hampir penuh; tidak ada yang disimpan
Kegagalan jabat tangan TLS berarti sertifikat Anda ditolak (kedaluwarsa atau dicabut: lihat
serambi status) atau sertifikat gateway tidak cocok dengan profile.toml.)"},
    {"verify", "verifikasi", "checking a package offline, without the gateway",
     "memeriksa paket secara luring, tanpa gateway",
     R"(serambi pull checks the payload's SHA-256 against the manifest the gateway signed, and keeps
FILE.manifest.json, its signature FILE.manifest.p7s and a proof FILE.tlog-proof beside it.
Anyone holding them checks the package later, offline, with the gateway's CA:
  serambi verify FILE --manifest FILE.manifest.json --signature FILE.manifest.p7s --ca ca.crt
and with the log's verifier key (from the operator) that the request is in the signed log:
  serambi verify FILE.tlog-proof --log-key log.vkey
The signature is CMS, so openssl cms -verify checks it too.)",
     R"(serambi pull memeriksa SHA-256 muatan terhadap manifest yang ditandatangani gateway, dan
menyimpan BERKAS.manifest.json, tanda tangannya BERKAS.manifest.p7s dan bukti BERKAS.tlog-proof
di sampingnya. Siapa pun yang memegangnya dapat memeriksa paket itu kemudian, secara luring,
dengan CA gateway:
  serambi verify BERKAS --manifest BERKAS.manifest.json --signature BERKAS.manifest.p7s --ca ca.crt
dan dengan kunci verifikasi log (dari operator) bahwa permintaan itu ada di log yang ditandatangani:
  serambi verify BERKAS.tlog-proof --log-key log.vkey
Tanda tangannya berformat CMS, sehingga openssl cms -verify juga dapat memeriksanya.)"},
};

constexpr CommandSummary kCommands[] = {
    {"init", "membuat deployment baru: kunci, CA, basis data, kebijakan, profil admin"},
    {"serve", "menjalankan gateway"},
    {"fsck", "memeriksa kecocokan basis data, blob, log akses dan berkas state"},
    {"backup",
     "menyalin basis data, blob, konfigurasi dan sertifikat gateway yang berjalan, dengan manifes bertanda tangan"},
    {"keys", "kunci-kunci milik deployment (di host gateway)"},
    {"restore", "memeriksa cadangan terhadap manifesnya dan memulihkannya ke direktori baru"},
    {"principal", "mengelola prinsipal — untuk admin"},
    {"cert", "sertifikat yang diterbitkan CA gateway — untuk admin"},
    {"pki", "otoritas sertifikat (CA) gateway"},
    {"renew", "memperbarui sertifikat profil Anda sebelum berakhir; yang lama dicabut"},
    {"enroll", "di mesin unit: membuat kunci, identitas age dan permintaan sertifikat"},
    {"dataset", "mengelola dataset"},
    {"ls", "daftar paket yang boleh Anda unduh atau minta rilisnya, lintas dataset, terbaru dahulu"},
    {"profile", "profil Anda: kunci, sertifikat dan bahasa yang dipakai CLI"},
    {"status", "profil, tanggal akhir sertifikat, gateway, dan permintaan rilis yang menunggu"},
    {"whoami", "menampilkan prinsipal sebuah profil"},
    {"push", "mengunggah berkas, masing-masing satu paket"},
    {"pull", "mengunduh paket dan memeriksa digest serta manifes bertanda tangannya"},
    {"verify", "memeriksa berkas secara luring terhadap manifes bertanda tangan, atau bukti .tlog-proof"},
    {"policy", "kebijakan klasifikasi"},
    {"agreement", "perjanjian kerja sama (MOU) dengan mitra — untuk walidata"},
    {"approve", "menyetujui rilis paket rahasia atau sangat-rahasia kepada mitra — untuk walidata"},
    {"request", "meminta walidata merilis paket yang dicakup perjanjian Anda — untuk mitra"},
    {"requests", "permintaan rilis (dijawab walidata)"},
    {"approvals", "persetujuan rilis"},
    {"hook", "pemberitahuan ke alamat HTTPS atau surel Anda saat paket, permintaan atau persetujuan tiba"},
    {"age", "format berkas age (X25519), seperti dibaca dan ditulis alat age"},
    {"recipient", "penerima age untuk enkripsi paket sangat-rahasia"},
    {"audit", "log akses: checkpoint, ekspor, bukti, pencarian — untuk auditor"},
    {"proof", "mengambil bukti tlog-proof C2SP dari permintaan Anda sendiri di log akses"},
    {"witness", "menjalankan saksi (witness) yang ikut menandatangani checkpoint log akses"},
    {"help", "topik (klasifikasi, peran, …) dan bantuan setiap perintah"},
    {"completion", "mencetak skrip pelengkapan shell: serambi completion bash > BERKAS"},
    {"man", "menulis halaman manual (serambi.1, serambi-push.1, …) ke sebuah direktori"},
};

std::optional<Language> g_profile_language;

}  // namespace

std::span<const Message> catalogue() { return kCatalogue; }

std::span<const HelpTopic> help_topics() { return kTopics; }

std::span<const CommandSummary> command_summaries() { return kCommands; }

bool is_language_code(std::string_view code) { return code == "id" || code == "en"; }

void use_profile_language(std::string_view code) {
    if (code == "id")
        g_profile_language = Language::indonesian;
    else if (code == "en")
        g_profile_language = Language::english;
    else
        g_profile_language.reset();
}

Language language() {
    if (g_profile_language) return *g_profile_language;
    // As gettext does: the first of these that is set decides, even when it is not Indonesian.
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"})
        if (const char* v = std::getenv(name); v != nullptr && *v != '\0')
            return std::string_view(v).starts_with("id") ? Language::indonesian : Language::english;
    return Language::english;
}

std::string state_for_people(std::string_view state) {
    // Every state docs/openapi.yaml lists for agreements, approvals and release requests.
    static constexpr std::pair<std::string_view, std::string_view> kStates[] = {
        {"in force", "berlaku"},       {"not yet in force", "belum berlaku"},
        {"expired", "berakhir"},       {"revoked", "dicabut"},
        {"standing", "berlaku"},       {"used up", "kuota habis"},
        {"withdrawn", "ditarik"},      {"open", "menunggu"},
        {"released", "dirilis"},       {"refused", "ditolak"},
        {"pending", "menunggu kirim"}, {"delivered", "terkirim"},
        {"failed", "gagal"},           {"cancelled", "dibatalkan"}};
    if (language() == Language::indonesian)
        for (const auto& [english, indonesian] : kStates)
            if (state == english) return std::string(indonesian);
    return std::string(state);
}

std::string for_terminal(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
            ++i;
            continue;
        }
        // A UTF-8 sequence: its length from the lead byte, then continuation bytes, the shortest
        // form only, no surrogates, nothing past U+10FFFF.
        const std::size_t length = c >= 0xc2 && c <= 0xdf   ? 2
                                   : c >= 0xe0 && c <= 0xef ? 3
                                   : c >= 0xf0 && c <= 0xf4 ? 4
                                                            : 0;
        bool valid = length != 0 && i + length <= text.size();
        std::uint32_t code = length == 2 ? c & 0x1fu : length == 3 ? c & 0x0fu : c & 0x07u;
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            valid = (next & 0xc0) == 0x80;
            code = (code << 6) | (next & 0x3fu);
        }
        if (valid) {
            const std::uint32_t least = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
            valid = code >= least && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
        }
        if (!valid) {  // not UTF-8: each byte on its own
            out += '?';
            ++i;
            continue;
        }
        // A C1 control (U+0080 to U+009F) is one character: one '?'.
        if (code < 0xa0)
            out += '?';
        else
            out.append(text.substr(i, length));
        i += length;
    }
    return out;
}

std::string say(Msg msg, std::initializer_list<std::string_view> args) {
    const auto& entry = kCatalogue[static_cast<std::size_t>(msg)];
    const std::string_view text = language() == Language::indonesian ? entry.indonesian : entry.english;
    std::string out;
    out.reserve(text.size() + 32);
    auto next = args.begin();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '}') {
            if (next != args.end()) out += *next++;
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string size_for_people(double n) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) {
        n /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", n, units[u]);
    std::string text = buf;
    if (language() == Language::indonesian)
        for (auto& c : text)
            if (c == '.') c = ',';
    return text;
}

}  // namespace serambi::cli

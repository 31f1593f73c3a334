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

// Every description of the command-line definition, by what cli/main.cpp says (the msgid), and
// what --help says instead in Indonesian. Commands say what they do ("mengunggah berkas"), options
// what they are; names of options and commands, placeholders (FILE, OWNER/NAME), values
// (released, allow), examples and technical words (JSON, TLS, age1…) stay as they are.
constexpr Description kDescriptions[] = {
    // CLI11's own, on every command
    {"Print this help message and exit", "menampilkan bantuan ini lalu keluar"},
    {"Display program version information and exit", "menampilkan informasi versi program lalu keluar"},
    // serambi init
    {"create a new deployment: keys, CA, database, policy, admin profile",
     "membuat deployment baru: kunci, CA, basis data, kebijakan, profil admin"},
    {"deployment directory (must not hold a deployment)", "direktori deployment (belum boleh berisi deployment)"},
    {"HOST:PORT the gateway listens on", "HOST:PORT tempat gateway menerima koneksi"},
    {"id of the first admin principal", "id prinsipal admin yang pertama"},
    {"name put in the CA certificate", "nama yang dicantumkan pada sertifikat CA"},
    {"extra DNS name or IP for the gateway certificate", "nama DNS atau IP tambahan untuk sertifikat gateway"},
    {"validity of the generated CA, in days", "masa berlaku CA yang dibuat, dalam hari"},
    {"issue from an intermediate CA and move the root CA's key out (needs --root-key-out)",
     "menerbitkan dari CA perantara dan memindahkan kunci CA akar ke luar (memerlukan --root-key-out)"},
    {"new file, outside DIR, for the root CA's key; take it offline",
     "berkas baru, di luar DIR, untuk kunci CA akar; simpan secara luring"},
    {"adopt an existing CA: PEM file with its certificate, then each one above it up to the root",
     "memakai CA yang sudah ada: berkas PEM berisi sertifikatnya, lalu setiap sertifikat di atasnya hingga CA akar"},
    {"the imported CA's private key (PEM, unprotected)", "kunci privat CA yang diimpor (PEM, tidak terenkripsi)"},
    // serambi serve
    {"run the gateway", "menjalankan gateway"},
    {"path to serambi.toml", "lokasi berkas serambi.toml"},
    {"start although the database is behind what this gateway already published (an older copy was restored); recorded "
     "in the access log",
     "tetap berjalan walaupun basis data tertinggal dari yang sudah diterbitkan gateway ini (salinan yang lebih lama "
     "dipulihkan); dicatat di log akses"},
    // serambi fsck
    {"check the database, the blobs, the access log and the state file against each other",
     "memeriksa kecocokan basis data, blob, log akses dan berkas state satu sama lain"},
    {"also read and authenticate every payload, in blob files and in the database (slow: reads all data)",
     "juga membaca dan mengautentikasi setiap muatan, di berkas blob maupun di basis data (lambat: seluruh data "
     "dibaca)"},
    // serambi backup
    {"copy a running gateway's database, blobs, configuration and certificates into a new directory, with a signed "
     "manifest",
     "menyalin basis data, blob, konfigurasi dan sertifikat gateway yang sedang berjalan ke direktori baru, dengan "
     "manifes bertanda tangan"},
    {"the backup's directory (new, or empty)", "direktori cadangan (baru, atau kosong)"},
    {"also the secret keys (master.key, log.key, pki/*.key), age-encrypted to --to",
     "termasuk kunci rahasia (master.key, log.key, pki/*.key), dienkripsi dengan age untuk --to"},
    {"age recipient (age1…) for the secret keys (repeatable)",
     "penerima age (age1…) untuk kunci rahasia (dapat diulang)"},
    // serambi keys
    {"the deployment's own keys (on the gateway host)", "kunci-kunci milik deployment (di host gateway)"},
    {"with the gateway stopped: a new master key, every package's data key wrapped again and the database re-keyed; "
     "payloads are not re-encrypted, the old key is overwritten",
     "saat gateway berhenti: kunci master baru, kunci data setiap paket dibungkus ulang dan kunci basis data diganti; "
     "muatan tidak dienkripsi ulang, kunci lama ditimpa"},
    {"with the gateway stopped: a new access-log key, handed over in the log by a checkpoint that the old key and the "
     "new one sign; the old key is overwritten",
     "saat gateway berhenti: kunci log akses baru, diserahterimakan di dalam log melalui checkpoint yang "
     "ditandatangani kunci lama dan kunci baru; kunci lama ditimpa"},
    // serambi restore
    {"check a backup against its signed manifest and put it in a new directory; says when it is a rollback",
     "memeriksa cadangan terhadap manifes bertanda tangannya dan memulihkannya ke direktori baru; memberi tahu bila "
     "hasilnya rollback"},
    {"the backup's directory", "direktori cadangan"},
    {"the new deployment directory (must not exist, or be empty)",
     "direktori deployment baru (belum ada, atau kosong)"},
    {"only check the backup; write nothing", "hanya memeriksa cadangan; tidak menulis apa pun"},
    {"CA certificate to check the manifest's signature with (default: the backup's own)",
     "sertifikat CA untuk memeriksa tanda tangan manifes (bawaan: milik cadangan itu sendiri)"},
    {"age identity file for the backup's encrypted secret keys (repeatable)",
     "berkas identitas age untuk kunci rahasia terenkripsi di dalam cadangan (dapat diulang)"},
    {"the old deployment's gateway.state, if it survived: a newer checkpoint in it is a rollback",
     "gateway.state milik deployment lama, bila masih ada: checkpoint yang lebih baru di dalamnya berarti rollback"},
    {"a checkpoint an auditor kept (repeatable): a newer one is a rollback",
     "checkpoint yang disimpan auditor (dapat diulang): yang lebih baru berarti rollback"},
    // serambi principal
    {"manage principals (admin)", "mengelola prinsipal (untuk admin)"},
    {"register a principal and write its profile", "mendaftarkan prinsipal dan menulis profilnya"},
    {"principal id, e.g. dinkes-malut", "id prinsipal, mis. dinkes-malut"},
    {"producer, custodian, partner, auditor or admin (repeatable)",
     "producer, custodian, partner, auditor atau admin (dapat diulang)"},
    {"display name", "nama tampilan"},
    {"directory for the new principal's profile", "direktori untuk profil prinsipal baru"},
    {"the unit's own age1… (otherwise an age.key is made into the profile)",
     "age1… milik unit sendiri (tanpa ini, sebuah age.key dibuat di dalam profil)"},
    {"the unit's certificate request from `serambi enroll`: no key is made or written",
     "permintaan sertifikat unit dari `serambi enroll`: tidak ada kunci yang dibuat atau ditulis"},
    {"client profile directory (default: $SERAMBI_PROFILE)", "direktori profil klien (bawaan: $SERAMBI_PROFILE)"},
    {"revoke a principal's certificate: refused from the next handshake",
     "mencabut sertifikat prinsipal: ditolak mulai jabat tangan berikutnya"},
    {"principal id", "id prinsipal"},
    {"RFC 5280 reason: keyCompromise, affiliationChanged, superseded, cessationOfOperation, …",
     "alasan menurut RFC 5280: keyCompromise, affiliationChanged, superseded, cessationOfOperation, …"},
    {"give a principal a new certificate for its new key (a lost or stolen one): same id, datasets, agreements and "
     "history; the certificate it had is revoked",
     "memberi prinsipal sertifikat baru untuk kunci barunya (bila kunci lama hilang atau dicuri): id, dataset, "
     "perjanjian dan riwayatnya tetap; sertifikat lamanya dicabut"},
    {"the unit's new certificate request (`serambi enroll --id ID`)",
     "permintaan sertifikat baru dari unit (`serambi enroll --id ID`)"},
    {"where to write the profile to hand back (no key)", "tempat menulis profil yang diserahkan kembali (tanpa kunci)"},
    {"remove a principal for good: its certificate is revoked, its id kept in the log and never reused",
     "menghapus prinsipal untuk selamanya: sertifikatnya dicabut, id-nya tetap tercatat di log dan tidak pernah "
     "dipakai lagi"},
    {"RFC 5280 reason for the revocation", "alasan pencabutan menurut RFC 5280"},
    {"list principals", "menampilkan daftar prinsipal"},
    {"JSON, as the API gives it, even on a terminal", "JSON, sebagaimana diberikan API, juga di terminal"},
    // serambi cert
    {"certificates the gateway CA issued (admin)", "sertifikat yang diterbitkan CA gateway (untuk admin)"},
    {"revoke a certificate by its serial", "mencabut sertifikat berdasarkan nomor serinya"},
    {"serial, uppercase hex (as principal list shows it)",
     "nomor seri, heksadesimal dengan huruf besar (seperti ditampilkan principal list)"},
    {"RFC 5280 reason", "alasan menurut RFC 5280"},
    // serambi pki
    {"the gateway's certificate authority", "otoritas sertifikat (CA) gateway"},
    {"on the gateway host: new TLS and signing certificates from the CA, in place for SIGHUP",
     "di host gateway: sertifikat TLS dan sertifikat penandatanganan baru dari CA, siap dimuat dengan SIGHUP"},
    {"the deployment's serambi.toml", "serambi.toml milik deployment"},
    {"a DNS name or IP to add to the TLS certificate's names (repeatable)",
     "nama DNS atau IP yang ditambahkan ke nama-nama sertifikat TLS (dapat diulang)"},
    {"renew only tls or only signing", "hanya memperbarui tls atau hanya signing"},
    {"fetch the CA's current CRL (DER)", "mengambil CRL terkini dari CA (DER)"},
    {"file to write (default: standard output)", "berkas yang ditulis (bawaan: keluaran standar)"},
    // serambi renew, serambi enroll
    {"get a new certificate for your profile before it expires; the old one is revoked",
     "memperoleh sertifikat baru untuk profil Anda sebelum berakhir; yang lama dicabut"},
    {"with a new key as well (default: the same key)", "sekaligus dengan kunci baru (bawaan: kunci yang sama)"},
    {"on a unit's machine: make its key, age identity and certificate request",
     "di mesin unit: membuat kunci, identitas age dan permintaan sertifikatnya"},
    {"the principal id the admin will register", "id prinsipal yang akan didaftarkan admin"},
    {"directory for the keys and the request (becomes the profile)",
     "direktori untuk kunci dan permintaan (kelak menjadi profil)"},
    // serambi dataset
    {"manage datasets", "mengelola dataset"},
    {"create a dataset (admin or custodian)", "membuat dataset (untuk admin atau walidata)"},
    {"OWNER/NAME", "id dataset: OWNER/NAME"},
    {"owning principal (defaults to OWNER)", "prinsipal pemilik (bawaan: OWNER)"},
    {"biasa, terbatas, rahasia or sangat-rahasia", "biasa, terbatas, rahasia atau sangat-rahasia"},
    {"title", "judul"},
    {"the JSON answer even on a terminal", "jawaban JSON, juga di terminal"},
    {"list the datasets you may read", "menampilkan daftar dataset yang boleh Anda baca"},
    {"list the packages of a dataset", "menampilkan daftar paket sebuah dataset"},
    // serambi ls
    {"list the packages you may pull, or ask to have released, across datasets, newest first (a table on a terminal, "
     "else JSON Lines)",
     "menampilkan daftar paket yang boleh Anda unduh atau minta rilisnya, lintas dataset, terbaru dahulu (tabel di "
     "terminal, selain itu JSON Lines)"},
    {"only this dataset (OWNER/NAME)", "hanya dataset ini (OWNER/NAME)"},
    {"only file names containing this (letters in any case)",
     "hanya nama berkas yang memuat teks ini (huruf besar maupun kecil)"},
    {"only this classification: biasa, terbatas, rahasia, sangat-rahasia",
     "hanya klasifikasi ini: biasa, terbatas, rahasia, sangat-rahasia"},
    {"only packages this principal pushed", "hanya paket yang diunggah prinsipal ini"},
    {"released: those you may pull now; request: those to ask for (serambi request)",
     "released: yang boleh Anda unduh sekarang; request: yang perlu diminta rilisnya (serambi request)"},
    {"from this local date (2026-11-01) or UTC time on", "mulai tanggal lokal (2026-11-01) atau waktu UTC ini"},
    {"before this local date or UTC time", "sebelum tanggal lokal atau waktu UTC ini"},
    {"the newest this many", "sebanyak ini, yang terbaru"},
    {"every package that matches", "semua paket yang cocok"},
    {"JSON Lines (the API's package summaries) even on a terminal",
     "JSON Lines (ringkasan paket dari API), juga di terminal"},
    // serambi profile
    {"your profile: the key and certificate the CLI uses", "profil Anda: kunci dan sertifikat yang dipakai CLI"},
    {"show or set the language of messages: id (Bahasa Indonesia), en (English), auto (the locale)",
     "menampilkan atau mengatur bahasa pesan: id (Bahasa Indonesia), en (Inggris), auto (mengikuti locale)"},
    {"id, en or auto", "id, en atau auto"},
    {"write the profile as a password-protected PKCS#12 file, to import into a browser",
     "menulis profil sebagai berkas PKCS#12 yang dilindungi kata sandi, untuk diimpor ke peramban"},
    {"the .p12 file to write (never over an existing one)",
     "berkas .p12 yang ditulis (tidak pernah menimpa berkas yang sudah ada)"},
    {"read the password from FILE's first line (mode 0600)", "membaca kata sandi dari baris pertama FILE (mode 0600)"},
    {"3DES and SHA-1, for Windows older than 10 (1709)", "3DES dan SHA-1, untuk Windows sebelum 10 (1709)"},
    // serambi status, serambi whoami
    {"your profile, its certificate's end date, the gateway, and release requests waiting",
     "profil Anda, tanggal akhir sertifikatnya, gateway, dan permintaan rilis yang menunggu"},
    {"JSON even on a terminal", "JSON, juga di terminal"},
    {"show the principal of a profile", "menampilkan prinsipal sebuah profil"},
    // serambi push
    {"upload files, each a package; prints a summary on a terminal, else the receipts (JSON Lines)",
     "mengunggah berkas, masing-masing satu paket; mencetak ringkasan di terminal, selain itu tanda terimanya (JSON "
     "Lines)"},
    {"files to upload, one package each", "berkas yang diunggah, masing-masing satu paket"},
    {"print each receipt as JSON (one line each), even on a terminal",
     "mencetak setiap tanda terima sebagai JSON (satu baris per tanda terima), juga di terminal"},
    {"classify above the dataset's level", "mengklasifikasikan di atas tingkat dataset"},
    {"media type (guessed from the extension otherwise)", "jenis media (tanpa ini, ditebak dari ekstensi)"},
    {"sangat-rahasia: the principals who may read it (comma-separated); the file is age-encrypted here to them and to "
     "you",
     "sangat-rahasia: prinsipal yang boleh membacanya (dipisahkan koma); berkas dienkripsi dengan age di sini untuk "
     "mereka dan untuk Anda"},
    {"--to: accept recipients that changed since this profile pinned them",
     "--to: tetap memakai penerima yang berubah sejak disematkan (pin) di profil ini"},
    {"no progress display", "tanpa tampilan kemajuan"},
    {"send as a resumable upload whatever the size (the default from 8 MiB): a cut link resumes, and so does running "
     "the same command again",
     "mengirim sebagai unggahan yang dapat dilanjutkan, berapa pun ukurannya (bawaan mulai 8 MiB): sambungan yang "
     "putus dilanjutkan, begitu pula bila perintah yang sama dijalankan lagi"},
    {"send even if the dataset's newest package is the same file",
     "tetap mengirim walaupun paket terbaru dataset itu berkas yang sama"},
    {"where to keep the push's access-log proof (default: FILE.INDEX.tlog-proof, beside the file)",
     "tempat menyimpan bukti log akses dari push ini (bawaan: FILE.INDEX.tlog-proof, di samping berkasnya)"},
    {"do not fetch the push's access-log proof", "tidak mengambil bukti log akses dari push ini"},
    // serambi pull
    {"download a package and verify its digest and signed manifest",
     "mengunduh paket dan memeriksa digest serta manifes bertanda tangannya"},
    {"package id", "id paket"},
    {"where to write the payload (default: the package's filename, in the current folder)",
     "tempat menulis muatan (bawaan: nama berkas paket, di folder saat ini)"},
    {"without -o: replace a file of the package's name", "tanpa -o: menimpa berkas yang bernama sama dengan paket"},
    {"do not keep FILE.manifest.json and FILE.manifest.p7s",
     "tidak menyimpan FILE.manifest.json dan FILE.manifest.p7s"},
    {"do not keep FILE.tlog-proof, the pull's access-log proof",
     "tidak menyimpan FILE.tlog-proof, bukti log akses dari pull ini"},
    {"an age package (sangat-rahasia): also decrypt it to this file with the profile's age.key",
     "paket age (sangat-rahasia): juga mendekripsinya ke berkas ini dengan age.key milik profil"},
    // serambi verify
    {"verify a pulled file offline against its signed manifest, or a .tlog-proof file against the log's key",
     "memverifikasi secara luring berkas yang diunduh terhadap manifes bertanda tangannya, atau berkas .tlog-proof "
     "terhadap kunci log"},
    {"the payload, or a .tlog-proof file (then only --log-key is needed)",
     "muatan, atau berkas .tlog-proof (maka hanya --log-key yang diperlukan)"},
    {"manifest JSON (for a payload)", "manifes JSON (untuk muatan)"},
    {"detached DER CMS signature (.p7s) (for a payload)",
     "tanda tangan CMS terpisah berformat DER (.p7s) (untuk muatan)"},
    {"the gateway CA certificate (for a payload)", "sertifikat CA gateway (untuk muatan)"},
    {"the access log's verifier key: also check that the push is logged",
     "kunci verifikasi log akses: juga memeriksa bahwa push itu tercatat di log"},
    {"a signed log checkpoint the push must be in", "checkpoint log bertanda tangan yang harus memuat push itu"},
    {"an auditor's export matching the checkpoint", "ekspor auditor yang cocok dengan checkpoint"},
    {"a proof of the push: the .tlog-proof push kept, or a file from `audit proof inclusion -o`",
     "bukti push: .tlog-proof yang disimpan push, atau berkas dari `audit proof inclusion -o`"},
    {"the receipt's audit_index: the push must be that entry", "audit_index pada tanda terima: push harus entri itu"},
    {"a witness's verifier key (a file or the key itself) whose cosignature the checkpoint must carry; repeatable",
     "kunci verifikasi saksi (berkas atau kunci itu sendiri) yang tanda tangan bersamanya harus ada pada checkpoint; "
     "dapat diulang"},
    {"how many of the --witness keys must have cosigned (default: all)",
     "berapa kunci --witness yang harus sudah ikut menandatangani (bawaan: semua)"},
    // serambi policy
    {"the classification policy", "kebijakan klasifikasi"},
    {"validate a policy file before the gateway uses it (offline)",
     "memvalidasi berkas kebijakan sebelum dipakai gateway (luring)"},
    {"policy TOML", "berkas kebijakan TOML"},
    {"what the policy decides for a principal, and why (custodian)",
     "menjelaskan keputusan kebijakan bagi sebuah prinsipal beserta alasannya (untuk walidata)"},
    {"pull or push", "pull atau push"},
    // serambi agreement
    {"MOU agreements with partners (custodian)", "perjanjian kerja sama (MOU) dengan mitra (untuk walidata)"},
    {"register an agreement; says its id (the JSON answer when piped or with --json)",
     "mendaftarkan perjanjian; menyebutkan id-nya (jawaban JSON bila disalurkan atau dengan --json)"},
    {"the partner's principal id", "id prinsipal mitra"},
    {"PATTERN[,PATTERN…]: OWNER/NAME, OWNER/* or *", "PATTERN[,PATTERN…]: OWNER/NAME, OWNER/* atau *"},
    {"highest classification covered", "klasifikasi tertinggi yang dicakup"},
    {"what the partner uses the data for", "tujuan mitra menggunakan data"},
    {"YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)", "YYYY-MM-DD atau YYYY-MM-DDTHH:MM:SSZ (UTC)"},
    {"YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), exclusive",
     "YYYY-MM-DD atau YYYY-MM-DDTHH:MM:SSZ (UTC), batas itu sendiri tidak termasuk"},
    {"the signed MOU (its name and SHA-256 are recorded)",
     "MOU yang sudah ditandatangani (nama dan SHA-256-nya dicatat)"},
    {"list agreements (a partner sees its own)", "menampilkan daftar perjanjian (mitra melihat miliknya sendiri)"},
    {"show one agreement", "menampilkan satu perjanjian"},
    {"agreement id (mou-…)", "id perjanjian (mou-…)"},
    {"revoke an agreement: access stops at the next request",
     "mencabut perjanjian: akses terhenti mulai permintaan berikutnya"},
    {"why, for the record", "alasannya, untuk dicatat"},
    // serambi approve, serambi request, serambi requests, serambi approvals
    {"release a rahasia or sangat-rahasia package to a partner (custodian)",
     "menyetujui rilis paket rahasia atau sangat-rahasia kepada mitra (untuk walidata)"},
    {"the partner (or named recipient) it is released to",
     "mitra (atau penerima yang disebut) yang menerima rilis ini"},
    {"YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: the policy's approval_days)",
     "YYYY-MM-DD atau YYYY-MM-DDTHH:MM:SSZ (bawaan: approval_days dari kebijakan)"},
    {"how many downloads it allows (default: no cap)", "jumlah unduhan yang diizinkan (bawaan: tanpa batas)"},
    {"ask custodians to release a package your agreement covers (partner)",
     "meminta walidata merilis paket yang dicakup perjanjian Anda (untuk mitra)"},
    {"what the data is for; custodians decide on it", "untuk apa data itu; walidata memutuskan berdasarkan tujuan ini"},
    {"release requests (custodians answer them)", "permintaan rilis (dijawab walidata)"},
    {"list release requests (a partner sees its own)",
     "menampilkan daftar permintaan rilis (mitra melihat miliknya sendiri)"},
    {"open, released or refused (default: all)", "open, released atau refused (bawaan: semua)"},
    {"refuse a release request, saying why (custodian)", "menolak permintaan rilis, dengan alasannya (untuk walidata)"},
    {"request id (req-…)", "id permintaan (req-…)"},
    {"why; the partner and the auditors read it", "alasannya; mitra dan auditor membacanya"},
    {"release approvals", "persetujuan rilis"},
    {"list approvals (a partner sees its own)", "menampilkan daftar persetujuan (mitra melihat miliknya sendiri)"},
    {"only this package's", "hanya untuk paket ini"},
    {"only those for this partner", "hanya yang untuk mitra ini"},
    {"withdraw an approval: downloads stop at the next request",
     "menarik persetujuan: unduhan terhenti mulai permintaan berikutnya"},
    {"approval id (apv-…)", "id persetujuan (apv-…)"},
    // serambi hook
    {"notices: your HTTPS receiver or email is told when packages, requests or approvals arrive",
     "pemberitahuan ke penerima HTTPS atau alamat surel Anda saat paket, permintaan atau persetujuan tiba"},
    {"register an HTTPS receiver (its signing secret is shown once) or an email address",
     "mendaftarkan penerima HTTPS (rahasia penanda tangannya ditampilkan sekali) atau alamat surel"},
    {"https://HOST[:PORT]/PATH of the receiver, or mailto:ADDRESS",
     "https://HOST[:PORT]/PATH milik penerima, atau mailto:ADDRESS"},
    {"an event to be told of (repeatable)", "peristiwa yang ingin diberitahukan (dapat diulang)"},
    {"every principal's events, not only yours (admin)",
     "peristiwa semua prinsipal, bukan hanya milik Anda (untuk admin)"},
    {"list your webhooks (an admin sees everyone's)", "menampilkan daftar webhook Anda (admin melihat milik semua)"},
    {"remove a webhook: nothing more is sent to it", "menghapus webhook: tidak ada lagi yang dikirim ke sana"},
    {"webhook id (hook-…)", "id webhook (hook-…)"},
    {"confirm an email hook's address with the code mailed to it",
     "mengonfirmasi alamat webhook surel dengan kode yang dikirim ke alamat itu"},
    {"the code from the email, such as 7QKM-3XWD; left out, it is read from standard input, out of the shell's "
     "history",
     "kode dari surel, misalnya 7QKM-3XWD; bila tidak diberikan, kode dibaca dari masukan standar, sehingga tidak "
     "tercatat di riwayat shell"},
    {"a webhook's deliveries, newest first, with each one's attempts",
     "pengiriman sebuah webhook, terbaru dahulu, beserta percobaan masing-masing"},
    {"at most this many (1 to 500; default 50)", "paling banyak sejumlah ini (1 sampai 500; bawaan 50)"},
    // serambi age, serambi recipient
    {"the age file format (X25519), as the age tool reads and writes it",
     "format berkas age (X25519), seperti dibaca dan ditulis alat age"},
    {"make an identity (AGE-SECRET-KEY-1…); its recipient goes to stderr",
     "membuat identitas (AGE-SECRET-KEY-1…); penerimanya dicetak ke stderr"},
    {"identity file to create (0600; never overwritten)", "berkas identitas yang dibuat (0600; tidak pernah ditimpa)"},
    {"print the recipient (age1…) of identity files", "mencetak penerima (age1…) dari berkas identitas"},
    {"identity file (repeatable)", "berkas identitas (dapat diulang)"},
    {"encrypt a file to recipients", "mengenkripsi berkas untuk para penerima"},
    {"age1… (repeatable)", "age1… (dapat diulang)"},
    {"the encrypted file (default: standard output)", "berkas hasil enkripsi (bawaan: keluaran standar)"},
    {"the file to encrypt (default: standard input)", "berkas yang dienkripsi (bawaan: masukan standar)"},
    {"decrypt a file with identity files", "mendekripsi berkas dengan berkas identitas"},
    {"the decrypted file, put in place only once all of it authenticated (default: standard output)",
     "berkas hasil dekripsi, baru dipasang setelah seluruh isinya terautentikasi (bawaan: keluaran standar)"},
    {"the file to decrypt (default: standard input)", "berkas yang didekripsi (bawaan: masukan standar)"},
    {"age recipients that sangat-rahasia packages are encrypted to",
     "penerima age untuk enkripsi paket sangat-rahasia"},
    {"print a principal's age recipient", "mencetak penerima age milik sebuah prinsipal"},
    {"principal id (default: your own)", "id prinsipal (bawaan: milik Anda sendiri)"},
    {"replace your own age recipient (only you can)",
     "mengganti penerima age milik Anda sendiri (hanya Anda yang dapat)"},
    {"the new age1…", "age1… yang baru"},
    // serambi audit
    {"the access log: checkpoints, exports, proofs (auditor)", "log akses: checkpoint, ekspor, bukti (untuk auditor)"},
    {"print the log's verifier key (keep a copy obtained out of band)",
     "mencetak kunci verifikasi log (simpan salinan yang diperoleh melalui jalur lain)"},
    {"what a package the log names is: dataset, file name, size, classification (never its content)",
     "keterangan paket yang disebut log: dataset, nama berkas, ukuran, klasifikasi (tidak pernah isinya)"},
    {"the package id (32 hex digits)", "id paket (32 digit heksadesimal)"},
    {"print the latest signed checkpoint", "mencetak checkpoint bertanda tangan yang terbaru"},
    {"a witness's verifier key (a file or the key itself): print the newest checkpoint it cosigned; repeatable",
     "kunci verifikasi saksi (berkas atau kunci itu sendiri): mencetak checkpoint terbaru yang ikut ditandatanganinya; "
     "dapat diulang"},
    {"how many of the --witness keys (default: all)", "berapa dari kunci --witness (bawaan: semua)"},
    {"write every entry up to the current checkpoint, and the checkpoint",
     "menulis setiap entri hingga checkpoint saat ini, beserta checkpoint itu"},
    {"JSON Lines file (the checkpoint goes to FILE.checkpoint)",
     "berkas JSON Lines (checkpoint ditulis ke FILE.checkpoint)"},
    {"write CSV for spreadsheets instead (not verifiable)",
     "menulis CSV untuk spreadsheet sebagai gantinya (tidak dapat diverifikasi)"},
    {"only the entries from this index on (an incremental export: verify it after the exports before it, with audit "
     "verify --export OLD --export NEW)",
     "hanya entri mulai indeks ini (ekspor inkremental: verifikasi sesudah ekspor-ekspor sebelumnya, dengan audit "
     "verify --export OLD --export NEW)"},
    {"check an export against signed checkpoints, offline",
     "memeriksa ekspor terhadap checkpoint bertanda tangan, secara luring"},
    {"JSON Lines export; repeat it for a full export followed by incremental ones (--from), in order",
     "ekspor JSON Lines; ulangi untuk ekspor lengkap yang diikuti ekspor inkremental (--from), secara berurutan"},
    {"the checkpoint the export claims to match", "checkpoint yang diklaim cocok dengan ekspor itu"},
    {"the log's verifier key", "kunci verifikasi log"},
    {"a checkpoint saved earlier: the log must extend it",
     "checkpoint yang disimpan sebelumnya: log harus merupakan kelanjutannya"},
    {"fetch and check a proof against the signed checkpoint",
     "mengambil bukti dan memeriksanya terhadap checkpoint bertanda tangan"},
    {"that entry INDEX is in the current tree", "bahwa entri INDEX ada di pohon saat ini"},
    {"leaf index (receipts carry it as audit_index)", "indeks daun (tanda terima memuatnya sebagai audit_index)"},
    {"save the entry, proof and checkpoint for offline `verify --proof`",
     "menyimpan entri, bukti dan checkpoint untuk `verify --proof` secara luring"},
    {"that the current tree extends a saved checkpoint",
     "bahwa pohon saat ini merupakan kelanjutan checkpoint yang disimpan"},
    {"the saved checkpoint", "checkpoint yang disimpan"},
    {"the entries that match, each with its index (who pulled dataset X, what did partner P receive)",
     "entri yang cocok, masing-masing dengan indeksnya (siapa yang mengunduh dataset X, apa yang diterima mitra P)"},
    {"who made the request", "pembuat permintaan"},
    {"the dataset (OWNER/NAME) it concerns", "dataset (OWNER/NAME) yang bersangkutan"},
    {"the package id it concerns", "id paket yang bersangkutan"},
    {"e.g. package.pull, package.push, approval.add", "mis. package.pull, package.push, approval.add"},
    {"allow, deny or error", "allow, deny atau error"},
    {"the classification of what it concerns", "klasifikasi objek yang bersangkutan"},
    {"from this local date (2026-11-01) or UTC time (2026-11-01T08:00:00Z) on",
     "mulai tanggal lokal (2026-11-01) atau waktu UTC ini (2026-11-01T08:00:00Z)"},
    {"CSV for spreadsheets", "CSV untuk spreadsheet"},
    {"JSON Lines: {\"index\": N, \"entry\": \"the entry as logged\"}",
     "JSON Lines: {\"index\": N, \"entry\": \"entri sebagaimana tercatat\"}"},
    {"print the latest entries", "mencetak entri terbaru"},
    {"how many", "berapa entri"},
    {"keep printing new entries", "terus mencetak entri baru"},
    // serambi proof
    {"fetch the C2SP tlog-proof of one of your own requests in the access log (auditors: any)",
     "mengambil bukti tlog-proof C2SP dari salah satu permintaan Anda sendiri di log akses (auditor: permintaan siapa "
     "pun)"},
    {"the entry's index (a receipt's audit_index)", "indeks entri (audit_index pada tanda terima)"},
    {"the request's id (its Serambi-Request-Id)", "id permintaan (Serambi-Request-Id-nya)"},
    {"against the first checkpoint that this many witnesses cosigned (waits for it)",
     "terhadap checkpoint pertama yang ditandatangani bersama oleh sejumlah saksi ini (menunggu hingga ada)"},
    {"write it here (a .tlog-proof file) instead of to stdout",
     "menulisnya ke sini (berkas .tlog-proof), bukan ke stdout"},
    // serambi witness
    {"run a witness that cosigns a gateway's access-log checkpoints (C2SP tlog-witness)",
     "menjalankan saksi (witness) yang ikut menandatangani checkpoint log akses gateway (C2SP tlog-witness)"},
    {"create a witness: its key, its verifier key and witness.toml",
     "membuat saksi: kuncinya, kunci verifikasinya dan witness.toml"},
    {"the witness's directory", "direktori saksi"},
    {"its key name, e.g. inspektorat.malutprov.go.id/witness (default: HOSTNAME/witness)",
     "nama kuncinya, mis. inspektorat.malutprov.go.id/witness (bawaan: HOSTNAME/witness)"},
    {"HOST:PORT to serve on", "HOST:PORT tempat saksi melayani"},
    {"a file with the verifier key of a log to follow (`serambi audit key`); repeatable",
     "berkas berisi kunci verifikasi log yang diikuti (`serambi audit key`); dapat diulang"},
    {"follow one more log: its verifier key into witness.toml",
     "mengikuti satu log lagi: kunci verifikasinya dimasukkan ke witness.toml"},
    {"the witness.toml", "berkas witness.toml"},
    {"a file with the log's verifier key (`serambi audit key`)",
     "berkas berisi kunci verifikasi log (`serambi audit key`)"},
    {"serve add-checkpoint until SIGINT or SIGTERM", "melayani add-checkpoint hingga SIGINT atau SIGTERM"},
    // serambi help, serambi completion, serambi man
    {"topics (classification, roles, …) and the help of any command",
     "topik (klasifikasi, peran, …) dan bantuan setiap perintah"},
    {"a topic, or a command such as: audit search", "topik, atau perintah seperti: audit search"},
    {"print a shell completion script: serambi completion bash > FILE",
     "mencetak skrip pelengkapan shell: serambi completion bash > FILE"},
    {"bash", "nama shell: bash"},
    {"write the manual pages (serambi.1, serambi-push.1, …) into a directory",
     "menulis halaman manual (serambi.1, serambi-push.1, …) ke sebuah direktori"},
    {"the directory", "direktori tujuan"},
};

// CLI11's labels (keys as CLI11 names them) and its default group names.
constexpr Description kHelpWords[] = {
    {"Usage", "Penggunaan"},    {"OPTIONS", "OPSI"},         {"SUBCOMMAND", "PERINTAH"},    {"SUBCOMMANDS", "PERINTAH"},
    {"Positionals", "Argumen"}, {"REQUIRED", "WAJIB"},       {"Excludes", "Tidak bersama"}, {"Needs", "Memerlukan"},
    {"Options", "Opsi"},        {"Subcommands", "Perintah"},
};

std::optional<Language> g_profile_language;

}  // namespace

std::span<const Message> catalogue() { return kCatalogue; }

std::span<const HelpTopic> help_topics() { return kTopics; }

std::span<const Description> descriptions() { return kDescriptions; }

std::string_view description_in_indonesian(std::string_view english) {
    for (const auto& d : kDescriptions)
        if (d.english == english) return d.indonesian;
    return {};
}

std::span<const Description> help_words() { return kHelpWords; }

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

namespace {

std::string fill(std::string_view text, std::initializer_list<std::string_view> args) {
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

std::string_view indonesian_of(std::span<const Description> table, std::string_view english) {
    for (const auto& d : table)
        if (d.english == english) return d.indonesian;
    return english;
}

}  // namespace

std::string say(Msg msg, std::initializer_list<std::string_view> args) {
    const auto& entry = kCatalogue[static_cast<std::size_t>(msg)];
    return fill(language() == Language::indonesian ? entry.indonesian : entry.english, args);
}

std::string tr(std::string_view english, std::initializer_list<std::string_view> args) {
    return fill(language() == Language::indonesian ? indonesian_of(error_texts(), english) : english, args);
}

std::string gateway_text(std::string_view english) {
    return std::string(language() == Language::indonesian ? indonesian_of(gateway_texts(), english) : english);
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

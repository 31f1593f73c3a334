// The CLI's file writer: links at a target are replaced, never written through; outputs that must
// not replace anything refuse atomically; nothing half-written is left behind.
#include "cli/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "temp_dir.h"

using namespace serambi;
using namespace serambi::cli;

namespace {

void put(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::size_t entries(const std::filesystem::path& dir) {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

}  // namespace

TEST_CASE("a link at the target is replaced, and what it pointed to is left alone") {
    TempDir dir;
    put(dir.path / "victim", "precious");
    std::filesystem::create_symlink(dir.path / "victim", dir.path / "out");
    REQUIRE(write_file(dir.path / "out", "new contents", 0640).ok());
    CHECK(slurp(dir.path / "victim") == "precious");
    CHECK_FALSE(std::filesystem::is_symlink(dir.path / "out"));
    CHECK(slurp(dir.path / "out") == "new contents");
    struct stat st {};
    REQUIRE(::stat((dir.path / "out").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);  // exactly the mode asked for, whatever the umask
    CHECK(entries(dir.path) == 2);        // no temporary file left

    // A hard link shares the victim's inode: rename gives the name a new one instead.
    std::filesystem::create_hard_link(dir.path / "victim", dir.path / "hard");
    REQUIRE(write_file(dir.path / "hard", "other", 0600).ok());
    CHECK(slurp(dir.path / "victim") == "precious");
}

TEST_CASE("a link to a pipe, a device or a folder is refused, not followed") {
    TempDir dir;
    REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
    std::filesystem::create_symlink(dir.path / "fifo", dir.path / "to-fifo");
    std::filesystem::create_symlink("/dev/null", dir.path / "to-null");
    std::filesystem::create_directory(dir.path / "folder");
    std::filesystem::create_symlink(dir.path / "folder", dir.path / "to-folder");
    for (const char* name : {"to-fifo", "to-null", "to-folder"}) {
        INFO(name);
        auto refused = AtomicFile::create(dir.path / name, 0600);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().message.find("link") != std::string::npos);
        CHECK(std::filesystem::is_symlink(dir.path / name));
    }
    CHECK(AtomicFile::create(dir.path / "folder", 0600).error().message.find("directory") != std::string::npos);
    // Named directly, a device is written in place: there is nothing to rename over.
    auto null = AtomicFile::create("/dev/null", 0600);
    REQUIRE(null.ok());
    CHECK(null->in_place());
    CHECK(null->write(std::string_view("discarded")).ok());
    CHECK(null->commit().ok());
}

TEST_CASE("an output that must not replace anything refuses a file or link, even one that appears late") {
    TempDir dir;
    put(dir.path / "victim", "precious");
    std::filesystem::create_symlink(dir.path / "victim", dir.path / "link.key");
    std::filesystem::create_symlink(dir.path / "nowhere", dir.path / "dangling.key");
    for (const char* name : {"link.key", "dangling.key", "victim"}) {
        INFO(name);
        auto s = write_file(dir.path / name, "secret", 0600, Existing::refuse);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().kind == ErrorKind::conflict);
    }
    CHECK(slurp(dir.path / "victim") == "precious");
    CHECK_FALSE(std::filesystem::exists(dir.path / "nowhere"));

    // Checked again at the moment it is put in place: a name planted after create() stays.
    auto late = AtomicFile::create(dir.path / "late.key", 0600, Existing::refuse);
    REQUIRE(late.ok());
    REQUIRE(late->write(std::string_view("secret")).ok());
    std::filesystem::create_symlink(dir.path / "victim", dir.path / "late.key");
    auto s = late->commit();
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().kind == ErrorKind::conflict);
    CHECK(std::filesystem::is_symlink(dir.path / "late.key"));
    CHECK(slurp(dir.path / "victim") == "precious");
}

TEST_CASE("an output dropped before commit leaves nothing, small writes arrive whole") {
    TempDir dir;
    {
        auto dropped = AtomicFile::create(dir.path / "export.jsonl", 0600);
        REQUIRE(dropped.ok());
        REQUIRE(dropped->write(std::string_view("half of it")).ok());
    }
    CHECK(entries(dir.path) == 0);

    std::string expected;
    auto out = AtomicFile::create(dir.path / "export.jsonl", 0600);
    REQUIRE(out.ok());
    for (int i = 0; i < 20000; ++i) {
        const std::string line = "{\"entry\":" + std::to_string(i) + "}\n";
        expected += line;
        REQUIRE(out->write(line).ok());
    }
    const std::string big(200000, 'x');  // larger than the gathering buffer, after small ones
    expected += big;
    REQUIRE(out->write(big).ok());
    CHECK_FALSE(std::filesystem::exists(dir.path / "export.jsonl"));  // nothing there until commit
    REQUIRE(out->commit().ok());
    CHECK(slurp(dir.path / "export.jsonl") == expected);
    CHECK(entries(dir.path) == 1);
    CHECK_FALSE(out->commit().ok());  // once only
}

TEST_CASE("a package's own filename is used in the current folder only when it is a plain name") {
    CHECK(is_plain_file_name("laporan bulanan 2026.csv"));
    CHECK(is_plain_file_name("data_kesehatan_é.xlsx"));
    const std::vector<std::string> refused{"",
                                           ".",
                                           "..",
                                           ".profile",
                                           "-rf.csv",
                                           "../x.csv",
                                           "a/b.csv",
                                           "a\\b.csv",
                                           "x\x1b[2J.csv",
                                           "x\xc2\x9b.csv",
                                           "invoice\xe2\x80\xaegpj.exe",
                                           "trailing ",
                                           std::string(231, 'a'),
                                           "bad\xff.csv"};
    for (const auto& name : refused) CHECK_FALSE(is_plain_file_name(name));
    CHECK(is_plain_file_name(std::string(230, 'a')));
}

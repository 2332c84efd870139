// test_block.cc — the raw image backend: opening (errors name the file and the reason),
// reads and writes at byte offsets, bounds, read-only images and snapshot overlays.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include "devices/block/block.h"
}

namespace {

// A temporary image filled with byte i = (i * 7 + i / 512) & 0xff.
struct TempImage {
    std::string path;
    explicit TempImage(size_t size)
    {
        char tmpl[] = "/tmp/dbt86-blk-XXXXXX";
        int fd = mkstemp(tmpl);
        EXPECT_GE(fd, 0);
        path = tmpl;
        std::vector<uint8_t> data(size);
        for (size_t i = 0; i < size; i++) data[i] = Pattern(i);
        EXPECT_EQ((ssize_t)size, write(fd, data.data(), size));
        close(fd);
    }
    ~TempImage() { unlink(path.c_str()); }
    static uint8_t Pattern(uint64_t i) { return (uint8_t)((i * 7 + i / 512) & 0xff); }
    std::vector<uint8_t> Contents() const
    {
        std::vector<uint8_t> v;
        int fd = open(path.c_str(), O_RDONLY);
        uint8_t buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) v.insert(v.end(), buf, buf + n);
        close(fd);
        return v;
    }
};

TEST(Block, OpensAndReadsRaw)
{
    TempImage img(64 * 1024);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), "raw", false, false, err, sizeof err)) << err;
    EXPECT_EQ(64u * 1024, b.size);
    EXPECT_GE(b.fd, 0);
    uint8_t buf[1500];
    ASSERT_EQ(0, blk_read(&b, 1000, buf, sizeof buf));
    for (size_t i = 0; i < sizeof buf; i++) ASSERT_EQ(TempImage::Pattern(1000 + i), buf[i]) << i;
    blk_close(&b);
    EXPECT_EQ(-1, b.fd);
}

TEST(Block, NullFormatIsRaw)
{
    TempImage img(4096);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), NULL, false, false, err, sizeof err)) << err;
    EXPECT_EQ(4096u, b.size);
    blk_close(&b);
}

TEST(Block, MissingFileNamesFileAndReason)
{
    BlockDev b;
    char err[256] = "";
    EXPECT_EQ(-1, blk_open(&b, "/tmp/dbt86-no-such-image.img", "raw", false, false, err,
                           sizeof err));
    EXPECT_STREQ("/tmp/dbt86-no-such-image.img: No such file or directory", err);
    EXPECT_EQ(-1, b.fd);
}

TEST(Block, DirectoryIsRejected)
{
    BlockDev b;
    char err[256] = "";
    EXPECT_EQ(-1, blk_open(&b, "/tmp", "raw", true, false, err, sizeof err));
    EXPECT_STREQ("/tmp: Is a directory", err);
    EXPECT_EQ(-1, blk_open(&b, "/tmp", "raw", false, false, err, sizeof err));
    EXPECT_STREQ("/tmp: Is a directory", err);
}

TEST(Block, UnreadableFileIsRejected)
{
    if (geteuid() == 0) GTEST_SKIP() << "root reads anything";
    TempImage img(4096);
    chmod(img.path.c_str(), 0200);
    BlockDev b;
    char err[256] = "";
    EXPECT_EQ(-1, blk_open(&b, img.path.c_str(), "raw", true, false, err, sizeof err));
    EXPECT_EQ(img.path + ": Permission denied", err);
}

TEST(Block, CharacterDeviceIsRejected)
{
    BlockDev b;
    char err[256] = "";
    EXPECT_EQ(-1, blk_open(&b, "/dev/null", "raw", true, false, err, sizeof err));
    EXPECT_STREQ("/dev/null: not a regular file or block device", err);
}

TEST(Block, SizeNotMultipleOf512)
{
    TempImage img(1000);
    BlockDev b;
    char err[256] = "";
    EXPECT_EQ(-1, blk_open(&b, img.path.c_str(), "raw", false, false, err, sizeof err));
    EXPECT_EQ(img.path + ": image size 1000 is not a multiple of 512 bytes", err);
    EXPECT_EQ(-1, b.fd);
}

TEST(Block, UnsupportedFormat)
{
    TempImage img(4096);
    BlockDev b;
    char err[256] = "";
    EXPECT_EQ(-1, blk_open(&b, img.path.c_str(), "qcow2", false, false, err, sizeof err));
    EXPECT_EQ(img.path + ": unsupported format 'qcow2'", err);
}

TEST(Block, WritesReachTheFile)
{
    TempImage img(8192);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), "raw", false, false, err, sizeof err)) << err;
    uint8_t data[700];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(0xa0 ^ i);
    ASSERT_EQ(0, blk_write(&b, 3000, data, sizeof data));
    uint8_t back[700];
    ASSERT_EQ(0, blk_read(&b, 3000, back, sizeof back));
    EXPECT_EQ(0, memcmp(data, back, sizeof data));
    blk_close(&b);
    std::vector<uint8_t> file = img.Contents();
    ASSERT_EQ(8192u, file.size());
    for (size_t i = 0; i < file.size(); i++) {
        uint8_t want = i >= 3000 && i < 3700 ? data[i - 3000] : TempImage::Pattern(i);
        ASSERT_EQ(want, file[i]) << i;
    }
}

TEST(Block, AccessesPastTheEndFail)
{
    TempImage img(4096);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), "raw", false, false, err, sizeof err)) << err;
    uint8_t buf[512];
    EXPECT_EQ(0, blk_read(&b, 3584, buf, 512));
    EXPECT_EQ(-1, blk_read(&b, 3585, buf, 512));
    EXPECT_EQ(-1, blk_read(&b, 4096, buf, 1));
    EXPECT_EQ(-1, blk_read(&b, UINT64_MAX - 10, buf, 512));
    EXPECT_EQ(-1, blk_write(&b, 4000, buf, 512));
    EXPECT_EQ(0, blk_read(&b, 4096, buf, 0));
    blk_close(&b);
}

TEST(Block, ReadOnlyRefusesWrites)
{
    TempImage img(4096);
    chmod(img.path.c_str(), 0400);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), "raw", true, false, err, sizeof err)) << err;
    EXPECT_TRUE(b.read_only);
    uint8_t buf[512] = {1, 2, 3};
    EXPECT_EQ(-1, blk_write(&b, 0, buf, 512));
    ASSERT_EQ(0, blk_read(&b, 0, buf, 512));
    EXPECT_EQ(TempImage::Pattern(1), buf[1]);
    blk_close(&b);
    if (geteuid() != 0) {
        // a read-only file cannot be opened for writing
        EXPECT_EQ(-1, blk_open(&b, img.path.c_str(), "raw", false, false, err, sizeof err));
        EXPECT_EQ(img.path + ": Permission denied", err);
    }
}

TEST(Block, SnapshotLeavesFileUntouched)
{
    const size_t size = 5 * 4096 + 1024; // last overlay page is partial
    TempImage img(size);
    std::vector<uint8_t> before = img.Contents();
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), "raw", false, true, err, sizeof err)) << err;
    std::vector<uint8_t> expect = before;
    // a write spanning a page boundary, one inside a later page, one in the partial page
    std::vector<uint8_t> w1(6000, 0x11), w2(100, 0x22), w3(1024, 0x33);
    ASSERT_EQ(0, blk_write(&b, 3000, w1.data(), w1.size()));
    ASSERT_EQ(0, blk_write(&b, 4 * 4096 + 50, w2.data(), w2.size()));
    ASSERT_EQ(0, blk_write(&b, 5 * 4096, w3.data(), w3.size()));
    memcpy(&expect[3000], w1.data(), w1.size());
    memcpy(&expect[4 * 4096 + 50], w2.data(), w2.size());
    memcpy(&expect[5 * 4096], w3.data(), w3.size());
    // overwrite part of an existing overlay page
    uint8_t x = 0x44;
    ASSERT_EQ(0, blk_write(&b, 3001, &x, 1));
    expect[3001] = 0x44;
    // whole-image read merges file and overlay; unaligned reads too
    std::vector<uint8_t> all(size);
    ASSERT_EQ(0, blk_read(&b, 0, all.data(), size));
    EXPECT_TRUE(all == expect);
    std::vector<uint8_t> part(9000);
    ASSERT_EQ(0, blk_read(&b, 2999, part.data(), part.size()));
    EXPECT_EQ(0, memcmp(part.data(), &expect[2999], part.size()));
    blk_close(&b);
    EXPECT_TRUE(img.Contents() == before);
}

TEST(Block, SnapshotWorksOnReadOnlyFile)
{
    TempImage img(4096);
    chmod(img.path.c_str(), 0400);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, img.path.c_str(), "raw", false, true, err, sizeof err)) << err;
    uint8_t w[512];
    memset(w, 0x5a, sizeof w);
    ASSERT_EQ(0, blk_write(&b, 512, w, sizeof w));
    uint8_t r[512];
    ASSERT_EQ(0, blk_read(&b, 512, r, sizeof r));
    EXPECT_EQ(0, memcmp(w, r, sizeof w));
    blk_close(&b);
    EXPECT_EQ(TempImage::Pattern(512), img.Contents()[512]);
}

TEST(Block, LargeSparseImage)
{
    char tmpl[] = "/tmp/dbt86-blk-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    const uint64_t size = 200ull << 30;
    ASSERT_EQ(0, ftruncate(fd, (off_t)size));
    close(fd);
    BlockDev b;
    char err[256] = "";
    ASSERT_EQ(0, blk_open(&b, tmpl, "raw", false, false, err, sizeof err)) << err;
    EXPECT_EQ(size, b.size);
    uint8_t w[512], r[512];
    for (int i = 0; i < 512; i++) w[i] = (uint8_t)i;
    ASSERT_EQ(0, blk_write(&b, size - 512, w, 512));
    ASSERT_EQ(0, blk_read(&b, size - 512, r, 512));
    EXPECT_EQ(0, memcmp(w, r, 512));
    blk_close(&b);

    // the same image in snapshot mode: a write at the very end costs one page
    ASSERT_EQ(0, blk_open(&b, tmpl, "raw", false, true, err, sizeof err)) << err;
    uint8_t w2[512];
    memset(w2, 0xee, sizeof w2);
    ASSERT_EQ(0, blk_write(&b, size - 1024, w2, 512));
    EXPECT_EQ(1u, b.overlay_pages);
    ASSERT_EQ(0, blk_read(&b, size - 1024, r, 512));
    EXPECT_EQ(0, memcmp(w2, r, 512));
    ASSERT_EQ(0, blk_read(&b, size - 512, r, 512)); // rest of the page came from the file
    EXPECT_EQ(0, memcmp(w, r, 512));
    blk_close(&b);
    ASSERT_EQ(0, blk_open(&b, tmpl, "raw", true, false, err, sizeof err)) << err;
    ASSERT_EQ(0, blk_read(&b, size - 1024, r, 512));
    for (int i = 0; i < 512; i++) ASSERT_EQ(0, r[i]); // never reached the file
    blk_close(&b);
    unlink(tmpl);
}

} // namespace

/*
 * test_cdboot.cc — SeaBIOS boots an El Torito CD on the whole machine. The test builds
 * the ISO itself (ISO 9660 primary volume descriptor, El Torito boot record, boot
 * catalog, a no-emulation boot image) around a tiny real-mode program that prints on
 * COM1, reads block 24 of the CD through INT 13h AH=42h, prints what it found there
 * and leaves through isa-debug-exit. When QEMU is installed the same ISO must give the
 * same output under qemu-system-i386 -cdrom.
 */
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <vector>

#include "guest_util.h"

namespace {

constexpr size_t kBlock = 2048;

/* The boot image, assembled with nasm from:
 *
 *         bits 16
 *         org 0x7c00
 *         jmp 0:start             ; whatever CS:IP the BIOS used, run with CS = 0
 * start:  xor ax, ax
 *         mov ds, ax
 *         mov es, ax
 *         mov ss, ax
 *         mov sp, 0x7c00
 *         cld
 *         mov [drive], dl
 *         mov si, msg
 *         call print
 *         mov si, dap             ; INT 13h AH=42h: read the 2048-byte block 24
 *         mov dl, [drive]
 *         mov ah, 0x42
 *         int 0x13
 *         jc fail
 *         mov si, 0x9000
 *         call print
 *         mov al, 0               ; isa-debug-exit: status 1 = success
 *         jmp quit
 * fail:   mov si, failmsg
 *         call print
 *         mov al, 1
 * quit:   out 0xf4, al
 * .hang:  hlt
 *         jmp .hang
 * print:  lodsb
 *         test al, al
 *         jz .done
 *         mov bl, al
 *         mov dx, 0x3fd
 * .wait:  in al, dx
 *         test al, 0x20
 *         jz .wait
 *         mov al, bl
 *         mov dx, 0x3f8
 *         out dx, al
 *         jmp print
 * .done:  ret
 * dap:    db 16, 0
 *         dw 1, 0x9000, 0         ; one block to 0000:9000
 *         dq 24                   ; LBA
 * drive:  db 0
 * msg:    db "CD BOOT OK", 10, 0
 * failmsg: db "INT 13h read failed", 10, 0
 */
const uint8_t kBootImage[] = {
    0xea, 0x05, 0x7c, 0x00, 0x00, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc,
    0x00, 0x7c, 0xfc, 0x88, 0x16, 0x67, 0x7c, 0xbe, 0x68, 0x7c, 0xe8, 0x24, 0x00, 0xbe,
    0x57, 0x7c, 0x8a, 0x16, 0x67, 0x7c, 0xb4, 0x42, 0xcd, 0x13, 0x72, 0x0a, 0xbe, 0x00,
    0x90, 0xe8, 0x11, 0x00, 0xb0, 0x00, 0xeb, 0x08, 0xbe, 0x74, 0x7c, 0xe8, 0x07, 0x00,
    0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd, 0xac, 0x84, 0xc0, 0x74, 0x12, 0x88, 0xc3,
    0xba, 0xfd, 0x03, 0xec, 0xa8, 0x20, 0x74, 0xfb, 0x88, 0xd8, 0xba, 0xf8, 0x03, 0xee,
    0xeb, 0xe9, 0xc3, 0x10, 0x00, 0x01, 0x00, 0x00, 0x90, 0x00, 0x00, 0x18, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x44, 0x20, 0x42, 0x4f, 0x4f, 0x54, 0x20,
    0x4f, 0x4b, 0x0a, 0x00, 0x49, 0x4e, 0x54, 0x20, 0x31, 0x33, 0x68, 0x20, 0x72, 0x65,
    0x61, 0x64, 0x20, 0x66, 0x61, 0x69, 0x6c, 0x65, 0x64, 0x0a, 0x00,
};

const char kMarker[] = "BLOCK 24 READ THROUGH INT 13H\n";
const char kExpected[] = "CD BOOT OK\nBLOCK 24 READ THROUGH INT 13H\n";

/* layout, in 2048-byte blocks */
enum : uint32_t {
    kPvd = 16, kBootRecord = 17, kTerminator = 18, kCatalog = 19, kRootDir = 20,
    kPathL = 21, kPathM = 22, kBootLba = 23, kMarkerLba = 24, kBlocks = 32,
};

void Le16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void Be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void Le32(uint8_t *p, uint32_t v) { Le16(p, v); Le16(p + 2, v >> 16); }
void Be32(uint8_t *p, uint32_t v) { Be16(p, v >> 16); Be16(p + 2, v); }
/* ISO 9660 "both-byte orders": little-endian then big-endian */
void Both16(uint8_t *p, uint32_t v) { Le16(p, v); Be16(p + 2, v); }
void Both32(uint8_t *p, uint32_t v) { Le32(p, v); Be32(p + 4, v); }
void Text(uint8_t *p, size_t len, const char *s)
{
    memset(p, ' ', len);
    memcpy(p, s, strlen(s));
}

/* A directory record of the root directory ("." is 00h, ".." 01h). */
void DirRecord(uint8_t *p, uint8_t name)
{
    p[0] = 34;
    Both32(p + 2, kRootDir);
    Both32(p + 10, kBlock);
    const uint8_t date[7] = {126, 11, 23, 10, 30, 0, 0}; /* 2026-11-23 10:30:00 UTC */
    memcpy(p + 18, date, 7);
    p[25] = 0x02; /* directory */
    Both16(p + 28, 1);
    p[32] = 1;
    p[33] = name;
}

std::vector<uint8_t> BuildBootIso()
{
    std::vector<uint8_t> iso(kBlocks * kBlock, 0);
    auto block = [&](uint32_t n) { return iso.data() + n * kBlock; };

    /* primary volume descriptor */
    uint8_t *p = block(kPvd);
    p[0] = 1;
    memcpy(p + 1, "CD001", 5);
    p[6] = 1;
    Text(p + 8, 32, "DBT86");
    Text(p + 40, 32, "DBT86_CDBOOT");
    Both32(p + 80, kBlocks);
    Both16(p + 120, 1);
    Both16(p + 124, 1);
    Both16(p + 128, kBlock);
    Both32(p + 132, 10);
    Le32(p + 140, kPathL);
    Be32(p + 148, kPathM);
    DirRecord(p + 156, 0);
    Text(p + 190, 128, "");
    Text(p + 318, 128, "");
    Text(p + 446, 128, "");
    Text(p + 574, 128, "");
    Text(p + 702, 37 * 3, "");
    for (int i = 0; i < 4; i++) { /* creation/modification/expiration/effective dates */
        uint8_t *d = p + 813 + 17 * i;
        memcpy(d, i < 2 ? "2026112310300000" : "0000000000000000", 16);
        d[16] = 0;
    }
    p[881] = 1;

    /* El Torito boot record volume descriptor: where the boot catalog is */
    p = block(kBootRecord);
    p[0] = 0;
    memcpy(p + 1, "CD001", 5);
    p[6] = 1;
    memcpy(p + 7, "EL TORITO SPECIFICATION", 23);
    Le32(p + 71, kCatalog);

    /* volume descriptor set terminator */
    p = block(kTerminator);
    p[0] = 255;
    memcpy(p + 1, "CD001", 5);
    p[6] = 1;

    /* boot catalog: validation entry, then the initial/default entry */
    p = block(kCatalog);
    p[0] = 1;    /* header ID */
    p[1] = 0;    /* platform: 80x86 */
    memcpy(p + 4, "DBT86", 5);
    p[30] = 0x55;
    p[31] = 0xaa;
    uint16_t sum = 0; /* the 16 words of the entry sum to zero */
    for (int i = 0; i < 32; i += 2) sum = (uint16_t)(sum + (p[i] | p[i + 1] << 8));
    Le16(p + 28, (uint16_t)-sum);
    p[32] = 0x88;            /* bootable */
    p[33] = 0;               /* no emulation */
    Le16(p + 34, 0x07c0);    /* load segment */
    p[36] = 0;               /* system type */
    Le16(p + 38, 4);         /* 4 virtual 512-byte sectors = one CD block */
    Le32(p + 40, kBootLba);

    /* root directory and its path tables */
    DirRecord(block(kRootDir), 0);
    DirRecord(block(kRootDir) + 34, 1);
    p = block(kPathL);
    p[0] = 1;
    Le32(p + 2, kRootDir);
    Le16(p + 6, 1);
    p = block(kPathM);
    p[0] = 1;
    Be32(p + 2, kRootDir);
    Be16(p + 6, 1);

    memcpy(block(kBootLba), kBootImage, sizeof kBootImage);
    memcpy(block(kMarkerLba), kMarker, sizeof kMarker);
    return iso;
}

struct TempIso {
    std::string path;
    TempIso()
    {
        char tmpl[] = "/tmp/dbt86-cdboot-XXXXXX";
        int fd = mkstemp(tmpl);
        EXPECT_GE(fd, 0);
        path = tmpl;
        std::vector<uint8_t> iso = BuildBootIso();
        EXPECT_EQ((ssize_t)iso.size(), write(fd, iso.data(), iso.size()));
        close(fd);
    }
    ~TempIso() { unlink(path.c_str()); }
};

} // namespace

TEST(CdBoot, IsoStructure)
{
    std::vector<uint8_t> iso = BuildBootIso();
    ASSERT_EQ(0u, iso.size() % kBlock);
    const uint8_t *cat = iso.data() + kCatalog * kBlock;
    uint16_t sum = 0;
    for (int i = 0; i < 32; i += 2) sum = (uint16_t)(sum + (cat[i] | cat[i + 1] << 8));
    EXPECT_EQ(0, sum);
    EXPECT_EQ(0, memcmp(iso.data() + kBootRecord * kBlock + 1, "CD001", 5));
    EXPECT_EQ(kCatalog, iso[kBootRecord * kBlock + 71]);
}

TEST(CdBoot, SeaBiosBootsElToritoFromAtapi)
{
    TempIso iso;
    GuestRun g;
    g.cfg.debug_exit = true;
    g.cfg.debug_exit_iobase = 0xf4;
    g.cfg.debug_exit_iosize = 4;
    strcpy(g.cfg.boot_order, "d");
    DriveConfig &d = g.cfg.drives[g.cfg.n_drives++];
    d = DriveConfig{};
    d.file = iso.path.c_str();
    d.format = "raw";
    d.index = 2; /* secondary master, where -cdrom goes */
    d.cdrom = true;
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(g.run(60)) << "serial so far:\n" << g.serial << "\ndebugcon:\n" << g.debugcon;
    EXPECT_EQ(g.m->exit.kind, MEXIT_DEBUG_EXIT);
    EXPECT_EQ(g.m->exit.status, 1) << g.serial;
    EXPECT_EQ(kExpected, g.serial);
    EXPECT_NE(g.debugcon.find("DBT86 DVD-ROM"), std::string::npos) << g.debugcon;
    EXPECT_NE(g.debugcon.find("Booting from DVD/CD"), std::string::npos) << g.debugcon;
}

TEST(CdBoot, QemuBootsTheSameIso)
{
    if (run_cmd("command -v qemu-system-i386 >/dev/null") != 0)
        GTEST_SKIP() << "qemu-system-i386 is not installed";
    TempIso iso;
    std::string out;
    int st = run_cmd("timeout 60 qemu-system-i386 -m 64 -display none -serial stdio "
                     "-no-reboot -cdrom " + iso.path +
                         " -boot d -device isa-debug-exit,iobase=0xf4,iosize=4 2>/dev/null",
                     &out);
    EXPECT_EQ(1, st);
    EXPECT_EQ(kExpected, out);
}

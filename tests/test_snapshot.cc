/*
 * test_snapshot.cc — snapshots: a demo boot saved half-way and restored into a fresh
 * machine finishes with the same serial output, instruction count and screen as the
 * uninterrupted run; save/load/save is byte-identical; bad files give clean errors;
 * sections match fields by name across descriptor versions.
 */
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <vector>

#include "guest_util.h"

extern "C" {
#include "cpu/cpu_state.h"
#include "devices/machine_snapshot.h"
#include "snapshot/state.h"
}

namespace {

std::string temp_path()
{
    char p[] = "/tmp/dbt86-snap-XXXXXX";
    int fd = mkstemp(p);
    if (fd >= 0) close(fd);
    return p;
}

/* Runs in 1 ms slices until the serial output contains `what`. */
bool run_until(GuestRun &g, const char *what)
{
    for (int i = 0; i < 20000; i++) {
        if (g.serial.find(what) != std::string::npos) return true;
        if (machine_run_for(g.m, 1000000)) return false;
    }
    return false;
}

std::string screen(const Machine *m)
{
    std::vector<char> buf(16384);
    int n = vga_text_dump(&m->vga, buf.data(), buf.size());
    return n < 0 ? std::string("<graphics>") : std::string(buf.data());
}

std::string save_string(Machine *m)
{
    SnapBuf b = {};
    char err[256];
    EXPECT_EQ(machine_save_buf(m, &b, err, sizeof err), 0) << err;
    std::string s(reinterpret_cast<const char *>(b.data), b.len);
    snap_buf_free(&b);
    return s;
}

int load_string(Machine *m, const std::string &s, std::string *err = nullptr)
{
    char e[512] = "";
    int r = machine_load_buf(m, reinterpret_cast<const uint8_t *>(s.data()), s.size(), e,
                             sizeof e);
    if (err) *err = e;
    return r;
}

/* A demo machine stopped in the middle of its run (after INT 13h, before the end). */
void boot_to_midpoint(GuestRun &g)
{
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    ASSERT_TRUE(run_until(g, "int 13h drive parameters")) << g.serial;
}

} // namespace

/* Boots the demo until `marker` is on the serial line (or, with marker NULL, for
 * `ns` of virtual time), saves to a file, finishes the run; then restores the file into
 * a fresh machine and finishes again: same serial output, instruction count, time and
 * screen. */
static void check_restored_run(const char *marker, uint64_t ns)
{
    SCOPED_TRACE(marker ? marker : ("t=" + std::to_string(ns)).c_str());
    std::string path = temp_path();
    GuestRun a;
    a.disk(rom_path("demo.img"));
    ASSERT_TRUE(a.create()) << a.err;
    if (marker)
        ASSERT_TRUE(run_until(a, marker)) << a.serial;
    else
        ASSERT_FALSE(machine_run_for(a.m, ns));
    char err[512];
    ASSERT_EQ(machine_save(a.m, path.c_str(), err, sizeof err), 0) << err;
    uint64_t icount_at_save = a.m->cpu.icount;
    size_t mark = a.serial.size();
    ASSERT_TRUE(a.run(60)) << a.serial;
    ASSERT_EQ(a.m->exit.kind, MEXIT_POWEROFF);
    std::string rest_a = a.serial.substr(mark);
    ASSERT_NE(rest_a.find("ALL CHECKS PASSED"), std::string::npos) << a.serial;

    GuestRun b;
    b.disk(rom_path("demo.img"));
    ASSERT_TRUE(b.create()) << b.err;
    ASSERT_EQ(machine_load(b.m, path.c_str(), err, sizeof err), 0) << err;
    EXPECT_EQ(b.m->cpu.icount, icount_at_save);
    EXPECT_TRUE(b.serial.empty()); /* nothing ran before the load */
    ASSERT_TRUE(b.run(60)) << b.serial;
    EXPECT_EQ(b.m->exit.kind, MEXIT_POWEROFF);
    EXPECT_EQ(b.serial, rest_a);
    EXPECT_EQ(b.m->cpu.icount, a.m->cpu.icount);
    EXPECT_EQ(machine_now_ns(b.m), machine_now_ns(a.m));
    EXPECT_EQ(screen(b.m), screen(a.m));
    EXPECT_NE(screen(a.m), "");
    unlink(path.c_str());
}

TEST(Snapshot, RestoredRunMatchesUninterruptedRun)
{
    check_restored_run("int 13h drive parameters", 0);
}

/* Other save points: during SeaBIOS's POST (PIT/RTC programming, PCI enumeration,
 * shadowing through PAM, the VGA BIOS), and at 52 ms, while the demo sits in HLT
 * waiting for the timer tick (halted CPU, skipped idle time, armed PIT deadline). */
TEST(Snapshot, RestoredRunMatchesFromFirmwareAndIdle)
{
    for (uint64_t ms : {5, 30, 52}) check_restored_run(nullptr, ms * 1000000);
}

TEST(Snapshot, SaveLoadSaveIsIdentical)
{
    GuestRun a;
    boot_to_midpoint(a);
    std::string s1 = save_string(a.m);
    GuestRun b;
    b.disk(rom_path("demo.img"));
    ASSERT_TRUE(b.create()) << b.err;
    std::string err;
    ASSERT_EQ(load_string(b.m, s1, &err), 0) << err;
    std::string s2 = save_string(b.m);

    /* section by section first, so a difference names its device */
    SnapFile f1, f2;
    char e[256];
    ASSERT_EQ(snap_parse(&f1, reinterpret_cast<const uint8_t *>(s1.data()), s1.size(), e,
                         sizeof e), 0) << e;
    ASSERT_EQ(snap_parse(&f2, reinterpret_cast<const uint8_t *>(s2.data()), s2.size(), e,
                         sizeof e), 0) << e;
    ASSERT_EQ(f1.n_chunks, f2.n_chunks);
    std::set<std::string> names;
    for (unsigned i = 0; i < f1.n_chunks; i++) {
        const SnapChunk &c1 = f1.chunks[i], &c2 = f2.chunks[i];
        EXPECT_STREQ(c1.name, c2.name);
        EXPECT_TRUE(names.insert(c1.name).second) << "section " << c1.name << " twice";
        EXPECT_TRUE(c1.len == c2.len && !memcmp(c1.payload, c2.payload, c1.len))
            << "section " << c1.name << " differs after a round trip";
    }
    for (const char *want : {"machine", "cpu", "clock", "board", "pic", "pit", "rtc", "uart",
                             "uart.1", "i8042", "ide", "vga", "acpi-pm", "port92", "i440fx",
                             "ram", "vram"})
        EXPECT_TRUE(names.count(want)) << "no section " << want;
    snap_file_free(&f1);
    snap_file_free(&f2);
    EXPECT_TRUE(s1 == s2);
}

TEST(Snapshot, BadFilesGiveCleanErrors)
{
    GuestRun a;
    boot_to_midpoint(a);
    std::string good = save_string(a.m);
    uint64_t icount = a.m->cpu.icount;
    uint32_t eip = a.m->cpu.eip;
    std::string err;

    std::string bad = good;
    bad[0] = 'X';
    EXPECT_EQ(load_string(a.m, bad, &err), -1);
    EXPECT_NE(err.find("magic"), std::string::npos) << err;

    EXPECT_EQ(load_string(a.m, "", &err), -1);
    EXPECT_EQ(load_string(a.m, "DBT86SNP", &err), -1);

    bad = good;
    bad[8] = 7; /* format version */
    EXPECT_EQ(load_string(a.m, bad, &err), -1);
    EXPECT_NE(err.find("version 7"), std::string::npos) << err;

    /* truncated anywhere */
    for (size_t cut : {(size_t)16, (size_t)40, good.size() / 7, good.size() / 3,
                       good.size() / 2, good.size() - 12, good.size() - 1}) {
        EXPECT_EQ(load_string(a.m, good.substr(0, cut), &err), -1) << cut;
        EXPECT_NE(err.find("truncated"), std::string::npos) << cut << ": " << err;
    }

    /* a corrupt RAM image: flip bytes in the middle of the compressed data */
    SnapFile f;
    char e[256];
    ASSERT_EQ(snap_parse(&f, reinterpret_cast<const uint8_t *>(good.data()), good.size(), e,
                         sizeof e), 0);
    const SnapChunk *ram = snap_find(&f, SNAP_BLOB, "ram");
    ASSERT_NE(ram, nullptr);
    size_t ram_at = ram->payload - reinterpret_cast<const uint8_t *>(good.data());
    uint64_t ram_len = ram->len;
    /* the type byte of the CPU's first field ("regs", after version and count) */
    const SnapChunk *cpu = snap_find(&f, SNAP_SECTION, "cpu");
    ASSERT_NE(cpu, nullptr);
    size_t cpu_type_at =
        cpu->payload - reinterpret_cast<const uint8_t *>(good.data()) + 8 + 2 + strlen("regs");
    snap_file_free(&f);
    bad = good;
    for (size_t i = 0; i < 64; i++) bad[ram_at + 8 + ram_len / 2 + i] ^= 0x5a;
    EXPECT_EQ(load_string(a.m, bad, &err), -1);
    EXPECT_NE(err.find("blob ram"), std::string::npos) << err;

    bad = good;
    ASSERT_EQ(bad[cpu_type_at], ST_U32);
    bad[cpu_type_at] = ST_U16;
    EXPECT_EQ(load_string(a.m, bad, &err), -1);
    EXPECT_NE(err.find("section cpu field regs"), std::string::npos) << err;
    bad[cpu_type_at] = 9;
    EXPECT_EQ(load_string(a.m, bad, &err), -1);
    EXPECT_NE(err.find("unknown type"), std::string::npos) << err;

    /* none of that touched the machine */
    EXPECT_EQ(a.m->cpu.icount, icount);
    EXPECT_EQ(a.m->cpu.eip, eip);

    /* a machine with another RAM size refuses, in one line */
    GuestRun small;
    small.cfg.ram_mb = 32;
    ASSERT_TRUE(small.create()) << small.err;
    EXPECT_EQ(load_string(small.m, good, &err), -1);
    EXPECT_EQ(err, "snapshot has 64 MiB of RAM, this machine has 32 MiB (use -m 64)");
    /* and one without the disk */
    GuestRun nodisk;
    ASSERT_TRUE(nodisk.create()) << nodisk.err;
    EXPECT_EQ(load_string(nodisk.m, good, &err), -1);
    EXPECT_NE(err.find("disk at IDE position 0"), std::string::npos) << err;

    /* files: a missing one, and the file name prefixed to a bad one's message */
    char msg[512];
    EXPECT_EQ(machine_load(a.m, "/nonexistent/x.snap", msg, sizeof msg), -1);
    EXPECT_NE(std::string(msg).find("/nonexistent/x.snap"), std::string::npos);
    std::string path = temp_path();
    FILE *fp = fopen(path.c_str(), "wb");
    fwrite(good.data(), 1, 100, fp);
    fclose(fp);
    EXPECT_EQ(machine_load(a.m, path.c_str(), msg, sizeof msg), -1);
    EXPECT_EQ(std::string(msg).find(path + ": snapshot truncated"), 0u) << msg;
    EXPECT_EQ(std::strchr(msg, '\n'), nullptr);
    unlink(path.c_str());

    /* and the good file still loads */
    EXPECT_EQ(load_string(a.m, good, &err), 0) << err;
}

/* ---- by-name field matching between descriptor versions ---- */

namespace {

struct DevV1 {
    uint32_t a;
    uint16_t b;
    uint8_t gone; /* removed in v2 */
    uint8_t arr[3];
};
const StateField v1_fields[] = {STATE_U32(DevV1, a), STATE_U16(DevV1, b),
                                STATE_U8(DevV1, gone), STATE_U8_ARRAY(DevV1, arr, 3),
                                STATE_END};
const StateDesc v1_desc = {"dev", 1, v1_fields};

struct DevV2 {
    uint64_t added; /* new in v2, and the layout moved */
    uint8_t arr[3];
    uint16_t b;
    uint32_t a;
};
const StateField v2_fields[] = {
    {"added", ST_U64, (uint32_t)offsetof(DevV2, added), 1, 2}, STATE_U8_ARRAY(DevV2, arr, 3),
    STATE_U16(DevV2, b), STATE_U32(DevV2, a), STATE_END};
const StateDesc v2_desc = {"dev", 2, v2_fields};

struct DevBad {
    uint32_t a;
    uint32_t b; /* was u16 */
};
const StateField bad_fields[] = {STATE_U32(DevBad, a), STATE_U32(DevBad, b), STATE_END};
const StateDesc bad_desc = {"dev", 3, bad_fields};

/* Wraps one section in a file and returns the parsed chunk's bytes. */
std::string one_section(const StateDesc *d, const void *obj)
{
    SnapBuf b = {};
    snap_begin(&b);
    snap_put_section(&b, d->name, d, obj);
    snap_end(&b);
    std::string s(reinterpret_cast<const char *>(b.data), b.len);
    snap_buf_free(&b);
    return s;
}

int load_one(const std::string &file, const StateDesc *d, void *obj, std::string *err)
{
    SnapFile f;
    char e[256] = "";
    int r = snap_parse(&f, reinterpret_cast<const uint8_t *>(file.data()), file.size(), e,
                       sizeof e);
    if (r == 0) {
        const SnapChunk *c = snap_find(&f, SNAP_SECTION, d->name);
        r = c ? snap_load_section(c, d, obj, e, sizeof e) : -1;
    }
    snap_file_free(&f);
    *err = e;
    return r;
}

} // namespace

TEST(Snapshot, FieldsMatchByNameAcrossVersions)
{
    std::string err;
    DevV1 v1 = {0xdeadbeef, 0x1234, 0x77, {1, 2, 3}};
    std::string f1 = one_section(&v1_desc, &v1);

    /* old file, new build: known fields load, the new one keeps its reset value */
    DevV2 v2 = {0x5555aaaa5555aaaaull, {9, 9, 9}, 0, 0};
    ASSERT_EQ(load_one(f1, &v2_desc, &v2, &err), 0) << err;
    EXPECT_EQ(v2.a, 0xdeadbeefu);
    EXPECT_EQ(v2.b, 0x1234u);
    EXPECT_EQ(v2.arr[0], 1);
    EXPECT_EQ(v2.arr[2], 3);
    EXPECT_EQ(v2.added, 0x5555aaaa5555aaaaull);

    /* new file, old build: the unknown field is skipped, the removed one keeps its value */
    DevV2 src = {0x0102030405060708ull, {7, 8, 9}, 0x4321, 0xcafef00d};
    std::string f2 = one_section(&v2_desc, &src);
    DevV1 old = {0, 0, 0x66, {0, 0, 0}};
    ASSERT_EQ(load_one(f2, &v1_desc, &old, &err), 0) << err;
    EXPECT_EQ(old.a, 0xcafef00du);
    EXPECT_EQ(old.b, 0x4321u);
    EXPECT_EQ(old.gone, 0x66);
    EXPECT_EQ(old.arr[1], 8);

    /* a type change is an error naming section and field, and writes nothing */
    DevBad bad = {1, 2};
    EXPECT_EQ(load_one(f1, &bad_desc, nullptr, &err), -1);
    EXPECT_EQ(err, "snapshot section dev field b: file has u16[1], this build u32[1]");
    EXPECT_EQ(bad.a, 1u);

    /* little-endian on disk: the u32 0xdeadbeef is stored ef be ad de */
    EXPECT_NE(f1.find(std::string("\xef\xbe\xad\xde", 4)), std::string::npos);
}

TEST(Snapshot, CpuDescriptorCoversTheArchitecturalState)
{
    /* every byte of Cpu above icount belongs to a field, except alignment padding */
    const size_t end = offsetof(Cpu, icount);
    std::vector<bool> cov(sizeof(Cpu));
    std::set<std::string> names;
    for (const StateField *f = cpu_state_desc.fields; f->name; f++) {
        EXPECT_TRUE(names.insert(f->name).second) << f->name;
        size_t sz = f->type == ST_U16 ? 2 : f->type == ST_U32 ? 4 : f->type == ST_U64 ? 8 : 1;
        ASSERT_LE(f->offset + sz * f->count, sizeof(Cpu)) << f->name;
        for (size_t i = 0; i < sz * f->count; i++) cov[f->offset + i] = true;
    }
    for (size_t i = 0; i < end; i++) {
        if (cov[i]) continue;
        size_t j = i;
        while (j < end && !cov[j]) j++;
        EXPECT_LT(j - i, 8u) << "bytes " << i << ".." << j << " of Cpu are not saved";
        EXPECT_TRUE(j == end || j % 4 == 0) << "bytes " << i << ".." << j << " are not padding";
        i = j;
    }
    for (const char *want : {"icount", "intr_line", "a20_mask", "fpu.cw", "msr_pat_xor",
                             "seg[SEG_CS].base", "tr.flags", "gdtr.limit"})
        EXPECT_TRUE(names.count(want)) << want;
}


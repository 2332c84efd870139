/*
 * test_machine.cc — the board: every device is in the device list with a state
 * descriptor (so reset and snapshots reach all of them), the memory map follows PAM,
 * and a system reset brings the devices back to their power-on state.
 */
#include <gtest/gtest.h>

#include <set>

#include "guest_util.h"

extern "C" {
#include "cpu/interp.h"
}

TEST(Machine, EveryDeviceHasAStateDescriptor)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    std::set<std::string> names;
    for (unsigned i = 0; i < g.m->n_devices; i++) {
        const DeviceOps *o = g.m->devices[i].ops;
        ASSERT_NE(o->name, nullptr);
        EXPECT_NE(o->state, nullptr) << o->name << " has no state descriptor";
        if (!o->state) continue;
        EXPECT_GE(o->state->version, 1) << o->name;
        names.insert(o->state->name);
        std::set<std::string> fields;
        for (const StateField *f = o->state->fields; f->name; f++) {
            EXPECT_TRUE(fields.insert(f->name).second) << o->name << ": field " << f->name
                                                       << " listed twice";
            EXPECT_GT(f->count, 0u) << o->name << "." << f->name;
        }
    }
    for (const char *want : {"pic", "pit", "rtc", "i8042", "ide", "vga", "acpi-pm", "port92"})
        EXPECT_TRUE(names.count(want)) << "no device with state '" << want << "'";
}

TEST(Machine, BiosIsVisibleAtResetVectorAndBelowOneMiB)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    /* the last 16 bytes of the ROM appear both at 0xFFFFFFF0 and at 0xFFFF0 */
    const uint8_t *top = physmem_rd_ptr(g.m->mem, 0xfffffff0u);
    const uint8_t *low = physmem_rd_ptr(g.m->mem, 0xffff0u);
    ASSERT_NE(top, nullptr);
    ASSERT_NE(low, nullptr);
    EXPECT_EQ(memcmp(top, low, 16), 0);
    EXPECT_EQ(top, g.m->bios + g.m->bios_size - 16);
    /* PAM off: writes to 0xF0000 do not reach RAM */
    EXPECT_EQ(physmem_wr_ptr(g.m->mem, 0xf0000u), nullptr);
    /* the VGA window is MMIO */
    EXPECT_EQ(physmem_rd_ptr(g.m->mem, 0xb8000u), nullptr);
}

TEST(Machine, PamShadowsBiosIntoRam)
{
    GuestRun g;
    ASSERT_TRUE(g.create()) << g.err;
    /* PAM register 0x59 high nibble: 0xF0000-0xFFFFF; 0x3 = read and write RAM */
    pci_config_write(&g.m->pci, PCI_DEVFN(0, 0), 0x59, 0x30, 1);
    EXPECT_EQ(physmem_rd_ptr(g.m->mem, 0xf0000u), g.m->ram + 0xf0000);
    EXPECT_EQ(physmem_wr_ptr(g.m->mem, 0xf0000u), g.m->ram + 0xf0000);
    /* write-only (0x2): reads still come from the ROM */
    pci_config_write(&g.m->pci, PCI_DEVFN(0, 0), 0x59, 0x20, 1);
    EXPECT_NE(physmem_rd_ptr(g.m->mem, 0xf0000u), g.m->ram + 0xf0000);
    EXPECT_EQ(physmem_wr_ptr(g.m->mem, 0xf0000u), g.m->ram + 0xf0000);
    /* a system reset puts PAM back */
    machine_reset(g.m);
    EXPECT_EQ(physmem_wr_ptr(g.m->mem, 0xf0000u), nullptr);
}

TEST(Machine, ResetRestoresDevicesAndCpu)
{
    GuestRun g;
    g.disk(rom_path("demo.img"));
    ASSERT_TRUE(g.create()) << g.err;
    /* until the demo runs: SeaBIOS has programmed the PIC, PIT, PAM, A20... */
    for (int i = 0; i < 1000 && g.serial.find("int 10h video mode") == std::string::npos; i++)
        ASSERT_FALSE(machine_run_for(g.m, 1000000)) << g.serial;
    bus_io_write(&g.m->bus, 0x92, 0x00, 1); /* A20 off */
    EXPECT_NE(g.m->cpu.a20_mask, 0xffffffffu);
    machine_reset(g.m);
    EXPECT_EQ(g.m->cpu.a20_mask, 0xffffffffu);
    EXPECT_EQ(g.m->cpu.eip, 0xfff0u);
    EXPECT_EQ(g.m->cpu.seg[SEG_CS].base, 0xffff0000u);
    EXPECT_EQ(g.m->pic.chip[0].imr, 0u);
    EXPECT_EQ(bus_io_read(&g.m->bus, 0x92, 1) & 2, 0u);
    EXPECT_EQ(g.m->resets, 1u);
    /* and the machine boots again to the same report */
    std::string before = g.serial;
    g.serial.clear();
    ASSERT_TRUE(g.run(60));
    EXPECT_NE(g.serial.find("ALL CHECKS PASSED"), std::string::npos)
        << "exit " << g.m->exit.kind << "\n" << g.serial << "\n" << g.debugcon;
}

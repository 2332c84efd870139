// test_i8042.cc — the 8042 keyboard controller through ports 0x60/0x64: controller
// commands, A20 and reset, the keyboard's command protocol, set-2 to set-1
// translation, IRQ 1 and IRQ 12 levels, the PS/2 mouse and its packets, and a
// snapshot round trip.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

extern "C" {
#include "devices/bus.h"
#include "devices/i8042.h"
}

namespace {

struct IrqRec {
    int level = 0;
    int raises = 0;
};

void irq_rec(void *o, int n, int level)
{
    auto *r = static_cast<IrqRec *>(o);
    if (level && !r->level) r->raises++;
    r->level = level;
}

struct Board {
    std::vector<bool> a20;
    int resets = 0;
};

void board_a20(void *o, bool on) { static_cast<Board *>(o)->a20.push_back(on); }
void board_reset(void *o) { static_cast<Board *>(o)->resets++; }

void copy_state(const StateDesc *d, const void *src, void *dst)
{
    for (const StateField *f = d->fields; f->name; f++) {
        size_t sz = f->type == ST_U16 ? 2 : f->type == ST_U32 ? 4 : f->type == ST_U64 ? 8 : 1;
        std::memcpy(static_cast<char *>(dst) + f->offset,
                    static_cast<const char *>(src) + f->offset, sz * f->count);
    }
}

constexpr uint8_t OBF = 0x01, SYS = 0x04, A2 = 0x08, AUXB = 0x20;

struct KbcTest : ::testing::Test {
    std::unique_ptr<Bus> bus{new Bus};
    Kbc k;
    IrqRec irq1, irq12;
    Board board;

    void SetUp() override
    {
        bus_init(bus.get());
        kbc_init(&k, bus.get(), IrqLine{irq_rec, &irq1, 1}, IrqLine{irq_rec, &irq12, 12},
                 board_a20, board_reset, &board);
    }
    uint8_t status() { return (uint8_t)bus_io_read(bus.get(), 0x64, 1); }
    uint8_t data() { return (uint8_t)bus_io_read(bus.get(), 0x60, 1); }
    void cmd(uint8_t v) { bus_io_write(bus.get(), 0x64, v, 1); }
    void put(uint8_t v) { bus_io_write(bus.get(), 0x60, v, 1); }
    void cmd_byte(uint8_t v)
    {
        cmd(0x60);
        put(v);
    }
    void key(std::initializer_list<uint8_t> b)
    {
        std::vector<uint8_t> v(b);
        kbc_put_keycode(&k, v.data(), (int)v.size());
    }
    // Reads everything the controller has to give.
    std::vector<uint8_t> drain()
    {
        std::vector<uint8_t> v;
        while (status() & OBF) v.push_back(data());
        return v;
    }
    void mouse_cmd(uint8_t v)
    {
        cmd(0xd4);
        put(v);
    }
};

using Bytes = std::vector<uint8_t>;

TEST_F(KbcTest, SelfTestAndInterfaceTests)
{
    EXPECT_EQ(status() & (OBF | SYS), 0);
    cmd(0xaa);
    EXPECT_EQ(status() & (OBF | SYS | A2 | AUXB), OBF | SYS | A2);
    EXPECT_EQ(data(), 0x55);
    EXPECT_EQ(status() & OBF, 0);
    cmd(0xab);
    EXPECT_EQ(drain(), Bytes{0x00});
    cmd(0xa9);
    EXPECT_EQ(drain(), Bytes{0x00});
    EXPECT_EQ(status() & 0x02, 0); // IBF never set: commands are instant
    EXPECT_EQ(status() & 0x10, 0x10); // keylock: not inhibited
}

TEST_F(KbcTest, CommandByteReadWrite)
{
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x61}); // kbd IRQ, aux disabled, translation
    cmd(0x60);
    EXPECT_EQ(status() & A2, A2);
    put(0x47);
    EXPECT_EQ(status() & (A2 | SYS), SYS); // data write clears A2; bit 2 is SYS
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x47});
    cmd_byte(0x00);
    EXPECT_EQ(status() & SYS, 0);
    cmd(0xad);
    cmd(0xa8);
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x10});
    cmd(0xae);
    cmd(0xa7);
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x20});
    // Other controller RAM bytes.
    cmd(0x65);
    put(0x9c);
    cmd(0x25);
    EXPECT_EQ(drain(), Bytes{0x9c});
}

TEST_F(KbcTest, A20ThroughOutputPort)
{
    cmd(0xd1);
    put(0xdd); // A20 off, reset line high
    ASSERT_EQ(board.a20, std::vector<bool>{false});
    cmd(0xd0);
    EXPECT_EQ(drain()[0] & 0x03, 0x01);
    cmd(0xd1);
    put(0xdf);
    ASSERT_EQ(board.a20, (std::vector<bool>{false, true}));
    cmd(0xd0);
    EXPECT_EQ(drain()[0] & 0x03, 0x03);
    cmd(0xdd);
    cmd(0xd0);
    EXPECT_EQ(drain()[0] & 0x03, 0x01);
    cmd(0xdf);
    EXPECT_EQ(board.a20, (std::vector<bool>{false, true, false, true}));
    EXPECT_EQ(board.resets, 0);
}

TEST_F(KbcTest, OutputPortShowsBufferFull)
{
    cmd(0xd2);
    put(0x42); // keyboard byte in the output buffer
    cmd(0xd0); // replaces it; bit 4 says it was full (IRQ 1 line)
    EXPECT_EQ(drain(), Bytes{0xdf});
}

TEST_F(KbcTest, CpuReset)
{
    cmd(0xfe);
    EXPECT_EQ(board.resets, 1);
    cmd(0xff); // pulses nothing
    cmd(0xfd); // pulses bit 1 only
    EXPECT_EQ(board.resets, 1);
    cmd(0xf0); // bit 0 included
    EXPECT_EQ(board.resets, 2);
    cmd(0xd1);
    put(0x02); // reset line low
    EXPECT_EQ(board.resets, 3);
    cmd(0xd0);
    EXPECT_EQ(drain()[0] & 0x01, 0x01); // reads back high after the pulse
}

TEST_F(KbcTest, KeyboardResetSequenceAndIrq1)
{
    put(0xff);
    EXPECT_EQ(irq1.level, 1);
    EXPECT_EQ(status() & (OBF | AUXB), OBF);
    EXPECT_EQ(data(), 0xfa);
    EXPECT_EQ(irq1.level, 1); // next byte moved in: the level went down and up
    EXPECT_EQ(irq1.raises, 2);
    EXPECT_EQ(data(), 0xaa);
    EXPECT_EQ(irq1.level, 0);
    EXPECT_EQ(status() & OBF, 0);
    EXPECT_EQ(irq12.raises, 0);
}

TEST_F(KbcTest, Irq1FollowsCommandByte)
{
    cmd_byte(0x40); // translation, no IRQ
    key({0x1c});
    EXPECT_EQ(status() & OBF, OBF);
    EXPECT_EQ(irq1.level, 0);
    cmd_byte(0x41); // enabling with a full buffer raises it
    EXPECT_EQ(irq1.level, 1);
    EXPECT_EQ(data(), 0x1e);
    EXPECT_EQ(irq1.level, 0);
}

TEST_F(KbcTest, KeyboardCommands)
{
    cmd_byte(0x00); // raw: see exactly what the keyboard sends
    put(0xf2);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xab, 0x83}));
    put(0xee);
    EXPECT_EQ(drain(), Bytes{0xee});
    put(0xed);
    put(0x07);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xfa}));
    EXPECT_EQ(k.kbd_leds, 7);
    put(0xf3);
    put(0x20);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xfa}));
    put(0xf0);
    put(0x00);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xfa, 0x02}));
    put(0x12); // not a command
    EXPECT_EQ(drain(), Bytes{0xfe});
    put(0xf6);
    EXPECT_EQ(drain(), Bytes{0xfa});
    put(0xfe); // resend: the last byte again
    EXPECT_EQ(drain(), Bytes{0xfa});
}

TEST_F(KbcTest, ScanningDisableEnable)
{
    cmd_byte(0x00);
    put(0xf5);
    EXPECT_EQ(drain(), Bytes{0xfa});
    key({0x1c});
    EXPECT_EQ(drain(), Bytes{});
    put(0xf4);
    EXPECT_EQ(drain(), Bytes{0xfa});
    key({0x1c});
    EXPECT_EQ(drain(), Bytes{0x1c});
}

TEST_F(KbcTest, TranslationToSet1)
{
    key({0x1c});       // A make
    key({0xf0, 0x1c}); // A break
    key({0x5a});       // Enter
    key({0x76});       // Esc
    key({0x83});       // F7, the one code above 0x7f
    key({0xf0, 0x83});
    EXPECT_EQ(drain(), (Bytes{0x1e, 0x9e, 0x1c, 0x01, 0x41, 0xc1}));
    key({0xe0, 0x75});       // Up
    key({0xe0, 0xf0, 0x75}); // Up release
    key({0xe0, 0x14});       // Right Ctrl
    key({0xe0, 0x1f});       // Left GUI
    EXPECT_EQ(drain(), (Bytes{0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x1d, 0xe0, 0x5b}));
    key({0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77}); // Pause
    EXPECT_EQ(drain(), (Bytes{0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5}));
    key({0xe0, 0x12, 0xe0, 0x7c}); // Print Screen
    EXPECT_EQ(drain(), (Bytes{0xe0, 0x2a, 0xe0, 0x37}));
}

TEST_F(KbcTest, TranslationTableIsComplete)
{
    // The 8042's table maps the 128 set-2 codes one-to-one onto 0x01-0x7F plus 0xFF.
    std::vector<int> seen(256, 0);
    for (int c = 0; c < 0x80; c++) {
        if (c == 0x00) continue;
        key({(uint8_t)c});
        Bytes b = drain();
        ASSERT_EQ(b.size(), 1u) << c;
        seen[b[0]]++;
    }
    key({0x00});
    EXPECT_EQ(drain(), Bytes{0xff});
    for (int v = 0x01; v < 0x80; v++) EXPECT_EQ(seen[v], 1) << std::hex << v;
}

TEST_F(KbcTest, WritingToKeyboardEnablesIt)
{
    cmd_byte(0x10); // keyboard interface disabled, no translation
    put(0xee);
    EXPECT_EQ(drain(), Bytes{0xee});
    cmd(0x20);
    EXPECT_EQ(drain(), Bytes{0x00});
}

TEST_F(KbcTest, TranslationAppliesToResponses)
{
    put(0xf0);
    put(0x00); // the set number 2 arrives translated, as on real machines
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xfa, 0x41}));
    put(0xff);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xaa}));
}

TEST_F(KbcTest, RawSet2WithoutTranslation)
{
    cmd_byte(0x01);
    key({0x1c});
    key({0xf0, 0x1c});
    key({0xe0, 0xf0, 0x75});
    EXPECT_EQ(drain(), (Bytes{0x1c, 0xf0, 0x1c, 0xe0, 0xf0, 0x75}));
}

TEST_F(KbcTest, KeyboardSet1)
{
    cmd_byte(0x01);
    put(0xf0);
    put(0x01);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xfa}));
    key({0xe0, 0xf0, 0x75});
    key({0x1c});
    EXPECT_EQ(drain(), (Bytes{0xe0, 0xc8, 0x1e}));
}

TEST_F(KbcTest, DisabledKeyboardHoldsBytes)
{
    cmd(0xad);
    key({0x1c});
    key({0xf0, 0x1c});
    EXPECT_EQ(status() & OBF, 0);
    EXPECT_EQ(irq1.level, 0);
    cmd(0xae);
    EXPECT_EQ(status() & OBF, OBF);
    EXPECT_EQ(irq1.level, 1);
    EXPECT_EQ(drain(), (Bytes{0x1e, 0x9e}));
    // Disabling through the command byte holds bytes too.
    cmd_byte(0x51);
    key({0x1c});
    EXPECT_EQ(status() & OBF, 0);
    cmd_byte(0x41);
    EXPECT_EQ(drain(), Bytes{0x1e});
}

TEST_F(KbcTest, ControllerWritesOutputBuffer)
{
    cmd_byte(0x03);
    cmd(0xd2);
    put(0x5a);
    EXPECT_EQ(status() & (OBF | AUXB), OBF);
    EXPECT_EQ(irq1.level, 1);
    EXPECT_EQ(data(), 0x5a);
    cmd(0xd3);
    put(0xa5);
    EXPECT_EQ(status() & (OBF | AUXB), OBF | AUXB);
    EXPECT_EQ(irq1.level, 0);
    EXPECT_EQ(irq12.level, 1);
    EXPECT_EQ(data(), 0xa5);
    EXPECT_EQ(irq12.level, 0);
}

TEST_F(KbcTest, MouseResetIdAndStatus)
{
    cmd_byte(0x43);
    cmd(0xa8);
    mouse_cmd(0xff);
    EXPECT_EQ(status() & (OBF | AUXB), OBF | AUXB);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xaa, 0x00}));
    mouse_cmd(0xf2);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0x00}));
    mouse_cmd(0xf3);
    mouse_cmd(40);
    mouse_cmd(0xe8);
    mouse_cmd(3);
    mouse_cmd(0xe7);
    mouse_cmd(0xf4);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa}));
    kbc_put_mouse(&k, 0, 0, 0, 1 | 4); // left and middle held
    drain();
    mouse_cmd(0xe9);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0x36, 3, 40})); // enabled, 2:1, left, middle
    mouse_cmd(0x12);
    EXPECT_EQ(drain(), Bytes{0xfe});
    mouse_cmd(0xee); // wrap mode echoes
    mouse_cmd(0x33);
    mouse_cmd(0xec);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0x33, 0xfa}));
}

TEST_F(KbcTest, MousePacketsAndIrq12)
{
    cmd_byte(0x43); // kbd and aux IRQs, translation
    cmd(0xa8);
    mouse_cmd(0xf4);
    EXPECT_EQ(irq12.level, 1);
    EXPECT_EQ(irq1.level, 0);
    EXPECT_EQ(data(), 0xfa);
    EXPECT_EQ(irq12.level, 0);
    // Left button, 5 left and 3 down on screen: x and y negative in PS/2 terms.
    kbc_put_mouse(&k, -5, 3, 0, 1);
    EXPECT_EQ(irq12.level, 1);
    EXPECT_EQ(status() & (OBF | AUXB), OBF | AUXB);
    EXPECT_EQ(drain(), (Bytes{0x39, 0xfb, 0xfd}));
    EXPECT_EQ(irq12.raises, 4);
    EXPECT_EQ(irq12.level, 0);
    // Right button, large motion: overflow bits with clamped values.
    kbc_put_mouse(&k, 300, -400, 0, 2);
    EXPECT_EQ(drain(), (Bytes{0xca, 0xff, 0xff}));
    kbc_put_mouse(&k, -300, 400, 0, 0);
    EXPECT_EQ(drain(), (Bytes{0xf8, 0x00, 0x00}));
    EXPECT_EQ(irq1.raises, 0); // translation never touches mouse bytes
}

TEST_F(KbcTest, MouseReportingDisabledOrAuxDisabled)
{
    cmd_byte(0x43);
    kbc_put_mouse(&k, 1, 1, 0, 0); // reporting off after reset
    EXPECT_EQ(drain(), Bytes{});
    cmd(0xa8);
    mouse_cmd(0xf4);
    EXPECT_EQ(drain(), Bytes{0xfa});
    cmd(0xa7); // aux interface disabled: bytes wait
    kbc_put_mouse(&k, 2, 0, 0, 0);
    EXPECT_EQ(status() & OBF, 0);
    EXPECT_EQ(irq12.level, 0);
    cmd(0xa8);
    EXPECT_EQ(drain(), (Bytes{0x08, 0x02, 0x00}));
    mouse_cmd(0xf5);
    EXPECT_EQ(drain(), Bytes{0xfa});
    kbc_put_mouse(&k, 2, 0, 0, 0);
    EXPECT_EQ(drain(), Bytes{});
}

TEST_F(KbcTest, MouseRemoteMode)
{
    cmd(0xa8);
    mouse_cmd(0xf0);
    EXPECT_EQ(drain(), Bytes{0xfa});
    kbc_put_mouse(&k, 3, 0, 0, 0);
    kbc_put_mouse(&k, 4, -2, 0, 0);
    EXPECT_EQ(drain(), Bytes{});
    mouse_cmd(0xeb);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0x08, 0x07, 0x02}));
    mouse_cmd(0xeb);
    EXPECT_EQ(drain(), (Bytes{0xfa, 0x08, 0x00, 0x00}));
}

TEST_F(KbcTest, KeyboardAndMouseInterleave)
{
    cmd_byte(0x43);
    cmd(0xa8);
    mouse_cmd(0xf4);
    drain();
    key({0x1c});
    kbc_put_mouse(&k, 1, 0, 0, 0);
    EXPECT_EQ(status() & (OBF | AUXB), OBF);
    EXPECT_EQ(data(), 0x1e);
    EXPECT_EQ(status() & (OBF | AUXB), OBF | AUXB);
    EXPECT_EQ(irq12.level, 1);
    EXPECT_EQ(drain(), (Bytes{0x08, 0x01, 0x00}));
}

TEST_F(KbcTest, QueueOverflowReportsOverrun)
{
    cmd_byte(0x00);
    for (int i = 0; i < 40; i++) key({0xf0, 0x1c});
    Bytes b = drain();
    ASSERT_EQ(b.size(), 64u + 1u); // one in the buffer, 64 queued, the last an overrun
    EXPECT_EQ(b[0], 0xf0);
    EXPECT_EQ(b.back(), 0x00);
}

TEST_F(KbcTest, SnapshotRoundTrip)
{
    cmd_byte(0x43);
    cmd(0xa8);
    mouse_cmd(0xf4);
    drain();
    key({0x1c});
    key({0xf0, 0x1c});
    cmd(0xd1); // a command waiting for its data byte

    const BusRange &r = bus->io_ranges[bus->io_index[0x60]];
    ASSERT_NE(r.ops->state, nullptr);
    ASSERT_NE(r.ops->post_load, nullptr);

    std::unique_ptr<Bus> bus2{new Bus};
    bus_init(bus2.get());
    Kbc k2;
    IrqRec i1, i12;
    Board b2;
    kbc_init(&k2, bus2.get(), IrqLine{irq_rec, &i1, 1}, IrqLine{irq_rec, &i12, 12}, board_a20,
             board_reset, &b2);
    copy_state(r.ops->state, &k, &k2);
    EXPECT_EQ(r.ops->post_load(&k2), 0);
    EXPECT_EQ(i1.level, 1);
    bus_io_write(bus2.get(), 0x60, 0xdd, 1);
    EXPECT_EQ(b2.a20, std::vector<bool>{false});
    Bytes got;
    while (bus_io_read(bus2.get(), 0x64, 1) & OBF) got.push_back(bus_io_read(bus2.get(), 0x60, 1));
    EXPECT_EQ(got, (Bytes{0x1e, 0x9e}));
    kbc_put_mouse(&k2, 1, 0, 0, 0); // mouse reporting survived
    EXPECT_EQ(i12.level, 1);
}

} // namespace

/*
 * test_qmp.cc — QMP as a management tool speaks it: the real dbt86 binary runs
 * roms/keyecho.asm with -qmp on a unix socket; the tests check QEMU's greeting,
 * capabilities negotiation, replies with ids, error classes, the events (STOP,
 * RESUME, RESET, POWERDOWN, SHUTDOWN with timestamps), human-monitor-command,
 * screendump and send-key, malformed JSON, clients that vanish mid-command, and the
 * SHUTDOWN event when the guest powers off by itself.
 */
#include <gtest/gtest.h>

#include <regex>

#include "monitor_util.h"

struct QmpClient : SockClient {
    std::vector<std::string> events;

    std::string line(double t = 10) { return read_until("\r\n", t); }
    /* Sends one command; returns its reply line, keeping events seen before it. */
    std::string exec(const std::string &json, double t = 10)
    {
        send_str(json);
        for (;;) {
            std::string l = line(t);
            if (l.empty()) return "";
            if (l.rfind("{\"timestamp\"", 0) == 0) {
                events.push_back(l);
                continue;
            }
            return l;
        }
    }
    bool saw_event(const std::string &name)
    {
        for (auto &e : events)
            if (e.find("\"event\": \"" + name + "\"") != std::string::npos) return true;
        return false;
    }
    /* Waits for an event (reading lines), true when it arrived. */
    bool wait_event(const std::string &name, double t = 10)
    {
        double end = mono_s() + t;
        while (!saw_event(name) && mono_s() < end) {
            std::string l = line(end - mono_s());
            if (l.empty()) break;
            events.push_back(l);
        }
        return saw_event(name);
    }
};

static void start_qmp(Dbt86Proc &p, QmpClient &c, bool negotiate = true)
{
    ASSERT_TRUE(p.start_keyecho(false, true));
    ASSERT_TRUE(c.connect_to(p.qmp)) << p.out_text();
    std::string g = c.line();
    ASSERT_TRUE(std::regex_match(g, std::regex("\\{\"QMP\": \\{\"version\": \\{\"qemu\": "
                                               "\\{\"micro\": [0-9]+, \"minor\": [0-9]+, "
                                               "\"major\": [0-9]+\\}, \"package\": \"[^\"]*\"\\}, "
                                               "\"capabilities\": \\[\\]\\}\\}\r\n")))
        << g;
    ASSERT_TRUE(p.wait_serial("keyecho ready\n", 20)) << p.serial_text();
    if (negotiate) {
        ASSERT_EQ(c.exec("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\r\n");
    }
}

TEST(Qmp, CapabilitiesNegotiation)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c, false);
    EXPECT_EQ(c.exec("{\"execute\": \"query-status\", \"id\": 1}"),
              "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities "
              "negotiation with 'qmp_capabilities'\"}, \"id\": 1}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Capability 'oob' not "
              "available\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"qmp_capabilities\"}"),
              "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation "
              "is already complete, command ignored\"}}\r\n");
    std::string cmds = c.exec("{\"execute\": \"query-commands\"}");
    for (const char *n : {"query-status", "human-monitor-command", "screendump", "send-key", "quit"})
        EXPECT_NE(cmds.find(std::string("{\"name\": \"") + n + "\"}"), std::string::npos) << cmds;
}

TEST(Qmp, StatusStopContWithEventsAndIds)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    EXPECT_EQ(c.exec("{\"execute\": \"query-status\", \"id\": 7}"),
              "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, "
              "\"id\": 7}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"stop\", \"id\": \"a\"}"), "{\"return\": {}, \"id\": \"a\"}\r\n");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_TRUE(std::regex_match(c.events[0],
                                 std::regex("\\{\"timestamp\": \\{\"seconds\": [0-9]+, "
                                            "\"microseconds\": [0-9]+\\}, \"event\": \"STOP\"\\}\r\n")))
        << c.events[0];
    EXPECT_EQ(c.exec("{\"execute\": \"query-status\", \"id\": {\"x\": [1, 2]}}"),
              "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}, "
              "\"id\": {\"x\": [1, 2]}}\r\n");
    /* paused: keys wait */
    EXPECT_EQ(c.exec("{\"execute\": \"send-key\", \"arguments\": {\"keys\": [{\"type\": "
                     "\"qcode\", \"data\": \"a\"}]}}"),
              "{\"return\": {}}\r\n");
    sleep_s(0.3);
    EXPECT_EQ(p.serial_text().find("k=1e"), std::string::npos);
    EXPECT_EQ(c.exec("{\"execute\": \"cont\"}"), "{\"return\": {}}\r\n");
    EXPECT_TRUE(c.saw_event("RESUME"));
    EXPECT_TRUE(p.wait_serial("k=1e\nk=9e\n", 10)) << p.serial_text();
    /* stop twice: one STOP event only */
    c.events.clear();
    c.exec("{\"execute\": \"stop\"}");
    c.exec("{\"execute\": \"stop\"}");
    EXPECT_EQ(c.events.size(), 1u);
    c.exec("{\"execute\": \"cont\"}");
    EXPECT_EQ(c.exec("{\"execute\": \"query-version\"}").rfind("{\"return\": {\"qemu\": {\"micro\": ", 0), 0u);
}

TEST(Qmp, HumanMonitorCommand)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                     "\"x /2xw 0x800000\"}}"),
              "{\"return\": \"00800000: 0xcafef00d 0x38746264\\n\"}\r\n");
    std::string r = c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": "
                           "{\"command-line\": \"info registers\"}, \"id\": 3}");
    EXPECT_NE(r.find("CR3=00010000"), std::string::npos) << r;
    EXPECT_NE(r.find("\"id\": 3"), std::string::npos) << r;
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                     "\"x /3ih 0x7c00\"}}"),
              "{\"return\": \"0x00007c00:  cli\\n0x00007c01:  xor ax, ax\\n0x00007c03:  mov ds, "
              "ax\\n\"}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                     "\"bogus\"}}"),
              "{\"return\": \"unknown command: 'bogus'\\n\"}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\"}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'command-line' is "
              "missing\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": 5}}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
              "'command-line', expected: string\"}}\r\n");
    /* HMP stop through QMP emits the event too */
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                     "\"stop\"}}"),
              "{\"return\": \"\"}\r\n");
    EXPECT_TRUE(c.saw_event("STOP"));
}

TEST(Qmp, Screendump)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    std::string png = p.dir + "/s.png";
    EXPECT_EQ(c.exec("{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"" + png + "\"}}"),
              "{\"return\": {}}\r\n");
    EXPECT_EQ(read_file(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    std::string ppm = p.dir + "/s.data";
    EXPECT_EQ(c.exec("{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"" + ppm +
                     "\", \"format\": \"ppm\"}}"),
              "{\"return\": {}}\r\n");
    EXPECT_EQ(read_file(ppm).substr(0, 3), "P6\n");
    EXPECT_EQ(c.exec("{\"execute\": \"screendump\", \"arguments\": {\"filename\": "
                     "\"/nonexistent-dir/s.png\"}, \"id\": 9}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"/nonexistent-dir/s.png: No "
              "such file or directory\"}, \"id\": 9}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"screendump\"}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'filename' is "
              "missing\"}}\r\n");
    /* the guest is still running and reading keys */
    EXPECT_NE(c.exec("{\"execute\": \"query-status\"}").find("\"running\": true"), std::string::npos);
    c.exec("{\"execute\": \"send-key\", \"arguments\": {\"keys\": [{\"type\": \"number\", "
           "\"data\": 48}], \"hold-time\": 10}}");
    EXPECT_TRUE(p.wait_serial("k=30\nk=b0\n", 10)) << p.serial_text();
}

TEST(Qmp, MalformedInput)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    std::string r = c.exec("{\"execute\": \"query-status\",}");
    EXPECT_EQ(r.rfind("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ", 0),
              0u)
        << r;
    r = c.exec("not json at all\n");
    EXPECT_EQ(r.rfind("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ", 0),
              0u)
        << r;
    r = c.exec("}");
    EXPECT_EQ(r.rfind("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ", 0),
              0u)
        << r;
    EXPECT_EQ(c.exec("[1, 2]"), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
                                "must be a JSON object\"}}\r\n");
    EXPECT_EQ(c.exec("{\"id\": 4}"), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP "
                                     "input lacks member 'execute'\"}, \"id\": 4}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": 1}"), "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                          "\"QMP input member 'execute' must be a string\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"stop\", \"foo\": 1}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'foo' is "
              "unexpected\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"stop\", \"arguments\": []}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
              "'arguments' must be an object\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"stop\", \"arguments\": {\"now\": true}}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'now' is "
              "unexpected\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"no-such-command\"}"),
              "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
              "no-such-command has not been found\"}}\r\n");
    EXPECT_EQ(c.exec("{\"execute\": \"send-key\", \"arguments\": {\"keys\": [{\"type\": "
                     "\"qcode\", \"data\": \"nosuchkey\"}]}}"),
              "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter "
              "'nosuchkey'\"}}\r\n");
    /* braces and quotes inside strings do not confuse the framing; two commands in one
     * write, one split over two writes */
    EXPECT_EQ(c.exec("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                     "\"help }{\\\"\"}}"),
              "{\"return\": \"unknown command: '}{\\\"'\\n\"}\r\n");
    c.send_str("{\"execute\": \"query-status\", \"id\": 1}{\"execute\": \"query-status\", \"id\": 2}");
    EXPECT_NE(c.line().find("\"id\": 1"), std::string::npos);
    EXPECT_NE(c.line().find("\"id\": 2"), std::string::npos);
    c.send_str("{\"execute\": \"query-");
    sleep_s(0.2);
    EXPECT_NE(c.exec("status\", \"id\": 3}").find("\"id\": 3"), std::string::npos);
    EXPECT_TRUE(p.running());
}

TEST(Qmp, ClientsMayDisconnectMidCommand)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    c.send_str("{\"execute\": \"query-sta");
    c.close_now();
    QmpClient c2;
    ASSERT_TRUE(c2.connect_to(p.qmp));
    EXPECT_EQ(c2.line().rfind("{\"QMP\": ", 0), 0u);
    /* a new client negotiates again; the old half command is gone */
    EXPECT_NE(c2.exec("{\"execute\": \"query-status\"}").find("CommandNotFound"), std::string::npos);
    EXPECT_EQ(c2.exec("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\r\n");
    /* a client that leaves with replies unread */
    c2.send_str("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                "\"xp /65536xb 0\"}}");
    c2.close_now();
    QmpClient c3;
    ASSERT_TRUE(c3.connect_to(p.qmp));
    EXPECT_EQ(c3.line(20).rfind("{\"QMP\": ", 0), 0u);
    EXPECT_EQ(c3.exec("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\r\n");
    EXPECT_NE(c3.exec("{\"execute\": \"query-status\"}").find("running"), std::string::npos);
    EXPECT_TRUE(p.running());
}

TEST(Qmp, ResetAndPowerdownEvents)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    EXPECT_EQ(c.exec("{\"execute\": \"system_reset\"}"), "{\"return\": {}}\r\n");
    ASSERT_TRUE(c.wait_event("RESET"));
    EXPECT_NE(c.events.back().find("\"data\": {\"guest\": false, \"reason\": "
                                   "\"host-qmp-system-reset\"}"),
              std::string::npos)
        << c.events.back();
    EXPECT_TRUE(p.wait_serial("keyecho ready\n", 20, 2)) << p.serial_text();
    EXPECT_EQ(c.exec("{\"execute\": \"system_powerdown\"}"), "{\"return\": {}}\r\n");
    EXPECT_TRUE(c.saw_event("POWERDOWN"));
    /* keyecho ignores ACPI: still running */
    EXPECT_NE(c.exec("{\"execute\": \"query-status\"}").find("running"), std::string::npos);
}

TEST(Qmp, QuitSendsShutdownAndEnds)
{
    Dbt86Proc p;
    QmpClient c;
    start_qmp(p, c);
    EXPECT_EQ(c.exec("{\"execute\": \"quit\", \"id\": \"q\"}"), "{\"return\": {}, \"id\": \"q\"}\r\n");
    ASSERT_TRUE(c.wait_event("SHUTDOWN"));
    EXPECT_NE(c.events.back().find("\"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}"),
              std::string::npos)
        << c.events.back();
    EXPECT_EQ(p.wait(10), 0);
    EXPECT_EQ(c.line(5), "");
    EXPECT_TRUE(c.eof);
}

TEST(Qmp, GuestPowerOffSendsShutdown)
{
    /* the demo disk powers off by itself; "server" without nowait: the machine starts
     * only once the client is there, so no event is missed */
    Dbt86Proc p;
    ASSERT_TRUE(p.start({"-display", "none", "-serial", "file:" + p.serial, "-timeout", "60",
                         "-qmp", "unix:" + p.qmp + ",server"}));
    QmpClient c;
    ASSERT_TRUE(c.connect_to(p.qmp)) << p.out_text();
    EXPECT_EQ(c.line().rfind("{\"QMP\": ", 0), 0u);
    EXPECT_EQ(c.exec("{\"execute\": \"qmp_capabilities\"}"), "{\"return\": {}}\r\n");
    ASSERT_TRUE(c.wait_event("SHUTDOWN", 60)) << p.serial_text();
    EXPECT_NE(c.events.back().find("\"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}"),
              std::string::npos)
        << c.events.back();
    EXPECT_EQ(p.wait(10), 0);
    EXPECT_NE(p.out_text().find("waiting for connection"), std::string::npos) << p.out_text();
}

TEST(Qmp, BadSocketIsOneLineError)
{
    std::string out;
    EXPECT_EQ(run_cmd(dbt86_bin() + " -display none -qmp unix:/nonexistent-dir/q.sock,server,nowait",
                      &out),
              1);
    EXPECT_NE(out.find("-qmp unix:/nonexistent-dir/q.sock,server,nowait: No such file"),
              std::string::npos)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

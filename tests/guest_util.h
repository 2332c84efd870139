/*
 * guest_util.h — helpers for guest-level tests: build a Machine from a config with
 * serial/debugcon output captured in strings, run it with a virtual-time bound, and
 * run the dbt86 binary as a user would (for command-line and exit-code tests).
 */
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

extern "C" {
#include "devices/machine.h"
}

struct GuestRun {
    std::string serial, debugcon;
    MachineConfig cfg;
    Machine *m = nullptr;
    std::string err;

    static void sink(void *o, const uint8_t *buf, size_t len)
    {
        static_cast<std::string *>(o)->append(reinterpret_cast<const char *>(buf), len);
    }

    GuestRun()
    {
        machine_config_defaults(&cfg);
        cfg.ram_mb = 64;
        cfg.serial[0] = CharSink{sink, &serial};
        cfg.debugcon = CharSink{sink, &debugcon};
        cfg.rtc_start = 1795429800; /* 2026-11-23 10:30:00 UTC */
        cfg.snapshot = true;
    }
    ~GuestRun()
    {
        if (m) machine_destroy(m);
    }
    void disk(const std::string &path, int index = 0)
    {
        DriveConfig &d = cfg.drives[cfg.n_drives++];
        d = DriveConfig{};
        d.file = strdup(path.c_str());
        d.format = "raw";
        d.index = index;
    }
    bool create()
    {
        char e[512];
        m = machine_create(&cfg, e, sizeof e);
        if (!m) err = e;
        return m != nullptr;
    }
    /* Runs until the machine stops or `vt_seconds` of virtual time pass. */
    bool run(double vt_seconds)
    {
        uint64_t end = machine_now_ns(m) + (uint64_t)(vt_seconds * 1e9);
        while (machine_now_ns(m) < end)
            if (machine_run_for(m, 10000000)) return true;
        return false;
    }
};

static inline std::string read_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

static inline std::string rom_path(const char *name)
{
    return std::string(DBT86_BUILD_ROOT) + "/roms/" + name;
}

static inline std::string data_path(const char *name)
{
    return std::string(DBT86_SOURCE_ROOT) + "/tests/data/" + name;
}

/* Runs a shell command line, captures stdout+stderr (if `out`), returns the exit
 * status (or 128 + signal). */
static inline int run_cmd(const std::string &cmd, std::string *out = nullptr)
{
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    std::string o;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.append(buf, n);
    int st = pclose(p);
    if (out) *out = o;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

static inline std::string dbt86_bin() { return std::string(DBT86_BUILD_ROOT) + "/dbt86"; }

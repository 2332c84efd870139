/*
 * monitor_util.h — helpers for the monitor and QMP tests: start the real dbt86
 * binary (fork/exec, serial to a file, stdout/stderr to a file), connect to its unix
 * sockets, and read replies with time limits so a broken monitor fails a test instead
 * of hanging it.
 */
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "guest_util.h"

static inline double mono_s()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, nullptr);
}

/* One dbt86 process with its files in a private directory. */
struct Dbt86Proc {
    pid_t pid = -1;
    std::string dir, serial, out, hmp, qmp;
    int status = -1; /* exit code once reaped (128 + signal if killed) */

    Dbt86Proc()
    {
        char d[] = "/tmp/dbt86-mon-XXXXXX";
        dir = mkdtemp(d) ? d : "/tmp";
        serial = dir + "/serial.txt";
        out = dir + "/out.txt";
        hmp = dir + "/hmp.sock";
        qmp = dir + "/qmp.sock";
    }
    ~Dbt86Proc()
    {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        run_cmd("rm -rf '" + dir + "'");
    }
    /* Starts dbt86 with args; stdin from /dev/null unless stdin_fd >= 0. */
    bool start(const std::vector<std::string> &args, int stdin_fd = -1)
    {
        std::vector<std::string> all = {dbt86_bin()};
        all.insert(all.end(), args.begin(), args.end());
        pid = fork();
        if (pid < 0) return false;
        if (pid == 0) {
            int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
            dup2(in, 0);
            dup2(o, 1);
            dup2(o, 2);
            std::vector<char *> argv;
            for (auto &a : all) argv.push_back(const_cast<char *>(a.c_str()));
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        return true;
    }
    /* The keyecho guest with a monitor and/or QMP on unix sockets (nowait). */
    bool start_keyecho(bool with_hmp, bool with_qmp, std::vector<std::string> extra = {})
    {
        std::vector<std::string> a = {"-display", "none", "-serial", "file:" + serial,
                                      "-hda", rom_path("keyecho.img"), "-snapshot",
                                      "-timeout", "60"};
        if (with_hmp) a.insert(a.end(), {"-monitor", "unix:" + hmp + ",server,nowait"});
        if (with_qmp) a.insert(a.end(), {"-qmp", "unix:" + qmp + ",server,nowait"});
        a.insert(a.end(), extra.begin(), extra.end());
        return start(a);
    }
    /* Waits for the process to end; its exit code, or -1 after timeout_s. */
    int wait(double timeout_s)
    {
        if (pid <= 0) return status;
        double end = mono_s() + timeout_s;
        while (mono_s() < end) {
            int st;
            pid_t r = waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                pid = -1;
                status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                return status;
            }
            sleep_s(0.02);
        }
        return -1;
    }
    bool running() { return wait(0) == -1 && pid > 0; }
    std::string serial_text() { return read_file(serial); }
    std::string out_text() { return read_file(out); }
    /* Waits until the serial output contains needle `count` times. */
    bool wait_serial(const std::string &needle, double timeout_s, int count = 1)
    {
        double end = mono_s() + timeout_s;
        do {
            std::string s = serial_text();
            int n = 0;
            for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) n++;
            if (n >= count) return true;
            sleep_s(0.02);
        } while (mono_s() < end);
        return false;
    }
};

/* A client of a unix socket with a receive buffer. */
struct SockClient {
    int fd = -1;
    std::string buf;

    ~SockClient() { close_now(); }
    bool connect_to(const std::string &path, double timeout_s = 10)
    {
        double end = mono_s() + timeout_s;
        buf.clear();
        do {
            fd = socket(AF_UNIX, SOCK_STREAM, 0);
            struct sockaddr_un a = {};
            a.sun_family = AF_UNIX;
            snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
            if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) return true;
            close(fd);
            fd = -1;
            sleep_s(0.02);
        } while (mono_s() < end);
        return false;
    }
    void close_now()
    {
        if (fd >= 0) close(fd);
        fd = -1;
    }
    bool send_str(const std::string &s)
    {
        return fd >= 0 && ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == (ssize_t)s.size();
    }
    /* Reads until buf holds needle; returns the text up to and including it (and
     * removes it from buf), or "" after timeout_s / at EOF (eof set). */
    bool eof = false;
    std::string read_until(const std::string &needle, double timeout_s = 10)
    {
        double end = mono_s() + timeout_s;
        for (;;) {
            size_t p = buf.find(needle);
            if (p != std::string::npos) {
                std::string r = buf.substr(0, p + needle.size());
                buf.erase(0, p + needle.size());
                return r;
            }
            double left = end - mono_s();
            if (left <= 0 || fd < 0) return "";
            struct pollfd pf = {fd, POLLIN, 0};
            if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0) continue;
            char b[65536];
            ssize_t n = recv(fd, b, sizeof b, 0);
            if (n <= 0) {
                eof = true;
                return "";
            }
            buf.append(b, n);
        }
    }
};

/* HMP: one command, its output without the prompt that follows. */
static inline std::string hmp_cmd(SockClient &c, const std::string &cmd, double timeout_s = 10)
{
    c.send_str(cmd + "\n");
    std::string r = c.read_until("(qemu) ", timeout_s);
    if (r.size() >= 7) r.erase(r.size() - 7);
    return r;
}

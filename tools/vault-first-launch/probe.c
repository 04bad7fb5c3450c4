/* SPDX-License-Identifier: MIT */
/*
 * The session-start probe: one rename across mounts, as Obsidian would make it.  Its target
 * folder is shared, so everything about it must hold whatever a colleague does there: its
 * name cannot be predicted (nobody can plant it or hold its lock beforehand), and it runs in
 * a child that is stopped at FL_PROBE_BOUND_MS.  The child is where the shim writes its
 * audit line (VAULTSHIM_LOG: the image's log, else a memory file of ours), so that a move
 * the shim did not emulate is reported with the shim's own reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "journal/journal.h"
#include "probe.h"

/* The shim's bound of one call (vaultshim(7)), and time to copy 16 bytes and exit. */
#define FL_PROBE_BOUND_MS (VS_MOVE_BOUND_MS + 2000)
#define LOG_TAIL_MAX (1024 * 1024) /* the probe's line is among the last ones */

/* What each reason of a "not-emulated" line means, for the report. */
static const struct {
        const char *word, *meaning;
} reasons[] = {
        { VS_NOT_EMULATED_NO_JOURNAL, "no private journal is configured (VAULTSHIM_JOURNAL, "
                                      "XDG_STATE_HOME and HOME unset, or not absolute)" },
        { VS_NOT_EMULATED_JOURNAL_UNUSABLE,
          "the private journal cannot be used (it cannot be made, or is not a directory of "
          "this user that nobody else can write)" },
        { VS_JOURNAL_PERSONAL_UNKNOWN,
          "VAULTSHIM_JOURNAL is in the vault and VAULTSHIM_PERSONAL names no personal folder" },
        { VS_JOURNAL_OUTSIDE_PERSONAL,
          "VAULTSHIM_JOURNAL is in a vault folder other than the personal one" },
        { VS_JOURNAL_OTHER_MOUNT,
          "VAULTSHIM_JOURNAL is on a folder mounted inside the personal one" },
        { VS_NOT_EMULATED_MOUNT_POINT, "a mount point is never copied" },
        { VS_NOT_EMULATED_SPECIAL, "sockets and devices are never copied" },
        { VS_NOT_EMULATED_TOO_DEEP, "the tree is deeper than the descriptor budget" },
        { VS_NOT_EMULATED_FLAGS, "only the kernel can exchange or whiteout" },
};

static const char *meaning_of(const char *word)
{
        for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
                if (strcmp(reasons[i].word, word) == 0)
                        return reasons[i].meaning;
        return "a reason this vault-first-launch does not know";
}

/* .vaultshim-probe- and 128 random bits. */
static int probe_name(char *buf, size_t size)
{
        unsigned char nonce[16];
        if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
                return -EIO;
        int n = snprintf(buf, size, ".vaultshim-probe-");
        for (size_t i = 0; i < sizeof(nonce) && n > 0 && (size_t)n + 2 < size; i++)
                n += snprintf(buf + n, size - (size_t)n, "%02x", nonce[i]);
        return 0;
}

/*
 * rename(from, to) in a child, logging to log_fd when >= 0: its errno (0 on success),
 * -ETIMEDOUT when it was stopped at the bound, or another negative errno.
 */
static int rename_in_child(const char *from, const char *to, int log_fd)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", log_fd);
                if (log_fd >= 0)
                        setenv("VAULTSHIM_LOG", path, 1);
                _exit(rename(from, to) == 0 ? 0 : errno > 0 && errno < 256 ? errno : 255);
        }
        int64_t deadline = (int64_t)vs_now_ms() + FL_PROBE_BOUND_MS;
        int status;
        for (;;) {
                pid_t done = waitpid(pid, &status, WNOHANG);
                if (done == pid)
                        break;
                if (done < 0 && errno != EINTR)
                        return -errno;
                if ((int64_t)vs_now_ms() >= deadline) {
                        kill(pid, SIGKILL);
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        return -ETIMEDOUT;
                }
                struct timespec pause = { 0, 5 * 1000000L };
                nanosleep(&pause, NULL);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}

/* The reason of the probe's "not-emulated" line in the log from offset on (NULL: none);
 * the probe's name is in no other line. */
static char *reason_in_log(int fd, off_t offset, const char *name)
{
        char *text = malloc(LOG_TAIL_MAX + 1), *reason = NULL;
        ssize_t n = text ? pread(fd, text, LOG_TAIL_MAX, offset) : -1;
        if (n <= 0) {
                free(text);
                return NULL;
        }
        text[n] = '\0';
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && !reason;
             line = strtok_r(NULL, "\n", &save)) {
                if (!strstr(line, name))
                        continue;
                json_t *doc = json_loads(line, 0, NULL);
                const char *result = json_string_value(json_object_get(doc, "result"));
                const char *why = json_string_value(json_object_get(doc, "reason"));
                if (result && strcmp(result, "not-emulated") == 0 && why)
                        reason = strdup(why);
                json_decref(doc);
        }
        free(text);
        return reason;
}

/* Where the shim in the child logs: the image's VAULTSHIM_LOG (read from its end as it is
 * now), else a memory file; -1 when neither can be read. */
static int open_log(off_t *offset)
{
        const char *log = getenv("VAULTSHIM_LOG");
        *offset = 0;
        if (!log || !*log)
                return memfd_create("vaultshim-probe-log", MFD_CLOEXEC);
        int fd = open(log, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
                close(fd);
                return -1;
        }
        if (fd >= 0)
                *offset = st.st_size;
        return fd;
}

static void report_exdev(struct fl_report *r, const char *from_dir, const char *to_dir,
                         const char *reason, const char *fix)
{
        if (reason)
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "probe: moving a file from %s to %s failed with EXDEV: the shim "
                              "is active but did not emulate the move (%s: %s), so Obsidian "
                              "cannot move notes between folders",
                              from_dir, to_dir, reason, meaning_of(reason));
        else
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "probe: moving a file from %s to %s failed with EXDEV: the shim "
                              "is not active, so Obsidian cannot move notes between folders; "
                              "fix: %s",
                              from_dir, to_dir, fix);
}

void fl_probe_rename(struct fl_report *r, const char *from_dir, const char *to_dir,
                     const char *fix)
{
        char *from = NULL, *to = NULL, name[64];
        int e = probe_name(name, sizeof(name));
        if (e < 0) {
                fl_report_add(r, VS_SEVERITY_WARNING, "shim", "probe skipped: no random name: %s",
                              strerror(-e));
                return;
        }
        if (asprintf(&from, "%s/%s", from_dir, name) < 0 ||
            asprintf(&to, "%s/%s", to_dir, name) < 0)
                abort();
        off_t offset;
        int log_fd = -1;
        int fd = open(from, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                      0600);
        if (fd < 0) {
                fl_report_add(r, VS_SEVERITY_WARNING, "shim", "probe: cannot create %s: %s", from,
                              strerror(errno));
                goto out;
        }
        (void)!write(fd, "vaultshim probe\n", 16);
        close(fd);
        log_fd = open_log(&offset);
        e = rename_in_child(from, to, log_fd);
        if (e == 0) {
                fl_report_add(r, VS_SEVERITY_OK, "shim",
                              "probe: moved a file from %s to %s across mounts", from_dir, to_dir);
        } else if (e == EXDEV) {
                char *reason = log_fd >= 0 ? reason_in_log(log_fd, offset, name) : NULL;
                report_exdev(r, from_dir, to_dir, reason, fix);
                free(reason);
        } else if (e == -ETIMEDOUT) {
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "probe: moving %s to %s did not finish within %d s and was "
                              "stopped", from, to, FL_PROBE_BOUND_MS / 1000);
        } else {
                fl_report_add(r, VS_SEVERITY_WARNING, "shim", "probe: moving %s to %s failed: %s",
                              from, to, strerror(e > 0 ? e : -e));
        }
out:
        if (log_fd >= 0)
                close(log_fd);
        (void)unlink(from);
        (void)unlink(to);
        free(from);
        free(to);
}

/* SPDX-License-Identifier: MIT */
/*
 * vs-blockrec: the recording half of the power-cut instrument.
 *
 * Serves each IMAGE as a FUSE file disk0, disk1, ... under MOUNTPOINT, to be the backing
 * file of a loop device.  The loop driver hands every block write to the backing file as a
 * write, every flush (REQ_PREFLUSH, and the flush that emulates FUA) as an fsync, and every
 * discard or zeroing as an fallocate, so the daemon sees the device's traffic in the order
 * the device would have received it.  It applies each to IMAGE and appends it to LOG:
 * one global order across all disks, so one cut is one instant on every device.
 *
 * A write to the file "marker" appends a marker record holding the written text; the test
 * driver marks where the move under test starts and ends.
 *
 * A write of "replay DISK PATH" to the file "control" stops the log and serves PATH as
 * disk DISK from then on: the replay mounts each crash state through the same loop device,
 * so the filesystem comes back with the device number it had, as after a reboot.
 *
 * LOG records, native endianness: struct blockrec_header, then `length` bytes of payload
 * for BLOCKREC_WRITE (the data) and BLOCKREC_MARKER (the text).
 *
 * usage: vs-blockrec LOG MOUNTPOINT IMAGE...   (runs in the foreground until unmounted)
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockrec-log.h"

#define MAX_DISKS 4
#define MARKER_FILE "marker"
#define CONTROL_FILE "control"

struct recorder {
	int log_fd;
	int disk_fds[MAX_DISKS];
	int disk_count;
	uint64_t sequence;
	bool replaying;
};

static struct recorder *recorder_of_context(void)
{
	return fuse_get_context()->private_data;
}

/* "disk<N>" → N, or -ENOENT. */
static int disk_index(const char *path)
{
	if (strncmp(path, "/disk", 5) != 0 || path[5] < '0' || path[5] > '9' || path[6] != '\0')
		return -ENOENT;
	int index = path[5] - '0';
	return index < recorder_of_context()->disk_count ? index : -ENOENT;
}

static bool is_driver_file(const char *path)
{
	return strcmp(path, "/" MARKER_FILE) == 0 || strcmp(path, "/" CONTROL_FILE) == 0;
}

/* "replay DISK PATH": stop logging, serve PATH as disk DISK (same size, or the loop device
 * would read past its end). */
static int control(const char *buf, size_t size)
{
	char command[4096];
	if (size >= sizeof(command))
		return -EINVAL;
	memcpy(command, buf, size);
	command[size] = '\0';
	command[strcspn(command, "\n")] = '\0';
	if (strncmp(command, "replay ", 7) != 0 || command[7] < '0' || command[7] > '9' ||
	    command[8] != ' ')
		return -EINVAL;
	struct recorder *rec = recorder_of_context();
	int disk = command[7] - '0';
	if (disk >= rec->disk_count)
		return -EINVAL;
	int fd = open(command + 9, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat old_st, new_st;
	if (fstat(rec->disk_fds[disk], &old_st) < 0 || fstat(fd, &new_st) < 0 ||
	    old_st.st_size != new_st.st_size) {
		close(fd);
		return -EINVAL;
	}
	close(rec->disk_fds[disk]);
	rec->disk_fds[disk] = fd;
	rec->replaying = true;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One record, header and payload; the log is the instrument, so a failure to log fails the
 * device operation rather than silently missing from the replay. */
static int log_record(uint32_t kind, int disk, uint64_t offset, const void *payload,
		      uint64_t length)
{
	struct recorder *rec = recorder_of_context();
	if (rec->replaying)
		return 0;
	struct blockrec_header header = {
		.magic = BLOCKREC_MAGIC,
		.kind = kind,
		.disk = (uint32_t)disk,
		.sequence = rec->sequence++,
		.offset = offset,
		.length = length,
	};
	int err = write_all(rec->log_fd, &header, sizeof(header));
	if (err == 0 && payload)
		err = write_all(rec->log_fd, payload, length);
	return err;
}

static int rec_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (is_driver_file(path)) {
		st->st_mode = S_IFREG | 0200;
		st->st_nlink = 1;
		return 0;
	}
	int index = disk_index(path);
	if (index < 0)
		return index;
	if (fstat(recorder_of_context()->disk_fds[index], st) < 0)
		return -errno;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	return 0;
}

static int rec_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	if (strcmp(path, "/") != 0)
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, MARKER_FILE, NULL, 0, 0);
	fill(buf, CONTROL_FILE, NULL, 0, 0);
	char name[] = "disk0";
	for (int i = 0; i < recorder_of_context()->disk_count; i++) {
		name[4] = (char)('0' + i);
		fill(buf, name, NULL, 0, 0);
	}
	return 0;
}

static int rec_open(const char *path, struct fuse_file_info *fi)
{
	if (is_driver_file(path)) {
		fi->direct_io = 1;
		return 0;
	}
	int index = disk_index(path);
	if (index < 0)
		return index;
	/* No page cache between the loop device and the log: every block write reaches us
	 * when the device issues it, not when FUSE's writeback decides. */
	fi->direct_io = 1;
	fi->fh = (uint64_t)index;
	return 0;
}

static int rec_read(const char *path, char *buf, size_t size, off_t offset,
		    struct fuse_file_info *fi)
{
	if (is_driver_file(path))
		return 0;
	ssize_t n = pread(recorder_of_context()->disk_fds[fi->fh], buf, size, offset);
	return n < 0 ? -errno : (int)n;
}

static int rec_write(const char *path, const char *buf, size_t size, off_t offset,
		     struct fuse_file_info *fi)
{
	if (strcmp(path, "/" MARKER_FILE) == 0) {
		int err = log_record(BLOCKREC_MARKER, 0, 0, buf, size);
		return err < 0 ? err : (int)size;
	}
	if (strcmp(path, "/" CONTROL_FILE) == 0) {
		int err = control(buf, size);
		return err < 0 ? err : (int)size;
	}
	int fd = recorder_of_context()->disk_fds[fi->fh];
	ssize_t n = pwrite(fd, buf, size, offset);
	if (n < 0)
		return -errno;
	int err = log_record(BLOCKREC_WRITE, (int)fi->fh, (uint64_t)offset, buf, (uint64_t)n);
	return err < 0 ? err : (int)n;
}

/* The loop driver turns a device flush into vfs_fsync of its backing file. */
static int rec_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	if (is_driver_file(path))
		return 0;
	return log_record(BLOCKREC_FLUSH, (int)fi->fh, 0, NULL, 0);
}

/* Discard and write-zeroes arrive as hole punching or zeroing: both make the range read as
 * zeros, which is how the replay applies them. */
static int rec_fallocate(const char *path, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	if (is_driver_file(path))
		return -EOPNOTSUPP;
	int fd = recorder_of_context()->disk_fds[fi->fh];
	if (fallocate(fd, mode, offset, length) < 0)
		return -errno;
	if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) == 0)
		return 0;
	return log_record(BLOCKREC_ZERO, (int)fi->fh, (uint64_t)offset, NULL, (uint64_t)length);
}

static int rec_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	/* The driver's files are opened with O_TRUNC by shells; the disks never change size. */
	return is_driver_file(path) ? 0 : -EPERM;
}

static const struct fuse_operations recorder_operations = {
	.getattr = rec_getattr,
	.readdir = rec_readdir,
	.open = rec_open,
	.read = rec_read,
	.write = rec_write,
	.fsync = rec_fsync,
	.fallocate = rec_fallocate,
	.truncate = rec_truncate,
};

int main(int argc, char **argv)
{
	if (argc < 4 || argc - 3 > MAX_DISKS) {
		fprintf(stderr, "usage: vs-blockrec LOG MOUNTPOINT IMAGE...  (at most %d images)\n",
			MAX_DISKS);
		return 2;
	}
	/* A daemon left behind by a killed test would hold its mount point. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	struct recorder rec = { .disk_count = argc - 3 };
	rec.log_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (rec.log_fd < 0) {
		fprintf(stderr, "vs-blockrec: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (int i = 0; i < rec.disk_count; i++) {
		rec.disk_fds[i] = open(argv[3 + i], O_RDWR | O_CLOEXEC);
		if (rec.disk_fds[i] < 0) {
			fprintf(stderr, "vs-blockrec: %s: %s\n", argv[3 + i], strerror(errno));
			return 1;
		}
	}
	/* Single-threaded: requests are handled, and therefore logged, one at a time in the
	 * order the kernel queued them. */
	char *fuse_argv[] = { argv[0], "-f", "-s", "-o", "fsname=vs-blockrec", argv[2], NULL };
	int status = fuse_main(6, fuse_argv, &recorder_operations, &rec);
	if (close(rec.log_fd) < 0 && status == 0)
		status = 1;
	return status;
}

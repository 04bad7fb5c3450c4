/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "move/internal.h"

int vs_temp_name(char *buf, size_t size, const char *prefix)
{
        static unsigned counter;
        uint64_t nonce;
        if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce)) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                nonce = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
        }
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_puts(&b, prefix);
        vs_buf_putx(&b, (uint64_t)getpid(), 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, nonce, 0);
        return b.overflow ? -ENAMETOOLONG : 0;
}

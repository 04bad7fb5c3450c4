/* SPDX-License-Identifier: MIT */
/*
 * Which Kasm URLs the client accepts (tools/vault-orchestrator/http.c): https:// anywhere,
 * http:// only to a loopback address, nothing else; and that a refused connection is retried
 * with backoff and then reported as refused.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"

static void url_table(void **state)
{
        static const struct {
                const char *url;
                int result;
        } cases[] = {
                { "https://kasm.example.com", 0 },
                { "https://10.0.0.5:8443/", 0 },
                { "http://127.0.0.1:8080", 0 },
                { "http://127.1.2.3", 0 },
                { "http://localhost:9000", 0 },
                { "http://LOCALHOST", 0 },
                { "http://[::1]:8443", 0 },
                { "http://kasm.example.com", -EINVAL },
                { "http://10.0.0.5", -EINVAL },
                { "http://128.0.0.1", -EINVAL },
                { "http://[::2]", -EINVAL },
                { "http://localhost.evil.example", -EINVAL },
                { "ftp://127.0.0.1", -EINVAL },
                { "kasm.example.com", -EINVAL },
                { "", -EINVAL },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char why[HTTP_ERROR_MAX] = "";
                int r = http_check_url(cases[i].url, why);
                if (r != cases[i].result)
                        fail_msg("%s: %d (%s), expected %d", cases[i].url, r, why,
                                 cases[i].result);
                if (r < 0)
                        assert_true(why[0] != '\0');
        }
}

/* A port nobody listens on: bind one, note it, close it. */
static int free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static void refused_is_retried_then_reported(void **state)
{
        struct http_client c;
        struct http_reply reply = { 0 };
        char url[64], why[HTTP_ERROR_MAX] = "";
        (void)state;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
        assert_int_equal(http_client_init(&c, url, NULL, 5, why), 0);
        c.backoff_ms = 1;
        assert_int_equal(http_post(&c, "/api/public/get_users", "{}", &reply, why), -ECONNREFUSED);
        assert_int_equal(c.retries, c.attempts - 1);
        assert_null(reply.body);
        http_client_clear(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(url_table),
                cmocka_unit_test(refused_is_retried_then_reported),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * HTTPS POSTs of JSON with retries: the transport under kasm-api.c, and nothing of Kasm's.
 * TLS is always verified (a CA bundle may be named); plain http:// is accepted only to a
 * loopback address.  A request that meets a 5xx, a 429, a timeout or a refused or dropped
 * connection is retried with exponential backoff; any other answer is returned as it came.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_ERROR_MAX 512

struct http_client {
        void *curl;                 /* CURL * */
        char *base;                 /* the URL without a trailing '/' */
        long timeout;               /* seconds per attempt */
        unsigned attempts;          /* per request, the first included */
        unsigned backoff_ms;        /* before the second attempt; doubled each time */
        volatile sig_atomic_t *stop; /* set by a signal: give up waiting between attempts */
        unsigned retries;           /* counted over the client's life */
};

struct http_reply {
        long status;
        char *body;                 /* NUL-terminated */
        size_t len;
};

/* Whether url may be used: https://, or http:// to 127.0.0.0/8, ::1 or localhost.  0, or
 * -EINVAL with why (HTTP_ERROR_MAX bytes). */
int http_check_url(const char *url, char why[HTTP_ERROR_MAX]);

/* 0, or -EINVAL (the URL, with why) / -ENOMEM. */
int http_client_init(struct http_client *c, const char *url, const char *cacert, long timeout,
                     char why[HTTP_ERROR_MAX]);
void http_client_clear(struct http_client *c);

/* POST body (JSON) to <base><path>.  0 with *reply for any HTTP answer (after retries for 5xx
 * and 429: the last one); else -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET, -EHOSTUNREACH, -EPROTO
 * (TLS: the certificate was refused), -EINTR (stopped) or -EIO, with why.  why never holds
 * the body (it carries the key). */
int http_post(struct http_client *c, const char *path, const char *body, struct http_reply *reply,
              char why[HTTP_ERROR_MAX]);
void http_reply_clear(struct http_reply *reply);

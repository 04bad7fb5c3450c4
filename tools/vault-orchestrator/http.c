/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"

static bool loopback_host(const char *host)
{
        struct in_addr v4;
        struct in6_addr v6;
        char bare[INET6_ADDRSTRLEN + 2];
        size_t n = strlen(host);
        if (strcasecmp(host, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, host, &v4) == 1)
                return (ntohl(v4.s_addr) >> 24) == 127;
        if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(bare)) {
                memcpy(bare, host + 1, n - 2);
                bare[n - 2] = '\0';
                host = bare;
        }
        return inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

int http_check_url(const char *url, char why[HTTP_ERROR_MAX])
{
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL;
        int r = -EINVAL;
        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
                snprintf(why, HTTP_ERROR_MAX, "not a URL");
        } else if (strcasecmp(scheme, "https") == 0) {
                r = 0;
        } else if (strcasecmp(scheme, "http") != 0) {
                snprintf(why, HTTP_ERROR_MAX,
                         "the scheme must be https:// (http:// only to "
                         "a loopback address)");
        } else if (!loopback_host(host)) {
                snprintf(why, HTTP_ERROR_MAX,
                         "http:// is accepted only to a loopback address (127.0.0.0/8, ::1, "
                         "localhost): the API key would cross the network in clear");
        } else {
                r = 0;
        }
        curl_free(scheme);
        curl_free(host);
        curl_url_cleanup(u);
        return r;
}

int http_client_init(struct http_client *c, const char *url, const char *cacert, long timeout,
                     char why[HTTP_ERROR_MAX])
{
        static bool global_done;
        int r = http_check_url(url, why);
        if (r < 0)
                return r;
        if (!global_done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                        snprintf(why, HTTP_ERROR_MAX, "libcurl could not start");
                        return -ENOMEM;
                }
                global_done = true;
        }
        *c = (struct http_client){ .timeout = timeout, .attempts = 6, .backoff_ms = 200 };
        c->base = strdup(url);
        c->curl = curl_easy_init();
        if (!c->base || !c->curl) {
                http_client_clear(c);
                snprintf(why, HTTP_ERROR_MAX, "out of memory");
                return -ENOMEM;
        }
        for (size_t n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--)
                c->base[n - 1] = '\0';
        CURL *curl = c->curl;
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* the key goes nowhere else */
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        if (cacert)
                curl_easy_setopt(curl, CURLOPT_CAINFO, cacert);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "vault-orchestrator/" VS_VERSION);
        return 0;
}

void http_client_clear(struct http_client *c)
{
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->base);
        *c = (struct http_client){ 0 };
}

void http_reply_clear(struct http_reply *reply)
{
        free(reply->body);
        *reply = (struct http_reply){ 0 };
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
        struct http_reply *reply = user;
        size_t len = size * n;
        if (reply->len + len > ((size_t)256 << 20))
                return 0; /* a reply larger than any Kasm's: refuse rather than exhaust memory */
        char *grown = realloc(reply->body, reply->len + len + 1);
        if (!grown)
                return 0;
        memcpy(grown + reply->len, data, len);
        reply->body = grown;
        reply->len += len;
        reply->body[reply->len] = '\0';
        return len;
}

/* The errno a transport failure stands for, and whether trying again may help. */
static int transport_errno(CURLcode code, bool *retry)
{
        *retry = true;
        switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
                return -EHOSTUNREACH;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
                *retry = code == CURLE_SSL_CONNECT_ERROR;
                return -EPROTO;
        default:
                *retry = false;
                return -EIO;
        }
}

/* Sleep ms unless stopped; false when stopped. */
static bool backoff(const struct http_client *c, unsigned ms)
{
        struct timespec left = { ms / 1000, (long)(ms % 1000) * 1000000L };
        while (!(c->stop && *c->stop) && nanosleep(&left, &left) < 0 && errno == EINTR)
                ;
        return !(c->stop && *c->stop);
}

int http_post(struct http_client *c, const char *path, const char *body, struct http_reply *reply,
              char why[HTTP_ERROR_MAX])
{
        CURL *curl = c->curl;
        struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
        char *url = NULL, errbuf[CURL_ERROR_SIZE];
        unsigned delay = c->backoff_ms;
        int r = -EIO;
        if (!headers || asprintf(&url, "%s%s", c->base, path) < 0) {
                curl_slist_free_all(headers);
                snprintf(why, HTTP_ERROR_MAX, "out of memory");
                return -ENOMEM;
        }
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        for (unsigned attempt = 1;; attempt++) {
                struct http_reply got = { 0 };
                bool retry;
                errbuf[0] = '\0';
                curl_easy_setopt(curl, CURLOPT_WRITEDATA, &got);
                CURLcode code = curl_easy_perform(curl);
                if (code == CURLE_OK) {
                        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &got.status);
                        if (!got.body && !(got.body = strdup("")))
                                code = CURLE_OUT_OF_MEMORY;
                }
                if (code == CURLE_OK) {
                        retry = got.status == 429 || got.status >= 500;
                        if (!retry || attempt >= c->attempts) {
                                *reply = got;
                                r = 0;
                                break;
                        }
                        snprintf(why, HTTP_ERROR_MAX, "HTTP %ld", got.status);
                } else {
                        r = transport_errno(code, &retry);
                        snprintf(why, HTTP_ERROR_MAX, "%s",
                                 errbuf[0] ? errbuf : curl_easy_strerror(code));
                }
                http_reply_clear(&got);
                if (!retry || attempt >= c->attempts)
                        break;
                c->retries++;
                if (!backoff(c, delay)) {
                        snprintf(why, HTTP_ERROR_MAX, "stopped while retrying");
                        r = -EINTR;
                        break;
                }
                delay *= 2;
        }
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(headers);
        free(url);
        return r;
}

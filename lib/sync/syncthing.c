/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "sync/sync.h"

#define X(s) ((const xmlChar *)(s))

/* Every edit goes through these helpers so we know whether anything changed. */
struct editor {
        xmlDocPtr doc;
        bool changed;
};

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
        for (xmlNodePtr c = parent->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, X(name)))
                        return c;
        return NULL;
}

static bool attr_is(xmlNodePtr n, const char *name, const char *value)
{
        xmlChar *v = xmlGetProp(n, X(name));
        bool same = v && xmlStrEqual(v, X(value));
        xmlFree(v);
        return same;
}

static void set_attr(struct editor *e, xmlNodePtr n, const char *name, const char *value)
{
        if (!attr_is(n, name, value)) {
                xmlSetProp(n, X(name), X(value));
                e->changed = true;
        }
}

/* Set an attribute only when it is absent: the zero value Syncthing would use is wrong. */
static void default_attr(struct editor *e, xmlNodePtr n, const char *name, const char *value)
{
        if (!xmlHasProp(n, X(name))) {
                xmlSetProp(n, X(name), X(value));
                e->changed = true;
        }
}

static bool text_is(xmlNodePtr n, const char *value)
{
        xmlChar *v = xmlNodeGetContent(n);
        bool same = v && xmlStrEqual(v, X(value));
        xmlFree(v);
        return same;
}

/* The child element <name>, created with value if missing; with overwrite, set to value. */
static xmlNodePtr put_child(struct editor *e, xmlNodePtr parent, const char *name,
                            const char *value, bool overwrite)
{
        xmlNodePtr c = child(parent, name);
        if (!c) {
                c = xmlNewTextChild(parent, NULL, X(name), X(value));
                e->changed = true;
        } else if (overwrite && !text_is(c, value)) {
                xmlNodeSetContent(c, NULL);
                xmlNodeAddContent(c, X(value));
                e->changed = true;
        }
        return c;
}

/*
 * Syncthing fills what config.xml omits with Go zero values, not with its defaults
 * (rescanIntervalS=0, maxConflicts=0, ...), and turns the watcher off when fsWatcherDelayS
 * is missing.  So every folder gets these written out, and a user's own values are kept.
 */
static const char *const folder_attrs[][2] = {
        {"rescanIntervalS", "3600"}, {"fsWatcherEnabled", "true"}, {"fsWatcherDelayS", "10"},
        {"ignorePerms", "false"},    {"autoNormalize", "true"},
};

static const char *const folder_elements[][2] = {
        {"filesystemType", "basic"},
        {"minDiskFree", "1"},
        {"copiers", "0"},
        {"pullerMaxPendingKiB", "0"},
        {"hashers", "0"},
        {"order", "random"},
        {"ignoreDelete", "false"},
        {"scanProgressIntervalS", "0"},
        {"pullerPauseS", "0"},
        {"maxConflicts", "10"},
        {"disableSparseFiles", "false"},
        {"disableTempIndexes", "false"},
        {"paused", "false"},
        {"weakHashThresholdPct", "25"},
        {"markerName", ".stfolder"},
        {"copyOwnershipFromParent", "false"},
        {"modTimeWindowS", "0"},
        {"maxConcurrentWrites", "2"},
        {"disableFsync", "false"},
        {"blockPullOrder", "standard"},
        {"copyRangeMethod", "standard"},
        {"caseSensitiveFS", "false"},
        {"junctionsAsDirs", "false"},
};

/* Options that would reach beyond the container's own network; always enforced. */
static const char *const safe_options[][2] = {
        {"globalAnnounceEnabled", "false"}, {"relaysEnabled", "false"},
        {"natEnabled", "false"},            {"urAccepted", "-1"},
        {"autoUpgradeIntervalH", "0"},      {"crashReportingEnabled", "false"},
        {"startBrowser", "false"},          {"stunKeepaliveStartS", "0"},
};

/* Used only when there is no config.xml at all (normally `syncthing generate` made one). */
static const char fresh_config[] =
        "<configuration version=\"36\">"
        "<gui enabled=\"true\" tls=\"false\" debugging=\"false\"><address>127.0.0.1:8384</address>"
        "<theme>default</theme></gui>"
        "<options><listenAddress>default</listenAddress>"
        "<globalAnnounceServer>default</globalAnnounceServer>"
        "<localAnnounceEnabled>true</localAnnounceEnabled><localAnnouncePort>21027</"
        "localAnnouncePort>"
        "<localAnnounceMCAddr>[ff12::8384]:21027</localAnnounceMCAddr>"
        "<reconnectionIntervalS>60</reconnectionIntervalS>"
        "<relayReconnectIntervalM>10</relayReconnectIntervalM>"
        "<natLeaseMinutes>60</natLeaseMinutes><natRenewalMinutes>30</natRenewalMinutes>"
        "<natTimeoutSeconds>10</natTimeoutSeconds><urInitialDelayS>1800</urInitialDelayS>"
        "<restartOnWakeup>true</restartOnWakeup><keepTemporariesH>24</keepTemporariesH>"
        "<progressUpdateIntervalS>5</progressUpdateIntervalS>"
        "<minHomeDiskFree unit=\"%\">1</minHomeDiskFree><tempIndexMinBlocks>10</tempIndexMinBlocks>"
        "<setLowPriority>true</setLowPriority><stunKeepaliveMinS>20</stunKeepaliveMinS>"
        "<stunServer>default</stunServer><databaseTuning>auto</databaseTuning>"
        "<announceLANAddresses>true</announceLANAddresses></options>"
        "</configuration>";

static int random_key(char out[33])
{
        static const char alphabet[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        unsigned char raw[32];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return -errno;
        for (size_t i = 0; i < 32; i++)
                out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
        out[32] = '\0';
        return 0;
}

/* libxml2 2.12 made the structured error const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *vs_xml_error;
#else
typedef xmlError *vs_xml_error;
#endif

/* The first error is the one that explains the problem; libxml2 keeps only the last. */
struct first_error {
        bool seen;
        unsigned line, column;
        char message[256];
};

static void record_first_error(void *data, vs_xml_error err)
{
        struct first_error *fe = data;
        if (fe->seen || !err)
                return;
        fe->seen = true;
        fe->line = err->line > 0 ? (unsigned)err->line : 0;
        fe->column = err->int2 > 0 ? (unsigned)err->int2 : 0;
        snprintf(fe->message, sizeof(fe->message), "%s",
                 err->message ? err->message : "parse error");
        size_t n = strlen(fe->message);
        while (n > 0 && fe->message[n - 1] == '\n')
                fe->message[--n] = '\0';
}

static int load(const char *path, const char *text, size_t len, xmlDocPtr *ret,
                struct vs_diags *diags)
{
        struct first_error fe = {0};
        xmlSetStructuredErrorFunc(&fe, record_first_error);
        xmlDocPtr doc = xmlReadMemory(text, (int)len, path, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                              XML_PARSE_NOWARNING);
        xmlSetStructuredErrorFunc(NULL, NULL);
        if (!doc) {
                vs_diags_add(diags, path, fe.line, fe.column, "not valid XML: %s (left untouched)",
                             fe.seen ? fe.message : "parse error");
                return -EINVAL;
        }
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (!root || !xmlStrEqual(root->name, X("configuration"))) {
                vs_diags_add(diags, path, root ? (unsigned)xmlGetLineNo(root) : 0, 0,
                             "the root element must be <configuration> (left untouched)");
                xmlFreeDoc(doc);
                return -EINVAL;
        }
        *ret = doc;
        return 0;
}

static xmlNodePtr find_folder(xmlNodePtr root, const char *id)
{
        for (xmlNodePtr c = root->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, X("folder")) &&
                    attr_is(c, "id", id))
                        return c;
        return NULL;
}

/* A new folder starts as a copy of <defaults><folder> (what the GUI does), else bare. */
static xmlNodePtr new_folder(struct editor *e, xmlNodePtr root)
{
        xmlNodePtr defaults = child(root, "defaults");
        xmlNodePtr tmpl = defaults ? child(defaults, "folder") : NULL;
        xmlNodePtr f = tmpl ? xmlDocCopyNode(tmpl, e->doc, 1)
                            : xmlNewDocNode(e->doc, NULL, X("folder"), NULL);
        if (!f)
                return NULL;
        xmlNodePtr last = NULL;
        for (xmlNodePtr c = root->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, X("folder")))
                        last = c;
        if (last)
                xmlAddNextSibling(last, f);
        else if (root->children)
                xmlAddPrevSibling(root->children, f);
        else
                xmlAddChild(root, f);
        e->changed = true;
        return f;
}

static int apply_folder(struct editor *e, xmlNodePtr root, const struct vs_sync_folder *sf,
                        const char *ro_type)
{
        char id[VS_ROOM_ID_MAX];
        bool ro = sf->mode != VS_MODE_RW;
        vs_room_id(sf->name, sf->source, id);

        xmlNodePtr f = find_folder(root, id);
        if (!f && !(f = new_folder(e, root)))
                return -ENOMEM;
        set_attr(e, f, "id", id);
        if (!xmlHasProp(f, X("label")) || attr_is(f, "label", ""))
                set_attr(e, f, "label", sf->name);
        set_attr(e, f, "path", sf->path);
        set_attr(e, f, "type", ro ? ro_type : "sendreceive");
        for (size_t i = 0; i < sizeof(folder_attrs) / sizeof(folder_attrs[0]); i++)
                default_attr(e, f, folder_attrs[i][0], folder_attrs[i][1]);
        /* A delay <= 0 makes Syncthing switch the watcher off. */
        xmlChar *delay = xmlGetProp(f, X("fsWatcherDelayS"));
        if (delay && atoi((const char *)delay) <= 0)
                set_attr(e, f, "fsWatcherDelayS", "10");
        xmlFree(delay);

        for (size_t i = 0; i < sizeof(folder_elements) / sizeof(folder_elements[0]); i++) {
                xmlNodePtr c = put_child(e, f, folder_elements[i][0], folder_elements[i][1], false);
                if (c && strcmp(folder_elements[i][0], "minDiskFree") == 0)
                        default_attr(e, c, "unit", "%");
        }
        /*
         * On a read-only mount Syncthing cannot create .stfolder and stops the folder with
         * "folder marker missing"; "." always exists, so it serves as the marker there.
         */
        xmlNodePtr marker = child(f, "markerName");
        if (ro)
                put_child(e, f, "markerName", ".", true);
        else if (marker && text_is(marker, "."))
                put_child(e, f, "markerName", ".stfolder", true);
        return 0;
}

/* Our folders (id prefix) that the plan no longer has: access was revoked, stop syncing. */
static void remove_stale(struct editor *e, xmlNodePtr root, const struct vs_sync_plan *plan)
{
        xmlNodePtr next;
        for (xmlNodePtr c = root->children; c; c = next) {
                next = c->next;
                if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, X("folder")))
                        continue;
                xmlChar *id = xmlGetProp(c, X("id"));
                bool ours = id && strncmp((const char *)id, VS_ROOM_ID_PREFIX,
                                          strlen(VS_ROOM_ID_PREFIX)) == 0;
                bool wanted = false;
                for (size_t i = 0; ours && i < plan->n_folders; i++) {
                        char want[VS_ROOM_ID_MAX];
                        vs_room_id(plan->folders[i].name, plan->folders[i].source, want);
                        wanted |= strcmp(want, (const char *)id) == 0;
                }
                if (ours && !wanted) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                        e->changed = true;
                }
                xmlFree(id);
        }
}

static int apply_gui(struct editor *e, xmlNodePtr root)
{
        xmlNodePtr gui = child(root, "gui");
        if (!gui) {
                gui = xmlNewChild(root, NULL, X("gui"), NULL);
                e->changed = true;
        }
        default_attr(e, gui, "enabled", "true");
        default_attr(e, gui, "tls", "false");
        /* Keep the port; the GUI/REST API must only listen on loopback. */
        xmlNodePtr addr = child(gui, "address");
        xmlChar *cur = addr ? xmlNodeGetContent(addr) : NULL;
        const char *colon = cur ? strrchr((const char *)cur, ':') : NULL;
        char want[64];
        snprintf(want, sizeof(want), "127.0.0.1%s", colon && strlen(colon) < 8 ? colon : ":8384");
        xmlFree(cur);
        put_child(e, gui, "address", want, true);
        if (!child(gui, "apikey")) {
                char key[33];
                int r = random_key(key);
                if (r < 0)
                        return r;
                put_child(e, gui, "apikey", key, true);
        }
        return 0;
}

static void apply_options(struct editor *e, xmlNodePtr root)
{
        xmlNodePtr options = child(root, "options");
        if (!options) {
                options = xmlNewChild(root, NULL, X("options"), NULL);
                e->changed = true;
        }
        for (size_t i = 0; i < sizeof(safe_options) / sizeof(safe_options[0]); i++)
                put_child(e, options, safe_options[i][0], safe_options[i][1], true);
}

int vs_syncthing_render(const struct vs_sync_plan *plan, const char *home, const char *ro_type,
                        struct vs_changes *changes, struct vs_diags *diags)
{
        char *path = NULL, *text = NULL;
        size_t len = 0;
        xmlChar *out = NULL;
        int out_len = 0;
        struct editor e = {0};
        int r;

        if (asprintf(&path, "%s/config.xml", home) < 0)
                return -ENOMEM;
        r = vs_file_read(path, &text, &len);
        if (r == -ENOENT) {
                r = load(path, fresh_config, sizeof(fresh_config) - 1, &e.doc, diags);
                e.changed = true;
        } else if (r < 0) {
                vs_file_read_failed(diags, path, r);
        } else {
                r = load(path, text, len, &e.doc, diags);
        }
        if (r < 0)
                goto out;

        xmlNodePtr root = xmlDocGetRootElement(e.doc);
        for (size_t i = 0; i < plan->n_folders && r == 0; i++)
                r = apply_folder(&e, root, &plan->folders[i], ro_type);
        if (r == 0)
                r = apply_gui(&e, root);
        if (r < 0)
                goto out;
        remove_stale(&e, root, plan);
        apply_options(&e, root);

        if (!e.changed) {
                r = vs_changes_add(changes, path, "unchanged");
                goto out;
        }
        xmlDocDumpFormatMemoryEnc(e.doc, &out, &out_len, "UTF-8", 1);
        if (!out) {
                r = -ENOMEM;
                goto out;
        }
        /* config.xml holds the API key: owner only, as `syncthing generate` makes it. */
        r = vs_file_update(path, out, (size_t)out_len, 0600, changes, diags);
out:
        xmlFree(out);
        xmlFreeDoc(e.doc);
        free(text);
        free(path);
        return r;
}

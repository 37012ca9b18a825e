/*
 * The domain XML file: read it (its absence means shared storage is not mounted, never "the
 * VM is stopped"), identify the domain in it with libxml2 alone, define it through libvirt.
 */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drover/error.h"
#include "drover/vm.h"
#include "log_internal.h"
#include "vm_internal.h"

/* A domain XML is a few KiB; anything this large is not one. */
#define XML_MAX_BYTES (16u * 1024u * 1024u)

int
dr__vm_read_file(const char *path, char **out, size_t *len)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        dr_err("domain XML %s: %s", path, strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        dr_err("domain XML %s: %s", path, strerror(-rc));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)XML_MAX_BYTES) {
        dr_err("domain XML %s: not a regular file of at most %u bytes", path, XML_MAX_BYTES);
        close(fd);
        return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return -ENOMEM;
    }
    /* The size is a hint: a file rewritten meanwhile is read up to that size. */
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = -errno;
            dr_err("domain XML %s: %s", path, strerror(-rc));
            free(buf);
            close(fd);
            return rc;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    if (len != NULL) {
        *len = got;
    }
    return 0;
}

/* The text of \p node's first child element named \p name, or NULL (to be xmlFree()d). */
static xmlChar *
child_text(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0) {
            return xmlNodeGetContent(c);
        }
    }
    return NULL;
}

/* libvirt's <uuid> takes 32 hex digits, optionally with '-' between groups; we say 8-4-4-4-12. */
static int
normalise_uuid(const char *in, char out[VIR_UUID_STRING_BUFLEN])
{
    static const char hexdig[] = "0123456789abcdef";
    size_t n = 0, o = 0;

    while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r') {
        in++;
    }
    for (; *in != '\0'; in++) {
        const char *h = strchr(hexdig, *in >= 'A' && *in <= 'F' ? *in - 'A' + 'a' : *in);
        if (*in == '-') {
            continue;
        }
        if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r') {
            break;
        }
        if (h == NULL || n == 32) {
            return -EINVAL;
        }
        if (n == 8 || n == 12 || n == 16 || n == 20) {
            out[o++] = '-';
        }
        out[o++] = *h;
        n++;
    }
    for (; *in != '\0'; in++) {
        if (*in != ' ' && *in != '\t' && *in != '\n' && *in != '\r') {
            return -EINVAL;
        }
    }
    out[o] = '\0';
    return n == 32 ? 0 : -EINVAL;
}

/* Leading and trailing white space are not part of a domain name (libvirt trims them too). */
static void
copy_trimmed(char *dst, size_t dst_len, const char *src, size_t *needed)
{
    size_t len;

    while (*src == ' ' || *src == '\t' || *src == '\n' || *src == '\r') {
        src++;
    }
    len = strlen(src);
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t' || src[len - 1] == '\n' ||
                       src[len - 1] == '\r')) {
        len--;
    }
    *needed = len + 1;
    if (len < dst_len) {
        memcpy(dst, src, len);
        dst[len] = '\0';
    }
}

int
dr_vm_xml_identity(const char *xml_path, char *name, size_t name_len, char *uuid, size_t uuid_len)
{
    char uuid_buf[VIR_UUID_STRING_BUFLEN] = "";
    char name_buf[256];
    char *text = NULL;
    size_t len = 0, needed = 0;
    xmlDocPtr doc;
    xmlNodePtr root;
    xmlChar *n = NULL, *u = NULL;
    int rc;

    if (xml_path == NULL || name == NULL || name_len == 0 || uuid == NULL ||
        uuid_len < VIR_UUID_STRING_BUFLEN) {
        return -EINVAL;
    }
    rc = dr__vm_read_file(xml_path, &text, &len);
    if (rc < 0) {
        return rc;
    }
    if (len > (size_t)INT32_MAX) {
        free(text);
        return -EFBIG;
    }
    xmlInitParser();
    /* No network, no entity expansion: the file is only read for two elements. */
    doc = xmlReadMemory(text, (int)len, xml_path, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    free(text);
    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        dr_err("domain XML %s: not well-formed: %s", xml_path,
               e != NULL && e->message != NULL ? e->message : "parse error");
        return -EINVAL;
    }
    root = xmlDocGetRootElement(doc);
    rc = -EINVAL;
    if (root == NULL || xmlStrcmp(root->name, BAD_CAST "domain") != 0) {
        dr_err("domain XML %s: the root element is not <domain>", xml_path);
        goto out;
    }
    n = child_text(root, "name");
    if (n == NULL) {
        dr_err("domain XML %s: no <name>", xml_path);
        goto out;
    }
    copy_trimmed(name_buf, sizeof(name_buf), (const char *)n, &needed);
    if (needed == 1 || needed > sizeof(name_buf)) {
        dr_err("domain XML %s: <name> is empty or longer than %zu bytes", xml_path,
               sizeof(name_buf) - 1);
        goto out;
    }
    if (needed > name_len) {
        rc = -ERANGE;
        goto out;
    }
    u = child_text(root, "uuid");
    if (u != NULL && normalise_uuid((const char *)u, uuid_buf) < 0) {
        dr_err("domain XML %s: <uuid> is not a UUID", xml_path);
        goto out;
    }
    memcpy(name, name_buf, needed);
    memcpy(uuid, uuid_buf, sizeof(uuid_buf)); /* "" when the XML leaves the UUID to libvirt */
    rc = 0;
out:
    xmlFree(n);
    xmlFree(u);
    xmlFreeDoc(doc);
    return rc;
}

/* \p xml (a domain without <uuid>) with <uuid>\p uuid</uuid> added, in *out (to be freed). */
static int
with_uuid(const char *xml, size_t len, const char *xml_path, const char *uuid, char **out)
{
    xmlDocPtr doc;
    xmlChar *buf = NULL;
    int n = 0;

    if (len > (size_t)INT32_MAX) {
        return -EFBIG;
    }
    doc = xmlReadMemory(xml, (int)len, xml_path, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    if (xmlNewTextChild(xmlDocGetRootElement(doc), NULL, BAD_CAST "uuid", BAD_CAST uuid) != NULL) {
        xmlDocDumpMemory(doc, &buf, &n);
    }
    xmlFreeDoc(doc);
    if (buf == NULL) {
        return -ENOMEM;
    }
    *out = strdup((const char *)buf);
    xmlFree(buf);
    return *out != NULL ? 0 : -ENOMEM;
}

int
dr_vm_define_file(struct dr_vm_conn *conn, const char *xml_path, struct dr_vm **out)
{
    char name[256], uuid[VIR_UUID_STRING_BUFLEN];
    virDomainPtr dom, old;
    char *xml = NULL, *fixed = NULL;
    size_t len = 0;
    int rc;

    if (conn == NULL || xml_path == NULL || out == NULL) {
        return -EINVAL;
    }
    rc = dr__vm_read_file(xml_path, &xml, &len);
    if (rc < 0) {
        return rc;
    }
    /*
     * An XML without <uuid> gets a new random UUID from libvirt each time it is parsed, and
     * libvirt refuses to redefine an existing domain under another UUID ("already exists with
     * uuid"). Such an XML means "the domain of this name": keep the UUID it has on this node.
     */
    if (dr_vm_xml_identity(xml_path, name, sizeof(name), uuid, sizeof(uuid)) == 0 &&
        uuid[0] == '\0' && (old = virDomainLookupByName(conn->conn, name)) != NULL) {
        if (virDomainGetUUIDString(old, uuid) == 0) {
            rc = with_uuid(xml, len, xml_path, uuid, &fixed);
        }
        virDomainFree(old);
        if (rc < 0) {
            free(xml);
            return rc;
        }
    }
    dom = virDomainDefineXML(conn->conn, fixed != NULL ? fixed : xml);
    free(fixed);
    free(xml);
    if (dom == NULL) {
        return dr__vm_error(xml_path);
    }
    rc = dr__vm_wrap(conn, dom, out);
    if (rc == 0) {
        dr_info("VM %s defined from %s", (*out)->name, xml_path);
    }
    return rc;
}

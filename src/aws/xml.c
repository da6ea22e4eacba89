#include "aws/xml.h"

#include <limits.h>
#include <string.h>

/* expat declares the billion-laughs limits only for builds with DTD support, which Debian's
 * libexpat is; without it the link fails loudly rather than the protection going missing. */
#ifndef XML_DTD
#define XML_DTD
#endif
#include <expat.h>

#include "util/buf.h"
#include "util/error.h"

#define STR_(x)                 #x
#define STR(x)                  STR_(x)
#define PLUMB_XML_MAX_DEPTH_STR STR(PLUMB_XML_MAX_DEPTH)

/*
 * The tree is built while expat streams: `stack` holds the open elements (borrowed from the
 * tree) and `text` their character data so far, which expat hands over in pieces.
 */
struct xml_builder {
    XML_Parser parser;
    json_t *root;
    json_t *stack[PLUMB_XML_MAX_DEPTH];
    struct plumb_buf text[PLUMB_XML_MAX_DEPTH];
    size_t depth;
    int error;              /* set when a handler stopped the parser */
    struct plumb_buf why;   /* what a handler refused, for the message */
    unsigned long why_line; /* where, as expat reported it when the handler ran */
    unsigned long why_col;
};

/* Stops the parse from inside a handler, remembering the reason and position. */
static void builder_fail(struct xml_builder *b, const char *why)
{
    /* The first reason stands: expat may still call handlers after the stop. */
    if (!b->error) {
        b->error = 1;
        b->why_line = (unsigned long)XML_GetCurrentLineNumber(b->parser);
        b->why_col = (unsigned long)XML_GetCurrentColumnNumber(b->parser) + 1;
        plumb_buf_puts(&b->why, why);
        XML_StopParser(b->parser, XML_FALSE);
    }
}

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');

    return colon ? colon + 1 : name;
}

static void XMLCALL on_start(void *userdata, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_builder *b = userdata;
    json_t *elem = NULL, *attr_obj = NULL;
    int ok = 0;
    size_t i;

    if (b->error)
        goto done;
    if (b->depth >= PLUMB_XML_MAX_DEPTH) {
        builder_fail(b, "XML nested deeper than " PLUMB_XML_MAX_DEPTH_STR " levels");
        goto done;
    }
    elem = json_pack("{s:s,s:[]}", "name", local_name(name), "children");
    if (!elem)
        goto done;
    if (attrs[0]) {
        attr_obj = json_object();
        if (!attr_obj || json_object_set(elem, "attrs", attr_obj) < 0)
            goto done;
        for (i = 0; attrs[i]; i += 2)
            if (json_object_set_new(attr_obj, attrs[i], json_string(attrs[i + 1])) < 0)
                goto done;
    }
    if (b->depth == 0)
        b->root = json_incref(elem);
    else if (json_array_append(json_object_get(b->stack[b->depth - 1], "children"), elem) < 0)
        goto done;
    /* Borrowed: the tree holds the element from here on. */
    b->stack[b->depth] = elem;
    plumb_buf_clear(&b->text[b->depth]);
    b->depth++;
    ok = 1;
done:
    if (!ok && !b->error)
        builder_fail(b, "out of memory");
    json_decref(elem);
    json_decref(attr_obj);
}

static void XMLCALL on_end(void *userdata, const XML_Char *name)
{
    struct xml_builder *b = userdata;
    struct plumb_buf *text;

    if (!b->error && b->depth > 0) {
        b->depth--;
        text = &b->text[b->depth];
        if (json_object_set_new(b->stack[b->depth], "text",
                                json_stringn(plumb_buf_cstr(text), text->len)) < 0)
            builder_fail(b, "out of memory");
    }
}

static void XMLCALL on_text(void *userdata, const XML_Char *s, int len)
{
    struct xml_builder *b = userdata;

    if (!b->error && b->depth > 0 && len > 0 &&
        plumb_buf_put(&b->text[b->depth - 1], s, (size_t)len) < 0)
        builder_fail(b, "out of memory");
}

/* AWS never declares entities; a document that does is an attack (billion laughs, external
 * entities), so it is refused before any expansion happens. */
static void XMLCALL on_entity_decl(void *userdata, const XML_Char *entity_name,
                                   int is_parameter_entity, const XML_Char *value, int value_length,
                                   const XML_Char *base, const XML_Char *system_id,
                                   const XML_Char *public_id, const XML_Char *notation_name)
{
    builder_fail(userdata, "XML entity declarations are not allowed");
}

int plumb_xml_parse(json_t **out, const char *data, size_t len)
{
    struct xml_builder b;
    size_t i, off = 0;
    int error = 0;

    *out = NULL;
    memset(&b, 0, sizeof(b));
    b.parser = XML_ParserCreate(NULL);
    if (!b.parser) {
        error = plumb_error_oom();
        goto done;
    }
    XML_SetUserData(b.parser, &b);
    XML_SetElementHandler(b.parser, on_start, on_end);
    XML_SetCharacterDataHandler(b.parser, on_text);
    XML_SetEntityDeclHandler(b.parser, on_entity_decl);
    /* A second line of defence should a declaration ever get past the handler. */
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(b.parser, 10.0f);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(b.parser, 1024 * 1024);
    do {
        /* XML_Parse takes an int length: feed large bodies in pieces. */
        size_t chunk = len - off > INT_MAX / 2 ? INT_MAX / 2 : len - off;
        int last = off + chunk == len;

        if (XML_Parse(b.parser, data + off, (int)chunk, last) != XML_STATUS_OK) {
            if (b.error)
                error = plumb_error_set(PLUMB_ERROR, "%s at line %lu, column %lu",
                                        plumb_buf_cstr(&b.why), b.why_line, b.why_col);
            else
                /* expat counts columns from 0; people and editors count from 1. */
                error = plumb_error_set(PLUMB_ERROR, "malformed XML at line %lu, column %lu: %s",
                                        (unsigned long)XML_GetCurrentLineNumber(b.parser),
                                        (unsigned long)XML_GetCurrentColumnNumber(b.parser) + 1,
                                        XML_ErrorString(XML_GetErrorCode(b.parser)));
            goto done;
        }
        off += chunk;
    } while (off < len);
    if (!b.root) {
        error = plumb_error_set(PLUMB_ERROR, "malformed XML: no root element");
        goto done;
    }
    *out = b.root;
    b.root = NULL;
done:
    if (b.parser)
        XML_ParserFree(b.parser);
    for (i = 0; i < PLUMB_XML_MAX_DEPTH; i++)
        plumb_buf_release(&b.text[i]);
    plumb_buf_release(&b.why);
    json_decref(b.root);
    return error;
}

const json_t *plumb_xml_child(const json_t *elem, const char *name)
{
    const json_t *child, *found = NULL;
    size_t i;

    json_array_foreach(json_object_get(elem, "children"), i, child)
    {
        const char *n = json_string_value(json_object_get(child, "name"));
        if (!found && n && strcmp(n, name) == 0)
            found = child;
    }
    return found;
}

const char *plumb_xml_child_text(const json_t *elem, const char *name)
{
    return json_string_value(json_object_get(plumb_xml_child(elem, name), "text"));
}

/*
 * XML for the AWS client, with expat: responses of the query, ec2 and rest-xml protocols are
 * parsed into a generic tree, then converted to jansson values shape by shape (protocol.c).
 * Bounded: a document nested deeper than PLUMB_XML_MAX_DEPTH is refused, and entity
 * declarations (billion-laughs) are refused outright, since AWS never sends them.
 */
#ifndef PLUMB_AWS_XML_H
#define PLUMB_AWS_XML_H

#include <stddef.h>

#include <jansson.h>

#define PLUMB_XML_MAX_DEPTH 128

/*
 * The generic tree, as jansson values so it needs no free functions of its own:
 *   element = {"name": "Tag" (local name, namespace prefix dropped),
 *              "attrs": {name: value, ...} (only when there are attributes),
 *              "children": [element, ...], "text": "concatenated character data"}
 * `text` is the direct character data of the element, untrimmed.
 */
int plumb_xml_parse(json_t **out, const char *data, size_t len);

/* The first child element named `name` of `elem`, or NULL. */
const json_t *plumb_xml_child(const json_t *elem, const char *name);
/* The text of the first child named `name`, or NULL. */
const char *plumb_xml_child_text(const json_t *elem, const char *name);

#endif

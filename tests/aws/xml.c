#include <criterion/criterion.h>
#include <string.h>

#include <jansson.h>

#include "aws/xml.h"
#include "util/buf.h"
#include "util/error.h"

static json_t *parse_ok(const char *doc)
{
    json_t *root = NULL;

    cr_assert_eq(plumb_xml_parse(&root, doc, strlen(doc)), 0, "%s", plumb_error_message());
    cr_assert_not_null(root);
    return root;
}

static const char *parse_fails(const char *doc, size_t len)
{
    json_t *root = (json_t *)1;

    cr_assert_lt(plumb_xml_parse(&root, doc, len), 0, "parsed: %.80s", doc);
    cr_assert_null(root);
    return plumb_error_message();
}

/* <a><a>...</a></a> nested `depth` levels. */
static void nested(struct plumb_buf *b, int depth)
{
    int i;

    for (i = 0; i < depth; i++)
        plumb_buf_puts(b, "<a>");
    for (i = 0; i < depth; i++)
        plumb_buf_puts(b, "</a>");
}

Test(xml_parse, builds_the_generic_tree)
{
    json_t *root =
        parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<R xmlns=\"urn:x\" xmlns:p=\"urn:p\"><p:Item id=\"7\" p:k=\"v\">a &amp; b"
                 "<![CDATA[<raw>]]></p:Item>\n  <Empty/></R>");
    const json_t *item, *empty;
    json_t *want;

    cr_assert_str_eq(json_string_value(json_object_get(root, "name")), "R");
    cr_assert_str_eq(json_string_value(json_object_get(root, "text")), "\n  ");
    cr_assert_eq(json_array_size(json_object_get(root, "children")), 2);
    item = plumb_xml_child(root, "Item");
    cr_assert_not_null(item, "namespace prefix kept on the element name");
    want = json_pack("{s:s,s:s}", "id", "7", "p:k", "v");
    cr_assert(json_equal(json_object_get(item, "attrs"), want));
    json_decref(want);
    cr_assert_str_eq(json_string_value(json_object_get(item, "text")), "a & b<raw>");
    empty = plumb_xml_child(root, "Empty");
    cr_assert_not_null(empty);
    cr_assert_null(json_object_get(empty, "attrs"), "attrs only when there are attributes");
    cr_assert_str_eq(json_string_value(json_object_get(empty, "text")), "");
    cr_assert_eq(json_array_size(json_object_get(empty, "children")), 0);
    cr_assert_str_eq(plumb_xml_child_text(root, "Item"), "a & b<raw>");
    cr_assert_null(plumb_xml_child(root, "Missing"));
    cr_assert_null(plumb_xml_child_text(root, "Missing"));
    cr_assert_null(plumb_xml_child(NULL, "Item"));
    json_decref(root);
}

Test(xml_parse, text_is_utf8_whatever_the_declared_encoding)
{
    const char doc[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>";
    json_t *root = parse_ok(doc);

    cr_assert_str_eq(json_string_value(json_object_get(root, "text")), "caf\xc3\xa9");
    json_decref(root);
}

Test(xml_parse, depth_up_to_the_limit_is_fine)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    json_t *root;

    nested(&b, PLUMB_XML_MAX_DEPTH);
    root = parse_ok(b.ptr);
    json_decref(root);
    plumb_buf_release(&b);
}

Test(xml_parse, deeper_than_the_limit_is_refused)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    char want[80];

    nested(&b, PLUMB_XML_MAX_DEPTH + 1);
    snprintf(want, sizeof(want), "XML nested deeper than %d levels at line 1, column %d",
             PLUMB_XML_MAX_DEPTH, PLUMB_XML_MAX_DEPTH * 3 + 1);
    cr_assert_str_eq(parse_fails(b.ptr, b.len), want);
    plumb_buf_release(&b);
}

Test(xml_parse, billion_laughs_is_refused)
{
    const char *doc = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE lolz [\n"
                      " <!ENTITY lol \"lol\">\n"
                      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                      "]>\n"
                      "<lolz>&lol2;</lolz>";

    cr_assert_str_eq(parse_fails(doc, strlen(doc)),
                     "XML entity declarations are not allowed at line 3, column 15");
}

Test(xml_parse, external_entities_are_refused)
{
    const char *doc = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";

    cr_assert(strstr(parse_fails(doc, strlen(doc)), "entity declarations are not allowed"));
}

Test(xml_parse, malformed_xml_names_line_and_column)
{
    const char *doc = "<a>\n  <b>\n  </a>";

    cr_assert_str_eq(parse_fails(doc, strlen(doc)),
                     "malformed XML at line 3, column 5: mismatched tag");
    cr_assert_str_eq(parse_fails("", 0), "malformed XML at line 1, column 1: no element found");
    cr_assert_str_eq(parse_fails("<a></a>junk", 11),
                     "malformed XML at line 1, column 8: junk after document element");
}

Test(xml_parse, undeclared_entity_is_an_error)
{
    const char *doc = "<a>&nbsp;</a>";

    cr_assert(strstr(parse_fails(doc, strlen(doc)), "undefined entity"));
}

Test(xml_parse, embedded_nul_is_malformed)
{
    const char doc[] = "<a>x\0y</a>";

    cr_assert(strstr(parse_fails(doc, sizeof(doc) - 1), "malformed XML"));
}

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/yaml.h"
#include "util/buf.h"
#include "util/error.h"

#define FILE_NAME "plumb.yaml"

static struct plumb_diags diags;
static struct plumb_doc *doc;

static void setup(void)
{
    plumb_diags_init(&diags);
    doc = NULL;
}

static void teardown(void)
{
    plumb_doc_free(doc);
    plumb_diags_release(&diags);
}

/* Diagnostic `i` as plumb renders it, without the severity: "plumb.yaml:4:3: message". */
static char *diag_text(size_t i)
{
    struct plumb_buf b = PLUMB_BUF_INIT;
    const struct plumb_diag *d = &diags.v[i];

    cr_assert_lt(i, diags.n, "no diagnostic %zu", i);
    if (d->line)
        plumb_buf_printf(&b, "%s:%d:%d: %s", d->file, d->line, d->col, d->message);
    else
        plumb_buf_printf(&b, "%s: %s", d->file, d->message);
    return plumb_buf_detach(&b);
}

static const struct plumb_node *load(const char *src)
{
    int rc = plumb_yaml_load_string(&doc, FILE_NAME, src, strlen(src), &diags);

    if (rc) {
        char *t = diags.n ? diag_text(0) : strdup("(no diagnostic)");
        cr_log_error("%s", t);
        free(t);
        cr_assert_fail("load failed (%d) for:\n%s", rc, src);
    }
    cr_assert_eq(diags.n, 0);
    cr_assert_not_null(doc);
    return plumb_doc_root(doc);
}

/* Loading `src` fails and the diagnostics are exactly `want` (NULL-terminated). */
static void expect_errors_n(const char *src, size_t len, const char *const *want)
{
    size_t i, n = 0;
    int rc = plumb_yaml_load_string(&doc, FILE_NAME, src, len, &diags);

    cr_assert_eq(rc, PLUMB_EINVALID, "rc %d for:\n%s", rc, src);
    cr_assert_null(doc);
    while (want[n])
        n++;
    for (i = 0; i < diags.n || i < n; i++) {
        char *got = i < diags.n ? diag_text(i) : strdup("(none)");
        cr_assert_str_eq(got, i < n ? want[i] : "(none)",
                         "diagnostic %zu:\n  got  %s\n  want %s\nfor:\n%s", i, got,
                         i < n ? want[i] : "(none)", src);
        cr_assert_eq(diags.v[i].severity, PLUMB_DIAG_ERROR);
        free(got);
    }
}

#define expect_errors(src, ...)                                                                    \
    expect_errors_n((src), strlen(src), (const char *const[]){__VA_ARGS__, NULL})

static void expect_json(const struct plumb_node *n, const char *want)
{
    json_t *j = plumb_node_to_json(n);
    char *s;

    cr_assert_not_null(j);
    s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    cr_assert_str_eq(s, want);
    free(s);
    json_decref(j);
}

static void expect_loc(const struct plumb_node *n, int line, int col)
{
    cr_assert_not_null(n);
    cr_assert_str_eq(n->loc.file, FILE_NAME);
    cr_assert_eq(n->loc.line, line, "line %d, want %d", n->loc.line, line);
    cr_assert_eq(n->loc.col, col, "col %d, want %d", n->loc.col, col);
}

TestSuite(yaml, .init = setup, .fini = teardown);
TestSuite(yaml_errors, .init = setup, .fini = teardown);
TestSuite(yaml_limits, .init = setup, .fini = teardown);
TestSuite(yaml_anchors, .init = setup, .fini = teardown);

/* ---- types ---- */

Test(yaml, plain_scalars_get_core_schema_types)
{
    static const struct {
        const char *text;
        enum plumb_scalar_kind kind;
    } cases[] = {
        {"~", PLUMB_SCALAR_NULL},
        {"null", PLUMB_SCALAR_NULL},
        {"Null", PLUMB_SCALAR_NULL},
        {"NULL", PLUMB_SCALAR_NULL},
        {"nULL", PLUMB_SCALAR_STRING},
        {"true", PLUMB_SCALAR_BOOL},
        {"True", PLUMB_SCALAR_BOOL},
        {"FALSE", PLUMB_SCALAR_BOOL},
        {"yes", PLUMB_SCALAR_STRING},
        {"on", PLUMB_SCALAR_STRING},
        {"tRue", PLUMB_SCALAR_STRING},
        {"0", PLUMB_SCALAR_INT},
        {"-42", PLUMB_SCALAR_INT},
        {"+7", PLUMB_SCALAR_INT},
        {"007", PLUMB_SCALAR_INT},
        {"0o17", PLUMB_SCALAR_INT},
        {"0x1F", PLUMB_SCALAR_INT},
        {"0o18", PLUMB_SCALAR_STRING},
        {"0x", PLUMB_SCALAR_STRING},
        {"-0x1", PLUMB_SCALAR_STRING},
        {"1_000", PLUMB_SCALAR_STRING},
        {"1.5", PLUMB_SCALAR_FLOAT},
        {"-.5", PLUMB_SCALAR_FLOAT},
        {"1.", PLUMB_SCALAR_FLOAT},
        {"1e3", PLUMB_SCALAR_FLOAT},
        {"2.5E-3", PLUMB_SCALAR_FLOAT},
        {".inf", PLUMB_SCALAR_FLOAT},
        {"-.Inf", PLUMB_SCALAR_FLOAT},
        {".NaN", PLUMB_SCALAR_FLOAT},
        {".", PLUMB_SCALAR_STRING},
        {"1e", PLUMB_SCALAR_STRING},
        {"1.2.3", PLUMB_SCALAR_STRING},
        {"15", PLUMB_SCALAR_INT},
        {"v15", PLUMB_SCALAR_STRING},
        {"db.t3.small", PLUMB_SCALAR_STRING},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plumb_buf src = PLUMB_BUF_INIT;
        const struct plumb_node *root;
        plumb_buf_printf(&src, "k: %s\n", cases[i].text);
        root = load(src.ptr);
        cr_assert_eq(plumb_node_get(root, "k")->kind, cases[i].kind, "kind of '%s'", cases[i].text);
        cr_assert_eq(plumb_node_get(root, "k")->quoted, 0);
        plumb_doc_free(doc);
        doc = NULL;
        plumb_buf_release(&src);
    }
}

Test(yaml, quoted_and_block_scalars_are_strings)
{
    const struct plumb_node *root =
        load("a: \"15\"\nb: 'true'\nc: \"\"\nd: |\n  12\ne: >-\n  null\nf:\n");

    cr_assert_eq(plumb_node_get(root, "a")->kind, PLUMB_SCALAR_STRING);
    cr_assert_eq(plumb_node_get(root, "a")->quoted, 1);
    cr_assert_eq(plumb_node_get(root, "b")->kind, PLUMB_SCALAR_STRING);
    cr_assert_eq(plumb_node_get(root, "c")->kind, PLUMB_SCALAR_STRING);
    cr_assert_eq(plumb_node_get(root, "d")->kind, PLUMB_SCALAR_STRING);
    cr_assert_eq(plumb_node_get(root, "d")->quoted, 1);
    cr_assert_str_eq(plumb_node_get(root, "d")->scalar, "12\n");
    cr_assert_eq(plumb_node_get(root, "e")->kind, PLUMB_SCALAR_STRING);
    cr_assert_str_eq(plumb_node_get(root, "e")->scalar, "null");
    /* An empty plain value is null. */
    cr_assert_eq(plumb_node_get(root, "f")->kind, PLUMB_SCALAR_NULL);
    cr_assert_eq(plumb_node_get(root, "f")->quoted, 0);
    expect_json(root, "{\"a\":\"15\",\"b\":\"true\",\"c\":\"\",\"d\":\"12\\n\",\"e\":\"null\","
                      "\"f\":null}");
}

Test(yaml, to_json_keeps_types)
{
    const struct plumb_node *root =
        load("i: 42\nneg: -7\nhex: 0x1F\noct: 0o17\nbig: 9223372036854775807\nf: 1.5\n"
             "e: 1e3\nt: true\nn: ~\ns: text\nq: \"42\"\ninf: .inf\nnan: .nan\nl: [1, a]\n");

    expect_json(root, "{\"i\":42,\"neg\":-7,\"hex\":31,\"oct\":15,\"big\":9223372036854775807,"
                      "\"f\":1.5,\"e\":1000.0,\"t\":true,\"n\":null,\"s\":\"text\",\"q\":\"42\","
                      "\"inf\":\".inf\",\"nan\":\".nan\",\"l\":[1,\"a\"]}");
}

Test(yaml, escapes_and_nul_bytes_keep_their_length)
{
    const struct plumb_node *root = load("s: \"a\\0b\\t\\u00e9\"\n");
    const struct plumb_node *s = plumb_node_get(root, "s");

    cr_assert_eq(s->len, 6);
    cr_assert_eq(memcmp(s->scalar, "a\0b\t\xc3\xa9", 7), 0);
    expect_json(root, "{\"s\":\"a\\u0000b\\t\xc3\xa9\"}");
}

Test(yaml, tags_decide_scalar_types)
{
    const struct plumb_node *root = load("a: !!str 12\nb: !!int \"12\"\nc: !!float 1\nd: ! 3\n"
                                         "e: !!bool \"true\"\nf: !!null ''\ng: !!map {x: 1}\n"
                                         "h: !!seq [1]\ni: !<tag:yaml.org,2002:str> 5\n");

    cr_assert_eq(plumb_node_get(root, "a")->kind, PLUMB_SCALAR_STRING);
    cr_assert_eq(plumb_node_get(root, "b")->kind, PLUMB_SCALAR_INT);
    cr_assert_eq(plumb_node_get(root, "c")->kind, PLUMB_SCALAR_FLOAT);
    cr_assert_eq(plumb_node_get(root, "d")->kind, PLUMB_SCALAR_STRING);
    cr_assert_eq(plumb_node_get(root, "e")->kind, PLUMB_SCALAR_BOOL);
    cr_assert_eq(plumb_node_get(root, "f")->kind, PLUMB_SCALAR_NULL);
    cr_assert_eq(plumb_node_get(root, "i")->kind, PLUMB_SCALAR_STRING);
    expect_json(root, "{\"a\":\"12\",\"b\":12,\"c\":1.0,\"d\":\"3\",\"e\":true,\"f\":null,"
                      "\"g\":{\"x\":1},\"h\":[1],\"i\":\"5\"}");
}

Test(yaml, type_names_for_messages)
{
    const struct plumb_node *root = load("m: {}\nl: []\ns: x\ni: 1\nb: true\nn: null\nf: 1.5\n");

    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "m")), "mapping");
    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "l")), "sequence");
    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "s")), "string");
    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "i")), "integer");
    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "b")), "boolean");
    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "n")), "null");
    cr_assert_str_eq(plumb_node_type_name(plumb_node_get(root, "f")), "number");
}

/* ---- structure and locations ---- */

Test(yaml, nodes_know_where_they_are)
{
    const struct plumb_node *root =
        load("project: shop\nresources:\n  db:\n    type: AWS::RDS::DBInstance\n"
             "    tags: [a, {k: v}]\n  \"q\": 'x'\n");
    const struct plumb_node *res = plumb_node_get(root, "resources");
    const struct plumb_node *db = plumb_node_get(res, "db");
    const struct plumb_node *tags = plumb_node_get(db, "tags");
    const struct plumb_node_pair *p = plumb_node_get_pair(db, "type");

    cr_assert_eq(root->type, PLUMB_NODE_MAP);
    cr_assert_eq(root->n, 2);
    expect_loc(root, 1, 1);
    expect_loc(root->pairs[0].key, 1, 1);
    expect_loc(root->pairs[0].value, 1, 10);
    expect_loc(res, 3, 3);
    expect_loc(db, 4, 5);
    expect_loc(p->key, 4, 5);
    expect_loc(p->value, 4, 11);
    expect_loc(tags, 5, 11);
    cr_assert_eq(tags->type, PLUMB_NODE_SEQ);
    cr_assert_eq(tags->n, 2);
    expect_loc(tags->items[0], 5, 12);
    expect_loc(tags->items[1], 5, 15);
    expect_loc(plumb_node_get(tags->items[1], "k"), 5, 19);
    expect_loc(plumb_node_get_pair(res, "q")->key, 6, 3);
    expect_loc(plumb_node_get(res, "q"), 6, 8);
    cr_assert_str_eq(plumb_doc_file(doc), FILE_NAME);
    cr_assert_eq(root->loc.file, plumb_doc_file(doc));
}

Test(yaml, pairs_keep_file_order_and_lookups_miss_cleanly)
{
    const struct plumb_node *root = load("z: 1\na: 2\nm: 3\n");

    cr_assert_str_eq(root->pairs[0].key->scalar, "z");
    cr_assert_str_eq(root->pairs[1].key->scalar, "a");
    cr_assert_str_eq(root->pairs[2].key->scalar, "m");
    cr_assert_null(plumb_node_get(root, "nope"));
    cr_assert_null(plumb_node_get(root->pairs[0].value, "z")); /* not a mapping */
    cr_assert_null(plumb_node_get(NULL, "z"));
    cr_assert_null(plumb_node_get_pair(root, "zz"));
}

Test(yaml, empty_input_has_no_root)
{
    cr_assert_eq(plumb_yaml_load_string(&doc, FILE_NAME, "", 0, &diags), 0);
    cr_assert_not_null(doc);
    cr_assert_null(plumb_doc_root(doc));
    plumb_doc_free(doc);
    cr_assert_eq(plumb_yaml_load_string(&doc, FILE_NAME, "# nothing\n\n", 11, &diags), 0);
    cr_assert_null(plumb_doc_root(doc));
    cr_assert_eq(diags.n, 0);
    expect_json(plumb_doc_root(doc), "null");
}

Test(yaml, an_explicit_document_start_is_one_document)
{
    const struct plumb_node *root = load("---\na: 1\n...\n");

    expect_json(root, "{\"a\":1}");
}

Test(yaml, text_loc_points_inside_scalars)
{
    const struct plumb_node *root =
        load("a: plain ${x}\nb: \"dq\"\nc: 'it''s'\nd: &anc val\ne: !!str 'q'\n"
             "f: multi\n  line\ng: |\n  block\nh: [x]\n");
    struct plumb_loc loc;

    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "a")), 1);
    cr_assert_eq(loc.line, 1);
    cr_assert_eq(loc.col, 4);
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "b")), 1);
    cr_assert_eq(loc.col, 5); /* past the quote */
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "c")), 1);
    cr_assert_eq(loc.col, 5);
    /* The node starts at its anchor or tag; the text after it. */
    expect_loc(plumb_node_get(root, "d"), 4, 4);
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "d")), 1);
    cr_assert_eq(loc.col, 9);
    expect_loc(plumb_node_get(root, "e"), 5, 4);
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "e")), 1);
    cr_assert_eq(loc.col, 11);
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "f")), 0);
    cr_assert_eq(loc.line, 6);
    cr_assert_eq(loc.col, 4);
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "g")), 0);
    cr_assert_eq(plumb_node_text_loc(&loc, plumb_node_get(root, "h")), 0);
}

Test(yaml, loads_a_file_and_names_it)
{
    char path[] = "/tmp/plumb-yaml-XXXXXX";
    int fd = mkstemp(path);
    const char *src = "a:\n  - 1\n";

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    cr_assert_eq(plumb_yaml_load_file(&doc, path, &diags), 0);
    unlink(path);
    cr_assert_str_eq(plumb_doc_file(doc), path);
    expect_json(plumb_doc_root(doc), "{\"a\":[1]}");
    cr_assert_str_eq(plumb_node_get(plumb_doc_root(doc), "a")->items[0]->loc.file, path);
    cr_assert_eq(plumb_node_get(plumb_doc_root(doc), "a")->items[0]->loc.line, 2);
}

Test(yaml, earlier_diagnostics_do_not_fail_a_good_file)
{
    struct plumb_loc other = {"other.yaml", 1, 1};

    plumb_diags_error(&diags, &other, "something else");
    cr_assert_eq(plumb_yaml_load_string(&doc, FILE_NAME, "a: 1\n", 5, &diags), 0);
    cr_assert_not_null(doc);
    cr_assert_eq(diags.n, 1);
}

/* ---- errors ---- */

Test(yaml_errors, syntax_errors_say_what_and_where)
{
    expect_errors("a: b: c\n", "plumb.yaml:1:5: mapping values are not allowed in this context");
    teardown();
    setup();
    expect_errors("a:\n  b: c\n d: e\n",
                  "plumb.yaml:3:2: did not find expected key (while parsing a block mapping "
                  "at 1:1)");
    teardown();
    setup();
    expect_errors("a: \"open\n",
                  "plumb.yaml:2:1: found unexpected end of stream (while scanning a quoted "
                  "scalar at 1:4)");
    teardown();
    setup();
    expect_errors("a:\n\tb: c\n", "plumb.yaml:2:1: found character that cannot start any token");
    teardown();
    setup();
    expect_errors("- [a, b\n- c\n", "plumb.yaml:3:1: did not find expected ',' or ']' (while "
                                    "parsing a flow sequence at 1:3)");
}

/* A syntax error ends the parse: mappings finished before it have been checked, the ones it
 * interrupts have not. */
Test(yaml_errors, errors_found_before_a_syntax_error_are_kept)
{
    expect_errors("a: {x: 1, x: 2}\na: 2\nb: [\n",
                  "plumb.yaml:1:11: duplicate key 'x' (first at plumb.yaml:1:5)",
                  "plumb.yaml:4:1: did not find expected node content");
}

Test(yaml_errors, bad_encoding_is_located)
{
    expect_errors("ok: 1\nbad: \xff\n", "plumb.yaml:2:6: invalid leading UTF-8 octet (0xff)");
    teardown();
    setup();
    expect_errors_n("a: \"x\0y\"\n", 9,
                    (const char *const[]){"plumb.yaml:1:6: control characters are not allowed "
                                          "(0x00)",
                                          NULL});
}

Test(yaml_errors, duplicate_keys_name_the_first)
{
    expect_errors("a: 1\nb:\n  x: 1\n  \"x\": 2\na: 3\nc: {k: 1, 'k': 2}\n",
                  /* Each mapping reports its duplicates when it ends: inner ones first. */
                  "plumb.yaml:4:3: duplicate key 'x' (first at plumb.yaml:3:3)",
                  "plumb.yaml:6:11: duplicate key 'k' (first at plumb.yaml:6:5)",
                  "plumb.yaml:5:1: duplicate key 'a' (first at plumb.yaml:1:1)");
}

Test(yaml_errors, duplicate_keys_are_reported_in_file_order)
{
    expect_errors("b: 1\na: 1\nb: 2\na: 2\nb: 3\n",
                  "plumb.yaml:3:1: duplicate key 'b' (first at plumb.yaml:1:1)",
                  "plumb.yaml:4:1: duplicate key 'a' (first at plumb.yaml:2:1)",
                  "plumb.yaml:5:1: duplicate key 'b' (first at plumb.yaml:1:1)");
}

Test(yaml_errors, a_duplicate_through_an_alias_is_where_the_alias_is)
{
    expect_errors("&k key: 1\nother: 2\n*k : 3\n",
                  "plumb.yaml:3:1: duplicate key 'key' (first at plumb.yaml:1:1)");
}

Test(yaml_errors, complex_keys_are_refused)
{
    expect_errors("? [a, b]\n: c\nd: e\n{x: 1}: f\n",
                  "plumb.yaml:1:3: mapping keys must be scalars, not a sequence",
                  "plumb.yaml:4:1: mapping keys must be scalars, not a mapping");
    teardown();
    setup();
    expect_errors("l: &l [1]\n*l : x\n",
                  "plumb.yaml:2:1: mapping keys must be scalars, not a sequence");
}

Test(yaml_errors, more_than_one_document_is_refused)
{
    expect_errors("a: 1\n---\nb: 2\n",
                  "plumb.yaml:2:1: multiple documents in one file are not supported");
}

Test(yaml_errors, unknown_and_misplaced_tags)
{
    expect_errors("a: !custom x\nb: !!binary aGk=\nc: !!int abc\nd: !!bool yes\n"
                  "e: !!map x\nf: !!str {k: v}\ng: !thing [1]\nh: !!float 1.5.6\n",
                  "plumb.yaml:1:4: unknown tag '!custom'", "plumb.yaml:2:4: unknown tag '!!binary'",
                  "plumb.yaml:3:4: invalid '!!int' value 'abc'",
                  "plumb.yaml:4:4: invalid '!!bool' value 'yes'",
                  "plumb.yaml:5:4: tag '!!map' cannot be used on a scalar",
                  "plumb.yaml:6:4: tag '!!str' cannot be used on a mapping",
                  "plumb.yaml:7:4: unknown tag '!thing'",
                  "plumb.yaml:8:4: invalid '!!float' value '1.5.6'");
}

Test(yaml_errors, numbers_out_of_range)
{
    expect_errors("a: 9223372036854775808\nb: -9223372036854775809\nc: 0xFFFFFFFFFFFFFFFFF\n"
                  "d: 1e400\ne: 1e-400\nf: -9223372036854775808\n",
                  "plumb.yaml:1:4: number '9223372036854775808' is out of range",
                  "plumb.yaml:2:4: number '-9223372036854775809' is out of range",
                  "plumb.yaml:3:4: number '0xFFFFFFFFFFFFFFFFF' is out of range",
                  "plumb.yaml:4:4: number '1e400' is out of range");
}

Test(yaml_errors, undefined_and_recursive_aliases)
{
    expect_errors("a: *nope\nb: &r [1, *r]\nc: &m {k: *m}\n",
                  "plumb.yaml:1:4: undefined alias 'nope'",
                  "plumb.yaml:2:11: recursive alias 'r': it refers to a node that contains it",
                  "plumb.yaml:3:11: recursive alias 'm': it refers to a node that contains it");
}

Test(yaml_errors, messages_quote_odd_keys_safely)
{
    expect_errors("\"a\\tb\": 1\n\"a\\tb\": 2\n",
                  "plumb.yaml:2:1: duplicate key 'a\\x09b' (first at plumb.yaml:1:1)");
}

Test(yaml_errors, every_error_is_collected_until_too_many)
{
    struct plumb_buf src = PLUMB_BUF_INIT;
    int i, rc;

    for (i = 0; i < 150; i++)
        plumb_buf_printf(&src, "- {k: 1, k: 2}\n");
    rc = plumb_yaml_load_string(&doc, FILE_NAME, src.ptr, src.len, &diags);
    cr_assert_eq(rc, PLUMB_EINVALID);
    cr_assert_eq(diags.n, 101);
    cr_assert_str_eq(diags.v[99].message, "duplicate key 'k' (first at plumb.yaml:100:4)");
    cr_assert_str_eq(diags.v[100].message, "too many errors in 'plumb.yaml', giving up");
    plumb_buf_release(&src);
}

Test(yaml_errors, unreadable_files_name_the_path_and_the_reason)
{
    char *t;

    cr_assert_eq(plumb_yaml_load_file(&doc, "/nonexistent/plumb.yaml", &diags), PLUMB_EINVALID);
    cr_assert_null(doc);
    t = diag_text(0);
    cr_assert_str_eq(t, "/nonexistent/plumb.yaml: unable to open '/nonexistent/plumb.yaml': "
                        "No such file or directory");
    free(t);
    cr_assert_eq(plumb_yaml_load_file(&doc, "/tmp", &diags), PLUMB_EINVALID);
    t = diag_text(1);
    cr_assert_str_eq(t, "/tmp: unable to read '/tmp': Is a directory");
    free(t);
}

/* ---- anchors, aliases and merge keys ---- */

Test(yaml_anchors, aliases_share_the_anchored_node)
{
    const struct plumb_node *root = load("base: &b {cpu: 256}\nx: *b\ny: [*b, *b]\n");
    const struct plumb_node *b = plumb_node_get(root, "base");

    cr_assert_eq(plumb_node_get(root, "x"), b);
    cr_assert_eq(plumb_node_get(root, "y")->items[0], b);
    cr_assert_eq(plumb_node_get(root, "y")->items[1], b);
    expect_json(root, "{\"base\":{\"cpu\":256},\"x\":{\"cpu\":256},\"y\":[{\"cpu\":256},"
                      "{\"cpu\":256}]}");
}

Test(yaml_anchors, an_alias_refers_to_the_latest_anchor)
{
    const struct plumb_node *root = load("a: &x 1\nb: *x\nc: &x two\nd: *x\ne: &y [&y in, *y]\n");

    expect_json(root, "{\"a\":1,\"b\":1,\"c\":\"two\",\"d\":\"two\",\"e\":[\"in\",\"in\"]}");
}

Test(yaml_anchors, merge_key_merges_a_mapping_explicit_keys_win)
{
    const struct plumb_node *root = load("base: &base\n  cpu: 256\n  memory: 512\n"
                                         "svc:\n  name: api\n  <<: *base\n  memory: 1024\n");
    const struct plumb_node *svc = plumb_node_get(root, "svc");

    /* Merged pairs go where the "<<" was. */
    expect_json(svc, "{\"name\":\"api\",\"cpu\":256,\"memory\":1024}");
    cr_assert_eq(svc->n, 3);
    cr_assert_null(plumb_node_get(svc, "<<"));
    /* The merged pair is the anchored one, not a copy. */
    cr_assert_eq(plumb_node_get(svc, "cpu"), plumb_node_get(plumb_node_get(root, "base"), "cpu"));
    expect_loc(plumb_node_get(svc, "memory"), 7, 11);
}

Test(yaml_anchors, merge_key_takes_a_list_earlier_mappings_win)
{
    const struct plumb_node *root =
        load("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b, {w: 3, x: 3}]\n"
             "  z: 9\n");

    expect_json(plumb_node_get(root, "c"), "{\"x\":1,\"y\":1,\"w\":3,\"z\":9}");
}

Test(yaml_anchors, merged_mappings_carry_their_own_merges)
{
    const struct plumb_node *root =
        load("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\nd: {<<: {k: v}}\n");

    expect_json(plumb_node_get(root, "c"), "{\"x\":1,\"y\":2,\"z\":3}");
    expect_json(plumb_node_get(root, "d"), "{\"k\":\"v\"}");
}

Test(yaml_anchors, quoted_merge_key_is_an_ordinary_key)
{
    const struct plumb_node *root = load("a: &a {x: 1}\nb: {\"<<\": *a, '<<x': 2}\n");

    expect_json(plumb_node_get(root, "b"), "{\"<<\":{\"x\":1},\"<<x\":2}");
}

Test(yaml_anchors, merge_values_must_be_mappings)
{
    expect_errors("a: &s str\nb:\n  <<: *s\nc:\n  <<: [{k: 1}, [x], 3]\nd: {<<: *undef}\n",
                  "plumb.yaml:1:4: merge value must be a mapping or a list of mappings, not a "
                  "string",
                  "plumb.yaml:5:16: merge value must be a mapping or a list of mappings, not a "
                  "sequence",
                  "plumb.yaml:5:21: merge value must be a mapping or a list of mappings, not a "
                  "integer",
                  "plumb.yaml:6:9: undefined alias 'undef'");
}

Test(yaml_anchors, two_merge_keys_in_one_mapping_are_duplicates)
{
    expect_errors("a: &a {x: 1}\nb:\n  <<: *a\n  <<: {y: 2}\n",
                  "plumb.yaml:4:3: duplicate key '<<' (first at plumb.yaml:3:3)");
}

/* ---- limits ---- */

/* The limits bound the work: a document is refused at the node that crosses the limit, so no
 * expansion runs long (bench/validate.sh times them; unit tests assert no timings). */
Test(yaml_limits, billion_laughs_is_refused)
{
    const char *src = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                      "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                      "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";

    expect_errors(src, "plumb.yaml:7:16: document too large: more than 2000000 nodes once "
                       "aliases are expanded");
}

Test(yaml_limits, merge_keys_count_toward_the_node_limit)
{
    /* Each mapping merges the previous one and adds a key: the file is linear, the expansion
     * quadratic. */
    struct plumb_buf src = PLUMB_BUF_INIT;
    int i;

    plumb_buf_puts(&src, "m0: &m0 {k0: 0}\n");
    for (i = 1; i < 3000; i++)
        plumb_buf_printf(&src, "m%d: &m%d {<<: *m%d, k%d: %d}\n", i, i, i - 1, i, i);
    cr_assert_eq(plumb_yaml_load_string(&doc, FILE_NAME, src.ptr, src.len, &diags), PLUMB_EINVALID);
    cr_assert_eq(diags.n, 1);
    cr_assert_str_eq(diags.v[0].message,
                     "document too large: more than 2000000 nodes once aliases are expanded");
    plumb_buf_release(&src);
}

Test(yaml_limits, many_aliases_below_the_limit_load)
{
    /* 1000 aliases of a 1001-node list: about 1,000,000 nodes, half the limit. */
    struct plumb_buf src = PLUMB_BUF_INIT;
    const struct plumb_node *root;
    int i;

    plumb_buf_puts(&src, "a: &a [");
    for (i = 0; i < 1000; i++)
        plumb_buf_puts(&src, i ? ", 1" : "1");
    plumb_buf_puts(&src, "]\nb: [");
    for (i = 0; i < 1000; i++)
        plumb_buf_puts(&src, i ? ", *a" : "*a");
    plumb_buf_puts(&src, "]\n");
    root = load(src.ptr);
    cr_assert_eq(plumb_node_get(root, "b")->n, 1000);
    cr_assert_eq(plumb_node_get(root, "b")->items[999], plumb_node_get(root, "a"));
    plumb_buf_release(&src);
}

Test(yaml_limits, nesting_depth)
{
    struct plumb_buf src = PLUMB_BUF_INIT;
    int i;

    for (i = 0; i < PLUMB_YAML_MAX_DEPTH; i++)
        plumb_buf_putc(&src, '[');
    for (i = 0; i < PLUMB_YAML_MAX_DEPTH; i++)
        plumb_buf_putc(&src, ']');
    load(src.ptr);
    plumb_doc_free(doc);
    doc = NULL;
    plumb_buf_clear(&src);
    /* One more, and then a great many (which must not cost memory or time). */
    for (i = 0; i < 100000; i++)
        plumb_buf_putc(&src, '[');
    expect_errors(src.ptr, "plumb.yaml:1:65: nesting too deep: more than 64 levels");
    plumb_buf_release(&src);
}

Test(yaml_limits, block_nesting_depth)
{
    struct plumb_buf src = PLUMB_BUF_INIT;
    int i;

    for (i = 0; i < 70; i++)
        plumb_buf_printf(&src, "%*sk%d:\n", 2 * i, "", i);
    expect_errors(src.ptr, "plumb.yaml:65:129: nesting too deep: more than 64 levels");
    plumb_buf_release(&src);
}

Test(yaml_limits, size_limit_in_memory)
{
    size_t len = PLUMB_YAML_MAX_FILE_SIZE + 1;
    char *big = malloc(len);

    cr_assert_not_null(big);
    memset(big, '#', len);
    expect_errors_n(big, len,
                    (const char *const[]){"plumb.yaml: file too large: 'plumb.yaml' is 67108865 "
                                          "bytes, the limit is 67108864",
                                          NULL});
    free(big);
}

Test(yaml_limits, size_limit_is_checked_before_reading_a_file)
{
    char path[] = "/tmp/plumb-yaml-XXXXXX";
    struct plumb_buf want = PLUMB_BUF_INIT;
    int fd = mkstemp(path);
    char *t;

    /* Sparse and all NULs: read, it would fail on a control character instead. */
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, (off_t)PLUMB_YAML_MAX_FILE_SIZE + 1), 0);
    close(fd);
    cr_assert_eq(plumb_yaml_load_file(&doc, path, &diags), PLUMB_EINVALID);
    unlink(path);
    plumb_buf_printf(&want, "%s: file too large: '%s' is 67108865 bytes, the limit is 67108864",
                     path, path);
    t = diag_text(0);
    cr_assert_str_eq(t, want.ptr);
    cr_assert_eq(diags.n, 1);
    free(t);
    plumb_buf_release(&want);
}

Test(yaml_limits, a_file_at_the_limit_is_read)
{
    size_t len = PLUMB_YAML_MAX_FILE_SIZE;
    char *big = malloc(len);

    cr_assert_not_null(big);
    memset(big, '#', len);
    cr_assert_eq(plumb_yaml_load_string(&doc, FILE_NAME, big, len, &diags), 0);
    cr_assert_null(plumb_doc_root(doc));
    free(big);
}

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"
#include "config/yaml.h"
#include "util/buf.h"
#include "util/error.h"

#define FILE_NAME "plumb.yaml"

static struct plumb_diags diags;
static struct plumb_template t;

static void setup(void)
{
    plumb_diags_init(&diags);
    memset(&t, 0, sizeof(t));
}

static void teardown(void)
{
    plumb_template_release(&t);
    plumb_diags_release(&diags);
}

TestSuite(expr, .init = setup, .fini = teardown);
TestSuite(expr_errors, .init = setup, .fini = teardown);

/* The scalar at plumb.yaml:10:5, as most tests have it. */
static void parse_ok(const char *s)
{
    struct plumb_loc loc = {FILE_NAME, 10, 5};
    int rc = plumb_expr_parse(&t, s, strlen(s), &loc, &diags);

    cr_assert_eq(rc, 0, "'%s' failed: %s", s, diags.n ? diags.v[0].message : "(no diagnostic)");
    cr_assert_eq(diags.n, 0);
}

static const struct plumb_ref *ref_at(size_t i)
{
    cr_assert_lt(i, t.n);
    cr_assert_not_null(t.parts[i].ref, "part %zu is not a reference", i);
    cr_assert_null(t.parts[i].literal);
    return t.parts[i].ref;
}

static void expect_literal(size_t i, const char *want)
{
    cr_assert_lt(i, t.n);
    cr_assert_null(t.parts[i].ref, "part %zu is a reference", i);
    cr_assert_not_null(t.parts[i].literal);
    cr_assert_str_eq(t.parts[i].literal, want);
    cr_assert_eq(t.parts[i].literal_len, strlen(want));
}

static void expect_ref(size_t i, enum plumb_ref_kind kind, const char *name, const char *attr,
                       const char *text, int col)
{
    const struct plumb_ref *r = ref_at(i);

    cr_assert_eq(r->kind, kind, "kind of '%s'", text);
    if (name)
        cr_assert_str_eq(r->name, name);
    else
        cr_assert_null(r->name);
    if (attr)
        cr_assert_str_eq(r->attr, attr);
    else
        cr_assert_null(r->attr);
    cr_assert_str_eq(r->text, text);
    cr_assert_str_eq(r->loc.file, FILE_NAME);
    cr_assert_eq(r->loc.line, 10);
    cr_assert_eq(r->loc.col, col, "col %d of '%s', want %d", r->loc.col, text, col);
}

/* Parsing `s` (at plumb.yaml:10:5) fails with exactly the diagnostics `want`. */
static void expect_errors_v(const char *s, const char *const *want)
{
    struct plumb_loc loc = {FILE_NAME, 10, 5};
    size_t i, n = 0;
    int rc = plumb_expr_parse(&t, s, strlen(s), &loc, &diags);

    cr_assert_eq(rc, PLUMB_EINVALID, "'%s' parsed", s);
    cr_assert_eq(t.n, 0, "a failed parse leaves no parts");
    cr_assert_null(t.parts);
    while (want[n])
        n++;
    for (i = 0; i < diags.n || i < n; i++) {
        struct plumb_buf b = PLUMB_BUF_INIT;
        if (i < diags.n)
            plumb_buf_printf(&b, "%s:%d:%d: %s", diags.v[i].file, diags.v[i].line, diags.v[i].col,
                             diags.v[i].message);
        else
            plumb_buf_puts(&b, "(none)");
        cr_assert_str_eq(b.ptr, i < n ? want[i] : "(none)",
                         "diagnostic %zu of '%s':\n  got  %s\n  want %s", i, s, b.ptr,
                         i < n ? want[i] : "(none)");
        plumb_buf_release(&b);
    }
    plumb_diags_release(&diags);
}

#define expect_errors(s, ...) expect_errors_v((s), (const char *const[]){__VA_ARGS__, NULL})

/* ---- forms ---- */

Test(expr, plain_text_is_one_literal)
{
    parse_ok("just text, $ and $x and {braces}");
    cr_assert_eq(t.n, 1);
    expect_literal(0, "just text, $ and $x and {braces}");
    cr_assert_eq(t.whole, 0);
}

Test(expr, empty_text_is_one_empty_literal)
{
    parse_ok("");
    cr_assert_eq(t.n, 1);
    expect_literal(0, "");
    cr_assert_eq(t.whole, 0);
}

Test(expr, env)
{
    parse_ok("${env}");
    cr_assert_eq(t.n, 1);
    expect_ref(0, PLUMB_REF_ENV, NULL, NULL, "env", 5);
    cr_assert_eq(t.whole, 1);
}

Test(expr, var)
{
    parse_ok("${var.image_tag}");
    expect_ref(0, PLUMB_REF_VAR, "image_tag", NULL, "var.image_tag", 5);
}

Test(expr, aws_account_and_region)
{
    parse_ok("arn:aws:ecr:${aws.region}:${aws.account_id}:repository/x");
    cr_assert_eq(t.n, 5);
    expect_literal(0, "arn:aws:ecr:");
    expect_ref(1, PLUMB_REF_AWS, "region", NULL, "aws.region", 17);
    expect_literal(2, ":");
    expect_ref(3, PLUMB_REF_AWS, "account_id", NULL, "aws.account_id", 31);
    expect_literal(4, ":repository/x");
    cr_assert_eq(t.whole, 0);
}

Test(expr, resource_attributes_and_paths)
{
    parse_ok("${cluster.Arn} ${db.Endpoint.Address} ${my-res_2.A-b_c}");
    cr_assert_eq(t.n, 5);
    expect_ref(0, PLUMB_REF_RESOURCE, "cluster", "Arn", "cluster.Arn", 5);
    expect_literal(1, " ");
    expect_ref(2, PLUMB_REF_RESOURCE, "db", "Endpoint.Address", "db.Endpoint.Address", 20);
    expect_ref(4, PLUMB_REF_RESOURCE, "my-res_2", "A-b_c", "my-res_2.A-b_c", 43);
}

Test(expr, module_outputs)
{
    parse_ok("http://${module.site.url}/ ${module.net.subnets.private}");
    expect_ref(1, PLUMB_REF_MODULE, "site", "url", "module.site.url", 12);
    expect_ref(3, PLUMB_REF_MODULE, "net", "subnets.private", "module.net.subnets.private", 32);
}

Test(expr, secret_from_the_environment)
{
    parse_ok("${secret.env.CLOUDSHOP_DB_PASSWORD}");
    expect_ref(0, PLUMB_REF_SECRET_ENV, "CLOUDSHOP_DB_PASSWORD", NULL,
               "secret.env.CLOUDSHOP_DB_PASSWORD", 5);
    cr_assert_eq(t.whole, 1);
}

Test(expr, spaces_inside_the_braces)
{
    parse_ok("${ var.x }");
    expect_ref(0, PLUMB_REF_VAR, "x", NULL, "var.x", 5);
    cr_assert_eq(t.whole, 1);
    plumb_template_release(&t);
    parse_ok("${\tenv\t}");
    expect_ref(0, PLUMB_REF_ENV, NULL, NULL, "env", 5);
}

Test(expr, whole_only_for_exactly_one_reference)
{
    static const struct {
        const char *s;
        int whole;
    } cases[] = {
        {"${var.list}", 1},  {" ${var.list}", 0}, {"${var.list} ", 0},
        {"${a.b}${c.d}", 0}, {"x${a.b}", 0},      {"$${var.list}", 0},
        {"${ db.Arn  }", 1}, {"plain", 0},        {"", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_ok(cases[i].s);
        cr_assert_eq(t.whole, cases[i].whole, "whole of '%s'", cases[i].s);
        plumb_template_release(&t);
    }
}

Test(expr, dollar_dollar_brace_is_a_literal)
{
    parse_ok("a $${b} ${c.d} $$ $${");
    cr_assert_eq(t.n, 3);
    expect_literal(0, "a ${b} ");
    expect_ref(1, PLUMB_REF_RESOURCE, "c", "d", "c.d", 13);
    expect_literal(2, " $$ ${");
    cr_assert_eq(plumb_expr_has_refs("a $${b}", 7), 0);
    plumb_template_release(&t);
    /* Read left to right: "$" then "$${": a literal "$${x}". */
    parse_ok("$$${x}");
    cr_assert_eq(t.n, 1);
    expect_literal(0, "$${x}");
}

Test(expr, literals_keep_nul_bytes)
{
    struct plumb_loc loc = {FILE_NAME, 1, 1};

    cr_assert_eq(plumb_expr_parse(&t, "a\0b${x.y}", 9, &loc, &diags), 0);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.parts[0].literal_len, 3);
    cr_assert_eq(memcmp(t.parts[0].literal, "a\0b", 4), 0);
}

Test(expr, has_refs)
{
    cr_assert_eq(plumb_expr_has_refs("x ${a.b}", 8), 1);
    cr_assert_eq(plumb_expr_has_refs("${", 2), 1);
    cr_assert_eq(plumb_expr_has_refs("$${a.b}", 7), 0);
    cr_assert_eq(plumb_expr_has_refs("$$${a.b}", 8), 0);
    cr_assert_eq(plumb_expr_has_refs("$$ ${a.b}", 9), 1);
    cr_assert_eq(plumb_expr_has_refs("$", 1), 0);
    cr_assert_eq(plumb_expr_has_refs("no refs at all", 14), 0);
    /* Only `len` bytes count. */
    cr_assert_eq(plumb_expr_has_refs("ab${c.d}", 3), 0);
}

/* ---- columns ---- */

Test(expr, columns_count_characters_not_bytes)
{
    parse_ok("\xc3\xa9t\xc3\xa9 ${var.x}");
    expect_ref(1, PLUMB_REF_VAR, "x", NULL, "var.x", 9);
}

Test(expr, multi_line_text_keeps_the_scalar_location)
{
    parse_ok("line one\n${var.x}");
    expect_ref(1, PLUMB_REF_VAR, "x", NULL, "var.x", 5);
}

/* The text of a YAML scalar, through the loader: quotes, anchors and tags move the text. */
Test(expr, node_columns_follow_the_file)
{
    const char *src = "a: x ${var.a}\n"
                      "b: \"q ${var.b}\"\n"
                      "c: &anc 'it''s ${var.c}'\n"
                      "d: !!str ${var.d}\n"
                      "e: |\n"
                      "  ${var.e}\n"
                      "f: \"${bad}\"\n";
    struct plumb_doc *doc = NULL;
    const struct plumb_node *root;
    static const struct {
        const char *key;
        int line, col;
    } want[] = {
        {"a", 1, 6},
        {"b", 2, 7},
        {"d", 4, 10},
        {"e", 5, 4},
        /* The '' before it makes the column one short: good enough for a message. */
        {"c", 3, 15},
    };
    size_t i;

    cr_assert_eq(plumb_yaml_load_string(&doc, FILE_NAME, src, strlen(src), &diags), 0);
    root = plumb_doc_root(doc);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct plumb_node *n = plumb_node_get(root, want[i].key);
        const struct plumb_ref *r;
        cr_assert_eq(plumb_expr_parse_node(&t, n, &diags), 0);
        r = ref_at(t.parts[0].ref ? 0 : 1);
        cr_assert_eq(r->loc.line, want[i].line, "line of %s", want[i].key);
        cr_assert_eq(r->loc.col, want[i].col, "col of %s: %d", want[i].key, r->loc.col);
        plumb_template_release(&t);
    }
    cr_assert_eq(plumb_expr_parse_node(&t, plumb_node_get(root, "f"), &diags), PLUMB_EINVALID);
    cr_assert_eq(diags.n, 1);
    cr_assert_eq(diags.v[0].line, 7);
    cr_assert_eq(diags.v[0].col, 5);
    cr_assert_str_eq(diags.v[0].message,
                     "unknown reference 'bad': expected env, var.NAME, aws.account_id, "
                     "aws.region, RESOURCE.ATTR, module.NAME.OUTPUT or secret.env.NAME");
    cr_assert_eq(plumb_expr_parse_node(&t, root, &diags), PLUMB_EINVALID);
    plumb_doc_free(doc);
}

/* ---- errors ---- */

Test(expr_errors, unterminated)
{
    expect_errors("abc ${var.x", "plumb.yaml:10:9: unterminated '${': missing '}'");
    expect_errors("${", "plumb.yaml:10:5: unterminated '${': missing '}'");
}

Test(expr_errors, empty)
{
    expect_errors("x${}", "plumb.yaml:10:6: empty reference '${}'");
    expect_errors("${   }", "plumb.yaml:10:5: empty reference '${}'");
}

Test(expr_errors, unknown_root)
{
    expect_errors("${foo}", "plumb.yaml:10:5: unknown reference 'foo': expected env, var.NAME, "
                            "aws.account_id, aws.region, RESOURCE.ATTR, module.NAME.OUTPUT or "
                            "secret.env.NAME");
}

Test(expr_errors, bad_characters_at_their_column)
{
    expect_errors("${a@b}", "plumb.yaml:10:8: unexpected character '@' in reference '${a@b}'");
    expect_errors("${var.x y}",
                  "plumb.yaml:10:13: unexpected character 'y' in reference '${var.x y}'");
    expect_errors("${a. b}", "plumb.yaml:10:9: unexpected character ' ' in reference '${a. b}'");
    expect_errors("${db.list[0]}",
                  "plumb.yaml:10:14: unexpected character '[' in reference '${db.list[0]}'");
    expect_errors("${1a.b}", "plumb.yaml:10:7: unexpected character '1' in reference '${1a.b}'");
    expect_errors("${\xc3\xa9.b}", "plumb.yaml:10:7: unexpected character '\xc3\xa9' in reference "
                                   "'${\xc3\xa9.b}'");
    expect_errors("${a\"b}", "plumb.yaml:10:8: unexpected character '\"' in reference '${a\"b}'");
    expect_errors("${a.b\n}",
                  "plumb.yaml:10:5: unexpected character '\\x0a' in reference '${a.b\\x0a}'");
}

Test(expr_errors, missing_names)
{
    expect_errors("${a..b}", "plumb.yaml:10:9: missing name in reference '${a..b}'");
    expect_errors("${a.}", "plumb.yaml:10:9: missing name in reference '${a.}'");
    expect_errors("${.a}", "plumb.yaml:10:7: missing name in reference '${.a}'");
}

Test(expr_errors, var_needs_a_name)
{
    expect_errors("${var}",
                  "plumb.yaml:10:5: missing variable name in '${var}': expected var.NAME");
    expect_errors("${var.a.b}",
                  "plumb.yaml:10:5: too many parts in '${var.a.b}': expected var.NAME");
}

Test(expr_errors, env_has_no_attributes)
{
    expect_errors("${env.name}", "plumb.yaml:10:5: too many parts in '${env.name}': expected env");
}

Test(expr_errors, aws_attributes)
{
    expect_errors("${aws.x}", "plumb.yaml:10:11: unknown aws attribute 'x': expected "
                              "aws.account_id or aws.region");
    expect_errors("${aws}", "plumb.yaml:10:5: missing aws attribute in '${aws}': expected "
                            "aws.account_id or aws.region");
    expect_errors("${aws.region.x}", "plumb.yaml:10:5: too many parts in '${aws.region.x}': "
                                     "expected aws.account_id or aws.region");
}

Test(expr_errors, secrets_come_from_env_only)
{
    expect_errors("${secret.x.Y}", "plumb.yaml:10:14: unknown secret source 'x': expected "
                                   "secret.env.NAME");
    expect_errors("${secret.env}", "plumb.yaml:10:5: missing secret name in '${secret.env}': "
                                   "expected secret.env.NAME");
    expect_errors("${secret}", "plumb.yaml:10:5: missing secret name in '${secret}': expected "
                               "secret.env.NAME");
    expect_errors("${secret.env.A.B}", "plumb.yaml:10:5: too many parts in '${secret.env.A.B}': "
                                       "expected secret.env.NAME");
}

Test(expr_errors, module_needs_an_output)
{
    expect_errors("${module.site}", "plumb.yaml:10:5: missing module output in '${module.site}': "
                                    "expected module.NAME.OUTPUT");
}

Test(expr_errors, nested_references)
{
    expect_errors("${a.${b.c}}", "plumb.yaml:10:9: nested '${' in a reference: references "
                                 "cannot contain others");
}

Test(expr_errors, every_bad_reference_in_a_scalar_is_reported)
{
    expect_errors("${foo} ok ${var.x} ${aws.nope} ${}",
                  "plumb.yaml:10:5: unknown reference 'foo': expected env, var.NAME, "
                  "aws.account_id, aws.region, RESOURCE.ATTR, module.NAME.OUTPUT or "
                  "secret.env.NAME",
                  "plumb.yaml:10:30: unknown aws attribute 'nope': expected aws.account_id or "
                  "aws.region",
                  "plumb.yaml:10:36: empty reference '${}'");
}

Test(expr_errors, long_references_are_cut_in_messages)
{
    expect_errors("${a.b c234567890123456789012345678901234567890123456789012345678901234567890}",
                  "plumb.yaml:10:11: unexpected character 'c' in reference "
                  "'${a.b c23456789012345678901234567890123456789012345678901234...'");
}

Test(expr_errors, too_many_errors_in_one_value_stop_the_scan)
{
    struct plumb_loc loc = {FILE_NAME, 1, 1};
    struct plumb_buf s = PLUMB_BUF_INIT;
    int i;

    for (i = 0; i < 50; i++)
        plumb_buf_puts(&s, "${x} ");
    cr_assert_eq(plumb_expr_parse(&t, s.ptr, s.len, &loc, &diags), PLUMB_EINVALID);
    cr_assert_eq(diags.n, 21);
    cr_assert_eq(diags.v[19].col, 1 + 19 * 5);
    cr_assert_str_eq(diags.v[20].message, "too many errors in one value, giving up");
    plumb_buf_release(&s);
}

Test(expr, long_values_keep_exact_columns)
{
    struct plumb_loc loc = {FILE_NAME, 1, 1};
    struct plumb_buf s = PLUMB_BUF_INIT;
    int i;

    /* 200,000 references on one line, each after a two-byte character: columns count
     * characters, not bytes. (That this stays linear is measured by bench/validate.sh, not
     * asserted here: timing does not belong in unit tests.) */
    for (i = 0; i < 200000; i++)
        plumb_buf_puts(&s, "é${a.b}");
    cr_assert_eq(plumb_expr_parse(&t, s.ptr, s.len, &loc, &diags), 0);
    cr_assert_eq(t.n, 400000);
    cr_assert_eq(t.parts[399999].ref->loc.col, 1 + 199999 * 7 + 1);
    plumb_buf_release(&s);
}

/*
 * AWS::IAM::OIDCProvider — an OpenID Connect identity provider IAM trusts, such as GitHub
 * Actions' (https://token.actions.githubusercontent.com) for CI deploys without stored keys.
 *
 * AWS names it: the id is its ARN, which ends with the URL without its scheme, so lookup finds
 * a provider for a URL in the one ListOpenIDConnectProviders answer. GetOpenIDConnectProvider
 * reports the URL without "https://"; read puts the scheme back so that it compares equal to
 * what a user declares. Client ids change one by one (Add/RemoveClientID...), thumbprints as a
 * whole list. There is no call that reads several providers, so there is no read_many.
 */
#include <stdlib.h>
#include <string.h>

#include "provider/provider.h"
#include "provider/util.h"
#include "util/buf.h"
#include "util/error.h"

#define OIDC_ARN_MARK ":oidc-provider/"

static int iam_do(struct plumb_aws *aws, const char *op, json_t *in)
{
    json_t *out = NULL;
    int error;

    if (!in)
        return plumb_error_oom();
    error = plumb_aws_call(aws, "iam", op, in, &out);
    json_decref(in);
    json_decref(out);
    return error;
}

/* The URL without its scheme, as IAM keeps it and puts it in the ARN. */
static const char *url_host_path(const char *url)
{
    if (strncmp(url, "https://", 8) == 0)
        return url + 8;
    if (strncmp(url, "http://", 7) == 0)
        return url + 7;
    return url;
}

static const char *sort_text(const json_t *v)
{
    const char *s = json_string_value(v);

    return s ? s : "";
}

/* A copy of a list of strings, sorted: AWS keeps client ids and thumbprints unordered. */
static json_t *sorted(const json_t *list)
{
    json_t *out = json_is_array(list) ? json_copy((json_t *)list) : json_array();
    size_t i, j;

    for (i = 1; out && i < json_array_size(out); i++) {
        for (j = i; j > 0 && strcmp(sort_text(json_array_get(out, j - 1)),
                                    sort_text(json_array_get(out, j))) > 0;
             j--) {
            json_t *prev = json_incref(json_array_get(out, j - 1));
            json_array_set(out, j - 1, json_array_get(out, j));
            json_array_set_new(out, j, prev);
        }
    }
    return out;
}

static json_t *tag_list(const json_t *tags)
{
    json_t *map = plumb_provider_tags_to_map(tags), *list;

    list = plumb_provider_tags_to_list(map, "Key", "Value");
    json_decref(map);
    return list;
}

static int oidc_read(struct plumb_aws *aws, const json_t *id, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "Arn");
    json_t *in = NULL, *out = NULL, *o = NULL, *tags = NULL, *listed = NULL, *v;
    struct plumb_buf url = PLUMB_BUF_INIT;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "OIDC provider id lacks Arn");
    in = json_pack("{s:s}", "OpenIDConnectProviderArn", arn);
    PLUMB_ALLOC_CHECK(in);
    error = plumb_aws_call(aws, "iam", "GetOpenIDConnectProvider", in, &out);
    if (error == PLUMB_ENOTFOUND) {
        error = 0;
        goto done;
    }
    PLUMB_TRY(error);
    o = json_object();
    PLUMB_ALLOC_CHECK(o);
    json_object_set_new(o, "Arn", json_string(arn));
    if ((v = json_object_get(out, "Url"))) {
        /* declared as https://...; IAM reports it without the scheme */
        plumb_buf_printf(&url, "https://%s", url_host_path(json_string_value(v)));
        json_object_set_new(o, "Url", json_string(plumb_buf_cstr(&url)));
    }
    json_object_set_new(o, "ClientIdList", sorted(json_object_get(out, "ClientIDList")));
    if ((v = json_object_get(out, "ThumbprintList")))
        json_object_set_new(o, "ThumbprintList", sorted(v));
    if (json_is_array(json_object_get(out, "Tags"))) {
        tags = json_incref(json_object_get(out, "Tags"));
    } else {
        PLUMB_TRY(plumb_aws_paginate(aws, "iam", "ListOpenIDConnectProviderTags", in, &listed));
        tags = json_incref(json_object_get(listed, "Tags"));
    }
    json_object_set_new(o, "Tags", tag_list(tags));
    *observed = o;
    o = NULL;
done:
    json_decref(in);
    json_decref(out);
    json_decref(o);
    json_decref(tags);
    json_decref(listed);
    plumb_buf_release(&url);
    return error;
}

/* The ARN of the provider for `url` in this account, or NULL (one listing). */
static int find_by_url(struct plumb_aws *aws, const char *url, char **arn)
{
    json_t *out = NULL, *p;
    const char *host_path = url_host_path(url), *a, *mark;
    size_t i;
    int error;

    *arn = NULL;
    error = plumb_aws_call(aws, "iam", "ListOpenIDConnectProviders", NULL, &out);
    json_array_foreach(json_object_get(out, "OpenIDConnectProviderList"), i, p)
    {
        a = json_string_value(json_object_get(p, "Arn"));
        if (a && (mark = strstr(a, OIDC_ARN_MARK)) &&
            strcmp(mark + strlen(OIDC_ARN_MARK), host_path) == 0) {
            *arn = strdup(a);
            if (!*arn)
                error = plumb_error_oom();
            break;
        }
    }
    json_decref(out);
    return error;
}

static int oidc_lookup(struct plumb_aws *aws, const json_t *props, json_t **id)
{
    const char *url = json_string_value(json_object_get(props, "Url"));
    char *arn = NULL;
    int error = 0;

    *id = NULL;
    if (!url)
        return 0;
    PLUMB_TRY(find_by_url(aws, url, &arn));
    if (arn) {
        *id = json_pack("{s:s}", "Arn", arn);
        PLUMB_ALLOC_CHECK(*id);
    }
done:
    free(arn);
    return error;
}

static int oidc_create(struct plumb_aws *aws, const json_t *props, json_t **observed)
{
    const char *url = json_string_value(json_object_get(props, "Url"));
    json_t *in = NULL, *out = NULL, *tags = NULL, *id = NULL, *v;
    int error = 0;

    *observed = NULL;
    if (!url)
        return plumb_error_set(PLUMB_EINVALID, "an OIDC provider needs Url");
    in = json_pack("{s:s}", "Url", url);
    PLUMB_ALLOC_CHECK(in);
    if ((v = json_object_get(props, "ClientIdList")))
        json_object_set(in, "ClientIDList", v);
    /* left out, AWS fetches the issuer's certificate thumbprint itself */
    if (json_array_size(json_object_get(props, "ThumbprintList")))
        json_object_set(in, "ThumbprintList", json_object_get(props, "ThumbprintList"));
    tags = tag_list(json_object_get(props, "Tags"));
    if (json_array_size(tags))
        json_object_set(in, "Tags", tags);
    PLUMB_TRY(plumb_aws_call(aws, "iam", "CreateOpenIDConnectProvider", in, &out));
    id = json_pack("{s:O}", "Arn", json_object_get(out, "OpenIDConnectProviderArn"));
    if (!id) {
        error = plumb_error_set(PLUMB_EAWS, "CreateOpenIDConnectProvider for '%s' returned no ARN",
                                url);
        goto done;
    }
    PLUMB_TRY(oidc_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND,
                                "OIDC provider '%s' is not visible after "
                                "creating it",
                                url);
done:
    json_decref(in);
    json_decref(out);
    json_decref(tags);
    json_decref(id);
    return error;
}

static int string_in(const json_t *list, const json_t *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (json_equal(v, s))
            return 1;
    }
    return 0;
}

static int update_client_ids(struct plumb_aws *aws, const char *arn, const json_t *before,
                             const json_t *after)
{
    const json_t *v;
    size_t i;
    int error = 0;

    json_array_foreach(after, i, v)
    {
        if (!string_in(before, v))
            PLUMB_TRY(
                iam_do(aws, "AddClientIDToOpenIDConnectProvider",
                       json_pack("{s:s, s:O}", "OpenIDConnectProviderArn", arn, "ClientID", v)));
    }
    json_array_foreach(before, i, v)
    {
        if (!string_in(after, v)) {
            error = iam_do(aws, "RemoveClientIDFromOpenIDConnectProvider",
                           json_pack("{s:s, s:O}", "OpenIDConnectProviderArn", arn, "ClientID", v));
            if (error < 0 && error != PLUMB_ENOTFOUND)
                goto done;
            error = 0;
        }
    }
done:
    return error;
}

/* 1 when two lists of strings hold different members (order does not count). */
static int set_changed(const json_t *a, const json_t *b)
{
    json_t *sa = sorted(a), *sb = sorted(b);
    int changed = !json_equal(sa, sb);

    json_decref(sa);
    json_decref(sb);
    return changed;
}

static int oidc_update(struct plumb_aws *aws, const json_t *id, const json_t *before,
                       const json_t *after, json_t **observed)
{
    const char *arn = plumb_provider_id_str(id, "Arn");
    json_t *tb = NULL, *ta = NULL, *add = NULL, *del = NULL, *thumbs;
    int error = 0;

    *observed = NULL;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "OIDC provider id lacks Arn");
    if (json_object_get(after, "ThumbprintList") &&
        set_changed(json_object_get(before, "ThumbprintList"),
                    json_object_get(after, "ThumbprintList"))) {
        thumbs = json_object_get(after, "ThumbprintList");
        PLUMB_TRY(iam_do(
            aws, "UpdateOpenIDConnectProviderThumbprint",
            json_pack("{s:s, s:O}", "OpenIDConnectProviderArn", arn, "ThumbprintList", thumbs)));
    }
    tb = plumb_provider_tags_to_map(json_object_get(before, "Tags"));
    ta = plumb_provider_tags_to_map(json_object_get(after, "Tags"));
    plumb_provider_tags_diff(tb, ta, &add, &del);
    if (json_object_size(add))
        PLUMB_TRY(iam_do(aws, "TagOpenIDConnectProvider",
                         json_pack("{s:s, s:o}", "OpenIDConnectProviderArn", arn, "Tags",
                                   plumb_provider_tags_to_list(add, "Key", "Value"))));
    if (json_array_size(del))
        PLUMB_TRY(iam_do(aws, "UntagOpenIDConnectProvider",
                         json_pack("{s:s, s:O}", "OpenIDConnectProviderArn", arn, "TagKeys", del)));
    if (set_changed(json_object_get(before, "ClientIdList"),
                    json_object_get(after, "ClientIdList")))
        PLUMB_TRY(update_client_ids(aws, arn, json_object_get(before, "ClientIdList"),
                                    json_object_get(after, "ClientIdList")));
    PLUMB_TRY(oidc_read(aws, id, observed));
    if (!*observed)
        error = plumb_error_set(PLUMB_ENOTFOUND, "OIDC provider '%s' does not exist", arn);
done:
    json_decref(tb);
    json_decref(ta);
    json_decref(add);
    json_decref(del);
    return error;
}

static int oidc_remove(struct plumb_aws *aws, const json_t *id, unsigned flags)
{
    const char *arn = plumb_provider_id_str(id, "Arn");
    int error;

    (void)flags;
    if (!arn)
        return plumb_error_set(PLUMB_EINVALID, "OIDC provider id lacks Arn");
    error = iam_do(aws, "DeleteOpenIDConnectProvider",
                   json_pack("{s:s}", "OpenIDConnectProviderArn", arn));
    return error == PLUMB_ENOTFOUND ? 0 : error; /* gone already */
}

const struct plumb_resource_type plumb_driver_iam_oidcprovider = {
    .type_name = "AWS::IAM::OIDCProvider",
    .read = oidc_read,
    .lookup = oidc_lookup,
    .create = oidc_create,
    .update = oidc_update,
    .remove = oidc_remove,
};

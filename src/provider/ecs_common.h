/*
 * Internal to the ECS drivers: CloudFormation <-> ECS API shapes, driven by the schema one way
 * and the API model the other, and ECS's lower-case tags.
 */
#ifndef PLUMB_PROVIDER_ECS_COMMON_H
#define PLUMB_PROVIDER_ECS_COMMON_H

#include <jansson.h>

#include "aws/aws.h"
#include "aws/model.h"
#include "schema/schema.h"
#include "util/buf.h"

struct field {
    const char *cfn, *api;
};

const json_t *plumb_ecs__cfn_deref(const struct plumb_schema_type *t, const json_t *s);
const char *plumb_ecs__member_ci(const json_t *obj, const char *name);
json_t *plumb_ecs__cfn_from_api(const struct plumb_schema_type *t, const json_t *s,
                                const json_t *v);
json_t *plumb_ecs__api_from_cfn(const struct plumb_aws_service *svc, const json_t *shape,
                                const json_t *v);
const json_t *plumb_ecs__input_member(const struct plumb_aws_service *svc, const char *operation,
                                      const char *member);
int plumb_ecs__ecs_model(const struct plumb_aws_service **svc, const struct plumb_schema_type **t,
                         const char *type_name);
const char *plumb_ecs__base_name(const char *s);
json_t *plumb_ecs__ecs_tags(const json_t *tags_prop);
void plumb_ecs__fields_to_api(json_t *in, const struct plumb_aws_service *svc,
                              const char *operation, const struct field *fields,
                              const json_t *props);
void plumb_ecs__fields_from_api(json_t *out, const struct plumb_schema_type *t,
                                const struct field *fields, const json_t *obj);
int plumb_ecs__update_tags(struct plumb_aws *aws, const char *arn, const json_t *before,
                           const json_t *after);
int plumb_ecs__tags_changed(const json_t *before, const json_t *after);

#endif

#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "provider/provider.h"

/*
 * Every driver defines one `const struct plumb_resource_type plumb_driver_<name>`. The
 * declarations are weak so that the table can list a driver before its file exists; the
 * lookup skips those that are not linked in.
 */
#define DRIVER(x) extern const struct plumb_resource_type x __attribute__((weak))
DRIVER(plumb_driver_ecr_repository);
DRIVER(plumb_driver_ecs_cluster);
DRIVER(plumb_driver_ecs_taskdefinition);
DRIVER(plumb_driver_ecs_service);
DRIVER(plumb_driver_elbv2_loadbalancer);
DRIVER(plumb_driver_elbv2_targetgroup);
DRIVER(plumb_driver_elbv2_listener);
DRIVER(plumb_driver_elbv2_listenerrule);
DRIVER(plumb_driver_ec2_vpc);
DRIVER(plumb_driver_ec2_subnet);
DRIVER(plumb_driver_ec2_securitygroup);
DRIVER(plumb_driver_ec2_internetgateway);
DRIVER(plumb_driver_rds_dbsubnetgroup);
DRIVER(plumb_driver_rds_dbinstance);
DRIVER(plumb_driver_s3_bucket);
DRIVER(plumb_driver_s3_bucketpolicy);
DRIVER(plumb_driver_iam_role);
DRIVER(plumb_driver_iam_oidcprovider);
DRIVER(plumb_driver_secretsmanager_secret);
DRIVER(plumb_driver_logs_loggroup);
DRIVER(plumb_driver_apprunner_service);
DRIVER(plumb_driver_apprunner_autoscalingconfiguration);
DRIVER(plumb_driver_dynamodb_table);

static const struct plumb_resource_type *const candidates[] = {
    &plumb_driver_ecr_repository,
    &plumb_driver_ecs_cluster,
    &plumb_driver_ecs_taskdefinition,
    &plumb_driver_ecs_service,
    &plumb_driver_elbv2_loadbalancer,
    &plumb_driver_elbv2_targetgroup,
    &plumb_driver_elbv2_listener,
    &plumb_driver_elbv2_listenerrule,
    &plumb_driver_ec2_vpc,
    &plumb_driver_ec2_subnet,
    &plumb_driver_ec2_securitygroup,
    &plumb_driver_ec2_internetgateway,
    &plumb_driver_rds_dbsubnetgroup,
    &plumb_driver_rds_dbinstance,
    &plumb_driver_s3_bucket,
    &plumb_driver_s3_bucketpolicy,
    &plumb_driver_iam_role,
    &plumb_driver_iam_oidcprovider,
    &plumb_driver_secretsmanager_secret,
    &plumb_driver_logs_loggroup,
    &plumb_driver_apprunner_service,
    &plumb_driver_apprunner_autoscalingconfiguration,
    &plumb_driver_dynamodb_table,
};

#define NCANDIDATES (sizeof(candidates) / sizeof(candidates[0]))

static const struct plumb_resource_type *linked[NCANDIDATES + 1];
static pthread_once_t linked_once = PTHREAD_ONCE_INIT;

static void collect_linked(void)
{
    size_t i, n = 0;

    for (i = 0; i < NCANDIDATES; i++)
        if (candidates[i])
            linked[n++] = candidates[i];
    linked[n] = NULL;
}

const struct plumb_resource_type *const *plumb_provider_all(void)
{
    pthread_once(&linked_once, collect_linked);
    return linked;
}

const struct plumb_resource_type *plumb_provider_find(const char *type_name)
{
    size_t i;

    for (i = 0; i < NCANDIDATES; i++)
        if (candidates[i] && strcmp(candidates[i]->type_name, type_name) == 0)
            return candidates[i];
    return NULL;
}

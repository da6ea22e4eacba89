#!/usr/bin/env python3
"""Writes schemas/aws-*.json (plumb's resource schemas) and schemas/plumb.schema.json from
AWS's own CloudFormation resource provider schemas, as shipped with cfn-lint.

For every type plumb supports, TYPES below names the properties plumb declares (and, for
nested objects, which of their members), the few places where AWS's schema uses JSON Schema
constructs plumb's validator does not read (type lists, oneOf), and the hand-written "plumb"
block (schemas/README.md describes the format). Everything else — types, enums, patterns,
ranges, required members, create-only / read-only / write-only pointers, the primary
identifier — is copied from AWS's schema, so the output agrees with it by construction;
tests/schema/test_schemas_cfnlint.py checks that it still does.

Needs only the standard library and an installed cfn-lint (its data, not its code). The
output is committed: the build does not run this. Run it again after changing TYPES or after
upgrading cfn-lint, and review the diff:

    python3 scripts/gen-schemas.py            # writes schemas/
    python3 scripts/gen-schemas.py --check    # exit 1 when schemas/ is not what it would write
    python3 scripts/gen-schemas.py -v         # also lists every simplification made
"""
import ast
import copy
import importlib.util
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "schemas")

# ---------------------------------------------------------------------------------------------
# Reading AWS's schemas from cfn-lint's data

def cfnlint_schema_dir():
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.origin:
        return None
    return os.path.join(os.path.dirname(spec.origin), "data", "schemas")


def file_name(type_name):
    """cfn-lint's file name for a type: AWS::ECR::Repository -> aws-ecr-repository.json."""
    return type_name.lower().replace("::", "-") + ".json"


def load_aws_schema(type_name, base=None):
    """AWS's schema for `type_name` (us-east-1). cfn-lint < 1.3x keeps one file per type in
    providers/us_east_1/; newer releases map type names to content hashes in
    providers/us_east_1.py and keep the documents in resources/<hash>.json."""
    base = base or cfnlint_schema_dir()
    old = os.path.join(base, "providers", "us_east_1", file_name(type_name))
    if os.path.exists(old):
        with open(old, encoding="utf-8") as f:
            return json.load(f)
    with open(os.path.join(base, "providers", "us_east_1.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    types = None
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "types":
            types = ast.literal_eval(node.value)
    if not isinstance(types, dict) or type_name not in types:
        raise KeyError("cfn-lint has no schema for " + type_name)
    with open(os.path.join(base, "resources", types[type_name] + ".json"), encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------
# What plumb declares, per type

TAGS_LIST = {"property": "Tags", "format": "list"}

# Defaults shared by the ELBv2 action shapes (listener default actions, rule actions).
ACTION_MEMBERS = ["Type", "Order", "TargetGroupArn", "ForwardConfig", "RedirectConfig",
                  "FixedResponseConfig"]

TYPES = [
    {
        "typeName": "AWS::ECR::Repository",
        "description": "An Amazon ECR private image repository (one per image: CloudShop's "
                       "<env>-cloudshop-backend, containrlab's api/web/runner/runnerd, blog-api).",
        "properties": ["RepositoryName", "ImageTagMutability", "ImageTagMutabilityExclusionFilters",
                       "ImageScanningConfiguration", "EncryptionConfiguration", "LifecyclePolicy",
                       "RepositoryPolicyText", "EmptyOnDelete", "Tags", "Arn", "RepositoryUri"],
        "narrow": {"RepositoryPolicyText": "object"},
        "plumb": {
            "service": "ecr",
            "stateful": True,
            "description": "Stateful: it holds the images every deployment and every rollback "
                           "pulls; deleting it loses them.",
            "tagging": TAGS_LIST,
            "defaults": {"ImageTagMutability": "MUTABLE",
                         "ImageScanningConfiguration": {"ScanOnPush": False},
                         "EncryptionConfiguration": {"EncryptionType": "AES256"}},
            "timeouts": {"create": 120, "update": 120, "delete": 300},
            "nameProperty": "RepositoryName",
        },
    },
    {
        "typeName": "AWS::ECS::Cluster",
        "description": "An Amazon ECS cluster (Fargate and EC2 capacity).",
        "properties": ["ClusterName", "CapacityProviders", "DefaultCapacityProviderStrategy",
                       "ClusterSettings", "Configuration", "Tags", "Arn"],
        "select": {"Configuration": ["ExecuteCommandConfiguration"]},
        "plumb": {
            "service": "ecs",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"CapacityProviders": [], "DefaultCapacityProviderStrategy": []},
            "timeouts": {"create": 300, "update": 300, "delete": 600},
            "nameProperty": "ClusterName",
        },
    },
    {
        "typeName": "AWS::ECS::TaskDefinition",
        "description": "An Amazon ECS task definition revision. Every property is create-only: "
                       "a change registers a new revision (a replacement), and rolling back "
                       "means pointing the service at the previous one.",
        "properties": ["Family", "ContainerDefinitions", "Cpu", "Memory", "NetworkMode",
                       "RequiresCompatibilities", "ExecutionRoleArn", "TaskRoleArn",
                       "RuntimePlatform", "Volumes", "EphemeralStorage", "PlacementConstraints",
                       "PidMode", "IpcMode", "Tags", "TaskDefinitionArn"],
        "select": {
            "ContainerDefinitions": [
                "Name", "Image", "Essential", "Cpu", "Memory", "MemoryReservation",
                "PortMappings", "Environment", "EnvironmentFiles", "Secrets", "Command",
                "EntryPoint", "WorkingDirectory", "User", "LogConfiguration", "HealthCheck",
                "DependsOn", "MountPoints", "VolumesFrom", "ReadonlyRootFilesystem",
                "Privileged", "LinuxParameters", "Ulimits", "StopTimeout", "StartTimeout",
                "RepositoryCredentials", "DockerLabels", "ExtraHosts", "SystemControls",
                "ResourceRequirements", "Interactive", "PseudoTerminal", "RestartPolicy"],
            "Volumes": ["Name", "Host", "EFSVolumeConfiguration", "DockerVolumeConfiguration",
                        "ConfiguredAtLaunch"],
        },
        "plumb": {
            "service": "ecs",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {
                "RequiresCompatibilities": [],
                "PlacementConstraints": [],
                "Volumes": [],
                "ContainerDefinitions": {"*": {
                    "Essential": True, "Cpu": 0, "Environment": [], "MountPoints": [],
                    "VolumesFrom": [], "PortMappings": {"*": {"Protocol": "tcp"}},
                    "SystemControls": []}},
            },
            "timeouts": {"create": 120, "update": 120, "delete": 300},
            "nameProperty": "Family",
        },
    },
    {
        "typeName": "AWS::ECS::Service",
        "description": "An Amazon ECS service on Fargate or EC2, optionally behind a load "
                       "balancer, with rolling deployments and the deployment circuit breaker.",
        "properties": ["ServiceName", "Cluster", "TaskDefinition", "DesiredCount", "LaunchType",
                       "CapacityProviderStrategy", "PlatformVersion", "SchedulingStrategy",
                       "NetworkConfiguration", "LoadBalancers", "HealthCheckGracePeriodSeconds",
                       "DeploymentConfiguration", "DeploymentController", "PlacementConstraints",
                       "PlacementStrategies", "EnableExecuteCommand", "EnableECSManagedTags",
                       "PropagateTags", "AvailabilityZoneRebalancing", "ServiceRegistries",
                       "Tags", "ServiceArn", "Name"],
        "select": {
            "DeploymentConfiguration": ["MaximumPercent", "MinimumHealthyPercent",
                                        "DeploymentCircuitBreaker", "Alarms"],
            "LoadBalancers": ["ContainerName", "ContainerPort", "TargetGroupArn",
                              "LoadBalancerName"],
        },
        "plumb": {
            "service": "ecs",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {
                "SchedulingStrategy": "REPLICA",
                "DeploymentConfiguration": {"MaximumPercent": 200, "MinimumHealthyPercent": 100,
                                            "DeploymentCircuitBreaker": {"Enable": False,
                                                                         "Rollback": False}},
                "DeploymentController": {"Type": "ECS"},
                "EnableExecuteCommand": False,
                "EnableECSManagedTags": False,
                "PropagateTags": "NONE",
                "HealthCheckGracePeriodSeconds": 0,
                "CapacityProviderStrategy": [],
                "LoadBalancers": [],
                "PlacementConstraints": [],
                "PlacementStrategies": [],
                "ServiceRegistries": [],
            },
            "timeouts": {"create": 1800, "update": 1800, "delete": 1200},
            "nameProperty": "ServiceName",
        },
    },
    {
        "typeName": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "description": "An Application (or Network) Load Balancer.",
        "properties": ["Name", "Type", "Scheme", "IpAddressType", "Subnets", "SubnetMappings",
                       "SecurityGroups", "LoadBalancerAttributes", "Tags", "LoadBalancerArn",
                       "DNSName", "CanonicalHostedZoneID", "LoadBalancerFullName",
                       "LoadBalancerName"],
        "select": {"SubnetMappings": ["SubnetId", "AllocationId", "PrivateIPv4Address",
                                      "IPv6Address"]},
        "plumb": {
            "service": "elbv2",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"Type": "application", "Scheme": "internet-facing",
                         "IpAddressType": "ipv4"},
            "timeouts": {"create": 900, "update": 600, "delete": 600},
            "nameProperty": "Name",
            "partialArrays": ["/properties/LoadBalancerAttributes"],
        },
    },
    {
        "typeName": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "description": "A load balancer target group with its health check (CloudShop: "
                       "/health every 30 s, target type ip for Fargate tasks).",
        "properties": ["Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId",
                       "IpAddressType", "HealthCheckEnabled", "HealthCheckPath",
                       "HealthCheckPort", "HealthCheckProtocol", "HealthCheckIntervalSeconds",
                       "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
                       "UnhealthyThresholdCount", "Matcher", "TargetGroupAttributes", "Targets",
                       "Tags", "TargetGroupArn", "TargetGroupName", "TargetGroupFullName",
                       "LoadBalancerArns"],
        "select": {"Targets": ["Id", "Port", "AvailabilityZone"]},
        "plumb": {
            "service": "elbv2",
            "stateful": False,
            "description": "The health-check defaults are those of HTTP/HTTPS target groups "
                           "(ALB), the case the seeds use; a TCP target group left to AWS's "
                           "defaults shows them as drift unless they are declared.",
            "tagging": TAGS_LIST,
            "defaults": {"TargetType": "instance", "IpAddressType": "ipv4",
                         "ProtocolVersion": "HTTP1", "HealthCheckEnabled": True,
                         "HealthCheckPath": "/", "HealthCheckPort": "traffic-port",
                         "HealthCheckIntervalSeconds": 30, "HealthCheckTimeoutSeconds": 5,
                         "HealthyThresholdCount": 5, "UnhealthyThresholdCount": 2,
                         "Matcher": {"HttpCode": "200"}, "Targets": []},
            "timeouts": {"create": 300, "update": 300, "delete": 300},
            "nameProperty": "Name",
            "partialArrays": ["/properties/TargetGroupAttributes"],
        },
    },
    {
        "typeName": "AWS::ElasticLoadBalancingV2::Listener",
        "description": "A load balancer listener (port, protocol, default action).",
        "properties": ["LoadBalancerArn", "Port", "Protocol", "DefaultActions", "Certificates",
                       "SslPolicy", "AlpnPolicy", "ListenerArn"],
        "select": {"DefaultActions": ACTION_MEMBERS},
        "plumb": {
            "service": "elbv2",
            "stateful": False,
            "tagging": None,
            "defaults": {},
            "timeouts": {"create": 300, "update": 300, "delete": 300},
        },
    },
    {
        "typeName": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "description": "A listener rule: conditions (path, host, header...) and actions.",
        "properties": ["ListenerArn", "Priority", "Conditions", "Actions", "RuleArn",
                       "IsDefault"],
        "select": {
            "Actions": ACTION_MEMBERS,
            "Conditions": ["Field", "Values", "HostHeaderConfig", "PathPatternConfig",
                           "HttpHeaderConfig", "HttpRequestMethodConfig", "QueryStringConfig",
                           "SourceIpConfig"],
            "Conditions.HostHeaderConfig": ["Values"],
            "Conditions.PathPatternConfig": ["Values"],
            "Conditions.HttpHeaderConfig": ["HttpHeaderName", "Values"],
        },
        "plumb": {
            "service": "elbv2",
            "stateful": False,
            "tagging": None,
            "defaults": {},
            "timeouts": {"create": 300, "update": 300, "delete": 300},
        },
    },
    {
        "typeName": "AWS::EC2::VPC",
        "description": "A VPC with an IPv4 CIDR block.",
        "properties": ["CidrBlock", "EnableDnsSupport", "EnableDnsHostnames", "InstanceTenancy",
                       "Tags", "VpcId", "DefaultSecurityGroup", "DefaultNetworkAcl",
                       "CidrBlockAssociations", "Ipv6CidrBlocks"],
        # AWS requires exactly one of CidrBlock and Ipv4IpamPoolId; plumb declares only the first.
        "required": ["CidrBlock"],
        "plumb": {
            "service": "ec2",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"EnableDnsSupport": True, "EnableDnsHostnames": False,
                         "InstanceTenancy": "default"},
            "timeouts": {"create": 300, "update": 300, "delete": 600},
        },
    },
    {
        "typeName": "AWS::EC2::Subnet",
        "description": "A subnet of a VPC in one Availability Zone (IPv4).",
        "properties": ["VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId",
                       "MapPublicIpOnLaunch", "Tags", "SubnetId", "NetworkAclAssociationId"],
        # AWS requires one of CidrBlock, Ipv6CidrBlock and the IPAM pools; plumb declares only
        # the first.
        "required": ["CidrBlock"],
        "plumb": {
            "service": "ec2",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"MapPublicIpOnLaunch": False},
            "timeouts": {"create": 300, "update": 300, "delete": 600},
        },
    },
    {
        "typeName": "AWS::EC2::SecurityGroup",
        "description": "A VPC security group with its ingress and egress rules (ALB -> ECS "
                       "tasks -> RDS).",
        "properties": ["GroupName", "GroupDescription", "VpcId", "SecurityGroupIngress",
                       "SecurityGroupEgress", "Tags", "GroupId", "Id"],
        "select": {"SecurityGroupIngress": ["IpProtocol", "FromPort", "ToPort", "CidrIp",
                                            "CidrIpv6", "SourceSecurityGroupId",
                                            "SourceSecurityGroupOwnerId", "SourcePrefixListId",
                                            "Description"]},
        "plumb": {
            "service": "ec2",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"SecurityGroupIngress": [],
                         "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]},
            "timeouts": {"create": 120, "update": 120, "delete": 900},
            "nameProperty": "GroupName",
        },
    },
    {
        "typeName": "AWS::EC2::InternetGateway",
        "description": "An internet gateway. CloudFormation attaches it to a VPC with a separate "
                       "AWS::EC2::VPCGatewayAttachment, which plumb does not manage yet.",
        "properties": ["Tags", "InternetGatewayId"],
        "plumb": {
            "service": "ec2",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {},
            "timeouts": {"create": 120, "update": 120, "delete": 600},
        },
    },
    {
        "typeName": "AWS::RDS::DBSubnetGroup",
        "description": "The subnets an RDS instance may be placed in.",
        "properties": ["DBSubnetGroupName", "DBSubnetGroupDescription", "SubnetIds", "Tags"],
        "plumb": {
            "service": "rds",
            "stateful": False,
            "description": "RDS stores the name in lower case.",
            "tagging": TAGS_LIST,
            "defaults": {},
            "timeouts": {"create": 300, "update": 300, "delete": 300},
            "nameProperty": "DBSubnetGroupName",
        },
    },
    {
        "typeName": "AWS::RDS::DBInstance",
        "description": "An Amazon RDS DB instance (CloudShop and astro-ai: PostgreSQL on "
                       "db.t3.micro / db.t4g.micro).",
        "properties": [
            "DBInstanceIdentifier", "Engine", "EngineVersion", "DBInstanceClass", "DBName",
            "Port", "AllocatedStorage", "MaxAllocatedStorage", "StorageType", "Iops",
            "StorageThroughput", "StorageEncrypted", "KmsKeyId", "MasterUsername",
            "MasterUserPassword", "ManageMasterUserPassword", "MasterUserSecret",
            "DBSubnetGroupName", "VPCSecurityGroups", "PubliclyAccessible", "MultiAZ",
            "AvailabilityZone", "NetworkType", "BackupRetentionPeriod", "PreferredBackupWindow",
            "PreferredMaintenanceWindow", "DeleteAutomatedBackups", "CopyTagsToSnapshot",
            "DeletionProtection", "EnablePerformanceInsights",
            "PerformanceInsightsRetentionPeriod", "PerformanceInsightsKMSKeyId",
            "MonitoringInterval", "MonitoringRoleArn", "EnableCloudwatchLogsExports",
            "EnableIAMDatabaseAuthentication", "AutoMinorVersionUpgrade",
            "AllowMajorVersionUpgrade", "ApplyImmediately", "DBParameterGroupName",
            "OptionGroupName", "CACertificateIdentifier", "LicenseModel", "Tags",
            "DBInstanceArn", "DbiResourceId", "Endpoint"],
        "plumb": {
            "service": "rds",
            "stateful": True,
            "description": "Stateful: the database. RDS stores the identifier in lower case. "
                           "AllocatedStorage and Port are strings in CloudFormation; numbers "
                           "are accepted and compared as text.",
            "tagging": TAGS_LIST,
            "sensitiveProperties": ["/properties/MasterUserPassword"],
            "defaults": {"BackupRetentionPeriod": 1, "MultiAZ": False,
                         "AutoMinorVersionUpgrade": True, "StorageEncrypted": False,
                         "CopyTagsToSnapshot": False, "DeletionProtection": False,
                         "EnablePerformanceInsights": False, "MonitoringInterval": 0,
                         "EnableIAMDatabaseAuthentication": False,
                         "EnableCloudwatchLogsExports": []},
            "timeouts": {"create": 3600, "update": 5400, "delete": 3600},
            "nameProperty": "DBInstanceIdentifier",
        },
    },
    {
        "typeName": "AWS::S3::Bucket",
        "description": "An S3 bucket: static website hosting (CloudShop's frontend), "
                       "versioning, default encryption, public access block, ownership "
                       "controls, CORS and lifecycle rules (plumb's own state bucket).",
        "properties": ["BucketName", "VersioningConfiguration", "BucketEncryption",
                       "PublicAccessBlockConfiguration", "OwnershipControls",
                       "WebsiteConfiguration", "CorsConfiguration", "LifecycleConfiguration",
                       "LoggingConfiguration", "Tags", "Arn", "DomainName", "RegionalDomainName",
                       "DualStackDomainName", "WebsiteURL"],
        "select": {
            "BucketEncryption.ServerSideEncryptionConfiguration": [
                "ServerSideEncryptionByDefault", "BucketKeyEnabled"],
            "LifecycleConfiguration.Rules": [
                "Id", "Status", "Prefix", "ExpirationInDays", "ExpirationDate",
                "ExpiredObjectDeleteMarker", "AbortIncompleteMultipartUpload",
                "NoncurrentVersionExpiration", "Transitions", "NoncurrentVersionTransitions"],
            "LoggingConfiguration": ["DestinationBucketName", "LogFilePrefix"],
        },
        "plumb": {
            "service": "s3",
            "stateful": True,
            "description": "Stateful: it holds objects (a website's files, plumb's state).",
            "tagging": TAGS_LIST,
            "defaults": {
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                     "BucketKeyEnabled": False}]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True,
                                                   "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True,
                                                   "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
            "timeouts": {"create": 300, "update": 300, "delete": 600},
            "nameProperty": "BucketName",
        },
    },
    {
        "typeName": "AWS::S3::BucketPolicy",
        "description": "The bucket policy of an S3 bucket (a website bucket's public read).",
        "properties": ["Bucket", "PolicyDocument"],
        "narrow": {"PolicyDocument": "object"},
        "plumb": {
            "service": "s3",
            "stateful": False,
            "tagging": None,
            "defaults": {},
            "timeouts": {"create": 120, "update": 120, "delete": 120},
            "nameProperty": "Bucket",
        },
    },
    {
        "typeName": "AWS::IAM::Role",
        "description": "An IAM role: trust policy, managed policies, inline policies (App Runner "
                       "ECR access and instance roles, ECS task and execution roles, the CI role "
                       "GitHub Actions assumes through OIDC).",
        "properties": ["RoleName", "Path", "Description", "AssumeRolePolicyDocument",
                       "ManagedPolicyArns", "Policies", "MaxSessionDuration",
                       "PermissionsBoundary", "Tags", "Arn", "RoleId"],
        "narrow": {"AssumeRolePolicyDocument": "object", "Policies.PolicyDocument": "object"},
        "plumb": {
            "service": "iam",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"ManagedPolicyArns": [], "Policies": [], "MaxSessionDuration": 3600},
            "timeouts": {"create": 120, "update": 120, "delete": 300},
            "nameProperty": "RoleName",
        },
    },
    {
        "typeName": "AWS::IAM::OIDCProvider",
        "description": "An IAM OpenID Connect identity provider (GitHub Actions: "
                       "https://token.actions.githubusercontent.com, client sts.amazonaws.com).",
        "properties": ["Url", "ClientIdList", "ThumbprintList", "Tags", "Arn"],
        "plumb": {
            "service": "iam",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"ThumbprintList": []},
            "timeouts": {"create": 120, "update": 120, "delete": 120},
            "nameProperty": "Url",
        },
    },
    {
        "typeName": "AWS::SecretsManager::Secret",
        "description": "A Secrets Manager secret (astro-ai/prod).",
        "properties": ["Name", "Description", "KmsKeyId", "SecretString", "GenerateSecretString",
                       "ReplicaRegions", "Tags", "Id"],
        "plumb": {
            "service": "secretsmanager",
            "stateful": True,
            "description": "Stateful: the secret's value may be set or rotated outside plumb "
                           "and cannot be recovered once the secret is deleted.",
            "tagging": TAGS_LIST,
            "sensitiveProperties": ["/properties/SecretString"],
            "defaults": {"ReplicaRegions": []},
            "timeouts": {"create": 120, "update": 120, "delete": 300},
            "nameProperty": "Name",
        },
    },
    {
        "typeName": "AWS::Logs::LogGroup",
        "description": "A CloudWatch Logs log group (/ecs/<env>/backend-blue).",
        "properties": ["LogGroupName", "RetentionInDays", "KmsKeyId", "LogGroupClass",
                       "DeletionProtectionEnabled", "Tags", "Arn"],
        "plumb": {
            "service": "logs",
            "stateful": True,
            "description": "Stateful: it holds the logs an incident needs.",
            "tagging": TAGS_LIST,
            "defaults": {},
            "timeouts": {"create": 60, "update": 60, "delete": 120},
            "nameProperty": "LogGroupName",
        },
    },
    {
        "typeName": "AWS::AppRunner::Service",
        "description": "An App Runner service running an ECR image (django-blog-api: 1 vCPU / "
                       "2 GB, port 8080; astro-ai-service: 2 vCPU / 4 GB, port 8000).",
        "properties": ["ServiceName", "SourceConfiguration", "InstanceConfiguration",
                       "HealthCheckConfiguration", "AutoScalingConfigurationArn",
                       "NetworkConfiguration", "ObservabilityConfiguration",
                       "EncryptionConfiguration", "Tags", "ServiceArn", "ServiceId",
                       "ServiceUrl", "Status"],
        "select": {"SourceConfiguration": ["ImageRepository", "AuthenticationConfiguration",
                                           "AutoDeploymentsEnabled"]},
        "plumb": {
            "service": "apprunner",
            "stateful": False,
            "description": "AWS reports Cpu and Memory in units (\"1024\", \"2048\") whatever "
                           "form was sent (\"1 vCPU\", \"2 GB\"). Tags are create-only.",
            "tagging": TAGS_LIST,
            "defaults": {
                "HealthCheckConfiguration": {"Protocol": "TCP", "Path": "/", "Interval": 5,
                                             "Timeout": 2, "HealthyThreshold": 1,
                                             "UnhealthyThreshold": 5},
                "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048"},
                "NetworkConfiguration": {"EgressConfiguration": {"EgressType": "DEFAULT"},
                                         "IngressConfiguration": {"IsPubliclyAccessible": True},
                                         "IpAddressType": "IPV4"},
                "ObservabilityConfiguration": {"ObservabilityEnabled": False},
                "SourceConfiguration": {"ImageRepository": {"ImageConfiguration": {
                    "Port": "8080"}}},
            },
            "timeouts": {"create": 1800, "update": 1800, "delete": 1200},
            "nameProperty": "ServiceName",
        },
    },
    {
        "typeName": "AWS::AppRunner::AutoScalingConfiguration",
        "description": "An App Runner auto scaling configuration (astro-ai: 1-25 instances at "
                       "100 concurrent requests). Every setting is create-only: a change is a "
                       "new configuration.",
        "properties": ["AutoScalingConfigurationName", "MinSize", "MaxSize", "MaxConcurrency",
                       "Tags", "AutoScalingConfigurationArn", "AutoScalingConfigurationRevision",
                       "Latest"],
        "plumb": {
            "service": "apprunner",
            "stateful": False,
            "tagging": TAGS_LIST,
            "defaults": {"MinSize": 1, "MaxSize": 25, "MaxConcurrency": 100},
            "timeouts": {"create": 120, "update": 120, "delete": 120},
            "nameProperty": "AutoScalingConfigurationName",
        },
    },
    {
        "typeName": "AWS::DynamoDB::Table",
        "description": "A DynamoDB table (plumb's own state lock table, and application "
                       "tables).",
        "properties": ["TableName", "AttributeDefinitions", "KeySchema", "BillingMode",
                       "ProvisionedThroughput", "GlobalSecondaryIndexes",
                       "LocalSecondaryIndexes", "PointInTimeRecoverySpecification",
                       "SSESpecification", "TimeToLiveSpecification", "StreamSpecification",
                       "DeletionProtectionEnabled", "TableClass", "Tags", "Arn", "StreamArn"],
        "select": {
            "GlobalSecondaryIndexes": ["IndexName", "KeySchema", "Projection",
                                       "ProvisionedThroughput", "OnDemandThroughput"],
            "StreamSpecification": ["StreamViewType"],
        },
        # AWS: oneOf [a KeySchema list, a JSON string]; plumb takes the list.
        "pick": {"KeySchema": 0},
        "plumb": {
            "service": "dynamodb",
            "stateful": True,
            "description": "Stateful: the table's items.",
            "tagging": TAGS_LIST,
            "defaults": {"BillingMode": "PROVISIONED", "DeletionProtectionEnabled": False,
                         "TableClass": "STANDARD", "GlobalSecondaryIndexes": [],
                         "LocalSecondaryIndexes": [],
                         "PointInTimeRecoverySpecification": {
                             "PointInTimeRecoveryEnabled": False}},
            "timeouts": {"create": 600, "update": 1800, "delete": 600},
            "nameProperty": "TableName",
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Conversion to plumb's subset

# AWS keywords dropped silently: annotations, CloudFormation metadata and cfn-lint's own
# extensions (none changes which values AWS accepts for a single property).
ANNOTATIONS = {"description", "markdownDescription", "title", "examples", "$comment",
               "relationshipRef", "arrayType", "format", "uniqueKeys", "insertionOrder"}
# Dropped, with a note: constraints between members or on the exact shape plumb's validator
# does not check (AWS still does, at apply).
DROPPED = {"dependencies", "dependentRequired", "dependentExcluded", "requiredXor",
           "requiredOr", "prefixItems", "multipleOf", "minProperties", "maxProperties",
           "if", "then", "else", "allOf", "anyOf", "oneOf", "patternProperties", "const"}
COPIED = {"type", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength",
          "minItems", "maxItems", "uniqueItems", "default"}
STRING_ONLY = {"pattern", "minLength", "maxLength"}


class GenError(Exception):
    pass


class Converter:
    def __init__(self, spec, aws):
        self.spec = spec
        self.aws = aws
        self.defs = aws.get("definitions", {})
        self.select = spec.get("select", {})
        self.narrow = spec.get("narrow", {})
        self.pick = spec.get("pick", {})
        self.used_select = set()
        self.used_narrow = set()
        self.used_pick = set()
        self.uses = {}         # definition name -> [(parent, key, converted)]
        self.notes = []        # simplifications, for -v
        self.unordered = []    # pointers of arrays whose order AWS ignores

    def note(self, ptr, text):
        self.notes.append("%s: %s" % (ptr or "/", text))

    def resolve(self, s):
        """Follows $refs, merging sibling keywords; returns (schema, definition name or None).
        The name is kept only when the reference has no constraining siblings."""
        name = None
        hops = 0
        while "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#/definitions/"):
                raise GenError("unsupported $ref " + ref)
            n = ref[len("#/definitions/"):]
            siblings = {k: v for k, v in s.items() if k != "$ref"}
            merged = copy.deepcopy(self.defs[n])
            merged.update(siblings)
            name = n if not (set(siblings) - ANNOTATIONS) else None
            s = merged
            hops += 1
            if hops > 16:
                raise GenError("$ref loop at " + ref)
        return s, name

    def convert(self, s, path, ptr):
        """AWS property schema `s` at `path` (dotted names, arrays transparent) and pointer
        `ptr` (CloudFormation's, '*' for array items) -> plumb's subset."""
        s, defname = self.resolve(s)
        dotted = ".".join(path)
        if dotted in self.pick and ("oneOf" in s or "anyOf" in s):
            self.used_pick.add(dotted)
            branch = s.get("oneOf") or s.get("anyOf")
            chosen, _ = self.resolve(branch[self.pick[dotted]])
            rest = {k: v for k, v in s.items() if k not in ("oneOf", "anyOf")}
            s = dict(chosen)
            s.update(rest)
            defname = None
            self.note(ptr, "oneOf: kept branch %d only" % self.pick[dotted])
        for kw in ("anyOf", "oneOf", "allOf"):
            if kw in s:
                extra = set()
                for b in s[kw]:
                    extra |= set(b) - ANNOTATIONS - {"required"}
                if extra:
                    raise GenError("%s: %s with %s needs a 'pick' or 'narrow'" %
                                   (ptr, kw, sorted(extra)))
                if any("required" in b for b in s[kw]):
                    self.note(ptr, "%s of required members dropped" % kw)
        for kw in s:
            if kw in DROPPED - {"anyOf", "oneOf", "allOf", "patternProperties", "const"}:
                self.note(ptr, "%s dropped" % kw)
            elif kw not in ANNOTATIONS | DROPPED | COPIED | {"items", "properties", "required",
                                                              "additionalProperties"}:
                raise GenError("%s: unknown keyword %r" % (ptr, kw))

        t = s.get("type")
        if isinstance(t, list):
            if dotted not in self.narrow:
                raise GenError("%s: type %s needs a 'narrow'" % (ptr, t))
            self.used_narrow.add(dotted)
            t = self.narrow[dotted]
            if t not in s["type"]:
                raise GenError("%s: narrow to %s, not one of %s" % (ptr, t, s["type"]))
            self.note(ptr, "type %s narrowed to %s" % (s["type"], t))
        if t is None:
            if "properties" in s or "patternProperties" in s:
                t = "object"
            elif "items" in s:
                t = "array"
            else:
                raise GenError("%s: no type" % ptr)

        out = {"type": t}
        for kw in ("enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
                   "minItems", "maxItems", "uniqueItems", "default"):
            if kw not in s:
                continue
            if kw in STRING_ONLY and t != "string":
                self.note(ptr, "%s dropped with the string form" % kw)
                continue
            out[kw] = copy.deepcopy(s[kw])
        if "const" in s and "enum" not in s:
            out["enum"] = [s["const"]]

        if t == "object":
            props = s.get("properties")
            if props:
                keep = self.members(dotted, sorted(props), ptr)
                out["properties"] = {}
                for k in keep:
                    sub, subname = self.convert(props[k], path + [k], ptr + "/" + k)
                    out["properties"][k] = sub
                    self.use(subname, out["properties"], k, sub)
                req = [r for r in s.get("required", [])]
                missing = [r for r in req if r not in keep]
                if missing:
                    raise GenError("%s: required member(s) %s not declared" % (ptr, missing))
                if req:
                    out["required"] = req
                if s.get("additionalProperties", False) is not False:
                    self.note(ptr, "additionalProperties set to false")
                out["additionalProperties"] = False
            elif "patternProperties" in s:
                pats = s["patternProperties"]
                values = list(pats.values())
                if len(values) != 1:
                    raise GenError("%s: %d patternProperties" % (ptr, len(values)))
                sub, subname = self.convert(values[0], path + ["*"], ptr + "/*")
                out["additionalProperties"] = sub
                self.note(ptr, "patternProperties %s -> additionalProperties (key pattern "
                               "dropped)" % list(pats))
            elif isinstance(s.get("additionalProperties"), dict):
                sub, _ = self.convert(s["additionalProperties"], path + ["*"], ptr + "/*")
                out["additionalProperties"] = sub
            # else: free-form JSON (policy documents)
        elif t == "array":
            if s.get("insertionOrder") is False:
                self.unordered.append(ptr)
            if "items" in s:
                sub, subname = self.convert(s["items"], path, ptr + "/*")
                out["items"] = sub
                self.use(subname, out, "items", sub)
        return out, defname

    def members(self, dotted, available, ptr):
        key = dotted
        if key in self.select:
            self.used_select.add(key)
            want = self.select[key]
            unknown = [k for k in want if k not in available]
            if unknown:
                raise GenError("%s: AWS has no member(s) %s" % (ptr, unknown))
            left = [k for k in available if k not in want]
            if left:
                self.note(ptr, "members left out: " + ", ".join(left))
            return sorted(want)
        return available

    def use(self, name, parent, key, converted):
        if name:
            self.uses.setdefault(name, []).append((parent, key, converted))

    def factor(self):
        """Definitions: an AWS definition every use of which converted to the same schema
        becomes a plumb definition (same name); otherwise each use stays inline."""
        definitions = {}
        for name in sorted(self.uses):
            uses = self.uses[name]
            texts = {json.dumps(u[2], sort_keys=True) for u in uses}
            if len(texts) != 1:
                continue
            body = uses[0][2]
            if body.get("type") not in ("object", "array") or (
                    body.get("type") == "object" and "properties" not in body):
                # scalars and maps read better inline
                continue
            definitions[name] = body
            for parent, key, _ in uses:
                parent[key] = {"$ref": "#/definitions/" + name}
        return definitions


def declared(pointer, schema_props, definitions):
    """Whether CloudFormation pointer "/properties/A/*/B" names a property of ours."""
    parts = pointer.split("/")
    if len(parts) < 3 or parts[0] != "" or parts[1] != "properties":
        return False
    node = {"type": "object", "properties": schema_props}
    for seg in parts[2:]:
        while "$ref" in node:
            node = definitions[node["$ref"].split("/")[-1]]
        if seg == "*":
            if node.get("type") != "array":
                return False
            node = node.get("items", {})
            continue
        if node.get("type") == "array":
            node = node.get("items", {})
            while "$ref" in node:
                node = definitions[node["$ref"].split("/")[-1]]
        props = node.get("properties")
        if not props or seg not in props:
            return False
        node = props[seg]
    return True


def build(spec, base):
    aws = load_aws_schema(spec["typeName"], base)
    conv = Converter(spec, aws)
    props = {}
    for name in spec["properties"]:
        if name not in aws["properties"]:
            raise GenError("%s: AWS has no property %s" % (spec["typeName"], name))
    for name in sorted(spec["properties"]):
        sub, subname = conv.convert(aws["properties"][name], [name], "/properties/" + name)
        props[name] = sub
        conv.use(subname, props, name, sub)
    for name in sorted(set(aws["properties"]) - set(spec["properties"])):
        conv.note("/properties/" + name, "not declared")
    unused = set(spec.get("select", {})) - conv.used_select
    unused |= set(spec.get("narrow", {})) - conv.used_narrow
    unused |= set(spec.get("pick", {})) - conv.used_pick
    if unused:
        raise GenError("%s: select/narrow for unknown path(s) %s" % (spec["typeName"],
                                                                    sorted(unused)))
    definitions = conv.factor()

    def keep(key):
        return [p for p in aws.get(key, []) if declared(p, props, definitions)]

    required = list(aws.get("required", []))
    for r in required:
        if r not in props:
            raise GenError("%s: AWS requires %s" % (spec["typeName"], r))
    for r in spec.get("required", []):
        if r not in required:
            required.append(r)
    primary = aws["primaryIdentifier"]
    for p in primary:
        if not declared(p, props, definitions):
            raise GenError("%s: primary identifier %s not declared" % (spec["typeName"], p))

    read_only = keep("readOnlyProperties")
    create_only = keep("createOnlyProperties")
    write_only = keep("writeOnlyProperties")
    conditional = keep("conditionalCreateOnlyProperties")

    plumb = copy.deepcopy(spec["plumb"])
    block = {"service": plumb["service"], "stateful": plumb["stateful"]}
    if "description" in plumb:
        block["description"] = plumb["description"]
    block["tagging"] = plumb["tagging"]
    block["sensitiveProperties"] = plumb.get("sensitiveProperties", [])
    defaults = {}
    for name in sorted(props):
        if "default" in props[name] and name not in read_only:
            defaults[name] = props[name]["default"]
    defaults.update(plumb.get("defaults", {}))
    block["defaults"] = {k: defaults[k] for k in sorted(defaults)}
    block["timeouts"] = plumb["timeouts"]
    block["attributes"] = [p[len("/properties/"):].replace("/", ".") for p in read_only]
    if plumb.get("nameProperty"):
        block["nameProperty"] = plumb["nameProperty"]
    block["unorderedArrays"] = [p for p in conv.unordered if declared(p, props, definitions)]
    # Arrays of which AWS reports every item (all of a load balancer's attributes, set or
    # not) while the user declares those they manage: a declared item must be there, the
    # others are not drift. Matched without regard to order.
    for p in plumb.get("partialArrays", []):
        if not declared(p, props, definitions):
            raise GenError("%s: partial array %s not declared" % (spec["typeName"], p))
        block.setdefault("partialArrays", []).append(p)
    block["conditionalCreateOnlyProperties"] = conditional

    for name in block["defaults"]:
        if name not in props:
            raise GenError("%s: default for undeclared %s" % (spec["typeName"], name))
    for p in block["sensitiveProperties"]:
        if not declared(p, props, definitions):
            raise GenError("%s: sensitive %s not declared" % (spec["typeName"], p))
    if block["tagging"] and block["tagging"]["property"] not in props:
        raise GenError("%s: no tags property" % spec["typeName"])
    if block.get("nameProperty") and block["nameProperty"] not in props:
        raise GenError("%s: no name property" % spec["typeName"])

    doc = {
        "typeName": spec["typeName"],
        "description": spec["description"],
        "additionalProperties": False,
        "properties": props,
        "definitions": definitions,
        "required": required,
        "primaryIdentifier": primary,
        "createOnlyProperties": create_only,
        "readOnlyProperties": read_only,
        "writeOnlyProperties": write_only,
        "plumb": block,
    }
    return doc, conv.notes


# ---------------------------------------------------------------------------------------------
# plumb.schema.json: the config file itself, for editors

def config_schema(docs):
    type_names = [d["typeName"] for d in docs]
    duration = {"description": "Seconds, or a duration: \"90s\", \"5m\", \"1h30m\".",
                "type": ["integer", "string"], "minimum": 0,
                "pattern": "^([0-9]+|([0-9]+(ms|s|m|h))+|\\$\\{.*\\})$"}
    names = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    per_type = []
    for d in docs:
        ro = {p[len("/properties/"):] for p in d["readOnlyProperties"]}
        writable = {k: {} for k in sorted(d["properties"]) if k not in ro}
        per_type.append({
            "if": {"properties": {"type": {"const": d["typeName"]}}, "required": ["type"]},
            "then": {"properties": {"properties": {
                "description": "%s properties (CloudFormation's names)." % d["typeName"],
                "type": "object",
                "properties": writable,
                "additionalProperties": False}}},
        })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://plumb.dev/schemas/plumb.schema.json",
        "title": "plumb.yaml",
        "description": "A plumb project (or module) declaration: DESIGN.md §3. Every scalar "
                       "may hold ${...} expressions (env, var.NAME, aws.account_id, "
                       "aws.region, NAME.Attr, module.NAME.OUTPUT, secret.env.NAME).",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "project": {"description": "Project name: prefixes state, tags (plumb:project).",
                        "type": "string", "minLength": 1},
            "region": {"description": "Default AWS region (AWS_REGION and the profile come "
                                      "first).", "type": "string"},
            "vars": {"description": "Variables and their defaults for every environment "
                                    "(${var.NAME}).", "$ref": "#/$defs/vars"},
            "inputs": {"description": "A module's inputs (in a module's plumb.yaml); without a "
                                      "default, an input is required.",
                       "type": "object",
                       "additionalProperties": {
                           "type": ["object", "null"],
                           "properties": {"description": {"type": "string"},
                                          "default": {}}}},
            "environments": {
                "description": "The environments this project deploys (stage, prod...).",
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/environment"}},
            "state": {"$ref": "#/$defs/state"},
            "modules": {"description": "Module instances: their resources are addressed "
                                       "module.NAME.RESOURCE.",
                        "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/module"}},
            "resources": {"description": "Resources by name (their address).",
                          "type": "object",
                          "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
                          "additionalProperties": {"$ref": "#/$defs/resource"}},
            "checks": {"description": "Checks after apply; a failure triggers rollback.",
                       "type": "array", "items": {"$ref": "#/$defs/check"}},
            "outputs": {"description": "Values printed by `plumb output` (and a module's "
                                       "outputs).", "type": "object"},
            "audit": {"$ref": "#/$defs/audit"},
            "bootstrap": {"$ref": "#/$defs/bootstrap"},
        },
        "$defs": {
            "vars": {"type": "object"},
            "duration": duration,
            "environment": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {
                    "vars": {"$ref": "#/$defs/vars"},
                    "protect": {"description": "Destroying or replacing a stateful resource "
                                               "needs --allow-destroy.", "type": "boolean"},
                },
            },
            "state": {
                "description": "Where state lives; default: local LMDB under ./state/<env>/.",
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "backend": {"enum": ["local", "s3"]},
                    "bucket": {"description": "S3 bucket holding the snapshots.",
                               "type": "string"},
                    "key_prefix": {"description": "Key prefix in the bucket (one key per "
                                                  "environment).", "type": "string"},
                    "lock_table": {"description": "DynamoDB table holding locks and digests.",
                                   "type": "string"},
                    "region": {"type": "string"},
                },
            },
            "module": {
                "type": "object",
                "additionalProperties": False,
                "required": ["source"],
                "properties": {
                    "source": {"description": "A directory; bare names resolve to the "
                                              "shipped modules/.", "type": "string"},
                    "inputs": {"type": "object"},
                },
            },
            "resource": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {
                    "type": {"description": "A CloudFormation resource type plumb supports.",
                             "enum": type_names},
                    "properties": {"description": "CloudFormation property names and values.",
                                   "type": "object"},
                    "depends_on": {"description": "Resources (by name) to create first.",
                                   **names},
                    "lifecycle": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "prevent_destroy": {"type": "boolean"},
                            "create_before_destroy": {"type": "boolean"},
                            "force_destroy": {"type": "boolean", "description": "Destroying "
                                              "a bucket or repository deletes its contents."},
                            "final_snapshot": {"type": "boolean", "description": "RDS: take "
                                               "a final snapshot before deleting."},
                            "ignore_changes": {"description": "Property paths (A.B) whose "
                                                              "changes are not applied.",
                                               **names},
                        },
                    },
                    "environments": {"description": "Only in these environments.", **names},
                    "timeouts": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {k: {"$ref": "#/$defs/duration"}
                                       for k in ("create", "update", "delete")},
                    },
                },
                "allOf": per_type,
            },
            "check": {
                "type": "object",
                "additionalProperties": False,
                "required": ["http"],
                "properties": {
                    "http": {"description": "URL to GET.", "type": "string"},
                    "expect": {"description": "Expected HTTP status (default 200).",
                               "type": ["integer", "string"]},
                    "within": {"description": "How long to keep trying (default 5m).",
                               "$ref": "#/$defs/duration"},
                },
            },
            "audit": {
                "description": "plumb audit: GO / NO-GO rules before prod.",
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "waive": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["rule", "reason"],
                            "properties": {
                                "rule": {"type": "string"},
                                "resource": {"description": "Address; absent: every resource.",
                                             "type": "string"},
                                "reason": {"type": "string"},
                            },
                        },
                    },
                },
            },
            "bootstrap": {
                "description": "plumb bootstrap: state backend and CI identity.",
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "github": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["repository"],
                        "properties": {
                            "repository": {"description": "owner/name, trusted through "
                                                          "GitHub's OIDC provider.",
                                           "type": "string",
                                           "pattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"},
                        },
                    },
                },
            },
        },
    }


# ---------------------------------------------------------------------------------------------

def render(doc):
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def main(argv):
    check = "--check" in argv
    verbose = "-v" in argv or "--verbose" in argv
    base = cfnlint_schema_dir()
    if base is None:
        print("gen-schemas: cfn-lint is not installed (pip install cfn-lint)", file=sys.stderr)
        return 1
    outputs = {}
    docs = []
    for spec in TYPES:
        try:
            doc, notes = build(spec, base)
        except GenError as e:
            print("gen-schemas: %s: %s" % (spec["typeName"], e), file=sys.stderr)
            return 1
        docs.append(doc)
        outputs[file_name(spec["typeName"])] = render(doc)
        if verbose:
            print("== %s" % spec["typeName"])
            for n in notes:
                if not n.endswith("not declared") and "members left out" not in n:
                    print("   " + n)
    outputs["plumb.schema.json"] = render(config_schema(docs))

    stale = []
    for name, text in sorted(outputs.items()):
        path = os.path.join(OUT_DIR, name)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            stale.append(name)
            if not check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    known = set(outputs)
    extra = [n for n in os.listdir(OUT_DIR) if n.endswith(".json") and n not in known]
    if check:
        for n in stale:
            print("gen-schemas: schemas/%s is not what scripts/gen-schemas.py writes" % n)
        for n in extra:
            print("gen-schemas: schemas/%s is not generated" % n)
        return 1 if stale or extra else 0
    for n in extra:
        print("gen-schemas: note: schemas/%s is not generated by this script" % n)
    print("gen-schemas: %d files, %d changed" % (len(outputs), len(stale)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

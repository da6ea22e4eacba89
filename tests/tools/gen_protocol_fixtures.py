#!/usr/bin/env python3
"""Writes tests/resources/protocol/*.json: what botocore, the reference implementation of the
AWS wire protocols, makes of a set of representative operations in every protocol plumb
speaks (json 1.0/1.1, query, ec2, rest-xml).

For each case:
  - the input is serialised with botocore's own serializer (botocore.serialize) into the
    expected request: method, raw path, query parameters, protocol headers and body;
  - the same call is made with boto3 against a moto_server this script starts, and the
    response moto really sent (status, headers, body) is captured, so the fixtures reflect
    an independent implementation of the AWS APIs;
  - that response is parsed with botocore's parser (botocore.parsers) into the expected
    output, or the expected error (code, message, request id) for error cases.

tests/aws/protocol.c feeds each input and response to plumb and compares. Outputs are put in
plumb's JSON conventions (aws/protocol.h): datetimes become "YYYY-MM-DDTHH:MM:SSZ", blobs
base64, float/double members JSON reals; botocore's ResponseMetadata is dropped.

Run it again after changing a case (needs botocore, boto3 and moto; the build does not: the
output is committed):

    python3 tests/tools/gen_protocol_fixtures.py [OUT_DIR]
"""
import base64
import datetime
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import boto3
import botocore
import botocore.session
from botocore.awsrequest import HeadersDict
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer

REGION = "us-east-1"
ACCOUNT = "123456789012"
# Response headers that only vary from run to run and that no output member reads.
DROP_HEADERS = {"date", "server", "connection", "keep-alive"}

ROLE_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
})
BUCKET = "plumb-fixtures"
OBJECT_KEY = "dir/sub dir/my file+1 ~ä.txt"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    env = dict(os.environ, MOTO_ECS_SERVICE_RUNNING="1")
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto_server did not start")


# ---- conversions between plumb's JSON conventions and botocore's Python values ----------

def to_botocore(shape, value):
    """plumb input (blobs as base64) → botocore parameters (blobs as bytes)."""
    if value is None:
        return None
    t = shape.type_name
    if t == "structure":
        return {k: to_botocore(shape.members[k], v) for k, v in value.items()}
    if t == "list":
        return [to_botocore(shape.member, v) for v in value]
    if t == "map":
        return {k: to_botocore(shape.value, v) for k, v in value.items()}
    if t == "blob":
        return base64.b64decode(value)
    return value


def to_plumb(shape, value):
    """botocore output → plumb output conventions."""
    t = shape.type_name
    if t == "structure":
        return {k: to_plumb(shape.members[k], v) for k, v in value.items()
                if k in shape.members}
    if t == "list":
        return [to_plumb(shape.member, v) for v in value]
    if t == "map":
        return {k: to_plumb(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if t == "blob":
        if isinstance(value, StreamingBody):
            value = value.read()
        if isinstance(value, str):
            value = value.encode("utf-8")
        return base64.b64encode(value).decode("ascii")
    if t in ("float", "double"):
        return float(value)
    return value


# ---- expected request --------------------------------------------------------------------

def expected_request(op_model, params):
    protocol = op_model.metadata["protocol"]
    req = create_serializer(protocol).serialize_to_request(params, op_model)
    url_path, _, static_query = req["url_path"].partition("?")
    query = []
    for part in filter(None, static_query.split("&")):
        name, _, value = part.partition("=")
        query.append([urllib.parse.unquote(name), urllib.parse.unquote(value)])
    if isinstance(req["query_string"], dict):
        for name, value in req["query_string"].items():
            for v in value if isinstance(value, list) else [value]:
                query.append([name, str(v)])
    headers = {k: str(v) for k, v in req["headers"].items()}
    body = req["body"]
    if protocol in ("query", "ec2"):
        kind = "form"
        body = [[k, str(v)] for k, v in body.items()]
    elif protocol == "json":
        kind = "json"
        body = json.loads(body)
    elif not body:
        kind, body = "empty", ""
    else:
        kind = "xml" if body.startswith(b"<") else "raw"
        body = body.decode("utf-8")
    if protocol == "rest-xml":
        checksum = op_model.http_checksum or {}
        if op_model.http_checksum_required or checksum.get("requestChecksumRequired"):
            # botocore's handlers (not its serializer) add the checksum; newer botocore sends
            # CRC32 by default, plumb sends the MD5 every S3-compatible server accepts.
            raw = req["body"] if isinstance(req["body"], bytes) else b""
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(raw).digest()).decode()
    return {
        "method": req["method"],
        "path": urllib.parse.unquote(url_path),
        "query": sorted(query),
        "headers": headers,
        "body_kind": kind,
        "body": body,
    }


# What plumb_aws_protocol_parse_error promises where botocore has nothing better: an error
# without a body (S3 HEAD) gets a code named after the status, not the bare number, and no
# message; the request id falls back to the response headers.
STATUS_CODES = {301: "PermanentRedirect", 403: "Forbidden", 404: "NotFound"}
REQUEST_ID_HEADERS = ["x-amzn-RequestId", "x-amz-request-id", "x-amz-id-2"]


def plumb_error(resp, bc):
    err = dict(status=resp["status"], **bc)
    if bc["code"] == str(resp["status"]):
        err["code"] = STATUS_CODES[resp["status"]]
        err["message"] = ""
    if not err["request_id"]:
        headers = HeadersDict(resp["headers"])
        err["request_id"] = next((headers[h] for h in REQUEST_ID_HEADERS if h in headers), "")
    return err


# ---- the calls ---------------------------------------------------------------------------

class Recorder:
    """Keeps the last raw HTTP response boto3 received, before botocore parses it."""

    def __init__(self):
        self.last = None

    def __call__(self, response_dict, **kwargs):
        body = response_dict["body"]
        if hasattr(body, "read"):
            data = body.read()
            response_dict["body"] = StreamingBody(io.BytesIO(data), len(data))
        else:
            data = body
        self.last = {
            "status": response_dict["status_code"],
            "headers": [[k, v] for k, v in response_dict["headers"].items()
                        if k.lower() not in DROP_HEADERS],
            "body": data,
        }


class Generator:
    def __init__(self, url, out_dir):
        self.url = url
        self.out_dir = out_dir
        self.session = boto3.session.Session(
            aws_access_key_id="AKIDPLUMBFIXTURES", aws_secret_access_key="secret",
            region_name=REGION)
        self.bc = botocore.session.get_session()
        self.recorder = Recorder()
        self.clients = {}
        self.written = []

    def client(self, service):
        if service not in self.clients:
            c = self.session.client(service, endpoint_url=self.url)
            c.meta.events.register("before-parse", self.recorder)
            self.clients[service] = c
        return self.clients[service]

    def request_case(self, name, service, operation, params):
        """Records only the expected request, for inputs moto has no use for (timestamps in
        every format, maps in a form body, empty lists)."""
        op_model = self.bc.get_service_model(service).operation_model(operation)
        fixture = {
            "service": service,
            "operation": operation,
            "protocol": op_model.metadata["protocol"],
            "input": params,
            "request": expected_request(op_model, to_botocore(op_model.input_shape, params)),
        }
        self.write(name, fixture)

    def write(self, name, fixture):
        with open(os.path.join(self.out_dir, name + ".json"), "w") as f:
            json.dump(fixture, f, indent=1, ensure_ascii=False)
            f.write("\n")
        self.written.append(name)

    def case(self, name, service, operation, params, error=False):
        """Records one case; returns the parsed output (botocore's) for later cases."""
        model = self.bc.get_service_model(service)
        op_model = model.operation_model(operation)
        protocol = model.metadata["protocol"]
        bc_params = to_botocore(op_model.input_shape, params) if op_model.input_shape else {}
        fixture = {
            "service": service,
            "operation": operation,
            "protocol": protocol,
            "input": params,
            "request": expected_request(op_model, bc_params),
        }
        self.recorder.last = None
        method = getattr(self.client(service), botocore.xform_name(operation))
        raised = None
        try:
            method(**bc_params)
        except ClientError as e:
            raised = e
        if (raised is not None) != error:
            sys.exit(f"{name}: expected {'an error' if error else 'success'}, got {raised}")
        resp = self.recorder.last
        parsed = create_parser(protocol).parse(
            {"status_code": resp["status"], "headers": HeadersDict(resp["headers"]),
             "body": resp["body"], "context": {"operation_name": operation}},
            None if error else op_model.output_shape)
        fixture["response"] = dict(resp, body=resp["body"].decode("utf-8"))
        if error:
            fixture["botocore_error"] = {
                "code": parsed["Error"].get("Code", ""),
                "message": parsed["Error"].get("Message", ""),
                "request_id": parsed.get("ResponseMetadata", {}).get("RequestId", ""),
            }
            fixture["error"] = plumb_error(resp, fixture["botocore_error"])
            out = None
        else:
            out = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            shape = op_model.output_shape
            fixture["output"] = to_plumb(shape, out) if shape is not None else {}
        self.write(name, fixture)
        return out


def run(g):
    # sts (query): no input, then nested structures, lists and a timestamp in the output.
    g.case("sts-GetCallerIdentity", "sts", "GetCallerIdentity", {})
    g.case("sts-AssumeRole", "sts", "AssumeRole", {
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/plumb-fixture",
        "RoleSessionName": "plumb-session",
        "DurationSeconds": 900,
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "Tags": [{"Key": "team", "Value": "infra"}],
    })

    # iam (query): .member.N lists, an empty list, a map of <entry><key><value>, an error.
    g.case("iam-CreateRole", "iam", "CreateRole", {
        "RoleName": "plumb-app",
        "Path": "/plumb/",
        "AssumeRolePolicyDocument": ROLE_POLICY,
        "Description": "app role: a&b=c+d ~ é",
        "MaxSessionDuration": 3600,
        "Tags": [{"Key": "env", "Value": "stage"}, {"Key": "team", "Value": "a b"}],
    })
    g.case("iam-CreateRole-empty-tags", "iam", "CreateRole", {
        "RoleName": "plumb-empty-tags",
        "AssumeRolePolicyDocument": ROLE_POLICY,
        "Tags": [],
    })
    policy = g.case("iam-CreatePolicy", "iam", "CreatePolicy", {
        "PolicyName": "plumb-read",
        "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    })
    g.case("iam-AttachRolePolicy", "iam", "AttachRolePolicy", {
        "RoleName": "plumb-app", "PolicyArn": policy["Policy"]["Arn"]})
    g.case("iam-ListRoles", "iam", "ListRoles", {"PathPrefix": "/plumb/", "MaxItems": 10})
    g.case("iam-GetAccountSummary", "iam", "GetAccountSummary", {})
    g.case("iam-GetRole-error", "iam", "GetRole", {"RoleName": "does-not-exist"}, error=True)

    # ec2 (ec2): Name.N lists, capitalised locationNames, nested lists of <item>.
    ec2 = g.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]][:2]
    sg = g.case("ec2-CreateSecurityGroup", "ec2", "CreateSecurityGroup", {
        "GroupName": "plumb-web",
        "Description": "web tier",
        "VpcId": vpc["VpcId"],
        "TagSpecifications": [{"ResourceType": "security-group",
                               "Tags": [{"Key": "Name", "Value": "plumb-web"}]}],
    })
    other = ec2.create_security_group(GroupName="plumb-db", Description="db",
                                      VpcId=vpc["VpcId"])["GroupId"]
    g.case("ec2-AuthorizeSecurityGroupIngress", "ec2", "AuthorizeSecurityGroupIngress", {
        "GroupId": sg["GroupId"],
        "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "vpc & office"},
                          {"CidrIp": "192.168.1.0/24"}]},
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8081,
             "UserIdGroupPairs": [{"GroupId": other, "Description": "from db"}]},
        ],
    })
    g.case("ec2-DescribeSecurityGroups", "ec2", "DescribeSecurityGroups", {
        "GroupIds": [sg["GroupId"]],
        "Filters": [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}],
    })
    g.case("ec2-DescribeSecurityGroups-error", "ec2", "DescribeSecurityGroups",
           {"GroupIds": ["sg-0123456789abcdef0"]}, error=True)

    # elbv2 (query): lists of structures, a resultWrapper per operation, an error.
    g.case("elbv2-CreateTargetGroup", "elbv2", "CreateTargetGroup", {
        "Name": "plumb-web",
        "Protocol": "HTTP",
        "Port": 8080,
        "VpcId": vpc["VpcId"],
        "HealthCheckPath": "/health",
        "HealthCheckEnabled": True,
        "Matcher": {"HttpCode": "200-299"},
        "TargetType": "ip",
        "Tags": [{"Key": "env", "Value": "stage"}],
    })
    g.case("elbv2-CreateTargetGroup-error", "elbv2", "CreateTargetGroup", {
        "Name": "plumb-web", "Protocol": "HTTP", "Port": 8080, "VpcId": vpc["VpcId"],
        "TargetType": "ip"}, error=True)
    g.case("elbv2-CreateLoadBalancer", "elbv2", "CreateLoadBalancer", {
        "Name": "plumb-alb",
        "Subnets": subnets,
        "SecurityGroups": [sg["GroupId"]],
        "Scheme": "internet-facing",
        "Type": "application",
        "Tags": [{"Key": "env", "Value": "stage"}],
    })
    g.case("elbv2-DescribeLoadBalancers", "elbv2", "DescribeLoadBalancers",
           {"Names": ["plumb-alb"]})

    # rds (query): many members, nested lists with their own member names, timestamps.
    g.case("rds-CreateDBInstance", "rds", "CreateDBInstance", {
        "DBInstanceIdentifier": "plumb-db",
        "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres",
        "MasterUsername": "plumb",
        "MasterUserPassword": "s3cret-pass&word",
        "AllocatedStorage": 20,
        "BackupRetentionPeriod": 0,
        "MultiAZ": False,
        "PubliclyAccessible": False,
        "VpcSecurityGroupIds": [sg["GroupId"]],
        "Tags": [{"Key": "env", "Value": "stage"}],
    })
    g.case("rds-DescribeDBInstances", "rds", "DescribeDBInstances",
           {"DBInstanceIdentifier": "plumb-db"})
    g.case("rds-DescribeDBInstances-error", "rds", "DescribeDBInstances",
           {"DBInstanceIdentifier": "nope"}, error=True)

    # ecs (json 1.1): nested structures, epoch timestamps, an error.
    g.case("ecs-CreateCluster", "ecs", "CreateCluster", {
        "clusterName": "plumb",
        "tags": [{"key": "env", "value": "stage"}],
        "settings": [{"name": "containerInsights", "value": "enabled"}],
    })
    g.case("ecs-RegisterTaskDefinition", "ecs", "RegisterTaskDefinition", {
        "family": "plumb-web",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "web", "image": "nginx:1.25", "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "a=b&c"}],
        }],
    })
    g.case("ecs-CreateService", "ecs", "CreateService", {
        "cluster": "plumb",
        "serviceName": "web",
        "taskDefinition": "plumb-web",
        "desiredCount": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": [sg["GroupId"]], "assignPublicIp": "ENABLED"}},
        "deploymentConfiguration": {
            "maximumPercent": 200, "minimumHealthyPercent": 50,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        "tags": [{"key": "env", "value": "stage"}],
    })
    g.case("ecs-DescribeServices", "ecs", "DescribeServices", {
        "cluster": "plumb", "services": ["web", "missing"], "include": ["TAGS"]})
    g.case("ecs-CreateService-error", "ecs", "CreateService", {
        "cluster": "no-such-cluster", "serviceName": "web", "taskDefinition": "plumb-web"},
        error=True)

    # dynamodb (json 1.0): attribute values with blobs, numbers as strings, doubles.
    g.case("dynamodb-CreateTable", "dynamodb", "CreateTable", {
        "TableName": "plumb-locks",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
    item = {
        "pk": {"S": "stage"},
        "serial": {"N": "42"},
        "digest": {"B": base64.b64encode(b"\x00\x01binary\xff").decode()},
        "holders": {"L": [{"S": "ci"}, {"BOOL": True}]},
        "meta": {"M": {"host": {"S": "build-1"}, "none": {"NULL": True}}},
    }
    g.case("dynamodb-PutItem", "dynamodb", "PutItem", {
        "TableName": "plumb-locks",
        "Item": item,
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnConsumedCapacity": "TOTAL",
    })
    g.case("dynamodb-GetItem", "dynamodb", "GetItem", {
        "TableName": "plumb-locks", "Key": {"pk": {"S": "stage"}}, "ConsistentRead": True})
    g.case("dynamodb-PutItem-error", "dynamodb", "PutItem", {
        "TableName": "no-such-table", "Item": {"pk": {"S": "x"}}}, error=True)

    # s3 (rest-xml): URI labels, static query parts, headers, XML and raw payloads,
    # flattened lists, header-only outputs, errors with and without a body.
    g.case("s3-CreateBucket", "s3", "CreateBucket", {"Bucket": BUCKET})
    g.case("s3-PutBucketTagging", "s3", "PutBucketTagging", {
        "Bucket": BUCKET,
        "Tagging": {"TagSet": [{"Key": "env", "Value": "stage"},
                               {"Key": "note", "Value": "a&b <c> \"d\""}]},
    })
    g.case("s3-GetBucketTagging", "s3", "GetBucketTagging", {"Bucket": BUCKET})
    g.case("s3-PutBucketPolicy", "s3", "PutBucketPolicy", {
        "Bucket": BUCKET,
        "Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/env": "stage"}}}]}),
    })
    g.case("s3-GetBucketPolicy", "s3", "GetBucketPolicy", {"Bucket": BUCKET})
    g.case("s3-PutObject", "s3", "PutObject", {
        "Bucket": BUCKET,
        "Key": OBJECT_KEY,
        "Body": base64.b64encode(b"hello, plumb\n").decode(),
        "ContentType": "text/plain",
        "Metadata": {"owner": "plumb"},
    })
    g.case("s3-HeadObject", "s3", "HeadObject", {"Bucket": BUCKET, "Key": OBJECT_KEY})
    g.case("s3-GetObject", "s3", "GetObject", {"Bucket": BUCKET, "Key": OBJECT_KEY})
    g.case("s3-ListObjectsV2", "s3", "ListObjectsV2", {
        "Bucket": BUCKET, "Prefix": "dir/", "MaxKeys": 10, "FetchOwner": True})
    g.case("s3-ListObjectsV2-delimiter", "s3", "ListObjectsV2", {
        "Bucket": BUCKET, "Delimiter": "/"})
    g.case("s3-HeadBucket", "s3", "HeadBucket", {"Bucket": BUCKET})
    g.case("s3-HeadBucket-error", "s3", "HeadBucket", {"Bucket": "no-such-bucket"},
           error=True)
    g.case("s3-GetBucketTagging-error", "s3", "GetBucketTagging", {"Bucket": "no-such-bucket"},
           error=True)


def run_requests(g):
    # Timestamps: ISO 8601 in a form body, epoch seconds in JSON (from either input form),
    # RFC 822 in headers and in an rfc822 query parameter, iso8601 where a header says so.
    g.request_case("rds-DescribeEvents-request", "rds", "DescribeEvents", {
        "SourceType": "db-instance", "StartTime": "2024-02-29T12:34:56Z",
        "EndTime": 1709296496, "EventCategories": ["backup", "failover"], "MaxRecords": 20})
    g.request_case("dynamodb-ListBackups-request", "dynamodb", "ListBackups", {
        "TableName": "plumb-locks", "TimeRangeLowerBound": "2024-02-29T12:34:56Z",
        "TimeRangeUpperBound": 1709296496, "Limit": 5})
    g.request_case("s3-GetObject-request", "s3", "GetObject", {
        "Bucket": BUCKET, "Key": "/leading/slash?and#hash", "IfModifiedSince": "2024-02-29T12:34:56Z",
        "ResponseExpires": 1709296496, "Range": "bytes=0-9", "PartNumber": 1})
    g.request_case("s3-PutObject-request", "s3", "PutObject", {
        "Bucket": BUCKET, "Key": "a b/c", "Body": "", "ObjectLockMode": "GOVERNANCE",
        "ObjectLockRetainUntilDate": "2030-01-02T03:04:05Z", "BucketKeyEnabled": False,
        "ContentLength": 0})
    # Maps: Name.entry.N.key/value in a form body, objects in JSON.
    g.request_case("rds-CreateIntegration-request", "rds", "CreateIntegration", {
        "SourceArn": "arn:aws:rds:us-east-1:123456789012:cluster:src",
        "TargetArn": "arn:aws:redshift:us-east-1:123456789012:namespace:dst",
        "IntegrationName": "plumb",
        "AdditionalEncryptionContext": {"purpose": "etl", "team": "data & ml"}})
    g.request_case("resourcegroupstaggingapi-TagResources-request", "resourcegroupstaggingapi",
                   "TagResources", {"ResourceARNList": ["arn:aws:s3:::plumb-fixtures"],
                                    "Tags": {"env": "stage", "team": "infra"}})
    # Lists: ec2 sends nothing for an empty list, query sends "Name="; booleans as text.
    g.request_case("ec2-DescribeSecurityGroups-request", "ec2", "DescribeSecurityGroups", {
        "GroupIds": [], "DryRun": False, "MaxResults": 5})
    g.request_case("elbv2-SetSecurityGroups-request", "elbv2", "SetSecurityGroups", {
        "LoadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                           "loadbalancer/app/plumb-alb/50dc6c495c0c9188",
        "SecurityGroups": []})
    # S3 document payload with nested lists, a namespace and text needing escapes.
    g.request_case("s3-PutBucketLifecycleConfiguration-request", "s3",
                   "PutBucketLifecycleConfiguration", {
                       "Bucket": BUCKET,
                       "LifecycleConfiguration": {"Rules": [{
                           "ID": "expire <old> & \"tmp\"", "Status": "Enabled",
                           "Filter": {"Prefix": "tmp/"},
                           "Expiration": {"Days": 30},
                           "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}]}})


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "resources", "protocol")
    os.makedirs(out_dir, exist_ok=True)
    proc, url = start_moto()
    try:
        g = Generator(url, out_dir)
        run(g)
        run_requests(g)
    finally:
        proc.terminate()
        proc.wait()
    print(f"{len(g.written)} fixtures in {out_dir} (botocore {botocore.__version__})",
          file=sys.stderr)


if __name__ == "__main__":
    main()

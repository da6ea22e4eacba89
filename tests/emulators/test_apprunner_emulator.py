#!/usr/bin/env python3
"""Self-test of the App Runner emulator (tests/emulators/apprunner_server.py, a test tool):
boto3 — AWS's own client — pointed at it must see a service go through create, describe,
update and delete, and requests AWS would refuse must be refused with AWS's error codes.
Prints "apprunner emulator: N passed, M failed"; exits 1 when something failed."""
import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "arn:aws:iam::123456789012:role/AppRunnerECRAccessRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/blog-api:latest"

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": %s" % detail) if detail else ""))


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", ""), \
            e.response["ResponseMetadata"].get("RequestId")
    return None, "", None


def describe_until(c, arn, status, limit=10):
    seen = []
    for _ in range(limit):
        s = c.describe_service(ServiceArn=arn)["Service"]
        seen.append(s["Status"])
        if s["Status"] == status:
            return s, seen
    return None, seen


def main():
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "apprunner_server.py"),
                               "--port", "0"], stdout=subprocess.PIPE)
    try:
        port = int(server.stdout.readline())
        url = "http://127.0.0.1:%d" % port
        c = boto3.client("apprunner", endpoint_url=url, region_name="us-east-1",
                         aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
        run(c, url)
    finally:
        server.terminate()
        server.wait(10)
    print("apprunner emulator: %d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


def run(c, url):
    asc = c.create_auto_scaling_configuration(
        AutoScalingConfigurationName="astro-ai-scaling", MinSize=1, MaxSize=25,
        MaxConcurrency=100, Tags=[{"Key": "team", "Value": "astro"}])["AutoScalingConfiguration"]
    check("auto scaling configuration created as revision 1",
          asc["AutoScalingConfigurationRevision"] == 1 and asc["Latest"]
          and ":autoscalingconfiguration/astro-ai-scaling/1/" in asc["AutoScalingConfigurationArn"])

    created = c.create_service(
        ServiceName="django-blog-api",
        SourceConfiguration={
            "ImageRepository": {
                "ImageIdentifier": IMAGE, "ImageRepositoryType": "ECR",
                "ImageConfiguration": {"Port": "8080",
                                       "RuntimeEnvironmentVariables": {"DEBUG": "0"}}},
            "AuthenticationConfiguration": {"AccessRoleArn": ROLE}},
        InstanceConfiguration={"Cpu": "1 vCPU", "Memory": "2 GB"},
        HealthCheckConfiguration={"Protocol": "HTTP", "Path": "/api/v1/healthcheck/",
                                  "Interval": 10, "Timeout": 5, "HealthyThreshold": 1},
        AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"],
        Tags=[{"Key": "plumb:env", "Value": "prod"}])["Service"]
    arn = created["ServiceArn"]
    check("service ARN shaped like AWS's",
          arn.startswith("arn:aws:apprunner:us-east-1:123456789012:service/django-blog-api/")
          and len(created["ServiceId"]) == 32, arn)
    check("service URL shaped like AWS's",
          created["ServiceUrl"].endswith(".us-east-1.awsapprunner.com"), created["ServiceUrl"])
    check("a new service is OPERATION_IN_PROGRESS", created["Status"] == "OPERATION_IN_PROGRESS")

    running, seen = describe_until(c, arn, "RUNNING")
    check("describe goes through OPERATION_IN_PROGRESS to RUNNING",
          running is not None and seen[0] == "OPERATION_IN_PROGRESS", seen)
    if running is None:
        return
    check("Cpu and Memory reported in units",
          running["InstanceConfiguration"]["Cpu"] == "1024"
          and running["InstanceConfiguration"]["Memory"] == "2048")
    check("health check as declared, defaults filled in",
          running["HealthCheckConfiguration"] == {"Protocol": "HTTP",
                                                  "Path": "/api/v1/healthcheck/", "Interval": 10,
                                                  "Timeout": 5, "HealthyThreshold": 1,
                                                  "UnhealthyThreshold": 5},
          running["HealthCheckConfiguration"])
    check("the service uses the auto scaling configuration",
          running["AutoScalingConfigurationSummary"]["AutoScalingConfigurationArn"]
          == asc["AutoScalingConfigurationArn"])
    tags = c.list_tags_for_resource(ResourceArn=arn)["Tags"]
    check("tags given at create are listed", tags == [{"Key": "plumb:env", "Value": "prod"}],
          tags)

    code, _, _ = error_code(c.create_service, ServiceName="django-blog-api",
                            SourceConfiguration={"ImageRepository": {
                                "ImageIdentifier": IMAGE, "ImageRepositoryType": "ECR"},
                                "AuthenticationConfiguration": {"AccessRoleArn": ROLE}})
    check("a second service with the same name is refused", code == "InvalidRequestException",
          code)

    updated = c.update_service(ServiceArn=arn,
                               InstanceConfiguration={"Cpu": "2048", "Memory": "4096"})["Service"]
    check("an update is OPERATION_IN_PROGRESS", updated["Status"] == "OPERATION_IN_PROGRESS")
    code, _, _ = error_code(c.update_service, ServiceArn=arn,
                            InstanceConfiguration={"Cpu": "1024", "Memory": "2048"})
    check("an update during an operation is InvalidStateException",
          code == "InvalidStateException", code)
    running, seen = describe_until(c, arn, "RUNNING")
    check("the update settles with the new size", running is not None
          and running["InstanceConfiguration"]["Cpu"] == "2048", seen)
    ops = [(o["Type"], o["Status"])
           for o in c.list_operations(ServiceArn=arn)["OperationSummaryList"]]
    check("operations listed newest first, both succeeded",
          ops == [("UPDATE_SERVICE", "SUCCEEDED"), ("CREATE_SERVICE", "SUCCEEDED")], ops)

    code, msg, _ = error_code(c.update_service, ServiceArn=arn,
                              InstanceConfiguration={"Cpu": "4096", "Memory": "2048"})
    check("an unsupported Cpu/Memory combination is refused", code == "InvalidRequestException",
          msg)

    # what botocore's own validation does not check, the emulator does
    code, msg, rid = error_code(c.update_service, ServiceArn=arn,
                                HealthCheckConfiguration={"Protocol": "HTTPS"})
    check("an invalid enum value is refused, naming the member",
          code == "InvalidRequestException" and "HealthCheckConfiguration.Protocol" in msg
          and bool(rid), "%s: %s" % (code, msg))
    code, msg, _ = error_code(c.create_service, ServiceName="bad name!",
                              SourceConfiguration={"ImageRepository": {
                                  "ImageIdentifier": IMAGE, "ImageRepositoryType": "ECR"},
                                  "AuthenticationConfiguration": {"AccessRoleArn": ROLE}})
    check("a name outside the pattern is refused",
          code == "InvalidRequestException" and "ServiceName" in msg, "%s: %s" % (code, msg))
    code, msg, _ = error_code(c.update_service, ServiceArn=arn,
                              HealthCheckConfiguration={"Interval": 21})
    check("an out-of-range integer is refused",
          code == "InvalidRequestException" and "Interval" in msg, msg)
    code, _, _ = error_code(c.describe_service,
                            ServiceArn=arn.replace(arn.rsplit("/", 1)[1], "0" * 32))
    check("an unknown ARN is ResourceNotFoundException", code == "ResourceNotFoundException",
          code)

    # a request signed for another service is refused
    req = urllib.request.Request(url, data=b"{}", method="POST", headers={
        "X-Amz-Target": "AppRunner.ListServices",
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Date": "20240101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ecs/"
                         "aws4_request, SignedHeaders=host, Signature=00"})
    try:
        urllib.request.urlopen(req)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
        body = e.read().decode()
    check("a request signed for another service is InvalidSignatureException",
          status == 403 and "InvalidSignatureException" in body, status)

    code, _, _ = error_code(c.delete_auto_scaling_configuration,
                            AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])
    check("a configuration in use cannot be deleted", code == "InvalidRequestException", code)

    deleting = c.delete_service(ServiceArn=arn)["Service"]
    check("a deletion is OPERATION_IN_PROGRESS", deleting["Status"] == "OPERATION_IN_PROGRESS")
    code = None
    for _ in range(10):
        code, _, _ = error_code(c.describe_service, ServiceArn=arn)
        if code:
            break
    check("a deleted service is ResourceNotFoundException after settling",
          code == "ResourceNotFoundException", code)
    names = [s["ServiceName"] for s in c.list_services()["ServiceSummaryList"]]
    check("a deleted service is not listed", "django-blog-api" not in names, names)

    c.delete_auto_scaling_configuration(
        AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])
    gone = c.describe_auto_scaling_configuration(
        AutoScalingConfigurationArn=asc["AutoScalingConfigurationArn"])["AutoScalingConfiguration"]
    check("a deleted configuration describes as INACTIVE", gone["Status"] == "INACTIVE")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Trims botocore's API models to what plumb's AWS client needs and writes them to
src/aws/models/<service>.json, which the build embeds in the binary.

The client is model-driven, like the AWS SDKs: request serialisation (query list and map
layout, rest-xml URI templates and headers) and response parsing (lists, maps, numbers,
booleans, timestamps) follow these shapes. Documentation is dropped; for EC2, whose model is
huge, only the operations plumb calls are kept, with the shapes they reach.

Run it again after adding an operation to OPERATIONS (it needs botocore installed; the build
does not: the output is committed).
"""
import gzip
import json
import os
import sys

import botocore

SERVICES = {
    # botocore directory: operations to keep (None = all)
    "sts": None,
    "iam": None,
    "ecr": None,
    "ecs": None,
    "elbv2": None,
    "rds": None,
    "s3": None,
    "secretsmanager": None,
    "logs": None,
    "apprunner": None,
    "dynamodb": None,
    "resourcegroupstaggingapi": None,
    "ec2": [
        "DescribeVpcs", "DescribeSubnets", "DescribeAvailabilityZones", "DescribeAccountAttributes",
        "CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups",
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
        "DescribeSecurityGroupRules", "ModifySecurityGroupRules",
        "CreateTags", "DeleteTags", "DescribeTags",
        "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "DescribeVpcAttribute",
        "CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute",
        "CreateInternetGateway", "DeleteInternetGateway", "DescribeInternetGateways",
        "AttachInternetGateway", "DetachInternetGateway",
        "DescribeNetworkInterfaces",
    ],
}

META_KEYS = ["apiVersion", "protocol", "jsonVersion", "targetPrefix", "signingName",
             "endpointPrefix", "globalEndpoint", "serviceId", "signatureVersion", "xmlNamespace",
             "checksumFormat"]
DROP_KEYS = {"documentation", "documentationUrl", "deprecated", "deprecatedMessage", "examples",
             "box", "min", "max", "pattern", "enum", "staticContextParams",
             "contextParam", "endpointdiscovery", "endpointoperation", "authtype",
             "requestcompression", "alias", "auth", "exception", "error", "fault", "retryable",
             "errors", "event", "eventstream", "union", "wrapper", "requiresLength",
             "hostPrefix", "endpoint", "operationContextParams"}


def strip(obj, names=False):
    """Drops documentation and validation keys. Inside "members" the keys are member names,
    not model keywords: they are all kept (ECS has members called "min", "max", "endpoint")."""
    if isinstance(obj, dict):
        if names:
            return {k: strip(v) for k, v in obj.items()}
        return {k: strip(v, k == "members") for k, v in obj.items() if k not in DROP_KEYS}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


def reach(shapes, name, seen):
    if name in seen or name not in shapes:
        return
    seen.add(name)
    s = shapes[name]
    for m in s.get("members", {}).values():
        reach(shapes, m["shape"], seen)
    for k in ("member", "key", "value"):
        if k in s:
            reach(shapes, s[k]["shape"], seen)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "src", "aws", "models")
    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    os.makedirs(out_dir, exist_ok=True)
    for svc, ops in SERVICES.items():
        version = sorted(os.listdir(os.path.join(data, svc)))[-1]
        path = os.path.join(data, svc, version, "service-2.json.gz")
        with gzip.open(path) as f:
            model = json.load(f)
        keep = ops if ops is not None else sorted(model["operations"])
        operations = {}
        seen = set()
        for op in keep:
            o = model["operations"][op]
            operations[op] = strip(o)
            for k in ("input", "output"):
                if k in o:
                    reach(model["shapes"], o[k]["shape"], seen)
        shapes = {n: strip(model["shapes"][n]) for n in sorted(seen)}
        # The error shapes stay out; errors are parsed generically per protocol.
        meta = {k: model["metadata"][k] for k in META_KEYS if k in model["metadata"]}
        meta["botocoreVersion"] = botocore.__version__
        meta["modelVersion"] = version
        # Paginators say which input token follows which output token, and which list to
        # concatenate: the client pages through every listing with them.
        paginators = {}
        pag_path = os.path.join(data, svc, version, "paginators-1.json")
        if os.path.exists(pag_path):
            with open(pag_path) as f:
                for op, p in json.load(f).get("pagination", {}).items():
                    if op in operations:
                        paginators[op] = {k: p[k] for k in ("input_token", "output_token",
                                                              "result_key", "more_results",
                                                              "limit_key") if k in p}
        trimmed = {"metadata": meta, "operations": operations, "shapes": shapes,
                   "paginators": paginators}
        with open(os.path.join(out_dir, svc + ".json"), "w") as f:
            json.dump(trimmed, f, sort_keys=True, separators=(",", ":"))
            f.write("\n")
        print(f"{svc}: {len(operations)} operations, {len(shapes)} shapes", file=sys.stderr)


if __name__ == "__main__":
    main()

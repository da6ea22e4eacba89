#!/usr/bin/env python3
"""An App Runner emulator for plumb's tests. A TEST TOOL, not a product feature: moto has no
App Runner (DESIGN.md §8), so the App Runner drivers are tested against this.

    apprunner_server.py --port N [--settle-calls K] [--verbose]

--port 0 picks a free loopback port; the port is printed on the first line of stdout once the
server listens (tests/helpers/server.c reads it). The server runs until terminated.

Wire protocol: AWS JSON 1.0, POST / with `X-Amz-Target: AppRunner.<Operation>` and
`Content-Type: application/x-amz-json-1.0`. Errors are JSON 1.0 errors
({"__type": "InvalidRequestException", "Message": "..."}, HTTP 400 unless said otherwise), and
every response carries an `x-amzn-RequestId` header.

What it checks, as AWS would:
  - every request against botocore's own App Runner model: required members, unknown members
    and types with botocore.validate, then what botocore.validate leaves out — enums, string
    lengths, list sizes, integer ranges and patterns (full match, as AWS's services do) —
    by walking the input shape; a failure is InvalidRequestException naming the member;
  - unknown ARNs are ResourceNotFoundException; a change while an operation is in progress is
    InvalidStateException;
  - the rules the model cannot say that the drivers meet: a unique service name, a valid
    Cpu/Memory combination, an access role for a private ECR image, a VPC connector for VPC
    egress, an observability configuration when observability is on, MinSize <= MaxSize, an
    existing auto scaling configuration, at most 5 active revisions per configuration name,
    the default configuration and configurations in use cannot be deleted.

What it does NOT check: SigV4 signatures are not verified. It requires an Authorization
header of the form `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/apprunner/aws4_request,
...` (a request signed for another service is InvalidSignatureException, a missing one
MissingAuthenticationTokenException) and takes the region from it; the account is always
123456789012. Only image sources are implemented (a CodeRepository source is refused).

UpdateService, as AWS documents it ("set the values to members of the structure that you
include"): each member given in a structure replaces the service's; members left out keep
their values (so the drivers send whole structures). A source cannot switch between image
and code repository.

Behaviour over time: a service passes through OPERATION_IN_PROGRESS before RUNNING. After
CreateService, UpdateService or DeleteService the next K DescribeService calls of that service
(K = --settle-calls, default 2) report OPERATION_IN_PROGRESS; the call after that finishes the
operation (RUNNING; or gone after a delete — DescribeService then answers
ResourceNotFoundException). Only DescribeService advances an operation.

Test hook: an image whose tag is `fail` (…/repo:fail) stands for an image App Runner cannot
pull or whose health check never passes: a create ends in CREATE_FAILED, an update is rolled
back (the service returns to RUNNING with its previous configuration and the operation ends
ROLLBACK_SUCCEEDED), as on AWS.
"""
import argparse
import copy
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.validate import ParamValidator

ACCOUNT = "123456789012"
TARGET_PREFIX = "AppRunner."
MAX_REVISIONS = 5

# Valid Cpu → Memory combinations (App Runner's "supported configurations"), in units.
CPU_MEMORY = {
    "256": {"512", "1024"},
    "512": {"1024"},
    "1024": {"2048", "3072", "4096"},
    "2048": {"4096"},
    "4096": {"8192", "10240", "12288"},
}
CPU_UNITS = {"0.25 vCPU": "256", "0.5 vCPU": "512", "1 vCPU": "1024", "2 vCPU": "2048",
             "4 vCPU": "4096"}
MEMORY_UNITS = {"%s GB" % g: str(int(float(g) * 1024))
                for g in ("0.5", "1", "2", "3", "4", "6", "8", "10", "12")}

HEALTH_CHECK_DEFAULTS = {"Protocol": "TCP", "Path": "/", "Interval": 5, "Timeout": 2,
                         "HealthyThreshold": 1, "UnhealthyThreshold": 5}


class ApiError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def invalid(message):
    return ApiError("InvalidRequestException", message)


def not_found(message):
    return ApiError("ResourceNotFoundException", message)


def invalid_state(message):
    return ApiError("InvalidStateException", message)


# --- validation against the model --------------------------------------------------------

class ModelValidator:
    """What botocore.validate does not check: enums, lengths, ranges, patterns."""

    def __init__(self, model):
        self.model = model
        self.patterns = {}

    def pattern(self, text):
        if text not in self.patterns:
            try:
                self.patterns[text] = re.compile(text)
            except re.error:
                # a pattern Python cannot compile is not checked (none today)
                self.patterns[text] = None
        return self.patterns[text]

    def check(self, value, shape, path, errors):
        meta = shape.metadata
        kind = shape.type_name
        if kind == "structure":
            for name, member in shape.members.items():
                if isinstance(value, dict) and name in value and value[name] is not None:
                    self.check(value[name], member, path + [name], errors)
        elif kind == "list":
            if isinstance(value, list):
                self.size(len(value), meta, path, "Member must have length", errors)
                for i, item in enumerate(value):
                    self.check(item, shape.member, path[:-1] + ["%s[%d]" % (path[-1], i)],
                               errors)
        elif kind == "map":
            if isinstance(value, dict):
                self.size(len(value), meta, path, "Member must have length", errors)
                # keys are not named in messages: App Runner's are sensitive (variable names)
                for k, v in value.items():
                    self.check(k, shape.key, path, errors)
                    self.check(v, shape.value, path, errors)
        elif kind == "string":
            if not isinstance(value, str):
                return
            shown = None if meta.get("sensitive") else value
            if shape.enum and value not in shape.enum:
                errors.append(self.describe(path, shown, "Member must satisfy enum value set: [%s]"
                                            % ", ".join(shape.enum)))
            self.size(len(value), meta, path, "Member must have length", errors, shown)
            if "pattern" in meta:
                rx = self.pattern(meta["pattern"])
                if rx is not None and not rx.fullmatch(value):
                    errors.append(self.describe(
                        path, shown, "Member must satisfy regular expression pattern: %s"
                        % meta["pattern"]))
        elif kind in ("integer", "long"):
            if isinstance(value, int) and not isinstance(value, bool):
                if "min" in meta and value < meta["min"]:
                    errors.append(self.describe(path, value, "Member must have value greater "
                                                "than or equal to %d" % meta["min"]))
                if "max" in meta and value > meta["max"]:
                    errors.append(self.describe(path, value, "Member must have value less than "
                                                "or equal to %d" % meta["max"]))

    def size(self, n, meta, path, what, errors, shown=None):
        if "min" in meta and n < meta["min"]:
            errors.append(self.describe(path, shown, "%s greater than or equal to %d"
                                        % (what, meta["min"])))
        if "max" in meta and n > meta["max"]:
            errors.append(self.describe(path, shown, "%s less than or equal to %d"
                                        % (what, meta["max"])))

    @staticmethod
    def describe(path, value, constraint):
        where = ".".join(path) if path else "input"
        if value is None:
            return "Value at '%s' failed to satisfy constraint: %s" % (where, constraint)
        return "Value '%s' at '%s' failed to satisfy constraint: %s" % (value, where, constraint)


# --- state ---------------------------------------------------------------------------------

def now():
    return time.time()


def image_tag(identifier):
    tail = identifier.rsplit("/", 1)[-1]
    return tail.split(":", 1)[1] if ":" in tail and "@" not in tail else None


class Region:
    def __init__(self, name):
        self.name = name
        self.services = {}  # arn → service record
        self.ascs = {}      # arn → auto scaling configuration record
        self.tags = {}      # arn → {key: value}
        self.default_asc = self.new_asc("DefaultConfiguration", 100, 1, 25, is_default=True)

    def arn(self, kind, rest):
        return "arn:aws:apprunner:%s:%s:%s/%s" % (self.name, ACCOUNT, kind, rest)

    def new_asc(self, name, max_concurrency, min_size, max_size, is_default=False):
        revisions = [a for a in self.ascs.values() if a["AutoScalingConfigurationName"] == name]
        active = [a for a in revisions if a["Status"] == "ACTIVE"]
        if len(active) >= MAX_REVISIONS:
            raise ApiError("ServiceQuotaExceededException",
                           "you have reached the maximum of %d active revisions of auto scaling "
                           "configuration %s" % (MAX_REVISIONS, name))
        revision = max([a["AutoScalingConfigurationRevision"] for a in revisions] or [0]) + 1
        for a in active:
            a["Latest"] = False
        arn = self.arn("autoscalingconfiguration", "%s/%d/%s" % (name, revision, uuid.uuid4().hex))
        record = {
            "AutoScalingConfigurationArn": arn,
            "AutoScalingConfigurationName": name,
            "AutoScalingConfigurationRevision": revision,
            "Latest": True,
            "Status": "ACTIVE",
            "MaxConcurrency": max_concurrency,
            "MinSize": min_size,
            "MaxSize": max_size,
            "CreatedAt": now(),
            "IsDefault": is_default,
        }
        self.ascs[arn] = record
        self.tags[arn] = {}
        return record

    def asc_view(self, record, summary=False):
        out = dict(record)
        out["HasAssociatedService"] = any(
            s["config"].get("AutoScalingConfigurationArn") == record["AutoScalingConfigurationArn"]
            for s in self.services.values())
        if summary:
            for k in ("Latest", "MaxConcurrency", "MinSize", "MaxSize", "DeletedAt"):
                out.pop(k, None)
        return out

    def active_asc(self, arn):
        record = self.ascs.get(arn)
        if record is None or record["Status"] != "ACTIVE":
            return None
        return record


class Emulator:
    def __init__(self, settle_calls):
        self.settle_calls = settle_calls
        self.lock = threading.Lock()
        self.regions = {}
        session = botocore.session.get_session()
        self.model = session.get_service_model("apprunner")
        self.checker = ModelValidator(self.model)

    def region(self, name):
        if name not in self.regions:
            self.regions[name] = Region(name)
        return self.regions[name]

    # -- dispatch

    def handle(self, operation, params, region_name):
        try:
            op_model = self.model.operation_model(operation)
        except Exception:
            raise ApiError("UnknownOperationException", "unknown operation %s" % operation)
        handler = getattr(self, "op_" + operation, None)
        if handler is None:
            raise ApiError("UnknownOperationException",
                           "operation %s is not implemented by the emulator" % operation)
        shape = op_model.input_shape
        if shape is not None:
            report = ParamValidator().validate(params, shape)
            if report.has_errors():
                raise invalid(report.generate_report())
            errors = []
            self.checker.check(params, shape, [], errors)
            if errors:
                raise invalid("%d validation error%s detected: %s" % (
                    len(errors), "" if len(errors) == 1 else "s", "; ".join(errors)))
        with self.lock:
            return handler(self.region(region_name), params)

    # -- services

    def normalise_instance(self, cfg):
        cpu = cfg.get("Cpu", "1024")
        memory = cfg.get("Memory", "2048")
        cpu = CPU_UNITS.get(cpu, cpu)
        memory = MEMORY_UNITS.get(memory, memory)
        if memory not in CPU_MEMORY.get(cpu, set()):
            raise invalid("the CPU and memory combination %s / %s is not supported" % (
                cfg.get("Cpu", "1024"), cfg.get("Memory", "2048")))
        out = {"Cpu": cpu, "Memory": memory}
        if cfg.get("InstanceRoleArn"):
            out["InstanceRoleArn"] = cfg["InstanceRoleArn"]
        return out

    def normalise_source(self, src):
        if "CodeRepository" in src:
            raise invalid("CodeRepository sources are not implemented by the emulator")
        image = src.get("ImageRepository")
        if image is None:
            raise invalid("SourceConfiguration needs an ImageRepository or a CodeRepository")
        private = re.fullmatch(r"([0-9]{12})\.dkr\.ecr\.[a-z\-]+-[0-9]\.amazonaws\.com/.*",
                               image["ImageIdentifier"])
        if image["ImageRepositoryType"] == "ECR" and not private:
            raise invalid("ImageIdentifier %s is not an Amazon ECR private image"
                          % image["ImageIdentifier"])
        if image["ImageRepositoryType"] == "ECR_PUBLIC" and private:
            raise invalid("ImageIdentifier %s is not an Amazon ECR Public image"
                          % image["ImageIdentifier"])
        auth = src.get("AuthenticationConfiguration") or {}
        if image["ImageRepositoryType"] == "ECR" and not auth.get("AccessRoleArn"):
            raise invalid("an AccessRoleArn is required in AuthenticationConfiguration for an "
                          "Amazon ECR private image")
        same_account = bool(private) and private.group(1) == ACCOUNT
        auto = src.get("AutoDeploymentsEnabled")
        if auto is None:
            # AWS's default: on for a same-account private ECR image, off otherwise
            auto = image["ImageRepositoryType"] == "ECR" and same_account
        elif auto and image["ImageRepositoryType"] == "ECR_PUBLIC":
            raise invalid("automatic deployments are not supported for Amazon ECR Public images")
        image_cfg = dict(image.get("ImageConfiguration") or {})
        image_cfg.setdefault("Port", "8080")
        for key in ("RuntimeEnvironmentVariables", "RuntimeEnvironmentSecrets"):
            if key in image_cfg and not image_cfg[key]:
                del image_cfg[key]
        out = {
            "ImageRepository": {
                "ImageIdentifier": image["ImageIdentifier"],
                "ImageRepositoryType": image["ImageRepositoryType"],
                "ImageConfiguration": image_cfg,
            },
            "AutoDeploymentsEnabled": auto,
        }
        if auth:
            out["AuthenticationConfiguration"] = dict(auth)
        return out

    @staticmethod
    def normalise_network(cfg):
        egress = dict(cfg.get("EgressConfiguration") or {})
        egress.setdefault("EgressType", "DEFAULT")
        if egress["EgressType"] == "VPC" and not egress.get("VpcConnectorArn"):
            raise invalid("a VpcConnectorArn is required when EgressType is VPC")
        if egress["EgressType"] == "DEFAULT" and egress.get("VpcConnectorArn"):
            raise invalid("a VpcConnectorArn is only allowed when EgressType is VPC")
        if egress.get("VpcConnectorArn") and ":vpcconnector/" not in egress["VpcConnectorArn"]:
            raise invalid("%s is not a VPC connector ARN" % egress["VpcConnectorArn"])
        ingress = dict(cfg.get("IngressConfiguration") or {})
        ingress.setdefault("IsPubliclyAccessible", True)
        return {"EgressConfiguration": egress, "IngressConfiguration": ingress,
                "IpAddressType": cfg.get("IpAddressType", "IPV4")}

    @staticmethod
    def normalise_observability(cfg):
        if cfg.get("ObservabilityEnabled") and not cfg.get("ObservabilityConfigurationArn"):
            raise invalid("an ObservabilityConfigurationArn is required when "
                          "ObservabilityEnabled is true")
        return dict(cfg)

    def asc_for(self, region, arn):
        if arn is None:
            for a in region.ascs.values():
                if a["IsDefault"] and a["Status"] == "ACTIVE":
                    return a["AutoScalingConfigurationArn"]
            return region.default_asc["AutoScalingConfigurationArn"]
        if region.active_asc(arn) is None:
            raise invalid("auto scaling configuration %s does not exist or is not active" % arn)
        return arn

    def service_view(self, region, svc):
        cfg = svc["config"]
        out = {
            "ServiceName": svc["ServiceName"],
            "ServiceId": svc["ServiceId"],
            "ServiceArn": svc["ServiceArn"],
            "ServiceUrl": svc["ServiceUrl"],
            "CreatedAt": svc["CreatedAt"],
            "UpdatedAt": svc["UpdatedAt"],
            "Status": svc["Status"],
        }
        for key in ("SourceConfiguration", "InstanceConfiguration", "EncryptionConfiguration",
                    "HealthCheckConfiguration", "NetworkConfiguration",
                    "ObservabilityConfiguration"):
            if key in cfg:
                out[key] = copy.deepcopy(cfg[key])
        asc = region.ascs.get(cfg["AutoScalingConfigurationArn"])
        if asc is not None:
            out["AutoScalingConfigurationSummary"] = region.asc_view(asc, summary=True)
        if "DeletedAt" in svc:
            out["DeletedAt"] = svc["DeletedAt"]
        return out

    def service(self, region, arn):
        svc = region.services.get(arn)
        if svc is None:
            raise not_found("service %s does not exist" % arn)
        return svc

    def start_operation(self, svc, kind, outcome, previous=None):
        op = {"Id": str(uuid.uuid4()), "Type": kind, "Status": "IN_PROGRESS",
              "TargetArn": svc["ServiceArn"], "StartedAt": now(), "UpdatedAt": now()}
        svc["operations"].insert(0, op)
        svc["pending"] = {"op": op, "left": self.settle_calls, "outcome": outcome,
                          "previous": previous}
        svc["Status"] = "OPERATION_IN_PROGRESS"
        svc["UpdatedAt"] = now()
        return op["Id"]

    def advance(self, region, svc):
        """One DescribeService call's worth of progress."""
        pending = svc.get("pending")
        if pending is None:
            return
        if pending["left"] > 0:
            pending["left"] -= 1
            return
        op = pending["op"]
        op["EndedAt"] = op["UpdatedAt"] = now()
        svc["pending"] = None
        svc["UpdatedAt"] = now()
        outcome = pending["outcome"]
        if outcome == "running":
            op["Status"] = "SUCCEEDED"
            svc["Status"] = "RUNNING"
        elif outcome == "create_failed":
            op["Status"] = "FAILED"
            svc["Status"] = "CREATE_FAILED"
        elif outcome == "rollback":
            op["Status"] = "ROLLBACK_SUCCEEDED"
            svc["config"] = pending["previous"]
            svc["Status"] = "RUNNING"
        elif outcome == "deleted":
            op["Status"] = "SUCCEEDED"
            del region.services[svc["ServiceArn"]]
            region.tags.pop(svc["ServiceArn"], None)

    def op_CreateService(self, region, p):
        name = p["ServiceName"]
        if any(s["ServiceName"] == name for s in region.services.values()):
            raise invalid("Service with the provided name already exists: %s" % name)
        config = {
            "SourceConfiguration": self.normalise_source(p["SourceConfiguration"]),
            "InstanceConfiguration": self.normalise_instance(p.get("InstanceConfiguration", {})),
            "HealthCheckConfiguration": dict(HEALTH_CHECK_DEFAULTS,
                                             **p.get("HealthCheckConfiguration", {})),
            "NetworkConfiguration": self.normalise_network(p.get("NetworkConfiguration", {})),
            "ObservabilityConfiguration": self.normalise_observability(
                p.get("ObservabilityConfiguration", {"ObservabilityEnabled": False})),
            "AutoScalingConfigurationArn": self.asc_for(region,
                                                        p.get("AutoScalingConfigurationArn")),
        }
        if "EncryptionConfiguration" in p:
            config["EncryptionConfiguration"] = dict(p["EncryptionConfiguration"])
        service_id = uuid.uuid4().hex
        arn = region.arn("service", "%s/%s" % (name, service_id))
        svc = {
            "ServiceName": name,
            "ServiceId": service_id,
            "ServiceArn": arn,
            "ServiceUrl": "%s.%s.awsapprunner.com" % (uuid.uuid4().hex[:10], region.name),
            "CreatedAt": now(),
            "UpdatedAt": now(),
            "config": config,
            "operations": [],
        }
        fails = image_tag(config["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"])
        region.services[arn] = svc
        region.tags[arn] = {t["Key"]: t.get("Value", "") for t in p.get("Tags", [])}
        op_id = self.start_operation(svc, "CREATE_SERVICE",
                                     "create_failed" if fails == "fail" else "running")
        return {"Service": self.service_view(region, svc), "OperationId": op_id}

    def op_DescribeService(self, region, p):
        svc = self.service(region, p["ServiceArn"])
        self.advance(region, svc)
        if p["ServiceArn"] not in region.services:
            raise not_found("service %s does not exist" % p["ServiceArn"])
        return {"Service": self.service_view(region, svc)}

    def op_UpdateService(self, region, p):
        svc = self.service(region, p["ServiceArn"])
        if svc["Status"] != "RUNNING":
            raise invalid_state("service %s is in status %s; it can be updated only when "
                                "RUNNING" % (svc["ServiceName"], svc["Status"]))
        previous = copy.deepcopy(svc["config"])
        config = copy.deepcopy(svc["config"])
        if "SourceConfiguration" in p:
            old = config["SourceConfiguration"]
            if "CodeRepository" in p["SourceConfiguration"]:
                raise invalid("a service cannot switch from an image to a code repository")
            src = dict(old, **p["SourceConfiguration"])
            config["SourceConfiguration"] = self.normalise_source(src)
        if "InstanceConfiguration" in p:
            merged = dict(config["InstanceConfiguration"], **p["InstanceConfiguration"])
            config["InstanceConfiguration"] = self.normalise_instance(merged)
        if "HealthCheckConfiguration" in p:
            config["HealthCheckConfiguration"] = dict(config["HealthCheckConfiguration"],
                                                      **p["HealthCheckConfiguration"])
        if "NetworkConfiguration" in p:
            merged = copy.deepcopy(config["NetworkConfiguration"])
            for k, v in p["NetworkConfiguration"].items():
                merged[k] = v
            config["NetworkConfiguration"] = self.normalise_network(merged)
        if "ObservabilityConfiguration" in p:
            config["ObservabilityConfiguration"] = self.normalise_observability(
                dict(config["ObservabilityConfiguration"], **p["ObservabilityConfiguration"]))
        if "AutoScalingConfigurationArn" in p:
            config["AutoScalingConfigurationArn"] = self.asc_for(
                region, p["AutoScalingConfigurationArn"])
        svc["config"] = config
        fails = image_tag(config["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"])
        op_id = self.start_operation(svc, "UPDATE_SERVICE",
                                     "rollback" if fails == "fail" else "running", previous)
        return {"Service": self.service_view(region, svc), "OperationId": op_id}

    def op_DeleteService(self, region, p):
        svc = self.service(region, p["ServiceArn"])
        if svc["Status"] == "OPERATION_IN_PROGRESS":
            raise invalid_state("service %s has an operation in progress" % svc["ServiceName"])
        op_id = self.start_operation(svc, "DELETE_SERVICE", "deleted")
        return {"Service": self.service_view(region, svc), "OperationId": op_id}

    def op_ListServices(self, region, p):
        items = [{k: v for k, v in self.service_view(region, s).items()
                  if k in ("ServiceName", "ServiceId", "ServiceArn", "ServiceUrl", "CreatedAt",
                           "UpdatedAt", "Status")}
                 for s in sorted(region.services.values(), key=lambda s: s["CreatedAt"])]
        page, token = paginate(items, p, 20)
        out = {"ServiceSummaryList": page}
        if token:
            out["NextToken"] = token
        return out

    def op_ListOperations(self, region, p):
        svc = self.service(region, p["ServiceArn"])
        page, token = paginate([dict(o) for o in svc["operations"]], p, 20)
        out = {"OperationSummaryList": page}
        if token:
            out["NextToken"] = token
        return out

    # -- auto scaling configurations

    def op_CreateAutoScalingConfiguration(self, region, p):
        min_size = p.get("MinSize", 1)
        max_size = p.get("MaxSize", 25)
        if min_size > max_size:
            raise invalid("MinSize (%d) must not be greater than MaxSize (%d)"
                          % (min_size, max_size))
        names = {a["AutoScalingConfigurationName"] for a in region.ascs.values()
                 if a["Status"] == "ACTIVE" and not a["IsDefault"]}
        if p["AutoScalingConfigurationName"] not in names and len(names) >= 10:
            raise ApiError("ServiceQuotaExceededException",
                           "you have reached the maximum of 10 auto scaling configurations")
        record = region.new_asc(p["AutoScalingConfigurationName"], p.get("MaxConcurrency", 100),
                                min_size, max_size)
        region.tags[record["AutoScalingConfigurationArn"]] = {
            t["Key"]: t.get("Value", "") for t in p.get("Tags", [])}
        return {"AutoScalingConfiguration": region.asc_view(record)}

    def op_DescribeAutoScalingConfiguration(self, region, p):
        record = region.ascs.get(p["AutoScalingConfigurationArn"])
        if record is None:
            raise not_found("auto scaling configuration %s does not exist"
                            % p["AutoScalingConfigurationArn"])
        # deleted revisions stay describable as INACTIVE, as on AWS
        return {"AutoScalingConfiguration": region.asc_view(record)}

    def op_ListAutoScalingConfigurations(self, region, p):
        items = [a for a in region.ascs.values() if a["Status"] == "ACTIVE"]
        if "AutoScalingConfigurationName" in p:
            items = [a for a in items
                     if a["AutoScalingConfigurationName"] == p["AutoScalingConfigurationName"]]
        if p.get("LatestOnly"):
            items = [a for a in items if a["Latest"]]
        items.sort(key=lambda a: (a["AutoScalingConfigurationName"],
                                  -a["AutoScalingConfigurationRevision"]))
        page, token = paginate([region.asc_view(a, summary=True) for a in items], p, 100)
        out = {"AutoScalingConfigurationSummaryList": page}
        if token:
            out["NextToken"] = token
        return out

    def op_DeleteAutoScalingConfiguration(self, region, p):
        record = region.active_asc(p["AutoScalingConfigurationArn"])
        if record is None:
            raise not_found("auto scaling configuration %s does not exist"
                            % p["AutoScalingConfigurationArn"])
        if record["IsDefault"]:
            raise invalid("the default auto scaling configuration cannot be deleted")
        name = record["AutoScalingConfigurationName"]
        doomed = [a for a in region.ascs.values() if a["Status"] == "ACTIVE" and (
            a is record or (p.get("DeleteAllRevisions") and
                            a["AutoScalingConfigurationName"] == name))]
        for a in doomed:
            if region.asc_view(a)["HasAssociatedService"]:
                raise invalid("auto scaling configuration %s is used by a service"
                              % a["AutoScalingConfigurationArn"])
        for a in doomed:
            a["Status"] = "INACTIVE"
            a["Latest"] = False
            a["DeletedAt"] = now()
        rest = [a for a in region.ascs.values()
                if a["Status"] == "ACTIVE" and a["AutoScalingConfigurationName"] == name]
        if rest and not any(a["Latest"] for a in rest):
            max(rest, key=lambda a: a["AutoScalingConfigurationRevision"])["Latest"] = True
        return {"AutoScalingConfiguration": region.asc_view(record)}

    # -- tags

    def tagged(self, region, arn):
        if arn in region.services:
            return region.tags.setdefault(arn, {})
        if region.active_asc(arn) is not None:
            return region.tags.setdefault(arn, {})
        raise not_found("resource %s does not exist" % arn)

    def op_TagResource(self, region, p):
        tags = self.tagged(region, p["ResourceArn"])
        for t in p["Tags"]:
            tags[t["Key"]] = t.get("Value", "")
        if len(tags) > 50:
            raise invalid("a resource can have at most 50 tags")
        return {}

    def op_UntagResource(self, region, p):
        tags = self.tagged(region, p["ResourceArn"])
        for k in p["TagKeys"]:
            tags.pop(k, None)
        return {}

    def op_ListTagsForResource(self, region, p):
        tags = self.tagged(region, p["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}


def paginate(items, p, default_max):
    start = 0
    if "NextToken" in p:
        try:
            start = int(p["NextToken"])
        except ValueError:
            raise invalid("NextToken is not valid")
    size = p.get("MaxResults", default_max)
    page = items[start:start + size]
    token = str(start + size) if start + size < len(items) else None
    return page, token


# --- HTTP ------------------------------------------------------------------------------------

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator = None
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("apprunner emulator: " + (fmt % args) + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def error(self, err):
        self.reply(err.status, {"__type": err.code, "Message": err.message})

    def do_GET(self):
        self.error(ApiError("UnknownOperationException", "use POST", 404))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            region = self.authorise()
            target = self.headers.get("X-Amz-Target", "")
            if not target.startswith(TARGET_PREFIX):
                raise ApiError("UnknownOperationException", "missing or unknown X-Amz-Target")
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("application/x-amz-json-1.0"):
                raise ApiError("SerializationException",
                               "Content-Type must be application/x-amz-json-1.0")
            try:
                params = json.loads(raw.decode() or "{}")
            except (UnicodeDecodeError, ValueError):
                raise ApiError("SerializationException", "the request body is not JSON")
            if not isinstance(params, dict):
                raise ApiError("SerializationException", "the request body is not a JSON object")
            result = self.emulator.handle(target[len(TARGET_PREFIX):], params, region)
            self.reply(200, result)
        except ApiError as e:
            self.error(e)
        except Exception as e:  # a bug here is the emulator's, reported as AWS would a 500
            self.error(ApiError("InternalServiceErrorException", "emulator: %r" % e, 500))

    def authorise(self):
        auth = self.headers.get("Authorization")
        if not auth:
            raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token",
                           403)
        m = CREDENTIAL.search(auth)
        if not auth.startswith("AWS4-HMAC-SHA256 ") or not m:
            raise ApiError("IncompleteSignatureException",
                           "Authorization header requires a Credential, SignedHeaders and "
                           "Signature", 403)
        if m.group(4) != "apprunner":
            raise ApiError("InvalidSignatureException",
                           "Credential should be scoped to correct service: 'apprunner'.", 403)
        if not self.headers.get("X-Amz-Date"):
            raise ApiError("IncompleteSignatureException", "X-Amz-Date header is missing", 403)
        return m.group(3)


def main():
    ap = argparse.ArgumentParser(description="App Runner emulator (a test tool)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--settle-calls", type=int, default=2,
                    help="DescribeService calls that report OPERATION_IN_PROGRESS")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    Handler.emulator = Emulator(max(0, args.settle_calls))
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
